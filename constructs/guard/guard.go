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
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/golambda"
	"github.com/platform-eng/pathtoprod/constructs/loggroup"
	"github.com/platform-eng/pathtoprod/constructs/notify"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/registry"
	"github.com/platform-eng/pathtoprod/constructs/vulnscan"
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
	// Refuse is the least severity of the image's scan findings that refuses it, or
	// vulnscan.None to report the counts only. Default: - vulnscan.None.
	Refuse vulnscan.Threshold
	// Unscanned is what happens to an image whose scan is in progress, failed, unsupported or
	// missing. Default: - vulnscan.Refuse.
	Unscanned vulnscan.Unscanned
	// EnhancedScanning says the registry scans with Amazon Inspector (org.ScanningEnhanced):
	// reading its findings through ECR also needs inspector2:ListFindings, which has no
	// resource-level permission. Default: - false (basic scanning).
	EnhancedScanning bool
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
	// LogKey encrypts the guard's log group. Default: - a key of the guard's own (rotated,
	// retained).
	LogKey awskms.Key
	// FailureTopic receives an invocation the guard could not report on the job (the event
	// had no job id, or CodePipeline refused the report): the Lambda's dead-letter target,
	// since CodePipeline invokes it asynchronously and would otherwise only time the job out.
	// Default: - an encrypted topic of the guard's own (FailureTopic()), without subscribers.
	FailureTopic awssns.ITopic
	// ReservedConcurrency is the guard's reserved concurrency: enough for the runs of one
	// pipeline, and it keeps a burst elsewhere in the account from starving the guard (and a
	// runaway guard from starving the account). Lambda keeps 10 of the account's concurrency
	// unreserved, so an account whose quota is 10 (some new accounts) cannot reserve any: set
	// NoReservedConcurrency there, or raise the quota. Default: DefaultReservedConcurrency.
	ReservedConcurrency int
}

// DefaultReservedConcurrency is the guard's reserved concurrency when GuardProps sets none:
// a pipeline runs one execution per stage at a time, and a throttled invocation is retried
// by Lambda's asynchronous queue, so 2 leaves room for a retry beside a run.
const DefaultReservedConcurrency = 2

// NoReservedConcurrency, as GuardProps.ReservedConcurrency, reserves none (the function uses
// the account's unreserved pool).
const NoReservedConcurrency = -1

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
	// FailureTopic receives the invocations the guard could not report (GuardProps.FailureTopic).
	FailureTopic() awssns.ITopic
}

type guardConstruct struct {
	constructs.Construct
	fn       awslambda.Function
	role     awsiam.Role
	failures awssns.ITopic
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
	concurrency := props.ReservedConcurrency
	switch {
	case concurrency == 0:
		concurrency = DefaultReservedConcurrency
	case concurrency < NoReservedConcurrency:
		panic(fmt.Sprintf("guard: invalid props: ReservedConcurrency: %d: a positive number, 0 for the default (%d), or NoReservedConcurrency (-1)", concurrency, DefaultReservedConcurrency))
	}
	p := props.Path
	name := p.GuardFunctionName(env.Name)

	key := loggroup.KeyOr(this, props.LogKey, "the promotion guard "+name)
	logs := loggroup.New(this, jsii.String("Logs"), &loggroup.Props{Key: key, Name: "/aws/lambda/" + name, Retention: props.LogRetention})
	failures := props.FailureTopic
	if failures == nil {
		failures = notify.NewTopic(this, jsii.String("Failures"), &notify.TopicProps{DisplayName: name + " failures"})
	}
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
		refuse, unscanned, err := img.gate()
		if err != nil {
			panic("guard: invalid props: " + err.Error())
		}
		vars["IMAGE_REPOSITORY"] = jsii.String(img.RepositoryName)
		vars["IMAGE_REGISTRY_ID"] = jsii.String(img.RegistryAccount)
		vars["IMAGE_REGION"] = jsii.String(img.Region)
		vars["VULNERABILITY_THRESHOLD"] = jsii.String(string(refuse))
		vars["UNSCANNED_IMAGES"] = jsii.String(string(unscanned))
		// The image and its scan: exactly the two reads of the path's one repository (the
		// registry's repository policy grants the same two to this role).
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("FindCommitImageAndScan"),
			Actions:   jsii.Strings(registryReads...),
			Resources: &[]*string{partitionARN(fmt.Sprintf("ecr:%s:%s:repository/%s", img.Region, img.RegistryAccount, img.RepositoryName))},
		}))
		if img.EnhancedScanning {
			// ECR's enhanced scanning documentation lists it among the permissions to retrieve
			// findings (image-scanning-enhanced-iam.html).
			role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadEnhancedScanFindings"),
				Actions:   jsii.Strings("inspector2:ListFindings"),
				Resources: jsii.Strings("*"),
			}))
		}
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
		RetryAttempts:   jsii.Number(0),
		DeadLetterTopic: failures,
	})
	// The Lambda service publishes a failed event with the function's role; an encrypted
	// topic also needs its key (CDK's dead-letter grant covers sns:Publish only).
	if k := failures.MasterKey(); k != nil {
		k.Grant(role, jsii.String("kms:GenerateDataKey"), jsii.String("kms:Decrypt"))
	}
	if concurrency != NoReservedConcurrency {
		fn.Node().DefaultChild().(awslambda.CfnFunction).SetReservedConcurrentExecutions(jsii.Number(concurrency))
	}
	suppressGuardFindings(this, concurrency == NoReservedConcurrency, props.Image != nil && props.Image.EnhancedScanning)
	g.fn, g.role, g.failures = fn, role, failures
	return g
}

// registryReads are what the guard reads in the shared registry: the commit's image, and
// its vulnerability scan (the registry's repository policy grants the guard role the same).
var registryReads = append(append([]string(nil), registry.DescribeActions...), registry.ScanActions...)

// gate is the image check's vulnerability gate with its defaults, or an error naming the
// field, the value and what is allowed.
func (c ImageCheck) gate() (vulnscan.Threshold, vulnscan.Unscanned, error) {
	refuse, unscanned := vulnscan.None, vulnscan.Refuse
	var problems []string
	if c.Refuse != "" {
		t, err := vulnscan.ParseThreshold(string(c.Refuse))
		if err != nil {
			problems = append(problems, "Image.Refuse: "+err.Error())
		}
		refuse = t
	}
	if c.Unscanned != "" {
		u, err := vulnscan.ParseUnscanned(string(c.Unscanned))
		if err != nil {
			problems = append(problems, "Image.Unscanned: "+err.Error())
		}
		unscanned = u
	}
	if len(problems) > 0 {
		return "", "", errors.New(strings.Join(problems, "; "))
	}
	return refuse, unscanned, nil
}

func (g *guardConstruct) Function() awslambda.IFunction { return g.fn }
func (g *guardConstruct) Role() awsiam.IRole            { return g.role }
func (g *guardConstruct) FailureTopic() awssns.ITopic   { return g.failures }

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
