package controller

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/sandboxes/state"
)

const (
	repo    = "payments-checkout"
	project = "payments-checkout-dev-sandbox"
	alice   = "arn:aws:sts::222222222222:assumed-role/Developer/alice"
	bob     = "arn:aws:iam::222222222222:user/bob"
)

var (
	cfg = Config{Repository: repo, Project: project, PathID: "payments-checkout", Environment: "dev",
		Max: 3, TTL: 72 * time.Hour, Warning: 18 * time.Hour}
	t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	c1 = strings.Repeat("1", 40)
	c2 = strings.Repeat("2", 40)
)

// Events, as Decode makes them.
func push(id, name, commit string, at time.Time) Event {
	return Event{ID: id, Time: at, Kind: KindPush, Repository: repo, ReferenceType: "branch", Reference: "sandbox/" + name, Commit: commit, Caller: alice}
}
func del(id, name string, at time.Time) Event {
	return Event{ID: id, Time: at, Kind: KindDelete, Repository: repo, ReferenceType: "branch", Reference: "sandbox/" + name, Commit: c1, Caller: alice}
}
func built(id, build, status string) Event {
	return Event{ID: id, Time: t0, Kind: KindBuild, Project: project, BuildID: build, BuildStatus: status}
}
func sweepAt(id string, at time.Time, finished map[string]string) Event {
	return Event{ID: id, Time: at, Kind: KindSweep, Finished: finished}
}

// live is a sandbox deployed from c1 at t0 by alice, with its build recorded.
func live(name string) state.Sandbox {
	return state.Sandbox{Name: name, Branch: "sandbox/" + name, Commit: c1, Owner: alice, Created: t0, Pushed: t0,
		Status: state.StatusLive, Build: project + ":" + name + "-1", Action: state.ActionDeploy, Event: "e-" + name, Requested: t0}
}

// with is sb changed by f.
func with(sb state.Sandbox, f func(*state.Sandbox)) state.Sandbox { f(&sb); return sb }

func status(s state.Status) func(*state.Sandbox) { return func(sb *state.Sandbox) { sb.Status = s } }

// asked is sb's record once ev asked for action: no build yet.
func asked(sb state.Sandbox, st state.Status, action string, ev Event) state.Sandbox {
	sb.Status, sb.Action, sb.Build, sb.Event, sb.Requested = st, action, "", ev.ID, ev.Time
	return sb
}

// deployBuild and destroyBuild describe a Build as the tests compare them.
func deployBuild(name, commit, event string) string {
	return fmt.Sprintf("deploy %s %s token=%s", name, commit, Token(event, name, "deploy"))
}
func destroyBuild(name, commit, event string) string {
	return fmt.Sprintf("destroy %s %s token=%s", name, commit, Token(event, name, "destroy"))
}
func describeBuilds(bs []Build) []string {
	var out []string
	for _, b := range bs {
		out = append(out, fmt.Sprintf("%s %s %s token=%s", b.Action, b.Sandbox, b.Commit, b.Token))
	}
	return out
}
func describeNotes(ns []Notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Event+" "+n.Sandbox+" "+n.Owner)
	}
	return out
}

type decideCase struct {
	name   string
	set    []state.Sandbox
	ev     Event
	want   []state.Sandbox // the set after; nil with write false: unchanged
	write  bool
	stop   []string
	start  []string
	notify []string
	err    string // a part of the error, when Decide must refuse the event
}

func runCases(t *testing.T, cases []decideCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set := &state.Set{Version: 7, Sandboxes: slices.Clone(tc.set)}
			d, err := Decide(cfg, set, tc.ev)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				if d.Write || d.Start != nil || d.Stop != nil || d.Notify != nil {
					t.Errorf("a refused event decided %+v", d)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if !tc.write && want == nil {
				want = tc.set
			}
			if d.Write != tc.write || !slices.Equal(set.Sandboxes, want) {
				t.Errorf("write %v, set\n%v\nwant write %v, set\n%v", d.Write, set, tc.write, state.Set{Version: 7, Sandboxes: want})
			}
			if !d.Write && !slices.Equal(set.Sandboxes, tc.set) {
				t.Errorf("the set changed but Write is false")
			}
			if !slices.Equal(d.Stop, tc.stop) {
				t.Errorf("stop %v, want %v", d.Stop, tc.stop)
			}
			if got := describeBuilds(d.Start); !slices.Equal(got, tc.start) {
				t.Errorf("start %q, want %q", got, tc.start)
			}
			if got := describeNotes(d.Notify); !slices.Equal(got, tc.notify) {
				t.Errorf("notify %q, want %q", got, tc.notify)
			}
			if len(d.Log) == 0 {
				t.Error("nothing logged")
			}
		})
	}
}

