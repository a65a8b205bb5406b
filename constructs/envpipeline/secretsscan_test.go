package envpipeline_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
)

// The scan itself runs for real (the pinned gitleaks on trees with and without secrets) in
// test/secretsscan_test.go, with the commands of a synthesized template; here, what the
// template holds.

func TestSecretsScanRunsRightAfterTheSourceInTheFirstEnvironmentOnly(t *testing.T) {
	for env, want := range map[string][]string{
		"dev": {"Source", "SecretsScan", "Build", "Deploy"},
		"stg": {"Source", "Guard", "Deploy"},
		"prd": {"Source", "Guard", "Plan", "Approval", "Deploy"},
	} {
		if got := stageNames(t, defaults(t, env)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s stages %v, want %v", env, got, want)
		}
	}
	// Its one action reads the source and gets the commit, and nothing else.
	action := stages(t, defaults(t, "dev"))["SecretsScan"]["Actions"].([]interface{})
	if len(action) != 1 {
		t.Fatalf("SecretsScan actions: %s", compact(action))
	}
	a := action[0].(map[string]interface{})
	if a["Name"] != "SecretsScan" || compact(a["InputArtifacts"]) != `[{"Name":"Source"}]` || a["Namespace"] != nil {
		t.Errorf("SecretsScan action %s", compact(a))
	}
	if vars := a["Configuration"].(map[string]interface{})["EnvironmentVariables"]; vars != `[{"name":"COMMIT_ID","type":"PLAINTEXT","value":"#{SourceVariables.CommitId}"}]` {
		t.Errorf("SecretsScan action variables %v", vars)
	}
}

func TestSecretsScanInstallsThePinnedGitleaksAndScansWithThePlatformsRules(t *testing.T) {
	scan := project(t, defaults(t, "dev"), "payments-checkout-dev-secretsscan")
	cmds := buildCommands(t, scan)
	if !reflect.DeepEqual(cmds, envpipeline.SecretsScanCommands) {
		t.Fatalf("SecretsScan commands\n got %q\nwant %q", cmds, envpipeline.SecretsScanCommands)
	}
	// Installed by go install at the pinned version (verified by the checksum database), into
	// a directory outside the commit's tree, with nothing of the environment weakening it.
	install := cmds[1]
	for _, want := range []string{
		`go install github.com/zricethezav/gitleaks/v8@v8.28.0)`,
		`(cd "$SECRETS_SCAN_TOOLS" && GOBIN="$SECRETS_SCAN_TOOLS" GOTOOLCHAIN=auto GOFLAGS= GOSUMDB=sum.golang.org GONOSUMDB= GONOSUMCHECK= GOINSECURE= GOPRIVATE= `,
		`GOMODCACHE="/root/.cache/pathtoprod-secrets-scan/mod" GOCACHE="/root/.cache/pathtoprod-secrets-scan/build" `,
	} {
		if !strings.Contains(install, want) {
			t.Errorf("install command lacks %q:\n%s", want, install)
		}
	}
	if cmds[0] != `export SECRETS_SCAN_TOOLS="$(mktemp -d)"` {
		t.Errorf("tools directory: %q", cmds[0])
	}
	// The platform's configuration, redacted, and a finding fails the step.
	for _, want := range []string{
		`"$gitleaks" dir . --config "$work/config.toml" --redact --no-banner --no-color`,
		`printf '[extend]\nuseDefault = true\n' > "$work/config.toml"`,
		`--exit-code 42 --report-format template`,
		"SecretsScan FAILED",
	} {
		if !strings.Contains(cmds[2], want) {
			t.Errorf("scan command lacks %q", want)
		}
	}
	// The go command's caches are kept on the build host between scans.
	if got := compact(scan["Cache"]); got != `{"Modes":["LOCAL_CUSTOM_CACHE"],"Type":"LOCAL"}` {
		t.Errorf("SecretsScan project cache %s", got)
	}
	spec := scan["Source"].(map[string]interface{})["BuildSpec"].(string)
	if !strings.Contains(spec, `"cache": {`) || !strings.Contains(spec, `"/root/.cache/pathtoprod-secrets-scan/**/*"`) {
		t.Errorf("SecretsScan buildspec caches no path: %s", spec)
	}
	if scan["Environment"].(map[string]interface{})["PrivilegedMode"] != false {
		t.Error("the SecretsScan runs privileged")
	}
	// No other project caches anything: the others run the commit's code.
	for _, proj := range resources(withRegistry(t, "dev"), "AWS::CodeBuild::Project") {
		props := proj["Properties"].(map[string]interface{})
		if props["Name"] != "payments-checkout-dev-secretsscan" && compact(props["Cache"]) != `{"Type":"NO_CACHE"}` {
			t.Errorf("%s caches %s", props["Name"], compact(props["Cache"]))
		}
	}
}

