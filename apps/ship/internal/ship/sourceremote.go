package ship

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// A path whose source is a GitHub, GitLab or Bitbucket repository (org.Source.UsesConnection)
// has one repository for all its environments, each on its own branch (main, env/stg,
// env/prd). Its default remote, in every environment, is the one remote of the working clone
// whose URL points at that repository: ship promote stg pushes to env/stg of it, ship status
// reads every environment's branch from it. --remote <env>=... still overrides it.

// RemoteURLs is one remote of the working clone and its URLs: as configured
// (remote.<name>.url) and as git uses them (after url.<base>.insteadOf rewrites).
type RemoteURLs struct {
	// Name is the remote's name, e.g. origin.
	Name string
	// URLs are its fetch URLs, configured and rewritten, without duplicates.
	URLs []string
}

// providerHosts are the hosts a provider's repositories are reached at: its web and HTTPS
// host first, then the ones its documentation gives for SSH over port 443.
var providerHosts = map[string][]string{
	org.ProviderGitHub:    {"github.com", "ssh.github.com"},
	org.ProviderGitLab:    {"gitlab.com", "altssh.gitlab.com"},
	org.ProviderBitbucket: {"bitbucket.org", "altssh.bitbucket.org"},
}

// repositoryURL is a git URL read as a host and a repository path.
type repositoryURL struct {
	host string // lowercased, without user or port
	path string // owner/name (GitLab: group/sub/name), without leading '/' or trailing ".git"
}

// parseRepositoryURL reads the URL forms git accepts for a hosted repository:
// scheme://[user@]host[:port]/path (https, http, ssh, git, git+ssh) and the scp-like
// [user@]host:path. Anything else (a local path, file://, codecommit::...) is not one.
func parseRepositoryURL(raw string) (repositoryURL, bool) {
	raw = strings.TrimSpace(raw)
	var host, path string
	if i := strings.Index(raw, "://"); i >= 0 {
		u, err := url.Parse(raw)
		if err != nil {
			return repositoryURL{}, false
		}
		switch strings.ToLower(u.Scheme) {
		case "https", "http", "ssh", "git", "git+ssh", "ssh+git":
		default:
			return repositoryURL{}, false
		}
		host, path = u.Hostname(), u.Path
	} else {
		// scp-like: the part before the first ':' is [user@]host and has no '/'.
		h, p, ok := strings.Cut(raw, ":")
		if !ok || h == "" || strings.Contains(h, "/") || strings.HasPrefix(p, "//") {
			return repositoryURL{}, false
		}
		if at := strings.LastIndex(h, "@"); at >= 0 {
			h = h[at+1:]
		}
		host, path = h, p
	}
	path = strings.Trim(path, "/")
	path = strings.TrimSuffix(path, ".git")
	path = strings.TrimSuffix(path, "/")
	if host == "" || path == "" {
		return repositoryURL{}, false
	}
	return repositoryURL{host: strings.ToLower(host), path: path}, true
}

// pointsAt reports whether a remote URL names the source's repository. Hosts compare
// case-insensitively; so do repository paths, as the three providers resolve them: GitHub
// and GitLab find owner and name whatever their case, and Bitbucket Cloud's workspace ids
// and repository slugs are lowercase, so a URL that differs only in case names the same one.
func pointsAt(src org.Source, rawURL string) bool {
	u, ok := parseRepositoryURL(rawURL)
	if !ok || !strings.EqualFold(u.path, src.Repository) {
		return false
	}
	for _, h := range providerHosts[src.Provider] {
		if u.host == h {
			return true
		}
	}
	return false
}

// sourceName is how messages name a connection source's repository: github.com/owner/name.
func sourceName(src org.Source) string { return src.Host() + "/" + src.Repository }

