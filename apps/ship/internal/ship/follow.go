package ship

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// ExitInterrupted is ship's exit code when Ctrl-C stopped it while it followed a run
// (--wait): 128 + SIGINT, as shells report an interrupted command. The run itself goes
// on: ship never stops a pipeline execution.
const ExitInterrupted = 130

// Following a run, the defaults and bounds.
const (
	// DefaultPollInterval is how often --wait reads the pipeline.
	DefaultPollInterval = 5 * time.Second
	// maxBackoff bounds the wait between reads after failed ones.
	maxBackoff = time.Minute
	// maxFailures is how many reads in a row may fail transiently before ship gives up.
	maxFailures = 10
	// pushSkew is how much earlier than the push, by the local clock, a run may say it
	// started and still be the push's: AWS's clock and the local one differ a little.
	pushSkew = time.Minute
	// noRunAfter is how long ship waits for the pipeline to start a run of the pushed
	// commit before it says that none has started yet (and keeps waiting).
	noRunAfter = 3 * time.Minute
	// rollbackPolls is how many more reads ship makes, after a Deploy stage failed in a way
	// that rolls back, for the ROLLBACK execution CodePipeline starts to show up.
	rollbackPolls = 12
)

// The stages and actions of an environment pipeline ship reads by name, as envpipeline
// names them (not imported: envpipeline is CDK code, ship stays free of jsii).
const (
	stageGuard     = "Guard"
	actionGuard    = "CommitPassedUpstream"
	stagePlan      = "Plan"
	actionPlan     = "Plan"
	stageApproval  = "Approval"
	actionApproval = "SignOff"
	stageDeploy    = "Deploy"
	// The Plan action's output variables: one line of what the deploy changes, and the
	// page with the full `cdk diff`.
	varPlanSummary = "PLAN_SUMMARY"
	varPlanURL     = "PLAN_URL"
)

// followOptions are the command line's and the terminal's say in how a command waits,
// follows and asks. The zero value follows nothing and asks nothing.
type followOptions struct {
	// wait is --wait: after the push (or the answer), follow the run until it ends.
	wait bool
	// yes is --yes: answer an approval without asking.
	yes bool
	// poll is the time between two reads of the pipeline. Default: DefaultPollInterval.
	poll time.Duration
	// tty says stdout is a terminal, width columns wide (0: unknown): the progress line
	// is rewritten in place there, with ANSI, and nowhere else.
	tty   bool
	width int
	// in is stdin, and interactive says it is a terminal: only then does ship ask.
	in          io.Reader
	interactive bool
}

// StoppedFollowingError is Ctrl-C (the command's context cancelled) while ship followed
// a run. Run reports it and exits with ExitInterrupted.
type StoppedFollowingError struct {
	// Env is the environment whose run goes on.
	Env string
}

// Error implements error.
func (e *StoppedFollowingError) Error() string {
	return fmt.Sprintf("stopped following; the run goes on — ship status %s / ship history %s", e.Env, e.Env)
}

// RunFailedError is a followed run that ended otherwise than Succeeded: where it stopped
// and why, and what CodePipeline's automatic rollback did about it.
type RunFailedError struct {
	// Env, Execution and Commit say which run.
	Env, Execution, Commit string
	// Status is the run's final status: Failed, Stopped, Superseded, Cancelled.
	Status string
	// Why is where it stopped and why: the failing action and its error, a condition.
	Why string
	// Rollback is what the ROLLBACK execution CodePipeline started did; "" if none.
	Rollback string
}

// Error implements error.
func (e *RunFailedError) Error() string {
	what := map[string]string{"Failed": "failed", "Stopped": "was stopped", "Superseded": "was superseded by a newer run",
		"Cancelled": "was cancelled (the pipeline's definition changed while it ran)"}[e.Status]
	if what == "" {
		what = "ended " + e.Status
	}
	msg := fmt.Sprintf("%s: execution %s (commit %s) %s", e.Env, e.Execution, gate.Short(e.Commit), what)
	if e.Why != "" {
		msg += " " + e.Why
	}
	if e.Rollback != "" {
		msg += "\n  " + e.Rollback
	}
	return msg
}

// follow finds the run of commit that env's pipeline started after pushedAt (the newest
// STANDARD execution of it; any time, if pushedAt is zero) and follows it until it ends:
// nil if it succeeded, a *RunFailedError if not, a *StoppedFollowingError on Ctrl-C.
func (x *session) follow(ctx context.Context, env org.Environment, commit string, pushedAt time.Time) error {
	f, err := x.follower(ctx, env)
	if err != nil {
		return err
	}
	run, err := f.find(ctx, commit, pushedAt)
	if err != nil {
		return f.interrupted(ctx, "", err)
	}
	return f.followRun(ctx, run)
}

