package ship

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/sandboxes/state"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// sandboxOrgYAML is orgYAML with sandboxes for payments/checkout: two at once, 48 hours idle.
const sandboxOrgYAML = orgYAML + `        sandboxes:
          max: 2
          ttl: 48h
`

// sandboxTable is payments/checkout's sandbox table, in dev's account.
const sandboxTable = "payments-checkout-dev-sandboxes"

// sandboxNow is the clock of the sandbox tests.
var sandboxNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// sandboxFixture is newFixture with sandboxOrgYAML and the clone's user.email set, as a
// developer's would be.
func sandboxFixture(t *testing.T) *fixture {
	f := newFixture(t)
	f.useOrgPath(sandboxOrgYAML, "payments/checkout")
	f.git(f.dir, "config", "user.email", "Alice.Smith@Example.com")
	return f
}

// sandboxBranch is what sandbox/<name> points at in dev's bare repository ("" if nothing).
func (f *fixture) sandboxBranch(name string) string { return f.ref("dev", "sandbox/"+name) }

// seedSandboxes makes the sandbox table exist in dev's account and writes sbs to it the way
// the controller does (state.Update, through the real DynamoDB client).
func (f *fixture) seedSandboxes(sbs ...state.Sandbox) {
	f.t.Helper()
	f.aws.SetTable("222222222222", sandboxTable)
	db := dynamodb.NewFromConfig(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(os.Getenv("AWS_ENDPOINT_URL")),
		Credentials: credentials.NewStaticCredentialsProvider(keyDev, "secret", "")})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := state.Update(ctx, db, sandboxTable, func(s *state.Set) error {
		for _, sb := range sbs {
			s.Add(sb)
		}
		return nil
	})
	must(f.t, err)
}

func TestDefaultSandboxName(t *testing.T) {
	for email, want := range map[string]string{
		"alice@example.com":                         "alice",
		"Alice.Smith@Example.com":                   "alice-smith",
		"bob+ci..test@example.com":                  "bob-ci-test",
		"  Carol_O'Neil@example.com ":               "carol-o-neil",
		"42dave@example.com":                        "dave",                 // from the first letter
		"a.very.long.local.part.indeed@example.com": "a-very-long-local-pa", // 20 characters
		"abcdefghijklmnopqrs.tuvw@example.com":      "abcdefghijklmnopqrs",  // no trailing '-' after the cut
		"$(id)@example.com":                         "id",
		"alice@example.com@evil":                    "alice",
		"élodie@example.com":                        "lodie", // letters are a-z only
		"123@example.com":                           "",      // nothing left: ship asks for a name
		"":                                          "",
	} {
		if got := defaultSandboxName(email); got != want {
			t.Errorf("defaultSandboxName(%q) = %q, want %q", email, got, want)
		}
	}
}

func TestOwnerName(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:sts::222222222222:assumed-role/developer/alice@example.com": "alice@example.com",
		"arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_Dev_0123/bob": "bob",
		"arn:aws:iam::222222222222:user/engineers/carol":                     "carol",
		"arn:aws:iam::222222222222:user/dave":                                "dave",
		"arn:aws:iam::222222222222:root":                                     "arn:aws:iam::222222222222:root",
		"":                                                                   "",
		"not an arn":                                                         "not an arn",
	} {
		if got := ownerName(arn); got != want {
			t.Errorf("ownerName(%q) = %q, want %q", arn, got, want)
		}
	}
}