func TestSecretsScanRoleMayOnlyWriteItsLogsAndReadTheSource(t *testing.T) {
	tpl := defaults(t, "dev")
	scan := project(t, tpl, "payments-checkout-dev-secretsscan")
	role := scan["ServiceRole"].(map[string]interface{})["Fn::GetAtt"].([]interface{})[0].(string)
	if !strings.HasPrefix(role, "PipelineSecretsScanRole") {
		t.Fatalf("the SecretsScan's project runs as %s, want its own role", role)
	}
	join := func(parts ...string) string {
		return `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},` + strings.Join(parts, ",") + `]]}`
	}
	projectRef := `{"Ref":"PipelineSecretsScan` + projectSuffix(t, tpl, "payments-checkout-dev-secretsscan") + `"}`
	want := `[` +
		`{"Action":["logs:CreateLogStream","logs:PutLogEvents"],"Effect":"Allow","Resource":{"Fn::GetAtt":["PipelineSecretsScanLogs` + logsSuffix(t, tpl, "PipelineSecretsScanLogs") + `","Arn"]}},` +
		`{"Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Effect":"Allow","Resource":[` +
		join(`":logs:eu-west-1:222222222222:log-group:/aws/codebuild/"`, projectRef) + `,` +
		join(`":logs:eu-west-1:222222222222:log-group:/aws/codebuild/"`, projectRef, `":*"`) + `]},` +
		`{"Action":["codebuild:CreateReportGroup","codebuild:CreateReport","codebuild:UpdateReport","codebuild:BatchPutTestCases","codebuild:BatchPutCodeCoverages"],"Effect":"Allow","Resource":` +
		join(`":codebuild:eu-west-1:222222222222:report-group/"`, projectRef, `"-*"`) + `},` +
		`{"Action":["kms:Decrypt","kms:Encrypt","kms:ReEncrypt*","kms:GenerateDataKey*"],"Effect":"Allow","Resource":{"Fn::GetAtt":["PipelineArtifactKeyFFEED257","Arn"]}},` +
		`{"Action":["s3:GetObject*","s3:GetBucket*","s3:List*"],"Effect":"Allow","Resource":[{"Fn::GetAtt":["PipelineArtifactsEB21E7E8","Arn"]},{"Fn::Join":["",[{"Fn::GetAtt":["PipelineArtifactsEB21E7E8","Arn"]},"/*"]]}]},` +
		`{"Action":["kms:Decrypt","kms:DescribeKey"],"Effect":"Allow","Resource":{"Fn::GetAtt":["PipelineArtifactKeyFFEED257","Arn"]}}]`
	if got := compact(statementsOf(t, tpl, "PipelineSecretsScanRole")); got != want {
		t.Errorf("SecretsScan role statements\n got %s\nwant %s", got, want)
	}
	if mp, ok := resources(tpl, "AWS::IAM::Role")[role]["Properties"].(map[string]interface{})["ManagedPolicyArns"]; ok {
		t.Errorf("the SecretsScan role has managed policies %v", mp)
	}
}
