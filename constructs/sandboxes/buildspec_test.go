package sandboxes

// The sandbox build's own bash, run for real: the name check with the values a hostile or
// broken controller could pass, and the destroy against stand-ins for the aws and npx
// commands that record what they were asked (bash, node, zip and unzip are real).
//
//	PATH=$PWD/node_modules/.bin:$PATH go test ./constructs/sandboxes/ -run 'Name|Destroy|Buildspec' -v

import (
	"encoding/json"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

// runBash runs script with bash and exactly the environment env (plus PATH and HOME), from dir.
func runBash(t *testing.T, dir, script string, env map[string]string) (int, string) {
	t.Helper()
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

func deployEnv(name string) map[string]string {
	return map[string]string{"SANDBOX": name, "SANDBOX_ACTION": "deploy", "SANDBOX_STACK_SUFFIX": "-sandbox-" + name, "COMMIT_ID": commit}
}

func TestNameCheckRefusesHostileNames(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	for _, name := range []string{
		"", "Alice", "a/b", "$(id)", "a;rm -rf /", strings.Repeat("a", 200), "a b", "a\nb", "-a", "a-", "a--b", "1a",
		"élan", "a_b", "`touch " + marker + "`", "$(touch " + marker + ")", "ALICE", "a.b", "../x",
		strings.Repeat("a", org.MaxSandboxName+1),
	} {
		t.Run(name, func(t *testing.T) {
			code, out := runBash(t, dir, NameCheckCommand, deployEnv(name))
			if code != 1 {
				t.Errorf("SANDBOX=%q: exit %d, want 1:\n%s", name, code, out)
			}
			if !strings.Contains(out, "sandbox: SANDBOX: ") || !strings.Contains(out, "allowed: "+org.AllowedSandboxName) ||
				!strings.Contains(out, "nothing was built, deployed or destroyed") {
				t.Errorf("SANDBOX=%q: the message does not name the variable, the value and what is allowed:\n%s", name, out)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatalf("SANDBOX=%q ran a command", name)
			}
		})
	}
}

func TestNameCheckAcceptsSandboxNames(t *testing.T) {
	for _, name := range []string{"a", "alice", "fix-login", "a1-b2-c3", "x9", strings.Repeat("a", org.MaxSandboxName)} {
		for _, action := range []string{"deploy", "destroy"} {
			env := deployEnv(name)
			env["SANDBOX_ACTION"] = action
			env["CODEBUILD_RESOLVED_SOURCE_VERSION"] = commit
			if code, out := runBash(t, t.TempDir(), NameCheckCommand, env); code != 0 || out != "sandbox "+name+": "+action+"\n" {
				t.Errorf("SANDBOX=%q %s: exit %d, want 0:\n%s", name, action, code, out)
			}
		}
	}
}

// The bash check and org.SandboxNameProblem must agree on every name: random names over the
// characters that matter, and their near misses.
func TestNameCheckAgreesWithTheOrgRule(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	alphabet := []rune("ab9-Z_/ .é")
	var names []string
	for range 300 {
		n := r.Intn(24)
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[r.Intn(len(alphabet))])
		}
		names = append(names, b.String())
	}
	good := 0
	for _, n := range names {
		orgOK := org.SandboxNameProblem(n) == ""
		code, out := runBash(t, t.TempDir(), NameCheckCommand, deployEnv(n))
		switch bashOK := code == 0; {
		case orgOK && !bashOK:
			t.Errorf("%q: org accepts it, bash refuses it:\n%s", n, out)
		case !orgOK && bashOK:
			t.Errorf("%q: org refuses it (%s), bash accepts it", n, org.SandboxNameProblem(n))
		}
		if orgOK {
			good++
		}
	}
	if good == 0 {
		t.Error("no random name was a good one: the comparison compared refusals only")
	}
}

