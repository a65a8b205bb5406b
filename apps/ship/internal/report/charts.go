package report

import (
	"fmt"
	"math"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/platform-eng/pathtoprod/constructs/dora"
)

// envSeries is one environment's events to chart.
type envSeries struct {
	Name, Colour string
	Events       []dora.Event
	// Window is the environment's own window (shortened when the history bound cut it):
	// events outside it are not drawn, as they are not counted.
	Window dora.Window
}

// chartHeight is the height in pixels of one delivery chart: its three panels and legend.
const chartHeight = 540

// The series ids the page script reads (tooltips, what it drew): kind-environment index.
const (
	seriesLead     = "lead"     // a deploy's lead time (a path's chart)
	seriesMedian   = "median"   // the weekly median lead time
	seriesP90      = "p90"      // the weekly p90 lead time (the organisation's chart)
	seriesDeploys  = "deploys"  // deploys per week
	seriesFailures = "failures" // failures per week
	seriesRestore  = "restore"  // a restored failure's time to restore (the organisation's: weekly median)
	seriesOpen     = "open"     // a failure still open: how long so far
)

// minHours is the floor of the log-scale axes: a lead time or a restore of 0 (a committer
// clock ahead of CodePipeline's) is drawn at 36 seconds rather than not at all.
const minHours = 0.01

// deliveryChart is one ECharts option of three panels sharing a time axis over w: lead time
// (each deploy's for a path, or for the organisation the weekly median and p90, which stay
// readable over thousands of deploys), deploys per week, and failures per week with each
// failure's time to restore (red; a triangle while still open, at its age at generated;
// for the organisation, the weekly median of the restored ones).
// Series are named by environment, so the legend names each once and toggles all of them.
//
// It is built with go-echarts and handed to the page as the option's JSON (chart.JSON,
// which html/template marshals escaped), not as RenderSnippet's Script or Option: the
// Script writes the option unescaped inside <script> (an environment named "</script>..."
// would end it), and both strip every "__f__" (go-echarts' marker for JavaScript
// functions) from the text, corrupting a name that contains it.
func deliveryChart(envs []envSeries, w dora.Window, generated time.Time, org bool) map[string]any {
	k := newWeeks(w)
	xMin, xMax := w.From.UnixMilli(), w.To.UnixMilli()
	timeAxis := func(grid int) opts.XAxis {
		return opts.XAxis{Type: "time", GridIndex: grid, Min: xMin, Max: xMax,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true), HideOverlap: opts.Bool(true)}}
	}
	valueAxis := func(grid int, name, kind string, position string) opts.YAxis {
		y := opts.YAxis{Name: name, Type: kind, GridIndex: grid, Position: position,
			AxisLabel: &opts.AxisLabel{Show: opts.Bool(true)}, SplitLine: &opts.SplitLine{Show: opts.Bool(true)}}
		if kind == "value" {
			y.MinInterval = 1
		}
		return y
	}
	names := make([]string, len(envs))
	for i, e := range envs {
		names[i] = e.Name
	}
	leadName := "lead time (h)"
	if org {
		leadName = "lead time (h): weekly median, p90 dashed"
	}

	// The base is the line chart so that each environment's first series is in its colour:
	// ECharts draws a legend entry in the colour of the first series of that name.
	c := charts.NewLine()
	c.SetGlobalOptions(
		charts.WithAnimation(false),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Data: names, Top: "0"}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithGridOpts(
			opts.Grid{Left: "70", Right: "70", Top: "60", Height: "170"},
			opts.Grid{Left: "70", Right: "70", Top: "290", Height: "80"},
			opts.Grid{Left: "70", Right: "70", Top: "430", Height: "80"},
		),
		charts.WithXAxisOpts(timeAxis(0)),
		charts.WithYAxisOpts(valueAxis(0, leadName, "log", "left")),
	)
	c.ExtendXAxis(timeAxis(1), timeAxis(2))
	c.ExtendYAxis(
		valueAxis(1, "deploys per week", "value", "left"),
		valueAxis(2, "failures per week", "value", "left"),
		valueAxis(2, "time to restore (h)", "log", "right"),
	)

	points, bars := charts.NewScatter(), charts.NewBar()
	// Bars on a time axis have no category to fill: cap them so a week's bars stay apart.
	barWidth := charts.WithSeriesOpts(func(s *charts.SingleSeries) { s.BarMaxWidth = "12" })
	for i, e := range envs {
		id := func(kind string) charts.SeriesOpts { return charts.WithSeriesId(fmt.Sprintf("%s-%d", kind, i)) }
		var lead []opts.ScatterData
		weekLead := make([][]time.Duration, k.n)
		deploys := make([]int, k.n)
		failures := make([]int, k.n)
		var restored, open []opts.ScatterData
		weekRestore := make([][]time.Duration, k.n)
		for _, ev := range e.Events {
			if !e.Window.Contains(ev.At) || !w.Contains(ev.At) {
				continue
			}
			wk := k.index(ev.At)
			if ev.Kind == dora.KindDeploy {
				deploys[wk]++
				if ev.HasLeadTime {
					weekLead[wk] = append(weekLead[wk], ev.LeadTime)
					lead = append(lead, opts.ScatterData{Value: point(ev.At, ev.LeadTime)})
				}
			}
			// A failure as Summarise counts it: a failed deploy, or a deploy later undone.
			if ev.Failed && (ev.Kind == dora.KindDeploy || ev.Kind == dora.KindFailedDeploy) {
				failures[wk]++
				if ev.IsRestored() {
					restored = append(restored, opts.ScatterData{Value: point(ev.At, ev.RestoreTime)})
					weekRestore[wk] = append(weekRestore[wk], ev.RestoreTime)
				} else {
					open = append(open, opts.ScatterData{Value: point(ev.At, generated.Sub(ev.At))})
				}
			}
		}
		envStyle := charts.WithItemStyleOpts(opts.ItemStyle{Color: e.Colour})
		if !org {
			points.AddSeries(e.Name, lead, id(seriesLead), envStyle,
				charts.WithScatterChartOpts(opts.ScatterChart{Symbol: "circle", SymbolSize: 7}))
		}
		median := make([]opts.LineData, 0, k.n)
		p90 := make([]opts.LineData, 0, k.n)
		for wk, samples := range weekLead {
			if len(samples) == 0 {
				continue
			}
			s := dora.NewStats(samples)
			median = append(median, opts.LineData{Value: []any{k.mid(wk), hours(s.Median)}})
			p90 = append(p90, opts.LineData{Value: []any{k.mid(wk), hours(s.P90)}})
		}
		c.AddSeries(e.Name, median, id(seriesMedian), envStyle,
			charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), SymbolSize: 4}),
			charts.WithLineStyleOpts(opts.LineStyle{Color: e.Colour, Width: 2}))
		if org {
			c.AddSeries(e.Name, p90, id(seriesP90), envStyle,
				charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), SymbolSize: 4}),
				charts.WithLineStyleOpts(opts.LineStyle{Color: e.Colour, Width: 1.5, Type: "dashed"}))
		}
		bars.AddSeries(e.Name, weekBars(k, deploys), id(seriesDeploys), envStyle,
			charts.WithBarChartOpts(opts.BarChart{XAxisIndex: 1, YAxisIndex: 1}), barWidth)
		bars.AddSeries(e.Name, weekBars(k, failures), id(seriesFailures), envStyle,
			charts.WithBarChartOpts(opts.BarChart{XAxisIndex: 2, YAxisIndex: 2}), barWidth)
		// Opaque: ECharts draws scatter points at 0.8 opacity, which would turn red to pink.
		failure := charts.WithItemStyleOpts(opts.ItemStyle{Color: failureColour, BorderColor: e.Colour, BorderWidth: 2, Opacity: opts.Float(1)})
		if org {
			// Hundreds of failures over 50 paths would be a red smear: the organisation
			// shows each week's median time to restore (of the failures that began in it).
			var median []opts.LineData
			for wk, samples := range weekRestore {
				if len(samples) > 0 {
					median = append(median, opts.LineData{Value: []any{k.mid(wk), hours(dora.NewStats(samples).Median)}})
				}
			}
			c.AddSeries(e.Name, median, id(seriesRestore), failure,
				charts.WithLineChartOpts(opts.LineChart{XAxisIndex: 2, YAxisIndex: 3, Symbol: "circle", SymbolSize: 8, ShowSymbol: opts.Bool(true)}),
				charts.WithLineStyleOpts(opts.LineStyle{Color: e.Colour, Width: 1, Type: "dotted"}))
		} else {
			points.AddSeries(e.Name, restored, id(seriesRestore), failure,
				charts.WithScatterChartOpts(opts.ScatterChart{XAxisIndex: 2, YAxisIndex: 3, Symbol: "circle", SymbolSize: 10}))
		}
		points.AddSeries(e.Name, open, id(seriesOpen), failure,
			charts.WithScatterChartOpts(opts.ScatterChart{XAxisIndex: 2, YAxisIndex: 3, Symbol: "triangle", SymbolSize: 12}))
	}
	c.Overlap(points, bars)
	// What RenderSnippet would run first (it fills defaults), without its unescaped output.
	c.Validate()
	return c.JSON()
}

