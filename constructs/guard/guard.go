// Package guard provides the promotion guard of a downstream environment and the read-only
// role it uses in the upstream environment. The guard is a Go Lambda run as a CodePipeline
// Invoke action before anything is deployed: it fails the run unless the pushed commit has
// a Succeeded execution in the upstream environment's pipeline (and, with image promotion,
// unless the image built for that commit is in the shared registry).
//
// In the downstream (e.g. stg) stack:
//
//	g := guard.NewGuard(stack, jsii.String("Guard"), &guard.GuardProps{Path: path, Environment: "stg"})
//	pipeline.AddStage(&awscodepipeline.StageOptions{StageName: jsii.String("Guard"),
//		Actions: &[]awscodepipeline.IAction{g.Action(sourceNamespace)}})
//
// In the upstream (e.g. dev) stack, the role that guard assumes:
//
//	guard.NewUpstreamReader(stack, jsii.String("Reader"), &guard.UpstreamReaderProps{Path: path, Environment: "dev"})
//
// The Lambda's code lives in constructs/guard/lambda (its handler) and constructs/guard/gate (the rule); it is built
// from source at synthesis (golambda), never committed. envpipeline wires all of this up
// from the org.Path; use this package directly only to build a pipeline of your own.
package guard

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/golambda"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// LambdaPackage is the main package built into the guard's bootstrap binary.
const LambdaPackage = "github.com/platform-eng/pathtoprod/constructs/guard/lambda"

// Namespace is the variables namespace of the guard action: #{Guard.UpstreamExecutionId},
// #{Guard.Summary}, and with image promotion #{Guard.ImageUri} and #{Guard.ImageDigest}.
const Namespace = "Guard"

// ImageCheck names the shared registry repository in which the commit's image must exist.
type ImageCheck struct {
	// RegistryAccount is the registry (tooling) account id.
	RegistryAccount string
	// Region of the registry.
	Region string
	// RepositoryName is the path's ECR repository, e.g. payments/checkout.
	RepositoryName string
}

// GuardProps configures the guard of one downstream environment.
type GuardProps struct {
	// Path is the service path (normalized, as org.Load returns it). Its Settings.HistoryPages
	// bounds how much upstream history the guard reads (HISTORY_MAX_PAGES). Required.
	Path org.Path
	// Environment is the downstream environment the guard protects; it must have an upstream.
	// Required.
	Environment string
	// Timeout is the Lambda's time budget; the guard keeps a few seconds of it to report.
	// Default: - 60 seconds.
	Timeout awscdk.Duration
	// Image, when set, also requires the commit's image in the shared registry and outputs
	// its digest. Default: - no image check.
	Image *ImageCheck
	// LogRetention of the guard's log group. Default: - one year.
	LogRetention awslogs.RetentionDays
}

// Guard is the guard Lambda of one downstream environment.
type Guard interface {
	constructs.Construct
	// Function is the guard Lambda.
	Function() awslambda.IFunction
	// Role is the guard's execution role: the one principal the upstream reader trusts.
	Role() awsiam.IRole
	// Action returns the pipeline action that runs the guard on the commit the source action
	// in sourceNamespace read (#{<sourceNamespace>.CommitId}).
	Action(sourceNamespace string) awscodepipeline.IAction
}

type guardConstruct struct {
	constructs.Construct
	fn   awslambda.Function
	role awsiam.Role
}

