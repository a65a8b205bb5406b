package ship

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// commands are ship's subcommands, in the order `ship help` lists them. Each one's Use line
// is its synopsis, and positional checks its arguments against it; its work runs through
// cli.run, which resolves the settings and opens the session.
func (c *cli) commands() []*cobra.Command {
	return []*cobra.Command{c.promoteCommand(), c.rollbackCommand(), c.approveCommand(), c.rejectCommand(), c.statusCommand(), c.historyCommand(), c.sbomCommand(),
		c.metricsCommand(), c.reportCommand(), c.sandboxCommand()}
}

func (c *cli) promoteCommand() *cobra.Command {
	return c.waitFlag(&cobra.Command{
		Use:   "promote <env> [commit]",
		Short: "push a commit that passed <env>'s upstream to <env>",
		Long: `Promote pushes a commit that passed <env>'s upstream environment to <env>'s branch,
after asking the guard's own rule (gate.FindPassed) whether it passed there.

Without [commit] it takes the commit deployed upstream, i.e. its newest successful run.
It says what it pushed and what it replaced, or, if <env>'s branch already has the
commit, how its run goes (e.g. waiting for approval, and who may answer). The push must
fast-forward: to go back, use ship rollback.

With --wait it then follows the run the push started, stage by stage, until it ends:
where it waits (queued behind another run, for the deployment window, for an alarm to
clear, for approval, baking) and, if it fails, where and why, and the rollback CodePipeline
started. Ctrl-C stops following (exit 130), never the run.`,
		Example: `  ship promote stg            # what dev deployed
  ship promote prd 1a2b3c4    # exactly this commit, if it passed stg
  ship promote stg --wait     # and follow its run to the end`,
		Args:              positional,
		ValidArgsFunction: c.completeEnv(org.Environment.HasUpstream),
		RunE: c.run(func(ctx context.Context, x *session, args []string) error {
			return x.promote(ctx, args[0], arg(args, 1))
		}),
	}, "after the push")
}

func (c *cli) rollbackCommand() *cobra.Command {
	return c.waitFlag(&cobra.Command{
		Use:   "rollback <env> [commit]",
		Short: "push <env>'s previous successful commit, or [commit], with --force-with-lease",
		Long: `Rollback points <env>'s branch back at its previous successful commit (the newest
successful STANDARD run of a commit other than the branch's), or at [commit], with
--force-with-lease: if someone pushed meanwhile, git refuses. The commit must still have
passed <env>'s upstream, as the guard will check.

An automatic rollback (CodePipeline's, after a failed deploy or a watched alarm) redeploys
an older commit without moving the branch. Rollback says what such a rollback already
did before it acts: if it already restored the commit rollback would push, nothing is
pushed (exit 0); otherwise it says what runs and why, then pushes. Either way the branch
still names the rolled-back commit, so the next push of anything replaces what runs:
ship rollback <env> <the deployed commit> makes the branch name it.

If a run waits for approval in <env>, the rollback queues behind it: rollback says so.
With --wait it follows the rollback's run until it ends, as promote --wait does.`,
		Example: `  ship rollback prd           # its previous successful commit
  ship rollback prd 1a2b3c4   # a named commit that passed stg`,
		Args:              positional,
		ValidArgsFunction: c.completeEnv(nil),
		RunE: c.run(func(ctx context.Context, x *session, args []string) error {
			return x.rollback(ctx, args[0], arg(args, 1))
		}),
	}, "after the push")
}

func (c *cli) statusCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "per environment: what runs and why, latest run, window, alarms, approval, commits waiting",
		Long: `Status shows, per environment in path order:
  branch     the commit the environment's branch points at
  deployed   the commit it runs: its newest successful run's (a rollback's is its target's),
             and whether that run was a rollback, automatic or started by a person
  drift      when the deployed commit is not the branch head, why: an automatic rollback
             (which run it rolled back and how that ended: a failed deploy, an alarm during
             the bake), the head's run still going, or ended without deploying; and how to
             make the two agree
  latest     the newest run
  window     the deployment window, if any: open now until when, or when it opens next
             (computed from the organisation file)
  alarms     the watched CloudWatch alarms, if any: OK, ALARM or INSUFFICIENT_DATA since
             when, or missing; "unknown (<why>)" if CloudWatch could not be read
  approval   a pending approval (its run, its age, who may answer it), and the runs
             queued behind it
  waiting    the commits deployed upstream but not here, which ship promote would bring
  vulns      what the guard read of the deployed image's vulnerability scan when it let
             the commit in (counts by severity, or why there were none), and the
             environment's threshold (vulnerabilities.refuse); the first environment,
             which builds the image, names the guards after it

An environment whose pipeline cannot be read is reported in its place and the others
still are; the command then exits 1. A CloudWatch failure only makes the alarms unknown.

With --json, status prints one document (schemaVersion 1): {schemaVersion, path,
organisation, now, complete, environments: [{name, account, region, pipeline, remote,
branch, upstream, branchHead, branchError?, deployed, latest, drift, approvals, queued,
window, alarms, waiting, vulnerabilities, error?}]}; a run is {executionId, commit, status, type, trigger,
statusSummary?, started, updated, rollback?: {targetExecutionId, automatic}}. Field
names are camelCase, times RFC 3339 UTC or null, commits full ids; fields are only ever
added within a schema version.`,
		Example: `  ship status
  ship status --json | jq '.environments[] | {name, runs: .deployed.commit, drift: .drift.cause}'`,
		Args: positional,
		RunE: c.run(func(ctx context.Context, x *session, _ []string) error {
			return x.status(ctx)
		}),
	}
	c.jsonFlag(cmd)
	return cmd
}

func (c *cli) historyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "history <env>",
		Short: "recent runs of <env>'s pipeline: execution, commit, status, time",
		Long: `History lists the newest runs of <env>'s pipeline, newest first: execution, commit,
status, start and end; the deployed one is marked, and so is every ROLLBACK run, with the
execution it rolled back to and whether CodePipeline started it (automatic) or a person
did (rollback-stage). ship's own rollbacks are git pushes, so they are STANDARD runs.

With --json, history prints one document (schemaVersion 1): {schemaVersion, environment,
pipeline, account, region, limit, runs: [run]}, each run as in ship status --json plus
"deployed": true on the run whose commit the environment runs.`,
		Example: `  ship history prd
  ship history prd --limit 50 --json | jq -r '.runs[] | select(.type == "ROLLBACK") | .executionId'`,
		Args:              positional,
		ValidArgsFunction: c.completeEnv(nil),
		RunE: c.run(func(ctx context.Context, x *session, args []string) error {
			return x.history(ctx, args[0])
		}),
	}
	cmd.Flags().IntVar(&c.inv.limit, "limit", DefaultLimit, "how many runs, `N` from 1 to 1000")
	c.jsonFlag(cmd)
	return cmd
}

// jsonFlag gives a read command --json: its answer as one JSON document on stdout, in the
// stable schema jsonout.go documents (StatusJSON, HistoryJSON). Errors still go to stderr,
// with the exit code.
func (c *cli) jsonFlag(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&c.inv.json, "json", false, "print the answer as one JSON document (schema: ship help "+cmd.Name()+")")
}

func arg(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}
