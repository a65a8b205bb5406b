package gate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// pages is an ExecutionLister serving fixed pages of executions.
type pages struct {
	pages [][]types.PipelineExecutionSummary
	err   error // returned on every call when set
	calls int
}

func (p *pages) ListPipelineExecutions(_ context.Context, in *codepipeline.ListPipelineExecutionsInput, _ ...func(*codepipeline.Options)) (*codepipeline.ListPipelineExecutionsOutput, error) {
	p.calls++
	if p.err != nil {
		return nil, p.err
	}
	i := 0
	if in.NextToken != nil {
		fmt.Sscan(*in.NextToken, &i)
	}
	out := &codepipeline.ListPipelineExecutionsOutput{PipelineExecutionSummaries: p.pages[i]}
	if i+1 < len(p.pages) {
		out.NextToken = aws.String(fmt.Sprint(i + 1))
	}
	return out, nil
}

var at = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// run is a STANDARD execution whose own source action (org.SourceActionName) saw commit.
func run(id, status, commit string) types.PipelineExecutionSummary {
	s := types.PipelineExecutionSummary{
		PipelineExecutionId: aws.String(id), Status: types.PipelineExecutionStatus(status),
		ExecutionType: types.ExecutionTypeStandard, LastUpdateTime: aws.Time(at),
	}
	if commit != "" {
		s.SourceRevisions = []types.SourceRevision{{ActionName: aws.String(org.SourceActionName), RevisionId: aws.String(commit)}}
	}
	return s
}

// rollback is a ROLLBACK execution of commit back to target.
func rollback(id, status, commit, target string) types.PipelineExecutionSummary {
	s := run(id, status, commit)
	s.ExecutionType = types.ExecutionTypeRollback
	s.RollbackMetadata = &types.PipelineRollbackMetadata{RollbackTargetPipelineExecutionId: aws.String(target)}
	return s
}

// lostRollback is a ROLLBACK execution whose summary names no target (no rollbackMetadata).
func lostRollback(id, status, commit string) types.PipelineExecutionSummary {
	s := run(id, status, commit)
	s.ExecutionType = types.ExecutionTypeRollback
	return s
}

// otherSource is a STANDARD execution where commit is the revision of another action.
func otherSource(id, status, own, other string) types.PipelineExecutionSummary {
	s := run(id, status, own)
	s.SourceRevisions = append(s.SourceRevisions, types.SourceRevision{ActionName: aws.String("ExtraSource"), RevisionId: aws.String(other)})
	return s
}

var (
	cA = strings.Repeat("a", 40)
	cB = strings.Repeat("b", 40)
	cC = strings.Repeat("c", 40)
)

type page = []types.PipelineExecutionSummary

