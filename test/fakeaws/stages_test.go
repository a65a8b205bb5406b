package fakeaws

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

// fullState is GetPipelineState in one line, read through the SDK, with what the full
// layout adds: per stage its latest execution (and type), actions with status, token and
// error, the entry/success/failure conditions with their rules, and the queued runs.
func fullState(t *testing.T, cl *codepipeline.Client, pipeline string) string {
	t.Helper()
	out, err := cl.GetPipelineState(ctx(t), &codepipeline.GetPipelineStateInput{Name: aws.String(pipeline)})
	if err != nil {
		t.Fatal(err)
	}
	cond := func(label string, c *types.StageConditionState) string {
		if c == nil || c.LatestExecution == nil {
			return ""
		}
		var rules []string
		for _, cs := range c.ConditionStates {
			for _, r := range cs.RuleStates {
				if r.LatestExecution != nil {
					rules = append(rules, aws.ToString(r.RuleName)+"="+string(r.LatestExecution.Status))
				}
			}
		}
		return " " + label + ":" + string(c.LatestExecution.Status) + "(" + strings.Join(rules, ",") + ")"
	}
	var stages []string
	for _, st := range out.StageStates {
		line := aws.ToString(st.StageName) + ": "
		if x := st.LatestExecution; x != nil {
			line += aws.ToString(x.PipelineExecutionId) + " " + string(x.Status)
			if x.Type == types.ExecutionTypeRollback {
				line += " ROLLBACK"
			}
		} else {
			line += "-"
		}
		var actions []string
		for _, a := range st.ActionStates {
			as := aws.ToString(a.ActionName) + " -"
			if x := a.LatestExecution; x != nil {
				as = aws.ToString(a.ActionName) + " " + string(x.Status)
				if tok := aws.ToString(x.Token); tok != "" {
					as += " " + tok
				}
				if x.ErrorDetails != nil {
					as += " error=" + aws.ToString(x.ErrorDetails.Message)
				}
			}
			actions = append(actions, as)
		}
		line += " [" + strings.Join(actions, ", ") + "]"
		line += cond("entry", st.BeforeEntryConditionState) + cond("success", st.OnSuccessConditionState) + cond("failure", st.OnFailureConditionState)
		for i, x := range st.InboundExecutions {
			if i == 0 {
				line += " inbound"
			}
			line += " " + aws.ToString(x.PipelineExecutionId)
		}
		stages = append(stages, line)
	}
	return strings.Join(stages, " | ")
}

