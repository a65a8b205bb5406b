package envpipeline_test

import (
	"debug/elf"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
)

// statementsOf returns the statements of the one inline policy attached to roles whose
// logical id contains roleID, failing unless exactly one policy is.
func statementsOf(t *testing.T, tpl assertions.Template, roleID string) []map[string]interface{} {
	t.Helper()
	var out []map[string]interface{}
	matched := 0
	for _, pol := range resources(tpl, "AWS::IAM::Policy") {
		props := pol["Properties"].(map[string]interface{})
		roles, _ := json.Marshal(props["Roles"])
		if !strings.Contains(string(roles), roleID) {
			continue
		}
		matched++
		for _, s := range props["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
			out = append(out, s.(map[string]interface{}))
		}
	}
	if matched != 1 {
		t.Fatalf("want one policy attached to %s, got %d", roleID, matched)
	}
	return out
}

func compact(v interface{}) string { b, _ := json.Marshal(v); return string(b) }

func TestPromotionStageOrder(t *testing.T) {
	cases := []struct {
		env  string
		want []string
	}{
		{"dev", []string{"Source", "SecretsScan", "Build", "Deploy"}},
		{"stg", []string{"Source", "Guard", "Deploy"}},
		{"prd", []string{"Source", "Guard", "Plan", "Approval", "Deploy"}},
	}
	for _, c := range cases {
		t.Run(c.env, func(t *testing.T) {
			got := stageNames(t, defaults(t, c.env))
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("stages %v, want %v", got, c.want)
			}
		})
	}
	t.Run("approval can be turned on in stg and off in prd", func(t *testing.T) {
		p := checkout(t)
		on, off := true, false
		p.Environments[1].Approval, p.Environments[2].Approval = &on, &off
		if got := stageNames(t, synth(t, envpipeline.EnvPipelineProps{Path: p, Environment: "stg"})); !reflect.DeepEqual(got, []string{"Source", "Guard", "Plan", "Approval", "Deploy"}) {
			t.Errorf("stg with approval: %v", got)
		}
		if got := stageNames(t, synth(t, envpipeline.EnvPipelineProps{Path: p, Environment: "prd"})); !reflect.DeepEqual(got, []string{"Source", "Guard", "Deploy"}) {
			t.Errorf("prd without approval: %v", got)
		}
	})
}

func TestGuardIsConfiguredForTheUpstream(t *testing.T) {
	tpl := defaults(t, "prd")
	tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
		"FunctionName":  "payments-checkout-prd-guard",
		"Runtime":       "provided.al2023",
		"Architectures": []interface{}{"arm64"},
		"Handler":       "bootstrap",
		"Timeout":       60,
		"Environment": map[string]interface{}{"Variables": map[string]interface{}{
			"UPSTREAM_ENVIRONMENT": "stg",
			"UPSTREAM_PIPELINE":    "payments-checkout-stg",
			"UPSTREAM_REGION":      "eu-west-1",
			"UPSTREAM_ROLE_ARN":    map[string]interface{}{"Fn::Sub": "arn:${AWS::Partition}:iam::333333333333:role/payments-checkout-stg-reader"},
			"HISTORY_MAX_PAGES":    "10",
		}},
	})
	tpl.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), map[string]interface{}{"MaximumRetryAttempts": 0})
	// The action passes the pushed commit and publishes its outputs in the Guard namespace.
	tpl.HasResourceProperties(jsii.String("AWS::CodePipeline::Pipeline"), map[string]interface{}{
		"Stages": assertions.Match_ArrayWith(&[]interface{}{map[string]interface{}{
			"Name": "Guard",
			"Actions": []interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
				"Name":         "CommitPassedUpstream",
				"Namespace":    "Guard",
				"ActionTypeId": map[string]interface{}{"Category": "Invoke", "Owner": "AWS", "Provider": "Lambda", "Version": "1"},
				"Configuration": map[string]interface{}{
					"FunctionName":   assertions.Match_AnyValue(),
					"UserParameters": `{"commit":"#{SourceVariables.CommitId}","executionId":"#{codepipeline.PipelineExecutionId}"}`,
				},
			})},
		}}),
	})
}