// followExecution follows the execution id of env's pipeline, which runs commit.
func (x *session) followExecution(ctx context.Context, env org.Environment, id, commit string) error {
	f, err := x.follower(ctx, env)
	if err != nil {
		return err
	}
	run := Execution{ID: id, Commit: commit}
	// Its start, for telling its rollback from older ones; the history has it.
	_ = f.retry(ctx, func() error {
		err := eachExecution(ctx, f.c, f.pipeline, 20, 1, func(e Execution) bool {
			if e.ID == id {
				run = e
				return false
			}
			return true
		})
		if errors.Is(err, gate.ErrHistoryBound) {
			return nil
		}
		return err
	})
	return f.followRun(ctx, run)
}

// canFollow opens env's account before a push that --wait will follow: missing or wrong
// credentials must stop the command before it pushes, not after.
func (x *session) canFollow(ctx context.Context, env org.Environment) error {
	if !x.opt.wait {
		return nil
	}
	if _, err := x.pipelines(ctx, env); err != nil {
		return fmt.Errorf("--wait follows the run in %s, which needs its pipeline: %w (nothing was pushed)", env.Name, err)
	}
	return nil
}

// followHint ends the line that says a push was made: how to follow the run.
func (x *session) followHint(env org.Environment) string {
	if x.opt.wait {
		return "following it"
	}
	return "follow it with ship status or ship history " + env.Name + " (or add --wait)"
}

// followIfRunning follows the newest run of commit if it is still running; otherwise it
// says there is nothing to follow. For promote --wait when the branch has the commit.
func (x *session) followIfRunning(ctx context.Context, env org.Environment, commit string) error {
	f, err := x.follower(ctx, env)
	if err != nil {
		return err
	}
	var run *Execution
	err = eachExecution(ctx, f.c, f.pipeline, 20, 1, func(e Execution) bool {
		if e.Commit == commit && !e.Rollback() {
			run = &e
			return false
		}
		return true
	})
	if err != nil && !errors.Is(err, gate.ErrHistoryBound) {
		return err
	}
	if run == nil || run.Status != string(types.PipelineExecutionStatusInProgress) {
		fmt.Fprintf(x.out, "  --wait: no run of %s is in progress in %s; nothing to follow.\n", gate.Short(commit), env.Name)
		return nil
	}
	return f.followRun(ctx, *run)
}

func (x *session) follower(ctx context.Context, env org.Environment) (*follower, error) {
	c, err := x.pipelines(ctx, env)
	if err != nil {
		return nil, err
	}
	poll := x.opt.poll
	if poll <= 0 {
		poll = DefaultPollInterval
	}
	return &follower{x: x, env: env, c: c, pipeline: x.s.Path.PipelineName(env.Name), poll: poll,
		line: &liveLine{w: x.out, tty: x.opt.tty, width: x.opt.width}}, nil
}

// follower follows runs of one environment's pipeline.
type follower struct {
	x        *session
	env      org.Environment
	c        Pipelines
	pipeline string
	poll     time.Duration
	line     *liveLine
	noted    bool // a failed read has been said

	// The run being tracked, and what was seen of it, per stage.
	id       string
	seen     map[string]*stageSeen
	last     string // the stage it was last seen in, and what it did there
	lastKind string
	// failed is the stage ship saw the run fail in, and failure what its state said why.
	failed, failure string
}

// stageSeen is what ship last said of the tracked run in one stage.
type stageSeen struct {
	label, detail string
	since         time.Time            // when the run was first seen in the stage; zero if seen only finished
	kindSince     map[string]time.Time // when each kind of wait was first seen
	noted         map[string]bool      // the notes said
}

// stageView is the tracked run in one stage, as one progress line says it.
type stageView struct {
	label  string // queued, running, waiting, baking, or the stage's final status
	detail string
	// live ends the line, but is no change by itself: a countdown, which a terminal's line
	// shows as it moves and other output only when the line is printed for a change.
	live string
	kind string // queued, window, alarm, approval, bake, action; "" once the stage ended
	note string // said once, on its own line, when kind first shows
}

// snapshot is one read of the tracked run: its execution and the pipeline's state.
type snapshot struct {
	exec   types.PipelineExecution
	stages []types.StageState
}

// followRun says which run it follows, tracks it to its end and says how it ended.
func (f *follower) followRun(ctx context.Context, run Execution) error {
	started := ""
	if !run.Started.IsZero() {
		started = ", started " + formatTime(run.Started)
	}
	fmt.Fprintf(f.x.out, "%s: following execution %s of %s in pipeline %s%s, until it ends (Ctrl-C stops following, not the run)\n",
		f.env.Name, run.ID, gate.Short(run.Commit), f.pipeline, started)
	snap, err := f.track(ctx, run.ID)
	if err != nil {
		return f.interrupted(ctx, run.ID, err)
	}
	return f.outcome(ctx, run, snap)
}

