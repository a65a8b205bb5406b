package runs

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/codecommit/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"

	"github.com/platform-eng/pathtoprod/constructs/dora"
)

// maxRemembered bounds each memo: past it, the memo starts over (a warm function never
// grows without bound).
const maxRemembered = 20000

// RememberActions wraps l so that a warm function asks CodePipeline only once about each
// run's action executions while the run does not change. dora.Read asks only about Failed or
// Stopped runs, one call per run (100 for a busy 90-day range), and a finished run's actions
// change only if someone retries it, which changes its lastUpdateTime: the answer is kept
// for the run as last listed (the history pages, which every view reads first, say when
// each run last changed). The next views, a refresh a minute later, read only the pages.
func RememberActions(l dora.Lister) dora.Lister {
	return &actionMemo{Lister: l, seen: map[actionKey]*codepipeline.ListActionExecutionsOutput{}, updated: map[string]time.Time{}}
}

type actionKey struct {
	pipeline, execution, token string
	updated                    time.Time
}

type actionMemo struct {
	dora.Lister
	mu      sync.Mutex
	seen    map[actionKey]*codepipeline.ListActionExecutionsOutput
	updated map[string]time.Time // pipeline + "/" + execution id -> its lastUpdateTime as last listed
}

func (m *actionMemo) ListPipelineExecutions(ctx context.Context, in *codepipeline.ListPipelineExecutionsInput, optFns ...func(*codepipeline.Options)) (*codepipeline.ListPipelineExecutionsOutput, error) {
	out, err := m.Lister.ListPipelineExecutions(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.updated)+len(out.PipelineExecutionSummaries) > maxRemembered {
		clear(m.updated)
	}
	for _, s := range out.PipelineExecutionSummaries {
		m.updated[aws.ToString(in.PipelineName)+"/"+aws.ToString(s.PipelineExecutionId)] = aws.ToTime(s.LastUpdateTime)
	}
	return out, nil
}

func (m *actionMemo) ListActionExecutions(ctx context.Context, in *codepipeline.ListActionExecutionsInput, optFns ...func(*codepipeline.Options)) (*codepipeline.ListActionExecutionsOutput, error) {
	if in.Filter == nil || aws.ToString(in.Filter.PipelineExecutionId) == "" {
		return m.Lister.ListActionExecutions(ctx, in, optFns...) // not one run's: may change
	}
	k := actionKey{pipeline: aws.ToString(in.PipelineName), execution: aws.ToString(in.Filter.PipelineExecutionId), token: aws.ToString(in.NextToken)}
	m.mu.Lock()
	updated, listed := m.updated[k.pipeline+"/"+k.execution]
	k.updated = updated
	out, ok := m.seen[k]
	m.mu.Unlock()
	if !listed {
		return m.Lister.ListActionExecutions(ctx, in, optFns...) // not seen in the history: nothing to key on
	}
	if ok {
		return out, nil
	}
	out, err := m.Lister.ListActionExecutions(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	m.mu.Lock()
	if len(m.seen) >= maxRemembered {
		clear(m.seen)
	}
	m.seen[k] = out
	m.mu.Unlock()
	return out, nil
}

// RememberCommits wraps g so that a warm function asks CodeCommit only for commits it has
// not read before: a commit's committer date never changes. A commit the repository does
// not have is asked about again (it may be pushed later).
func RememberCommits(g dora.CommitGetter) dora.CommitGetter {
	return &commitMemo{CommitGetter: g, seen: map[commitKey]types.Commit{}}
}

type commitKey struct{ repository, id string }

type commitMemo struct {
	dora.CommitGetter
	mu   sync.Mutex
	seen map[commitKey]types.Commit
}

func (m *commitMemo) BatchGetCommits(ctx context.Context, in *codecommit.BatchGetCommitsInput, optFns ...func(*codecommit.Options)) (*codecommit.BatchGetCommitsOutput, error) {
	repo := aws.ToString(in.RepositoryName)
	out := &codecommit.BatchGetCommitsOutput{}
	var ask []string
	m.mu.Lock()
	for _, id := range in.CommitIds {
		if c, ok := m.seen[commitKey{repo, id}]; ok {
			out.Commits = append(out.Commits, c)
		} else {
			ask = append(ask, id)
		}
	}
	m.mu.Unlock()
	if len(ask) == 0 {
		return out, nil
	}
	q := *in
	q.CommitIds = ask
	res, err := m.CommitGetter.BatchGetCommits(ctx, &q, optFns...)
	if err != nil {
		return res, err
	}
	m.mu.Lock()
	if len(m.seen)+len(res.Commits) > maxRemembered {
		clear(m.seen)
	}
	for _, c := range res.Commits {
		m.seen[commitKey{repo, aws.ToString(c.CommitId)}] = c
	}
	m.mu.Unlock()
	out.Commits = append(out.Commits, res.Commits...)
	out.Errors = res.Errors
	out.ResultMetadata = res.ResultMetadata
	return out, nil
}
