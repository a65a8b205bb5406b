package ship

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/platform-eng/pathtoprod/constructs/dora"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// ship metrics and ship report read the delivery metrics (package dora) of one path, or of
// every path of the organisation (--all): per environment, its pipeline's history
// (dora.Read) and the committer dates of the commits it ran, from its own CodeCommit
// repository (dora.CommitTimes), read by a bounded pool of readers (--parallel), each
// account opened once (metricsaccess.go). The output is in metricsout.go, the report's
// file in reportcmd.go.

// Defaults and bounds of the metrics flags.
const (
	// DefaultSince is the window metrics read without --since.
	DefaultSince = "30d"
	// MaxSince bounds --since: a year, the longest span delivery metrics are compared
	// over; the history bound (settings.historyPages) shortens most longer reads anyway.
	MaxSince = 365 * 24 * time.Hour
	// DefaultParallel is how many environments metrics reads at once without --parallel.
	DefaultParallel = 8
	// MaxParallel bounds --parallel: beyond it CodePipeline's per-account rate limits
	// (ListPipelineExecutions is throttled at a few calls a second) make more readers wait.
	MaxParallel = 64
)

// metricsFlags are the flags of metrics and report, bound to the invocation.
type metricsFlags struct {
	all      bool
	since    string
	parallel int
	roleName string
	// roleNameGiven is whether --role-name was on the command line: --role-name '' is a
	// mistake to report, not the flag left out.
	roleNameGiven bool
}

// bindMetricsFlags defines them hidden on the root, as --limit is: they parse anywhere on
// the line, and onlyWhereDefined refuses them to the other commands.
func (c *cli) bindMetricsFlags(pf *pflag.FlagSet) {
	c.defineMetricsFlags(pf)
	must1(pf.MarkHidden("all"), pf.MarkHidden("since"), pf.MarkHidden("parallel"), pf.MarkHidden("role-name"))
}

// metricsFlagsOn gives cmd (metrics, report) the flags, visible.
func (c *cli) metricsFlagsOn(cmd *cobra.Command) {
	c.defineMetricsFlags(cmd.Flags())
	must1(cmd.RegisterFlagCompletionFunc("since", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return []cobra.Completion{"7d", "30d", "12w", "90d"}, cobra.ShellCompDirectiveNoFileComp
	}), cmd.RegisterFlagCompletionFunc("parallel", cobra.NoFileCompletions),
		cmd.RegisterFlagCompletionFunc("role-name", cobra.NoFileCompletions))
}

func (c *cli) defineMetricsFlags(fs *pflag.FlagSet) {
	m := &c.inv.metrics
	fs.BoolVar(&m.all, "all", false, "every path of the organisation, instead of one (--path)")
	fs.StringVar(&m.since, "since", DefaultSince, "the window, ending now: `SPAN` in days (30d), weeks (12w), hours (36h) or a Go duration; at most 365d")
	fs.IntVar(&m.parallel, "parallel", DefaultParallel, "how many environments to read at once, `N` from 1 to 64")
	fs.StringVar(&m.roleName, "role-name", "", "assume role `NAME` in each account read (arn:aws:iam::<account>:role/NAME), with the profile's or the default credentials")
}

// metricsSettings is what metrics and report read, resolved and checked up front.
type metricsSettings struct {
	org       org.Organization
	orgSource string
	// paths are the paths read, in the organisation file's order.
	paths []org.Path
	all   bool
	// since is the window's length, sinceText as given.
	since     time.Duration
	sinceText string
	parallel  int
	access    metricsAccess
}

