// Command ship moves a service's commits along its path to production: it promotes a
// commit that passed the environment before, rolls an environment back, and shows where
// every commit is. Run `ship help` for the reference; the logic lives in internal/ship.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/platform-eng/pathtoprod/apps/ship/internal/ship"
)

func main() {
	// Ctrl-C cancels the running git or AWS call instead of leaving a push half-reported.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := ship.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
