package fakeaws

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Condition is one of a stage's condition states in GetPipelineState: its beforeEntry
// (Entry), onSuccess (Success) or onFailure (Failure) conditions, with their rules.
type Condition struct {
	// Status is the conditions' latest execution status: InProgress, Succeeded, Failed, ...
	Status string
	// Summary is that execution's summary. Default: - none.
	Summary string
	// Rules are the rules of the stage's condition, each with its latest execution.
	Rules []Rule
}

// Rule is one rule of a Condition and its latest execution.
type Rule struct {
	// Name is the rule's name in the pipeline declaration (e.g. DeploymentWindow).
	Name string
	// Status is its latest execution's status: InProgress, Succeeded, Failed, Abandoned.
	Status string
	// Summary is its latest execution's summary, e.g. which alarm is in ALARM.
	Summary string
	// Changed is its latest execution's lastStatusChange.
	Changed time.Time
}

// The rule names the live mode's Deploy stage uses in its conditions, as envpipeline names
// them (watch.go): WindowRule for the window, EntryAlarmRulePrefix followed by the alarm's
// name for each watched alarm at the entry, BakeAlarmRulePrefix and the name in the bake.
const (
	WindowRule           = "DeployWindow"
	EntryAlarmRulePrefix = "Entry-"
	BakeAlarmRulePrefix  = "Bake-"
)

// ActionRun is one action execution as ListActionExecutions reports it. The live mode
// records one per action a run starts; SetActionRuns sets them for any pipeline.
type ActionRun struct {
	// Execution is the pipeline execution the action ran in.
	Execution string
	// Stage and Action name the action.
	Stage, Action string
	// Status is InProgress, Succeeded, Failed or Abandoned.
	Status string
	// Started and Updated are its startTime and lastUpdateTime.
	Started, Updated time.Time
	// UpdatedBy is who last changed it: for an answered approval, the approver's ARN.
	UpdatedBy string
	// Summary is output.executionResult.externalExecutionSummary: what the job said it did.
	Summary string
	// URL is output.executionResult.externalExecutionUrl, e.g. the build's page.
	URL string
	// Error is output.executionResult.errorDetails' message, for a Failed action.
	Error string
	// Variables are output.outputVariables, e.g. the Plan action's PLAN_SUMMARY and PLAN_URL.
	Variables map[string]string

	id string // actionExecutionId
}

// Fate is what happens to one run of a Full watched pipeline, beyond the default: every
// action succeeds, nothing waits but the approval, no alarm goes off. Script gives a fate to
// the run that the next push of a commit starts.
type Fate struct {
	// Fail is the action that fails, "Stage/Action" (e.g. "Deploy/Deploy"), with Error as
	// its error message. Default: - none fails.
	Fail, Error string
	// WindowWait is how many steps the run waits at Deploy's entry for the deployment
	// window to open (the DeploymentWindow rule InProgress). Default: - it is open.
	WindowWait int
	// EntryAlarm is how many steps the first watched alarm stays in ALARM when the run
	// reaches Deploy's entry. With EntryAlarmFails the run then fails there (its wait ran
	// out: the condition's result is FAIL) instead of going on. Default: - no alarm.
	EntryAlarm      int
	EntryAlarmFails bool
	// BakeAlarm has the first watched alarm go into ALARM during the bake after a successful
	// deploy: the stage fails and is rolled back. Default: - the bake passes. An alarm that
	// exists in CloudWatch (SetAlarms) goes into ALARM there too, as it does for EntryAlarm
	// (and back to OK when that wait ends).
	BakeAlarm bool
	// Plan is the PLAN_SUMMARY the Plan action exports. Default: - one naming the commit.
	Plan string
	// NoPlan has the Plan action succeed without exporting variables, as a plan step that
	// wrote none does.
	NoPlan bool
}

// Pace is how a watched pipeline's runs move from stage to stage.
type Pace int

const (
	// PaceInstant moves every run as far as it can go before each request is answered:
	// only an approval (and a scripted wait, for as many requests as it lasts) holds it. A
	// push has run by the time anyone looks.
	PaceInstant Pace = iota
	// PaceManual moves runs only when Step is called.
	PaceManual
	// PaceOnRead moves the pipeline's runs one Step for each GetPipelineState of it: the step
	// is taken when the caller next looks (its next GetPipelineExecution or GetPipelineState
	// of the pipeline), before that is answered. A caller that polls sees every state once,
	// in order, without any timing; a shared Clock moves only while it waits for an answer.
	PaceOnRead
)

