package test

// Sandboxes from a service team's side: sandboxes.Apply on an app with the resources that
// resist deletion, and the checkout-service example synthesized as a sandbox's build
// synthesizes it, then checked by the sandbox build's own assembly check (node), and its
// kept assembly read back by the pinned CDK CLI.
//
//	PATH=$PWD/node_modules/.bin:$PATH go test ./test/ -run Sandbox -v

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsbackup"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/platform-eng/pathtoprod/constructs/sandboxes"
	"github.com/platform-eng/pathtoprod/examples/checkout-service/checkout"
)

// stubbornApp is a service app with what resists deletion: a protected, retained table; a
// retained bucket and one that empties itself; a retained repository and key; an RDS cluster
// and a Cognito user pool with deletion protection; a load balancer with it; a backup vault;
// an alarm with a fixed name and one with the sandbox's suffix. With apply, sandboxes.Apply.
func stubbornApp(t *testing.T, apply bool) (awscdk.Stack, string) {
	t.Helper()
	dir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir)})
	stack := awscdk.NewStack(app, jsii.String("svc"), &awscdk.StackProps{StackName: jsii.String(sandboxes.StackName("svc"))})
	awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:       &awsdynamodb.Attribute{Name: jsii.String("id"), Type: awsdynamodb.AttributeType_STRING},
		DeletionProtection: jsii.Bool(true), RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	awss3.NewBucket(stack, jsii.String("Kept"), &awss3.BucketProps{RemovalPolicy: awscdk.RemovalPolicy_RETAIN})
	awss3.NewBucket(stack, jsii.String("Emptied"), &awss3.BucketProps{RemovalPolicy: awscdk.RemovalPolicy_DESTROY, AutoDeleteObjects: jsii.Bool(true)})
	awsecr.NewRepository(stack, jsii.String("Images"), &awsecr.RepositoryProps{RemovalPolicy: awscdk.RemovalPolicy_RETAIN})
	awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{RemovalPolicy: awscdk.RemovalPolicy_RETAIN})
	awsrds.NewCfnDBCluster(stack, jsii.String("Db"), &awsrds.CfnDBClusterProps{Engine: jsii.String("aurora-postgresql"), DeletionProtection: jsii.Bool(true)})
	awscognito.NewCfnUserPool(stack, jsii.String("Users"), &awscognito.CfnUserPoolProps{DeletionProtection: jsii.String("ACTIVE")})
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{Name: jsii.String("Public"), SubnetType: awsec2.SubnetType_PUBLIC}}})
	awselasticloadbalancingv2.NewApplicationLoadBalancer(stack, jsii.String("Lb"), &awselasticloadbalancingv2.ApplicationLoadBalancerProps{
		Vpc: vpc, DeletionProtection: jsii.Bool(true),
	})
	awsbackup.NewBackupVault(stack, jsii.String("Vault"), nil)
	metric := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String("Svc"), MetricName: jsii.String("Errors")})
	for id, name := range map[string]string{"Fixed": "svc-health", "Suffixed": "svc-errors" + sandboxes.Suffix()} {
		awscloudwatch.NewAlarm(stack, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmName: jsii.String(name), Metric: metric, Threshold: jsii.Number(1), EvaluationPeriods: jsii.Number(1),
		})
	}
	if apply {
		sandboxes.Apply(app)
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{}), nil)
	awscdk.Aspects_Of(app).Add(cdknag.NewNIST80053R5Checks(&cdknag.NagPackProps{}), nil)
	app.Synth(nil)
	return stack, dir
}

