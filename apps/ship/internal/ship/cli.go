package ship

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/platform-eng/pathtoprod/apps/ship/internal/report"
	"github.com/platform-eng/pathtoprod/constructs/org"
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
	// Clients opens each environment's account: its CodePipeline, CloudWatch, S3 and
	// CodeCommit clients. Default: AWSAccess.Clients, the AWS SDK with the --profile/--role
	// settings (metrics and report: each account once, with the settings for it).
	Clients func(AWSAccess) ClientFactory
	// Git opens the service's working clone. Default: NewRepo, the git binary.
	Git func(dir string) Git
	// Now is the clock for ages (of a pending approval), for deployment windows (open now
	// until when, or when they open next) and for following a run (--wait). Default: time.Now.
	Now func() time.Time
	// Stdin is where approve and reject read the answer to their question. Default: os.Stdin.
	Stdin io.Reader
	// Terminal reports whether a writer (stdout) or reader (Stdin) is a terminal, and its
	// width: --wait rewrites its progress line in place only on one, approve and reject ask
	// only on one. Default: whether it is an *os.File that is a terminal.
	Terminal func(any) (bool, int)
	// PollInterval is the time between two reads of a pipeline while --wait follows a run.
	// Default: DefaultPollInterval.
	PollInterval time.Duration
	// WriteReport draws ship report's HTML from what was read. Default: report.Write.
	WriteReport func(io.Writer, report.Input) error
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
	c := &cli{app: a, stdout: stdout, stderr: stderr, inv: newInvocation()}
	root := c.root()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil && !c.ran {
		// Not the subcommand's own error: cobra's (an unknown command or flag, a missing
		// argument of the completion command), so the command line is wrong.
		err = asUsage(err)
	}
	var usage *UsageError
	var stopped *StoppedFollowingError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &stopped):
		fmt.Fprintf(stderr, "ship: %v\n", err)
		return ExitInterrupted
	case errors.As(err, &usage):
		topic := "ship help"
		if cmd != nil && cmd.HasParent() && cmd.Name() != "help" {
			topic = "ship help " + strings.TrimPrefix(cmd.CommandPath(), "ship ")
		}
		fmt.Fprintf(stderr, "ship: %v\nRun '%s' for usage.\n", err, topic)
		return ExitUsage
	default:
		fmt.Fprintf(stderr, "ship: %v\n", err)
		return ExitFailed
	}
}

func init() {
	// ship help lists the subcommands in the order a commit travels, not alphabetically.
	cobra.EnableCommandSorting = false
}

// cli is one run of the command line: the flags as parsed, and whether a subcommand's own
// code ran (its errors are classified already; any other error is cobra's, a usage error).
type cli struct {
	app            *App
	stdout, stderr io.Writer
	inv            *invocation
	follow         followFlags // --wait, --yes, --reason (approve.go)
	ran            bool
}

// root is the command tree: the subcommands (commands), help and completion, and the
// global flags. It is built anew for every run, so one run's flags never leak into another.
func (c *cli) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "ship",
		Short: "move a service's commits along its path to production",
		Long:  rootLong,
		// The two errors a bare `ship` and `ship deploy` deserve, in ship's words.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown subcommand %q (want %s)%s", args[0], c.commandList(cmd), suggest(cmd, args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("no subcommand given (want %s)", c.commandList(cmd))
		},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := onlyWhereDefined(cmd); err != nil {
				return err
			}
			return c.inv.checkFlags(cmd.Flags())
		},
		SilenceErrors: true,
		SilenceUsage:  true,
		// cobra's default (0) would suggest only prefixes; 2 also catches "promte".
		SuggestionsMinimumDistance: 2,
		ValidArgsFunction:          cobra.NoFileCompletions,
	}
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.SetUsageTemplate(usageTemplate)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usagef("%v (%s)", err, flagsHint(cmd))
	})
	c.inv.bindGlobal(root.PersistentFlags())
	// --limit and --json belong to some subcommands only (their own, visible flags). Hidden
	// here too, they parse wherever they are written (before the subcommand as well), and
	// onlyWhereDefined says which subcommands take them instead of "unknown flag".
	pf := root.PersistentFlags()
	pf.IntVar(&c.inv.limit, "limit", DefaultLimit, "")
	pf.BoolVar(&c.inv.json, "json", false, "")
	must1(pf.MarkHidden("limit"), pf.MarkHidden("json"))
	c.bindFollowFlags(pf)
	c.bindMetricsFlags(pf)
	c.completeGlobalFlags(root)

	root.AddCommand(c.commands()...)
	root.SetHelpCommand(c.helpCommand())
	// Cobra's completion command (bash, zsh, fish, powershell), made now rather than at
	// execution so that help lists it in ship's words.
	root.InitDefaultCompletionCmd()
	if comp := subcommand(root, "completion"); comp != nil {
		comp.Short = "print the shell completion script: bash, zsh, fish or powershell"
		var shells []string
		for _, sh := range comp.Commands() {
			shells = append(shells, sh.Name())
		}
		// Cobra's would print its help and exit 0 for a shell it does not know, or none.
		comp.Args = func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown shell %q for completion (want %s)", args[0], orList(shells))
			}
			return nil
		}
		comp.RunE = func(*cobra.Command, []string) error {
			return usagef("completion needs a shell: ship completion <%s>", strings.Join(shells, "|"))
		}
	}
	return root
}