func TestGuardHistoryBoundIsTheOrganisationsAndTimeoutIsConfigurable(t *testing.T) {
	// GIVEN a path whose organisation reads 25 pages of history
	p := checkout(t)
	p.Settings.HistoryPages = 25
	// WHEN its stg pipeline is synthesized with a 90 s guard
	tpl := synth(t, envpipeline.EnvPipelineProps{Path: p, Environment: "stg", GuardTimeout: awscdk.Duration_Seconds(jsii.Number(90))})
	// THEN the guard, and the dashboard's runs widget, read as far as the ship CLI does
	tpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(2))
	tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
		"FunctionName": "payments-checkout-stg-guard",
		"Timeout":      90,
		"Environment":  map[string]interface{}{"Variables": assertions.Match_ObjectLike(&map[string]interface{}{"HISTORY_MAX_PAGES": "25"})},
	})
	tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
		"FunctionName": "payments-checkout-stg-runs",
		"Timeout":      30,
		"Environment":  map[string]interface{}{"Variables": assertions.Match_ObjectLike(&map[string]interface{}{"HISTORY_MAX_PAGES": "25"})},
	})
}

func TestGuardRoleStatementsAreExact(t *testing.T) {
	tpl := defaults(t, "stg")
	tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]interface{}{
		"RoleName": "payments-checkout-stg-guard",
		"AssumeRolePolicyDocument": map[string]interface{}{"Statement": []interface{}{map[string]interface{}{
			"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]interface{}{"Service": "lambda.amazonaws.com"},
		}}},
	})
	got := compact(statementsOf(t, tpl, "PipelineGuardRole"))
	want := `[{"Action":["logs:CreateLogStream","logs:PutLogEvents"],"Effect":"Allow","Resource":{"Fn::GetAtt":["PipelineGuardLogs7564E09E","Arn"]}},` +
		`{"Action":"sts:AssumeRole","Effect":"Allow","Resource":{"Fn::Sub":"arn:${AWS::Partition}:iam::222222222222:role/payments-checkout-dev-reader"},"Sid":"ReadUpstreamHistory"},` +
		// The Lambda service delivers an unreported invocation to the pipeline's encrypted topic.
		`{"Action":"sns:Publish","Effect":"Allow","Resource":{"Ref":"PipelineNotificationsEAA31857"}},` +
		`{"Action":["kms:GenerateDataKey","kms:Decrypt"],"Effect":"Allow","Resource":{"Fn::GetAtt":["PipelineNotificationsKeyB16A9DCE","Arn"]}},` +
		`{"Action":["codepipeline:PutJobSuccessResult","codepipeline:PutJobFailureResult"],"Effect":"Allow","Resource":"*"}]`
	if got != want {
		t.Errorf("guard role statements\n got %s\nwant %s", got, want)
	}
}

func TestUpstreamReaderTrustsExactlyTheDownstreamGuard(t *testing.T) {
	tpl := defaults(t, "dev")
	reader := tpl.FindResources(jsii.String("AWS::IAM::Role"), map[string]interface{}{
		"Properties": map[string]interface{}{"RoleName": "payments-checkout-dev-reader"},
	})
	if len(*reader) != 1 {
		t.Fatalf("want one reader role, got %d", len(*reader))
	}
	var id string
	var props map[string]interface{}
	for k, r := range *reader {
		id, props = k, (*r)["Properties"].(map[string]interface{})
	}
	trust := compact(props["AssumeRolePolicyDocument"])
	wantTrust := `{"Statement":[{"Action":"sts:AssumeRole","Condition":{"ArnEquals":{"aws:PrincipalArn":[{"Fn::Sub":"arn:${AWS::Partition}:iam::333333333333:role/payments-checkout-stg-guard"}]}},` +
		`"Effect":"Allow","Principal":{"AWS":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::333333333333:root"]]}}}],"Version":"2012-10-17"}`
	if trust != wantTrust {
		t.Errorf("reader trust\n got %s\nwant %s", trust, wantTrust)
	}
	got := compact(statementsOf(t, tpl, id))
	want := `[{"Action":["codepipeline:ListPipelineExecutions","codepipeline:GetPipelineExecution"],"Effect":"Allow",` +
		`"Resource":{"Fn::Sub":"arn:${AWS::Partition}:codepipeline:eu-west-1:222222222222:payments-checkout-dev"},"Sid":"ReadPipelineHistory"}]`
	if got != want {
		t.Errorf("reader statements\n got %s\nwant %s", got, want)
	}
	// prd has no downstream: no reader role there.
	if n := len(*defaults(t, "prd").FindResources(jsii.String("AWS::IAM::Role"),
		map[string]interface{}{"Properties": map[string]interface{}{"RoleName": "payments-checkout-prd-reader"}})); n != 0 {
		t.Errorf("prd has %d reader roles, want 0", n)
	}
}

