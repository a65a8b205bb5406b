package ship

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	cptypes "github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// watchedOrg is orgYAML with prd watching four alarms and deploying in a window (09:00-17:00
// Berlin time, Monday to Thursday), and stg watching its default health alarm.
const watchedOrg = `registry:
  account: "111111111111"
  region: eu-west-1
teams:
  - name: payments
    services:
      - name: checkout
        environments:
          - name: dev
            account: "222222222222"
            region: eu-west-1
          - name: stg
            account: "333333333333"
            region: eu-west-1
            watch: {}
          - name: prd
            account: "444444444444"
            region: eu-west-1
            watch:
              alarms: [prd-ok, prd-burning, prd-gone, prd-composite]
            window:
              cron: "0 9 * * MON-THU"
              duration: 8h
              timeZone: Europe/Berlin
`

// useOrg makes the fixture's organisation file yaml.
func useOrg(t *testing.T, yaml string) {
	cfg := filepath.Join(t.TempDir(), "organization.yaml")
	must(t, os.WriteFile(cfg, []byte(yaml), 0o644))
	t.Setenv(EnvConfig, cfg)
}

// at is an App whose clock shows t.
func at(t time.Time) *App { return &App{Now: func() time.Time { return t }} }

// monday11 is Monday 2 March 2026, 11:00 in Berlin (10:00 UTC): prd's window is open.
var monday11 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// rolledBackFixture: prd's branch has c4, whose run prd-6 failed its deploy; CodePipeline
// rolled the Deploy stage back to prd-5 (c2) in execution prd-7. stg passed c2 and c4.
func rolledBackFixture(t *testing.T) *fixture {
	f := newFixture(t)
	f.pushTo("dev", 4)
	f.pushTo("stg", 4)
	f.pushTo("prd", 4)
	f.aws.SetRuns("payments-checkout-dev", run("dev-4", f.c(4), "Succeeded", mins(10)))
	f.aws.SetRuns("payments-checkout-stg", run("stg-4", f.c(4), "Succeeded", mins(20)), run("stg-2", f.c(2), "Succeeded", mins(5)))
	rb := run("prd-7", f.c(2), "Succeeded", mins(45))
	rb.Type, rb.RollbackTarget = "ROLLBACK", "prd-5"
	f.aws.SetRuns("payments-checkout-prd",
		rb,
		run("prd-6", f.c(4), "Failed", mins(40)),
		run("prd-5", f.c(2), "Succeeded", mins(30)),
		run("prd-4", f.c(1), "Succeeded", mins(25)))
	return f
}

// TestStatusSaysWhyAnEnvironmentRunsAnotherCommitThanItsBranch: after an automatic
// rollback prd runs c2 while its branch names c4; status says so, which run was rolled
// back and how it ended, and how to make the branch match. history marks the rollback.
func TestStatusSaysWhyAnEnvironmentRunsAnotherCommitThanItsBranch(t *testing.T) {
	f := rolledBackFixture(t)

	code, out, _ := f.ship("status")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	c2, c4 := gate.Short(f.c(2)), gate.Short(f.c(4))
	prd := section(t, out, "prd")
	for _, want := range []string{
		"branch     " + c4,
		"deployed   " + c2 + " (execution prd-7, a rollback to prd-5, succeeded 2026-03-01T12:45:00Z, automatic)",
		"drift      prd runs " + c2 + ", not the branch head " + c4 + ": automatic rollback (execution prd-7, 2026-03-01T12:45:00Z) to execution prd-5, " +
			"after execution prd-6 (commit " + c4 + ") failed (2026-03-01T12:40:00Z)",
		"(the branch still names " + c4 + ", so the next push of anything replaces " + c2 + "; to make the branch name what runs, ship rollback prd " + c2 + " pushes it",
	} {
		if !strings.Contains(prd, want) {
			t.Errorf("prd section lacks %q:\n%s", want, prd)
		}
	}
	// stg runs its branch head: no drift there
	if strings.Contains(section(t, out, "stg"), "drift") {
		t.Errorf("stg shows a drift:\n%s", section(t, out, "stg"))
	}

	_, out, _ = f.ship("history", "prd")
	if !strings.Contains(out, "automatic rollback to prd-5; <- deployed") {
		t.Errorf("history does not mark the automatic rollback:\n%s", out)
	}
}

