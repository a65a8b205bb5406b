package fakeaws

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/vulnscan"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// The stages and actions of an environment pipeline, as envpipeline names them. Not
// imported: envpipeline is CDK code, and this package stays free of jsii so that its users'
// tests stay fast.
const (
	ApprovalStage  = "Approval"
	ApprovalAction = "SignOff"
	DeployStage    = "Deploy"
	DeployAction   = "Deploy"
	VerifyAction   = "Verify"
	GuardStage     = "Guard"
	GuardAction    = "CommitPassedUpstream"
	PlanStage      = "Plan"
	PlanAction     = "Plan"
	BuildStage     = "Build"
	BuildAction    = "Build"
)

// The output variables of the Plan action, as the plan step exports them.
const (
	PlanSummaryVariable = "PLAN_SUMMARY"
	PlanURLVariable     = "PLAN_URL"
)

// Repo is one environment's git repository, for Watch: a push to Branch starts Pipeline.
type Repo struct {
	// Env is the environment's name; the runs Watch records are called <Env>-<n>.
	Env string
	// Pipeline is the environment's pipeline, e.g. payments-checkout-stg.
	Pipeline string
	// GitDir is the repository, typically bare, e.g. /tmp/sandbox/stg.git.
	GitDir string
	// Branch whose pushes start the pipeline. Default: main.
	Branch string
	// Approval says the pipeline waits for a person's sign-off before it deploys.
	// Default: - no approval; a push deploys at once.
	Approval bool

	// Full gives the pipeline the stages the path's pipelines have: Source; Build (without
	// Upstream) or Guard (with it); Plan and Approval (with Approval); Deploy, whose actions
	// are Deploy then Verify and whose conditions are Window and Alarms. Default: - the
	// short layout Source, Approval (with Approval), Deploy with one action.
	Full bool
	// Upstream is the upstream environment and UpstreamPipeline its pipeline, whose
	// history the Guard stage reads as the guard does (Full only). Default: - none.
	Upstream, UpstreamPipeline string
	// Alarms are the CloudWatch alarms Deploy watches (Full only): at its entry, and for
	// the bake after its actions succeeded. Default: - none, so no entry wait and no bake.
	Alarms []string
	// Window gives Deploy's entry a DeploymentWindow rule (Full only); a Fate says how long
	// it keeps a run waiting. Default: - no window.
	Window bool
	// RollbackOnFailure rolls a failed Deploy stage back to the previous successful
	// execution (Full only). Default: - a failed run just fails.
	RollbackOnFailure bool
	// Pace is how runs move from stage to stage. Default: - PaceInstant.
	Pace Pace
	// StepTime is how far one Step moves the fake's Clock, when it has one (UseClock).
	// Default: - one minute.
	StepTime time.Duration
}

// ReposFor describes a path's environments for Watch as the organisation defines them,
// with the path's full pipeline layout (Full), gitDir[env] each one's repository.
func ReposFor(p org.Path, gitDir map[string]string) []Repo {
	var out []Repo
	for _, e := range p.Environments {
		r := Repo{Env: e.Name, Pipeline: p.PipelineName(e.Name), GitDir: gitDir[e.Name], Branch: e.Branch,
			Approval: e.NeedsApproval(), Full: true, Window: e.Window != nil, RollbackOnFailure: e.RollsBackOnFailure()}
		if e.HasUpstream() {
			r.Upstream, r.UpstreamPipeline = e.Upstream, p.PipelineName(e.Upstream)
		}
		if e.Watch != nil {
			r.Alarms = e.Watch.Alarms
			if len(r.Alarms) == 0 {
				r.Alarms = []string{p.HealthAlarmName(e.Name)}
			}
		}
		out = append(out, r)
	}
	return out
}

type watchedRepo struct {
	Repo
	head string // the branch head last seen ("" while the branch does not exist)
}

