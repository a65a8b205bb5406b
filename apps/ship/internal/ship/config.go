package ship

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

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
)

// embeddedOrgName is how messages name the organisation when no file was given.
const embeddedOrgName = "the embedded example organisation"

// invocation is the command line, parsed but not yet checked against the organisation.
type invocation struct {
	cmd     string
	args    []string
	path    string
	config  string
	example bool // --example-org: the embedded example organisation, deliberately
	dir     string
	remotes envMap
	profile envMap
	roles   envMap
	limit   int
	timeout time.Duration
	set     map[string]bool // flags given explicitly
}

// envMap is a repeatable env=value flag.
type envMap struct {
	flag  string
	pairs map[string]string
	order []string // as given, so problems are reported in the user's order
}

func (m *envMap) String() string { return "" }

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

// parseArgs reads flags anywhere on the line (before or after the subcommand and its
// arguments, as people type them); everything after "--" is positional.
func parseArgs(args []string) (invocation, error) {
	inv := invocation{
		remotes: envMap{flag: "remote"},
		profile: envMap{flag: "profile"},
		roles:   envMap{flag: "role"},
		set:     map[string]bool{},
	}
	fs := flag.NewFlagSet("ship", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // Run prints one clear message instead of flag's own dump
	fs.StringVar(&inv.path, "path", "", "")
	fs.StringVar(&inv.config, "config", "", "")
	fs.BoolVar(&inv.example, "example-org", false, "")
	fs.StringVar(&inv.dir, "C", ".", "")
	fs.Var(&inv.remotes, "remote", "")
	fs.Var(&inv.profile, "profile", "")
	fs.Var(&inv.roles, "role", "")
	fs.IntVar(&inv.limit, "limit", DefaultLimit, "")
	fs.DurationVar(&inv.timeout, "timeout", DefaultTimeout, "")

	var tail []string
	for i, a := range args {
		if a == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return inv, errHelp
			}
			return inv, usagef("%v", err)
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		pos, rest = append(pos, rest[0]), rest[1:]
	}
	pos = append(pos, tail...)
	fs.Visit(func(f *flag.Flag) { inv.set[f.Name] = true })

	if len(pos) == 0 {
		return inv, usagef("no subcommand given (want promote, rollback, status, history or help)")
	}
	inv.cmd, inv.args = pos[0], pos[1:]
	return inv, nil
}

// checkArgs enforces each subcommand's positional arguments and flags.
func (inv invocation) checkArgs() error {
	want := map[string][2]int{ // min, max positional arguments
		"promote": {1, 2}, "rollback": {1, 2}, "status": {0, 0}, "history": {1, 1},
	}
	n, ok := want[inv.cmd]
	if !ok {
		return usagef("unknown subcommand %q (want promote, rollback, status, history or help)", inv.cmd)
	}
	if len(inv.args) < n[0] {
		return usagef("%s needs an environment: ship %s <env>%s", inv.cmd, inv.cmd, map[bool]string{true: " [commit]"}[n[1] == 2])
	}
	if len(inv.args) > n[1] {
		return usagef("too many arguments for %s: %q (want %s)", inv.cmd, inv.args[n[1]:], synopsis[inv.cmd])
	}
	if inv.set["limit"] && inv.cmd != "history" {
		return usagef("--limit applies only to history, not to %s", inv.cmd)
	}
	if inv.limit < 1 || inv.limit > MaxLimit {
		return usagef("--limit %d is out of range (want 1 to %d)", inv.limit, MaxLimit)
	}
	if inv.timeout <= 0 {
		return usagef("--timeout %s must be positive, e.g. 2m", inv.timeout)
	}
	for _, a := range inv.args {
		// A leading dash would reach git as an option, and no env or revision starts with one.
		if strings.HasPrefix(a, "-") {
			return usagef("argument %q looks like a flag; flags are --path, --config, --example-org, -C, --remote, --profile, --role, --limit, --timeout", a)
		}
	}
	return nil
}

var synopsis = map[string]string{
	"promote":  "ship promote <env> [commit]",
	"rollback": "ship rollback <env> [commit]",
	"status":   "ship status",
	"history":  "ship history <env> [--limit N]",
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
	// Default: the remote named after the environment.
	Remotes map[string]string
	// Access says how to reach each environment's account.
	Access AWSAccess
	// Limit is the number of runs history shows.
	Limit int
}

// Remote is the git remote (name or URL) that is env's repository.
func (s Settings) Remote(env string) string {
	if r, ok := s.Remotes[env]; ok {
		return r
	}
	return env
}

var roleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$`)

// resolve loads the organisation and checks every flag against it, reporting all
// problems at once (each names the flag, the value and what is allowed).
func (inv invocation) resolve(getenv func(string) string, stderr io.Writer) (Settings, error) {
	s := Settings{Dir: inv.dir, Limit: inv.limit}
	cfg := inv.config
	switch {
	case inv.example && cfg != "":
		return s, usagef("--example-org and --config %s name two organisations; give one", cfg)
	case inv.example:
		if env := getenv(EnvConfig); env != "" {
			fmt.Fprintf(stderr, "ship: note: --example-org given, so %s=%s is ignored\n", EnvConfig, env)
		}
	case cfg == "":
		cfg = getenv(EnvConfig)
	}
	if cfg == "" && !inv.example {
		// The example's accounts are placeholders: acting on it by accident would push to
		// whatever the remotes named dev/stg/prd are, judged by some account's pipelines.
		return s, usagef("no organisation file: pass --config <file> or set %s=<file> (the organisation's teams, services and "+
			"each environment's AWS account; constructs/org/default-organization.yaml shows the format). ship does not act on "+
			"%s, whose accounts are placeholders, unless you pass --example-org. To try ship without AWS, run the sandbox: "+
			"go run ./apps/ship/sandbox", EnvConfig, embeddedOrgName)
	}
	if inv.example {
		s.Org, s.OrgSource = org.Default(), embeddedOrgName
		fmt.Fprintf(stderr, "ship: note: using %s (placeholder accounts), as --example-org asks\n", embeddedOrgName)
	} else {
		o, err := org.Load(cfg)
		if err != nil {
			return s, usagef("organisation file %s: %v", cfg, err)
		}
		s.Org, s.OrgSource = o, cfg
	}

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
				problems = append(problems, fmt.Sprintf("--%s %s=%s: path %s has no environment %q (known: %s)",
					m.flag, env, m.pairs[env], pathName(p), env, strings.Join(known, ", ")))
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