func TestPush(t *testing.T) {
	ev := push("p1", "alice", c2, t0.Add(time.Hour))
	newAlice := state.Sandbox{Name: "alice", Branch: "sandbox/alice", Commit: c2, Owner: alice, Created: ev.Time, Pushed: ev.Time,
		Status: state.StatusDeploying, Action: state.ActionDeploy, Event: "p1", Requested: ev.Time}
	redeploy := func(sb state.Sandbox) state.Sandbox {
		sb = asked(sb, state.StatusDeploying, state.ActionDeploy, ev)
		sb.Commit, sb.Pushed, sb.Warned, sb.Reason = c2, ev.Time, time.Time{}, ""
		return sb
	}
	two := []state.Sandbox{live("bob"), with(live("carol"), status(state.StatusFailed))}
	three := append(slices.Clone(two), with(live("dave"), status(state.StatusDestroyFailed)))
	capReason := "the path may have at most 3 sandboxes at once, and 3 count: bob (live), carol (failed), dave (destroy-failed)"
	runCases(t, []decideCase{{
		name: "a new sandbox is created and deployed",
		ev:   ev, write: true, want: []state.Sandbox{newAlice},
		start: []string{deployBuild("alice", c2, "p1")},
	}, {
		name: "a new sandbox is created while one fewer than the cap counts",
		set:  two, ev: ev, write: true, want: append(slices.Clone(two), newAlice),
		start: []string{deployBuild("alice", c2, "p1")},
	}, {
		name: "a new sandbox exactly at the cap is recorded refused and its pusher told",
		set:  three, ev: ev, write: true,
		want: append(slices.Clone(three), with(newAlice, func(sb *state.Sandbox) {
			sb.Status, sb.Action, sb.Requested, sb.Reason = state.StatusRefused, "", time.Time{}, capReason
		})),
		notify: []string{"refused alice " + alice},
	}, {
		name: "expired and refused sandboxes do not count against the cap",
		set:  append(slices.Clone(two), with(live("erin"), status(state.StatusExpired)), with(live("fay"), status(state.StatusRefused))),
		ev:   ev, write: true,
		want:  append(slices.Clone(two), with(live("erin"), status(state.StatusExpired)), with(live("fay"), status(state.StatusRefused)), newAlice),
		start: []string{deployBuild("alice", c2, "p1")},
	}, {
		name: "a refused sandbox pushed again is tried again like a new one, by its new pusher",
		set:  append(slices.Clone(two), with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Owner, sb.Reason = state.StatusRefused, bob, "cap" })),
		ev:   ev, write: true, want: append(slices.Clone(two), newAlice),
		start: []string{deployBuild("alice", c2, "p1")},
	}, {
		name: "a refused sandbox pushed again while the cap is still reached stays refused",
		set:  append(slices.Clone(three), with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Reason = state.StatusRefused, "cap" })),
		ev:   ev, write: true,
		want: append(slices.Clone(three), with(newAlice, func(sb *state.Sandbox) {
			sb.Status, sb.Action, sb.Requested, sb.Reason = state.StatusRefused, "", time.Time{}, capReason
		})),
		notify: []string{"refused alice " + alice},
	}, {
		name: "a live sandbox is deployed again, its warning forgotten",
		set:  []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Warned = t0 })},
		ev:   ev, write: true, want: []state.Sandbox{redeploy(live("alice"))},
		start: []string{deployBuild("alice", c2, "p1")},
	}, {
		name: "a failed sandbox is deployed again, its reason cleared",
		set:  []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Reason = state.StatusFailed, "the deploy failed" })},
		ev:   ev, write: true, want: []state.Sandbox{redeploy(live("alice"))},
		start: []string{deployBuild("alice", c2, "p1")},
	}, {
		name: "a push while a deploy runs stops that deploy: the newer push wins",
		set:  []state.Sandbox{with(live("alice"), status(state.StatusDeploying))},
		ev:   ev, write: true, want: []state.Sandbox{redeploy(live("alice"))},
		stop:  []string{project + ":alice-1"},
		start: []string{deployBuild("alice", c2, "p1")},
	}, {
		name: "a push while a deploy is asked for but not started stops nothing",
		set:  []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Build = state.StatusDeploying, "" })},
		ev:   ev, write: true, want: []state.Sandbox{redeploy(live("alice"))},
		start: []string{deployBuild("alice", c2, "p1")},
	}, {
		name: "an expired sandbox is revived when the cap allows",
		set: append(slices.Clone(two), with(live("alice"), func(sb *state.Sandbox) {
			sb.Status, sb.Action, sb.Reason = state.StatusExpired, state.ActionExpire, "expired"
		})),
		ev: ev, write: true, want: append(slices.Clone(two), redeploy(live("alice"))),
		start: []string{deployBuild("alice", c2, "p1")},
	}, {
		name: "an expired sandbox counts again: reviving it over the cap is refused, it stays expired",
		set:  append(slices.Clone(three), with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Action = state.StatusExpired, state.ActionExpire })),
		ev:   ev, write: true,
		want: append(slices.Clone(three), with(live("alice"), func(sb *state.Sandbox) {
			sb.Status, sb.Action, sb.Commit, sb.Pushed, sb.Event, sb.Reason = state.StatusExpired, state.ActionExpire, c2, ev.Time, "p1", capReason
		})),
		notify: []string{"refused alice " + alice},
	}, {
		name: "a push to a sandbox being destroyed is refused, nothing written",
		set:  []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Action = state.StatusDestroying, state.ActionDestroy })},
		ev:   ev, notify: []string{"refused alice " + alice},
	}, {
		name: "a push to a sandbox whose destroy failed is refused, nothing written",
		set:  []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Action = state.StatusDestroyFailed, state.ActionDestroy })},
		ev:   ev, notify: []string{"refused alice " + alice},
	}, {
		name: "the same push delivered again after its build was recorded does nothing",
		set:  []state.Sandbox{with(redeploy(live("alice")), func(sb *state.Sandbox) { sb.Build = project + ":alice-2" })},
		ev:   ev,
	}, {
		name: "the same push delivered again before its build was recorded starts it with the same token",
		set:  []state.Sandbox{redeploy(live("alice"))},
		ev:   ev, start: []string{deployBuild("alice", c2, "p1")},
	}, {
		name: "the same refused push delivered again notifies nothing more",
		set: append(slices.Clone(three), with(newAlice, func(sb *state.Sandbox) {
			sb.Status, sb.Action, sb.Requested, sb.Reason = state.StatusRefused, "", time.Time{}, capReason
		})),
		ev: ev,
	}, {
		name: "a push without a callerUserArn makes a sandbox of unknown owner",
		ev:   with2(ev, func(e *Event) { e.Caller = "" }), write: true,
		want:  []state.Sandbox{with(newAlice, func(sb *state.Sandbox) { sb.Owner = "" })},
		start: []string{deployBuild("alice", c2, "p1")},
	}})
}

