package ship

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// section is the part of status output about one environment.
func section(t *testing.T, out, env string) string {
	t.Helper()
	for _, block := range strings.Split(out, "\n\n") {
		if strings.HasPrefix(block, env+"  account ") {
			return block
		}
	}
	t.Fatalf("no section for %s in:\n%s", env, out)
	return ""
}

func TestStatusShowsDeployedLatestApprovalAndWaitingCommits(t *testing.T) {
	f := newFixture(t)
	f.pushTo("dev", 5)
	f.pushTo("stg", 4)
	f.pushTo("prd", 2)
	// GIVEN dev deployed c4 and is running c5; stg deployed c2 and is running c4;
	// prd deployed c1 and c2 is waiting for approval since two hours
	f.aws.SetRuns("payments-checkout-dev",
		run("dev-5", f.c(5), "InProgress", mins(50)),
		run("dev-4", f.c(4), "Succeeded", mins(40)))
	f.aws.SetRuns("payments-checkout-stg",
		run("stg-4", f.c(4), "InProgress", mins(45)),
		run("stg-3", f.c(3), "Failed", mins(35)),
		run("stg-2", f.c(2), "Succeeded", mins(25)))
	f.aws.SetRuns("payments-checkout-prd",
		run("prd-2", f.c(2), "InProgress", mins(30)),
		run("prd-1", f.c(1), "Succeeded", mins(10)))
	since := time.Now().Add(-2*time.Hour - 30*time.Second)
	f.aws.SetState("payments-checkout-prd",
		fakeaws.Stage{Name: "Source", Actions: []fakeaws.Action{{Name: "Source", Status: "Succeeded", Changed: since}}},
		fakeaws.Stage{Name: "Guard", Actions: []fakeaws.Action{{Name: "Guard", Status: "Succeeded", Changed: since}}},
		fakeaws.Stage{Name: "Approve", Actions: []fakeaws.Action{{Name: "Approval", Status: "InProgress", Token: "tok-123", Changed: since}}},
		fakeaws.Stage{Name: "Deploy", Actions: []fakeaws.Action{{Name: "Deploy"}}})
	// stg has a running deploy: InProgress, but no token, so not an approval
	f.aws.SetState("payments-checkout-stg",
		fakeaws.Stage{Name: "Deploy", Actions: []fakeaws.Action{{Name: "Deploy", Status: "InProgress", Changed: since}}})

	code, out, _ := f.ship("status")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	dev, stg, prd := section(t, out, "dev"), section(t, out, "stg"), section(t, out, "prd")
	expect := func(name, block string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(block, w) {
				t.Errorf("%s section lacks %q:\n%s", name, w, block)
			}
		}
	}
	expect("dev", dev,
		"deployed   "+gate.Short(f.c(4))+" (execution dev-4",
		"latest     InProgress (execution dev-5, commit "+gate.Short(f.c(5)),
		"approval   none pending",
		"waiting    - (first environment")
	expect("stg", stg,
		"branch     "+gate.Short(f.c(4)),
		"deployed   "+gate.Short(f.c(2))+" (execution stg-2",
		"latest     InProgress (execution stg-4",
		"approval   none pending",
		// what dev deployed is on stg's branch already, running: nothing to promote
		"waiting    none to promote: "+gate.Short(f.c(4))+", deployed in dev, is on stg's branch and is running (execution stg-4)")
	expect("prd", prd,
		"deployed   "+gate.Short(f.c(1))+" (execution prd-1",
		"approval   PENDING: action Approval in stage Approve, waiting 2h00m",
		"approvers  whoever may assume role arn:aws:iam::444444444444:role/payments-checkout-prd-approver (the organisation file names no approvers for prd",
		"waiting    none to promote: "+gate.Short(f.c(2))+", deployed in stg, is on prd's branch and waits for approval (execution prd-2, action Approval in stage Approve")
	if strings.Contains(stg, "ship promote") || strings.Contains(prd, "ship promote") {
		t.Errorf("status suggests promoting what the branch already has")
	}
}

