// Package dashboard provides the CloudWatch dashboard of one environment's pipeline: what the
// on-call engineer of that account opens first. Its centre is the runs widget, a CloudWatch
// custom widget whose function (constructs/dashboard/lambda) reads the pipeline's history
// when someone views the dashboard and shows the four keys of the dashboard's time range
// (package dora, the code ship metrics runs) and the newest runs. Around it are native
// widgets that need no code: the status of the environment's alarms, the pipeline's
// CodeBuild steps (builds succeeded and failed, duration), the guard's errors and throttles,
// and a text widget with a link to the pipeline and the ship commands.
//
// Lead times start at the commits' times, which the runs widget reads from the account's
// CodeCommit repository of the path. A path whose code is on GitHub, GitLab or Bitbucket
// (org.Source.UsesConnection) has no such repository: its widget's role reads no commits,
// and the widget shows the lead times as unknown, saying that ship metrics reads them from
// a clone.
//
// In the environment's pipeline stack:
//
//	dashboard.New(stack, jsii.String("Dashboard"), &dashboard.Props{Path: path, Environment: "prd"})
//
// envpipeline creates one for every environment; use this package directly only for a
// pipeline of your own. Viewing the runs widget needs lambda:InvokeFunction on its function
// (FunctionName): the console invokes it with the viewer's credentials.
package dashboard

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/dashboard/console"
	"github.com/platform-eng/pathtoprod/constructs/golambda"
	"github.com/platform-eng/pathtoprod/constructs/loggroup"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// LambdaPackage is the main package built into the runs widget's bootstrap binary.
const LambdaPackage = "github.com/platform-eng/pathtoprod/constructs/dashboard/lambda"

// FunctionName is the runs widget's function of the path's pipeline in env: the pipeline's
// name and "-runs" (at most 51 characters; unique wherever the pipeline's name is). A
// platform team grants viewers lambda:InvokeFunction on it.
func FunctionName(p org.Path, env string) string { return p.PipelineName(env) + "-runs" }

// The step names graphed by default: the CodeBuild steps envpipeline gives every pipeline
// (envpipeline.StageBuild, StageDeploy and StepVerify; not imported, envpipeline imports this
// package).
const (
	StepBuild  = "Build"
	StepDeploy = "Deploy"
	StepVerify = "Verify"
)

// Defaults of Props.
const (
	// DefaultTimeout is the runs widget's time budget, in seconds: the read stops 2 seconds
	// before it to show what went wrong instead of a blank widget.
	DefaultTimeout = 30
	// DefaultReservedConcurrency lets a few people view the dashboard at once; an
	// invocation beyond it is throttled, and that widget shows the throttle until refreshed.
	DefaultReservedConcurrency = 5
	// NoReservedConcurrency, as Props.ReservedConcurrency, reserves none (the function uses
	// the account's unreserved pool).
	NoReservedConcurrency = -1
	// DefaultRangeDays is the time range the dashboard opens with: a week.
	DefaultRangeDays = 7
)

// Props configures the dashboard of one environment's pipeline.
type Props struct {
	// Path is the service path (normalized, as org.Load returns it). Its Settings.HistoryPages
	// bounds how much history the runs widget reads, as it bounds the guard and ship.
	// Required.
	Path org.Path
	// Environment is the environment whose pipeline the dashboard shows; the stack must be in
	// its account and region. Its Watch alarms are shown beside the path's health alarm.
	// Required.
	Environment string
	// Steps are the pipeline's CodeBuild steps whose projects (org.Path.ProjectName) are
	// graphed: builds succeeded, builds failed and duration, one line per step. AddStep adds
	// more. Default: - StepBuild where the path builds (the first environment), then
	// StepDeploy and StepVerify.
	Steps []string
	// Guard is the environment's promotion guard function, whose errors and throttles are
	// graphed. Default: - no guard graph (the first environment has no guard).
	Guard awslambda.IFunction
	// LogKey encrypts the runs widget's log group. Default: - a key of the dashboard's own
	// (rotated, retained).
	LogKey awskms.Key
	// LogRetention of the runs widget's log group. Default: - one year.
	LogRetention awslogs.RetentionDays
	// Timeout is the runs widget's time budget: 5 to 900 seconds. Default: DefaultTimeout.
	Timeout awscdk.Duration
	// ReservedConcurrency is the runs widget's reserved concurrency: a positive number, or
	// NoReservedConcurrency for none (an account whose Lambda concurrency quota is 10 cannot
	// reserve any). Default: DefaultReservedConcurrency.
	ReservedConcurrency int
}

