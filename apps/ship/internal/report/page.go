package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/dora"
)

// The page: an html/template (so every string from the input is escaped for where it lands,
// text, attribute or script data), the ECharts library inlined, and a small script of ours.
var (
	//go:embed page.html
	pageHTML string
	//go:embed page.js
	pageJS string
	//go:embed assets/echarts.min.js
	echartsJS string

	pageTemplate = template.Must(template.New("report").Parse(pageHTML))
)

// Colours. An environment name keeps its colour in every chart: the palette is taken in the
// order names first appear in the input (promotion order: dev, stg, prd). None is red or
// near it, so red means a failure and nothing else; the screenshot test relies on that.
var envPalette = []string{"#1f77b4", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"}

// failureColour marks failures (a failed deploy, a deploy rolled back) wherever they are drawn.
const failureColour = "#d62728"

// page is what the template shows; every field is already a readable string or a chart.
type page struct {
	Title, From, To, Days, Generated string
	Palette                          []swatch
	// Failures counts the organisation's failures; FailureColour draws them.
	Failures      int
	FailureColour string
	Org           orgView
	Paths         []pathView
	// Open says the per-path sections start open (few paths).
	Open bool
	// ECharts and Script are the inlined library and our page script.
	ECharts, Script template.JS
}

type swatch struct{ Name, Colour string }

type orgView struct {
	Envs  []figures
	Notes []string
	Chart chartView
}

type pathView struct {
	Name, Anchor string
	Envs         []figures
	// Index is the path's figures in the palette's order (Missing where the path has no
	// environment of that name), for the index of paths.
	Index []figures
	Notes []string
	Chart chartView
	// Deploys, Failures are the path's counts over all its readable environments (the
	// summary line of a closed section).
	Deploys, Failures int
}

// figures are one environment's four keys, as text.
type figures struct {
	Name, Colour string
	// Problem says the environment could not be read: every figure below is empty.
	Problem string
	// Missing says the path has no environment of this name (index only).
	Missing bool

	Deploys, PerWeek         string
	LeadMedian, LeadP90      string
	LeadN, LeadUnknown       int
	CFR                      string
	RestoreMedian, Restore90 string
	RestoreN, Open           int
	// Shortened is when the shortened window starts ("" when it was not).
	Shortened string
}

// chartView is one chart: its element id, height and ECharts option (a Go value, so the
// template marshals and escapes it as JSON inside a script of type application/json).
type chartView struct {
	// Empty says there is nothing to draw: no environment could be read.
	Empty  bool
	ID     string
	Height int
	Option map[string]any
}

func buildPage(in Input) (page, error) {
	w := in.Window
	p := page{
		Title:         in.Title,
		From:          day(w.From),
		To:            day(w.To),
		Days:          fmt.Sprintf("%.0f", math.Round(w.Days())),
		Generated:     in.Generated.UTC().Format("2006-01-02 15:04 UTC"),
		Open:          len(in.Paths) <= OpenPaths,
		FailureColour: failureColour,
		ECharts:       template.JS(echartsJS),
		Script:        template.JS(pageJS),
	}
	// Colours by first appearance; the organisation's events by environment name.
	colour := map[string]string{}
	var names []string
	orgEvents := map[string][]dora.Event{}
	unreadable := map[string][]string{}
	readable := map[string]int{}
	var shortened []string
	for _, path := range in.Paths {
		for _, e := range path.Envs {
			if _, ok := colour[e.Name]; !ok {
				colour[e.Name] = envPalette[len(names)%len(envPalette)]
				names = append(names, e.Name)
				p.Palette = append(p.Palette, swatch{e.Name, colour[e.Name]})
			}
			if e.Problem != "" {
				unreadable[e.Name] = append(unreadable[e.Name], path.Name)
				continue
			}
			readable[e.Name]++
			orgEvents[e.Name] = append(orgEvents[e.Name], e.Metrics.Events...)
			if e.Metrics.Summary.Shortened {
				shortened = append(shortened, fmt.Sprintf("%s %s (from %s)", path.Name, e.Name, day(e.Metrics.Summary.Window.From)))
			}
		}
	}

	// The organisation: one Summarise per environment name over every readable
	// environment's events, so its percentiles are over all the samples.
	var orgSeries []envSeries
	for _, name := range names {
		if readable[name] == 0 {
			p.Org.Envs = append(p.Org.Envs, figures{Name: name, Colour: colour[name],
				Problem: fmt.Sprintf("no %s environment could be read", name)})
			continue
		}
		s := dora.Summarise(orgEvents[name], w)
		p.Org.Envs = append(p.Org.Envs, newFigures(name, colour[name], s))
		p.Failures += s.Failures
		orgSeries = append(orgSeries, envSeries{Name: name, Colour: colour[name], Events: orgEvents[name], Window: w})
	}
	for _, name := range names {
		if paths := unreadable[name]; len(paths) > 0 {
			p.Org.Notes = append(p.Org.Notes, fmt.Sprintf("The organisation's %s figures leave out %d unreadable %s: %s.",
				name, len(paths), plural(len(paths), "environment", "environments"), join(paths)))
		}
	}
	if len(shortened) > 0 {
		p.Org.Notes = append(p.Org.Notes, fmt.Sprintf("%d %s a shortened window (the history bound stopped the read): %s.",
			len(shortened), plural(len(shortened), "environment covers", "environments cover"), join(shortened)))
	}
	p.Org.Chart = newChart("chart-org", orgSeries, w, in.Generated, true)

	for i, path := range in.Paths {
		v := pathView{Name: path.Name, Anchor: fmt.Sprintf("path-%d", i+1)}
		var series []envSeries
		for _, e := range path.Envs {
			if e.Problem != "" {
				v.Envs = append(v.Envs, figures{Name: e.Name, Colour: colour[e.Name], Problem: e.Problem})
				v.Notes = append(v.Notes, fmt.Sprintf("%s could not be read: %s", e.Name, e.Problem))
				continue
			}
			for _, n := range e.Notes {
				v.Notes = append(v.Notes, e.Name+": "+n)
			}
			s := e.Metrics.Summary
			v.Envs = append(v.Envs, newFigures(e.Name, colour[e.Name], s))
			v.Deploys += s.Deployments
			v.Failures += s.Failures
			series = append(series, envSeries{Name: e.Name, Colour: colour[e.Name], Events: e.Metrics.Events, Window: s.Window})
		}
		v.Chart = newChart(fmt.Sprintf("chart-%d", i+1), series, w, in.Generated, false)
		byName := map[string]figures{}
		for _, f := range v.Envs {
			byName[f.Name] = f
		}
		for _, name := range names {
			f, ok := byName[name]
			f.Missing = !ok
			v.Index = append(v.Index, f)
		}
		p.Paths = append(p.Paths, v)
	}
	return p, nil
}

func newChart(id string, envs []envSeries, w dora.Window, generated time.Time, org bool) chartView {
	if len(envs) == 0 {
		return chartView{Empty: true}
	}
	return chartView{ID: id, Height: chartHeight, Option: deliveryChart(envs, w, generated, org)}
}

// newFigures writes a summary's four keys as text.
func newFigures(name, colour string, s dora.Summary) figures {
	f := figures{
		Name: name, Colour: colour,
		Deploys:     fmt.Sprint(s.Deployments),
		PerWeek:     fmt.Sprintf("%.1f", s.PerWeek()),
		LeadN:       s.LeadTime.N,
		LeadUnknown: s.LeadTimeUnknown,
		CFR:         "–",
		RestoreN:    s.Restore.N,
		Open:        s.Unrestored,
	}
	if s.LeadTime.N > 0 {
		f.LeadMedian, f.LeadP90 = duration(s.LeadTime.Median), duration(s.LeadTime.P90)
	}
	if rate, ok := s.ChangeFailureRate(); ok {
		f.CFR = fmt.Sprintf("%.0f%% (%d/%d)", rate*100, s.Failures, s.Attempts)
	}
	if s.Restore.N > 0 {
		f.RestoreMedian, f.Restore90 = duration(s.Restore.Median), duration(s.Restore.P90)
	}
	if s.Shortened {
		f.Shortened = day(s.Window.From)
	}
	return f
}

// duration is a duration as a person reads it: 40s, 12m, 5h 03m, 2d 4h.
func duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second).Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute).Minutes()))
	case d < 24*time.Hour:
		d = d.Round(time.Minute)
		if d == 24*time.Hour {
			return "1d 0h"
		}
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		d = d.Round(time.Hour)
		return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func join(items []string) string {
	out := ""
	for i, s := range items {
		switch {
		case i == 0:
		case i == len(items)-1:
			out += " and "
		default:
			out += ", "
		}
		out += s
	}
	return out
}
