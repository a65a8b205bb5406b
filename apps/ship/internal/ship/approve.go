package ship

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// maxApprovalSummary is the longest summary PutApprovalResult takes.
const maxApprovalSummary = 512

// pendingApproval is the sign-off a run waits for.
type pendingApproval struct {
	// Stage, Action and Token are what PutApprovalResult needs.
	Stage, Action, Token string
	// Execution is the run that waits; Since when it started waiting.
	Execution string
	Since     time.Time
}

// answer approves or rejects the run waiting for sign-off in envName. It shows what is
// approved first: the commit, what the guard verified and the plan (the Plan action's
// PLAN_SUMMARY and PLAN_URL of the same run); asks, unless --yes; then answers as the
// approver: the role given with --role env=..., or else env's approver role
// (org.Path.ApproverRoleName), assumed through STS with env's credentials. With --wait
// (approve only) it then follows the run to its end.
func (x *session) answer(ctx context.Context, envName string, approve bool, reason string) error {
	verb, did := "reject", "rejected"
	if approve {
		verb, did = "approve", "approved"
	}
	env, err := x.s.environment(envName)
	if err != nil {
		return err
	}
	if !env.NeedsApproval() {
		return usagef("environment %s has no approval stage (approval is off for %s in %s): its runs deploy without sign-off, so there is nothing to %s",
			env.Name, env.Name, x.s.OrgSource, verb)
	}
	reason = strings.TrimSpace(reason)
	if !approve && reason == "" {
		return usagef(`reject needs --reason "...": why, recorded with the rejection for whoever pushed (e.g. ship reject %s --reason "breaks checkout for EU cards")`, env.Name)
	}
	if n := utf8.RuneCountInString(reason); n > maxApprovalSummary {
		return usagef("--reason is %d characters long; CodePipeline keeps at most %d", n, maxApprovalSummary)
	}
	if !x.opt.yes && !x.opt.interactive {
		return usagef("ship %s %s asks before it answers, but stdin is not a terminal: pass --yes to %s without asking", verb, env.Name, verb)
	}

	c, err := x.pipelines(ctx, env)
	if err != nil {
		return err
	}
	pipeline := x.s.Path.PipelineName(env.Name)
	pa, err := findApproval(ctx, c, pipeline)
	if err != nil {
		return err
	}
	if pa == nil {
		return fmt.Errorf("no approval is pending in %s (pipeline %s): nothing to %s; ship status shows what runs there", env.Name, pipeline, verb)
	}
	commit := commitOfRun(ctx, c, pipeline, pa.Execution)
	x.describeApproval(ctx, env, c, pipeline, pa, commit)

	role, source := x.approverRole(env)
	fmt.Fprintf(x.out, "  ship answers as %s (%s), assumed with %s.\n", role, source, baseCredentials(env.Name, x.s.Access.Profiles[env.Name]))
	if !x.opt.yes {
		ok, err := x.confirm(fmt.Sprintf("%s execution %s (commit %s) in %s? [y/N] ", strings.ToUpper(verb[:1])+verb[1:], pa.Execution, shortOr(commit), env.Name))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("not %s: you did not confirm, so ship answered nothing", did)
		}
	}

	ac, who, err := x.approverClient(ctx, env, role, source)
	if err != nil {
		return err
	}
	summary := reason
	if summary == "" {
		summary = "approved with ship"
	}
	status := types.ApprovalStatusRejected
	if approve {
		status = types.ApprovalStatusApproved
	}
	_, err = ac.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{
		PipelineName: aws.String(pipeline), StageName: aws.String(pa.Stage), ActionName: aws.String(pa.Action),
		Token: aws.String(pa.Token), Result: &types.ApprovalResult{Status: status, Summary: aws.String(summary)},
	})
	if err != nil {
		return answerError(err, env, pipeline, pa, who)
	}
	fmt.Fprintf(x.out, "%s: %s execution %s (commit %s) as %s.\n", env.Name, did, pa.Execution, shortOr(commit), who)
	if !approve {
		fmt.Fprintf(x.out, "  The run fails without deploying; a run queued behind it, if any, moves up to the approval.\n")
		return nil
	}
	if x.opt.wait {
		return x.followExecution(ctx, env, pa.Execution, commit)
	}
	fmt.Fprintf(x.out, "  It deploys next: follow it with ship status or ship history %s.\n", env.Name)
	return nil
}

