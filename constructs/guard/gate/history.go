package gate

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// ExecutionLister is the one CodePipeline call the history search needs.
type ExecutionLister interface {
	ListPipelineExecutions(ctx context.Context, in *codepipeline.ListPipelineExecutionsInput, optFns ...func(*codepipeline.Options)) (*codepipeline.ListPipelineExecutionsOutput, error)
}

var _ ExecutionLister = (*codepipeline.Client)(nil)

// ErrHistoryBound means the search read its whole page bound without reaching a verdict or
// the end of the history: what it did not read cannot be taken as absent.
var ErrHistoryBound = errors.New("upstream history is longer than the page bound")

// Verdict is the outcome of a completed search.
type Verdict struct {
	// Passed is true when the deciding execution of the commit succeeded.
	Passed bool
	// Match is the deciding execution: the Succeeded one on a pass, the Failed, Stopped or
	// rolled-back one that withdrew the pass otherwise (zero when no execution of the
	// commit decided).
	Match Execution
	// RolledBackBy is, when Match was rolled back, the ROLLBACK execution that did it
	// (Match.RolledBackBy), as read; nil otherwise.
	RolledBackBy *Execution
	// NewestPass is the newest execution that passed any commit (nil if none was read):
	// what the environment last let through, for messages.
	NewestPass *Execution
	// Read is the number of executions read.
	Read int
	// Calls is the number of ListPipelineExecutions calls made.
	Calls int
}

// Withdrawn reports whether a Failed, Stopped or rolled-back execution of the commit decided.
func (v Verdict) Withdrawn() bool { return !v.Passed && v.Match.ID != "" }

// FindPassed reads the pipeline's executions newest first (through EachExecution, which
// marks the rolled-back ones), applying Judge to each, and stops at the first that decides. A search that reaches the end of the history without a
// verdict returns Passed=false; one cut short by maxPages returns ErrHistoryBound, with the
// number of executions read. maxPages below 1 means org.DefaultHistoryPages.
func FindPassed(ctx context.Context, c ExecutionLister, pipeline, commit string, maxPages int) (Verdict, error) {
	var v Verdict
	if commit == "" {
		return v, errors.New("find passed executions: empty commit id")
	}
	if maxPages < 1 {
		maxPages = org.DefaultHistoryPages
	}
	rollbacks := map[string]Execution{} // the ROLLBACK executions read, by id, for the verdict
	calls, err := EachExecution(ctx, c, pipeline, org.HistoryPageSize, maxPages, func(e Execution) bool {
		v.Read++
		if e.Rollback() {
			rollbacks[e.ID] = e
		}
		if v.NewestPass == nil && e.Commit != "" && Judge(e, e.Commit) == Passes {
			first := e
			v.NewestPass = &first
		}
		switch Judge(e, commit) {
		case Passes:
			v.Passed, v.Match = true, e
			return false
		case Withdraws:
			v.Match = e
			if r, ok := rollbacks[e.RolledBackBy]; ok && e.RolledBack() {
				v.RolledBackBy = &r
			}
			return false
		}
		return true
	})
	v.Calls = calls
	if errors.Is(err, ErrHistoryBound) {
		return v, &HistoryBoundError{Commit: commit, Pipeline: pipeline, Read: v.Read, Pages: calls}
	}
	return v, err
}

// HistoryBoundError is ErrHistoryBound with what was read.
type HistoryBoundError struct {
	Commit, Pipeline string
	// Read is how many executions were read, Pages in how many calls.
	Read, Pages int
}

func (e *HistoryBoundError) Error() string {
	return fmt.Sprintf("commit %s not found in the %d newest executions of pipeline %s (read in %d pages; older history exists)",
		Short(e.Commit), e.Read, e.Pipeline, e.Pages)
}

// Unwrap makes errors.Is(err, ErrHistoryBound) true.
func (e *HistoryBoundError) Unwrap() error { return ErrHistoryBound }

// EachExecution calls fn with the pipeline's executions, newest first, until fn returns
// false or the history ends, reading at most maxPages pages of pageSize executions. Each
// execution fn sees has RolledBackBy set from everything read before it, from the newest
// execution on (Rollbacks), so a rollback on page 1 marks what it undid on page 3. When
// the bound stops it before either, it returns ErrHistoryBound: a caller must not treat what
// it did not read as absent. It returns the number of ListPipelineExecutions calls made.
// FindPassed and the ship CLI both page through history with it.
func EachExecution(ctx context.Context, c ExecutionLister, pipeline string, pageSize int32, maxPages int,
	fn func(Execution) bool) (calls int, err error) {
	var token *string
	var rollbacks Rollbacks
	for page := 0; page < maxPages; page++ {
		out, err := c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{
			PipelineName: aws.String(pipeline),
			MaxResults:   aws.Int32(pageSize),
			NextToken:    token,
		})
		calls++
		if err != nil {
			return calls, fmt.Errorf("list executions of pipeline %s: %w", pipeline, err)
		}
		for _, s := range out.PipelineExecutionSummaries {
			if !fn(rollbacks.Mark(FromSummary(s))) {
				return calls, nil
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return calls, nil
		}
		token = out.NextToken
	}
	return calls, ErrHistoryBound
}
