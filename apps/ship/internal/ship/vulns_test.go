package ship

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/platform-eng/pathtoprod/constructs/vulnscan"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// gatedOrg lets stg promote unscanned images and refuse HIGH; prd keeps the defaults
// (CRITICAL, refuse unscanned).
var gatedOrg = strings.Replace(orgYAML, `account: "333333333333"`, `account: "333333333333"
            vulnerabilities: {refuse: high, unscanned: allow}`, 1)

// guardRun is the Guard action execution of a run, with the guard's output variables.
func guardRun(execution, status string, at int, vars map[string]string) fakeaws.ActionRun {
	return fakeaws.ActionRun{Execution: execution, Stage: "Guard", Action: "CommitPassedUpstream", Status: status,
		Started: mins(at - 1), Updated: mins(at), Variables: vars}
}

func scanned(counts vulnscan.Counts, status string) map[string]string {
	return map[string]string{"Commit": "x", "Summary": "Verified ...", vulnscan.OutputVulnerabilities: counts.String(), vulnscan.OutputScanStatus: status}
}

// TestStatusShowsTheGuardsVulnerabilityCounts: each downstream environment shows what its
// guard read of the deployed commit's image (the run that deployed it, the guard's
// successful attempt), and the environment's threshold; the first environment says its
// image is gated after it.
func TestStatusShowsTheGuardsVulnerabilityCounts(t *testing.T) {
	f := newFixture(t)
	useOrg(t, gatedOrg)
	f.pushTo("dev", 3)
	f.pushTo("stg", 3)
	f.pushTo("prd", 2)
	f.aws.SetRuns("payments-checkout-dev", run("dev-3", f.c(3), "Succeeded", mins(10)))
	f.aws.SetRuns("payments-checkout-stg", run("stg-3", f.c(3), "Succeeded", mins(20)), run("stg-2", f.c(2), "Succeeded", mins(15)))
	f.aws.SetRuns("payments-checkout-prd", run("prd-2", f.c(2), "Succeeded", mins(30)), run("prd-1", f.c(1), "Succeeded", mins(5)))
	// stg's guard let c3 through unscanned (allowed there); an older run's guard saw other counts
	f.aws.SetActionRuns("payments-checkout-stg",
		guardRun("stg-2", "Succeeded", 12, scanned(vulnscan.Counts{vulnscan.Critical: 9}, "COMPLETE")),
		guardRun("stg-3", "Succeeded", 17, map[string]string{vulnscan.OutputVulnerabilities: vulnscan.NotScanned, vulnscan.OutputScanStatus: "IN_PROGRESS"}))
	// prd's guard refused c2 once (scan in progress), then passed it on a retry of the stage
	f.aws.SetActionRuns("payments-checkout-prd",
		guardRun("prd-1", "Succeeded", 3, scanned(vulnscan.Counts{vulnscan.Critical: 7}, "COMPLETE")),
		guardRun("prd-2", "Failed", 22, nil),
		guardRun("prd-2", "Succeeded", 26, scanned(vulnscan.Counts{vulnscan.High: 2, vulnscan.Medium: 5}, "COMPLETE")))

	code, out, _ := f.ship("status")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for env, want := range map[string]string{
		"dev": "vulns      - (built here; the guards after dev gate its scan: stg refuses HIGH and above, prd refuses CRITICAL)",
		"stg": "vulns      not scanned (IN_PROGRESS when the guard passed it), allowed by vulnerabilities.unscanned: allow\n",
		"prd": "vulns      0 CRITICAL, 2 HIGH, 5 MEDIUM (scan COMPLETE when the guard passed it; prd refuses CRITICAL)\n",
	} {
		if !strings.Contains(section(t, out, env)+"\n", want) {
			t.Errorf("%s section lacks %q:\n%s", env, want, section(t, out, env))
		}
	}
	// One read per downstream environment, of the deployed run only.
	var read []string
	for _, c := range f.aws.Recorded() {
		if c.Op == "ListActionExecutions" {
			filter, _ := c.Input["filter"].(map[string]any)
			read = append(read, c.Pipeline+" "+filter["pipelineExecutionId"].(string))
		}
	}
	if want := []string{"payments-checkout-stg stg-3", "payments-checkout-prd prd-2"}; !slices.Equal(read, want) {
		t.Errorf("ListActionExecutions of %v, want %v", read, want)
	}
}

