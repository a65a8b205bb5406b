package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

// JobSuccessReporter reports that a job passed.
type JobSuccessReporter interface {
	PutJobSuccessResult(ctx context.Context, in *codepipeline.PutJobSuccessResultInput, optFns ...func(*codepipeline.Options)) (*codepipeline.PutJobSuccessResultOutput, error)
}

// JobFailureReporter reports that a job failed.
type JobFailureReporter interface {
	PutJobFailureResult(ctx context.Context, in *codepipeline.PutJobFailureResultInput, optFns ...func(*codepipeline.Options)) (*codepipeline.PutJobFailureResultOutput, error)
}

// JobReporter reports a job's outcome to CodePipeline, in the guard's own account and
// region and with its own credentials.
type JobReporter interface {
	JobSuccessReporter
	JobFailureReporter
}

var _ JobReporter = (*codepipeline.Client)(nil)

// Handler is the guard Lambda's handler: it parses the job, runs the checks within the
// time budget and reports the decision on the job.
type Handler struct {
	// Checks run in order; all must pass.
	Checks []Check
	// Reporter sends PutJobSuccessResult / PutJobFailureResult.
	Reporter JobReporter
	// Reserve is kept back from the Lambda deadline for the report. Default: DefaultReserve.
	Reserve time.Duration
	// ConfigErr, when set, fails every job with it instead of deciding: a guard that
	// cannot be configured still says so on the job rather than letting it time out.
	ConfigErr error
	// Logger logs each decision. Default: slog.Default().
	Logger *slog.Logger
}

// Handle is the Lambda entry point (lambda.Start(h.Handle)). It returns nil once the
// outcome is reported on the job, whether the job passed or failed; it returns an error
// only when nothing could be reported: the event has no job id (ErrNoJobID), or
// CodePipeline did not accept the report.
func (h *Handler) Handle(ctx context.Context, event json.RawMessage) error {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	start := time.Now()
	job, perr := ParseJobEvent(event)
	if errors.Is(perr, ErrNoJobID) {
		log.Error("cannot report on this event: no job id; CodePipeline will time the job out", "err", perr, "event", RedactEvent(event, 500))
		return fmt.Errorf("promotion guard: %w", perr)
	}
	log = log.With("jobId", job.ID, "commit", job.Commit, "executionId", job.ExecutionID)

	reserve := h.Reserve
	if reserve <= 0 {
		reserve = DefaultReserve
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = start.Add(DefaultBudget + reserve)
	}
	budget := deadline.Sub(start) - reserve
	work, cancel := context.WithDeadline(ctx, deadline.Add(-reserve))
	defer cancel()
	work, _ = withRetryLog(work)

	d := h.decide(work, job, perr, budget, reserve)
	d.Message = limit(d.Message, maxMessage)

	// A fresh context for the report: the work context may have run out, the Lambda's has not.
	rctx, rcancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer rcancel()
	err := h.report(rctx, job.ID, d)
	log.Info("decision", "passed", d.Passed, "check", d.FailedCheck, "message", d.Message,
		"elapsed", time.Since(start).Round(time.Millisecond).String(), "reportErr", err)
	return err
}

// decide is the decision for one parsed job; a panic anywhere in it becomes a failure, so
// the job is always reported.
func (h *Handler) decide(work context.Context, job Job, perr error, budget, reserve time.Duration) (d Decision) {
	defer func() {
		if p := recover(); p != nil {
			d = Decision{FailedCheck: "guard", Err: fmt.Errorf("panic: %v", p),
				Message: fmt.Sprintf("the guard failed unexpectedly (panic: %v); this is a bug in the guard: report it, and retry the stage", limit(fmt.Sprint(p), 300))}
		}
	}()
	switch {
	case perr != nil:
		return Decision{Message: perr.Error(), FailedCheck: "job", Err: perr}
	case h.ConfigErr != nil:
		return Decision{Message: "the guard is misconfigured: " + h.ConfigErr.Error(), FailedCheck: "config", Err: h.ConfigErr}
	}
	d = Decide(work, job, h.Checks)
	if !d.Passed && work.Err() != nil {
		d.Message = fmt.Sprintf("out of time (budget %s: the Lambda's remaining time less a %s reserve): %s",
			budget.Round(time.Millisecond), reserve, d.Message)
	}
	return d
}

// Report retry timing: from reportBackoff doubling to maxReportBackoff, until the deadline.
var (
	reportBackoff    = 100 * time.Millisecond
	maxReportBackoff = time.Second
)

// report sends the decision, retrying a transient failure (throttling, a 5xx, a broken
// connection) until ctx's deadline: a decision that is not reported leaves the job to
// CodePipeline's time-out while queued runs wait behind it. InvalidJobStateException means
// the job no longer accepts a result: after an earlier attempt, that attempt landed (its
// answer was lost); on the first, an earlier invocation reported it. Either way, done.
func (h *Handler) report(ctx context.Context, jobID string, d Decision) error {
	wait := reportBackoff
	for attempt := 1; ; attempt++ {
		err := h.reportOnce(ctx, jobID, d)
		switch {
		case err == nil:
			return nil
		case errorCode(err) == "InvalidJobStateException":
			return nil
		case !transient(err) || ctx.Err() != nil:
			return fmt.Errorf("report job %s (passed=%t) after %d attempt(s): %w", jobID, d.Passed, attempt, err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("report job %s (passed=%t): out of time after %d attempt(s): %w", jobID, d.Passed, attempt, err)
		}
		wait = min(2*wait, maxReportBackoff)
	}
}

// transient tells whether a report attempt may succeed if sent again: what the SDK retries
// (a 5xx status, a broken connection, throttling) and the service-side codes that say so.
func transient(err error) bool {
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err).Bool() ||
		isThrottling(errorCode(err)) || transientCodes[errorCode(err)]
}

var transientCodes = map[string]bool{
	"ServiceUnavailableException": true, "ServiceUnavailable": true, "InternalFailure": true,
	"InternalServerError": true, "InternalServiceError": true, "RequestTimeout": true, "RequestTimeoutException": true,
}

func (h *Handler) reportOnce(ctx context.Context, jobID string, d Decision) error {
	var err error
	if d.Passed {
		_, err = h.Reporter.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{
			JobId:           aws.String(jobID),
			OutputVariables: d.Outputs,
		})
	} else {
		_, err = h.Reporter.PutJobFailureResult(ctx, &codepipeline.PutJobFailureResultInput{
			JobId: aws.String(jobID),
			FailureDetails: &types.FailureDetails{
				Type:    types.FailureTypeJobFailed,
				Message: aws.String(d.Message),
			},
		})
	}
	return err
}
