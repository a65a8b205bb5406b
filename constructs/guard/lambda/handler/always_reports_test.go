package handler_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/smithy-go"

	"github.com/platform-eng/pathtoprod/constructs/guard/lambda/handler"
)

// panicky is a check with a bug.
type panicky struct{}

func (panicky) Name() string { return "buggy" }
func (panicky) Check(context.Context, handler.Job) (handler.Result, error) {
	var m map[string]int
	m["boom"]++ // assignment to entry in nil map
	return handler.Result{}, nil
}

// scriptedReporter answers report calls from a script, one error per attempt (nil: success).
type scriptedReporter struct {
	script  []error
	success int
	failure int
	lastMsg string
}

func (r *scriptedReporter) next() error {
	if len(r.script) == 0 {
		return nil
	}
	err := r.script[0]
	r.script = r.script[1:]
	return err
}

func (r *scriptedReporter) PutJobSuccessResult(context.Context, *codepipeline.PutJobSuccessResultInput, ...func(*codepipeline.Options)) (*codepipeline.PutJobSuccessResultOutput, error) {
	r.success++
	return &codepipeline.PutJobSuccessResultOutput{}, r.next()
}

func (r *scriptedReporter) PutJobFailureResult(_ context.Context, in *codepipeline.PutJobFailureResultInput, _ ...func(*codepipeline.Options)) (*codepipeline.PutJobFailureResultOutput, error) {
	r.failure++
	r.lastMsg = *in.FailureDetails.Message
	return &codepipeline.PutJobFailureResultOutput{}, r.next()
}

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: code} }

// transientErr is a 503 the SDK classifies as retryable.
var transientErr = &smithy.GenericAPIError{Code: "ServiceUnavailableException", Message: "try again"}

func TestAPanicInsideACheckIsReportedAsAFailure(t *testing.T) {
	rep := &scriptedReporter{}
	h := &handler.Handler{Checks: []handler.Check{panicky{}}, Reporter: rep, Logger: quiet}

	err := h.Handle(context.Background(), eventFor(testJobID, commitN(1)))

	if err != nil || rep.failure != 1 || rep.success != 0 {
		t.Fatalf("err=%v failures=%d successes=%d, want one failure reported", err, rep.failure, rep.success)
	}
	for _, want := range []string{"the guard's buggy check failed unexpectedly", "assignment to entry in nil map", "this is a bug in the guard"} {
		if !strings.Contains(rep.lastMsg, want) {
			t.Errorf("message %q does not contain %q", rep.lastMsg, want)
		}
	}
}

