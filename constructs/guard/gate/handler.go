package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
		log.Error("cannot report on this event: no job id; CodePipeline will time the job out", "err", perr, "event", limit(string(event), 500))
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

	var d Decision
	switch {
	case perr != nil:
		d = Decision{Message: perr.Error(), FailedCheck: "job", Err: perr}
	case h.ConfigErr != nil:
		d = Decision{Message: "the guard is misconfigured: " + h.ConfigErr.Error(), FailedCheck: "config", Err: h.ConfigErr}
	default:
		d = Decide(work, job, h.Checks)
		if !d.Passed && work.Err() != nil {
			d.Message = fmt.Sprintf("out of time (budget %s: the Lambda's remaining time less a %s reserve): %s",
				budget.Round(time.Millisecond), reserve, d.Message)
		}
	}
	d.Message = limit(d.Message, maxMessage)

	// A fresh context for the report: the work context may have run out, the Lambda's has not.
	rctx, rcancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer rcancel()
	err := h.report(rctx, job.ID, d)
	log.Info("decision", "passed", d.Passed, "check", d.FailedCheck, "message", d.Message,
		"elapsed", time.Since(start).Round(time.Millisecond).String(), "reportErr", err)
	return err
}

func (h *Handler) report(ctx context.Context, jobID string, d Decision) error {
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
	if err == nil {
		return nil
	}
	if errorCode(err) == "InvalidJobStateException" {
		// The job was already reported (a retried invocation): nothing left to do.
		return nil
	}
	return fmt.Errorf("report job %s (passed=%t): %w", jobID, d.Passed, err)
}
