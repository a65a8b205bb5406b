package gate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

// ExecutionLister is the one CodePipeline call the history search needs.
type ExecutionLister interface {
	ListPipelineExecutions(ctx context.Context, in *codepipeline.ListPipelineExecutionsInput, optFns ...func(*codepipeline.Options)) (*codepipeline.ListPipelineExecutionsOutput, error)
}

var _ ExecutionLister = (*codepipeline.Client)(nil)

// DefaultMaxPages bounds the history read: 10 pages of 100 executions.
const DefaultMaxPages = 10

// PageSize is the number of executions asked for per ListPipelineExecutions call (the API maximum).
const PageSize = 100

// Execution is one upstream pipeline execution as far as the decision cares.
type Execution struct {
	ID     string
	Commit string
	Status string
	// At is when the execution last changed state: for a Succeeded one, when it succeeded.
	At time.Time
}

// Verdict is the outcome of a completed search.
type Verdict struct {
	// Passed is true when a Succeeded execution of the commit was found.
	Passed bool
	// Match is that execution (the newest one, if there are several).
	Match Execution
	// NewestSuccess is the newest Succeeded execution seen, of any commit (nil if none).
	NewestSuccess *Execution
	// Calls is the number of ListPipelineExecutions calls made.
	Calls int
}

// ErrHistoryBound means the commit was not found within maxPages and more history exists:
// the search cannot tell "never passed" from "passed long ago", so it must not pass.
var ErrHistoryBound = errors.New("upstream history is longer than the page bound")

// FindPassed pages through the pipeline's executions, newest first, and stops at the first
// Succeeded execution whose source revision is commit. A full search that finds none
// returns Passed=false; a search cut short by maxPages returns ErrHistoryBound. A maxPages
// below 1 means DefaultMaxPages.
func FindPassed(ctx context.Context, c ExecutionLister, pipeline, commit string, maxPages int) (Verdict, error) {
	var v Verdict
	if commit == "" {
		// An execution without source revisions has Commit "": never let that match.
		return v, errors.New("find passed executions: empty commit id")
	}
	maxPages = maxPagesOrDefault(maxPages)
	calls, err := EachExecution(ctx, c, pipeline, PageSize, maxPages, func(s types.PipelineExecutionSummary) bool {
		if s.Status != types.PipelineExecutionStatusSucceeded {
			return true
		}
		e := summaryToExecution(s, commit)
		if v.NewestSuccess == nil {
			first := e
			v.NewestSuccess = &first
		}
		if e.Commit == commit {
			v.Passed, v.Match = true, e
			return false
		}
		return true
	})
	v.Calls = calls
	if errors.Is(err, ErrHistoryBound) {
		return v, fmt.Errorf("commit %s not found in the newest %d executions of pipeline %s: %w",
			Short(commit), maxPages*PageSize, pipeline, ErrHistoryBound)
	}
	return v, err
}

// EachExecution calls fn with the pipeline's executions, newest first, until fn returns
// false or the history ends, reading at most maxPages pages of pageSize executions. When
// the bound stops it before either, it returns ErrHistoryBound: a caller must not treat what
// it did not read as absent. It returns the number of ListPipelineExecutions calls made.
// The guard's FindPassed and the ship CLI both page through history with it.
func EachExecution(ctx context.Context, c ExecutionLister, pipeline string, pageSize int32, maxPages int,
	fn func(types.PipelineExecutionSummary) bool) (calls int, err error) {
	var token *string
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
			if !fn(s) {
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

func maxPagesOrDefault(n int) int {
	if n < 1 {
		return DefaultMaxPages
	}
	return n
}

// summaryToExecution picks the revision that matches commit if any source revision does
// (a pipeline may have several sources), else the first one.
func summaryToExecution(s types.PipelineExecutionSummary, commit string) Execution {
	e := Execution{ID: aws.ToString(s.PipelineExecutionId), Status: string(s.Status)}
	if s.LastUpdateTime != nil {
		e.At = s.LastUpdateTime.UTC()
	}
	for i, r := range s.SourceRevisions {
		id := aws.ToString(r.RevisionId)
		if i == 0 || id == commit {
			e.Commit = id
		}
		if id == commit {
			break
		}
	}
	return e
}

// Reason says, for a person, why a commit that did not pass may not run; upstreamEnv is the
// upstream environment's name, e.g. "commit 1a2b3c4 has not passed stg (newest success
// there: 9f8e7d6 at 2026-11-20T10:00:00Z)".
func (v Verdict) Reason(commit, upstreamEnv string) string {
	if v.Passed {
		return fmt.Sprintf("commit %s passed %s in execution %s at %s",
			Short(commit), upstreamEnv, v.Match.ID, v.Match.At.Format(time.RFC3339))
	}
	if v.NewestSuccess == nil {
		return fmt.Sprintf("commit %s has not passed %s (no successful run there yet)", Short(commit), upstreamEnv)
	}
	return fmt.Sprintf("commit %s has not passed %s (newest success there: %s at %s)",
		Short(commit), upstreamEnv, Short(v.NewestSuccess.Commit), v.NewestSuccess.At.Format(time.RFC3339))
}

// Short is the 7-character abbreviation of a commit id that people read.
func Short(commit string) string {
	if len(commit) > 7 {
		return commit[:7]
	}
	return commit
}
