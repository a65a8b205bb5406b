package envpipeline

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// Stage names, in pipeline order. They are part of the public contract: a service team
// places its own stages relative to them (StepProps.After), and the CLI reads them.
//
// Source, Guard and Approval are the gates: in an environment with an upstream nothing may
// run the pushed commit before the Guard, nor before the Approval where there is one.
const (
	StageSource   = org.SourceStageName // every environment: the push (the source action SourceAction)
	StageGuard    = "Guard"             // downstream environments only: the commit must have passed upstream
	StageApproval = "Approval"          // environments with Approval: a person signs off
	StageBuild    = "Build"             // the first environment only: build and test, once
	StageDeploy   = "Deploy"            // every environment: deploy the service's stacks into this account
	StageVerify   = "Verify"            // every environment: smoke tests against what was deployed
)

// DefaultBuildCommands, DefaultDeployCommands and DefaultVerifyCommands are what the steps
// run when the path's Commands leave them empty. The service repository provides the make
// targets and a CDK app; the deploy deploys all its stacks in dependency order, through
// the CDK bootstrap roles of the account.
var (
	DefaultBuildCommands  = []string{"make build", "make test"}
	DefaultDeployCommands = []string{"npm ci", "npx cdk deploy --all --require-approval never --ci --progress events"}
	DefaultVerifyCommands = []string{"make verify"}
	DefaultImageCommands  = []string{`docker build --tag "$IMAGE_TAGGED" .`}
)

// The environment variables every step gets. A service's CDK app (what Deploy runs) reads
// them to know where it deploys and which image; registry.ParseImageURI parses the image.
const (
	VarCommitID      = "COMMIT_ID"      // the full id of the commit this run is for
	VarEnvironment   = "ENVIRONMENT"    // the environment's name, e.g. stg
	VarPipelineName  = "PIPELINE_NAME"  // this pipeline's name
	VarTargetAccount = "TARGET_ACCOUNT" // the environment's account id
	VarTargetRegion  = "TARGET_REGION"  // the environment's region
	// With a registry, every step after the image is known (Build in the first environment,
	// Guard elsewhere):
	VarImageURI    = "IMAGE_URI"    // <registry>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:…
	VarImageDigest = "IMAGE_DIGEST" // sha256:…
)

// EnvPipelineProps configures one environment's pipeline of one service path.
type EnvPipelineProps struct {
	// Path is the service path: team, service, ordered environments, commands, notification
	// addresses. Names of every resource that crosses accounts derive from it. Its Settings
	// (org.Settings) give the guard's history bound (HistoryPages) and the CDK bootstrap
	// qualifier whose roles the deploy step assumes (CdkQualifier), the same values the ship
	// CLI reads. Defaults are applied as org.Path.Normalize applies them. Required.
	Path org.Path
	// Environment is the name of the environment of Path that this pipeline runs in. Required.
	Environment string

	// Registry is the shared registry account. With it the pipeline promotes one image: the
	// first environment builds it once, tags it with the full commit id, pushes it and
	// records its digest; later environments never build, their guard requires the commit's
	// image to exist, and every step gets IMAGE_URI (repository@digest) and IMAGE_DIGEST.
	// Default: - no image: nothing is built, pushed or checked besides the commit.
	Registry *org.Registry

	// BuildImage is the CodeBuild image of every step.
	// Default: - Amazon Linux 2023 standard 3.0 for arm64.
	BuildImage awscodebuild.IBuildImage
	// ComputeType of every step. Default: - SMALL.
	ComputeType awscodebuild.ComputeType
	// EnvironmentVariables are added to every step (besides COMMIT_ID, ENVIRONMENT,
	// PIPELINE_NAME, TARGET_ACCOUNT and TARGET_REGION, which are always set).
	// Default: - none.
	EnvironmentVariables map[string]*awscodebuild.BuildEnvironmentVariable
	// StepTimeout bounds each step. Default: - 60 minutes.
	StepTimeout awscdk.Duration
	// LogRetention of every step's CloudWatch log group. Default: - one year.
	LogRetention awslogs.RetentionDays
	// ExecutionMode of the pipeline. Default: - QUEUED: every push runs, in push order, so the
	// deployed state is the last push and the history the downstream guard reads is complete.
	// PARALLEL is rejected: with CodeCommit it clones the branch HEAD, not the pushed commit.
	ExecutionMode awscodepipeline.ExecutionMode
	// GuardTimeout is the promotion guard's time budget (downstream environments).
	// Default: - 60 seconds.
	GuardTimeout awscdk.Duration
}

