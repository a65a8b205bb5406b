package runs_test

import (
	"slices"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/dashboard/lambda/runs"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// GIVEN a warm function that showed the week once WHEN the dashboard is refreshed THEN only
// the history's pages (and commits never found) are read again; and WHEN a failed run was retried meanwhile (it
// changed) THEN that run, and only it, is asked about again, and counted as it is now.
func TestAWarmFunctionRereadsOnlyWhatCanChange(t *testing.T) {
	fake := fakeaws.New()
	c := history(fake)
	h := handler(t, fake, c)
	h.Pipelines, h.Commits = runs.RememberActions(h.Pipelines), runs.RememberCommits(c)
	week := view(now.Add(-7*24*time.Hour), now)

	handle(t, h, week)
	if ops := fake.Ops(); !slices.Equal(ops, []string{"ListPipelineExecutions", "ListActionExecutions", "ListActionExecutions"}) || c.calls != 1 {
		t.Fatalf("first view: %v and %d commit batches", ops, c.calls)
	}
	fake.ForgetCalls()
	c.asked = nil
	again := text(handle(t, h, week))
	if ops := fake.Ops(); !slices.Equal(ops, []string{"ListPipelineExecutions"}) {
		t.Errorf("refresh: %v, want the history's page only", ops)
	}
	// The commits whose times were read are not asked for again; the ones the repository
	// lacks (the fake has no time for them) are, since they may be pushed later.
	if want := []string{"c7c7c7c7c7", "c4c4c4c4c4", "c2c2c2c2c2", "c0c0c0c0c0"}; !slices.Equal(c.asked, want) {
		t.Errorf("refresh asked CodeCommit for %v, want only %v", c.asked, want)
	}
	contains(t, again, "Change failure rate 40% 2 of 5", "Lead time for changes 1h 30m median")

	// r4, refused by the guard, was retried from its failed stage: it changed, went on and
	// failed in Deploy.
	runsNow := fake.Runs(pipeline)
	for i := range runsNow {
		if runsNow[i].ID == "r4" {
			runsNow[i].At = day(16, 11, 0)
		}
	}
	fake.SetRuns(pipeline, runsNow...)
	fake.SetActionRuns(pipeline, append(fake.ActionRuns(pipeline),
		fakeaws.ActionRun{Execution: "r4", Stage: "Deploy", Action: "Deploy", Status: "Failed"})...)
	fake.ForgetCalls()
	after := text(handle(t, h, week))
	var asked []string
	for _, call := range fake.Recorded() {
		if call.Op == "ListActionExecutions" {
			f, _ := call.Input["filter"].(map[string]any)
			asked = append(asked, f["pipelineExecutionId"].(string))
		}
	}
	if !slices.Equal(asked, []string{"r4"}) {
		t.Errorf("after r4 changed, asked about %v, want r4 only", asked)
	}
	contains(t, after, "Change failure rate 50% 3 of 6")
}
