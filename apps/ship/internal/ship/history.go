package ship

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
)

// history prints the newest runs of env's pipeline, newest first, marking the deployed one
// and the rollbacks (their target, and whether CodePipeline started them). With --json it
// prints them as one HistoryJSON document.
func (x *session) history(ctx context.Context, envName string) error {
	env, err := x.s.environment(envName)
	if err != nil {
		return err
	}
	c, err := x.pipelines(ctx, env)
	if err != nil {
		return err
	}
	pipeline := x.s.Path.PipelineName(env.Name)
	det := newDetailLister(c)
	runs, err := recentExecutions(ctx, det, pipeline, x.s.Limit)
	if err != nil {
		return err
	}
	deployed := ""
	for _, r := range runs {
		if gate.Deployed(r) {
			deployed = r.ID
			break
		}
	}
	if x.json {
		doc := HistoryJSON{SchemaVersion: SchemaVersion, Environment: env.Name, Pipeline: pipeline, Account: env.Account,
			Region: env.Region, Limit: x.s.Limit, Runs: []RunJSON{}}
		for _, r := range runs {
			j := runJSON(r, det.details[r.ID])
			j.Deployed = r.ID == deployed
			doc.Runs = append(doc.Runs, j)
		}
		return writeJSON(x.out, doc)
	}
	fmt.Fprintf(x.out, "%s: pipeline %s (account %s, %s), newest %d runs\n", env.Name, pipeline, env.Account, env.Region, x.s.Limit)
	if len(runs) == 0 {
		fmt.Fprintln(x.out, "no runs yet")
		return nil
	}
	var buf strings.Builder
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EXECUTION\tCOMMIT\tSTATUS\tSTARTED\tUPDATED\t")
	for _, r := range runs {
		var notes []string
		if r.Rollback() {
			kind := "rollback"
			if a := det.details[r.ID].automatic(); a != nil && *a {
				kind = "automatic rollback"
			} else if a != nil {
				kind = "manual rollback"
			}
			notes = append(notes, kind+" to "+orDash(r.RollbackTarget))
		}
		if r.ID == deployed {
			notes = append(notes, "<- deployed")
		}
		commit := "-"
		if r.Commit != "" {
			commit = gate.Short(r.Commit)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, commit, r.Status, formatTime(r.Started), formatTime(r.At), strings.Join(notes, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// tabwriter pads the last aligned column; trailing blanks only get in the way of grep and diff.
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		fmt.Fprintln(x.out, strings.TrimRight(line, " "))
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