// point is an event on a time axis against a duration in hours, floored for a log axis.
func point(at time.Time, d time.Duration) []any {
	return []any{at.UnixMilli(), hours(d)}
}

func hours(d time.Duration) float64 {
	return math.Max(math.Round(d.Hours()*100)/100, minHours)
}

// weekBars are counts per week as bars at each week's middle; weeks of 0 are left out (a
// bar of 0 draws nothing, and leaving it out keeps the file small).
func weekBars(k weeks, counts []int) []opts.BarData {
	var out []opts.BarData
	for wk, n := range counts {
		if n > 0 {
			out = append(out, opts.BarData{Value: []any{k.mid(wk), n}})
		}
	}
	return out
}

// weeks are the window's 7-day buckets counted from its start (the last may be shorter),
// so "per week" on the charts is the same week the figures' per-week rate divides by.
type weeks struct {
	w dora.Window
	n int
}

const week = 7 * 24 * time.Hour

func newWeeks(w dora.Window) weeks {
	return weeks{w: w, n: max(int(math.Ceil(float64(w.To.Sub(w.From))/float64(week))), 1)}
}

func (k weeks) index(t time.Time) int { return min(max(int(t.Sub(k.w.From)/week), 0), k.n-1) }

// mid is the middle of week i (of what of it is inside the window), in Unix milliseconds.
func (k weeks) mid(i int) int64 {
	start := k.w.From.Add(time.Duration(i) * week)
	end := start.Add(week)
	if end.After(k.w.To) {
		end = k.w.To
	}
	return start.Add(end.Sub(start) / 2).UnixMilli()
}
