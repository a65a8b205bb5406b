package envpipeline_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// planSetup are the Plan's first commands, before the plan commands.
var planSetup = []string{
	`mkdir -p "$(dirname "$PLAN_DIFF_FILE")" "$(dirname "$PLAN_SECURITY_DIFF_FILE")"`,
	`export PLAN_URL="$CODEBUILD_BUILD_URL"`,
}

// project returns the properties of the CodeBuild project named name.
func project(t *testing.T, tpl interface {
	ToJSON() *map[string]interface{}
}, name string) map[string]interface{} {
	t.Helper()
	for _, r := range (*tpl.ToJSON())["Resources"].(map[string]interface{}) {
		r := r.(map[string]interface{})
		if p, ok := r["Properties"].(map[string]interface{}); ok && r["Type"] == "AWS::CodeBuild::Project" && p["Name"] == name {
			return p
		}
	}
	t.Fatalf("no project %s", name)
	return nil
}

func TestPlanRoleMayOnlyAssumeTheLookupRole(t *testing.T) {
	tpl := withRegistry(t, "prd")
	plan := project(t, tpl, "payments-checkout-prd-plan")
	role := plan["ServiceRole"].(map[string]interface{})["Fn::GetAtt"].([]interface{})[0].(string)
	if !strings.HasPrefix(role, "PipelinePlanRole") {
		t.Fatalf("the Plan's project runs as %s, want the Plan role", role)
	}
	join := func(parts ...string) string {
		return `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},` + strings.Join(parts, ",") + `]]}`
	}
	projectRef := `{"Ref":"PipelinePlan` + projectSuffix(t, tpl, "payments-checkout-prd-plan") + `"}`
	want := `[` +
		// What makes it a plan: the account's CDK lookup role, read-only.
		`{"Action":"sts:AssumeRole","Effect":"Allow","Resource":{"Fn::Sub":"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-lookup-role-${AWS::AccountId}-${AWS::Region}"},"Sid":"AssumeCdkLookupRole"},` +
		// What every step has: its own logs and reports, and the source artifact, encrypted.
		`{"Action":["logs:CreateLogStream","logs:PutLogEvents"],"Effect":"Allow","Resource":{"Fn::GetAtt":["PipelinePlanLogs` + logsSuffix(t, tpl, "PipelinePlanLogs") + `","Arn"]}},` +
		`{"Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Effect":"Allow","Resource":[` +
		join(`":logs:eu-west-1:444444444444:log-group:/aws/codebuild/"`, projectRef) + `,` +
		join(`":logs:eu-west-1:444444444444:log-group:/aws/codebuild/"`, projectRef, `":*"`) + `]},` +
		`{"Action":["codebuild:CreateReportGroup","codebuild:CreateReport","codebuild:UpdateReport","codebuild:BatchPutTestCases","codebuild:BatchPutCodeCoverages"],"Effect":"Allow","Resource":` +
		join(`":codebuild:eu-west-1:444444444444:report-group/"`, projectRef, `"-*"`) + `},` +
		`{"Action":["kms:Decrypt","kms:Encrypt","kms:ReEncrypt*","kms:GenerateDataKey*"],"Effect":"Allow","Resource":{"Fn::GetAtt":["PipelineArtifactKeyFFEED257","Arn"]}},` +
		`{"Action":["s3:GetObject*","s3:GetBucket*","s3:List*"],"Effect":"Allow","Resource":[{"Fn::GetAtt":["PipelineArtifactsEB21E7E8","Arn"]},{"Fn::Join":["",[{"Fn::GetAtt":["PipelineArtifactsEB21E7E8","Arn"]},"/*"]]}]},` +
		`{"Action":["kms:Decrypt","kms:DescribeKey"],"Effect":"Allow","Resource":{"Fn::GetAtt":["PipelineArtifactKeyFFEED257","Arn"]}}]`
	if got := compact(statementsOf(t, tpl, "PipelinePlanRole")); got != want {
		t.Errorf("Plan role statements\n got %s\nwant %s", got, want)
	}
	// No managed policy, no other policy: the statements above are all it may do.
	tplRoles := resources(tpl, "AWS::IAM::Role")
	if mp, ok := tplRoles[role]["Properties"].(map[string]interface{})["ManagedPolicyArns"]; ok {
		t.Errorf("the Plan role has managed policies %v", mp)
	}
}

// logsSuffix is the hash CDK appends to the logical id of the log group whose id starts with prefix.
func logsSuffix(t *testing.T, tpl interface {
	ToJSON() *map[string]interface{}
}, prefix string) string {
	t.Helper()
	for id := range (*tpl.ToJSON())["Resources"].(map[string]interface{}) {
		if strings.HasPrefix(id, prefix) && len(id) == len(prefix)+8 {
			return id[len(prefix):]
		}
	}
	t.Fatalf("no resource %s…", prefix)
	return ""
}

// buildspecEnv is the env section of a project's buildspec.
func buildspecEnv(t *testing.T, proj map[string]interface{}) map[string]interface{} {
	t.Helper()
	var spec struct {
		Env map[string]interface{} `json:"env"`
	}
	if err := json.Unmarshal([]byte(proj["Source"].(map[string]interface{})["BuildSpec"].(string)), &spec); err != nil {
		t.Fatal(err)
	}
	return spec.Env
}

