package envpipeline_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
	"github.com/platform-eng/pathtoprod/constructs/jsiiexit"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsiiexit.Close() // jsii.Close, minus its stray "waitid" line after the test output
	os.Exit(code)
}

// checkout is the default organisation's payments/checkout path: dev → stg → prd, without
// its sandboxes, which sandboxes_test.go tests on stacks of its own (sandboxPath).
func checkout(t *testing.T) org.Path {
	t.Helper()
	p, err := org.Default().Path("payments", "checkout")
	if err != nil {
		t.Fatal(err)
	}
	p.Sandboxes = nil
	return p
}

// synth builds a fresh stack in env's account with one EnvPipeline and returns its template.
func synth(t *testing.T, props envpipeline.EnvPipelineProps, extend ...func(envpipeline.EnvPipeline)) assertions.Template {
	t.Helper()
	env, err := props.Path.Environment(props.Environment)
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String(env.Account), Region: jsii.String(env.Region)},
	})
	p := envpipeline.NewEnvPipeline(stack, jsii.String("Pipeline"), &props)
	for _, f := range extend {
		f(p)
	}
	return assertions.Template_FromStack(stack, nil)
}

// shared caches the templates of pipelines built with only Path, Environment and, with
// registry, the default organisation's Registry: tests only read templates, so cases that
// need the same one share a single synthesis (each takes seconds).
var shared = map[string]assertions.Template{}

// defaults returns the shared template of the checkout path's env pipeline, without a registry.
func defaults(t *testing.T, env string) assertions.Template {
	t.Helper()
	if tpl, ok := shared[env]; ok {
		return tpl
	}
	tpl := synth(t, envpipeline.EnvPipelineProps{Path: checkout(t), Environment: env})
	shared[env] = tpl
	return tpl
}

// resources returns the template's resources of one type, by logical id.
func resources(t assertions.Template, typ string) map[string]map[string]interface{} {
	out := map[string]map[string]interface{}{}
	for id, r := range (*t.ToJSON())["Resources"].(map[string]interface{}) {
		res := r.(map[string]interface{})
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// only returns the single resource of a type, failing otherwise.
func only(t *testing.T, tpl assertions.Template, typ string) map[string]interface{} {
	t.Helper()
	rs := resources(tpl, typ)
	if len(rs) != 1 {
		t.Fatalf("want exactly one %s, got %d", typ, len(rs))
	}
	for _, r := range rs {
		return r
	}
	return nil
}

// stageNames lists the pipeline's stages in order.
func stageNames(t *testing.T, tpl assertions.Template) []string {
	t.Helper()
	var names []string
	for _, s := range only(t, tpl, "AWS::CodePipeline::Pipeline")["Properties"].(map[string]interface{})["Stages"].([]interface{}) {
		names = append(names, s.(map[string]interface{})["Name"].(string))
	}
	return names
}

func TestPipelineIsV2QueuedAndNamedForThePath(t *testing.T) {
	tpl := defaults(t, "stg")
	tpl.HasResourceProperties(jsii.String("AWS::CodePipeline::Pipeline"), map[string]interface{}{
		"Name":          "payments-checkout-stg",
		"PipelineType":  "V2",
		"ExecutionMode": "QUEUED",
	})
}

func TestSupersededModeIsAllowedParallelIsNot(t *testing.T) {
	tpl := synth(t, envpipeline.EnvPipelineProps{Path: checkout(t), Environment: "dev", ExecutionMode: awscodepipeline.ExecutionMode_SUPERSEDED})
	tpl.HasResourceProperties(jsii.String("AWS::CodePipeline::Pipeline"), map[string]interface{}{"ExecutionMode": "SUPERSEDED"})

	msg := panicMessage(func() {
		synth(t, envpipeline.EnvPipelineProps{Path: checkout(t), Environment: "dev", ExecutionMode: awscodepipeline.ExecutionMode_PARALLEL})
	})
	if !strings.Contains(msg, `ExecutionMode: "PARALLEL": QUEUED or SUPERSEDED`) {
		t.Errorf("PARALLEL: got %q", msg)
	}
}

func TestRepositoryIsRetainedAndTriggersOnTheBranch(t *testing.T) {
	p := checkout(t)
	p.Environments[1].Branch = "release"
	tpl := synth(t, envpipeline.EnvPipelineProps{Path: p, Environment: "stg"})
	tpl.HasResource(jsii.String("AWS::CodeCommit::Repository"), map[string]interface{}{
		"DeletionPolicy":      "Retain",
		"UpdateReplacePolicy": "Retain",
		"Properties":          map[string]interface{}{"RepositoryName": "payments-checkout"},
	})
	tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]interface{}{
		"EventPattern": map[string]interface{}{
			"source":      []interface{}{"aws.codecommit"},
			"detail-type": []interface{}{"CodeCommit Repository State Change"},
			"detail": map[string]interface{}{
				"event":         []interface{}{"referenceCreated", "referenceUpdated"},
				"referenceName": []interface{}{"release"},
			},
		},
	})
	// The source action reads that branch, without polling.
	tpl.HasResourceProperties(jsii.String("AWS::CodePipeline::Pipeline"), map[string]interface{}{
		"Stages": assertions.Match_ArrayWith(&[]interface{}{map[string]interface{}{
			"Name": "Source",
			"Actions": []interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
				"Configuration":   map[string]interface{}{"BranchName": "release", "PollForSourceChanges": false, "RepositoryName": assertions.Match_AnyValue()},
				"Namespace":       "SourceVariables",
				"ActionTypeId":    map[string]interface{}{"Category": "Source", "Owner": "AWS", "Provider": "CodeCommit", "Version": "1"},
				"OutputArtifacts": []interface{}{map[string]interface{}{"Name": "Source"}},
				"RunOrder":        1,
				"Name":            "Push",
				"RoleArn":         assertions.Match_AnyValue(),
			})},
		}}),
	})
}