// shellQuote quotes s for bash.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func TestNameCheckRefusesWhatTheControllerMustNotSet(t *testing.T) {
	for name, c := range map[string]struct {
		change map[string]string
		want   string
	}{
		"no action":        {map[string]string{"SANDBOX_ACTION": ""}, `sandbox: SANDBOX_ACTION: '': deploy or destroy`},
		"another action":   {map[string]string{"SANDBOX_ACTION": "rm"}, `sandbox: SANDBOX_ACTION: rm: deploy or destroy`},
		"another suffix":   {map[string]string{"SANDBOX_STACK_SUFFIX": "-sandbox-bob"}, `sandbox: SANDBOX_STACK_SUFFIX: -sandbox-bob: -sandbox-alice, the suffix of sandbox alice`},
		"no suffix":        {map[string]string{"SANDBOX_STACK_SUFFIX": ""}, `sandbox: SANDBOX_STACK_SUFFIX: '': -sandbox-alice`},
		"a short commit":   {map[string]string{"COMMIT_ID": "0123abc"}, `sandbox: COMMIT_ID: 0123abc: a full commit id: 40 lowercase hexadecimal digits`},
		"a branch":         {map[string]string{"COMMIT_ID": "sandbox/alice"}, `sandbox: COMMIT_ID: sandbox/alice: a full commit id`},
		"another checkout": {map[string]string{"CODEBUILD_RESOLVED_SOURCE_VERSION": strings.Repeat("f", 40)}, `the commit this build checked out, ffff`},
	} {
		t.Run(name, func(t *testing.T) {
			env := deployEnv("alice")
			for k, v := range c.change {
				env[k] = v
			}
			if code, out := runBash(t, t.TempDir(), NameCheckCommand, env); code != 1 || !strings.Contains(out, c.want) {
				t.Errorf("exit %d, want 1 and %q:\n%s", code, c.want, out)
			}
		})
	}
	// A destroy has no source: its commit is not checked.
	env := deployEnv("alice")
	env["SANDBOX_ACTION"], env["COMMIT_ID"] = "destroy", ""
	if code, out := runBash(t, t.TempDir(), NameCheckCommand, env); code != 0 {
		t.Errorf("destroy without a commit: exit %d, want 0:\n%s", code, out)
	}
}

// phase is a build phase of commands as CodeBuild runs them: in one shell, stopping at the
// first that fails, with the stand-ins first on PATH.
func phase(bin string, cmds []string) string {
	var b strings.Builder
	b.WriteString("export PATH=" + shellQuote(bin) + ":$PATH\n")
	for _, c := range cmds {
		b.WriteString(c + "\n" + `status=$?; [ "$status" -eq 0 ] || exit "$status"` + "\n")
	}
	return b.String()
}

// fakeTools puts stand-ins for aws, npm and npx first on PATH: each appends its arguments to
// calls.log, and behaves as the scenario's variables say.
func fakeTools(t *testing.T) (bin, log string) {
	t.Helper()
	bin = t.TempDir()
	log = filepath.Join(bin, "calls.log")
	aws := `#!/bin/bash
echo "aws $*" >> "` + log + `"
case "$1 $2" in
  "s3api list-objects-v2")
    case "${FAKE_LIST-}" in
      denied) echo "An error occurred (AccessDenied) when calling the ListObjectsV2 operation: Access Denied" >&2; exit 254 ;;
      none) echo None ;;
      *) printf '%s\t%s\n' "$FAKE_LIST" "sandboxes/$SANDBOX/assembly.zip.old" ;;
    esac ;;
  "s3 cp")
    case "$3" in
      s3://*) cp "$FAKE_ASSEMBLY" "$4" ;;      # a download
      *) cp "$3" "$FAKE_UPLOADED" ;;           # an upload
    esac ;;
  "s3 rm") ;;
  *) echo "unexpected aws call: $*" >&2; exit 2 ;;
esac
`
	npx := `#!/bin/bash
echo "npx $* (in $PWD)" >> "` + log + `"
[ "${FAKE_CDK_FAILS-}" = "" ] || { echo "cdk: $FAKE_CDK_FAILS" >&2; exit 1; }
`
	npm := `#!/bin/bash
echo "npm $*" >> "` + log + `"
`
	for name, body := range map[string]string{"aws": aws, "npx": npx, "npm": npm} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin, log
}

