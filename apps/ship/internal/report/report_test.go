package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/dora"
)

func write(t testing.TB, in Input) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, in); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.String()
}

// section is the HTML from the element with id to the end of its section (or details).
func section(t *testing.T, html, id string) string {
	t.Helper()
	i := strings.Index(html, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no element with id %q", id)
	}
	rest := html[i:]
	if j := regexp.MustCompile(`</section>|</details>`).FindStringIndex(rest); j != nil {
		return rest[:j[1]]
	}
	return rest
}

// chartOption is the ECharts option the page hands chart id, decoded.
func chartOption(t *testing.T, html, id string) map[string]any {
	t.Helper()
	m := regexp.MustCompile(`<script type="application/json" id="` + regexp.QuoteMeta(id) + `-option">([^<]*)</script>`).FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no option for chart %q", id)
	}
	var opt map[string]any
	if err := json.Unmarshal([]byte(m[1]), &opt); err != nil {
		t.Fatalf("chart %s option: %v", id, err)
	}
	return opt
}

// seriesByID maps each series' id to its data.
func seriesByID(opt map[string]any) map[string][]any {
	out := map[string][]any{}
	for _, s := range opt["series"].([]any) {
		s := s.(map[string]any)
		data, _ := s["data"].([]any)
		out[s["id"].(string)] = data
	}
	return out
}

// sumY adds the second coordinate of each [x, y] data item.
func sumY(data []any) int {
	n := 0
	for _, d := range data {
		n += int(d.(map[string]any)["value"].([]any)[1].(float64))
	}
	return n
}

func TestWriteRefusesBadInput(t *testing.T) {
	good := func() Input {
		return Input{Title: "t", Window: sampleWindow(), Generated: sampleEnd,
			Paths: []Path{{Name: "a/b", Envs: []Env{{Name: "dev"}, {Name: "prd"}}}}}
	}
	cases := map[string]struct {
		change func(*Input)
		want   []string
	}{
		"inverted window": {func(in *Input) { in.Window.From, in.Window.To = in.Window.To, in.Window.From },
			[]string{"Window: from 2026-03-31T12:00:00Z to 2025-12-31T12:00:00Z", "To after From"}},
		"zero window":   {func(in *Input) { in.Window = dora.Window{} }, []string{"Window: from (zero) to (zero)"}},
		"no generated":  {func(in *Input) { in.Generated = time.Time{} }, []string{"Generated: zero"}},
		"unnamed path":  {func(in *Input) { in.Paths[0].Name = " " }, []string{`Paths[0].Name: " ": must name the path`}},
		"repeated path": {func(in *Input) { in.Paths = append(in.Paths, in.Paths[0]) }, []string{`Paths[1].Name: "a/b": already Paths[0]`}},
		"unnamed env":   {func(in *Input) { in.Paths[0].Envs[1].Name = "" }, []string{`Paths[0] (a/b).Envs[1].Name: "": must name the environment`}},
		"repeated env":  {func(in *Input) { in.Paths[0].Envs[1].Name = "dev" }, []string{`Paths[0] (a/b).Envs[1].Name: "dev": already Envs[0]`}},
		"every problem": {func(in *Input) { in.Generated = time.Time{}; in.Paths[0].Name = "" },
			[]string{"Generated: zero", "Paths[0].Name"}},
	}
	if err := Write(&bytes.Buffer{}, good()); err != nil {
		t.Fatalf("the good input: %v", err)
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			in := good()
			c.change(&in)
			var b bytes.Buffer
			err := Write(&b, in)
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if b.Len() != 0 {
				t.Errorf("wrote %d bytes for refused input", b.Len())
			}
		})
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                               "0s",
		40 * time.Second:                "40s",
		12*time.Minute + 20*time.Second: "12m",
		5*time.Hour + 3*time.Minute:     "5h 03m",
		23*time.Hour + 59*time.Minute + 50*time.Second: "1d 0h",
		52 * time.Hour: "2d 4h",
	} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %q, want %q", d, got, want)
		}
	}
}

// deploy is a deploy event at day d of the sample window with lead time lead.
func deploy(d int, lead time.Duration) dora.Event {
	at := sampleWindow().From.Add(time.Duration(d) * 24 * time.Hour)
	return dora.Event{Kind: dora.KindDeploy, At: at, CommitTime: at.Add(-lead), LeadTime: lead, HasLeadTime: true}
}

