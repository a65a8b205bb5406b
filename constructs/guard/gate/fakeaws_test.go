package gate_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Access key ids the fake hands out and checks: the guard's own, and the assumed role's.
const (
	ownKeyID      = "AKIDGUARDOWN"
	assumedKeyID  = "ASIAUPSTREAMREAD"
	ownRegion     = "eu-central-1"
	upstreamRgn   = "eu-west-1"
	testPipeline  = "payments-checkout-stg"
	testRoleARN   = "arn:aws:iam::111111111111:role/payments-checkout-guard-read"
	testRepo      = "payments/checkout"
	testRegistry  = "222222222222"
	testJobID     = "11111111-2222-3333-4444-555555555555"
	testExecution = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
)

// awsFault is an error the fake answers with.
type awsFault struct {
	Status int
	Code   string
	Msg    string
}

// fakeExec is one upstream execution the fake lists, newest first.
type fakeExec struct {
	ID, Commit, Status string
	At                 time.Time
}

// call is one request the fake received.
type call struct {
	Op, KeyID, Region string
	Body              map[string]any
}

// fakeAWS speaks just enough STS (Query/XML), CodePipeline and ECR (JSON 1.1) for the guard.
type fakeAWS struct {
	mu sync.Mutex

	Executions  []fakeExec
	AssumeFault *awsFault
	ListFault   *awsFault
	Throttles   int // ListPipelineExecutions answers ThrottlingException this many times (-1: always)
	ListDelay   time.Duration
	ImageDigest string // "" → ImageNotFoundException
	ImageFault  *awsFault
	ReportFault *awsFault
	Calls       []call
}

var credentialRE = regexp.MustCompile(`Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request`)

func newFakeAWS(t testing.TB, f *fakeAWS) *httptest.Server {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := call{}
	if m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		c.KeyID, c.Region = m[1], m[2]
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		c.Op = target[strings.LastIndex(target, ".")+1:]
		_ = json.Unmarshal(body, &c.Body)
	} else {
		form, _ := url.ParseQuery(string(body))
		c.Op = form.Get("Action")
		c.Body = map[string]any{}
		for k := range form {
			c.Body[k] = form.Get(k)
		}
	}
	f.mu.Lock()
	f.Calls = append(f.Calls, c)
	f.mu.Unlock()

	switch c.Op {
	case "AssumeRole":
		f.assumeRole(w)
	case "ListPipelineExecutions":
		f.list(w, r, c)
	case "DescribeImages":
		f.describeImages(w, c)
	case "PutJobSuccessResult", "PutJobFailureResult":
		if f.ReportFault != nil {
			jsonFault(w, *f.ReportFault)
			return
		}
		jsonOK(w, map[string]any{})
	default:
		jsonFault(w, awsFault{400, "UnknownOperationException", "fake does not know " + c.Op})
	}
}