func TestSandboxUpCreatesThenUpdatesTheBranch(t *testing.T) {
	f := sandboxFixture(t)

	// WHEN a developer runs ship sandbox up with no name, on HEAD (c5)
	code, out, errOut := f.shipWith(at(sandboxNow), "sandbox", "up")

	// THEN HEAD is on branch sandbox/alice-smith of dev's remote, named after user.email
	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if got := f.sandboxBranch("alice-smith"); got != f.c(5) {
		t.Errorf("sandbox/alice-smith = %q, want c5 %s", got, f.c(5))
	}
	// AND ship says what happens next: the deploy, list, the cap and TTL, the expiry
	// (sandboxNow + 48h = 2026-03-12T12:00:00Z)
	for _, want := range []string{
		"sandbox alice-smith: pushed " + gate.Short(f.c(5)) + " to branch sandbox/alice-smith of remote dev (a new sandbox).",
		"Next: the sandbox controller in dev's account (222222222222, eu-west-1) deploys it, as stacks ending in -sandbox-alice-smith; watch it with ship sandbox list.",
		"payments/checkout may have 2 sandboxes at once (sandboxes.max); one not pushed for 48h (sandboxes.ttl) is destroyed, its branch kept.",
		"This one expires at 2026-03-12T12:00:00Z (in 2d) unless pushed again; when done: ship sandbox down alice-smith.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if len(f.aws.Recorded()) != 0 {
		t.Errorf("up read AWS: %v", f.aws.Ops())
	}

	// WHEN it is pushed again with another commit, by name
	code, out, _ = f.shipWith(at(sandboxNow), "sandbox", "up", "alice-smith", "--commit", gate.Short(f.c(3)))
	if code != ExitOK || f.sandboxBranch("alice-smith") != f.c(3) {
		t.Fatalf("second up: exit %d, branch %s, want c3", code, f.sandboxBranch("alice-smith"))
	}
	if !strings.Contains(out, "(replacing "+gate.Short(f.c(5))+")") {
		t.Errorf("second up does not say what it replaced:\n%s", out)
	}

	// WHEN the developer's history is unrelated (an orphan commit): the sandbox follows it
	f.git(f.dir, "checkout", "-q", "--orphan", "rewrite")
	f.git(f.dir, "commit", "-q", "-m", "a new start")
	orphan := f.git(f.dir, "rev-parse", "HEAD")
	code, _, errOut = f.shipWith(at(sandboxNow), "sandbox", "up", "alice-smith")
	if code != ExitOK || f.sandboxBranch("alice-smith") != orphan {
		t.Fatalf("up of an unrelated history: exit %d, branch %s, want %s\n%s", code, f.sandboxBranch("alice-smith"), orphan, errOut)
	}

	// WHEN it is run once more with the same commit: nothing to push
	code, out, _ = f.shipWith(at(sandboxNow), "sandbox", "up", "alice-smith")
	if code != ExitOK || !strings.Contains(out, "already points at "+gate.Short(orphan)+"; nothing pushed") {
		t.Errorf("up of what the branch has: exit %d\n%s", code, out)
	}
}

// racingLease is the real git, except that someone else acts on the remote between ship
// reading the sandbox branches and ship pushing with its lease.
type racingLease struct {
	Git
	meanwhile func()
}

func (g racingLease) PushLease(ctx context.Context, remote, commit, branch, expect string) error {
	g.meanwhile()
	return g.Git.PushLease(ctx, remote, commit, branch, expect)
}

func TestSandboxUpAndDownWithALostLeaseAreRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"up of a new sandbox", []string{"sandbox", "up", "fix-login"}},
		{"up of an existing one", []string{"sandbox", "up", "fix-login", "--commit", "HEAD~1"}},
		{"down", []string{"sandbox", "down", "fix-login"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := sandboxFixture(t)
			if tc.name != "up of a new sandbox" {
				f.git(f.dir, "push", "-q", "dev", f.c(5)+":refs/heads/sandbox/fix-login")
			}
			// GIVEN a colleague pushes c2 to sandbox/fix-login after ship read the branch
			app := at(sandboxNow)
			app.Git = func(dir string) Git {
				return racingLease{Git: NewRepo(dir), meanwhile: func() {
					f.git(f.dir, "push", "-q", "--force", "dev", f.c(2)+":refs/heads/sandbox/fix-login")
				}}
			}

			code, _, errOut := f.shipWith(app, tc.args...)

			// THEN ship refuses, names the push that won, and the colleague's commit stays
			if code != ExitFailed {
				t.Fatalf("exit %d", code)
			}
			for _, want := range []string{"stale info", "branch sandbox/fix-login of remote dev moved after ship read it",
				"it now points at " + gate.Short(f.c(2)) + ": someone else pushed meanwhile"} {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			if got := f.sandboxBranch("fix-login"); got != f.c(2) {
				t.Errorf("sandbox/fix-login = %q, want the colleague's c2 %s", got, f.c(2))
			}
		})
	}
}

