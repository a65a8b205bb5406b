// Package ship is the logic of the ship command, the service teams' tool for moving a
// commit along its path to production. Shipping stays plain git (DESIGN.md): ship adds the
// checks a person would otherwise make by hand before `git push stg <commit>`.
//
// The simplest use is the command itself, from the service's clone whose remotes are
// named after the environments (dev, stg, prd):
//
//	ship --config organization.yaml --path payments/checkout promote stg
//
// which finds the commit dev last deployed, asks gate.FindPassed (the guard Lambda's own
// function) whether it passed dev, pushes it to stg's branch and says what it replaced.
// From Go, Main does the same with explicit arguments and writers:
//
//	code := ship.Main(ctx, []string{"status"}, os.Stdout, os.Stderr)
//
// Configuration, in the order ship looks:
//   - the service: --path team/service, else $SHIP_PATH, else the organisation's only service;
//   - the organisation: --config file, else $SHIP_CONFIG; without either ship refuses to
//     act (exit 2) rather than fall back on the embedded example, whose accounts are
//     placeholders. --example-org asks for that example (org.Default) deliberately;
//   - git: -C dir (default "."); each environment's remote is the remote named after it,
//     or --remote env=<name or URL>; for a path whose source is a GitHub, GitLab or
//     Bitbucket repository, the clone's one remote that points at it, every environment
//     on its own branch of it (main, env/stg, env/prd: sourceremote.go);
//   - AWS, per environment account: --profile env=<profile> and/or --role env=<role ARN>
//     (assumed through STS), else the SDK's default chain; the region is the environment's
//     own from the organisation file. AWS_ENDPOINT_URL is honoured, which is how the tests
//     point the real SDK clients at a local fake (package fakeaws).
//
// To try ship without AWS, `go run ./apps/ship/sandbox` serves that fake with local git
// remotes for payments/checkout and prints the lines to paste into a shell.
//
// metrics prints the four delivery metrics (package dora: deployment frequency, lead time
// for changes, change failure rate, time to restore) per environment over a window, of one
// path or of every path the credentials can read (--all), as a table or a documented JSON
// document; report writes the same as one HTML file (package report), atomically:
//
//	ship metrics --since 30d
//	ship metrics --all --role-name metrics-reader --json
//	ship report --all -o report.html
//
// They read at most --parallel environments at once and open each account once
// (metricsaccess.go); --profile and --role may then be keyed by account id, and
// --role-name assumes one role in every account.
//
// status and history also show what the pipelines did on their own: ROLLBACK executions
// (automatic or a person's), and, per environment, why the deployed commit is not the
// branch head, the deployment window (deploywindow, at App.Now) and the watched CloudWatch
// alarms. Both print a documented JSON document with --json (jsonout.go). sbom fetches the
// SBOM of the image an environment runs from the registry account's bucket (sbom.go).
//
// sandbox up, down and list manage developer sandboxes: a branch sandbox/<name> of the
// first environment's remote, which the sandbox controller in that account deploys, and
// the path's sandbox table it keeps (package state), joined with the branches by list
// (sandboxcmd.go). up and down are pushes with a lease; list needs the first environment's
// credentials only for the table, and lists the branches without them.
//
// For a connection-sourced path, metrics and report read the commit times from the working
// clone of its repository, one git process per path (metricsclone.go).
//
// The command line is a cobra command set (commands.go lists the subcommands; cli.go the
// global flags, help, shell completion and how errors become exit codes): `ship help`,
// `ship help <command>`, `ship <command> --help`, and `ship completion bash|zsh|fish|powershell`,
// whose scripts complete <env> arguments from the organisation file.
//
// Exit codes are ExitOK, ExitFailed (refused or failed) and ExitUsage. The pieces are
// small: Git (the git binary, Repo), Pipelines (CodePipeline), Alarms (CloudWatch), Objects
// (S3), Commits (CodeCommit) and Sandboxes (the sandbox table in DynamoDB) are interfaces, opened per environment as one Account
// behind one credential check; each subcommand's logic is one file, and App lets a test
// swap a dependency (the clients, the clock, the report's writer) without touching the rest.
package ship
