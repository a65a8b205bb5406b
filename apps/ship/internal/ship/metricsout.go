package ship

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/dora"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// The output of ship metrics: the table a person reads, and the MetricsJSON document.

// none is what the table shows for a figure that is not defined (no samples, no attempts).
const none = "–"

// printMetrics prints, per path, a block with one row per environment and the notes under
// it; with --all, an organisation block last. It returns the first error writing to out
// (a full disk, a closed pipe): a table that did not arrive must not end in exit 0.
func (r *metricsRun) printMetrics(out io.Writer, paths []pathMetrics, wide []orgEnv) error {
	w := &errWriter{w: out}
	fmt.Fprintf(w, "Delivery metrics, last %s: %s to %s (organisation: %s)\n", r.set.sinceText,
		formatTime(r.window.From), formatTime(r.window.To), r.set.orgSource)
	for _, pm := range paths {
		fmt.Fprintf(w, "\n%s\n", pathName(pm.path))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ENV\t"+metricsHeader)
		var notes []string
		for _, em := range pm.envs {
			if !em.read() {
				// The reason goes under the block: a long cell here would break the columns.
				fmt.Fprintf(tw, "  %s\t%s\n", em.env.Name, unreadableCells)
				notes = append(notes, fmt.Sprintf("%s: unreadable: %v", em.env.Name, em.err))
				continue
			}
			fmt.Fprintf(tw, "  %s\t%s\n", em.env.Name, summaryCells(em.metrics.Summary))
			for _, n := range em.notes() {
				notes = append(notes, em.env.Name+": "+n)
			}
		}
		tw.Flush()
		printNotes(w, notes)
	}
	if wide == nil {
		return w.err
	}
	read, total := 0, 0
	for _, pm := range paths {
		for _, em := range pm.envs {
			total++
			if em.read() {
				read++
			}
		}
	}
	fmt.Fprintf(w, "\norganisation (%d paths; %d of %d environments read)\n", len(paths), read, total)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ENV\tPATHS\t"+metricsHeader)
	var notes []string
	for _, o := range wide {
		fmt.Fprintf(tw, "  %s\t%d/%d\t%s\n", o.name, o.read, o.paths, summaryCells(o.summary))
		if o.summary.Shortened {
			notes = append(notes, o.name+": the history bound shortened the window of some paths (see their notes)")
		}
	}
	tw.Flush()
	printNotes(w, notes)
	return w.err
}

// errWriter passes writes on to w until one fails, then keeps that error and writes no more.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// metricsHeader names the columns summaryCells fills.
const metricsHeader = "DEPLOYS\tLEAD TIME (MEDIAN / P90)\tCHANGE FAILURE RATE\tTIME TO RESTORE (MEDIAN / P90)\tROLLBACKS\tRERUNS"

// unreadableCells is the row of an environment that could not be read.
var unreadableCells = "unreadable" + strings.Repeat("\t"+none, 5)

// summaryCells is one row's cells: deploys and per week, lead time, change failure rate,
// time to restore, rollbacks, reruns.
func summaryCells(s dora.Summary) string {
	lead := stats(s.LeadTime)
	if s.LeadTimeUnknown > 0 {
		lead = strings.TrimSuffix(lead, ")") + fmt.Sprintf(", %d unknown)", s.LeadTimeUnknown)
	}
	rate := none
	if v, ok := s.ChangeFailureRate(); ok {
		rate = fmt.Sprintf("%.0f%% (%d/%d)", v*100, s.Failures, s.Attempts)
	}
	restore := stats(s.Restore)
	if s.Unrestored > 0 {
		restore = strings.TrimSuffix(restore, ")") + fmt.Sprintf(", %d open)", s.Unrestored)
	}
	return fmt.Sprintf("%d (%.1f/week)\t%s\t%s\t%s\t%d\t%d", s.Deployments, s.PerWeek(), lead, rate, restore, s.Rollbacks, s.Reruns)
}

// stats is "2h / 5h (n=4)", or "– (n=0)".
func stats(st dora.Stats) string {
	if st.N == 0 {
		return none + " (n=0)"
	}
	return fmt.Sprintf("%s / %s (n=%d)", span(st.Median), span(st.P90), st.N)
}

// span is a duration as people read a lead time: 45s, 12m, 3h12m, 2d4h.
func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d/time.Minute)%60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%02dm", h, m)
	}
	days, h := int(d/(24*time.Hour)), int(d/time.Hour)%24
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, h)
}

