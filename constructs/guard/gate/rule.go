package gate

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// Execution is one pipeline execution as the rule reads it.
type Execution struct {
	// ID is the pipeline execution id.
	ID string
	// Commit is the revision of the pipeline's own source action (org.SourceActionName),
	// or "" when the execution has none.
	Commit string
	// Status is CodePipeline's: InProgress, Stopped, Stopping, Succeeded, Superseded,
	// Failed, Cancelled.
	Status string
	// Type is STANDARD or ROLLBACK ("" when CodePipeline did not say, e.g. a V1 pipeline).
	Type string
	// RollbackTarget is, for a ROLLBACK execution, the execution it rolled back to.
	RollbackTarget string
	// Started is when the execution started.
	Started time.Time
	// At is when the execution last changed state: for a finished one, when it finished.
	At time.Time
}

// Rollback reports whether e is a ROLLBACK execution.
func (e Execution) Rollback() bool {
	return e.Type == string(types.ExecutionTypeRollback) || e.RollbackTarget != ""
}

// FromSummary reads one ListPipelineExecutions summary. Only the revision of the source
// action named org.SourceActionName counts as the execution's commit.
func FromSummary(s types.PipelineExecutionSummary) Execution {
	e := Execution{
		ID:     aws.ToString(s.PipelineExecutionId),
		Status: string(s.Status),
		Type:   string(s.ExecutionType),
	}
	if s.RollbackMetadata != nil {
		e.RollbackTarget = aws.ToString(s.RollbackMetadata.RollbackTargetPipelineExecutionId)
	}
	if s.StartTime != nil {
		e.Started = s.StartTime.UTC()
	}
	if s.LastUpdateTime != nil {
		e.At = s.LastUpdateTime.UTC()
	}
	for _, r := range s.SourceRevisions {
		if aws.ToString(r.ActionName) == org.SourceActionName {
			e.Commit = aws.ToString(r.RevisionId)
			break
		}
	}
	return e
}

// Outcome is what one execution says about a commit.
type Outcome int

const (
	// Skip: the execution says nothing about the commit (another commit, a ROLLBACK run,
	// one without a verdict yet). Keep reading older history.
	Skip Outcome = iota
	// Passes: a STANDARD execution of the commit succeeded.
	Passes
	// Withdraws: a STANDARD execution of the commit failed or was stopped, and no newer one
	// succeeded: the commit has not passed.
	Withdraws
)

// Judge is the promotion rule for one execution, read newest first: the first execution
// whose outcome is not Skip decides whether commit passed. See the package documentation.
func Judge(e Execution, commit string) Outcome {
	if commit == "" || e.Commit != commit || e.Rollback() {
		return Skip
	}
	switch types.PipelineExecutionStatus(e.Status) {
	case types.PipelineExecutionStatusSucceeded:
		return Passes
	case types.PipelineExecutionStatusFailed, types.PipelineExecutionStatusStopped:
		return Withdraws
	default:
		return Skip
	}
}

// Deployed reports whether e is an execution whose revision is now deployed, as far as it
// knows: a Succeeded execution with a commit, STANDARD or ROLLBACK (a rollback redeploys
// its target's commit). The newest such execution is what an environment runs.
func Deployed(e Execution) bool {
	return e.Commit != "" && e.Status == string(types.PipelineExecutionStatusSucceeded)
}