func TestArtifactStoreIsEncryptedTLSOnlyPrivateAndRetained(t *testing.T) {
	tpl := defaults(t, "dev")
	tpl.HasResource(jsii.String("AWS::S3::Bucket"), map[string]interface{}{
		"DeletionPolicy": "Retain",
		"Properties": assertions.Match_ObjectLike(&map[string]interface{}{
			"BucketEncryption": map[string]interface{}{"ServerSideEncryptionConfiguration": []interface{}{
				map[string]interface{}{"BucketKeyEnabled": true, "ServerSideEncryptionByDefault": map[string]interface{}{
					"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": assertions.Match_AnyValue(),
				}},
			}},
			"PublicAccessBlockConfiguration": map[string]interface{}{
				"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
			},
			"VersioningConfiguration": map[string]interface{}{"Status": "Enabled"},
			"LoggingConfiguration":    map[string]interface{}{"DestinationBucketName": assertions.Match_AnyValue(), "LogFilePrefix": "artifacts/"},
		}),
	})
	// Every bucket (the artifacts and their access logs) denies plain HTTP.
	tpl.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(2))
	policies := resources(tpl, "AWS::S3::BucketPolicy")
	if len(policies) != 2 {
		t.Fatalf("want a TLS-only policy on both buckets, got %d policies", len(policies))
	}
	for id, pol := range policies {
		j, _ := json.Marshal(pol)
		if !strings.Contains(string(j), `"aws:SecureTransport":"false"`) || !strings.Contains(string(j), `"Effect":"Deny"`) {
			t.Errorf("bucket policy %s does not deny non-TLS access: %s", id, j)
		}
	}
	// Both keys (the artifacts' and the notification topic's) rotate and are retained.
	keys := resources(tpl, "AWS::KMS::Key")
	if len(keys) != 2 {
		t.Fatalf("want the artifact key and the topic key, got %d keys", len(keys))
	}
	for id, k := range keys {
		props := k["Properties"].(map[string]interface{})
		if props["EnableKeyRotation"] != true || k["DeletionPolicy"] != "Retain" {
			t.Errorf("key %s: rotation %v, deletion policy %v", id, props["EnableKeyRotation"], k["DeletionPolicy"])
		}
	}
}