// findApproval is the approval waiting in the pipeline's state: action SignOff of stage
// Approval, InProgress with its token; failing that, any other action that waits with a
// token (only an approval carries one). nil if none waits.
func findApproval(ctx context.Context, c Pipelines, pipeline string) (*pendingApproval, error) {
	out, err := c.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String(pipeline)})
	if err != nil {
		return nil, fmt.Errorf("get state of pipeline %s: %w", pipeline, err)
	}
	var found *pendingApproval
	for _, st := range out.StageStates {
		for _, a := range st.ActionStates {
			x := a.LatestExecution
			if x == nil || x.Status != types.ActionExecutionStatusInProgress || aws.ToString(x.Token) == "" {
				continue
			}
			pa := &pendingApproval{Stage: aws.ToString(st.StageName), Action: aws.ToString(a.ActionName), Token: aws.ToString(x.Token)}
			if x.LastStatusChange != nil {
				pa.Since = x.LastStatusChange.UTC()
			}
			if st.LatestExecution != nil {
				pa.Execution = aws.ToString(st.LatestExecution.PipelineExecutionId)
			}
			if pa.Stage == stageApproval && pa.Action == actionApproval {
				return pa, nil
			}
			if found == nil {
				found = pa
			}
		}
	}
	return found, nil
}

// commitOfRun is the commit run id of the pipeline deploys, from the newest runs; "" if it
// is not among them or they cannot be read (the approval is shown regardless).
func commitOfRun(ctx context.Context, c Pipelines, pipeline, id string) string {
	commit := ""
	_ = eachExecution(ctx, c, pipeline, 50, 1, func(e Execution) bool {
		if e.ID == id {
			commit = e.Commit
			return false
		}
		return true
	})
	return commit
}

func shortOr(commit string) string {
	if commit == "" {
		return "unknown"
	}
	return gate.Short(commit)
}

// describeApproval says what is approved: the run and its commit, what the guard
// verified, and the plan, each from the action executions of that run. What cannot be
// read is said, with why; it does not stop the answer.
func (x *session) describeApproval(ctx context.Context, env org.Environment, c Pipelines, pipeline string, pa *pendingApproval, commit string) {
	waiting := ""
	if !pa.Since.IsZero() {
		waiting = fmt.Sprintf(" since %s (%s)", formatTime(pa.Since), age(x.now().Sub(pa.Since)))
	}
	fmt.Fprintf(x.out, "%s: execution %s (commit %s) waits for approval at action %s in stage %s%s.\n",
		env.Name, pa.Execution, shortOr(commit), pa.Action, pa.Stage, waiting)
	row := func(label, format string, a ...any) {
		fmt.Fprintf(x.out, "  %-7s %s\n", label, fmt.Sprintf(format, a...))
	}
	acts, err := listActions(ctx, c, pipeline, pa.Execution, func(_ context.Context, fn func() error) error { return fn() })
	if err != nil {
		if env.HasUpstream() {
			row("guard:", "unknown: %v", err)
		}
		row("plan:", "unavailable: %v", err)
		return
	}
	newest := func(stage, action string) *types.ActionExecutionDetail {
		var got *types.ActionExecutionDetail
		for i, a := range acts {
			if aws.ToString(a.StageName) == stage && aws.ToString(a.ActionName) == action &&
				(got == nil || aws.ToTime(a.StartTime).After(aws.ToTime(got.StartTime))) {
				got = &acts[i]
			}
		}
		return got
	}
	if env.HasUpstream() {
		switch g := newest(stageGuard, actionGuard); {
		case g == nil:
			row("guard:", "execution %s has no %s action in stage %s", pa.Execution, actionGuard, stageGuard)
		case g.Output != nil && g.Output.ExecutionResult != nil && aws.ToString(g.Output.ExecutionResult.ExternalExecutionSummary) != "":
			row("guard:", "%s", aws.ToString(g.Output.ExecutionResult.ExternalExecutionSummary))
		case g.Output != nil && g.Output.OutputVariables["Summary"] != "":
			row("guard:", "%s", g.Output.OutputVariables["Summary"])
		default:
			row("guard:", "%s, without a summary", g.Status)
		}
	}
	p := newest(stagePlan, actionPlan)
	var vars map[string]string
	url := ""
	if p != nil && p.Output != nil {
		vars = p.Output.OutputVariables
		if p.Output.ExecutionResult != nil {
			url = aws.ToString(p.Output.ExecutionResult.ExternalExecutionUrl)
		}
	}
	if u := vars[varPlanURL]; u != "" {
		url = u
	}
	switch {
	case p == nil:
		row("plan:", "unavailable: execution %s has no %s action in stage %s (a pipeline made before the plan step, or one without it)", pa.Execution, actionPlan, stagePlan)
	case p.Status != types.ActionExecutionStatusSucceeded:
		row("plan:", "unavailable: the %s action of execution %s is %s", actionPlan, pa.Execution, p.Status)
	case vars[varPlanSummary] == "":
		row("plan:", "unavailable: the %s action of execution %s exported no %s (its build wrote none)", actionPlan, pa.Execution, varPlanSummary)
	default:
		row("plan:", "%s", vars[varPlanSummary])
	}
	if url != "" {
		row("", "full plan: %s", url)
	}
}

