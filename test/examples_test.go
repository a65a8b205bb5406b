package test

// The service teams' examples under examples/, synthesized in-process as their apps do
// (cdk-nag included) and checked for what each one exists to show, then compared with golden
// templates under testdata/golden/examples/<name>. The checkout service's app binary is also
// run with a malformed IMAGE_URI, as the pipeline's Deploy step would run it.
//
//	PATH=$PWD/node_modules/.bin:$PATH go test ./test/ -run Examples -v
//	make golden   # after an intended change
//
// Golden templates, one per stack shape the platform's own stacks do not already show:
// checkout-service's two (an infra stack and a container-image app stack, nothing like a
// pipeline), and custom-steps' dev and stg (stages and steps added to the pipeline). Not
// custom-steps' prd, which adds no stage: what it changes (commands, compute type, variables)
// is asserted below. Not defaults': they must equal the platform's own search/indexer
// stacks, which TestExamplesDefaults checks instead.

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/platform"
	"github.com/platform-eng/pathtoprod/examples/checkout-service/checkout"
	"github.com/platform-eng/pathtoprod/examples/custom-steps/storefront"
	"github.com/platform-eng/pathtoprod/examples/defaults/defaults"
)

// exDigest is the digest the checkout tests deploy; exImageURI is its reference as the
// pipeline passes it.
const (
	exDigest   = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	exImageURI = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout@" + exDigest
)

// exCheckoutEnv is what the stg pipeline's Deploy step sets for payments/checkout.
var exCheckoutEnv = map[string]string{
	"IMAGE_URI":      exImageURI,
	"ENVIRONMENT":    "stg",
	"TARGET_ACCOUNT": "333333333333",
	"TARGET_REGION":  "eu-west-1",
}

// exSynthesis is one example's stacks, synthesized once per test binary as its app does
// (a fresh app with cdk-nag) into a directory of its own.
type exSynthesis struct {
	dir    string
	stacks []awscdk.Stack
}

// exOnce returns a function that synthesizes build's stacks on its first call only, so the
// example's test and the cfn-lint test share one synthesis.
func exOnce(build func(awscdk.App) ([]awscdk.Stack, error)) func() (exSynthesis, error) {
	return sync.OnceValues(func() (exSynthesis, error) {
		dir, err := scratchDir("pathtoprod-example-")
		if err != nil {
			return exSynthesis{}, err
		}
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir)})
		// Every pack, as a service team may add any of them to its app (exSynth reads them).
		platform.AddChecks(app, org.CompliancePackNames...)
		stacks, err := build(app)
		if err != nil {
			return exSynthesis{}, err
		}
		app.Synth(nil)
		return exSynthesis{dir: dir, stacks: stacks}, nil
	})
}

// exCheckoutBuilt is what checkout.NewStacks returned in exCheckoutSynth.
var exCheckoutBuilt checkout.Stacks

var (
	exCheckoutSynth = exOnce(func(app awscdk.App) ([]awscdk.Stack, error) {
		path, err := org.Default().Path("payments", "checkout")
		if err != nil {
			return nil, err
		}
		// The same call as the app's main, reading the variables the pipeline sets.
		cfg, err := checkout.ConfigFromEnv(path, org.Default().Registry, func(k string) string { return exCheckoutEnv[k] })
		if err != nil {
			return nil, err
		}
		exCheckoutBuilt = checkout.NewStacks(app, cfg)
		return []awscdk.Stack{exCheckoutBuilt.Infra.Stack, exCheckoutBuilt.App.Stack}, nil
	})
	exDefaultsSynth    = exOnce(defaults.NewStacks)
	exCustomStepsSynth = exOnce(storefront.NewStacks)
)

// exSynth returns an example's synthesis and checks that every cdk-nag pack ran on every
// stack and found nothing.
func exSynth(t *testing.T, synth func() (exSynthesis, error)) (string, []awscdk.Stack) {
	t.Helper()
	s, err := synth()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.stacks) == 0 {
		t.Fatal("the example made no stacks")
	}
	for _, stack := range s.stacks {
		errs := assertions.Annotations_FromStack(stack).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(".*")))
		for _, e := range *errs {
			t.Errorf("%s: %s %v", *stack.StackName(), *e.Id, e.Entry.Data)
		}
		for pack, rows := range checkNagReports(t, s.dir, *stack.StackName(), org.CompliancePackNames...) {
			if len(rows) == 0 {
				t.Errorf("the %s report of %s has no rows: the pack did not run", pack, *stack.StackName())
			}
		}
	}
	return s.dir, s.stacks
}

// exStackNames lists the stacks as name@account/region, in order.
func exStackNames(stacks []awscdk.Stack) (names, placed []string) {
	for _, st := range stacks {
		names = append(names, *st.StackName())
		placed = append(placed, *st.StackName()+"@"+*st.Account()+"/"+*st.Region())
	}
	return names, placed
}

