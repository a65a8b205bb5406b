package handler_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"

	"github.com/platform-eng/pathtoprod/constructs/guard/lambda/handler"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

var (
	cA = strings.Repeat("a", 40)
	cB = strings.Repeat("b", 40)
	cC = strings.Repeat("c", 40)
)

// check is a scripted Check that records whether it ran.
type check struct {
	name string
	res  handler.Result
	err  error
	ran  bool
}

func (c *check) Name() string { return c.name }
func (c *check) Check(ctx context.Context, job handler.Job) (handler.Result, error) {
	c.ran = true
	return c.res, c.err
}

func TestDecide(t *testing.T) {
	job := handler.Job{ID: "j", Commit: cA}
	pass := func(name, sum string, out map[string]string) *check {
		return &check{name: name, res: handler.Result{Passed: true, Summary: sum, Outputs: out}}
	}
	cases := map[string]struct {
		checks    []*check
		wantPass  bool
		wantMsg   string
		wantFail  string
		wantRan   []bool
		wantOuts  map[string]string
		checkOuts bool
	}{
		"all pass": {
			checks:   []*check{pass("upstream", "it passed stg", map[string]string{"UpstreamExecutionId": "e1"}), pass("image", "image x exists", map[string]string{"ImageDigest": "sha256:1"})},
			wantPass: true, wantMsg: "Verified commit aaaaaaa: it passed stg; image x exists.", wantRan: []bool{true, true},
			wantOuts:  map[string]string{"Commit": cA, "UpstreamExecutionId": "e1", "ImageDigest": "sha256:1", "Summary": "Verified commit aaaaaaa: it passed stg; image x exists."},
			checkOuts: true,
		},
		"first fails, second not run": {
			checks:  []*check{{name: "upstream", res: handler.Result{Summary: "commit aaaaaaa has not passed stg"}}, pass("image", "x", nil)},
			wantMsg: "commit aaaaaaa has not passed stg", wantFail: "upstream", wantRan: []bool{true, false},
		},
		"second errors": {
			checks:  []*check{pass("upstream", "ok", nil), {name: "image", err: errors.New("ECR repository r does not exist")}},
			wantMsg: "ECR repository r does not exist", wantFail: "image", wantRan: []bool{true, true},
		},
		"no checks fails": {wantMsg: "the guard has no checks configured", wantFail: "config"},
		"long summary is cut": {
			checks:   []*check{pass("upstream", strings.Repeat("é", 300), nil)},
			wantPass: true, wantRan: []bool{true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var cs []handler.Check
			for _, c := range tc.checks {
				cs = append(cs, c)
			}
			d := handler.Decide(context.Background(), job, cs)
			if d.Passed != tc.wantPass || (tc.wantMsg != "" && d.Message != tc.wantMsg) || d.FailedCheck != tc.wantFail {
				t.Errorf("got %+v", d)
			}
			for i, c := range tc.checks {
				if c.ran != tc.wantRan[i] {
					t.Errorf("check %s ran=%t, want %t", c.name, c.ran, tc.wantRan[i])
				}
			}
			if tc.checkOuts && fmt.Sprint(d.Outputs) != fmt.Sprint(tc.wantOuts) {
				t.Errorf("outputs = %v, want %v", d.Outputs, tc.wantOuts)
			}
			if d.Passed && (len(d.Outputs["Summary"]) > 250 || !strings.HasSuffix(d.Outputs["Summary"], "…") && len(d.Message) > 250) {
				t.Errorf("summary too long or not marked: %d bytes", len(d.Outputs["Summary"]))
			}
		})
	}
}

// reporter is a fake JobReporter that records the report and the context it was sent in.
type reporter struct {
	success *codepipeline.PutJobSuccessResultInput
	failure *codepipeline.PutJobFailureResultInput
	ctxErr  error
	err     error
}

func (r *reporter) PutJobSuccessResult(ctx context.Context, in *codepipeline.PutJobSuccessResultInput, _ ...func(*codepipeline.Options)) (*codepipeline.PutJobSuccessResultOutput, error) {
	r.success, r.ctxErr = in, ctx.Err()
	return &codepipeline.PutJobSuccessResultOutput{}, r.err
}

func (r *reporter) PutJobFailureResult(ctx context.Context, in *codepipeline.PutJobFailureResultInput, _ ...func(*codepipeline.Options)) (*codepipeline.PutJobFailureResultOutput, error) {
	r.failure, r.ctxErr = in, ctx.Err()
	return &codepipeline.PutJobFailureResultOutput{}, r.err
}

