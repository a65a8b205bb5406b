package report

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/platform-eng/pathtoprod/constructs/dora"
	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
)

// The input the tests, the benchmark and the README's picture draw: pipeline histories made
// run by run (as CodePipeline would report them) and computed by dora, so the report is fed
// exactly what ship report will feed it.

var sampleEnd = time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)

// sampleWindow is the 90 days to sampleEnd.
func sampleWindow() dora.Window { return dora.Last(90*24*time.Hour, sampleEnd) }

// pathSpec says how to simulate one path.
type pathSpec struct {
	Name string
	// Commits is the number of commits pushed to dev over the window.
	Commits int
	// Failures: each deploy fails (dev, stg: the run fails in Deploy; prd: CodePipeline
	// rolls it back) with this probability.
	Failures float64
	// OpenFailure leaves the last prd run a failure nobody has restored yet.
	OpenFailure bool
	// Unreadable is the problem of an unreadable prd ("" when prd was read).
	Unreadable string
	// Shortened bounds prd's history read to the last this many days.
	Shortened int
	// UnknownTimes is the share of commits whose commit time could not be read.
	UnknownTimes float64
}

// sampleInput is three paths in dev, stg, prd with failures, rollbacks, an open failure, a
// shortened history, unknown commit times and one unreadable environment.
func sampleInput() Input {
	return buildInput("Acme Payments", []pathSpec{
		{Name: "payments/checkout", Commits: 60, Failures: 0.08, OpenFailure: true, UnknownTimes: 0.05},
		{Name: "payments/ledger", Commits: 50, Failures: 0.05, Shortened: 40},
		{Name: "identity/login", Commits: 45, Failures: 0.06, Unreadable: "AccessDenied: cannot assume arn:aws:iam::333333333333:role/ship-read"},
	}, 1)
}

// quietInput has no failures at all (the negative control: no red anywhere), and names
// that try to break out of the page.
func quietInput() Input {
	return buildInput(`Acme </script><script>window.pwned=1</script> & "Co"`, []pathSpec{
		{Name: `team/<b id="pwn">svc</b>`, Commits: 40},
		{Name: "team/quiet", Commits: 25},
	}, 2)
}

// fiftyPaths is 50 paths × dev, stg, prd × about 100 events each.
func fiftyPaths() Input {
	specs := make([]pathSpec, 50)
	for i := range specs {
		specs[i] = pathSpec{Name: fmt.Sprintf("team-%02d/service-%02d", i/5, i), Commits: 170, Failures: 0.05}
	}
	return buildInput("Fifty paths", specs, 3)
}

func buildInput(title string, specs []pathSpec, seed uint64) Input {
	w := sampleWindow()
	in := Input{Title: title, Window: w, Generated: sampleEnd}
	for i, spec := range specs {
		rnd := rand.New(rand.NewPCG(seed, uint64(i)))
		in.Paths = append(in.Paths, simulatePath(rnd, spec, w))
	}
	return in
}

