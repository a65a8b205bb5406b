package sandbox

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// gitEnv is the environment the sandbox's own git runs with: the user's and the system's
// config ignored (HOME is the sandbox's), no prompts, a fixed identity. GIT_* variables
// of the caller (GIT_DIR from a hook, say) are dropped.
func gitEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Sandbox Author", "GIT_AUTHOR_EMAIL=author@example.com",
		"GIT_COMMITTER_NAME=Sandbox Committer", "GIT_COMMITTER_EMAIL=committer@example.com")
}

// buildRepos makes the bare repositories <env>.git (branch main), the clone with its
// remotes named after the environments and commits "change 1".."change 5", and pushes
// what the environments have run: c1 everywhere, then c2..c4 to dev one at a time. The
// commits are dated before now, the sandbox's start (commitAgo), as the runs seed records.
func (sb *Sandbox) buildRepos(ctx context.Context, now time.Time) error {
	home := filepath.Join(sb.Dir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	env := gitEnv(home)
	git := func(dir string, extraEnv []string, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir, cmd.Env = dir, append(env, extraEnv...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out)), nil
	}

	if _, err := git(sb.Dir, nil, "init", "-q", sb.Clone); err != nil {
		return err
	}
	for _, e := range sb.Path.Environments {
		sb.Bare[e.Name] = filepath.Join(sb.Dir, e.Name+".git")
		if _, err := git(sb.Dir, nil, "init", "-q", "--bare", sb.Bare[e.Name]); err != nil {
			return err
		}
		if _, err := git(sb.Clone, nil, "remote", "add", e.Name, sb.Bare[e.Name]); err != nil {
			return err
		}
	}
	// Dated relative to now, not fixed: ship metrics reads these dates as the lead times'
	// start, and the seeded runs are minutes old. So the commit ids differ between
	// sandboxes; nothing needs them fixed (the tour and its test name commits by number).
	for i := 1; i <= Commits; i++ {
		if err := os.WriteFile(filepath.Join(sb.Clone, "version"), []byte(strconv.Itoa(i)+"\n"), 0o644); err != nil {
			return err
		}
		if _, err := git(sb.Clone, nil, "add", "version"); err != nil {
			return err
		}
		date := now.Add(-commitAgo(i)).Format(time.RFC3339)
		if _, err := git(sb.Clone, []string{"GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date},
			"commit", "-q", "-m", "change "+strconv.Itoa(i)); err != nil {
			return err
		}
		id, err := git(sb.Clone, nil, "rev-parse", "HEAD")
		if err != nil {
			return err
		}
		sb.Commits = append(sb.Commits, id)
	}

	type push struct {
		env    string
		commit int // 1-based
	}
	pushes := []push{{"dev", 1}, {"stg", 1}, {"prd", 1}}
	for i := 2; i <= DevCommits; i++ {
		pushes = append(pushes, push{"dev", i})
	}
	for _, p := range pushes {
		e, err := sb.Path.Environment(p.env)
		if err != nil {
			return err
		}
		if _, err := git(sb.Clone, nil, "push", "-q", p.env, sb.Commits[p.commit-1]+":refs/heads/"+e.Branch); err != nil {
			return err
		}
		sb.initial[p.env] = p.commit
	}
	// A colleague's developer sandbox (sandboxes.go).
	if _, err := git(sb.Clone, nil, "push", "-q", sb.Path.Environments[0].Name,
		sb.Commits[ColleagueCommit-1]+":refs/heads/"+org.SandboxBranch(Colleague)); err != nil {
		return err
	}
	// Fetch, so the clone's remote-tracking branches show what each environment has.
	_, err := git(sb.Clone, nil, "fetch", "-q", "--all")
	return err
}