// stepState is what the scripted live mode keeps beyond runs and stages.
type stepState struct {
	actions map[string][]ActionRun // pipeline -> action executions, oldest first
	fates   map[string][]scripted  // pipeline -> fates of the next runs
	clock   *Clock
	changed chan struct{} // closed and replaced at every change
	ids     int           // action execution ids handed out
}

type scripted struct {
	commit string
	fate   Fate
}

// Clock is a clock that moves only when told to: the fake's (UseClock) and, shared, the
// code under test's, so that times in both agree and nothing depends on real time.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// UseClock dates everything the fake records by c (as SetClock(c.Now) does), and makes
// each step of a watched pipeline move c on by its Repo.StepTime.
func (s *Server) UseClock(c *Clock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = c.Now
	s.steps.clock = c
}

// notify wakes whoever waits in Await. s.mu must be held.
func (s *Server) notify() {
	if s.steps.changed != nil {
		close(s.steps.changed)
	}
	s.steps.changed = make(chan struct{})
}

// Changed returns a channel that is closed at the fake's next change: a call received, a
// run recorded or moved, an approval answered.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.steps.changed == nil {
		s.steps.changed = make(chan struct{})
	}
	return s.steps.changed
}

// Await blocks until cond returns true, looking again at every change of the fake
// (Changed), or until ctx ends. cond may call the Server's methods. It is how a test waits
// for a state (an approval pending, a run at Deploy) without sleeping.
func (s *Server) Await(ctx context.Context, cond func() bool) error {
	for {
		ch := s.Changed()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Script gives fate to the next run of commit that pipeline records (the next push of it).
// Fates of one commit are used in the order given.
func (s *Server) Script(pipeline, commit string, fate Fate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.steps.fates == nil {
		s.steps.fates = map[string][]scripted{}
	}
	s.steps.fates[pipeline] = append(s.steps.fates[pipeline], scripted{commit: commit, fate: fate})
}

// takeFate is the first fate scripted for commit in pipeline, removed. s.mu must be held.
func (s *Server) takeFate(pipeline, commit string) Fate {
	fs := s.steps.fates[pipeline]
	for i, f := range fs {
		if f.commit == commit {
			s.steps.fates[pipeline] = append(fs[:i:i], fs[i+1:]...)
			return f.fate
		}
	}
	return Fate{}
}

// SetActionRuns sets what ListActionExecutions answers for the pipeline, oldest first,
// replacing what it had (for a pipeline not watched; the live mode records its own).
func (s *Server) SetActionRuns(pipeline string, runs ...ActionRun) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.steps.actions == nil {
		s.steps.actions = map[string][]ActionRun{}
	}
	s.steps.actions[pipeline] = nil
	for _, r := range runs {
		s.addActionRun(pipeline, r)
	}
}

// ActionRuns returns the pipeline's action executions, oldest first.
func (s *Server) ActionRuns(pipeline string) []ActionRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ActionRun(nil), s.steps.actions[pipeline]...)
}

// addActionRun records r with a new id. s.mu must be held.
func (s *Server) addActionRun(pipeline string, r ActionRun) {
	if s.steps.actions == nil {
		s.steps.actions = map[string][]ActionRun{}
	}
	s.steps.ids++
	r.id = "action-" + strconv.Itoa(s.steps.ids)
	s.steps.actions[pipeline] = append(s.steps.actions[pipeline], r)
}

// updateActionRun changes the newest action execution of stage/action in execution by fn.
// s.mu must be held.
func (s *Server) updateActionRun(pipeline, execution, stage, action string, fn func(*ActionRun)) {
	rs := s.steps.actions[pipeline]
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Execution == execution && rs[i].Stage == stage && rs[i].Action == action {
			fn(&rs[i])
			return
		}
	}
}

// State returns the stages GetPipelineState answers for the pipeline now.
func (s *Server) State(pipeline string) []Stage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Stage(nil), s.states[pipeline]...)
}

// Run returns the pipeline's execution id, and false if there is none.
func (s *Server) Run(pipeline, id string) (Run, bool) {
	for _, r := range s.Runs(pipeline) {
		if r.ID == id {
			return r, true
		}
	}
	return Run{}, false
}