// find waits for the run of commit that started after pushedAt.
func (f *follower) find(ctx context.Context, commit string, pushedAt time.Time) (Execution, error) {
	var since time.Time
	if !pushedAt.IsZero() {
		since = pushedAt.Add(-pushSkew)
	}
	start, told, late := f.x.now(), false, false
	for {
		var found *Execution
		err := f.retry(ctx, func() error {
			found = nil
			err := eachExecution(ctx, f.c, f.pipeline, 20, 1, func(e Execution) bool {
				if e.Commit == commit && !e.Rollback() && !e.Started.Before(since) {
					found = &e
					return false
				}
				return true
			})
			if errors.Is(err, gate.ErrHistoryBound) {
				return nil
			}
			return err
		})
		if err != nil {
			return Execution{}, err
		}
		if found != nil {
			return *found, nil
		}
		if !told {
			f.line.note(fmt.Sprintf("%s: waiting for pipeline %s to start a run of %s (it does within a minute of a push)", f.env.Name, f.pipeline, gate.Short(commit)))
			told = true
		}
		if waited := f.x.now().Sub(start); !late && waited >= noRunAfter {
			f.line.note(fmt.Sprintf("%s: still no run of %s after %s; ship keeps looking (see ship history %s)", f.env.Name, gate.Short(commit), age(waited), f.env.Name))
			late = true
		}
		if err := sleep(ctx, f.poll); err != nil {
			return Execution{}, err
		}
	}
}

// track reads the run and the pipeline until the run ends, saying each change of each
// stage, and returns the last read.
func (f *follower) track(ctx context.Context, id string) (snapshot, error) {
	f.id, f.seen, f.last, f.lastKind, f.failed, f.failure = id, map[string]*stageSeen{}, "", "", "", ""
	for {
		snap, err := f.read(ctx)
		if err != nil {
			return snap, err
		}
		f.report(snap)
		if s := snap.exec.Status; s != types.PipelineExecutionStatusInProgress && s != types.PipelineExecutionStatusStopping {
			f.line.done()
			return snap, nil
		}
		if err := sleep(ctx, f.poll); err != nil {
			return snap, err
		}
	}
}

// read is one look at the run: the execution first, then the state, so that a state
// never shows the run further than its status says.
func (f *follower) read(ctx context.Context) (snapshot, error) {
	var snap snapshot
	err := f.retry(ctx, func() error {
		ge, err := f.c.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{
			PipelineName: aws.String(f.pipeline), PipelineExecutionId: aws.String(f.id)})
		if err != nil {
			return fmt.Errorf("get execution %s of pipeline %s: %w", f.id, f.pipeline, err)
		}
		st, err := f.c.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String(f.pipeline)})
		if err != nil {
			return fmt.Errorf("get state of pipeline %s: %w", f.pipeline, err)
		}
		if ge.PipelineExecution == nil {
			return fmt.Errorf("get execution %s of pipeline %s: the answer has no execution", f.id, f.pipeline)
		}
		snap = snapshot{exec: *ge.PipelineExecution, stages: st.StageStates}
		return nil
	})
	return snap, err
}