// exTemplate is one synthesized template, decoded.
type exTemplate map[string]any

func exReadTemplate(t *testing.T, dir, stack string) exTemplate {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, stack+".template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tpl exTemplate
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	return tpl
}

// resources returns the resources of one type by logical id.
func (tpl exTemplate) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tpl["Resources"].(map[string]any) {
		if r := r.(map[string]any); r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

// only returns the one resource of a type and its logical id, or fails.
func (tpl exTemplate) only(t *testing.T, typ string) (string, map[string]any) {
	t.Helper()
	rs := tpl.resources(typ)
	if len(rs) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(rs), typ)
	}
	for id, r := range rs {
		return id, r
	}
	return "", nil
}

// stages is the stage names of the template's one pipeline, in order.
func (tpl exTemplate) stages(t *testing.T) []string {
	t.Helper()
	_, p := tpl.only(t, "AWS::CodePipeline::Pipeline")
	var names []string
	for _, s := range exProps(p)["Stages"].([]any) {
		names = append(names, s.(map[string]any)["Name"].(string))
	}
	return names
}

// project returns the CodeBuild project with the given name, its logical id and its
// buildspec's commands.
func (tpl exTemplate) project(t *testing.T, name string) (string, map[string]any, []string) {
	t.Helper()
	for id, r := range tpl.resources("AWS::CodeBuild::Project") {
		if exProps(r)["Name"] != name {
			continue
		}
		var spec struct {
			Phases struct {
				Build struct {
					Commands []string `json:"commands"`
				} `json:"build"`
			} `json:"phases"`
		}
		bs := exProps(r)["Source"].(map[string]any)["BuildSpec"].(string)
		if err := json.Unmarshal([]byte(bs), &spec); err != nil {
			t.Fatalf("buildspec of %s: %v", name, err)
		}
		return id, r, spec.Phases.Build.Commands
	}
	t.Fatalf("no CodeBuild project named %s", name)
	return "", nil, nil
}

func exProps(r map[string]any) map[string]any { return r["Properties"].(map[string]any) }

func exJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// ---------------------------------------------------------------------------------------------
// examples/checkout-service

