package ship

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/gitcat"
	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
)

// Git is the part of git ship needs from the service's working clone. Every remote
// argument is a remote name or URL, as `git push` takes it.
type Git interface {
	// Check reports whether the directory is a git working clone at all.
	Check(ctx context.Context) error
	// ResolveCommit turns any revision (full or short id, tag, branch) into a full commit id
	// that exists in the local repository.
	ResolveCommit(ctx context.Context, rev string) (string, error)
	// HasRemote reports whether a remote of that name is configured, and lists the ones that are.
	HasRemote(ctx context.Context, name string) (bool, []string, error)
	// RemoteHead is the commit branch points at on remote, or "" if the branch does not exist.
	RemoteHead(ctx context.Context, remote, branch string) (string, error)
	// Push sets branch on remote to commit. With lease != "" the push may go backwards, but
	// only if the branch still points at lease (--force-with-lease); otherwise it must
	// fast-forward. A rejection is a *PushError carrying git's reason.
	Push(ctx context.Context, remote, commit, branch, lease string) error
	// Log lists the commits reachable from to but not from from (from may be ""), newest first.
	Log(ctx context.Context, from, to string) ([]Commit, error)
	// Remotes lists the clone's remotes with their URLs, as configured and as git uses them.
	Remotes(ctx context.Context) ([]RemoteURLs, error)
	// RemoteBranches lists the branches of remote whose names start with prefix (git
	// ls-remote), as branch name -> commit.
	RemoteBranches(ctx context.Context, remote, prefix string) (map[string]string, error)
	// PushLease sets branch on remote to commit, or deletes it if commit is "", whatever the
	// histories, but only if the branch still points at expect, or does not exist if expect
	// is "" (--force-with-lease=refs/heads/<branch>:<expect>). A rejection is a *PushError.
	PushLease(ctx context.Context, remote, commit, branch, expect string) error
	// TrackingBranches lists the remote-tracking branches refs/remotes/<remote>/<prefix>*
	// the clone has, as branch names on the remote: what the last fetch saw, read locally.
	TrackingBranches(ctx context.Context, remote, prefix string) ([]string, error)
	// Config is the value of a git config key, "" if it is not set.
	Config(ctx context.Context, key string) (string, error)
	// CommitTimes is the committer date of each of ids that is a commit of the local
	// repository, read in one git process; ids it lacks are not in the map.
	CommitTimes(ctx context.Context, ids []string) (map[string]time.Time, error)
}

// Commit is one commit as status lists it.
type Commit struct {
	// ID is the full commit id.
	ID string
	// Subject is the first line of the commit message.
	Subject string
}

// Repo is Git over the git binary, run in Dir. It inherits the process environment, so
// credential helpers (e.g. git-remote-codecommit, the AWS CLI helper) work as in a shell.
type Repo struct {
	// Dir is the working clone. Default: the current directory.
	Dir string
}

// NewRepo returns the Git of the working clone in dir.
func NewRepo(dir string) *Repo { return &Repo{Dir: dir} }

var _ Git = (*Repo)(nil)

// GitError is a git command that failed; Stderr is git's own explanation.
type GitError struct {
	// Args are git's arguments, for the message.
	Args []string
	// Stderr is what git printed on stderr.
	Stderr string
	// Err is the exec error (the exit status).
	Err error
}

// Error implements error.
func (e *GitError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("git %s: %s", strings.Join(e.Args, " "), msg)
}

// Unwrap returns the exec error.
func (e *GitError) Unwrap() error { return e.Err }

// PushError is a push that git or the remote refused: a stale lease (someone pushed in the
// meantime), a non-fast-forward, a pre-receive hook, missing permissions.
type PushError struct {
	// Remote, Branch and Commit are what was pushed where.
	Remote, Branch, Commit string
	// Reason is git's output, "remote:" hook lines and the "! [rejected]" line included.
	Reason string
}

// Error implements error.
func (e *PushError) Error() string {
	return fmt.Sprintf("push of %s to branch %s of remote %s was rejected:\n%s",
		gate.Short(e.Commit), e.Branch, e.Remote, indent(e.Reason, "  | "))
}

