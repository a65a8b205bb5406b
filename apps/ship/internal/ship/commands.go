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
	return []*cobra.Command{c.promoteCommand(), c.rollbackCommand(), c.approveCommand(), c.rejectCommand(), c.statusCommand(), c.historyCommand()}
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
	return &cobra.Command{
		Use:   "status",
		Short: "per environment: branch, deployed commit, latest run, pending approval, commits waiting",
		Long: `Status shows, per environment in path order: the branch head, the deployed commit
(the newest successful run's), the latest run, a pending approval (its run, its age, who
may answer it) and the runs queued behind it, and the commits deployed upstream but not
here, which ship promote would bring.

An environment that cannot be read is reported in its place and the others still are;
the command then exits 1.`,
		Example: `  ship status`,
		Args:    positional,
		RunE: c.run(func(ctx context.Context, x *session, _ []string) error {
			return x.status(ctx)
		}),
	}
}

func (c *cli) historyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "history <env>",
		Short: "recent runs of <env>'s pipeline: execution, commit, status, time",
		Long: `History lists the newest runs of <env>'s pipeline, newest first: execution, commit,
status, start and end, the deployed one marked, rollbacks marked with their target.`,
		Example: `  ship history prd
  ship history prd --limit 50`,
		Args:              positional,
		ValidArgsFunction: c.completeEnv(nil),
		RunE: c.run(func(ctx context.Context, x *session, args []string) error {
			return x.history(ctx, args[0])
		}),
	}
	cmd.Flags().IntVar(&c.inv.limit, "limit", DefaultLimit, "how many runs, `N` from 1 to 1000")
	return cmd
}

func arg(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}