func TestThePassedRule(t *testing.T) {
	cases := map[string]struct {
		pages     []page
		maxPages  int
		wantPass  bool
		wantMatch string // the deciding execution, "" if none decided
		wantErr   error
		wantCalls int
		wantRead  int
		wantNewer string // NewestPass's commit
	}{
		"a succeeded STANDARD run passes": {
			pages: []page{{run("e1", "Succeeded", cA)}}, wantPass: true, wantMatch: "e1", wantCalls: 1, wantRead: 1, wantNewer: cA},
		// e2 lies between r1 and its target (not read), so it was rolled back too: no pass at all.
		"a succeeded ROLLBACK run of the commit does not pass": {
			pages: []page{{rollback("r1", "Succeeded", cA, "e0"), run("e2", "Succeeded", cB)}}, wantCalls: 1, wantRead: 2},
		"a ROLLBACK run is skipped, the STANDARD run behind it decides": {
			pages: []page{{rollback("r1", "Succeeded", cA, "e2"), run("e2", "Succeeded", cA)}}, wantPass: true, wantMatch: "e2", wantCalls: 1, wantRead: 2, wantNewer: cA},
		"only the pipeline's own source action counts": {
			pages: []page{{otherSource("e1", "Succeeded", cB, cA)}}, wantCalls: 1, wantRead: 1, wantNewer: cB},
		"a run without the own source action never matches": {
			pages: []page{{run("e1", "Succeeded", "")}}, wantCalls: 1, wantRead: 1},
		"a newer failed run of the commit withdraws an older success": {
			pages: []page{{run("e1", "Failed", cA), run("e2", "Succeeded", cA)}}, wantMatch: "e1", wantCalls: 1, wantRead: 1},
		"a newer stopped run of the commit withdraws an older success": {
			pages: []page{{run("e1", "Stopped", cA), run("e2", "Succeeded", cA)}}, wantMatch: "e1", wantCalls: 1, wantRead: 1},
		"a newer success after a failure passes": {
			pages: []page{{run("e1", "Succeeded", cA), run("e2", "Failed", cA)}}, wantPass: true, wantMatch: "e1", wantCalls: 1, wantRead: 1, wantNewer: cA},
		"runs without a verdict are skipped": {
			pages:    []page{{run("e1", "InProgress", cA), run("e2", "Superseded", cA), run("e3", "Stopping", cA), run("e4", "Cancelled", cA), run("e5", "Succeeded", cA)}},
			wantPass: true, wantMatch: "e5", wantCalls: 1, wantRead: 5, wantNewer: cA},
		"an old pass on a later page (a rollback target) passes": {
			pages: []page{{run("e1", "Succeeded", cB)}, {run("e2", "Failed", cC)}, {run("e3", "Succeeded", cA)}}, maxPages: 3,
			wantPass: true, wantMatch: "e3", wantCalls: 3, wantRead: 3, wantNewer: cB},
		"the page bound without a verdict is an error, not a no": {
			pages: []page{{run("e1", "Succeeded", cB)}, {run("e2", "Succeeded", cC)}, {run("e3", "Succeeded", cA)}}, maxPages: 2,
			wantErr: gate.ErrHistoryBound, wantCalls: 2, wantRead: 2, wantNewer: cB},
		"the history ending at the bound is a no": {
			pages: []page{{run("e1", "Succeeded", cB)}, {run("e2", "Succeeded", cC)}}, maxPages: 2, wantCalls: 2, wantRead: 2, wantNewer: cB},
		"a prefix of the commit is not the commit": {
			pages: []page{{run("e1", "Succeeded", cA[:7])}}, wantCalls: 1, wantRead: 1, wantNewer: cA[:7]},
		"an empty history is a no": {pages: []page{{}}, wantCalls: 1},
		"maxPages 0 is the default bound": {
			pages: []page{{}, {}, {run("e3", "Succeeded", cA)}}, wantPass: true, wantMatch: "e3", wantCalls: 3, wantRead: 1, wantNewer: cA},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := &pages{pages: tc.pages}
			v, err := gate.FindPassed(context.Background(), p, "pl", cA, tc.maxPages)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if v.Passed != tc.wantPass || v.Match.ID != tc.wantMatch {
				t.Errorf("Passed=%t Match=%q, want %t %q", v.Passed, v.Match.ID, tc.wantPass, tc.wantMatch)
			}
			if v.Calls != tc.wantCalls || p.calls != tc.wantCalls || v.Read != tc.wantRead {
				t.Errorf("Calls=%d (lister saw %d) Read=%d, want %d calls, %d read", v.Calls, p.calls, v.Read, tc.wantCalls, tc.wantRead)
			}
			got := ""
			if v.NewestPass != nil {
				got = v.NewestPass.Commit
			}
			if got != tc.wantNewer {
				t.Errorf("NewestPass = %q, want %q", got, tc.wantNewer)
			}
		})
	}
}

func TestJudgeIsTheWholeRule(t *testing.T) {
	e := func(status, typ, commit string) gate.Execution {
		return gate.Execution{ID: "x", Status: status, Type: typ, Commit: commit}
	}
	cases := []struct {
		e    gate.Execution
		want gate.Outcome
	}{
		{e("Succeeded", "STANDARD", cA), gate.Passes},
		{e("Succeeded", "", cA), gate.Passes}, // a pipeline that does not say its type ran no rollback
		{e("Succeeded", "ROLLBACK", cA), gate.Skip},
		{gate.Execution{Status: "Succeeded", Commit: cA, RollbackTarget: "e0"}, gate.Skip},
		{e("Failed", "STANDARD", cA), gate.Withdraws},
		{e("Stopped", "STANDARD", cA), gate.Withdraws},
		{e("Failed", "ROLLBACK", cA), gate.Skip},
		{e("InProgress", "STANDARD", cA), gate.Skip},
		{e("Superseded", "STANDARD", cA), gate.Skip},
		{e("Succeeded", "STANDARD", cB), gate.Skip},
		{e("Succeeded", "STANDARD", ""), gate.Skip},
	}
	for _, tc := range cases {
		if got := gate.Judge(tc.e, cA); got != tc.want {
			t.Errorf("Judge(%+v) = %v, want %v", tc.e, got, tc.want)
		}
	}
	if got := gate.Judge(e("Succeeded", "STANDARD", ""), ""); got != gate.Skip {
		t.Errorf("an empty commit must never pass, got %v", got)
	}
}

func TestFindPassedRefusesAnEmptyCommitAndWrapsListErrors(t *testing.T) {
	p := &pages{pages: []page{{run("e1", "Succeeded", "")}}}
	if v, err := gate.FindPassed(context.Background(), p, "pl", "", 1); err == nil || v.Passed || p.calls != 0 {
		t.Errorf("v=%+v err=%v calls=%d, want an error before any call", v, err, p.calls)
	}
	boom := errors.New("boom")
	p = &pages{err: boom}
	if _, err := gate.FindPassed(context.Background(), p, "pl", cA, 1); !errors.Is(err, boom) || !strings.Contains(err.Error(), "pipeline pl") {
		t.Errorf("err = %v, want the list error wrapped with the pipeline", err)
	}
}

