package envpipeline_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/platform-eng/pathtoprod/constructs/dashboard"
	"github.com/platform-eng/pathtoprod/constructs/dashboard/lambda/runs"
	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

var accounts = map[string]string{"dev": "222222222222", "stg": "333333333333", "prd": "444444444444"}

// widget is one widget of a dashboard's body.
type widget struct {
	Type       string                 `json:"type"`
	Width      int                    `json:"width"`
	Height     int                    `json:"height"`
	Properties map[string]interface{} `json:"properties"`
}

// body is the template's one dashboard's name and body, parsed. The body is an Fn::Join of
// text and tokens; a token is read back as ${Ref:Id} or ${Id.Attribute}.
func body(t *testing.T, tpl assertions.Template) (string, []widget, string) {
	t.Helper()
	props := only(t, tpl, "AWS::CloudWatch::Dashboard")["Properties"].(map[string]interface{})
	var b strings.Builder
	switch v := props["DashboardBody"].(type) {
	case string:
		b.WriteString(v)
	case map[string]interface{}:
		for _, part := range v["Fn::Join"].([]interface{})[1].([]interface{}) {
			switch p := part.(type) {
			case string:
				b.WriteString(p)
			case map[string]interface{}:
				if ref, ok := p["Ref"]; ok {
					fmt.Fprintf(&b, "${Ref:%s}", ref)
				} else if att, ok := p["Fn::GetAtt"].([]interface{}); ok {
					fmt.Fprintf(&b, "${%s.%s}", att[0], att[1])
				} else {
					t.Fatalf("unexpected token in the dashboard body: %v", p)
				}
			}
		}
	}
	var parsed struct {
		Start   string   `json:"start"`
		Widgets []widget `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(b.String()), &parsed); err != nil {
		t.Fatalf("dashboard body is not JSON: %v\n%s", err, b.String())
	}
	return props["DashboardName"].(string), parsed.Widgets, parsed.Start
}

// widgetsOf are the body's widgets of one type.
func widgetsOf(ws []widget, typ string) []widget {
	var out []widget
	for _, w := range ws {
		if w.Type == typ {
			out = append(out, w)
		}
	}
	return out
}

// idOf is the logical id of the one resource of typ whose property key is value.
func idOf(t *testing.T, tpl assertions.Template, typ, key, value string) string {
	t.Helper()
	var ids []string
	for id, r := range resources(tpl, typ) {
		if r["Properties"].(map[string]interface{})[key] == value {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("want one %s with %s %q, got %v", typ, key, value, ids)
	}
	return ids[0]
}

// graphed are the CodeBuild projects a metric widget titled title draws metric of.
func graphed(t *testing.T, ws []widget, title, metric string) []string {
	t.Helper()
	for _, w := range widgetsOf(ws, "metric") {
		if w.Properties["title"] != title {
			continue
		}
		var projects []string
		for _, m := range w.Properties["metrics"].([]interface{}) {
			row := m.([]interface{})
			if row[0] != "AWS/CodeBuild" || row[1] != metric || row[2] != "ProjectName" {
				t.Errorf("%s: metric %v", title, row)
			}
			projects = append(projects, row[3].(string))
		}
		return projects
	}
	t.Fatalf("no graph titled %q", title)
	return nil
}

var stepGraphs = map[string]string{
	"Builds succeeded, per step":                  "SucceededBuilds",
	"Builds failed, per step":                     "FailedBuilds",
	"Build duration (seconds, average), per step": "Duration",
}

// GIVEN the checkout path's three environments WHEN each pipeline is synthesized THEN each
// has its dashboard: named after its pipeline, opening on a week, the runs widget first and
// backed by the environment's own runs function, every CodeBuild project of the pipeline
// graphed, the guard's errors where there is a guard.
func TestEveryEnvironmentHasADashboardOfItsRuns(t *testing.T) {
	for _, env := range []string{"dev", "stg", "prd"} {
		t.Run(env, func(t *testing.T) {
			tpl := defaults(t, env)
			name, ws, start := body(t, tpl)
			if name != "payments-checkout-"+env || start != "-P7D" {
				t.Errorf("dashboard %q opening on %q, want payments-checkout-%s on -P7D", name, start, env)
			}
			fn := idOf(t, tpl, "AWS::Lambda::Function", "FunctionName", "payments-checkout-"+env+"-runs")
			custom := widgetsOf(ws, "custom")
			if len(custom) != 1 || ws[0].Type != "custom" || ws[0].Width != 16 {
				t.Fatalf("want the runs widget first and widest, got %+v", ws)
			}
			if got := custom[0].Properties["endpoint"]; got != "${"+fn+".Arn}" {
				t.Errorf("runs widget endpoint %v, want the runs function %s", got, fn)
			}
			if got := compact(custom[0].Properties["updateOn"]); got != `{"refresh":true,"resize":false,"timeRange":true}` {
				t.Errorf("runs widget updateOn %s: it must read again on refresh and on a new time range", got)
			}

			// Every project the pipeline has, in pipeline order, in each of the three graphs.
			var projects []string
			for _, p := range resources(tpl, "AWS::CodeBuild::Project") {
				projects = append(projects, p["Properties"].(map[string]interface{})["Name"].(string))
			}
			want := map[string][]string{
				"dev": {"payments-checkout-dev-secretsscan", "payments-checkout-dev-build", "payments-checkout-dev-deploy", "payments-checkout-dev-verify"},
				"stg": {"payments-checkout-stg-deploy", "payments-checkout-stg-verify"},
				"prd": {"payments-checkout-prd-plan", "payments-checkout-prd-deploy", "payments-checkout-prd-verify"},
			}[env]
			sort.Strings(projects)
			if sorted := slices.Sorted(slices.Values(want)); !slices.Equal(projects, sorted) {
				t.Fatalf("the pipeline's projects are %v, the test expects %v", projects, sorted)
			}
			for title, metric := range stepGraphs {
				if got := graphed(t, ws, title, metric); !slices.Equal(got, want) {
					t.Errorf("%s graphs %v, want %v", title, got, want)
				}
			}

			guards := 0
			for _, w := range widgetsOf(ws, "metric") {
				if j := compact(w.Properties["metrics"]); strings.Contains(j, "AWS/Lambda") {
					guards++
					g := idOf(t, tpl, "AWS::Lambda::Function", "FunctionName", "payments-checkout-"+env+"-guard")
					if want := `[["AWS/Lambda","Errors","FunctionName","${Ref:` + g + `}",{"label":"Errors","period":3600,"stat":"Sum"}],` +
						`["AWS/Lambda","Throttles","FunctionName","${Ref:` + g + `}",{"label":"Throttles","period":3600,"stat":"Sum"}]]`; j != want {
						t.Errorf("guard graph\n got %s\nwant %s", j, want)
					}
				}
			}
			if want := map[string]int{"dev": 0, "stg": 1, "prd": 1}[env]; guards != want {
				t.Errorf("%d guard graphs, want %d", guards, want)
			}

			text := widgetsOf(ws, "text")
			if len(text) != 1 {
				t.Fatalf("want one text widget, got %d", len(text))
			}
			contains(t, text[0].Properties["markdown"].(string),
				"(https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/payments-checkout-"+env+"/view?region=eu-west-1)",
				"`ship status --path payments/checkout`", "`ship metrics --path payments/checkout`", "`ship history "+env+" --path payments/checkout`",
				"lambda:InvokeFunction on payments-checkout-"+env+"-runs")
		})
	}
}

func TestTheAlarmWidgetShowsTheHealthAlarm(t *testing.T) {
	for _, env := range []string{"dev", "prd"} {
		_, ws, _ := body(t, defaults(t, env))
		alarms := widgetsOf(ws, "alarm")
		if len(alarms) != 1 {
			t.Fatalf("%s: want one alarm widget, got %d", env, len(alarms))
		}
		want := `["arn:${Ref:AWS::Partition}:cloudwatch:eu-west-1:` + accounts[env] + `:alarm:payments-checkout-` + env + `-health"]`
		if got := compact(alarms[0].Properties["alarms"]); got != want {
			t.Errorf("%s: alarms %s, want %s", env, got, want)
		}
	}
}

// The runs function may read this pipeline's history and this path's commits, and write its
// logs: three statements, each on one resource, no wildcard.
func TestRunsWidgetRoleStatementsAreExact(t *testing.T) {
	for _, env := range []string{"dev", "stg", "prd"} {
		tpl := defaults(t, env)
		logs := idOf(t, tpl, "AWS::Logs::LogGroup", "LogGroupName", "/aws/lambda/payments-checkout-"+env+"-runs")
		got := compact(statementsOf(t, tpl, "PipelineDashboardRole"))
		want := `[{"Action":["logs:CreateLogStream","logs:PutLogEvents"],"Effect":"Allow","Resource":{"Fn::GetAtt":["` + logs + `","Arn"]}},` +
			`{"Action":["codepipeline:ListPipelineExecutions","codepipeline:ListActionExecutions"],"Effect":"Allow",` +
			`"Resource":{"Fn::Sub":"arn:${AWS::Partition}:codepipeline:eu-west-1:` + accounts[env] + `:payments-checkout-` + env + `"},"Sid":"ReadPipelineHistory"},` +
			`{"Action":"codecommit:BatchGetCommits","Effect":"Allow",` +
			`"Resource":{"Fn::Sub":"arn:${AWS::Partition}:codecommit:eu-west-1:` + accounts[env] + `:payments-checkout"},"Sid":"ReadCommitTimes"}]`
		if got != want {
			t.Errorf("%s: runs widget statements\n got %s\nwant %s", env, got, want)
		}
		// Only its own role reads commits; only it and the pipeline's role are given anything
		// on the repository.
		for id, pol := range resources(tpl, "AWS::IAM::Policy") {
			if strings.Contains(compact(pol), "codecommit:BatchGetCommits") && !strings.HasPrefix(id, "PipelineDashboardRole") {
				t.Errorf("%s: %s grants codecommit:BatchGetCommits", env, id)
			}
		}
	}
}

// The runs function: the built Go binary on arm64, the contract's environment exactly, a
// reserved concurrency, and its logs encrypted with the pipeline's key and retained.
func TestRunsWidgetFunctionAndLogs(t *testing.T) {
	tpl := defaults(t, "prd")
	id := idOf(t, tpl, "AWS::Lambda::Function", "FunctionName", "payments-checkout-prd-runs")
	fn := resources(tpl, "AWS::Lambda::Function")[id]["Properties"].(map[string]interface{})
	vars := fn["Environment"].(map[string]interface{})["Variables"].(map[string]interface{})
	want := map[string]interface{}{
		runs.EnvPipeline: "payments-checkout-prd", runs.EnvRepository: "payments-checkout", runs.EnvEnvironment: "prd", runs.EnvHistoryPages: "10",
	}
	if compact(vars) != compact(want) {
		t.Errorf("runs function environment %s, want exactly %s (package runs' variables)", compact(vars), compact(want))
	}
	for k, v := range map[string]interface{}{
		"Runtime": "provided.al2023", "Architectures": []interface{}{"arm64"}, "Handler": "bootstrap", "Timeout": float64(30),
		"MemorySize": float64(256), "ReservedConcurrentExecutions": float64(5),
	} {
		if compact(fn[k]) != compact(v) {
			t.Errorf("runs function %s = %s, want %s", k, compact(fn[k]), compact(v))
		}
	}
	tpl.HasResource(jsii.String("AWS::Logs::LogGroup"), map[string]interface{}{
		"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
		"Properties": map[string]interface{}{
			"LogGroupName": "/aws/lambda/payments-checkout-prd-runs", "RetentionInDays": 365,
			"KmsKeyId": map[string]interface{}{"Fn::GetAtt": []interface{}{"PipelineArtifactKeyFFEED257", "Arn"}},
		},
	})
	// No resource-based policy: the console invokes the function with the viewer's own
	// credentials, which need lambda:InvokeFunction on it.
	tpl.ResourceCountIs(jsii.String("AWS::Lambda::Permission"), jsii.Number(0))
}

// GIVEN watched alarms of a team's own, a step added after the pipeline was built, and an
// account that can reserve no concurrency WHEN synthesized with both nag packs THEN the alarm
// widget shows the health alarm and the watched ones, the added step is graphed, nothing is
// reserved, and no finding is left.
func TestDashboardFollowsWatchStepsAndConcurrency(t *testing.T) {
	var stack awscdk.Stack
	tpl := synth(t, envpipeline.EnvPipelineProps{
		Path: checkout(t), Environment: "stg",
		Watch:                        &org.Watch{Alarms: []string{"checkout-5xx", "team/checkout-latency", "payments-checkout-stg-health"}},
		DashboardReservedConcurrency: dashboard.NoReservedConcurrency,
	}, func(p envpipeline.EnvPipeline) {
		p.AddStep("IntegrationTests", &envpipeline.StepProps{Commands: []string{"make integration"}})
		if got := *p.Dashboard().Node().Path(); got != "Test/Pipeline/Dashboard" {
			t.Errorf("Dashboard() is %s", got)
		}
		stack = awscdk.Stack_Of(p)
		props := &cdknag.NagPackProps{}
		awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(props), nil)
		awscdk.Aspects_Of(stack).Add(cdknag.NewNIST80053R5Checks(props), nil)
	})
	_, ws, _ := body(t, tpl)
	arn := func(name string) string {
		return "arn:${Ref:AWS::Partition}:cloudwatch:eu-west-1:333333333333:alarm:" + name
	}
	want := compact([]string{arn("payments-checkout-stg-health"), arn("checkout-5xx"), arn("team/checkout-latency")})
	if got := compact(widgetsOf(ws, "alarm")[0].Properties["alarms"]); got != want {
		t.Errorf("alarms %s, want %s (the health alarm once, then the watched ones)", got, want)
	}
	for title, metric := range stepGraphs {
		want := []string{"payments-checkout-stg-deploy", "payments-checkout-stg-verify", "payments-checkout-stg-integrationtests"}
		if got := graphed(t, ws, title, metric); !slices.Equal(got, want) {
			t.Errorf("%s graphs %v, want %v", title, got, want)
		}
	}
	tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
		"FunctionName":                 "payments-checkout-stg-runs",
		"ReservedConcurrentExecutions": assertions.Match_Absent(),
	})
	for _, e := range *assertions.Annotations_FromStack(stack).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(".*"))) {
		t.Errorf("%s %v", *e.Id, e.Entry.Data)
	}
}

func TestInvalidDashboardConcurrencyNamesTheProp(t *testing.T) {
	msg := panicMessage(func() {
		synth(t, envpipeline.EnvPipelineProps{Path: checkout(t), Environment: "dev", DashboardReservedConcurrency: -3})
	})
	contains(t, msg, `envpipeline: invalid props:`, `DashboardReservedConcurrency: "-3": a positive number, 0 for the default (5), or dashboard.NoReservedConcurrency (-1)`)
}

// Package dashboard on its own (for a pipeline of a team's own): its defaults, and every
// invalid prop named at once. Tested here, beside envpipeline's use of it, to share this
// package's Node process.
func TestDashboardOnItsOwn(t *testing.T) {
	env, _ := checkout(t).Environment("dev")
	stackIn := func() awscdk.Stack {
		return awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Own"), &awscdk.StackProps{
			Env: &awscdk.Environment{Account: jsii.String(env.Account), Region: jsii.String(env.Region)},
		})
	}
	// GIVEN only a path and its first environment
	stack := stackIn()
	d := dashboard.New(stack, jsii.String("Dashboard"), &dashboard.Props{Path: checkout(t), Environment: "dev"})
	tpl := assertions.Template_FromStack(stack, nil)
	// THEN the steps envpipeline gives the first environment are graphed, its logs have a
	// key of their own, nothing graphs a guard
	_, ws, _ := body(t, tpl)
	for title, metric := range stepGraphs {
		want := []string{"payments-checkout-dev-build", "payments-checkout-dev-deploy", "payments-checkout-dev-verify"}
		if got := graphed(t, ws, title, metric); !slices.Equal(got, want) {
			t.Errorf("%s graphs %v, want %v", title, got, want)
		}
	}
	if strings.Contains(compact(ws), "AWS/Lambda") {
		t.Errorf("a guard graph without a guard: %s", compact(ws))
	}
	tpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]interface{}{
		"Description": "Encrypts the logs of the runs widget payments-checkout-dev-runs", "EnableKeyRotation": true,
	})
	if got := *d.Dashboard().Node().Path(); got != "Own/Dashboard/Resource" {
		t.Errorf("the dashboard is %s, want the construct's Resource", got)
	}
	msg := panicMessage(func() { d.AddStep("no-hyphens") })
	contains(t, msg, `dashboard: AddStep: "no-hyphens": a step name`)

	// GIVEN every prop wrong at once
	p := checkout(t)
	p.Settings.HistoryPages = 101
	msg = panicMessage(func() {
		dashboard.New(stackIn(), jsii.String("Dashboard"), &dashboard.Props{
			Path: p, Environment: "qa", Steps: []string{"Deploy", "9lives"},
			Timeout: awscdk.Duration_Seconds(jsii.Number(2)), ReservedConcurrency: -2,
		})
	})
	// THEN each is named, with its value and what is allowed
	contains(t, msg, "dashboard: invalid props:",
		`Environment: "qa": the name of one of the path's environments`,
		`Path.Settings.HistoryPages: "101": 1 to 100 pages of 100 executions`,
		`ReservedConcurrency: "-2": a positive number, 0 for the default (5), or NoReservedConcurrency (-1)`,
		`Timeout: "2 seconds": 5 to 900 seconds`,
		`Steps[1]: "9lives": a step name`)
}