func TestSandboxDownDeletesTheBranch(t *testing.T) {
	f := sandboxFixture(t)
	f.git(f.dir, "push", "-q", "dev", f.c(4)+":refs/heads/sandbox/fix-login", f.c(3)+":refs/heads/sandbox/bob")

	code, out, errOut := f.shipWith(at(sandboxNow), "sandbox", "down", "fix-login")

	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if got := f.sandboxBranch("fix-login"); got != "" {
		t.Errorf("sandbox/fix-login still at %s", got)
	}
	if got := f.sandboxBranch("bob"); got != f.c(3) {
		t.Errorf("sandbox/bob = %q: another sandbox was touched", got)
	}
	for _, want := range []string{"sandbox fix-login: deleted branch sandbox/fix-login of remote dev (it pointed at " + gate.Short(f.c(4)) + ").",
		"Next: the sandbox controller in dev's account (222222222222, eu-west-1) destroys its stacks (ending in -sandbox-fix-login)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// WHEN the sandbox is deleted again: an error that lists the sandboxes there are
	code, _, errOut = f.shipWith(at(sandboxNow), "sandbox", "down", "fix-login")
	if want := "no sandbox fix-login: remote dev has no branch sandbox/fix-login (its sandbox branches: sandbox/bob at " + gate.Short(f.c(3)) + ")"; code != ExitFailed || !strings.Contains(errOut, want) {
		t.Errorf("down of a missing sandbox: exit %d, stderr lacks %q:\n%s", code, want, errOut)
	}
	// AND without a name it is the developer's own (alice-smith), which does not exist
	f.git(f.dir, "push", "-q", "dev", ":refs/heads/sandbox/bob")
	code, _, errOut = f.shipWith(at(sandboxNow), "sandbox", "down")
	if want := "no sandbox alice-smith: remote dev has no branch sandbox/alice-smith (it has no sandbox branches)"; code != ExitFailed || !strings.Contains(errOut, want) {
		t.Errorf("down of the default: exit %d, stderr lacks %q:\n%s", code, want, errOut)
	}
}

// gitTrap puts a git on PATH that records that it ran and fails: a test that must run no
// git command reads the record.
func gitTrap(t *testing.T) (ran func() string) {
	dir := t.TempDir()
	record := filepath.Join(dir, "ran")
	must(t, os.WriteFile(filepath.Join(dir, "git"), []byte("#!/bin/sh\necho \"git $*\" >> '"+record+"'\nexit 1\n"), 0o755))
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return func() string {
		b, _ := os.ReadFile(record)
		return string(b)
	}
}

func TestSandboxNamesAreRefusedBeforeAnyGitCommand(t *testing.T) {
	f := sandboxFixture(t)
	ran := gitTrap(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"up", "Alice"}, `sandbox name "Alice": it is not lowercase letters and digits in runs joined by single hyphens, starting with a letter (want 1-20 lowercase letters`},
		{[]string{"up", "a/b"}, `sandbox name "a/b": it is not lowercase letters`},
		{[]string{"up", "$(id)"}, `sandbox name "$(id)": it is not lowercase letters`},
		{[]string{"down", "; rm -rf /"}, `sandbox name "; rm -rf /": it is not lowercase letters`},
		{[]string{"up", strings.Repeat("a", 200)}, `: 200 characters is longer than 20`},
		{[]string{"up", ""}, `sandbox name "": the name after sandbox/ is empty`},
		{[]string{"up", "--", "-x"}, `argument "-x" looks like a flag`},
		{[]string{"up", "-x"}, `unknown shorthand flag: 'x' in -x`},
		{[]string{"down", "fix--login"}, `sandbox name "fix--login": it is not lowercase letters`},
		{[]string{"up", "a", "b"}, `too many arguments for up: ["b"] (want ship sandbox up [name])`},
	} {
		code, out, errOut := f.ship(append([]string{"sandbox"}, tc.args...)...)
		if code != ExitUsage || out != "" || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "ship help sandbox") {
			t.Errorf("sandbox %q: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
	if r := ran(); r != "" {
		t.Errorf("git ran for a name that was refused:\n%s", r)
	}
	if len(f.aws.Recorded()) != 0 {
		t.Errorf("AWS was called: %v", f.aws.Ops())
	}
}

func TestSandboxWithoutADefaultNameAsksForOne(t *testing.T) {
	f := sandboxFixture(t)
	for email, was := range map[string]string{"": "is not set", "1234@example.com": `is "1234@example.com"`} {
		if email == "" {
			f.git(f.dir, "config", "--unset", "user.email")
		} else {
			f.git(f.dir, "config", "user.email", email)
		}
		code, _, errOut := f.ship("sandbox", "up")
		want := "no sandbox name given, and none can be made from git config user.email, which " + was + ": name one, e.g. ship sandbox up fix-login (a name is 1-20 lowercase"
		if code != ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("user.email %q: exit %d, stderr lacks %q:\n%s", email, code, want, errOut)
		}
	}
	if heads := f.git(f.bare["dev"], "for-each-ref"); heads != "" {
		t.Errorf("something was pushed: %s", heads)
	}
}