func TestTheReportIsRetriedUntilItLands(t *testing.T) {
	cases := map[string]struct {
		script   []error
		attempts int
		wantErr  string
	}{
		"a transient fault twice, then it lands":              {script: []error{transientErr, transientErr, nil}, attempts: 3},
		"throttled, then it lands":                            {script: []error{apiErr("ThrottlingException"), nil}, attempts: 2},
		"InvalidJobState after a lost answer means it landed": {script: []error{transientErr, apiErr("InvalidJobStateException")}, attempts: 2},
		"InvalidJobState at once: an earlier try reported it": {script: []error{apiErr("InvalidJobStateException")}, attempts: 1},
		"a permanent fault is not retried": {script: []error{apiErr("JobNotFoundException")}, attempts: 1,
			wantErr: "after 1 attempt(s): api error JobNotFoundException"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rep := &scriptedReporter{script: tc.script}
			h := &handler.Handler{Checks: []handler.Check{panicky{}}, Reporter: rep, Logger: quiet}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			err := h.Handle(ctx, eventFor(testJobID, commitN(1)))

			if rep.failure != tc.attempts {
				t.Errorf("%d report attempts, want %d", rep.failure, tc.attempts)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
	t.Run("a fault that lasts is retried until the deadline, then returned", func(t *testing.T) {
		script := make([]error, 1000)
		for i := range script {
			script[i] = transientErr
		}
		rep := &scriptedReporter{script: script}
		h := &handler.Handler{Checks: []handler.Check{panicky{}}, Reporter: rep, Logger: quiet, Reserve: 100 * time.Millisecond}
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		err := h.Handle(ctx, eventFor(testJobID, commitN(1)))
		if err == nil || !strings.Contains(err.Error(), "ServiceUnavailableException") || rep.failure < 3 {
			t.Errorf("err=%v after %d attempts, want the fault after several attempts", err, rep.failure)
		}
	})
}

// TestAnSTSFaultIsReportedAsOneAndRetriesDoNotNest: with STS throttling, the assume-role
// call is retried by its own client only (MaxAttempts), never again around each
// CodePipeline attempt, and the message names STS, not the pipeline read.
func TestAnSTSFaultIsReportedAsOneAndRetriesDoNotNest(t *testing.T) {
	fake := &fakeAWS{Executions: history(10), AssumeFault: &awsFault{Status: 400, Code: "Throttling", Message: "Rate exceeded"}}
	h := newSDKHandler(newFakeAWS(t, fake).URL, nil) // MaxAttempts 3
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if err := h.Handle(ctx, eventFor(testJobID, commitN(1))); err != nil {
		t.Fatal(err)
	}

	if n := countOp(fake, "AssumeRole"); n != 3 {
		t.Errorf("AssumeRole called %d times, want 3 (one client's attempts, not nested in CodePipeline's)", n)
	}
	if n := countOp(fake, "ListPipelineExecutions"); n != 0 {
		t.Errorf("ListPipelineExecutions sent %d times without credentials, want 0", n)
	}
	fd, _ := fake.last(t, "PutJobFailureResult").Body["failureDetails"].(map[string]any)
	msg, _ := fd["message"].(string)
	want := "AWS kept throttling the guard assuming the stg read-only role " + testRoleARN + " through STS (Throttling, 3 attempts)"
	if !strings.Contains(msg, want) {
		t.Errorf("message %q\n does not contain %q", msg, want)
	}
}

// The secrets a real CodePipeline job event carries.
const (
	secretKey    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	sessionToken = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
	accessKey    = "ASIAEXAMPLEARTIFACTKEY"
)

var eventWithCredentials = `{"CodePipeline.job":{"accountId":"333333333333","data":{` +
	`"artifactCredentials":{"accessKeyId":"` + accessKey + `","secretAccessKey":"` + secretKey + `","sessionToken":"` + sessionToken + `"},` +
	`"actionConfiguration":{"configuration":{"FunctionName":"guard","UserParameters":"{}"}},"continuationToken":"ct-secret"}}}`

func TestNothingSecretIsLogged(t *testing.T) {
	secrets := []string{secretKey, sessionToken, accessKey, "ct-secret"}
	noSecrets := func(t *testing.T, logged string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(logged, s) {
				t.Errorf("the log shows a secret %q:\n%s", s, logged)
			}
		}
	}
	t.Run("an event without a job id is logged redacted", func(t *testing.T) {
		var logs bytes.Buffer
		h := &handler.Handler{Reporter: &scriptedReporter{}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
		err := h.Handle(context.Background(), []byte(eventWithCredentials))
		if !errors.Is(err, handler.ErrNoJobID) {
			t.Fatalf("err = %v, want ErrNoJobID", err)
		}
		if !strings.Contains(logs.String(), handler.Redacted) || !strings.Contains(logs.String(), "333333333333") {
			t.Errorf("the event should be logged, redacted:\n%s", logs.String())
		}
		noSecrets(t, logs.String())
	})
	for name, raw := range map[string]string{
		"valid JSON":                       eventWithCredentials,
		"not JSON (trailing garbage)":      eventWithCredentials + "}}",
		"cut inside the secret":            eventWithCredentials[:strings.Index(eventWithCredentials, secretKey)+10],
		"cut inside the key":               eventWithCredentials[:strings.Index(eventWithCredentials, `"sessionTo`)+6],
		"escaped quotes inside the secret": strings.Replace(eventWithCredentials, secretKey, `ab\"`+secretKey, 1) + "x",
	} {
		t.Run(name, func(t *testing.T) {
			for _, n := range []int{60, 200, 500, 5000} {
				noSecrets(t, handler.RedactEvent([]byte(raw), n))
			}
		})
	}
}
