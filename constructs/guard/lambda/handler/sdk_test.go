package handler_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/platform-eng/pathtoprod/constructs/guard/lambda/handler"
)

// sdkCase configures the real SDK clients against the fake AWS server.
type sdkCase struct {
	fake     *fakeAWS
	cfg      func(*handler.Config)
	timeout  time.Duration // Lambda time left; default 10s
	commit   string
	wantPass bool
	// wantMsg are substrings of the failure message (or of Summary on a pass).
	wantMsg []string
	wantOps []string
}

// newSDKHandler builds the guard exactly as the Lambda does, with the real SDK clients
// pointed at srvURL and the guard's own static credentials.
func newSDKHandler(srvURL string, mod func(*handler.Config)) *handler.Handler {
	cfg := handler.Config{
		UpstreamEnvironment: "stg",
		UpstreamPipeline:    testPipeline,
		UpstreamRoleARN:     testRoleARN,
		UpstreamRegion:      upstreamRgn,
		Region:              ownRegion,
		MaxAttempts:         3,
		MaxBackoff:          5 * time.Millisecond,
		Reserve:             time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	awsCfg := aws.Config{
		Region:       ownRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(ownKeyID, "own-secret", ""),
		BaseEndpoint: aws.String(srvURL),
	}
	h := handler.NewHandler(awsCfg, cfg, nil)
	h.Logger = quiet
	return h
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func withImage(c *handler.Config) {
	c.ImageRepository, c.ImageRegistryID, c.ImageRegion = testRepo, testRegistry, "us-east-1"
}

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestRealSDK runs the handler with the real CodePipeline, STS and ECR clients against a
// fake AWS that speaks their wire protocols, for a pass, a rollback and every fault.
func TestRealSDK(t *testing.T) {
	listOnly := []string{"AssumeRole", "ListPipelineExecutions", "PutJobFailureResult"}
	cases := map[string]sdkCase{
		"pass on the first page": {
			fake: &fakeAWS{Executions: history(50)}, commit: commitN(5), wantPass: true,
			wantMsg: []string{"Verified commit " + commitN(5)[:7] + ": it passed stg in execution exec-0005 at 2026-11-20T05:00:00Z."},
			wantOps: []string{"AssumeRole", "ListPipelineExecutions", "PutJobSuccessResult"},
		},
		"rollback: an old commit found on page 3 passes": {
			fake: &fakeAWS{Executions: history(400)}, commit: commitN(250), wantPass: true,
			wantMsg: []string{"passed stg in execution exec-0250"},
			wantOps: []string{"AssumeRole", "ListPipelineExecutions", "ListPipelineExecutions", "ListPipelineExecutions", "PutJobSuccessResult"},
		},
		"never passed upstream": {
			fake: &fakeAWS{Executions: history(30)}, commit: strings.Repeat("ab", 20),
			wantMsg: []string{"commit abababa has not passed stg (newest pass there: " + commitN(0)[:7] + " at 2026-11-20T10:00:00Z)"},
			wantOps: listOnly,
		},
		"failed upstream only": {
			fake: &fakeAWS{Executions: history(30)}, commit: commitN(4),
			wantMsg: []string{"has not passed stg"}, wantOps: listOnly,
		},
		"transient throttling is retried": {
			fake: &fakeAWS{Executions: history(10), Throttles: 2}, commit: commitN(1), wantPass: true,
			wantOps: []string{"AssumeRole", "ListPipelineExecutions", "ListPipelineExecutions", "ListPipelineExecutions", "PutJobSuccessResult"},
		},
		"persistent throttling": {
			fake: &fakeAWS{Executions: history(10), Throttles: -1}, commit: commitN(1),
			wantMsg: []string{"AWS kept throttling the guard reading executions of stg pipeline payments-checkout-stg (ThrottlingException, 3 attempts)"},
			wantOps: []string{"AssumeRole", "ListPipelineExecutions", "ListPipelineExecutions", "ListPipelineExecutions", "PutJobFailureResult"},
		},
		"throttled until the deadline": {
			fake: &fakeAWS{Executions: history(10), Throttles: -1}, commit: commitN(1),
			cfg:     func(c *handler.Config) { c.MaxAttempts, c.MaxBackoff = 1000, 20*time.Millisecond },
			timeout: 1300 * time.Millisecond,
			wantMsg: []string{"out of time (budget ", "ran out of time reading executions of stg pipeline payments-checkout-stg while AWS was throttling the guard"},
		},
		"AssumeRole denied": {
			fake:    &fakeAWS{Executions: history(10), AssumeFault: &awsFault{Status: 403, Code: "AccessDenied", Message: "User: arn:aws:sts::333333333333:assumed-role/guard is not authorized to perform: sts:AssumeRole"}},
			commit:  commitN(1),
			wantMsg: []string{"cannot assume the stg read-only role " + testRoleARN + ": access denied by STS (AccessDenied); the role may be missing, or may not trust this guard's role"},
			wantOps: []string{"AssumeRole", "PutJobFailureResult"},
		},
		"ListPipelineExecutions denied": {
			fake:    &fakeAWS{Executions: history(10), ListFault: &awsFault{Status: 400, Code: "AccessDeniedException", Message: "not authorized to perform: codepipeline:ListPipelineExecutions"}},
			commit:  commitN(1),
			wantMsg: []string{"the stg read-only role " + testRoleARN + " may not list executions of pipeline payments-checkout-stg: access denied (AccessDeniedException)"},
			wantOps: listOnly,
		},
		"upstream pipeline missing": {
			fake: &fakeAWS{Executions: history(10)}, commit: commitN(1),
			cfg:     func(c *handler.Config) { c.UpstreamPipeline = "payments-checkout-stag" },
			wantMsg: []string{"pipeline payments-checkout-stag does not exist in the stg account (region eu-west-1)"},
			wantOps: listOnly,
		},
		"history longer than the page bound": {
			fake: &fakeAWS{Executions: history(250)}, commit: commitN(240),
			cfg:     func(c *handler.Config) { c.MaxPages = 2 },
			wantMsg: []string{"commit " + commitN(240)[:7] + " is not among the 200 newest executions of stg pipeline payments-checkout-stg that the guard read (2 pages, the bound), and older history exists", "raise settings.historyPages"},
			wantOps: []string{"AssumeRole", "ListPipelineExecutions", "ListPipelineExecutions", "PutJobFailureResult"},
		},
		"history exactly at the page bound, commit on the last page": {
			fake: &fakeAWS{Executions: history(200)}, commit: commitN(198), wantPass: true,
			cfg: func(c *handler.Config) { c.MaxPages = 2 },
		},
		"deadline: upstream hangs": {
			fake: &fakeAWS{Executions: history(10), ListDelay: 5 * time.Second}, commit: commitN(1),
			timeout: 1500 * time.Millisecond,
			wantMsg: []string{"out of time (budget ", "ran out of time reading executions of stg pipeline payments-checkout-stg"},
			wantOps: listOnly,
		},
		"image exists": {
			fake: &fakeAWS{Executions: history(10), ImageDigest: digest}, commit: commitN(1), wantPass: true, cfg: withImage,
			wantMsg: []string{"; image payments/checkout@sha256:0123456789ab… exists."},
			wantOps: []string{"AssumeRole", "ListPipelineExecutions", "DescribeImages", "PutJobSuccessResult"},
		},
		"image missing": {
			fake: &fakeAWS{Executions: history(10)}, commit: commitN(1), cfg: withImage,
			wantMsg: []string{"commit " + commitN(1)[:7] + " has no image in ECR repository payments/checkout of registry 222222222222 (tag " + commitN(1) + " not found)"},
			wantOps: []string{"AssumeRole", "ListPipelineExecutions", "DescribeImages", "PutJobFailureResult"},
		},
		"image repository missing": {
			fake:   &fakeAWS{Executions: history(10), ImageFault: &awsFault{Status: 400, Code: "RepositoryNotFoundException", Message: "The repository with name 'payments/checkout' does not exist"}},
			commit: commitN(1), cfg: withImage,
			wantMsg: []string{"ECR repository payments/checkout of registry 222222222222 does not exist (region us-east-1)"},
		},
		"image not readable": {
			fake:   &fakeAWS{Executions: history(10), ImageFault: &awsFault{Status: 400, Code: "AccessDeniedException", Message: "denied"}},
			commit: commitN(1), cfg: withImage,
			wantMsg: []string{"may not describe images in ECR repository payments/checkout of registry 222222222222: access denied"},
		},
		"image check not run when upstream fails": {
			fake: &fakeAWS{Executions: history(10), ImageDigest: digest}, commit: commitN(4), cfg: withImage,
			wantMsg: []string{"has not passed stg"}, wantOps: listOnly,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newFakeAWS(t, tc.fake)
			h := newSDKHandler(srv.URL, tc.cfg)
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()

			if err := h.Handle(ctx, eventFor(testJobID, tc.commit)); err != nil {
				t.Fatalf("Handle: %v", err)
			}

			op := "PutJobFailureResult"
			if tc.wantPass {
				op = "PutJobSuccessResult"
			}
			rep := tc.fake.last(t, op)
			if rep.Body["jobId"] != testJobID {
				t.Errorf("%s jobId = %v", op, rep.Body["jobId"])
			}
			var msg string
			if tc.wantPass {
				vars, _ := rep.Body["outputVariables"].(map[string]any)
				msg, _ = vars["Summary"].(string)
				if vars["Commit"] != tc.commit {
					t.Errorf("Commit output = %v, want %s", vars["Commit"], tc.commit)
				}
			} else {
				fd, _ := rep.Body["failureDetails"].(map[string]any)
				msg, _ = fd["message"].(string)
				if fd["type"] != "JobFailed" {
					t.Errorf("failure type = %v", fd["type"])
				}
			}
			for _, want := range tc.wantMsg {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q\n does not contain %q", msg, want)
				}
			}
			if tc.wantOps != nil && !slices.Equal(tc.fake.ops(), tc.wantOps) {
				t.Errorf("calls = %v, want %v", tc.fake.ops(), tc.wantOps)
			}
			if n := len(tc.fake.ops()) - countOp(tc.fake, "PutJobSuccessResult") - countOp(tc.fake, "PutJobFailureResult"); countOp(tc.fake, "PutJobSuccessResult")+countOp(tc.fake, "PutJobFailureResult") != 1 || n < 0 {
				t.Errorf("want exactly one report, calls = %v", tc.fake.ops())
			}
		})
	}
}

