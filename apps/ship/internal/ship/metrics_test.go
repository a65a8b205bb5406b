package ship

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/codepipeline"

	"github.com/platform-eng/pathtoprod/apps/ship/internal/report"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// metricsNow is the clock of the metrics tests: with --since 30d the window is
// 2026-03-01T12:00Z to 2026-03-31T12:00Z.
var metricsNow = time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)

// utc is a time of 2026, in UTC.
func utc(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, time.UTC)
}

// commitAt makes a commit on the clone's main with that committer date (and returns it):
// the date CodeCommit reports and the lead time starts from.
func (f *fixture) commitAt(msg string, at time.Time) string {
	f.t.Helper()
	must(f.t, os.WriteFile(filepath.Join(f.dir, "version"), []byte(msg), 0o644))
	f.git(f.dir, "add", "version")
	cmd := exec.Command("git", "commit", "-q", "-m", msg)
	cmd.Dir = f.dir
	// A committer clock two hours east of UTC: the instant is what counts.
	cmd.Env = append(os.Environ(), "GIT_COMMITTER_DATE="+at.In(time.FixedZone("", 2*3600)).Format(time.RFC3339))
	if out, err := cmd.CombinedOutput(); err != nil {
		f.t.Fatalf("git commit: %v\n%s", err, out)
	}
	return f.git(f.dir, "rev-parse", "HEAD")
}

// publish pushes the clone's main to every environment's bare repository and makes each
// the CodeCommit repository of the path in that environment's account, as the platform's
// stacks do: every account has the commits pushed to it.
func (f *fixture) publish(p org.Path) {
	f.t.Helper()
	for _, e := range p.Environments {
		f.git(f.dir, "push", "-q", "--force", e.Name, "main:refs/heads/main")
		f.aws.SetRepository(e.Account, p.RepositoryName(), f.bare[e.Name])
	}
}

// checkoutPath is payments/checkout as orgYAML describes it.
func checkoutPath(t *testing.T) org.Path {
	t.Helper()
	o, err := org.Parse([]byte(orgYAML), "orgYAML")
	must(t, err)
	p, err := o.Path("payments", "checkout")
	must(t, err)
	return p
}

// history is a hand-built history of payments/checkout with known commit times; the
// comments give what dora makes of each run and the expected figures are worked out in
// the tests from them.
type metricsHistory struct {
	c map[string]string // name -> commit id
}

// metricsFixture: commits c0..c5 with known committer dates, and these runs (end times):
//
// prd (window 2026-03-01T12:00Z .. 2026-03-31T12:00Z)
//
//	prd-0  c0 Succeeded 02-21 10:00  deploy, before the window (lead 1d0h, not counted)
//	prd-1  c1 Succeeded 03-10 10:00  deploy, lead 10:00-08:00 = 2h
//	prd-2  c2 Succeeded 03-12 15:00  deploy, lead 15:00-10:00 = 5h; rolled back by prd-3: failure
//	prd-3  ROLLBACK to prd-1, c1, 03-12 16:00  rollback (automatic); restores prd-2 after 1h
//	prd-4  c3 Failed 03-15 11:00, in Deploy  failed deploy: failure
//	prd-5  c3 Succeeded 03-15 13:00  deploy, lead 13:00-09:00 = 4h; restores prd-4 after 2h
//	prd-6  c4 Failed 03-20 13:00, in Guard   not a deployment attempt: no event
//	prd-7  c4 Succeeded 03-20 14:00  deploy, lead 14:00-12:00 = 2h; undone by prd-8: failure
//	prd-8  c3 Succeeded 03-22 10:00  rollback-push (c3 ran before); restores prd-7 after 44h = 1d20h
//	prd-9  c3 Succeeded 03-23 10:00  rerun
//	prd-10 c5 Failed 03-30 00:00, in Deploy  failed deploy: failure, still open
//
// dev: c1..c5 each deployed once, 1h after its commit (c4: 30m); stg: a pipeline that never ran.
func metricsFixture(t *testing.T) (*fixture, metricsHistory) {
	f := newFixture(t)
	h := metricsHistory{c: map[string]string{}}
	for _, c := range []struct {
		name string
		at   time.Time
	}{
		{"c0", time.Date(2026, 2, 20, 10, 0, 0, 0, time.UTC)},
		{"c1", utc(3, 10, 8, 0)},
		{"c2", utc(3, 12, 10, 0)},
		{"c3", utc(3, 15, 9, 0)},
		{"c4", utc(3, 20, 12, 0)},
		{"c5", utc(3, 29, 0, 0)},
	} {
		h.c[c.name] = f.commitAt(c.name, c.at)
	}
	f.publish(checkoutPath(t))
	rb := run("prd-3", h.c["c1"], "Succeeded", utc(3, 12, 16, 0))
	rb.Type, rb.RollbackTarget = "ROLLBACK", "prd-1"
	f.aws.SetRuns("payments-checkout-prd",
		run("prd-10", h.c["c5"], "Failed", utc(3, 30, 0, 0)),
		run("prd-9", h.c["c3"], "Succeeded", utc(3, 23, 10, 0)),
		run("prd-8", h.c["c3"], "Succeeded", utc(3, 22, 10, 0)),
		run("prd-7", h.c["c4"], "Succeeded", utc(3, 20, 14, 0)),
		run("prd-6", h.c["c4"], "Failed", utc(3, 20, 13, 0)),
		run("prd-5", h.c["c3"], "Succeeded", utc(3, 15, 13, 0)),
		run("prd-4", h.c["c3"], "Failed", utc(3, 15, 11, 0)),
		rb,
		run("prd-2", h.c["c2"], "Succeeded", utc(3, 12, 15, 0)),
		run("prd-1", h.c["c1"], "Succeeded", utc(3, 10, 10, 0)),
		run("prd-0", h.c["c0"], "Succeeded", time.Date(2026, 2, 21, 10, 0, 0, 0, time.UTC)))
	action := func(run, stage, action, status string, at time.Time) fakeaws.ActionRun {
		return fakeaws.ActionRun{Execution: run, Stage: stage, Action: action, Status: status, Started: at.Add(-time.Minute), Updated: at}
	}
	f.aws.SetActionRuns("payments-checkout-prd",
		action("prd-4", fakeaws.GuardStage, fakeaws.GuardAction, "Succeeded", utc(3, 15, 10, 50)),
		action("prd-4", fakeaws.DeployStage, fakeaws.DeployAction, "Failed", utc(3, 15, 11, 0)),
		action("prd-6", fakeaws.GuardStage, fakeaws.GuardAction, "Failed", utc(3, 20, 13, 0)),
		action("prd-10", fakeaws.DeployStage, fakeaws.DeployAction, "Failed", utc(3, 30, 0, 0)))
	f.aws.SetRuns("payments-checkout-dev",
		run("dev-5", h.c["c5"], "Succeeded", utc(3, 29, 1, 0)),
		run("dev-4", h.c["c4"], "Succeeded", utc(3, 20, 12, 30)),
		run("dev-3", h.c["c3"], "Succeeded", utc(3, 15, 10, 0)),
		run("dev-2", h.c["c2"], "Succeeded", utc(3, 12, 11, 0)),
		run("dev-1", h.c["c1"], "Succeeded", utc(3, 10, 9, 0)))
	f.aws.SetRuns("payments-checkout-stg")
	return f, h
}