// Watch turns on the live mode: before answering each request the fake reads the branch
// head of every repo (git rev-parse), and when one moved since it last looked, it records
// the run that push would have started, newest first in the repo's pipeline. The pipelines
// run in QUEUED mode, as the path's pipelines do (envpipeline's default): a stage holds one
// run at a time, and a run that reaches a stage another one holds waits to enter it (listed
// in the stage's inbound executions), InProgress (CodePipeline has no "Queued" status).
// Nothing is superseded.
//
// A run moves through its pipeline's stages (Repo.Full) at the repo's Pace: at once, or one
// Step at a time. Every action succeeds unless Script gave the run another Fate; the
// Approval stage's SignOff action waits with a token (a pending approval) until
// PutApprovalResult answers it: Approved goes on to Deploy, Rejected makes the run Fail. A
// Deploy stage that fails and rolls back (RollbackOnFailure, or an alarm during the bake)
// starts a ROLLBACK execution of the previous successful execution's commit, which redeploys
// that stage. GetPipelineState shows each stage's latest execution, its actions and
// conditions, and the queued runs; ListActionExecutions every action a run started.
// RollBack records a stage rollback by hand.
//
// A deleted branch records nothing. The heads as they are when Watch is called are taken
// as already run: seed their history with SetRuns before, and Watch shows the seeded
// newest run, if it succeeded, in every stage (replacing a SetState). A pipeline not set
// yet is created empty. Watch fails if a repository cannot be read.
func (s *Server) Watch(ctx context.Context, repos ...Repo) error {
	var ws []watchedRepo
	for _, r := range repos {
		if r.Branch == "" {
			r.Branch = org.DefaultBranch
		}
		head, err := branchHead(ctx, r)
		if err != nil {
			return err
		}
		ws = append(ws, watchedRepo{Repo: r, head: head})
	}
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range ws {
		if _, ok := s.runs[r.Pipeline]; !ok {
			s.runs[r.Pipeline] = nil
		}
		lp := &livePipeline{repo: r.Repo, stages: layout(r.Repo)}
		// The seeded history's newest run, if it succeeded, is what every stage last ran.
		if runs := s.runs[r.Pipeline]; len(runs) > 0 && runs[0].Status == "Succeeded" {
			for _, st := range lp.stages {
				st.Execution, st.ExecutionStatus = runs[0].ID, "Succeeded"
				for i := range st.Actions {
					st.Actions[i].Status, st.Actions[i].Changed = "Succeeded", runs[0].At
				}
			}
		}
		s.live[r.Pipeline] = lp
		s.publish(lp)
	}
	s.watched = append(s.watched, ws...)
	s.notify()
	return nil
}

// Look has the fake look at the watched repositories now, as it does before answering
// each request: a test that pushed can see the run recorded without calling the API.
func (s *Server) Look(ctx context.Context) error { return s.poll(ctx) }

// poll records a run for every watched branch that moved. Without Watch it does nothing.
func (s *Server) poll(ctx context.Context) error {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	for i := range s.watched {
		r := &s.watched[i]
		head, err := branchHead(ctx, r.Repo)
		if err != nil {
			return err
		}
		if head == r.head {
			continue
		}
		r.head = head
		if head != "" {
			s.record(r.Repo, head)
		}
	}
	return nil
}

// stageKind is what a stage of the live layout does.
type stageKind int

const (
	kindSource stageKind = iota
	kindBuild
	kindGuard
	kindPlan
	kindApproval
	kindDeploy
)

// livePipeline is what the live mode knows of one watched pipeline beyond its runs: its
// stages, which run each holds and which wait to enter it, and the runs still going.
type livePipeline struct {
	repo   Repo
	stages []*liveStage
	active []*liveRun // runs not finished, oldest first
	earned bool       // a GetPipelineState earned a step, not taken yet (PaceOnRead)
}

// liveStage is one stage: what GetPipelineState shows of it, and who is in it.
type liveStage struct {
	Stage
	kind   stageKind
	holder *liveRun
	queue  []*liveRun // waiting to enter, first in line first
}

// liveRun is where one unfinished run is.
type liveRun struct {
	id, commit string
	rollback   bool
	at         int  // the stage it is in (in) or waits to enter
	in         bool // holds stage at
	phase      phase
	action     int // the action running, in phaseAction
	waited     int // steps waited at Deploy's entry
	fate       Fate
}

type phase int

const (
	phaseEntry  phase = iota // Deploy's entry conditions
	phaseAction              // an action runs
	phaseBake                // Deploy's success conditions: the alarms are watched
)