func with2(ev Event, f func(*Event)) Event { f(&ev); return ev }

func TestPushOfAnInvalidNameDeploysAndRecordsNothing(t *testing.T) {
	var cases []decideCase
	for _, name := range []string{"Alice", "a/b", "$(id)", "", "-a", "a--b", "1abc", "alice_x", strings.Repeat("a", 21), strings.Repeat("x", 200), "ali\nce"} {
		cases = append(cases, decideCase{
			name: fmt.Sprintf("sandbox/%.30q", name), set: []state.Sandbox{live("bob")},
			ev: push("p1", name, c2, t0), notify: []string{"refused " + name + " " + alice},
		})
	}
	runCases(t, cases)
}

func TestEventsOfAnotherRepositoryBranchOrProjectAreRefused(t *testing.T) {
	set := []state.Sandbox{live("alice")}
	runCases(t, []decideCase{
		{name: "another repository", set: set, ev: with2(push("p", "alice", c2, t0), func(e *Event) { e.Repository = "other" }), err: `detail.repositoryName "other": not this path's repository payments-checkout`},
		{name: "a tag", set: set, ev: with2(push("p", "alice", c2, t0), func(e *Event) { e.ReferenceType = "tag" }), err: `detail.referenceType "tag": want branch`},
		{name: "a branch outside sandbox/", set: set, ev: with2(push("p", "", c2, t0), func(e *Event) { e.Reference = "main" }), err: `detail.referenceName "main": want a branch sandbox/<name>`},
		{name: "sandbox without the slash", set: set, ev: with2(push("p", "", c2, t0), func(e *Event) { e.Reference = "sandboxalice" }), err: `detail.referenceName "sandboxalice"`},
		{name: "a delete in another repository", set: set, ev: with2(del("d", "alice", t0), func(e *Event) { e.Repository = "other" }), err: `detail.repositoryName "other"`},
		{name: "a build of another project", set: set, ev: with2(built("b", project+":alice-1", BuildFailed), func(e *Event) { e.Project = "other" }), err: `detail.project-name "other": not this path's sandbox project ` + project},
		{name: "an unknown kind", set: set, ev: Event{ID: "x", Kind: "poke"}, err: `event kind "poke"`},
	})
}

