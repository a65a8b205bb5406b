package ship

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/apps/ship/internal/report"
	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
)

// gitLog puts a git on PATH that logs each of its command lines, then runs the real git:
// a test counts the git processes ship started.
func gitLog(t *testing.T) (lines func() []string) {
	t.Helper()
	real, err := exec.LookPath("git")
	must(t, err)
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	must(t, os.WriteFile(filepath.Join(dir, "git"), []byte("#!/bin/sh\necho \"$*\" >> '"+log+"'\nexec '"+real+"' \"$@\"\n"), 0o755))
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return func() []string {
		b, _ := os.ReadFile(log)
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
}

// indexerMetricsFixture: search/indexer (GitHub) with commits k1..k3 of known committer
// dates on the clone's main, pushed to "GitHub" (githubFixture), and these runs:
//
//	dev  dev-1 k1 03-10 09:00 (lead 1h), dev-2 k2 03-12 11:30 (1h30m), dev-3 k3 03-15 10:00 (1h)
//	stg  stg-1 k1 03-10 12:00 (4h), stg-2 k3 03-15 15:00 (6h)
//	prd  prd-1 k1 03-11 08:00 (1d), prd-2 of a commit no clone here has, 03-20 10:00 (unknown)
func indexerMetricsFixture(t *testing.T) (*fixture, string) {
	f := githubFixture(t)
	k1 := f.commitAt("k1", utc(3, 10, 8, 0))
	k2 := f.commitAt("k2", utc(3, 12, 10, 0))
	k3 := f.commitAt("k3", utc(3, 15, 9, 0))
	f.git(f.dir, "push", "-q", "--force", "origin", "HEAD:refs/heads/main")
	stranger := strings.Repeat("ab", 20)
	f.aws.SetRuns("search-indexer-dev",
		run("dev-3", k3, "Succeeded", utc(3, 15, 10, 0)),
		run("dev-2", k2, "Succeeded", utc(3, 12, 11, 30)),
		run("dev-1", k1, "Succeeded", utc(3, 10, 9, 0)))
	f.aws.SetRuns("search-indexer-stg",
		run("stg-2", k3, "Succeeded", utc(3, 15, 15, 0)),
		run("stg-1", k1, "Succeeded", utc(3, 10, 12, 0)))
	f.aws.SetRuns("search-indexer-prd",
		run("prd-2", stranger, "Succeeded", utc(3, 20, 10, 0)),
		run("prd-1", k1, "Succeeded", utc(3, 11, 8, 0)))
	return f, stranger
}

func TestMetricsOfAConnectionSourceReadCommitTimesFromTheClone(t *testing.T) {
	f, stranger := indexerMetricsFixture(t)
	gitRan := gitLog(t)

	code, out, errOut := f.shipWith(at(metricsNow), "metrics")

	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	// By hand (indexerMetricsFixture), over 30 days:
	//   dev  3 deploys, 0.7/week; leads 1h 1h 1h30m: median (2nd of 3) 1h, p90 (3rd) 1h30m
	//   stg  2 deploys, 0.5/week; leads 4h 6h: median (1st of 2) 4h, p90 (2nd) 6h
	//   prd  2 deploys; one lead, 1d; the stranger's commit is unknown
	want := map[string]string{
		"dev": "dev | 3 (0.7/week) | 1h / 1h30m (n=3) | 0% (0/3) | – (n=0) | 0 | 0",
		"stg": "stg | 2 (0.5/week) | 4h / 6h (n=2) | 0% (0/2) | – (n=0) | 0 | 0",
		"prd": "prd | 2 (0.5/week) | 1d / 1d (n=1, 1 unknown) | 0% (0/2) | – (n=0) | 0 | 0",
	}
	for env, w := range want {
		if got := strings.Join(metricsRow(t, out, "search/indexer", env), " | "); got != w {
			t.Errorf("%s row\n got %s\nwant %s", env, got, w)
		}
	}
	// AND the commit the clone lacks is named, with what to fetch
	if w := "prd: commit times could not be read, so lead times are unknown where missing and older commits are told only by what was deployed before: " +
		"1 of the 2 commits its runs name are not in the clone " + f.dir + " (" + gate.Short(stranger) + "): git fetch origin, then run ship metrics again"; !strings.Contains(out, w) {
		t.Errorf("output lacks %q:\n%s", w, out)
	}
	// AND the three environments' commits were read in one git process, and CodeCommit never
	var catFiles []string
	for _, l := range gitRan() {
		if strings.HasPrefix(l, "cat-file") {
			catFiles = append(catFiles, l)
		}
	}
	if len(catFiles) != 1 || catFiles[0] != "cat-file --batch" {
		t.Errorf("git cat-file ran %q, want once", catFiles)
	}
	for _, c := range f.aws.Recorded() {
		if c.Op == "BatchGetCommits" {
			t.Errorf("CodeCommit was asked: %+v", c)
		}
	}

	// AND --json names the repository the dates come from
	_, out, _ = f.shipWith(at(metricsNow), "metrics", "--json")
	doc := decodeStrict[MetricsJSON](t, out)
	for _, e := range doc.Paths[0].Environments {
		if e.Repository != "github.com/example-org/search-indexer" || e.Calls.CodeCommit != 0 {
			t.Errorf("%s: repository %q, calls %+v", e.Name, e.Repository, e.Calls)
		}
	}
	if prd := doc.Paths[0].Environments[2]; prd.Summary.LeadTime.Count != 1 || prd.Summary.LeadTimeUnknown != 1 || !strings.Contains(prd.CommitTimesError, "git fetch origin") {
		t.Errorf("prd %+v", prd)
	}

	// AND ship report has the same lead times and note
	var in report.Input
	app := at(metricsNow)
	app.WriteReport = reportWriter{got: &in}.write
	if code, _, _ := f.shipWith(app, "report", "-o", filepath.Join(t.TempDir(), "r.html")); code != ExitOK || len(in.Paths) != 1 {
		t.Fatalf("report: exit %d, input %+v", code, in)
	}
	prd := in.Paths[0].Envs[2]
	if prd.Metrics.Summary.LeadTime.N != 1 || len(prd.Notes) != 1 || !strings.Contains(prd.Notes[0], "git fetch origin") {
		t.Errorf("report of prd: lead times %+v, notes %q", prd.Metrics.Summary.LeadTime, prd.Notes)
	}
}

func TestMetricsOfAConnectionSourceOutsideItsClone(t *testing.T) {
	f, _ := indexerMetricsFixture(t)
	for _, tc := range []struct {
		name, dir, why string
	}{
		// a clone of something else: the template's remotes dev, stg, prd only
		{"another clone", "", "is not one: none of its remotes points at it (its remotes: dev "},
		{"no clone at all", t.TempDir(), "run ship metrics there (-C <clone>); " + "DIR is not a git clone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.dir == "" {
				f.git(f.dir, "remote", "remove", "origin")
				t.Cleanup(func() { f.git(f.dir, "remote", "add", "origin", indexerURL) })
			} else {
				old := f.dir
				f.dir = tc.dir
				t.Cleanup(func() { f.dir = old })
			}

			code, out, _ := f.shipWith(at(metricsNow), "metrics")

			// THEN the figures are there, the lead times unknown, and the note says where to run it
			if code != ExitOK {
				t.Fatalf("exit %d", code)
			}
			if got := strings.Join(metricsRow(t, out, "search/indexer", "dev"), " | "); got != "dev | 3 (0.7/week) | – (n=0, 3 unknown) | 0% (0/3) | – (n=0) | 0 | 0" {
				t.Errorf("dev row %s", got)
			}
			for _, w := range []string{"commit times of github.com/example-org/search-indexer come from a clone of it: run ship metrics there", strings.ReplaceAll(tc.why, "DIR", tc.dir)} {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestMetricsAllReadsCodeCommitAndTheCloneTogether(t *testing.T) {
	f, _ := metricsFixture(t)
	useOrg(t, connectionOrgYAML)
	bare := filepath.Join(t.TempDir(), "search-indexer.git")
	f.git(f.dir, "init", "-q", "--bare", bare)
	f.git(f.dir, "remote", "add", "origin", "git@github.com:example-org/search-indexer.git")
	f.git(f.dir, "config", "url."+bare+".insteadOf", "git@github.com:example-org/search-indexer.git")
	k := f.commitAt("k", utc(3, 25, 6, 0))
	f.aws.SetRuns("search-indexer-dev", run("i-1", k, "Succeeded", utc(3, 25, 8, 15)))
	f.aws.SetRuns("search-indexer-stg")
	f.aws.SetRuns("search-indexer-prd")
	f.flags = []string{"--profile", "222222222222=dev", "--profile", "333333333333=stg", "--profile", "444444444444=prd"}

	code, out, _ := f.shipWith(at(metricsNow), "metrics", "--all")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	// payments/checkout's prd as in TestMetricsTableOfOnePath (through CodeCommit), and
	// search/indexer's dev: one deploy, 2h15m after its commit (through the clone)
	if got := metricsRow(t, out, "payments/checkout", "prd"); got[2] != "2h / 5h (n=4)" {
		t.Errorf("checkout prd %q", got)
	}
	if got := metricsRow(t, out, "search/indexer", "dev"); got[2] != "2h15m / 2h15m (n=1)" {
		t.Errorf("indexer dev %q", got)
	}
}

// TestCommitTimesOfTheClone: the committer dates of the commits the clone has, in one git
// process; anything else (a tree, a blob, an id it lacks, a name that is no full id) is
// simply not in the answer.
func TestCommitTimesOfTheClone(t *testing.T) {
	f := newFixture(t)
	k := f.commitAt("k", utc(3, 12, 10, 30))
	tree := f.git(f.dir, "rev-parse", k+"^{tree}")
	blob := f.git(f.dir, "rev-parse", k+":version")
	ids := []string{k, f.c(1), tree, blob, strings.Repeat("0", 40), "HEAD", gate.Short(k), "--batch-all-objects"}

	got, err := NewRepo(f.dir).CommitTimes(context.Background(), ids)

	must(t, err)
	// c1 has the fixture's fixed date (gitEnv), k the one commitAt gave it (in UTC+2)
	if len(got) != 2 || !got[k].Equal(utc(3, 12, 10, 30)) || !got[f.c(1)].Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("CommitTimes = %v", got)
	}
}
