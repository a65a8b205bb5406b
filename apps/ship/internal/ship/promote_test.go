package ship

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// GIVEN dev has run c1..c4 successfully and c5 is still running, stg is at c2
func promoteFixture(t *testing.T) *fixture {
	f := newFixture(t)
	f.pushTo("dev", 5)
	f.pushTo("stg", 2)
	f.pushTo("prd", 1)
	f.aws.SetRuns("payments-checkout-dev",
		run("dev-5", f.c(5), "InProgress", mins(50)),
		run("dev-4", f.c(4), "Succeeded", mins(40)),
		run("dev-3", f.c(3), "Succeeded", mins(30)),
		run("dev-2", f.c(2), "Succeeded", mins(20)),
	)
	f.aws.SetRuns("payments-checkout-stg", run("stg-2", f.c(2), "Succeeded", mins(25)))
	return f
}

func TestPromoteNamedCommitThatPassedPushesExactlyIt(t *testing.T) {
	f := promoteFixture(t)

	// WHEN c3, by its short id, is promoted to stg
	code, out, _ := f.ship("promote", "stg", gate.Short(f.c(3)))

	// THEN stg's branch is exactly c3, and ship says what it pushed and replaced
	if code != ExitOK {
		t.Fatalf("exit %d, want %d", code, ExitOK)
	}
	if got := f.branch("stg"); got != f.c(3) {
		t.Errorf("stg main = %s, want c3 %s", got, f.c(3))
	}
	for _, want := range []string{"pushed " + gate.Short(f.c(3)), "replacing " + gate.Short(f.c(2)), "passed dev in execution dev-3"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// AND only the upstream (dev) account was read, with dev's credentials, checked first
	for i, c := range f.aws.Recorded() {
		if c.AccessKey != keyDev || (i == 0) != (c.Op == "GetCallerIdentity") || (i > 0 && c.Pipeline != "payments-checkout-dev") {
			t.Errorf("unexpected AWS call %d: %+v", i, c)
		}
	}
}

func TestPromoteWithoutCommitTakesUpstreamsNewestSuccess(t *testing.T) {
	f := promoteFixture(t)

	// WHEN promote is given no commit
	code, out, _ := f.ship("promote", "stg")

	// THEN it pushes c4, dev's newest Succeeded run, not c5 which is newest but running
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if got := f.branch("stg"); got != f.c(4) {
		t.Errorf("stg main = %s, want c4 %s", got, f.c(4))
	}
	if !strings.Contains(out, "pushed "+gate.Short(f.c(4))) {
		t.Errorf("output does not name c4")
	}
}

func TestPromoteRefusesCommitThatHasNotPassedUpstream(t *testing.T) {
	f := promoteFixture(t)

	// WHEN c5, which has no Succeeded run in dev, is promoted
	code, _, errOut := f.ship("promote", "stg", f.c(5))

	// THEN it is refused with the gate's reason, and nothing is pushed
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d", code, ExitFailed)
	}
	want := "promote refused: commit " + gate.Short(f.c(5)) + " has not passed dev (newest pass there: " + gate.Short(f.c(4))
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q", want)
	}
	if got := f.branch("stg"); got != f.c(2) {
		t.Errorf("stg main moved to %s", got)
	}
}

func TestPromoteOfACommitNotInTheLocalRepository(t *testing.T) {
	f := promoteFixture(t)

	code, _, errOut := f.ship("promote", "stg", "deadbeef")

	if code != ExitFailed {
		t.Fatalf("exit %d, want %d", code, ExitFailed)
	}
	if !strings.Contains(errOut, `commit "deadbeef" does not exist in the local repository`) {
		t.Errorf("stderr does not explain the missing commit")
	}
	// THEN nothing was asked of AWS and nothing pushed
	if calls := f.aws.Recorded(); len(calls) != 0 {
		t.Errorf("AWS was called: %+v", calls)
	}
	if got := f.branch("stg"); got != f.c(2) {
		t.Errorf("stg main moved to %s", got)
	}
}

func TestPromoteToUnknownEnvironmentListsTheKnownOnes(t *testing.T) {
	f := promoteFixture(t)

	code, _, errOut := f.ship("promote", "qa", f.c(3))

	if code != ExitUsage {
		t.Fatalf("exit %d, want %d", code, ExitUsage)
	}
	if !strings.Contains(errOut, `unknown environment "qa" for payments/checkout (known: dev, stg, prd)`) {
		t.Errorf("stderr does not list the known environments")
	}
}