func TestDelete(t *testing.T) {
	ev := del("d1", "alice", t0.Add(2*time.Hour))
	destroying := func(sb state.Sandbox) state.Sandbox {
		sb = asked(sb, state.StatusDestroying, state.ActionDestroy, ev)
		sb.Reason = "its branch was deleted"
		return sb
	}
	runCases(t, []decideCase{{
		name: "an unknown sandbox: nothing", set: []state.Sandbox{live("bob")}, ev: ev,
	}, {
		name: "a branch with an invalid name: nothing", set: []state.Sandbox{live("bob")}, ev: del("d1", "$(id)", t0),
	}, {
		name: "a live sandbox is destroyed",
		set:  []state.Sandbox{live("bob"), live("alice")}, ev: ev, write: true,
		want:  []state.Sandbox{live("bob"), destroying(live("alice"))},
		start: []string{destroyBuild("alice", c1, "d1")},
	}, {
		name: "a deploying sandbox: its deploy is stopped, then it is destroyed",
		set:  []state.Sandbox{with(live("alice"), status(state.StatusDeploying))}, ev: ev, write: true,
		want:  []state.Sandbox{destroying(live("alice"))},
		stop:  []string{project + ":alice-1"},
		start: []string{destroyBuild("alice", c1, "d1")},
	}, {
		name: "a failed sandbox is destroyed (its finished deploy is not stopped)",
		set:  []state.Sandbox{with(live("alice"), status(state.StatusFailed))}, ev: ev, write: true,
		want:  []state.Sandbox{destroying(live("alice"))},
		start: []string{destroyBuild("alice", c1, "d1")},
	}, {
		name: "a destroy-failed sandbox: the destroy is tried again",
		set:  []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Action = state.StatusDestroyFailed, state.ActionDestroy })},
		ev:   ev, write: true, want: []state.Sandbox{destroying(live("alice"))},
		start: []string{destroyBuild("alice", c1, "d1")},
	}, {
		name: "an expired sandbox: the record is removed, nothing built",
		set:  []state.Sandbox{live("bob"), with(live("alice"), status(state.StatusExpired))}, ev: ev, write: true,
		want: []state.Sandbox{live("bob")},
	}, {
		name: "a refused sandbox: the record is removed, nothing built",
		set:  []state.Sandbox{with(live("alice"), status(state.StatusRefused)), live("bob")}, ev: ev, write: true,
		want: []state.Sandbox{live("bob")},
	}, {
		name: "a sandbox being destroyed after its branch was deleted: nothing more",
		set:  []state.Sandbox{with(destroying(live("alice")), func(sb *state.Sandbox) { sb.Event, sb.Build = "d0", project+":alice-2" })}, ev: ev,
	}, {
		name: "a sandbox being expired: the destroy goes on, and its success will remove the record",
		set:  []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Action = state.StatusDestroying, state.ActionExpire })},
		ev:   ev, write: true,
		want: []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Action = state.StatusDestroying, state.ActionDestroy })},
	}, {
		name: "the same delete delivered again before its build was recorded starts it with the same token",
		set:  []state.Sandbox{destroying(live("alice"))}, ev: ev,
		start: []string{destroyBuild("alice", c1, "d1")},
	}})
}

