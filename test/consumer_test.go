package test

// A service team's first import: a module of its own that requires this library (here with
// a `replace` to this checkout, as a version from the module cache would be), tidied with
// `go mod tidy`, built, and run as the CDK CLI runs it. Its go.sum lists only what its own
// imports need, not the Go Lambdas' dependencies (the AWS SDK): the guard and the dashboard's
// runs widget must still build, in the library's own module. It is the costliest test here (a new main package
// that links awscdk); the build cache it shares with the other tests keeps it to seconds.
//
//	PATH=$PWD/node_modules/.bin:$PATH go test ./test/ -run Consumer -v

import (
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// consumerMain is a service team's whole pipeline app: the main.go that the README's section
// "Import the library in your own module" shows, read from the README so the two never drift.
func consumerMain(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "### Import the library in your own module")
	if !ok {
		t.Fatal(`README has no section "### Import the library in your own module"`)
	}
	_, code, ok := strings.Cut(section, "```go\n")
	if !ok {
		t.Fatal("the README's import section has no ```go block")
	}
	code, _, _ = strings.Cut(code, "```")
	if !strings.Contains(code, "package main") {
		t.Fatalf("the README's import section's first Go block is not a main.go:\n%s", code)
	}
	return code
}

func TestConsumerModuleSynthesizesWithOnlyItsImport(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module example.com/payments-pipelines\n\ngo 1.26\n\n" +
		"require github.com/platform-eng/pathtoprod v0.0.0\n\n" +
		"replace github.com/platform-eng/pathtoprod => " + root + "\n"
	for name, body := range map[string]string{"go.mod": gomod, "main.go": consumerMain(t)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// As a team would: tidy (GOPROXY as the environment has it), then build. GOWORK=off: a
	// go.work above the temporary directory must not change what is resolved.
	goCmd := func(env string, args ...string) {
		t.Helper()
		start := time.Now()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS="+env)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Logf("go %s: %.1f s", args[0], time.Since(start).Seconds())
	}
	goCmd("-mod=mod", "mod", "tidy")
	goCmd("-mod=readonly", "build", "-o", "pipelines", ".")

	// The premise: the guard's dependencies are not in the team's go.sum, so building it in
	// the team's module would fail ("missing go.sum entry").
	sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sum), "github.com/aws/aws-sdk-go-v2/config v") {
		t.Fatal("the tidied go.sum lists aws-sdk-go-v2/config: this test no longer shows that the guard builds " +
			"without the team's go.sum holding its dependencies; give it a case that does")
	}

	// Run as `cdk synth` does, from the module's directory, with the pinned Node 22 first on
	// PATH for jsii. GOFLAGS=-mod=vendor stands for a user's setting that must not reach the
	// guard's build (there is no vendor directory: it would fail if it did).
	out := filepath.Join(dir, "cdk.out")
	start := time.Now()
	cmd := exec.Command(filepath.Join(dir, "pipelines"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CDK_OUTDIR="+out, "GOFLAGS=-mod=vendor",
		"PATH="+filepath.Join(root, "node_modules", ".bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	stderr, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the team's app failed (%v):\n%s", err, stderr)
	}
	t.Logf("app run: %.1f s", time.Since(start).Seconds())
	noTrace(t, string(stderr))

	var m struct {
		Artifacts map[string]struct {
			Type string `json:"type"`
		} `json:"artifacts"`
	}
	readJSON(t, filepath.Join(out, "manifest.json"), &m)
	var stacks []string
	for id, a := range m.Artifacts {
		if a.Type == "aws:cloudformation:stack" {
			stacks = append(stacks, id)
		}
	}
	sort.Strings(stacks)
	want := []string{"payments-checkout-dev-pipeline", "payments-checkout-prd-pipeline", "payments-checkout-stg-pipeline"}
	if !reflect.DeepEqual(stacks, want) {
		t.Fatalf("stacks %v, want %v", stacks, want)
	}
	// The findings, read where cdk-nag writes them for each pack: its report in the assembly
	// (the manifest keeps annotations in per-stack metadata files).
	for _, s := range stacks {
		for pack, rows := range checkNagReports(t, out, s) {
			if len(rows) == 0 {
				t.Errorf("%s: the %s report has no rows: cdk-nag did not run", s, pack)
			}
		}
	}

	// The stg stack's two zip assets are the guard and the dashboard's runs widget: each a
	// linux/arm64 bootstrap executable, built in the library's module.
	var assets struct {
		Files map[string]struct {
			Source struct{ Path, Packaging string } `json:"source"`
		} `json:"files"`
	}
	readJSON(t, filepath.Join(out, "payments-checkout-stg-pipeline.assets.json"), &assets)
	var zips []string
	for _, f := range assets.Files {
		if f.Source.Packaging == "zip" {
			zips = append(zips, f.Source.Path)
		}
	}
	if len(zips) != 2 {
		t.Fatalf("%d zip assets in the stg stack %v, want 2 (the guard, the runs widget)", len(zips), zips)
	}
	for _, z := range zips {
		bin, err := elf.Open(filepath.Join(out, z, "bootstrap"))
		if err != nil {
			t.Fatalf("asset %s: %v", z, err)
		}
		if bin.Machine != elf.EM_AARCH64 || bin.Type != elf.ET_EXEC {
			t.Errorf("%s bootstrap is %v %v, want an arm64 executable", z, bin.Machine, bin.Type)
		}
		bin.Close()
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