func TestExamplesCheckoutService(t *testing.T) {
	dir, stacks := exSynth(t, exCheckoutSynth)
	built := exCheckoutBuilt
	infra, app := exReadTemplate(t, dir, checkout.InfraStackName), exReadTemplate(t, dir, checkout.AppStackName)

	t.Run("two stacks in the target account, the app after the infra", func(t *testing.T) {
		names, placed := exStackNames(stacks)
		want := []string{"checkout-infra@333333333333/eu-west-1", "checkout-app@333333333333/eu-west-1"}
		if !reflect.DeepEqual(placed, want) {
			t.Errorf("stacks\n got %v\nwant %v", placed, want)
		}
		deps := built.App.Stack.Dependencies()
		if len(*deps) != 1 || *(*deps)[0].StackName() != checkout.InfraStackName {
			t.Errorf("checkout-app depends on %d stacks, want exactly checkout-infra", len(*deps))
		}
		// What `cdk deploy --all` orders by: the cloud assembly's dependencies.
		var m struct {
			Artifacts map[string]struct {
				Type         string   `json:"type"`
				Dependencies []string `json:"dependencies"`
			} `json:"artifacts"`
		}
		raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range m.Artifacts[names[1]].Dependencies {
			if m.Artifacts[d].Type == "aws:cloudformation:stack" {
				got = append(got, d)
			}
		}
		if !reflect.DeepEqual(got, []string{names[0]}) {
			t.Errorf("manifest: %s depends on stacks %v, want [%s]", names[1], got, names[0])
		}
	})

	t.Run("the function runs the promoted image by digest", func(t *testing.T) {
		_, fn := app.only(t, "AWS::Lambda::Function")
		p := exProps(fn)
		// {"Fn::Join": ["", [parts...]]}, with the URL suffix as a pseudo parameter.
		join := p["Code"].(map[string]any)["ImageUri"].(map[string]any)["Fn::Join"].([]any)
		var uri strings.Builder
		for _, part := range join[1].([]any) {
			switch v := part.(type) {
			case string:
				uri.WriteString(v)
			case map[string]any:
				if v["Ref"] != "AWS::URLSuffix" {
					t.Fatalf("ImageUri part %v", v)
				}
				uri.WriteString("amazonaws.com")
			}
		}
		if uri.String() != exImageURI {
			t.Errorf("ImageUri resolves to\n %s\nwant IMAGE_URI\n %s", uri.String(), exImageURI)
		}
		if p["PackageType"] != "Image" || exJSON(p["Architectures"]) != `["arm64"]` {
			t.Errorf("PackageType %v, Architectures %v: want an arm64 container image", p["PackageType"], p["Architectures"])
		}
	})

	t.Run("the function uses the infra stack's table", func(t *testing.T) {
		tableID, _ := infra.only(t, "AWS::DynamoDB::Table")
		_, fn := app.only(t, "AWS::Lambda::Function")
		env := exProps(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
		if got := exExport(t, infra, env["ORDERS_TABLE"]); got != `{"Ref":"`+tableID+`"}` {
			t.Errorf("ORDERS_TABLE is %s, want the infra stack's table %s", got, tableID)
		}
	})

	t.Run("the errors alarm is the health alarm stg's pipeline watches, and notifies the infra stack's topic", func(t *testing.T) {
		topicID, _ := infra.only(t, "AWS::SNS::Topic")
		fnID, _ := app.only(t, "AWS::Lambda::Function")
		_, alarm := app.only(t, "AWS::CloudWatch::Alarm")
		p := exProps(alarm)
		// The stg pipeline of the default organisation watches exactly this name.
		path, err := org.Default().Path("payments", "checkout")
		if err != nil {
			t.Fatal(err)
		}
		stg, _ := path.Environment("stg")
		if stg.Watch == nil || len(stg.Watch.Alarms) != 1 || p["AlarmName"] != stg.Watch.Alarms[0] || p["AlarmName"] != "payments-checkout-stg-health" {
			t.Errorf("AlarmName %v; the stg pipeline watches %+v", p["AlarmName"], stg.Watch)
		}
		if p["TreatMissingData"] != "notBreaching" {
			t.Errorf("TreatMissingData %v: a quiet service must not block or roll back a deploy", p["TreatMissingData"])
		}
		actions := p["AlarmActions"].([]any)
		if len(actions) != 1 || exExport(t, infra, actions[0]) != `{"Ref":"`+topicID+`"}` {
			t.Errorf("AlarmActions %s, want the infra stack's topic %s", exJSON(actions), topicID)
		}
		if p["Namespace"] != "AWS/Lambda" || p["MetricName"] != "Errors" ||
			exJSON(p["Dimensions"]) != `[{"Name":"FunctionName","Value":{"Ref":"`+fnID+`"}}]` {
			t.Errorf("alarm metric %v %v %s, want the function's Errors", p["Namespace"], p["MetricName"], exJSON(p["Dimensions"]))
		}
	})

	t.Run("the infra is retained, recoverable and encrypted", func(t *testing.T) {
		_, table := infra.only(t, "AWS::DynamoDB::Table")
		p := exProps(table)
		if table["DeletionPolicy"] != "Retain" || table["UpdateReplacePolicy"] != "Retain" {
			t.Errorf("table policies %v/%v, want Retain", table["DeletionPolicy"], table["UpdateReplacePolicy"])
		}
		if exJSON(p["PointInTimeRecoverySpecification"]) != `{"PointInTimeRecoveryEnabled":true}` ||
			exJSON(p["SSESpecification"]) != `{"SSEEnabled":true}` {
			t.Errorf("table PITR %s, SSE %s", exJSON(p["PointInTimeRecoverySpecification"]), exJSON(p["SSESpecification"]))
		}
		keyID, _ := infra.only(t, "AWS::KMS::Key")
		_, topic := infra.only(t, "AWS::SNS::Topic")
		if got := exJSON(exProps(topic)["KmsMasterKeyId"]); got != `{"Fn::GetAtt":["`+keyID+`","Arn"]}` {
			t.Errorf("topic key %s, want %s", got, keyID)
		}
		_, policy := infra.only(t, "AWS::SNS::TopicPolicy")
		if doc := exJSON(exProps(policy)["PolicyDocument"]); !strings.Contains(doc, `"Condition":{"Bool":{"aws:SecureTransport":"false"}},"Effect":"Deny"`) {
			t.Errorf("topic policy does not deny plain HTTP: %s", doc)
		}
	})

	// The NIST 800-53 R5 findings the checkout service fixes rather than suppresses.
	t.Run("the function's logs are encrypted with the stack's rotated customer key", func(t *testing.T) {
		keyID, key := app.only(t, "AWS::KMS::Key")
		logsID, logs := app.only(t, "AWS::Logs::LogGroup")
		if got := exJSON(exProps(logs)["KmsKeyId"]); got != `{"Fn::GetAtt":["`+keyID+`","Arn"]}` {
			t.Errorf("log group KmsKeyId %s, want the stack's key %s", got, keyID)
		}
		if exProps(key)["EnableKeyRotation"] != true || key["DeletionPolicy"] != "Retain" {
			t.Errorf("key rotation %v, deletion policy %v: want a rotated, retained key", exProps(key)["EnableKeyRotation"], key["DeletionPolicy"])
		}
		// Without it CloudWatch Logs cannot use the key, and creating the log group fails.
		if doc := exJSON(exProps(key)["KeyPolicy"]); !strings.Contains(doc, `"Principal":{"Service":"logs.eu-west-1.amazonaws.com"}`) ||
			!strings.Contains(doc, `"kms:EncryptionContext:aws:logs:arn"`) {
			t.Errorf("the key policy does not let CloudWatch Logs use the key for log groups: %s", doc)
		}
		_, fn := app.only(t, "AWS::Lambda::Function")
		if got := exJSON(exProps(fn)["LoggingConfig"]); got != `{"LogGroup":{"Ref":"`+logsID+`"}}` {
			t.Errorf("function LoggingConfig %s, want log group %s", got, logsID)
		}
	})

	t.Run("the function has its reserved concurrency", func(t *testing.T) {
		_, fn := app.only(t, "AWS::Lambda::Function")
		got, _ := exProps(fn)["ReservedConcurrentExecutions"].(float64)
		if checkout.ReservedConcurrency < 1 || got != checkout.ReservedConcurrency {
			t.Errorf("ReservedConcurrentExecutions %v, want checkout.ReservedConcurrency (%d, at least 1: 0 would stop the function)",
				exProps(fn)["ReservedConcurrentExecutions"], checkout.ReservedConcurrency)
		}
	})

	t.Run("failed asynchronous invocations go to the encrypted dead-letter queue", func(t *testing.T) {
		keyID, _ := app.only(t, "AWS::KMS::Key")
		queueID, queue := app.only(t, "AWS::SQS::Queue")
		_, fn := app.only(t, "AWS::Lambda::Function")
		if got := exJSON(exProps(fn)["DeadLetterConfig"]); got != `{"TargetArn":{"Fn::GetAtt":["`+queueID+`","Arn"]}}` {
			t.Errorf("DeadLetterConfig %s, want the queue %s", got, queueID)
		}
		if got := exJSON(exProps(queue)["KmsMasterKeyId"]); got != `{"Fn::GetAtt":["`+keyID+`","Arn"]}` {
			t.Errorf("queue KmsMasterKeyId %s, want the stack's key %s", got, keyID)
		}
		if got := exProps(queue)["MessageRetentionPeriod"]; got != float64(14*24*3600) {
			t.Errorf("queue MessageRetentionPeriod %v, want 14 days", got)
		}
		// Lambda sends the dead letter with the function's role: it needs the queue and its key.
		_, policy := app.only(t, "AWS::IAM::Policy")
		statements := map[string]bool{}
		for _, st := range exProps(policy)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			statements[exJSON(st)] = true
		}
		for _, want := range []string{
			`{"Action":"sqs:SendMessage","Effect":"Allow","Resource":{"Fn::GetAtt":["` + queueID + `","Arn"]}}`,
			`{"Action":["kms:GenerateDataKey","kms:Decrypt"],"Effect":"Allow","Resource":{"Fn::GetAtt":["` + keyID + `","Arn"]}}`,
		} {
			if !statements[want] {
				t.Errorf("the function's role lacks %s", want)
			}
		}
	})

	t.Run("the table is backed up daily into a vault that refuses early deletion", func(t *testing.T) {
		tableID, _ := infra.only(t, "AWS::DynamoDB::Table")
		vaultID, vault := infra.only(t, "AWS::Backup::BackupVault")
		planID, plan := infra.only(t, "AWS::Backup::BackupPlan")
		_, selection := infra.only(t, "AWS::Backup::BackupSelection")
		sel := exProps(selection)
		if exJSON(sel["BackupPlanId"]) != `{"Fn::GetAtt":["`+planID+`","BackupPlanId"]}` ||
			exJSON(sel["BackupSelection"].(map[string]any)["Resources"]) != `[{"Fn::GetAtt":["`+tableID+`","Arn"]}]` {
			t.Errorf("backup selection %s, want the table %s in plan %s", exJSON(sel), tableID, planID)
		}
		want := `[{"Lifecycle":{"DeleteAfterDays":` + strconv.Itoa(checkout.BackupRetentionDays) + `},"RuleName":"Daily","ScheduleExpression":"cron(0 3 * * ? *)",` +
			`"TargetBackupVault":{"Fn::GetAtt":["` + vaultID + `","BackupVaultName"]}}]`
		if got := exJSON(exProps(plan)["BackupPlan"].(map[string]any)["BackupPlanRule"]); got != want {
			t.Errorf("backup rules\n got %s\nwant %s", got, want)
		}
		if vault["DeletionPolicy"] != "Retain" {
			t.Errorf("vault DeletionPolicy %v, want Retain", vault["DeletionPolicy"])
		}
		if got := exJSON(exProps(vault)["AccessPolicy"]); !strings.Contains(got, `{"Action":["backup:DeleteRecoveryPoint","backup:UpdateRecoveryPointLifecycle"],"Effect":"Deny","Principal":{"AWS":"*"},"Resource":"*"}`) {
			t.Errorf("vault access policy %s does not deny early deletion to everyone", got)
		}
	})

	checkGoldenDir(t, dir, []string{checkout.InfraStackName, checkout.AppStackName}, filepath.Join("testdata", "golden", "examples", "checkout-service"))
}