func TestSandboxCommandsNeedAPathWithSandboxes(t *testing.T) {
	f := newFixture(t)
	f.useOrgPath(connectionOrgYAML, "payments/checkout")
	for _, sub := range [][]string{{"up", "fix-login"}, {"down", "fix-login"}, {"list"}} {
		// WHEN the path has no sandboxes block
		code, out, errOut := f.ship(append([]string{"sandbox"}, sub...)...)
		// THEN the error names the field and shows how to turn sandboxes on
		for _, want := range []string{"payments/checkout has no sandboxes: teams[0].services[0].sandboxes is not set in ",
			"To turn them on, add to the service:\n    sandboxes:\n      max: 3     # how many may exist at once, 1 to 20\n      ttl: 72h   # destroyed after this long without a push, 1h to 720h",
			"give dev's account (222222222222) the sandbox controller"} {
			if code != ExitUsage || out != "" || !strings.Contains(errOut, want) {
				t.Errorf("sandbox %v: exit %d, stderr lacks %q:\n%s", sub, code, want, errOut)
			}
		}
		// AND a GitHub-sourced path is told why it cannot have them
		code, _, errOut = f.ship(append([]string{"sandbox", "--path", "search/indexer"}, sub...)...)
		want := `search/indexer has no sandboxes, and cannot have them: its source is github.com/example-org/search-indexer (teams[1].services[0].source.provider "github" in ` +
			os.Getenv(EnvConfig) + `), and sandboxes follow CodeCommit's branch events (created, updated, deleted), which a GitHub connection does not report; sandboxes need a CodeCommit source`
		if code != ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("sandbox %v of search/indexer: exit %d, stderr lacks %q:\n%s", sub, code, want, errOut)
		}
	}
	if heads := f.git(f.bare["dev"], "for-each-ref"); heads != "" || len(f.aws.Recorded()) != 0 {
		t.Errorf("something was pushed (%q) or read from AWS (%v)", heads, f.aws.Ops())
	}
}

func TestSandboxUpWarnsWhenTheCapIsTaken(t *testing.T) {
	f := sandboxFixture(t)
	f.git(f.dir, "push", "-q", "dev", f.c(1)+":refs/heads/sandbox/bob", f.c(2)+":refs/heads/sandbox/carol")

	code, out, _ := f.shipWith(at(sandboxNow), "sandbox", "up")

	if code != ExitOK || f.sandboxBranch("alice-smith") != f.c(5) {
		t.Fatalf("exit %d", code)
	}
	if want := "Note: remote dev already has 2 other sandbox branches; if 2 of them are deploying or live, the controller refuses this one (status refused)"; !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	// AND an update of an existing sandbox does not warn: it is already counted
	_, out, _ = f.shipWith(at(sandboxNow), "sandbox", "up", "--commit", "HEAD~1")
	if strings.Contains(out, "Note:") {
		t.Errorf("update warned:\n%s", out)
	}
}