// In prd (an approval and a window) the approver may answer the approval, see the runs, and
// let a run into Deploy outside the window; nothing else.
func TestOnlyTheApproverMayApprove(t *testing.T) {
	tpl := defaults(t, "prd")
	tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]interface{}{
		"RoleName": "payments-checkout-prd-approver",
		// Exactly the configured approver, by ARN, even before that role exists.
		"AssumeRolePolicyDocument": map[string]interface{}{"Statement": []interface{}{map[string]interface{}{
			"Action": "sts:AssumeRole", "Effect": "Allow",
			"Condition": map[string]interface{}{"ArnEquals": map[string]interface{}{"aws:PrincipalArn": []interface{}{"arn:aws:iam::444444444444:role/payments-release-managers"}}},
			"Principal": map[string]interface{}{"AWS": map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{"arn:", map[string]interface{}{"Ref": "AWS::Partition"}, ":iam::444444444444:root"}}}},
		}}},
	})
	got := compact(statementsOf(t, tpl, "PipelineApproverRole"))
	want := `[{"Action":"codepipeline:PutApprovalResult","Effect":"Allow","Resource":{"Fn::Sub":"arn:${AWS::Partition}:codepipeline:eu-west-1:444444444444:payments-checkout-prd/Approval/SignOff"},"Sid":"AnswerTheApproval"},` +
		`{"Action":["codepipeline:GetPipelineState","codepipeline:GetPipelineExecution","codepipeline:ListPipelineExecutions"],"Effect":"Allow","Resource":{"Fn::Sub":"arn:${AWS::Partition}:codepipeline:eu-west-1:444444444444:payments-checkout-prd"},"Sid":"SeeWhatIsApproved"},` +
		`{"Action":"codepipeline:OverrideStageCondition","Effect":"Allow","Resource":{"Fn::Sub":"arn:${AWS::Partition}:codepipeline:eu-west-1:444444444444:payments-checkout-prd/Deploy"},"Sid":"OpenTheWindow"}]`
	if got != want {
		t.Errorf("approver statements\n got %s\nwant %s", got, want)
	}
	tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]interface{}{
		"RoleName":    "payments-checkout-prd-approver",
		"Description": "May approve or reject runs of pipeline payments-checkout-prd and let a run into Deploy outside its window, nothing else",
	})
	// Exactly one policy in the stack grants PutApprovalResult or OverrideStageCondition, the
	// approver's: not the deploy role, not the pipeline.
	for _, action := range []string{"PutApprovalResult", "OverrideStageCondition"} {
		var granting []string
		for id, pol := range resources(tpl, "AWS::IAM::Policy") {
			if strings.Contains(compact(pol), action) {
				granting = append(granting, id)
			}
		}
		if len(granting) != 1 || !strings.Contains(granting[0], "ApproverRole") {
			t.Errorf("policies granting codepipeline:%s: %v, want only the approver role's", action, granting)
		}
	}
	// The request shows the commit, says what the guard verified and what the plan found,
	// links to the plan's full output, and notifies.
	tpl.HasResourceProperties(jsii.String("AWS::CodePipeline::Pipeline"), map[string]interface{}{
		"Stages": assertions.Match_ArrayWith(&[]interface{}{map[string]interface{}{
			"Name": "Approval",
			"Actions": []interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
				"Name":         "SignOff",
				"ActionTypeId": map[string]interface{}{"Category": "Approval", "Owner": "AWS", "Provider": "Manual", "Version": "1"},
				"Configuration": map[string]interface{}{
					"CustomData":         "Approve commit #{SourceVariables.CommitId} for prd. Guard: #{Guard.Summary} #{Plan.PLAN_SUMMARY}",
					"ExternalEntityLink": "#{Plan.PLAN_URL}",
					"NotificationArn":    map[string]interface{}{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^PipelineNotifications"))},
				},
			})},
		}}),
	})
}

func TestApproverRoleWithoutApproversTrustsOnlyItsAccount(t *testing.T) {
	p := checkout(t)
	p.Environments[2].Approvers = nil
	tpl := synth(t, envpipeline.EnvPipelineProps{Path: p, Environment: "prd"})
	tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]interface{}{
		"RoleName": "payments-checkout-prd-approver",
		"AssumeRolePolicyDocument": map[string]interface{}{"Statement": []interface{}{assertions.Match_ObjectLike(&map[string]interface{}{
			"Principal": map[string]interface{}{"AWS": map[string]interface{}{"Fn::Join": []interface{}{"", []interface{}{"arn:", map[string]interface{}{"Ref": "AWS::Partition"}, ":iam::444444444444:root"}}}},
		})}},
	})
}

