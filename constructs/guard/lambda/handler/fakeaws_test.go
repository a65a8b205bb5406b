package handler_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// Access key ids the fake hands out and checks: the guard's own, and the assumed role's.
const (
	ownKeyID      = "AKIDGUARDOWN"
	assumedKeyID  = fakeaws.RoleAccessKey
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
type awsFault = fakeaws.Fault

// fakeExec is one upstream execution the fake lists, newest first.
type fakeExec = fakeaws.Run

// call is one request the fake received.
type call struct {
	Op, KeyID, Region string
	Body              map[string]any
}

// fakeAWS is how these tests set up the shared AWS fake (test/fakeaws) for one guard:
// the upstream pipeline's history, the faults to answer with, and the image.
type fakeAWS struct {
	Executions  []fakeExec
	AssumeFault *awsFault
	ListFault   *awsFault
	Throttles   int // ListPipelineExecutions answers ThrottlingException this many times (-1: always)
	ListDelay   time.Duration
	ImageDigest string // the digest of every commit's image; "" → ImageNotFoundException
	ImageFault  *awsFault
	Scan        *fakeaws.Scan // the scan of every commit's image (needs ImageDigest); nil: ScanNotFoundException
	ScanFault   *awsFault
	ScanDelay   time.Duration
	ReportFault *awsFault

	srv *fakeaws.Server
}

func newFakeAWS(t testing.TB, f *fakeAWS) *httptest.Server {
	s := fakeaws.New()
	s.SetRuns(testPipeline, f.Executions...)
	s.SetImage(testRepo, "", "")
	if f.ImageDigest != "" {
		for _, e := range f.Executions {
			s.SetImage(testRepo, e.Commit, f.ImageDigest)
		}
		if f.Scan != nil {
			s.SetScan(testRepo, f.Executions[0].Commit, f.Scan) // one digest: every commit's
		}
	}
	fail := func(op string, x *awsFault, times int) {
		if x != nil {
			s.Fail(op, *x, times)
		}
	}
	fail("AssumeRole", f.AssumeFault, -1)
	fail("ListPipelineExecutions", f.ListFault, -1)
	if f.Throttles != 0 {
		fail("ListPipelineExecutions", &fakeaws.Throttled, f.Throttles)
	}
	fail("DescribeImages", f.ImageFault, -1)
	fail("DescribeImageScanFindings", f.ScanFault, -1)
	if f.ScanDelay > 0 {
		s.Delay("DescribeImageScanFindings", f.ScanDelay)
	}
	fail("PutJobSuccessResult", f.ReportFault, -1)
	fail("PutJobFailureResult", f.ReportFault, -1)
	if f.ListDelay > 0 {
		s.Delay("ListPipelineExecutions", f.ListDelay)
	}
	f.srv = s
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}

// calls returns a copy of the calls so far.
func (f *fakeAWS) calls() []call {
	var out []call
	for _, c := range f.srv.Recorded() {
		out = append(out, call{Op: c.Op, KeyID: c.AccessKey, Region: c.Region, Body: c.Input})
	}
	return out
}

// ops returns the operation names of the calls so far, in order.
func (f *fakeAWS) ops() []string { return f.srv.Ops() }

// last returns the last call of op, failing the test if there is none.
func (f *fakeAWS) last(t testing.TB, op string) call {
	t.Helper()
	c, ok := f.srv.Last(op)
	if !ok {
		t.Fatalf("no %s call; calls: %v", op, f.ops())
	}
	return call{Op: c.Op, KeyID: c.AccessKey, Region: c.Region, Body: c.Input}
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