func env(name string, events ...dora.Event) Env {
	return Env{Name: name, Metrics: dora.Metrics{Events: events, Summary: dora.Summarise(events, sampleWindow())}}
}

// The organisation's lead time is over every deploy of the environment name, not a median
// of the paths' medians: here 1h from three deploys of a/x and 10h from one of b/y pool to
// a median of 1h and a p90 of 10h (the median of the medians would be 5h 30m).
func TestOrganisationPoolsEverySample(t *testing.T) {
	in := Input{Title: "org", Window: sampleWindow(), Generated: sampleEnd, Paths: []Path{
		{Name: "a/x", Envs: []Env{env("prd", deploy(1, time.Hour), deploy(2, time.Hour), deploy(3, time.Hour))}},
		{Name: "b/y", Envs: []Env{env("prd", deploy(4, 10*time.Hour))}},
	}}
	org := section(t, write(t, in), "org")
	for _, want := range []string{"<b>1h 00m</b> median · 10h 00m p90", "<b>4</b> · 0.3 per week"} {
		if !strings.Contains(org, want) {
			t.Errorf("the organisation section does not show %q:\n%s", want, org)
		}
	}
}

// The figures: change failure rate as "25% (1/4)", and "–" (not 0%) with no attempts.
func TestChangeFailureRateReads(t *testing.T) {
	failed := deploy(5, time.Hour)
	failed.Failed, failed.Restored, failed.RestoreTime = true, failed.At.Add(2*time.Hour), 2*time.Hour
	in := Input{Title: "org", Window: sampleWindow(), Generated: sampleEnd, Paths: []Path{
		{Name: "a/x", Envs: []Env{
			env("stg"),
			env("prd", deploy(1, time.Hour), deploy(2, time.Hour), deploy(3, time.Hour), failed),
		}},
	}}
	html := write(t, in)
	path := section(t, html, "path-1")
	if !regexp.MustCompile(`data-env="prd">.*<b>25% \(1/4\)</b>.*<b>2h 00m</b> median · 2h 00m p90`).MatchString(path) {
		t.Errorf("prd's row does not show 25%% (1/4) and its time to restore:\n%s", path)
	}
	if !regexp.MustCompile(`data-env="stg">.*<b>–</b>`).MatchString(path) || strings.Contains(path, "0% (0/0)") {
		t.Errorf("stg (no attempts) does not show –:\n%s", path)
	}
}

// An unreadable environment says so (with its problem) wherever it would have figures, and
// the organisation's figures say they leave it out; never zeros.
func TestUnreadableEnvironmentIsShownAsSuch(t *testing.T) {
	html := write(t, sampleInput())
	problem := "AccessDenied: cannot assume arn:aws:iam::333333333333:role/ship-read"
	login := section(t, html, "path-3")
	if !strings.Contains(login, `<tr data-env="prd">`) || !strings.Contains(login, `<td colspan="4" class="unreadable">unreadable: `+problem+`</td>`) {
		t.Errorf("identity/login's prd row does not say it is unreadable and why:\n%s", login)
	}
	row := regexp.MustCompile(`(?s)<tr data-env="prd">.*?</tr>`).FindString(login)
	if strings.Contains(row, "<b>0</b>") || strings.Contains(row, "–") {
		t.Errorf("the unreadable row shows figures: %s", row)
	}
	index := section(t, html, "index")
	if !regexp.MustCompile(`identity/login</a></td><td>.*?</td><td>.*?</td><td class="unreadable">unreadable</td>`).MatchString(index) {
		t.Errorf("the index does not mark identity/login prd unreadable:\n%s", index)
	}
	if !strings.Contains(section(t, html, "org"), "The organisation&#39;s prd figures leave out 1 unreadable environment: identity/login.") {
		t.Error("the organisation does not say it leaves out identity/login prd")
	}
	// Its chart has dev and stg only.
	opt := chartOption(t, html, "chart-3")
	if got := fmt.Sprint(opt["legend"].(map[string]any)["data"]); got != "[dev stg]" {
		t.Errorf("identity/login's chart legend = %s, want [dev stg]", got)
	}
}

