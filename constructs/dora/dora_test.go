package dora

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
)

// t0 is the start of the hand-built histories; every time below is an hour offset from it.
var t0 = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

func at(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }

const hour = time.Hour

// run is one hand-built run: id, status, commit, started and finished (hours from t0).
type run struct {
	id, status, commit string
	start, end         float64
	rollbackOf         string // for a ROLLBACK run: its target's id
	trigger            string
	reached            bool // a failed run's Deploy stage started
}

// history builds a History from runs given OLDEST first (the way a person writes a
// story), returned newest first and marked by gate.Rollbacks exactly as Read's pager
// marks them.
func history(runs ...run) History {
	var h History
	var rb gate.Rollbacks
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		e := gate.Execution{ID: r.id, Commit: r.commit, Status: r.status, Type: "STANDARD",
			Started: at(r.start), At: at(r.end)}
		if r.rollbackOf != "" {
			e.Type, e.RollbackTarget = "ROLLBACK", r.rollbackOf
		}
		h.Runs = append(h.Runs, Run{Execution: rb.Mark(e), Trigger: r.trigger, ReachedDeploy: r.reached})
		h.Oldest = e.Started
	}
	return h
}

// commitsAt gives each commit a committer time, hours from t0.
func commitsAt(pairs ...any) map[string]time.Time {
	m := map[string]time.Time{}
	for i := 0; i < len(pairs); i += 2 {
		m[pairs[i].(string)] = at(pairs[i+1].(float64))
	}
	return m
}

// kinds is the events' kinds and runs, oldest first: "id:kind" with "!" when failed.
func kinds(events []Event) string {
	var b []string
	for _, e := range events {
		s := e.Run + ":" + string(e.Kind)
		if e.Failed {
			s += "!"
		}
		b = append(b, s)
	}
	return strings.Join(b, " ")
}

func find(t *testing.T, events []Event, id string) Event {
	t.Helper()
	for _, e := range events {
		if e.Run == id {
			return e
		}
	}
	t.Fatalf("no event for run %s in %s", id, kinds(events))
	return Event{}
}

// everything is a window covering all the hand-built histories.
var everything = Window{From: at(-1000), To: at(1000)}

func TestLeadTimeIsCommitToTheEndOfTheFirstRunThatDeployedIt(t *testing.T) {
	h := history(
		run{id: "r1", status: "Succeeded", commit: "c1", start: 1, end: 2},
		run{id: "r2", status: "Succeeded", commit: "c2", start: 10, end: 12},
		run{id: "r3", status: "Succeeded", commit: "c3", start: 20, end: 21},
	)
	times := commitsAt("c1", 0.0, "c2", 7.0, "c3", 11.0)
	m := Compute(h, times, everything)
	if got, want := kinds(m.Events), "r1:deploy r2:deploy r3:deploy"; got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	// 2h, 5h, 10h: nearest-rank median is the 2nd of 3, p90 the 3rd.
	s := m.Summary
	if s.Deployments != 3 || s.LeadTime.N != 3 || s.LeadTime.Median != 5*hour || s.LeadTime.P90 != 10*hour || s.LeadTimeUnknown != 0 {
		t.Fatalf("summary %+v, want 3 deploys, lead time median 5h p90 10h", s)
	}
	if want := []time.Duration{2 * hour, 5 * hour, 10 * hour}; !reflect.DeepEqual(s.LeadTime.Samples, want) {
		t.Fatalf("samples %v, want %v", s.LeadTime.Samples, want)
	}
	if rate, ok := s.ChangeFailureRate(); !ok || rate != 0 || s.Attempts != 3 {
		t.Fatalf("rate %v %v attempts %d, want 0 of 3", rate, ok, s.Attempts)
	}
}

func TestAReRunIsNotADeploymentAndKeepsTheFirstLeadTime(t *testing.T) {
	h := history(
		run{id: "r1", status: "Succeeded", commit: "c1", start: 1, end: 2},
		run{id: "r2", status: "Succeeded", commit: "c1", start: 5, end: 9},
	)
	m := Compute(h, commitsAt("c1", 0.0), everything)
	if got := kinds(m.Events); got != "r1:deploy r2:rerun" {
		t.Fatalf("events %s", got)
	}
	if s := m.Summary; s.Deployments != 1 || s.Reruns != 1 || s.LeadTime.Median != 2*hour {
		t.Fatalf("summary %+v, want 1 deploy with lead time 2h and 1 rerun", s)
	}
}