// retry runs fn until it succeeds, fails for good, or has failed transiently (throttled,
// AWS unavailable, no answer) maxFailures times in a row, waiting longer after each
// failure. The first transient failure is said once; later ones are not.
func (f *follower) retry(ctx context.Context, fn func() error) error {
	wait := f.poll
	for failures := 1; ; failures++ {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !transient(err) {
			return err
		}
		if failures >= maxFailures {
			return fmt.Errorf("%w (failed %d times in a row; the run goes on — ship status %s / ship history %s)", err, failures, f.env.Name, f.env.Name)
		}
		if !f.noted {
			f.line.note(fmt.Sprintf("  note: %v; retrying with backoff (said once; ship gives up after %d failures in a row)", err, maxFailures))
			f.noted = true
		}
		wait = min(2*wait, maxBackoff)
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// transient reports whether a failed read is worth repeating: AWS throttled it or had an
// internal error, or no answer came at all (the network). A refusal (access denied, no
// such pipeline, rejected credentials) is not.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		return true
	}
	switch api.ErrorCode() {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
		"ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalError",
		"InternalServerError", "InternalServiceError", "RequestTimeout", "RequestTimeoutException":
		return true
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() >= 500
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// interrupted turns an error that ended the following into what the command returns.
func (f *follower) interrupted(ctx context.Context, id string, err error) error {
	f.line.done()
	run := "the run"
	if id != "" {
		run = "execution " + id
	}
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return &StoppedFollowingError{Env: f.env.Name}
	case ctx.Err() != nil:
		// Run adds that the command ran out of --timeout.
		return fmt.Errorf("stopped following %s of %s; the run goes on — ship status %s / ship history %s", run, f.env.Name, f.env.Name, f.env.Name)
	}
	return fmt.Errorf("following %s of %s: %w", run, f.env.Name, err)
}

// report says what changed since the last read, stage by stage in pipeline order.
func (f *follower) report(snap snapshot) {
	for _, st := range snap.stages {
		name := aws.ToString(st.StageName)
		if le := st.LatestExecution; le != nil && aws.ToString(le.PipelineExecutionId) == f.id {
			f.show(name, f.view(name, st, le.Status))
			continue
		}
		if v, ok := f.queued(name, st, snap.stages); ok {
			f.show(name, v)
		}
	}
}

// queued is the tracked run waiting to enter stage, if it does.
func (f *follower) queued(name string, st types.StageState, all []types.StageState) (stageView, bool) {
	inbound := st.InboundExecutions
	if len(inbound) == 0 && st.InboundExecution != nil {
		inbound = []types.StageExecution{*st.InboundExecution}
	}
	for i, in := range inbound {
		if aws.ToString(in.PipelineExecutionId) != f.id {
			continue
		}
		detail := "to enter " + name
		if le := st.LatestExecution; le != nil && le.Status == types.StageExecutionStatusInProgress {
			holder := aws.ToString(le.PipelineExecutionId)
			doing := "which is running there"
			if approvalWaiting(st) {
				doing = "which waits for approval"
			}
			detail += fmt.Sprintf(", behind execution %s, %s", holder, doing)
		}
		if i > 0 {
			detail += fmt.Sprintf(" (and %d queued before it)", i)
		}
		return stageView{label: "queued", detail: detail, kind: "queued",
			note: fmt.Sprintf("  The pipeline runs in push order (QUEUED): execution %s waits until %s is free.", f.id, name)}, true
	}
	return stageView{}, false
}

// approvalWaiting reports whether the stage's approval action waits for an answer: only
// an approval carries a token while it is InProgress.
func approvalWaiting(st types.StageState) bool {
	for _, a := range st.ActionStates {
		if x := a.LatestExecution; x != nil && x.Status == types.ActionExecutionStatusInProgress && aws.ToString(x.Token) != "" {
			return true
		}
	}
	return false
}

// view is the tracked run in a stage whose latest execution it is.
func (f *follower) view(name string, st types.StageState, status types.StageExecutionStatus) stageView {
	env := f.env.Name
	if status != types.StageExecutionStatusInProgress {
		v := stageView{label: string(status)}
		switch status {
		case types.StageExecutionStatusFailed:
			v.detail = stageFailure(st)
		case types.StageExecutionStatusSucceeded:
			for _, a := range st.ActionStates {
				if aws.ToString(a.ActionName) == actionGuard && a.LatestExecution != nil {
					v.detail = aws.ToString(a.LatestExecution.Summary)
				}
			}
		}
		return v
	}
	now := f.x.now()
	if c := st.BeforeEntryConditionState; conditionRunning(c) {
		return f.entryView(name, c, now)
	}
	if c := st.OnSuccessConditionState; conditionRunning(c) {
		alarms, since := f.rulesInProgress(c)
		if alarms == "" {
			alarms = orDash(strings.Join(followedAlarms(f.x.s.Path, f.env), ", "))
		}
		bake := f.env.BakeTime()
		v := stageView{label: "baking", kind: "bake"}
		start := f.kindStart(name, "bake", since, now)
		if bake > 0 {
			v.detail = fmt.Sprintf("alarm %s watched until %s (bake %s); ALARM meanwhile rolls the deploy back", alarms, formatTime(start.Add(bake)), age(bake))
		} else {
			v.detail = fmt.Sprintf("alarm %s watched after the deploy; ALARM meanwhile rolls it back", alarms)
		}
		return v
	}
	var running []string
	for _, a := range st.ActionStates {
		x := a.LatestExecution
		if x == nil || x.Status != types.ActionExecutionStatusInProgress {
			continue
		}
		if aws.ToString(x.Token) != "" {
			var since time.Time
			if x.LastStatusChange != nil {
				since = x.LastStatusChange.UTC()
			}
			start := f.kindStart(name, "approval", since, now)
			return stageView{label: "waiting", kind: "approval",
				detail: fmt.Sprintf("for approval (action %s) since %s: ship approve %s", aws.ToString(a.ActionName), formatTime(start), env),
				note: fmt.Sprintf("  %s waits for sign-off: answer with ship approve %s (it shows the plan), or ship reject %s --reason \"...\".\n  It can be answered by %s.",
					f.id, env, env, approvers(f.x.s.Path, f.env))}
		}
		running = append(running, aws.ToString(a.ActionName))
	}
	v := stageView{label: "running", kind: "action"}
	if len(running) > 0 {
		v.detail = "action " + strings.Join(running, ", ")
	}
	return v
}

// entryView is the run held at a stage's entry by its conditions: the deployment window,
// or a watched alarm in ALARM.
func (f *follower) entryView(name string, c *types.StageConditionState, now time.Time) stageView {
	var window bool
	names, since := f.rulesInProgress(c)
	for _, cs := range c.ConditionStates {
		for _, r := range cs.RuleStates {
			if x := r.LatestExecution; x != nil && x.Status == types.RuleExecutionStatusInProgress &&
				strings.Contains(strings.ToLower(aws.ToString(r.RuleName)), "window") {
				window = true
			}
		}
	}
	w, hasWindow := f.env.DeployWindow()
	if !window && hasWindow && !w.Open(now) && names == "" {
		window = true // the rules say nothing; the organisation's window is closed
	}
	if window {
		v := stageView{label: "waiting", kind: "window"}
		if !hasWindow {
			v.detail = fmt.Sprintf("at %s's entry for the deployment window (the organisation file names none for %s)", name, f.env.Name)
			return v
		}
		opens, _ := w.Next(now)
		switch {
		case w.Open(now):
			v.detail = fmt.Sprintf("at %s's entry for the deployment window, open now by the organisation file; CodePipeline checks it again shortly", name)
		case opens.IsZero():
			v.detail = fmt.Sprintf("at %s's entry for the deployment window, whose cron matches no day in the next eight years", name)
		default:
			v.detail = fmt.Sprintf("at %s's entry for the deployment window: it opens %s", name, opens.Format("Mon 2 Jan 15:04 MST"))
			v.live = fmt.Sprintf(" (in %s)", age(opens.Sub(now)))
		}
		v.note = fmt.Sprintf("  %s deploys only inside its window: %s.", f.env.Name, w)
		return v
	}
	if names == "" {
		names = strings.Join(followedAlarms(f.x.s.Path, f.env), ", ")
	}
	v := stageView{label: "waiting", kind: "alarm"}
	start := f.kindStart(name, "alarm", since, now)
	if wait := f.env.EntryWait(); wait > 0 {
		v.detail = fmt.Sprintf("at %s's entry for alarm %s to leave ALARM; the run fails at %s if it has not", name, names, formatTime(start.Add(wait)))
	} else {
		v.detail = fmt.Sprintf("at %s's entry for alarm %s to leave ALARM", name, names)
	}
	v.note = fmt.Sprintf("  Nothing deploys into an incident: %s's entry waits while a watched alarm is in ALARM.", name)
	return v
}

// rulesInProgress names the rules of c still running, as the alarms they watch where the
// organisation file names them, and says since when the earliest one runs.
func (f *follower) rulesInProgress(c *types.StageConditionState) (string, time.Time) {
	watched := followedAlarms(f.x.s.Path, f.env)
	var names []string
	var since time.Time
	for _, cs := range c.ConditionStates {
		for _, r := range cs.RuleStates {
			x := r.LatestExecution
			rule := aws.ToString(r.RuleName)
			if x == nil || x.Status != types.RuleExecutionStatusInProgress || strings.Contains(strings.ToLower(rule), "window") {
				continue
			}
			if x.LastStatusChange != nil && (since.IsZero() || x.LastStatusChange.Before(since)) {
				since = x.LastStatusChange.UTC()
			}
			name := rule
			for _, a := range watched {
				if strings.Contains(rule, a) || strings.Contains(aws.ToString(x.Summary), a) {
					name = a
				}
			}
			names = append(names, name)
		}
	}
	return strings.Join(names, ", "), since
}

// kindStart is when the run's wait of this kind in stage began: CodePipeline's time if it
// gave one, else when ship first saw it.
func (f *follower) kindStart(stage, kind string, since, now time.Time) time.Time {
	s := f.seenOf(stage)
	if _, ok := s.kindSince[kind]; !ok {
		s.kindSince[kind] = now
		if !since.IsZero() && since.Before(now) {
			s.kindSince[kind] = since
		}
	}
	return s.kindSince[kind]
}

func (f *follower) seenOf(stage string) *stageSeen {
	s := f.seen[stage]
	if s == nil {
		s = &stageSeen{kindSince: map[string]time.Time{}, noted: map[string]bool{}}
		f.seen[stage] = s
	}
	return s
}

// followedAlarms are the alarms env's Deploy stage watches, as the organisation names them.
func followedAlarms(p org.Path, env org.Environment) []string {
	if env.Watch == nil {
		return nil
	}
	if len(env.Watch.Alarms) > 0 {
		return env.Watch.Alarms
	}
	return []string{p.HealthAlarmName(env.Name)}
}

func conditionRunning(c *types.StageConditionState) bool {
	return c != nil && c.LatestExecution != nil && c.LatestExecution.Status == types.ConditionExecutionStatusInProgress
}

// stageFailure says why a stage failed, from its state: a failed action's error, or a
// failed condition's summary.
func stageFailure(st types.StageState) string {
	for _, a := range st.ActionStates {
		if x := a.LatestExecution; x != nil && x.Status == types.ActionExecutionStatusFailed {
			msg := aws.ToString(x.Summary)
			if x.ErrorDetails != nil && aws.ToString(x.ErrorDetails.Message) != "" {
				msg = aws.ToString(x.ErrorDetails.Message)
			}
			return strings.TrimSpace("action " + aws.ToString(a.ActionName) + ": " + msg)
		}
	}
	for _, c := range []struct {
		what string
		c    *types.StageConditionState
	}{{"entry condition", st.BeforeEntryConditionState}, {"bake (success condition)", st.OnSuccessConditionState}} {
		if c.c == nil || c.c.LatestExecution == nil || c.c.LatestExecution.Status != types.ConditionExecutionStatusFailed {
			continue
		}
		if s := conditionFailure(c.c); s != "" {
			return c.what + ": " + s
		}
		return c.what + " failed"
	}
	return ""
}

// conditionFailure is what the failed rules of c say, or the condition's own summary.
func conditionFailure(c *types.StageConditionState) string {
	var said []string
	for _, cs := range c.ConditionStates {
		for _, r := range cs.RuleStates {
			if x := r.LatestExecution; x != nil && x.Status == types.RuleExecutionStatusFailed {
				s := aws.ToString(x.Summary)
				if s == "" {
					s = "rule " + aws.ToString(r.RuleName) + " failed"
				}
				said = append(said, s)
			}
		}
	}
	if len(said) == 0 && c.LatestExecution != nil {
		return aws.ToString(c.LatestExecution.Summary)
	}
	return strings.Join(said, "; ")
}

// show says the tracked run's view of a stage if it changed (on a terminal, also to move
// the elapsed time on), after the view's note the first time its kind shows.
func (f *follower) show(stage string, v stageView) {
	now := f.x.now()
	s := f.seenOf(stage)
	switch {
	case v.kind == "queued" && s.label == "":
		s.since = now // queued now
	case v.kind != "" && v.kind != "queued" && (s.label == "" || s.label == "queued"):
		s.since = now // entered now; a stage first seen ended has no elapsed time
	}
	changed := s.label != v.label || s.detail != v.detail
	if changed && v.note != "" && !s.noted[v.kind] {
		f.line.note(v.note)
		s.noted[v.kind] = true
	}
	s.label, s.detail = v.label, v.detail
	if v.label == string(types.StageExecutionStatusFailed) && v.detail != "" {
		f.failed, f.failure = stage, v.detail
	}
	if v.kind != "" {
		f.last, f.lastKind = stage, v.kind
	} else if f.last == "" || f.last == stage {
		f.last = stage
	}
	if !changed && (!f.line.tty || v.kind == "") {
		return
	}
	elapsed := ""
	if !s.since.IsZero() {
		elapsed = duration(now.Sub(s.since))
	}
	f.line.show(stage, strings.TrimRight(fmt.Sprintf("  %-9s %-10s %7s  %s%s", stage, v.label, elapsed, v.detail, v.live), " "))
}

// duration is an elapsed time on a progress line: 45s, 3m05s, 1h02m.
func duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d/time.Second)%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d/time.Minute)%60)
	}
}

