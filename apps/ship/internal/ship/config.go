package ship

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// Environment variables ship reads besides the AWS SDK's own.
const (
	// EnvPath names the service as team/service when --path is not given.
	EnvPath = "SHIP_PATH"
	// EnvConfig is the organisation file when --config is not given.
	EnvConfig = "SHIP_CONFIG"
)

// Defaults of the flags, documented in the usage text.
const (
	// DefaultLimit is how many runs `ship history` shows without --limit.
	DefaultLimit = 10
	// MaxLimit bounds --limit: ten pages of ListPipelineExecutions.
	MaxLimit = 1000
	// DefaultTimeout bounds a whole command, pushes included: a push that waits for a
	// credential helper or a slow network is cut off instead of hanging a script forever.
	DefaultTimeout = 10 * time.Minute
	// DefaultWaitTimeout bounds a command that follows its run (--wait) when --timeout is
	// not given: a run may wait for an approval, a window or a bake far longer than a push.
	DefaultWaitTimeout = 2 * time.Hour
)

// embeddedOrgName is how messages name the organisation when no file was given.
const embeddedOrgName = "the embedded example organisation"

// invocation is the command line, parsed but not yet checked against the organisation.
// The flags are bound to its fields (bindGlobal, and each command's own flags).
type invocation struct {
	path    string
	config  string
	example bool // --example-org: the embedded example organisation, deliberately
	dir     string
	remotes envMap
	profile envMap
	roles   envMap
	limit   int
	timeout time.Duration
	json    bool         // --json: a read command's answer as its JSON document (jsonout.go)
	metrics metricsFlags // --all, --since, --parallel, --role-name (metrics, report)
}

func newInvocation() *invocation {
	return &invocation{
		remotes: envMap{flag: "remote"},
		profile: envMap{flag: "profile"},
		roles:   envMap{flag: "role"},
		limit:   DefaultLimit,
		timeout: DefaultTimeout,
		metrics: metricsFlags{since: DefaultSince, parallel: DefaultParallel},
	}
}

// bindGlobal defines the flags every subcommand takes. Their names and meanings are the
// ones ship has always had; only -C gained a long form, --dir, because pflag wants one.
func (inv *invocation) bindGlobal(fs *pflag.FlagSet) {
	fs.StringVar(&inv.path, "path", "", "the service, as `team/service`. Default: $"+EnvPath+"; if unset and the organisation has exactly one service, that one")
	fs.StringVar(&inv.config, "config", "", "the organisation `file`. Default: $"+EnvConfig+". Required: without either, ship refuses to act (exit 2)")
	fs.BoolVar(&inv.example, "example-org", false, "use the embedded EXAMPLE organisation (placeholder accounts: for trying ship, e.g. in the local demo go run ./apps/ship/sandbox, never by default)")
	fs.StringVarP(&inv.dir, "dir", "C", ".", "the service's git clone, a `dir`ectory")
	fs.Var(&inv.remotes, "remote", "env's git remote, a remote name or URL (repeatable). Default: the remote named after the environment; for a GitHub, GitLab or Bitbucket source, the clone's one remote whose URL is the organisation file's repository (its branch per environment: main, env/<name>)")
	fs.Var(&inv.profile, "profile", "AWS shared-config profile for env's account (repeatable)")
	fs.Var(&inv.roles, "role", "role ARN in env's account to assume through STS, with the profile's or the default credentials (repeatable)")
	fs.DurationVar(&inv.timeout, "timeout", DefaultTimeout, "bound on the whole command, pushes included (default 10m; 2h with --wait)")
}

// envMap is a repeatable env=value flag.
type envMap struct {
	flag  string
	pairs map[string]string
	order []string // as given, so problems are reported in the user's order
}

// String implements pflag.Value; the default is empty, so help shows none.
func (m *envMap) String() string { return "" }

// Type implements pflag.Value: help shows it as the flag's argument, e.g. --remote env=remote.
func (m *envMap) Type() string {
	switch m.flag {
	case "remote":
		return "env=remote"
	case "profile":
		return "env=name"
	case "role":
		return "env=arn"
	}
	return "env=value"
}

