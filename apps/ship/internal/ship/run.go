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
	// srcRemote is the clone's remote of a connection source's repository, once resolved
	// (sourceremote.go).
	srcRemote *sourceRemoteResult
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
// Without --remote for env, a path with a connection source uses the clone's one remote
// that points at its repository (sourceRemote); a CodeCommit path the remote named after env.
func (x *session) remote(ctx context.Context, env org.Environment) (string, error) {
	_, given := x.s.Remotes[env.Name]
	if !given && x.s.Path.Source.UsesConnection() {
		return x.sourceRemote(ctx, env)
	}
	r := x.s.Remote(env.Name)
	if isURL(r) {
		return r, nil
	}
	ok, known, err := x.git.HasRemote(ctx, r)
	if err != nil {
		return "", err
	}
	if !ok && x.s.Path.Source.UsesConnection() {
		return "", fmt.Errorf("no git remote named %s in %s (remotes: %v), which --remote %s=%s names; add it, e.g. git remote add %s %s, or pass --remote %s=<name or URL>",
			r, x.s.Dir, known, env.Name, r, r, x.s.Path.Source.CloneURL(), env.Name)
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

// remoteLabel is env's remote for a message: the one resolved, if it could be, else what
// Settings.Remote says.
func (x *session) remoteLabel(ctx context.Context, env org.Environment) string {
	if r, err := x.remote(ctx, env); err == nil {
		return r
	}
	return x.s.Remote(env.Name)
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