// confirm asks question on stdout and reads the answer from stdin: y or yes agrees.
func (x *session) confirm(question string) (bool, error) {
	fmt.Fprint(x.out, question)
	in := x.opt.in
	if in == nil {
		in = os.Stdin
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read the answer: %w", err)
	}
	if errors.Is(err, io.EOF) {
		fmt.Fprintln(x.out)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// approverRole is the role ship answers approvals of env as, and where it comes from.
func (x *session) approverRole(env org.Environment) (role, source string) {
	if r := x.s.Access.Roles[env.Name]; r != "" {
		return r, "--role " + env.Name + "=..."
	}
	return org.RoleARN(env.Account, x.s.Path.ApproverRoleName(env.Name)), env.Name + "'s approver role"
}

// approverClient opens env's pipelines as role, assumed through STS with env's
// credentials (its --profile, or the default chain), checks with sts:GetCallerIdentity
// that the identity is in env's account, and returns it with that identity's ARN. It
// always uses the AWS SDK (App.Clients has no say): the answer is made as the approver.
func (x *session) approverClient(ctx context.Context, env org.Environment, role, source string) (Pipelines, string, error) {
	profile := x.s.Access.Profiles[env.Name]
	opts := []func(*config.LoadOptions) error{config.WithRegion(env.Region), config.WithLogger(logging.Nop{})}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, "", credentialsError(env, profile, "", err)
	}
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), role,
		func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = sessionName() }))
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		hint := fmt.Sprintf("it can be assumed by %s; use such credentials (--profile %s=<profile>), or pass --role %s=<a role that may answer>",
			approvers(x.s.Path, env), env.Name, env.Name)
		if source != env.Name+"'s approver role" {
			hint = "check the role and its trust policy"
		}
		return nil, "", fmt.Errorf("cannot assume %s %s with %s, so nothing was answered: %w\n  %s",
			source, role, baseCredentials(env.Name, profile), err, hint)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, "", identityError(env, profile, role, err)
	}
	if got := aws.ToString(id.Account); got != env.Account {
		return nil, "", &WrongAccountError{Env: env, Account: got, Source: credentialSource(env.Name, profile, role), Path: &x.s.Path}
	}
	return envPipelines{env: env, c: codepipeline.NewFromConfig(cfg)}, aws.ToString(id.Arn), nil
}

// answerError explains a refused PutApprovalResult.
func answerError(err error, env org.Environment, pipeline string, pa *pendingApproval, who string) error {
	var done *types.ApprovalAlreadyCompletedException
	var stale *types.InvalidApprovalTokenException
	var api smithy.APIError
	switch {
	case errors.As(err, &done) || errors.As(err, &stale):
		return fmt.Errorf("the approval execution %s waited for in %s was answered meanwhile, or the run moved on (%v): ship answered nothing; see ship status",
			pa.Execution, env.Name, err)
	case errors.As(err, &api) && (api.ErrorCode() == "AccessDeniedException" || api.ErrorCode() == "AccessDenied"):
		return &explained{err: err, msg: fmt.Sprintf("%s may not answer approvals of pipeline %s in %s (%s: %s): it needs codepipeline:PutApprovalResult on the pipeline's %s/%s action",
			who, pipeline, env.Name, api.ErrorCode(), api.ErrorMessage(), pa.Stage, pa.Action)}
	}
	return fmt.Errorf("answer the approval of execution %s in %s as %s: %w", pa.Execution, env.Name, who, err)
}

