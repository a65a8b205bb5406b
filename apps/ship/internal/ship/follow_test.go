package ship

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// watchedOrgYAML is orgYAML with what issue 10 added: stg watches its health alarm (bake
// 10m, entry wait 15m) and rolls a failed deploy back; prd has approvers, a watch and a
// deployment window (Monday to Thursday, 09:00-17:00 Berlin).
const watchedOrgYAML = `registry:
  account: "111111111111"
  region: eu-west-1
teams:
  - name: payments
    services:
      - name: checkout
        environments:
          - name: dev
            account: "222222222222"
            region: eu-west-1
          - name: stg
            account: "333333333333"
            region: eu-west-1
            watch:
              bake: 10m
              wait: 15m
            rollbackOnFailure: true
          - name: prd
            account: "444444444444"
            region: eu-west-1
            approvers: ["arn:aws:iam::444444444444:role/payments-release-managers"]
            watch:
              alarms: [checkout-errors, checkout-latency]
              bake: 15m
            window:
              cron: "0 9 * * MON-THU"
              duration: 8h
              timeZone: Europe/Berlin
`

// followStart is the followed runs' clock at the start: Monday 2 March 2026, 07:00 UTC,
// 08:00 in Berlin, an hour before prd's window opens.
var followStart = time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)

// followFixture is a fixture whose fake runs the path's full pipelines (fakeaws.ReposFor)
// over its bare repositories, at pace, on a clock shared with ship's (App.Now) that each
// step of a run moves one minute on. GIVEN dev ran c1..c3, stg and prd c1.
// Each setup runs before the fake starts watching: what it pushes counts as already run.
func followFixture(t *testing.T, pace fakeaws.Pace, setup ...func(*fixture)) (*fixture, *fakeaws.Clock) {
	t.Helper()
	f := newFixture(t)
	must(t, os.WriteFile(os.Getenv(EnvConfig), []byte(watchedOrgYAML), 0o644))
	o, err := org.Load(os.Getenv(EnvConfig))
	must(t, err)
	p, err := o.Path("payments", "checkout")
	must(t, err)

	f.pushTo("dev", 3)
	f.pushTo("stg", 1)
	f.pushTo("prd", 1)
	clock := fakeaws.NewClock(followStart)
	f.aws.UseClock(clock)
	f.aws.SetRuns("payments-checkout-dev", run("dev-3", f.c(3), "Succeeded", followStart.Add(-30*time.Minute)),
		run("dev-2", f.c(2), "Succeeded", followStart.Add(-40*time.Minute)), run("dev-1", f.c(1), "Succeeded", followStart.Add(-50*time.Minute)))
	f.aws.SetRuns("payments-checkout-stg", run("stg-1", f.c(1), "Succeeded", followStart.Add(-45*time.Minute)))
	f.aws.SetRuns("payments-checkout-prd", run("prd-1", f.c(1), "Succeeded", followStart.Add(-35*time.Minute)))
	for _, fn := range setup {
		fn(f)
	}
	repos := fakeaws.ReposFor(p, f.bare)
	for i := range repos {
		repos[i].Pace = pace
	}
	must(t, f.aws.Watch(context.Background(), repos...))
	return f, clock
}

// followApp is ship as the follow tests run it: the fixture's clock, a 1ms poll (the
// fake's pace, not time, moves the runs), stdout no terminal unless tty.
func followApp(clock *fakeaws.Clock, tty bool) *App {
	return &App{Now: clock.Now, PollInterval: time.Millisecond,
		Terminal: func(f any) (bool, int) {
			_, isOut := f.(*bytes.Buffer)
			return tty && isOut, 200
		}}
}

// shipCtx runs ship under ctx, as the process does under its signal context.
func (f *fixture) shipCtx(ctx context.Context, app *App, args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	app.Stdout, app.Stderr = &o, &e
	code = app.Run(ctx, append(append([]string{"-C", f.dir}, f.flags...), args...))
	f.t.Logf("ship %s -> %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, o.String(), e.String())
	return code, o.String(), e.String()
}

// shipResult is how a ship run on its own goroutine ended.
type shipResult struct {
	code     int
	out, err string
}

// shipInBackground runs ship on its own goroutine, as in a person's terminal while the test
// plays AWS or the approver: finished closes when it returns, and result then holds its end.
func (f *fixture) shipInBackground(ctx context.Context, app *App, args ...string) (result <-chan shipResult, finished <-chan struct{}) {
	res, fin := make(chan shipResult, 1), make(chan struct{})
	go func() {
		defer close(fin)
		code, out, errOut := f.shipCtx(ctx, app, args...)
		res <- shipResult{code, out, errOut}
	}()
	return res, fin
}

// inOrder fails unless text has each of wants, in this order.
func inOrder(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	rest := text
	for _, w := range wants {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("%s lacks %q (in order) in:\n%s", what, w, text)
			return
		}
		rest = rest[i+len(w):]
	}
}