// exExport follows an {"Fn::ImportValue": name} to the value the producer stack exports.
func exExport(t *testing.T, producer exTemplate, v any) string {
	t.Helper()
	name, _ := v.(map[string]any)["Fn::ImportValue"].(string)
	for _, o := range producer["Outputs"].(map[string]any) {
		o := o.(map[string]any)
		if exJSON(o["Export"]) == exJSON(map[string]string{"Name": name}) {
			return exJSON(o["Value"])
		}
	}
	t.Fatalf("%s imports no export of the producer stack", exJSON(v))
	return ""
}

// exCheckoutApp builds examples/checkout-service once, to run it as the Deploy step does.
var exCheckoutApp = sync.OnceValues(func() (string, error) {
	dir, err := scratchDir("pathtoprod-checkout-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "checkout-service")
	if out, err := exec.Command("go", "build", "-o", bin, "../examples/checkout-service").CombinedOutput(); err != nil {
		return "", &buildError{string(out)}
	}
	return bin, nil
})

// exRunCheckout runs the checkout-service binary as the Deploy step's `cdk deploy` does:
// the pipeline's variables in the environment, the output directory in CDK_OUTDIR.
func exRunCheckout(t *testing.T, out string, env ...string) (int, string) {
	t.Helper()
	bin, err := exCheckoutApp()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range exCheckoutEnv {
		env = append([]string{k + "=" + v}, env...) // later entries win: the caller's override
	}
	return runCDKApp(t, bin, out, env...)
}

// TestExamplesCheckoutServiceRejectsBadImages runs the app binary with a bad IMAGE_URI, and
// with none: exit status 1, a message naming the variable, its value and what is allowed,
// and no stack trace or cloud assembly.
func TestExamplesCheckoutServiceRejectsBadImages(t *testing.T) {
	allowed := `111111111111.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout@sha256:<64 hex digits>`
	for name, uri := range map[string]string{
		"a tag":          "111111111111.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout:3f9c2ab",
		"another repo":   "111111111111.dkr.ecr.eu-west-1.amazonaws.com/search/indexer@" + exDigest,
		"a short digest": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout@sha256:0123abcd",
		"nothing":        "",
	} {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			code, stderr := exRunCheckout(t, out, "IMAGE_URI="+uri)
			if code != 1 {
				t.Errorf("exit status %d, want 1; stderr:\n%s", code, stderr)
			}
			want := `checkout-service: invalid deploy environment: 1 problem(s)` + "\n" +
				`  IMAGE_URI: "` + uri + `": ` + allowed
			if !strings.HasPrefix(stderr, want) {
				t.Errorf("stderr\n%s\nwant it to start with\n%s", stderr, want)
			}
			noTrace(t, stderr)
			if _, err := os.Stat(filepath.Join(out, "manifest.json")); err == nil {
				t.Error("a rejected image still synthesized a cloud assembly")
			}
		})
	}
}

