package ship

import (
	"errors"
	"fmt"
)

// Exit codes of the ship command. Scripts can tell "you asked wrongly" (ExitUsage) from
// "the operation was refused or failed" (ExitFailed) without parsing messages.
const (
	// ExitOK means the command did what it was asked (including "nothing to do").
	ExitOK = 0
	// ExitFailed means an operation was refused (e.g. the commit has not passed upstream)
	// or failed (git, AWS): see the message on stderr.
	ExitFailed = 1
	// ExitUsage means the command line or the configuration is wrong: an unknown
	// subcommand, flag, environment or path, a missing argument, an unreadable org file.
	ExitUsage = 2
)

// UsageError is a mistake in how ship was invoked, found before anything was read from
// AWS or pushed. Run reports it with a pointer to `ship help` and exits with ExitUsage.
type UsageError struct{ msg string }

// Error implements error.
func (e *UsageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &UsageError{msg: fmt.Sprintf(format, a...)} }

// asUsage turns an error found while resolving the invocation (e.g. from the org package)
// into a UsageError, keeping its message.
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	var u *UsageError
	if errors.As(err, &u) {
		return err
	}
	return &UsageError{msg: err.Error()}
}

// RefusedError is a promotion or rollback that ship declined to push because the commit
// has not passed the upstream environment: the same decision the guard would make.
type RefusedError struct {
	// Op is the subcommand, "promote" or "rollback".
	Op string
	// Reason is gate.Verdict.Reason: which commit, which upstream, the newest success there.
	Reason string
}

// Error implements error.
func (e *RefusedError) Error() string { return e.Op + " refused: " + e.Reason }
