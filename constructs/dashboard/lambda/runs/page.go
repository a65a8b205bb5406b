package runs

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/platform-eng/pathtoprod/constructs/dashboard/console"
	"github.com/platform-eng/pathtoprod/constructs/dora"
	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// Read is everything one view of the widget read, for NewPage.
type Read struct {
	// Config names the pipeline, its environment and region.
	Config Config
	// Range is the window read and what to say about it.
	Range Range
	// History is the pipeline's runs as read, newest first.
	History dora.History
	// Metrics is dora.Compute of History over Range.Window.
	Metrics dora.Metrics
	// CommitTimesProblem, when set, says why the commits' times could not be read (one or
	// more sentences): the metrics were computed without them.
	CommitTimesProblem string
	// Now is when the history was read.
	Now time.Time
	// Zone is the zone times are shown in, and ZoneLabel its name ("UTC", "UTC+02:00").
	Zone      *time.Location
	ZoneLabel string
}

// Page is what the widget shows, every value already a string or a count: NewPage decides,
// Render only lays out (and escapes: every value is text or a URL to html/template).
type Page struct {
	Pipeline, Environment, PipelineURL string
	// From and To are the window's ends in Zone, Span its length ("7 days").
	From, To, Zone, Span string
	// Notes are what the reader must know about the figures (a cut range, a bounded read,
	// unknown commit times).
	Notes []string
	Keys  Keys
	// Runs are the newest runs of the window, newest first; Hidden counts the window's
	// runs not shown.
	Runs   []Row
	Hidden int
}

// Keys are the four keys of the window, formatted.
type Keys struct {
	Deployments int
	PerWeek     string
	// LeadMedian and LeadP90 are "—" without a known lead time.
	LeadMedian, LeadP90    string
	LeadKnown, LeadUnknown int
	// FailureRate is "—" without attempts.
	FailureRate        string
	Failures, Attempts int
	// RestoreMedian and RestoreP90 are "—" without a restored failure; Open counts the
	// failures not restored yet.
	RestoreMedian, RestoreP90 string
	Restored, Open            int
	Rollbacks, Reruns         int
}

// Row is one run of the table.
type Row struct {
	// Started is the run's start in the page's zone.
	Started string
	// Commit is the short commit ("(none)" without one), CommitFull the full id.
	Commit, CommitFull string
	// Run is the pipeline execution id, RunURL its page in the console.
	Run, RunURL string
	// What says what the run was (see NewPage), Class colours it: good, bad, wait or "".
	What, Class string
	// Trigger says what started it.
	Trigger string
	// Duration is start to end, or "running 12m" for a run still going.
	Duration string
}

// NewPage turns what was read into what the widget shows.
func NewPage(in Read) Page {
	zone := in.Zone
	if zone == nil {
		zone, in.ZoneLabel = time.UTC, "UTC"
	}
	s := in.Metrics.Summary
	w := s.Window
	p := Page{
		Pipeline:    in.Config.Pipeline,
		Environment: in.Config.Environment,
		PipelineURL: console.PipelineURL(in.Config.Region, in.Config.Pipeline),
		From:        stamp(w.From, zone),
		To:          stamp(w.To, zone),
		Zone:        in.ZoneLabel,
		Span:        span(w.To.Sub(w.From)),
	}
	if in.Range.Default {
		p.Notes = append(p.Notes, fmt.Sprintf("No dashboard time range came with this call: the last %s.", span(DefaultRange)))
	}
	if in.Range.Cut {
		p.Notes = append(p.Notes, fmt.Sprintf("The dashboard's range (%s) is longer than the widget reads: the figures cover its newest %s. ship metrics reads longer ranges.",
			span(in.Range.Asked.To.Sub(in.Range.Asked.From)), span(MaxRange)))
	}
	if s.Shortened {
		p.Notes = append(p.Notes, fmt.Sprintf("The history read stopped at the organisation's bound (settings.historyPages = %d, pages of %d runs) before the range's start: the figures cover only %s to %s.",
			in.Config.MaxPages, org.HistoryPageSize, p.From, p.To))
	}
	if in.CommitTimesProblem != "" {
		p.Notes = append(p.Notes, "Lead times are unknown: "+in.CommitTimesProblem+" Without commit times, a push of an "+
			"older commit that never ran here counts as a deploy, not as a rollback-push.")
	}
	p.Keys = keys(s)

	events := map[string]dora.Event{}
	for _, e := range in.Metrics.Events {
		events[e.Run] = e
	}
	rows := in.Config.Rows
	if rows < 1 {
		rows = DefaultRows
	}
	for _, r := range in.History.Runs {
		if !w.Contains(r.At) && !w.Contains(r.Started) && !running(r) {
			continue
		}
		if len(p.Runs) == rows {
			p.Hidden++
			continue
		}
		ev, isEvent := events[r.ID]
		what, class := describe(r, ev, isEvent, zone)
		p.Runs = append(p.Runs, Row{
			Started:    stamp(r.Started, zone),
			Commit:     gate.Short(r.Commit),
			CommitFull: r.Commit,
			Run:        r.ID,
			RunURL:     console.ExecutionURL(in.Config.Region, in.Config.Pipeline, r.ID),
			What:       what,
			Class:      class,
			Trigger:    trigger(r.Trigger),
			Duration:   duration(r, in.Now),
		})
	}
	return p
}

