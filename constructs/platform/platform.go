// Package platform turns an org.Organization into CDK stacks: one stack per (service,
// environment) in that environment's account and region, named org.Path.StackName, and
// the shared registry stack in the tooling account. The platform app is a thin main
// around it; tests and benchmarks call it directly.
//
//	app := awscdk.NewApp(nil)
//	platform.AddChecks(app)
//	stacks, err := platform.Build(app, org.Default(), platform.Options{Account: "333333333333"})
//
// With Options.Account set, only that account's stacks are created, so the work done per
// account does not grow with the number of teams (what an org-formation update-cdk task,
// run once per account, needs).
package platform

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/compliance"
	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/registry"
)

// What the platform app (apps/platform) reads to choose what to synthesize. They are named
// here, not only in the app, because org-formation's update-cdk tasks
// (apps/platform/org-formation/organization-tasks.yml) pass them: the tasks' Parameters
// become `-c key=value` context, and org-formation sets the environment variable. The tests
// check the tasks against these constants.
const (
	// ContextConfig is the context key of the organisation file to read (-c config=FILE).
	// Absent: the embedded example organisation, org.Default.
	ContextConfig = "config"
	// ContextAccount is the context key of the one account to synthesize (-c account=ID).
	// Absent: EnvDeployAccount; neither: every account.
	ContextAccount = "account"
	// EnvDeployAccount is the environment variable that org-formation's update-cdk task
	// (and the CDK CLI) set to the account being deployed to.
	EnvDeployAccount = "CDK_DEPLOY_ACCOUNT"
)

// Options selects what Build synthesizes.
type Options struct {
	// Account limits the stacks to those deployed into this account.
	// Default: - every account of the organization.
	Account string
}

// AddChecks runs cdk-nag's packs on everything in app at synthesis (compliance.AddChecks):
// those named (the organisation's settings.compliancePacks, see org.CompliancePackNames),
// or with none named AwsSolutions and NIST 800-53 R5. An unsuppressed finding is an error
// annotation, and `cdk synth` fails on it.
func AddChecks(app awscdk.App, packs ...string) { compliance.AddChecks(app, packs...) }

// Build adds the organization's stacks to app and returns them in a stable order: the
// registry first, then each path's environments in file order. o must be normalized
// (org.Load and org.Parse return it so; call Normalize on one built in Go).
func Build(app awscdk.App, o org.Organization, opts Options) (stacks []awscdk.Stack, err error) {
	if opts.Account != "" && !contains(o.Accounts(), opts.Account) {
		return nil, fmt.Errorf("account %q is not one of the organization's accounts %v", opts.Account, o.Accounts())
	}
	// A construct that rejects its props panics, as CDK constructs do; the app reports that
	// as an error with the construct's message instead of a stack trace.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	want := func(account string) bool { return opts.Account == "" || opts.Account == account }
	if want(o.Registry.Account) {
		stacks = append(stacks, newRegistryStack(app, o))
	}
	for _, p := range o.Paths() {
		for _, e := range p.Environments {
			if !want(e.Account) {
				continue
			}
			stacks = append(stacks, NewPipelineStack(app, p, e.Name, &o.Registry, nil).Stack)
		}
	}
	return stacks, nil
}

func newRegistryStack(app awscdk.App, o org.Organization) awscdk.Stack {
	stack := awscdk.NewStack(app, jsii.String(org.RegistryStackName), &awscdk.StackProps{
		StackName:   jsii.String(org.RegistryStackName),
		Description: jsii.String("Shared container registry: one repository per service path, images built once and promoted by digest"),
		Env:         &awscdk.Environment{Account: jsii.String(o.Registry.Account), Region: jsii.String(o.Registry.Region)},
		Tags:        &map[string]*string{"pathtoprod:role": jsii.String("registry")},
	})
	registry.NewRegistry(stack, jsii.String("Registry"), &registry.RegistryProps{Paths: o.Paths(), Scanning: o.Registry.Scanning})
	ApplyPermissionsBoundary(stack, o.Settings, o.Registry.Account, o.Registry.Region)
	return stack
}

