package ship

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// orgYAML is the organisation the tests ship through: one service, dev -> stg -> prd.
const orgYAML = `registry:
  account: "111111111111"
  region: eu-west-1
teams:
  - name: payments
    services:
      - name: checkout
        environments:
          - name: dev
            account: "222222222222"
            region: eu-west-1
          - name: stg
            account: "333333333333"
            region: eu-west-1
          - name: prd
            account: "444444444444"
            region: eu-west-1
`

// fixture is a service clone with real bare repositories as its dev/stg/prd remotes, and
// a fake CodePipeline/STS endpoint (fakeaws) that the real SDK clients reach through AWS_ENDPOINT_URL.
type fixture struct {
	t       *testing.T
	dir     string            // the working clone
	bare    map[string]string // env -> bare repository
	commits []string          // c1..cN on main, oldest first
	aws     *fakeaws.Server
	home    string
	// flags go before every ship command's own: by default a --profile per environment,
	// each profile's key belonging to that environment's account, as a team's would.
	flags []string
}

// The access keys of the fixture's profiles dev, stg and prd (each in its environment's
// account), and of the default chain (AWS_ACCESS_KEY_ID), which is in none of them.
const (
	keyDev, keyStg, keyPrd = "AKIDDEV", "AKIDSTG", "AKIDPRD"
	keyDefault             = "AKIDSTATIC"
)

// profileFlags are the --profile flags newFixture puts on every command.
var profileFlags = []string{"--profile", "dev=dev", "--profile", "stg=stg", "--profile", "prd=prd"}

// credentialsFile has one profile per environment, each with its own key.
const credentialsFile = `[dev]
aws_access_key_id = AKIDDEV
aws_secret_access_key = secret
[stg]
aws_access_key_id = AKIDSTG
aws_secret_access_key = secret
[prd]
aws_access_key_id = AKIDPRD
aws_secret_access_key = secret
`

// gitEnv is the environment every git in the tests runs with: no user or system config,
// no prompts, fixed identities and dates (so commit ids are the same on every run).
func gitEnv(home string) map[string]string {
	return map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": home, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0",
		"GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.com",
		"GIT_COMMITTER_NAME": "Test Committer", "GIT_COMMITTER_EMAIL": "committer@example.com",
		"GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
	}
}

// templateCommits is how many commits the template clone has.
const templateCommits = 5

// template is built once per test binary (TestMain) and copied into each test's temp dir:
// the same real repositories, without paying two dozen git start-ups per test.
var template struct {
	root    string
	commits []string
}

func TestMain(m *testing.M) {
	root, err := os.MkdirTemp("", "ship-test-template-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	err = buildTemplate(root)
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, "build the git template:", err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(root)
	os.Exit(code)
}

// buildTemplate makes root/work, a clone with commits c1..c5 ("change i") on main and
// remotes dev, stg, prd pointing at the empty bare repositories root/<env>.git.
func buildTemplate(root string) error {
	home := filepath.Join(root, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	env := os.Environ()
	for k, v := range gitEnv(home) {
		env = append(env, k+"="+v)
	}
	git := func(dir string, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out)), nil
	}
	work := filepath.Join(root, "work")
	steps := [][]string{{root, "init", "-q", work}}
	for _, e := range []string{"dev", "stg", "prd"} {
		steps = append(steps, []string{root, "init", "-q", "--bare", filepath.Join(root, e+".git")},
			[]string{work, "remote", "add", e, filepath.Join(root, e+".git")})
	}
	for _, st := range steps {
		if _, err := git(st[0], st[1:]...); err != nil {
			return err
		}
	}
	for i := 1; i <= templateCommits; i++ {
		if err := os.WriteFile(filepath.Join(work, "version"), []byte(strconv.Itoa(i)), 0o644); err != nil {
			return err
		}
		if _, err := git(work, "add", "version"); err != nil {
			return err
		}
		if _, err := git(work, "commit", "-q", "-m", fmt.Sprintf("change %d", i)); err != nil {
			return err
		}
		id, err := git(work, "rev-parse", "HEAD")
		if err != nil {
			return err
		}
		template.commits = append(template.commits, id)
	}
	template.root = root
	return nil
}