func (r *Repo) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = r.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A killed git may leave a helper (ssh, credential helper) holding the pipes open;
	// don't wait for it forever.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), ctx.Err())
		}
		var notFound *exec.Error
		if errors.As(err, &notFound) {
			return "", fmt.Errorf("ship needs the git binary on PATH: %w", err)
		}
		return stdout.String(), &GitError{Args: args, Stderr: stderr.String(), Err: err}
	}
	return stdout.String(), nil
}

// dir is where git runs: Dir, or the current directory for "".
func (r *Repo) dir() string {
	if r.Dir == "" {
		return "."
	}
	return r.Dir
}

// notADirectory says why dir is not a directory ("no such directory", "not a directory",
// or the error reading it), or "" when it is one.
func notADirectory(dir string) string {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such directory"
	case err != nil:
		return err.Error()
	case !fi.IsDir():
		return "not a directory"
	}
	return ""
}

// Check implements Git.
func (r *Repo) Check(ctx context.Context) error {
	// git cannot even start in a directory that is not there: say so, not "(exit status)".
	if what := notADirectory(r.dir()); what != "" {
		return fmt.Errorf("%s is not a git clone of the service (%s); run ship inside it or pass -C <dir>", r.Dir, what)
	}
	if _, err := r.run(ctx, "rev-parse", "--git-dir"); err != nil {
		var ge *GitError
		if errors.As(err, &ge) {
			return fmt.Errorf("%s is not a git clone of the service (%s); run ship inside it or pass -C <dir>",
				r.Dir, strings.TrimSpace(ge.Stderr))
		}
		return err
	}
	return nil
}

// ResolveCommit implements Git.
func (r *Repo) ResolveCommit(ctx context.Context, rev string) (string, error) {
	if rev == "" || strings.HasPrefix(rev, "-") {
		return "", fmt.Errorf("%q is not a revision", rev)
	}
	out, err := r.run(ctx, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		var ge *GitError
		if errors.As(err, &ge) {
			return "", &MissingCommitError{Rev: rev, Dir: r.Dir}
		}
		return "", err
	}
	return strings.TrimSpace(out), nil
}

// MissingCommitError is a revision that names no commit in the local repository: a typo,
// an ambiguous short id, or a commit not fetched yet.
type MissingCommitError struct {
	// Rev is the revision as given; Dir the repository it was looked up in.
	Rev, Dir string
	// From says where the revision came from when ship chose it, e.g. "deployed in dev".
	From string
	// FetchFrom is a remote that should have it.
	FetchFrom string
}

// Error implements error.
func (e *MissingCommitError) Error() string {
	what := fmt.Sprintf("commit %q", e.Rev)
	if e.From != "" {
		what = fmt.Sprintf("commit %s (%s)", e.Rev, e.From)
	}
	hint := "check the id (a short id must be unambiguous) or fetch it"
	if e.FetchFrom != "" {
		hint = "fetch it first: git fetch " + e.FetchFrom
	}
	return fmt.Sprintf("%s does not exist in the local repository %s (git rev-parse --verify %s^{commit} found no commit); %s",
		what, e.Dir, e.Rev, hint)
}

// HasRemote implements Git.
func (r *Repo) HasRemote(ctx context.Context, name string) (bool, []string, error) {
	out, err := r.run(ctx, "remote")
	if err != nil {
		return false, nil, err
	}
	remotes := strings.Fields(out)
	for _, n := range remotes {
		if n == name {
			return true, remotes, nil
		}
	}
	return false, remotes, nil
}

// RemoteHead implements Git.
func (r *Repo) RemoteHead(ctx context.Context, remote, branch string) (string, error) {
	ref := "refs/heads/" + branch
	out, err := r.run(ctx, "ls-remote", "--", remote, ref)
	if err != nil {
		return "", fmt.Errorf("read branch %s of remote %s: %w", branch, remote, err)
	}
	for _, line := range strings.Split(out, "\n") {
		if id, name, ok := strings.Cut(strings.TrimSpace(line), "\t"); ok && name == ref {
			return id, nil
		}
	}
	return "", nil
}

// Push implements Git.
func (r *Repo) Push(ctx context.Context, remote, commit, branch, lease string) error {
	args := []string{"push"}
	if lease != "" {
		args = append(args, "--force-with-lease="+branch+":"+lease)
	}
	args = append(args, "--", remote, commit+":refs/heads/"+branch)
	_, err := r.run(ctx, args...)
	var ge *GitError
	if errors.As(err, &ge) {
		return &PushError{Remote: remote, Branch: branch, Commit: commit, Reason: pushReason(ge.Stderr)}
	}
	return err
}