func (f *fakeAWS) assumeRole(w http.ResponseWriter) {
	if x := f.AssumeFault; x != nil {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(x.Status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`, x.Code, x.Msg)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>%s</AccessKeyId>
      <SecretAccessKey>upstream-secret</SecretAccessKey>
      <SessionToken>upstream-session-token</SessionToken>
      <Expiration>%s</Expiration>
    </Credentials>
    <AssumedRoleUser><Arn>%s/promotion-guard</Arn><AssumedRoleId>AROAEXAMPLE:promotion-guard</AssumedRoleId></AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
</AssumeRoleResponse>`, assumedKeyID, time.Now().Add(time.Hour).UTC().Format(time.RFC3339), testRoleARN)
}

func (f *fakeAWS) list(w http.ResponseWriter, r *http.Request, c call) {
	if f.ListDelay > 0 {
		select {
		case <-time.After(f.ListDelay):
		case <-r.Context().Done():
			return
		}
	}
	f.mu.Lock()
	throttle := f.Throttles != 0
	if f.Throttles > 0 {
		f.Throttles--
	}
	f.mu.Unlock()
	if throttle {
		jsonFault(w, awsFault{400, "ThrottlingException", "Rate exceeded"})
		return
	}
	if f.ListFault != nil {
		jsonFault(w, *f.ListFault)
		return
	}
	if c.Body["pipelineName"] != testPipeline {
		jsonFault(w, awsFault{400, "PipelineNotFoundException", fmt.Sprintf("Account '111111111111' does not have a pipeline with name '%v'", c.Body["pipelineName"])})
		return
	}
	size := 100
	if n, ok := c.Body["maxResults"].(float64); ok {
		size = int(n)
	}
	start := 0
	if tok, ok := c.Body["nextToken"].(string); ok {
		start, _ = strconv.Atoi(strings.TrimPrefix(tok, "tok-"))
	}
	end := min(start+size, len(f.Executions))
	var sums []map[string]any
	for _, e := range f.Executions[start:end] {
		sums = append(sums, map[string]any{
			"pipelineExecutionId": e.ID,
			"status":              e.Status,
			"startTime":           float64(e.At.Add(-5*time.Minute).UnixMilli()) / 1000,
			"lastUpdateTime":      float64(e.At.UnixMilli()) / 1000,
			"sourceRevisions": []map[string]any{{
				"actionName": "Source", "revisionId": e.Commit, "revisionSummary": "commit " + e.Commit[:7],
			}},
			"trigger": map[string]any{"triggerType": "CloudWatchEvent"},
		})
	}
	out := map[string]any{"pipelineExecutionSummaries": sums}
	if end < len(f.Executions) {
		out["nextToken"] = "tok-" + strconv.Itoa(end)
	}
	jsonOK(w, out)
}

func (f *fakeAWS) describeImages(w http.ResponseWriter, c call) {
	if f.ImageFault != nil {
		jsonFault(w, *f.ImageFault)
		return
	}
	ids, _ := c.Body["imageIds"].([]any)
	tag := ""
	if len(ids) == 1 {
		tag, _ = ids[0].(map[string]any)["imageTag"].(string)
	}
	if f.ImageDigest == "" || tag == "" {
		jsonFault(w, awsFault{400, "ImageNotFoundException", fmt.Sprintf("The image with imageId {imageDigest:'null', imageTag:'%s'} does not exist within the repository with name '%v'", tag, c.Body["repositoryName"])})
		return
	}
	jsonOK(w, map[string]any{"imageDetails": []map[string]any{{
		"registryId": c.Body["registryId"], "repositoryName": c.Body["repositoryName"],
		"imageDigest": f.ImageDigest, "imageTags": []string{tag},
		"imagePushedAt": float64(time.Date(2026, 11, 19, 9, 0, 0, 0, time.UTC).Unix()),
	}}})
}

func jsonOK(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

func jsonFault(w http.ResponseWriter, x awsFault) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(x.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": x.Code, "message": x.Msg})
}

// calls returns a copy of the calls so far.
func (f *fakeAWS) calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.Calls...)
}

// ops returns the operation names of the calls so far, in order.
func (f *fakeAWS) ops() []string {
	var ops []string
	for _, c := range f.calls() {
		ops = append(ops, c.Op)
	}
	return ops
}

// last returns the last call of op, failing the test if there is none.
func (f *fakeAWS) last(t testing.TB, op string) call {
	t.Helper()
	cs := f.calls()
	for i := len(cs) - 1; i >= 0; i-- {
		if cs[i].Op == op {
			return cs[i]
		}
	}
	t.Fatalf("no %s call; calls: %v", op, f.ops())
	return call{}
}

// commitN is a deterministic commit id for history position n.
func commitN(n int) string { return fmt.Sprintf("%05xc0ffee%029x", n, n) }

// history returns n executions, newest first, at one-hour steps back from 2026-11-20T10:00Z:
// every fifth one Failed, the rest Succeeded, execution i deploying commitN(i).
func history(n int) []fakeExec {
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	out := make([]fakeExec, n)
	for i := range out {
		st := "Succeeded"
		if i%5 == 4 {
			st = "Failed"
		}
		out[i] = fakeExec{ID: fmt.Sprintf("exec-%04d", i), Commit: commitN(i), Status: st, At: base.Add(-time.Duration(i) * time.Hour)}
	}
	return out
}

// eventFor is a CodePipeline job event for commit.
func eventFor(jobID, commit string) []byte {
	up, _ := json.Marshal(map[string]string{"commit": commit, "executionId": testExecution})
	ev := map[string]any{"CodePipeline.job": map[string]any{
		"id": jobID, "accountId": "333333333333",
		"data": map[string]any{
			"actionConfiguration": map[string]any{"configuration": map[string]any{
				"FunctionName": "payments-checkout-prd-guard", "UserParameters": string(up),
			}},
			"inputArtifacts": []any{}, "outputArtifacts": []any{},
		},
	}}
	b, _ := json.Marshal(ev)
	return b
}
