package ship

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// The benchmark's organisation: 10 teams of 5 services, 50 paths of dev, stg and prd.
// Each team has its own three accounts (one per environment), shared by its five
// services: 30 accounts. Every account's credentials are a profile of their own, given
// by account id (--profile <account>=<profile>).
const (
	benchTeams, benchServices = 10, 5
	// benchCommits are committed over the 31 days before the clock; every environment
	// runs each of them, so each history has about 165 runs (150 commits plus failures,
	// rollbacks and reruns), about 160 of them in the 30-day window.
	benchCommits = 150
)

// benchNow is the benchmark's clock.
var benchNow = time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)

// BenchmarkMetricsFiftyPaths: ship metrics --all over 50 paths x 3 environments against
// the fake, with one reader and with eight, with the fake answering at once and after a
// simulated network latency. Besides the wall time per run of the command (ns/op) it
// reports the AWS calls one run makes, per operation.
//
//	go test -run '^$' -bench MetricsFiftyPaths -count 5 ./apps/ship/internal/ship/
func BenchmarkMetricsFiftyPaths(b *testing.B) {
	fake, flags := benchOrganisation(b)
	run := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		app := &App{Stdout: &out, Stderr: &errOut, Now: func() time.Time { return benchNow }}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		code := app.Run(ctx, append(append([]string{}, flags...), args...))
		return out.String(), errOut.String(), code
	}

	// Once, untimed: the command reads all 150 environments and finds what the histories hold.
	out, errOut, code := run("metrics", "--all", "--json")
	if code != ExitOK || errOut != "" {
		b.Fatalf("exit %d, stderr %s", code, errOut)
	}
	var doc MetricsJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		b.Fatal(err)
	}
	envs := 0
	for _, p := range doc.Paths {
		for _, e := range p.Environments {
			envs++
			if s := e.Summary; s == nil || s.Deployments < 100 || s.LeadTime.Count != s.Deployments || (e.Name != "dev" && s.Failures == 0) || s.Rollbacks == 0 {
				b.Fatalf("%s %s: %+v", p.Path, e.Name, s)
			}
		}
	}
	if !doc.Complete || envs != benchTeams*benchServices*3 {
		b.Fatalf("complete %v, %d environments", doc.Complete, envs)
	}

	ops := []string{"ListPipelineExecutions", "ListActionExecutions", "BatchGetCommits", "GetCallerIdentity"}
	// latency=0: the fake answers at once, so the run is bound by the CPU the client and
	// the fake share. latency=2ms: every call waits 2ms first, a stand-in (on the short
	// side) for the network to AWS, whose answers take tens of milliseconds.
	for _, latency := range []time.Duration{0, 2 * time.Millisecond} {
		for _, op := range ops {
			fake.Delay(op, latency)
		}
		for _, parallel := range []int{1, 8} {
			b.Run(fmt.Sprintf("latency=%s/parallel=%d", latency, parallel), func(b *testing.B) {
				fake.ForgetCalls()
				runs := 0
				for b.Loop() {
					if _, errOut, code := run("metrics", "--all", "--parallel", strconv.Itoa(parallel)); code != ExitOK {
						b.Fatalf("exit %d: %s", code, errOut)
					}
					runs++
				}
				calls := map[string]int{}
				for _, op := range fake.Ops() {
					calls[op]++
				}
				for _, op := range ops {
					b.ReportMetric(float64(calls[op])/float64(runs), op+"/op")
				}
			})
		}
	}
}

