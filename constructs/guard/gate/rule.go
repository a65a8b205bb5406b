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
	// RolledBackBy is, for a STANDARD execution, the id of a ROLLBACK execution that rolled
	// it back ("" if none did): one that started after it, with a target that started
	// before it. A summary alone cannot say (FromSummary leaves it ""): the pager
	// (EachExecution, so FindPassed too) sets it from the newer history through Rollbacks.
	// A caller that builds Executions by hand sets it, or runs them through Rollbacks.
	RolledBackBy string
	// Started is when the execution started.
	Started time.Time
	// At is when the execution last changed state: for a finished one, when it finished.
	At time.Time
}

// RolledBack reports whether a ROLLBACK execution rolled e back (RolledBackBy is set).
func (e Execution) RolledBack() bool { return e.RolledBackBy != "" }

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
	// Passes: a STANDARD execution of the commit succeeded and was not rolled back.
	Passes
	// Withdraws: a STANDARD execution of the commit failed, was stopped, or succeeded and
	// was then rolled back, and no newer one succeeded: the commit has not passed.
	Withdraws
)

// Judge is the promotion rule for one execution, read newest first: the first execution
// whose outcome is not Skip decides whether commit passed. A rolled-back execution
// (RolledBackBy set) counts as a Failed one, whatever status CodePipeline gave it. See the
// package documentation.
func Judge(e Execution, commit string) Outcome {
	if commit == "" || e.Commit != commit || e.Rollback() {
		return Skip
	}
	switch types.PipelineExecutionStatus(e.Status) {
	case types.PipelineExecutionStatusSucceeded:
		if e.RolledBack() {
			return Withdraws
		}
		return Passes
	case types.PipelineExecutionStatusFailed, types.PipelineExecutionStatusStopped:
		return Withdraws
	default:
		return Skip
	}
}

// Deployed reports whether e is an execution whose revision is now deployed, as far as it
// knows: a Succeeded execution with a commit, STANDARD or ROLLBACK (a rollback redeploys
// its target's commit, and its summary carries that commit), unless a rollback undid it
// (RolledBackBy). Read newest first, the first such execution is what an environment runs.
func Deployed(e Execution) bool {
	return e.Commit != "" && e.Status == string(types.PipelineExecutionStatusSucceeded) && !e.RolledBack()
}

// Rollbacks finds the STANDARD executions that a ROLLBACK execution rolled back, reading a
// pipeline's history newest first. A STANDARD execution E is rolled back when a ROLLBACK
// execution R started after it and R's target T started before it: read newest first, E
// comes after R and before T. T itself is not rolled back: it is what R restored.
//
// A ROLLBACK execution that does not name its target (no rollbackMetadata) is taken
// conservatively: every STANDARD execution after it, up to and including the next
// Succeeded one, counts as rolled back. The restore point CodePipeline chose is an
// execution that succeeded in the rolled-back stage, but the execution it rolled back may
// itself show Succeeded (an alarm after the stage succeeded), so the first older success
// cannot be taken for the restore point: the restore point is taken to be older still.
// This may refuse the commit of that first success when it was in fact the restore point
// (after an OnFailure rollback): it fails closed.
//
// A rollback counts whatever its own status (InProgress, Failed, ...): that it started at
// all means the stage's deploy was being undone.
//
// The zero value is ready to use. Feed it every execution, newest first, starting at the
// newest: what it did not see cannot mark anything.
type Rollbacks struct {
	pending []pendingRollback // in the order read; the last is the nearest to what is read now
}

type pendingRollback struct {
	by     string // the ROLLBACK execution's id
	target string // its target's id; "" when it named none
}

// Mark returns e with RolledBackBy set to the ROLLBACK execution that rolled it back, the
// nearest (oldest) of those that cover it, when one read before it does, and remembers e
// when it is a ROLLBACK execution itself. It never clears a RolledBackBy e already has.
func (r *Rollbacks) Mark(e Execution) Execution {
	// The restore point ends every rollback to it, before it is judged: T is not rolled back.
	kept := r.pending[:0]
	for _, p := range r.pending {
		if p.target == "" || p.target != e.ID {
			kept = append(kept, p)
		}
	}
	r.pending = kept
	if e.Rollback() {
		r.pending = append(r.pending, pendingRollback{by: e.ID, target: e.RollbackTarget})
		return e
	}
	if len(r.pending) == 0 {
		return e
	}
	e.RolledBackBy = r.pending[len(r.pending)-1].by
	if e.Status == string(types.PipelineExecutionStatusSucceeded) {
		// The nearest rollback without a target ends here, this execution included.
		for i := len(r.pending) - 1; i >= 0; i-- {
			if r.pending[i].target == "" {
				r.pending = append(r.pending[:i], r.pending[i+1:]...)
				break
			}
		}
	}
	return e
}
