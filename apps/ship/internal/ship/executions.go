package ship

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// Execution is one pipeline run as ship shows it: the guard's own reading of a run, so
// that ship and the guard agree on its commit (the pipeline's own source action only) and
// on whether it is a rollback.
type Execution = gate.Execution

// eachExecution calls fn for the pipeline's runs, newest first, until fn returns false or the
// history ends, through gate.EachExecution: the guard's own pager, so ship reads history
// exactly as the guard does and never claims more than it read (gate.ErrHistoryBound).
func eachExecution(ctx context.Context, c executionLister, pipeline string, pageSize int32, maxPages int, fn func(Execution) bool) error {
	read := 0
	_, err := gate.EachExecution(ctx, c, pipeline, pageSize, maxPages, func(e Execution) bool {
		read++
		return fn(e)
	})
	if errors.Is(err, gate.ErrHistoryBound) {
		return fmt.Errorf("pipeline %s: searched the %d newest executions: %w", pipeline, read, gate.ErrHistoryBound)
	}
	return err
}

// newestDeployed is the newest run that left its commit deployed (gate.Deployed: a
// Succeeded run, a rollback's included): what the environment runs now. nil if none.
func (x *session) newestDeployed(ctx context.Context, c executionLister, pipeline string) (*Execution, error) {
	var found *Execution
	err := eachExecution(ctx, c, pipeline, org.HistoryPageSize, x.s.Path.Settings.HistoryPages, func(e Execution) bool {
		if gate.Deployed(e) {
			found = &e
			return false
		}
		return true
	})
	return found, err
}

// previousPassed is the newest run that passed a commit other than except, by the guard's
// rule for one run (gate.Judge): a STANDARD run that succeeded. nil if there is none.
func (x *session) previousPassed(ctx context.Context, c executionLister, pipeline, except string) (*Execution, error) {
	var found *Execution
	err := eachExecution(ctx, c, pipeline, org.HistoryPageSize, x.s.Path.Settings.HistoryPages, func(e Execution) bool {
		if e.Commit != "" && e.Commit != except && gate.Judge(e, e.Commit) == gate.Passes {
			found = &e
			return false
		}
		return true
	})
	return found, err
}

// recentExecutions is the newest limit runs of the pipeline.
func recentExecutions(ctx context.Context, c executionLister, pipeline string, limit int) ([]Execution, error) {
	var out []Execution
	// Twice the pages a full answer needs: a server may return short pages. If even that
	// is not enough, show what was read; history is for reading, it decides nothing.
	pages := 2*((limit+org.HistoryPageSize-1)/org.HistoryPageSize) + 1
	err := eachExecution(ctx, c, pipeline, int32(min(limit, org.HistoryPageSize)), pages, func(e Execution) bool {
		out = append(out, e)
		return len(out) < limit
	})
	if errors.Is(err, gate.ErrHistoryBound) {
		return out, nil
	}
	return out, err
}

// Approval is a manual approval waiting for a decision.
type Approval struct {
	// Stage and Action name the approval action in the pipeline.
	Stage, Action string
	// Since is when the approval started waiting.
	Since time.Time
}

// pendingApprovals reads the pipeline's live state. GetPipelineState does not say an
// action's category, but only an approval action carries a token while it is InProgress
// (the token PutApprovalResult needs), so that is how an approval is recognised without
// a second call (GetPipeline) and a second permission.
func pendingApprovals(ctx context.Context, c Pipelines, pipeline string) ([]Approval, error) {
	out, err := c.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String(pipeline)})
	if err != nil {
		return nil, fmt.Errorf("get state of pipeline %s: %w", pipeline, err)
	}
	var as []Approval
	for _, st := range out.StageStates {
		for _, a := range st.ActionStates {
			x := a.LatestExecution
			if x == nil || x.Status != types.ActionExecutionStatusInProgress || aws.ToString(x.Token) == "" {
				continue
			}
			ap := Approval{Stage: aws.ToString(st.StageName), Action: aws.ToString(a.ActionName)}
			if x.LastStatusChange != nil {
				ap.Since = x.LastStatusChange.UTC()
			}
			as = append(as, ap)
		}
	}
	return as, nil
}
