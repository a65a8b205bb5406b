package gate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
)

// TestARolledBackRunHasNotPassed: a STANDARD run that a ROLLBACK execution undid (one that
// started after it, with a target that started before it) counts as a Failed run, whatever
// status CodePipeline gave it, so a commit whose deploy set off the environment's alarms is
// not promoted. The commit asked about is always cA.
func TestARolledBackRunHasNotPassed(t *testing.T) {
	cD := strings.Repeat("d", 40)
	cases := map[string]struct {
		pages     []page
		maxPages  int
		wantPass  bool
		wantMatch string // the deciding execution, "" if none decided
		wantBy    string // Verdict.RolledBackBy's id, "" for nil
		wantErr   error
		wantCalls int
		wantRead  int
		wantNewer string // NewestPass's commit
	}{
		"an alarm rollback after a success withdraws it": {
			pages:     []page{{rollback("r1", "Succeeded", cB, "e1"), run("e2", "Succeeded", cA), run("e1", "Succeeded", cB)}},
			wantMatch: "e2", wantBy: "r1", wantCalls: 1, wantRead: 2},
		"a rollback after a failure: the failure withdraws, and names the rollback": {
			pages:     []page{{rollback("r1", "Succeeded", cB, "e1"), run("e2", "Failed", cA), run("e1", "Succeeded", cB)}},
			wantMatch: "e2", wantBy: "r1", wantCalls: 1, wantRead: 2},
		"an older success of the commit does not outvote its rolled-back newest run": {
			pages:     []page{{rollback("r1", "Succeeded", cB, "e1"), run("e2", "Succeeded", cA), run("e1", "Succeeded", cB), run("e0", "Succeeded", cA)}},
			wantMatch: "e2", wantBy: "r1", wantCalls: 1, wantRead: 2},
		"a rollback in progress already counts": {
			pages:     []page{{rollback("r1", "InProgress", cB, "e1"), run("e2", "Succeeded", cA), run("e1", "Succeeded", cB)}},
			wantMatch: "e2", wantBy: "r1", wantCalls: 1, wantRead: 2},
		"a rollback that failed still counts": {
			pages:     []page{{rollback("r1", "Failed", cB, "e1"), run("e2", "Succeeded", cA), run("e1", "Succeeded", cB)}},
			wantMatch: "e2", wantBy: "r1", wantCalls: 1, wantRead: 2},
		"a rolled-back run without a verdict is skipped; the next run of the commit decides": {
			pages:     []page{{rollback("r1", "Succeeded", cB, "e1"), run("e3", "InProgress", cA), run("e2", "Succeeded", cA), run("e1", "Succeeded", cB)}},
			wantMatch: "e2", wantBy: "r1", wantCalls: 1, wantRead: 3},
		"the rollback's target on a later page: the rollback is carried across pages": {
			pages:    []page{{rollback("r1", "Succeeded", cB, "e1")}, {run("e3", "Succeeded", cC)}, {run("e2", "Succeeded", cA)}, {run("e1", "Succeeded", cB)}},
			maxPages: 4, wantMatch: "e2", wantBy: "r1", wantCalls: 3, wantRead: 3},
		"the target itself is not rolled back: it is what the rollback restored": {
			pages:    []page{{rollback("r1", "Succeeded", cA, "e2"), run("e3", "Succeeded", cB), run("e2", "Succeeded", cA)}},
			wantPass: true, wantMatch: "e2", wantCalls: 1, wantRead: 3, wantNewer: cA},
		"runs older than the target are not rolled back": {
			pages:    []page{{rollback("r1", "Succeeded", cB, "e2"), run("e3", "Succeeded", cC), run("e2", "Succeeded", cB), run("e1", "Succeeded", cA)}},
			wantPass: true, wantMatch: "e1", wantCalls: 1, wantRead: 4, wantNewer: cB},
		"two rollbacks to one target: the nearer one is named": {
			pages: []page{{rollback("r2", "Succeeded", cB, "e1"), run("e4", "Failed", cC), rollback("r1", "Succeeded", cB, "e1"),
				run("e3", "Succeeded", cA), run("e2", "Succeeded", cC), run("e1", "Succeeded", cB)}},
			wantMatch: "e3", wantBy: "r1", wantCalls: 1, wantRead: 4},
		"two rollbacks: one ending at its target does not end the other": {
			pages: []page{{rollback("r2", "Succeeded", cB, "e1"), run("e5", "Succeeded", cC), rollback("r1", "Succeeded", cD, "e3"),
				run("e4", "Succeeded", cB), run("e3", "Succeeded", cD), run("e2", "Succeeded", cA), run("e1", "Succeeded", cB)}},
			wantMatch: "e2", wantBy: "r2", wantCalls: 1, wantRead: 6},
		"two rollbacks in turn: the newer one's target passes": {
			pages: []page{{rollback("r2", "Succeeded", cA, "e3"), run("e4", "Succeeded", cC), run("e3", "Succeeded", cA),
				rollback("r1", "Succeeded", cD, "e1"), run("e2", "Succeeded", cA), run("e1", "Succeeded", cD)}},
			wantPass: true, wantMatch: "e3", wantCalls: 1, wantRead: 3, wantNewer: cA},
		"a newer success of the commit after the rollback restores the pass": {
			pages:    []page{{run("e3", "Succeeded", cA), rollback("r1", "Succeeded", cB, "e1"), run("e2", "Succeeded", cA), run("e1", "Succeeded", cB)}},
			wantPass: true, wantMatch: "e3", wantCalls: 1, wantRead: 1, wantNewer: cA},
		"a re-push still running after the rollback does not restore it": {
			pages:     []page{{run("e3", "InProgress", cA), rollback("r1", "Succeeded", cB, "e1"), run("e2", "Succeeded", cA), run("e1", "Succeeded", cB)}},
			wantMatch: "e2", wantBy: "r1", wantCalls: 1, wantRead: 3},
		"a rollback that names no target rolls back up to the next success, that one included": {
			pages:     []page{{lostRollback("r1", "Succeeded", cB), run("e2", "Succeeded", cA), run("e1", "Succeeded", cB)}},
			wantMatch: "e2", wantBy: "r1", wantCalls: 1, wantRead: 2},
		"a rollback that names no target ends after the next success": {
			pages: []page{{lostRollback("r1", "Succeeded", cB), run("e3", "Failed", cC), run("e2", "Succeeded", cB),
				run("e1", "Succeeded", cA)}},
			wantPass: true, wantMatch: "e1", wantCalls: 1, wantRead: 4, wantNewer: cA},
		"two rollbacks that name no target end after two successes": {
			pages: []page{{lostRollback("r2", "Succeeded", cB), lostRollback("r1", "Succeeded", cB), run("e3", "Succeeded", cC),
				run("e2", "Succeeded", cA), run("e1", "Succeeded", cA)}},
			wantMatch: "e2", wantBy: "r2", wantCalls: 1, wantRead: 4},
		"the bound with a rollback pending: the rolled-back run read decides": {
			pages:    []page{{rollback("r1", "Succeeded", cB, "e0")}, {run("e2", "Succeeded", cA)}, {run("e0", "Succeeded", cB)}},
			maxPages: 2, wantMatch: "e2", wantBy: "r1", wantCalls: 2, wantRead: 2},
		"the bound with a rollback pending and no run of the commit read: cannot tell": {
			pages:    []page{{rollback("r1", "Succeeded", cB, "e0")}, {run("e2", "Succeeded", cC)}, {run("e1", "Succeeded", cA)}},
			maxPages: 2, wantErr: gate.ErrHistoryBound, wantCalls: 2, wantRead: 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := &pages{pages: tc.pages}
			v, err := gate.FindPassed(context.Background(), p, "pl", cA, max(tc.maxPages, 1))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if v.Passed != tc.wantPass || v.Match.ID != tc.wantMatch {
				t.Errorf("Passed=%t Match=%q, want %t %q", v.Passed, v.Match.ID, tc.wantPass, tc.wantMatch)
			}
			by := ""
			if v.RolledBackBy != nil {
				by = v.RolledBackBy.ID
			}
			if by != tc.wantBy || v.Match.RolledBackBy != tc.wantBy {
				t.Errorf("RolledBackBy = %q (Match's %q), want %q", by, v.Match.RolledBackBy, tc.wantBy)
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

// TestRollbacksMarksWhatARollbackUndid: the tracker alone, on hand-built executions, newest
// first: which execution each STANDARD one was rolled back by.
func TestRollbacksMarksWhatARollbackUndid(t *testing.T) {
	std := func(id, status string) gate.Execution {
		return gate.Execution{ID: id, Status: status, Type: "STANDARD"}
	}
	rb := func(id, target string) gate.Execution {
		return gate.Execution{ID: id, Status: "Succeeded", Type: "ROLLBACK", RollbackTarget: target}
	}
	cases := map[string]struct {
		history []gate.Execution
		want    []string // RolledBackBy of each, in order
	}{
		"nothing rolled back": {
			[]gate.Execution{std("e2", "Succeeded"), std("e1", "Failed")}, []string{"", ""}},
		"between the rollback and its target, every STANDARD run, whatever its status": {
			[]gate.Execution{std("e5", "Succeeded"), rb("r1", "e1"), std("e4", "InProgress"), std("e3", "Failed"), std("e2", "Succeeded"), std("e1", "Succeeded"), std("e0", "Succeeded")},
			[]string{"", "", "r1", "r1", "r1", "", ""}},
		"an untyped run is STANDARD": {
			[]gate.Execution{rb("r1", "e1"), {ID: "e2", Status: "Succeeded"}, {ID: "e1", Status: "Succeeded"}}, []string{"", "r1", ""}},
		"a rollback is never marked itself": {
			[]gate.Execution{rb("r2", "e1"), rb("r1", "e1"), std("e1", "Succeeded")}, []string{"", "", ""}},
		"nested: the nearer rollback names, the farther one goes on after the nearer ends": {
			[]gate.Execution{rb("r2", "e1"), std("e4", "Succeeded"), rb("r1", "e3"), std("e3b", "Succeeded"), std("e3", "Succeeded"), std("e2", "Succeeded"), std("e1", "Succeeded")},
			[]string{"", "r2", "", "r1", "r2", "r2", ""}},
		"no target: up to the next success, included": {
			[]gate.Execution{{ID: "r1", Status: "Succeeded", Type: "ROLLBACK"}, std("e3", "Failed"), std("e2", "Succeeded"), std("e1", "Succeeded")},
			[]string{"", "r1", "r1", ""}},
		"a target never read: everything older": {
			[]gate.Execution{rb("r1", "gone"), std("e2", "Succeeded"), std("e1", "Succeeded")}, []string{"", "r1", "r1"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var r gate.Rollbacks
			for i, e := range tc.history {
				if got := r.Mark(e).RolledBackBy; got != tc.want[i] {
					t.Errorf("%s: RolledBackBy = %q, want %q", e.ID, got, tc.want[i])
				}
			}
		})
	}
}

func TestJudgeCountsARolledBackRunAsFailed(t *testing.T) {
	e := func(status, typ, by string) gate.Execution {
		return gate.Execution{ID: "x", Status: status, Type: typ, Commit: cA, RolledBackBy: by}
	}
	for _, tc := range []struct {
		e    gate.Execution
		want gate.Outcome
	}{
		{e("Succeeded", "STANDARD", "r1"), gate.Withdraws},
		{e("Succeeded", "", "r1"), gate.Withdraws},
		{e("Failed", "STANDARD", "r1"), gate.Withdraws},
		{e("Stopped", "STANDARD", "r1"), gate.Withdraws},
		{e("InProgress", "STANDARD", "r1"), gate.Skip},
		{e("Superseded", "STANDARD", "r1"), gate.Skip},
		{e("Succeeded", "ROLLBACK", "r1"), gate.Skip},
		{e("Succeeded", "STANDARD", ""), gate.Passes},
	} {
		if got := gate.Judge(tc.e, cA); got != tc.want {
			t.Errorf("Judge(%+v) = %v, want %v", tc.e, got, tc.want)
		}
	}
}

func TestDeployed(t *testing.T) {
	for _, tc := range []struct {
		e    gate.Execution
		want bool
	}{
		{gate.Execution{ID: "e1", Status: "Succeeded", Type: "STANDARD", Commit: cA}, true},
		{gate.Execution{ID: "e1", Status: "Succeeded", Commit: cA}, true},
		{gate.Execution{ID: "e1", Status: "Succeeded", Type: "STANDARD", Commit: cA, RolledBackBy: "r1"}, false},
		{gate.Execution{ID: "r1", Status: "Succeeded", Type: "ROLLBACK", Commit: cB, RollbackTarget: "e0"}, true},
		{gate.Execution{ID: "r1", Status: "InProgress", Type: "ROLLBACK", Commit: cB, RollbackTarget: "e0"}, false},
		{gate.Execution{ID: "e1", Status: "Failed", Type: "STANDARD", Commit: cA}, false},
		{gate.Execution{ID: "e1", Status: "Succeeded", Type: "STANDARD"}, false},
	} {
		if got := gate.Deployed(tc.e); got != tc.want {
			t.Errorf("Deployed(%+v) = %t, want %t", tc.e, got, tc.want)
		}
	}
}

// TestWhatRunsAfterARollback: read through the pager, the newest Deployed execution is the
// rollback (its target's commit), and once that is read past, never the run it undid.
func TestWhatRunsAfterARollback(t *testing.T) {
	deployed := func(h page) []string {
		var out []string
		if _, err := gate.EachExecution(context.Background(), &pages{pages: []page{h}}, "pl", 100, 1, func(e gate.Execution) bool {
			if gate.Deployed(e) {
				out = append(out, e.ID+"="+e.Commit[:1])
			}
			return true
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := deployed(page{rollback("r1", "Succeeded", cB, "e1"), run("e2", "Succeeded", cA), run("e1", "Succeeded", cB)})
	if want := "r1=b e1=b"; strings.Join(got, " ") != want {
		t.Errorf("deployed runs, newest first = %v, want %s (never e2, the run rolled back)", got, want)
	}
}

func TestReasonNamesTheRollback(t *testing.T) {
	cX := cA[:7] + strings.Repeat("f", 33)
	started := func(s types.PipelineExecutionSummary, t time.Time) types.PipelineExecutionSummary {
		s.StartTime = aws.Time(t)
		return s
	}
	later := at.Add(90 * time.Minute)
	cases := map[string]reasonCase{
		"rolled back after a success": {
			pages: []page{{started(rollback("r1", "Succeeded", cB, "e1"), later), run("e2", "Succeeded", cA), run("e1", "Succeeded", cB)}},
			want:  "commit aaaaaaa's newest run in stg (execution e2, Succeeded at 2026-11-20T10:00:00Z) was rolled back by execution r1 (a rollback to bbbbbbb, execution e1, at 2026-11-20T11:30:00Z): it has not passed stg; a newer successful run of it would count"},
		"rolled back after a failure": {
			pages: []page{{rollback("r1", "Succeeded", cB, "e1"), run("e2", "Failed", cA), run("e1", "Succeeded", cB)}},
			want:  "commit aaaaaaa's newest run in stg (execution e2, Failed at 2026-11-20T10:00:00Z) was rolled back by execution r1 (a rollback to bbbbbbb, execution e1, at 2026-11-20T10:00:00Z): it has not passed stg; a newer successful run of it would count"},
		"rolled back to a look-alike commit": {
			pages: []page{{rollback("r1", "Succeeded", cX, "e1"), run("e2", "Succeeded", cA), run("e1", "Succeeded", cX)}},
			want:  "commit aaaaaaaa's newest run in stg (execution e2, Succeeded at 2026-11-20T10:00:00Z) was rolled back by execution r1 (a rollback to aaaaaaaf, execution e1, at 2026-11-20T10:00:00Z): it has not passed stg; a newer successful run of it would count"},
		"rolled back to an earlier run of the same commit": {
			pages: []page{{rollback("r1", "Succeeded", cA, "e1"), run("e2", "Succeeded", cA), run("e1", "Succeeded", cA)}},
			want:  "commit aaaaaaa's newest run in stg (execution e2, Succeeded at 2026-11-20T10:00:00Z) was rolled back by execution r1 (a rollback to an earlier run of the same commit, execution e1, at 2026-11-20T10:00:00Z): it has not passed stg; a newer successful run of it would count"},
		"rolled back by a rollback that names no target": {
			pages: []page{{lostRollback("r1", "Succeeded", cB), run("e2", "Succeeded", cA), run("e1", "Succeeded", cB)}},
			want:  "commit aaaaaaa's newest run in stg (execution e2, Succeeded at 2026-11-20T10:00:00Z) was rolled back by execution r1 (a rollback that named no target execution, at 2026-11-20T10:00:00Z): it has not passed stg; a newer successful run of it would count"},
		"a rolled-back run is never the newest pass": {
			pages: []page{{rollback("r1", "Succeeded", cB, "e1"), run("e3", "Succeeded", cC), run("e1", "Succeeded", cB)}},
			want:  "commit aaaaaaa has not passed stg (newest pass there: bbbbbbb at 2026-11-20T10:00:00Z)"},
	}
	checkReasons(t, cases)
}

// A Verdict built by hand, or one whose rollback was not read, still says the run was rolled
// back, and by which execution.
func TestReasonOfARollbackNotRead(t *testing.T) {
	v := gate.Verdict{Match: gate.Execution{ID: "e2", Commit: cA, Status: "Succeeded", At: at, RolledBackBy: "r1"}}
	want := "commit aaaaaaa's newest run in stg (execution e2, Succeeded at 2026-11-20T10:00:00Z) was rolled back by execution r1: it has not passed stg; a newer successful run of it would count"
	if got := v.Reason(cA, "stg"); got != want {
		t.Errorf("Reason =\n  %s\nwant\n  %s", got, want)
	}
}
