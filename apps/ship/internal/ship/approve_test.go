package ship

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// approverRole is prd's approver role in the fixtures' organisation.
const approverRole = "arn:aws:iam::444444444444:role/payments-checkout-prd-approver"

// pendingFixture is followFixture (runs at once) with prd's run of c2 waiting for sign-off.
func pendingFixture(t *testing.T, fate ...fakeaws.Fate) (*fixture, *fakeaws.Clock) {
	t.Helper()
	f, clock := followFixture(t, fakeaws.PaceInstant)
	f.aws.SetRuns("payments-checkout-stg", run("stg-2", f.c(2), "Succeeded", followStart.Add(-20*time.Minute)),
		run("stg-1", f.c(1), "Succeeded", followStart.Add(-45*time.Minute)))
	for _, fa := range fate {
		f.aws.Script("payments-checkout-prd", f.c(2), fa)
	}
	f.pushTo("prd", 2)
	must(t, f.aws.Look(context.Background()))
	if st := f.aws.State("payments-checkout-prd"); st[3].Actions[0].Token != fakeaws.ApprovalToken("prd-2") {
		t.Fatalf("prd-2 does not wait for approval: %+v", st)
	}
	clock.Advance(3 * time.Minute)
	f.aws.ForgetCalls()
	return f, clock
}

// answerCall is the one PutApprovalResult ship made, and fails the test if it made another number.
func answerCall(t *testing.T, f *fixture) fakeaws.Call {
	t.Helper()
	var calls []fakeaws.Call
	for _, c := range f.aws.Recorded() {
		if c.Op == "PutApprovalResult" {
			calls = append(calls, c)
		}
	}
	if len(calls) != 1 {
		t.Fatalf("%d PutApprovalResult calls, want 1: %v", len(calls), f.aws.Ops())
	}
	return calls[0]
}

func TestApproveShowsThePlanAndAnswersAsTheApproverRole(t *testing.T) {
	f, clock := pendingFixture(t, fakeaws.Fate{Plan: "2 to add, 1 to change, 0 to destroy; IAM: adds s3:GetObject on checkout-assets"})

	code, out, errOut := f.shipWith(followApp(clock, false), "approve", "prd", "--yes", "--reason", "CAB-123 approved")

	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	c2 := gate.Short(f.c(2))
	// THEN it shows the run, the guard's check and the plan with its link, says as whom it
	// answers, and that it did
	inOrder(t, "stdout", out,
		"prd: execution prd-2 (commit "+c2+") waits for approval at action SignOff in stage Approval since 2026-03-02T07:00:00Z (3m).\n",
		"  guard:  Verified commit "+c2+": it passed stg in execution stg-2 at 2026-03-02T06:40:00Z; image sha256:",
		"  plan:   2 to add, 1 to change, 0 to destroy; IAM: adds s3:GetObject on checkout-assets\n",
		"          full plan: https://console.aws.amazon.com/codesuite/codebuild/projects/payments-checkout-prd-plan/build/prd-2\n",
		"  ship answers as "+approverRole+" (prd's approver role), assumed with profile \"prd\" (--profile prd=prd).\n",
		"prd: approved execution prd-2 (commit "+c2+") as arn:aws:sts::444444444444:assumed-role/payments-checkout-prd-approver/ship",
		"  It deploys next: follow it with ship status or ship history prd.\n")
	// AND the approver role was assumed with prd's credentials, and answered with its own
	var assumed []string
	for _, c := range f.aws.Recorded() {
		if c.Op == "AssumeRole" {
			assumed = append(assumed, c.AccessKey+" "+c.Input["RoleArn"].(string))
		}
	}
	if strings.Join(assumed, ",") != keyPrd+" "+approverRole {
		t.Errorf("AssumeRole calls %q, want one of %s signed with prd's key", assumed, approverRole)
	}
	a := answerCall(t, f)
	result, _ := a.Input["result"].(map[string]any)
	if a.AccessKey != fakeaws.RoleAccessKey || a.Pipeline != "payments-checkout-prd" || a.Input["stageName"] != "Approval" ||
		a.Input["actionName"] != "SignOff" || a.Input["token"] != fakeaws.ApprovalToken("prd-2") ||
		result["status"] != "Approved" || result["summary"] != "CAB-123 approved" {
		t.Errorf("PutApprovalResult %+v, want prd-2's token answered Approved with the reason, as the role", a)
	}
	// AND the run deployed (the fake runs at once); the approval records who answered
	if r, _ := f.aws.Run("payments-checkout-prd", "prd-2"); r.Status != "Succeeded" {
		t.Errorf("prd-2 is %s", r.Status)
	}
	for _, ar := range f.aws.ActionRuns("payments-checkout-prd") {
		if ar.Action == "SignOff" && ar.Execution == "prd-2" && !strings.HasPrefix(ar.UpdatedBy, "arn:aws:sts::444444444444:assumed-role/payments-checkout-prd-approver/") {
			t.Errorf("the approval was answered by %q", ar.UpdatedBy)
		}
	}
}