func TestPromoteWaitFollowsTheRunToSuccess(t *testing.T) {
	f, clock := followFixture(t, fakeaws.PaceOnRead)

	// WHEN c3 is promoted to stg with --wait
	code, out, errOut := f.shipWith(followApp(clock, false), "promote", "stg", "--wait")

	// THEN ship follows stg-2 stage by stage, one line per change, and exits 0
	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	c3 := gate.Short(f.c(3))
	inOrder(t, "stdout", out,
		"stg: pushed "+c3+" to branch main of remote stg, replacing "+gate.Short(f.c(1))+".",
		"The stg pipeline (payments-checkout-stg) runs it next: following it.",
		"stg: following execution stg-2 of "+c3+" in pipeline payments-checkout-stg, started 2026-03-02T07:00:00Z, until it ends (Ctrl-C stops following, not the run)\n",
		"  Source    Succeeded\n",
		"  Guard     running         0s  action CommitPassedUpstream\n",
		"  Guard     Succeeded    1m00s  Verified commit "+c3+": it passed dev in execution dev-3 at 2026-03-02T06:30:00Z; image sha256:",
		"  Deploy    running         0s  action Deploy\n",
		"  Deploy    running      1m00s  action Verify\n",
		"  Deploy    baking       2m00s  alarm payments-checkout-stg-health watched until 2026-03-02T07:15:00Z (bake 10m); ALARM meanwhile rolls the deploy back\n",
		"  Deploy    Succeeded    3m00s\n",
		"stg: execution stg-2 succeeded: "+c3+" is deployed in stg.\n")
	if strings.ContainsAny(out, "\r\x1b") {
		t.Errorf("output to a non-terminal has carriage returns or ANSI escapes:\n%q", out)
	}
	if n := strings.Count(out, "  Guard     running"); n != 1 {
		t.Errorf("Guard's running line printed %d times, want once (one line per change)", n)
	}
	for _, c := range f.aws.Recorded() {
		if c.Op == "StopPipelineExecution" {
			t.Errorf("ship stopped a run: %+v", c)
		}
	}
}

func TestPromoteWaitOnATerminalRewritesTheLine(t *testing.T) {
	f, clock := followFixture(t, fakeaws.PaceOnRead)

	code, out, _ := f.shipWith(followApp(clock, true), "promote", "stg", "--wait")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	// THEN each stage's line is rewritten in place (carriage return, erase line) as it
	// moves on, and ends with a newline once the next stage starts
	inOrder(t, "stdout", out,
		"  Guard     running         0s  action CommitPassedUpstream",
		"\r\x1b[K  Guard     Succeeded    1m00s  Verified commit ",
		"\n  Deploy    running         0s  action Deploy",
		"\r\x1b[K  Deploy    running      1m00s  action Verify",
		"\r\x1b[K  Deploy    baking       2m00s",
		"\r\x1b[K  Deploy    Succeeded    3m00s\n",
		"stg: execution stg-2 succeeded")
}

func TestPromoteWaitToAFailureAtDeployAndItsRollback(t *testing.T) {
	f, clock := followFixture(t, fakeaws.PaceOnRead)
	// GIVEN c3's deploy fails in stg, which rolls a failed deploy back
	f.aws.Script("payments-checkout-stg", f.c(3), fakeaws.Fate{Fail: "Deploy/Deploy",
		Error: "Stack payments-checkout-stg-app failed: Resource handler returned message: \"Invalid request\""})

	code, out, errOut := f.shipWith(followApp(clock, false), "promote", "stg", "--wait")

	// THEN ship names the stage, the action and the error, follows the rollback CodePipeline
	// started, names it and the commit it restored, and exits 1
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d", code, ExitFailed)
	}
	c1, c3 := gate.Short(f.c(1)), gate.Short(f.c(3))
	inOrder(t, "stdout", out,
		"  Deploy    running         0s  action Deploy\n",
		"  Deploy    Failed       1m00s  action Deploy: Stack payments-checkout-stg-app failed",
		"stg: CodePipeline rolls back: execution stg-3 (ROLLBACK to stg-1) redeploys "+c1+"\n",
		"  Deploy    running         0s  action Deploy\n",
		"  Deploy    running      1m00s  action Verify\n",
		"  Deploy    Succeeded    2m00s\n",
	)
	inOrder(t, "stderr", errOut,
		"ship: stg: execution stg-2 (commit "+c3+") failed at stage Deploy, action Deploy: Stack payments-checkout-stg-app failed: Resource handler returned message: \"Invalid request\"",
		"CodePipeline rolled back: execution stg-3 (ROLLBACK to stg-1) restored commit "+c1)
}

