package handler

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
)

// Check is one condition a commit must meet before it may run downstream. The guard runs
// its checks in order and stops at the first that does not pass.
type Check interface {
	// Name names the check in logs, e.g. "upstream" or "image".
	Name() string
	// Check decides for job. A nil error with Passed=false is a definite "no"; an error
	// means the check could not decide, and its message must say why for a person.
	Check(ctx context.Context, job Job) (Result, error)
}

// Result is what one check found.
type Result struct {
	// Passed is true when the commit meets the check's condition.
	Passed bool
	// Summary is one clause for a person: what was verified, or why the commit fails.
	Summary string
	// Outputs are output variables the check contributes when it passes.
	Outputs map[string]string
}

// Decision is the outcome of all checks for one job.
type Decision struct {
	// Passed is true when every check passed.
	Passed bool
	// Message is, on a pass, one sentence of what was verified; otherwise why not.
	Message string
	// Outputs are the output variables to report on a pass (Commit, Summary and the
	// checks' own).
	Outputs map[string]string
	// FailedCheck names the check that failed or could not decide ("" on a pass).
	FailedCheck string
	// Err is the error that stopped a check, if one did.
	Err error
}

// Limits CodePipeline puts on what a job reports (kept well below the service's limits).
const (
	maxSummary = 250
	maxMessage = 2000
)

// Decide runs checks in order for job and returns the first failure, or a pass that
// combines all the checks' outputs. No checks is a failure: a guard must check something.
func Decide(ctx context.Context, job Job, checks []Check) Decision {
	if len(checks) == 0 {
		return Decision{Message: "the guard has no checks configured", FailedCheck: "config"}
	}
	outputs := map[string]string{"Commit": job.Commit}
	var clauses []string
	for _, c := range checks {
		job.Verified = maps.Clone(outputs)
		r, err := runCheck(ctx, c, job)
		if err != nil {
			return Decision{Message: limit(err.Error(), maxMessage), FailedCheck: c.Name(), Err: err}
		}
		if !r.Passed {
			return Decision{Message: limit(r.Summary, maxMessage), FailedCheck: c.Name()}
		}
		for k, v := range r.Outputs {
			outputs[k] = v
		}
		clauses = append(clauses, r.Summary)
	}
	summary := limit(fmt.Sprintf("Verified commit %s: %s.", gate.Short(job.Commit), strings.Join(clauses, "; ")), maxSummary)
	outputs["Summary"] = summary
	return Decision{Passed: true, Message: summary, Outputs: outputs}
}

// limit cuts s to at most n bytes, on a rune boundary, marking the cut with "…".
func limit(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !runeStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func runeStart(b byte) bool { return b&0xC0 != 0x80 }

// runCheck runs one check and turns a panic inside it into an error: a bug in a check must
// still end in a reported failure, never in a job left to CodePipeline's time-out.
func runCheck(ctx context.Context, c Check, job Job) (r Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = Result{}, &CheckError{Err: fmt.Errorf("panic: %v", p),
				Message: fmt.Sprintf("the guard's %s check failed unexpectedly (panic: %v); this is a bug in the guard: report it, and retry the stage", c.Name(), limit(fmt.Sprint(p), 300))}
		}
	}()
	return c.Check(ctx, job)
}
