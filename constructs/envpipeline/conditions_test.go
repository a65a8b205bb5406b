package envpipeline_test

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// stages returns the pipeline's stages by name.
func stages(t *testing.T, tpl assertions.Template) map[string]map[string]interface{} {
	t.Helper()
	out := map[string]map[string]interface{}{}
	for _, s := range only(t, tpl, "AWS::CodePipeline::Pipeline")["Properties"].(map[string]interface{})["Stages"].([]interface{}) {
		st := s.(map[string]interface{})
		out[st["Name"].(string)] = st
	}
	return out
}

// conditionsOf is the stage's conditions as JSON: only BeforeEntry, OnSuccess and OnFailure.
func conditionsOf(st map[string]interface{}) string {
	c := map[string]interface{}{}
	for _, k := range []string{"BeforeEntry", "OnSuccess", "OnFailure"} {
		if v, ok := st[k]; ok {
			c[k] = v
		}
	}
	return compact(c)
}

// Rule types as the template declares them.
const (
	alarmRuleType  = `"RuleTypeId":{"Category":"Rule","Owner":"AWS","Provider":"CloudWatchAlarm","Version":"1"}`
	windowRuleType = `"RuleTypeId":{"Category":"Rule","Owner":"AWS","Provider":"DeploymentWindow","Version":"1"}`
)

// alarmRuleJSON is a CloudWatchAlarm rule as the template should declare it.
func alarmRuleJSON(name, alarm, wait string) string {
	return `{"Configuration":{"AlarmName":"` + alarm + `","AlarmStates":"ALARM","WaitTime":"` + wait + `"},"Name":"` + name + `",` + alarmRuleType + `}`
}

func TestDeployHoldsTheDeployThenTheVerify(t *testing.T) {
	for _, env := range []string{"dev", "stg", "prd"} {
		deploy := stages(t, defaults(t, env))["Deploy"]
		var got []string
		for _, a := range deploy["Actions"].([]interface{}) {
			a := a.(map[string]interface{})
			got = append(got, compact([]interface{}{a["Name"], a["RunOrder"], a["Configuration"].(map[string]interface{})["ProjectName"]}))
		}
		want := []string{
			`["Deploy",1,{"Ref":"PipelineDeploy` + projectSuffix(t, defaults(t, env), "payments-checkout-"+env+"-deploy") + `"}]`,
			`["Verify",2,{"Ref":"PipelineVerify` + projectSuffix(t, defaults(t, env), "payments-checkout-"+env+"-verify") + `"}]`,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Deploy's actions %v, want %v", env, got, want)
		}
	}
}

// projectSuffix is the hash CDK appends to the logical id of the project named name.
func projectSuffix(t *testing.T, tpl assertions.Template, name string) string {
	t.Helper()
	for id, r := range resources(tpl, "AWS::CodeBuild::Project") {
		if r["Properties"].(map[string]interface{})["Name"] == name {
			return id[len(id)-8:]
		}
	}
	t.Fatalf("no project %s", name)
	return ""
}

// The default organisation: dev is untouched; stg watches its health alarm (no window, and
// stg is followed by prd, so no rollback on failure); prd watches, has a window, and rolls a
// failed deploy back.
func TestDeployConditionsFollowTheEnvironment(t *testing.T) {
	stgAlarm, prdAlarm := "payments-checkout-stg-health", "payments-checkout-prd-health"
	want := map[string]string{
		"dev": `{}`,
		"stg": `{"BeforeEntry":{"Conditions":[{"Result":"FAIL","Rules":[` + alarmRuleJSON("Entry-"+stgAlarm, stgAlarm, "15") + `]}]},` +
			`"OnSuccess":{"Conditions":[{"Result":"ROLLBACK","Rules":[` + alarmRuleJSON("Bake-"+stgAlarm, stgAlarm, "10") + `]}]}}`,
		// 0 9 * * MON-THU for 8h in Berlin: any minute of the hours 9 to 16, Monday to Thursday.
		"prd": `{"BeforeEntry":{"Conditions":[{"Result":"FAIL","Rules":[` +
			`{"Configuration":{"Cron":"* * 9-16 ? * MON-THU *","TimeZone":"Europe/Berlin"},"Name":"DeployWindow",` + windowRuleType + `},` +
			alarmRuleJSON("Entry-"+prdAlarm, prdAlarm, "15") + `]}]},` +
			`"OnFailure":{"Result":"ROLLBACK"},` +
			`"OnSuccess":{"Conditions":[{"Result":"ROLLBACK","Rules":[` + alarmRuleJSON("Bake-"+prdAlarm, prdAlarm, "15") + `]}]}}`,
	}
	for _, env := range []string{"dev", "stg", "prd"} {
		t.Run(env, func(t *testing.T) {
			all := stages(t, defaults(t, env))
			if got := conditionsOf(all["Deploy"]); got != want[env] {
				t.Errorf("Deploy's conditions\n got %s\nwant %s", got, want[env])
			}
			// No other stage has a condition: the gates and the build run whenever they are reached.
			for name, st := range all {
				if got := conditionsOf(st); name != "Deploy" && got != `{}` {
					t.Errorf("stage %s has conditions %s", name, got)
				}
			}
		})
	}
}