// Dashboard is the dashboard of one environment's pipeline.
type Dashboard interface {
	constructs.Construct
	// Dashboard is the CloudWatch dashboard (named org.Path.DashboardName), to add widgets to.
	Dashboard() awscloudwatch.Dashboard
	// Function is the runs widget's function.
	Function() awslambda.IFunction
	// Role is the runs widget's execution role: it may only read this pipeline's history and,
	// with a CodeCommit source, the commits of this account's repository of the path, and
	// write its logs. With a source on GitHub, GitLab or Bitbucket it reads no commits: the
	// widget shows lead times as unknown, and why.
	Role() awsiam.IRole
	// AddStep graphs one more CodeBuild step of the pipeline (a step a team added): its
	// project is org.Path.ProjectName of the environment and step. A step already graphed
	// is not graphed twice. It panics on a name that is no step name.
	AddStep(step string)
}

type dashboardConstruct struct {
	constructs.Construct
	path      org.Path
	env       string
	dashboard awscloudwatch.Dashboard
	fn        awslambda.Function
	role      awsiam.Role
	graphs    []stepGraph
	steps     map[string]bool
}

// stepGraph is one graph of a CodeBuild metric, one line per step.
type stepGraph struct {
	widget    awscloudwatch.GraphWidget
	metric    string
	statistic string
}

// New creates the dashboard, the runs widget's function, its role and its log group. It
// panics, listing every problem, when the props are invalid.
func New(scope constructs.Construct, id *string, props *Props) Dashboard {
	d := &dashboardConstruct{steps: map[string]bool{}}
	constructs.NewConstruct_Override(d, scope, id) // d is the construct: callers may pass it to CDK
	this := constructs.Construct(d)
	if props == nil {
		props = &Props{}
	}
	s, err := resolve(*props)
	if err != nil {
		panic("dashboard: invalid props:\n  " + err.Error())
	}
	p, env := s.Path, s.env
	d.path, d.env = p, env.Name
	pipeline := p.PipelineName(env.Name)

	fn, role := d.runsFunction(s)
	d.fn, d.role = fn, role

	d.dashboard = awscloudwatch.NewDashboard(this, jsii.String("Resource"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String(p.DashboardName(env.Name)),
		DefaultInterval: awscdk.Duration_Days(jsii.Number(DefaultRangeDays)),
	})
	runs := awscloudwatch.NewCustomWidget(&awscloudwatch.CustomWidgetProps{
		FunctionArn: fn.FunctionArn(),
		Title:       jsii.String("Runs of " + pipeline + ": deployments, lead time, change failure rate, time to restore"),
		Width:       jsii.Number(16),
		Height:      jsii.Number(14),
		// A resize changes nothing the widget reads: no new read of the history.
		UpdateOnResize: jsii.Bool(false),
	})
	alarms := awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
		Title:  jsii.String("Health and watched alarms"),
		Alarms: d.alarms(s.alarms),
		Width:  jsii.Number(8),
		Height: jsii.Number(5),
	})
	text := awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{
		Markdown: jsii.String(d.markdown(s)),
		Width:    jsii.Number(8),
		Height:   jsii.Number(9),
	})
	d.dashboard.AddWidgets(awscloudwatch.NewRow(runs, awscloudwatch.NewColumn(alarms, text)))

	var graphs []awscloudwatch.IWidget
	for _, g := range []struct{ title, metric, statistic string }{
		{"Builds succeeded, per step", "SucceededBuilds", "Sum"},
		{"Builds failed, per step", "FailedBuilds", "Sum"},
		{"Build duration (seconds, average), per step", "Duration", "Average"},
	} {
		w := awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(g.title), Width: jsii.Number(8), Height: jsii.Number(6),
		})
		d.graphs = append(d.graphs, stepGraph{widget: w, metric: g.metric, statistic: g.statistic})
		graphs = append(graphs, w)
	}
	d.dashboard.AddWidgets(graphs...)
	for _, step := range s.steps {
		d.AddStep(step)
	}
	if s.Guard != nil {
		hour := awscdk.Duration_Hours(jsii.Number(1))
		d.dashboard.AddWidgets(awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Promotion guard: errors and throttles"),
			Left: &[]awscloudwatch.IMetric{
				s.Guard.MetricErrors(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: hour, Label: jsii.String("Errors")}),
				s.Guard.MetricThrottles(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: hour, Label: jsii.String("Throttles")}),
			},
			Width: jsii.Number(8), Height: jsii.Number(6),
		}))
	}
	suppressFindings(d, fn, s.ReservedConcurrency == NoReservedConcurrency)
	return d
}