func TestPromoteWaitToAnAlarmDuringTheBake(t *testing.T) {
	f, clock := followFixture(t, fakeaws.PaceOnRead)
	f.aws.Script("payments-checkout-stg", f.c(3), fakeaws.Fate{BakeAlarm: true})

	code, out, errOut := f.shipWith(followApp(clock, false), "promote", "stg", "--wait")

	if code != ExitFailed {
		t.Fatalf("exit %d, want %d", code, ExitFailed)
	}
	c1, c3 := gate.Short(f.c(1)), gate.Short(f.c(3))
	inOrder(t, "stdout", out,
		"  Deploy    baking       2m00s  alarm payments-checkout-stg-health watched until",
		"  Deploy    Failed       3m00s  bake (success condition): alarm payments-checkout-stg-health is in ALARM",
		"stg: CodePipeline rolls back: execution stg-3 (ROLLBACK to stg-1) redeploys "+c1)
	inOrder(t, "stderr", errOut,
		"stg: execution stg-2 (commit "+c3+") failed at stage Deploy: bake (success condition): alarm payments-checkout-stg-health is in ALARM",
		"CodePipeline rolled back: execution stg-3 (ROLLBACK to stg-1) restored commit "+c1)
	// AND the fake's history agrees: stg-3 is a ROLLBACK of c1 that succeeded
	if r, _ := f.aws.Run("payments-checkout-stg", "stg-3"); r.Type != "ROLLBACK" || r.Commit != f.c(1) || r.Status != "Succeeded" {
		t.Errorf("stg-3 = %+v", r)
	}
}

func TestRollbackWaitSaysWhatItWaitsFor(t *testing.T) {
	// GIVEN stg runs c3 (deployed), and an alarm is in ALARM when c1's run reaches Deploy
	f, clock := followFixture(t, fakeaws.PaceOnRead, func(f *fixture) {
		f.pushTo("stg", 3)
		f.aws.SetRuns("payments-checkout-stg", run("stg-2", f.c(3), "Succeeded", followStart.Add(-5*time.Minute)),
			run("stg-1", f.c(1), "Succeeded", followStart.Add(-45*time.Minute)))
	})
	f.aws.Script("payments-checkout-stg", f.c(1), fakeaws.Fate{EntryAlarm: 2})

	// WHEN stg is rolled back with --wait
	code, out, errOut := f.shipWith(followApp(clock, false), "rollback", "stg", "--wait")

	// THEN ship says it waits at Deploy's entry for the alarm, until when, then deploys
	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	c1 := gate.Short(f.c(1))
	inOrder(t, "stdout", out,
		"stg: rolled back branch main of remote stg to "+c1,
		"  Nothing deploys into an incident: Deploy's entry waits while a watched alarm is in ALARM.\n",
		"  Deploy    waiting         0s  at Deploy's entry for alarm payments-checkout-stg-health to leave ALARM; the run fails at 2026-03-02T07:18:00Z if it has not\n",
		"  Deploy    running      2m00s  action Deploy\n",
		"stg: execution stg-3 succeeded: "+c1+" is deployed in stg.")
}

