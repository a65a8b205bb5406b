package dora

import (
	"math"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
)

// Window is the span the metrics cover, From inclusive to To inclusive.
type Window struct {
	From, To time.Time
}

// Last is the window of length d that ends at now.
func Last(d time.Duration, now time.Time) Window {
	now = now.UTC()
	return Window{From: now.Add(-d), To: now}
}

// Contains reports whether t falls inside the window.
func (w Window) Contains(t time.Time) bool { return !t.Before(w.From) && !t.After(w.To) }

// Days is the window's length in days.
func (w Window) Days() float64 { return w.To.Sub(w.From).Hours() / 24 }

// Run is one pipeline run as the metrics read it: the guard's reading of it, and what the
// metrics need besides.
type Run struct {
	gate.Execution
	// Trigger is CodePipeline's triggerType: AutomatedRollback, ManualRollback,
	// CloudWatchEvent, StartPipelineExecution, ... ("" when not said).
	Trigger string
	// ReachedDeploy says, for a Failed or Stopped STANDARD run, that its Deploy stage had
	// started: only then is it a failed deployment. Read sets it; ignored for other runs.
	ReachedDeploy bool
}

// History is one environment's runs as read, newest first.
type History struct {
	// Pipeline is the pipeline read.
	Pipeline string
	// Runs are the runs read, newest first.
	Runs []Run
	// Bounded says the page bound stopped the read before it reached the window's start
	// (or the start of the history): the runs cover only the span since Oldest.
	Bounded bool
	// Oldest is the start of the oldest run read (zero when none was).
	Oldest time.Time
	// Calls is the number of CodePipeline calls the read made.
	Calls int
}

// Commits is the distinct commits of the runs, newest first: the ones whose commit times
// Compute needs.
func (h History) Commits() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range h.Runs {
		if r.Commit != "" && !seen[r.Commit] {
			seen[r.Commit] = true
			out = append(out, r.Commit)
		}
	}
	return out
}

// Kind is what a run was, for the metrics (see the package documentation).
type Kind string

// The kinds of event.
const (
	KindDeploy       Kind = "deploy"
	KindRerun        Kind = "rerun"
	KindRollbackPush Kind = "rollback-push"
	KindRollback     Kind = "rollback"
	KindFailedDeploy Kind = "failed-deploy"
)

// Event is one run that matters to the metrics.
type Event struct {
	// Run is the pipeline execution id.
	Run string
	// Commit is the run's commit (for a rollback, the commit it restored).
	Commit string
	// Kind is what the run was.
	Kind Kind
	// At is when the run finished.
	At time.Time
	// CommitTime is the commit's committer date; zero when unknown.
	CommitTime time.Time
	// LeadTime is, for a deploy whose commit time is known, CommitTime to At (never
	// negative: a committer clock ahead of CodePipeline's counts as 0). HasLeadTime says
	// whether it is known.
	LeadTime    time.Duration
	HasLeadTime bool
	// Automatic is, for a rollback, whether CodePipeline started it on its own
	// (AutomatedRollback) rather than a person (ManualRollback).
	Automatic bool
	// Failed says a deploy was later undone (by FailedBy: a rollback run, or a
	// rollback-push), or the event is a failed deploy (FailedBy is the run itself).
	Failed   bool
	FailedBy string
	// Restored is, for a failure, the end of the run that restored the environment; zero
	// while it has not been. RestoreTime is the failure's time to restore.
	Restored    time.Time
	RestoreTime time.Duration
	// failedAt is when the failure began.
	failedAt time.Time
}

// IsRestored says a failure was restored.
func (e Event) IsRestored() bool { return !e.Restored.IsZero() }

// Classify turns a history (newest first, as read) into its events, oldest first, using
// the commit times known (commit id → committer date; a missing commit is unknown).
func Classify(h History, times map[string]time.Time) []Event {
	var (
		events  []*Event
		current string              // the commit deployed now
		intro   *Event              // the deploy that introduced current (nil: a rollback did)
		seen    = map[string]bool{} // commits deployed before, in what was read
		open    []*Event            // failures not yet restored
	)
	fail := func(e *Event, by string, at time.Time) {
		if e.Failed {
			return
		}
		e.Failed, e.FailedBy, e.failedAt = true, by, at
		open = append(open, e)
	}
	restore := func(at time.Time) {
		for _, f := range open {
			f.Restored, f.RestoreTime = at, max(at.Sub(f.failedAt), 0)
		}
		open = nil
	}
	for i := len(h.Runs) - 1; i >= 0; i-- {
		r := h.Runs[i]
		ev := &Event{Run: r.ID, Commit: r.Commit, At: r.At, CommitTime: times[r.Commit]}
		switch status := types.PipelineExecutionStatus(r.Status); {
		case r.Commit == "":
			continue
		case r.Rollback():
			if status != types.PipelineExecutionStatusSucceeded {
				continue
			}
			ev.Kind, ev.Automatic = KindRollback, r.Trigger == string(types.TriggerTypeAutomatedRollback)
			current, intro = r.Commit, nil
		case status == types.PipelineExecutionStatusSucceeded:
			switch {
			case r.Commit == current, seen[r.Commit] && newer(times, r.Commit, current):
				ev.Kind = KindRerun
			case seen[r.Commit] || older(times, r.Commit, current):
				ev.Kind = KindRollbackPush
				if intro != nil {
					fail(intro, r.ID, intro.At)
				}
			default:
				ev.Kind = KindDeploy
				if t, ok := times[r.Commit]; ok && !t.IsZero() {
					ev.LeadTime, ev.HasLeadTime = max(r.At.Sub(t), 0), true
				}
			}
			if ev.Kind != KindRerun {
				current, intro = r.Commit, nil
				if ev.Kind == KindDeploy {
					intro = ev
				}
			}
			if r.RolledBack() && ev.Kind == KindDeploy {
				fail(ev, r.RolledBackBy, r.At)
			}
		case (status == types.PipelineExecutionStatusFailed || status == types.PipelineExecutionStatusStopped) && r.ReachedDeploy:
			ev.Kind = KindFailedDeploy
			fail(ev, r.ID, r.At)
		default:
			continue
		}
		events = append(events, ev)
		if status := types.PipelineExecutionStatus(r.Status); status == types.PipelineExecutionStatusSucceeded {
			seen[r.Commit] = true
		}
		// A run that left a commit deployed ends every failure before it. It is never a
		// failure itself: a rolled-back run is not Deployed.
		if gate.Deployed(r.Execution) {
			restore(r.At)
		}
	}
	out := make([]Event, len(events))
	for i, e := range events {
		out[i] = *e
	}
	return out
}

