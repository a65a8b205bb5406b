package handler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
)

// UpstreamCheck passes when the commit passed the upstream environment, as gate.FindPassed
// decides (the one rule the ship CLI uses too). It reads through Lister, which in the Lambda
// is a CodePipeline client signed with the assumed upstream read-only role.
type UpstreamCheck struct {
	// Lister reads the upstream pipeline's executions.
	Lister gate.ExecutionLister
	// Environment is the upstream environment's name, for messages ("stg").
	Environment string
	// Pipeline is the upstream pipeline's name.
	Pipeline string
	// RoleARN is the assumed read-only role, for messages.
	RoleARN string
	// Region is the upstream region, for messages.
	Region string
	// MaxPages bounds the history read (org.Settings.HistoryPages). Default: org.DefaultHistoryPages.
	MaxPages int
}

// Name is "upstream".
func (u *UpstreamCheck) Name() string { return "upstream" }

// Check asks gate.FindPassed whether job.Commit passed upstream; on a pass it outputs
// UpstreamExecutionId and UpstreamSucceededAt.
func (u *UpstreamCheck) Check(ctx context.Context, job Job) (Result, error) {
	v, err := gate.FindPassed(ctx, u.Lister, u.Pipeline, job.Commit, u.MaxPages)
	if err != nil {
		return Result{}, u.explain(ctx, job, err)
	}
	if !v.Passed {
		return Result{Summary: v.Reason(job.Commit, u.Environment)}, nil
	}
	at := v.Match.At.UTC().Format(time.RFC3339)
	return Result{
		Passed:  true,
		Summary: fmt.Sprintf("it passed %s in execution %s at %s", u.Environment, v.Match.ID, at),
		Outputs: map[string]string{"UpstreamExecutionId": v.Match.ID, "UpstreamSucceededAt": at},
	}, nil
}

func (u *UpstreamCheck) explain(ctx context.Context, job Job, err error) error {
	// An STS fault is an STS fault: the CodePipeline call it was for was never sent.
	var assume *AssumeRoleError
	if errors.As(err, &assume) {
		switch code := errorCode(err); {
		case ctx.Err() == nil && (code == "AccessDenied" || code == "AccessDeniedException"):
			return &CheckError{Err: err, Message: fmt.Sprintf(
				"cannot assume the %s read-only role %s: access denied by STS (%s); the role may be missing, or may not trust this guard's role",
				u.Environment, u.RoleARN, code)}
		default:
			return explain(ctx, fmt.Sprintf("assuming the %s read-only role %s through STS", u.Environment, u.RoleARN), err)
		}
	}
	var bound *gate.HistoryBoundError
	switch code := errorCode(err); {
	case ctx.Err() != nil:
		return explain(ctx, fmt.Sprintf("reading executions of %s pipeline %s", u.Environment, u.Pipeline), err)
	case errors.As(err, &bound):
		return &CheckError{Err: err, Message: fmt.Sprintf(
			"commit %s is not among the %d newest executions of %s pipeline %s that the guard read (%d pages, the bound), and older history exists, so the guard cannot tell whether it ever passed; raise settings.historyPages in the organisation file, or push the commit through %s again",
			gate.Short(job.Commit), bound.Read, u.Environment, u.Pipeline, bound.Pages, u.Environment)}
	case code == "PipelineNotFoundException":
		return &CheckError{Err: err, Message: fmt.Sprintf(
			"pipeline %s does not exist in the %s account (region %s); check %s and %s",
			u.Pipeline, u.Environment, u.Region, EnvUpstreamPipeline, EnvUpstreamRegion)}
	case code == "AccessDeniedException" || code == "AccessDenied":
		return &CheckError{Err: err, Message: fmt.Sprintf(
			"the %s read-only role %s may not list executions of pipeline %s: access denied (%s)",
			u.Environment, u.RoleARN, u.Pipeline, code)}
	default:
		return explain(ctx, fmt.Sprintf("reading executions of %s pipeline %s", u.Environment, u.Pipeline), err)
	}
}