func countOp(f *fakeAWS, op string) int {
	n := 0
	for _, o := range f.ops() {
		if o == op {
			n++
		}
	}
	return n
}

// TestRealSDKCrossAccountSigning proves the cross-account read path: the upstream pipeline
// is read with the ASSUMED role's credentials in the upstream region, while the job is
// reported and ECR is read with the guard's OWN credentials.
func TestRealSDKCrossAccountSigning(t *testing.T) {
	fake := &fakeAWS{Executions: history(10), ImageDigest: digest}
	srv := newFakeAWS(t, fake)
	h := newSDKHandler(srv.URL, withImage)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Handle(ctx, eventFor(testJobID, commitN(1))); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"AssumeRole":             {ownKeyID, ownRegion},
		"ListPipelineExecutions": {assumedKeyID, upstreamRgn},
		"DescribeImages":         {ownKeyID, "us-east-1"},
		"PutJobSuccessResult":    {ownKeyID, ownRegion},
	}
	for op, w := range want {
		c := fake.last(t, op)
		if c.KeyID != w[0] || c.Region != w[1] {
			t.Errorf("%s signed by %s in %s, want %s in %s", op, c.KeyID, c.Region, w[0], w[1])
		}
	}
	if c := fake.last(t, "AssumeRole"); c.Body["RoleArn"] != testRoleARN || c.Body["RoleSessionName"] != handler.RoleSessionName {
		t.Errorf("AssumeRole input = %v", c.Body)
	}
	if c := fake.last(t, "DescribeImages"); c.Body["registryId"] != testRegistry || c.Body["repositoryName"] != testRepo {
		t.Errorf("DescribeImages input = %v", c.Body)
	}
	vars, _ := fake.last(t, "PutJobSuccessResult").Body["outputVariables"].(map[string]any)
	wantVars := map[string]string{
		"Commit":              commitN(1),
		"UpstreamExecutionId": "exec-0001",
		"UpstreamSucceededAt": "2026-11-20T09:00:00Z",
		"ImageDigest":         digest,
		"ImageUri":            testRegistry + ".dkr.ecr.us-east-1.amazonaws.com/" + testRepo + "@" + digest,
	}
	for k, v := range wantVars {
		if vars[k] != v {
			t.Errorf("output %s = %v, want %s", k, vars[k], v)
		}
	}
	if len(vars) != len(wantVars)+1 { // + Summary
		t.Errorf("outputs = %v", vars)
	}

	// A second job on the warm handler reuses the cached upstream credentials.
	if err := h.Handle(ctx, eventFor(testJobID, commitN(2))); err != nil {
		t.Fatal(err)
	}
	if n := countOp(fake, "AssumeRole"); n != 1 {
		t.Errorf("AssumeRole called %d times for two jobs, want 1 (cached)", n)
	}
}