// cloudwatchStatements lists every IAM statement in the template that names a CloudWatch
// action, with the logical id of its policy.
func cloudwatchStatements(tpl assertions.Template) map[string][]string {
	out := map[string][]string{}
	for id, pol := range resources(tpl, "AWS::IAM::Policy") {
		for _, s := range pol["Properties"].(map[string]interface{})["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
			if j := compact(s); strings.Contains(j, `cloudwatch:`) {
				out[id] = append(out[id], j)
			}
		}
	}
	return out
}

func TestPipelineRoleReadsExactlyTheWatchedAlarms(t *testing.T) {
	for env, account := range map[string]string{"stg": "333333333333", "prd": "444444444444"} {
		got := cloudwatchStatements(defaults(t, env))
		want := `{"Action":"cloudwatch:DescribeAlarms","Effect":"Allow","Resource":{"Fn::Sub":"arn:${AWS::Partition}:cloudwatch:eu-west-1:` +
			account + `:alarm:payments-checkout-` + env + `-health"},"Sid":"ReadWatchedAlarms"}`
		if len(got) != 1 {
			t.Errorf("%s: CloudWatch statements in %d policies (%v), want only the pipeline role's", env, len(got), got)
		}
		for id, statements := range got {
			if !strings.HasPrefix(id, "PipelineRoleDefaultPolicy") || !reflect.DeepEqual(statements, []string{want}) {
				t.Errorf("%s: %s has %v, want the pipeline role's policy to have exactly [%s]", env, id, statements, want)
			}
		}
	}
	if got := cloudwatchStatements(defaults(t, "dev")); len(got) != 0 {
		t.Errorf("dev watches nothing but grants %v", got)
	}
}

// One pipeline with every prop of the watch: its conditions, the pipeline role's reading of
// exactly its alarms, and an approver role for the window alone.
func TestWatchWindowAndRollbackPropsReplaceTheEnvironments(t *testing.T) {
	odd := "checkout latency/p99 ${env}" // not a valid rule name, and "${" matters to Fn::Sub
	on := true
	tpl := synth(t, envpipeline.EnvPipelineProps{
		Path: checkout(t), Environment: "stg",
		Watch:             &org.Watch{Alarms: []string{"checkout-errors", odd}, Bake: "30m", Wait: "0m"},
		Window:            &org.Window{Cron: "30 22 * * SAT", Duration: "30m"},
		RollbackOnFailure: &on,
	})
	all := stages(t, tpl)
	want := `{"BeforeEntry":{"Conditions":[{"Result":"FAIL","Rules":[` +
		`{"Configuration":{"Cron":"* 30-59 22 ? * SAT *","TimeZone":"UTC"},"Name":"DeployWindow",` + windowRuleType + `},` +
		alarmRuleJSON("Entry-checkout-errors", "checkout-errors", "0") + `,` +
		alarmRuleJSON(envpipeline.EntryAlarmRule(odd), odd, "0") + `]}]},` +
		`"OnFailure":{"Result":"ROLLBACK"},` +
		`"OnSuccess":{"Conditions":[{"Result":"ROLLBACK","Rules":[` +
		alarmRuleJSON("Bake-checkout-errors", "checkout-errors", "30") + `,` +
		alarmRuleJSON(envpipeline.BakeAlarmRule(odd), odd, "30") + `]}]}}`
	if got := conditionsOf(all["Deploy"]); got != want {
		t.Errorf("Deploy's conditions\n got %s\nwant %s", got, want)
	}
	// No approval in stg: no Plan.
	if got := stageNames(t, tpl); !reflect.DeepEqual(got, []string{"Source", "Guard", "Deploy"}) {
		t.Errorf("stages %v", got)
	}
	for id, statements := range cloudwatchStatements(tpl) {
		want := `{"Action":"cloudwatch:DescribeAlarms","Effect":"Allow","Resource":[` +
			`{"Fn::Sub":"arn:${AWS::Partition}:cloudwatch:eu-west-1:333333333333:alarm:checkout-errors"},` +
			`{"Fn::Sub":"arn:${AWS::Partition}:cloudwatch:eu-west-1:333333333333:alarm:checkout latency/p99 ${!env}"}],"Sid":"ReadWatchedAlarms"}`
		if !strings.HasPrefix(id, "PipelineRoleDefaultPolicy") || !reflect.DeepEqual(statements, []string{want}) {
			t.Errorf("%s has %v, want the pipeline role's policy to have exactly [%s]", id, statements, want)
		}
	}
	// A window without an approval: the approver role may only let a run into Deploy.
	tplRole := tpl.FindResources(ptr("AWS::IAM::Role"), map[string]interface{}{
		"Properties": map[string]interface{}{"RoleName": "payments-checkout-stg-approver"},
	})
	if len(*tplRole) != 1 {
		t.Fatalf("want one approver role in stg with a window, got %d", len(*tplRole))
	}
	for _, r := range *tplRole {
		if got := (*r)["Properties"].(map[string]interface{})["Description"]; got != "May let a run into Deploy outside its window, nothing else" {
			t.Errorf("approver description %q", got)
		}
	}
	got := compact(statementsOf(t, tpl, "PipelineApproverRole"))
	if want := `[{"Action":"codepipeline:OverrideStageCondition","Effect":"Allow","Resource":{"Fn::Sub":"arn:${AWS::Partition}:codepipeline:eu-west-1:333333333333:payments-checkout-stg/Deploy"},"Sid":"OpenTheWindow"}]`; got != want {
		t.Errorf("approver statements\n got %s\nwant %s", got, want)
	}
}