func calls(t *testing.T, log string) []string {
	t.Helper()
	b, err := os.ReadFile(log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// zipAssembly zips a crafted assembly as the deploy keeps it.
func zipAssembly(t *testing.T, a assembly) string {
	t.Helper()
	dir := a.write(t, filepath.Join(t.TempDir(), "cdk.out"))
	zip := filepath.Join(t.TempDir(), "assembly.zip")
	if out, err := exec.Command("bash", "-c", `cd "$1" && zip -qr "$2" .`, "zip", dir, zip).CombinedOutput(); err != nil {
		t.Fatalf("zip: %v\n%s", err, out)
	}
	return zip
}

// destroy runs the buildspec's commands as a destroy build runs them, with the stand-ins.
func destroy(t *testing.T, scenario map[string]string) (int, string, []string) {
	t.Helper()
	bin, log := fakeTools(t)
	env := map[string]string{"SANDBOX": "alice", "SANDBOX_ACTION": "destroy", "SANDBOX_STACK_SUFFIX": suffix, "BUCKET": "artifacts-bucket", "TMPDIR": t.TempDir()}
	for k, v := range scenario {
		env[k] = v
	}
	script := phase(bin, buildCommands(Commands{SecretsScan: []string{"echo SCANNED"}, Build: []string{"echo BUILT"}, Image: []string{"echo IMAGE"}}, true))
	code, out := runBash(t, t.TempDir(), script, env)
	return code, out, calls(t, log)
}

func TestDestroyDestroysTheLastDeployedAssembly(t *testing.T) {
	code, out, got := destroy(t, map[string]string{"FAKE_LIST": AssemblyKey("alice"), "FAKE_ASSEMBLY": zipAssembly(t, good())})
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`^aws s3api list-objects-v2 --bucket artifacts-bucket --prefix sandboxes/alice/assembly.zip --query Contents\[\].Key --output text$`),
		regexp.MustCompile(`^aws s3 cp s3://artifacts-bucket/sandboxes/alice/assembly.zip \S+/assembly.zip --only-show-errors$`),
		regexp.MustCompile(`^npx --yes aws-cdk@` + regexp.QuoteMeta(CdkCliVersion) + ` destroy --app cdk.out --all --force \(in \S+\)$`),
		regexp.MustCompile(`^aws s3 rm s3://artifacts-bucket/sandboxes/alice/assembly.zip --only-show-errors$`),
	}
	if len(got) != len(want) {
		t.Fatalf("calls\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i, w := range want {
		if !w.MatchString(got[i]) {
			t.Errorf("call %d: %q, want %s", i, got[i], w)
		}
	}
	// The CLI ran where the assembly was unpacked, and the deploy's commands did not run.
	if strings.Contains(out, "SCANNED") || strings.Contains(out, "BUILT") {
		t.Errorf("a destroy ran the deploy's commands:\n%s", out)
	}
	if !strings.Contains(out, `all 2 stack name(s)`) || !strings.Contains(out, "sandbox alice destroyed") {
		t.Errorf("the destroy did not check the names, or did not say it destroyed:\n%s", out)
	}
}

func TestDestroyWithoutAnAssemblySucceeds(t *testing.T) {
	code, out, got := destroy(t, map[string]string{"FAKE_LIST": "none"})
	if code != 0 || !strings.Contains(out, "no assembly at s3://artifacts-bucket/sandboxes/alice/assembly.zip: nothing of it was deployed") {
		t.Errorf("exit %d, want 0 and why:\n%s", code, out)
	}
	if len(got) != 1 {
		t.Errorf("calls %q: want only the listing", got)
	}
	// A key that merely starts with the assembly's is not it.
	code, out, got = destroy(t, map[string]string{"FAKE_LIST": "sandboxes/alice/assembly.zip.bak"})
	if code != 0 || len(got) != 1 {
		t.Errorf("another key: exit %d, calls %q; want 0 and the listing only:\n%s", code, got, out)
	}
}

func TestDestroyFailsAndKeepsTheAssemblyOnAnyFailure(t *testing.T) {
	foreign := good()
	foreign.stacks["checkout-app"] = stack{name: "checkout-app"} // the environment's own stack
	for name, c := range map[string]struct {
		scenario map[string]string
		want     string
	}{
		"the listing is refused": {map[string]string{"FAKE_LIST": "denied"}, "AccessDenied"},
		"cdk destroy fails":      {map[string]string{"FAKE_LIST": AssemblyKey("alice"), "FAKE_ASSEMBLY": zipAssembly(t, good()), "FAKE_CDK_FAILS": "stack is in DELETE_FAILED"}, "stack is in DELETE_FAILED"},
		"a foreign stack":        {map[string]string{"FAKE_LIST": AssemblyKey("alice"), "FAKE_ASSEMBLY": zipAssembly(t, foreign)}, `stack name "checkout-app" does not end with "-sandbox-alice"`},
		"a garbled assembly":     {map[string]string{"FAKE_LIST": AssemblyKey("alice"), "FAKE_ASSEMBLY": "/etc/hostname"}, "assembly.zip"},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, got := destroy(t, c.scenario)
			if code == 0 || !strings.Contains(out, c.want) {
				t.Errorf("exit %d, want non-zero and %q:\n%s", code, c.want, out)
			}
			for _, call := range got {
				if strings.HasPrefix(call, "aws s3 rm") {
					t.Errorf("the assembly was deleted although the destroy failed: %q", got)
				}
				if name == "a foreign stack" && strings.HasPrefix(call, "npx") {
					t.Errorf("cdk destroy ran on an assembly with a foreign stack: %q", got)
				}
			}
		})
	}
}

