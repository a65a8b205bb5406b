package ship

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// How ship metrics and ship report reach the accounts of many paths: the --profile and
// --role flags keyed by an environment's name (that environment, in every path read) or by
// a 12-digit account id (that account, in every path), and --role-name (that role in
// every account read). Each distinct account, region and credential source is opened, and
// checked with STS, once per command, however many paths live in it.

var (
	accountKey = regexp.MustCompile(`^\d{12}$`)
	// roleNameRe is what IAM allows in a role's name.
	roleNameRe = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
)

// metricsAccess says which credentials read each environment of the paths in scope.
type metricsAccess struct {
	profiles, roles envMap // --profile, --role: keys are environment names or account ids
	roleName        string // --role-name
	roleNameGiven   bool   // --role-name was given, perhaps empty
	all             bool   // --all: a fix is suggested by account, not by environment name
}

// source is where env's credentials come from. An account key is more specific than an
// environment name (in --all, one name spans many accounts), so it wins; an explicit
// --role wins over --role-name.
func (a metricsAccess) source(env org.Environment) credSource {
	s := credSource{hint: env.Name}
	if a.all {
		s.hint = env.Account
	}
	for _, key := range []string{env.Name, env.Account} { // the later, the more specific
		if v, ok := a.profiles.pairs[key]; ok {
			s.profile, s.profileFlag = v, fmt.Sprintf("--profile %s=%s", key, v)
		}
	}
	if a.roleName != "" {
		s.role, s.roleFlag = org.RoleARN(env.Account, a.roleName), "--role-name "+a.roleName
	}
	if key := a.roleKey(env); key != "" {
		s.role, s.roleFlag = a.roles.pairs[key], fmt.Sprintf("--role %s=...", key)
	}
	return s
}

// roleKey is the --role key that applies to env: its account, else its name; "" for none.
func (a metricsAccess) roleKey(env org.Environment) string {
	for _, key := range []string{env.Account, env.Name} {
		if _, ok := a.roles.pairs[key]; ok {
			return key
		}
	}
	return ""
}

// check reports every problem with the credential flags for the paths in scope, each
// naming the flag, the value and what is allowed: a key that is neither an environment
// nor an account of them, a value that is not a role ARN or role name, a role outside the
// account of an environment it would read.
func (a metricsAccess) check(paths []org.Path, scope string) []string {
	var problems []string
	envNamed, accounts := map[string]bool{}, map[string]bool{}
	var names, ids []string
	for _, p := range paths {
		for _, e := range p.Environments {
			if !envNamed[e.Name] {
				envNamed[e.Name] = true
				names = append(names, e.Name)
			}
			if !accounts[e.Account] {
				accounts[e.Account] = true
				ids = append(ids, e.Account)
			}
		}
	}
	sort.Strings(ids)
	for _, m := range []*envMap{&a.profiles, &a.roles} {
		for _, key := range m.order {
			switch {
			case accountKey.MatchString(key) && !accounts[key]:
				problems = append(problems, fmt.Sprintf("--%s %s=%s: no environment of %s is in account %s (its accounts: %s)",
					m.flag, key, m.pairs[key], scope, key, strings.Join(ids, ", ")))
			case !accountKey.MatchString(key) && !envNamed[key]:
				problems = append(problems, fmt.Sprintf("--%s %s=%s: %s has no environment %q (known: %s; or key the flag by a 12-digit account id)",
					m.flag, key, m.pairs[key], scope, key, strings.Join(names, ", ")))
			}
		}
	}
	for _, key := range a.roles.order {
		if arn := a.roles.pairs[key]; !roleARN.MatchString(arn) {
			problems = append(problems, fmt.Sprintf("--role %s=%s: not a role ARN (want arn:aws:iam::<account>:role/<name>)", key, arn))
		}
	}
	if (a.roleName != "" || a.roleNameGiven) && !roleNameRe.MatchString(a.roleName) {
		shown := a.roleName
		if shown == "" {
			shown = "''" // as the shell took it; "--role-name :" would hide what is wrong
		}
		problems = append(problems, fmt.Sprintf("--role-name %s: not a role name (want 1 to 64 letters, digits and +=,.@_-, e.g. --role-name metrics-reader; "+
			"ship assumes arn:aws:iam::<account>:role/<name> in each account it reads; leave the flag out to use the --profile, --role or default credentials)", shown))
	}
	// A role is assumed in its own account: one elsewhere cannot read the environment.
	seen := map[string]bool{}
	for _, p := range paths {
		for _, e := range p.Environments {
			key := a.roleKey(e)
			m := roleARN.FindStringSubmatch(a.roles.pairs[key])
			if key == "" || m == nil || m[1] == e.Account {
				continue
			}
			where := e.Name
			if len(paths) > 1 {
				where = fmt.Sprintf("%s of %s", e.Name, pathName(p))
			}
			if seen[key+" "+where] {
				continue
			}
			seen[key+" "+where] = true
			problems = append(problems, fmt.Sprintf("--role %s=%s: the role is in account %s, but %s is account %s (a role reads only its own account; "+
				"key it by account instead: --role %s=arn:aws:iam::%s:role/<name>)", key, a.roles.pairs[key], m[1], where, e.Account, e.Account, e.Account))
		}
	}
	return problems
}