func printNotes(w io.Writer, notes []string) {
	if len(notes) == 0 {
		return
	}
	fmt.Fprintln(w, "  notes:")
	for _, n := range notes {
		fmt.Fprintf(w, "    %s\n", n)
	}
}

// metricsJSON is the document of the figures read.
func (r *metricsRun) metricsJSON(paths []pathMetrics, wide []orgEnv) MetricsJSON {
	failed, _ := unreadable(paths)
	doc := MetricsJSON{SchemaVersion: SchemaVersion, Organisation: r.set.orgSource, Now: r.now, Since: r.set.sinceText,
		Window: MetricsWindowJSON{From: r.window.From, To: r.window.To, Days: r.window.Days()}, All: r.set.all,
		Complete: len(failed) == 0, Paths: []PathMetricsJSON{}}
	for _, pm := range paths {
		pj := PathMetricsJSON{Path: pathName(pm.path), Environments: []EnvMetricsJSON{}}
		for _, em := range pm.envs {
			e := EnvMetricsJSON{Name: em.env.Name, Account: em.env.Account, Region: em.env.Region,
				Pipeline: pm.path.PipelineName(em.env.Name), Repository: metricsRepository(pm.path), Readable: em.read(),
				Notes: []string{}, Events: []MetricsEventJSON{},
				Calls: MetricsCallsJSON{CodePipeline: em.history.Calls, CodeCommit: em.commitCalls}}
			if !em.read() {
				e.Error = em.err.Error()
				pj.Environments = append(pj.Environments, e)
				continue
			}
			if em.timesErr != nil {
				e.CommitTimesError = em.timesErr.Error()
			}
			e.Notes = append(e.Notes, em.notes()...)
			sum := summaryJSON(em.metrics.Summary)
			e.Summary = &sum
			for _, ev := range em.metrics.Events {
				e.Events = append(e.Events, eventJSON(ev, em.metrics.Summary.Window))
			}
			pj.Environments = append(pj.Environments, e)
		}
		doc.Paths = append(doc.Paths, pj)
	}
	if wide != nil {
		doc.OrganisationWide = []OrgMetricsJSON{}
		for _, o := range wide {
			doc.OrganisationWide = append(doc.OrganisationWide, OrgMetricsJSON{Name: o.name, Paths: o.paths, PathsRead: o.read, Summary: summaryJSON(o.summary)})
		}
	}
	return doc
}

func summaryJSON(s dora.Summary) MetricsSummaryJSON {
	out := MetricsSummaryJSON{From: s.Window.From.UTC(), To: s.Window.To.UTC(), Shortened: s.Shortened,
		Deployments: s.Deployments, DeploymentsPerWeek: s.PerWeek(), LeadTime: statsJSON(s.LeadTime), LeadTimeUnknown: s.LeadTimeUnknown,
		Attempts: s.Attempts, Failures: s.Failures, TimeToRestore: statsJSON(s.Restore), Unrestored: s.Unrestored,
		Rollbacks: s.Rollbacks, Reruns: s.Reruns}
	if v, ok := s.ChangeFailureRate(); ok {
		out.ChangeFailureRate = &v
	}
	return out
}

func statsJSON(st dora.Stats) DurationStatsJSON {
	out := DurationStatsJSON{Count: st.N}
	if st.N > 0 {
		out.MedianSeconds, out.P90Seconds = seconds(st.Median), seconds(st.P90)
	}
	return out
}

func eventJSON(e dora.Event, w dora.Window) MetricsEventJSON {
	out := MetricsEventJSON{Kind: string(e.Kind), Run: e.Run, Commit: e.Commit, At: e.At.UTC(), InWindow: w.Contains(e.At),
		CommitTime: stampOf(e.CommitTime), Failed: e.Failed, FailedBy: e.FailedBy, Restored: stampOf(e.Restored)}
	if e.HasLeadTime {
		out.LeadTimeSeconds = seconds(e.LeadTime)
	}
	if e.Kind == dora.KindRollback {
		a := e.Automatic
		out.Automatic = &a
	}
	if e.IsRestored() {
		out.RestoreSeconds = seconds(e.RestoreTime)
	}
	return out
}

func seconds(d time.Duration) *float64 {
	s := d.Seconds()
	return &s
}

// metricsRepository is where the commit dates of a path come from: its CodeCommit
// repository (in each environment's account), or, with a connection source, the provider's
// repository (github.com/owner/name), read through the working clone.
func metricsRepository(p org.Path) string {
	if p.Source.UsesConnection() {
		return sourceName(p.Source)
	}
	return p.RepositoryName()
}