func keys(s dora.Summary) Keys {
	k := Keys{
		Deployments: s.Deployments,
		PerWeek:     fmt.Sprintf("%.1f", s.PerWeek()),
		LeadMedian:  stat(s.LeadTime, s.LeadTime.Median), LeadP90: stat(s.LeadTime, s.LeadTime.P90),
		LeadKnown: s.LeadTime.N, LeadUnknown: s.LeadTimeUnknown,
		FailureRate: "—", Failures: s.Failures, Attempts: s.Attempts,
		RestoreMedian: stat(s.Restore, s.Restore.Median), RestoreP90: stat(s.Restore, s.Restore.P90),
		Restored: s.Restore.N, Open: s.Unrestored,
		Rollbacks: s.Rollbacks, Reruns: s.Reruns,
	}
	if rate, ok := s.ChangeFailureRate(); ok {
		k.FailureRate = fmt.Sprintf("%.0f%%", rate*100)
	}
	return k
}

// describe says what a run was, in the metrics' words where it is an event (see package
// dora), and by its status otherwise, with the class that colours it.
func describe(r dora.Run, ev dora.Event, isEvent bool, zone *time.Location) (string, string) {
	status := types.PipelineExecutionStatus(r.Status)
	if isEvent {
		switch ev.Kind {
		case dora.KindDeploy:
			if ev.Failed {
				return "deploy, later rolled back (by run " + ev.FailedBy + ")", "bad"
			}
			return "deploy", "good"
		case dora.KindRerun:
			return "rerun (the commit was already deployed)", ""
		case dora.KindRollbackPush:
			return "rollback-push (an older commit pushed)", "wait"
		case dora.KindRollback:
			if ev.Automatic {
				return "rollback (automatic)", "wait"
			}
			return "rollback (manual)", "wait"
		case dora.KindFailedDeploy:
			if ev.IsRestored() {
				return fmt.Sprintf("failed deploy (restored %s, after %s)", stamp(ev.Restored, zone), short(ev.RestoreTime)), "bad"
			}
			return "failed deploy (not restored yet)", "bad"
		}
	}
	switch {
	case r.Rollback() && running(r):
		return "rollback in progress", "wait"
	case r.Rollback():
		return "rollback " + lower(r.Status), "bad"
	case running(r):
		return "in progress", "wait"
	case status == types.PipelineExecutionStatusFailed:
		// Read asked only about the window's failed runs; one that reached Deploy is an event.
		return "refused or failed before deploy (guard, build, plan or approval)", "bad"
	case status == types.PipelineExecutionStatusStopped:
		return "stopped before deploy", ""
	case status == types.PipelineExecutionStatusSucceeded && r.Commit == "":
		return "succeeded, without a commit of the source action", ""
	default:
		return lower(r.Status), ""
	}
}

func running(r dora.Run) bool {
	s := types.PipelineExecutionStatus(r.Status)
	return s == types.PipelineExecutionStatusInProgress || s == types.PipelineExecutionStatusStopping
}

// trigger says what started a run, from CodePipeline's triggerType; an unknown type is
// shown as given.
func trigger(t string) string {
	switch types.TriggerType(t) {
	// A push to CodeCommit arrives through EventBridge; one to GitHub, GitLab or Bitbucket
	// through the connection's webhook (WebhookV2 with a pipeline trigger, as envpipeline's).
	case types.TriggerTypeCloudWatchEvent, types.TriggerTypeWebhookV2, types.TriggerTypeWebhook:
		return "push"
	case types.TriggerTypeStartPipelineExecution:
		return "release change (by hand)"
	case types.TriggerTypeAutomatedRollback:
		return "CodePipeline (rollback)"
	case types.TriggerTypeManualRollback:
		return "a person (rollback)"
	case types.TriggerTypeCreatePipeline:
		return "pipeline created"
	default:
		return t
	}
}

func duration(r dora.Run, now time.Time) string {
	switch {
	case r.Started.IsZero():
		return "—"
	case running(r):
		return "running " + short(now.Sub(r.Started))
	default:
		return short(r.At.Sub(r.Started))
	}
}

func stat(s dora.Stats, d time.Duration) string {
	if s.N == 0 {
		return "—"
	}
	return short(d)
}

// short is a duration as people read it: 45s, 17m, 4h 5m, 3d 2h.
func short(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		return fmt.Sprintf("%dd %dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	}
}

// span is a window's length: "7 days", "36 hours", "45 minutes".
func span(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.0f days", d.Hours()/24)
	case d >= 2*time.Hour:
		return fmt.Sprintf("%.0f hours", d.Hours())
	default:
		return fmt.Sprintf("%.0f minutes", d.Minutes())
	}
}

func stamp(t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(zone).Format("2006-01-02 15:04")
}

func lower(status string) string {
	b := []byte(status)
	if len(b) > 0 && b[0] >= 'A' && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}

//go:embed page.html.tmpl
var templates embed.FS

var pageTemplate = template.Must(template.ParseFS(templates, "page.html.tmpl"))

// Render writes the page as the widget's HTML. html/template escapes every value for where
// it goes (text, attribute, URL): a run id, a commit or a trigger type cannot add markup.
func Render(w io.Writer, p Page) error {
	return pageTemplate.ExecuteTemplate(w, "page", p)
}

// ErrorPage is the widget's HTML when it could not show the runs: what failed and what to
// do, in place of the runs, never a blank widget.
func ErrorPage(pipeline, problem, hint string) string {
	var b bytes.Buffer
	if err := pageTemplate.ExecuteTemplate(&b, "error", map[string]string{"Pipeline": pipeline, "Problem": problem, "Hint": hint}); err != nil {
		// The template is fixed and its values are strings: this cannot fail but on a bug.
		return "<p>runs widget: " + template.HTMLEscapeString(problem) + "</p>"
	}
	return b.String()
}