// outcome says how the run ended: nil for Succeeded, otherwise a *RunFailedError with
// where it stopped and why, and the rollback CodePipeline started, followed to its end.
func (f *follower) outcome(ctx context.Context, run Execution, snap snapshot) error {
	status := snap.exec.Status
	if status == types.PipelineExecutionStatusSucceeded {
		fmt.Fprintf(f.x.out, "%s: execution %s succeeded: %s is deployed in %s.\n", f.env.Name, run.ID, gate.Short(run.Commit), f.env.Name)
		return nil
	}
	rf := &RunFailedError{Env: f.env.Name, Execution: run.ID, Commit: run.Commit, Status: string(status)}
	fl := f.why(ctx, snap)
	rf.Why = fl.String()
	if fl.stage != "" && string(status) != f.seenOf(fl.stage).label {
		// Ship never saw the stage end (it ended between two reads, or a rollback has it
		// since): its line, from what the run's action executions say.
		f.show(fl.stage, stageView{label: string(status), detail: fl.lineDetail()})
		f.line.done()
	}
	if status == types.PipelineExecutionStatusFailed {
		rb, err := f.rollback(ctx, run, fl)
		if err != nil {
			return f.interrupted(ctx, run.ID, err)
		}
		rf.Rollback = rb
	}
	return rf
}

