package ship

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// connection is the ARN of a CodeConnections connection in account.
func connection(account string) string {
	return "arn:aws:codeconnections:eu-west-1:" + account + ":connection/0a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d"
}

// connectionOrgYAML is orgYAML's accounts with a second service, search/indexer, whose
// source is one GitHub repository: dev follows main, stg env/stg, prd env/prd.
var connectionOrgYAML = orgYAML + fmt.Sprintf(`  - name: search
    services:
      - name: indexer
        source:
          provider: github
          repository: example-org/search-indexer
        environments:
          - name: dev
            account: "222222222222"
            region: eu-west-1
            connection: %s
          - name: stg
            account: "333333333333"
            region: eu-west-1
            connection: %s
          - name: prd
            account: "444444444444"
            region: eu-west-1
            connection: %s
`, connection("222222222222"), connection("333333333333"), connection("444444444444"))

// indexerURL is search/indexer's repository as the organisation file derives it (CloneURL).
const indexerURL = "https://github.com/example-org/search-indexer.git"

// useOrgPath makes yaml the organisation file and path the service of every ship command.
func (f *fixture) useOrgPath(yaml, path string) {
	useOrg(f.t, yaml)
	f.t.Setenv(EnvPath, path)
}

// githubFixture is the clone as a clone of search/indexer: its remote origin is configured
// as https://github.com/example-org/search-indexer.git, and git's own url.<base>.insteadOf
// sends that URL to a local bare repository (f.bare["github"]), so every git command ship
// runs against "GitHub" really fetches from and pushes to it. main is at c5 there.
func githubFixture(t *testing.T) *fixture {
	f := newFixture(t)
	f.useOrgPath(connectionOrgYAML, "search/indexer")
	bare := filepath.Join(t.TempDir(), "search-indexer.git")
	f.git(f.dir, "init", "-q", "--bare", bare)
	f.bare["github"] = bare
	f.git(f.dir, "remote", "add", "origin", indexerURL)
	f.git(f.dir, "config", "url."+bare+".insteadOf", indexerURL)
	f.git(f.dir, "push", "-q", "origin", f.c(5)+":refs/heads/main")
	return f
}

// ref is what branch points at in the bare repository repo ("" if it does not exist).
func (f *fixture) ref(repo, branch string) string {
	out, err := f.tryGit(f.bare[repo], "rev-parse", "--verify", "--quiet", "refs/heads/"+branch)
	if err != nil {
		return ""
	}
	return out
}

func TestPointsAtTheSourcesRepository(t *testing.T) {
	gh := org.Source{Provider: org.ProviderGitHub, Repository: "example-org/search-indexer"}
	gl := org.Source{Provider: org.ProviderGitLab, Repository: "group/sub/name"}
	bb := org.Source{Provider: org.ProviderBitbucket, Repository: "team/repo"}
	for _, c := range []struct {
		src  org.Source
		url  string
		want bool
	}{
		{gh, "https://github.com/example-org/search-indexer.git", true},
		{gh, "https://github.com/example-org/search-indexer", true},
		{gh, "https://github.com/example-org/search-indexer/", true},
		{gh, "https://GitHub.com/Example-Org/Search-Indexer.git", true},
		{gh, "https://x-access-token:abc@github.com/example-org/search-indexer.git", true},
		{gh, "http://github.com/example-org/search-indexer.git", true},
		{gh, "git@github.com:example-org/search-indexer.git", true},
		{gh, "git@github.com:example-org/search-indexer", true},
		{gh, "ssh://git@github.com/example-org/search-indexer.git", true},
		{gh, "ssh://git@github.com:22/example-org/search-indexer.git", true},
		{gh, "ssh://git@ssh.github.com:443/example-org/search-indexer.git", true},
		{gh, "https://github.com/example-org/search-indexer-old.git", false},
		{gh, "https://github.com/other-org/search-indexer.git", false},
		{gh, "https://gitlab.com/example-org/search-indexer.git", false},
		{gh, "https://github.com.evil.example/example-org/search-indexer.git", false},
		{gh, "https://evil.example/github.com/example-org/search-indexer.git", false},
		{gh, "/srv/git/example-org/search-indexer.git", false},
		{gh, "file:///github.com/example-org/search-indexer.git", false},
		{gh, "codecommit::eu-west-1://search-indexer", false},
		{gh, "", false},
		{gl, "https://gitlab.com/group/sub/name.git", true},
		{gl, "git@gitlab.com:Group/Sub/Name.git", true},
		{gl, "ssh://git@altssh.gitlab.com:443/group/sub/name.git", true},
		{gl, "https://gitlab.com/group/name.git", false},
		{bb, "https://someone@bitbucket.org/team/repo.git", true},
		{bb, "git@bitbucket.org:team/repo.git", true},
		{bb, "https://github.com/team/repo.git", false},
	} {
		if got := pointsAt(c.src, c.url); got != c.want {
			t.Errorf("pointsAt(%s %s, %q) = %v, want %v", c.src.Provider, c.src.Repository, c.url, got, c.want)
		}
	}
}