// listFixture: dev's remote has branches sandbox/alice, bob, dave, eve and frank (frank's
// commit pushed from another clone, so this one lacks it), and the table records alice, bob,
// carol, dave and eve, as the controller would have at sandboxNow (TTL 48h):
//
//	alice  live, created 50h ago, pushed 3h ago          expires in 48h-3h = 1d21h
//	bob    failed, pushed 47h30m ago, branch moved since  expires in 30m
//	carol  destroying, branch deleted                     -
//	dave   expired (idle 48h), branch kept               -
//	eve    refused (cap), branch kept                     -
//	frank  no record: pushed, not yet seen                -
func listFixture(t *testing.T) (*fixture, string) {
	f := sandboxFixture(t)
	other := filepath.Join(t.TempDir(), "other")
	f.git(f.dir, "clone", "-q", f.bare["dev"], other)
	must(t, os.WriteFile(filepath.Join(other, "frank"), []byte("frank"), 0o644))
	f.git(other, "add", "frank")
	f.git(other, "-c", "user.email=frank@example.com", "commit", "-q", "-m", "frank's work")
	frank := f.git(other, "rev-parse", "HEAD")
	f.git(other, "push", "-q", "origin", "HEAD:refs/heads/sandbox/frank")
	f.git(f.dir, "push", "-q", "dev", f.c(5)+":refs/heads/sandbox/alice", f.c(4)+":refs/heads/sandbox/bob",
		f.c(2)+":refs/heads/sandbox/dave", f.c(1)+":refs/heads/sandbox/eve")
	ago := func(d time.Duration) time.Time { return sandboxNow.Add(-d) }
	f.seedSandboxes(
		state.Sandbox{Name: "alice", Branch: "sandbox/alice", Commit: f.c(5), Owner: "arn:aws:sts::222222222222:assumed-role/developer/alice@example.com",
			Created: ago(50 * time.Hour), Pushed: ago(3 * time.Hour), Status: state.StatusLive, Build: "b-1", Action: state.ActionDeploy},
		state.Sandbox{Name: "bob", Branch: "sandbox/bob", Commit: f.c(3), Owner: "arn:aws:iam::222222222222:user/engineers/bob",
			Created: ago(60 * time.Hour), Pushed: ago(47*time.Hour + 30*time.Minute), Status: state.StatusFailed, Action: state.ActionDeploy,
			Reason: "deploy failed in phase BUILD: cdk deploy exited 1"},
		state.Sandbox{Name: "carol", Branch: "sandbox/carol", Commit: f.c(1), Owner: "arn:aws:sts::222222222222:assumed-role/developer/carol",
			Created: ago(5 * time.Hour), Pushed: ago(5 * time.Hour), Status: state.StatusDestroying, Action: state.ActionDestroy},
		state.Sandbox{Name: "dave", Branch: "sandbox/dave", Commit: f.c(2), Owner: "arn:aws:sts::222222222222:assumed-role/developer/dave",
			Created: ago(100 * time.Hour), Pushed: ago(49 * time.Hour), Status: state.StatusExpired, Action: state.ActionExpire,
			Reason: "no push for 48h"},
		state.Sandbox{Name: "eve", Branch: "sandbox/eve", Commit: f.c(1), Owner: "arn:aws:sts::222222222222:assumed-role/developer/eve",
			Created: ago(time.Hour), Pushed: ago(time.Hour), Status: state.StatusRefused, Reason: "2 sandboxes exist already (alice, bob): the cap is 2"},
	)
	return f, frank
}

// listRows are the cells of the table's rows by name: NAME STATUS COMMIT OWNER AGE IDLE
// EXPIRES [REASON].
func listRows(t *testing.T, out string) map[string][]string {
	t.Helper()
	rows := map[string][]string{}
	in := false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "NAME "):
			in = true
		case in && l == "":
			in = false
		case in:
			cells := regexp.MustCompile(`\s{2,}`).Split(l, -1)
			rows[cells[0]] = cells
		}
	}
	return rows
}