// failure is where a run stopped and why.
type failure struct {
	stage, action string
	detail        string
	// bake says the stage's actions succeeded and a watched alarm failed it afterwards:
	// CodePipeline rolls the stage back.
	bake bool
}

// String is "at stage Deploy, action Deploy: <error>".
func (fl failure) String() string {
	if fl.stage == "" {
		return fl.detail
	}
	where := "at stage " + fl.stage
	if fl.action != "" {
		where += ", action " + fl.action
	}
	if fl.detail == "" {
		return where
	}
	return where + ": " + fl.detail
}

// lineDetail is the failure as the stage's progress line says it.
func (fl failure) lineDetail() string {
	if fl.action != "" {
		return "action " + fl.action + ": " + fl.detail
	}
	return fl.detail
}

// why says where the run stopped and why: the failed action and its error, from the
// run's action executions; else the condition that failed it, from the state, from what
// ship saw, or from which actions of the stage succeeded.
func (f *follower) why(ctx context.Context, snap snapshot) failure {
	acts, err := f.actions(ctx, f.id)
	var newest *types.ActionExecutionDetail
	for i, a := range acts {
		if newest == nil || aws.ToTime(a.StartTime).After(aws.ToTime(newest.StartTime)) {
			newest = &acts[i]
		}
		if a.Status != types.ActionExecutionStatusFailed {
			continue
		}
		fl := failure{stage: aws.ToString(a.StageName), action: aws.ToString(a.ActionName)}
		var link string
		if o := a.Output; o != nil && o.ExecutionResult != nil {
			r := o.ExecutionResult
			fl.detail = aws.ToString(r.ExternalExecutionSummary)
			if r.ErrorDetails != nil && aws.ToString(r.ErrorDetails.Message) != "" {
				fl.detail = aws.ToString(r.ErrorDetails.Message)
			}
			if u := aws.ToString(r.ExternalExecutionUrl); u != "" {
				link = " (" + u + ")"
			}
		}
		if fl.stage == stageApproval && fl.action == actionApproval {
			by := ""
			if u := aws.ToString(a.UpdatedBy); u != "" {
				by = " by " + u
			}
			return failure{stage: fl.stage, detail: fmt.Sprintf("rejected%s: %s", by, orDash(fl.detail))}
		}
		fl.detail = orDash(fl.detail) + link
		return fl
	}
	for _, st := range snap.stages {
		le := st.LatestExecution
		if le == nil || aws.ToString(le.PipelineExecutionId) != f.id || le.Status != types.StageExecutionStatusFailed {
			continue
		}
		if s := stageFailure(st); s != "" {
			c := st.OnSuccessConditionState
			bake := c != nil && c.LatestExecution != nil && c.LatestExecution.Status == types.ConditionExecutionStatusFailed
			return failure{stage: aws.ToString(st.StageName), detail: s, bake: bake}
		}
	}
	if f.failed != "" {
		// The state said why when ship saw the stage fail; a rollback has the stage since.
		return failure{stage: f.failed, detail: f.failure, bake: f.lastKind == "bake"}
	}
	// Nothing says why: the stage is the one the run last worked in, by its action
	// executions (or by what ship saw); if all its actions succeeded, a condition failed it.
	stage := f.last
	if newest != nil {
		stage = aws.ToString(newest.StageName)
	}
	deployed, n := true, 0
	for _, a := range acts {
		if aws.ToString(a.StageName) == stage {
			n++
			deployed = deployed && a.Status == types.ActionExecutionStatusSucceeded
		}
	}
	deployed = deployed && n > 0
	summary := ""
	if s := aws.ToString(snap.exec.StatusSummary); s != "" {
		summary = " (CodePipeline: " + s + ")"
	}
	alarms := strings.Join(followedAlarms(f.x.s.Path, f.env), ", ")
	switch {
	case f.lastKind == "bake" || (deployed && alarms != "" && stage == stageDeploy):
		return failure{stage: stage, bake: true,
			detail: fmt.Sprintf("its actions succeeded, then a watched alarm (%s) went into ALARM during the bake%s", alarms, summary)}
	case f.lastKind == "alarm":
		return failure{stage: stage, detail: fmt.Sprintf("a watched alarm (%s) stayed in ALARM at its entry longer than the entry wait (%s); nothing was deployed%s",
			alarms, age(f.env.EntryWait()), summary)}
	}
	detail := strings.TrimPrefix(summary, " ")
	if err != nil {
		detail = strings.TrimSpace(detail + fmt.Sprintf(" (its action executions could not be read: %v)", err))
	}
	return failure{stage: stage, detail: detail}
}

