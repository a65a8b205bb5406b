package ship

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// maxWaitingShown is how many waiting commits status lists before "and N more".
const maxWaitingShown = 5

// envStatus is what status found out about one environment. Each environment is read on
// its own: one account's missing credentials must not hide the others.
type envStatus struct {
	env        org.Environment
	remote     string
	head       string // what the remote branch points at
	headErr    error
	deployed   *Execution  // newest Succeeded run
	latest     *Execution  // newest run
	recent     []Execution // the runs newer than deployed, newest first
	runs       []Execution // every run read, newest first: recent, deployed, and on to a rollback's target
	details    map[string]runDetail
	approvals  []Approval
	queued     []Queued
	conditions []stageConditions
	err        error // reading the pipeline failed

	// actionsOf are the action executions of a rolled-back run, by execution id: read only
	// when a rollback is what runs.
	actionsOf map[string][]actionOutcome

	// Read by status only (promote's look at one environment needs none of them):
	window *windowState // nil: no window
	alarms *alarmsState // nil: no watch
	vulns  *vulnsState  // nil: the first environment, or nothing deployed
}

// detail is what the history said of run id beyond gate.Execution.
func (st *envStatus) detail(id string) runDetail { return st.details[id] }

// find is the run of that id among those read, nil if none.
func (st *envStatus) find(id string) *Execution {
	for i := range st.runs {
		if st.runs[i].ID == id {
			return &st.runs[i]
		}
	}
	return nil
}

// runOf is the newest run of commit newer than the deployed one, nil if none was read.
func (st *envStatus) runOf(commit string) *Execution {
	for i := range st.recent {
		if st.recent[i].Commit == commit {
			return &st.recent[i]
		}
	}
	return nil
}

// approvalFor is the pending approval run waits at, nil if it waits at none. A state that
// does not say which run an approval holds (no latestExecution) is taken to hold the oldest
// run in progress: in a QUEUED pipeline that is the one that got furthest.
func (st *envStatus) approvalFor(run Execution) *Approval {
	for i, a := range st.approvals {
		if a.Execution == run.ID {
			return &st.approvals[i]
		}
	}
	if len(st.approvals) > 0 && st.approvals[0].Execution == "" {
		for i := len(st.recent) - 1; i >= 0; i-- {
			if st.recent[i].Status == "InProgress" {
				if st.recent[i].ID == run.ID {
					return &st.approvals[0]
				}
				break
			}
		}
	}
	return nil
}

// progress says where an InProgress run is: at the approval, queued, or running.
func (st *envStatus) progress(run Execution) string {
	if a := st.approvalFor(run); a != nil {
		return fmt.Sprintf("waits for approval (execution %s, action %s in stage %s, since %s)", run.ID, a.Action, a.Stage, formatTime(a.Since))
	}
	for _, q := range st.queued {
		if q.Execution == run.ID {
			behind := ""
			if len(st.approvals) > 0 && st.approvals[0].Execution != "" {
				behind = fmt.Sprintf(" behind execution %s, which waits for approval", st.approvals[0].Execution)
			}
			return fmt.Sprintf("is queued (execution %s, waiting to enter stage %s%s)", run.ID, q.Stage, behind)
		}
	}
	return fmt.Sprintf("is running (execution %s)", run.ID)
}

