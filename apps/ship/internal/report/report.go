// Package report writes the delivery report: one self-contained HTML file of charts of
// the dora metrics, per path and for the organisation.
//
// The simplest use:
//
//	f, _ := os.Create("report.html")
//	err := report.Write(f, report.Input{
//		Title:     "payments",
//		Window:    w,
//		Generated: time.Now(),
//		Paths: []report.Path{{Name: "payments/checkout", Envs: []report.Env{
//			{Name: "dev", Metrics: dora.Compute(devHistory, times, w)},
//			{Name: "prd", Problem: "AccessDenied reading payments-checkout-prd"},
//		}}},
//	})
//
// The file opens with no network: ECharts (assets/echarts.min.js, the version package.json
// pins, Apache-2.0; its LICENSE and NOTICE are beside it) is inlined, and the page loads
// nothing else. The charts are built with go-echarts, whose options are handed to the page
// as JSON that html/template escapes (see deliveryChart for why not its RenderSnippet).
//
// What the page shows:
//
//   - the organisation: per environment name, dora.Summarise over the events of every
//     readable environment of that name, so medians and p90s are over all samples, not
//     medians of medians; and one chart of it (weekly median and p90 lead time, deploys per
//     week, failures per week and the weekly median time to restore);
//   - an index of the paths, then per path the four keys of each environment and one
//     combined chart (each deploy's lead time and the weekly median, deploys per week,
//     failures per week and time to restore). With more than [OpenPaths] paths, the
//     per-path sections start closed and draw their chart when opened, so 50 paths stay
//     quick to open.
//
// Each environment name keeps one colour in every chart, in the order the names first
// appear (dev, stg, prd: blue, purple, teal); failures are red, the only red on the page.
// An environment that could not be read (Env.Problem) is shown as unreadable with its
// problem, never as zeros, and is left out of the organisation's figures (which say so).
package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/dora"
)

// Input is what the report shows.
type Input struct {
	// Title names the organisation (e.g. the organisation file).
	Title string
	// Window is the span the metrics cover.
	Window dora.Window
	// Generated is when the histories were read.
	Generated time.Time
	// Paths are the paths read, in the order to show them.
	Paths []Path
}

// Path is one service's environments.
type Path struct {
	// Name is team/service.
	Name string
	// Envs are the path's environments, in promotion order.
	Envs []Env
}

// Env is one environment's metrics, or why it could not be read.
type Env struct {
	// Name is the environment's name (dev, stg, prd): environments of one name are pooled
	// for the organisation and share a colour.
	Name    string
	Metrics dora.Metrics
	// Problem, if not empty, says why the environment could not be read; Metrics is empty.
	Problem string
	// Notes say what the figures of a read environment do not say themselves (e.g. that
	// its commit times could not be read); each is shown under the path's table.
	Notes []string
}

// OpenPaths is the most paths whose sections start open. Beyond it every section starts
// closed: a page drawing 50 charts at once takes seconds to open and is a wall to scroll.
const OpenPaths = 5

// Write writes the report as one HTML file. It refuses input it cannot show truthfully
// (an empty or inverted window, a missing generated time, unnamed or repeated paths and
// environments), naming every such field at once.
func Write(w io.Writer, in Input) error {
	if err := validate(in); err != nil {
		return err
	}
	p, err := buildPage(in)
	if err != nil {
		return err
	}
	// Rendered into memory first so a template error never leaves half a file behind.
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		return fmt.Errorf("report: render the page: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// validate collects every problem with the input, each naming the field, the value and
// what is allowed.
func validate(in Input) error {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	if in.Window.From.IsZero() || in.Window.To.IsZero() || !in.Window.To.After(in.Window.From) {
		add("Window: from %s to %s: must be a span with To after From", stamp(in.Window.From), stamp(in.Window.To))
	}
	if in.Generated.IsZero() {
		add("Generated: zero: must be when the histories were read")
	}
	paths := map[string]int{}
	for i, p := range in.Paths {
		if strings.TrimSpace(p.Name) == "" {
			add("Paths[%d].Name: %q: must name the path (team/service)", i, p.Name)
		} else if j, dup := paths[p.Name]; dup {
			add("Paths[%d].Name: %q: already Paths[%d]: each path once", i, p.Name, j)
		} else {
			paths[p.Name] = i
		}
		envs := map[string]int{}
		for k, e := range p.Envs {
			switch j, dup := envs[e.Name]; {
			case strings.TrimSpace(e.Name) == "":
				add("Paths[%d] (%s).Envs[%d].Name: %q: must name the environment (dev, stg, prd)", i, p.Name, k, e.Name)
			case dup:
				add("Paths[%d] (%s).Envs[%d].Name: %q: already Envs[%d]: each environment once per path", i, p.Name, k, e.Name, j)
			default:
				envs[e.Name] = k
			}
		}
	}
	if len(problems) > 0 {
		return errors.New("report: " + strings.Join(problems, "; "))
	}
	return nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "(zero)"
	}
	return t.UTC().Format(time.RFC3339)
}
