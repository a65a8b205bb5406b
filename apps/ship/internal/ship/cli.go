package ship

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Main runs ship with the command-line arguments (without the program name) and the
// process environment, and returns the exit code: ExitOK, ExitFailed or ExitUsage.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return (&App{Stdout: stdout, Stderr: stderr}).Run(ctx, args)
}

// App is ship with its dependencies. Every nil field means the real thing, which is what
// Main uses; tests replace a field only where the real one cannot run (the AWS and git
// paths are tested for real: an httptest server behind AWS_ENDPOINT_URL, the git binary).
type App struct {
	// Stdout receives results; Stderr receives errors and notes.
	Stdout, Stderr io.Writer
	// Getenv reads SHIP_PATH and SHIP_CONFIG. Default: os.Getenv.
	Getenv func(string) string
	// Clients opens the per-environment CodePipeline clients. Default: AWSAccess.Clients,
	// the AWS SDK with the --profile/--role settings.
	Clients func(AWSAccess) ClientFactory
	// Git opens the service's working clone. Default: NewRepo, the git binary.
	Git func(dir string) Git
	// Now is the clock for ages (of a pending approval). Default: time.Now.
	Now func() time.Time
}

// Run parses args, runs the subcommand and reports the outcome: results on Stdout, an
// error as one "ship: ..." message on Stderr, never a panic trace.
func (a *App) Run(ctx context.Context, args []string) (code int) {
	stdout, stderr := a.Stdout, a.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "ship: internal error: %v (please report this with the command you ran)\n", r)
			code = ExitFailed
		}
	}()
	err := a.run(ctx, args, stdout, stderr)
	var usage *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errHelp):
		fmt.Fprint(stdout, Usage)
		return ExitOK
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "ship: %v\nRun 'ship help' for usage.\n", err)
		return ExitUsage
	default:
		fmt.Fprintf(stderr, "ship: %v\n", err)
		return ExitFailed
	}
}

func (a *App) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	inv, err := parseArgs(args)
	if err != nil {
		return err
	}
	if inv.cmd == "help" {
		return errHelp
	}
	if err := inv.checkArgs(); err != nil {
		return err
	}
	getenv := a.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	s, err := inv.resolve(getenv, stderr)
	if err != nil {
		return asUsage(err)
	}
	ctx, cancel := context.WithTimeout(ctx, inv.timeout)
	defer cancel()

	x := &session{s: s, out: stdout, now: a.Now}
	if x.now == nil {
		x.now = time.Now
	}
	if a.Clients != nil {
		x.clients = a.Clients(s.Access)
	} else {
		x.clients = s.Access.clients(&s.Path)
	}
	if a.Git != nil {
		x.git = a.Git(s.Dir)
	} else {
		x.git = NewRepo(s.Dir)
	}

	arg := func(i int) string {
		if i < len(inv.args) {
			return inv.args[i]
		}
		return ""
	}
	switch inv.cmd {
	case "promote":
		err = x.promote(ctx, arg(0), arg(1))
	case "rollback":
		err = x.rollback(ctx, arg(0), arg(1))
	case "status":
		err = x.status(ctx)
	case "history":
		err = x.history(ctx, arg(0))
	}
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("%w (the command ran longer than --timeout %s)", err, inv.timeout)
	}
	return err
}

// Usage is the text `ship help` prints: the command and flag reference.
const Usage = `ship moves a service's commits along its path to production (e.g. dev -> stg -> prd)
by pushing them to each environment's git remote, after checking that the commit passed
the environment before it: the same check, by the same code, as the pipeline's guard.

Usage:
  ship promote <env> [commit]   push a commit that passed <env>'s upstream to <env>
                                (default: the commit deployed upstream, i.e. its newest
                                successful run); says what it pushed and what it replaced,
                                or, if <env>'s branch already has it, how its run goes
                                (e.g. waiting for approval, and who may answer)
  ship rollback <env> [commit]  push <env>'s previous successful commit (newest successful
                                run of a commit other than the branch's), or [commit], with
                                --force-with-lease; a commit must still have passed upstream
  ship status                   per environment: branch, deployed commit, latest run,
                                pending approval (its run, its age, who may answer it),
                                runs queued behind it, commits waiting to be promoted
  ship history <env>            recent runs of <env>'s pipeline: execution, commit, status, time
  ship help                     this text (also -h, --help)

[commit] is anything git rev-parse resolves to a commit in the local clone: a full or
unambiguous short id, a tag, a branch. Fetch first if it came from someone else.

Flags (before or after the subcommand):
  --path team/service    the service. Default: $SHIP_PATH; if unset and the organisation
                         has exactly one service, that one
  --config file          the organisation file. Default: $SHIP_CONFIG. Required: without
                         either, ship refuses to act (exit 2)
  --example-org          use the embedded EXAMPLE organisation instead (placeholder
                         accounts: for trying ship, e.g. in the sandbox, never by default)
  -C dir                 the service's git clone. Default: the current directory
  --remote env=remote    env's git remote, a remote name or URL (repeatable). Default: the
                         remote named after the environment (git remote add stg <url>)
  --profile env=name     AWS shared-config profile for env's account (repeatable)
  --role env=arn         role in env's account to assume through STS, with the profile's
                         or the default credentials (repeatable)
  --limit N              history only: how many runs. Default: 10 (at most 1000)
  --timeout d            bound on the whole command, pushes included. Default: 10m

AWS access: each environment is its own account, in the region the organisation file
gives. Without --profile/--role for it, the SDK's default chain is used (AWS_ACCESS_KEY_ID,
AWS_PROFILE, SSO, instance roles); AWS_ENDPOINT_URL is honoured. A command reads only the
accounts it needs: promote <env> the upstream's (and env's, only to say how a run of
the commit already on env's branch goes); rollback <env> env's and its upstream's;
history <env> env's; status all of them. Before reading an account, ship asks STS whose
credentials it holds (sts:GetCallerIdentity, one call per account, no permission needed)
and refuses, for every command, credentials of any other account than the environment's:
every account of a path has a pipeline of the same name, so the wrong credentials would
read, and decide on, another environment's history.

Exit codes: 0 done (or nothing to do), 1 refused or failed (git, AWS, credentials),
2 usage or configuration error (unknown subcommand, flag, environment or service).
`