// TestExamplesCheckoutServiceAppSynthesizes runs the binary with the variables the pipeline
// sets: both stacks; every default pack (org.DefaultCompliancePacks) ran on each and left no finding (the CDK
// CLI would fail the synthesis on one), and accepted only the findings listed here; and every
// role carries the permissions boundary the account's CDK bootstrap demands.
func TestExamplesCheckoutServiceAppSynthesizes(t *testing.T) {
	out := t.TempDir()
	code, stderr := exRunCheckout(t, out)
	if code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, stderr)
	}
	stacks := []string{checkout.InfraStackName, checkout.AppStackName}
	for _, stack := range stacks {
		if _, err := os.Stat(filepath.Join(out, stack+".template.json")); err != nil {
			t.Errorf("no template: %v", err)
		}
	}

	t.Run("every pack ran on both stacks and found nothing", func(t *testing.T) {
		// What the checkout service accepts instead of fixing: each suppression, by rule and
		// resource. A new one must be added here, on purpose.
		wantSuppressed := []string{
			"checkout-app: NIST.800.53.R5-IAMNoInlinePolicy checkout-app/FunctionRole/DefaultPolicy/Resource",
			"checkout-app: NIST.800.53.R5-LambdaInsideVPC checkout-app/Function/Resource",
			"checkout-infra: AwsSolutions-IAM4 checkout-infra/Backup/Orders/Role/Resource",
		}
		var suppressed []string
		for _, stack := range stacks {
			for pack, rows := range checkNagReports(t, out, stack) {
				if len(rows) == 0 {
					t.Errorf("the %s report of %s has no rows: the pack did not run", pack, stack)
				}
				for _, r := range rows {
					if r.compliance == "Suppressed" {
						suppressed = append(suppressed, stack+": "+r.rule+" "+r.resource)
					}
				}
			}
			for _, e := range exAssemblyErrors(t, out, stack) {
				t.Errorf("%s: error annotation %s", stack, e)
			}
		}
		sort.Strings(suppressed)
		if !reflect.DeepEqual(suppressed, wantSuppressed) {
			t.Errorf("suppressed findings\n got %q\nwant %q", suppressed, wantSuppressed)
		}
	})

	t.Run("every role has the permissions boundary of the target account", func(t *testing.T) {
		// The policy `cdk bootstrap --example-permissions-boundary` creates in the account: the
		// CloudFormation execution role may create no role without it.
		account, region := exCheckoutEnv["TARGET_ACCOUNT"], exCheckoutEnv["TARGET_REGION"]
		want := "arn:aws:iam::" + account + ":policy/cdk-hnb659fds-permissions-boundary-" + account + "-" + region
		roles := 0
		for _, stack := range stacks {
			tpl := exReadTemplate(t, out, stack)
			for _, typ := range []string{"AWS::IAM::Role", "AWS::IAM::User"} {
				for id, r := range tpl.resources(typ) {
					roles++
					if got := exJoin(exProps(r)["PermissionsBoundary"]); got != want {
						t.Errorf("%s: %s %s has PermissionsBoundary %s, want %s", stack, typ, id, got, want)
					}
				}
			}
		}
		if roles == 0 {
			t.Error("no IAM role in either template: the check checked nothing")
		}
	})
}