// slowCheck blocks until its context ends, like a call that hangs.
type slowCheck struct{}

func (slowCheck) Name() string { return "upstream" }
func (slowCheck) Check(ctx context.Context, job handler.Job) (handler.Result, error) {
	<-ctx.Done()
	return handler.Result{}, &handler.CheckError{Message: "ran out of time reading executions", Err: ctx.Err()}
}

func TestHandlerReportsOnTime(t *testing.T) {
	// GIVEN a check that hangs and a Lambda with 400ms left, 300ms of them reserved
	r := &reporter{}
	h := &handler.Handler{Checks: []handler.Check{slowCheck{}}, Reporter: r, Reserve: 300 * time.Millisecond, Logger: quiet}
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	// WHEN the handler runs
	if err := h.Handle(ctx, eventFor("j1", cA)); err != nil {
		t.Fatal(err)
	}
	// THEN it stops the check at the budget and reports the failure in a live context
	if el := time.Since(start); el > 390*time.Millisecond {
		t.Errorf("took %s, want the 100ms budget", el)
	}
	if r.failure == nil || r.ctxErr != nil {
		t.Fatalf("failure=%v ctxErr=%v, want a report in a live context", r.failure, r.ctxErr)
	}
	// The budget is what was left at the start less the reserve: at most 100ms, a little less
	// on a busy machine.
	msg := aws.ToString(r.failure.FailureDetails.Message)
	m := regexp.MustCompile(`^out of time \(budget ([^:]+): the Lambda's remaining time less a 300ms reserve\): .*reading executions`).FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("message = %q", msg)
	}
	if budget, err := time.ParseDuration(m[1]); err != nil || budget <= 0 || budget > 100*time.Millisecond {
		t.Errorf("budget %q in %q, want (0, 100ms]", m[1], msg)
	}
}

func TestHandlerReportOutcome(t *testing.T) {
	cases := map[string]struct {
		checks  []handler.Check
		repErr  error
		event   []byte
		wantErr bool
		wantOK  bool
	}{
		"pass is reported as success":      {checks: []handler.Check{&check{name: "u", res: handler.Result{Passed: true}}}, event: eventFor("j", cA), wantOK: true},
		"already reported is not an error": {checks: []handler.Check{&check{name: "u", res: handler.Result{Passed: true}}}, event: eventFor("j", cA), repErr: &types.InvalidJobStateException{Message: aws.String("done")}, wantOK: true},
		"report refused is an error":       {checks: []handler.Check{&check{name: "u", res: handler.Result{Passed: true}}}, event: eventFor("j", cA), repErr: &smithy.GenericAPIError{Code: "JobNotFoundException"}, wantErr: true, wantOK: true},
		"no job id is an error":            {event: []byte(`{}`), wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := &reporter{err: tc.repErr}
			h := &handler.Handler{Checks: tc.checks, Reporter: r, Logger: quiet}
			err := h.Handle(context.Background(), tc.event)
			if (err != nil) != tc.wantErr {
				t.Errorf("err = %v, wantErr %t", err, tc.wantErr)
			}
			if (r.success != nil) != tc.wantOK {
				t.Errorf("success reported = %t, want %t", r.success != nil, tc.wantOK)
			}
		})
	}
}

// describer is a fake ImageDescriber.
type describer struct {
	out *ecr.DescribeImagesOutput
	err error
	in  *ecr.DescribeImagesInput
}

func (d *describer) DescribeImages(ctx context.Context, in *ecr.DescribeImagesInput, _ ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error) {
	d.in = in
	return d.out, d.err
}