// TestNoPolicyGrantsAllActionsOfAService checks for "*" and "service:*" actions. Action
// families such as s3:GetObject* come from CDK's grants on this pipeline's own resources and
// are accepted, each with a named cdk-nag suppression.
func TestNoPolicyGrantsAllActionsOfAService(t *testing.T) {
	for _, env := range []string{"dev", "stg", "prd"} {
		tpl := defaults(t, env)
		policies := resources(tpl, "AWS::IAM::Policy")
		// Every role's policy: 11 in stg (the dashboard's runs widget's among them); dev adds
		// the SecretsScan step's and the SecretsScan action's, prd the approver's, the Plan
		// step's and the Plan action's.
		if want := map[string]int{"dev": 13, "stg": 11, "prd": 14}[env]; len(policies) != want {
			t.Fatalf("%s: %d policies, want %d", env, len(policies), want)
		}
		for id, pol := range policies {
			for _, s := range pol["Properties"].(map[string]interface{})["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
				var actions []string
				switch a := s.(map[string]interface{})["Action"].(type) {
				case string:
					actions = []string{a}
				case []interface{}:
					for _, x := range a {
						actions = append(actions, x.(string))
					}
				}
				for _, a := range actions {
					if a == "*" || strings.HasSuffix(a, ":*") {
						t.Errorf("%s: %s grants %s", env, id, a)
					}
				}
			}
		}
	}
}

// TestLambdaCodeIsLinuxArm64Binaries checks the bundled assets, the guard's and the
// dashboard's runs widget's: built from source at synthesis by go build (no Docker), for the
// runtime the functions declare.
func TestLambdaCodeIsLinuxArm64Binaries(t *testing.T) {
	env, _ := checkout(t).Environment("stg")
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String(env.Account), Region: jsii.String(env.Region)},
	})
	envpipeline.NewEnvPipeline(stack, jsii.String("Pipeline"), &envpipeline.EnvPipelineProps{Path: checkout(t), Environment: "stg"})
	dir := *app.Synth(nil).Directory()
	bins, _ := filepath.Glob(filepath.Join(dir, "asset.*", "bootstrap"))
	if len(bins) != 2 {
		t.Fatalf("want two bundled bootstraps (the guard's, the runs widget's), got %v", bins)
	}
	for _, bin := range bins {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		if f.Machine != elf.EM_AARCH64 || f.Type != elf.ET_EXEC {
			t.Errorf("%s is %v %v, want an AArch64 executable", bin, f.Machine, f.Type)
		}
		if f.Section(".symtab") != nil {
			t.Errorf("%s is not stripped", bin)
		}
		f.Close()
	}
}

func TestApproversInSeveralAccountsAreEachNamedExactly(t *testing.T) {
	p := checkout(t)
	p.Environments[2].Approvers = []string{
		"arn:aws:iam::555555555555:role/release-a",
		"arn:aws:iam::444444444444:role/release-b",
		"arn:aws:iam::555555555555:user/alice",
	}
	tpl := synth(t, envpipeline.EnvPipelineProps{Path: p, Environment: "prd"})
	role := tpl.FindResources(jsii.String("AWS::IAM::Role"), map[string]interface{}{
		"Properties": map[string]interface{}{"RoleName": "payments-checkout-prd-approver"},
	})
	if len(*role) != 1 {
		t.Fatalf("want one approver role, got %d", len(*role))
	}
	for _, r := range *role {
		got := compact((*r)["Properties"].(map[string]interface{})["AssumeRolePolicyDocument"])
		account := func(a string) string {
			return `{"AWS":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::` + a + `:root"]]}}`
		}
		want := `{"Statement":[` +
			`{"Action":"sts:AssumeRole","Condition":{"ArnEquals":{"aws:PrincipalArn":["arn:aws:iam::444444444444:role/release-b"]}},"Effect":"Allow","Principal":` + account("444444444444") + `},` +
			`{"Action":"sts:AssumeRole","Condition":{"ArnEquals":{"aws:PrincipalArn":["arn:aws:iam::555555555555:role/release-a","arn:aws:iam::555555555555:user/alice"]}},"Effect":"Allow","Principal":` + account("555555555555") + `}` +
			`],"Version":"2012-10-17"}`
		if got != want {
			t.Errorf("approver trust\n got %s\nwant %s", got, want)
		}
	}
}
