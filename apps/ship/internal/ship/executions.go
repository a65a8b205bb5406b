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
)

// Execution is one pipeline run as ship shows it.
type Execution struct {
	// ID is the pipeline execution id, as the console and the AWS CLI show it.
	ID string
	// Commit is the source revision the run built or deployed.
	Commit string
	// Status is CodePipeline's: InProgress, Stopped, Stopping, Succeeded, Superseded, Failed.
	Status  string
	Started time.Time
	// Updated is when the run last changed state: for a Succeeded run, when it succeeded.
	Updated time.Time
}

func fromSummary(s types.PipelineExecutionSummary) Execution {
	e := Execution{ID: aws.ToString(s.PipelineExecutionId), Status: string(s.Status)}
	// The path's pipeline has one source, the environment's repository; like the guard,
	// take the first revision.
	if len(s.SourceRevisions) > 0 {
		e.Commit = aws.ToString(s.SourceRevisions[0].RevisionId)
	}
	if s.StartTime != nil {
		e.Started = s.StartTime.UTC()
	}
	if s.LastUpdateTime != nil {
		e.Updated = s.LastUpdateTime.UTC()
	}
	return e
}

// eachExecution calls fn for the pipeline's runs, newest first, until fn returns false or the
// history ends, through gate.EachExecution: the guard's own pager, so ship reads history
// exactly as the guard does and never claims more than it read (gate.ErrHistoryBound).
func eachExecution(ctx context.Context, c executionLister, pipeline string, pageSize int32, maxPages int, fn func(Execution) bool) error {
	_, err := gate.EachExecution(ctx, c, pipeline, pageSize, maxPages, func(s types.PipelineExecutionSummary) bool {
		return fn(fromSummary(s))
	})
	if errors.Is(err, gate.ErrHistoryBound) {
		return fmt.Errorf("pipeline %s: searched the newest %d executions: %w", pipeline, maxPages*int(pageSize), gate.ErrHistoryBound)
	}
	return err
}

// newestSucceeded is the newest Succeeded run whose commit is not except ("" excludes
// nothing): the deployed commit, or with except the one before it. nil if there is none.
func newestSucceeded(ctx context.Context, c executionLister, pipeline, except string) (*Execution, error) {
	var found *Execution
	err := eachExecution(ctx, c, pipeline, gate.PageSize, gate.DefaultMaxPages, func(e Execution) bool {
		if e.Status == string(types.PipelineExecutionStatusSucceeded) && e.Commit != "" && e.Commit != except {
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
	pages := 2*((limit+gate.PageSize-1)/gate.PageSize) + 1
	err := eachExecution(ctx, c, pipeline, int32(min(limit, gate.PageSize)), pages, func(e Execution) bool {
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
