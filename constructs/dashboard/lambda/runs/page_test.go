package runs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/dashboard/lambda/runs"
	"github.com/platform-eng/pathtoprod/constructs/dora"
	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
)

// historyOf is one succeeded run an hour before now, with the given id and trigger type.
func historyOf(id, trigger string) dora.History {
	return dora.History{Pipeline: pipeline, Runs: []dora.Run{{
		Execution: gate.Execution{ID: id, Commit: "c1c1c1c1c1", Status: "Succeeded", Type: "STANDARD", Started: now.Add(-65 * time.Minute), At: now.Add(-time.Hour)},
		Trigger:   trigger,
	}}}
}

func TestTheRangeIsTheDashboardsZoomedCutOrDefault(t *testing.T) {
	ms := func(t time.Time) int64 { return t.UnixMilli() }
	zoom := func(from, to time.Time) *runs.WidgetContext {
		c := &runs.WidgetContext{TimeRange: runs.TimeRange{Start: ms(now.Add(-7 * 24 * time.Hour)), End: ms(now)}}
		c.TimeRange.Zoom = &struct {
			Start int64 `json:"start"`
			End   int64 `json:"end"`
		}{ms(from), ms(to)}
		return c
	}
	cases := map[string]struct {
		ctx           *runs.WidgetContext
		from, to      time.Time
		cut, fallback bool
		err           string
	}{
		"the dashboard's range": {ctx: &runs.WidgetContext{TimeRange: runs.TimeRange{Start: ms(day(13, 12, 0)), End: ms(now)}}, from: day(13, 12, 0), to: now},
		"a zoomed graph's part": {ctx: zoom(day(18, 0, 0), day(19, 0, 0)), from: day(18, 0, 0), to: day(19, 0, 0)},
		"cut to 90 days":        {ctx: &runs.WidgetContext{TimeRange: runs.TimeRange{Start: ms(now.Add(-91 * 24 * time.Hour)), End: ms(now)}}, from: now.Add(-90 * 24 * time.Hour), to: now, cut: true},
		"exactly 90 days":       {ctx: &runs.WidgetContext{TimeRange: runs.TimeRange{Start: ms(now.Add(-90 * 24 * time.Hour)), End: ms(now)}}, from: now.Add(-90 * 24 * time.Hour), to: now},
		"no dashboard":          {from: now.Add(-runs.DefaultRange), to: now, fallback: true},
		"reversed":              {ctx: &runs.WidgetContext{TimeRange: runs.TimeRange{Start: ms(now), End: ms(now.Add(-time.Hour))}}, err: "the dashboard's time range ends"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := runs.Event{WidgetContext: tc.ctx}.Range(now)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !r.Window.From.Equal(tc.from) || !r.Window.To.Equal(tc.to) || r.Cut != tc.cut || r.Default != tc.fallback {
				t.Errorf("Range = %+v, %v; want %s to %s cut=%t default=%t", r, err, tc.from, tc.to, tc.cut, tc.fallback)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{"PIPELINE_NAME": pipeline, "REPOSITORY_NAME": repository, "ENVIRONMENT": "prd", "AWS_REGION": region, "HISTORY_MAX_PAGES": "25"}
	c, err := runs.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || c.Pipeline != pipeline || c.Repository != repository || c.Environment != "prd" || c.Region != region || c.MaxPages != 25 ||
		c.Rows != runs.DefaultRows || c.Reserve != runs.DefaultReserve {
		t.Errorf("ConfigFromEnv = %+v, %v", c, err)
	}
	delete(env, "HISTORY_MAX_PAGES")
	if c, _ := runs.ConfigFromEnv(func(k string) string { return env[k] }); c.MaxPages != 10 {
		t.Errorf("MaxPages default %d, want org.DefaultHistoryPages", c.MaxPages)
	}
	env["HISTORY_MAX_PAGES"], env["PIPELINE_NAME"], env["AWS_REGION"] = "101", "no spaces allowed", "mars-1"
	_, err = runs.ConfigFromEnv(func(k string) string { return env[k] })
	for _, want := range []string{`HISTORY_MAX_PAGES="101": a whole number from 1 to 100`, `PIPELINE_NAME="no spaces allowed": required, a pipeline name`, `AWS_REGION="mars-1": required`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}
}
