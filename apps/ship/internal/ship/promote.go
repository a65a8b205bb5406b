package ship

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// promote pushes a commit that passed env's upstream to env's remote branch. It reads
// only the upstream's pipeline: the guard in env will check the same thing again.
func (x *session) promote(ctx context.Context, envName, rev string) error {
	env, err := x.s.environment(envName)
	if err != nil {
		return err
	}
	if !env.HasUpstream() {
		return usagef("environment %s has no upstream to promote from: it is where %s builds; ship to it with git push %s <branch>:%s",
			env.Name, pathName(x.s.Path), x.remoteLabel(ctx, env), env.Branch)
	}
	up, err := x.upstream(env)
	if err != nil {
		return err
	}
	if err := x.git.Check(ctx); err != nil {
		return err
	}
	var commit string
	if rev != "" {
		// Resolve before asking AWS: the guard compares full ids, and a typo should not
		// need credentials to be found.
		if commit, err = x.git.ResolveCommit(ctx, rev); err != nil {
			return err
		}
	}
	remote, err := x.remote(ctx, env)
	if err != nil {
		return err
	}

	upClient, err := x.pipelines(ctx, up)
	if err != nil {
		return err
	}
	upPipeline := x.s.Path.PipelineName(up.Name)
	if commit == "" {
		deployed, err := x.newestDeployed(ctx, upClient, upPipeline)
		if err != nil {
			return fmt.Errorf("find the commit deployed in %s: %w", up.Name, err)
		}
		if deployed == nil {
			return fmt.Errorf("nothing to promote: %s (pipeline %s) has no successful run yet", up.Name, upPipeline)
		}
		if commit, err = x.git.ResolveCommit(ctx, deployed.Commit); err != nil {
			return withOrigin(err, "deployed in "+up.Name, x.remoteLabel(ctx, up))
		}
	}

	v, err := x.passedUpstream(ctx, upClient, upPipeline, commit, up.Name, "promote")
	if err != nil {
		return err
	}

	old, err := x.git.RemoteHead(ctx, remote, env.Branch)
	if err != nil {
		return err
	}
	if old == commit {
		fmt.Fprintf(x.out, "%s: branch %s of remote %s already points at %s; nothing pushed.\n",
			env.Name, env.Branch, remote, gate.Short(commit))
		x.explainRunOf(ctx, env, commit)
		if x.opt.wait {
			return x.followIfRunning(ctx, env, commit)
		}
		return nil
	}
	if err := x.canFollow(ctx, env); err != nil {
		return err
	}
	pushedAt := x.now()
	if err := x.git.Push(ctx, remote, commit, env.Branch, ""); err != nil {
		var pe *PushError
		if errors.As(err, &pe) && isNonFastForward(pe.Reason) {
			return fmt.Errorf("%w\n%s is not a descendant of what %s has now (%s); to go back, use ship rollback %s %s",
				err, gate.Short(commit), env.Name, gate.Short(old), env.Name, gate.Short(commit))
		}
		return err
	}
	fmt.Fprintf(x.out, "%s: pushed %s to branch %s of remote %s, replacing %s.\n  %s.\n  The %s pipeline (%s) runs it next: %s.\n",
		env.Name, gate.Short(commit), env.Branch, remote, describeOld(old),
		v.Reason(commit, up.Name), env.Name, x.s.Path.PipelineName(env.Name), x.followHint(env))
	if x.opt.wait {
		return x.follow(ctx, env, commit, pushedAt)
	}
	return nil
}

// explainRunOf says, after a promotion found nothing to push, how the run of commit that
// env's branch already has is going: waiting for approval (and who can answer), queued,
// running, deployed, or ended otherwise (then how to run it again). It reads env's account,
// which promote otherwise does not need; a failed read is said, not returned, since the
// promotion itself is done.
func (x *session) explainRunOf(ctx context.Context, env org.Environment, commit string) {
	pipeline := x.s.Path.PipelineName(env.Name)
	again := fmt.Sprintf("to run it again, start the %s pipeline: aws codepipeline start-pipeline-execution --name %s", env.Name, pipeline)
	st := x.readEnv(ctx, env)
	if st.err != nil {
		fmt.Fprintf(x.out, "  Could not read %s's pipeline to say how its run of %s goes (%v); %s.\n", env.Name, gate.Short(commit), st.err, again)
		return
	}
	run := st.runOf(commit)
	switch {
	case run != nil && run.Status == "InProgress" && st.approvalFor(*run) != nil:
		fmt.Fprintf(x.out, "  Its run %s: it deploys once approved. It can be answered by %s; ship approve %s shows its plan and answers.\n",
			st.progress(*run), approvers(x.s.Path, env), env.Name)
	case run != nil && run.Status == "InProgress":
		fmt.Fprintf(x.out, "  Its run %s: follow it with ship status or ship history %s.\n", st.progress(*run), env.Name)
	case st.deployed != nil && st.deployed.Commit == commit:
		fmt.Fprintf(x.out, "  It is deployed there (execution %s, %s); %s.\n", st.deployed.ID, formatTime(st.deployed.At), again)
	case run != nil:
		fmt.Fprintf(x.out, "  Its newest run there, execution %s, is %s; %s.\n", run.ID, run.Status, again)
	case st.deployed != nil && st.deployed.Rollback():
		fmt.Fprintf(x.out, "  A rollback, execution %s (to %s), redeployed %s since; %s.\n",
			st.deployed.ID, orDash(st.deployed.RollbackTarget), gate.Short(st.deployed.Commit), again)
	default:
		fmt.Fprintf(x.out, "  No run of it was found in %s's recent history; %s.\n", env.Name, again)
	}
}

// passedUpstream asks gate.FindPassed, the guard's own function, with the organisation's
// own history bound (the guard's), whether commit passed up, and turns "no" and "cannot
// tell" into errors that say so.
func (x *session) passedUpstream(ctx context.Context, c Pipelines, pipeline, commit, upName, op string) (gate.Verdict, error) {
	v, err := gate.FindPassed(ctx, c, pipeline, commit, x.s.Path.Settings.HistoryPages)
	if errors.Is(err, gate.ErrHistoryBound) {
		return v, fmt.Errorf("%s refused: cannot tell whether %s passed %s: %w; the guard would refuse it too, so ship a newer commit",
			op, gate.Short(commit), upName, err)
	}
	if err != nil {
		return v, fmt.Errorf("check whether %s passed %s: %w", gate.Short(commit), upName, err)
	}
	if !v.Passed {
		return v, &RefusedError{Op: op, Reason: v.Reason(commit, upName)}
	}
	return v, nil
}

func withOrigin(err error, from, fetchFrom string) error {
	var m *MissingCommitError
	if errors.As(err, &m) {
		m.From, m.FetchFrom = from, fetchFrom
		return m
	}
	return err
}

func describeOld(old string) string {
	if old == "" {
		return "nothing (the branch is new)"
	}
	return gate.Short(old)
}

func isNonFastForward(reason string) bool {
	return strings.Contains(reason, "non-fast-forward") || strings.Contains(reason, "fetch first")
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// environmentLine describes env for headings and messages.
func environmentLine(p org.Path, env org.Environment, remote string) string {
	return fmt.Sprintf("%s  account %s, %s; pipeline %s; remote %s, branch %s",
		env.Name, env.Account, env.Region, p.PipelineName(env.Name), remote, env.Branch)
}
