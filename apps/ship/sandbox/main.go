// Command sandbox serves a local path to production to try ship on, without AWS:
//
//	go run ./apps/ship/sandbox [-dir DIR] [-port N] [-keep]
//
// It builds bare git repositories for dev, stg and prd and a clone of payments/checkout
// (the embedded example organisation's service) with a few commits, starts a fake
// CodePipeline on 127.0.0.1 whose pipelines run whatever is pushed to those repositories,
// and prints the shell lines that point ship at it. It serves until interrupted, then
// removes the directory unless -keep. The logic lives in internal/sandbox and internal/fakeaws.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/platform-eng/pathtoprod/apps/ship/internal/sandbox"
)

// module is this repository's module path, how its root is recognised.
const module = "github.com/platform-eng/pathtoprod"

func main() {
	var opts sandbox.Options
	flag.StringVar(&opts.Dir, "dir", "", "build the sandbox in `DIR`, which must be empty or absent (default: a new temporary directory)")
	flag.IntVar(&opts.Port, "port", 0, "serve the fake AWS on 127.0.0.1:`N` (default: a free port)")
	flag.BoolVar(&opts.Keep, "keep", false, "keep the directory after exit (default: it is removed)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "sandbox: unexpected arguments %q\n", flag.Args())
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
	sb.WriteInstructions(os.Stdout, shipCommand())
	after := "removed (-keep keeps it)"
	if sb.Kept() {
		after = "kept"
	}
	fmt.Printf("Serving until Ctrl-C; then %s is %s.\n", sb.Dir, after)

	<-ctx.Done()
	if err := sb.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
	fmt.Println("\nsandbox: stopped.")
}

// shipCommand is how the printed lines run ship: go run from this repository's root,
// which is where `go run ./apps/ship/sandbox` was built from (or above the current
// directory); failing both, a ship on $PATH.
func shipCommand() string {
	if root := repoRoot(); root != "" {
		return "go -C " + sandbox.ShellQuote(root) + " run ./apps/ship"
	}
	return "command ship"
}

func repoRoot() string {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for ; ; dir = filepath.Dir(dir) {
			if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
				if strings.HasPrefix(string(data), "module "+module+"\n") {
					return dir
				}
				break // another module
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return ""
}