// layout is the stages a repo's pipeline has.
func layout(r Repo) []*liveStage {
	st := func(name string, kind stageKind, actions ...string) *liveStage {
		s := &liveStage{Stage: Stage{Name: name}, kind: kind}
		for _, a := range actions {
			s.Actions = append(s.Actions, Action{Name: a})
		}
		return s
	}
	out := []*liveStage{st(org.SourceStageName, kindSource, org.SourceActionName)}
	if !r.Full {
		if r.Approval {
			out = append(out, st(ApprovalStage, kindApproval, ApprovalAction))
		}
		return append(out, st(DeployStage, kindDeploy, DeployAction))
	}
	if r.Upstream != "" {
		out = append(out, st(GuardStage, kindGuard, GuardAction))
	} else {
		out = append(out, st(BuildStage, kindBuild, BuildAction))
	}
	if r.Approval {
		out = append(out, st(PlanStage, kindPlan, PlanAction), st(ApprovalStage, kindApproval, ApprovalAction))
	}
	return append(out, st(DeployStage, kindDeploy, DeployAction, VerifyAction))
}

// publish makes the stages what GetPipelineState answers. s.mu must be held.
func (s *Server) publish(lp *livePipeline) {
	var stages []Stage
	for _, st := range lp.stages {
		shown := st.Stage
		shown.Actions = append([]Action(nil), st.Actions...)
		shown.Inbound = nil
		for _, r := range st.queue {
			shown.Inbound = append(shown.Inbound, r.id)
		}
		stages = append(stages, shown)
	}
	s.states[lp.repo.Pipeline] = stages
}

// record adds the run a push of commit to r's branch starts: its Source stage done, on its
// way to the next. s.mu must not be held.
func (s *Server) record(r Repo, commit string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lp := s.live[r.Pipeline]
	now := s.now()
	run := Run{ID: s.nextID(r.Pipeline, r.Env), Commit: commit, Status: "InProgress", At: now, Started: now}
	s.runs[r.Pipeline] = append([]Run{run}, s.runs[r.Pipeline]...)
	src := lp.stages[0]
	src.Execution, src.ExecutionStatus, src.Type = run.ID, "Succeeded", "STANDARD"
	src.Actions[0] = Action{Name: org.SourceActionName, Status: "Succeeded", Changed: now, Summary: "commit " + commit}
	s.addActionRun(r.Pipeline, ActionRun{Execution: run.ID, Stage: src.Name, Action: org.SourceActionName, Status: "Succeeded",
		Started: now, Updated: now, Summary: "commit " + commit})
	lr := &liveRun{id: run.ID, commit: commit, fate: s.takeFate(r.Pipeline, commit)}
	lp.active = append(lp.active, lr)
	s.arrive(lp, lr, 1)
	s.publish(lp)
	if r.Pace == PaceInstant {
		s.settle(lp)
	}
	s.notify()
}

// Step moves each unfinished run of the watched pipeline one step on, oldest first: into
// the next stage (or into its queue), from one action to the next, through a wait, out of
// the bake. A run waiting for an approval, or to enter a stage another run holds, stays. It
// reports whether anything moved. With UseClock, the clock first moves on by StepTime
// (if the pipeline has a run going: a run that waits passes time, no run none).
func (s *Server) Step(pipeline string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	lp := s.live[pipeline]
	if lp == nil {
		return false
	}
	return s.step(lp, true)
}

// step is Step; tick says whether the clock moves. s.mu must be held.
func (s *Server) step(lp *livePipeline, tick bool) bool {
	if c := s.steps.clock; tick && c != nil && len(lp.active) > 0 {
		d := lp.repo.StepTime
		if d == 0 {
			d = time.Minute
		}
		c.Advance(d)
	}
	now := s.now()
	moved := false
	// Runs a step starts (a rollback) move from the next step on.
	for _, r := range append([]*liveRun(nil), lp.active...) {
		if s.move(lp, r, now) {
			moved = true
			s.setRun(lp.repo.Pipeline, r.id, "", now)
		}
	}
	s.publish(lp)
	s.notify()
	return moved
}

// takeEarnedStep takes the step the last GetPipelineState earned (PaceOnRead), if it was not
// taken yet: at the caller's next look, rather than right after the answer, so that a
// poller has dealt with that answer (and read a shared clock) before anything moves, and
// sees a run's status and its stages from the same step. s.mu must be held.
func (s *Server) takeEarnedStep(lp *livePipeline) {
	if lp.earned {
		lp.earned = false
		s.step(lp, true)
	}
}