func TestStepsAreEncryptedLoggedAndRunTheirCommands(t *testing.T) {
	p := checkout(t)
	p.Commands.Build = []string{"go test ./..."}
	tpl := synth(t, envpipeline.EnvPipelineProps{Path: p, Environment: "dev"})
	projects := resources(tpl, "AWS::CodeBuild::Project")
	if len(projects) != 4 {
		t.Fatalf("dev: want secrets scan, build, deploy and verify projects, got %d", len(projects))
	}
	want := map[string][]string{
		"payments-checkout-dev-secretsscan": envpipeline.SecretsScanCommands,
		"payments-checkout-dev-build":       {"go test ./..."},
		"payments-checkout-dev-deploy":      {"npm ci", "npx cdk deploy --all --require-approval never --ci --progress events"},
		"payments-checkout-dev-verify":      {"make verify"},
	}
	for _, proj := range projects {
		props := proj["Properties"].(map[string]interface{})
		name := props["Name"].(string)
		if got := buildCommands(t, props); !reflect.DeepEqual(got, want[name]) {
			t.Errorf("%s: commands %q, want %q", name, got, want[name])
		}
		if props["EncryptionKey"] == nil {
			t.Errorf("%s: no encryption key", name)
		}
		logs, _ := json.Marshal(props["LogsConfig"])
		if !strings.Contains(string(logs), `"Status":"ENABLED"`) || !strings.Contains(string(logs), `"GroupName":{"Ref"`) {
			t.Errorf("%s: logs %s, want CloudWatch logs in its own log group", name, logs)
		}
		env, _ := json.Marshal(props["Environment"])
		for _, v := range []string{`"ENVIRONMENT"`, `"TARGET_ACCOUNT","Type":"PLAINTEXT","Value":"222222222222"`, `"Type":"ARM_CONTAINER"`} {
			if !strings.Contains(string(env), v) {
				t.Errorf("%s: environment %s lacks %s", name, env, v)
			}
		}
		delete(want, name)
	}
	if len(want) != 0 {
		t.Errorf("missing projects %v", want)
	}
	tpl.AllResourcesProperties(jsii.String("AWS::Logs::LogGroup"), map[string]interface{}{"RetentionInDays": 365})
}

// assumableRoles returns the roles the deploy role's one sts:AssumeRole statement names.
func assumableRoles(t *testing.T, tpl assertions.Template) []string {
	t.Helper()
	var found []map[string]interface{}
	for _, st := range statementsOf(t, tpl, "PipelineDeployRole") {
		if st["Action"] == "sts:AssumeRole" {
			found = append(found, st)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one sts:AssumeRole statement in the deploy role's policy, got %d", len(found))
	}
	var arns []string
	for _, r := range found[0]["Resource"].([]interface{}) {
		arns = append(arns, r.(map[string]interface{})["Fn::Sub"].(string))
	}
	return arns
}

// bootstrapRoles are the four roles of a CDK bootstrap stack with qualifier q.
func bootstrapRoles(q string) []string {
	var want []string
	for _, r := range []string{"deploy", "file-publishing", "image-publishing", "lookup"} {
		want = append(want, "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-"+q+"-"+r+"-role-${AWS::AccountId}-${AWS::Region}")
	}
	return want
}

func TestDeployRoleMayOnlyAssumeTheCdkBootstrapRoles(t *testing.T) {
	t.Run("default qualifier", func(t *testing.T) {
		tpl := defaults(t, "stg")
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]interface{}{"RoleName": "payments-checkout-stg-deploy"})
		if got, want := assumableRoles(t, tpl), bootstrapRoles(org.DefaultCdkQualifier); !reflect.DeepEqual(got, want) {
			t.Errorf("assumable roles %v, want %v", got, want)
		}
	})
	t.Run("the organisation's qualifier", func(t *testing.T) {
		// GIVEN a path whose organisation bootstraps its accounts with qualifier abc
		p := checkout(t)
		p.Settings.CdkQualifier = "abc"
		// WHEN its stg pipeline is synthesized
		tpl := synth(t, envpipeline.EnvPipelineProps{Path: p, Environment: "stg"})
		// THEN the deploy step may assume exactly that bootstrap's four roles
		if got, want := assumableRoles(t, tpl), bootstrapRoles("abc"); !reflect.DeepEqual(got, want) {
			t.Errorf("assumable roles %v, want %v", got, want)
		}
	})
}