// PipelineStack is one environment's stack of a path and the pipeline in it.
type PipelineStack struct {
	Environment org.Environment
	Stack       awscdk.Stack
	Pipeline    envpipeline.EnvPipeline
}

// Configure adjusts one environment's pipeline props before the pipeline is created; Path,
// Environment and Registry are already set. It may change any field.
type Configure func(env org.Environment, props *envpipeline.EnvPipelineProps)

// NewPipelineStack adds the stack of path p's environment env to app: named p.StackName,
// in the environment's account and region, tagged with team, service and environment, and
// holding the EnvPipeline (construct id "Pipeline"). With r, the pipeline promotes one image
// through the shared registry. It panics on invalid input, as constructs do.
func NewPipelineStack(app awscdk.App, p org.Path, env string, r *org.Registry, configure Configure) PipelineStack {
	e, err := p.Environment(env)
	if err != nil {
		panic("platform: " + err.Error())
	}
	name := p.StackName(e.Name)
	stack := awscdk.NewStack(app, jsii.String(name), &awscdk.StackProps{
		StackName:   jsii.String(name),
		Description: jsii.String(stackDescription(p, e)),
		Env:         &awscdk.Environment{Account: jsii.String(e.Account), Region: jsii.String(e.Region)},
		Tags: &map[string]*string{
			"pathtoprod:team":        jsii.String(p.Team),
			"pathtoprod:service":     jsii.String(p.Name),
			"pathtoprod:environment": jsii.String(e.Name),
		},
	})
	ApplyPermissionsBoundary(stack, p.Settings, e.Account, e.Region)
	props := &envpipeline.EnvPipelineProps{Path: p, Environment: e.Name, Registry: r}
	if configure != nil {
		configure(e, props)
	}
	pipeline := envpipeline.NewEnvPipeline(stack, jsii.String("Pipeline"), props)
	return PipelineStack{Environment: e, Stack: stack, Pipeline: pipeline}
}

// stackDescription says what the environment's stack holds: with a CodeCommit source its git
// remote and its pipeline, otherwise the pipeline and the branch it follows.
func stackDescription(p org.Path, e org.Environment) string {
	if p.Source.UsesConnection() {
		return fmt.Sprintf("Path to production of %s: the %s environment's pipeline, which follows %s", p.ID(), e.Name, envpipeline.SourceDescription(p, e))
	}
	return fmt.Sprintf("Path to production of %s: the %s environment's git remote and pipeline", p.ID(), e.Name)
}

// NewPathStacks adds the stacks of every environment of p, in environment order: what a
// service team's own pipeline app does. A construct that rejects its props panics, as CDK
// constructs do; NewPathStacks returns that as an error with the construct's message.
func NewPathStacks(app awscdk.App, p org.Path, r *org.Registry, configure Configure) (stacks []PipelineStack, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			stacks, err = nil, fmt.Errorf("%v", rec)
		}
	}()
	for _, e := range p.Environments {
		stacks = append(stacks, NewPipelineStack(app, p, e.Name, r, configure))
	}
	return stacks, nil
}

// ApplyPermissionsBoundary makes the organisation's permissions boundary
// (org.Settings.PermissionsBoundary, in account and region) the boundary of every IAM role
// and user in stack: the account's CloudFormation execution role, bootstrapped with that
// boundary, may create none without it. The platform's stacks get it from Build and
// NewPipelineStack; a service team's own stacks, which the Deploy step deploys through the
// same execution role, need it too:
//
//	platform.ApplyPermissionsBoundary(stack, o.Settings, account, region)
//
// With "none" it does nothing.
func ApplyPermissionsBoundary(stack awscdk.Stack, s org.Settings, account, region string) {
	if name, ok := s.BoundaryIn(account, region); ok {
		awsiam.PermissionsBoundary_Of(stack).Apply(awsiam.ManagedPolicy_FromManagedPolicyName(stack, jsii.String("PermissionsBoundary"), jsii.String(name)))
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