// settle moves the pipeline's runs until none can move. s.mu must be held.
func (s *Server) settle(lp *livePipeline) {
	for i := 0; i < 1000 && s.step(lp, false); i++ {
	}
}

// arrive puts r before stage i: in its queue if another run holds it or waits for it.
func (s *Server) arrive(lp *livePipeline, r *liveRun, i int) {
	r.at, r.in = i, false
	if st := lp.stages[i]; st.holder != nil || len(st.queue) > 0 {
		st.queue = append(st.queue, r)
	}
}

// move moves r one step, and reports whether it did. s.mu must be held.
func (s *Server) move(lp *livePipeline, r *liveRun, now time.Time) bool {
	st := lp.stages[r.at]
	if !r.in {
		if st.holder != nil || (len(st.queue) > 0 && st.queue[0] != r) {
			return false
		}
		if len(st.queue) > 0 {
			st.queue = st.queue[1:]
		}
		st.holder, r.in = r, true
		typ := "STANDARD"
		if r.rollback {
			typ = "ROLLBACK"
		}
		st.Execution, st.ExecutionStatus, st.Type = r.id, "InProgress", typ
		st.Entry, st.Success, st.Failure = nil, nil, nil
		if st.kind == kindDeploy && !r.rollback && (lp.repo.Window || len(lp.repo.Alarms) > 0) {
			r.phase, r.waited = phaseEntry, 0
			s.entry(lp, r, now)
			return true
		}
		s.startAction(lp, r, 0, now)
		return true
	}
	switch r.phase {
	case phaseEntry:
		s.entry(lp, r, now)
		return true
	case phaseBake:
		s.bakeEnds(lp, r, now)
		return true
	}
	if st.kind == kindApproval {
		return false // until PutApprovalResult
	}
	name := st.Actions[r.action].Name
	out := ActionRun{URL: fmt.Sprintf("https://console.aws.amazon.com/codesuite/codebuild/projects/%s-%s/build/%s",
		lp.repo.Pipeline, strings.ToLower(st.Name), r.id)}
	if r.fate.Fail == st.Name+"/"+name {
		msg := r.fate.Error
		if msg == "" {
			msg = "the " + name + " action failed"
		}
		s.failAction(lp, r, msg, out, now)
		return true
	}
	switch st.kind {
	case kindGuard:
		summary, ok := s.guardCheck(lp, r)
		if !ok {
			s.failAction(lp, r, summary, ActionRun{}, now)
			return true
		}
		// The sandbox's image scanned clean but for two MEDIUM findings and one LOW, as the
		// guard reports a completed scan.
		counts := vulnscan.Counts{vulnscan.Medium: 2, vulnscan.Low: 1}
		summary = strings.TrimSuffix(summary, ".") + "; scan COMPLETE: " + counts.Summary() + "."
		out = ActionRun{Summary: summary, Variables: map[string]string{"Summary": summary, "Commit": r.commit,
			vulnscan.OutputVulnerabilities: counts.String(), vulnscan.OutputScanStatus: "COMPLETE"}}
	case kindPlan:
		out.Summary = "Build succeeded"
		if !r.fate.NoPlan {
			plan := r.fate.Plan
			if plan == "" {
				plan = fmt.Sprintf("commit %s: 1 to add, 2 to change, 0 to destroy; no IAM or network broadening", short(r.commit))
			}
			out.Variables = map[string]string{PlanSummaryVariable: plan, PlanURLVariable: out.URL}
		}
	}
	st.Actions[r.action] = Action{Name: name, Status: "Succeeded", Changed: now, Summary: out.Summary, URL: out.URL}
	s.updateActionRun(lp.repo.Pipeline, r.id, st.Name, name, func(a *ActionRun) {
		a.Status, a.Updated, a.Summary, a.URL, a.Variables = "Succeeded", now, out.Summary, out.URL, out.Variables
	})
	if r.action+1 < len(st.Actions) {
		s.startAction(lp, r, r.action+1, now)
		return true
	}
	if st.kind == kindDeploy && !r.rollback && len(lp.repo.Alarms) > 0 {
		r.phase = phaseBake
		st.Success = &Condition{Status: "InProgress", Rules: s.alarmRules(lp, "InProgress", "", now)}
		return true
	}
	s.stageSucceeded(lp, r, now)
	return true
}