// fullFixture watches stg (upstream dev's pipeline p-dev, with c1 Succeeded there) and prd,
// both in the full layout with a watched alarm, prd with an approval and a window, at pace.
func fullFixture(t *testing.T, pace Pace) (s *Server, cl *codepipeline.Client, push func(env, commit string), c []string, clock *Clock) {
	push, _, bare, c := gitRepos(t)
	clock = NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	s = New()
	s.UseClock(clock)
	s.SetRuns("p-dev", Run{ID: "dev-1", Commit: c[0], Status: "Succeeded", At: clock.Now().Add(-time.Hour)})
	if err := s.Watch(ctx(t),
		Repo{Env: "stg", Pipeline: "p-stg", GitDir: bare["stg"], Full: true, Upstream: "dev", UpstreamPipeline: "p-dev",
			Alarms: []string{"stg-health"}, RollbackOnFailure: true, Pace: pace},
		Repo{Env: "prd", Pipeline: "p-prd", GitDir: bare["prd"], Full: true, Upstream: "stg", UpstreamPipeline: "p-stg",
			Approval: true, Window: true, Alarms: []string{"prd-health", "prd-latency"}, Pace: pace, StepTime: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	return s, client(t, s), push, c, clock
}

// TestAFullRunMovesOneStepAtATime: a prd run through Guard, Plan, the approval, a window wait
// at Deploy's entry, Deploy and Verify and the bake, one Step at a time, every state read
// through the SDK; the action executions it leaves; the clock moved by StepTime per step.
func TestAFullRunMovesOneStepAtATime(t *testing.T) {
	s, cl, push, c, clock := fullFixture(t, PaceManual)
	start := clock.Now()
	// GIVEN c1 passed stg
	s.SetRuns("p-stg", Run{ID: "stg-1", Commit: c[0], Status: "Succeeded", At: start.Add(-time.Minute)})
	s.Script("p-prd", c[0], Fate{WindowWait: 1, Plan: "1 to add; IAM: adds s3:GetObject"})

	// WHEN c1 is pushed to prd and the fake looks
	push("prd", c[0])
	executions(t, cl, "p-prd")

	steps := []string{
		"Source: prd-1 Succeeded [Push Succeeded] | Guard: - [CommitPassedUpstream -] | Plan: - [Plan -] | Approval: - [SignOff -] | Deploy: - [Deploy -, Verify -]",
		"Source: prd-1 Succeeded [Push Succeeded] | Guard: prd-1 InProgress [CommitPassedUpstream InProgress] | Plan: - [Plan -] | Approval: - [SignOff -] | Deploy: - [Deploy -, Verify -]",
		"Source: prd-1 Succeeded [Push Succeeded] | Guard: prd-1 Succeeded [CommitPassedUpstream Succeeded] | Plan: - [Plan -] | Approval: - [SignOff -] | Deploy: - [Deploy -, Verify -]",
		"Source: prd-1 Succeeded [Push Succeeded] | Guard: prd-1 Succeeded [CommitPassedUpstream Succeeded] | Plan: prd-1 InProgress [Plan InProgress] | Approval: - [SignOff -] | Deploy: - [Deploy -, Verify -]",
		"Source: prd-1 Succeeded [Push Succeeded] | Guard: prd-1 Succeeded [CommitPassedUpstream Succeeded] | Plan: prd-1 Succeeded [Plan Succeeded] | Approval: - [SignOff -] | Deploy: - [Deploy -, Verify -]",
		"Source: prd-1 Succeeded [Push Succeeded] | Guard: prd-1 Succeeded [CommitPassedUpstream Succeeded] | Plan: prd-1 Succeeded [Plan Succeeded] | Approval: prd-1 InProgress [SignOff InProgress approval-prd-1] | Deploy: - [Deploy -, Verify -]",
	}
	for i, want := range steps {
		if i > 0 && !s.Step("p-prd") {
			t.Fatalf("step %d: nothing moved", i)
		}
		if got := fullState(t, cl, "p-prd"); got != want {
			t.Fatalf("after %d steps\n got %s\nwant %s", i, got, want)
		}
	}
	// THEN the run waits at the approval: a step moves nothing
	if s.Step("p-prd") {
		t.Error("a step moved a run that waits for approval")
	}
	if got := clock.Now().Sub(start); got != 12*time.Minute {
		t.Errorf("the clock moved %s in 6 steps of 2m", got)
	}
	// AND the Guard and Plan action executions say what they did
	acts, err := cl.ListActionExecutions(ctx(t), &codepipeline.ListActionExecutionsInput{PipelineName: aws.String("p-prd"),
		Filter: &types.ActionExecutionFilter{PipelineExecutionId: aws.String("prd-1")}})
	if err != nil {
		t.Fatal(err)
	}
	byAction := map[string]types.ActionExecutionDetail{}
	for _, a := range acts.ActionExecutionDetails {
		byAction[aws.ToString(a.StageName)+"/"+aws.ToString(a.ActionName)] = a
	}
	guard := byAction["Guard/CommitPassedUpstream"]
	if sum := aws.ToString(guard.Output.ExecutionResult.ExternalExecutionSummary); !strings.HasPrefix(sum, "Verified commit "+c[0][:7]+": it passed stg in execution stg-1 at ") ||
		!strings.Contains(sum, "; image sha256:") {
		t.Errorf("guard summary %q", sum)
	}
	plan := byAction["Plan/Plan"]
	if v := plan.Output.OutputVariables; v[PlanSummaryVariable] != "1 to add; IAM: adds s3:GetObject" || !strings.HasPrefix(v[PlanURLVariable], "https://") {
		t.Errorf("plan variables %v", v)
	}
	if a := byAction["Approval/SignOff"]; a.Status != types.ActionExecutionStatusInProgress {
		t.Errorf("SignOff execution %+v", a)
	}

	// WHEN approved, THEN Deploy waits one step for the window, deploys, verifies and bakes
	if _, err := putApproval(cl, t, "p-prd", ApprovalToken("prd-1"), types.ApprovalStatusApproved); err != nil {
		t.Fatal(err)
	}
	deploy := []string{
		"Deploy: - [Deploy -, Verify -]",
		"Deploy: prd-1 InProgress [Deploy -, Verify -] entry:InProgress(DeployWindow=InProgress)",
		"Deploy: prd-1 InProgress [Deploy InProgress, Verify -] entry:Succeeded(DeployWindow=Succeeded,Entry-prd-health=Succeeded,Entry-prd-latency=Succeeded)",
		"Deploy: prd-1 InProgress [Deploy Succeeded, Verify InProgress] entry:Succeeded(DeployWindow=Succeeded,Entry-prd-health=Succeeded,Entry-prd-latency=Succeeded)",
		"Deploy: prd-1 InProgress [Deploy Succeeded, Verify Succeeded] entry:Succeeded(DeployWindow=Succeeded,Entry-prd-health=Succeeded,Entry-prd-latency=Succeeded) success:InProgress(Bake-prd-health=InProgress,Bake-prd-latency=InProgress)",
		"Deploy: prd-1 Succeeded [Deploy Succeeded, Verify Succeeded] entry:Succeeded(DeployWindow=Succeeded,Entry-prd-health=Succeeded,Entry-prd-latency=Succeeded) success:Succeeded(Bake-prd-health=Succeeded,Bake-prd-latency=Succeeded)",
	}
	for i, want := range deploy {
		if i > 0 {
			s.Step("p-prd")
		}
		got := fullState(t, cl, "p-prd")
		if got = got[strings.Index(got, "Deploy:"):]; got != want {
			t.Fatalf("deploy step %d\n got %s\nwant %s", i, got, want)
		}
		if run, _ := s.Run("p-prd", "prd-1"); (run.Status == "Succeeded") != (i == len(deploy)-1) {
			t.Errorf("deploy step %d: run %s", i, run.Status)
		}
	}
	out, err := cl.GetPipelineExecution(ctx(t), &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("p-prd"), PipelineExecutionId: aws.String("prd-1")})
	if err != nil {
		t.Fatal(err)
	}
	if e := out.PipelineExecution; e.Status != types.PipelineExecutionStatusSucceeded || e.ExecutionType != types.ExecutionTypeStandard ||
		aws.ToString(e.ArtifactRevisions[0].RevisionId) != c[0] {
		t.Errorf("GetPipelineExecution = %+v", e)
	}
	if a, ok := s.Last("PutApprovalResult"); !ok || a.AccessKey != "AKIDTEST" {
		t.Errorf("PutApprovalResult recorded as %+v", a)
	}
	if runs := s.ActionRuns("p-prd"); runs[len(runs)-1].Action != VerifyAction || runs[len(runs)-1].Status != "Succeeded" {
		t.Errorf("newest action execution %+v", runs[len(runs)-1])
	}
}

// TestFailuresAndRollbacks: a Deploy that fails rolls back to the previous successful run
// (RollbackOnFailure); an alarm during the bake does too; an alarm at the entry that does
// not clear fails the run without deploying; a guard that finds no pass fails the run.
func TestFailuresAndRollbacks(t *testing.T) {
	s, cl, push, c, _ := fullFixture(t, PaceInstant)
	// GIVEN dev passed both commits, and stg ran c1
	s.SetRuns("p-dev", Run{ID: "dev-2", Commit: c[1], Status: "Succeeded", At: time.Now()}, Run{ID: "dev-1", Commit: c[0], Status: "Succeeded", At: time.Now()})
	push("stg", c[0])
	executions(t, cl, "p-stg")

	// WHEN c2's Deploy fails
	s.Script("p-stg", c[1], Fate{Fail: "Deploy/Deploy", Error: "Stack payments-checkout failed: UPDATE_ROLLBACK_COMPLETE"})
	push("stg", c[1])
	executions(t, cl, "p-stg")

	// THEN it failed with the error, and a ROLLBACK execution redeployed c1 of stg-1
	want := []string{"stg-3 " + c[0] + " Succeeded", "stg-2 " + c[1] + " Failed", "stg-1 " + c[0] + " Succeeded"}
	if got := executions(t, cl, "p-stg"); strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("runs %q, want %q", got, want)
	}
	if r, _ := s.Run("p-stg", "stg-3"); r.Type != "ROLLBACK" || r.RollbackTarget != "stg-1" {
		t.Errorf("stg-3 = %+v, want a ROLLBACK to stg-1", r)
	}
	acts, err := cl.ListActionExecutions(ctx(t), &codepipeline.ListActionExecutionsInput{PipelineName: aws.String("p-stg"),
		Filter: &types.ActionExecutionFilter{PipelineExecutionId: aws.String("stg-2")}})
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, a := range acts.ActionExecutionDetails {
		if a.Status == types.ActionExecutionStatusFailed {
			failed = append(failed, aws.ToString(a.ActionName)+": "+aws.ToString(a.Output.ExecutionResult.ErrorDetails.Message))
		}
	}
	if strings.Join(failed, "") != "Deploy: Stack payments-checkout failed: UPDATE_ROLLBACK_COMPLETE" {
		t.Errorf("failed actions of stg-2: %q", failed)
	}
	out, err := cl.GetPipelineExecution(ctx(t), &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("p-stg"), PipelineExecutionId: aws.String("stg-3")})
	if err != nil || out.PipelineExecution.ExecutionType != types.ExecutionTypeRollback ||
		aws.ToString(out.PipelineExecution.RollbackMetadata.RollbackTargetPipelineExecutionId) != "stg-1" {
		t.Errorf("GetPipelineExecution(stg-3) = %+v, %v", out, err)
	}

	// WHEN c2 is pushed again and its watched alarm goes off during the bake
	s.Script("p-stg", c[1], Fate{BakeAlarm: true})
	s.SetAlarms(Alarm{Name: "stg-health", State: "OK", Since: time.Now().Add(-time.Hour)})
	push("stg", c[0])
	executions(t, cl, "p-stg")
	push("stg", c[1])
	executions(t, cl, "p-stg")

	// THEN that run fails after its actions succeeded, and a rollback redeploys c1 (stg-4)
	if r, _ := s.Run("p-stg", "stg-5"); r.Status != "Failed" {
		t.Errorf("stg-5 = %+v, want Failed", r)
	}
	if r, _ := s.Run("p-stg", "stg-6"); r.Type != "ROLLBACK" || r.RollbackTarget != "stg-4" || r.Commit != c[0] || r.Status != "Succeeded" {
		t.Errorf("stg-6 = %+v, want a Succeeded ROLLBACK to stg-4", r)
	}
	if got, want := fullState(t, cl, "p-stg"), "Deploy: stg-6 Succeeded ROLLBACK [Deploy Succeeded, Verify Succeeded]"; !strings.HasSuffix(got, want) {
		t.Errorf("state %s, want it to end %s", got, want)
	}
	// AND CloudWatch has the alarm in ALARM, saying why
	alarms, err := cloudWatchClient(t, s).DescribeAlarms(ctx(t), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"stg-health"}})
	if err != nil || len(alarms.MetricAlarms) != 1 || alarms.MetricAlarms[0].StateValue != "ALARM" ||
		aws.ToString(alarms.MetricAlarms[0].StateReason) != "scripted by the fake during the bake of execution stg-5" {
		t.Errorf("DescribeAlarms = %+v, %v", alarms, err)
	}

	// WHEN an alarm stays in ALARM at the entry, THEN the run fails there, without a rollback
	s.Script("p-stg", c[0], Fate{EntryAlarm: 2, EntryAlarmFails: true})
	push("stg", c[0])
	executions(t, cl, "p-stg")
	if r, _ := s.Run("p-stg", "stg-7"); r.Status != "Failed" || len(s.Runs("p-stg")) != 7 {
		t.Errorf("stg-7 = %+v with %d runs, want it Failed and no rollback", r, len(s.Runs("p-stg")))
	}
	if got, want := fullState(t, cl, "p-stg"), "Deploy: stg-7 Failed [Deploy Succeeded, Verify Succeeded] entry:Failed(Entry-stg-health=Failed)"; !strings.HasSuffix(got, want) {
		t.Errorf("state %s, want it to end %s", got, want)
	}

	// WHEN a commit dev never passed reaches prd's guard... (c2 did not pass stg)
	push("prd", c[1])
	executions(t, cl, "p-prd")
	if r, _ := s.Run("p-prd", "prd-1"); r.Status != "Failed" {
		t.Errorf("prd-1 = %+v, want Failed at the guard", r)
	}
	if got := fullState(t, cl, "p-prd"); !strings.Contains(got, "Guard: prd-1 Failed [CommitPassedUpstream Failed error=commit "+c[1][:7]+" has not passed stg: its newest run there, execution stg-5, Failed]") {
		t.Errorf("state %s", got)
	}
}