// TestStatusVulnerabilitiesOfARollback: a ROLLBACK runs no Guard stage; the commit it
// redeployed was let in by its target run's guard, and that is what status shows.
func TestStatusVulnerabilitiesOfARollback(t *testing.T) {
	f := rolledBackFixture(t) // prd-7 rolled back to prd-5 (c2)
	f.aws.SetActionRuns("payments-checkout-prd",
		guardRun("prd-5", "Succeeded", 26, scanned(vulnscan.Counts{vulnscan.Low: 3, vulnscan.Untriaged: 1}, "ACTIVE")),
		guardRun("prd-6", "Succeeded", 36, scanned(vulnscan.Counts{}, "ACTIVE")))

	_, out, _ := f.ship("status")

	want := "vulns      0 CRITICAL, 0 HIGH, 0 MEDIUM, 3 LOW, 1 UNTRIAGED (scan ACTIVE when the guard passed it; prd refuses CRITICAL)"
	if !strings.Contains(section(t, out, "prd"), want) {
		t.Errorf("prd section lacks %q:\n%s", want, section(t, out, "prd"))
	}
}

// TestStatusVulnerabilitiesNotKnown: a guard that reported nothing, a run without a Guard
// action, a value that is not counts, and a denied read are each said as such, and status
// still reads everything else and exits 0.
func TestStatusVulnerabilitiesNotKnown(t *testing.T) {
	cases := map[string]struct {
		actions []fakeaws.ActionRun
		deny    bool
		org     string
		want    string
	}{
		"a guard without the gate": {
			actions: []fakeaws.ActionRun{guardRun("prd-2", "Succeeded", 26, map[string]string{"Commit": "x", "Summary": "Verified"})},
			want:    "vulns      not reported by the guard of execution prd-2 (a guard without the vulnerability gate, or a run from before it); prd refuses CRITICAL",
		},
		"no Guard action in the run": {
			want: "vulns      not reported by the guard of execution prd-2",
		},
		"not counts": {
			actions: []fakeaws.ActionRun{guardRun("prd-2", "Succeeded", 26, map[string]string{vulnscan.OutputVulnerabilities: "lots", vulnscan.OutputScanStatus: "COMPLETE"})},
			want:    `vulns      unknown: the guard of execution prd-2 reported Vulnerabilities "lots": vulnerability counts "lots": "lots" is not SEVERITY=COUNT`,
		},
		"no scan, nothing refused": {
			org: strings.Replace(orgYAML, `account: "444444444444"`, `account: "444444444444"
            vulnerabilities: {refuse: NONE}`, 1),
			actions: []fakeaws.ActionRun{guardRun("prd-2", "Succeeded", 26, map[string]string{vulnscan.OutputVulnerabilities: vulnscan.NotScanned, vulnscan.OutputScanStatus: vulnscan.ScanNotFound})},
			want:    "vulns      not scanned (ECR had no scan of it when the guard passed it), reported only: prd refuses nothing",
		},
		"denied": {
			deny: true,
			want: "vulns      unknown: list the action executions of execution prd-2: access denied reading pipeline payments-checkout-prd in environment prd (account 444444444444, region eu-west-1) (AccessDeniedException: no); the identity needs codepipeline:ListActionExecutions there",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			if tc.org != "" {
				useOrg(t, tc.org)
			}
			f.pushTo("prd", 2)
			f.aws.SetRuns("payments-checkout-dev")
			f.aws.SetRuns("payments-checkout-stg")
			f.aws.SetRuns("payments-checkout-prd", run("prd-2", f.c(2), "Succeeded", mins(30)))
			f.aws.SetActionRuns("payments-checkout-prd", tc.actions...)
			if tc.deny {
				f.aws.Fail("ListActionExecutions", fakeaws.Fault{Status: 400, Code: "AccessDeniedException", Message: "no"}, -1)
			}

			code, out, _ := f.ship("status")

			prd := section(t, out, "prd")
			if !strings.Contains(prd, tc.want) {
				t.Errorf("prd section lacks %q:\n%s", tc.want, prd)
			}
			if !strings.Contains(prd, "deployed   ") || code != ExitOK { // what the guard said is extra: not knowing it fails nothing
				t.Errorf("exit %d; prd:\n%s", code, prd)
			}
			if strings.Contains(section(t, out, "stg"), "vulns") {
				t.Errorf("stg, with nothing deployed, shows a vulns line")
			}
		})
	}
}