func TestSandboxListJoinsTheBranchesAndTheTable(t *testing.T) {
	f, frank := listFixture(t)

	code, out, errOut := f.shipWith(at(sandboxNow), "sandbox", "list")

	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	short := func(i int) string { return gate.Short(f.c(i)) }
	// By hand, from listFixture (now 2026-03-10T12:00Z, TTL 48h).
	want := map[string]string{
		"alice": "alice | live | " + short(5) + " | alice@example.com | 2d2h | 3h | 1d21h",
		"bob": "bob | failed | " + short(4) + " | bob | 2d12h | 1d23h | 30m | deploy failed in phase BUILD: cdk deploy exited 1; " +
			"branch moved to " + short(4) + ", not yet seen by the controller (it has " + short(3) + ")",
		"carol": "carol | destroying | " + short(1) + " | carol | 5h | 5h | - | branch deleted",
		"dave":  "dave | expired | " + short(2) + " | dave | 4d4h | 2d1h | - | no push for 48h",
		"eve":   "eve | refused | " + short(1) + " | eve | 1h | 1h | - | 2 sandboxes exist already (alice, bob): the cap is 2",
		"frank": "frank | unseen | " + gate.Short(frank) + " (not fetched) | - | - | - | - | pushed, not yet seen by the controller",
	}
	rows := listRows(t, out)
	if len(rows) != len(want) {
		t.Errorf("rows %q, want %d", rows, len(want))
	}
	for name, w := range want {
		if got := strings.Join(rows[name], " | "); got != w {
			t.Errorf("row %s\n got %s\nwant %s", name, got, w)
		}
	}
	// alice, bob (live, failed) and carol (destroying) count against the cap of 2
	for _, w := range []string{
		"payments/checkout sandboxes: branches sandbox/* of remote dev, records in table payments-checkout-dev-sandboxes (dev's account 222222222222, eu-west-1)",
		"at most 2 at once (sandboxes.max); 3 in use; destroyed after 48h without a push (sandboxes.ttl)",
		"(not fetched): the commit is not in this clone; git fetch dev gets it.",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	// AND the table was read with dev's credentials, once
	var reads []fakeaws.Call
	for _, c := range f.aws.Recorded() {
		if c.Op == "GetItem" {
			reads = append(reads, c)
		}
	}
	if len(reads) != 2 || reads[1].AccessKey != keyDev { // the first is seedSandboxes' own read
		t.Errorf("GetItem calls %+v", reads)
	}
}

func TestSandboxListJSON(t *testing.T) {
	f, frank := listFixture(t)

	code, out, _ := f.shipWith(at(sandboxNow), "sandbox", "list", "--json")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	doc := decodeStrict[SandboxListJSON](t, out)
	if doc.SchemaVersion != 1 || doc.Path != "payments/checkout" || !doc.Now.Equal(sandboxNow) || doc.Environment != "dev" || doc.Account != "222222222222" ||
		doc.Remote != "dev" || doc.Table != sandboxTable || doc.Max != 2 || doc.TTLSeconds != 48*3600 || !doc.StateRead || doc.StateError != "" ||
		doc.InUse == nil || *doc.InUse != 3 || len(doc.Sandboxes) != 6 {
		t.Fatalf("document %+v", doc)
	}
	byName := map[string]SandboxJSON{}
	var names []string
	for _, sb := range doc.Sandboxes {
		byName[sb.Name] = sb
		names = append(names, sb.Name)
	}
	if got := strings.Join(names, " "); got != "alice bob carol dave eve frank" {
		t.Errorf("order %s, want by name", got)
	}
	alice := byName["alice"]
	if alice.Branch != "sandbox/alice" || alice.BranchCommit != f.c(5) || !alice.Local || alice.Status != "live" || alice.Commit != f.c(5) ||
		alice.Owner != "arn:aws:sts::222222222222:assumed-role/developer/alice@example.com" || alice.OwnerName != "alice@example.com" ||
		!alice.Created.Equal(sandboxNow.Add(-50*time.Hour)) || !alice.Pushed.Equal(sandboxNow.Add(-3*time.Hour)) ||
		!alice.Expires.Equal(sandboxNow.Add(45*time.Hour)) || alice.Note != "" {
		t.Errorf("alice %+v", alice)
	}
	if carol := byName["carol"]; carol.BranchCommit != "" || carol.Commit != f.c(1) || !carol.Local || carol.Expires != nil || carol.Note != "branch deleted" {
		t.Errorf("carol %+v", carol)
	}
	if fr := byName["frank"]; fr.Status != "unseen" || fr.BranchCommit != frank || fr.Local || fr.Commit != "" || fr.Created != nil || fr.Owner != "" {
		t.Errorf("frank %+v", fr)
	}
	if bob := byName["bob"]; bob.Reason != "deploy failed in phase BUILD: cdk deploy exited 1" ||
		bob.Note != "branch moved to "+gate.Short(f.c(4))+", not yet seen by the controller (it has "+gate.Short(f.c(3))+")" {
		t.Errorf("bob's reason %q and note %q", bob.Reason, bob.Note)
	}
	if eve := byName["eve"]; eve.Status != "refused" || eve.Expires != nil || !strings.Contains(eve.Reason, "the cap is 2") || eve.Note != "" {
		t.Errorf("eve %+v", eve)
	}
}

func TestSandboxListWhenTheTableCannotBeRead(t *testing.T) {
	for _, tc := range []struct {
		name  string
		given func(f *fixture)
		flags []string
		why   string
	}{
		{"no table yet", func(f *fixture) {}, nil,
			"table payments-checkout-dev-sandboxes not found in environment dev (account 222222222222, region eu-west-1) (ResourceNotFoundException: Requested resource not found): the sandbox controller is not deployed there yet"},
		{"access denied", func(f *fixture) {
			f.seedSandboxes(state.Sandbox{Name: "alice", Status: state.StatusLive})
			f.aws.Fail("GetItem", fakeaws.Fault{Status: 400, Code: "AccessDeniedException", Message: "not authorized to perform dynamodb:GetItem"}, -1)
		}, nil, "access denied reading table payments-checkout-dev-sandboxes in environment dev (account 222222222222, region eu-west-1) (AccessDeniedException: not authorized to perform dynamodb:GetItem); the identity needs dynamodb:GetItem on it"},
		{"credentials of another account", func(f *fixture) { f.seedSandboxes() }, []string{"--profile", "dev=stg"},
			"the credentials for environment dev (profile \"stg\" (--profile dev=stg)) belong to account 333333333333 (stg's account), not dev's account 222222222222"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := sandboxFixture(t)
			f.git(f.dir, "push", "-q", "dev", f.c(5)+":refs/heads/sandbox/alice", f.c(4)+":refs/heads/sandbox/bob")
			tc.given(f)
			if tc.flags != nil {
				f.flags = tc.flags
			}

			code, out, errOut := f.shipWith(at(sandboxNow), "sandbox", "list")

			// THEN the branches are listed, status unknown, with the reason, and exit 0
			if code != ExitOK || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			rows := listRows(t, out)
			if got := strings.Join(rows["alice"], " | "); got != "alice | unknown | "+gate.Short(f.c(5))+" | - | - | - | -" {
				t.Errorf("alice row %q", got)
			}
			if got := strings.Join(rows["bob"], " | "); got != "bob | unknown | "+gate.Short(f.c(4))+" | - | - | - | -" {
				t.Errorf("bob row %q", got)
			}
			for _, want := range []string{"The statuses are unknown: the sandbox table could not be read", tc.why,
				"The branches above are the remote's; ship sandbox up and down work without the table."} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "in use") {
				t.Errorf("a count in use without the table:\n%s", out)
			}

			_, out, _ = f.shipWith(at(sandboxNow), "sandbox", "list", "--json")
			doc := decodeStrict[SandboxListJSON](t, out)
			if doc.StateRead || !strings.Contains(doc.StateError, tc.why) || doc.InUse != nil || len(doc.Sandboxes) != 2 || doc.Sandboxes[0].Status != "unknown" {
				t.Errorf("--json: %+v", doc)
			}
		})
	}
}