func TestPromoteWaitSaysItIsQueuedAndWaitsForTheWindow(t *testing.T) {
	f, clock := followFixture(t, fakeaws.PaceManual)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prd := "payments-checkout-prd"
	// GIVEN c2 and c3 passed stg, and prd's run of c2 waits for approval
	f.aws.SetRuns("payments-checkout-stg", run("stg-3", f.c(3), "Succeeded", followStart.Add(-10*time.Minute)),
		run("stg-2", f.c(2), "Succeeded", followStart.Add(-20*time.Minute)), run("stg-1", f.c(1), "Succeeded", followStart.Add(-45*time.Minute)))
	f.pushTo("prd", 2)
	must(t, f.aws.Look(ctx))
	for f.aws.Step(prd) {
	}
	// AND the deployment window is closed when c3's run reaches Deploy
	f.aws.Script(prd, f.c(3), fakeaws.Fate{WindowWait: 1})

	// WHEN c3 is promoted to prd with --wait
	done, finished := f.shipInBackground(ctx, followApp(clock, false), "promote", "prd", gate.Short(f.c(3)), "--wait")
	// AND the test moves the runs on one step at a time, each step read by ship before the
	// next: prd-3 queues behind prd-2 at the approval; prd-2 is approved and deploys; prd-3
	// reaches the approval, is approved, waits for the window, deploys and bakes
	stage := func(name string) fakeaws.Stage {
		for _, s := range f.aws.State(prd) {
			if s.Name == name {
				return s
			}
		}
		return fakeaws.Stage{}
	}
	reads := func() int {
		n := 0
		for _, c := range f.aws.Recorded() {
			if c.Op == "GetPipelineState" {
				n++
			}
		}
		return n
	}
	// After a step, ship has said what it saw once it sends its second read: it sends a
	// read only after it has dealt with the answer to the one before. (Or it has ended.)
	drive := func(what string, until func() bool) {
		t.Helper()
		for i := 0; !until(); i++ {
			if i == 30 {
				t.Fatalf("%s: not after 30 steps; state %+v", what, f.aws.State(prd))
			}
			n := reads()
			f.aws.Step(prd)
			for {
				changed := f.aws.Changed()
				if reads() >= n+2 {
					break
				}
				select {
				case <-changed:
					continue
				case <-finished:
				case <-ctx.Done():
					t.Fatalf("%s: %v", what, ctx.Err())
				}
				break
			}
		}
	}
	approve := func() {
		t.Helper()
		if code, _, errOut := f.shipCtx(ctx, followApp(clock, false), "approve", "prd", "--yes"); code != ExitOK {
			t.Fatalf("approve: exit %d: %s", code, errOut)
		}
	}
	must(t, f.aws.Await(ctx, func() bool { _, ok := f.aws.Run(prd, "prd-3"); return ok }))
	drive("prd-3 queued at the approval", func() bool { return len(stage("Approval").Inbound) == 1 })
	approve()
	drive("prd-3 at the approval", func() bool { return stage("Approval").Execution == "prd-3" })
	approve()
	drive("prd-3 done", func() bool { r, _ := f.aws.Run(prd, "prd-3"); return r.Status != "InProgress" })
	res := <-done

	// THEN ship said where prd-3 waited, and why, at every step
	if res.code != ExitOK {
		t.Fatalf("exit %d, stderr %s", res.code, res.err)
	}
	inOrder(t, "stdout", res.out,
		"prd: following execution prd-3 of "+gate.Short(f.c(3)),
		"  The pipeline runs in push order (QUEUED): execution prd-3 waits until Approval is free.\n",
		"  Approval  queued ", "to enter Approval, behind execution prd-2, which waits for approval\n",
		"  prd-3 waits for sign-off: answer with ship approve prd (it shows the plan), or ship reject prd --reason \"...\".\n"+
			"  It can be answered by whoever may assume role arn:aws:iam::444444444444:role/payments-checkout-prd-approver, "+
			"which trusts the approvers the organisation file names for prd: arn:aws:iam::444444444444:role/payments-release-managers.\n",
		"  Approval  waiting ", "for approval (action SignOff) since ", ": ship approve prd\n",
		"  Approval  Succeeded",
		"  prd deploys only inside its window: 09:00-17:00 Europe/Berlin on days matching \"0 9 * * MON-THU\".\n",
		"  Deploy    waiting ", "at Deploy's entry for the deployment window: it opens Mon 2 Mar 09:00 CET (in ",
		"  Deploy    running ", "action Deploy\n",
		"  Deploy    baking ", "alarm checkout-errors, checkout-latency watched until ",
		"prd: execution prd-3 succeeded: "+gate.Short(f.c(3))+" is deployed in prd.")
}

