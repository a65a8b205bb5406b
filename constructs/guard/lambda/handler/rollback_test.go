package handler_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// TestRealSDKRefusesACommitWhoseRunWasRolledBack: stg's Deploy stage is rolled back (a
// CodePipeline V2 stage rollback, as test/fakeaws records it: a new ROLLBACK execution
// naming its target, while the run it undid keeps its Succeeded status). Through the real
// SDK, the guard refuses the commit of the run that was undone and names the rollback, lets
// the restored commit and older ones through, and lets the undone commit through again
// once a newer run of it succeeds.
func TestRealSDKRefusesACommitWhoseRunWasRolledBack(t *testing.T) {
	rolledBackAt := time.Date(2026, 11, 20, 11, 0, 0, 0, time.UTC)
	// history(10): exec-0000 (commitN(0)) is the newest, Succeeded at 10:00; exec-0001
	// (commitN(1)) Succeeded at 09:00.
	type guarded struct {
		*fakeAWS
		url string
	}
	setup := func(t *testing.T) guarded {
		fake := &fakeAWS{Executions: history(10), ImageDigest: digest}
		srv := newFakeAWS(t, fake)
		fake.srv.SetClock(func() time.Time { return rolledBackAt })
		r, err := fake.srv.RollBack(testPipeline, "exec-0001")
		if err != nil || r.ID != "payments-checkout-stg-11" {
			t.Fatalf("RollBack: %+v, %v", r, err)
		}
		return guarded{fake, srv.URL}
	}
	guard := func(t *testing.T, fake guarded, commit string) (passed bool, msg string) {
		t.Helper()
		h := newSDKHandler(fake.url, withImage)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Handle(ctx, eventFor(testJobID, commit)); err != nil {
			t.Fatalf("Handle: %v", err)
		}
		if c, ok := fake.srv.Last("PutJobSuccessResult"); ok {
			vars, _ := c.Input["outputVariables"].(map[string]any)
			s, _ := vars["Summary"].(string)
			return true, s
		}
		fd, _ := fake.last(t, "PutJobFailureResult").Body["failureDetails"].(map[string]any)
		s, _ := fd["message"].(string)
		return false, s
	}

	t.Run("the commit whose run was rolled back is refused, naming the rollback", func(t *testing.T) {
		fake := setup(t)
		passed, msg := guard(t, fake, commitN(0))
		want := "commit " + commitN(0)[:7] + "'s newest run in stg (execution exec-0000, Succeeded at 2026-11-20T10:00:00Z) " +
			"was rolled back by execution payments-checkout-stg-11 (a rollback to " + commitN(1)[:7] +
			", execution exec-0001, at 2026-11-20T11:00:00Z): it has not passed stg; a newer successful run of it would count"
		if passed || msg != want {
			t.Errorf("passed=%t, message\n  %s\nwant\n  %s", passed, msg, want)
		}
		// One page read, and neither the image checked nor a pass reported.
		if want := []string{"AssumeRole", "ListPipelineExecutions", "PutJobFailureResult"}; !slices.Equal(fake.ops(), want) {
			t.Errorf("calls = %v, want %v", fake.ops(), want)
		}
	})
	t.Run("the commit the rollback restored passes", func(t *testing.T) {
		fake := setup(t)
		if passed, msg := guard(t, fake, commitN(1)); !passed {
			t.Errorf("refused: %s", msg)
		}
	})
	t.Run("an older commit passes", func(t *testing.T) {
		fake := setup(t)
		if passed, msg := guard(t, fake, commitN(2)); !passed {
			t.Errorf("refused: %s", msg)
		}
	})
	t.Run("a newer successful run of the rolled-back commit passes it again", func(t *testing.T) {
		fake := setup(t)
		again := fakeaws.Run{ID: "payments-checkout-stg-12", Commit: commitN(0), Status: "Succeeded", At: rolledBackAt.Add(time.Hour)}
		fake.srv.SetRuns(testPipeline, append([]fakeaws.Run{again}, fake.srv.Runs(testPipeline)...)...)
		passed, msg := guard(t, fake, commitN(0))
		if want := "Verified commit " + commitN(0)[:7] + ": it passed stg in execution payments-checkout-stg-12 at 2026-11-20T12:00:00Z"; !passed || len(msg) < len(want) || msg[:len(want)] != want {
			t.Errorf("passed=%t, message %q, want it to start %q", passed, msg, want)
		}
	})

	t.Run("a rollback on page 1 marks a run on page 2, its target on page 3 unread", func(t *testing.T) {
		fake := &fakeAWS{Executions: history(300)}
		srv := newFakeAWS(t, fake)
		fake.srv.SetClock(func() time.Time { return rolledBackAt })
		if _, err := fake.srv.RollBack(testPipeline, "exec-0250"); err != nil {
			t.Fatal(err)
		}
		passed, msg := guard(t, guarded{fake, srv.URL}, commitN(150))
		if want := "was rolled back by execution payments-checkout-stg-301 (a rollback to " + commitN(250)[:7] + ", execution exec-0250,"; passed || !strings.Contains(msg, want) {
			t.Errorf("passed=%t, message %q lacks %q", passed, msg, want)
		}
		if want := []string{"AssumeRole", "ListPipelineExecutions", "ListPipelineExecutions", "PutJobFailureResult"}; !slices.Equal(fake.ops(), want) {
			t.Errorf("calls = %v, want %v", fake.ops(), want)
		}
	})
}
