package ship

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// Execution is one pipeline run as ship shows it: the guard's own reading of a run, so
// that ship and the guard agree on its commit (the pipeline's own source action only) and
// on whether it is a rollback.
type Execution = gate.Execution

// eachExecution calls fn for the pipeline's runs, newest first, until fn returns false or the
// history ends, through gate.EachExecution: the guard's own pager, so ship reads history
// exactly as the guard does and never claims more than it read (gate.ErrHistoryBound).
func eachExecution(ctx context.Context, c executionLister, pipeline string, pageSize int32, maxPages int, fn func(Execution) bool) error {
	read := 0
	_, err := gate.EachExecution(ctx, c, pipeline, pageSize, maxPages, func(e Execution) bool {
		read++
		return fn(e)
	})
	if errors.Is(err, gate.ErrHistoryBound) {
		return fmt.Errorf("pipeline %s: searched the %d newest executions: %w", pipeline, read, gate.ErrHistoryBound)
	}
	return err
}

// newestDeployed is the newest run that left its commit deployed (gate.Deployed: a
// Succeeded run, a rollback's included): what the environment runs now. nil if none.
func (x *session) newestDeployed(ctx context.Context, c executionLister, pipeline string) (*Execution, error) {
	var found *Execution
	err := eachExecution(ctx, c, pipeline, org.HistoryPageSize, x.s.Path.Settings.HistoryPages, func(e Execution) bool {
		if gate.Deployed(e) {
			found = &e
			return false
		}
		return true
	})
	return found, err
}

// previousPassed is the newest run that passed a commit other than except, by the guard's
// rule for one run (gate.Judge): a STANDARD run that succeeded. nil if there is none.
func (x *session) previousPassed(ctx context.Context, c executionLister, pipeline, except string) (*Execution, error) {
	var found *Execution
	err := eachExecution(ctx, c, pipeline, org.HistoryPageSize, x.s.Path.Settings.HistoryPages, func(e Execution) bool {
		if e.Commit != "" && e.Commit != except && gate.Judge(e, e.Commit) == gate.Passes {
			found = &e
			return false
		}
		return true
	})
	return found, err
}

// recentExecutions is the newest limit runs of the pipeline.
func recentExecutions(ctx context.Context, c executionLister, pipeline string, limit int) ([]Execution, error) {
	var out []Execution
	// Twice the pages a full answer needs: a server may return short pages. If even that
	// is not enough, show what was read; history is for reading, it decides nothing.
	pages := 2*((limit+org.HistoryPageSize-1)/org.HistoryPageSize) + 1
	err := eachExecution(ctx, c, pipeline, int32(min(limit, org.HistoryPageSize)), pages, func(e Execution) bool {
		out = append(out, e)
		return len(out) < limit
	})
	if errors.Is(err, gate.ErrHistoryBound) {
		return out, nil
	}
	return out, err
}

// runDetail is what ListPipelineExecutions says of a run beyond gate.Execution: how it
// was started (a ROLLBACK's trigger tells CodePipeline's automatic rollback from a person's
// rollback-stage) and CodePipeline's summary of its status.
type runDetail struct {
	// Trigger is the triggerType: AutomatedRollback, ManualRollback, CloudWatchEvent, ...
	Trigger string
	// TriggerDetail is the triggerDetail, e.g. who started a run by hand.
	TriggerDetail string
	// StatusSummary is CodePipeline's statusSummary, e.g. why a run failed.
	StatusSummary string
}

// Trigger types of a ROLLBACK execution.
const (
	triggerAutomatedRollback = string(types.TriggerTypeAutomatedRollback)
	triggerManualRollback    = string(types.TriggerTypeManualRollback)
)

// automatic says whether a ROLLBACK run was CodePipeline's own (a failed stage, an alarm
// during the bake) or a person's (rollback-stage); nil when the trigger does not say.
func (d runDetail) automatic() *bool {
	yes, no := true, false
	switch d.Trigger {
	case triggerAutomatedRollback:
		return &yes
	case triggerManualRollback:
		return &no
	}
	return nil
}

// detailLister passes ListPipelineExecutions through, keeping each run's runDetail as the
// pages go by: gate.EachExecution reads the history, this keeps what gate has no use for.
type detailLister struct {
	executionLister
	details map[string]runDetail
}

func newDetailLister(c executionLister) *detailLister {
	return &detailLister{executionLister: c, details: map[string]runDetail{}}
}

