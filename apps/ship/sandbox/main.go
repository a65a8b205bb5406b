// Command sandbox serves a local path to production to try ship on, without AWS:
//
//	go run ./apps/ship/sandbox [-dir DIR] [-port N] [-keep]
//	go run ./apps/ship/sandbox approve|reject <env> [summary...]
//
// It builds bare git repositories for dev, stg and prd and a clone of payments/checkout
// (the embedded example organisation's service) with a few commits, starts a fake
// CodePipeline on 127.0.0.1 whose pipelines run whatever is pushed to those repositories
// through the stages the constructs give them (QUEUED; prd behind its plan and a manual
// approval; stg's health alarm scripted to fire during the bake of change 5, so that deploy
// is rolled back automatically), and prints the shell lines that point ship at it and a
// tour: promote, status, rollback, approvals, ship promote --wait to the rollback, ship
// approve --wait to the end, then ship metrics and ship report of it all. It serves until interrupted, then removes the directory
// unless -keep.
//
// approve and reject answer the approval a run waits at in <env>, through the running
// sandbox's CodePipeline API (AWS_ENDPOINT_URL, as the printed lines export it), as an
// approver would with aws codepipeline put-approval-result; ship approve and ship reject
// do the same the way a release manager does, as prd's approver role, after showing the
// plan. The logic lives in internal/sandbox and test/fakeaws.
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

// name is how usage and errors name the program: os.Args[0] is a temporary build path
// under go run, which means nothing to the reader.
const name = "go run ./apps/ship/sandbox"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && (os.Args[1] == "approve" || os.Args[1] == "reject") {
		os.Exit(sandbox.Control(ctx, os.Args[1:], os.Getenv("AWS_ENDPOINT_URL"), os.Stdout, os.Stderr))
	}

	var opts sandbox.Options
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	fs.StringVar(&opts.Dir, "dir", "", "build the sandbox in `DIR`, which must be empty or absent (default: a new temporary directory)")
	fs.IntVar(&opts.Port, "port", 0, "serve the fake AWS on 127.0.0.1:`N` (default: a free port)")
	fs.BoolVar(&opts.Keep, "keep", false, "keep the directory after exit (default: it is removed)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage:\n  %s [-dir DIR] [-port N] [-keep]   serve a sandbox and print how to use it\n"+
			"  (in the sandbox's shell, where the printed lines define the function sandbox:)\n%s\n\nflags:\n", name, sandbox.ControlUsage)
		fs.PrintDefaults()
	}
	fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "sandbox: unexpected arguments %q (sub-commands are approve and reject)\n", fs.Args())
		fs.Usage()
		os.Exit(2)
	}

	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
	sb.WriteInstructions(os.Stdout, programs(sb.Dir))
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

// programs is how the printed functions run ship and the sandbox: built from this
// repository's root, which is where `go run ./apps/ship/sandbox` was built from (or above
// the current directory), into the sandbox's bin directory; failing that, ship on $PATH and
// this very executable.
func programs(dir string) sandbox.Programs {
	bin := filepath.Join(dir, "bin")
	if root := repoRoot(); root != "" {
		return sandbox.Programs{
			Ship:    sandbox.GoBuild(root, "./apps/ship", filepath.Join(bin, "ship")),
			Sandbox: sandbox.GoBuild(root, "./apps/ship/sandbox", filepath.Join(bin, "sandbox")),
		}
	}
	self, err := os.Executable()
	if err != nil {
		self = "sandbox"
	}
	return sandbox.Programs{Ship: "command ship", Sandbox: sandbox.ShellQuote(self)}
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