func TestSandboxApplyMakesEverythingDieWithTheSandbox(t *testing.T) {
	t.Setenv("CDK_CONTEXT_JSON", "")
	t.Setenv("SANDBOX", "alice")
	stack, dir := stubbornApp(t, true)
	var tpl exTemplate
	readJSON(t, filepath.Join(dir, "svc.template.json"), &tpl)

	for id, r := range tpl["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["DeletionPolicy"] != "Delete" || r["UpdateReplacePolicy"] != "Delete" {
			t.Errorf("%s (%s): DeletionPolicy %v, UpdateReplacePolicy %v; want Delete", id, r["Type"], r["DeletionPolicy"], r["UpdateReplacePolicy"])
		}
	}
	prop := func(typ, key string) string {
		var got []string
		for _, r := range tpl.resources(typ) {
			got = append(got, exJSON(exProps(r)[key]))
		}
		sort.Strings(got)
		return strings.Join(got, " ")
	}
	for _, c := range []struct{ typ, key, want string }{
		{"AWS::DynamoDB::Table", "DeletionProtectionEnabled", "false"},
		{"AWS::RDS::DBCluster", "DeletionProtection", "false"},
		{"AWS::Cognito::UserPool", "DeletionProtection", `"INACTIVE"`},
		{"AWS::ECR::Repository", "EmptyOnDelete", "true"},
	} {
		if got := prop(c.typ, c.key); got != c.want {
			t.Errorf("%s %s: %s, want %s", c.typ, c.key, got, c.want)
		}
	}
	if got := prop("AWS::ElasticLoadBalancingV2::LoadBalancer", "LoadBalancerAttributes"); !strings.Contains(got, `{"Key":"deletion_protection.enabled","Value":"false"}`) {
		t.Errorf("load balancer attributes %s: deletion protection still on", got)
	}

	// What no property can do is a warning on the resource, naming it and what to do.
	warnings := map[string][]string{}
	for _, w := range *assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("sandbox alice: "))) {
		warnings[*w.Id] = append(warnings[*w.Id], exJSON(w.Entry.Data))
	}
	want := map[string]string{
		"/svc/Kept/Resource":     "this bucket is deleted with the sandbox only if it is empty; give it AutoDeleteObjects",
		"/svc/Vault/Resource":    "a backup vault with recovery points cannot be deleted",
		"/svc/Fixed/Resource":    `AWS::CloudWatch::Alarm has the fixed name \"svc-health\", which the environment's own stacks (or another sandbox) may use`,
		"/svc/Emptied/Resource":  "",
		"/svc/Suffixed/Resource": "",
	}
	for path, w := range want {
		got := strings.Join(warnings[path], "\n")
		if w == "" && got != "" {
			t.Errorf("%s: unexpected warning %s", path, got)
		} else if w != "" && !strings.Contains(got, w) {
			t.Errorf("%s: warnings %q, want one containing %q", path, got, w)
		}
	}
	// Deletion protection is off on purpose: cdk-nag's rules about it are accepted there, with
	// the reason, instead of failing the sandbox's synthesis.
	for _, e := range *assertions.Annotations_FromStack(stack).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("DeletionProtection|RDS10"))) {
		t.Errorf("%s: %v", *e.Id, e.Entry.Data)
	}

	// And the sandbox build's assembly check accepts it.
	if code, out := runAssemblyCheck(t, dir, "-sandbox-alice"); code != 0 {
		t.Errorf("the assembly check refused the app: exit %d\n%s", code, out)
	}
}