// TestRealSDKEventFaults covers what is wrong with the job rather than with AWS.
func TestRealSDKEventFaults(t *testing.T) {
	t.Run("malformed UserParameters are reported", func(t *testing.T) {
		fake := &fakeAWS{Executions: history(10)}
		h := newSDKHandler(newFakeAWS(t, fake).URL, nil)
		ev := []byte(`{"CodePipeline.job":{"id":"` + testJobID + `","data":{"actionConfiguration":{"configuration":{"UserParameters":"{\"commit\":\"#{SourceVariables.CommitId}\"}"}}}}}`)
		if err := h.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		fd, _ := fake.last(t, "PutJobFailureResult").Body["failureDetails"].(map[string]any)
		if msg, _ := fd["message"].(string); !strings.Contains(msg, `malformed job: UserParameters: commit "#{SourceVariables.CommitId}" is not a full 40-character`) {
			t.Errorf("message = %q", msg)
		}
		if !slices.Equal(fake.ops(), []string{"PutJobFailureResult"}) {
			t.Errorf("calls = %v", fake.ops())
		}
	})
	t.Run("no job id: nothing to report, handler errors", func(t *testing.T) {
		fake := &fakeAWS{Executions: history(10)}
		h := newSDKHandler(newFakeAWS(t, fake).URL, nil)
		err := h.Handle(context.Background(), []byte(`{"CodePipeline.job":{"data":{}}}`))
		if !errors.Is(err, handler.ErrNoJobID) {
			t.Errorf("err = %v, want ErrNoJobID", err)
		}
		if len(fake.ops()) != 0 {
			t.Errorf("calls = %v, want none", fake.ops())
		}
	})
	t.Run("misconfigured guard reports on every job", func(t *testing.T) {
		fake := &fakeAWS{Executions: history(10)}
		srv := newFakeAWS(t, fake)
		cfg, cfgErr := handler.ConfigFromEnv(func(k string) string {
			return map[string]string{"UPSTREAM_ENVIRONMENT": "stg", "UPSTREAM_PIPELINE": testPipeline, "AWS_REGION": ownRegion, "UPSTREAM_REGION": upstreamRgn, "HISTORY_MAX_PAGES": "lots"}[k]
		})
		h := handler.NewHandler(aws.Config{Region: ownRegion, Credentials: credentials.NewStaticCredentialsProvider(ownKeyID, "s", ""), BaseEndpoint: aws.String(srv.URL)}, cfg, cfgErr)
		h.Logger = quiet
		if err := h.Handle(context.Background(), eventFor(testJobID, commitN(1))); err != nil {
			t.Fatal(err)
		}
		fd, _ := fake.last(t, "PutJobFailureResult").Body["failureDetails"].(map[string]any)
		msg, _ := fd["message"].(string)
		for _, want := range []string{"the guard is misconfigured", `HISTORY_MAX_PAGES="lots"`, `UPSTREAM_ROLE_ARN="": required`} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q does not contain %q", msg, want)
			}
		}
	})
	t.Run("report rejected: handler errors", func(t *testing.T) {
		fake := &fakeAWS{Executions: history(10), ReportFault: &awsFault{Status: 400, Code: "JobNotFoundException", Message: "no such job"}}
		h := newSDKHandler(newFakeAWS(t, fake).URL, nil)
		if err := h.Handle(context.Background(), eventFor(testJobID, commitN(1))); err == nil || !strings.Contains(err.Error(), "JobNotFoundException") {
			t.Errorf("err = %v, want the JobNotFoundException", err)
		}
	})
	t.Run("job already reported by an earlier try: no error", func(t *testing.T) {
		fake := &fakeAWS{Executions: history(10), ReportFault: &awsFault{Status: 400, Code: "InvalidJobStateException", Message: "job is not in progress"}}
		h := newSDKHandler(newFakeAWS(t, fake).URL, nil)
		if err := h.Handle(context.Background(), eventFor(testJobID, commitN(1))); err != nil {
			t.Errorf("err = %v, want nil", err)
		}
	})
}