// metricsRow is the cells of env's row in the block of path (or "organisation"):
// ENV, [PATHS,] DEPLOYS, LEAD TIME, CHANGE FAILURE RATE, TIME TO RESTORE, ROLLBACKS, RERUNS.
func metricsRow(t *testing.T, out, block, env string) []string {
	t.Helper()
	for _, b := range strings.Split(out, "\n\n") {
		lines := strings.Split(b, "\n")
		if !strings.HasPrefix(lines[0], block) {
			continue
		}
		for _, l := range lines[1:] {
			cells := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(l), -1)
			if cells[0] == env {
				return cells
			}
		}
	}
	t.Fatalf("no row %s in block %s of:\n%s", env, block, out)
	return nil
}

func TestMetricsTableOfOnePath(t *testing.T) {
	f, _ := metricsFixture(t)

	code, out, errOut := f.shipWith(at(metricsNow), "metrics")

	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "Delivery metrics, last 30d: 2026-03-01T12:00:00Z to 2026-03-31T12:00:00Z") {
		t.Errorf("no window line:\n%s", out)
	}
	// prd, by hand from the runs (metricsFixture):
	//   deploys   prd-1, prd-2, prd-5, prd-7 = 4; 4 / 30 days * 7 = 0.93 a week
	//   lead time 2h, 5h, 4h, 2h -> sorted 2h 2h 4h 5h: median (2nd of 4) 2h, p90 (4th) 5h
	//   attempts  4 deploys + 2 failed deploys (prd-4, prd-10) = 6; failures prd-2 (rolled
	//             back), prd-4, prd-7 (undone by a push of c3), prd-10 = 4: 67% (4/6)
	//   restore   prd-2 1h, prd-4 2h, prd-7 44h -> median 2h, p90 1d20h; prd-10 still open
	//   rollbacks prd-3 and prd-8 = 2; reruns prd-9 = 1
	want := map[string][]string{
		"prd": {"prd", "4 (0.9/week)", "2h / 5h (n=4)", "67% (4/6)", "2h / 1d20h (n=3, 1 open)", "2", "1"},
		// dev: five deploys, lead times 1h 1h 1h 30m 1h -> median 1h, p90 1h; no failure
		"dev": {"dev", "5 (1.2/week)", "1h / 1h (n=5)", "0% (0/5)", "– (n=0)", "0", "0"},
		// stg never ran: no attempts, so no rate
		"stg": {"stg", "0 (0.0/week)", "– (n=0)", "–", "– (n=0)", "0", "0"},
	}
	for env, cells := range want {
		if got := metricsRow(t, out, "payments/checkout", env); strings.Join(got, " | ") != strings.Join(cells, " | ") {
			t.Errorf("%s row\n got %q\nwant %q", env, got, cells)
		}
	}
	if strings.Contains(out, "organisation (") || strings.Contains(out, "notes:") {
		t.Errorf("one path, read whole: no organisation block, no notes:\n%s", out)
	}

	// AND --since 12w takes prd-0 (02-21) into the window: 5 deploys in 84 days, lead times
	// 2h 2h 4h 5h 24h -> median (3rd of 5) 4h, p90 (5th) 1d; failures 4 of 7 attempts
	_, out, _ = f.shipWith(at(metricsNow), "metrics", "--since", "12w")
	if !strings.Contains(out, "Delivery metrics, last 12w: 2026-01-06T12:00:00Z to 2026-03-31T12:00:00Z") {
		t.Errorf("no 12-week window line:\n%s", out)
	}
	if got := metricsRow(t, out, "payments/checkout", "prd"); strings.Join(got[1:4], " | ") != "5 (0.4/week) | 4h / 1d (n=5) | 57% (4/7)" {
		t.Errorf("prd row over 12 weeks %q", got)
	}
}