// copyTree copies the template into dst, modes kept (hooks must stay executable), and
// re-points the clone's remotes, which are absolute paths, at the copies.
func copyTree(src, dst string) error {
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(to, info.Mode().Perm()|0o700)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, info.Mode().Perm())
	})
	if err != nil {
		return err
	}
	cfg := filepath.Join(dst, "work", ".git", "config")
	data, err := os.ReadFile(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(cfg, []byte(strings.ReplaceAll(string(data), src, dst)), 0o644)
}

// newFixture copies the template: a clone with commits c1..c5 on main and real bare
// repositories as its dev/stg/prd remotes (all empty), plus an organisation file and a fake
// AWS. Only the process environment is configured (t.Setenv), as a user's shell would be.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	must(t, copyTree(template.root, root))
	f := &fixture{t: t, dir: filepath.Join(root, "work"), bare: map[string]string{}, home: filepath.Join(root, "home"),
		commits: template.commits}
	for k, v := range gitEnv(f.home) {
		t.Setenv(k, v)
	}
	for _, env := range []string{"dev", "stg", "prd"} {
		f.bare[env] = filepath.Join(root, env+".git")
	}

	cfg := filepath.Join(root, "organization.yaml")
	must(t, os.WriteFile(cfg, []byte(orgYAML), 0o644))
	t.Setenv(EnvConfig, cfg)
	t.Setenv(EnvPath, "payments/checkout")

	f.aws = fakeaws.New()
	f.aws.SetAccount(keyDev, "222222222222")
	f.aws.SetAccount(keyStg, "333333333333")
	f.aws.SetAccount(keyPrd, "444444444444")
	f.flags = profileFlags
	srv := httptest.NewServer(f.aws)
	t.Cleanup(srv.Close)
	empty := filepath.Join(root, "empty-aws-config")
	must(t, os.WriteFile(empty, nil, 0o644))
	creds := filepath.Join(root, "aws-credentials")
	must(t, os.WriteFile(creds, []byte(credentialsFile), 0o600))
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": srv.URL, "AWS_ACCESS_KEY_ID": keyDefault, "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
		"AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": creds,
		// Never reach for the instance metadata service (169.254.169.254) from a test.
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	return f
}

// c is the i-th commit, 1-based, as in its message "change i".
func (f *fixture) c(i int) string { return f.commits[i-1] }

// git runs the real git binary; the test fails on error.
func (f *fixture) git(dir string, args ...string) string {
	f.t.Helper()
	out, err := f.tryGit(dir, args...)
	if err != nil {
		f.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return out
}

func (f *fixture) tryGit(dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// pushTo sets env's branch main to commit i, as an earlier `git push` would have.
func (f *fixture) pushTo(env string, i int) {
	f.git(f.dir, "push", "-q", "--force", env, f.c(i)+":refs/heads/main")
}

// branch is what env's bare repository has on main now ("" if nothing).
func (f *fixture) branch(env string) string {
	out, err := f.tryGit(f.bare[env], "rev-parse", "--verify", "--quiet", "refs/heads/main")
	if err != nil {
		return ""
	}
	return out
}

// ship runs the command as main does, with -C pointing at the clone, bounded in time.
func (f *fixture) ship(args ...string) (code int, stdout, stderr string) {
	return f.shipWith(&App{}, args...)
}

func (f *fixture) shipWith(app *App, args ...string) (code int, stdout, stderr string) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var o, e bytes.Buffer
	app.Stdout, app.Stderr = &o, &e
	code = app.Run(ctx, append(append([]string{"-C", f.dir}, f.flags...), args...))
	f.t.Logf("ship %s -> %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, o.String(), e.String())
	return code, o.String(), e.String()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// pipelineCalls are the CodePipeline calls so far: what was read, without the STS calls
// that checked whose credentials read it.
func (f *fixture) pipelineCalls() []fakeaws.Call {
	var out []fakeaws.Call
	for _, c := range f.aws.Recorded() {
		if c.Op != "GetCallerIdentity" && c.Op != "AssumeRole" {
			out = append(out, c)
		}
	}
	return out
}

// run is one fake pipeline execution, finishing (or last changing) at the given time.
func run(id, commit, status string, at time.Time) fakeaws.Run {
	return fakeaws.Run{ID: id, Commit: commit, Status: status, At: at}
}

// t0 is a fixed instant the fake runs are dated from.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mins(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