// TestPaceOnReadMovesOneStepPerStateRead: each GetPipelineState after the first moves the
// pipeline one step before it is answered; listing the runs moves nothing.
func TestPaceOnReadMovesOneStepPerStateRead(t *testing.T) {
	_, cl, push, c, _ := fullFixture(t, PaceOnRead)
	push("stg", c[0])
	for range 3 {
		executions(t, cl, "p-stg") // records the run, moves nothing
	}
	var seen []string
	for range 6 {
		got := fullState(t, cl, "p-stg")
		deploy := got[strings.Index(got, "Deploy:"):]
		seen = append(seen, got[strings.Index(got, "Guard:"):strings.Index(got, " | Deploy:")]+" / "+deploy[:strings.Index(deploy, "]")+1])
	}
	want := []string{
		"Guard: - [CommitPassedUpstream -] / Deploy: - [Deploy -, Verify -]",
		"Guard: stg-1 InProgress [CommitPassedUpstream InProgress] / Deploy: - [Deploy -, Verify -]",
		"Guard: stg-1 Succeeded [CommitPassedUpstream Succeeded] / Deploy: - [Deploy -, Verify -]",
		"Guard: stg-1 Succeeded [CommitPassedUpstream Succeeded] / Deploy: stg-1 InProgress [Deploy InProgress, Verify -]",
		"Guard: stg-1 Succeeded [CommitPassedUpstream Succeeded] / Deploy: stg-1 InProgress [Deploy Succeeded, Verify InProgress]",
		"Guard: stg-1 Succeeded [CommitPassedUpstream Succeeded] / Deploy: stg-1 InProgress [Deploy Succeeded, Verify Succeeded]",
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("states read\n%s\nwant\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
	// AND a poller that reads the run, then the state, sees both from the same step: the
	// run's GetPipelineExecution takes the step (the bake ends), the state read after it
	// takes none
	out, err := cl.GetPipelineExecution(ctx(t), &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("p-stg"), PipelineExecutionId: aws.String("stg-1")})
	if err != nil || out.PipelineExecution.Status != types.PipelineExecutionStatusSucceeded {
		t.Fatalf("GetPipelineExecution = %+v, %v; want Succeeded", out, err)
	}
	if got := fullState(t, cl, "p-stg"); !strings.Contains(got, "Deploy: stg-1 Succeeded") {
		t.Errorf("state after the run's read: %s", got)
	}
}

// TestStopAndAwait: StopPipelineExecution ends a run where it is and frees its stage; Await
// wakes at the change that makes its condition true, without sleeping.
func TestStopAndAwait(t *testing.T) {
	s, cl, push, c, _ := fullFixture(t, PaceManual)
	s.SetRuns("p-stg", Run{ID: "stg-1", Commit: c[0], Status: "Succeeded", At: time.Now()})
	push("prd", c[0])
	executions(t, cl, "p-prd")

	done := make(chan error, 1)
	go func() {
		done <- s.Await(ctx(t), func() bool {
			st := s.State("p-prd")
			return len(st) > 3 && st[3].ExecutionStatus == "InProgress" // the approval
		})
	}()
	for i := 0; i < 5; i++ {
		s.Step("p-prd")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := cl.StopPipelineExecution(ctx(t), &codepipeline.StopPipelineExecutionInput{PipelineName: aws.String("p-prd"),
		PipelineExecutionId: aws.String("prd-1"), Abandon: true}); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Run("p-prd", "prd-1"); r.Status != "Stopped" {
		t.Errorf("prd-1 %s, want Stopped", r.Status)
	}
	var notStoppable *types.PipelineExecutionNotStoppableException
	if _, err := cl.StopPipelineExecution(ctx(t), &codepipeline.StopPipelineExecutionInput{PipelineName: aws.String("p-prd"),
		PipelineExecutionId: aws.String("prd-1")}); !errors.As(err, &notStoppable) {
		t.Errorf("stopping a stopped run: %v", err)
	}
	short, cancel := context.WithCancel(ctx(t))
	cancel()
	if err := s.Await(short, func() bool { return false }); !errors.Is(err, context.Canceled) {
		t.Errorf("Await after cancel: %v", err)
	}
}