func TestMetricsJSONOfOnePath(t *testing.T) {
	f, h := metricsFixture(t)

	code, out, errOut := f.shipWith(at(metricsNow), "metrics", "--json")

	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	doc := decodeStrict[MetricsJSON](t, out)
	if doc.SchemaVersion != SchemaVersion || doc.Since != "30d" || !doc.Complete || doc.All || doc.OrganisationWide != nil ||
		!doc.Window.From.Equal(utc(3, 1, 12, 0)) || !doc.Window.To.Equal(metricsNow) || doc.Window.Days != 30 || len(doc.Paths) != 1 {
		t.Fatalf("document %+v", doc)
	}
	envs := doc.Paths[0].Environments
	if doc.Paths[0].Path != "payments/checkout" || len(envs) != 3 || envs[0].Name != "dev" || envs[1].Name != "stg" || envs[2].Name != "prd" {
		t.Fatalf("paths %+v", doc.Paths)
	}
	prd := envs[2]
	if prd.Account != "444444444444" || prd.Pipeline != "payments-checkout-prd" || prd.Repository != "payments-checkout" || !prd.Readable || prd.Summary == nil {
		t.Fatalf("prd %+v", prd)
	}
	s := *prd.Summary
	hours := func(h float64) float64 { return h * 3600 }
	// The same figures as the table's, worked out in TestMetricsTableOfOnePath.
	if s.Deployments != 4 || s.LeadTime.Count != 4 || *s.LeadTime.MedianSeconds != hours(2) || *s.LeadTime.P90Seconds != hours(5) ||
		s.LeadTimeUnknown != 0 || s.Attempts != 6 || s.Failures != 4 || s.ChangeFailureRate == nil || *s.ChangeFailureRate != 4.0/6 ||
		s.TimeToRestore.Count != 3 || *s.TimeToRestore.MedianSeconds != hours(2) || *s.TimeToRestore.P90Seconds != hours(44) ||
		s.Unrestored != 1 || s.Rollbacks != 2 || s.Reruns != 1 || s.Shortened || s.DeploymentsPerWeek != 4.0/30*7 {
		t.Errorf("prd summary %+v", s)
	}
	if stg := envs[1].Summary; stg == nil || stg.ChangeFailureRate != nil || stg.LeadTime.MedianSeconds != nil || stg.Attempts != 0 {
		t.Errorf("stg summary %+v: want a null rate and null percentiles", stg)
	}
	// Every event, oldest first: prd-0 to prd-10 but prd-6, which never reached Deploy.
	var kinds []string
	byRun := map[string]MetricsEventJSON{}
	for _, e := range prd.Events {
		kinds = append(kinds, e.Run+":"+e.Kind)
		byRun[e.Run] = e
	}
	if got := strings.Join(kinds, " "); got != "prd-0:deploy prd-1:deploy prd-2:deploy prd-3:rollback prd-4:failed-deploy prd-5:deploy "+
		"prd-7:deploy prd-8:rollback-push prd-9:rerun prd-10:failed-deploy" {
		t.Errorf("events %s", got)
	}
	if e := byRun["prd-0"]; e.InWindow || *e.LeadTimeSeconds != hours(24) {
		t.Errorf("prd-0 %+v: before the window, lead time 1d", e)
	}
	if e := byRun["prd-7"]; !e.InWindow || e.Commit != h.c["c4"] || !e.CommitTime.Equal(utc(3, 20, 12, 0)) || *e.LeadTimeSeconds != hours(2) ||
		!e.Failed || e.FailedBy != "prd-8" || !e.Restored.Equal(utc(3, 22, 10, 0)) || *e.RestoreSeconds != hours(44) || e.Automatic != nil {
		t.Errorf("prd-7 %+v", e)
	}
	if e := byRun["prd-3"]; e.Automatic == nil || !*e.Automatic || e.LeadTimeSeconds != nil || e.Failed {
		t.Errorf("prd-3 %+v: an automatic rollback", e)
	}
	if e := byRun["prd-10"]; !e.Failed || e.FailedBy != "prd-10" || e.Restored != nil || e.RestoreSeconds != nil {
		t.Errorf("prd-10 %+v: a failure still open", e)
	}
	// prd's read: one page of history and one ListActionExecutions per failed run in the
	// window (prd-4, prd-6, prd-10); its commits in one BatchGetCommits.
	if prd.Calls.CodePipeline != 4 || prd.Calls.CodeCommit != 1 {
		t.Errorf("prd calls %+v", prd.Calls)
	}

	// AND the names are the documented ones (a rename would break scripts)
	var raw map[string]any
	must(t, json.Unmarshal([]byte(out), &raw))
	env := raw["paths"].([]any)[0].(map[string]any)["environments"].([]any)[2].(map[string]any)
	for _, k := range []string{"name", "account", "region", "pipeline", "repository", "readable", "notes", "summary", "events", "calls"} {
		if _, ok := env[k]; !ok {
			t.Errorf("environment lacks key %q", k)
		}
	}
	sum := env["summary"].(map[string]any)
	for _, k := range []string{"from", "to", "shortened", "deployments", "deploymentsPerWeek", "leadTime", "leadTimeUnknown", "attempts", "failures",
		"changeFailureRate", "timeToRestore", "unrestored", "rollbacks", "reruns"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary lacks key %q", k)
		}
	}
	ev := env["events"].([]any)[7].(map[string]any)
	for _, k := range []string{"kind", "run", "commit", "at", "inWindow", "commitTime", "leadTimeSeconds", "automatic", "failed", "failedBy", "restored", "restoreSeconds"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("event lacks key %q", k)
		}
	}
}

func TestMetricsWithoutCommitTimesStillCountsTheRest(t *testing.T) {
	f, _ := metricsFixture(t)
	// GIVEN the identity may not read the repositories
	f.aws.Fail("BatchGetCommits", fakeaws.Fault{Status: 400, Code: "AccessDeniedException", Message: "not authorized to perform codecommit:BatchGetCommits"}, -1)

	code, out, _ := f.shipWith(at(metricsNow), "metrics")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	// THEN the lead times are unknown, counted, and everything else is as with them
	if got := metricsRow(t, out, "payments/checkout", "prd"); strings.Join(got, " | ") !=
		"prd | 4 (0.9/week) | – (n=0, 4 unknown) | 67% (4/6) | 2h / 1d20h (n=3, 1 open) | 2 | 1" {
		t.Errorf("prd row %q", got)
	}
	for _, want := range []string{"  notes:", "    prd: commit times could not be read",
		"access denied reading commits of repository payments-checkout in environment prd (account 444444444444, region eu-west-1)",
		"the identity needs codecommit:BatchGetCommits on it"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	_, out, _ = f.shipWith(at(metricsNow), "metrics", "--json")
	var doc MetricsJSON
	must(t, json.Unmarshal([]byte(out), &doc))
	prd := doc.Paths[0].Environments[2]
	if !prd.Readable || !strings.Contains(prd.CommitTimesError, "codecommit:BatchGetCommits") || len(prd.Notes) != 1 ||
		prd.Summary.LeadTimeUnknown != 4 || prd.Summary.LeadTime.MedianSeconds != nil || prd.Summary.Deployments != 4 {
		t.Errorf("prd %+v, summary %+v", prd, prd.Summary)
	}

	// AND the report says it too, beside the figures
	var in report.Input
	app := at(metricsNow)
	app.WriteReport = reportWriter{got: &in}.write
	code, _, _ = f.shipWith(app, "report", "-o", filepath.Join(t.TempDir(), "r.html"))
	if code != ExitOK || len(in.Paths) != 1 {
		t.Fatalf("report: exit %d, input %+v", code, in)
	}
	if notes := in.Paths[0].Envs[2].Notes; len(notes) != 1 || !strings.Contains(notes[0], "commit times could not be read") ||
		!strings.Contains(notes[0], "codecommit:BatchGetCommits") {
		t.Errorf("report notes of prd %q", notes)
	}
}

func TestMetricsOfOnePathWithAnUnreadableEnvironment(t *testing.T) {
	f, _ := metricsFixture(t)
	// GIVEN stg's credentials are dev's account's
	f.flags = []string{"--profile", "dev=dev", "--profile", "stg=dev", "--profile", "prd=prd"}

	code, out, errOut := f.shipWith(at(metricsNow), "metrics")

	// THEN what was read is printed, stg is listed as unreadable with the reason, exit 1
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d", code, ExitFailed)
	}
	if got := metricsRow(t, out, "payments/checkout", "stg"); strings.Join(got, " | ") != "stg | unreadable | – | – | – | – | –" {
		t.Errorf("stg row %q", got)
	}
	if got := metricsRow(t, out, "payments/checkout", "prd"); got[1] != "4 (0.9/week)" {
		t.Errorf("prd row %q", got)
	}
	reason := `the credentials for environment stg (profile "dev" (--profile stg=dev)) belong to account 222222222222 (dev's account), not stg's account 333333333333`
	if !strings.Contains(out, "    stg: unreadable: "+reason) {
		t.Errorf("no note with the reason under the block:\n%s", out)
	}
	if !strings.Contains(errOut, "ship: note: could not read payments/checkout stg: "+reason) ||
		!strings.Contains(errOut, "ship: metrics are incomplete: could not read payments/checkout stg (see above)") {
		t.Errorf("stderr %q", errOut)
	}
	for _, c := range f.pipelineCalls() {
		if c.Pipeline == "payments-checkout-stg" {
			t.Errorf("stg's pipeline was read with dev's credentials: %+v", c)
		}
	}

	// AND --json prints the document with stg's error, complete false, and exits 1
	code, out, errOut = f.shipWith(at(metricsNow), "metrics", "--json")
	var doc MetricsJSON
	must(t, json.Unmarshal([]byte(out), &doc))
	stg := doc.Paths[0].Environments[1]
	if code != ExitFailed || doc.Complete || stg.Readable || stg.Summary != nil || !strings.Contains(stg.Error, reason) ||
		!strings.Contains(errOut, "its error is in the document") {
		t.Errorf("exit %d, stg %+v, stderr %q", code, stg, errOut)
	}
}

