package gate

import (
	"fmt"
	"time"
)

// Reason says, for a person, why commit may or may not run downstream of upstreamEnv, e.g.
// "commit 1a2b3c4 has not passed stg (newest pass there: 9f8e7d6 at 2026-11-20T10:00:00Z)".
// Two different commits are never shown under the same abbreviation (see ShortPair).
func (v Verdict) Reason(commit, upstreamEnv string) string {
	switch {
	case v.Passed:
		return fmt.Sprintf("commit %s passed %s in execution %s at %s",
			Short(commit), upstreamEnv, v.Match.ID, stamp(v.Match.At))
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
