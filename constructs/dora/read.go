package dora

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// Lister is the part of CodePipeline Read uses: the history, and a failed run's action
// executions (did its Deploy stage start?).
type Lister interface {
	gate.ExecutionLister
	ListActionExecutions(ctx context.Context, in *codepipeline.ListActionExecutionsInput, optFns ...func(*codepipeline.Options)) (*codepipeline.ListActionExecutionsOutput, error)
}

var _ Lister = (*codepipeline.Client)(nil)

// DeployStage is the stage whose start makes a failed run a failed deployment: the
// environment pipeline's Deploy stage (envpipeline.StageDeploy; not imported, to keep
// this package free of jsii).
const DeployStage = "Deploy"

// ReadOptions says what Read reads.
type ReadOptions struct {
	// Pipeline is the pipeline's name.
	Pipeline string
	// Window is the span the metrics will cover.
	Window Window
	// MaxPages bounds the read, in pages of org.HistoryPageSize runs. Default (below 1):
	// org.DefaultHistoryPages. Pass the organisation's settings.historyPages.
	MaxPages int
	// DeployStage names the deploy stage. Default: DeployStage.
	DeployStage string
}

// Read reads the history the metrics of o.Window need (see the package documentation):
// newest first, to the newest run that left a commit deployed before the window opened,
// the end of the history, or the bound (History.Bounded). For each Failed or Stopped
// STANDARD run that finished inside the window it asks whether its Deploy stage started
// (ListActionExecutions, one call a page).
func Read(ctx context.Context, c Lister, o ReadOptions) (History, error) {
	if o.MaxPages < 1 {
		o.MaxPages = org.DefaultHistoryPages
	}
	if o.DeployStage == "" {
		o.DeployStage = DeployStage
	}
	h := History{Pipeline: o.Pipeline}
	t := &triggers{ExecutionLister: c, of: map[string]string{}}
	calls, err := gate.EachExecution(ctx, t, o.Pipeline, org.HistoryPageSize, o.MaxPages, func(e gate.Execution) bool {
		h.Runs = append(h.Runs, Run{Execution: e, Trigger: t.of[e.ID]})
		h.Oldest = e.Started
		return !(gate.Deployed(e) && e.At.Before(o.Window.From))
	})
	h.Calls = calls
	switch {
	case errors.Is(err, gate.ErrHistoryBound):
		h.Bounded = true
	case err != nil:
		return h, err
	}
	// The probes are independent: a few at a time, so a window with many failures does not
	// cost one round trip after another (a busy 90 days can hold a hundred).
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		slots = make(chan struct{}, probeParallel)
	)
	for i, r := range h.Runs {
		if r.Rollback() || !o.Window.Contains(r.At) ||
			(r.Status != string(types.PipelineExecutionStatusFailed) && r.Status != string(types.PipelineExecutionStatusStopped)) {
			continue
		}
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			reached, n, err := reachedStage(ctx, c, o.Pipeline, r.ID, o.DeployStage)
			mu.Lock()
			defer mu.Unlock()
			h.Calls += n
			h.Runs[i].ReachedDeploy = reached
			if err != nil && first == nil {
				first = err
			}
		}()
	}
	wg.Wait()
	return h, first
}

// probeParallel is how many of one history's runs Read asks about at once.
const probeParallel = 4

// reachedStage says whether run has an action execution in stage.
func reachedStage(ctx context.Context, c Lister, pipeline, run, stage string) (bool, int, error) {
	var token *string
	calls := 0
	for {
		out, err := c.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{
			PipelineName: aws.String(pipeline),
			Filter:       &types.ActionExecutionFilter{PipelineExecutionId: aws.String(run)},
			NextToken:    token,
		})
		calls++
		if err != nil {
			return false, calls, fmt.Errorf("list action executions of run %s of pipeline %s: %w", run, pipeline, err)
		}
		for _, a := range out.ActionExecutionDetails {
			if aws.ToString(a.StageName) == stage {
				return true, calls, nil
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return false, calls, nil
		}
		token = out.NextToken
	}
}

// triggers keeps each run's triggerType as the pages go by: gate.Execution has no use for
// it, the metrics tell an automatic rollback from a person's by it.
type triggers struct {
	gate.ExecutionLister
	of map[string]string
}

func (t *triggers) ListPipelineExecutions(ctx context.Context, in *codepipeline.ListPipelineExecutionsInput, optFns ...func(*codepipeline.Options)) (*codepipeline.ListPipelineExecutionsOutput, error) {
	out, err := t.ExecutionLister.ListPipelineExecutions(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	for _, s := range out.PipelineExecutionSummaries {
		if s.Trigger != nil {
			t.of[aws.ToString(s.PipelineExecutionId)] = string(s.Trigger.TriggerType)
		}
	}
	return out, nil
}

// CommitGetter is the part of CodeCommit CommitTimes uses.
type CommitGetter interface {
	BatchGetCommits(ctx context.Context, in *codecommit.BatchGetCommitsInput, optFns ...func(*codecommit.Options)) (*codecommit.BatchGetCommitsOutput, error)
}

var _ CommitGetter = (*codecommit.Client)(nil)

// batchGetCommitsMax is BatchGetCommits' limit of commit ids per call.
const batchGetCommitsMax = 100

// CommitTimes reads the committer dates of commits from the CodeCommit repository, in
// calls of up to 100 ids. A commit the repository does not have (BatchGetCommits lists it
// as an error) is left out: its time is unknown. It returns the calls made.
func CommitTimes(ctx context.Context, c CommitGetter, repository string, commits []string) (map[string]time.Time, int, error) {
	out := map[string]time.Time{}
	calls := 0
	for start := 0; start < len(commits); start += batchGetCommitsMax {
		ids := commits[start:min(start+batchGetCommitsMax, len(commits))]
		res, err := c.BatchGetCommits(ctx, &codecommit.BatchGetCommitsInput{RepositoryName: aws.String(repository), CommitIds: ids})
		calls++
		if err != nil {
			return out, calls, fmt.Errorf("read commit times from repository %s: %w", repository, err)
		}
		for _, cm := range res.Commits {
			if cm.Committer == nil {
				continue
			}
			t, err := ParseGitDate(aws.ToString(cm.Committer.Date))
			if err != nil {
				return out, calls, fmt.Errorf("repository %s, commit %s: %w", repository, aws.ToString(cm.CommitId), err)
			}
			out[aws.ToString(cm.CommitId)] = t
		}
	}
	return out, calls, nil
}

// ParseGitDate reads a date as git writes it in a commit object and CodeCommit returns it:
// seconds since the epoch and the zone offset, e.g. "1484167798 -0800".
func ParseGitDate(s string) (time.Time, error) {
	// The instant is the seconds; the zone only says where the committer's clock was.
	secs, _, _ := strings.Cut(strings.TrimSpace(s), " ")
	n, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("commit date %q: want git's \"<seconds since 1970> <zone>\", e.g. \"1484167798 -0800\"", s)
	}
	return time.Unix(n, 0).UTC(), nil
}
