// Command synthbench measures the platform app's synthesis: wall time and peak memory of
// the whole organisation at 1, 10 and 50 teams, and of one account of the 50-team
// organisation (what each org-formation update-cdk task runs). It runs the real app binary
// as the CDK CLI does (CDK_OUTDIR, CDK_CONTEXT_JSON), several times per case, and prints
// the medians as a Markdown table.
//
//	go run ./test/synthbench              # 5 runs per case
//	go run ./test/synthbench -runs 3 -teams 1,10
//
// Peak memory is the largest resident set of the app and the Node process it starts (the
// kernel reports the maximum over a process and its waited-for descendants).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("runs", 5, "runs per case")
	teams := flag.String("teams", "1,10,50", "organisation sizes, in teams (one service, dev/stg/prd, each)")
	flag.Parse()
	if err := run(*runs, *teams); err != nil {
		fmt.Fprintln(os.Stderr, "synthbench:", err)
		os.Exit(1)
	}
}

type result struct {
	name   string
	stacks int
	wall   []float64 // seconds
	rss    []float64 // MiB
}

func run(runs int, teamList string) error {
	if runs < 1 {
		return fmt.Errorf("-runs %d: at least 1", runs)
	}
	var sizes []int
	for _, s := range strings.Split(teamList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 300 {
			return fmt.Errorf("-teams %q: comma-separated team counts between 1 and 300", teamList)
		}
		sizes = append(sizes, n)
	}
	dir, err := os.MkdirTemp("", "synthbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "platform")
	if out, err := exec.Command("go", "build", "-o", bin, "./apps/platform").CombinedOutput(); err != nil {
		return fmt.Errorf("build apps/platform (run from the repository root): %v\n%s", err, out)
	}

	var results []result
	largest := sizes[len(sizes)-1]
	for _, n := range sizes {
		cfg := filepath.Join(dir, fmt.Sprintf("org-%d.yaml", n))
		if err := os.WriteFile(cfg, organization(n), 0o644); err != nil {
			return err
		}
		results = append(results, result{name: fmt.Sprintf("whole organisation, %d team(s)", n)})
		if err := measure(bin, dir, map[string]string{"config": cfg}, runs, &results[len(results)-1]); err != nil {
			return err
		}
		if n == largest {
			// The stg account of the middle team: one update-cdk task of a large organisation.
			results = append(results, result{name: fmt.Sprintf("one account of %d teams", n)})
			ctx := map[string]string{"config": cfg, "account": account(n/2, 1)}
			if err := measure(bin, dir, ctx, runs, &results[len(results)-1]); err != nil {
				return err
			}
		}
	}
	fmt.Printf("| case | stacks | wall time (median of %d) | peak RSS (median) |\n|---|---:|---:|---:|\n", runs)
	for _, r := range results {
		fmt.Printf("| %s | %d | %.1f s | %.0f MiB |\n", r.name, r.stacks, median(r.wall), median(r.rss))
	}
	return nil
}

// measure runs the app runs times with the given context and records wall time and peak RSS.
func measure(bin, dir string, context map[string]string, runs int, r *result) error {
	ctx, _ := json.Marshal(context)
	for i := 0; i < runs; i++ {
		out, err := os.MkdirTemp(dir, "cdk.out-")
		if err != nil {
			return err
		}
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "CDK_OUTDIR="+out, "CDK_CONTEXT_JSON="+string(ctx), "CDK_DEPLOY_ACCOUNT=")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		err = cmd.Run()
		wall := time.Since(start).Seconds()
		if err != nil {
			return fmt.Errorf("%s: %v\n%s", r.name, err, stderr.String())
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		r.wall = append(r.wall, wall)
		r.rss = append(r.rss, float64(ru.Maxrss)/1024) // Linux reports KiB
		templates, _ := filepath.Glob(filepath.Join(out, "*.template.json"))
		r.stacks = len(templates)
		os.RemoveAll(out)
		fmt.Fprintf(os.Stderr, "%s run %d: %.1f s, %.0f MiB, %d stacks\n", r.name, i+1, wall, r.rss[len(r.rss)-1], r.stacks)
	}
	return nil
}

// organization is a valid organisation of n teams with one service each, every environment
// in its own account.
func organization(n int) []byte {
	var b strings.Builder
	b.WriteString("registry: {account: \"100000000000\", region: eu-west-1}\nteams:\n")
	for t := 0; t < n; t++ {
		fmt.Fprintf(&b, "  - name: team%d\n    services:\n      - name: svc\n        environments:\n", t)
		for e, env := range []string{"dev", "stg", "prd"} {
			fmt.Fprintf(&b, "          - {name: %s, account: \"%s\", region: eu-west-1}\n", env, account(t, e))
		}
	}
	return []byte(b.String())
}

func account(team, env int) string { return fmt.Sprintf("2%011d", team*10+env) }

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