// startAction starts r's k-th action in its stage.
func (s *Server) startAction(lp *livePipeline, r *liveRun, k int, now time.Time) {
	st := lp.stages[r.at]
	r.phase, r.action = phaseAction, k
	a := Action{Name: st.Actions[k].Name, Status: "InProgress", Changed: now}
	if st.kind == kindApproval {
		a.Token = ApprovalToken(r.id)
	}
	st.Actions[k] = a
	s.addActionRun(lp.repo.Pipeline, ActionRun{Execution: r.id, Stage: st.Name, Action: a.Name, Status: "InProgress", Started: now, Updated: now})
}

// entry evaluates Deploy's entry conditions for r, one step of its wait: first the window
// (Fate.WindowWait steps), then the first alarm (Fate.EntryAlarm steps); then r enters, or
// with EntryAlarmFails, fails there.
func (s *Server) entry(lp *livePipeline, r *liveRun, now time.Time) {
	st := lp.stages[r.at]
	f := r.fate
	status := "Succeeded"
	var rules []Rule
	if lp.repo.Window {
		rule := Rule{Name: WindowRule, Status: "Succeeded", Summary: "the deployment window is open", Changed: now}
		if r.waited < f.WindowWait {
			rule.Status, rule.Summary, status = "InProgress", "outside the deployment window: waiting for it to open", "InProgress"
		}
		rules = append(rules, rule)
	}
	alarmWait := r.waited - f.WindowWait // steps the alarm has been waited for
	alarmState := "OK"
	for i, a := range lp.repo.Alarms {
		rule := Rule{Name: EntryAlarmRulePrefix + a, Status: "Succeeded", Summary: "alarm " + a + " is OK", Changed: now}
		switch {
		case status == "InProgress":
			rule = Rule{Name: EntryAlarmRulePrefix + a} // not evaluated while the window is closed
		case i == 0 && f.EntryAlarm > 0 && alarmWait < f.EntryAlarm:
			rule.Status, rule.Summary, status = "InProgress", "alarm "+a+" is in ALARM: waiting for it to return to OK", "InProgress"
			alarmState = "ALARM"
		case i == 0 && f.EntryAlarm > 0 && f.EntryAlarmFails:
			rule.Status, rule.Summary, status = "Failed", "alarm "+a+" stayed in ALARM for the whole wait", "Failed"
			alarmState = "ALARM"
		}
		rules = append(rules, rule)
	}
	st.Entry = &Condition{Status: status, Rules: rules}
	if f.EntryAlarm > 0 && alarmWait >= 0 {
		s.alarmGoes(lp.repo.Alarms[0], alarmState, "at Deploy's entry for execution "+r.id, now)
	}
	switch status {
	case "InProgress":
		r.waited++
	case "Failed":
		st.Entry.Summary = "the stage's entry condition failed: the run fails without deploying"
		s.stageFailed(lp, r, false, now)
	default:
		s.startAction(lp, r, 0, now)
	}
}

// bakeEnds ends r's bake: the alarms stayed OK and the stage succeeds, or (Fate.BakeAlarm)
// the first one went into ALARM and the stage fails and rolls back.
func (s *Server) bakeEnds(lp *livePipeline, r *liveRun, now time.Time) {
	st := lp.stages[r.at]
	if !r.fate.BakeAlarm {
		st.Success = &Condition{Status: "Succeeded", Rules: s.alarmRules(lp, "Succeeded", "", now)}
		s.stageSucceeded(lp, r, now)
		return
	}
	st.Success = &Condition{Status: "Failed", Summary: "alarm " + lp.repo.Alarms[0] + " went into ALARM during the bake: the stage is rolled back",
		Rules: s.alarmRules(lp, "Succeeded", "Failed", now)}
	s.alarmGoes(lp.repo.Alarms[0], "ALARM", "during the bake of execution "+r.id, now)
	s.stageFailed(lp, r, true, now)
}

// alarmGoes puts the CloudWatch alarm (SetAlarms) into state, if it exists and is not in
// it already: what a scripted alarm does shows in DescribeAlarms too. s.mu must be held.
func (s *Server) alarmGoes(name, state, why string, now time.Time) {
	a, ok := s.alarms[name]
	if !ok || a.State == state {
		return
	}
	a.State, a.Since, a.Reason = state, now, "scripted by the fake "+why
	s.alarms[name] = a
}

