package handler_test

import (
	"os"
	"strings"
	"testing"

	"github.com/platform-eng/pathtoprod/test/lambdaruntime"
)

func TestMain(m *testing.M) {
	code := m.Run()
	lambdaruntime.RemoveBinaries()
	os.Exit(code)
}

// controllerBinary builds ./constructs/sandboxes/lambda/controller for the host, once per
// test binary, with the flags the deploy uses (gobuild).
func controllerBinary(t *testing.T) string {
	return lambdaruntime.Binary(t, "./constructs/sandboxes/lambda/controller")
}

// lambdaEnv is the environment the construct gives the function, pointed at the fakes.
func lambdaEnv(runtimeAPI, awsURL string, vars map[string]string) []string {
	env := []string{
		"AWS_LAMBDA_RUNTIME_API=" + runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME=payments-checkout-dev-sandboxes",
		"AWS_ENDPOINT_URL=" + awsURL,
		"AWS_ACCESS_KEY_ID=" + keyID,
		"AWS_SECRET_ACCESS_KEY=secret",
		"AWS_REGION=" + region,
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

const functionARN = "arn:aws:lambda:eu-west-1:222222222222:function:payments-checkout-dev-sandboxes"

// TestPackagedBinaryHandlesAPush starts the very artifact the deploy ships against a fake
// Lambda Runtime API and the fake AWS: one push event starts one deploy.
func TestPackagedBinaryHandlesAPush(t *testing.T) {
	bin := controllerBinary(t)
	w := newWorld(t, 3)
	rt, srv := lambdaruntime.New(t, "req-1", functionARN, pushEvent("ev-bin-1", "alice", c1, t0))

	ans, took, logs := lambdaruntime.Run(t, bin, rt, lambdaEnv(lambdaruntime.Address(srv), w.url, goodEnv()))

	if ans.ID != "req-1" || ans.Kind != "response" {
		t.Fatalf("answer %s %s %s\n%s", ans.ID, ans.Kind, ans.Body, logs)
	}
	builds := w.fake.Builds()
	if len(builds) != 1 || builds[0].SourceVersion != c1 || builds[0].Environment["SANDBOX"] != "alice" {
		t.Fatalf("builds %+v\n%s", builds, logs)
	}
	if sb, _ := w.sandbox(t, "alice"); sb.Build != builds[0].ID {
		t.Errorf("recorded %+v", sb)
	}
	t.Logf("answered in %v", took)
}

// TestPackagedBinaryMisconfigured: a function started with a bad configuration still answers,
// with an error naming every bad variable, its value and what is allowed, and calls nothing.
func TestPackagedBinaryMisconfigured(t *testing.T) {
	bin := controllerBinary(t)
	w := newWorld(t, 3)
	rt, srv := lambdaruntime.New(t, "req-2", functionARN, pushEvent("ev-bin-2", "alice", c1, t0))
	vars := goodEnv()
	vars["MAX_SANDBOXES"] = "0"
	delete(vars, "TOPIC_ARN")

	ans, _, logs := lambdaruntime.Run(t, bin, rt, lambdaEnv(lambdaruntime.Address(srv), w.url, vars))

	if ans.Kind != "error" {
		t.Fatalf("answer %s %s\n%s", ans.Kind, ans.Body, logs)
	}
	for _, want := range []string{`MAX_SANDBOXES=\"0\": required, a whole number from 1 to 20`, `TOPIC_ARN=\"\": required, an SNS topic ARN`} {
		if !strings.Contains(string(ans.Body), want) {
			t.Errorf("error %s does not say %s", ans.Body, want)
		}
	}
	if ops := w.fake.Ops(); len(ops) != 0 {
		t.Errorf("a misconfigured function called %v", ops)
	}
}