// status prints, per environment in path order, the deployed commit (and why it is not the
// branch head, when it is not), the latest run, the window, the watched alarms, a pending
// approval and the commits waiting to be promoted into it. With --json it prints the same
// as one StatusJSON document.
func (x *session) status(ctx context.Context) error {
	if err := x.git.Check(ctx); err != nil {
		return err
	}
	now := x.now()
	sts := map[string]*envStatus{}
	var failed []string
	for _, env := range x.s.Path.Environments {
		st := x.readEnv(ctx, env)
		st.window = windowAt(env, now)
		st.vulns = x.readVulns(ctx, st)
		if acc, err := x.account(ctx, env); err == nil {
			st.alarms = readAlarms(ctx, acc, env)
		} else if env.Watch != nil {
			st.alarms = &alarmsState{err: fmt.Errorf("the account could not be opened (see error)")}
			for _, n := range env.Watch.Alarms {
				st.alarms.alarms = append(st.alarms.alarms, alarmState{Name: n})
			}
		}
		sts[env.Name] = st
		if st.err != nil {
			failed = append(failed, env.Name)
		}
	}
	var incomplete error
	if len(failed) > 0 {
		incomplete = fmt.Errorf("status is incomplete: could not read %s (see above)", strings.Join(failed, ", "))
	}

	if x.json {
		doc := StatusJSON{SchemaVersion: SchemaVersion, Path: pathName(x.s.Path), Organisation: x.s.OrgSource,
			Now: now.UTC(), Complete: len(failed) == 0, Environments: []EnvironmentJSON{}}
		for _, env := range x.s.Path.Environments {
			doc.Environments = append(doc.Environments, x.envJSON(ctx, sts[env.Name], sts, now))
		}
		if err := writeJSON(x.out, doc); err != nil {
			return err
		}
		if incomplete != nil {
			return fmt.Errorf("status is incomplete: could not read %s (its error is in the document)", strings.Join(failed, ", "))
		}
		return nil
	}

	fmt.Fprintf(x.out, "%s (organisation: %s)\n", pathName(x.s.Path), x.s.OrgSource)
	for _, env := range x.s.Path.Environments {
		st := sts[env.Name]
		fmt.Fprintf(x.out, "\n%s\n", environmentLine(x.s.Path, env, st.remote))
		x.printEnv(ctx, x.out, st, sts, now)
	}
	return incomplete
}

func (x *session) readEnv(ctx context.Context, env org.Environment) *envStatus {
	st := &envStatus{env: env, remote: x.s.Remote(env.Name)}
	if r, err := x.remote(ctx, env); err != nil {
		st.headErr = err
	} else {
		st.remote = r
		st.head, st.headErr = x.git.RemoteHead(ctx, r, env.Branch)
	}
	x.readPipeline(ctx, st, true)
	return st
}

// readPipeline reads st.env's pipeline into st: its runs, newest first, down to the
// deployed one (and on to a rollback's target), and, withState, its live state (approvals,
// queued runs, stage conditions). A failure is st.err.
func (x *session) readPipeline(ctx context.Context, st *envStatus, withState bool) {
	env := st.env
	c, err := x.pipelines(ctx, env)
	if err != nil {
		st.err = err
		return
	}
	pipeline := x.s.Path.PipelineName(env.Name)
	det := newDetailLister(c)
	st.details = det.details
	target := ""
	err = eachExecution(ctx, det, pipeline, org.HistoryPageSize, x.s.Path.Settings.HistoryPages, func(e Execution) bool {
		st.runs = append(st.runs, e)
		if st.latest == nil {
			st.latest = &e
		}
		if st.deployed != nil {
			// A rollback is deployed: read on to the run it rolled back to, and past the
			// ones it rolled back, to say what happened.
			return e.ID != target
		}
		if gate.Deployed(e) {
			st.deployed = &e
			target = e.RollbackTarget
			return target != ""
		}
		st.recent = append(st.recent, e)
		return true
	})
	if err != nil && !errors.Is(err, gate.ErrHistoryBound) {
		st.err = err
		return
	}
	if st.deployed != nil && st.deployed.Rollback() {
		// What the rolled-back run's actions say (a failed deploy's error), for the drift's
		// reason; a failure to read them only leaves the reason shorter.
		if from := st.rolledBack(st.deployed); from != nil {
			plain := func(_ context.Context, call func() error) error { return call() }
			if acts, err := listActions(ctx, c, pipeline, from.ID, plain); err == nil {
				st.actionsOf = map[string][]actionOutcome{from.ID: outcomes(acts)}
			}
		}
	}
	if !withState {
		return
	}
	ps, err := readState(ctx, c, pipeline)
	if err != nil {
		st.err = err
	}
	st.approvals, st.queued, st.conditions = ps.approvals, ps.queued, ps.conditions
}

