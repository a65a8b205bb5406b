// Package jsiiexit ends the jsii runtime of a Go CDK program cleanly. Call it once, at the
// end of main (or TestMain), after the last use of any construct and before writing the
// program's own error:
//
//	err := run()
//	jsiiexit.Close()
//	if err != nil { fmt.Fprintln(os.Stderr, "app:", err); os.Exit(1) }
//
// It is jsii.Close without the stray line jsii-runtime-go v1.139.0 may print meanwhile.
package jsiiexit

import (
	"bytes"
	"runtime"
	"strings"
	"time"
)

// Close ends the jsii runtime (the Node process behind every construct) as jsii.Close
// does, without the stray line jsii-runtime-go v1.139.0 may print while doing so. Call it
// once at the end of main, after the last use of any construct and before the app writes
// its own error: what CloseJSII writes to stderr is complete when it returns.
//
// Why it is needed: the runtime waits for its Node process twice. A goroutine started with
// the process calls cmd.Wait (internal/kernel/process/process.go:181-187 of jsii-runtime-go
// v1.139.0), and Close calls cmd.Wait again (process.go:287) after telling Node to exit.
// Both block in waitid on the same child; when Node exits one reaps it and the other gets
// ECHILD. When the goroutine loses, process.go:184 prints "Runtime process exited
// abnormally: waitid: no child processes" with no newline, so it is glued to the next
// thing written to stderr: the app's error, or the CDK CLI's "Successfully synthesized".
// It happened in about 2 runs of 5 here. Close points stderr (file descriptor 2, so
// every writer is covered) at a pipe while jsii.Close runs and until that goroutine has
// finished, then restores it and passes on everything written meanwhile except that one
// message. A real abnormal exit ("exit status 1", a signal) is still passed on.
func Close() {
	closeJSII()
}

// strayLines are the messages of the lost race: waitid with pidfd (Go 1.23 and later on
// Linux), wait4 elsewhere.
var strayLines = []string{
	"Runtime process exited abnormally: waitid: no child processes",
	"Runtime process exited abnormally: wait: no child processes",
}

// withoutStrayLines removes the lost race's messages from what was written to stderr.
func withoutStrayLines(b []byte) []byte {
	for _, s := range strayLines {
		b = bytes.ReplaceAll(b, []byte(s), nil)
	}
	return b
}

// runtimeWaiter is the frame of the jsii runtime goroutine that waits for the Node process.
const runtimeWaiter = "jsii-runtime-go/internal/kernel/process.(*Process).ensureStarted.func"

// waitForRuntimeWaiter returns once no goroutine runs runtimeWaiter, or after limit: that
// goroutine has nothing left to print. It returns at once if the runtime never started.
func waitForRuntimeWaiter(limit time.Duration) {
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if n := runtime.Stack(buf, true); !strings.Contains(string(buf[:n]), runtimeWaiter) {
			return
		}
	}
}