// TestStatusSaysWhyTheBranchHeadIsNotDeployedYet: a drift without a rollback: the head's
// run is in progress, or ended without deploying.
func TestStatusSaysWhyTheBranchHeadIsNotDeployedYet(t *testing.T) {
	f := newFixture(t)
	f.pushTo("dev", 3)
	f.aws.SetRuns("payments-checkout-dev", run("dev-3", f.c(3), "InProgress", mins(30)), run("dev-2", f.c(2), "Succeeded", mins(20)))
	f.aws.SetRuns("payments-checkout-stg")
	f.aws.SetRuns("payments-checkout-prd")

	_, out, _ := f.ship("status")
	if want := "drift      dev runs " + gate.Short(f.c(2)) + ", not the branch head " + gate.Short(f.c(3)) + ": its run is running (execution dev-3)"; !strings.Contains(out, want) {
		t.Errorf("status lacks %q:\n%s", want, out)
	}

	f.aws.SetRuns("payments-checkout-dev", run("dev-3", f.c(3), "Failed", mins(30)), run("dev-2", f.c(2), "Succeeded", mins(20)))
	_, out, _ = f.ship("status")
	if want := ": its newest run, execution dev-3, is Failed (2026-03-01T12:30:00Z)"; !strings.Contains(out, want) || !strings.Contains(out, "ship rollback dev "+gate.Short(f.c(2))) {
		t.Errorf("status lacks %q and the way back:\n%s", want, out)
	}
}

// TestStatusShowsTheWatchedAlarms: OK, ALARM since when and why, INSUFFICIENT_DATA of a
// composite alarm, and an alarm the account does not have; read with each environment's own
// credentials, once its account was checked.
func TestStatusShowsTheWatchedAlarms(t *testing.T) {
	f := rolledBackFixture(t)
	useOrg(t, watchedOrg)
	burning := mins(50)
	f.aws.SetAlarms(
		fakeaws.Alarm{Name: "prd-ok", State: "OK", Since: mins(1)},
		fakeaws.Alarm{Name: "prd-burning", State: "ALARM", Reason: "Threshold Crossed: 7 errors", Since: burning},
		fakeaws.Alarm{Name: "prd-composite", State: "INSUFFICIENT_DATA", Since: mins(2), Composite: true},
		fakeaws.Alarm{Name: "payments-checkout-stg-health", State: "OK", Since: mins(3)},
	)

	code, out, _ := f.shipWith(at(monday11), "status")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	prd := section(t, out, "prd")
	for _, want := range []string{
		"alarms     prd-ok: OK since 2026-03-01T12:01:00Z\n",
		"           prd-burning: ALARM since 2026-03-01T12:50:00Z (Threshold Crossed: 7 errors); while it is, a run waits at Deploy's entry (up to 15m, then fails)",
		"           prd-gone: missing (no such alarm in account 444444444444, eu-west-1",
		"           prd-composite: INSUFFICIENT_DATA since 2026-03-01T12:02:00Z",
	} {
		if !strings.Contains(prd, want) {
			t.Errorf("prd section lacks %q:\n%s", want, prd)
		}
	}
	if !strings.Contains(section(t, out, "stg"), "alarms     payments-checkout-stg-health: OK since 2026-03-01T12:03:00Z") {
		t.Errorf("stg's default health alarm is not shown:\n%s", section(t, out, "stg"))
	}
	if strings.Contains(section(t, out, "dev"), "alarms") {
		t.Errorf("dev watches nothing, yet shows alarms")
	}
	checked := map[string]bool{}
	var described []string
	for _, c := range f.aws.Recorded() {
		switch c.Op {
		case "GetCallerIdentity":
			checked[c.AccessKey] = true
		case "DescribeAlarms":
			described = append(described, c.AccessKey)
			if !checked[c.AccessKey] {
				t.Errorf("DescribeAlarms signed with %s before its account was checked", c.AccessKey)
			}
		}
	}
	if strings.Join(described, " ") != keyStg+" "+keyPrd {
		t.Errorf("DescribeAlarms signed with %v, want once with stg's key and once with prd's", described)
	}
}