// PutApprovalResult answers an approval; a refusal is explained by answer, which knows
// who answered.
func (p envPipelines) PutApprovalResult(ctx context.Context, in *codepipeline.PutApprovalResultInput, optFns ...func(*codepipeline.Options)) (*codepipeline.PutApprovalResultOutput, error) {
	out, err := p.c.PutApprovalResult(ctx, in, optFns...)
	if err != nil {
		err = fmt.Errorf("environment %s (account %s, region %s): %w", p.env.Name, p.env.Account, p.env.Region, err)
	}
	return out, err
}

// followFlags are the flags of waiting and answering: --wait (promote, rollback,
// approve), --yes (approve, reject) and --reason (approve, reject).
type followFlags struct {
	wait, yes bool
	reason    string
}

// bindFollowFlags defines the flags hidden on the root, as --limit is: they parse
// wherever they are written, and onlyWhereDefined names the commands that take them.
func (c *cli) bindFollowFlags(pf *pflag.FlagSet) {
	pf.BoolVar(&c.follow.wait, "wait", false, "")
	pf.BoolVar(&c.follow.yes, "yes", false, "")
	pf.StringVar(&c.follow.reason, "reason", "", "")
	for _, f := range []string{"wait", "yes", "reason"} {
		must1(pf.MarkHidden(f))
	}
}

// waitFlag gives cmd its visible --wait.
func (c *cli) waitFlag(cmd *cobra.Command, what string) *cobra.Command {
	cmd.Flags().BoolVar(&c.follow.wait, "wait", false, what+", follow its run stage by stage until it ends: exit 0 if it succeeded, 1 if not, "+
		"130 on Ctrl-C (which stops following, never the run)")
	return cmd
}

// followOptions are the session's followOptions, from the flags and the App.
func (c *cli) followOptions() followOptions {
	term := c.app.Terminal
	if term == nil {
		term = terminalWidth
	}
	in := c.app.Stdin
	if in == nil {
		in = os.Stdin
	}
	o := followOptions{wait: c.follow.wait, yes: c.follow.yes, poll: c.app.PollInterval, in: in}
	o.tty, o.width = term(c.stdout)
	o.interactive, _ = term(in)
	return o
}

func (c *cli) approveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "approve <env>",
		Short: "show the plan of the run waiting for sign-off in <env>, and approve it",
		Long: `Approve answers the manual approval a run waits for in <env>. It first shows what is
approved: the run and its commit, what the guard verified (the commit passed upstream, the
image digest) and the plan (one line of what the deploy adds, changes and destroys, and
what IAM or network access it broadens, with the link to the full cdk diff); then it asks,
unless --yes. It answers as the approver: <env>'s approver role, assumed through STS with
<env>'s credentials (--profile), or the role given with --role <env>=<arn>; it says which
identity answered. On a terminal it asks before answering; elsewhere it needs --yes.

With --wait it then follows the run until it ends, as promote --wait does.`,
		Example: `  ship approve prd                       # shows the plan, asks, approves
  ship approve prd --reason "CAB-123" --wait
  ship approve prd --yes                 # in a script: no question`,
		Args:              positional,
		ValidArgsFunction: c.completeEnv(org.Environment.NeedsApproval),
		RunE: c.run(func(ctx context.Context, x *session, args []string) error {
			return x.answer(ctx, args[0], true, c.follow.reason)
		}),
	}
	cmd.Flags().StringVar(&c.follow.reason, "reason", "", "a note recorded with the approval (at most 512 characters)")
	cmd.Flags().BoolVar(&c.follow.yes, "yes", false, "answer without asking (needed when stdin is not a terminal)")
	return c.waitFlag(cmd, "after approving")
}

func (c *cli) rejectCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reject <env>",
		Short: `reject the run waiting for sign-off in <env>, with --reason "..."`,
		Long: `Reject answers the manual approval a run waits for in <env> with a rejection: the run
fails without deploying, and a run queued behind it moves up to the approval. The reason
(--reason, required) is recorded with the answer. Like approve, it shows the run, the
guard's check and the plan first, asks unless --yes, and answers as the approver.`,
		Example:           `  ship reject prd --reason "breaks checkout for EU cards"`,
		Args:              positional,
		ValidArgsFunction: c.completeEnv(org.Environment.NeedsApproval),
		RunE: c.run(func(ctx context.Context, x *session, args []string) error {
			return x.answer(ctx, args[0], false, c.follow.reason)
		}),
	}
	cmd.Flags().StringVar(&c.follow.reason, "reason", "", "why, recorded with the rejection (required, at most 512 characters)")
	cmd.Flags().BoolVar(&c.follow.yes, "yes", false, "answer without asking (needed when stdin is not a terminal)")
	return cmd
}