func TestBuildFinished(t *testing.T) {
	deploying := with(live("alice"), status(state.StatusDeploying))
	destroying := with(live("alice"), func(sb *state.Sandbox) {
		sb.Status, sb.Action, sb.Reason = state.StatusDestroying, state.ActionDestroy, "its branch was deleted"
	})
	expiring := with(live("alice"), func(sb *state.Sandbox) {
		sb.Status, sb.Action, sb.Reason = state.StatusDestroying, state.ActionExpire, "expired after 72h without a push"
	})
	current := project + ":alice-1"
	runCases(t, []decideCase{{
		name: "a deploy that succeeds makes the sandbox live, silently",
		set:  []state.Sandbox{deploying}, ev: built("b", current, BuildSucceeded), write: true,
		want: []state.Sandbox{live("alice")},
	}, {
		name: "a deploy that fails makes it failed, and its owner is told",
		set:  []state.Sandbox{deploying}, ev: built("b", current, BuildFailed), write: true,
		want: []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) {
			sb.Status, sb.Reason = state.StatusFailed, "the deploy of 111111111111 failed (build "+current+")"
		})},
		notify: []string{"failed alice " + alice},
	}, {
		name: "a current deploy that was stopped (not by a newer push) makes it failed",
		set:  []state.Sandbox{deploying}, ev: built("b", current, BuildStopped), write: true,
		want: []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) {
			sb.Status, sb.Reason = state.StatusFailed, "the deploy of 111111111111 was stopped (build "+current+")"
		})},
		notify: []string{"failed alice " + alice},
	}, {
		name: "a superseded deploy's end (stopped by a newer push) is ignored",
		set:  []state.Sandbox{deploying}, ev: built("b", project+":alice-0", BuildStopped),
	}, {
		name: "a superseded deploy that succeeded is ignored too",
		set:  []state.Sandbox{deploying}, ev: built("b", project+":alice-0", BuildSucceeded),
	}, {
		name: "a build of no sandbox is ignored",
		set:  []state.Sandbox{deploying}, ev: built("b", project+":zzz", BuildSucceeded),
	}, {
		name: "a build whose start was not yet recorded is ignored (no sandbox has it)",
		set:  []state.Sandbox{with(deploying, func(sb *state.Sandbox) { sb.Build = "" })}, ev: built("b", current, BuildSucceeded),
	}, {
		name: "the same end delivered twice: the second changes nothing",
		set:  []state.Sandbox{live("alice")}, ev: built("b", current, BuildSucceeded),
	}, {
		name: "a destroy after a delete that succeeds removes the record, and the owner is told",
		set:  []state.Sandbox{live("bob"), destroying}, ev: built("b", current, BuildSucceeded), write: true,
		want: []state.Sandbox{live("bob")}, notify: []string{"destroyed alice " + alice},
	}, {
		name: "a destroy of an expiry that succeeds keeps the record, expired",
		set:  []state.Sandbox{expiring}, ev: built("b", current, BuildSucceeded), write: true,
		want:   []state.Sandbox{with(expiring, status(state.StatusExpired))},
		notify: []string{"expired alice " + alice},
	}, {
		name: "a destroy that fails makes it destroy-failed",
		set:  []state.Sandbox{destroying}, ev: built("b", current, BuildFailed), write: true,
		want: []state.Sandbox{with(destroying, func(sb *state.Sandbox) {
			sb.Status, sb.Reason = state.StatusDestroyFailed, "the destroy failed (build "+current+")"
		})},
		notify: []string{"destroy-failed alice " + alice},
	}, {
		name: "a destroy that was stopped makes it destroy-failed",
		set:  []state.Sandbox{expiring}, ev: built("b", current, BuildStopped), write: true,
		want: []state.Sandbox{with(expiring, func(sb *state.Sandbox) {
			sb.Status, sb.Reason = state.StatusDestroyFailed, "the destroy was stopped (build "+current+")"
		})},
		notify: []string{"destroy-failed alice " + alice},
	}, {
		name: "a build whose SANDBOX variable names another sandbox is refused",
		set:  []state.Sandbox{deploying}, ev: with2(built("b", current, BuildSucceeded), func(e *Event) { e.Variables = map[string]string{"SANDBOX": "bob"} }),
		err: `SANDBOX "bob": build ` + current + ` is sandbox alice's`,
	}, {
		name: "a build whose SANDBOX_ACTION is not the sandbox's is refused",
		set:  []state.Sandbox{deploying}, ev: with2(built("b", current, BuildSucceeded), func(e *Event) { e.Variables = map[string]string{"SANDBOX": "alice", "SANDBOX_ACTION": "destroy"} }),
		err: `SANDBOX_ACTION "destroy"`,
	}})
}