func TestPlanDiffsAndExportsItsSummaryForTheApproval(t *testing.T) {
	tpl := withRegistry(t, "prd")
	plan := project(t, tpl, "payments-checkout-prd-plan")
	want := append(append(append([]string(nil), planSetup...), envpipeline.DefaultPlanCommands...), envpipeline.PlanSummaryCommand)
	if got := buildCommands(t, plan); !reflect.DeepEqual(got, want) {
		t.Errorf("Plan commands\n got %q\nwant %q", got, want)
	}
	// The default plan: npm ci, then the diff and the security diff, template against
	// template (no change set: that would need the deploy role), each kept for the summary.
	for i, flags := range []string{"--method template --no-color", "--method template --security-only --no-color"} {
		if c := envpipeline.DefaultPlanCommands[1+i]; !strings.HasPrefix(c, "npx cdk diff "+flags+" 2>&1 | tee ") || !strings.HasSuffix(c, `; test "${PIPESTATUS[0]}" -eq 0`) {
			t.Errorf("default plan command %q", c)
		}
	}
	if got := compact(buildspecEnv(t, plan)); got != `{"exported-variables":["PLAN_SUMMARY","PLAN_URL"],"shell":"bash"}` {
		t.Errorf("Plan buildspec env %s", got)
	}
	env := compact(plan["Environment"].(map[string]interface{})["EnvironmentVariables"])
	for _, v := range []string{
		`{"Name":"PLAN_DIFF_FILE","Type":"PLAINTEXT","Value":"/tmp/plan/cdk-diff.txt"}`,
		`{"Name":"PLAN_SECURITY_DIFF_FILE","Type":"PLAINTEXT","Value":"/tmp/plan/cdk-diff-security.txt"}`,
		`{"Name":"ENVIRONMENT","Type":"PLAINTEXT","Value":"prd"}`,
	} {
		if !strings.Contains(env, v) {
			t.Errorf("Plan environment lacks %s: %s", v, env)
		}
	}
	// The action: its namespace is what the approval reads; it gets the commit and, from the
	// Guard, the promoted image (the service's app may need it to synthesize).
	action := stages(t, tpl)["Plan"]["Actions"].([]interface{})[0].(map[string]interface{})
	if action["Name"] != "Plan" || action["Namespace"] != "Plan" {
		t.Errorf("Plan action %s", compact(action))
	}
	vars := action["Configuration"].(map[string]interface{})["EnvironmentVariables"].(string)
	if want := `[{"name":"COMMIT_ID","type":"PLAINTEXT","value":"#{SourceVariables.CommitId}"},` +
		`{"name":"IMAGE_DIGEST","type":"PLAINTEXT","value":"#{Guard.ImageDigest}"},` +
		`{"name":"IMAGE_URI","type":"PLAINTEXT","value":"#{Guard.ImageUri}"}]`; vars != want {
		t.Errorf("Plan action variables\n got %s\nwant %s", vars, want)
	}
}

// In the first environment the Plan runs before the Build: no image yet. A team's own plan
// commands replace the default, between the same setup and summary.
func TestPlanInTheFirstEnvironmentWithTheTeamsCommands(t *testing.T) {
	p := checkout(t)
	on := true
	p.Environments[0].Approval = &on
	p.Commands.Plan = []string{"make plan"}
	r := org.Default().Registry
	tpl := synth(t, envpipeline.EnvPipelineProps{Path: p, Environment: "dev", Registry: &r})
	if got := stageNames(t, tpl); !reflect.DeepEqual(got, []string{"Source", "SecretsScan", "Plan", "Approval", "Build", "Deploy"}) {
		t.Errorf("stages %v", got)
	}
	plan := project(t, tpl, "payments-checkout-dev-plan")
	want := append(append(append([]string(nil), planSetup...), "make plan"), envpipeline.PlanSummaryCommand)
	if got := buildCommands(t, plan); !reflect.DeepEqual(got, want) {
		t.Errorf("Plan commands\n got %q\nwant %q", got, want)
	}
	action := stages(t, tpl)["Plan"]["Actions"].([]interface{})[0].(map[string]interface{})
	if vars := action["Configuration"].(map[string]interface{})["EnvironmentVariables"].(string); vars != `[{"name":"COMMIT_ID","type":"PLAINTEXT","value":"#{SourceVariables.CommitId}"}]` {
		t.Errorf("Plan action variables before the Build: %s", vars)
	}
	// Without a guard the approval says what the plan found, and links to it.
	approval := stages(t, tpl)["Approval"]["Actions"].([]interface{})[0].(map[string]interface{})["Configuration"].(map[string]interface{})
	if approval["CustomData"] != "Approve commit #{SourceVariables.CommitId} for dev. #{Plan.PLAN_SUMMARY}" || approval["ExternalEntityLink"] != "#{Plan.PLAN_URL}" {
		t.Errorf("approval configuration %s", compact(approval))
	}
}