// accountOpener opens the account env is in with the credentials src names, checking
// them, and returns how to see it as any environment of that account.
type accountOpener func(ctx context.Context, env org.Environment, src credSource, p *org.Path) (func(org.Environment) Account, error)

// awsOpener opens accounts with the AWS SDK: one checked configuration, one set of clients.
func awsOpener(ctx context.Context, env org.Environment, src credSource, p *org.Path) (func(org.Environment) Account, error) {
	cfg, err := openAccount(ctx, env, src, p)
	if err != nil {
		return nil, err
	}
	cl := newAccountClients(cfg)
	return func(e org.Environment) Account { return cl.account(e, src.hint) }, nil
}

// factoryOpener opens accounts through an App.Clients factory (a test's), per environment.
func factoryOpener(clients func(AWSAccess) ClientFactory) accountOpener {
	return func(ctx context.Context, env org.Environment, src credSource, _ *org.Path) (func(org.Environment) Account, error) {
		acc, err := clients(AWSAccess{Profiles: map[string]string{env.Name: src.profile}, Roles: map[string]string{env.Name: src.role}})(ctx, env)
		if err != nil {
			return nil, err
		}
		return func(org.Environment) Account { return acc }, nil
	}
}

// accountCache opens each distinct account, region and credential source once, however
// many environments of however many paths are in it, and however many readers ask at
// once: the first opens, the others wait for its answer (or for their context to end).
// A failure to open is kept too: every environment of that account reports it, and STS
// is asked once.
type accountCache struct {
	open    accountOpener
	mu      sync.Mutex
	entries map[string]*openAccountEntry
}

type openAccountEntry struct {
	done chan struct{}
	as   func(org.Environment) Account
	err  error
}

func newAccountCache(open accountOpener) *accountCache {
	return &accountCache{open: open, entries: map[string]*openAccountEntry{}}
}

// account is env's Account, opened with src's credentials on first use.
func (c *accountCache) account(ctx context.Context, p org.Path, env org.Environment, src credSource) (Account, error) {
	key := strings.Join([]string{env.Account, env.Region, src.profile, src.role}, "\x00")
	c.mu.Lock()
	e, ok := c.entries[key]
	if !ok {
		e = &openAccountEntry{done: make(chan struct{})}
		c.entries[key] = e
	}
	c.mu.Unlock()
	if !ok {
		e.as, e.err = c.open(ctx, env, src, &p)
		close(e.done)
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		return Account{}, ctx.Err()
	}
	if e.err != nil {
		var wrong *WrongAccountError
		if errors.As(e.err, &wrong) && (wrong.Env.Name != env.Name || wrong.Path == nil || pathName(*wrong.Path) != pathName(p)) {
			// Opened for another environment of the same account: say it of this one.
			again := *wrong
			again.Env, again.Path = env, &p
			return Account{}, &again
		}
		return Account{}, e.err
	}
	return e.as(env), nil
}