// exAssemblyErrors lists the error annotations (what an unsuppressed cdk-nag finding becomes,
// and what makes `cdk synth` fail) of one stack of a cloud assembly: in the manifest, and in
// the stack's additional metadata file, where this CDK version writes them.
func exAssemblyErrors(t *testing.T, assembly, stack string) []string {
	t.Helper()
	type entries map[string][]struct {
		Type string `json:"type"`
		Data any    `json:"data"`
	}
	var m struct {
		Artifacts map[string]struct {
			Metadata               entries `json:"metadata"`
			AdditionalMetadataFile string  `json:"additionalMetadataFile"`
		} `json:"artifacts"`
	}
	readJSON(t, filepath.Join(assembly, "manifest.json"), &m)
	a, ok := m.Artifacts[stack]
	if !ok {
		t.Fatalf("the assembly has no artifact %s", stack)
	}
	all := []entries{a.Metadata}
	if a.AdditionalMetadataFile != "" {
		var more entries
		readJSON(t, filepath.Join(assembly, a.AdditionalMetadataFile), &more)
		all = append(all, more)
	}
	var errs []string
	for _, es := range all {
		for path, list := range es {
			for _, e := range list {
				if e.Type == "aws:cdk:error" {
					errs = append(errs, path+": "+exJSON(e.Data))
				}
			}
		}
	}
	sort.Strings(errs)
	return errs
}

// exJoin resolves a template value made of strings, {"Fn::Join": ["", [...]]} and
// {"Ref": "AWS::Partition"} (as "aws") to a string; anything else comes back as its JSON.
func exJoin(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if v["Ref"] == "AWS::Partition" && len(v) == 1 {
			return "aws"
		}
		if j, ok := v["Fn::Join"].([]any); ok && len(v) == 1 && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, _ := j[1].([]any)
			var out []string
			for _, p := range parts {
				out = append(out, exJoin(p))
			}
			return strings.Join(out, sep)
		}
	}
	return exJSON(v)
}

// ---------------------------------------------------------------------------------------------
// examples/defaults

