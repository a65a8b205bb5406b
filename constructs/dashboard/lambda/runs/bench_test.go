package runs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/dashboard/lambda/runs"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// BenchmarkViewOfAFullHistory is one view of a 90-day range over the whole bounded history
// (10 pages of 100 runs: a busy environment), through the real SDK and the shared fake: one
// run every 2h9m, every tenth a failed deploy. It reports the calls a view makes: cold (a
// function's first view) and warm (a refresh, with what cannot change remembered).
//
//	go test ./constructs/dashboard/lambda/runs/ -run '^$' -bench FullHistory
func BenchmarkViewOfAFullHistory(b *testing.B) {
	b.Run("cold", func(b *testing.B) { benchmarkView(b, false) })
	b.Run("warm", func(b *testing.B) { benchmarkView(b, true) })
}

func benchmarkView(b *testing.B, warm bool) {
	fake := fakeaws.New()
	var list []fakeaws.Run
	var actions []fakeaws.ActionRun
	times := map[string]time.Time{}
	for i := 0; i < 1000; i++ {
		id, commit := fmt.Sprintf("r%04d", i), fmt.Sprintf("%040d", i)
		at := now.Add(-time.Duration(i) * 129 * time.Minute)
		status := "Succeeded"
		if i%10 == 5 {
			status = "Failed"
			actions = append(actions, fakeaws.ActionRun{Execution: id, Stage: "Deploy", Action: "Deploy", Status: "Failed"})
		}
		list = append(list, fakeaws.Run{ID: id, Commit: commit, Status: status, At: at})
		times[commit] = at.Add(-time.Hour)
	}
	fake.SetRuns(pipeline, list...)
	fake.SetActionRuns(pipeline, actions...)
	c := &commits{times: times}
	h := handler(b, fake, c)
	event := view(now.Add(-90*24*time.Hour), now)
	if warm {
		h.Pipelines, h.Commits = runs.RememberActions(h.Pipelines), runs.RememberCommits(c)
		handle(b, h, event)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fake.ForgetCalls()
		c.calls = 0
		handle(b, h, event)
	}
	b.StopTimer()
	ops := map[string]int{}
	for _, op := range fake.Ops() {
		ops[op]++
	}
	b.ReportMetric(float64(ops["ListPipelineExecutions"]), "ListPipelineExecutions/op")
	b.ReportMetric(float64(ops["ListActionExecutions"]), "ListActionExecutions/op")
	b.ReportMetric(float64(c.calls), "BatchGetCommits/op")
}
