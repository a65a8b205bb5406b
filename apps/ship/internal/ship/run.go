package ship

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// session is one command's resolved settings and the clients it has opened so far.
type session struct {
	s       Settings
	git     Git
	clients ClientFactory
	out     io.Writer
	now     func() time.Time
	json    bool // --json: print the read commands' answers as their JSON documents (jsonout.go)
	opened  map[string]Account
	opt     followOptions // --wait, --yes, the terminal (follow.go)
}

// account opens env's account (and checks its credentials) on first use only: a command
// never asks for credentials of an account it does not read.
func (x *session) account(ctx context.Context, env org.Environment) (Account, error) {
	if c, ok := x.opened[env.Name]; ok {
		return c, nil
	}
	c, err := x.clients(ctx, env)
	if err != nil {
		return Account{}, err
	}
	if x.opened == nil {
		x.opened = map[string]Account{}
	}
	x.opened[env.Name] = c
	return c, nil
}

// pipelines returns env's CodePipeline client, opening the account on first use.
func (x *session) pipelines(ctx context.Context, env org.Environment) (Pipelines, error) {
	c, err := x.account(ctx, env)
	return c.Pipelines, err
}

// remote checks that env's git remote exists before anything is read from AWS, and says
// how to add it if not. A value with ':' or '/' is a URL or path and is used as given.
func (x *session) remote(ctx context.Context, env org.Environment) (string, error) {
	r := x.s.Remote(env.Name)
	if isURL(r) {
		return r, nil
	}
	ok, known, err := x.git.HasRemote(ctx, r)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("no git remote named %s in %s (remotes: %v); add it, e.g. git remote add %s codecommit::%s://%s "+
			"(or https://git-codecommit.%s.amazonaws.com/v1/repos/%s), or pass --remote %s=<name or URL>",
			r, x.s.Dir, known, r, env.Region, x.s.Path.RepositoryName(), env.Region, x.s.Path.RepositoryName(), env.Name)
	}
	return r, nil
}

func isURL(remote string) bool {
	for _, c := range remote {
		if c == ':' || c == '/' {
			return true
		}
	}
	return false
}

// upstream returns env's upstream environment.
func (x *session) upstream(env org.Environment) (org.Environment, error) {
	up, err := x.s.Path.Environment(env.Upstream)
	if err != nil {
		// Normalize guarantees upstreams exist; this is a corrupt description, not a usage error.
		return up, fmt.Errorf("environment %s names upstream %q: %w", env.Name, env.Upstream, err)
	}
	return up, nil
}
