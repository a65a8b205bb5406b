package ship

import (
	"context"
	"errors"
	"fmt"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// rollback points env's branch back at its previous successful commit (or at rev), with a
// lease on what the branch has now: if someone pushed in the meantime, git refuses rather
// than silently throwing their push away.
func (x *session) rollback(ctx context.Context, envName, rev string) error {
	env, err := x.s.environment(envName)
	if err != nil {
		return err
	}
	if err := x.git.Check(ctx); err != nil {
		return err
	}
	var target string
	if rev != "" {
		if target, err = x.git.ResolveCommit(ctx, rev); err != nil {
			return err
		}
	}
	remote, err := x.remote(ctx, env)
	if err != nil {
		return err
	}
	current, err := x.git.RemoteHead(ctx, remote, env.Branch)
	if err != nil {
		return err
	}
	if current == "" {
		return fmt.Errorf("branch %s does not exist on remote %s: %s has nothing to roll back", env.Branch, remote, env.Name)
	}

	pipeline := x.s.Path.PipelineName(env.Name)
	c, err := x.pipelines(ctx, env)
	if err != nil {
		return err
	}
	// What CodePipeline itself did first: an automatic rollback may already have restored
	// what the person is about to push. The history says so; the live state is not needed.
	st := &envStatus{env: env, remote: remote, head: current}
	x.readPipeline(ctx, st, false)
	if st.err != nil && st.latest == nil {
		return fmt.Errorf("read %s's pipeline %s: %w", env.Name, pipeline, st.err)
	}

	var previous *Execution
	if target == "" {
		previous, err = x.previousPassed(ctx, c, pipeline, current)
		if err != nil {
			return fmt.Errorf("find the previous successful commit of %s: %w", env.Name, err)
		}
		if previous == nil {
			return fmt.Errorf("nothing to roll back to: pipeline %s has no successful run of a commit other than %s (what branch %s of %s points at)",
				pipeline, gate.Short(current), env.Branch, remote)
		}
		if target, err = x.git.ResolveCommit(ctx, previous.Commit); err != nil {
			return withOrigin(err, "last succeeded in "+env.Name, remote)
		}
	}
	if target == current {
		fmt.Fprintf(x.out, "%s: branch %s of remote %s already points at %s; nothing pushed.\n",
			env.Name, env.Branch, remote, gate.Short(target))
		return nil
	}
	if done := x.rolledBackAlready(st, target, rev != ""); done {
		return nil
	}

	var passed string
	if env.HasUpstream() {
		// The commit once passed upstream, or it could not have succeeded here; ask again
		// anyway, exactly as the guard will, so ship never pushes what the guard would fail.
		up, err := x.upstream(env)
		if err != nil {
			return err
		}
		upClient, err := x.pipelines(ctx, up)
		if err != nil {
			return err
		}
		v, err := x.passedUpstream(ctx, upClient, x.s.Path.PipelineName(up.Name), target, up.Name, "rollback")
		if err != nil {
			return err
		}
		passed = "\n  " + v.Reason(target, up.Name) + "."
	}

	if err := x.canFollow(ctx, env); err != nil {
		return err
	}
	pushedAt := x.now()
	if err := x.git.Push(ctx, remote, target, env.Branch, current); err != nil {
		var pe *PushError
		if errors.As(err, &pe) && isStaleLease(pe.Reason) {
			return fmt.Errorf("%w\nbranch %s of remote %s no longer points at %s: someone pushed meanwhile; look with ship status, then decide again",
				err, env.Branch, remote, gate.Short(current))
		}
		return err
	}
	why := "the commit you named"
	if previous != nil {
		why = fmt.Sprintf("its previous successful commit (execution %s, %s)", previous.ID, formatTime(previous.At))
	}
	fmt.Fprintf(x.out, "%s: rolled back branch %s of remote %s to %s, %s, replacing %s.%s\n  The %s pipeline (%s) runs it next: %s.\n",
		env.Name, env.Branch, remote, gate.Short(target), why, gate.Short(current), passed, env.Name, pipeline, x.followHint(env))
	if env.NeedsApproval() {
		x.noteWaitingApproval(ctx, env, pipeline)
	}
	if x.opt.wait {
		return x.follow(ctx, env, target, pushedAt)
	}
	return nil
}

// noteWaitingApproval tells the person rolling back when a run is waiting for sign-off:
// runs go in push order, so the rollback waits until that approval is answered. The push has
// happened either way, so a failed look is said, not returned.
func (x *session) noteWaitingApproval(ctx context.Context, env org.Environment, pipeline string) {
	c, err := x.pipelines(ctx, env)
	var pending []Approval
	if err == nil {
		pending, err = pendingApprovals(ctx, c, pipeline)
	}
	switch {
	case err != nil:
		fmt.Fprintf(x.out, "  Could not check %s for a pending approval (%v): if one is waiting, the rollback runs after it is answered.\n", env.Name, err)
	case len(pending) > 0:
		a := pending[0]
		run := ""
		if a.Execution != "" {
			run = " for execution " + a.Execution
		}
		fmt.Fprintf(x.out, "  Note: an approval is pending in %s%s (action %s in stage %s, since %s). Runs go in push order, so this rollback\n"+
			"  runs after it is answered: reject it to let the rollback run now (its own run then waits for approval in turn).\n"+
			"  Approvals are answered by %s.\n",
			env.Name, run, a.Action, a.Stage, formatTime(a.Since), approvers(x.s.Path, env))
	}
}

// rolledBackAlready says, before ship rollback acts, what a rollback CodePipeline ran (or
// a person started with rollback-stage) already did, from env's newest runs:
//   - its newest run is a ROLLBACK that restored (or is restoring) target, which rollback
//     chose itself: it says so and that nothing is pushed, and returns true;
//   - otherwise, when what runs is a rollback's, it says what runs and why, and returns
//     false: the push goes ahead (a named commit, even the restored one, is pushed: that
//     is how the branch comes to name what runs).
//
// Either way it says that the branch still names the rolled-back commit, and what that
// means: the next push of anything replaces what runs.
func (x *session) rolledBackAlready(st *envStatus, target string, named bool) bool {
	env := st.env
	branchNote := func(runs string) string {
		return fmt.Sprintf("  Branch %s of remote %s still names %s, the commit that was rolled back, so the next push of anything replaces %s;\n"+
			"  to make the branch name what runs, ship rollback %s %s pushes it (its run redeploys it).\n",
			env.Branch, st.remote, gate.Short(st.head), gate.Short(runs), env.Name, gate.Short(runs))
	}
	if l := st.latest; l != nil && l.Rollback() && l.Commit == target && !named {
		switch l.Status {
		case "Succeeded":
			fmt.Fprintf(x.out, "%s: nothing pushed: %s already runs, restored by the %s.\n%s",
				env.Name, gate.Short(target), x.rollbackStory(st, l, st.rolledBack(l)), branchNote(target))
			return true
		case "InProgress":
			fmt.Fprintf(x.out, "%s: nothing pushed: the %s, is restoring %s now; follow it with ship status.\n%s",
				env.Name, x.rollbackStory(st, l, st.rolledBack(l)), gate.Short(target), branchNote(target))
			return true
		}
	}
	if d := x.drift(st); d != nil && d.Cause == DriftRollback {
		then := fmt.Sprintf("this push replaces the rolled-back %s on the branch with %s, whose run deploys it in place of %s",
			gate.Short(st.head), gate.Short(target), gate.Short(d.Deployed))
		if target == d.Deployed {
			then = fmt.Sprintf("this push makes branch %s name %s, what runs; its run redeploys it", env.Branch, gate.Short(target))
		}
		fmt.Fprintf(x.out, "%s: before this rollback, %s.\n  The branch still names %s, the commit that was rolled back: %s.\n",
			env.Name, d.Reason, gate.Short(st.head), then)
	}
	return false
}

func isStaleLease(reason string) bool {
	return containsAny(reason, "stale info")
}