// run wraps a subcommand's work: it resolves the settings against the organisation, opens
// the session (git, the per-environment clients, lazily) and bounds it by --timeout.
func (c *cli) run(work func(ctx context.Context, x *session, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c.ran = true
		getenv := c.app.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		s, err := c.inv.resolve(getenv, c.stderr)
		if err != nil {
			return asUsage(err)
		}
		f := cmd.Flag("timeout")
		c.inv.timeout = timeoutFor(c.inv.timeout, f != nil && f.Changed, c.follow.wait)
		ctx, cancel := context.WithTimeout(cmd.Context(), c.inv.timeout)
		defer cancel()

		x := &session{s: s, out: c.stdout, now: c.app.Now, json: c.inv.json}
		if x.now == nil {
			x.now = time.Now
		}
		if c.app.Clients != nil {
			x.clients = c.app.Clients(s.Access)
		} else {
			x.clients = s.Access.clients(&s.Path)
		}
		if c.app.Git != nil {
			x.git = c.app.Git(s.Dir)
		} else {
			x.git = NewRepo(s.Dir)
		}
		x.opt = c.followOptions()
		err = work(ctx, x, args)
		if err != nil && ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("%w (the command ran longer than --timeout %s)", err, c.inv.timeout)
		}
		return err
	}
}

// positional checks a subcommand's arguments against its Use line ("promote <env>
// [commit]": one required, one optional), in ship's words.
func positional(cmd *cobra.Command, args []string) error {
	words := strings.Fields(cmd.Use)[1:]
	var required int
	for _, w := range words {
		if strings.HasPrefix(w, "<") {
			required++
		}
	}
	// "ship promote <env> [commit]", "ship sandbox up [name]"
	synopsis := strings.TrimSuffix(cmd.CommandPath(), cmd.Name()) + cmd.Use
	if len(args) < required {
		what := words[len(args)]
		if what == "<env>" {
			what = "an environment"
		}
		return usagef("%s needs %s: %s", cmd.Name(), what, synopsis)
	}
	if len(args) > len(words) {
		return usagef("too many arguments for %s: %q (want %s)", cmd.Name(), args[len(words):], synopsis)
	}
	for _, a := range args {
		// A leading dash would reach git as an option, and no env or revision starts with one.
		if strings.HasPrefix(a, "-") {
			return usagef("argument %q looks like a flag; %s", a, flagsHint(cmd))
		}
	}
	return nil
}

// onlyWhereDefined refuses a subcommand-specific flag (--limit, --json) given to a
// subcommand that does not take it, naming the ones that do.
func onlyWhereDefined(cmd *cobra.Command) error {
	var err error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if !f.Hidden || err != nil {
			return
		}
		var takers []string
		var visit func(*cobra.Command)
		visit = func(parent *cobra.Command) {
			for _, sub := range parent.Commands() {
				if g := sub.LocalNonPersistentFlags().Lookup(f.Name); g != nil && !g.Hidden {
					takers = append(takers, strings.TrimPrefix(sub.CommandPath(), "ship "))
				}
				visit(sub)
			}
		}
		visit(cmd.Root())
		err = usagef("--%s applies only to %s, not to %s", f.Name, orList(takers), strings.TrimPrefix(cmd.CommandPath(), "ship "))
	})
	return err
}