// runsFunction creates the runs widget's function, its role (exactly its reads and its logs)
// and its log group.
func (d *dashboardConstruct) runsFunction(s settings) (awslambda.Function, awsiam.Role) {
	this := constructs.Construct(d)
	p, env := s.Path, s.env
	name, pipeline := FunctionName(p, env.Name), p.PipelineName(env.Name)
	key := loggroup.KeyOr(this, s.LogKey, "the runs widget "+name)
	logs := loggroup.New(this, jsii.String("Logs"), &loggroup.Props{Key: key, Name: "/aws/lambda/" + name, Retention: s.LogRetention})
	// Commit times (for lead times) come from this account's CodeCommit repository. A path
	// whose code is on GitHub, GitLab or Bitbucket has none here: the role reads no commits,
	// and the widget says where lead times can be read instead (runs.Config.Source).
	commits := !p.Source.UsesConnection()
	reads := "'s history and its commits"
	if !commits {
		reads = "'s history"
	}
	role := awsiam.NewRole(this, jsii.String("Role"), &awsiam.RoleProps{
		Description: jsii.String("Runs widget of dashboard " + p.DashboardName(env.Name) + ": reads pipeline " + pipeline + reads),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	logs.GrantWrite(role)
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadPipelineHistory"),
		Actions:   jsii.Strings("codepipeline:ListPipelineExecutions", "codepipeline:ListActionExecutions"),
		Resources: &[]*string{arn("codepipeline:" + env.Region + ":" + env.Account + ":" + pipeline)},
	}))
	// The contract with package runs (runs.Env*; the tests check both sides agree).
	vars := map[string]*string{
		"PIPELINE_NAME":     jsii.String(pipeline),
		"ENVIRONMENT":       jsii.String(env.Name),
		"HISTORY_MAX_PAGES": jsii.String(strconv.Itoa(s.maxPages)),
	}
	if commits {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadCommitTimes"),
			Actions:   jsii.Strings("codecommit:BatchGetCommits"),
			Resources: &[]*string{arn("codecommit:" + env.Region + ":" + env.Account + ":" + p.RepositoryName())},
		}))
		vars["REPOSITORY_NAME"] = jsii.String(p.RepositoryName())
	} else {
		vars["SOURCE_PROVIDER"] = jsii.String(p.Source.Provider)
		vars["SOURCE_REPOSITORY"] = jsii.String(p.Source.Repository)
	}
	fn := awslambda.NewFunction(this, jsii.String("Function"), &awslambda.FunctionProps{
		FunctionName: jsii.String(name),
		Description:  jsii.String("Runs widget of dashboard " + p.DashboardName(env.Name) + ": reads the history of pipeline " + pipeline + " when the dashboard is viewed"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         golambda.Code(LambdaPackage),
		Role:         role,
		Timeout:      s.Timeout,
		MemorySize:   jsii.Number(256),
		LogGroup:     logs,
		Environment:  &vars,
	})
	if s.ReservedConcurrency != NoReservedConcurrency {
		fn.Node().DefaultChild().(awslambda.CfnFunction).SetReservedConcurrentExecutions(jsii.Number(s.ReservedConcurrency))
	}
	return fn, role
}