// TestStatusJSONVulnerabilities: the gate in --json, with the names the schema documents.
func TestStatusJSONVulnerabilities(t *testing.T) {
	f := newFixture(t)
	useOrg(t, gatedOrg)
	f.pushTo("prd", 2)
	f.aws.SetRuns("payments-checkout-dev")
	f.aws.SetRuns("payments-checkout-stg")
	f.aws.SetRuns("payments-checkout-prd", run("prd-2", f.c(2), "Succeeded", mins(30)))
	f.aws.SetActionRuns("payments-checkout-prd",
		guardRun("prd-2", "Succeeded", 26, scanned(vulnscan.Counts{vulnscan.High: 2, vulnscan.Untriaged: 1}, "ACTIVE")))

	code, out, errOut := f.ship("status", "--json")

	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	doc := decodeStatus(t, out)
	if doc.SchemaVersion != 1 {
		t.Errorf("schemaVersion %d: fields were only added", doc.SchemaVersion)
	}
	dev, stg, prd := doc.Environments[0], doc.Environments[1], doc.Environments[2]
	if dev.Vulnerabilities != nil {
		t.Errorf("dev vulnerabilities %+v, want null: no guard there", dev.Vulnerabilities)
	}
	if v := stg.Vulnerabilities; v == nil || v.State != VulnsNone || v.Refuse != "HIGH" || v.Unscanned != "allow" || v.Counts != nil {
		t.Errorf("stg vulnerabilities %+v, want its setting and state none", v)
	}
	v := prd.Vulnerabilities
	if v == nil || v.State != VulnsScanned || v.Refuse != "CRITICAL" || v.Unscanned != "refuse" || v.ExecutionID != "prd-2" || v.ScanStatus != "ACTIVE" ||
		v.Summary != "0 CRITICAL, 2 HIGH, 1 UNTRIAGED (scan ACTIVE when the guard passed it; prd refuses CRITICAL)" || v.Error != "" {
		t.Fatalf("prd vulnerabilities %+v", v)
	}
	if want := map[string]int{"CRITICAL": 0, "HIGH": 2, "MEDIUM": 0, "LOW": 0, "INFORMATIONAL": 0, "UNDEFINED": 0, "UNTRIAGED": 1}; !mapsEqual(v.Counts, want) {
		t.Errorf("counts %v, want %v", v.Counts, want)
	}
	var raw map[string]any
	must(t, json.Unmarshal([]byte(out), &raw))
	env := raw["environments"].([]any)[2].(map[string]any)
	vj, _ := env["vulnerabilities"].(map[string]any)
	for _, k := range []string{"refuse", "unscanned", "state", "executionId", "scanStatus", "counts", "summary"} {
		if _, ok := vj[k]; !ok {
			t.Errorf("vulnerabilities lacks key %q: %v", k, vj)
		}
	}
	if d := raw["environments"].([]any)[0].(map[string]any); d["vulnerabilities"] != nil {
		t.Errorf("dev vulnerabilities %v, want null", d["vulnerabilities"])
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestTheGuardsOwnOutputsAreRead: of a run's action executions, only the Guard action's,
// and of its attempts the one that succeeded, whatever else ran later.
func TestTheGuardsOwnOutputsAreRead(t *testing.T) {
	at := func(m int) *time.Time { x := mins(m); return &x }
	act := func(stage, action string, status types.ActionExecutionStatus, m int, vars map[string]string) types.ActionExecutionDetail {
		return types.ActionExecutionDetail{StageName: aws.String(stage), ActionName: aws.String(action), Status: status,
			LastUpdateTime: at(m), Output: &types.ActionExecutionOutput{OutputVariables: vars}}
	}
	v := &vulnsState{execution: "prd-2"}
	v.fromGuard([]types.ActionExecutionDetail{
		act("Plan", "Plan", types.ActionExecutionStatusSucceeded, 40, map[string]string{vulnscan.OutputVulnerabilities: "CRITICAL=5"}),
		act("Guard", "CommitPassedUpstream", types.ActionExecutionStatusFailed, 35, map[string]string{vulnscan.OutputVulnerabilities: "CRITICAL=4"}),
		act("Guard", "CommitPassedUpstream", types.ActionExecutionStatusSucceeded, 20, map[string]string{vulnscan.OutputVulnerabilities: "LOW=1", vulnscan.OutputScanStatus: "COMPLETE"}),
		act("Guard", "CommitPassedUpstream", types.ActionExecutionStatusSucceeded, 30, map[string]string{vulnscan.OutputVulnerabilities: "HIGH=1", vulnscan.OutputScanStatus: "COMPLETE"}),
	})
	if v.state != VulnsScanned || v.counts[vulnscan.High] != 1 || v.counts.Total() != 1 || v.status != "COMPLETE" {
		t.Errorf("read %+v, want the newest successful Guard attempt's HIGH=1", v)
	}
}