func ptr(s string) *string { return &s }

// Every prop of the watch is checked as the organisation checks the path's, and a problem
// names the prop, the value and what is allowed.
func TestInvalidWatchAndWindowPropsNameTheProp(t *testing.T) {
	msg := panicMessage(func() {
		synth(t, envpipeline.EnvPipelineProps{
			Path: checkout(t), Environment: "prd",
			Watch:  &org.Watch{Alarms: []string{"a", "b", "c", "d", "e"}, Bake: "90s", Wait: "4h"},
			Window: &org.Window{Cron: "0 9 * *", Duration: "8h", TimeZone: "Mars/Base"},
		})
	})
	contains(t, msg,
		"envpipeline: invalid props:",
		`Watch.Alarms: "5 alarms": at most 4 alarm names (CodePipeline takes five rules per condition, and the window is one of them); combine more into a composite alarm`,
		`Watch.Bake: "90s": whole minutes as a Go duration, e.g. 10m or 1h, from 1m to 180m`,
		`Watch.Wait: "4h": whole minutes as a Go duration, e.g. 10m or 1h, from 0m to 180m`,
		`Window.Cron: "0 9 * *": when the window opens, as five cron fields`,
		`Window.TimeZone: "Mars/Base": an IANA time zone name`,
	)
	// The path's own fields keep their names.
	p := checkout(t)
	p.Environments[1].Watch = &org.Watch{Bake: "0m"}
	msg = panicMessage(func() { synth(t, envpipeline.EnvPipelineProps{Path: p, Environment: "stg"}) })
	contains(t, msg, `path.environments[1].watch.bake: "0m": whole minutes as a Go duration, e.g. 10m or 1h, from 1m to 180m`)
}

// Rule names are CodePipeline's: letters, digits and .@_- up to 100 characters, unique in the
// pipeline. A valid alarm name is kept, so a failed rule names its alarm.
func TestAlarmRuleNames(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9.@_-]{1,100}$`)
	long := strings.Repeat("a", 255)
	cases := []struct{ alarm, want string }{
		{"payments-checkout-prd-health", "Entry-payments-checkout-prd-health"},
		{"team.svc@prd_errors", "Entry-team.svc@prd_errors"},
		{strings.Repeat("x", 94), "Entry-" + strings.Repeat("x", 94)}, // exactly 100
	}
	for _, c := range cases {
		if got := envpipeline.EntryAlarmRule(c.alarm); got != c.want {
			t.Errorf("EntryAlarmRule(%q) = %q, want %q", c.alarm, got, c.want)
		}
	}
	names := map[string]string{}
	for _, alarm := range []string{"checkout latency/p99", "checkout_latency_p99", "checkout latency p99", "Ärger", long, long[:254] + "b", strings.Repeat("x", 95)} {
		for _, name := range []string{envpipeline.EntryAlarmRule(alarm), envpipeline.BakeAlarmRule(alarm)} {
			if !valid.MatchString(name) {
				t.Errorf("rule name %q of alarm %q is not a CodePipeline rule name", name, alarm)
			}
			if other, dup := names[name]; dup {
				t.Errorf("alarms %q and %q have the same rule name %q", other, alarm, name)
			}
			names[name] = alarm
		}
	}
	if got := envpipeline.EntryAlarmRule("checkout latency/p99"); !strings.HasPrefix(got, "Entry-checkout_latency_p99-") || len(got) != len("Entry-checkout_latency_p99-")+8 {
		t.Errorf("a sanitized name keeps what it can of the alarm's and adds 8 hex digits: %q", got)
	}
}