// metricsOrg is four paths: payments' three services share the team's three accounts;
// search/index has its own three.
const metricsOrg = `registry:
  account: "111111111111"
  region: eu-west-1
teams:
  - name: payments
    services:
      - name: checkout
        environments: &payments
          - name: dev
            account: "222222222222"
            region: eu-west-1
          - name: stg
            account: "333333333333"
            region: eu-west-1
          - name: prd
            account: "444444444444"
            region: eu-west-1
      - name: refunds
        environments: *payments
      - name: ledger
        environments: *payments
  - name: search
    services:
      - name: index
        environments:
          - name: dev
            account: "555555555555"
            region: eu-west-1
          - name: stg
            account: "666666666666"
            region: eu-west-1
          - name: prd
            account: "777777777777"
            region: eu-west-1
`

// allFixture is metricsFixture in metricsOrg: refunds deployed c2 in each environment
// (prd: 3h after its commit), ledger never ran; search's accounts are reachable only by
// the default credentials, which are in none of them.
func allFixture(t *testing.T) (*fixture, metricsHistory) {
	f, h := metricsFixture(t)
	useOrg(t, metricsOrg)
	// SHIP_PATH stays payments/checkout, as in a service's shell: --all reads every path.
	o, err := org.Parse([]byte(metricsOrg), "metricsOrg")
	must(t, err)
	for _, p := range o.Paths() {
		if p.Team == "payments" && p.Name != "checkout" {
			f.publish(p)
		}
	}
	for _, env := range []string{"dev", "stg", "prd"} {
		f.aws.SetRuns("payments-refunds-"+env, run("refunds-"+env, h.c["c2"], "Succeeded", utc(3, 12, 13, 0)))
		f.aws.SetRuns("payments-ledger-" + env)
		f.aws.SetRuns("search-index-" + env)
	}
	f.flags = []string{"--profile", "222222222222=dev", "--profile", "333333333333=stg", "--profile", "444444444444=prd"}
	return f, h
}