// resolveMetrics loads the organisation and checks every flag of metrics and report
// against it, reporting all problems at once (each names the flag, the value and what is
// allowed). Without --all the path is chosen as for every command.
func (inv *invocation) resolveMetrics(getenv func(string) string, stderr io.Writer) (metricsSettings, error) {
	m := inv.metrics
	s := metricsSettings{all: m.all, sinceText: m.since, parallel: m.parallel,
		access: metricsAccess{profiles: inv.profile, roles: inv.roles, roleName: m.roleName, roleNameGiven: m.roleNameGiven, all: m.all}}
	o, source, err := inv.organisation(getenv, stderr)
	if err != nil {
		return s, err
	}
	s.org, s.orgSource = o, source
	var problems []string
	scope := ""
	switch {
	case m.all && inv.path != "":
		problems = append(problems, fmt.Sprintf("--all and --path %s both say what to read: give one (--all reads every path of %s)", inv.path, source))
	case m.all:
		s.paths, scope = o.Paths(), "the organisation ("+source+")"
	case inv.path == "" && getenv(EnvPath) == "" && len(o.Paths()) > 1:
		var known []string
		for _, p := range o.Paths() {
			known = append(known, pathName(p))
		}
		problems = append(problems, fmt.Sprintf("which service? pass --path team/service, set %s, or pass --all for every path (known in %s: %s)",
			EnvPath, source, strings.Join(known, ", ")))
	default:
		p, err := choosePath(o, source, inv.path, getenv(EnvPath))
		if err != nil {
			problems = append(problems, err.Error())
		} else {
			s.paths, scope = []org.Path{p}, "path "+pathName(p)
		}
	}
	if s.since, err = parseSince(m.since); err != nil {
		problems = append(problems, err.Error())
	}
	// -C is read only for the commit dates of connection-sourced paths, but one that is not
	// there is a mistake worth hearing of before the read, whatever the paths' sources.
	if what := notADirectory(inv.dir); what != "" {
		problems = append(problems, fmt.Sprintf("-C %s: %s (want the service's git clone: metrics reads the commit dates of GitHub, GitLab and Bitbucket sources from it)", inv.dir, what))
	}
	if m.parallel < 1 || m.parallel > MaxParallel {
		problems = append(problems, fmt.Sprintf("--parallel %d is out of range (want 1 to %d)", m.parallel, MaxParallel))
	}
	if len(s.paths) > 0 {
		problems = append(problems, s.access.check(s.paths, scope)...)
	} else {
		problems = append(problems, metricsAccess{roleName: m.roleName, roleNameGiven: m.roleNameGiven}.check(nil, "")...)
	}
	if len(problems) > 0 {
		return s, usagef("%s", strings.Join(problems, "\n  "))
	}
	return s, nil
}

// parseSince reads --since: whole days (30d) or weeks (12w), which Go durations lack, or
// a Go duration (36h, 90m, 1h30m); more than 0 and at most MaxSince.
func parseSince(v string) (time.Duration, error) {
	bad := func(why string) error {
		return fmt.Errorf("--since %s: %s (want a span ending now, more than 0 and at most 365d: days 30d, weeks 12w, hours 36h, or a Go duration such as 90m)", v, why)
	}
	var d time.Duration
	if n, unit := strings.TrimRight(v, "dw"), strings.TrimLeft(v, "0123456789"); (unit == "d" || unit == "w") && n != "" && len(n)+1 == len(v) {
		// n is digits only: a count Atoi cannot hold is as much too long as 1001d is.
		count, err := strconv.Atoi(n)
		if err != nil || count > 1000 {
			return 0, bad("longer than 365d")
		}
		d = time.Duration(count) * 24 * time.Hour
		if unit == "w" {
			d *= 7
		}
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, bad("not a span")
		}
	}
	switch {
	case d <= 0:
		return 0, bad("not more than 0")
	case d > MaxSince:
		return 0, bad("longer than 365d")
	}
	return d, nil
}

// metricsRun is one run of metrics or report: the settings, the clock, the accounts
// opened so far.
type metricsRun struct {
	set    metricsSettings
	out    io.Writer
	errOut io.Writer
	now    time.Time
	json   bool
	cache  *accountCache
	// window is the window asked for: --since, ending now.
	window dora.Window
	// clone reads the commit times of GitHub-, GitLab- and Bitbucket-sourced paths from the
	// working clone (metricsclone.go).
	clone *cloneTimes
}

