// Package test holds the whole-organisation tests: what the platform team's `cdk synth`
// produces for the default organisation (no cdk-nag errors, no cfn-lint errors, golden
// templates), per-account synthesis, and the platform app's handling of bad input.
//
//	go test ./test/                 # compare with the golden templates
//	make golden                     # rewrite them after an intended change, then review git diff
//
// The golden templates under testdata/golden are one per distinct stack shape (see
// goldenStacks), with only asset hashes masked, so that an intended change to what is
// synthesized shows as a reviewable diff. -update refuses to run when CI is set: CI compares,
// it never rewrites.
package test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/jsiiexit"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/platform"
)

var update = flag.Bool("update", false, "rewrite the golden templates under testdata/golden (refused when CI is set)")

func TestMain(m *testing.M) {
	flag.Parse()
	if *update && os.Getenv("CI") != "" {
		os.Stderr.WriteString("test: -update rewrites the golden templates and is refused in CI (CI is set): " +
			"run `make golden` on your machine, review git diff, and commit the result\n")
		os.Exit(2)
	}
	code := m.Run()
	jsiiexit.Close() // jsii.Close, minus its stray "waitid" line after the test output
	for _, dir := range scratch.dirs {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// scratch holds the temporary directories that outlive one test (shared syntheses, built
// binaries); TestMain removes them.
var scratch struct {
	sync.Mutex
	dirs []string
}

func scratchDir(prefix string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err == nil {
		scratch.Lock()
		scratch.dirs = append(scratch.dirs, dir)
		scratch.Unlock()
	}
	return dir, err
}

// synthesized is the default organisation, synthesized once for the tests that read it.
var synthesized = sync.OnceValues(func() (*synthesis, error) {
	dir, err := scratchDir("pathtoprod-synth-")
	if err != nil {
		return nil, err
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir)})
	// Every pack cdk-nag has, not only the default ones: a platform team may name any of them
	// in settings.compliancePacks, and a service team may add one to its own app.
	platform.AddChecks(app, org.CompliancePackNames...)
	stacks, err := platform.Build(app, org.Default(), platform.Options{})
	if err != nil {
		return nil, err
	}
	app.Synth(nil)
	return &synthesis{dir: dir, stacks: stacks}, nil
})

type synthesis struct {
	dir    string
	stacks []awscdk.Stack
}

func defaultSynthesis(t *testing.T) *synthesis {
	t.Helper()
	s, err := synthesized()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDefaultOrganizationHasNoNagErrors(t *testing.T) {
	s := defaultSynthesis(t)
	if len(s.stacks) != 7 {
		t.Fatalf("%d stacks, want 7 (the registry and 2 paths of 3 environments)", len(s.stacks))
	}
	for _, stack := range s.stacks {
		errs := assertions.Annotations_FromStack(stack).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(".*")))
		for _, e := range *errs {
			t.Errorf("%s: %s %v", *stack.StackName(), *e.Id, e.Entry.Data)
		}
	}
	// Every pack really ran on every stack, and its report in the assembly says so: no row
	// is Non-Compliant, and each pack evaluated rules (the registry's repositories alone meet
	// no NIST rule, so rows are counted over the organisation).
	evaluated := map[string]int{}
	for _, stack := range s.stacks {
		for pack, rows := range checkNagReports(t, s.dir, *stack.StackName(), org.CompliancePackNames...) {
			evaluated[pack] += len(rows)
		}
	}
	for _, pack := range org.CompliancePackNames {
		if evaluated[pack] < 100 {
			t.Errorf("the %s pack evaluated %d rules over the organisation: it did not run", pack, evaluated[pack])
		}
	}
}

// checkNagReports reads the reports of packs (none given: the default packs) of one stack
// in the assembly dir, fails the test for each Non-Compliant row and each suppression
// without a reason, and returns the rows by pack (for counting what ran, and what was
// suppressed).
func checkNagReports(t *testing.T, dir, stack string, packs ...string) map[string][]nagRow {
	t.Helper()
	if len(packs) == 0 {
		packs = org.DefaultCompliancePacks
	}
	byPack := map[string][]nagRow{}
	for _, pack := range packs {
		rows := nagReport(t, filepath.Join(dir, pack+"-"+stack+"-NagReport.csv"))
		byPack[pack] = rows
		for _, r := range rows {
			switch {
			case r.compliance == "Non-Compliant":
				t.Errorf("%s: %s %s is Non-Compliant", stack, r.rule, r.resource)
			case r.compliance == "Suppressed" && len(strings.TrimSpace(r.reason)) < 20:
				t.Errorf("%s: %s on %s is suppressed without a reason: %q", stack, r.rule, r.resource, r.reason)
			}
		}
	}
	return byPack
}