// actions lists the action executions of one run.
func (f *follower) actions(ctx context.Context, id string) ([]types.ActionExecutionDetail, error) {
	return listActions(ctx, f.c, f.pipeline, id, f.retry)
}

// listActions lists the action executions of run id in pipeline (a few pages at most:
// a run has one per action), each call through do (retry, or a plain call).
func listActions(ctx context.Context, c Pipelines, pipeline, id string, do func(context.Context, func() error) error) ([]types.ActionExecutionDetail, error) {
	var out []types.ActionExecutionDetail
	var token *string
	for page := 0; page < 5; page++ {
		var res *codepipeline.ListActionExecutionsOutput
		err := do(ctx, func() error {
			var err error
			res, err = c.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String(pipeline),
				Filter: &types.ActionExecutionFilter{PipelineExecutionId: aws.String(id)}, MaxResults: aws.Int32(100), NextToken: token})
			return err
		})
		if err != nil {
			return out, fmt.Errorf("list the action executions of execution %s: %w", id, err)
		}
		out = append(out, res.ActionExecutionDetails...)
		if token = res.NextToken; aws.ToString(token) == "" {
			break
		}
	}
	return out, nil
}

// rollback finds the ROLLBACK execution CodePipeline started after run failed, waiting a
// few reads for it where the failure rolls back (a failed Deploy with rollbackOnFailure,
// an alarm during the bake), follows it to its end and says what it restored.
func (f *follower) rollback(ctx context.Context, run Execution, fl failure) (string, error) {
	stage := fl.stage
	expect := stage == stageDeploy && (f.env.RollsBackOnFailure() || fl.bake)
	failedID, failedLast, failedKind, failedStage, failure := f.id, f.last, f.lastKind, f.failed, f.failure
	var rb *Execution
	for n := 0; ; n++ {
		err := f.retry(ctx, func() error {
			rb = nil
			err := eachExecution(ctx, f.c, f.pipeline, 20, 1, func(e Execution) bool {
				if e.Rollback() && !e.Started.Before(run.Started) {
					rb = &e
				}
				return true
			})
			if errors.Is(err, gate.ErrHistoryBound) {
				return nil
			}
			return err
		})
		if err != nil {
			return "", err
		}
		if rb != nil || !expect || n >= rollbackPolls {
			break
		}
		if err := sleep(ctx, f.poll); err != nil {
			return "", err
		}
	}
	if rb == nil {
		if expect {
			return fmt.Sprintf("no ROLLBACK execution showed up yet, though %s should roll back: see ship status %s", stage, f.env.Name), nil
		}
		return "", nil
	}
	target := orDash(rb.RollbackTarget)
	fmt.Fprintf(f.x.out, "%s: CodePipeline rolls back: execution %s (ROLLBACK to %s) redeploys %s\n", f.env.Name, rb.ID, target, gate.Short(rb.Commit))
	snap, err := f.track(ctx, rb.ID)
	f.id, f.last, f.lastKind, f.failed, f.failure = failedID, failedLast, failedKind, failedStage, failure
	if err != nil {
		return "", err
	}
	restored := fmt.Sprintf("CodePipeline rolled back: execution %s (ROLLBACK to %s) restored commit %s", rb.ID, target, gate.Short(rb.Commit))
	if s := snap.exec.Status; s != types.PipelineExecutionStatusSucceeded {
		restored = fmt.Sprintf("CodePipeline's rollback, execution %s (ROLLBACK to %s, commit %s), %s too: see ship status %s", rb.ID, target, gate.Short(rb.Commit), s, f.env.Name)
	}
	return restored, nil
}