func TestMetricsAllReportsWhatItCanReadAndListsTheRest(t *testing.T) {
	f, _ := allFixture(t)

	code, out, errOut := f.shipWith(at(metricsNow), "metrics", "--all")

	// THEN search/index is unreadable (the default credentials are another account's),
	// said so with the fix keyed by account, and the rest is reported: exit 0
	if code != ExitOK {
		t.Fatalf("exit %d, want %d (something was read)", code, ExitOK)
	}
	var order []string
	for _, l := range strings.Split(out, "\n") {
		if l == "payments/checkout" || l == "payments/refunds" || l == "payments/ledger" || l == "search/index" || strings.HasPrefix(l, "organisation (") {
			order = append(order, strings.Fields(l)[0])
		}
	}
	if strings.Join(order, " ") != "payments/checkout payments/refunds payments/ledger search/index organisation" {
		t.Errorf("blocks in order %q", order)
	}
	if got := metricsRow(t, out, "search/index", "prd"); got[1] != "unreadable" {
		t.Errorf("search/index prd row %q", got)
	}
	reason := "the credentials for environment prd (the default credential chain: AWS_ACCESS_KEY_ID, AWS_PROFILE, SSO or an instance role) " +
		"belong to account 000000000000, not prd's account 777777777777; pass --profile 777777777777=<profile for 777777777777> or --role 777777777777=arn:aws:iam::777777777777:role/<name>"
	if !strings.Contains(errOut, "ship: note: could not read search/index prd: "+reason) || !strings.Contains(out, "prd: unreadable: "+reason) {
		t.Errorf("the reason is not on stderr and under the block:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}
	if got := metricsRow(t, out, "payments/refunds", "prd"); strings.Join(got[1:3], " | ") != "1 (0.2/week) | 3h / 3h (n=1)" {
		t.Errorf("refunds prd row %q", got)
	}
	// The organisation's prd: checkout's lead times 2h 2h 4h 5h and refunds' 3h ->
	// 2h 2h 3h 4h 5h: median (3rd of 5) 3h, p90 (5th) 5h; failures 4 of 6 + 1 attempts: 57%.
	if got := metricsRow(t, out, "organisation", "prd"); strings.Join(got, " | ") !=
		"prd | 3/4 | 5 (1.2/week) | 3h / 5h (n=5) | 57% (4/7) | 2h / 1d20h (n=3, 1 open) | 2 | 1" {
		t.Errorf("organisation prd row %q", got)
	}
	if !strings.Contains(out, "organisation (4 paths; 9 of 12 environments read)") {
		t.Errorf("no organisation heading:\n%s", out)
	}

	// AND --json: the same, with search/index's error in its place
	code, out, _ = f.shipWith(at(metricsNow), "metrics", "--all", "--json")
	var doc MetricsJSON
	must(t, json.Unmarshal([]byte(out), &doc))
	if code != ExitOK || !doc.All || doc.Complete || len(doc.Paths) != 4 || doc.Paths[3].Environments[2].Readable ||
		!strings.Contains(doc.Paths[3].Environments[2].Error, "777777777777") || len(doc.OrganisationWide) != 3 {
		t.Fatalf("exit %d, document %+v", code, doc)
	}
	if o := doc.OrganisationWide[2]; o.Name != "prd" || o.Paths != 4 || o.PathsRead != 3 || o.Summary.Deployments != 5 ||
		*o.Summary.LeadTime.MedianSeconds != 3*3600 || *o.Summary.ChangeFailureRate != 4.0/7 {
		t.Errorf("organisation prd %+v", o)
	}

	// AND with no account readable, --all fails
	f.flags = nil
	code, _, errOut = f.shipWith(at(metricsNow), "metrics", "--all")
	if code != ExitFailed || !strings.Contains(errOut, "could not read any environment") {
		t.Errorf("nothing readable: exit %d, stderr %q", code, errOut)
	}
}

// TestMetricsOpensEachAccountOnce: --all over four paths of twelve environments in six
// accounts checks the credentials of each account once (one GetCallerIdentity per
// account, however many paths are in it, however many readers ask at once), and reads
// no pipeline before its account's check.
func TestMetricsOpensEachAccountOnce(t *testing.T) {
	f, _ := allFixture(t)

	code, _, _ := f.shipWith(at(metricsNow), "metrics", "--all", "--parallel", "12")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	checks := map[string]int{}
	checked := map[string]bool{}
	for _, c := range f.aws.Recorded() {
		switch {
		case c.Op == "GetCallerIdentity":
			checks[c.AccessKey]++
			checked[c.AccessKey] = true
		case !checked[c.AccessKey]:
			t.Errorf("%s of %s before its credentials were checked", c.Op, c.Pipeline)
		}
	}
	// payments' three accounts, each with its own profile; search's three with the
	// default key: three distinct (account, region, credentials), each checked once.
	if checks[keyDev] != 1 || checks[keyStg] != 1 || checks[keyPrd] != 1 || checks[keyDefault] != 3 || len(checks) != 4 {
		t.Errorf("GetCallerIdentity per key %v, want one per account: 6", checks)
	}
	lists := map[string]int{}
	for _, c := range f.pipelineCalls() {
		if c.Op == "ListPipelineExecutions" {
			lists[c.Pipeline]++
		}
	}
	if len(lists) != 9 {
		t.Errorf("histories read %v, want payments' nine pipelines once each", lists)
	}
}

// TestMetricsRoleNameAndAccountKeys: --role-name assumes that role in each account read
// (once per account, however many paths are in it), an account-keyed --role overrides it
// for its account, and each account's reads are made with its own role's credentials,
// even when they are assumed at once.
func TestMetricsRoleNameAndAccountKeys(t *testing.T) {
	f, _ := allFixture(t)
	f.flags = nil // the default credentials, to assume the roles with

	code, out, _ := f.shipWith(at(metricsNow), "metrics", "--all", "--role-name", "metrics-reader",
		"--role", "444444444444=arn:aws:iam::444444444444:role/prd-auditor")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	var arns []string
	for _, a := range f.aws.AssumedRoles() {
		arns = append(arns, a.Get("RoleArn"))
	}
	sort.Strings(arns)
	want := []string{"arn:aws:iam::222222222222:role/metrics-reader", "arn:aws:iam::333333333333:role/metrics-reader", "arn:aws:iam::444444444444:role/prd-auditor",
		"arn:aws:iam::555555555555:role/metrics-reader", "arn:aws:iam::666666666666:role/metrics-reader", "arn:aws:iam::777777777777:role/metrics-reader"}
	if got := strings.Join(arns, " "); got != strings.Join(want, " ") {
		t.Errorf("roles assumed %q, want one per account: %q", arns, want)
	}
	// Every environment read, search/index's too (its accounts' roles trust the default
	// credentials), and checkout's lead times read from prd's own repository.
	if strings.Contains(out, "unreadable") || !strings.Contains(out, "organisation (4 paths; 12 of 12 environments read)") {
		t.Errorf("output:\n%s", out)
	}
	if got := metricsRow(t, out, "payments/checkout", "prd"); got[2] != "2h / 5h (n=4)" {
		t.Errorf("prd row %q: the commit times were not read from prd's account", got)
	}
}

// slowLister delays each read of a pipeline's history by delay, and says when it ended.
type slowLister struct {
	Pipelines
	delay    time.Duration
	finished func(string)
}

func (s slowLister) ListPipelineExecutions(ctx context.Context, in *codepipeline.ListPipelineExecutionsInput, optFns ...func(*codepipeline.Options)) (*codepipeline.ListPipelineExecutionsOutput, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	out, err := s.Pipelines.ListPipelineExecutions(ctx, in, optFns...)
	s.finished(*in.PipelineName)
	return out, err
}

// TestMetricsOrderDoesNotDependOnCompletionOrder: with twelve readers and the first
// environments made slowest, the reads end in another order than the organisation's,
// yet the table and the document are the same as with one reader.
func TestMetricsOrderDoesNotDependOnCompletionOrder(t *testing.T) {
	f, _ := allFixture(t)
	mu := make(chan struct{}, 1)
	var finished []string
	app := func() *App {
		a := at(metricsNow)
		a.Clients = func(access AWSAccess) ClientFactory {
			real := access.Clients()
			return func(ctx context.Context, env org.Environment) (Account, error) {
				acc, err := real(ctx, env)
				if err == nil {
					// dev slowest, prd fastest
					acc.Pipelines = slowLister{Pipelines: acc.Pipelines, delay: map[string]time.Duration{"dev": 300, "stg": 150, "prd": 0}[env.Name] * time.Millisecond,
						finished: func(p string) { mu <- struct{}{}; finished = append(finished, p); <-mu }}
				}
				return acc, err
			}
		}
		return a
	}

	_, one, _ := f.shipWith(app(), "metrics", "--all", "--parallel", "1")
	_, oneJSON, _ := f.shipWith(app(), "metrics", "--all", "--parallel", "1", "--json")
	finished = nil
	_, many, _ := f.shipWith(app(), "metrics", "--all", "--parallel", "12")
	_, manyJSON, _ := f.shipWith(app(), "metrics", "--all", "--parallel", "12", "--json")

	if len(finished) < 2 || !strings.HasSuffix(finished[0], "-prd") {
		t.Fatalf("reads finished in order %q: the test did not make them end out of order", finished)
	}
	if one != many {
		t.Errorf("the table differs with 12 readers:\n--- 1:\n%s\n--- 12:\n%s", one, many)
	}
	if oneJSON != manyJSON {
		t.Errorf("the document differs with 12 readers")
	}
}

func TestMetricsTimeoutStopsEveryReader(t *testing.T) {
	f, _ := allFixture(t)
	f.aws.Delay("ListPipelineExecutions", 20*time.Second)

	start := time.Now()
	code, out, errOut := f.shipWith(at(metricsNow), "metrics", "--all", "--timeout", "500ms")

	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s after a 500ms timeout", d)
	}
	if code != ExitFailed || out != "" || !strings.Contains(errOut, "stopped after reading 0 of 12 environments") ||
		!strings.Contains(errOut, "ran longer than --timeout 500ms") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestMetricsFlagsAreCheckedUpFront(t *testing.T) {
	f, _ := metricsFixture(t)
	odd := t.TempDir()
	// Relative -o files (r.html, -o= gives "=") land here should a check let them through.
	t.Chdir(odd)
	aFile, dangling := filepath.Join(odd, "a-file"), filepath.Join(odd, "dangling.html")
	must(t, os.WriteFile(aFile, nil, 0o644))
	must(t, os.Symlink(filepath.Join("nowhere", "r.html"), dangling))
	for _, tc := range []struct {
		args  []string
		wants []string
	}{
		{[]string{"metrics", "--since", "0"}, []string{"--since 0: not more than 0 (want a span ending now, more than 0 and at most 365d: days 30d, weeks 12w, hours 36h"}},
		{[]string{"metrics", "--since", "400d"}, []string{"--since 400d: longer than 365d"}},
		{[]string{"metrics", "--since", "53w"}, []string{"--since 53w: longer than 365d"}},
		{[]string{"metrics", "--since", "1001d"}, []string{"--since 1001d: longer than 365d"}},
		{[]string{"metrics", "--since", "99999999999999999999w"}, []string{"--since 99999999999999999999w: longer than 365d"}},
		{[]string{"metrics", "--since", "junk"}, []string{`--since junk: not a span`}},
		{[]string{"metrics", "--since", "-3d"}, []string{`--since -3d: not a span`}},
		{[]string{"metrics", "--parallel", "0"}, []string{"--parallel 0 is out of range (want 1 to 64)"}},
		{[]string{"metrics", "--parallel", "65"}, []string{"--parallel 65 is out of range (want 1 to 64)"}},
		{[]string{"metrics", "--role-name", "bad/name"}, []string{"--role-name bad/name: not a role name (want 1 to 64 letters, digits and +=,.@_-"}},
		// given empty, in any of the ways a shell passes it, is not the flag left out
		{[]string{"metrics", "--role-name", ""}, []string{"--role-name '': not a role name (want 1 to 64 letters, digits and +=,.@_-", "leave the flag out"}},
		{[]string{"metrics", "--role-name="}, []string{"--role-name '': not a role name (want 1 to 64 letters"}},
		{[]string{"--role-name=", "metrics", "--all"}, []string{"--role-name '': not a role name (want 1 to 64 letters"}},
		{[]string{"report", "-o", filepath.Join(odd, "r.html"), "--role-name", ""}, []string{"--role-name '': not a role name (want 1 to 64 letters"}},
		{[]string{"metrics", "--path", "nope/none", "--role-name="}, []string{`--path "nope/none"`, "--role-name '': not a role name"}},
		{[]string{"metrics", "--profile", "999999999999=x"}, []string{"--profile 999999999999=x: no environment of path payments/checkout is in account 999999999999 (its accounts: 222222222222, 333333333333, 444444444444)"}},
		{[]string{"metrics", "--profile", "qa=x"}, []string{`--profile qa=x: path payments/checkout has no environment "qa" (known: dev, stg, prd; or key the flag by a 12-digit account id)`}},
		{[]string{"metrics", "--role", "prd=arn:aws:iam::333333333333:role/r"}, []string{"--role prd=arn:aws:iam::333333333333:role/r: the role is in account 333333333333, but prd is account 444444444444"}},
		{[]string{"metrics", "--role", "444444444444=reader"}, []string{"--role 444444444444=reader: not a role ARN"}},
		{[]string{"metrics", "--all", "--path", "payments/checkout"}, []string{"--all and --path payments/checkout both say what to read"}},
		// every problem at once
		{[]string{"metrics", "--since", "0", "--parallel", "0", "--role-name", "a b"}, []string{"--since 0:", "--parallel 0 is out of range", "--role-name a b: not a role name"}},
		{[]string{"status", "--since", "30d"}, []string{"--since applies only to metrics or report, not to status"}},
		{[]string{"report"}, []string{"report needs -o FILE"}},
		{[]string{"report", "-o", t.TempDir()}, []string{"is a directory; give a file name"}},
		{[]string{"report", "-o", "/nonexistent/dir/r.html"}, []string{"-o /nonexistent/dir/r.html: directory /nonexistent/dir does not exist"}},
		{[]string{"report", "-o", filepath.Join(aFile, "r.html")}, []string{"-o " + filepath.Join(aFile, "r.html") + ": " + aFile + " is not a directory"}},
		{[]string{"metrics", "-C", "/nonexistent/clone"}, []string{"-C /nonexistent/clone: no such directory (want the service's git clone: metrics reads the commit dates of GitHub, GitLab and Bitbucket sources from it)"}},
		{[]string{"report", "-o", filepath.Join(odd, "r.html"), "--all", "-C", aFile}, []string{"-C " + aFile + ": not a directory (want the service's git clone"}},
		{[]string{"report", "-o="}, []string{`-o= gives no file name (the flag's value would be a file named "="); want -o FILE, or -o - for stdout`}},
		{[]string{"report", "-o", dangling}, []string{"-o " + dangling + " is a symbolic link to nowhere/r.html, which does not exist (want a file, or a link to one)"}},
		{[]string{"report", "-o", "r.html", "--since", "0"}, []string{"--since 0:"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := f.shipWith(at(metricsNow), tc.args...)
			if code != ExitUsage || out != "" {
				t.Errorf("exit %d, stdout %q", code, out)
			}
			for _, w := range append(tc.wants, "ship help") {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q", w)
				}
			}
		})
	}
	if calls := f.aws.Recorded(); len(calls) != 0 {
		t.Errorf("a usage error reached AWS: %v", f.aws.Ops())
	}

	// AND the forms --since takes
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "12w": 84 * 24 * time.Hour, "36h": 36 * time.Hour, "90m": 90 * time.Minute,
		"1h30m": 90 * time.Minute, "365d": MaxSince} {
		if got, err := parseSince(in); err != nil || got != want {
			t.Errorf("parseSince(%q) = %s, %v, want %s", in, got, err, want)
		}
	}
}

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 45 * time.Second: "45s", 12 * time.Minute: "12m", 2 * time.Hour: "2h", 3*time.Hour + 12*time.Minute: "3h12m",
		3*time.Hour + 5*time.Minute: "3h05m", 52 * time.Hour: "2d4h", 48 * time.Hour: "2d",
	} {
		if got := span(d); got != want {
			t.Errorf("span(%s) = %q, want %q", d, got, want)
		}
	}
}