func TestSweep(t *testing.T) {
	warnAt := t0.Add(cfg.TTL - cfg.Warning) // 54h after the last push
	expireAt := t0.Add(cfg.TTL)
	expiring := func(sb state.Sandbox, ev Event) state.Sandbox {
		sb = asked(sb, state.StatusDestroying, state.ActionExpire, ev)
		sb.Reason = "expired after 72h without a push"
		return sb
	}
	stuck := func(st state.Status, action string) state.Sandbox {
		return with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Action, sb.Build, sb.Event = st, action, "", "p0" })
	}
	runCases(t, []decideCase{{
		name: "a sandbox idle less than TTL-Warning: nothing",
		set:  []state.Sandbox{live("alice")}, ev: sweepAt("s", warnAt.Add(-time.Second), nil),
	}, {
		name: "at TTL-Warning its owner is warned, once",
		set:  []state.Sandbox{live("alice")}, ev: sweepAt("s", warnAt, nil), write: true,
		want:   []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Warned = warnAt })},
		notify: []string{"expiring alice " + alice},
	}, {
		name: "a sandbox already warned is not warned again",
		set:  []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Warned = warnAt })}, ev: sweepAt("s", warnAt.Add(time.Hour), nil),
	}, {
		name: "a failed sandbox is warned too",
		set:  []state.Sandbox{with(live("alice"), status(state.StatusFailed))}, ev: sweepAt("s", warnAt, nil), write: true,
		want:   []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Status, sb.Warned = state.StatusFailed, warnAt })},
		notify: []string{"expiring alice " + alice},
	}, {
		name: "at TTL a live sandbox is destroyed as an expiry",
		set:  []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) { sb.Warned = warnAt }), live("bob")},
		ev:   sweepAt("s", expireAt, nil), write: true,
		want: []state.Sandbox{
			expiring(with(live("alice"), func(sb *state.Sandbox) { sb.Warned = warnAt }), sweepAt("s", expireAt, nil)),
			expiring(live("bob"), sweepAt("s", expireAt, nil)),
		},
		start: []string{destroyBuild("alice", c1, "s"), destroyBuild("bob", c1, "s")},
	}, {
		name: "a sandbox that missed its warning (the sweep did not run) is expired at TTL without one",
		set:  []state.Sandbox{with(live("alice"), status(state.StatusFailed))}, ev: sweepAt("s", expireAt.Add(time.Hour), nil), write: true,
		want:  []state.Sandbox{expiring(live("alice"), sweepAt("s", expireAt.Add(time.Hour), nil))},
		start: []string{destroyBuild("alice", c1, "s")},
	}, {
		name: "deploying, destroying, expired, refused and destroy-failed sandboxes do not expire",
		set: []state.Sandbox{with(live("a"), status(state.StatusDeploying)), with(live("b"), status(state.StatusDestroying)),
			with(live("c"), status(state.StatusExpired)), with(live("d"), status(state.StatusRefused)), with(live("e"), status(state.StatusDestroyFailed))},
		ev: sweepAt("s", expireAt.Add(100*time.Hour), nil),
	}, {
		name: "a deploy asked for RestartAfter ago and never started is started again (crash recovery)",
		set:  []state.Sandbox{stuck(state.StatusDeploying, state.ActionDeploy)}, ev: sweepAt("s", t0.Add(RestartAfter), nil), write: true,
		want: []state.Sandbox{with(stuck(state.StatusDeploying, state.ActionDeploy), func(sb *state.Sandbox) {
			sb.Event, sb.Requested = "s", t0.Add(RestartAfter)
		})},
		start: []string{deployBuild("alice", c1, "s")},
	}, {
		name: "an expiry's destroy never started is started again",
		set:  []state.Sandbox{stuck(state.StatusDestroying, state.ActionExpire)}, ev: sweepAt("s", t0.Add(time.Hour), nil), write: true,
		want: []state.Sandbox{with(stuck(state.StatusDestroying, state.ActionExpire), func(sb *state.Sandbox) {
			sb.Event, sb.Requested = "s", t0.Add(time.Hour)
		})},
		start: []string{destroyBuild("alice", c1, "s")},
	}, {
		name: "a build asked for less than RestartAfter ago is left to start",
		set:  []state.Sandbox{stuck(state.StatusDeploying, state.ActionDeploy)}, ev: sweepAt("s", t0.Add(RestartAfter-time.Second), nil),
	}, {
		name: "a build whose end no event reported is applied",
		set:  []state.Sandbox{with(live("alice"), status(state.StatusDeploying)), live("bob")},
		ev:   sweepAt("s", t0.Add(time.Hour), map[string]string{project + ":alice-1": BuildFailed, project + ":gone": BuildSucceeded}), write: true,
		want: []state.Sandbox{with(live("alice"), func(sb *state.Sandbox) {
			sb.Status, sb.Reason = state.StatusFailed, "the deploy of 111111111111 failed (build "+project+":alice-1)"
		}), live("bob")},
		notify: []string{"failed alice " + alice},
	}})
}