func TestApproveWaitFollowsTheRunToItsEnd(t *testing.T) {
	f, clock := pendingFixture(t)

	code, out, _ := f.shipWith(followApp(clock, false), "approve", "prd", "--yes", "--wait")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	inOrder(t, "stdout", out, "prd: approved execution prd-2",
		"prd: following execution prd-2 of "+gate.Short(f.c(2)),
		"  Approval  Succeeded", "  Deploy    Succeeded",
		"prd: execution prd-2 succeeded: "+gate.Short(f.c(2))+" is deployed in prd.")
}

func TestRejectNeedsAReasonAndRecordsIt(t *testing.T) {
	f, clock := pendingFixture(t)

	// WHEN reject has no reason, THEN it is a usage error and nothing is read or answered
	code, _, errOut := f.shipWith(followApp(clock, false), "reject", "prd", "--yes")
	if code != ExitUsage || !strings.Contains(errOut, `reject needs --reason "..."`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = f.shipWith(followApp(clock, false), "reject", "prd", "--yes", "--reason", strings.Repeat("x", 513))
	if code != ExitUsage || !strings.Contains(errOut, "--reason is 513 characters long; CodePipeline keeps at most 512") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if len(f.aws.Recorded()) != 0 {
		t.Errorf("AWS was called: %v", f.aws.Ops())
	}

	// WHEN it has one, THEN the run is rejected with it, and fails without deploying
	code, out, _ := f.shipWith(followApp(clock, false), "reject", "prd", "--yes", "--reason", "breaks checkout for EU cards")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	result, _ := answerCall(t, f).Input["result"].(map[string]any)
	if result["status"] != "Rejected" || result["summary"] != "breaks checkout for EU cards" {
		t.Errorf("answered %v", result)
	}
	inOrder(t, "stdout", out, "prd: rejected execution prd-2 (commit "+gate.Short(f.c(2))+") as arn:aws:sts::444444444444:assumed-role/",
		"The run fails without deploying")
	if r, _ := f.aws.Run("payments-checkout-prd", "prd-2"); r.Status != "Failed" {
		t.Errorf("prd-2 is %s, want Failed", r.Status)
	}
}

func TestApproveWithNothingPendingFails(t *testing.T) {
	f, clock := followFixture(t, fakeaws.PaceInstant)

	code, _, errOut := f.shipWith(followApp(clock, false), "approve", "prd", "--yes")

	if code != ExitFailed || !strings.Contains(errOut, "no approval is pending in prd (pipeline payments-checkout-prd): nothing to approve") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if len(f.aws.AssumedRoles()) != 0 {
		t.Errorf("a role was assumed to answer nothing")
	}
}

func TestApproveAsksOnlyOnATerminal(t *testing.T) {
	f, clock := pendingFixture(t)

	// WHEN stdin is not a terminal and --yes is not given, THEN ship refuses before reading
	code, _, errOut := f.shipWith(followApp(clock, false), "approve", "prd")
	if code != ExitUsage || !strings.Contains(errOut, "ship approve prd asks before it answers, but stdin is not a terminal: pass --yes to approve without asking") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if len(f.aws.Recorded()) != 0 {
		t.Errorf("AWS was called: %v", f.aws.Ops())
	}

	// WHEN stdin is a terminal, THEN ship asks; "n" answers nothing
	terminal := func(answer string) *App {
		app := followApp(clock, false)
		app.Stdin = strings.NewReader(answer)
		app.Terminal = func(v any) (bool, int) { return v == app.Stdin, 0 }
		return app
	}
	code, out, errOut := f.shipWith(terminal("n\n"), "approve", "prd")
	if code != ExitFailed || !strings.Contains(out, "Approve execution prd-2 (commit "+gate.Short(f.c(2))+") in prd? [y/N] ") ||
		!strings.Contains(errOut, "not approved: you did not confirm, so ship answered nothing") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, c := range f.aws.Recorded() {
		if c.Op == "PutApprovalResult" || c.Op == "AssumeRole" {
			t.Errorf("declined, yet ship called %s", c.Op)
		}
	}
	// AND "y" approves
	code, _, _ = f.shipWith(terminal("y\n"), "approve", "prd")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	answerCall(t, f)
}

func TestApproveWithAnExplicitRoleAnswersAsThatRole(t *testing.T) {
	f, clock := pendingFixture(t)
	const role = "arn:aws:iam::444444444444:role/release-bot"
	f.flags = append(f.flags, "--role", "prd="+role)

	code, out, _ := f.shipWith(followApp(clock, false), "approve", "prd", "--yes")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, a := range f.aws.AssumedRoles() {
		if a.Get("RoleArn") != role {
			t.Errorf("assumed %s, want only %s", a.Get("RoleArn"), role)
		}
	}
	if !strings.Contains(out, "ship answers as "+role+" (--role prd=...)") ||
		!strings.Contains(out, "as arn:aws:sts::444444444444:assumed-role/release-bot/ship") {
		t.Errorf("stdout %q", out)
	}
	answerCall(t, f)
}

func TestApproveSaysWhyThePlanIsUnavailable(t *testing.T) {
	f, clock := pendingFixture(t, fakeaws.Fate{NoPlan: true})

	code, out, _ := f.shipWith(followApp(clock, false), "approve", "prd", "--yes")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	inOrder(t, "stdout", out, "  plan:   unavailable: the Plan action of execution prd-2 exported no PLAN_SUMMARY (its build wrote none)\n",
		"          full plan: https://")
}

func TestApproveWhenTheRoleCannotBeAssumed(t *testing.T) {
	f, clock := pendingFixture(t)
	f.aws.Fail("AssumeRole", fakeaws.Fault{Status: 403, Code: "AccessDenied", Message: "not authorized to perform: sts:AssumeRole"}, -1)

	code, _, errOut := f.shipWith(followApp(clock, false), "approve", "prd", "--yes")

	if code != ExitFailed || !strings.Contains(errOut, "cannot assume prd's approver role "+approverRole+" with profile \"prd\" (--profile prd=prd), so nothing was answered") ||
		!strings.Contains(errOut, "which trusts the approvers the organisation file names for prd: arn:aws:iam::444444444444:role/payments-release-managers") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	for _, c := range f.aws.Recorded() {
		if c.Op == "PutApprovalResult" {
			t.Errorf("answered anyway")
		}
	}
}

func TestApproveAnEnvironmentWithoutApproval(t *testing.T) {
	f := newFixture(t)
	code, _, errOut := f.ship("approve", "stg", "--yes")
	if code != ExitUsage || !strings.Contains(errOut, "environment stg has no approval stage") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = f.ship("approve", "qa", "--yes")
	if code != ExitUsage || !strings.Contains(errOut, `unknown environment "qa"`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = f.ship("approve")
	if code != ExitUsage || !strings.Contains(errOut, "approve needs an environment: ship approve <env>") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	code, out, _ := f.ship("approve", "--help")
	if code != ExitOK || !strings.Contains(out, "ship approve <env> [flags]") || !strings.Contains(out, "--reason") || !strings.Contains(out, "--wait") {
		t.Errorf("help: exit %d, stdout %q", code, out)
	}
}

func TestAnsweringARunThatMovedOnMeanwhile(t *testing.T) {
	f, clock := pendingFixture(t)
	// GIVEN someone else answers between ship's read and its answer: the token is stale
	f.aws.Fail("PutApprovalResult", fakeaws.Fault{Status: 400, Code: "InvalidApprovalTokenException", Message: "The token is not valid"}, 1)

	code, _, errOut := f.shipWith(followApp(clock, false), "approve", "prd", "--yes")

	if code != ExitFailed || !strings.Contains(errOut, "the approval execution prd-2 waited for in prd was answered meanwhile, or the run moved on") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestWaitingForApprovalThenApprovedByAnother: promote prd --wait follows a run to the
// approval, says who may answer and how; an approver answers from another process (here a
// goroutine), and the follower goes on to the end.
func TestWaitingForApprovalThenApprovedByAnother(t *testing.T) {
	f, clock := followFixture(t, fakeaws.PaceOnRead)
	f.aws.SetRuns("payments-checkout-stg", run("stg-2", f.c(2), "Succeeded", followStart.Add(-20*time.Minute)),
		run("stg-1", f.c(1), "Succeeded", followStart.Add(-45*time.Minute)))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	done, _ := f.shipInBackground(ctx, followApp(clock, false), "promote", "prd", "--wait")
	// The approver waits for the sign-off to be pending, then approves
	if err := f.aws.Await(ctx, func() bool {
		st := f.aws.State("payments-checkout-prd")
		return len(st) > 3 && st[3].Actions[0].Token == fakeaws.ApprovalToken("prd-2")
	}); err != nil {
		t.Fatal(err)
	}
	approver := followApp(clock, false)
	code, approved, _ := f.shipCtx(ctx, approver, "approve", "prd", "--yes")
	if code != ExitOK {
		t.Fatalf("approve: exit %d", code)
	}
	res := <-done

	if res.code != ExitOK {
		t.Fatalf("exit %d, stderr %s", res.code, res.err)
	}
	inOrder(t, "follower's stdout", res.out,
		"prd: pushed "+gate.Short(f.c(2)),
		"  prd-2 waits for sign-off: answer with ship approve prd (it shows the plan), or ship reject prd --reason \"...\".\n",
		"  It can be answered by whoever may assume role "+approverRole,
		"  Approval  waiting ", "for approval (action SignOff) since ", ": ship approve prd\n",
		"  Approval  Succeeded",
		"  Deploy    Succeeded",
		"prd: execution prd-2 succeeded")
	inOrder(t, "approver's stdout", approved, "  plan:   commit "+gate.Short(f.c(2))+": 1 to add, 2 to change, 0 to destroy; no IAM or network broadening\n",
		"prd: approved execution prd-2")
	if a := answerCall(t, f); a.AccessKey != fakeaws.RoleAccessKey {
		t.Errorf("answered with %s", a.AccessKey)
	}
}