// Set implements pflag.Value: one env=value pair; a second value for the same env is an error.
func (m *envMap) Set(v string) error {
	env, val, ok := strings.Cut(v, "=")
	env, val = strings.TrimSpace(env), strings.TrimSpace(val)
	if !ok || env == "" || val == "" {
		return fmt.Errorf("want env=value, e.g. --%s stg=..., got %q", m.flag, v)
	}
	if m.pairs == nil {
		m.pairs = map[string]string{}
	}
	if old, dup := m.pairs[env]; dup && old != val {
		return fmt.Errorf("environment %s given twice (%q and %q)", env, old, val)
	}
	if _, dup := m.pairs[env]; !dup {
		m.order = append(m.order, env)
	}
	m.pairs[env] = val
	return nil
}

// emptyFlags are the global flags whose empty value is no value: given empty (--path ”,
// --config=, -C ""), each is refused, not taken as left out, which would quietly fall
// back on $SHIP_PATH, $SHIP_CONFIG or the current directory instead of what was typed.
var emptyFlags = []struct{ name, want string }{
	{"path", "want team/service, e.g. --path payments/checkout; leave the flag out to use $" + EnvPath},
	{"config", "want the organisation file; leave the flag out to use $" + EnvConfig},
	{"dir", "want the service's git clone, a directory; leave the flag out for the current one"},
}

// checkFlags enforces the flags' own ranges, before anything is read. fs is the command's
// flags as parsed, which say what was given.
func (inv *invocation) checkFlags(fs *pflag.FlagSet) error {
	for _, e := range emptyFlags {
		if f := fs.Lookup(e.name); f != nil && f.Changed && f.Value.String() == "" {
			name := "--" + f.Name
			if f.Shorthand != "" {
				name = "-" + f.Shorthand
			}
			return usagef("%s '': empty (%s)", name, e.want)
		}
	}
	if inv.limit < 1 || inv.limit > MaxLimit {
		return usagef("--limit %d is out of range (want 1 to %d)", inv.limit, MaxLimit)
	}
	if inv.timeout <= 0 {
		return usagef("--timeout %s must be positive, e.g. 2m", inv.timeout)
	}
	return nil
}

// Settings is ship's resolved configuration: the organisation, the service's path, where
// its git remotes are and how to reach each environment's AWS account.
type Settings struct {
	// Org is the organisation description.
	Org org.Organization
	// OrgSource names where Org came from: a file, or the embedded example.
	OrgSource string
	// Path is the service being shipped.
	Path org.Path
	// Dir is the service's git working clone.
	Dir string
	// Remotes overrides the git remote (name or URL) of an environment.
	// Default: the remote named after the environment; with a GitHub, GitLab or Bitbucket
	// source, the clone's one remote that points at the repository (see Remote).
	Remotes map[string]string
	// Access says how to reach each environment's account.
	Access AWSAccess
	// Limit is the number of runs history shows.
	Limit int
}

// Remote is the git remote (name or URL) that is env's repository, as far as the settings
// alone say: --remote's, else the remote named after env; with a connection source, the
// repository's clone URL, which a command replaces with the clone's remote that points at
// it (session.remote) when there is exactly one.
func (s Settings) Remote(env string) string {
	if r, ok := s.Remotes[env]; ok {
		return r
	}
	if s.Path.Source.UsesConnection() {
		return s.Path.Source.CloneURL()
	}
	return env
}

var roleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$`)

// resolve loads the organisation and checks every flag against it, reporting all
// problems at once (each names the flag, the value and what is allowed).
func (inv *invocation) resolve(getenv func(string) string, stderr io.Writer) (Settings, error) {
	s := Settings{Dir: inv.dir, Limit: inv.limit}
	o, source, err := inv.organisation(getenv, stderr)
	if err != nil {
		return s, err
	}
	s.Org, s.OrgSource = o, source
	p, err := choosePath(s.Org, s.OrgSource, inv.path, getenv(EnvPath))
	if err != nil {
		return s, err
	}
	s.Path = p

	var problems []string
	known := envNames(p)
	for _, m := range []*envMap{&inv.remotes, &inv.profile, &inv.roles} {
		for _, env := range m.order {
			if _, err := p.Environment(env); err != nil {
				also := ""
				if accountKey.MatchString(env) && m.flag != "remote" {
					also = "; an account id as the key is taken by metrics and report only"
				}
				problems = append(problems, fmt.Sprintf("--%s %s=%s: path %s has no environment %q (known: %s%s)",
					m.flag, env, m.pairs[env], pathName(p), env, strings.Join(known, ", "), also))
			}
		}
	}
	for _, env := range inv.roles.order {
		arn := inv.roles.pairs[env]
		e, err := p.Environment(env)
		if err != nil {
			continue // reported above
		}
		m := roleARN.FindStringSubmatch(arn)
		switch {
		case m == nil:
			problems = append(problems, fmt.Sprintf("--role %s=%s: not a role ARN (want arn:aws:iam::%s:role/<name>)", env, arn, e.Account))
		case m[1] != e.Account:
			// The pipeline lives in the environment's account; a role elsewhere cannot read it.
			problems = append(problems, fmt.Sprintf("--role %s=%s: the role is in account %s, but %s is account %s", env, arn, m[1], env, e.Account))
		}
	}
	if len(problems) > 0 {
		return s, usagef("%s", strings.Join(problems, "\n  "))
	}
	s.Remotes = inv.remotes.pairs
	s.Access = AWSAccess{Profiles: inv.profile.pairs, Roles: inv.roles.pairs}
	return s, nil
}

// organisation loads the organisation --config, $SHIP_CONFIG or --example-org names, and
// says where it came from. Notes (the example is in use) go to stderr.
func (inv *invocation) organisation(getenv func(string) string, stderr io.Writer) (org.Organization, string, error) {
	cfg := inv.config
	switch {
	case inv.example && cfg != "":
		return org.Organization{}, "", usagef("--example-org and --config %s name two organisations; give one", cfg)
	case inv.example:
		if env := getenv(EnvConfig); env != "" {
			fmt.Fprintf(stderr, "ship: note: --example-org given, so %s=%s is ignored\n", EnvConfig, env)
		}
		fmt.Fprintf(stderr, "ship: note: using %s (placeholder accounts), as --example-org asks\n", embeddedOrgName)
		return org.Default(), embeddedOrgName, nil
	case cfg == "":
		cfg = getenv(EnvConfig)
	}
	if cfg == "" {
		// The example's accounts are placeholders: acting on it by accident would push to
		// whatever the remotes named dev/stg/prd are, judged by some account's pipelines.
		return org.Organization{}, "", usagef("no organisation file: pass --config <file> or set %s=<file> (the organisation's teams, services and "+
			"each environment's AWS account; constructs/org/default-organization.yaml shows the format). ship does not act on "+
			"%s, whose accounts are placeholders, unless you pass --example-org. To try ship without AWS, run the sandbox: "+
			"go run ./apps/ship/sandbox", EnvConfig, embeddedOrgName)
	}
	o, err := org.Load(cfg)
	if err != nil {
		return o, "", usagef("organisation file %s: %v", cfg, err)
	}
	return o, cfg, nil
}

// choosePath picks the service from --path, else SHIP_PATH, else the organisation's only path.
func choosePath(o org.Organization, source, flagValue, envValue string) (org.Path, error) {
	var known []string
	for _, p := range o.Paths() {
		known = append(known, pathName(p))
	}
	sort.Strings(known)
	v, from := flagValue, "--path"
	if v == "" {
		v, from = envValue, EnvPath
	}
	if v == "" {
		if ps := o.Paths(); len(ps) == 1 {
			return ps[0], nil
		}
		return org.Path{}, usagef("which service? pass --path team/service or set %s (known in %s: %s)",
			EnvPath, source, strings.Join(known, ", "))
	}
	team, service, ok := strings.Cut(v, "/")
	if !ok || team == "" || service == "" || strings.Contains(service, "/") {
		return org.Path{}, usagef("%s %q: want team/service, e.g. %s", from, v, strings.Join(known, " or "))
	}
	p, err := o.Path(team, service)
	if err != nil {
		return org.Path{}, usagef("%s %q: no such service in %s (known: %s)", from, v, source, strings.Join(known, ", "))
	}
	return p, nil
}

// pathName is how people write a path on the command line.
func pathName(p org.Path) string { return p.Team + "/" + p.Name }

func envNames(p org.Path) []string {
	var out []string
	for _, e := range p.Environments {
		out = append(out, e.Name)
	}
	return out
}

// environment finds env in the path; an unknown name is a usage error listing the known ones.
func (s Settings) environment(name string) (org.Environment, error) {
	e, err := s.Path.Environment(name)
	if err != nil {
		return e, usagef("unknown environment %q for %s (known: %s)", name, pathName(s.Path), strings.Join(envNames(s.Path), ", "))
	}
	return e, nil
}