// step is one event of a sequence and what must hold after it.
type step struct {
	ev      Event
	started string // build id a started build gets ("" : none is expected)
	check   func(t *testing.T, set *state.Set, d Decision)
}

// play applies events in order as the Lambda does: Decide, then record each started build.
func play(t *testing.T, set *state.Set, steps []step) {
	t.Helper()
	for i, s := range steps {
		d, err := Decide(cfg, set, s.ev)
		if err != nil {
			t.Fatalf("step %d (%s %s): %v", i+1, s.ev.Kind, s.ev.ID, err)
		}
		for _, b := range d.Start {
			if s.started == "" {
				t.Fatalf("step %d started %+v", i+1, b)
			}
			if !Started(set, b, s.started) {
				t.Fatalf("step %d: build %s not recorded in\n%v", i+1, s.started, set)
			}
		}
		if s.check != nil {
			s.check(t, set, d)
		}
	}
}

func statusOf(t *testing.T, set *state.Set, name string) state.Status {
	t.Helper()
	sb, ok := set.Find(name)
	if !ok {
		return ""
	}
	return sb.Status
}

func TestExpiryThenRevive(t *testing.T) {
	set := &state.Set{}
	want := func(name string, st state.Status, notes ...string) func(*testing.T, *state.Set, Decision) {
		return func(t *testing.T, set *state.Set, d Decision) {
			t.Helper()
			if got := statusOf(t, set, name); got != st || !slices.Equal(describeNotes(d.Notify), notes) {
				t.Fatalf("%s is %q, notified %q; want %q, %q\n%v", name, got, describeNotes(d.Notify), st, notes, set)
			}
		}
	}
	play(t, set, []step{
		{ev: push("p1", "alice", c1, t0), started: project + ":1", check: want("alice", state.StatusDeploying)},
		{ev: built("b1", project+":1", BuildSucceeded), check: want("alice", state.StatusLive)},
		{ev: sweepAt("s1", t0.Add(54*time.Hour), nil), check: want("alice", state.StatusLive, "expiring alice "+alice)},
		{ev: sweepAt("s2", t0.Add(54*time.Hour+15*time.Minute), nil), check: want("alice", state.StatusLive)},
		{ev: sweepAt("s3", t0.Add(72*time.Hour), nil), started: project + ":2", check: want("alice", state.StatusDestroying)},
		{ev: sweepAt("s4", t0.Add(72*time.Hour+15*time.Minute), nil), check: want("alice", state.StatusDestroying)},
		{ev: built("b2", project+":2", BuildSucceeded), check: want("alice", state.StatusExpired, "expired alice "+alice)},
		{ev: sweepAt("s5", t0.Add(200*time.Hour), nil), check: want("alice", state.StatusExpired)},
		// bob, carol and dave take the three places meanwhile: alice cannot come back
		{ev: push("pb", "bob", c1, t0.Add(80*time.Hour)), started: project + ":3"},
		{ev: push("pc", "carol", c1, t0.Add(80*time.Hour)), started: project + ":4"},
		{ev: push("pd", "dave", c1, t0.Add(80*time.Hour)), started: project + ":5"},
		{ev: push("p2", "alice", c2, t0.Add(81*time.Hour)), check: want("alice", state.StatusExpired, "refused alice "+alice)},
		{ev: del("db", "bob", t0.Add(82*time.Hour)), started: project + ":6", check: want("bob", state.StatusDestroying)},
		{ev: built("b6", project+":6", BuildSucceeded), check: want("bob", "", "destroyed bob "+alice)},
		{ev: push("p3", "alice", c2, t0.Add(83*time.Hour)), started: project + ":7", check: func(t *testing.T, set *state.Set, d Decision) {
			sb, _ := set.Find("alice")
			if sb.Status != state.StatusDeploying || sb.Commit != c2 || !sb.Warned.IsZero() || sb.Reason != "" || sb.Build != project+":7" || sb.Created != t0 {
				t.Fatalf("revived alice: %+v", sb)
			}
		}},
		{ev: built("b7", project+":7", BuildSucceeded), check: want("alice", state.StatusLive)},
		// the idle clock starts again at the revival's push
		{ev: sweepAt("s6", t0.Add(83*time.Hour+54*time.Hour-time.Minute), nil), check: want("alice", state.StatusLive)},
	})
}