func TestCtrlCStopsFollowingButNotTheRun(t *testing.T) {
	f, clock := followFixture(t, fakeaws.PaceManual)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done, _ := f.shipInBackground(ctx, followApp(clock, false), "promote", "stg", "--wait")
	// GIVEN ship follows stg-2, which the test moves into Deploy
	stg := "payments-checkout-stg"
	wait, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	if err := f.aws.Await(wait, func() bool {
		_, ok := f.aws.Run(stg, "stg-2")
		return ok
	}); err != nil {
		t.Fatal(err)
	}
	for f.aws.State(stg)[2].Execution != "stg-2" {
		f.aws.Step(stg)
	}

	// WHEN ship is interrupted (Ctrl-C cancels the command's context)
	cancel()
	res := <-done

	// THEN it exits 130, says the run goes on and how to look at it, and stopped nothing
	if res.code != ExitInterrupted {
		t.Fatalf("exit %d, want %d", res.code, ExitInterrupted)
	}
	if want := "ship: stopped following; the run goes on — ship status stg / ship history stg\n"; !strings.HasSuffix(res.err, want) {
		t.Errorf("stderr %q, want it to end %q", res.err, want)
	}
	for _, c := range f.aws.Recorded() {
		if c.Op == "StopPipelineExecution" {
			t.Errorf("ship stopped the run: %+v", c)
		}
	}
	// AND the run goes on in the fake, to its end
	if r, _ := f.aws.Run(stg, "stg-2"); r.Status != "InProgress" {
		t.Fatalf("stg-2 is %s after Ctrl-C, want InProgress", r.Status)
	}
	for f.aws.Step(stg) {
	}
	if r, _ := f.aws.Run(stg, "stg-2"); r.Status != "Succeeded" {
		t.Errorf("stg-2 ended %s, want Succeeded", r.Status)
	}
}

func TestWaitRidesOutThrottlingAndSaysSoOnce(t *testing.T) {
	f, clock := followFixture(t, fakeaws.PaceOnRead)
	t.Setenv("AWS_MAX_ATTEMPTS", "1") // the SDK gives up at once, as it does after its own retries
	f.aws.Fail("GetPipelineExecution", fakeaws.Throttled, 3)

	code, out, errOut := f.shipWith(followApp(clock, false), "promote", "stg", "--wait")

	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if n := strings.Count(out, "ThrottlingException"); n != 1 {
		t.Errorf("the throttling is said %d times, want once:\n%s", n, out)
	}
	inOrder(t, "stdout", out, "note: ", "ThrottlingException", "retrying with backoff", "stg: execution stg-2 succeeded")
}

func TestWaitGivesUpOnARefusalAtOnce(t *testing.T) {
	f, clock := followFixture(t, fakeaws.PaceOnRead)
	f.aws.Fail("GetPipelineExecution", fakeaws.Fault{Status: 400, Code: "AccessDeniedException", Message: "not allowed"}, -1)

	code, _, errOut := f.shipWith(followApp(clock, false), "promote", "stg", "--wait")

	if code != ExitFailed || !strings.Contains(errOut, "following execution stg-2 of stg: ") || !strings.Contains(errOut, "AccessDeniedException") ||
		!strings.Contains(errOut, "the identity needs codepipeline:GetPipelineExecution there") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	n := 0
	for _, c := range f.aws.Recorded() {
		if c.Op == "GetPipelineExecution" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("GetPipelineExecution called %d times, want once: a refusal is not retried", n)
	}
}

func TestWaitChecksTheCredentialsBeforeItPushes(t *testing.T) {
	f, clock := followFixture(t, fakeaws.PaceOnRead)
	f.flags = []string{"--profile", "dev=dev", "--profile", "stg=prd"} // prd's key for stg

	code, _, errOut := f.shipWith(followApp(clock, false), "promote", "stg", "--wait")

	if code != ExitFailed || !strings.Contains(errOut, "--wait follows the run in stg, which needs its pipeline: ") || !strings.Contains(errOut, "(nothing was pushed)") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if f.branch("stg") != f.c(1) {
		t.Errorf("stg was pushed to %s", f.branch("stg"))
	}
}

func TestWaitIsRefusedWhereItMeansNothing(t *testing.T) {
	f := newFixture(t)
	code, _, errOut := f.ship("status", "--wait")
	if code != ExitUsage || !strings.Contains(errOut, "--wait applies only to promote, rollback or approve, not to status") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = f.ship("reject", "prd", "--wait", "--reason", "x")
	if code != ExitUsage || !strings.Contains(errOut, "--wait applies only to promote, rollback or approve, not to reject") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if len(f.aws.Recorded()) != 0 {
		t.Errorf("AWS was called: %v", f.aws.Ops())
	}
}