// reportWriter is a report writer for the tests: it keeps the Input it was given and
// writes a line naming what it got, or fails after writing half, as a broken writer might.
type reportWriter struct {
	got  *report.Input
	fail bool
}

func (rw reportWriter) write(w io.Writer, in report.Input) error {
	*rw.got = in
	fmt.Fprintf(w, "<html>report of %d paths", len(in.Paths))
	if rw.fail {
		return errors.New("the chart library broke")
	}
	_, err := fmt.Fprintln(w, "</html>")
	return err
}

// lastWeeks is a report an earlier ship report wrote, which a new one may replace.
const lastWeeks = "<!DOCTYPE html>\n<html lang=\"en\"><title>last week's report</title></html>\n"

func TestReportWritesWhatMetricsReadsIntoTheFile(t *testing.T) {
	f, _ := allFixture(t)
	var got report.Input
	app := at(metricsNow)
	app.WriteReport = reportWriter{got: &got}.write
	out := filepath.Join(t.TempDir(), "report.html")
	must(t, os.WriteFile(out, []byte(lastWeeks), 0o644))

	code, stdout, _ := f.shipWith(app, "report", "--all", "-o", out)

	// THEN the file is replaced by what the writer wrote, from what metrics reads
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if data, err := os.ReadFile(out); err != nil || string(data) != "<html>report of 4 paths</html>\n" {
		t.Errorf("file %q, %v", data, err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("file mode %v, %v", fi.Mode(), err)
	}
	if !strings.Contains(stdout, "wrote "+out+": delivery metrics of the last 30d (2026-03-01T12:00:00Z to 2026-03-31T12:00:00Z), 4 paths, 9 environments read, 3 unreadable") {
		t.Errorf("stdout %q", stdout)
	}
	if !got.Generated.Equal(metricsNow) || !got.Window.From.Equal(utc(3, 1, 12, 0)) || !strings.HasSuffix(got.Title, "organization.yaml") || len(got.Paths) != 4 {
		t.Fatalf("input %+v", got)
	}
	checkout, search := got.Paths[0], got.Paths[3]
	if checkout.Name != "payments/checkout" || len(checkout.Envs) != 3 || checkout.Envs[2].Name != "prd" || checkout.Envs[2].Problem != "" {
		t.Fatalf("checkout %+v", checkout)
	}
	if s := checkout.Envs[2].Metrics.Summary; s.Deployments != 4 || s.LeadTime.Median != 2*time.Hour || s.Failures != 4 || len(checkout.Envs[2].Metrics.Events) != 10 {
		t.Errorf("checkout prd summary %+v", s)
	}
	if search.Name != "search/index" || !strings.Contains(search.Envs[0].Problem, "belong to account 000000000000, not dev's account 555555555555") {
		t.Errorf("search %+v", search.Envs[0])
	}

	// AND -o - writes the report to stdout, and nothing else
	code, stdout, _ = f.shipWith(app, "report", "--all", "-o", "-")
	if code != ExitOK || stdout != "<html>report of 4 paths</html>\n" {
		t.Errorf("-o -: exit %d, stdout %q", code, stdout)
	}
}

func TestReportIsWrittenWholeOrNotAtAll(t *testing.T) {
	f, _ := metricsFixture(t)
	var got report.Input
	app := at(metricsNow)
	app.WriteReport = reportWriter{got: &got, fail: true}.write
	dir := t.TempDir()
	out := filepath.Join(dir, "report.html")
	must(t, os.WriteFile(out, []byte(lastWeeks), 0o644))

	// WHEN the writer fails half-way
	code, _, errOut := f.shipWith(app, "report", "-o", out)

	// THEN the command fails, the old report is intact and no temporary file is left
	if code != ExitFailed || !strings.Contains(errOut, "write the report: the chart library broke ("+out+" is unchanged)") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if data, _ := os.ReadFile(out); string(data) != lastWeeks {
		t.Errorf("the report was changed: %q", data)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}

	// AND with an unreadable environment of the one path the report is written (it says
	// why), and the command exits 1, as metrics does
	app.WriteReport = reportWriter{got: &got}.write
	f.flags = []string{"--profile", "dev=dev", "--profile", "stg=dev", "--profile", "prd=prd"}
	code, _, errOut = f.shipWith(app, "report", "-o", out)
	if data, _ := os.ReadFile(out); code != ExitFailed || string(data) != "<html>report of 1 paths</html>\n" || got.Paths[0].Envs[1].Problem == "" ||
		!strings.Contains(errOut, "could not read payments/checkout stg (the report says why)") {
		t.Errorf("exit %d, file %q, stderr %q", code, data, errOut)
	}
}

// fullDisk takes room bytes, then fails every write, as stdout redirected to a full disk does.
type fullDisk struct{ room *int }

func (d fullDisk) Write(p []byte) (int, error) {
	if len(p) > *d.room {
		n := *d.room
		*d.room = 0
		return n, errors.New("no space left on device")
	}
	*d.room -= len(p)
	return len(p), nil
}

// TestMetricsThatCannotBeWrittenFail: a table or document cut short by its output (a
// full disk, a closed pipe) is a failure, exit 1, not a success the user cannot see.
func TestMetricsThatCannotBeWrittenFail(t *testing.T) {
	f, _ := metricsFixture(t)
	for _, args := range [][]string{{"metrics"}, {"metrics", "--json"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			room := 200 // the title line and some of the table
			var stderr bytes.Buffer
			app := at(metricsNow)
			app.Stdout, app.Stderr = fullDisk{room: &room}, &stderr
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			code := app.Run(ctx, append(append([]string{"-C", f.dir}, f.flags...), args...))

			if want := "ship: write the metrics: no space left on device\n"; code != ExitFailed || !strings.Contains(stderr.String(), want) {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, stderr.String(), want)
			}
		})
	}
}

