package controller

import (
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/sandboxes/state"
)

// TestNotificationsSayWhatWhyAndWhatToDo: every notification has an SNS-valid subject (at
// most 100 printable ASCII characters) naming the sandbox and the path, the three
// attributes, and a message with what happened, why and what to do.
func TestNotificationsSayWhatWhyAndWhatToDo(t *testing.T) {
	long := cfg
	long.PathID = strings.Repeat("team", 10) + "-" + strings.Repeat("service", 10)
	three := []state.Sandbox{live("bob"), live("carol"), live("dave")}
	var notes []Notification
	collect := func(c Config, set []state.Sandbox, ev Event) {
		t.Helper()
		s := &state.Set{Sandboxes: set}
		d, err := Decide(c, s, ev)
		if err != nil || len(d.Notify) != 1 {
			t.Fatalf("%s %s: %v, %+v", ev.Kind, ev.Reference, err, d)
		}
		notes = append(notes, d.Notify...)
	}
	for _, c := range []Config{cfg, long} {
		collect(c, nil, push("p", strings.Repeat("x", 200), c1, t0))
		collect(c, nil, push("p", "$(id)\n\x07é", c1, t0))
		collect(c, three, push("p", "alice", c1, t0))
		collect(c, append(three[:3:3], with(live("alice"), status(state.StatusExpired))), with2(push("p", "alice", c1, t0), func(e *Event) { e.Caller = bob }))
		collect(c, []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Action = state.StatusDestroyFailed, state.ActionDestroy })}, push("p", "alice", c1, t0))
		collect(c, []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Action = state.StatusDestroying, state.ActionDestroy })}, push("p", "alice", c1, t0))
		collect(c, []state.Sandbox{with(live("alice"), status(state.StatusDeploying))}, built("b", project+":alice-1", BuildFailed))
		collect(c, []state.Sandbox{live("alice")}, sweepAt("s", t0.Add(60*time.Hour), nil))
		collect(c, []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Action = state.StatusDestroying, state.ActionExpire })}, built("b", project+":alice-1", BuildSucceeded))
		collect(c, []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Action = state.StatusDestroying, state.ActionDestroy })}, built("b", project+":alice-1", BuildSucceeded))
		collect(c, []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Action = state.StatusDestroying, state.ActionDestroy })}, built("b", project+":alice-1", BuildFailed))
		collect(c, []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Owner = "" })}, sweepAt("s", t0.Add(60*time.Hour), nil))
	}
	events := map[string]bool{}
	for _, n := range notes {
		events[n.Event] = true
		if len(n.Subject) > MaxSubject || !strings.HasPrefix(n.Subject, "sandbox ") || !strings.Contains(n.Subject, " of "+n.Subject[strings.Index(n.Subject, " of ")+4:]) {
			t.Errorf("subject %q", n.Subject)
		}
		for _, r := range n.Subject {
			if r < 0x20 || r > 0x7e {
				t.Errorf("subject %q has %q, which SNS refuses", n.Subject, r)
			}
		}
		a := n.Attributes()
		if a["sandbox"] == "" || a["owner"] == "" || a["event"] != n.Event {
			t.Errorf("attributes %v", a)
		}
		if !strings.Contains(n.Message, "Why: ") && n.Event != EventDestroyed {
			t.Errorf("%s message says no why:\n%s", n.Event, n.Message)
		}
		if !strings.Contains(n.Message, "What to do: ") && n.Event != EventDestroyed {
			t.Errorf("%s message says nothing to do:\n%s", n.Event, n.Message)
		}
	}
	for _, e := range []string{EventRefused, EventFailed, EventExpiring, EventExpired, EventDestroyed, EventDestroyFailed} {
		if !events[e] {
			t.Errorf("no %s notification was made", e)
		}
	}
	// the subject names the path whole when it fits
	if notes[2].Subject != "sandbox alice of payments-checkout: refused, too many sandboxes" {
		t.Errorf("cap subject %q", notes[2].Subject)
	}
	if !strings.Contains(notes[2].Message, "at most 3 sandboxes at once, and 3 count: bob (live), carol (live), dave (live)") {
		t.Errorf("cap message names neither the cap nor the sandboxes:\n%s", notes[2].Message)
	}
	if notes[3].Owner != bob {
		t.Errorf("a refused revival is told to %s, want its pusher %s", notes[3].Owner, bob)
	}
	if !strings.Contains(notes[7].Message, "will be destroyed at 2026-05-04 10:00 UTC") || !strings.Contains(notes[7].Message, "push to sandbox/alice") {
		t.Errorf("warning:\n%s", notes[7].Message)
	}
	if notes[11].Owner != OwnerUnknown {
		t.Errorf("owner %q, want %q", notes[11].Owner, OwnerUnknown)
	}
	if !strings.Contains(notes[0].Message, "characters is longer than 20") || !strings.Contains(notes[1].Message, "not lowercase letters and digits") {
		t.Errorf("refused names:\n%s\n%s", notes[0].Message, notes[1].Message)
	}
}
