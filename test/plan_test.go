package test

// The Plan's summary, run for real: the pinned CDK CLI diffs a synthesized stack against an
// older template of it, offline (`cdk diff --template`, the same flags as the default plan
// commands), and the summary command the prd pipeline's Plan step runs, taken from the
// synthesized template, reads that output with bash.
//
//	PATH=$PWD/node_modules/.bin:$PATH go test ./test/ -run Plan -v

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
)

// planTarget synthesizes the stack the plan diffs into dir and returns its template. Its
// resources are L1s at the stack's root, so their logical ids are their construct ids.
func planTarget(t *testing.T, dir string) map[string]any {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir)})
	stack := awscdk.NewStack(app, jsii.String("PlanTarget"), nil)
	awsec2.NewCfnSecurityGroup(stack, jsii.String("Web"), &awsec2.CfnSecurityGroupProps{
		GroupDescription: jsii.String("web"),
		VpcId:            jsii.String("vpc-0123456789abcdef0"),
		SecurityGroupIngress: &[]interface{}{
			&awsec2.CfnSecurityGroup_IngressProperty{IpProtocol: jsii.String("tcp"), FromPort: jsii.Number(443), ToPort: jsii.Number(443), CidrIp: jsii.String("0.0.0.0/0")},
			&awsec2.CfnSecurityGroup_IngressProperty{IpProtocol: jsii.String("tcp"), FromPort: jsii.Number(5432), ToPort: jsii.Number(5432), CidrIp: jsii.String("10.0.0.0/8")},
		},
	})
	awsiam.NewCfnRole(stack, jsii.String("Worker"), &awsiam.CfnRoleProps{
		AssumeRolePolicyDocument: map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
			"Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
		}}},
		ManagedPolicyArns: &[]interface{}{"arn:aws:iam::aws:policy/ReadOnlyAccess"},
	})
	awsiam.NewCfnPolicy(stack, jsii.String("WorkerPolicy"), &awsiam.CfnPolicyProps{
		PolicyName: jsii.String("worker"),
		Roles:      jsii.Strings("worker"),
		PolicyDocument: map[string]any{"Version": "2012-10-17", "Statement": []any{
			map[string]any{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::orders/*"},
			map[string]any{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"},
		}},
	})
	awssqs.NewCfnQueue(stack, jsii.String("Orders"), &awssqs.CfnQueueProps{QueueName: jsii.String("orders")})
	awssns.NewCfnTopic(stack, jsii.String("Events"), nil)
	app.Synth(nil)
	var tpl map[string]any
	readJSON(t, filepath.Join(dir, "PlanTarget.template.json"), &tpl)
	return tpl
}

// olderTemplate is what was deployed before: without the policy's second statement, the
// security group's rules, the role's managed policy and the topic, with the queue under
// another name (a replacement), and with a queue since removed.
func olderTemplate(t *testing.T, current map[string]any) map[string]any {
	t.Helper()
	raw, _ := json.Marshal(current)
	var old map[string]any
	json.Unmarshal(raw, &old)
	res := old["Resources"].(map[string]any)
	props := func(id string) map[string]any { return res[id].(map[string]any)["Properties"].(map[string]any) }
	doc := props("WorkerPolicy")["PolicyDocument"].(map[string]any)
	doc["Statement"] = doc["Statement"].([]any)[:1]
	delete(props("Web"), "SecurityGroupIngress")
	delete(props("Worker"), "ManagedPolicyArns")
	props("Orders")["QueueName"] = "orders-v1"
	delete(res, "Events")
	res["Gone"] = map[string]any{"Type": "AWS::SQS::Queue"}
	return old
}

// cdkDiff runs the pinned CDK CLI with the default plan's flags (one of its diff commands)
// against a template file, offline, and returns what it printed: what the plan's tee keeps.
func cdkDiff(t *testing.T, planCommand, assembly, template string) string {
	t.Helper()
	cli, err := filepath.Abs(filepath.Join("..", "node_modules", ".bin", "cdk"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the pinned CDK CLI is not installed (run make install): %v", err)
	}
	flags, ok := strings.CutPrefix(planCommand, "npx cdk diff ")
	if flags, _, ok = strings.Cut(flags, " 2>&1 | tee "); !ok {
		t.Fatalf("not a diff command of the default plan: %q", planCommand)
	}
	args := append([]string{"diff"}, strings.Fields(flags)...)
	args = append(args, "--app", assembly, "--template", template, "PlanTarget")
	cmd := exec.Command(cli, args...)
	cmd.Dir = t.TempDir()
	// No credentials and no instance metadata: the diff must need neither.
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_PROFILE=", "AWS_EC2_METADATA_DISABLED=true", "CDK_DISABLE_VERSION_CHECK=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cdk %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// planSummaryCommand is the last command of the prd pipeline's Plan step, as synthesized.
func planSummaryCommand(t *testing.T) string {
	t.Helper()
	var tpl exTemplate
	readJSON(t, filepath.Join(defaultSynthesis(t).dir, "payments-checkout-prd-pipeline.template.json"), &tpl)
	_, _, cmds := tpl.project(t, "payments-checkout-prd-plan")
	last := cmds[len(cmds)-1]
	if last != envpipeline.PlanSummaryCommand {
		t.Fatalf("the Plan's last command is not the summary:\n%s", last)
	}
	return last
}

// summarize runs the summary command with bash on the given diff files and returns what it
// exported as PLAN_SUMMARY (and checks that it also printed it to the build log).
func summarize(t *testing.T, command, diffFile, securityFile string) string {
	t.Helper()
	cmd := exec.Command("bash", "-c", command+"\nprintf 'exported: %s\\n' \"$PLAN_SUMMARY\"")
	cmd.Env = append(os.Environ(), "PLAN_DIFF_FILE="+diffFile, "PLAN_SECURITY_DIFF_FILE="+securityFile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("summary: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 2 || lines[1] != "exported: "+lines[0] {
		t.Fatalf("the summary should print one line and export the same: %q", lines)
	}
	summary := lines[0]
	if len(summary) > envpipeline.MaxPlanSummary {
		t.Errorf("PLAN_SUMMARY is %d bytes, more than %d", len(summary), envpipeline.MaxPlanSummary)
	}
	for _, r := range summary {
		if r < 0x20 || r > 0x7e {
			t.Errorf("PLAN_SUMMARY has %q: want printable ASCII only", r)
		}
	}
	return summary
}

func TestPlanSummaryOfARealDiff(t *testing.T) {
	summary := planSummaryCommand(t)
	dir := t.TempDir()
	assembly := filepath.Join(dir, "cdk.out")
	current := planTarget(t, assembly)
	write := func(name string, v any) string {
		raw, _ := json.Marshal(v)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keep := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	older, same := write("older.json", olderTemplate(t, current)), write("same.json", current)
	fullCmd, securityCmd := envpipeline.DefaultPlanCommands[1], envpipeline.DefaultPlanCommands[2]

	t.Run("a diff that broadens IAM and the network", func(t *testing.T) {
		full := cdkDiff(t, fullCmd, assembly, older)
		security := cdkDiff(t, securityCmd, assembly, older)
		// What the CLI printed is what the summary must agree with (read it in -v).
		t.Logf("cdk diff:\n%s\ncdk diff --security-only:\n%s", full, security)
		got := summarize(t, summary, keep("diff.txt", full), keep("security.txt", security))
		want := "Plan: 1 to add, 4 to change (1 replaced), 1 to destroy in 1 of 1 stack." +
			" IAM BROADENING: 1 statement added, 1 managed policy attached." +
			" NETWORK BROADENING: 2 security group rules added, 1 open to the internet." +
			" Full diff in the build log."
		if got != want {
			t.Errorf("summary\n got %s\nwant %s", got, want)
		}
		// Without the security diff, the full diff's tables say the same.
		if again := summarize(t, summary, keep("diff-only.txt", full), filepath.Join(dir, "absent.txt")); again != want {
			t.Errorf("summary from the full diff alone\n got %s\nwant %s", again, want)
		}
	})

	t.Run("no change says nothing alarming", func(t *testing.T) {
		got := summarize(t, summary, keep("same-diff.txt", cdkDiff(t, fullCmd, assembly, same)),
			keep("same-security.txt", cdkDiff(t, securityCmd, assembly, same)))
		if got != "Plan: no changes in 1 stack." {
			t.Errorf("summary of no change: %q", got)
		}
	})

	t.Run("no diff at all says so", func(t *testing.T) {
		got := summarize(t, summary, filepath.Join(dir, "absent.txt"), filepath.Join(dir, "absent.txt"))
		if got != "Plan: no cdk diff output to summarize; read the Plan's build log." {
			t.Errorf("summary without a diff: %q", got)
		}
		// Output that is not a cdk diff's (a failed synthesis, say) is no diff either.
		if got := summarize(t, summary, keep("garbage.txt", "Error: something broke\n"), ""); !strings.HasPrefix(got, "Plan: no cdk diff output") {
			t.Errorf("summary of a failed diff: %q", got)
		}
	})
}