// Shortened windows and unknown commit times are said where their figures are.
func TestShortenedWindowAndUnknownCommitTimesAreSaid(t *testing.T) {
	in := sampleInput()
	html := write(t, in)
	ledgerPrd := in.Paths[1].Envs[2].Metrics.Summary
	if !ledgerPrd.Shortened {
		t.Fatal("the sample's payments/ledger prd is not shortened")
	}
	if want := "window shortened: from " + day(ledgerPrd.Window.From) + " (history bound)"; !strings.Contains(section(t, html, "path-2"), want) {
		t.Errorf("payments/ledger does not say %q", want)
	}
	if !strings.Contains(section(t, html, "org"), "1 environment covers a shortened window (the history bound stopped the read): payments/ledger prd (from "+day(ledgerPrd.Window.From)+").") {
		t.Error("the organisation does not say which window was shortened")
	}
	dev := in.Paths[0].Envs[0].Metrics.Summary
	if dev.LeadTimeUnknown < 2 {
		t.Fatalf("the sample's payments/checkout dev has %d unknown commit times, want at least 2", dev.LeadTimeUnknown)
	}
	if want := fmt.Sprintf("%d deploys' commit times unknown: not in the lead time", dev.LeadTimeUnknown); !strings.Contains(section(t, html, "path-1"), want) {
		t.Errorf("payments/checkout does not say %q", want)
	}
	// An environment's notes (why its commit times are missing) are shown under its path,
	// escaped like everything else.
	in.Paths[0].Envs[2].Notes = []string{"commit times could not be read: <AccessDenied>"}
	if want := "prd: commit times could not be read: &lt;AccessDenied&gt;"; !strings.Contains(section(t, write(t, in), "path-1"), want) {
		t.Errorf("payments/checkout does not say %q", want)
	}
}

// wantDrawn is what a path environment's chart must draw, counted from its events and
// checked against dora's own summary of them.
type wantDrawn struct{ lead, deploys, failures, restored, open int }

func drawnOf(t *testing.T, e Env) wantDrawn {
	t.Helper()
	s := e.Metrics.Summary
	var d wantDrawn
	for _, ev := range e.Metrics.Events {
		if !s.Window.Contains(ev.At) {
			continue
		}
		if ev.Kind == dora.KindDeploy {
			d.deploys++
			if ev.HasLeadTime {
				d.lead++
			}
		}
		if ev.Failed && (ev.Kind == dora.KindDeploy || ev.Kind == dora.KindFailedDeploy) {
			d.failures++
			if ev.IsRestored() {
				d.restored++
			} else {
				d.open++
			}
		}
	}
	if d.deploys != s.Deployments || d.lead != s.LeadTime.N || d.failures != s.Failures || d.restored != s.Restore.N || d.open != s.Unrestored {
		t.Fatalf("%s: counted %+v from the events, dora's summary says %+v", e.Name, d, s)
	}
	return d
}

// Every path's chart draws each deploy's lead time, its deploys and failures per week and
// each failure's time to restore, per readable environment; the organisation's the same
// counts over every path.
func TestChartsDrawEveryEvent(t *testing.T) {
	in := sampleInput()
	html := write(t, in)
	org := map[string]wantDrawn{}
	for i, p := range in.Paths {
		series := seriesByID(chartOption(t, html, fmt.Sprintf("chart-%d", i+1)))
		k := 0
		for _, e := range p.Envs {
			if e.Problem != "" {
				continue
			}
			want := drawnOf(t, e)
			got := wantDrawn{len(series[fmt.Sprintf("lead-%d", k)]), sumY(series[fmt.Sprintf("deploys-%d", k)]),
				sumY(series[fmt.Sprintf("failures-%d", k)]), len(series[fmt.Sprintf("restore-%d", k)]), len(series[fmt.Sprintf("open-%d", k)])}
			if got != want {
				t.Errorf("%s %s: the chart draws %+v, want %+v", p.Name, e.Name, got, want)
			}
			o := org[e.Name]
			o.deploys, o.failures = o.deploys+want.deploys, o.failures+want.failures
			org[e.Name] = o
			k++
		}
	}
	series := seriesByID(chartOption(t, html, "chart-org"))
	for k, name := range []string{"dev", "stg", "prd"} {
		got := [2]int{sumY(series[fmt.Sprintf("deploys-%d", k)]), sumY(series[fmt.Sprintf("failures-%d", k)])}
		if want := [2]int{org[name].deploys, org[name].failures}; got != want {
			t.Errorf("the organisation's %s draws deploys, failures %v, want %v", name, got, want)
		}
		if len(series[fmt.Sprintf("median-%d", k)]) == 0 || len(series[fmt.Sprintf("p90-%d", k)]) == 0 {
			t.Errorf("the organisation's %s draws no weekly lead time", name)
		}
	}
	if org["dev"].failures == 0 || org["prd"].failures < 2 {
		t.Fatal("the sample has too few failures to draw")
	}
	if s := in.Paths[0].Envs[2].Metrics.Summary; s.Rollbacks == 0 {
		t.Fatalf("the sample's payments/checkout prd has no rollback: %+v", s)
	}
}