func TestFailedRunsNotifyAnEncryptedTopic(t *testing.T) {
	tpl := defaults(t, "prd")
	tpl.HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]interface{}{
		"TopicName": "payments-checkout-prd-notifications", "KmsMasterKeyId": assertions.Match_AnyValue(),
	})
	tpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]interface{}{
		"Protocol": "email", "Endpoint": "payments-oncall@example.com",
	})
	tpl.HasResourceProperties(jsii.String("AWS::CodeStarNotifications::NotificationRule"), map[string]interface{}{
		"Name":         "payments-checkout-prd-failed",
		"EventTypeIds": []interface{}{"codepipeline-pipeline-pipeline-execution-failed"},
	})
	tpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]interface{}{
		"KeyPolicy": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{map[string]interface{}{
			"Sid":       "AllowPublishersThroughSNS",
			"Effect":    "Allow",
			"Action":    []interface{}{"kms:GenerateDataKey", "kms:Decrypt"},
			"Principal": map[string]interface{}{"Service": "codestar-notifications.amazonaws.com"},
			"Resource":  "*",
			"Condition": map[string]interface{}{"StringEquals": map[string]interface{}{"kms:ViaService": "sns.eu-west-1.amazonaws.com"}},
		}})},
	})
	tpl.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), map[string]interface{}{
		"PolicyDocument": map[string]interface{}{"Statement": assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
			"Action": "sns:Publish", "Principal": map[string]interface{}{"Service": "codestar-notifications.amazonaws.com"},
		})})},
	})
}

func TestServiceTeamsExtendThePipeline(t *testing.T) {
	tpl := synth(t, envpipeline.EnvPipelineProps{
		Path: checkout(t), Environment: "stg",
		EnvironmentVariables: map[string]*awscodebuild.BuildEnvironmentVariable{"GOFLAGS": {Value: jsii.String("-mod=vendor")}},
		ComputeType:          awscodebuild.ComputeType_MEDIUM,
	}, func(p envpipeline.EnvPipeline) {
		p.AddStep("IntegrationTests", &envpipeline.StepProps{Commands: []string{"make integration"}, After: envpipeline.StageDeploy})
		p.AddStep("LoadTest", &envpipeline.StepProps{Commands: []string{"make load"}})
	})
	if got, want := stageNames(t, tpl), []string{"Source", "Guard", "Deploy", "IntegrationTests", "LoadTest"}; !reflect.DeepEqual(got, want) {
		t.Errorf("stages %v, want %v", got, want)
	}
	tpl.HasResourceProperties(jsii.String("AWS::CodeBuild::Project"), map[string]interface{}{
		"Name":   "payments-checkout-stg-integrationtests",
		"Source": map[string]interface{}{"Type": "CODEPIPELINE", "BuildSpec": assertions.Match_StringLikeRegexp(jsii.String(`make integration`))},
	})
	tpl.AllResourcesProperties(jsii.String("AWS::CodeBuild::Project"), map[string]interface{}{
		"Environment": assertions.Match_ObjectLike(&map[string]interface{}{
			"ComputeType":          "BUILD_GENERAL1_MEDIUM",
			"EnvironmentVariables": assertions.Match_ArrayWith(&[]interface{}{map[string]interface{}{"Name": "GOFLAGS", "Type": "PLAINTEXT", "Value": "-mod=vendor"}}),
		}),
	})
}