// TestPromoteWaitWhenTheBranchHasTheCommit: nothing to push, but its run is in progress:
// --wait follows that run.
func TestPromoteWaitWhenTheBranchHasTheCommit(t *testing.T) {
	f, clock := followFixture(t, fakeaws.PaceOnRead)
	f.pushTo("stg", 3)
	must(t, f.aws.Look(context.Background())) // the fake sees the push: stg-2 runs c3

	code, out, _ := f.shipWith(followApp(clock, false), "promote", "stg", "--wait")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	inOrder(t, "stdout", out, "already points at "+gate.Short(f.c(3))+"; nothing pushed.",
		"stg: following execution stg-2 of "+gate.Short(f.c(3)), "stg: execution stg-2 succeeded")
	// AND with no run in progress, there is nothing to follow
	code, out, _ = f.shipWith(followApp(clock, false), "promote", "stg", "--wait")
	if code != ExitOK || !strings.Contains(out, "--wait: no run of "+gate.Short(f.c(3))+" is in progress in stg; nothing to follow.") {
		t.Errorf("exit %d, stdout %q", code, out)
	}
}

func TestFollowHelpers(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0s", 59 * time.Second: "59s", 61 * time.Second: "1m01s", 2*time.Hour + 3*time.Minute: "2h03m"} {
		if got := duration(d); got != want {
			t.Errorf("duration(%s) = %q, want %q", d, got, want)
		}
	}
	var b bytes.Buffer
	l := &liveLine{w: &b, tty: true, width: 10}
	l.show("a", "0123456789abc")
	l.show("a", "xy")
	l.note("note")
	if got, want := b.String(), "01234567…\r\x1b[Kxy\nnote\n"; got != want {
		t.Errorf("live line wrote %q, want %q", got, want)
	}
}

// TestWaitForARunThatEndedBeforeTheFirstLook: the run (and its rollback) ended before ship
// first read it, as a fast run between two polls does: ship still says every stage, where
// it failed and why (from the run's action executions), and the rollback.
func TestWaitForARunThatEndedBeforeTheFirstLook(t *testing.T) {
	f, clock := followFixture(t, fakeaws.PaceInstant)
	f.aws.Script("payments-checkout-stg", f.c(3), fakeaws.Fate{BakeAlarm: true})

	code, out, errOut := f.shipWith(followApp(clock, false), "promote", "stg", "--wait")

	if code != ExitFailed {
		t.Fatalf("exit %d, want %d", code, ExitFailed)
	}
	c1, c3 := gate.Short(f.c(1)), gate.Short(f.c(3))
	inOrder(t, "stdout", out,
		"  Source    Succeeded\n",
		"  Guard     Succeeded           Verified commit "+c3,
		"  Deploy    Failed              its actions succeeded, then a watched alarm (payments-checkout-stg-health) went into ALARM during the bake\n",
		"stg: CodePipeline rolls back: execution stg-3 (ROLLBACK to stg-1) redeploys "+c1+"\n",
		"  Deploy    Succeeded\n")
	inOrder(t, "stderr", errOut,
		"stg: execution stg-2 (commit "+c3+") failed at stage Deploy: its actions succeeded, then a watched alarm (payments-checkout-stg-health) went into ALARM during the bake",
		"CodePipeline rolled back: execution stg-3 (ROLLBACK to stg-1) restored commit "+c1)
}

// TestWaitEndsAtTheTimeoutAndSaysTheRunGoesOn: a run that does not end within --timeout
// (the fake never moves it) is left running; ship says so and exits 1, not 130.
func TestWaitEndsAtTheTimeoutAndSaysTheRunGoesOn(t *testing.T) {
	f, clock := followFixture(t, fakeaws.PaceManual)

	code, _, errOut := f.shipWith(followApp(clock, false), "promote", "stg", "--wait", "--timeout", "300ms")

	if code != ExitFailed {
		t.Fatalf("exit %d, want %d", code, ExitFailed)
	}
	for _, want := range []string{"stopped following execution stg-2 of stg", "the run goes on — ship status stg / ship history stg",
		"(the command ran longer than --timeout 300ms)"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q: %s", want, errOut)
		}
	}
	if r, _ := f.aws.Run("payments-checkout-stg", "stg-2"); r.Status != "InProgress" || f.branch("stg") != f.c(3) {
		t.Errorf("stg-2 %+v, branch %s: want the push made and its run still going", r, f.branch("stg"))
	}
}