// TestStatusWhileARunWaitsForApprovalAndAnotherIsQueued: a QUEUED pipeline with a run at
// the approval and a later push (a rollback) queued behind it. Status names the run that
// waits, who may answer, what is queued, and what promote would still bring.
func TestStatusWhileARunWaitsForApprovalAndAnotherIsQueued(t *testing.T) {
	f := newFixture(t)
	cfg := filepath.Join(t.TempDir(), "organization.yaml")
	must(t, os.WriteFile(cfg, []byte(strings.Replace(orgYAML, `account: "444444444444"`,
		`account: "444444444444"
            approvers: ["arn:aws:iam::444444444444:role/release-managers"]`, 1)), 0o644))
	t.Setenv(EnvConfig, cfg)
	f.pushTo("dev", 4)
	f.pushTo("stg", 4)
	f.pushTo("prd", 1) // the rollback's push, after c4's
	f.aws.SetRuns("payments-checkout-dev", run("dev-4", f.c(4), "Succeeded", mins(40)))
	f.aws.SetRuns("payments-checkout-stg", run("stg-2", f.c(4), "Succeeded", mins(45)))
	f.aws.SetRuns("payments-checkout-prd",
		run("prd-3", f.c(1), "InProgress", mins(55)),
		run("prd-2", f.c(4), "InProgress", mins(50)),
		run("prd-1", f.c(1), "Succeeded", mins(10)))
	since := time.Now().Add(-3 * time.Minute)
	f.aws.SetState("payments-checkout-prd",
		fakeaws.Stage{Name: "Source", Execution: "prd-3", ExecutionStatus: "Succeeded", Actions: []fakeaws.Action{{Name: "Push", Status: "Succeeded", Changed: since}}},
		fakeaws.Stage{Name: "Approval", Execution: "prd-2", ExecutionStatus: "InProgress", Inbound: []string{"prd-3"},
			Actions: []fakeaws.Action{{Name: "SignOff", Status: "InProgress", Token: "tok", Changed: since}}},
		fakeaws.Stage{Name: "Deploy", Execution: "prd-1", ExecutionStatus: "Succeeded", Actions: []fakeaws.Action{{Name: "Deploy", Status: "Succeeded", Changed: mins(10)}}})

	code, out, _ := f.ship("status")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	prd := section(t, out, "prd")
	for _, want := range []string{
		"approval   PENDING: action SignOff in stage Approval, waiting 3m (since " + formatTime(since.UTC()) + "), execution prd-2 (commit " + gate.Short(f.c(4)) + ")",
		"approvers  whoever may assume role arn:aws:iam::444444444444:role/payments-checkout-prd-approver, which trusts the approvers the organisation file names for prd: arn:aws:iam::444444444444:role/release-managers",
		"queued     execution prd-3 (commit " + gate.Short(f.c(1)) + "), waiting to enter stage Approval",
		"waiting    3 commits deployed in stg, not in prd; ship promote prd brings " + gate.Short(f.c(4)),
		"(" + gate.Short(f.c(4)) + " itself waits for approval (execution prd-2, action SignOff in stage Approval",
		"the branch has moved to " + gate.Short(f.c(1)) + " since)",
	} {
		if !strings.Contains(prd, want) {
			t.Errorf("prd section lacks %q:\n%s", want, prd)
		}
	}
}

func TestStatusReportsAnUnreadableEnvironmentAndGoesOn(t *testing.T) {
	f := newFixture(t)
	f.pushTo("dev", 2)
	f.aws.SetRuns("payments-checkout-dev", run("dev-2", f.c(2), "Succeeded", mins(10)))
	f.aws.SetRuns("payments-checkout-prd")
	// GIVEN stg's pipeline does not exist in the account the credentials reach

	code, out, errOut := f.ship("status")

	if code != ExitFailed {
		t.Fatalf("exit %d, want %d", code, ExitFailed)
	}
	if !strings.Contains(section(t, out, "stg"), "pipeline payments-checkout-stg not found in environment stg (account 333333333333") {
		t.Errorf("stg section does not explain the missing pipeline")
	}
	if !strings.Contains(section(t, out, "dev"), "deployed   "+gate.Short(f.c(2))) {
		t.Errorf("dev was not reported")
	}
	if !strings.Contains(section(t, out, "prd"), "deployed   nothing yet") {
		t.Errorf("prd was not reported")
	}
	if !strings.Contains(errOut, "could not read stg") {
		t.Errorf("stderr does not summarise the failure")
	}
}

func TestHistoryListsRecentRunsNewestFirst(t *testing.T) {
	f := newFixture(t)
	f.aws.SetPageSize(2) // make ship page through the history
	f.aws.SetRuns("payments-checkout-stg",
		run("stg-e", f.c(3), "Failed", mins(50)),
		run("stg-d", f.c(3), "Succeeded", mins(40)),
		run("stg-c", f.c(2), "Succeeded", mins(30)),
		run("stg-b", f.c(1), "Superseded", mins(20)),
		run("stg-a", f.c(1), "Succeeded", mins(10)))

	code, out, _ := f.ship("history", "stg", "--limit", "3")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 { // title, header, 3 runs
		t.Fatalf("%d lines, want title, header and 3 runs:\n%s", len(lines), out)
	}
	if !strings.HasPrefix(lines[1], "EXECUTION") || !strings.Contains(lines[1], "COMMIT") || !strings.Contains(lines[1], "STATUS") {
		t.Errorf("header %q", lines[1])
	}
	wants := [][]string{
		{"stg-e", gate.Short(f.c(3)), "Failed", "2026-03-01T12:45:00Z", "2026-03-01T12:50:00Z"},
		{"stg-d", gate.Short(f.c(3)), "Succeeded", "2026-03-01T12:40:00Z", "<- deployed"},
		{"stg-c", gate.Short(f.c(2)), "Succeeded", "2026-03-01T12:30:00Z"},
	}
	for i, w := range wants {
		fields := strings.Join(strings.Fields(lines[2+i]), " ")
		for _, s := range w {
			if !strings.Contains(fields, s) {
				t.Errorf("row %d %q lacks %q", i, fields, s)
			}
		}
	}
	if strings.Contains(lines[4], "deployed") {
		t.Errorf("an older success is marked deployed: %q", lines[4])
	}
	if n := len(f.pipelineCalls()); n != 2 {
		t.Errorf("%d ListPipelineExecutions calls, want 2 pages of 2", n)
	}
}