// matchingRemotes are the remotes any of whose URLs point at the source's repository.
func matchingRemotes(src org.Source, remotes []RemoteURLs) []RemoteURLs {
	var out []RemoteURLs
	for _, r := range remotes {
		for _, u := range r.URLs {
			if pointsAt(src, u) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// sourceRemoteResult is the clone's remote for the path's repository, resolved once per command.
type sourceRemoteResult struct {
	name string
	err  error
}

// sourceRemote is the one remote of the working clone that points at the path's connection
// repository. None, or two, is an error that says what to do; it is resolved once per
// command and kept.
func (x *session) sourceRemote(ctx context.Context, env org.Environment) (string, error) {
	if x.srcRemote == nil {
		name, err := x.findSourceRemote(ctx)
		x.srcRemote = &sourceRemoteResult{name: name, err: err}
	}
	if err := x.srcRemote.err; err != nil {
		return "", fmt.Errorf("%w, or pass --remote %s=<name or URL>", err, env.Name)
	}
	return x.srcRemote.name, nil
}

func (x *session) findSourceRemote(ctx context.Context) (string, error) {
	src := x.s.Path.Source
	remotes, err := x.git.Remotes(ctx)
	if err != nil {
		return "", fmt.Errorf("list the remotes of %s to find the one of %s: %w", x.s.Dir, sourceName(src), err)
	}
	match := matchingRemotes(src, remotes)
	switch len(match) {
	case 1:
		return match[0].Name, nil
	case 0:
		return "", fmt.Errorf("no git remote of %s points at %s, the %s repository of %s (source.repository in %s)%s; add one: git remote add %s %s",
			x.s.Dir, sourceName(src), src.ProviderType(), pathName(x.s.Path), x.s.OrgSource, describeRemotes(remotes), freeRemoteName(remotes, src), src.CloneURL())
	}
	var names []string
	for _, r := range match {
		names = append(names, r.Name)
	}
	both := strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	return "", fmt.Errorf("git remotes %s of %s all point at %s, the %s repository of %s: ship will not pick one; remove the extra ones (git remote remove <name>)",
		both, x.s.Dir, sourceName(src), src.ProviderType(), pathName(x.s.Path))
}

// describeRemotes lists the clone's remotes and their URLs for a message: " (its remotes:
// origin https://..., backup /srv/...)", or " (it has no remote)".
func describeRemotes(remotes []RemoteURLs) string {
	if len(remotes) == 0 {
		return " (it has no remote)"
	}
	var parts []string
	for _, r := range remotes {
		parts = append(parts, r.Name+" "+strings.Join(r.URLs, " "))
	}
	return " (its remotes: " + strings.Join(parts, ", ") + ")"
}

// freeRemoteName is a name `git remote add` will take: origin, else the provider's name,
// else the provider's name and a number.
func freeRemoteName(remotes []RemoteURLs, src org.Source) string {
	taken := map[string]bool{}
	for _, r := range remotes {
		taken[r.Name] = true
	}
	for _, n := range []string{"origin", src.Provider} {
		if !taken[n] {
			return n
		}
	}
	for i := 2; ; i++ {
		if n := fmt.Sprintf("%s%d", src.Provider, i); !taken[n] {
			return n
		}
	}
}

// Remotes implements Git: every remote's configured URLs (one git config) and the URLs git
// uses for them (one git remote -v), so a remote configured as a provider's URL and
// rewritten by url.<base>.insteadOf (or the reverse) is recognised either way.
func (r *Repo) Remotes(ctx context.Context) ([]RemoteURLs, error) {
	byName := map[string]*RemoteURLs{}
	add := func(name, u string) {
		rm := byName[name]
		if rm == nil {
			rm = &RemoteURLs{Name: name}
			byName[name] = rm
		}
		for _, have := range rm.URLs {
			if have == u {
				return
			}
		}
		rm.URLs = append(rm.URLs, u)
	}
	// Exit status 1 is "no such key": a clone without remotes.
	out, err := r.run(ctx, "config", "--null", "--get-regexp", `^remote\..*\.url$`)
	if err != nil && !isExitCode(err, 1) {
		return nil, err
	}
	for _, entry := range strings.Split(out, "\x00") {
		key, val, ok := strings.Cut(entry, "\n")
		if !ok {
			continue
		}
		add(strings.TrimSuffix(strings.TrimPrefix(key, "remote."), ".url"), val)
	}
	out, err = r.run(ctx, "remote", "-v")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(out, "\n") {
		name, rest, ok := strings.Cut(line, "\t")
		if u, kind, ok2 := strings.Cut(rest, " ("); ok && ok2 && kind == "fetch)" {
			add(name, u)
		}
	}
	var list []RemoteURLs
	for _, rm := range byName {
		list = append(list, *rm)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list, nil
}