// TestACloudWatchFailureOnlyMakesTheAlarmsUnknown: status still shows everything else,
// and exits 0: the pipelines were read.
func TestACloudWatchFailureOnlyMakesTheAlarmsUnknown(t *testing.T) {
	f := rolledBackFixture(t)
	useOrg(t, watchedOrg)
	f.aws.Fail("DescribeAlarms", fakeaws.Fault{Status: 403, Code: "AccessDenied", Message: "User is not authorized to perform: cloudwatch:DescribeAlarms"}, -1)

	code, out, errOut := f.shipWith(at(monday11), "status")

	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	prd := section(t, out, "prd")
	for _, want := range []string{
		"alarms     unknown (access denied reading alarms in environment prd (account 444444444444, region eu-west-1) " +
			"(AccessDenied: User is not authorized to perform: cloudwatch:DescribeAlarms); the identity needs cloudwatch:DescribeAlarms there)",
		"deployed   " + gate.Short(f.c(2)), "drift      prd runs", "window     open now", "waiting    ",
	} {
		if !strings.Contains(prd, want) {
			t.Errorf("prd section lacks %q:\n%s", want, prd)
		}
	}
}

// TestStatusShowsTheWindowAtTheAppsClock: computed from the organisation file with App.Now.
func TestStatusShowsTheWindowAtTheAppsClock(t *testing.T) {
	f := rolledBackFixture(t)
	useOrg(t, watchedOrg)

	_, out, _ := f.shipWith(at(monday11), "status")
	want := `window     open now until 17:00 Europe/Berlin (window 09:00-17:00 Europe/Berlin on days matching "0 9 * * MON-THU")`
	if !strings.Contains(section(t, out, "prd"), want) {
		t.Errorf("at Monday 11:00 Berlin, prd lacks %q:\n%s", want, section(t, out, "prd"))
	}

	// Thursday 5 March, 17:30 in Berlin: closed until Monday 9 March, 09:00
	_, out, _ = f.shipWith(at(time.Date(2026, 3, 5, 16, 30, 0, 0, time.UTC)), "status")
	want = "window     closed, opens Mon 9 Mar 09:00 Europe/Berlin (in 3d15h); a run waits at Deploy's entry until then"
	if !strings.Contains(section(t, out, "prd"), want) {
		t.Errorf("at Thursday 17:30 Berlin, prd lacks %q:\n%s", want, section(t, out, "prd"))
	}
	if strings.Contains(section(t, out, "stg"), "window") {
		t.Errorf("stg has no window, yet shows one")
	}
}