// TestReportReplacesOnlyAnHTMLFile: -o naming an existing file that is not an HTML document
// (a mistyped -o main.go) is refused before anything is read, and the file is left as it
// was; an empty file, or any HTML page, may be replaced.
func TestReportReplacesOnlyAnHTMLFile(t *testing.T) {
	f, _ := metricsFixture(t)
	var got report.Input
	app := at(metricsNow)
	app.WriteReport = reportWriter{got: &got}.write
	dir := t.TempDir()
	for name, content := range map[string]string{
		"main.go":     "package main\n\nfunc main() {}\n",
		"README.md":   "# checkout\n<html> in prose is not a page\n",
		"notes.html":  "my notes, not a page\n",
		"data.json":   `{"html": true}`,
		"binary.html": "\x7fELF\x02\x01",
	} {
		out := filepath.Join(dir, name)
		must(t, os.WriteFile(out, []byte(content), 0o644))
		code, _, errOut := f.shipWith(app, "report", "-o", out)
		want := "-o " + out + " exists and is not an HTML file: the report would replace it whole"
		if code != ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", name, code, errOut, ExitUsage, want)
		}
		if data, _ := os.ReadFile(out); string(data) != content {
			t.Errorf("%s was changed: %q", name, data)
		}
	}
	for name, content := range map[string]string{
		"empty.html":    "",
		"page.html":     "\ufeff  \n<!doctype HTML><p>a page</p>",
		"bare.html":     "<html><body>a page</body></html>",
		"last-week.htm": lastWeeks,
	} {
		out := filepath.Join(dir, name)
		must(t, os.WriteFile(out, []byte(content), 0o644))
		if code, _, errOut := f.shipWith(app, "report", "-o", out); code != ExitOK {
			t.Errorf("%s (%q): exit %d, stderr %q", name, content, code, errOut)
		}
	}
}