// Log implements Git.
func (r *Repo) Log(ctx context.Context, from, to string) ([]Commit, error) {
	args := []string{"log", "--no-decorate", "--format=%H%x09%s", to}
	if from != "" {
		args = append(args, "^"+from)
	}
	out, err := r.run(ctx, append(args, "--")...)
	if err != nil {
		return nil, err
	}
	var cs []Commit
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		id, subject, _ := strings.Cut(line, "\t")
		cs = append(cs, Commit{ID: id, Subject: subject})
	}
	return cs, nil
}

// isExitCode reports whether err is a git command that exited with code.
func isExitCode(err error, code int) bool {
	var ge *GitError
	var exit *exec.ExitError
	return errors.As(err, &ge) && errors.As(ge.Err, &exit) && exit.ExitCode() == code
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// pushReason keeps git's account of a rejected push (remote hook output, the "! [rejected]"
// line with its reason, the error) and drops its "hint:" advice, which ship replaces with
// advice that fits (e.g. use rollback rather than git pull).
func pushReason(stderr string) string {
	var keep []string
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimRight(l, " \t\r")
		if l == "" || strings.HasPrefix(l, "hint:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// RemoteBranches implements Git.
func (r *Repo) RemoteBranches(ctx context.Context, remote, prefix string) (map[string]string, error) {
	refPrefix := "refs/heads/" + prefix
	out, err := r.run(ctx, "ls-remote", "--heads", "--", remote, refPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("list the branches %s* of remote %s: %w", prefix, remote, err)
	}
	heads := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		// ls-remote's pattern matches the end of a ref as well: keep only what is under the prefix.
		if id, name, ok := strings.Cut(strings.TrimSpace(line), "\t"); ok && strings.HasPrefix(name, refPrefix) {
			heads[strings.TrimPrefix(name, "refs/heads/")] = id
		}
	}
	return heads, nil
}

// PushLease implements Git.
func (r *Repo) PushLease(ctx context.Context, remote, commit, branch, expect string) error {
	ref := "refs/heads/" + branch
	_, err := r.run(ctx, "push", "--force-with-lease="+ref+":"+expect, "--", remote, commit+":"+ref)
	var ge *GitError
	if errors.As(err, &ge) {
		return &PushError{Remote: remote, Branch: branch, Commit: commit, Reason: pushReason(ge.Stderr)}
	}
	return err
}

// TrackingBranches implements Git.
func (r *Repo) TrackingBranches(ctx context.Context, remote, prefix string) ([]string, error) {
	base := "refs/remotes/" + remote + "/"
	out, err := r.run(ctx, "for-each-ref", "--format=%(refname)", "--", base+prefix)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, ref := range strings.Fields(out) {
		names = append(names, strings.TrimPrefix(ref, base))
	}
	return names, nil
}

// Config implements Git.
func (r *Repo) Config(ctx context.Context, key string) (string, error) {
	out, err := r.run(ctx, "config", "--get", "--", key)
	if isExitCode(err, 1) {
		return "", nil // not set
	}
	return strings.TrimSpace(out), err
}

// objectID is a full commit id, SHA-1 or SHA-256: what git cat-file is given, so an id
// from elsewhere (a pipeline's history, a table) cannot be read as another kind of name.
var objectID = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// CommitTimes implements Git: one git cat-file --batch for all ids (package gitcat), which
// answers "missing" for an object the repository lacks instead of failing as git show or
// git log would.
func (r *Repo) CommitTimes(ctx context.Context, ids []string) (map[string]time.Time, error) {
	var ask []string
	for _, id := range ids {
		if objectID.MatchString(id) {
			ask = append(ask, id)
		}
	}
	objs, err := gitcat.Read(ctx, r.Dir, ask)
	if err != nil {
		var ge *gitcat.Error
		if errors.As(err, &ge) {
			return nil, &GitError{Args: []string{"cat-file", "--batch"}, Stderr: ge.Stderr, Err: ge.Err}
		}
		return nil, err
	}
	out := map[string]time.Time{}
	for id, o := range objs {
		if o.Type != "commit" {
			continue
		}
		if t, ok := gitcat.CommitterDate(o.Body); ok {
			out[id] = t
		}
	}
	return out, nil
}