// flagsHint says which flags cmd takes, for a message about a flag it does not know.
func flagsHint(cmd *cobra.Command) string {
	var own, global []string
	cmd.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && f.Name != "help" {
			own = append(own, "--"+f.Name)
		}
	})
	cmd.Root().PersistentFlags().VisitAll(func(f *pflag.Flag) {
		switch {
		case f.Hidden:
		case f.Shorthand != "":
			global = append(global, "-"+f.Shorthand)
		default:
			global = append(global, "--"+f.Name)
		}
	})
	name := cmd.CommandPath()
	if len(own) == 0 {
		return fmt.Sprintf("%s takes the global flags %s", name, strings.Join(global, ", "))
	}
	return fmt.Sprintf("%s takes %s and the global flags %s", name, strings.Join(own, ", "), strings.Join(global, ", "))
}

// commandList is the subcommands a person may type, "promote, rollback, ... or help".
func (c *cli) commandList(cmd *cobra.Command) string {
	var names []string
	for _, sub := range cmd.Root().Commands() {
		if sub.IsAvailableCommand() && sub.Name() != "help" && sub.Name() != "completion" {
			names = append(names, sub.Name())
		}
	}
	return strings.Join(names, ", ") + " or help"
}

// suggest is cobra's "did you mean" for a mistyped subcommand, as a clause.
func suggest(cmd *cobra.Command, typed string) string {
	if s := cmd.SuggestionsFor(typed); len(s) > 0 {
		return "; did you mean " + orList(s) + "?"
	}
	return ""
}