// nagRow is one line of a cdk-nag report.
type nagRow struct{ rule, resource, compliance, reason string }

// nagReport reads a cdk-nag CSV report: Rule ID, Resource ID, Compliance, Exception Reason, ...
func nagReport(t *testing.T, file string) []nagRow {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Errorf("cdk-nag did not write its report: %v", err)
		return nil
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil || len(records) == 0 || records[0][0] != "Rule ID" {
		t.Fatalf("%s: not a cdk-nag report (%v)", file, err)
	}
	var rows []nagRow
	for _, r := range records[1:] {
		rows = append(rows, nagRow{rule: r[0], resource: r[1], compliance: r[2], reason: r[3]})
	}
	return rows
}

// TestDefaultOrganizationPassesCfnLint lints the templates this test run synthesized (not
// the golden copies, which hold masked hashes and only some stacks).
func TestDefaultOrganizationPassesCfnLint(t *testing.T) {
	s := defaultSynthesis(t)
	templates, _ := filepath.Glob(filepath.Join(s.dir, "*.template.json"))
	if len(templates) != len(s.stacks) {
		t.Fatalf("%d templates for %d stacks", len(templates), len(s.stacks))
	}
	cfnLint(t, templates)
}

// cfnLintVersion is the cfn-lint CI runs; another version may know other rules.
const cfnLintVersion = "1.51.0"

// cfnLint runs cfn-lint with the repository's settings (cfnlintrc.yaml, shared with
// `make lint`) and fails on any finding it reports: an error, or a warning that was not
// accepted there.
func cfnLint(t *testing.T, files []string) {
	t.Helper()
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Fatalf("cfn-lint is not on PATH: install the version CI uses with `pipx install cfn-lint==%s` "+
			"(or `pip install --user cfn-lint==%s`), then run the tests again", cfnLintVersion, cfnLintVersion)
	}
	cmd := exec.Command(bin, append([]string{"--config-file", "cfnlintrc.yaml", "--format", "parseable"}, files...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		// cfn-lint's exit status is a bit mask: 2 errors, 4 warnings, 8 informational.
		t.Errorf("cfn-lint (want %s) found problems in %d templates (%v):\n%s", cfnLintVersion, len(files), err, out)
	}
}

func TestStacksLiveInTheirEnvironmentsAccounts(t *testing.T) {
	s := defaultSynthesis(t)
	var got []string
	for _, st := range s.stacks {
		got = append(got, *st.StackName()+"@"+*st.Account()+"/"+*st.Region())
	}
	want := []string{
		"pathtoprod-registry@111111111111/eu-west-1",
		"payments-checkout-dev-pipeline@222222222222/eu-west-1",
		"payments-checkout-stg-pipeline@333333333333/eu-west-1",
		"payments-checkout-prd-pipeline@444444444444/eu-west-1",
		"search-indexer-dev-pipeline@555555555555/eu-central-1",
		"search-indexer-stg-pipeline@666666666666/eu-central-1",
		"search-indexer-prd-pipeline@777777777777/eu-central-1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stacks\n got %v\nwant %v", got, want)
	}
}

// TestSingleAccountSynthesis checks, for every account of the organisation, that selecting
// it yields exactly the stacks the org model places there, and nothing else.
func TestSingleAccountSynthesis(t *testing.T) {
	o := org.Default()
	if n := len(o.Accounts()); n != 7 {
		t.Fatalf("%d accounts, want 7 (the registry and 6 environments)", n)
	}
	for _, account := range o.Accounts() {
		want := stacksInAccount(o, account)
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
		stacks, err := platform.Build(app, o, platform.Options{Account: account})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, st := range stacks {
			got = append(got, *st.StackName())
			if *st.Account() != account {
				t.Errorf("%s selected for %s is in %s", *st.StackName(), account, *st.Account())
			}
		}
		if len(want) == 0 && len(got) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("account %s: got %v, want %v", account, got, want)
		}
		// The app holds nothing but the selected stacks.
		if n := len(*app.Node().Children()); n != len(want) {
			t.Errorf("account %s: app has %d children, want %d", account, n, len(want))
		}
	}
	_, err := platform.Build(awscdk.NewApp(nil), o, platform.Options{Account: "999999999999"})
	if err == nil || !strings.Contains(err.Error(), `account "999999999999" is not one of the organization's accounts [111111111111`) {
		t.Errorf("unknown account: %v", err)
	}
}