func TestConnectionSourceShipsThroughItsOneRemote(t *testing.T) {
	f := githubFixture(t)
	f.aws.SetRuns("search-indexer-dev",
		run("dev-4", f.c(4), "Succeeded", mins(40)),
		run("dev-3", f.c(3), "Succeeded", mins(30)),
		run("dev-2", f.c(2), "Succeeded", mins(20)))

	// WHEN c3 is promoted to stg, then (once stg passed it) to prd
	code, out, _ := f.ship("promote", "stg", gate.Short(f.c(3)))
	if code != ExitOK {
		t.Fatalf("promote stg: exit %d", code)
	}
	// THEN it is pushed to branch env/stg of the one repository, through the remote origin
	if got := f.ref("github", "env/stg"); got != f.c(3) {
		t.Errorf("env/stg = %q, want c3 %s", got, f.c(3))
	}
	if !strings.Contains(out, "pushed "+gate.Short(f.c(3))+" to branch env/stg of remote origin") {
		t.Errorf("promote output:\n%s", out)
	}
	f.aws.SetRuns("search-indexer-stg",
		run("stg-3", f.c(3), "Succeeded", mins(35)),
		run("stg-2", f.c(2), "Succeeded", mins(25)))
	f.git(f.dir, "push", "-q", "origin", f.c(2)+":refs/heads/env/prd")
	if code, _, _ := f.ship("promote", "prd", gate.Short(f.c(3))); code != ExitOK {
		t.Fatalf("promote prd: exit %d", code)
	}
	if got := f.ref("github", "env/prd"); got != f.c(3) {
		t.Errorf("env/prd = %q, want c3 %s", got, f.c(3))
	}
	// AND no other branch moved, and the CodeCommit remotes named after the environments
	// were never touched
	if got := f.ref("github", "main"); got != f.c(5) {
		t.Errorf("main = %q, want c5: promotion must not move it", got)
	}
	for _, env := range []string{"dev", "stg", "prd"} {
		if got := f.branch(env); got != "" {
			t.Errorf("remote %s got branch main %s", env, got)
		}
	}

	// WHEN prd ran c2 then c3, and c3 is rolled back
	f.aws.SetRuns("search-indexer-prd",
		run("prd-3", f.c(3), "Succeeded", mins(45)),
		run("prd-2", f.c(2), "Succeeded", mins(28)))
	code, out, _ = f.ship("rollback", "prd")
	if code != ExitOK {
		t.Fatalf("rollback prd: exit %d", code)
	}
	// THEN env/prd points back at c2, pushed over c3 with the lease
	if got := f.ref("github", "env/prd"); got != f.c(2) {
		t.Errorf("env/prd after rollback = %q, want c2 %s", got, f.c(2))
	}
	if !strings.Contains(out, "rolled back branch env/prd of remote origin to "+gate.Short(f.c(2))) {
		t.Errorf("rollback output:\n%s", out)
	}

	// AND status reads each environment's branch of the one repository
	code, out, _ = f.ship("status")
	if code != ExitOK {
		t.Fatalf("status: exit %d", code)
	}
	for env, want := range map[string]struct{ branch, head string }{
		"dev": {"main", f.c(5)}, "stg": {"env/stg", f.c(3)}, "prd": {"env/prd", f.c(2)},
	} {
		sec := section(t, out, env)
		if !strings.Contains(sec, "remote origin, branch "+want.branch) || !strings.Contains(sec, "branch     "+gate.Short(want.head)) {
			t.Errorf("status of %s: want remote origin, branch %s at %s:\n%s", env, want.branch, gate.Short(want.head), sec)
		}
	}
	_, out, _ = f.ship("status", "--json")
	doc := decodeStatus(t, out)
	for i, want := range []string{f.c(5), f.c(3), f.c(2)} {
		if e := doc.Environments[i]; e.Remote != "origin" || e.BranchHead != want {
			t.Errorf("status --json %s: remote %q head %q, want origin %s", e.Name, e.Remote, e.BranchHead, want)
		}
	}
}