// commitOf is "(commit abc1234)" for a run read in st, "" for one not read.
func (st *envStatus) commitOf(id string) string {
	for _, e := range st.recent {
		if e.ID == id && e.Commit != "" {
			return " (commit " + gate.Short(e.Commit) + ")"
		}
	}
	return ""
}

func (x *session) printEnv(ctx context.Context, w io.Writer, st *envStatus, all map[string]*envStatus, now time.Time) {
	row := func(label, format string, a ...any) {
		fmt.Fprintf(w, "  %-10s %s\n", label, fmt.Sprintf(format, a...))
	}
	rows := func(label string, lines []string) {
		for i, l := range lines {
			if i > 0 {
				label = ""
			}
			row(label, "%s", l)
		}
	}
	// watch is the window and the alarms: local arithmetic and CloudWatch, shown even when
	// the pipeline could not be read.
	watch := func() {
		if st.window != nil {
			row("window", "%s", st.window.text(now))
		}
		if st.alarms != nil {
			rows("alarms", st.alarms.lines(st.env))
		}
	}
	switch {
	case st.headErr != nil:
		row("branch", "unknown: %v", st.headErr)
	case st.head == "":
		row("branch", "%s does not exist on remote %s yet", st.env.Branch, st.remote)
	default:
		row("branch", "%s", gate.Short(st.head))
	}
	if st.err != nil && st.latest == nil {
		row("error", "%v", st.err)
		watch()
		row("waiting", "unknown")
		return
	}
	if st.deployed != nil {
		how, by := "succeeded", ""
		if st.deployed.Rollback() {
			how = "a rollback to " + orDash(st.deployed.RollbackTarget) + ", succeeded"
			if a := st.detail(st.deployed.ID).automatic(); a != nil && *a {
				by = ", automatic"
			} else if a != nil {
				by = ", started by a person (rollback-stage)"
			}
		}
		row("deployed", "%s (execution %s, %s %s%s)", gate.Short(st.deployed.Commit), st.deployed.ID, how, formatTime(st.deployed.At), by)
	} else if st.latest != nil {
		row("deployed", "nothing in the newest %d runs", x.s.Path.Settings.HistoryPages*org.HistoryPageSize)
	} else {
		row("deployed", "nothing yet (no runs)")
	}
	if d := x.drift(st); d != nil {
		rows("drift", []string{d.Reason, "(" + d.Fix + ")"})
	}
	switch {
	case !st.env.HasUpstream():
		row("vulns", "%s", firstVulns(x.s.Path, st.env))
	case st.vulns != nil:
		row("vulns", "%s", st.vulns.text())
	}
	if l := st.latest; l != nil {
		row("latest", "%s (execution %s, commit %s, started %s, updated %s)", l.Status, l.ID, gate.Short(l.Commit), formatTime(l.Started), formatTime(l.At))
	} else {
		row("latest", "no runs yet")
	}
	watch()
	if st.err != nil {
		row("error", "%v", st.err)
	} else if len(st.approvals) == 0 {
		row("approval", "none pending")
	}
	for _, a := range st.approvals {
		run := ""
		if a.Execution != "" {
			run = fmt.Sprintf(", execution %s%s", a.Execution, st.commitOf(a.Execution))
		}
		row("approval", "PENDING: action %s in stage %s, waiting %s (since %s)%s", a.Action, a.Stage, age(now.Sub(a.Since)), formatTime(a.Since), run)
	}
	if len(st.approvals) > 0 {
		row("approvers", "%s", approvers(x.s.Path, st.env))
	}
	for _, q := range st.queued {
		row("queued", "execution %s%s, waiting to enter stage %s", q.Execution, st.commitOf(q.Execution), q.Stage)
	}
	row("waiting", "%s", x.waiting(ctx, st, all).text())
}