func TestPushingAnOlderCommitIsARollbackAndFailsTheDeployItReplaced(t *testing.T) {
	for name, tc := range map[string]struct {
		runs  []run
		times map[string]time.Time
	}{
		"deployed here before": {
			runs: []run{
				{id: "r1", status: "Succeeded", commit: "c1", start: 1, end: 2},
				{id: "r2", status: "Succeeded", commit: "c2", start: 10, end: 12},
				{id: "r3", status: "Succeeded", commit: "c1", start: 14, end: 15},
			},
			times: commitsAt("c1", 0.0, "c2", 8.0),
		},
		"deployed before, times unknown": {
			runs: []run{
				{id: "r1", status: "Succeeded", commit: "c1", start: 1, end: 2},
				{id: "r2", status: "Succeeded", commit: "c2", start: 10, end: 12},
				{id: "r3", status: "Succeeded", commit: "c1", start: 14, end: 15},
			},
		},
		"never deployed here, older by commit time": {
			runs: []run{
				{id: "r1", status: "Succeeded", commit: "c0", start: 1, end: 2},
				{id: "r2", status: "Succeeded", commit: "c2", start: 10, end: 12},
				{id: "r3", status: "Succeeded", commit: "c1", start: 14, end: 15},
			},
			times: commitsAt("c0", 0.0, "c1", 5.0, "c2", 8.0),
		},
	} {
		t.Run(name, func(t *testing.T) {
			m := Compute(history(tc.runs...), tc.times, everything)
			if got := kinds(m.Events); got != "r1:deploy r2:deploy! r3:rollback-push" {
				t.Fatalf("events %s", got)
			}
			r2 := find(t, m.Events, "r2")
			if r2.FailedBy != "r3" || r2.RestoreTime != 3*hour || !r2.Restored.Equal(at(15)) {
				t.Fatalf("r2 %+v, want failed by r3, restored at +15h after 3h", r2)
			}
			s := m.Summary
			if rate, ok := s.ChangeFailureRate(); !ok || s.Failures != 1 || s.Attempts != 2 || rate != 0.5 {
				t.Fatalf("summary %+v, want 1 failure of 2 attempts", s)
			}
			if s.Rollbacks != 1 || s.Deployments != 2 || s.Restore.N != 1 || s.Restore.Median != 3*hour || s.Unrestored != 0 {
				t.Fatalf("summary %+v, want 2 deploys, 1 rollback, restore 3h", s)
			}
		})
	}
}

func TestACommitDeployedAgainAfterARollbackIsNotASecondDeployment(t *testing.T) {
	// c2 goes out, is rolled back by a push of c1, then (fixed elsewhere, say) c2 is
	// promoted a second time: one deployment of c2, one lead time, no second failure.
	h := history(
		run{id: "r1", status: "Succeeded", commit: "c1", start: 1, end: 2},
		run{id: "r2", status: "Succeeded", commit: "c2", start: 10, end: 12},
		run{id: "r3", status: "Succeeded", commit: "c1", start: 14, end: 15},
		run{id: "r4", status: "Succeeded", commit: "c2", start: 20, end: 22},
	)
	m := Compute(h, commitsAt("c1", 0.0, "c2", 8.0), everything)
	if got := kinds(m.Events); got != "r1:deploy r2:deploy! r3:rollback-push r4:rerun" {
		t.Fatalf("events %s", got)
	}
	if s := m.Summary; s.Deployments != 2 || s.LeadTime.N != 2 || s.Reruns != 1 || s.Failures != 1 {
		t.Fatalf("summary %+v", s)
	}
}