// alarmRules are the alarm rules with status, the first with first if not "".
func (s *Server) alarmRules(lp *livePipeline, status, first string, now time.Time) []Rule {
	var out []Rule
	for i, a := range lp.repo.Alarms {
		st, sum := status, "watching alarm "+a
		switch {
		case i == 0 && first == "Failed":
			st, sum = first, "alarm "+a+" is in ALARM"
		case st == "Succeeded":
			sum = "alarm " + a + " stayed OK"
		}
		out = append(out, Rule{Name: BakeAlarmRulePrefix + a, Status: st, Summary: sum, Changed: now})
	}
	return out
}

// failAction fails r's running action with msg, and with it the stage and the run; a
// failed Deploy rolls back if the pipeline says so.
func (s *Server) failAction(lp *livePipeline, r *liveRun, msg string, out ActionRun, now time.Time) {
	st := lp.stages[r.at]
	name := st.Actions[r.action].Name
	st.Actions[r.action] = Action{Name: name, Status: "Failed", Changed: now, Error: msg, URL: out.URL}
	s.updateActionRun(lp.repo.Pipeline, r.id, st.Name, name, func(a *ActionRun) {
		a.Status, a.Updated, a.Error, a.URL = "Failed", now, msg, out.URL
	})
	rollback := st.kind == kindDeploy && lp.repo.RollbackOnFailure && !r.rollback
	if rollback {
		st.Failure = &Condition{Status: "InProgress", Summary: "the stage failed: rolling back"}
	}
	s.stageFailed(lp, r, rollback, now)
}

// stageSucceeded ends r's stage; r goes on to the next one, or succeeds after the last (a
// rollback after the stage it redeploys).
func (s *Server) stageSucceeded(lp *livePipeline, r *liveRun, now time.Time) {
	st := lp.stages[r.at]
	st.ExecutionStatus, st.holder = "Succeeded", nil
	if r.rollback || r.at+1 == len(lp.stages) {
		s.finish(lp, r, "Succeeded", now)
		return
	}
	s.arrive(lp, r, r.at+1)
}

// stageFailed ends r's stage and r, Failed; with rollback, a ROLLBACK execution of the
// previous successful execution waits first in line to redeploy the stage.
func (s *Server) stageFailed(lp *livePipeline, r *liveRun, rollback bool, now time.Time) {
	st := lp.stages[r.at]
	st.ExecutionStatus, st.holder = "Failed", nil
	s.finish(lp, r, "Failed", now)
	if !rollback {
		return
	}
	var target *Run
	for i, x := range s.runs[lp.repo.Pipeline] {
		if x.Status == "Succeeded" && x.Type != "ROLLBACK" && x.ID != r.id {
			target = &s.runs[lp.repo.Pipeline][i]
			break
		}
	}
	if target == nil {
		st.Failure = &Condition{Status: "Failed", Summary: "no earlier successful execution to roll back to"}
		return
	}
	run := Run{ID: s.nextID(lp.repo.Pipeline, lp.repo.Env), Commit: target.Commit, Status: "InProgress", At: now, Started: now,
		Type: "ROLLBACK", RollbackTarget: target.ID, SourceAction: target.SourceAction}
	s.runs[lp.repo.Pipeline] = append([]Run{run}, s.runs[lp.repo.Pipeline]...)
	rb := &liveRun{id: run.ID, commit: run.Commit, rollback: true, at: r.at}
	st.queue = append([]*liveRun{rb}, st.queue...)
	lp.active = append(lp.active, rb)
}

// finish ends r with status.
func (s *Server) finish(lp *livePipeline, r *liveRun, status string, now time.Time) {
	s.setRun(lp.repo.Pipeline, r.id, status, now)
	for i, a := range lp.active {
		if a == r {
			lp.active = append(lp.active[:i:i], lp.active[i+1:]...)
			break
		}
	}
}