func TestExamplesDefaults(t *testing.T) {
	dir, stacks := exSynth(t, exDefaultsSynth)
	names, placed := exStackNames(stacks)
	want := []string{
		"search-indexer-dev-pipeline@555555555555/eu-central-1",
		"search-indexer-stg-pipeline@666666666666/eu-central-1",
		"search-indexer-prd-pipeline@777777777777/eu-central-1",
	}
	if !reflect.DeepEqual(placed, want) {
		t.Fatalf("stacks\n got %v\nwant %v", placed, want)
	}
	stages := map[string][]string{
		"search-indexer-dev-pipeline": {"Source", "SecretsScan", "Build", "Deploy"},
		// search/indexer asks for an optional sign-off in staging: a plan comes with it.
		"search-indexer-stg-pipeline": {"Source", "Guard", "Plan", "Approval", "Deploy"},
		"search-indexer-prd-pipeline": {"Source", "Guard", "Plan", "Approval", "Deploy"},
	}
	for _, name := range names {
		tpl := exReadTemplate(t, dir, name)
		if got := tpl.stages(t); !reflect.DeepEqual(got, stages[name]) {
			t.Errorf("%s: stages %v, want %v", name, got, stages[name])
		}
		// Nothing customised: the library's default commands.
		env := strings.TrimSuffix(strings.TrimPrefix(name, "search-indexer-"), "-pipeline")
		// The organisation puts the code on GitHub: no repository in the account, and the
		// Push action follows the environment's branch (main, env/stg, env/prd) of it.
		if n := len(tpl.resources("AWS::CodeCommit::Repository")); n != 0 {
			t.Errorf("%s: %d CodeCommit repositories, want none: the code is on GitHub", name, n)
		}
		_, p := tpl.only(t, "AWS::CodePipeline::Pipeline")
		push := exProps(p)["Stages"].([]any)[0].(map[string]any)["Actions"].([]any)[0].(map[string]any)
		branch := map[string]string{"dev": "main", "stg": "env/stg", "prd": "env/prd"}[env]
		if got := exJSON(push["Configuration"]); !strings.Contains(got, `"BranchName":"`+branch+`"`) ||
			!strings.Contains(got, `"FullRepositoryId":"example-org/search-indexer"`) {
			t.Errorf("%s: the Push action reads %s, want branch %s of example-org/search-indexer", name, got, branch)
		}
		// The stack says so, and no longer that it holds the environment's git remote.
		if got, want := tpl["Description"], "Path to production of search-indexer: the "+env+" environment's pipeline, which follows branch "+
			branch+" of github.com/example-org/search-indexer"; got != want {
			t.Errorf("%s: description %q, want %q", name, got, want)
		}
		if _, _, cmds := tpl.project(t, "search-indexer-"+env+"-deploy"); !reflect.DeepEqual(cmds, envpipeline.DefaultDeployCommands) {
			t.Errorf("%s: deploy commands %v, want the defaults %v", name, cmds, envpipeline.DefaultDeployCommands)
		}
	}
	// Nothing configured is what the platform app makes for the same path: the same
	// templates, byte for byte once asset hashes are masked.
	platformDir := defaultSynthesis(t).dir
	for _, name := range names {
		want, err := os.ReadFile(filepath.Join(platformDir, name+".template.json"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, name+".template.json"))
		if err != nil {
			t.Fatal(err)
		}
		if w, g := normalize(t, want), normalize(t, got); !bytes.Equal(w, g) {
			t.Errorf("%s differs from the platform app's:\n%s", name, firstDifference(w, g))
		}
	}
}

// ---------------------------------------------------------------------------------------------
// examples/custom-steps