// benchOrganisation writes the organisation, the credentials and a git repository of
// benchCommits dated commits, serves the fake with every environment's history, and
// returns the flags every command needs (the profiles, keyed by account).
func benchOrganisation(b *testing.B) (*fakeaws.Server, []string) {
	b.Helper()
	root := b.TempDir()
	var yaml, creds strings.Builder
	yaml.WriteString("registry:\n  account: \"111111111111\"\n  region: eu-west-1\nteams:\n")
	fake := fakeaws.New()
	var flags []string
	account := func(team, env int) string { return fmt.Sprintf("%03d%03d%06d", 100+team, 100+env, 0) }
	for t := range benchTeams {
		fmt.Fprintf(&yaml, "  - name: team%d\n    services:\n", t)
		for s := range benchServices {
			fmt.Fprintf(&yaml, "      - name: svc%d\n        environments:\n", s)
			for e, name := range []string{"dev", "stg", "prd"} {
				fmt.Fprintf(&yaml, "          - name: %s\n            account: \"%s\"\n            region: eu-west-1\n", name, account(t, e))
			}
		}
		for e := range 3 {
			a := account(t, e)
			fmt.Fprintf(&creds, "[p%s]\naws_access_key_id = AKID%s\naws_secret_access_key = s\n", a, a)
			fake.SetAccount("AKID"+a, a)
			flags = append(flags, "--profile", a+"=p"+a)
		}
	}
	cfg := filepath.Join(root, "organization.yaml")
	empty := filepath.Join(root, "aws-config")
	credFile := filepath.Join(root, "aws-credentials")
	for f, data := range map[string]string{cfg: yaml.String(), empty: "", credFile: creds.String()} {
		if err := os.WriteFile(f, []byte(data), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	o, err := org.Load(cfg)
	if err != nil {
		b.Fatal(err)
	}

	bare, commits := benchRepository(b, root)
	for _, p := range o.Paths() {
		for e, env := range p.Environments {
			fake.SetRepository(env.Account, p.RepositoryName(), bare)
			runs, actions := benchHistory(env.Name, e, commits)
			fake.SetRuns(p.PipelineName(env.Name), runs...)
			fake.SetActionRuns(p.PipelineName(env.Name), actions...)
		}
	}
	srv := httptest.NewServer(fake)
	b.Cleanup(srv.Close)
	for k, v := range map[string]string{
		EnvConfig: cfg, EnvPath: "", "AWS_ENDPOINT_URL": srv.URL, "AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": credFile,
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "",
		"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_EC2_METADATA_DISABLED": "true",
	} {
		b.Setenv(k, v)
	}
	return fake, flags
}

// benchCommit is one commit of the benchmark's repository and its committer date.
type benchCommit struct {
	id string
	at time.Time
}

// benchRepository makes a bare repository of benchCommits commits, evenly dated over the
// 31 days before benchNow, in one git fast-import.
func benchRepository(b *testing.B, root string) (string, []benchCommit) {
	b.Helper()
	bare := filepath.Join(root, "repo.git")
	git := func(stdin io.Reader, args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Env = append(os.Environ(), "GIT_DIR="+bare, "HOME="+root, "XDG_CONFIG_HOME="+root, "GIT_CONFIG_NOSYSTEM=1")
		cmd.Stdin = stdin
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	git(nil, "init", "-q", "--bare", bare)
	var stream strings.Builder
	start := benchNow.Add(-31 * 24 * time.Hour)
	step := 31 * 24 * time.Hour / benchCommits
	var dates []time.Time
	for i := range benchCommits {
		at := start.Add(time.Duration(i) * step)
		dates = append(dates, at)
		msg := fmt.Sprintf("change %d\n", i+1)
		fmt.Fprintf(&stream, "commit refs/heads/main\nauthor A <a@example.com> %d +0000\ncommitter C <c@example.com> %d +0000\ndata %d\n%s"+
			"M 644 inline version\ndata %d\n%d\n\n", at.Unix(), at.Unix(), len(msg), msg, len(strconv.Itoa(i))+1, i)
	}
	git(strings.NewReader(stream.String()), "fast-import", "--quiet")
	ids := strings.Fields(git(nil, "rev-list", "--reverse", "main"))
	if len(ids) != benchCommits {
		b.Fatalf("%d commits, want %d", len(ids), benchCommits)
	}
	out := make([]benchCommit, len(ids))
	for i, id := range ids {
		out[i] = benchCommit{id: id, at: dates[i]}
	}
	return bare, out
}

// benchHistory is one environment's runs, newest first, and the action executions of its
// failed deploys: every commit deployed (env+1) hours after it was made; now and then a
// deploy that fails in Deploy (not in dev), a run the guard stops, a rerun, and a
// CodePipeline rollback of a deploy to the one before.
func benchHistory(env string, e int, commits []benchCommit) ([]fakeaws.Run, []fakeaws.ActionRun) {
	var runs []fakeaws.Run // oldest first, reversed at the end
	var actions []fakeaws.ActionRun
	n := 0
	add := func(r fakeaws.Run) {
		n++
		r.ID = fmt.Sprintf("%s-%d", env, n)
		runs = append(runs, r)
	}
	lastGood := ""
	for i, c := range commits {
		at := c.at.Add(time.Duration(e+1) * time.Hour)
		if e > 0 && i%23 == 5 {
			add(fakeaws.Run{Commit: c.id, Status: "Failed", At: at.Add(-30 * time.Minute)})
			actions = append(actions, fakeaws.ActionRun{Execution: runs[len(runs)-1].ID, Stage: fakeaws.DeployStage, Action: fakeaws.DeployAction,
				Status: "Failed", Started: at.Add(-40 * time.Minute), Updated: at.Add(-30 * time.Minute)})
		}
		if i%17 == 2 {
			add(fakeaws.Run{Commit: c.id, Status: "Failed", At: at.Add(-20 * time.Minute)}) // stopped before Deploy: no action there
		}
		add(fakeaws.Run{Commit: c.id, Status: "Succeeded", At: at})
		deployed := runs[len(runs)-1].ID
		switch {
		case i%41 == 7 && lastGood != "":
			target := runs[indexOf(runs, lastGood)]
			add(fakeaws.Run{Commit: target.Commit, Status: "Succeeded", At: at.Add(20 * time.Minute), Type: "ROLLBACK", RollbackTarget: lastGood})
			continue // the rolled-back deploy is not a good target
		case i%31 == 3:
			add(fakeaws.Run{Commit: c.id, Status: "Succeeded", At: at.Add(10 * time.Minute)})
		}
		lastGood = deployed
	}
	for i, j := 0, len(runs)-1; i < j; i, j = i+1, j-1 {
		runs[i], runs[j] = runs[j], runs[i]
	}
	return runs, actions
}

func indexOf(runs []fakeaws.Run, id string) int {
	for i, r := range runs {
		if r.ID == id {
			return i
		}
	}
	return -1
}
