package ship

import (
	"context"
	"strings"
	"testing"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// GIVEN prd is at c4, which succeeded twice; before that c3 failed and c2 succeeded;
// stg passed c2, c3 and c4
func rollbackFixture(t *testing.T) *fixture {
	f := newFixture(t)
	f.pushTo("dev", 5)
	f.pushTo("stg", 4)
	f.pushTo("prd", 4)
	f.aws.SetRuns("payments-checkout-prd",
		run("prd-5", f.c(4), "Succeeded", mins(90)),
		run("prd-4", f.c(4), "Succeeded", mins(80)),
		run("prd-3", f.c(3), "Failed", mins(70)),
		run("prd-2", f.c(2), "Succeeded", mins(60)),
		run("prd-1", f.c(1), "Succeeded", mins(50)),
	)
	f.aws.SetRuns("payments-checkout-stg",
		run("stg-4", f.c(4), "Succeeded", mins(45)),
		run("stg-3", f.c(3), "Succeeded", mins(35)),
		run("stg-2", f.c(2), "Succeeded", mins(25)),
	)
	return f
}

func TestRollbackPushesThePreviousSuccessfulCommit(t *testing.T) {
	f := rollbackFixture(t)

	code, out, _ := f.ship("rollback", "prd")

	// THEN prd is at c2: the newest success of a commit other than c4 (c3 failed)
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if got := f.branch("prd"); got != f.c(2) {
		t.Errorf("prd main = %s, want c2 %s", got, f.c(2))
	}
	for _, want := range []string{
		"rolled back branch main of remote prd to " + gate.Short(f.c(2)),
		"execution prd-2",
		"replacing " + gate.Short(f.c(4)),
		"commit " + gate.Short(f.c(2)) + " passed stg in execution stg-2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestRollbackToANamedCommitStillNeedsUpstream(t *testing.T) {
	f := rollbackFixture(t)

	// WHEN prd is rolled back to c1, which never passed stg
	code, _, errOut := f.ship("rollback", "prd", gate.Short(f.c(1)))

	// THEN it is refused as the guard would, and prd keeps c4
	if code != ExitFailed {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errOut, "rollback refused: commit "+gate.Short(f.c(1))+" has not passed stg") {
		t.Errorf("stderr lacks the refusal")
	}
	if got := f.branch("prd"); got != f.c(4) {
		t.Errorf("prd main moved to %s", got)
	}

	// AND a named commit that did pass goes through
	code, _, _ = f.ship("rollback", "prd", gate.Short(f.c(3)))
	if code != ExitOK || f.branch("prd") != f.c(3) {
		t.Errorf("rollback to c3: exit %d, prd at %s", code, f.branch("prd"))
	}
}

// racingGit is the real git, except that someone else pushes to the remote between ship
// reading the branch and ship pushing: the race the lease exists for.
type racingGit struct {
	Git
	meanwhile func()
}

func (g racingGit) Push(ctx context.Context, remote, commit, branch, lease string) error {
	g.meanwhile()
	return g.Git.Push(ctx, remote, commit, branch, lease)
}

func TestRollbackWithAStaleLeaseIsRejected(t *testing.T) {
	f := rollbackFixture(t)
	app := &App{Git: func(dir string) Git {
		return racingGit{Git: NewRepo(dir), meanwhile: func() { f.pushTo("prd", 5) }}
	}}

	code, _, errOut := f.shipWith(app, "rollback", "prd")

	// THEN the push is refused with git's reason, and the other push stands
	if code != ExitFailed {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"stale info", "someone pushed meanwhile", "no longer points at " + gate.Short(f.c(4))} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if got := f.branch("prd"); got != f.c(5) {
		t.Errorf("prd main = %s, want the concurrent push c5 %s", got, f.c(5))
	}
}

func TestRollbackWithoutAnEarlierSuccess(t *testing.T) {
	f := rollbackFixture(t)
	f.aws.SetRuns("payments-checkout-prd", run("prd-5", f.c(4), "Succeeded", mins(90)), run("prd-3", f.c(3), "Failed", mins(70)))

	code, _, errOut := f.ship("rollback", "prd")

	if code != ExitFailed || !strings.Contains(errOut, "nothing to roll back to") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if got := f.branch("prd"); got != f.c(4) {
		t.Errorf("prd main moved to %s", got)
	}
}

func TestRollbackOfTheFirstEnvironmentNeedsNoUpstream(t *testing.T) {
	f := rollbackFixture(t)
	f.aws.SetRuns("payments-checkout-dev", run("dev-5", f.c(5), "Succeeded", mins(20)), run("dev-4", f.c(4), "Succeeded", mins(10)))

	code, _, _ := f.ship("rollback", "dev")

	if code != ExitOK || f.branch("dev") != f.c(4) {
		t.Errorf("exit %d, dev at %s, want c4", code, f.branch("dev"))
	}
	for _, c := range f.pipelineCalls() {
		if c.Pipeline != "payments-checkout-dev" {
			t.Errorf("read %s; dev has no upstream", c.Pipeline)
		}
	}
}

// A rollback of prd queues behind a run waiting for sign-off: ship says so, and how to
// let the rollback run; with nothing pending it says nothing about approvals.
func TestRollbackSaysWhenItWaitsBehindAPendingApproval(t *testing.T) {
	f := rollbackFixture(t)
	since := mins(95)
	f.aws.SetState("payments-checkout-prd",
		fakeaws.Stage{Name: "Approval", Actions: []fakeaws.Action{{Name: "SignOff", Status: "InProgress", Token: "tok-1", Changed: since}}})

	code, out, _ := f.ship("rollback", "prd")

	if code != ExitOK || f.branch("prd") != f.c(2) {
		t.Fatalf("exit %d, prd at %s; want the rollback pushed", code, f.branch("prd"))
	}
	want := "Note: an approval is pending in prd (action SignOff in stage Approval, since " + formatTime(since) + ")"
	if !strings.Contains(out, want) || !strings.Contains(out, "reject it to let the rollback run now") ||
		!strings.Contains(out, "Approvals are answered by whoever may assume role arn:aws:iam::444444444444:role/payments-checkout-prd-approver") {
		t.Errorf("output lacks the pending-approval note %q:\n%s", want, out)
	}

	g := rollbackFixture(t)
	if _, out, _ := g.ship("rollback", "prd"); strings.Contains(out, "approval") {
		t.Errorf("no approval is pending, yet the output mentions one:\n%s", out)
	}
}

// TestRollbackAfterAnAutomaticRollbackPushesNothingWhenItIsDone: prd's branch names c4, but
// CodePipeline rolled its Deploy stage back to prd-5 (c2), the commit ship rollback would
// push: ship says so, pushes nothing, exits 0, and says how to make the branch match.
func TestRollbackAfterAnAutomaticRollbackPushesNothingWhenItIsDone(t *testing.T) {
	f := rolledBackFixture(t)
	c2, c4 := gate.Short(f.c(2)), gate.Short(f.c(4))

	code, out, _ := f.ship("rollback", "prd")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if got := f.branch("prd"); got != f.c(4) {
		t.Errorf("prd main moved to %s; the automatic rollback had done the work", got)
	}
	for _, want := range []string{
		"prd: nothing pushed: " + c2 + " already runs, restored by the automatic rollback (execution prd-7, 2026-03-01T12:45:00Z) to execution prd-5, " +
			"after execution prd-6 (commit " + c4 + ") failed",
		"Branch main of remote prd still names " + c4 + ", the commit that was rolled back, so the next push of anything replaces " + c2,
		"ship rollback prd " + c2 + " pushes it",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// AND while the rollback is still running, the same: nothing pushed
	rb := run("prd-7", f.c(2), "InProgress", mins(45))
	rb.Type, rb.RollbackTarget = "ROLLBACK", "prd-5"
	f.aws.SetRuns("payments-checkout-prd", rb, run("prd-6", f.c(4), "Failed", mins(40)), run("prd-5", f.c(2), "Succeeded", mins(30)))
	code, out, _ = f.ship("rollback", "prd")
	if code != ExitOK || f.branch("prd") != f.c(4) || !strings.Contains(out, "is restoring "+c2+" now") {
		t.Errorf("rollback in progress: exit %d, prd at %s, output:\n%s", code, f.branch("prd"), out)
	}
}

// TestRollbackToAnotherCommitAfterAnAutomaticRollback: asked for c1 while an automatic
// rollback runs c2, ship says what runs and why, then pushes c1. Named, even the restored
// commit is pushed: that is how the branch comes to name what runs.
func TestRollbackToAnotherCommitAfterAnAutomaticRollback(t *testing.T) {
	f := rolledBackFixture(t)
	f.aws.SetRuns("payments-checkout-stg", run("stg-4", f.c(4), "Succeeded", mins(20)), run("stg-2", f.c(2), "Succeeded", mins(5)),
		run("stg-1", f.c(1), "Succeeded", mins(2)))
	c1, c2, c4 := gate.Short(f.c(1)), gate.Short(f.c(2)), gate.Short(f.c(4))

	code, out, _ := f.ship("rollback", "prd", c1)

	if code != ExitOK || f.branch("prd") != f.c(1) {
		t.Fatalf("exit %d, prd at %s, want c1 pushed", code, f.branch("prd"))
	}
	before := "prd: before this rollback, prd runs " + c2 + ", not the branch head " + c4 + ": automatic rollback (execution prd-7"
	if !strings.Contains(out, "The branch still names "+c4+", the commit that was rolled back: this push replaces the rolled-back "+c4+
		" on the branch with "+c1+", whose run deploys it in place of "+c2) {
		t.Errorf("output does not say what the push replaces:\n%s", out)
	}
	pushed := "rolled back branch main of remote prd to " + c1
	if i, j := strings.Index(out, before), strings.Index(out, pushed); i < 0 || j < 0 || i > j {
		t.Errorf("output does not say what runs and why before it pushes (%d, %d):\n%s", i, j, out)
	}

	g := rolledBackFixture(t)
	code, out, _ = g.ship("rollback", "prd", c2)
	if code != ExitOK || g.branch("prd") != g.c(2) || !strings.Contains(out, "before this rollback, prd runs "+c2) ||
		!strings.Contains(out, "this push makes branch main name "+c2+", what runs") {
		t.Errorf("rollback to the restored commit, named: exit %d, prd at %s, output:\n%s", code, g.branch("prd"), out)
	}

	// AND without any rollback in the history, rollback says nothing about one
	h := rollbackFixture(t)
	if _, out, _ := h.ship("rollback", "prd"); strings.Contains(out, "before this rollback") || strings.Contains(out, "still names") {
		t.Errorf("no rollback ran, yet the output speaks of one:\n%s", out)
	}
}