// runMetrics wraps metrics' and report's work as cli.run wraps the others': it resolves
// the settings (no git clone is needed, except for the commit times of a path with a
// GitHub, GitLab or Bitbucket source), bounds the command by --timeout, and opens accounts
// through App.Clients when a test gives one.
func (c *cli) runMetrics(work func(ctx context.Context, r *metricsRun) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		c.ran = true
		// Before or after the subcommand, the flag parses into the subcommand's own set.
		c.inv.metrics.roleNameGiven = cmd.Flags().Changed("role-name")
		set, err := c.inv.resolveMetrics(c.getenv(), c.stderr)
		if err != nil {
			return asUsage(err)
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), c.inv.timeout)
		defer cancel()
		now := time.Now
		if c.app.Now != nil {
			now = c.app.Now
		}
		open := accountOpener(awsOpener)
		if c.app.Clients != nil {
			open = factoryOpener(c.app.Clients)
		}
		g := Git(NewRepo(c.inv.dir))
		if c.app.Git != nil {
			g = c.app.Git(c.inv.dir)
		}
		r := &metricsRun{set: set, out: c.stdout, errOut: c.stderr, now: now().UTC(), json: c.inv.json, cache: newAccountCache(open),
			clone: &cloneTimes{dir: c.inv.dir, git: g}}
		r.window = dora.Last(set.since, r.now)
		err = work(ctx, r)
		if err != nil && ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("%w (the command ran longer than --timeout %s)", err, c.inv.timeout)
		}
		return err
	}
}

// envMetrics is what was read of one environment of one path.
type envMetrics struct {
	path org.Path
	env  org.Environment
	// err is why the environment could not be read (its account, its pipeline); nil if it was.
	err error
	// history is the read (its bound, its oldest run, its calls); metrics what it says.
	history dora.History
	metrics dora.Metrics
	// timesErr is why the commit times could not (all) be read: lead times are unknown.
	timesErr    error
	commitCalls int
}

// read reports whether the environment was read.
func (e *envMetrics) read() bool { return e.err == nil }

// notes are what the figures of a read environment do not say themselves.
func (e *envMetrics) notes() []string {
	var out []string
	if s := e.metrics.Summary; s.Shortened {
		out = append(out, fmt.Sprintf("the history read stopped at the organisation's bound of %d %s (settings.historyPages) before the window's start: "+
			"the figures cover only %s to %s", e.path.Settings.HistoryPages, plural(e.path.Settings.HistoryPages, "page", "pages"),
			formatTime(s.Window.From), formatTime(s.Window.To)))
	}
	if e.timesErr != nil {
		out = append(out, fmt.Sprintf("commit times could not be read, so lead times are unknown where missing and older commits are told only by what was deployed before: %v", e.timesErr))
	}
	return out
}

// pathMetrics is one path's environments, in path order.
type pathMetrics struct {
	path org.Path
	envs []*envMetrics
}

// readAll reads every environment of every path in scope, at most --parallel at once.
// The result is in the organisation's order whatever order the reads end in. A
// cancelled or timed-out context stops every reader; readAll then returns its error.
func (r *metricsRun) readAll(ctx context.Context) ([]pathMetrics, error) {
	var out []pathMetrics
	var jobs []*envMetrics
	for _, p := range r.set.paths {
		pm := pathMetrics{path: p}
		for _, e := range p.Environments {
			em := &envMetrics{path: p, env: e}
			pm.envs = append(pm.envs, em)
			jobs = append(jobs, em)
		}
		out = append(out, pm)
	}
	next := make(chan *envMetrics)
	var wg sync.WaitGroup
	for range min(r.set.parallel, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for em := range next {
				r.readEnv(ctx, em)
			}
		}()
	}
feed:
	for _, em := range jobs {
		select {
		case next <- em:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		done := 0
		for _, em := range jobs {
			if em.err == nil && em.history.Pipeline != "" {
				done++
			}
		}
		return nil, fmt.Errorf("stopped after reading %d of %d environments: %w", done, len(jobs), err)
	}
	// The commit times of connection-sourced paths: one clone, read path by path.
	for _, pm := range out {
		if pm.path.Source.UsesConnection() {
			r.pathTimes(ctx, pm)
		}
	}
	return out, nil
}

// readEnv reads one environment: its account (opened once per account), its history,
// its commit times, and computes its metrics over the window.
func (r *metricsRun) readEnv(ctx context.Context, em *envMetrics) {
	acc, err := r.cache.account(ctx, em.path, em.env, r.set.access.source(em.env))
	if err != nil {
		em.err = err
		return
	}
	if acc.Pipelines == nil {
		em.err = fmt.Errorf("environment %s: the account's clients have no CodePipeline client", em.env.Name)
		return
	}
	h, err := dora.Read(ctx, acc.Pipelines, dora.ReadOptions{Pipeline: em.path.PipelineName(em.env.Name), Window: r.window,
		MaxPages: em.path.Settings.HistoryPages})
	em.history = h
	if err != nil {
		em.err = err
		return
	}
	if em.path.Source.UsesConnection() {
		return // its commit times come from the clone, for the whole path at once (pathTimes)
	}
	var times map[string]time.Time
	switch commits := h.Commits(); {
	case len(commits) == 0:
	case acc.Commits == nil:
		em.timesErr = errors.New("the account's clients have no CodeCommit client")
	default:
		times, em.commitCalls, em.timesErr = dora.CommitTimes(ctx, acc.Commits, em.path.RepositoryName(), commits)
	}
	em.metrics = dora.Compute(h, times, r.window)
}