func TestPromoteRejectedByPreReceiveHookShowsGitsReason(t *testing.T) {
	f := promoteFixture(t)
	// GIVEN stg's repository refuses every push, with a reason
	hook := filepath.Join(f.bare["stg"], "hooks", "pre-receive")
	must(t, os.WriteFile(hook, []byte("#!/bin/sh\necho 'stg is frozen for the release' >&2\nexit 1\n"), 0o755))

	code, _, errOut := f.ship("promote", "stg", f.c(3))

	if code != ExitFailed {
		t.Fatalf("exit %d, want %d", code, ExitFailed)
	}
	for _, want := range []string{"stg is frozen for the release", "pre-receive hook declined", "was rejected"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if got := f.branch("stg"); got != f.c(2) {
		t.Errorf("stg main moved to %s", got)
	}
}

func TestPromoteBackwardsIsRejectedAndPointsAtRollback(t *testing.T) {
	f := promoteFixture(t)
	f.pushTo("stg", 4)

	// WHEN an older commit is promoted: that is a rollback, and a plain push must not force it
	code, _, errOut := f.ship("promote", "stg", f.c(3))

	if code != ExitFailed {
		t.Fatalf("exit %d, want %d", code, ExitFailed)
	}
	if !strings.Contains(errOut, "ship rollback stg") {
		t.Errorf("stderr does not point at rollback")
	}
	if got := f.branch("stg"); got != f.c(4) {
		t.Errorf("stg main moved to %s", got)
	}
}

func TestPromoteWhenHistoryIsLongerThanTheBound(t *testing.T) {
	f := promoteFixture(t)
	f.aws.SetEndless("payments-checkout-dev", true)

	code, _, errOut := f.ship("promote", "stg", f.c(3))

	if code != ExitFailed {
		t.Fatalf("exit %d, want %d", code, ExitFailed)
	}
	if !strings.Contains(errOut, "cannot tell whether "+gate.Short(f.c(3))+" passed dev") ||
		!strings.Contains(errOut, "not found in the 0 newest executions of pipeline payments-checkout-dev (read in 10 pages; older history exists)") {
		t.Errorf("stderr does not explain the history bound")
	}
	if n := len(f.pipelineCalls()); n != org.DefaultHistoryPages {
		t.Errorf("%d calls, want the bound %d", n, org.DefaultHistoryPages)
	}
	if got := f.branch("stg"); got != f.c(2) {
		t.Errorf("stg main moved to %s", got)
	}
}

func TestPromoteWithoutTheRemoteSaysHowToAddIt(t *testing.T) {
	f := promoteFixture(t)
	f.git(f.dir, "remote", "remove", "stg")

	code, _, errOut := f.ship("promote", "stg", f.c(3))

	if code != ExitFailed {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errOut, "no git remote named stg") || !strings.Contains(errOut, "git remote add stg codecommit::eu-west-1://payments-checkout") {
		t.Errorf("stderr does not say how to add the remote")
	}

	// AND --remote with a URL works without a named remote
	code, _, _ = f.ship("promote", "stg", f.c(3), "--remote", "stg="+f.bare["stg"])
	if code != ExitOK || f.branch("stg") != f.c(3) {
		t.Errorf("promote through --remote URL: exit %d, stg at %s", code, f.branch("stg"))
	}
}

// TestPromoteAppliesTheGuardsRule: ship refuses exactly what the guard refuses, because
// both call gate.FindPassed with the organisation's bound: a ROLLBACK run's success, a
// revision of another source action, and a success withdrawn by a newer failed run of the
// same commit do not count.
func TestPromoteAppliesTheGuardsRule(t *testing.T) {
	cases := map[string]struct {
		dev        func(f *fixture) []fakeaws.Run
		wantReason string
	}{
		"a succeeded ROLLBACK run does not count": {
			dev: func(f *fixture) []fakeaws.Run {
				rb := run("dev-9", f.c(3), "Succeeded", mins(60))
				// Its target is dev-2, the restore point: a run between a rollback and its
				// target would count as rolled back (the next case).
				rb.Type, rb.RollbackTarget = "ROLLBACK", "dev-2"
				return []fakeaws.Run{rb, run("dev-2", f.c(2), "Succeeded", mins(20))}
			},
			wantReason: "commit " + "%s has not passed dev (newest pass there: %s",
		},
		"a succeeded run that a rollback undid does not count": {
			dev: func(f *fixture) []fakeaws.Run {
				rb := run("dev-9", f.c(2), "Succeeded", mins(60))
				rb.Type, rb.RollbackTarget = "ROLLBACK", "dev-2"
				return []fakeaws.Run{rb, run("dev-3", f.c(3), "Succeeded", mins(30)), run("dev-2", f.c(2), "Succeeded", mins(20))}
			},
			wantReason: "commit %s's newest run in dev (execution dev-3, Succeeded at ",
		},
		"another source action's revision does not count": {
			dev: func(f *fixture) []fakeaws.Run {
				other := run("dev-9", f.c(3), "Succeeded", mins(60))
				other.SourceAction = "ExtraSource"
				return []fakeaws.Run{other, run("dev-2", f.c(2), "Succeeded", mins(20))}
			},
			wantReason: "commit " + "%s has not passed dev (newest pass there: %s",
		},
		"a newer failed run of the commit withdraws its success": {
			dev: func(f *fixture) []fakeaws.Run {
				return []fakeaws.Run{run("dev-9", f.c(3), "Failed", mins(60)), run("dev-3", f.c(3), "Succeeded", mins(30)), run("dev-2", f.c(2), "Succeeded", mins(20))}
			},
			wantReason: "commit %s has not passed dev: its newest run there, execution dev-9, is Failed",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := promoteFixture(t)
			f.aws.SetRuns("payments-checkout-dev", tc.dev(f)...)

			code, _, errOut := f.ship("promote", "stg", f.c(3))

			if code != ExitFailed {
				t.Fatalf("exit %d, want %d", code, ExitFailed)
			}
			want := tc.wantReason
			if strings.Count(want, "%s") == 2 {
				want = fmt.Sprintf(want, gate.Short(f.c(3)), gate.Short(f.c(2)))
			} else {
				want = fmt.Sprintf(want, gate.Short(f.c(3)))
			}
			if !strings.Contains(errOut, "promote refused: "+want) {
				t.Errorf("stderr %q lacks %q", errOut, want)
			}
			if got := f.branch("stg"); got != f.c(2) {
				t.Errorf("stg main moved to %s", got)
			}
		})
	}
	t.Run("the organisation's history bound is the one ship reads with", func(t *testing.T) {
		f := promoteFixture(t)
		f.aws.SetEndless("payments-checkout-dev", true)
		cfg := filepath.Join(t.TempDir(), "organization.yaml")
		must(t, os.WriteFile(cfg, []byte("settings:\n  historyPages: 3\n"+orgYAML), 0o644))
		t.Setenv(EnvConfig, cfg)
		code, _, _ := f.ship("promote", "stg", f.c(3))
		if n := len(f.pipelineCalls()); code != ExitFailed || n != 3 {
			t.Errorf("exit %d after %d calls, want a refusal after the organisation's 3 pages", code, n)
		}
	})
}

