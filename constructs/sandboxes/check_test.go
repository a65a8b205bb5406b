package sandboxes

// The assembly check, run for real: the embedded script, written to a file as the sandbox
// build writes it, run by node on cloud assemblies crafted here (manifest.json and templates
// as cdk synth writes them). These tests start no jsii process.
//
//	PATH=$PWD/node_modules/.bin:$PATH go test ./constructs/sandboxes/ -run Check -v

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const suffix = "-sandbox-alice"

// nodeBin is the node the tests run: the one on PATH (node_modules/.bin first, as the
// Makefile and the README run the tests).
func nodeBin(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH (%v): run make install, then PATH=$PWD/node_modules/.bin:$PATH go test ...", err)
	}
	return bin
}

// checkFile writes the script with the build's own command (WriteCheckCommand, run by bash)
// and returns the file it wrote.
func checkFile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("bash", "-c", WriteCheckCommand+"\n"+`printf '%s' "$`+VarCheckScript+`"`)
	cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("WriteCheckCommand: %v", err)
	}
	return string(out)
}

// runCheck runs the check on dir and returns its exit status and output (stdout and stderr).
func runCheck(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(nodeBin(t), append([]string{checkFile(t), dir}, args...)...)
	out, err := cmd.CombinedOutput()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// assembly is a cloud assembly to write: stacks by artifact id, and nested assemblies.
type assembly struct {
	stacks map[string]stack
	nested map[string]assembly // by directory name
	// extra files (nested stack templates), by name, as JSON values
	files map[string]any
}

type stack struct {
	name      string // the stackName property; "" leaves it out (the artifact id is the name)
	resources map[string]map[string]any
}

func (a assembly) write(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	artifacts := map[string]any{
		// What CDK also writes: the tree, and an asset manifest per stack; the check skips them.
		"Tree": map[string]any{"type": "cdk:tree", "properties": map[string]any{"file": "tree.json"}},
	}
	for id, st := range a.stacks {
		props := map[string]any{"templateFile": id + ".template.json"}
		if st.name != "" {
			props["stackName"] = st.name
		}
		artifacts[id] = map[string]any{"type": "aws:cloudformation:stack", "environment": "aws://222222222222/eu-west-1",
			"properties": props, "displayName": id}
		artifacts[id+".assets"] = map[string]any{"type": "cdk:asset-manifest", "properties": map[string]any{"file": id + ".assets.json"}}
		writeJSON(t, filepath.Join(dir, id+".template.json"), map[string]any{"Resources": st.resources})
	}
	for name, n := range a.nested {
		artifacts[name] = map[string]any{"type": "cdk:cloud-assembly", "properties": map[string]any{"directoryName": name, "displayName": name}}
		n.write(t, filepath.Join(dir, name))
	}
	for name, v := range a.files {
		writeJSON(t, filepath.Join(dir, name), v)
	}
	writeJSON(t, filepath.Join(dir, "manifest.json"), map[string]any{"version": "48.0.0", "artifacts": artifacts})
	return dir
}

func writeJSON(t *testing.T, file string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// res is a resource of a type with optional attributes (DeletionPolicy, UpdateReplacePolicy).
func res(typ string, attrs ...string) map[string]any {
	r := map[string]any{"Type": typ, "Properties": map[string]any{}}
	for i := 0; i+1 < len(attrs); i += 2 {
		r[attrs[i]] = attrs[i+1]
	}
	return r
}

// good is what sandboxes.Apply and StackName make of a service: two suffixed stacks whose
// resources are deleted with them.
func good() assembly {
	return assembly{stacks: map[string]stack{
		"checkout-infra": {name: "checkout-infra" + suffix, resources: map[string]map[string]any{
			"Orders": res("AWS::DynamoDB::Table", "DeletionPolicy", "Delete", "UpdateReplacePolicy", "Delete"),
			"Topic":  res("AWS::SNS::Topic"),
		}},
		"checkout-app": {name: "checkout-app" + suffix, resources: map[string]map[string]any{
			"Function": res("AWS::Lambda::Function"),
			"Cluster":  res("AWS::RDS::DBCluster", "DeletionPolicy", "Delete"),
		}},
	}}
}

func TestCheckPassesASandboxReadyAssembly(t *testing.T) {
	dir := good().write(t, t.TempDir())
	code, out := runCheck(t, dir, suffix)
	if code != 0 || !strings.Contains(out, `2 stack(s)`) || !strings.Contains(out, `every stack name ends with "-sandbox-alice"`) {
		t.Errorf("exit %d, want 0 with both stacks counted:\n%s", code, out)
	}
}

func TestCheckRefusesAStackWithoutTheSuffix(t *testing.T) {
	a := good()
	a.stacks["checkout-app"] = stack{name: "checkout-app", resources: a.stacks["checkout-app"].resources}
	// No stackName property: the artifact id is the stack's name, and it lacks the suffix too.
	a.stacks["legacy"] = stack{resources: map[string]map[string]any{"Q": res("AWS::SQS::Queue")}}
	code, out := runCheck(t, a.write(t, t.TempDir()), suffix)
	if code != 1 {
		t.Errorf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		"sandbox assembly check FAILED: 2 problem(s)",
		`stack checkout-app: stack name "checkout-app" does not end with "-sandbox-alice"`,
		`stack legacy: stack name "legacy" does not end with "-sandbox-alice"`,
		"sandboxes.StackName(base)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "sandboxes.Apply") {
		t.Errorf("the output tells what to do about retained resources, of which there are none:\n%s", out)
	}
}

func TestCheckRefusesWhatOutlivesTheSandbox(t *testing.T) {
	for name, c := range map[string]struct {
		resource map[string]any
		want     string
	}{
		"a Retain":                    {res("AWS::DynamoDB::Table", "DeletionPolicy", "Retain"), "resource R (AWS::DynamoDB::Table): DeletionPolicy Retain"},
		"a Snapshot":                  {res("AWS::RDS::DBInstance", "DeletionPolicy", "Snapshot"), "resource R (AWS::RDS::DBInstance): DeletionPolicy Snapshot"},
		"a RetainExceptOnCreate":      {res("AWS::S3::Bucket", "DeletionPolicy", "RetainExceptOnCreate"), "resource R (AWS::S3::Bucket): DeletionPolicy RetainExceptOnCreate"},
		"a retained replacement":      {res("AWS::Logs::LogGroup", "UpdateReplacePolicy", "Retain"), "resource R (AWS::Logs::LogGroup): UpdateReplacePolicy Retain"},
		"a snapshotted replacement":   {res("AWS::EC2::Volume", "DeletionPolicy", "Delete", "UpdateReplacePolicy", "Snapshot"), "resource R (AWS::EC2::Volume): UpdateReplacePolicy Snapshot"},
		"an RDS cluster's default":    {res("AWS::RDS::DBCluster"), "resource R (AWS::RDS::DBCluster): no DeletionPolicy, which for AWS::RDS::DBCluster means Snapshot"},
		"an RDS instance's default":   {res("AWS::RDS::DBInstance"), "resource R (AWS::RDS::DBInstance): no DeletionPolicy, which for AWS::RDS::DBInstance means Snapshot"},
		"a policy that is not a word": {map[string]any{"Type": "AWS::SQS::Queue", "DeletionPolicy": map[string]any{"Fn::If": []any{"C", "Retain", "Delete"}}}, `resource R (AWS::SQS::Queue): DeletionPolicy {"Fn::If":["C","Retain","Delete"]} (not a literal Delete`},
	} {
		t.Run(name, func(t *testing.T) {
			a := good()
			a.stacks["checkout-infra"].resources["R"] = c.resource
			code, out := runCheck(t, a.write(t, t.TempDir()), suffix)
			if code != 1 || !strings.Contains(out, "stack checkout-infra: "+c.want) || !strings.Contains(out, "sandboxes.Apply(app)") {
				t.Errorf("exit %d, want 1 naming %q and what to do:\n%s", code, c.want, out)
			}
		})
	}
	t.Run("an RDS instance of a cluster", func(t *testing.T) {
		// It is deleted with its cluster: no snapshot of its own, whatever its default.
		a := good()
		r := res("AWS::RDS::DBInstance")
		r["Properties"] = map[string]any{"DBClusterIdentifier": "c"}
		a.stacks["checkout-app"].resources["Instance"] = r
		if code, out := runCheck(t, a.write(t, t.TempDir()), suffix); code != 0 {
			t.Errorf("exit %d, want 0:\n%s", code, out)
		}
	})
}

func TestCheckListsEveryProblemAtOnce(t *testing.T) {
	a := good()
	a.stacks["checkout-app"] = stack{name: "checkout-app", resources: map[string]map[string]any{
		"Bucket": res("AWS::S3::Bucket", "DeletionPolicy", "Retain", "UpdateReplacePolicy", "Retain"),
		"Db":     res("AWS::RDS::DBCluster", "DeletionPolicy", "Snapshot"),
	}}
	a.stacks["checkout-infra"].resources["Orders"] = res("AWS::DynamoDB::Table", "DeletionPolicy", "RetainExceptOnCreate")
	code, out := runCheck(t, a.write(t, t.TempDir()), suffix)
	want := []string{
		`stack checkout-app: stack name "checkout-app" does not end with "-sandbox-alice"`,
		"stack checkout-app: resource Bucket (AWS::S3::Bucket): DeletionPolicy Retain",
		"stack checkout-app: resource Bucket (AWS::S3::Bucket): UpdateReplacePolicy Retain",
		"stack checkout-app: resource Db (AWS::RDS::DBCluster): DeletionPolicy Snapshot",
		"stack checkout-infra: resource Orders (AWS::DynamoDB::Table): DeletionPolicy RetainExceptOnCreate",
	}
	if code != 1 || !strings.Contains(out, "FAILED: 5 problem(s)") {
		t.Errorf("exit %d, want 1 with 5 problems:\n%s", code, out)
	}
	// Listed in this order: names first, then resources by stack and logical id.
	last := -1
	for _, w := range want {
		i := strings.Index(out, "  "+w+"\n")
		if i < 0 {
			t.Errorf("output lacks the line %q:\n%s", w, out)
		} else if i < last {
			t.Errorf("%q is listed out of order:\n%s", w, out)
		}
		last = i
	}
	for _, help := range []string{"sandboxes.StackName(base)", "sandboxes.Apply(app)"} {
		if !strings.Contains(out, help) {
			t.Errorf("output lacks what to do (%s):\n%s", help, out)
		}
	}
}

func TestCheckReadsNestedAssembliesAndNestedStacks(t *testing.T) {
	// A CDK Stage is a nested assembly; a stage inside it another.
	stage := assembly{
		stacks: map[string]stack{"StageApi": {name: "api" + suffix, resources: map[string]map[string]any{"F": res("AWS::Lambda::Function")}}},
		nested: map[string]assembly{"assembly-Stage-Inner": {stacks: map[string]stack{
			"StageInnerDb": {name: "db", resources: map[string]map[string]any{"T": res("AWS::DynamoDB::Table", "DeletionPolicy", "Retain")}},
		}}},
	}
	a := good()
	a.nested = map[string]assembly{"assembly-Stage": stage}
	// A nested stack's template sits beside its parent's.
	a.files = map[string]any{"checkoutappStorage1234ABCD.nested.template.json": map[string]any{
		"Resources": map[string]any{"Logs": res("AWS::Logs::LogGroup", "DeletionPolicy", "Retain")},
	}}
	code, out := runCheck(t, a.write(t, t.TempDir()), suffix)
	for _, w := range []string{
		`stack StageInnerDb: stack name "db" does not end with "-sandbox-alice"`,
		"stack StageInnerDb: resource T (AWS::DynamoDB::Table): DeletionPolicy Retain",
		"nested stack template checkoutappStorage1234ABCD.nested.template.json: resource Logs (AWS::Logs::LogGroup): DeletionPolicy Retain",
	} {
		if !strings.Contains(out, "  "+w+"\n") {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if code != 1 || !strings.Contains(out, "3 problem(s)") {
		t.Errorf("exit %d, want 1 with 3 problems:\n%s", code, out)
	}

	// The same nesting, all of it sandbox-ready: every stack counted.
	stage.nested["assembly-Stage-Inner"].stacks["StageInnerDb"] = stack{name: "db" + suffix}
	a.files = nil
	code, out = runCheck(t, a.write(t, t.TempDir()), suffix)
	if code != 0 || !strings.Contains(out, "4 stack(s)") {
		t.Errorf("exit %d, want 0 with 4 stacks:\n%s", code, out)
	}
}

func TestCheckNamesOnlyGuardsADestroy(t *testing.T) {
	// Before a destroy only the names matter: what it deletes must be the sandbox's own.
	a := good()
	a.stacks["checkout-infra"].resources["Orders"] = res("AWS::DynamoDB::Table", "DeletionPolicy", "Retain")
	if code, out := runCheck(t, a.write(t, t.TempDir()), suffix, "--names-only"); code != 0 || !strings.Contains(out, `all 2 stack name(s)`) {
		t.Errorf("names only, sandbox's stacks: exit %d, want 0:\n%s", code, out)
	}
	a.stacks["dev"] = stack{name: "checkout-app"} // the environment's own stack
	code, out := runCheck(t, a.write(t, t.TempDir()), suffix, "--names-only")
	if code != 1 || !strings.Contains(out, `stack dev: stack name "checkout-app" does not end with "-sandbox-alice"`) ||
		!strings.Contains(out, "nothing was destroyed") || strings.Contains(out, "Orders") {
		t.Errorf("names only, a foreign stack: exit %d, want 1 naming it (and not the table):\n%s", code, out)
	}
}

func TestCheckRefusesWhatIsNotAnAssembly(t *testing.T) {
	for name, c := range map[string]struct {
		setup func(dir string)
		want  string
	}{
		"no manifest": {func(string) {}, "cannot read cloud assembly manifest"},
		"a garbled manifest": {func(dir string) {
			os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"artifacts": {`), 0o644)
		}, "is not JSON"},
		"a manifest without artifacts": {func(dir string) {
			os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"artifacts": []}`), 0o644)
		}, `has no "artifacts" object`},
		"no stack": {func(dir string) {
			os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"version":"48.0.0","artifacts":{}}`), 0o644)
		}, "has no stack: the app synthesized nothing to deploy"},
		"a garbled template": {func(dir string) {
			good().write(t, dir)
			os.WriteFile(filepath.Join(dir, "checkout-app.template.json"), []byte("Resources: [}"), 0o644)
		}, "template of stack checkout-app " + "%DIR%/checkout-app.template.json is not JSON"},
		"a missing template": {func(dir string) {
			good().write(t, dir)
			os.Remove(filepath.Join(dir, "checkout-infra.template.json"))
		}, "cannot read template of stack checkout-infra"},
		"a nested assembly outside the assembly": {func(dir string) {
			writeJSON(t, filepath.Join(dir, "manifest.json"), map[string]any{"artifacts": map[string]any{
				"Stage": map[string]any{"type": "cdk:cloud-assembly", "properties": map[string]any{"directoryName": "../elsewhere"}},
			}})
		}, `nested assembly directory "../elsewhere" in`},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			c.setup(dir)
			code, out := runCheck(t, dir, suffix)
			want := strings.ReplaceAll(c.want, "%DIR%", dir)
			if code != 1 || !strings.HasPrefix(out, "sandbox assembly check FAILED: ") || !strings.Contains(out, want) {
				t.Errorf("exit %d, want 1 and a message containing %q:\n%s", code, want, out)
			}
			if strings.Contains(out, "    at ") {
				t.Errorf("a stack trace instead of a message:\n%s", out)
			}
		})
	}
	t.Run("no arguments", func(t *testing.T) {
		code, out := runCheck(t, "")
		if code != 2 || !strings.Contains(out, "usage: node assemblycheck.js <cloud assembly directory> <stack name suffix> [--names-only]") {
			t.Errorf("exit %d, want 2 and the usage:\n%s", code, out)
		}
	})
}

// The build writes the script with a here-document: its file must be the embedded script,
// byte for byte, which holds only if no line of it is the delimiter.
func TestCheckScriptSurvivesItsHereDocument(t *testing.T) {
	for _, s := range []struct{ script, delimiter string }{
		{assemblyCheckScript, checkDelimiter}, {nameCheckScript, nameDelimiter}, {destroyScript, destroyDelimiter},
	} {
		for _, line := range strings.Split(s.script, "\n") {
			if line == s.delimiter {
				t.Errorf("a line of the script is its delimiter %s", s.delimiter)
			}
		}
		if !strings.HasSuffix(s.script, "\n") {
			t.Errorf("the script before %s does not end with a newline: the delimiter would not be on a line of its own", s.delimiter)
		}
	}
	got, err := os.ReadFile(checkFile(t))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != assemblyCheckScript {
		t.Errorf("the file WriteCheckCommand wrote differs from the embedded script (%d bytes, want %d)", len(got), len(assemblyCheckScript))
	}
}
