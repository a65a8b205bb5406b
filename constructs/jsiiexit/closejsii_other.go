//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris)

package jsiiexit

import (
	"time"

	"github.com/aws/jsii-runtime-go"
)

// closeJSII cannot redirect stderr here (no dup2); it closes the runtime and waits for its
// waiter goroutine, so a stray line at least comes before the app's own output.
func closeJSII() {
	jsii.Close()
	waitForRuntimeWaiter(2 * time.Second)
}
