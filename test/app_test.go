package test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/platform"
)

// platformApp builds apps/platform once; the tests run the binary as the CDK CLI does,
// with the context in CDK_CONTEXT_JSON and the output directory in CDK_OUTDIR.
var platformApp = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "pathtoprod-app-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "platform")
	out, err := exec.Command("go", "build", "-o", bin, "../apps/platform").CombinedOutput()
	if err != nil {
		return "", &buildError{string(out)}
	}
	return bin, nil
})

type buildError struct{ out string }

func (e *buildError) Error() string { return "build apps/platform: " + e.out }

type appRun struct {
	code   int
	stderr string
	stacks []string // stack names in the cloud assembly's manifest
	dir    string   // the cloud assembly
}

func runApp(t *testing.T, context map[string]string, env ...string) appRun {
	t.Helper()
	bin, err := platformApp()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ctx, _ := json.Marshal(context)
	code, stderr := runCDKApp(t, bin, out, append([]string{"CDK_CONTEXT_JSON=" + string(ctx), "CDK_DEPLOY_ACCOUNT="}, env...)...)
	r := appRun{code: code, stderr: stderr, dir: out}
	if raw, err := os.ReadFile(filepath.Join(out, "manifest.json")); err == nil {
		var m struct {
			Artifacts map[string]struct {
				Type string `json:"type"`
			} `json:"artifacts"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		// A stack artifact's id is its construct id, which the platform sets to the stack name.
		for id, a := range m.Artifacts {
			if a.Type == "aws:cloudformation:stack" {
				r.stacks = append(r.stacks, id)
			}
		}
		sort.Strings(r.stacks)
	}
	return r
}

// runCDKApp runs a CDK app binary as the CDK CLI does (the cloud assembly goes to out),
// with extra environment variables, bounded in time; it returns the exit status and stderr.
func runCDKApp(t *testing.T, bin, out string, env ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), "CDK_OUTDIR="+out), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("%s did not finish within 3 minutes", filepath.Base(bin))
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stderr.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

// noTrace fails if the output looks like a Go panic or a JavaScript stack trace.
func noTrace(t *testing.T, stderr string) {
	t.Helper()
	for _, s := range []string{"panic:", "goroutine ", "    at ", ".js:", "jsii"} {
		if strings.Contains(stderr, s) {
			t.Errorf("stderr contains a stack trace (%q):\n%s", s, stderr)
		}
	}
}

func TestAppRejectsABrokenOrganizationFile(t *testing.T) {
	r := runApp(t, map[string]string{"config": "testdata/broken-organization.yaml"})
	if r.code != 1 {
		t.Errorf("exit status %d, want 1", r.code)
	}
	for _, want := range []string{
		"platform: testdata/broken-organization.yaml: invalid organization: 9 problem(s)",
		`registry.account: "12345": a 12-digit AWS account id`,
		`teams[0].services[0].environments[2].account: "44444444444x"`,
		`teams[0].services[0].environments[1].upstream: "qa": one of [dev stg], or "none"`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	noTrace(t, r.stderr)
	if len(r.stacks) != 0 {
		t.Errorf("a broken file still synthesized %v", r.stacks)
	}
}

func TestAppRejectsAMissingFileAndAnUnknownAccount(t *testing.T) {
	r := runApp(t, map[string]string{"config": "testdata/nope.yaml"})
	if r.code != 1 || !strings.Contains(r.stderr, "read organization file: open testdata/nope.yaml: no such file") {
		t.Errorf("missing file: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	noTrace(t, r.stderr)

	r = runApp(t, nil, "CDK_DEPLOY_ACCOUNT=999999999999")
	if r.code != 1 || !strings.Contains(r.stderr, `account "999999999999" is not one of the organization's accounts`) {
		t.Errorf("unknown account: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	noTrace(t, r.stderr)
}

// TestAppSynthesizesOnlyTheTargetAccount runs the app as org-formation's update-cdk does
// (CDK_DEPLOY_ACCOUNT) and as a person does (-c account=...), and checks the context wins;
// the second run's organisation file names the cdk-nag packs to run.
// A good run's stderr is the bundling lines of its two Go Lambdas, the guard's and the
// dashboard's runs widget's, and nothing else.
func TestAppSynthesizesOnlyTheTargetAccount(t *testing.T) {
	r := runApp(t, nil, platform.EnvDeployAccount+"=444444444444")
	if r.code != 0 || !reflect.DeepEqual(r.stacks, []string{"payments-checkout-prd-pipeline"}) {
		t.Errorf("%s: exit %d, stacks %v\n%s", platform.EnvDeployAccount, r.code, r.stacks, r.stderr)
	}
	if cleanStderr(t, r.stderr, "Bundling asset payments-checkout-prd-pipeline/Pipeline/Guard/Resource/Code/Stage...", 2) &&
		!strings.HasSuffix(r.stderr, "\nBundling asset payments-checkout-prd-pipeline/Pipeline/Dashboard/Function/Code/Stage...\n") {
		t.Errorf("stderr's second line is not the runs widget's bundling:\n%s", r.stderr)
	}
	// The second run also reads an organisation file, whose settings.compliancePacks the app
	// runs instead of the default packs.
	def, err := os.ReadFile("../constructs/org/default-organization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "organization.yaml")
	if err := os.WriteFile(cfg, append([]byte("settings:\n  compliancePacks: [AwsSolutions, PCI.DSS.321]\n"), def...), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runApp(t, map[string]string{platform.ContextAccount: "666666666666", platform.ContextConfig: cfg}, platform.EnvDeployAccount+"=444444444444")
	if r.code != 0 || !reflect.DeepEqual(r.stacks, []string{"search-indexer-stg-pipeline"}) {
		t.Errorf("-c %s: exit %d, stacks %v\n%s", platform.ContextAccount, r.code, r.stacks, r.stderr)
	}
	for pack, rows := range checkNagReports(t, r.dir, "search-indexer-stg-pipeline", org.PackAwsSolutions, org.PackPCIDSS321) {
		if len(rows) == 0 {
			t.Errorf("settings.compliancePacks names %s: its report has no rows", pack)
		}
	}
	if _, err := os.Stat(filepath.Join(r.dir, org.PackNIST80053R5+"-search-indexer-stg-pipeline-NagReport.csv")); err == nil {
		t.Errorf("settings.compliancePacks leaves out %s, but it ran", org.PackNIST80053R5)
	}
	if cleanStderr(t, r.stderr, "Bundling asset search-indexer-stg-pipeline/Pipeline/Guard/Resource/Code/Stage...", 2) &&
		!strings.HasSuffix(r.stderr, "\nBundling asset search-indexer-stg-pipeline/Pipeline/Dashboard/Function/Code/Stage...\n") {
		t.Errorf("stderr's second line is not the runs widget's bundling:\n%s", r.stderr)
	}
}

// TestAppErrorOutputIsCleanOnEveryRun runs the app many times with a broken file (cheap: it
// fails before synthesis, still after the jsii runtime started). jsii-runtime-go's stray
// "Runtime process exited abnormally: waitid: no child processes", with no newline, came in
// about 2 runs of 5 before platform.CloseJSII, glued to the error's first line; 20 clean runs
// in a row by chance would be 0.6^20, under 1 in 10,000.
func TestAppErrorOutputIsCleanOnEveryRun(t *testing.T) {
	const runs = 20
	for i := 0; i < runs; i++ {
		r := runApp(t, map[string]string{platform.ContextConfig: "testdata/broken-organization.yaml"})
		if r.code != 1 {
			t.Fatalf("run %d: exit status %d, want 1\n%s", i+1, r.code, r.stderr)
		}
		if !cleanStderr(t, r.stderr, "platform: testdata/broken-organization.yaml: invalid organization: 9 problem(s)", 10) {
			t.Fatalf("run %d of %d", i+1, runs)
		}
	}
}

// cleanStderr checks that stderr has lines lines, the first exactly first, and nothing of
// jsii's stray line anywhere; it reports whether all held.
func cleanStderr(t *testing.T, stderr, first string, lines int) bool {
	t.Helper()
	ok := true
	got := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if got[0] != first {
		t.Errorf("stderr's first line\n %q\nwant\n %q", got[0], first)
		ok = false
	}
	if len(got) != lines {
		t.Errorf("stderr has %d lines, want %d:\n%s", len(got), lines, stderr)
		ok = false
	}
	if strings.Contains(stderr, "Runtime process exited abnormally") || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("stderr has jsii's stray line, or does not end with a newline:\n%q", stderr)
		ok = false
	}
	return ok
}

// TestAppRefusesNamesThatCollideOrThatAWSRejects: a file whose paths derive the same names,
// whose two environments share an account and region, or whose team name ECR refuses, is
// refused when it is loaded, naming both places, in a whole-organisation synthesis and in
// a per-account synthesis of an account that is not involved (the file is wrong as a whole).
func TestAppRefusesNamesThatCollideOrThatAWSRejects(t *testing.T) {
	want := []string{
		`teams[1].services[0]: "ab-cd-ef"`, `teams[0].services[0] (team "ab-cd", service "ef") derives it too`,
		`teams[1].services[1].environments[2]: "555555555555 eu-west-1"`, `environments[1] (stg) is there too`,
		`teams[2].name: "pay--ments"`,
	}
	for name, context := range map[string]map[string]string{
		"whole organisation": {"config": "testdata/colliding-organization.yaml"},
		"one account":        {"config": "testdata/colliding-organization.yaml", "account": "111111111111"},
	} {
		t.Run(name, func(t *testing.T) {
			r := runApp(t, context)
			if r.code != 1 || len(r.stacks) != 0 {
				t.Fatalf("exit %d, stacks %v; want exit 1 and no assembly\n%s", r.code, r.stacks, r.stderr)
			}
			for _, w := range want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			noTrace(t, r.stderr)
		})
	}
}