// TestStatusJSON decodes `ship status --json`: the rollback, the drift, the alarms (one
// missing), the window, and the field names of the schema.
func TestStatusJSON(t *testing.T) {
	f := rolledBackFixture(t)
	useOrg(t, watchedOrg)
	f.aws.SetAlarms(fakeaws.Alarm{Name: "prd-burning", State: "ALARM", Since: mins(50)})

	code, out, errOut := f.shipWith(at(monday11), "status", "--json")

	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	doc := decodeStatus(t, out)
	if doc.SchemaVersion != SchemaVersion || doc.Path != "payments/checkout" || !doc.Complete || !doc.Now.Equal(monday11) || len(doc.Environments) != 3 {
		t.Fatalf("document %+v", doc)
	}
	prd := doc.Environments[2]
	if prd.Name != "prd" || prd.Upstream != "stg" || prd.BranchHead != f.c(4) || prd.Pipeline != "payments-checkout-prd" {
		t.Errorf("prd %+v", prd)
	}
	if d := prd.Deployed; d == nil || d.ExecutionID != "prd-7" || d.Commit != f.c(2) || d.Type != "ROLLBACK" || d.Trigger != "AutomatedRollback" ||
		d.Rollback == nil || d.Rollback.TargetExecutionID != "prd-5" || d.Rollback.Automatic == nil || !*d.Rollback.Automatic || !d.Updated.Equal(mins(45)) {
		t.Errorf("deployed %+v", d)
	}
	if d := prd.Drift; d == nil || d.Cause != DriftRollback || d.DeployedCommit != f.c(2) || d.BranchHead != f.c(4) ||
		d.RolledBack == nil || d.RolledBack.ExecutionID != "prd-6" || d.RolledBack.Status != "Failed" || !strings.Contains(d.Fix, "ship rollback prd") {
		t.Errorf("drift %+v", d)
	}
	if w := prd.Window; w == nil || !w.Open || w.TimeZone != "Europe/Berlin" || w.Cron != "0 9 * * MON-THU" ||
		!w.Opens.Equal(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)) || !w.Closes.Equal(time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("window %+v", w)
	}
	states := map[string]string{}
	for _, a := range prd.Alarms.Alarms {
		states[a.Name] = a.State
	}
	if !prd.Alarms.Known || states["prd-burning"] != "ALARM" || states["prd-gone"] != "MISSING" || len(states) != 4 {
		t.Errorf("alarms %+v", prd.Alarms)
	}
	if dev := doc.Environments[0]; dev.Window != nil || dev.Alarms != nil || dev.Drift != nil || dev.Waiting.State != "first" {
		t.Errorf("dev %+v: want no window, no alarms, no drift, the first environment", dev)
	}
	if stg := doc.Environments[1]; stg.Waiting.State != "none" || len(stg.Waiting.Commits) != 0 {
		t.Errorf("stg waiting %+v", stg.Waiting)
	}

	// AND the names are the documented ones (a rename would break scripts)
	var raw map[string]any
	must(t, json.Unmarshal([]byte(out), &raw))
	env := raw["environments"].([]any)[2].(map[string]any)
	for _, k := range []string{"name", "account", "region", "pipeline", "remote", "branch", "upstream", "branchHead", "deployed", "latest",
		"drift", "approvals", "queued", "window", "alarms", "waiting"} {
		if _, ok := env[k]; !ok {
			t.Errorf("environment lacks key %q", k)
		}
	}
	if _, ok := env["deployed"].(map[string]any)["rollback"].(map[string]any)["targetExecutionId"]; !ok {
		t.Errorf("deployed.rollback.targetExecutionId missing: %v", env["deployed"])
	}

	// AND a CloudWatch failure is in the document, not on stderr
	f.aws.Fail("DescribeAlarms", fakeaws.Throttled, -1)
	code, out, errOut = f.shipWith(at(monday11), "status", "--json")
	must(t, json.Unmarshal([]byte(out), &doc))
	if a := doc.Environments[2].Alarms; code != ExitOK || errOut != "" || a.Known || !strings.Contains(a.Error, "ThrottlingException") || a.Alarms[0].State != "UNKNOWN" {
		t.Errorf("exit %d, stderr %q, alarms %+v", code, errOut, a)
	}
}