// older reports whether both commits' times are known and commit's is earlier than
// current's; newer whether they are known and commit's is not earlier.
func older(times map[string]time.Time, commit, current string) bool {
	a, b, ok := both(times, commit, current)
	return ok && a.Before(b)
}

func newer(times map[string]time.Time, commit, current string) bool {
	a, b, ok := both(times, commit, current)
	return ok && !a.Before(b)
}

func both(times map[string]time.Time, commit, current string) (a, b time.Time, ok bool) {
	if current == "" {
		return a, b, false
	}
	a, b = times[commit], times[current]
	return a, b, !a.IsZero() && !b.IsZero()
}

// Stats is a distribution of durations.
type Stats struct {
	// N is the number of samples.
	N int
	// Median and P90 are nearest-rank percentiles; zero when N is 0.
	Median, P90 time.Duration
	// Samples are the durations, in increasing order.
	Samples []time.Duration
}

// NewStats summarises samples (it sorts a copy).
func NewStats(samples []time.Duration) Stats {
	s := append([]time.Duration(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return Stats{N: len(s), Median: Percentile(s, 50), P90: Percentile(s, 90), Samples: s}
}

// Percentile is the nearest-rank p-th percentile of sorted: the smallest sample that at
// least p% of the samples do not exceed. Zero for no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// Summary is the four keys over a window.
type Summary struct {
	// Window is the span covered: the one asked for, or shorter when Shortened.
	Window Window
	// Shortened says the history bound cut the window: it starts at the oldest run read.
	Shortened bool
	// Deployments is the deploys that finished in the window.
	Deployments int
	// LeadTime is the lead times of those deploys whose commit time is known;
	// LeadTimeUnknown counts the others.
	LeadTime        Stats
	LeadTimeUnknown int
	// Attempts is deploys and failed deploys; Failures the failed deploys and the deploys
	// later rolled back.
	Attempts, Failures int
	// Restore is the times to restore of the failures restored; Unrestored counts the
	// failures still open at the time of reading.
	Restore    Stats
	Unrestored int
	// Rollbacks counts rollback runs and rollback-pushes; Reruns the reruns.
	Rollbacks, Reruns int
}

// PerWeek is the deployment frequency: deploys per 7 days of the window.
func (s Summary) PerWeek() float64 {
	if d := s.Window.Days(); d > 0 {
		return float64(s.Deployments) / d * 7
	}
	return 0
}

// ChangeFailureRate is Failures/Attempts; ok is false when there were no attempts.
func (s Summary) ChangeFailureRate() (rate float64, ok bool) {
	if s.Attempts == 0 {
		return 0, false
	}
	return float64(s.Failures) / float64(s.Attempts), true
}

// Summarise counts the events that finished inside w (events of several environments or
// paths may be mixed: the organisation's figures are a Summarise of all their events).
func Summarise(events []Event, w Window) Summary {
	s := Summary{Window: w}
	var lead, restore []time.Duration
	for _, e := range events {
		if !w.Contains(e.At) {
			continue
		}
		switch e.Kind {
		case KindDeploy:
			s.Deployments++
			s.Attempts++
			if e.HasLeadTime {
				lead = append(lead, e.LeadTime)
			} else {
				s.LeadTimeUnknown++
			}
		case KindFailedDeploy:
			s.Attempts++
		case KindRollback, KindRollbackPush:
			s.Rollbacks++
		case KindRerun:
			s.Reruns++
		}
		if e.Failed && (e.Kind == KindDeploy || e.Kind == KindFailedDeploy) {
			s.Failures++
			if e.IsRestored() {
				restore = append(restore, e.RestoreTime)
			} else {
				s.Unrestored++
			}
		}
	}
	s.LeadTime, s.Restore = NewStats(lead), NewStats(restore)
	return s
}

// Metrics is one environment's events and summary.
type Metrics struct {
	// Events are every event read (the window's and the ones before it), oldest first.
	Events []Event
	// Summary is the window's figures.
	Summary Summary
}

// Compute classifies h and summarises the window w, shortened to the span read when the
// history bound stopped the read.
func Compute(h History, times map[string]time.Time, w Window) Metrics {
	events := Classify(h, times)
	shortened := false
	if h.Bounded && h.Oldest.After(w.From) {
		w.From, shortened = h.Oldest, true
	}
	s := Summarise(events, w)
	s.Shortened = shortened
	return Metrics{Events: events, Summary: s}
}