// The deploy's commands, run as a deploy build runs them with stand-ins: the order of what
// runs, and that the assembly is kept (zipped without its assets) before the deploy.
func TestDeployRunsInOrderAndKeepsTheAssemblyFirst(t *testing.T) {
	bin, log := fakeTools(t)
	src := t.TempDir()
	good().write(t, filepath.Join(src, "cdk.out"))
	// cdk synth is a stand-in here (npx), so the assembly is already in cdk.out: the synth
	// command's rm -rf is replaced by nothing, and an asset directory is added to it.
	os.MkdirAll(filepath.Join(src, "cdk.out", "asset.0123abcd"), 0o755)
	os.WriteFile(filepath.Join(src, "cdk.out", "asset.0123abcd", "bootstrap"), []byte("binary"), 0o644)
	uploaded := filepath.Join(t.TempDir(), "uploaded.zip")
	cmds := buildCommands(Commands{SecretsScan: []string{"echo SCANNED"}, Build: []string{"echo BUILT"}}, false)
	for i, c := range cmds {
		cmds[i] = strings.ReplaceAll(c, "rm -rf cdk.out && ", "")
	}
	env := deployEnv("alice")
	env["BUCKET"], env["PATH_ID"], env["FAKE_UPLOADED"], env["TMPDIR"] = "artifacts-bucket", "payments-checkout", uploaded, t.TempDir()
	code, out := runBash(t, src, phase(bin, cmds), env)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if i, j := strings.Index(out, "SCANNED"), strings.Index(out, "BUILT"); i < 0 || j < i {
		t.Errorf("the scan did not run before the build:\n%s", out)
	}
	got := calls(t, log)
	want := []string{
		"npm ci",
		"npx cdk synth --quiet --context sandbox=alice -o cdk.out (in " + src + ")",
		"aws s3 cp ",
		"npx cdk deploy --app cdk.out --all --require-approval never --ci --tags pathtoprod:sandbox=alice --tags pathtoprod:path=payments-checkout (in " + src + ")",
	}
	if len(got) != 4 || got[0] != want[0] || got[1] != want[1] || !strings.HasPrefix(got[2], want[2]) ||
		!strings.HasSuffix(got[2], " s3://artifacts-bucket/sandboxes/alice/assembly.zip --only-show-errors") || got[3] != want[3] {
		t.Errorf("calls\n%s\nwant npm ci, the synth, the upload, then the deploy:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// What was kept is the assembly without its assets: what the destroy needs, and small.
	list, err := exec.Command("unzip", "-Z1", uploaded).Output()
	if err != nil {
		t.Fatalf("the upload is not a zip: %v", err)
	}
	files := strings.Fields(string(list))
	for _, want := range []string{"manifest.json", "checkout-app.template.json", "checkout-infra.template.json"} {
		if !contains(files, want) {
			t.Errorf("the kept assembly lacks %s: %q", want, files)
		}
	}
	for _, f := range files {
		if strings.HasPrefix(f, "asset.") {
			t.Errorf("the kept assembly holds the asset %s", f)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A retained resource stops the deploy before anything is kept or deployed.
func TestDeployStopsAtTheAssemblyCheck(t *testing.T) {
	bin, log := fakeTools(t)
	src := t.TempDir()
	a := good()
	a.stacks["checkout-infra"].resources["Orders"] = res("AWS::DynamoDB::Table", "DeletionPolicy", "Retain")
	a.write(t, filepath.Join(src, "cdk.out"))
	cmds := buildCommands(Commands{SecretsScan: []string{"true"}}, false)
	for i, c := range cmds {
		cmds[i] = strings.ReplaceAll(c, "rm -rf cdk.out && ", "")
	}
	env := deployEnv("alice")
	env["BUCKET"], env["TMPDIR"] = "artifacts-bucket", t.TempDir()
	code, out := runBash(t, src, phase(bin, cmds), env)
	if code != 1 || !strings.Contains(out, "resource Orders (AWS::DynamoDB::Table): DeletionPolicy Retain") {
		t.Errorf("exit %d, want 1 naming the table:\n%s", code, out)
	}
	for _, c := range calls(t, log) {
		if strings.HasPrefix(c, "aws s3 cp") || strings.HasPrefix(c, "npx cdk deploy") {
			t.Errorf("%q ran after the check failed", c)
		}
	}
}

// The CLI a destroy runs is the one this repository pins for its own synthesis.
func TestCdkCliVersionIsThePinnedOne(t *testing.T) {
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	if got := pkg.DevDependencies["aws-cdk"]; got != CdkCliVersion {
		t.Errorf("package.json pins aws-cdk %q, CdkCliVersion is %q: make them equal", got, CdkCliVersion)
	}
}

func TestBuildspecHasTheImageStepsOnlyWithAnImage(t *testing.T) {
	with := strings.Join(buildCommands(Commands{SecretsScan: []string{"scan"}, Image: []string{`docker build -t "$IMAGE_TAGGED" .`}}, true), "\n")
	without := strings.Join(buildCommands(Commands{SecretsScan: []string{"scan"}}, false), "\n")
	for _, s := range []string{`docker build -t "$IMAGE_TAGGED" . && docker push "$IMAGE_TAGGED"`, `export IMAGE_URI="$SANDBOX_IMAGE_REPOSITORY@$IMAGE_DIGEST"`} {
		if !strings.Contains(with, s) {
			t.Errorf("with an image, the buildspec lacks %s", s)
		}
		if strings.Contains(without, s) {
			t.Errorf("without an image, the buildspec has %s", s)
		}
	}
}