// TestHistoryJSON decodes `ship history <env> --json`.
func TestHistoryJSON(t *testing.T) {
	f := rolledBackFixture(t)

	code, out, errOut := f.ship("history", "prd", "--json", "--limit", "3")

	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	doc := decodeStrict[HistoryJSON](t, out)
	if doc.SchemaVersion != SchemaVersion || doc.Environment != "prd" || doc.Pipeline != "payments-checkout-prd" || doc.Account != "444444444444" ||
		doc.Limit != 3 || len(doc.Runs) != 3 {
		t.Fatalf("document %+v", doc)
	}
	rb, failed, target := doc.Runs[0], doc.Runs[1], doc.Runs[2]
	if rb.ExecutionID != "prd-7" || !rb.Deployed || rb.Type != "ROLLBACK" || rb.Rollback == nil || rb.Rollback.TargetExecutionID != "prd-5" ||
		rb.Rollback.Automatic == nil || !*rb.Rollback.Automatic || rb.Commit != f.c(2) {
		t.Errorf("rollback run %+v", rb)
	}
	if failed.ExecutionID != "prd-6" || failed.Deployed || failed.Status != "Failed" || failed.Type != "STANDARD" || failed.Rollback != nil ||
		!failed.Started.Equal(mins(35)) || !failed.Updated.Equal(mins(40)) {
		t.Errorf("failed run %+v", failed)
	}
	if target.ExecutionID != "prd-5" || target.Deployed {
		t.Errorf("target run %+v: only the newest success is deployed", target)
	}

	// AND an error is on stderr with its exit code, and stdout stays empty
	code, out, errOut = f.ship("history", "qa", "--json")
	if code != ExitUsage || out != "" || !strings.Contains(errOut, `unknown environment "qa"`) {
		t.Errorf("history qa --json: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestReadCommandsRefuseAnotherAccountsCredentials: status --json and history --json, like
// every command, read nothing (neither pipelines nor alarms) with credentials of another
// account, and say so.
func TestReadCommandsRefuseAnotherAccountsCredentials(t *testing.T) {
	f := rolledBackFixture(t)
	useOrg(t, watchedOrg)
	f.flags = []string{"--profile", "dev=dev", "--profile", "stg=stg", "--profile", "prd=stg"}

	code, out, errOut := f.shipWith(at(monday11), "status", "--json")

	if code != ExitFailed || !strings.Contains(errOut, "could not read prd") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var doc StatusJSON
	must(t, json.Unmarshal([]byte(out), &doc))
	prd := doc.Environments[2]
	if doc.Complete || !strings.Contains(prd.Error, "belong to account 333333333333 (stg's account), not prd's account 444444444444") ||
		prd.Alarms == nil || prd.Alarms.Known || prd.Window == nil {
		t.Errorf("prd %+v", prd)
	}
	for _, c := range f.aws.Recorded() {
		if c.Op == "DescribeAlarms" && c.AccessKey == keyStg && len(c.Input["AlarmNames"].([]any)) == 4 {
			t.Errorf("prd's alarms were read with stg's credentials")
		}
		if c.Pipeline == "payments-checkout-prd" {
			t.Errorf("prd's pipeline was read with stg's credentials: %+v", c)
		}
	}

	code, out, errOut = f.ship("history", "prd", "--json")
	if code != ExitFailed || out != "" || !strings.Contains(errOut, "the credentials for environment prd") {
		t.Errorf("history --json: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// liveStg makes stg a watched pipeline of the fake's full layout (Guard reading dev's
// history, Deploy with its bake on stg's health alarm, rollback on failure), with dev
// having passed c1..c3 and stg running c1 (stg-1).
func liveStg(t *testing.T, f *fixture) {
	f.pushTo("dev", 3)
	f.pushTo("stg", 1)
	f.aws.SetRuns("payments-checkout-dev", run("dev-3", f.c(3), "Succeeded", mins(30)), run("dev-2", f.c(2), "Succeeded", mins(20)),
		run("dev-1", f.c(1), "Succeeded", mins(10)))
	f.aws.SetRuns("payments-checkout-stg", run("stg-1", f.c(1), "Succeeded", mins(15)))
	f.aws.SetRuns("payments-checkout-prd")
	f.aws.SetClock(func() time.Time { return mins(60) })
	must(t, f.aws.Watch(context.Background(), fakeaws.Repo{Env: "stg", Pipeline: "payments-checkout-stg", GitDir: f.bare["stg"], Full: true,
		Upstream: "dev", UpstreamPipeline: "payments-checkout-dev", Alarms: []string{"payments-checkout-stg-health"}, RollbackOnFailure: true}))
}

// TestStatusExplainsARollbackAfterAnAlarmDuringTheBake, end to end in the fake's live
// pipeline: c2 is promoted to stg, deploys, and stg's health alarm goes off during the bake;
// CodePipeline rolls Deploy back to stg-1. The rollback's own run of Deploy has replaced the
// stage's condition states by then, so status tells it from what is left: every action of
// the rolled-back run succeeded (ListActionExecutions), and the watched alarm went into
// ALARM during it (CloudWatch's state and its time); and it shows the alarm in ALARM.
func TestStatusExplainsARollbackAfterAnAlarmDuringTheBake(t *testing.T) {
	f := newFixture(t)
	useOrg(t, watchedOrg)
	liveStg(t, f)
	f.aws.Script("payments-checkout-stg", f.c(2), fakeaws.Fate{BakeAlarm: true})
	f.aws.SetAlarms(fakeaws.Alarm{Name: "payments-checkout-stg-health", State: "ALARM", Reason: "Threshold Crossed: 1 datapoint [12.0]", Since: mins(60)})

	if code, _, _ := f.ship("promote", "stg", gate.Short(f.c(2))); code != ExitOK {
		t.Fatalf("promote stg: exit %d", code)
	}
	code, out, _ := f.shipWith(at(monday11), "status")

	if code != ExitOK {
		t.Fatalf("status: exit %d", code)
	}
	c1, c2 := gate.Short(f.c(1)), gate.Short(f.c(2))
	stg := section(t, out, "stg")
	for _, want := range []string{
		"branch     " + c2,
		"deployed   " + c1 + " (execution stg-3, a rollback to stg-1, succeeded",
		"drift      stg runs " + c1 + ", not the branch head " + c2 + ": automatic rollback (execution stg-3",
		"after execution stg-2 (commit " + c2 + ") failed (2026-03-01T13:00:00Z); " +
			"every action it ran succeeded, so a stage condition failed it: after a deploy, the bake's watched alarms; " +
			"watched alarm payments-checkout-stg-health went into ALARM at 2026-03-01T13:00:00Z, during that run",
		"alarms     payments-checkout-stg-health: ALARM since 2026-03-01T13:00:00Z (Threshold Crossed: 1 datapoint [12.0])",
	} {
		if !strings.Contains(stg, want) {
			t.Errorf("stg section lacks %q:\n%s", want, stg)
		}
	}
}

// TestStatusExplainsARollbackAfterAFailedDeploy: the same pipeline, c3's Deploy action
// fails; status quotes its error from ListActionExecutions of the rolled-back run.
func TestStatusExplainsARollbackAfterAFailedDeploy(t *testing.T) {
	f := newFixture(t)
	liveStg(t, f)
	f.aws.Script("payments-checkout-stg", f.c(3), fakeaws.Fate{Fail: "Deploy/Deploy", Error: "Stack payments-checkout failed: UPDATE_ROLLBACK_COMPLETE"})

	if code, _, _ := f.ship("promote", "stg", gate.Short(f.c(3))); code != ExitOK {
		t.Fatalf("promote stg: exit %d", code)
	}
	_, out, _ := f.ship("status")

	c1, c3 := gate.Short(f.c(1)), gate.Short(f.c(3))
	stg := section(t, out, "stg")
	for _, want := range []string{
		"drift      stg runs " + c1 + ", not the branch head " + c3 + ": automatic rollback (execution stg-3",
		"after execution stg-2 (commit " + c3 + ") failed (2026-03-01T13:00:00Z); action Deploy/Deploy failed: Stack payments-checkout failed: UPDATE_ROLLBACK_COMPLETE",
	} {
		if !strings.Contains(stg, want) {
			t.Errorf("stg section lacks %q:\n%s", want, stg)
		}
	}
	if strings.Contains(stg, "bake") || strings.Contains(stg, "went into ALARM") {
		t.Errorf("a failed deploy is told as an alarm:\n%s", stg)
	}
}

// TestStatusReadsTheBakeFailureFromTheStageConditions: while GetPipelineState still shows
// the rolled-back run in Deploy, its failed on-success condition names the alarm rule.
func TestStatusReadsTheBakeFailureFromTheStageConditions(t *testing.T) {
	f := rolledBackFixture(t)
	f.aws.SetState("payments-checkout-prd", fakeaws.Stage{Name: "Deploy", Execution: "prd-6", ExecutionStatus: "Failed",
		Actions: []fakeaws.Action{{Name: "Deploy", Status: "Succeeded", Changed: mins(38)}},
		Success: &fakeaws.Condition{Status: "Failed", Rules: []fakeaws.Rule{
			{Name: "Alarm-prd-burning", Status: "Failed", Summary: "alarm prd-burning is in ALARM", Changed: mins(42)},
			{Name: "Alarm-prd-ok", Status: "Succeeded", Summary: "alarm prd-ok stayed OK", Changed: mins(42)}}}})

	_, out, _ := f.ship("status")

	want := "after execution prd-6 (commit " + gate.Short(f.c(4)) + ") deployed, then stage Deploy's bake check failed: " +
		"rule Alarm-prd-burning: alarm prd-burning is in ALARM (2026-03-01T12:42:00Z)"
	if prd := section(t, out, "prd"); !strings.Contains(prd, want) || strings.Contains(prd, "Alarm-prd-ok") {
		t.Errorf("prd section lacks %q (and only the failed rule):\n%s", want, prd)
	}
}

// manualTrigger is the real client, except that it reports one execution as started by a
// person (triggerType ManualRollback, what rollback-stage leaves), which the fake's
// rollbacks never are.
type manualTrigger struct {
	Pipelines
	id string
}

func (m manualTrigger) ListPipelineExecutions(ctx context.Context, in *codepipeline.ListPipelineExecutionsInput, optFns ...func(*codepipeline.Options)) (*codepipeline.ListPipelineExecutionsOutput, error) {
	out, err := m.Pipelines.ListPipelineExecutions(ctx, in, optFns...)
	if err == nil {
		for i, s := range out.PipelineExecutionSummaries {
			if aws.ToString(s.PipelineExecutionId) == m.id {
				out.PipelineExecutionSummaries[i].Trigger = &cptypes.ExecutionTrigger{TriggerType: cptypes.TriggerTypeManualRollback,
					TriggerDetail: aws.String("arn:aws:sts::444444444444:assumed-role/oncall/alice")}
			}
		}
	}
	return out, err
}

// TestARollbackAPersonStartedIsNotCalledAutomatic: status, history and --json tell a
// rollback-stage (ManualRollback) from CodePipeline's own.
func TestARollbackAPersonStartedIsNotCalledAutomatic(t *testing.T) {
	f := rolledBackFixture(t)
	app := func() *App {
		return &App{Clients: func(a AWSAccess) ClientFactory {
			real := a.Clients()
			return func(ctx context.Context, env org.Environment) (Account, error) {
				acc, err := real(ctx, env)
				if err == nil {
					acc.Pipelines = manualTrigger{Pipelines: acc.Pipelines, id: "prd-7"}
				}
				return acc, err
			}
		}}
	}

	_, out, _ := f.shipWith(app(), "status")
	prd := section(t, out, "prd")
	for _, want := range []string{"(execution prd-7, a rollback to prd-5, succeeded 2026-03-01T12:45:00Z, started by a person (rollback-stage))",
		": rollback started by arn:aws:sts::444444444444:assumed-role/oncall/alice (rollback-stage) (execution prd-7"} {
		if !strings.Contains(prd, want) {
			t.Errorf("prd section lacks %q:\n%s", want, prd)
		}
	}
	if strings.Contains(prd, "automatic") {
		t.Errorf("a person's rollback is called automatic:\n%s", prd)
	}
	_, out, _ = f.shipWith(app(), "history", "prd")
	if !strings.Contains(out, "manual rollback to prd-5; <- deployed") {
		t.Errorf("history:\n%s", out)
	}
	_, out, _ = f.shipWith(app(), "history", "prd", "--json")
	var doc HistoryJSON
	must(t, json.Unmarshal([]byte(out), &doc))
	if rb := doc.Runs[0].Rollback; rb == nil || rb.Automatic == nil || *rb.Automatic || doc.Runs[0].Trigger != "ManualRollback" {
		t.Errorf("history --json: %+v", doc.Runs[0])
	}
}

// decodeStatus reads status --json output strictly (decodeStrict).
func decodeStatus(t *testing.T, out string) StatusJSON { return decodeStrict[StatusJSON](t, out) }

// decodeStrict reads a --json document strictly: a field the schema does not declare
// fails the test, so every field printed is documented in the document's type.
func decodeStrict[T any](t *testing.T, out string) T {
	t.Helper()
	var doc T
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	must(t, dec.Decode(&doc))
	return doc
}