// TestInterleavedPushesAndBuilds: two quick pushes whose builds start and end out of order;
// only the newest push's build decides, and the superseded one is stopped.
func TestInterleavedPushesAndBuilds(t *testing.T) {
	set := &state.Set{}
	d1, _ := Decide(cfg, set, push("p1", "alice", c1, t0))
	d2, _ := Decide(cfg, set, push("p2", "alice", c2, t0.Add(time.Second)))
	// p1's build starts after p2 was recorded: it is not the sandbox's any more
	if Started(set, d1.Start[0], project+":1") {
		t.Fatal("a superseded build was recorded")
	}
	if !Started(set, d2.Start[0], project+":2") {
		t.Fatal("the newest build was not recorded")
	}
	// p1's build is stopped by the Lambda; its end changes nothing
	if d, _ := Decide(cfg, set, built("b1", project+":1", BuildStopped)); d.Write {
		t.Fatalf("the superseded build's end wrote %v", set)
	}
	d, _ := Decide(cfg, set, built("b2", project+":2", BuildSucceeded))
	if sb, _ := set.Find("alice"); !d.Write || sb.Status != state.StatusLive || sb.Commit != c2 {
		t.Fatalf("after the newest build: %v", set)
	}
	// a third push while the second deploy ran would have stopped it
	d3, _ := Decide(cfg, set, push("p3", "alice", c1, t0.Add(time.Minute)))
	if len(d3.Stop) != 0 {
		t.Errorf("a push to a live sandbox stopped %v", d3.Stop)
	}
}

func TestStartedAndStartFailed(t *testing.T) {
	set := &state.Set{}
	d, _ := Decide(cfg, set, push("p1", "alice", c1, t0))
	b := d.Start[0]
	if got := b.Environment(); fmt.Sprint(got) != fmt.Sprintf("[{SANDBOX alice} {SANDBOX_ACTION deploy} {COMMIT_ID %s} {SANDBOX_STACK_SUFFIX -sandbox-alice}]", c1) {
		t.Errorf("environment %v", got)
	}
	f := cfg.StartFailed(set, b, fmt.Errorf("AccountLimitExceededException: too many builds"))
	sb, _ := set.Find("alice")
	if !f.Write || sb.Status != state.StatusFailed || !strings.Contains(sb.Reason, "could not be started: AccountLimitExceededException") ||
		!slices.Equal(describeNotes(f.Notify), []string{"failed alice " + alice}) {
		t.Errorf("StartFailed: %+v, %v", f, set)
	}
	if Started(set, b, project+":1") {
		t.Error("a build was recorded for a failed sandbox")
	}
	// a destroy that cannot start leaves the sandbox destroy-failed
	d, _ = Decide(cfg, set, del("d1", "alice", t0))
	f = cfg.StartFailed(set, d.Start[0], fmt.Errorf("denied"))
	if sb, _ := set.Find("alice"); sb.Status != state.StatusDestroyFailed || f.Notify[0].Event != EventDestroyFailed {
		t.Errorf("destroy StartFailed: %v", set)
	}
	// superseded: nothing
	if f := cfg.StartFailed(set, d.Start[0], fmt.Errorf("again")); f.Write || f.Notify != nil {
		t.Errorf("StartFailed of a superseded build: %+v", f)
	}
}

func TestTokenIsStablePerEventSandboxAndAction(t *testing.T) {
	a := Token("e1", "alice", "deploy")
	if len(a) != 32 || a != Token("e1", "alice", "deploy") {
		t.Fatalf("token %q", a)
	}
	for _, other := range []string{Token("e2", "alice", "deploy"), Token("e1", "bob", "deploy"), Token("e1", "alice", "destroy"), Token("e1a", "lice", "deploy")} {
		if other == a {
			t.Errorf("token %q is the same for another event, sandbox or action", other)
		}
	}
}