// guardCheck is the guard's rule, read from the upstream pipeline's runs: newest first, the
// first STANDARD run of the commit that succeeded passes it, one that failed or stopped
// withdraws it. It returns the guard's summary, or why the commit fails.
func (s *Server) guardCheck(lp *livePipeline, r *liveRun) (string, bool) {
	up := lp.repo.UpstreamPipeline
	for _, x := range s.runs[up] {
		if x.Commit != r.commit || x.Type == "ROLLBACK" || x.RollbackTarget != "" {
			continue
		}
		switch x.Status {
		case "Succeeded":
			digest := fmt.Sprintf("%x", sha256.Sum256([]byte(r.commit)))
			return fmt.Sprintf("Verified commit %s: it passed %s in execution %s at %s; image sha256:%s… exists.",
				short(r.commit), lp.repo.Upstream, x.ID, x.At.UTC().Format(time.RFC3339), digest[:12]), true
		case "Failed", "Stopped":
			return fmt.Sprintf("commit %s has not passed %s: its newest run there, execution %s, %s", short(r.commit), lp.repo.Upstream, x.ID, x.Status), false
		}
	}
	return fmt.Sprintf("commit %s has not passed %s: no successful run of it there", short(r.commit), lp.repo.Upstream), false
}

func short(commit string) string {
	if len(commit) > 7 {
		return commit[:7]
	}
	return commit
}

// ApprovalToken is the token the live mode gives the approval a run waits at.
func ApprovalToken(execution string) string { return "approval-" + execution }

// setRun sets the status (unless "") and lastUpdateTime of one run. s.mu must be held.
func (s *Server) setRun(pipeline, id, status string, at time.Time) *Run {
	for i := range s.runs[pipeline] {
		if r := &s.runs[pipeline][i]; r.ID == id {
			if status != "" {
				r.Status = status
			}
			r.At = at
			return r
		}
	}
	return nil
}

// answer is PutApprovalResult: it checks the request as CodePipeline does and, for a
// watched pipeline, moves the waiting run on (Approved) or fails it (Rejected). For a
// pipeline given by SetState it only records the answer on the action. by is the
// answering identity's ARN. s.mu must be held.
func (s *Server) answer(pipeline, stageName, actionName, token, status, summary, by string) *Fault {
	bad := func(code, msg string) *Fault { return &Fault{Status: 400, Code: code, Message: msg} }
	if status != "Approved" && status != "Rejected" {
		return bad("ValidationException", "1 validation error detected: Value '"+status+
			"' at 'result.status' failed to satisfy constraint: Member must satisfy enum value set: [Approved, Rejected]")
	}
	stages := s.states[pipeline]
	si := -1
	for i := range stages {
		if stages[i].Name == stageName {
			si = i
		}
	}
	if si < 0 {
		return bad("StageNotFoundException", "Stage "+stageName+" not found in pipeline "+pipeline)
	}
	ai := -1
	for i, a := range stages[si].Actions {
		if a.Name == actionName {
			ai = i
		}
	}
	if ai < 0 {
		return bad("ActionNotFoundException", "Action "+actionName+" not found in stage "+stageName+" of pipeline "+pipeline)
	}
	a := stages[si].Actions[ai]
	switch {
	case a.Status != "InProgress" || a.Token == "":
		return bad("ApprovalAlreadyCompletedException", "The approval action "+actionName+" in stage "+stageName+" has no pending approval request")
	case token != a.Token:
		return bad("InvalidApprovalTokenException", "The token "+token+" is not the token of the pending approval request")
	}
	now := s.now()
	outcome := map[string]string{"Approved": "Succeeded", "Rejected": "Failed"}[status]
	lp := s.live[pipeline]
	var st *liveStage
	if lp != nil && si < len(lp.stages) && lp.stages[si].holder != nil {
		st = lp.stages[si]
	}
	if st == nil {
		// A state set by SetState: record the answer, nothing runs.
		stages = append([]Stage(nil), stages...)
		stages[si].Actions = append([]Action(nil), stages[si].Actions...)
		stages[si].Actions[ai] = Action{Name: a.Name, Status: outcome, Changed: now, Summary: summary}
		s.states[pipeline] = stages
		return nil
	}
	r := st.holder
	st.Actions[ai] = Action{Name: a.Name, Status: outcome, Changed: now, Summary: summary}
	s.updateActionRun(pipeline, r.id, stageName, actionName, func(x *ActionRun) {
		x.Status, x.Updated, x.Summary, x.UpdatedBy = outcome, now, summary, by
	})
	if outcome == "Succeeded" {
		s.stageSucceeded(lp, r, now)
	} else {
		s.stageFailed(lp, r, false, now)
	}
	s.publish(lp)
	if lp.repo.Pace == PaceInstant {
		s.settle(lp)
	}
	s.notify()
	return nil
}