// TestPromoteOfWhatTheBranchHasSaysHowItsRunGoes: promoting the commit the branch already
// points at pushes nothing; instead of suggesting a new run, ship says that the run waits for
// approval and who can answer it, or that the commit is deployed.
func TestPromoteOfWhatTheBranchHasSaysHowItsRunGoes(t *testing.T) {
	f := promoteFixture(t)
	f.pushTo("stg", 4)
	f.pushTo("prd", 4)
	f.aws.SetRuns("payments-checkout-stg", run("stg-4", f.c(4), "Succeeded", mins(45)))
	f.aws.SetRuns("payments-checkout-prd", run("prd-2", f.c(4), "InProgress", mins(50)), run("prd-1", f.c(1), "Succeeded", mins(10)))
	since := mins(50)
	f.aws.SetState("payments-checkout-prd",
		fakeaws.Stage{Name: "Approval", Execution: "prd-2", ExecutionStatus: "InProgress",
			Actions: []fakeaws.Action{{Name: "SignOff", Status: "InProgress", Token: "tok", Changed: since}}})

	// WHEN c4, waiting for approval in prd, is promoted to prd again
	code, out, _ := f.ship("promote", "prd")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"prd: branch main of remote prd already points at " + gate.Short(f.c(4)) + "; nothing pushed.",
		"Its run waits for approval (execution prd-2, action SignOff in stage Approval, since " + formatTime(since) + "): it deploys once approved.",
		"It can be answered by whoever may assume role arn:aws:iam::444444444444:role/payments-checkout-prd-approver",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "start-pipeline-execution") {
		t.Errorf("output suggests starting the pipeline while its run waits for approval:\n%s", out)
	}

	// AND once c4 is deployed, ship says so, and how to run it again
	f.aws.SetRuns("payments-checkout-prd", run("prd-2", f.c(4), "Succeeded", mins(60)), run("prd-1", f.c(1), "Succeeded", mins(10)))
	f.aws.SetState("payments-checkout-prd")
	_, out, _ = f.ship("promote", "prd")
	if !strings.Contains(out, "It is deployed there (execution prd-2, 2026-03-01T13:00:00Z); to run it again, start the prd pipeline") {
		t.Errorf("output for a deployed commit:\n%s", out)
	}
}