func TestSandboxApplyChangesNothingOutsideASandbox(t *testing.T) {
	t.Setenv("CDK_CONTEXT_JSON", "")
	t.Setenv("SANDBOX", "")
	_, without := stubbornApp(t, false)
	_, with := stubbornApp(t, true)
	a, err := os.ReadFile(filepath.Join(without, "svc.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(with, "svc.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	if w, g := normalize(t, a), normalize(t, b); string(w) != string(g) {
		t.Errorf("Apply changed the template outside a sandbox:\n%s", firstDifference(w, g))
	}
	// And the check refuses that app as a sandbox: a stack name without the suffix, and the
	// retained resources, each named.
	code, out := runAssemblyCheck(t, with, "-sandbox-alice")
	for _, w := range []string{`stack svc: stack name "svc" does not end with "-sandbox-alice"`, "resource Table", "DeletionPolicy Retain", "sandboxes.Apply(app)"} {
		if code != 1 || !strings.Contains(out, w) {
			t.Errorf("exit %d, want 1 and %q:\n%s", code, w, out)
		}
	}
}

// runAssemblyCheck runs the sandbox build's assembly check on an assembly directory.
func runAssemblyCheck(t *testing.T, dir, suffix string, args ...string) (int, string) {
	t.Helper()
	script := filepath.Join(t.TempDir(), "assemblycheck.js")
	if err := os.WriteFile(script, []byte(sandboxes.AssemblyCheckScript()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("node", append([]string{script, dir, suffix}, args...)...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// exSandboxEnv is what sandbox alice's build sets in dev for payments/checkout.
var exSandboxEnv = []string{
	"SANDBOX=alice",
	"ENVIRONMENT=dev",
	"TARGET_ACCOUNT=222222222222",
	"IMAGE_URI=222222222222.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout/sandboxes@" + exDigest,
	`CDK_CONTEXT_JSON={"sandbox":"alice"}`,
}

// The checkout service as sandbox alice's build synthesizes it (the binary, with the variables
// and context the build sets): both stacks suffixed, nothing retained, both packs clean, and
// the build's own assembly check passes it; the same app as the pipeline synthesizes it is
// refused by that check.
func TestExamplesCheckoutServiceInASandbox(t *testing.T) {
	out := t.TempDir()
	code, stderr := exRunCheckout(t, out, exSandboxEnv...)
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, stderr)
	}
	var stacks []string
	for _, name := range []string{checkout.InfraStackName, checkout.AppStackName} {
		var m struct {
			Artifacts map[string]struct {
				Properties struct {
					StackName string `json:"stackName"`
				} `json:"properties"`
			} `json:"artifacts"`
		}
		readJSON(t, filepath.Join(out, "manifest.json"), &m)
		stacks = append(stacks, m.Artifacts[name].Properties.StackName)
		for _, e := range exAssemblyErrors(t, out, name) {
			t.Errorf("%s: error annotation %s", name, e)
		}
		// cdk-nag names its reports after the stack's name.
		for pack, rows := range checkNagReports(t, out, m.Artifacts[name].Properties.StackName) {
			if len(rows) == 0 {
				t.Errorf("the %s report of %s has no rows: the pack did not run", pack, name)
			}
		}
		tpl := exReadTemplate(t, out, name)
		for id, r := range tpl["Resources"].(map[string]any) {
			if p := r.(map[string]any)["DeletionPolicy"]; p != "Delete" {
				t.Errorf("%s: %s has DeletionPolicy %v", name, id, p)
			}
		}
		if name == checkout.AppStackName {
			_, alarm := tpl.only(t, "AWS::CloudWatch::Alarm")
			if got := exProps(alarm)["AlarmName"]; got != "payments-checkout-dev-health-sandbox-alice" {
				t.Errorf("alarm name %v: want dev's health alarm's name with the sandbox's suffix", got)
			}
			_, fn := tpl.only(t, "AWS::Lambda::Function")
			if uri := exJSON(exProps(fn)["Code"]); !strings.Contains(uri, `222222222222.dkr.ecr.eu-west-1.`) || !strings.Contains(uri, `/payments/checkout/sandboxes@`+exDigest) {
				t.Errorf("the function's image %s: want the sandbox repository's, by digest", uri)
			}
		} else if n := len(tpl.resources("AWS::Backup::BackupVault")); n != 0 {
			t.Errorf("%d backup vaults in a sandbox: its destroy would fail on one holding recovery points", n)
		}
	}
	if want := []string{"checkout-infra-sandbox-alice", "checkout-app-sandbox-alice"}; !reflect.DeepEqual(stacks, want) {
		t.Errorf("stack names %v, want %v", stacks, want)
	}
	if code, out := runAssemblyCheck(t, out, "-sandbox-alice"); code != 0 || !strings.Contains(out, "2 stack(s)") {
		t.Errorf("the assembly check: exit %d, want 0 for both stacks:\n%s", code, out)
	}
	var templates []string
	for _, name := range []string{checkout.InfraStackName, checkout.AppStackName} {
		templates = append(templates, filepath.Join(out, name+".template.json"))
	}
	cfnLint(t, templates)

	// The pipeline's synthesis of the same app (no sandbox) is what a sandbox must never deploy.
	s, err := exCheckoutSynth()
	if err != nil {
		t.Fatal(err)
	}
	code, msg := runAssemblyCheck(t, s.dir, "-sandbox-alice")
	for _, w := range []string{
		`stack checkout-app: stack name "checkout-app" does not end with "-sandbox-alice"`,
		`stack checkout-infra: stack name "checkout-infra" does not end with "-sandbox-alice"`,
		"stack checkout-infra: resource Orders",
		"(AWS::DynamoDB::Table): DeletionPolicy Retain",
		"(AWS::Backup::BackupVault): DeletionPolicy Retain",
	} {
		if code != 1 || !strings.Contains(msg, w) {
			t.Errorf("the pipeline's assembly as a sandbox: exit %d, want 1 and %q:\n%s", code, w, msg)
		}
	}
}

// A sandbox's deploy keeps its assembly without the asset directories: the CDK CLI a destroy
// runs must still read it. The platform's own assembly, which has assets (the Lambda
// functions' code), zipped and unzipped with the deploy's own command, listed by the CLI.
func TestSandboxKeptAssemblyIsReadableWithoutItsAssets(t *testing.T) {
	src := defaultSynthesis(t).dir
	work := t.TempDir()
	if err := os.Symlink(src, filepath.Join(work, "cdk.out")); err != nil {
		t.Fatal(err)
	}
	zip := filepath.Join(work, "assembly.zip")
	// The deploy's command, up to the upload.
	cmd := exec.Command("bash", "-c", `cd cdk.out/ && zip -qr "$1" . -x 'asset.*' '*/asset.*'`, "zip", zip)
	cmd.Dir = work
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zip: %v\n%s", err, out)
	}
	unzipped := filepath.Join(t.TempDir(), "cdk.out")
	if out, err := exec.Command("unzip", "-q", zip, "-d", unzipped).CombinedOutput(); err != nil {
		t.Fatalf("unzip: %v\n%s", err, out)
	}
	if matches, _ := filepath.Glob(filepath.Join(unzipped, "asset.*")); len(matches) > 0 {
		t.Errorf("the kept assembly holds assets: %v", matches)
	}
	if matches, _ := filepath.Glob(filepath.Join(src, "asset.*")); len(matches) == 0 {
		t.Fatal("the platform's assembly has no asset to leave out: the test shows nothing")
	}
	ls := exec.Command("cdk", "ls", "--app", unzipped, "--no-notices")
	ls.Dir = t.TempDir()
	ls.Env = append(os.Environ(), "CDK_DISABLE_CLI_TELEMETRY=true")
	out, err := ls.CombinedOutput()
	if err != nil {
		t.Fatalf("cdk ls --app <kept assembly>: %v\n%s", err, out)
	}
	if n := len(strings.Fields(string(out))); n != len(defaultSynthesis(t).stacks) {
		t.Errorf("cdk ls lists %d stacks, want %d:\n%s", n, len(defaultSynthesis(t).stacks), out)
	}
}