func TestExamplesCustomSteps(t *testing.T) {
	dir, stacks := exSynth(t, exCustomStepsSynth)
	names, placed := exStackNames(stacks)
	want := []string{
		"web-storefront-dev-pipeline@210000000001/eu-west-1",
		"web-storefront-stg-pipeline@210000000002/eu-west-1",
		"web-storefront-prd-pipeline@210000000003/eu-west-1",
	}
	if !reflect.DeepEqual(placed, want) {
		t.Fatalf("stacks\n got %v\nwant %v", placed, want)
	}
	dev, stg, prd := exReadTemplate(t, dir, names[0]), exReadTemplate(t, dir, names[1]), exReadTemplate(t, dir, names[2])

	t.Run("the added stages are exactly where intended", func(t *testing.T) {
		for _, c := range []struct {
			tpl  exTemplate
			want []string
		}{
			{dev, []string{"Source", "SecretsScan", "Build", "SecurityScan", "Deploy"}},
			{stg, []string{"Source", "Guard", "Deploy", "IntegrationTests"}},
			{prd, []string{"Source", "Guard", "Plan", "Approval", "Deploy"}},
		} {
			if got := c.tpl.stages(t); !reflect.DeepEqual(got, c.want) {
				t.Errorf("stages %v, want %v", got, c.want)
			}
		}
	})

	t.Run("the overridden commands run", func(t *testing.T) {
		_, _, build := dev.project(t, "web-storefront-dev-build")
		// The SBOM tool's install, then the team's build and test, then the library's image
		// steps around the team's image command.
		if n := len(envpipeline.SbomInstallCommands); !reflect.DeepEqual(build[:n], envpipeline.SbomInstallCommands) ||
			!reflect.DeepEqual(build[n:n+2], storefront.BuildCommands) {
			t.Errorf("build commands start %v, want %v then %v", build[:n+2], envpipeline.SbomInstallCommands, storefront.BuildCommands)
		}
		if all := strings.Join(build, "\n"); !strings.Contains(all, storefront.ImageCommands[0]+` && docker push "$IMAGE_TAGGED"`) {
			t.Errorf("the build does not run the team's image command:\n%s", all)
		}
		for _, c := range []struct {
			tpl  exTemplate
			name string
		}{{dev, "dev"}, {stg, "stg"}, {prd, "prd"}} {
			if _, _, cmds := c.tpl.project(t, "web-storefront-"+c.name+"-deploy"); !reflect.DeepEqual(cmds, storefront.DeployCommands) {
				t.Errorf("%s deploy commands %v, want %v", c.name, cmds, storefront.DeployCommands)
			}
		}
		if _, _, cmds := dev.project(t, "web-storefront-dev-securityscan"); !reflect.DeepEqual(cmds, storefront.ScanCommands) {
			t.Errorf("security scan commands %v, want %v", cmds, storefront.ScanCommands)
		}
		_, tests, cmds := stg.project(t, "web-storefront-stg-integrationtests")
		if !reflect.DeepEqual(cmds, storefront.IntegrationCommands) {
			t.Errorf("integration test commands %v, want %v", cmds, storefront.IntegrationCommands)
		}
		if vars := exJSON(exProps(tests)["Environment"].(map[string]any)["EnvironmentVariables"]); !strings.Contains(vars,
			`{"Name":"API_KEY_PARAMETER","Type":"PLAINTEXT","Value":"/web/storefront/stg/integration-api-key"}`) {
			t.Errorf("integration tests lack API_KEY_PARAMETER: %s", vars)
		}
	})

	t.Run("every step runs on the bigger machine with the team's variables", func(t *testing.T) {
		for i, tpl := range []exTemplate{dev, stg, prd} {
			// dev: secrets scan, build, scan, deploy, verify; stg: deploy, verify, tests; prd:
			// plan, deploy, verify (the guard is a Lambda function, not a project).
			projects := tpl.resources("AWS::CodeBuild::Project")
			if want := []int{5, 3, 3}[i]; len(projects) != want {
				t.Fatalf("%s: %d CodeBuild projects, want %d", names[i], len(projects), want)
			}
			for id, p := range projects {
				env := exProps(p)["Environment"].(map[string]any)
				if env["ComputeType"] != "BUILD_GENERAL1_LARGE" {
					t.Errorf("%s: ComputeType %v", id, env["ComputeType"])
				}
				if vars := exJSON(env["EnvironmentVariables"]); !strings.Contains(vars, `{"Name":"GOFLAGS","Type":"PLAINTEXT","Value":"-mod=readonly"}`) {
					t.Errorf("%s lacks GOFLAGS: %s", id, vars)
				}
			}
		}
	})

	t.Run("only the integration tests may read the API key, and only that parameter", func(t *testing.T) {
		statement := `{"Action":"ssm:GetParameter","Effect":"Allow",` +
			`"Resource":"arn:aws:ssm:eu-west-1:210000000002:parameter/web/storefront/stg/integration-api-key","Sid":"ReadIntegrationApiKey"}`
		_, tests, _ := stg.project(t, "web-storefront-stg-integrationtests")
		role := exProps(tests)["ServiceRole"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		found := 0
		for _, tpl := range []exTemplate{dev, stg, prd} {
			for id, p := range tpl.resources("AWS::IAM::Policy") {
				doc := exJSON(exProps(p)["PolicyDocument"])
				if !strings.Contains(doc, "ssm:") {
					continue
				}
				found++
				if exJSON(exProps(p)["Roles"]) != `[{"Ref":"`+role+`"}]` {
					t.Errorf("policy %s with ssm permissions is attached to %s, want only %s", id, exJSON(exProps(p)["Roles"]), role)
				}
				var d struct{ Statement []any }
				json.Unmarshal([]byte(doc), &d)
				n := 0
				for _, st := range d.Statement {
					if s := exJSON(st); strings.Contains(s, "ssm:") {
						n++
						if s != statement {
							t.Errorf("ssm statement\n got %s\nwant %s", s, statement)
						}
					}
				}
				if n != 1 {
					t.Errorf("%d ssm statements, want 1", n)
				}
			}
		}
		if found != 1 {
			t.Errorf("%d policies with ssm permissions, want 1", found)
		}
	})

	checkGoldenDir(t, dir, names[:2], filepath.Join("testdata", "golden", "examples", "custom-steps"))
}

// TestExamplesPassCfnLint lints the templates the examples' tests synthesized in this run,
// every stack of every example (not the golden copies, which are only some of them).
func TestExamplesPassCfnLint(t *testing.T) {
	var templates []string
	for _, synth := range []func() (exSynthesis, error){exCheckoutSynth, exDefaultsSynth, exCustomStepsSynth} {
		s, err := synth()
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range s.stacks {
			templates = append(templates, filepath.Join(s.dir, *st.StackName()+".template.json"))
		}
	}
	if len(templates) != 8 {
		t.Fatalf("%d example templates, want 8 (2 checkout-service, 3 defaults, 3 custom-steps)", len(templates))
	}
	cfnLint(t, templates)
}