func TestAnAutomaticRollbackFailsTheDeployItUndid(t *testing.T) {
	h := history(
		run{id: "r1", status: "Succeeded", commit: "c1", start: 1, end: 2},
		// An alarm during the bake: the run may show Succeeded; the rollback undoes it.
		run{id: "r2", status: "Succeeded", commit: "c2", start: 10, end: 12},
		run{id: "rb", status: "Succeeded", commit: "c1", start: 13, end: 13.5, rollbackOf: "r1", trigger: "AutomatedRollback"},
	)
	m := Compute(h, commitsAt("c1", 0.0, "c2", 9.0), everything)
	if got := kinds(m.Events); got != "r1:deploy r2:deploy! rb:rollback" {
		t.Fatalf("events %s", got)
	}
	r2, rb := find(t, m.Events, "r2"), find(t, m.Events, "rb")
	if r2.FailedBy != "rb" || r2.RestoreTime != 90*time.Minute || !rb.Automatic {
		t.Fatalf("r2 %+v rb %+v, want r2 failed by the automatic rollback rb, restored after 1h30m", r2, rb)
	}
	if s := m.Summary; s.Failures != 1 || s.Attempts != 2 || s.Rollbacks != 1 || s.Restore.Median != 90*time.Minute {
		t.Fatalf("summary %+v", s)
	}
	// A person's rollback-stage is a rollback too, not an automatic one.
	h.Runs[0].Trigger = "ManualRollback"
	if find(t, Compute(h, nil, everything).Events, "rb").Automatic {
		t.Fatal("a ManualRollback counted as automatic")
	}
}

func TestAFailedDeployIsAnAttemptAndAFailureUntilTheNextDeployment(t *testing.T) {
	h := history(
		run{id: "r1", status: "Succeeded", commit: "c1", start: 1, end: 2},
		run{id: "r2", status: "Failed", commit: "c2", start: 10, end: 11, reached: true},
		// Stopped before deploying (the guard refused it, the build failed): not an attempt.
		run{id: "r3", status: "Failed", commit: "c3", start: 12, end: 12.5},
		run{id: "r4", status: "Stopped", commit: "c3", start: 13, end: 13.5},
		run{id: "r5", status: "Succeeded", commit: "c4", start: 14, end: 15},
		// Still in progress, superseded or cancelled: nothing yet.
		run{id: "r6", status: "InProgress", commit: "c5", start: 16, end: 16},
		run{id: "r7", status: "Superseded", commit: "c6", start: 16, end: 16},
	)
	m := Compute(h, commitsAt("c1", 0.0, "c2", 9.0, "c3", 9.5, "c4", 13.0), everything)
	if got := kinds(m.Events); got != "r1:deploy r2:failed-deploy! r5:deploy" {
		t.Fatalf("events %s", got)
	}
	s := m.Summary
	if s.Attempts != 3 || s.Failures != 1 || s.Deployments != 2 || s.Restore.Median != 4*hour || s.Unrestored != 0 {
		t.Fatalf("summary %+v, want 1 failure of 3 attempts, restored after 4h", s)
	}
	// A failure not yet followed by a deployment is open, not restored.
	open := history(h.runsOldestFirst()[:2]...)
	so := Compute(open, nil, everything).Summary
	if so.Failures != 1 || so.Unrestored != 1 || so.Restore.N != 0 {
		t.Fatalf("summary %+v, want 1 open failure", so)
	}
}

// runsOldestFirst turns a built history back into its runs, for a shorter story.
func (h History) runsOldestFirst() []run {
	var out []run
	for i := len(h.Runs) - 1; i >= 0; i-- {
		r := h.Runs[i]
		out = append(out, run{id: r.ID, status: r.Status, commit: r.Commit, start: r.Started.Sub(t0).Hours(),
			end: r.At.Sub(t0).Hours(), rollbackOf: r.RollbackTarget, trigger: r.Trigger, reached: r.ReachedDeploy})
	}
	return out
}

func TestOnlyEventsInsideTheWindowCount(t *testing.T) {
	h := history(
		run{id: "r1", status: "Succeeded", commit: "c1", start: 1, end: 2},
		run{id: "r2", status: "Succeeded", commit: "c2", start: 10, end: 12},
		run{id: "r3", status: "Succeeded", commit: "c1", start: 14, end: 15},
		run{id: "r4", status: "Succeeded", commit: "c3", start: 30, end: 31},
	)
	w := Window{From: at(13), To: at(40)}
	m := Compute(h, commitsAt("c1", 0.0, "c2", 8.0, "c3", 29.0), w)
	s := m.Summary
	// r2 (failed by r3's push) finished before the window: its failure is not the window's.
	if s.Deployments != 1 || s.Failures != 0 || s.Attempts != 1 || s.Rollbacks != 1 || s.LeadTime.Median != 2*hour {
		t.Fatalf("summary %+v, want 1 deploy (r4), 0 failures, 1 rollback", s)
	}
	if s.Window != w || s.Shortened {
		t.Fatalf("window %+v shortened %v, want %+v", s.Window, s.Shortened, w)
	}
	if got := s.PerWeek(); fmt.Sprintf("%.2f", got) != fmt.Sprintf("%.2f", 1/(27.0/24)*7) {
		t.Fatalf("per week %v", got)
	}
}

