package runs_test

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/test/fakeaws"
	"github.com/platform-eng/pathtoprod/test/lambdaruntime"
)

func TestMain(m *testing.M) {
	code := m.Run()
	lambdaruntime.RemoveBinaries()
	os.Exit(code)
}

// widgetBinary builds ./constructs/dashboard/lambda for the host, once per test binary,
// with the flags the deploy builds it with for linux/arm64 (gobuild).
func widgetBinary(t *testing.T) string {
	return lambdaruntime.Binary(t, "./constructs/dashboard/lambda")
}

// runBinary starts the packaged widget with env against a fake runtime handing it event, and
// returns its answer: "<request id>/<kind> <body>".
func runBinary(t *testing.T, env []string, event []byte) string {
	t.Helper()
	rt, srv := lambdaruntime.New(t, "req-1", "arn:aws:lambda:eu-west-1:444444444444:function:payments-checkout-prd-runs", event)
	a, _, _ := lambdaruntime.Run(t, widgetBinary(t), rt, append(env, "AWS_LAMBDA_RUNTIME_API="+lambdaruntime.Address(srv)))
	return a.ID + "/" + a.Kind + " " + string(a.Body)
}

// widgetEnv is the environment the construct gives the function, pointed at awsURL.
func widgetEnv(awsURL string) []string {
	return []string{
		"AWS_LAMBDA_FUNCTION_NAME=payments-checkout-prd-runs",
		"AWS_ENDPOINT_URL=" + awsURL,
		"AWS_ACCESS_KEY_ID=AKIDWIDGET", "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=" + region,
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull, "AWS_EC2_METADATA_DISABLED=true",
		"PIPELINE_NAME=" + pipeline, "REPOSITORY_NAME=" + repository, "ENVIRONMENT=prd", "HISTORY_MAX_PAGES=10",
	}
}

// TestPackagedBinary starts the artifact the deploy ships (built for the host) against a fake
// Lambda Runtime API and the shared AWS fake, and checks that it answers a dashboard's view
// with the runs. The fake has no CodeCommit: the page says the lead times are unknown, and
// shows the rest.
func TestPackagedBinary(t *testing.T) {
	fake := fakeaws.New()
	fake.SetRuns(pipeline, fakeaws.Run{ID: "r1", Commit: "c1c1c1c1c1", Status: "Succeeded", At: time.Now().Add(-time.Hour)})
	aws := httptest.NewServer(fake)
	defer aws.Close()

	got := runBinary(t, widgetEnv(aws.URL), view(time.Now().Add(-24*time.Hour), time.Now()))

	id, body, _ := strings.Cut(got, " ")
	var page string
	if id != "req-1/response" || json.Unmarshal([]byte(body), &page) != nil {
		t.Fatalf("answer %q, want a JSON string response to req-1", got)
	}
	contains(t, text(page), "Pipeline payments-checkout-prd (prd)", "Deployments 1 ", "Lead times are unknown: Could not read commit times from repository payments-checkout")
	if c, ok := fake.Last("ListPipelineExecutions"); !ok || c.AccessKey != "AKIDWIDGET" || c.Region != region {
		t.Errorf("ListPipelineExecutions %+v, want it signed with the function's own credentials in %s", c, region)
	}
}

// TestPackagedBinaryMisconfigured: a widget started without its configuration still answers,
// naming what is missing, instead of failing every view with a Lambda error.
func TestPackagedBinaryMisconfigured(t *testing.T) {
	fake := fakeaws.New()
	aws := httptest.NewServer(fake)
	defer aws.Close()
	var env []string
	for _, kv := range widgetEnv(aws.URL) {
		if !strings.HasPrefix(kv, "REPOSITORY_NAME=") {
			env = append(env, kv)
		}
	}
	got := runBinary(t, env, view(time.Now().Add(-time.Hour), time.Now()))
	id, body, _ := strings.Cut(got, " ")
	var page string
	if id != "req-1/response" || json.Unmarshal([]byte(body), &page) != nil {
		t.Fatalf("answer %q, want a JSON string response", got)
	}
	contains(t, text(page), `The widget is misconfigured: runs widget configuration: REPOSITORY_NAME="": required`)
	if len(fake.Ops()) != 0 {
		t.Errorf("a misconfigured widget called %v", fake.Ops())
	}
}