// NewGuard creates the guard Lambda, its role and log group. It panics, listing every
// problem, when the props are invalid.
func NewGuard(scope constructs.Construct, id *string, props *GuardProps) Guard {
	g := &guardConstruct{}
	constructs.NewConstruct_Override(g, scope, id) // g is the construct: callers may pass it to CDK
	this := constructs.Construct(g)
	if props == nil {
		props = &GuardProps{}
	}
	env, upstream, err := downstreamOf(props.Path, props.Environment)
	if err != nil {
		panic("guard: invalid props: " + err.Error())
	}
	timeout := props.Timeout
	if timeout == nil {
		timeout = awscdk.Duration_Seconds(jsii.Number(60))
	}
	// How much upstream history is read (pages of 100 executions) is the organisation's
	// Path.Settings.HistoryPages, the bound the ship CLI reads too: a commit older than that
	// fails the guard rather than passing unchecked. A path not normalized gets its default.
	maxPages := props.Path.Settings.HistoryPages
	if maxPages == 0 {
		maxPages = org.DefaultHistoryPages
	}
	if maxPages < 1 || maxPages > org.MaxHistoryPages {
		panic(fmt.Sprintf("guard: invalid props: Path.Settings.HistoryPages: %d: 1 to %d pages of %d executions", maxPages, org.MaxHistoryPages, org.HistoryPageSize))
	}
	retention := props.LogRetention
	if retention == "" {
		retention = awslogs.RetentionDays_ONE_YEAR
	}
	p := props.Path
	name := p.GuardFunctionName(env.Name)

	logs := awslogs.NewLogGroup(this, jsii.String("Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/lambda/" + name),
		Retention:     retention,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	role := awsiam.NewRole(this, jsii.String("Role"), &awsiam.RoleProps{
		// Deterministic: the upstream reader role trusts exactly this ARN.
		RoleName:    jsii.String(p.GuardRoleName(env.Name)),
		Description: jsii.String("Promotion guard of " + p.PipelineName(env.Name) + ": reads " + upstream.Name + "'s pipeline history"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	logs.GrantWrite(role)
	readerARN := partitionARN("iam::" + upstream.Account + ":role/" + p.UpstreamReaderRoleName(upstream.Name))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadUpstreamHistory"),
		Actions:   jsii.Strings("sts:AssumeRole"),
		Resources: &[]*string{readerARN},
	}))
	// codepipeline:PutJobSuccessResult/PutJobFailureResult are granted by the invoke action
	// when the guard is bound to a pipeline (Action).

	vars := map[string]*string{
		"UPSTREAM_ENVIRONMENT": jsii.String(upstream.Name),
		"UPSTREAM_PIPELINE":    jsii.String(p.PipelineName(upstream.Name)),
		"UPSTREAM_ROLE_ARN":    readerARN,
		"UPSTREAM_REGION":      jsii.String(upstream.Region),
		"HISTORY_MAX_PAGES":    jsii.String(strconv.Itoa(maxPages)),
	}
	if img := props.Image; img != nil {
		vars["IMAGE_REPOSITORY"] = jsii.String(img.RepositoryName)
		vars["IMAGE_REGISTRY_ID"] = jsii.String(img.RegistryAccount)
		vars["IMAGE_REGION"] = jsii.String(img.Region)
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("FindCommitImage"),
			Actions:   jsii.Strings("ecr:DescribeImages"),
			Resources: &[]*string{partitionARN(fmt.Sprintf("ecr:%s:%s:repository/%s", img.Region, img.RegistryAccount, img.RepositoryName))},
		}))
	}

	fn := awslambda.NewFunction(this, jsii.String("Resource"), &awslambda.FunctionProps{
		FunctionName: jsii.String(name),
		Description:  jsii.String("Fails the run unless the commit passed " + upstream.Name),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         golambda.Code(LambdaPackage),
		Role:         role,
		Timeout:      timeout,
		MemorySize:   jsii.Number(256),
		LogGroup:     logs,
		Environment:  &vars,
		// One decision per run: no retries of a failed invocation (the job would be reported twice).
		RetryAttempts: jsii.Number(0),
	})
	suppressGuardFindings(this)
	g.fn, g.role = fn, role
	return g
}

func (g *guardConstruct) Function() awslambda.IFunction { return g.fn }
func (g *guardConstruct) Role() awsiam.IRole            { return g.role }

func (g *guardConstruct) Action(sourceNamespace string) awscodepipeline.IAction {
	params, _ := json.Marshal(map[string]string{
		"commit":      "#{" + sourceNamespace + ".CommitId}",
		"executionId": "#{codepipeline.PipelineExecutionId}",
	})
	return awscodepipelineactions.NewLambdaInvokeAction(&awscodepipelineactions.LambdaInvokeActionProps{
		ActionName:           jsii.String("CommitPassedUpstream"),
		Lambda:               g.fn,
		UserParametersString: jsii.String(string(params)),
		VariablesNamespace:   jsii.String(Namespace),
	})
}

// partitionARN is "arn:<this stack's partition>:" + rest, resolved at deployment.
func partitionARN(rest string) *string {
	return awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:"+rest), nil)
}

// downstreamOf finds env in path and its upstream environment.
func downstreamOf(path org.Path, name string) (org.Environment, org.Environment, error) {
	env, err := path.Environment(name)
	if err != nil {
		return org.Environment{}, org.Environment{}, fmt.Errorf("Environment: %q: %v", name, err)
	}
	if !env.HasUpstream() {
		return org.Environment{}, org.Environment{}, fmt.Errorf("Environment: %q: an environment with an upstream (this one is where the path builds)", name)
	}
	up, err := path.Environment(env.Upstream)
	if err != nil {
		return org.Environment{}, org.Environment{}, fmt.Errorf("Path: upstream of %q: %v", name, err)
	}
	return env, up, nil
}