func TestInvalidPropsListEveryProblem(t *testing.T) {
	cases := []struct {
		name  string
		props envpipeline.EnvPipelineProps
		want  []string
	}{
		{"unknown environment", envpipeline.EnvPipelineProps{Path: checkout(t), Environment: "qa"},
			[]string{`Environment: "qa": the name of one of the path's environments`, `[dev stg prd]`}},
		{"bad path and reserved variable", envpipeline.EnvPipelineProps{
			Path:                 func() org.Path { p := checkout(t); p.Environments[0].Account = "x"; return p }(),
			Environment:          "dev",
			EnvironmentVariables: map[string]*awscodebuild.BuildEnvironmentVariable{"COMMIT_ID": {Value: jsii.String("x")}},
		}, []string{`path.environments[0].account: "x"`, `EnvironmentVariables: "COMMIT_ID"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := panicMessage(func() {
				app := awscdk.NewApp(nil)
				stack := awscdk.NewStack(app, jsii.String("S"), nil)
				envpipeline.NewEnvPipeline(stack, jsii.String("P"), &c.props)
			})
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("panic %q lacks %q", msg, w)
				}
			}
		})
	}
	t.Run("stack in another account", func(t *testing.T) {
		msg := panicMessage(func() {
			app := awscdk.NewApp(nil)
			stack := awscdk.NewStack(app, jsii.String("S"), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("999999999999"), Region: jsii.String("eu-west-1")}})
			envpipeline.NewEnvPipeline(stack, jsii.String("P"), &envpipeline.EnvPipelineProps{Path: checkout(t), Environment: "stg"})
		})
		if !strings.Contains(msg, "environment's account 333333333333; the stack is in 999999999999") {
			t.Errorf("got %q", msg)
		}
	})
	t.Run("AddStep", func(t *testing.T) {
		msg := panicMessage(func() {
			synth(t, envpipeline.EnvPipelineProps{Path: checkout(t), Environment: "stg"}, func(p envpipeline.EnvPipeline) {
				p.AddStep("Deploy", &envpipeline.StepProps{After: "Nope"})
			})
		})
		for _, w := range []string{
			`envpipeline: AddStep "Deploy": invalid props:`,
			`name: "Deploy": a stage name not already in the pipeline [Source Guard Deploy] in any case`,
			`Commands: []: at least one command`,
			`After: "Nope": one of the stages from the Guard on [Guard Deploy]`,
		} {
			if !strings.Contains(msg, w) {
				t.Errorf("panic %q lacks %q", msg, w)
			}
		}
	})
}

func TestPropsAreNotModified(t *testing.T) {
	// A path as a Go user writes it: no defaults applied yet.
	path := org.Path{Team: "web", Service: org.Service{Name: "shop", Environments: []org.Environment{
		{Name: "dev", Account: "222222222222", Region: "eu-west-1"},
		{Name: "stg", Account: "333333333333", Region: "eu-west-1"},
	}}}
	props := &envpipeline.EnvPipelineProps{Path: path, Environment: "stg"}
	before := fmt.Sprintf("%+v", *props)
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("S"), nil)
	envpipeline.NewEnvPipeline(stack, jsii.String("P"), props)
	if after := fmt.Sprintf("%+v", *props); after != before {
		t.Errorf("props changed:\n%s\n%s", before, after)
	}
	if props.Path.Environments[1].Upstream != "" || props.ExecutionMode != "" {
		t.Error("defaults were written into the caller's props")
	}

	// The watch props are applied to a copy of the path, and their defaults to a copy of them.
	watch, window, on := &org.Watch{Bake: "20m"}, &org.Window{Cron: "0 9 * * MON", Duration: "1h"}, true
	props = &envpipeline.EnvPipelineProps{Path: path, Environment: "stg", Watch: watch, Window: window, RollbackOnFailure: &on}
	before = fmt.Sprintf("%+v %+v %+v", *props, *watch, *window)
	envpipeline.NewEnvPipeline(awscdk.NewStack(awscdk.NewApp(nil), jsii.String("S"), nil), jsii.String("P"), props)
	if after := fmt.Sprintf("%+v %+v %+v", *props, *watch, *window); after != before {
		t.Errorf("props changed:\n%s\n%s", before, after)
	}
	if path.Environments[1].Watch != nil || path.Environments[1].Window != nil || path.Environments[1].RollbackOnFailure != nil || watch.Alarms != nil || watch.Wait != "" {
		t.Error("the watch props or their defaults were written into the caller's path or props")
	}
}

// buildCommands parses a project's inline buildspec and returns its build commands.
func buildCommands(t *testing.T, projectProps map[string]interface{}) []string {
	t.Helper()
	var spec struct {
		Phases struct {
			Build struct {
				Commands []string `json:"commands"`
			} `json:"build"`
		} `json:"phases"`
	}
	if err := json.Unmarshal([]byte(projectProps["Source"].(map[string]interface{})["BuildSpec"].(string)), &spec); err != nil {
		t.Fatal(err)
	}
	return spec.Phases.Build.Commands
}

func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return "no panic"
}

// An EnvPipeline is a construct in its own right: service teams pass it to CDK APIs.
func TestEnvPipelineIsAConstructCDKAccepts(t *testing.T) {
	synth(t, envpipeline.EnvPipelineProps{Path: checkout(t), Environment: "stg"}, func(p envpipeline.EnvPipeline) {
		if got := *awscdk.Stack_Of(p).StackName(); got != "Test" {
			t.Errorf("Stack_Of: %s", got)
		}
		awscdk.Tags_Of(p).Add(jsii.String("cost-center"), jsii.String("42"), nil)
		child := awscdk.NewCfnOutput(p, jsii.String("RepositoryUrl"), &awscdk.CfnOutputProps{Value: p.Repository().RepositoryCloneUrlGrc()})
		if got := *child.Node().Path(); got != "Test/Pipeline/RepositoryUrl" {
			t.Errorf("child path %s", got)
		}
	})
}

// Suppressions must follow the construct wherever it is and whatever is added to it later:
// a pipeline with another id, and steps added after construction, still have no findings.
func TestAddedStepsAndAnyIdHaveNoNagErrors(t *testing.T) {
	for _, env := range []string{"dev", "prd"} {
		t.Run(env, func(t *testing.T) {
			e, _ := checkout(t).Environment(env)
			r := org.Default().Registry
			app := awscdk.NewApp(nil)
			stack := awscdk.NewStack(app, jsii.String("Team"), &awscdk.StackProps{
				Env: &awscdk.Environment{Account: jsii.String(e.Account), Region: jsii.String(e.Region)},
			})
			p := envpipeline.NewEnvPipeline(stack, jsii.String("Checkout"), &envpipeline.EnvPipelineProps{Path: checkout(t), Environment: env, Registry: &r})
			// As early as each environment allows: after the SecretsScan in dev, the Approval in prd.
			first := map[string]string{"dev": envpipeline.StageSecretsScan, "prd": envpipeline.StageApproval}[env]
			p.AddStep("Scan", &envpipeline.StepProps{Commands: []string{"make scan"}, After: first})
			p.AddStep("Smoke", &envpipeline.StepProps{Commands: []string{"make smoke"}})
			// LogIgnores: every suppressed finding is reported, so the test sees that the checks ran
			// on the added steps' roles and were suppressed there, not skipped.
			awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{LogIgnores: jsii.Bool(true)}), nil)
			awscdk.Aspects_Of(app).Add(cdknag.NewNIST80053R5Checks(&cdknag.NagPackProps{LogIgnores: jsii.Bool(true)}), nil)
			annotations := assertions.Annotations_FromStack(stack)
			errs := annotations.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(".*")))
			for _, e := range *errs {
				t.Errorf("%s %v", *e.Id, e.Entry.Data)
			}
			for _, step := range []string{"Scan", "Smoke"} {
				ignored := annotations.FindInfo(jsii.String("/Team/Checkout/"+step+"/Role/DefaultPolicy/Resource"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-IAM5")))
				if len(*ignored) == 0 {
					t.Errorf("no suppressed AwsSolutions-IAM5 finding on step %s's role: the checks did not see it", step)
				}
			}
		})
	}
}
