package ship

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
)

// Causes of a drift: why an environment runs another commit than its branch head names.
const (
	// DriftRollback: a ROLLBACK execution redeployed an older commit; the branch did not move.
	DriftRollback = "rollback"
	// DriftRunning: the branch head's run is in progress (running, queued, at the approval).
	DriftRunning = "running"
	// DriftEnded: the branch head's newest run ended without deploying (Failed, Stopped, ...).
	DriftEnded = "ended"
	// DriftNotRun: no run of the branch head was read.
	DriftNotRun = "notRun"
)

// drift is why an environment runs another commit than its branch head names.
type drift struct {
	Deployed, Head string
	// Cause is one of the Drift* constants.
	Cause string
	// Rollback is, for DriftRollback, the ROLLBACK run; RolledBack the run it rolled back,
	// nil if it was not read.
	Rollback, RolledBack *Execution
	// Reason is the whole explanation, as status prints it.
	Reason string
	// Fix says how to make the branch and the deployment agree.
	Fix string
}

// drift explains why env runs another commit than its branch head; nil when they agree,
// or when either is unknown.
func (x *session) drift(st *envStatus) *drift {
	if st.deployed == nil || st.head == "" || st.headErr != nil || st.deployed.Commit == st.head {
		return nil
	}
	dep, head := gate.ShortPair(st.deployed.Commit, st.head)
	d := &drift{Deployed: st.deployed.Commit, Head: st.head}
	lead := fmt.Sprintf("%s runs %s, not the branch head %s: ", st.env.Name, dep, head)

	if st.deployed.Rollback() {
		d.Cause, d.Rollback = DriftRollback, st.deployed
		d.RolledBack = st.rolledBack(st.deployed)
		d.Reason = lead + x.rollbackStory(st, st.deployed, d.RolledBack)
		d.Fix = fmt.Sprintf("the branch still names %s, so the next push of anything replaces %s; "+
			"to make the branch name what runs, ship rollback %s %s pushes it (its run redeploys it)",
			head, dep, st.env.Name, dep)
		return d
	}
	run := st.runOf(st.head)
	switch {
	case run != nil && run.Status == "InProgress":
		d.Cause = DriftRunning
		d.Reason = lead + "its run " + st.progress(*run)
		d.Fix = fmt.Sprintf("none needed: %s is deployed when its run succeeds", head)
	case run != nil:
		d.Cause = DriftEnded
		d.Reason = lead + fmt.Sprintf("its newest run, execution %s, is %s (%s)%s", run.ID, run.Status, formatTime(run.At), summaryOf(st.detail(run.ID)))
		d.Fix = fmt.Sprintf("push a fix, run it again (aws codepipeline start-pipeline-execution --name %s), "+
			"or make the branch name what runs: ship rollback %s %s", x.s.Path.PipelineName(st.env.Name), st.env.Name, dep)
	default:
		d.Cause = DriftNotRun
		d.Reason = lead + fmt.Sprintf("no run of %s newer than the deployed one was read (a push moments ago, or a pipeline that did not start)", head)
		d.Fix = fmt.Sprintf("look again shortly; if no run starts, start one: aws codepipeline start-pipeline-execution --name %s",
			x.s.Path.PipelineName(st.env.Name))
	}
	return d
}

// rolledBack is the run a ROLLBACK rolled back: the newest STANDARD run that started
// before the rollback and after its target (the history is newest first). nil if it was
// not read.
func (st *envStatus) rolledBack(rb *Execution) *Execution {
	seen := false
	for i := range st.runs {
		e := &st.runs[i]
		switch {
		case e.ID == rb.ID:
			seen = true
		case !seen || e.Rollback():
		case e.ID == rb.RollbackTarget:
			return nil
		default:
			return e
		}
	}
	return nil
}