// unreadable is "team/service env" of every environment that could not be read.
func unreadable(paths []pathMetrics) (names []string, read int) {
	for _, pm := range paths {
		for _, em := range pm.envs {
			if em.read() {
				read++
			} else {
				names = append(names, pathName(pm.path)+" "+em.env.Name)
			}
		}
	}
	return names, read
}

// orgEnv is the organisation's figures for one environment name: every path's events of
// that environment, summarised together.
type orgEnv struct {
	name        string
	paths, read int
	summary     dora.Summary
}

// organisationWide summarises, per environment name (in the order the paths first name
// them), the events of every path's environment of that name: the lead times are the
// union of the samples, the rate the sum of failures over the sum of attempts.
func (r *metricsRun) organisationWide(paths []pathMetrics) []orgEnv {
	var out []orgEnv
	index := map[string]int{}
	events := map[string][]dora.Event{}
	shortened := map[string]bool{}
	for _, pm := range paths {
		for _, em := range pm.envs {
			i, ok := index[em.env.Name]
			if !ok {
				i = len(out)
				index[em.env.Name] = i
				out = append(out, orgEnv{name: em.env.Name})
			}
			out[i].paths++
			if em.read() {
				out[i].read++
				events[em.env.Name] = append(events[em.env.Name], em.metrics.Events...)
				shortened[em.env.Name] = shortened[em.env.Name] || em.metrics.Summary.Shortened
			}
		}
	}
	for i := range out {
		out[i].summary = dora.Summarise(events[out[i].name], r.window)
		out[i].summary.Shortened = shortened[out[i].name]
	}
	return out
}

// metrics prints the figures: a table, or with --json the MetricsJSON document. An
// environment that could not be read is reported in its place (and on stderr); without
// --all that makes the command fail (exit 1), with --all only when nothing was read.
func (r *metricsRun) metrics(ctx context.Context) error {
	paths, err := r.readAll(ctx)
	if err != nil {
		return err
	}
	var wide []orgEnv
	if r.set.all {
		wide = r.organisationWide(paths)
	}
	r.noteUnreadable(paths)
	if r.json {
		if err := writeJSON(r.out, r.metricsJSON(paths, wide)); err != nil {
			return fmt.Errorf("write the metrics: %w", err)
		}
	} else if err := r.printMetrics(r.out, paths, wide); err != nil {
		return fmt.Errorf("write the metrics: %w", err)
	}
	where := "see above"
	if r.json {
		where = "its error is in the document"
	}
	return r.outcome(paths, "metrics are incomplete", where)
}

// noteUnreadable says on stderr which environments could not be read, and why.
func (r *metricsRun) noteUnreadable(paths []pathMetrics) {
	for _, pm := range paths {
		for _, em := range pm.envs {
			if !em.read() {
				fmt.Fprintf(r.errOut, "ship: note: could not read %s %s: %v\n", pathName(pm.path), em.env.Name, em.err)
			}
		}
	}
}

// outcome is the command's result: nil unless an environment of the one path, or every
// environment of all of them, could not be read. incomplete and where word the error.
func (r *metricsRun) outcome(paths []pathMetrics, incomplete, where string) error {
	failed, read := unreadable(paths)
	switch {
	case len(failed) == 0:
		return nil
	case read == 0:
		return fmt.Errorf("could not read any environment (%s; the notes above say why)", strings.Join(failed, ", "))
	case !r.set.all:
		return fmt.Errorf("%s: could not read %s (%s)", incomplete, strings.Join(failed, ", "), where)
	}
	return nil
}