// settings are the props with every default applied; the caller's struct is never written.
type settings struct {
	EnvPipelineProps
	env      org.Environment
	build    []string
	image    []string
	deploy   []string
	verify   []string
	pipeline string
}

func resolve(stack awscdk.Stack, props *EnvPipelineProps) (settings, error) {
	if props == nil {
		props = &EnvPipelineProps{}
	}
	s := settings{EnvPipelineProps: *props}
	var problems []string
	bad := func(field, value, allowed string) {
		problems = append(problems, fmt.Sprintf("%s: %q: %s", field, value, allowed))
	}

	path, err := s.Path.Normalize()
	if err != nil {
		problems = append(problems, err.Error())
	} else {
		s.Path = path
		env, err := path.Environment(s.Environment)
		if err != nil {
			bad("Environment", s.Environment, "the name of one of the path's environments: "+err.Error())
		}
		s.env = env
	}
	if s.ExecutionMode == "" {
		s.ExecutionMode = awscodepipeline.ExecutionMode_QUEUED
	}
	if s.ExecutionMode == awscodepipeline.ExecutionMode_PARALLEL {
		bad("ExecutionMode", string(s.ExecutionMode), "QUEUED or SUPERSEDED (PARALLEL clones the branch HEAD for CodeCommit, not the pushed commit)")
	}
	for name := range s.EnvironmentVariables {
		if reservedVariables[name] {
			bad("EnvironmentVariables", name, "a name other than the ones the pipeline sets: COMMIT_ID, ENVIRONMENT, PIPELINE_NAME, TARGET_ACCOUNT, TARGET_REGION, IMAGE_URI, IMAGE_DIGEST")
		}
	}
	// The stack must live in the environment's own account: the pipeline deploys there.
	if s.env.Name != "" {
		if a := *stack.Account(); !*awscdk.Token_IsUnresolved(stack.Account()) && a != s.env.Account {
			bad("Environment", s.Environment, fmt.Sprintf("a stack in the environment's account %s; the stack is in %s", s.env.Account, a))
		}
		if r := *stack.Region(); !*awscdk.Token_IsUnresolved(stack.Region()) && r != s.env.Region {
			bad("Environment", s.Environment, fmt.Sprintf("a stack in the environment's region %s; the stack is in %s", s.env.Region, r))
		}
	}
	if len(problems) > 0 {
		return settings{}, fmt.Errorf("envpipeline: invalid props:\n  %s", strings.Join(problems, "\n  "))
	}

	if s.BuildImage == nil {
		s.BuildImage = awscodebuild.LinuxArmBuildImage_AMAZON_LINUX_2023_STANDARD_3_0()
	}
	if s.ComputeType == "" {
		s.ComputeType = awscodebuild.ComputeType_SMALL
	}
	if s.StepTimeout == nil {
		s.StepTimeout = awscdk.Duration_Minutes(jsii.Number(60))
	}
	if s.LogRetention == "" {
		s.LogRetention = awslogs.RetentionDays_ONE_YEAR
	}
	s.build = orDefault(s.Path.Commands.Build, DefaultBuildCommands)
	s.image = orDefault(s.Path.Commands.Image, DefaultImageCommands)
	s.deploy = orDefault(s.Path.Commands.Deploy, DefaultDeployCommands)
	s.verify = orDefault(s.Path.Commands.Verify, DefaultVerifyCommands)
	s.pipeline = s.Path.PipelineName(s.env.Name)
	return s, nil
}

var reservedVariables = map[string]bool{
	VarCommitID: true, VarEnvironment: true, VarPipelineName: true, VarTargetAccount: true, VarTargetRegion: true,
	VarImageURI: true, VarImageDigest: true,
}

func orDefault(v, def []string) []string {
	if len(v) > 0 {
		return v
	}
	return def
}