// alarms are the alarm status widget's alarms, by name: the path's health alarm, then the
// environment's watched alarms (one entry per name).
func (d *dashboardConstruct) alarms(names []string) *[]interfacesawscloudwatch.IAlarmRef {
	var out []interfacesawscloudwatch.IAlarmRef
	for _, n := range names {
		// An import creates no resource: its id only has to be unique, and stable for a name.
		out = append(out, awscloudwatch.Alarm_FromAlarmName(d, jsii.String("Alarm "+idEscape.Replace(n)), jsii.String(n)))
	}
	return &out
}

// idEscape keeps an alarm name (which may hold '/') a single construct id, one per name.
var idEscape = strings.NewReplacer("%", "%25", "/", "%2F")

// markdown is the text widget: where this environment sits in the path, a link to the
// pipeline, and the ship commands that say more.
func (d *dashboardConstruct) markdown(s settings) string {
	p, env := s.Path, s.env
	var chain []string
	for _, e := range p.Environments {
		if e.Name == env.Name {
			chain = append(chain, "**"+e.Name+"**")
		} else {
			chain = append(chain, e.Name)
		}
	}
	service := p.Team + "/" + p.Name // as ship's --path names it
	return fmt.Sprintf(`### %s
%s in **%s** (account %s, %s): %s

[Open the pipeline](%s)

From the service's repository:
* `+"`ship status --path %s`"+`: what runs in each environment, and why
* `+"`ship history %s --path %s`"+`: every run
* `+"`ship metrics --path %s`"+`: the four keys, over any range

The runs widget reads the pipeline's history each time it is shown; viewing it needs lambda:InvokeFunction on %s.`,
		p.PipelineName(env.Name), service, env.Name, env.Account, env.Region, strings.Join(chain, " → "),
		console.PipelineURL(env.Region, p.PipelineName(env.Name)),
		service, env.Name, service, service, FunctionName(p, env.Name))
}

func (d *dashboardConstruct) Dashboard() awscloudwatch.Dashboard { return d.dashboard }
func (d *dashboardConstruct) Function() awslambda.IFunction      { return d.fn }
func (d *dashboardConstruct) Role() awsiam.IRole                 { return d.role }

func (d *dashboardConstruct) AddStep(step string) {
	if !stepName.MatchString(step) {
		panic(fmt.Sprintf("dashboard: AddStep: %q: a step name (a letter, then up to 39 letters or digits), as envpipeline's", step))
	}
	if d.steps[step] {
		return
	}
	d.steps[step] = true
	project := d.path.ProjectName(d.env, step)
	for _, g := range d.graphs {
		// The dashboard's body is rendered at synthesis: a line added now is on it.
		g.widget.AddLeftMetric(awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:     jsii.String("AWS/CodeBuild"),
			MetricName:    jsii.String(g.metric),
			DimensionsMap: &map[string]*string{"ProjectName": jsii.String(project)},
			Statistic:     jsii.String(g.statistic),
			Period:        awscdk.Duration_Hours(jsii.Number(1)),
			Label:         jsii.String(step),
		}))
	}
}

// arn is "arn:<this stack's partition>:" + rest, resolved at deployment.
func arn(rest string) *string {
	return awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:"+rest), nil)
}

var stepName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,39}$`)