func (c *cli) metricsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "metrics",
		Short: "delivery metrics per environment: deploys, lead time, change failure rate, time to restore",
		Long:  metricsLong,
		Example: `  ship metrics                          # this path, the last 30 days
  ship metrics --since 12w --json | jq '.paths[].environments[] | {name, leadTime: .summary.leadTime}'
  ship metrics --all --role-name metrics-reader --parallel 16`,
		Args: positional,
		RunE: c.runMetrics(func(ctx context.Context, r *metricsRun) error { return r.metrics(ctx) }),
	}
	c.metricsFlagsOn(cmd)
	c.jsonFlag(cmd)
	return cmd
}

// metricsLong is ship help metrics.
const metricsLong = `Metrics reads each environment's pipeline history and, from the environment's own
CodeCommit repository, the committer dates of the commits it ran, and prints the four
delivery metrics (the DORA keys) per environment over a window ending now (--since,
default 30d). The definitions, with examples, are in the README, section "Delivery metrics";
in short:

  deploys          Deployment frequency: the successful runs that deployed a commit new
                   to the environment, and that count per week. A rerun of the deployed
                   commit, a rollback or a push of an older commit is not a deployment.
  lead time        Lead time for changes: per deploy, from the commit's committer date
                   to the end of the first successful run in that environment that
                   deployed it; median and p90 (nearest rank). n counts the deploys whose
                   commit date was read, "unknown" the others.
  change failure   Change failure rate: failures / attempts, shown as "25% (1/4)".
                   Attempts are deploys and failed deploys (runs that failed or were
                   stopped after their Deploy stage started); failures are failed deploys
                   and deploys later rolled back: by CodePipeline's automatic rollback, a
                   rollback-stage, or a push of an older commit (ship rollback). "–" when
                   there were no attempts.
  time to restore  Per failure, from its end (the failed run's, or that of the run that
                   deployed the rolled-back commit) to the end of the next run that left a
                   commit deployed; median and p90, and the failures still open.
  rollbacks        Rollback runs and pushes of an older commit; reruns are successful
                   runs of the commit already deployed.

Without --all it reads one path (--path, $SHIP_PATH, or the organisation's only path);
an environment it cannot read is reported in its place and the command exits 1. With
--all it reads every path of the organisation the credentials can reach: a path or
environment whose account cannot be read (no credentials, another account's, access
denied) is listed as unreadable, with the reason, and the rest is reported; it exits 0
if it read at least one environment. An "organisation" block then sums each environment
name over the paths: the lead times of all their deploys, failures over attempts.

Credentials: --profile and --role take an environment's name (that environment, in
every path read) or a 12-digit account id (that account, in every path) as their key;
an account key wins over a name. --role-name NAME assumes arn:aws:iam::<account>:role/NAME
in every account read, unless --role names another. Each account is opened, and its
credentials checked with STS, once per command. The identity needs
codepipeline:ListPipelineExecutions and codepipeline:ListActionExecutions on the
pipelines and codecommit:BatchGetCommits on the repositories; without the last, the lead
times are unknown and a note says why.

A path whose source is a GitHub, GitLab or Bitbucket repository has no CodeCommit
repository: its commit dates are read from the working clone (-C, default the current
directory) when one of the clone's remotes points at that repository (as promote finds
its remote), in one git process per path; a commit the clone lacks is unknown, and a note
says how many and what to fetch. Run elsewhere, that path's lead times are unknown and the
note says where to run ship metrics.

At most --parallel environments (default 8) are read at once; the output is in the
organisation's order whatever order the reads end in. --timeout bounds the whole read.
A history longer than the organisation's settings.historyPages shortens the window of
that environment; a note says so.

With --json, metrics prints one document (schemaVersion 1): {schemaVersion, organisation,
now, since, window: {from, to, days}, all, complete, paths: [{path, environments: [{name,
account, region, pipeline, repository, readable, error?, commitTimesError?, notes,
summary, events, calls}]}], organisationWide}. summary is {from, to, shortened,
deployments, deploymentsPerWeek, leadTime: {count, medianSeconds, p90Seconds},
leadTimeUnknown, attempts, failures, changeFailureRate, timeToRestore: {count,
medianSeconds, p90Seconds}, unrestored, rollbacks, reruns}, null when unreadable; each
event is {kind, run, commit, at, inWindow, commitTime, leadTimeSeconds, automatic, failed,
failedBy, restored, restoreSeconds}, so scripts can recompute. Durations are seconds,
times RFC 3339 UTC; a rate or percentile that is not defined is null. organisationWide
is null without --all, else [{name, paths, pathsRead, summary}].`