func orList(words []string) string {
	switch len(words) {
	case 0:
		return "none"
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// helpCommand is `ship help [command]`: help on a command, and a usage error (exit 2)
// for a topic that is none, where cobra's own would print the usage and exit 0.
func (c *cli) helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "help about any command (also -h, --help)",
		Long:  "Help shows the reference of ship, or of one command: ship help promote.",
		RunE: func(cmd *cobra.Command, args []string) error {
			target := cmd.Root()
			for _, a := range args {
				next := subcommand(target, a)
				if next == nil {
					return usagef("unknown help topic %q (want %s)%s", strings.Join(args, " "), c.commandList(cmd), suggest(target, a))
				}
				target = next
			}
			return target.Help()
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			target := cmd.Root()
			for _, a := range args {
				if target = subcommand(target, a); target == nil {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
			}
			var out []cobra.Completion
			for _, sub := range target.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					out = append(out, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
	}
}

func subcommand(cmd *cobra.Command, name string) *cobra.Command {
	for _, sub := range cmd.Commands() {
		if sub.Name() == name || sub.HasAlias(name) {
			return sub
		}
	}
	return nil
}

// completeGlobalFlags completes the global flags' values: --path from the organisation,
// the env=... flags with the path's environments, --config with YAML files, -C with
// directories. Completion is best effort and silent: it never fails the shell.
func (c *cli) completeGlobalFlags(root *cobra.Command) {
	envPrefix := func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		p, ok := c.completionPath()
		if !ok {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, e := range p.Environments {
			if strings.HasPrefix(e.Name+"=", toComplete) {
				out = append(out, cobra.CompletionWithDesc(e.Name+"=", fmt.Sprintf("account %s, %s", e.Account, e.Region)))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
	must1(
		root.RegisterFlagCompletionFunc("remote", envPrefix),
		root.RegisterFlagCompletionFunc("profile", envPrefix),
		root.RegisterFlagCompletionFunc("role", envPrefix),
		root.RegisterFlagCompletionFunc("path", func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			o, _, err := c.inv.organisation(c.getenv(), io.Discard)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, p := range o.Paths() {
				if strings.HasPrefix(pathName(p), toComplete) {
					out = append(out, pathName(p))
				}
			}
			sort.Strings(out)
			return out, cobra.ShellCompDirectiveNoFileComp
		}),
		root.RegisterFlagCompletionFunc("config", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return []cobra.Completion{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
		}),
		root.RegisterFlagCompletionFunc("dir", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		}),
		root.RegisterFlagCompletionFunc("timeout", cobra.NoFileCompletions),
		root.RegisterFlagCompletionFunc("limit", cobra.NoFileCompletions),
	)
}

// completeEnv completes an <env> argument (the first) with the environments of the path
// that keep, described by account and region; later arguments (a commit) get none.
func (c *cli) completeEnv(keep func(org.Environment) bool) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		p, ok := c.completionPath()
		if !ok {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, e := range p.Environments {
			if (keep == nil || keep(e)) && strings.HasPrefix(e.Name, toComplete) {
				out = append(out, cobra.CompletionWithDesc(e.Name, fmt.Sprintf("account %s, %s", e.Account, e.Region)))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completionPath is the service the command line names, read quietly: completion must
// not print notes into the shell, nor fail it.
func (c *cli) completionPath() (org.Path, bool) {
	getenv := c.getenv()
	o, source, err := c.inv.organisation(getenv, io.Discard)
	if err != nil {
		return org.Path{}, false
	}
	p, err := choosePath(o, source, c.inv.path, getenv(EnvPath))
	return p, err == nil
}

func (c *cli) getenv() func(string) string {
	if c.app.Getenv != nil {
		return c.app.Getenv
	}
	return os.Getenv
}

// must1 panics on an error of the command tree's own construction: a programming error
// (a flag registered twice), never a user's.
func must1(errs ...error) {
	for _, err := range errs {
		if err != nil {
			panic(err)
		}
	}
}

// rootLong is the introduction `ship help` starts with.
const rootLong = `ship moves a service's commits along its path to production (e.g. dev -> stg -> prd)
by pushing them to each environment's git remote, after checking that the commit passed
the environment before it: the same check, by the same code, as the pipeline's guard.
It also shows what each environment runs and why that may not be its branch head (an
automatic rollback), its deployment window and its watched alarms.

[commit] is anything git rev-parse resolves to a commit in the local clone: a full or
unambiguous short id, a tag, a branch. Fetch first if it came from someone else.`

// usageTemplate is cobra's, with ship's closing sections: AWS access and exit codes in
// the reference (ship help), the exit codes under every command's help.
const usageTemplate = `Usage:{{if .Runnable}}{{if .HasParent}}
  {{.UseLine}}{{end}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

{{if .HasParent}}Flags:{{else}}Global Flags (before or after the subcommand):{{end}}
{{.LocalFlags.FlagUsagesWrapped 100 | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global Flags:
{{.InheritedFlags.FlagUsagesWrapped 100 | trimTrailingWhitespaces}}{{end}}{{if not .HasParent}}

AWS access: each environment is its own account, in the region the organisation file
gives. Without --profile/--role for it, the SDK's default chain is used (AWS_ACCESS_KEY_ID,
AWS_PROFILE, SSO, instance roles); AWS_ENDPOINT_URL is honoured. A command reads only the
accounts it needs: promote <env> the upstream's (and env's, only to say how a run of
the commit already on env's branch goes, or with --wait to follow it); rollback <env>
env's and its upstream's; approve and reject <env> env's, answering as env's approver
role, assumed with env's credentials; history <env> env's; sbom <env> env's, and with
them the registry's SBOM bucket (s3:GetObject, kms:Decrypt); sandbox list the first
environment's (dynamodb:GetItem on the path's sandbox table; sandbox up and down none,
they are git pushes); status all of them, with
CloudWatch (cloudwatch:DescribeAlarms) where an environment watches alarms; metrics and
report every environment of the paths they read (codepipeline:ListPipelineExecutions and
ListActionExecutions, codecommit:BatchGetCommits), each account once, and take an account
id as well as an environment as the key of --profile and --role. Before reading
an account, ship asks STS whose credentials it holds (sts:GetCallerIdentity, one call per
account, no permission needed) and refuses, for every command, credentials of any other
account than the environment's: every account of a path has a pipeline of the same name,
so the wrong credentials would read, and decide on, another environment's history.

Exit codes: 0 done (or nothing to do; with --wait, the run succeeded), 1 refused or failed
(git, AWS, credentials; with --wait, the run failed or was rolled back), 2 usage or
configuration error (unknown subcommand, flag, environment or service), 130 Ctrl-C while
--wait followed a run (ship stopped following; the run goes on).

Use "ship help <command>" or "ship <command> --help" for more about a command.{{else}}

Exit codes: 0 done (or nothing to do), 1 refused or failed, 2 usage error, 130 stopped
following a run (Ctrl-C during --wait; the run goes on).{{end}}
`

// timeoutFor is the bound of a command: --timeout when given, else DefaultWaitTimeout for a
// command that follows its run (--wait), else the flag's default.
func timeoutFor(flag time.Duration, given, wait bool) time.Duration {
	if wait && !given {
		return DefaultWaitTimeout
	}
	return flag
}