func TestConnectionSourceRollbackWithAStaleLeaseIsRejected(t *testing.T) {
	f := githubFixture(t)
	f.git(f.dir, "push", "-q", "origin", f.c(4)+":refs/heads/env/prd")
	f.aws.SetRuns("search-indexer-prd",
		run("prd-4", f.c(4), "Succeeded", mins(45)),
		run("prd-2", f.c(2), "Succeeded", mins(28)))
	f.aws.SetRuns("search-indexer-stg", run("stg-2", f.c(2), "Succeeded", mins(25)))
	// GIVEN someone pushes c5 to env/prd between ship reading the branch and pushing
	app := &App{Git: func(dir string) Git {
		return racingGit{Git: NewRepo(dir), meanwhile: func() { f.git(f.dir, "push", "-q", "--force", "origin", f.c(5)+":refs/heads/env/prd") }}
	}}

	code, _, errOut := f.shipWith(app, "rollback", "prd")

	if code != ExitFailed || !strings.Contains(errOut, "stale info") || !strings.Contains(errOut, "branch env/prd of remote origin no longer points at "+gate.Short(f.c(4))) {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if got := f.ref("github", "env/prd"); got != f.c(5) {
		t.Errorf("env/prd = %q, want the other push c5 %s", got, f.c(5))
	}
}

func TestConnectionSourceWithoutItsRemote(t *testing.T) {
	f := newFixture(t)
	f.useOrgPath(connectionOrgYAML, "search/indexer")
	f.aws.SetRuns("search-indexer-dev", run("dev-3", f.c(3), "Succeeded", mins(30)))

	// WHEN the clone has only the CodeCommit-style remotes dev, stg and prd
	code, _, errOut := f.ship("promote", "stg", gate.Short(f.c(3)))

	// THEN ship says which repository it looked for, what the clone has, and the fix
	if code != ExitFailed {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"no git remote of " + f.dir + " points at github.com/example-org/search-indexer, the GitHub repository of search/indexer (source.repository in ",
		"its remotes: dev " + f.bare["dev"] + ", prd " + f.bare["prd"] + ", stg " + f.bare["stg"],
		"add one: git remote add origin " + indexerURL + ", or pass --remote stg=<name or URL>",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if len(f.pipelineCalls()) != 0 {
		t.Errorf("AWS was read before the remote was found: %+v", f.pipelineCalls())
	}

	// AND --remote names one for the environment: then that one is used
	code, _, _ = f.ship("promote", "stg", gate.Short(f.c(3)), "--remote", "stg=stg")
	if code != ExitOK {
		t.Fatalf("with --remote: exit %d", code)
	}
	if got := f.ref("stg", "env/stg"); got != f.c(3) {
		t.Errorf("stg's bare env/stg = %q, want c3", got)
	}
}

func TestConnectionSourceWithTwoRemotesOfItsRepository(t *testing.T) {
	f := githubFixture(t)
	// GIVEN a second remote for the same repository, over SSH, in another case
	f.git(f.dir, "remote", "add", "upstream", "git@github.com:Example-Org/Search-Indexer.git")

	f.aws.SetRuns("search-indexer-dev", run("dev-3", f.c(3), "Succeeded", mins(30)))
	f.aws.SetRuns("search-indexer-stg")
	f.aws.SetRuns("search-indexer-prd")

	// THEN status still reads the pipelines, and says per branch why it could not read it
	code, out, _ := f.ship("status")
	if code != ExitOK {
		t.Fatalf("status: exit %d", code)
	}
	if sec := section(t, out, "stg"); !strings.Contains(sec, "branch     unknown: git remotes origin and upstream of "+f.dir+" all point at github.com/example-org/search-indexer") {
		t.Errorf("stg section:\n%s", sec)
	}
	// AND promote refuses to guess
	code, _, errOut := f.ship("promote", "stg", gate.Short(f.c(3)))
	if code != ExitFailed {
		t.Fatalf("promote: exit %d", code)
	}
	for _, want := range []string{"git remotes origin and upstream of " + f.dir + " all point at github.com/example-org/search-indexer",
		"ship will not pick one", "or pass --remote stg=<name or URL>"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if got := f.ref("github", "env/stg"); got != "" {
		t.Errorf("env/stg = %s, want nothing pushed", got)
	}
}