// simulatePath pushes spec.Commits commits to dev and promotes a share of them to stg and
// prd, each environment later than the one before; then runs each environment's history
// through dora.Compute.
func simulatePath(rnd *rand.Rand, spec pathSpec, w dora.Window) Path {
	type commit struct {
		id string
		at time.Time
	}
	commits := make([]commit, spec.Commits)
	span := w.To.Sub(w.From) - 36*time.Hour
	for i := range commits {
		commits[i] = commit{id: fmt.Sprintf("%040x", rnd.Uint64()), at: w.From.Add(-2 * 24 * time.Hour).Add(time.Duration(rnd.Int64N(int64(span))))}
	}
	sort.Slice(commits, func(i, j int) bool { return commits[i].at.Before(commits[j].at) })
	times := map[string]time.Time{}
	for _, c := range commits {
		if rnd.Float64() >= spec.UnknownTimes {
			times[c.id] = c.at
		}
	}

	// Per environment: the share of commits promoted there and how long after the commit
	// (a log-normal-ish spread: mostly hours, sometimes days). prd fails more often than in
	// life, so that its few deploys still show rollbacks.
	envs := []struct {
		name      string
		share     float64
		lead      time.Duration
		failScale float64
	}{{"dev", 1, 40 * time.Minute, 1}, {"stg", 0.6, 5 * time.Hour, 1}, {"prd", 0.4, 20 * time.Hour, 2.5}}

	path := Path{Name: spec.Name}
	for _, env := range envs {
		if env.name == "prd" && spec.Unreadable != "" {
			path.Envs = append(path.Envs, Env{Name: env.name, Problem: spec.Unreadable})
			continue
		}
		var runs []dora.Run // oldest first while built
		n := 0
		id := func() string { n++; return fmt.Sprintf("%s-%s-%04d", spec.Name, env.name, n) }
		last := time.Time{}
		var current *dora.Run // the run that deployed what runs now
		for _, c := range commits {
			if rnd.Float64() >= env.share {
				continue
			}
			at := c.at.Add(time.Duration(float64(env.lead) * math.Exp(rnd.NormFloat64()*0.9)))
			if !at.After(last.Add(20 * time.Minute)) {
				at = last.Add(20*time.Minute + time.Duration(rnd.Int64N(int64(time.Hour))))
			}
			if at.After(w.To.Add(-time.Hour)) {
				continue // not deployed yet when the history was read
			}
			fail := rnd.Float64() < spec.Failures*env.failScale
			run := dora.Run{Execution: gate.Execution{ID: id(), Commit: c.id, Type: "STANDARD",
				Status: string(types.PipelineExecutionStatusSucceeded), Started: at.Add(-12 * time.Minute), At: at}}
			switch {
			case fail && env.name != "prd":
				run.Status, run.ReachedDeploy = string(types.PipelineExecutionStatusFailed), true
				runs = append(runs, run)
			case fail && current != nil:
				// prd: deployed, then CodePipeline's automatic rollback to the run before.
				back := at.Add(30*time.Minute + time.Duration(rnd.Int64N(int64(6*time.Hour))))
				rb := dora.Run{Execution: gate.Execution{ID: id(), Commit: current.Commit, Type: "ROLLBACK",
					RollbackTarget: current.ID, Status: string(types.PipelineExecutionStatusSucceeded),
					Started: back.Add(-10 * time.Minute), At: back}, Trigger: string(types.TriggerTypeAutomatedRollback)}
				run.RolledBackBy = rb.ID
				runs = append(runs, run, rb)
				at = back
			default:
				runs = append(runs, run)
				deployed := run
				current = &deployed
			}
			last = at
		}
		if spec.OpenFailure && env.name == "prd" {
			at := w.To.Add(-40 * time.Minute)
			runs = append(runs, dora.Run{Execution: gate.Execution{ID: id(), Commit: commits[len(commits)-1].id, Type: "STANDARD",
				Status: string(types.PipelineExecutionStatusFailed), Started: at.Add(-12 * time.Minute), At: at}, ReachedDeploy: true})
		}
		h := dora.History{Pipeline: spec.Name + "-" + env.name}
		if spec.Shortened > 0 && env.name == "prd" {
			oldest := w.To.Add(-time.Duration(spec.Shortened) * 24 * time.Hour)
			kept := runs[:0]
			for _, r := range runs {
				if !r.Started.Before(oldest) {
					kept = append(kept, r)
				}
			}
			runs, h.Bounded, h.Oldest = kept, true, oldest
			if len(kept) > 0 {
				h.Oldest = kept[0].Started
			}
		}
		for i := len(runs) - 1; i >= 0; i-- {
			h.Runs = append(h.Runs, runs[i])
		}
		path.Envs = append(path.Envs, Env{Name: env.name, Metrics: dora.Compute(h, times, w)})
	}
	return path
}