func TestImageCheck(t *testing.T) {
	job := handler.Job{ID: "j", Commit: cA}
	cases := map[string]struct {
		d        *describer
		registry string
		wantPass bool
		wantErr  string
		wantSum  string
		wantURI  string
	}{
		"found":             {d: &describer{out: &ecr.DescribeImagesOutput{ImageDetails: []ecrtypes.ImageDetail{{ImageDigest: aws.String(digest), RegistryId: aws.String("222222222222")}}}}, registry: "222222222222", wantPass: true, wantURI: "222222222222.dkr.ecr.eu-west-1.amazonaws.com/r@" + digest},
		"own registry":      {d: &describer{out: &ecr.DescribeImagesOutput{ImageDetails: []ecrtypes.ImageDetail{{ImageDigest: aws.String(digest), RegistryId: aws.String("333333333333")}}}}, wantPass: true, wantURI: "333333333333.dkr.ecr.eu-west-1.amazonaws.com/r@" + digest},
		"empty answer":      {d: &describer{out: &ecr.DescribeImagesOutput{}}, wantSum: "has no image in ECR repository r"},
		"image not found":   {d: &describer{err: &ecrtypes.ImageNotFoundException{Message: aws.String("nope")}}, wantSum: "has no image"},
		"repo not found":    {d: &describer{err: &ecrtypes.RepositoryNotFoundException{Message: aws.String("nope")}}, wantErr: "ECR repository r does not exist"},
		"denied":            {d: &describer{err: &smithy.GenericAPIError{Code: "AccessDeniedException"}}, wantErr: "may not describe images"},
		"throttled":         {d: &describer{err: &smithy.GenericAPIError{Code: "ThrottlingException"}}, wantErr: "AWS kept throttling the guard describing image r:aaaaaaa"},
		"other error":       {d: &describer{err: errors.New("dial tcp: refused")}, wantErr: "failed describing image r:aaaaaaa: dial tcp: refused"},
		"non-sha256 digest": {d: &describer{out: &ecr.DescribeImagesOutput{ImageDetails: []ecrtypes.ImageDetail{{ImageDigest: aws.String("md5:x")}}}}, wantSum: "has no image"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := &handler.ImageCheck{Describer: tc.d, Repository: "r", RegistryID: tc.registry, Region: "eu-west-1"}
			res, err := c.Check(context.Background(), job)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || res.Passed != tc.wantPass || !strings.Contains(res.Summary, tc.wantSum) || res.Outputs["ImageUri"] != tc.wantURI {
				t.Errorf("res=%+v err=%v", res, err)
			}
			if got := aws.ToString(tc.d.in.ImageIds[0].ImageTag); got != cA {
				t.Errorf("asked for tag %q, want the full commit", got)
			}
			if (tc.d.in.RegistryId == nil) != (tc.registry == "") {
				t.Errorf("RegistryId = %v, want %q", tc.d.in.RegistryId, tc.registry)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	base := map[string]string{
		"UPSTREAM_ENVIRONMENT": "stg", "UPSTREAM_PIPELINE": "payments-checkout-stg",
		"UPSTREAM_ROLE_ARN": testRoleARN, "UPSTREAM_REGION": "eu-west-1", "AWS_REGION": "eu-central-1",
	}
	env := func(over map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := over[k]; ok {
				return v
			}
			return base[k]
		}
	}
	t.Run("defaults", func(t *testing.T) {
		c, err := handler.ConfigFromEnv(env(nil))
		if err != nil || c.MaxPages != org.DefaultHistoryPages || c.ImageRepository != "" || c.Reserve != handler.DefaultReserve {
			t.Errorf("c=%+v err=%v", c, err)
		}
	})
	t.Run("image defaults to own region", func(t *testing.T) {
		c, err := handler.ConfigFromEnv(env(map[string]string{"IMAGE_REPOSITORY": "payments/checkout", "HISTORY_MAX_PAGES": "20"}))
		if err != nil || c.ImageRegion != "eu-central-1" || c.MaxPages != 20 {
			t.Errorf("c=%+v err=%v", c, err)
		}
	})
	t.Run("every problem at once", func(t *testing.T) {
		_, err := handler.ConfigFromEnv(env(map[string]string{
			"UPSTREAM_ROLE_ARN": "payments-guard", "UPSTREAM_REGION": "", "HISTORY_MAX_PAGES": "0",
			"IMAGE_REPOSITORY": "Payments", "IMAGE_REGISTRY_ID": "12",
		}))
		for _, want := range []string{`UPSTREAM_ROLE_ARN="payments-guard"`, `UPSTREAM_REGION=""`, `HISTORY_MAX_PAGES="0"`, `IMAGE_REPOSITORY="Payments"`, `IMAGE_REGISTRY_ID="12"`} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want it to name %s", err, want)
			}
		}
	})
	t.Run("no image check: defaults validate", func(t *testing.T) {
		c, err := handler.ConfigFromEnv(env(nil))
		if err != nil || c.ImageRegion != "" {
			t.Fatalf("c=%+v err=%v", c, err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("defaults do not validate: %v", err)
		}
	})
	t.Run("registry without repository", func(t *testing.T) {
		if _, err := handler.ConfigFromEnv(env(map[string]string{"IMAGE_REGISTRY_ID": "222222222222"})); err == nil {
			t.Error("want an error")
		}
	})
}