func TestSandboxListWithNothing(t *testing.T) {
	f := sandboxFixture(t)
	f.seedSandboxes()

	code, out, _ := f.shipWith(at(sandboxNow), "sandbox", "list")

	if code != ExitOK || !strings.Contains(out, "no sandboxes; create one with ship sandbox up [name]") || !strings.Contains(out, "0 in use") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestSandboxHelpAndCompletion(t *testing.T) {
	f := sandboxFixture(t)
	for args, wants := range map[string][]string{
		"sandbox --help":      {"ship sandbox [command]", "up          create or update sandbox [name]", "teams[i].services[j].sandboxes", "need a CodeCommit source"},
		"help sandbox up":     {"ship sandbox up [name] [flags]", "--commit revision", "(default \"HEAD\")", "--force-with-lease", "ship sandbox up fix-login --commit 1a2b3c4"},
		"sandbox down -h":     {"ship sandbox down [name] [flags]", "lists the sandbox branches"},
		"help sandbox list":   {"ship sandbox list [flags]", "--json", "dynamodb:GetItem", "exits 0", "schemaVersion 1", "unseen"},
		"sandbox list --help": {"REASON", "(not fetched)"},
		"help sandbox":        {"Commands:", "list        the sandboxes"},
		"sandbox up x --help": {"Examples:"},
	} {
		code, out, errOut := f.ship(strings.Fields(args)...)
		for _, want := range wants {
			if code != ExitOK || errOut != "" || !strings.Contains(out, want) {
				t.Errorf("ship %s: exit %d, stderr %q, stdout lacks %q:\n%s", args, code, errOut, want, out)
			}
		}
	}
	for args, want := range map[string]string{
		"sandbox":            "sandbox needs a subcommand: ship sandbox up [name], ship sandbox down [name] or ship sandbox list",
		"sandbox upp":        `unknown sandbox subcommand "upp" (want up, down or list); did you mean up?`,
		"sandbox up --json":  "--json applies only to status, history, metrics or sandbox list, not to sandbox up",
		"sandbox list extra": `too many arguments for list: ["extra"] (want ship sandbox list)`,
	} {
		code, out, errOut := f.ship(strings.Fields(args)...)
		if code != ExitUsage || out != "" || !strings.Contains(errOut, want) {
			t.Errorf("ship %s: exit %d, stdout %q, stderr lacks %q:\n%s", args, code, out, want, errOut)
		}
	}

	// Completion offers the developer's default name (up only) and the sandbox branches the
	// last fetch saw, from the clone alone: dev's remote is gone by then.
	f.git(f.dir, "push", "-q", "dev", f.c(2)+":refs/heads/sandbox/bob", f.c(3)+":refs/heads/sandbox/Bad_Name")
	f.git(f.dir, "fetch", "-q", "dev")
	must(t, os.Rename(f.bare["dev"], f.bare["dev"]+".gone"))
	complete := func(args ...string) string {
		t.Helper()
		code, out, _ := f.ship(append([]string{"__complete"}, args...)...)
		if code != ExitOK {
			t.Fatalf("__complete %v: exit %d", args, code)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if !strings.HasPrefix(line, ":") {
				got = append(got, line)
			}
		}
		return strings.Join(got, "|")
	}
	if got := complete("sandbox", "up", ""); got != "alice-smith\tyours, from git config user.email|bob\tbranch sandbox/bob of dev, as last fetched" {
		t.Errorf("sandbox up completes to %q", got)
	}
	if got := complete("sandbox", "down", "b"); got != "bob\tbranch sandbox/bob of dev, as last fetched" {
		t.Errorf("sandbox down b completes to %q", got)
	}
	if got := complete("sandbox", "down", "bob", ""); got != "" {
		t.Errorf("a second argument completes to %q", got)
	}
}