// rollbackStory tells what a ROLLBACK run did and why, from what CodePipeline says: its
// trigger (automatic or a person's), the run it rolled back and how that ended, the stage
// conditions (an alarm during the bake) and the status summaries.
func (x *session) rollbackStory(st *envStatus, rb, from *Execution) string {
	var b strings.Builder
	switch a := st.detail(rb.ID).automatic(); {
	case a != nil && *a:
		b.WriteString("automatic rollback")
	case a != nil:
		who := "a person"
		if d := st.detail(rb.ID).TriggerDetail; d != "" {
			who = d
		}
		b.WriteString("rollback started by " + who + " (rollback-stage)")
	default:
		b.WriteString("rollback")
	}
	fmt.Fprintf(&b, " (execution %s, %s) to execution %s", rb.ID, formatTime(rb.At), orDash(rb.RollbackTarget))
	if from == nil {
		b.WriteString(", after a run that was not read")
	} else {
		fmt.Fprintf(&b, ", after execution %s (commit %s) %s", from.ID, gate.Short(from.Commit), x.howItEnded(st, from))
	}
	if s := strings.TrimSpace(st.detail(rb.ID).StatusSummary); s != "" {
		fmt.Fprintf(&b, "; the rollback's summary: %s", s)
	}
	return b.String()
}

// howItEnded says how a rolled-back run ended, from what the APIs give: the stage's
// on-success condition that failed (the bake's alarm rules), while GetPipelineState still
// shows that run in the stage (a rollback's own run of the stage replaces the condition
// states); its status and summary; and a watched alarm that went into ALARM while it ran.
func (x *session) howItEnded(st *envStatus, e *Execution) string {
	for _, sc := range st.conditions {
		if sc.Success != nil && sc.Success.Status == "Failed" && (sc.Latest == "" || sc.Latest == e.ID) {
			return fmt.Sprintf("deployed, then stage %s's bake check failed: %s", sc.Stage, failedRules(sc.Success))
		}
	}
	end := fmt.Sprintf("ended %s (%s)", e.Status, formatTime(e.At))
	if e.Status == "Failed" {
		end = fmt.Sprintf("failed (%s)", formatTime(e.At))
	}
	end += summaryOf(st.detail(e.ID))
	if acts, ok := st.actionsOf[e.ID]; ok {
		var failed []string
		for _, a := range acts {
			if a.Status == "Failed" {
				f := "action " + a.Stage + "/" + a.Action + " failed"
				if a.Error != "" {
					f += ": " + a.Error
				}
				failed = append(failed, f)
			}
		}
		switch {
		case len(failed) > 0:
			end += "; " + strings.Join(failed, "; ")
		case len(acts) > 0:
			// Nothing it ran failed, yet it was rolled back: a stage condition failed it,
			// and after the deploy that is the bake's alarm watch.
			end += "; every action it ran succeeded, so a stage condition failed it: after a deploy, the bake's watched alarms"
		}
	}
	if st.alarms != nil {
		for _, a := range st.alarms.alarms {
			// An alarm that went into ALARM while the run was deploying or baking is what a
			// bake rolls back on; one in ALARM since before the run started would have
			// kept it from deploying at all.
			if a.State == "ALARM" && !a.Since.Before(e.Started) && (e.At.IsZero() || !a.Since.After(e.At)) {
				end += fmt.Sprintf("; watched alarm %s went into ALARM at %s, during that run", a.Name, formatTime(a.Since))
			}
		}
	}
	return end
}

// failedRules names the condition's failed rules and what each said, e.g. "rule
// Alarm-payments-checkout-prd-health: alarm in ALARM".
func failedRules(c *conditionState) string {
	var parts []string
	for _, r := range c.Rules {
		if r.Status == "Failed" {
			p := "rule " + r.Name
			if r.Summary != "" {
				p += ": " + r.Summary
			}
			if !r.Changed.IsZero() {
				p += " (" + formatTime(r.Changed) + ")"
			}
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		if c.Summary != "" {
			return c.Summary
		}
		return "a watched alarm went into ALARM"
	}
	return strings.Join(parts, "; ")
}

// actionOutcome is one action execution of a run, as the drift's reason tells it.
type actionOutcome struct {
	Stage, Action, Status, Error string
}

func outcomes(acts []types.ActionExecutionDetail) []actionOutcome {
	var out []actionOutcome
	for _, a := range acts {
		o := actionOutcome{Stage: aws.ToString(a.StageName), Action: aws.ToString(a.ActionName), Status: string(a.Status)}
		if a.Output != nil && a.Output.ExecutionResult != nil && a.Output.ExecutionResult.ErrorDetails != nil {
			o.Error = aws.ToString(a.Output.ExecutionResult.ErrorDetails.Message)
		}
		out = append(out, o)
	}
	return out
}

// summaryOf is CodePipeline's status summary of a run as a clause, "" if it gave none.
func summaryOf(d runDetail) string {
	if s := strings.TrimSpace(d.StatusSummary); s != "" {
		return ": " + s
	}
	return ""
}