func TestAWindowCutByTheHistoryBoundIsShortenedAndSaysSo(t *testing.T) {
	h := history(
		run{id: "r2", status: "Succeeded", commit: "c2", start: 10, end: 12},
		run{id: "r3", status: "Succeeded", commit: "c3", start: 14, end: 15},
	)
	h.Bounded = true
	w := Window{From: at(0), To: at(40)}
	s := Compute(h, nil, w).Summary
	if !s.Shortened || !s.Window.From.Equal(at(10)) || !s.Window.To.Equal(at(40)) {
		t.Fatalf("window %+v shortened %v, want from +10h (the oldest run read)", s.Window, s.Shortened)
	}
	if s.LeadTimeUnknown != 2 || s.LeadTime.N != 0 {
		t.Fatalf("summary %+v, want both lead times unknown (no commit times)", s)
	}
	// Not bounded: the window stays as asked, whatever was read.
	h.Bounded = false
	if s := Compute(h, nil, w).Summary; s.Shortened || s.Window != w {
		t.Fatalf("unbounded history shortened the window: %+v", s)
	}
}

func TestACommitterClockAheadGivesZeroLeadTimeNotNegative(t *testing.T) {
	h := history(run{id: "r1", status: "Succeeded", commit: "c1", start: 1, end: 2})
	e := Compute(h, commitsAt("c1", 5.0), everything).Events[0]
	if !e.HasLeadTime || e.LeadTime != 0 {
		t.Fatalf("event %+v, want lead time 0", e)
	}
}

func TestRateIsUndefinedWithoutAttempts(t *testing.T) {
	s := Summarise(nil, everything)
	if _, ok := s.ChangeFailureRate(); ok {
		t.Fatal("a rate with no attempts")
	}
	if s.PerWeek() != 0 || s.LeadTime.N != 0 || s.Restore.Median != 0 {
		t.Fatalf("empty summary %+v", s)
	}
}

func TestTheOrganisationsFiguresAreOverEverySample(t *testing.T) {
	a := Compute(history(
		run{id: "a1", status: "Succeeded", commit: "a1", start: 1, end: 2},
		run{id: "a2", status: "Failed", commit: "a2", start: 3, end: 4, reached: true},
	), commitsAt("a1", 0.0), everything)
	b := Compute(history(
		run{id: "b1", status: "Succeeded", commit: "b1", start: 1, end: 11},
		run{id: "b2", status: "Succeeded", commit: "b2", start: 12, end: 13},
	), commitsAt("b1", 0.0, "b2", 10.0), everything)
	s := Summarise(append(append([]Event(nil), a.Events...), b.Events...), everything)
	// Lead times 2h, 11h, 3h: median 3h (not the median of the two paths' medians).
	if s.Deployments != 3 || s.LeadTime.Median != 3*hour || s.LeadTime.P90 != 11*hour {
		t.Fatalf("summary %+v", s)
	}
	if rate, ok := s.ChangeFailureRate(); !ok || s.Failures != 1 || s.Attempts != 4 || rate != 0.25 {
		t.Fatalf("rate %v of %+v, want 1/4", rate, s)
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	var ten []time.Duration
	for i := 1; i <= 10; i++ {
		ten = append(ten, time.Duration(i))
	}
	for _, tc := range []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{ten, 50, 5}, {ten, 90, 9}, {ten, 100, 10}, {ten, 1, 1},
		{[]time.Duration{7}, 50, 7}, {[]time.Duration{7}, 90, 7},
		{[]time.Duration{1, 2}, 50, 1}, {[]time.Duration{1, 2}, 90, 2},
		{nil, 50, 0},
	} {
		if got := Percentile(tc.in, tc.p); got != tc.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tc.in, tc.p, got, tc.want)
		}
	}
	if s := NewStats([]time.Duration{3, 1, 2}); !reflect.DeepEqual(s.Samples, []time.Duration{1, 2, 3}) || s.Median != 2 || s.P90 != 3 {
		t.Fatalf("NewStats sorted %+v", s)
	}
}