func TestReasonNamesWhatWasRead(t *testing.T) {
	// cX shares its first 7 characters with cA: a message must not show "aaaaaaa" for both.
	cX := cA[:7] + strings.Repeat("f", 33)
	cases := map[string]reasonCase{
		"a pass": {pages: []page{{run("e1", "Succeeded", cA)}},
			want: "commit aaaaaaa passed stg in execution e1 at 2026-11-20T10:00:00Z"},
		"never passed, nothing passed": {pages: []page{{run("e1", "Failed", cB), run("e2", "InProgress", cC)}},
			want: "commit aaaaaaa has not passed stg (no commit has passed there in the 2 newest executions)"},
		"never passed, another did": {pages: []page{{run("e1", "Succeeded", cB)}},
			want: "commit aaaaaaa has not passed stg (newest pass there: bbbbbbb at 2026-11-20T10:00:00Z)"},
		"withdrawn": {pages: []page{{run("e1", "Failed", cA), run("e2", "Succeeded", cA)}},
			want: "commit aaaaaaa has not passed stg: its newest run there, execution e1, is Failed (at 2026-11-20T10:00:00Z); a newer successful run of it would count"},
		"a look-alike commit is shown apart": {pages: []page{{run("e1", "Succeeded", cX)}},
			want: "commit aaaaaaaa has not passed stg (newest pass there: aaaaaaaf at 2026-11-20T10:00:00Z)"},
		"a run without a commit is never the newest pass": {pages: []page{{run("e1", "Succeeded", ""), run("e2", "Succeeded", cB)}},
			want: "commit aaaaaaa has not passed stg (newest pass there: bbbbbbb at 2026-11-20T10:00:00Z)"},
		"a rollback is never the newest pass": {pages: []page{{rollback("r1", "Succeeded", cC, "e2"), run("e2", "Succeeded", cB)}},
			want: "commit aaaaaaa has not passed stg (newest pass there: bbbbbbb at 2026-11-20T10:00:00Z)"},
	}
	checkReasons(t, cases)
}

func TestHistoryBoundSaysHowManyExecutionsWereRead(t *testing.T) {
	// A server that returns short pages: 3 executions per page, 2 pages read of a longer history.
	p := &pages{pages: []page{
		{run("e1", "Succeeded", cB), run("e2", "Succeeded", cB), run("e3", "Succeeded", cB)},
		{run("e4", "Succeeded", cB), run("e5", "Succeeded", cB), run("e6", "Succeeded", cB)},
		{run("e7", "Succeeded", cA)},
	}}
	_, err := gate.FindPassed(context.Background(), p, "payments-checkout-stg", cA, 2)
	var hb *gate.HistoryBoundError
	if !errors.As(err, &hb) || !errors.Is(err, gate.ErrHistoryBound) {
		t.Fatalf("err = %v, want a HistoryBoundError", err)
	}
	if hb.Read != 6 || hb.Pages != 2 {
		t.Errorf("Read=%d Pages=%d, want 6 and 2", hb.Read, hb.Pages)
	}
	if want := "commit aaaaaaa not found in the 6 newest executions of pipeline payments-checkout-stg (read in 2 pages; older history exists)"; err.Error() != want {
		t.Errorf("message =\n  %s\nwant\n  %s", err, want)
	}
}

func TestShort(t *testing.T) {
	for _, tc := range []struct{ a, b, wantA, wantB string }{
		{cA, cB, "aaaaaaa", "bbbbbbb"},
		{cA, cA, "aaaaaaa", "aaaaaaa"},
		{cA, cA[:39] + "b", cA, cA[:39] + "b"},
		{"", cB, "(none)", "bbbbbbb"},
		{"abc", "abd", "abc", "abd"},
	} {
		if a, b := gate.ShortPair(tc.a, tc.b); a != tc.wantA || b != tc.wantB {
			t.Errorf("ShortPair(%q, %q) = %q, %q; want %q, %q", tc.a, tc.b, a, b, tc.wantA, tc.wantB)
		}
	}
}

// reasonCase is a history (one page) and the refusal Reason it must give for commit cA in stg.
type reasonCase struct {
	pages []page
	want  string
}

// checkReasons asks FindPassed about cA in each case's history and compares the Reason.
func checkReasons(t *testing.T, cases map[string]reasonCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			v, err := gate.FindPassed(context.Background(), &pages{pages: tc.pages}, "pl", cA, 1)
			if err != nil {
				t.Fatal(err)
			}
			if got := v.Reason(cA, "stg"); got != tc.want {
				t.Errorf("Reason =\n  %s\nwant\n  %s", got, tc.want)
			}
		})
	}
}