// waitingView is what ship promote would bring into an environment.
type waitingView struct {
	state   string   // first, commits, none, unknown (WaitingJSON.State)
	summary string   // the sentence
	note    string   // where the upstream's commit is, when it is on its way already
	commits []Commit // deployed upstream, not here, newest first
}

// text is the view as status prints it: the sentence, the note, the first commits.
func (v waitingView) text() string {
	var b strings.Builder
	b.WriteString(v.summary)
	if v.note != "" {
		b.WriteString("\n             (" + v.note + ")")
	}
	for i, c := range v.commits {
		if i == maxWaitingShown {
			fmt.Fprintf(&b, "\n             ... and %d more", len(v.commits)-maxWaitingShown)
			break
		}
		fmt.Fprintf(&b, "\n             %s %s", gate.Short(c.ID), c.Subject)
	}
	return b.String()
}

// waiting describes the commits deployed upstream but not here: what `ship promote` would bring.
func (x *session) waiting(ctx context.Context, st *envStatus, all map[string]*envStatus) waitingView {
	unknown := func(format string, a ...any) waitingView {
		return waitingView{state: "unknown", summary: fmt.Sprintf(format, a...)}
	}
	none := func(format string, a ...any) waitingView {
		return waitingView{state: "none", summary: fmt.Sprintf(format, a...)}
	}
	if !st.env.HasUpstream() {
		return waitingView{state: "first", summary: "- (first environment: it builds what is pushed to it)"}
	}
	up := all[st.env.Upstream]
	switch {
	case up == nil || (up.err != nil && up.deployed == nil):
		return unknown("unknown (%s could not be read)", st.env.Upstream)
	case up.deployed == nil:
		return none("none (nothing deployed in %s yet)", st.env.Upstream)
	case st.err != nil && st.deployed == nil:
		return unknown("unknown (%s could not be read)", st.env.Name)
	}
	to := up.deployed.Commit
	from := ""
	if st.deployed != nil {
		from = st.deployed.Commit
	}
	for _, c := range []struct{ id, where, remote string }{{to, up.env.Name, up.remote}, {from, st.env.Name, st.remote}} {
		if c.id == "" {
			continue
		}
		if _, err := x.git.ResolveCommit(ctx, c.id); err != nil {
			return unknown("unknown: %s (deployed in %s) is not in the local repository; git fetch %s", gate.Short(c.id), c.where, c.remote)
		}
	}
	cs, err := x.git.Log(ctx, from, to)
	if err != nil {
		return unknown("unknown: %v", err)
	}
	if len(cs) == 0 {
		return none("none (%s has everything deployed in %s)", st.env.Name, up.env.Name)
	}
	// What upstream deployed may already be on its way here: then say where it is rather
	// than suggest pushing what the branch already has.
	note := ""
	if run := st.runOf(to); run != nil && run.Status == "InProgress" {
		if st.head == to {
			return none("none to promote: %s, deployed in %s, is on %s's branch and %s",
				gate.Short(to), up.env.Name, st.env.Name, st.progress(*run))
		}
		note = fmt.Sprintf("%s itself %s; the branch has moved to %s since", gate.Short(to), st.progress(*run), gate.Short(st.head))
	} else if st.head == to {
		// On the branch, yet not what runs here: promote would push nothing.
		why := "no run of it newer than the deployed one was read"
		switch {
		case run != nil:
			why = fmt.Sprintf("its newest run there, execution %s, is %s", run.ID, run.Status)
		case st.deployed != nil && st.deployed.Rollback():
			why = fmt.Sprintf("a rollback, execution %s, redeployed %s since", st.deployed.ID, gate.Short(st.deployed.Commit))
		}
		return none("none to promote: %s, deployed in %s, is on %s's branch, but %s; to deploy it again, start the pipeline: "+
			"aws codepipeline start-pipeline-execution --name %s", gate.Short(to), up.env.Name, st.env.Name, why, x.s.Path.PipelineName(st.env.Name))
	}
	return waitingView{state: "commits", note: note, commits: cs,
		summary: fmt.Sprintf("%d %s deployed in %s, not in %s; ship promote %s brings %s", len(cs), plural(len(cs), "commit", "commits"),
			up.env.Name, st.env.Name, st.env.Name, gate.Short(to))}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// age is a duration as people read a waiting time: minutes, hours, days.
func age(d time.Duration) string {
	if d < time.Minute {
		return "less than a minute"
	}
	d = d.Truncate(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd%dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh%02dm", hours, mins)
	default:
		return fmt.Sprintf("%dm", mins)
	}
}

// envJSON is one environment of StatusJSON: the same reading status prints.
func (x *session) envJSON(ctx context.Context, st *envStatus, all map[string]*envStatus, now time.Time) EnvironmentJSON {
	env := st.env
	e := EnvironmentJSON{Name: env.Name, Account: env.Account, Region: env.Region, Pipeline: x.s.Path.PipelineName(env.Name),
		Remote: st.remote, Branch: env.Branch, BranchHead: st.head, Approvals: []ApprovalJSON{}, Queued: []QueuedJSON{}}
	if env.HasUpstream() {
		e.Upstream = env.Upstream
	}
	if st.headErr != nil {
		e.BranchError = st.headErr.Error()
	}
	if st.err != nil {
		e.Error = st.err.Error()
	}
	if st.deployed != nil {
		r := runJSON(*st.deployed, st.detail(st.deployed.ID))
		e.Deployed = &r
	}
	if st.latest != nil {
		r := runJSON(*st.latest, st.detail(st.latest.ID))
		e.Latest = &r
	}
	if d := x.drift(st); d != nil {
		e.Drift = &DriftJSON{DeployedCommit: d.Deployed, BranchHead: d.Head, Cause: d.Cause, Reason: d.Reason, Fix: d.Fix}
		if d.RolledBack != nil {
			r := runJSON(*d.RolledBack, st.detail(d.RolledBack.ID))
			e.Drift.RolledBack = &r
		}
	}
	if st.err == nil || st.latest != nil {
		for _, a := range st.approvals {
			e.Approvals = append(e.Approvals, ApprovalJSON{Stage: a.Stage, Action: a.Action, Since: stampOf(a.Since),
				ExecutionID: a.Execution, Approvers: approvers(x.s.Path, env)})
		}
		for _, q := range st.queued {
			e.Queued = append(e.Queued, QueuedJSON{ExecutionID: q.Execution, Stage: q.Stage})
		}
	}
	if ws := st.window; ws != nil {
		e.Window = &WindowJSON{Cron: env.Window.Cron, Duration: env.Window.Duration, TimeZone: ws.w.TimeZone(), Open: ws.open,
			Opens: stampOf(ws.opens), Closes: stampOf(ws.closes), Summary: ws.text(now)}
	}
	if as := st.alarms; as != nil {
		e.Alarms = &AlarmsJSON{Known: as.err == nil, Alarms: []AlarmJSON{}}
		if as.err != nil {
			e.Alarms.Error = as.err.Error()
		}
		for _, a := range as.alarms {
			j := AlarmJSON{Name: a.Name, State: a.State, Since: stampOf(a.Since), Reason: a.Reason, Composite: a.Composite}
			switch {
			case as.err != nil:
				j.State = "UNKNOWN"
			case a.missing():
				j.State = "MISSING"
			}
			e.Alarms.Alarms = append(e.Alarms.Alarms, j)
		}
	}
	w := WaitingJSON{State: "unknown", Commits: []CommitJSON{}, Summary: "unknown"}
	if st.err == nil || st.latest != nil {
		v := x.waiting(ctx, st, all)
		w.State, w.Summary = v.state, v.summary
		if v.note != "" {
			w.Summary += " (" + v.note + ")"
		}
		for _, c := range v.commits {
			w.Commits = append(w.Commits, CommitJSON{ID: c.ID, Subject: c.Subject})
		}
	}
	e.Waiting = w
	e.Vulnerabilities = x.vulnsJSON(st)
	return e
}
