package gate

import (
	"fmt"
	"time"
)

// Reason says, for a person, why commit may or may not run downstream of upstreamEnv, e.g.
// "commit 1a2b3c4 has not passed stg (newest pass there: 9f8e7d6 at 2026-11-20T10:00:00Z)",
// or, when its newest run was rolled back, which rollback did it and to what.
// Two different commits are never shown under the same abbreviation (see ShortPair).
func (v Verdict) Reason(commit, upstreamEnv string) string {
	switch {
	case v.Passed:
		return fmt.Sprintf("commit %s passed %s in execution %s at %s",
			Short(commit), upstreamEnv, v.Match.ID, stamp(v.Match.At))
	case v.Withdrawn() && v.Match.RolledBack():
		return v.rolledBack(commit, upstreamEnv)
	case v.Withdrawn():
		return fmt.Sprintf("commit %s has not passed %s: its newest run there, execution %s, is %s (at %s); a newer successful run of it would count",
			Short(commit), upstreamEnv, v.Match.ID, v.Match.Status, stamp(v.Match.At))
	case v.NewestPass == nil:
		return fmt.Sprintf("commit %s has not passed %s (no commit has passed there in the %d newest executions)",
			Short(commit), upstreamEnv, v.Read)
	default:
		mine, theirs := ShortPair(commit, v.NewestPass.Commit)
		return fmt.Sprintf("commit %s has not passed %s (newest pass there: %s at %s)",
			mine, upstreamEnv, theirs, stamp(v.NewestPass.At))
	}
}

// rolledBack is the Reason for a commit whose newest run was rolled back, e.g.
// "commit 1a2b3c4's newest run in stg (execution e2, Succeeded at …) was rolled back by
// execution r1 (a rollback to 9f8e7d6, execution e1, at …): it has not passed stg; …".
func (v Verdict) rolledBack(commit, env string) string {
	mine, how := Short(commit), ""
	if r := v.RolledBackBy; r != nil {
		when := r.Started
		if when.IsZero() {
			when = r.At
		}
		switch {
		case r.RollbackTarget == "":
			how = fmt.Sprintf(" (a rollback that named no target execution, at %s)", stamp(when))
		case r.Commit == "":
			how = fmt.Sprintf(" (a rollback to execution %s, at %s)", r.RollbackTarget, stamp(when))
		case r.Commit == commit:
			how = fmt.Sprintf(" (a rollback to an earlier run of the same commit, execution %s, at %s)", r.RollbackTarget, stamp(when))
		default:
			var theirs string
			mine, theirs = ShortPair(commit, r.Commit)
			how = fmt.Sprintf(" (a rollback to %s, execution %s, at %s)", theirs, r.RollbackTarget, stamp(when))
		}
	}
	return fmt.Sprintf("commit %s's newest run in %s (execution %s, %s at %s) was rolled back by execution %s%s: it has not passed %s; a newer successful run of it would count",
		mine, env, v.Match.ID, v.Match.Status, stamp(v.Match.At), v.Match.RolledBackBy, how, env)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format(time.RFC3339)
}

// Short is the 7-character abbreviation of a commit id that people read; "(none)" for an
// empty id, so a message never shows a blank where a commit belongs.
func Short(commit string) string {
	switch {
	case commit == "":
		return "(none)"
	case len(commit) > 7:
		return commit[:7]
	default:
		return commit
	}
}

// ShortPair abbreviates two commit ids so that different ids never read the same: as
// Short, or longer where the two share their first 7 characters (full ids if need be).
func ShortPair(a, b string) (string, string) {
	if a == "" || b == "" || a == b {
		return Short(a), Short(b)
	}
	n := 7
	for n < len(a) && n < len(b) && a[:n] == b[:n] {
		n++
	}
	cut := func(s string) string {
		if len(s) > n {
			return s[:n]
		}
		return s
	}
	return cut(a), cut(b)
}