// Every environment name has one colour in every chart, and none is the failure colour.
func TestEnvironmentColoursAreFixed(t *testing.T) {
	in := sampleInput()
	html := write(t, in)
	want := map[string]string{"dev": envPalette[0], "stg": envPalette[1], "prd": envPalette[2]}
	for _, id := range []string{"chart-org", "chart-1", "chart-2", "chart-3"} {
		for _, s := range chartOption(t, html, id)["series"].([]any) {
			s := s.(map[string]any)
			colour := s["itemStyle"].(map[string]any)["color"]
			kind := strings.Split(s["id"].(string), "-")[0]
			if kind == seriesRestore || kind == seriesOpen {
				if colour != failureColour || s["itemStyle"].(map[string]any)["borderColor"] != want[s["name"].(string)] {
					t.Errorf("%s %s: a failure is %v bordered %v, want %s bordered %s", id, s["id"], colour, s["itemStyle"].(map[string]any)["borderColor"], failureColour, want[s["name"].(string)])
				}
				continue
			}
			if colour != want[s["name"].(string)] {
				t.Errorf("%s %s (%s) is %v, want %s", id, s["id"], s["name"], colour, want[s["name"].(string)])
			}
		}
	}
	for _, c := range envPalette {
		if c == failureColour {
			t.Errorf("the environment palette has the failure colour %s", c)
		}
	}
}

// Everything from the input is escaped for where it lands: text, attributes, and the
// charts' JSON inside <script> (where an unescaped "</script>" would end the script).
func TestInputIsEscaped(t *testing.T) {
	in := quietInput()
	in.Paths[1].Envs[0].Name = `</script><script>window.pwned=2</script>`
	html := write(t, in)
	for _, raw := range []string{"<script>window.pwned", `<b id="pwn">`, `</script><script>window`} {
		if strings.Contains(html, raw) {
			t.Errorf("the page contains %q unescaped", raw)
		}
	}
	for _, escaped := range []string{
		`<h1>Acme &lt;/script&gt;&lt;script&gt;window.pwned=1&lt;/script&gt; &amp; &#34;Co&#34;</h1>`,
		`<summary><h2>team/&lt;b id=&#34;pwn&#34;&gt;svc&lt;/b&gt;</h2>`,
		`\u003c/script\u003e\u003cscript\u003ewindow.pwned=2\u003c/script\u003e`,
	} {
		if !strings.Contains(html, escaped) {
			t.Errorf("the page does not contain %s", escaped)
		}
	}
}

// networkRef finds a reference the browser would fetch from the network: an http(s) or
// protocol-relative URL in src=, href=, or CSS url(), or an import.
var networkRef = regexp.MustCompile(`(?i)(\b(src|href|action|poster|data)\s*=\s*["']?\s*(https?:)?//)|(url\(\s*["']?\s*(https?:)?//)|(@import)|(<link\b)`)

func TestPageLoadsNothingFromTheNetwork(t *testing.T) {
	// The check itself finds what go-echarts writes by default.
	for _, bad := range []string{
		`<script src="https://go-echarts.github.io/go-echarts-assets/assets/echarts.min.js"></script>`,
		`<link href="//cdn.example/x.css" rel="stylesheet">`, `background: url( 'http://x/y.png')`,
	} {
		if !networkRef.MatchString(bad) {
			t.Fatalf("the check misses %s", bad)
		}
	}
	for name, in := range map[string]Input{"sample": sampleInput(), "quiet": quietInput()} {
		html := write(t, in)
		if m := networkRef.FindString(html); m != "" {
			i := strings.Index(html, m)
			t.Errorf("%s: the page references the network: %q", name, html[max(i-80, 0):min(i+120, len(html))])
		}
		if !strings.Contains(html, echartsJS) {
			t.Errorf("%s: the page does not inline ECharts", name)
		}
	}
}