// TestReportKeepsWhatTheUserMadeOfTheFile: a refreshed report keeps the permission bits
// its file had (a report made private stays private), and a symbolic link to it stays a
// link, the file it points at replaced; a new file is 0644.
func TestReportKeepsWhatTheUserMadeOfTheFile(t *testing.T) {
	f, _ := metricsFixture(t)
	var got report.Input
	app := at(metricsNow)
	app.WriteReport = reportWriter{got: &got}.write
	dir := t.TempDir()
	const want = "<html>report of 1 paths</html>\n"
	for _, tc := range []struct {
		name string
		perm os.FileMode // of the file before; 0: there is none
		want os.FileMode
	}{
		{"private.html", 0o600, 0o600},
		{"group.html", 0o640, 0o640},
		{"read-only.html", 0o444, 0o444},
		{"shared.html", 0o664, 0o664},
		{"new.html", 0, 0o644},
		// a name at the file system's limit: the temporary file beside it must still fit
		{strings.Repeat("a", 250) + ".html", 0o600, 0o600},
	} {
		t.Run(shorten(tc.name, 20), func(t *testing.T) {
			out := filepath.Join(dir, tc.name)
			if tc.perm != 0 {
				must(t, os.WriteFile(out, []byte(lastWeeks), 0o600))
				must(t, os.Chmod(out, tc.perm)) // exact, whatever the umask
			}

			code, _, errOut := f.shipWith(app, "report", "-o", out)

			data, err := os.ReadFile(out)
			if code != ExitOK || err != nil || string(data) != want {
				t.Fatalf("exit %d, stderr %q; file %q, %v", code, errOut, data, err)
			}
			if fi, err := os.Stat(out); err != nil || fi.Mode() != tc.want {
				t.Errorf("file mode %v, %v; want %v", fi.Mode(), err, tc.want)
			}
		})
	}

	// AND through a symbolic link: the link stays, its target is refreshed and keeps its bits
	site := filepath.Join(dir, "site")
	must(t, os.Mkdir(site, 0o755))
	target := filepath.Join(site, "delivery.html")
	must(t, os.WriteFile(target, []byte(lastWeeks), 0o600))
	must(t, os.Chmod(target, 0o640))
	link := filepath.Join(dir, "report.html")
	must(t, os.Symlink(filepath.Join("site", "delivery.html"), link))

	code, stdout, errOut := f.shipWith(app, "report", "-o", link)

	if code != ExitOK || !strings.Contains(stdout, "wrote "+link+": ") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, errOut)
	}
	if to, err := os.Readlink(link); err != nil || to != filepath.Join("site", "delivery.html") {
		t.Errorf("the link was replaced: readlink %q, %v", to, err)
	}
	if data, _ := os.ReadFile(target); string(data) != want {
		t.Errorf("the link's target %q, want the report", data)
	}
	if fi, err := os.Stat(target); err != nil || fi.Mode() != 0o640 {
		t.Errorf("the target's mode %v, %v; want -rw-r-----", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(site); len(entries) != 1 {
		t.Errorf("left behind in %s: %v", site, entries)
	}
}

// TestMetricsOfAHistoryLongerThanTheBound: with settings.historyPages 1 and pages of four
// runs, prd's read stops at prd-7 (started 03-20 13:55): the window is shortened to it,
// and a note says so.
func TestMetricsOfAHistoryLongerThanTheBound(t *testing.T) {
	f, _ := metricsFixture(t)
	useOrg(t, strings.Replace(orgYAML, "teams:", "settings:\n  historyPages: 1\nteams:", 1))
	f.aws.SetPageSize(4)

	// (flags before the subcommand are read too)
	code, out, _ := f.shipWith(at(metricsNow), "--since", "30d", "metrics")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	// Read: prd-10, prd-9, prd-8, prd-7. prd-7 deploys c4 (2h); prd-8 pushes c3, older by
	// its commit date: a rollback-push that undoes prd-7 after 44h; prd-9 a rerun; prd-10 a
	// failed deploy, open. In 03-20 13:55 .. 03-31 12:00 (10.92 days): 1 deploy, 0.6 a week.
	if got := metricsRow(t, out, "payments/checkout", "prd"); strings.Join(got, " | ") !=
		"prd | 1 (0.6/week) | 2h / 2h (n=1) | 100% (2/2) | 1d20h / 1d20h (n=1, 1 open) | 1 | 1" {
		t.Errorf("prd row %q", got)
	}
	if !strings.Contains(out, "    prd: the history read stopped at the organisation's bound of 1 page (settings.historyPages) before the window's start: "+
		"the figures cover only 2026-03-20T13:55:00Z to 2026-03-31T12:00:00Z") {
		t.Errorf("no note of the shortened window:\n%s", out)
	}

	_, out, _ = f.shipWith(at(metricsNow), "metrics", "--json")
	var doc MetricsJSON
	must(t, json.Unmarshal([]byte(out), &doc))
	if s := doc.Paths[0].Environments[2].Summary; !s.Shortened || !s.From.Equal(utc(3, 20, 13, 55)) || s.Deployments != 1 {
		t.Errorf("prd summary %+v", s)
	}
	if s := doc.Paths[0].Environments[1].Summary; s.Shortened {
		t.Errorf("stg, which has no runs, is not shortened: %+v", s)
	}
}

func TestMetricsAsksWhichPathOrAll(t *testing.T) {
	f, _ := allFixture(t)
	t.Setenv(EnvPath, "")

	code, out, errOut := f.shipWith(at(metricsNow), "metrics")

	if code != ExitUsage || out != "" || !strings.Contains(errOut, "which service? pass --path team/service, set SHIP_PATH, or pass --all for every path "+
		"(known in ") || !strings.Contains(errOut, "payments/checkout, payments/refunds, payments/ledger, search/index)") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