// stop is StopPipelineExecution: the run ends Stopped and leaves the stage it holds or
// waits for. s.mu must be held.
func (s *Server) stop(pipeline, id string) *Fault {
	var r *Run
	for i := range s.runs[pipeline] {
		if s.runs[pipeline][i].ID == id {
			r = &s.runs[pipeline][i]
		}
	}
	if r == nil {
		return &Fault{Status: 400, Code: "PipelineExecutionNotFoundException", Message: "Execution " + id + " not found in pipeline " + pipeline}
	}
	if r.Status != "InProgress" {
		return &Fault{Status: 400, Code: "PipelineExecutionNotStoppableException", Message: "Execution " + id + " is " + r.Status + " and cannot be stopped"}
	}
	now := s.now()
	if lp := s.live[pipeline]; lp != nil {
		for _, lr := range lp.active {
			if lr.id != id {
				continue
			}
			st := lp.stages[lr.at]
			if st.holder == lr {
				st.holder, st.ExecutionStatus = nil, "Stopped"
			}
			for i, q := range st.queue {
				if q == lr {
					st.queue = append(st.queue[:i:i], st.queue[i+1:]...)
					break
				}
			}
			s.finish(lp, lr, "Stopped", now)
			break
		}
		s.publish(lp)
	}
	s.setRun(pipeline, id, "Stopped", now)
	s.notify()
	return nil
}

// RollBack records what a CodePipeline V2 stage rollback of the Deploy stage records: a
// ROLLBACK execution that redeployed the commit of target, an earlier Succeeded execution,
// and Succeeded at once. The branch does not move, and a run waiting at the approval stays
// there (the rollback redeploys a stage, behind no approval). It returns the new run, and
// an error if target is not a Succeeded execution of the pipeline.
func (s *Server) RollBack(pipeline, target string) (Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var from *Run
	for i := range s.runs[pipeline] {
		if r := &s.runs[pipeline][i]; r.ID == target {
			from = r
		}
	}
	if from == nil || from.Status != "Succeeded" {
		return Run{}, fmt.Errorf("roll back %s: execution %q is not a Succeeded execution of it", pipeline, target)
	}
	prefix := pipeline
	lp := s.live[pipeline]
	if lp != nil {
		prefix = lp.repo.Env
	}
	now := s.now()
	run := Run{ID: s.nextID(pipeline, prefix), Commit: from.Commit, Status: "Succeeded", At: now, Started: now,
		Type: "ROLLBACK", RollbackTarget: target, SourceAction: from.SourceAction}
	s.runs[pipeline] = append([]Run{run}, s.runs[pipeline]...)
	if lp != nil {
		st := lp.stages[len(lp.stages)-1]
		st.Execution, st.ExecutionStatus, st.Type = run.ID, "Succeeded", "ROLLBACK"
		for i := range st.Actions {
			st.Actions[i] = Action{Name: st.Actions[i].Name, Status: "Succeeded", Changed: now}
		}
		s.publish(lp)
	}
	s.notify()
	return run, nil
}

// nextID is <prefix>-<n>, n one more than the pipeline's runs, or higher if that id is taken.
// s.mu must be held.
func (s *Server) nextID(pipeline, prefix string) string {
	taken := map[string]bool{}
	for _, x := range s.runs[pipeline] {
		taken[x.ID] = true
	}
	for n := len(s.runs[pipeline]) + 1; ; n++ {
		if id := fmt.Sprintf("%s-%d", prefix, n); !taken[id] {
			return id
		}
	}
}

// branchHead is the commit r's branch points at, "" if the branch does not exist.
func branchHead(ctx context.Context, r Repo) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "--git-dir", r.GitDir, "rev-parse", "--verify", "--quiet", "refs/heads/"+r.Branch+"^{commit}")
	// Only the repository's own config: a user's or system config has no say in what a
	// branch points at, and an odd one (safe.directory, includes) must not break the fake.
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull)
	out, err := cmd.Output()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return strings.TrimSpace(string(out)), nil
	case errors.As(err, &exit) && exit.ExitCode() == 1 && ctx.Err() == nil:
		// --verify --quiet exits 1, silently, for a ref that does not exist.
		return "", nil
	default:
		return "", fmt.Errorf("read branch %s of %s's repository %s: %w", r.Branch, r.Env, r.GitDir, err)
	}
}
