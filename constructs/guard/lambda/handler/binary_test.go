package handler_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/gobuild"
	"github.com/platform-eng/pathtoprod/test/lambdaruntime"
)

var (
	tmpDir    string
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	var err error
	if tmpDir, err = os.MkdirTemp("", "guard-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmpDir)
	os.Exit(code)
}

// moduleRoot is the directory of go.mod, four levels up from this package.
func moduleRoot(t testing.TB) string {
	root, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	return root
}

// guardBinary builds ./constructs/guard/lambda for the host, once per test binary, exactly
// as the deploy builds it for linux/arm64 (same gobuild flags).
func guardBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binPath = filepath.Join(tmpDir, "bootstrap")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		buildErr = gobuild.Build(ctx, gobuild.Options{
			Package: "./constructs/guard/lambda", Output: binPath, Dir: moduleRoot(t),
			GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		})
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// invocation is one answer the binary gave the fake Runtime API.
type invocation = lambdaruntime.Invocation

// newFakeRuntime serves the fake Runtime API handing the guard event as request id.
func newFakeRuntime(t testing.TB, id string, event []byte) (*lambdaruntime.Runtime, *httptest.Server) {
	return lambdaruntime.New(t, id, "arn:aws:lambda:eu-central-1:333333333333:function:payments-checkout-prd-guard", event)
}

// guardEnv is the environment the CDK construct gives the function, pointed at fakes.
func guardEnv(runtimeAPI, awsURL string) []string {
	return []string{
		"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(runtimeAPI, "http://"),
		"AWS_LAMBDA_FUNCTION_NAME=payments-checkout-prd-guard",
		"AWS_ENDPOINT_URL=" + awsURL,
		"AWS_ACCESS_KEY_ID=" + ownKeyID,
		"AWS_SECRET_ACCESS_KEY=own-secret",
		"AWS_REGION=" + ownRegion,
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
		"UPSTREAM_ENVIRONMENT=stg",
		"UPSTREAM_PIPELINE=" + testPipeline,
		"UPSTREAM_ROLE_ARN=" + testRoleARN,
		"UPSTREAM_REGION=" + upstreamRgn,
	}
}

// runGuard starts the binary against the fakes, waits (bounded) for its answer to one
// invocation, then kills it. It returns the answer and the time from start to answer.
func runGuard(t testing.TB, bin string, rt *lambdaruntime.Runtime, env []string) (invocation, time.Duration, string) {
	t.Helper()
	return lambdaruntime.Run(t, bin, rt, env)
}

// TestPackagedBinary starts the very artifact the deploy ships (built by gobuild, for the
// host platform) against a fake Lambda Runtime API and a fake AWS, and checks that it
// starts, decides, calls PutJobSuccessResult and answers the invocation.
func TestPackagedBinary(t *testing.T) {
	bin := guardBinary(t)
	fake := &fakeAWS{Executions: history(120)}
	awsSrv := newFakeAWS(t, fake)
	rt, rtSrv := newFakeRuntime(t, "req-0001", eventFor(testJobID, commitN(105)))

	ans, _, logs := runGuard(t, bin, rt, guardEnv(rtSrv.URL, awsSrv.URL))

	if ans.ID != "req-0001" || ans.Kind != "response" {
		t.Fatalf("answer = %s %s %s, want a response to req-0001\nlogs:\n%s", ans.ID, ans.Kind, ans.Body, logs)
	}
	if countOp(fake, "PutJobSuccessResult") != 1 {
		t.Fatalf("calls %v\nlogs:\n%s", fake.calls(), logs)
	}
	rep := fake.last(t, "PutJobSuccessResult")
	if rep.Body["jobId"] != testJobID || rep.KeyID != ownKeyID {
		t.Errorf("PutJobSuccessResult = %+v", rep)
	}
	if c := fake.last(t, "ListPipelineExecutions"); c.KeyID != assumedKeyID || c.Region != upstreamRgn {
		t.Errorf("ListPipelineExecutions signed by %s in %s, want the assumed role in %s", c.KeyID, c.Region, upstreamRgn)
	}
	vars, _ := rep.Body["outputVariables"].(map[string]any)
	if vars["UpstreamExecutionId"] != "exec-0105" {
		t.Errorf("outputs = %v", vars)
	}
}

// TestPackagedBinaryMisconfigured checks that a guard started without its configuration
// still answers, and fails the job with a message naming what is missing.
func TestPackagedBinaryMisconfigured(t *testing.T) {
	bin := guardBinary(t)
	fake := &fakeAWS{Executions: history(10)}
	awsSrv := newFakeAWS(t, fake)
	rt, rtSrv := newFakeRuntime(t, "req-0002", eventFor(testJobID, commitN(1)))
	var env []string
	for _, kv := range guardEnv(rtSrv.URL, awsSrv.URL) {
		if !strings.HasPrefix(kv, "UPSTREAM_ROLE_ARN=") {
			env = append(env, kv)
		}
	}
	ans, _, logs := runGuard(t, bin, rt, env)
	if ans.Kind != "response" {
		t.Fatalf("answer = %+v\n%s", ans, logs)
	}
	fd, _ := fake.last(t, "PutJobFailureResult").Body["failureDetails"].(map[string]any)
	if msg, _ := fd["message"].(string); !strings.Contains(msg, `UPSTREAM_ROLE_ARN="": required`) {
		t.Errorf("message = %q", msg)
	}
}

// TestPackagedBinaryReportsWhenTheAWSConfigurationFailsToLoad: a broken AWS configuration
// (here AWS_RETRY_MODE, which the SDK's loader refuses) must not stop the guard from
// starting, or every job would wait for CodePipeline's time-out; the job fails, naming it.
func TestPackagedBinaryReportsWhenTheAWSConfigurationFailsToLoad(t *testing.T) {
	bin := guardBinary(t)
	fake := &fakeAWS{Executions: history(10)}
	awsSrv := newFakeAWS(t, fake)
	rt, rtSrv := newFakeRuntime(t, "req-0003", eventFor(testJobID, commitN(1)))
	env := append(guardEnv(rtSrv.URL, awsSrv.URL), "AWS_RETRY_MODE=bogus")

	ans, _, logs := runGuard(t, bin, rt, env)

	if ans.Kind != "response" {
		t.Fatalf("answer = %+v, want a response\n%s", ans, logs)
	}
	if got := fake.ops(); !slices.Equal(got, []string{"PutJobFailureResult"}) {
		t.Fatalf("calls %v, want only the failure report\n%s", got, logs)
	}
	rep := fake.last(t, "PutJobFailureResult")
	fd, _ := rep.Body["failureDetails"].(map[string]any)
	if msg, _ := fd["message"].(string); !strings.Contains(msg, "load AWS configuration") || !strings.Contains(msg, "bogus") {
		t.Errorf("message = %q, want it to name the configuration problem", msg)
	}
	if rep.KeyID != ownKeyID || rep.Region != ownRegion {
		t.Errorf("report signed by %s in %s, want the function's own credentials in %s", rep.KeyID, rep.Region, ownRegion)
	}
}