// liveLine writes the progress lines: on a terminal the line of the stage in progress is
// rewritten in place (carriage return, erase line), elsewhere each change is a new line.
type liveLine struct {
	w     io.Writer
	tty   bool
	width int
	open  bool   // a line is on screen without its newline (terminal only)
	key   string // the stage the open line is about
}

// show writes text as the line of key.
func (l *liveLine) show(key, text string) {
	if !l.tty {
		fmt.Fprintln(l.w, text)
		return
	}
	if r := []rune(text); l.width > 1 && len(r) >= l.width {
		text = string(r[:l.width-2]) + "…" // a wrapped line could not be rewritten in place
	}
	switch {
	case l.open && l.key == key:
		fmt.Fprint(l.w, "\r\x1b[K"+text)
	case l.open:
		fmt.Fprint(l.w, "\n"+text)
	default:
		fmt.Fprint(l.w, text)
	}
	l.open, l.key = true, key
}

// note writes text on lines of its own, below the open line.
func (l *liveLine) note(text string) {
	l.done()
	fmt.Fprintln(l.w, text)
}

// done ends the open line.
func (l *liveLine) done() {
	if l.open {
		fmt.Fprintln(l.w)
		l.open = false
	}
}

// The calls --wait and approve make, with the environment added to their errors as
// envPipelines does for the others.

func (p envPipelines) GetPipelineExecution(ctx context.Context, in *codepipeline.GetPipelineExecutionInput, optFns ...func(*codepipeline.Options)) (*codepipeline.GetPipelineExecutionOutput, error) {
	out, err := p.c.GetPipelineExecution(ctx, in, optFns...)
	return out, p.explainOp("GetPipelineExecution", aws.ToString(in.PipelineName), err)
}

func (p envPipelines) ListActionExecutions(ctx context.Context, in *codepipeline.ListActionExecutionsInput, optFns ...func(*codepipeline.Options)) (*codepipeline.ListActionExecutionsOutput, error) {
	out, err := p.c.ListActionExecutions(ctx, in, optFns...)
	return out, p.explainOp("ListActionExecutions", aws.ToString(in.PipelineName), err)
}

// explainOp is explain, with access denied naming the permission op needs.
func (p envPipelines) explainOp(op, pipeline string, err error) error {
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "AccessDeniedException" || api.ErrorCode() == "AccessDenied") {
		return &explained{err: err, msg: fmt.Sprintf("access denied reading pipeline %s in environment %s (account %s, region %s) (%s: %s); the identity needs codepipeline:%s there",
			pipeline, p.env.Name, p.env.Account, p.env.Region, api.ErrorCode(), api.ErrorMessage(), op)}
	}
	return p.explain(pipeline, err)
}
