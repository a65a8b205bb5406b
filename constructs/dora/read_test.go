package dora

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	cctypes "github.com/aws/aws-sdk-go-v2/service/codecommit/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// pipelineFake serves a history (newest first) in pages, and each run's stages' action
// executions; it counts the calls of each kind.
type pipelineFake struct {
	runs   []types.PipelineExecutionSummary
	stages map[string][]string // run id → stages with an action execution
	lists  int
	mu     sync.Mutex
	probes []string // runs whose action executions were asked for (Read asks several at once)
}

func (f *pipelineFake) ListPipelineExecutions(_ context.Context, in *codepipeline.ListPipelineExecutionsInput, _ ...func(*codepipeline.Options)) (*codepipeline.ListPipelineExecutionsOutput, error) {
	f.lists++
	start := 0
	if in.NextToken != nil {
		start, _ = strconv.Atoi(*in.NextToken)
	}
	end := min(start+int(aws.ToInt32(in.MaxResults)), len(f.runs))
	out := &codepipeline.ListPipelineExecutionsOutput{PipelineExecutionSummaries: f.runs[start:end]}
	if end < len(f.runs) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func (f *pipelineFake) ListActionExecutions(_ context.Context, in *codepipeline.ListActionExecutionsInput, _ ...func(*codepipeline.Options)) (*codepipeline.ListActionExecutionsOutput, error) {
	id := aws.ToString(in.Filter.PipelineExecutionId)
	f.mu.Lock()
	f.probes = append(f.probes, id)
	f.mu.Unlock()
	out := &codepipeline.ListActionExecutionsOutput{}
	for _, st := range f.stages[id] {
		out.ActionExecutionDetails = append(out.ActionExecutionDetails, types.ActionExecutionDetail{StageName: aws.String(st)})
	}
	return out, nil
}

func summary(id string, status types.PipelineExecutionStatus, commit string, start, end float64) types.PipelineExecutionSummary {
	return types.PipelineExecutionSummary{
		PipelineExecutionId: aws.String(id), Status: status,
		ExecutionType: types.ExecutionTypeStandard,
		StartTime:     aws.Time(at(start)), LastUpdateTime: aws.Time(at(end)),
		SourceRevisions: []types.SourceRevision{{ActionName: aws.String(org.SourceActionName), RevisionId: aws.String(commit)}},
		Trigger:         &types.ExecutionTrigger{TriggerType: types.TriggerTypeCloudWatchEvent},
	}
}

// hourly is n successful runs, one an hour, newest first: run i (0 = newest) starts at
// hour n-i and ends half an hour later.
func hourly(n int) []types.PipelineExecutionSummary {
	var out []types.PipelineExecutionSummary
	for i := 0; i < n; i++ {
		h := float64(n - i)
		out = append(out, summary(fmt.Sprintf("r%03d", n-i), types.PipelineExecutionStatusSucceeded, fmt.Sprintf("c%03d", n-i), h, h+0.5))
	}
	return out
}

func TestReadStopsAtWhatRanWhenTheWindowOpened(t *testing.T) {
	f := &pipelineFake{runs: hourly(250)}
	// The window opens at +200h: runs 201..250 end inside it; run 200 (ends +200.5h) is
	// inside too; run 199 ends at +199.5h, before: it is what ran when the window opened.
	h, err := Read(context.Background(), f, ReadOptions{Pipeline: "p", Window: Window{From: at(200), To: at(300)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Runs) != 52 || h.Runs[len(h.Runs)-1].ID != "r199" || h.Bounded {
		t.Fatalf("read %d runs, oldest %s, bounded %v; want 52, r199, false", len(h.Runs), h.Runs[len(h.Runs)-1].ID, h.Bounded)
	}
	if h.Calls != 1 || f.lists != 1 || !h.Oldest.Equal(at(199)) {
		t.Fatalf("calls %d (fake saw %d), oldest %v; want 1 page", h.Calls, f.lists, h.Oldest)
	}
	if h.Runs[0].Trigger != string(types.TriggerTypeCloudWatchEvent) {
		t.Fatalf("trigger %q not kept", h.Runs[0].Trigger)
	}
}

func TestReadSaysWhenTheBoundCutItShort(t *testing.T) {
	f := &pipelineFake{runs: hourly(250)}
	h, err := Read(context.Background(), f, ReadOptions{Pipeline: "p", Window: Window{From: at(0), To: at(300)}, MaxPages: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !h.Bounded || len(h.Runs) != 2*org.HistoryPageSize || h.Calls != 2 || !h.Oldest.Equal(at(51)) {
		t.Fatalf("bounded %v, %d runs, %d calls, oldest %v; want the bound after 2 pages, oldest +51h", h.Bounded, len(h.Runs), h.Calls, h.Oldest)
	}
	// The whole history, read to its start, is not bounded.
	h, err = Read(context.Background(), &pipelineFake{runs: hourly(250)}, ReadOptions{Pipeline: "p", Window: Window{From: at(0), To: at(300)}})
	if err != nil || h.Bounded || len(h.Runs) != 250 || h.Calls != 3 {
		t.Fatalf("bounded %v, %d runs, %d calls, err %v; want all 250 in 3 calls", h.Bounded, len(h.Runs), h.Calls, err)
	}
}

func TestReadAsksOnlyAFailedRunInTheWindowWhetherItReachedDeploy(t *testing.T) {
	f := &pipelineFake{
		runs: []types.PipelineExecutionSummary{
			summary("r5", types.PipelineExecutionStatusStopped, "c5", 50, 51),
			summary("r4", types.PipelineExecutionStatusFailed, "c4", 40, 41),
			summary("r3", types.PipelineExecutionStatusSucceeded, "c3", 30, 31),
			summary("r2", types.PipelineExecutionStatusFailed, "c2", 20, 21), // before the window
			summary("r1", types.PipelineExecutionStatusSucceeded, "c1", 10, 11),
		},
		stages: map[string][]string{"r5": {"Source", "Build", "Deploy"}, "r4": {"Source", "Guard"}, "r2": {"Deploy"}},
	}
	h, err := Read(context.Background(), f, ReadOptions{Pipeline: "p", Window: Window{From: at(25), To: at(60)}})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(f.probes)
	if got := strings.Join(f.probes, ","); got != "r4,r5" {
		t.Fatalf("asked about %s, want r4,r5 (failed runs in the window only)", got)
	}
	if !h.Runs[0].ReachedDeploy || h.Runs[1].ReachedDeploy {
		t.Fatalf("reached deploy: r5 %v r4 %v, want true false", h.Runs[0].ReachedDeploy, h.Runs[1].ReachedDeploy)
	}
	if h.Calls != 3 || len(h.Runs) != 5 {
		t.Fatalf("%d calls, %d runs; want 1 page and 2 probes, all 5 runs (r1 ran when the window opened)", h.Calls, len(h.Runs))
	}
	// A different deploy stage name is honoured.
	f.probes = nil
	h, _ = Read(context.Background(), f, ReadOptions{Pipeline: "p", Window: Window{From: at(25), To: at(60)}, DeployStage: "Guard"})
	if h.Runs[0].ReachedDeploy || !h.Runs[1].ReachedDeploy {
		t.Fatal("DeployStage ignored")
	}
}

type listErr struct{ pipelineFake }

func (*listErr) ListPipelineExecutions(context.Context, *codepipeline.ListPipelineExecutionsInput, ...func(*codepipeline.Options)) (*codepipeline.ListPipelineExecutionsOutput, error) {
	return nil, errors.New("AccessDenied")
}

func TestReadReturnsTheListError(t *testing.T) {
	_, err := Read(context.Background(), &listErr{}, ReadOptions{Pipeline: "p", Window: everything})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), "pipeline p") {
		t.Fatalf("err %v", err)
	}
}

// commitFake is a CodeCommit repository: commit id → git date string.
type commitFake struct {
	dates map[string]string
	calls [][]string
}

func (f *commitFake) BatchGetCommits(_ context.Context, in *codecommit.BatchGetCommitsInput, _ ...func(*codecommit.Options)) (*codecommit.BatchGetCommitsOutput, error) {
	if len(in.CommitIds) > 100 {
		return nil, fmt.Errorf("more than 100 ids: %d", len(in.CommitIds))
	}
	f.calls = append(f.calls, in.CommitIds)
	out := &codecommit.BatchGetCommitsOutput{}
	for _, id := range in.CommitIds {
		d, ok := f.dates[id]
		if !ok {
			out.Errors = append(out.Errors, cctypes.BatchGetCommitsError{CommitId: aws.String(id), ErrorCode: aws.String("CommitIdDoesNotExistException")})
			continue
		}
		out.Commits = append(out.Commits, cctypes.Commit{CommitId: aws.String(id), Committer: &cctypes.UserInfo{Date: aws.String(d)}})
	}
	return out, nil
}

func TestCommitTimesReadsInBatchesAndLeavesOutWhatTheRepositoryLacks(t *testing.T) {
	f := &commitFake{dates: map[string]string{}}
	var ids []string
	for i := 0; i < 250; i++ {
		id := fmt.Sprintf("c%03d", i)
		ids = append(ids, id)
		if i != 7 {
			f.dates[id] = fmt.Sprintf("%d -0800", 1700000000+i)
		}
	}
	times, calls, err := CommitTimes(context.Background(), f, "repo", ids)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 3 || len(f.calls) != 3 || len(f.calls[2]) != 50 {
		t.Fatalf("%d calls, want 3 (100, 100, 50)", calls)
	}
	if len(times) != 249 || !times["c010"].Equal(time.Unix(1700000010, 0)) {
		t.Fatalf("%d times, c010 %v", len(times), times["c010"])
	}
	if _, ok := times["c007"]; ok {
		t.Fatal("a commit the repository lacks got a time")
	}
	f.dates["c001"] = "yesterday"
	if _, _, err := CommitTimes(context.Background(), f, "repo", ids[:5]); err == nil || !strings.Contains(err.Error(), `"yesterday"`) || !strings.Contains(err.Error(), "c001") {
		t.Fatalf("a bad date: %v", err)
	}
}

func TestParseGitDate(t *testing.T) {
	for in, want := range map[string]int64{"1484167798 -0800": 1484167798, "1484167798": 1484167798, " 0 +0000 ": 0} {
		got, err := ParseGitDate(in)
		if err != nil || got.Unix() != want || got.Location() != time.UTC {
			t.Errorf("ParseGitDate(%q) = %v, %v; want %d UTC", in, got, err, want)
		}
	}
	for _, in := range []string{"", "Mon Jan 2", "12a -0800"} {
		if _, err := ParseGitDate(in); err == nil {
			t.Errorf("ParseGitDate(%q) accepted", in)
		}
	}
}

// slowProbes holds every ListActionExecutions call a moment and records how many were in
// flight at once; with fail set, each answers an error.
type slowProbes struct {
	pipelineFake
	inFlight, most int
	fail           bool
}

func (f *slowProbes) ListActionExecutions(ctx context.Context, in *codepipeline.ListActionExecutionsInput, o ...func(*codepipeline.Options)) (*codepipeline.ListActionExecutionsOutput, error) {
	f.mu.Lock()
	f.inFlight++
	f.most = max(f.most, f.inFlight)
	f.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	f.mu.Lock()
	f.inFlight--
	f.mu.Unlock()
	if f.fail {
		return nil, errors.New("ThrottlingException")
	}
	return f.pipelineFake.ListActionExecutions(ctx, in, o...)
}

func TestReadAsksAFewFailedRunsAtOnce(t *testing.T) {
	f := &slowProbes{}
	for i := 12; i >= 1; i-- {
		f.runs = append(f.runs, summary(fmt.Sprintf("f%02d", i), types.PipelineExecutionStatusFailed, "c", float64(10+i), float64(10+i)+0.5))
	}
	f.runs = append(f.runs, summary("ok", types.PipelineExecutionStatusSucceeded, "c0", 1, 2))
	f.stages = map[string][]string{"f03": {"Deploy"}}
	h, err := Read(context.Background(), f, ReadOptions{Pipeline: "p", Window: Window{From: at(5), To: at(60)}})
	if err != nil {
		t.Fatal(err)
	}
	if f.most < 2 || f.most > probeParallel || len(f.probes) != 12 || h.Calls != 13 {
		t.Fatalf("at most %d probes at once (want 2..%d), %d probes, %d calls", f.most, probeParallel, len(f.probes), h.Calls)
	}
	for _, r := range h.Runs {
		if r.ReachedDeploy != (r.ID == "f03") {
			t.Errorf("run %s reached deploy %v", r.ID, r.ReachedDeploy)
		}
	}
	f.fail = true
	if _, err := Read(context.Background(), f, ReadOptions{Pipeline: "p", Window: Window{From: at(5), To: at(60)}}); err == nil ||
		!strings.Contains(err.Error(), "ThrottlingException") || !strings.Contains(err.Error(), "list action executions of run f") {
		t.Fatalf("a failing probe: %v", err)
	}
}