// stacksInAccount is where the org model says stacks go: the registry stack in the registry
// account, each path's environment stack in that environment's account.
func stacksInAccount(o org.Organization, account string) []string {
	var want []string
	if o.Registry.Account == account {
		want = append(want, org.RegistryStackName)
	}
	for _, p := range o.Paths() {
		for _, e := range p.Environments {
			if e.Account == account {
				want = append(want, p.StackName(e.Name))
			}
		}
	}
	return want
}

// goldenStacks are the default organisation's stacks kept as golden templates: one per
// distinct shape. A pipeline stack's shape is set by its environment's role: dev builds and
// pushes (no guard), stg and prd are guarded, and prd has the approval. payments/checkout
// is the path that uses every organisation option (notifications, approvers), so its three
// environments stand for all pipelines with a CodeCommit source (its dev also holds the
// sandbox machinery); search/indexer's stg stands for a GitHub source (no repository, a
// connection and a branch trigger, asserted in envpipeline's source_test.go) with the
// optional stg approval. The registry is a shape of its own.
var goldenStacks = []string{
	org.RegistryStackName,
	"payments-checkout-dev-pipeline",
	"payments-checkout-stg-pipeline",
	"payments-checkout-prd-pipeline",
	"search-indexer-stg-pipeline",
}

func TestGoldenTemplates(t *testing.T) {
	s := defaultSynthesis(t)
	checkGoldenDir(t, s.dir, goldenStacks, filepath.Join("testdata", "golden"))
}

// checkGoldenDir compares the templates of the named stacks in a cloud assembly directory
// with the golden files in golden (or rewrites them with -update), and fails for a golden
// file whose stack is gone.
func checkGoldenDir(t *testing.T, assembly string, stacks []string, golden string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(golden, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, stack := range stacks {
		name := stack + ".template.json"
		seen[name] = true
		raw, err := os.ReadFile(filepath.Join(assembly, name))
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, filepath.Join(golden, name), raw)
	}
	files, _ := filepath.Glob(filepath.Join(golden, "*.template.json"))
	for _, f := range files {
		switch {
		case seen[filepath.Base(f)]:
		case *update:
			os.Remove(f)
		default:
			t.Errorf("%s is not one of the golden stacks any more (run make golden)", f)
		}
	}
}

// checkGolden compares one template, normalized, with its golden file (or rewrites it).
func checkGolden(t *testing.T, path string, raw []byte) {
	t.Helper()
	got := normalize(t, raw)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("no golden template %s (run make golden): %v", path, err)
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (if intended: make golden, then review git diff):\n%s", path, firstDifference(want, got))
	}
}

// assetKey is the S3 key of a file asset: the hash of its bytes (for the guard, of the
// binary go build made), and .zip. It changes with the toolchain, not with the design.
var assetKey = regexp.MustCompile(`^[0-9a-f]{64}\.zip$`)

// normalize masks asset hashes, and nothing else (an image digest or any other value stays
// as synthesized), and re-indents the template so diffs are stable and readable.
func normalize(t *testing.T, raw []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	maskAssetKeys(v)
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // <asset-hash>, not \u003casset-hash\u003e
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// maskAssetKeys replaces the value of every S3Key that names a file asset (Lambda code).
func maskAssetKeys(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "S3Key" && assetKey.MatchString(s) {
				x[k] = "<asset-hash>.zip"
				continue
			}
			maskAssetKeys(e)
		}
	case []any:
		for _, e := range x {
			maskAssetKeys(e)
		}
	}
}

func firstDifference(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n   got: " + gl
		}
	}
	return "(same lines, different bytes)"
}

// TestEveryRoleCarriesThePermissionsBoundary: the execution role, bootstrapped with the
// boundary, may create no role without it; so every role of every stack names the boundary
// of its own account and region.
func TestEveryRoleCarriesThePermissionsBoundary(t *testing.T) {
	s := defaultSynthesis(t)
	roles := 0
	for _, stack := range s.stacks {
		account, region := *stack.Account(), *stack.Region()
		want := `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::` + account + `:policy/cdk-hnb659fds-permissions-boundary-` + account + `-` + region + `"]]}`
		for id, r := range *assertions.Template_FromStack(stack, nil).FindResources(jsii.String("AWS::IAM::Role"), nil) {
			roles++
			got, _ := json.Marshal((*r)["Properties"].(map[string]interface{})["PermissionsBoundary"])
			if string(got) != want {
				t.Errorf("%s: role %s has boundary %s, want %s", *stack.StackName(), id, got, want)
			}
		}
	}
	if roles < 60 {
		t.Errorf("%d roles in the organisation's stacks: the check saw too few", roles)
	}
}