func (d *detailLister) ListPipelineExecutions(ctx context.Context, in *codepipeline.ListPipelineExecutionsInput, optFns ...func(*codepipeline.Options)) (*codepipeline.ListPipelineExecutionsOutput, error) {
	out, err := d.executionLister.ListPipelineExecutions(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	for _, s := range out.PipelineExecutionSummaries {
		var rd runDetail
		if s.Trigger != nil {
			rd.Trigger, rd.TriggerDetail = string(s.Trigger.TriggerType), aws.ToString(s.Trigger.TriggerDetail)
		}
		rd.StatusSummary = aws.ToString(s.StatusSummary)
		d.details[aws.ToString(s.PipelineExecutionId)] = rd
	}
	return out, nil
}

// Approval is a manual approval waiting for a decision.
type Approval struct {
	// Stage and Action name the approval action in the pipeline.
	Stage, Action string
	// Since is when the approval started waiting.
	Since time.Time
	// Execution is the run waiting for it: the stage's latest execution. "" if the state
	// does not say.
	Execution string
}

// Queued is a run waiting to enter a stage that an earlier run holds: in a QUEUED
// pipeline a push made while a run waits for approval waits here, InProgress.
type Queued struct {
	// Execution is the waiting run; Stage the stage it waits to enter.
	Execution, Stage string
}

// pipelineState is what ship reads of a pipeline's live state (GetPipelineState).
type pipelineState struct {
	approvals  []Approval
	queued     []Queued          // oldest first
	conditions []stageConditions // the stages that have condition states, in pipeline order
}

// stageConditions is one stage's condition states: entry (a deployment window, alarms that
// must be OK), on success (alarms watched during the bake) and on failure (a rollback).
// CodePipeline does not say which run a condition state belongs to, only the stage's
// latest execution.
type stageConditions struct {
	Stage                   string
	Latest, LatestType      string // the stage's latest execution and its type
	Entry, Success, Failure *conditionState
}

// conditionState is the latest run of a stage's condition and of each of its rules.
type conditionState struct {
	Status, Summary string
	Rules           []ruleState
}

// ruleState is a rule's latest run: e.g. a CloudWatchAlarm rule Failed, its summary naming
// the alarm in ALARM.
type ruleState struct {
	Name, Status, Summary string
	Changed               time.Time
}

func readCondition(cs *types.StageConditionState) *conditionState {
	if cs == nil || (cs.LatestExecution == nil && len(cs.ConditionStates) == 0) {
		return nil
	}
	c := &conditionState{}
	if cs.LatestExecution != nil {
		c.Status, c.Summary = string(cs.LatestExecution.Status), aws.ToString(cs.LatestExecution.Summary)
	}
	for _, cond := range cs.ConditionStates {
		for _, r := range cond.RuleStates {
			rs := ruleState{Name: aws.ToString(r.RuleName)}
			if x := r.LatestExecution; x != nil {
				rs.Status, rs.Summary = string(x.Status), aws.ToString(x.Summary)
				if x.LastStatusChange != nil {
					rs.Changed = x.LastStatusChange.UTC()
				}
			}
			c.Rules = append(c.Rules, rs)
		}
	}
	return c
}

// readState reads the pipeline's live state. GetPipelineState does not say an action's
// category, but only an approval action carries a token while it is InProgress (the token
// PutApprovalResult needs), so that is how an approval is recognised without a second call
// (GetPipeline) and a second permission. The runs queued at a stage are its
// inboundExecutions (V2 pipelines), or its inboundExecution.
func readState(ctx context.Context, c Pipelines, pipeline string) (pipelineState, error) {
	var ps pipelineState
	out, err := c.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String(pipeline)})
	if err != nil {
		return ps, fmt.Errorf("get state of pipeline %s: %w", pipeline, err)
	}
	for _, st := range out.StageStates {
		stage := aws.ToString(st.StageName)
		for _, a := range st.ActionStates {
			x := a.LatestExecution
			if x == nil || x.Status != types.ActionExecutionStatusInProgress || aws.ToString(x.Token) == "" {
				continue
			}
			ap := Approval{Stage: stage, Action: aws.ToString(a.ActionName)}
			if x.LastStatusChange != nil {
				ap.Since = x.LastStatusChange.UTC()
			}
			if st.LatestExecution != nil {
				ap.Execution = aws.ToString(st.LatestExecution.PipelineExecutionId)
			}
			ps.approvals = append(ps.approvals, ap)
		}
		inbound := st.InboundExecutions
		if len(inbound) == 0 && st.InboundExecution != nil {
			inbound = []types.StageExecution{*st.InboundExecution}
		}
		for _, in := range inbound {
			ps.queued = append(ps.queued, Queued{Execution: aws.ToString(in.PipelineExecutionId), Stage: stage})
		}
		sc := stageConditions{Stage: stage, Entry: readCondition(st.BeforeEntryConditionState),
			Success: readCondition(st.OnSuccessConditionState), Failure: readCondition(st.OnFailureConditionState)}
		if sc.Entry != nil || sc.Success != nil || sc.Failure != nil {
			if st.LatestExecution != nil {
				sc.Latest, sc.LatestType = aws.ToString(st.LatestExecution.PipelineExecutionId), string(st.LatestExecution.Type)
			}
			ps.conditions = append(ps.conditions, sc)
		}
	}
	return ps, nil
}

// pendingApprovals is the approvals waiting in the pipeline's live state.
func pendingApprovals(ctx context.Context, c Pipelines, pipeline string) ([]Approval, error) {
	ps, err := readState(ctx, c, pipeline)
	return ps.approvals, err
}

// approvers says who can answer an approval in env: whoever may assume the approver role
// the pipeline's stack creates (org.Path.ApproverRoleName), which trusts exactly the
// organisation file's approvers, or, with none named, the account's own principals.
func approvers(p org.Path, env org.Environment) string {
	role := org.RoleARN(env.Account, p.ApproverRoleName(env.Name))
	if len(env.Approvers) == 0 {
		return fmt.Sprintf("whoever may assume role %s (the organisation file names no approvers for %s, so the account's administrators decide who)",
			role, env.Name)
	}
	return fmt.Sprintf("whoever may assume role %s, which trusts the approvers the organisation file names for %s: %s",
		role, env.Name, strings.Join(env.Approvers, ", "))
}
