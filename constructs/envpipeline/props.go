package envpipeline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/dashboard"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// Stage names, in pipeline order. They are part of the public contract: a service team
// places its own stages relative to them (StepProps.After), and the CLI reads them.
//
// Source, SecretsScan, Guard, Plan and Approval are the gates: in the first environment
// nothing may run the pushed commit before the SecretsScan; in an environment with an
// upstream nothing may run it before the Guard; where there is an approval, nothing runs it
// before the Approval but the Plan, with its read-only role.
const (
	StageSource      = org.SourceStageName // every environment: the push (the source action SourceAction)
	StageSecretsScan = "SecretsScan"       // the first environment only: no secret in the commit's files (secretsscan.go)
	StageGuard       = "Guard"             // downstream environments only: the commit must have passed upstream
	StagePlan        = "Plan"              // environments with Approval: what the deploy would change, read-only
	StageApproval    = "Approval"          // environments with Approval: a person signs off, having read the plan
	StageBuild       = "Build"             // the first environment only: build and test, once
	// StageDeploy is every environment's deploy of the service's stacks into this account:
	// the deploy step (run order 1), then the verify step StepVerify (run order 2), in one
	// stage, because a rollback re-runs exactly one stage and must verify what it redeploys.
	// Its conditions (Watch, Window, RollbackOnFailure) watch both.
	StageDeploy = "Deploy"
)

// Step names that are not stage names. A step's name names its action, its CodeBuild
// project (<pipeline>-<lowercased name>) and its role (StepRole).
const (
	// StepVerify is the smoke tests against what was deployed: the second action of
	// StageDeploy (run order 2).
	StepVerify = "Verify"
)

// Run orders of the actions of StageDeploy. An action added to it with
// Stage(StageDeploy).AddAction and RunOrder 3 or more runs after both, inside the watched
// stage: its failure rolls the stage back like theirs, and a rollback re-runs it.
const (
	DeployRunOrder = 1
	VerifyRunOrder = 2
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
	// PARALLEL is rejected: runs of different pushes would deploy at once, so the deploy that
	// finished last, not the last push, would be what runs, and a PARALLEL pipeline cannot
	// roll a stage back (with CodeCommit it also clones the branch HEAD, not the pushed commit).
	ExecutionMode awscodepipeline.ExecutionMode
	// GuardTimeout is the promotion guard's time budget (downstream environments).
	// Default: - 60 seconds.
	GuardTimeout awscdk.Duration
	// GuardReservedConcurrency is the guard Lambda's reserved concurrency: 0 for
	// guard.DefaultReservedConcurrency, guard.NoReservedConcurrency for none (an account
	// whose Lambda concurrency quota is 10 cannot reserve any).
	// Default: - guard.DefaultReservedConcurrency (2).
	GuardReservedConcurrency int
	// DashboardReservedConcurrency is the reserved concurrency of the dashboard's runs widget
	// function (package dashboard): 0 for dashboard.DefaultReservedConcurrency,
	// dashboard.NoReservedConcurrency for none (an account whose Lambda concurrency quota is
	// 10 cannot reserve any). Default: - dashboard.DefaultReservedConcurrency (5).
	DashboardReservedConcurrency int

	// Watch replaces the environment's watch: CloudWatch alarms of this account that the
	// Deploy stage checks before it starts (a run finding one in ALARM waits up to Wait for it
	// to clear, then fails, naming it) and watches for Bake after deploy and verify succeeded
	// (one going into ALARM rolls the stage back to the previous successful execution). Its
	// fields default as org.Watch documents (the path's health alarm, 10m bake, 15m wait).
	// The pipeline's role may read exactly these alarms.
	// Default: - the environment's, from Path (org.Environment.Watch; nothing watched without one).
	Watch *org.Watch
	// Window replaces when the Deploy stage may start (org.Window: cron, duration, time zone).
	// Outside it a run waits at Deploy's entry until the window opens; the approver role may
	// let one run in earlier (codepipeline:OverrideStageCondition).
	// Default: - the environment's, from Path (org.Environment.Window; any time without one).
	Window *org.Window
	// RollbackOnFailure replaces whether a failed Deploy stage (the deploy, the verify, or an
	// action added to the stage) rolls back to the stage's previous successful execution.
	// Default: - the environment's, from Path (org.Environment.RollbackOnFailure: true in an
	// environment no other follows, e.g. prd).
	RollbackOnFailure *bool
}

// settings are the props with every default applied; the caller's struct is never written.
type settings struct {
	EnvPipelineProps
	// env is the environment with the Watch, Window and RollbackOnFailure props applied.
	env      org.Environment
	build    []string
	image    []string
	deploy   []string
	verify   []string
	plan     []string
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

	path, err := withOverrides(s.EnvPipelineProps).Normalize()
	if err != nil {
		problems = append(problems, pathProblems(err, s.EnvPipelineProps)...)
	} else {
		s.Path = path
		env, err := path.Environment(s.Environment)
		if err != nil {
			bad("Environment", s.Environment, "the name of one of the path's environments: "+err.Error())
		}
		s.env = env
		problems = append(problems, ruleNameProblems(env)...)
	}
	if s.ExecutionMode == "" {
		s.ExecutionMode = awscodepipeline.ExecutionMode_QUEUED
	}
	if s.ExecutionMode == awscodepipeline.ExecutionMode_PARALLEL {
		why := "PARALLEL clones the branch HEAD for CodeCommit, not the pushed commit"
		if s.Path.Source.UsesConnection() {
			why = "PARALLEL runs pushes side by side, so the deploy that finishes last, not the last push, would stay deployed, and it cannot roll a stage back"
		}
		bad("ExecutionMode", string(s.ExecutionMode), "QUEUED or SUPERSEDED ("+why+")")
	}
	if s.DashboardReservedConcurrency < dashboard.NoReservedConcurrency {
		bad("DashboardReservedConcurrency", fmt.Sprint(s.DashboardReservedConcurrency),
			fmt.Sprintf("a positive number, 0 for the default (%d), or dashboard.NoReservedConcurrency (-1)", dashboard.DefaultReservedConcurrency))
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
	s.plan = orDefault(s.Path.Commands.Plan, DefaultPlanCommands)
	s.pipeline = s.Path.PipelineName(s.env.Name)
	return s, nil
}

// withOverrides is props.Path with the Watch, Window and RollbackOnFailure props applied to
// props.Environment, so that the organisation's validation and defaults apply to them too.
// Nothing of the caller's is written: the environments are copied.
func withOverrides(props EnvPipelineProps) org.Path {
	path := props.Path
	if props.Watch == nil && props.Window == nil && props.RollbackOnFailure == nil {
		return path
	}
	path.Environments = append([]org.Environment(nil), path.Environments...)
	for i := range path.Environments {
		e := &path.Environments[i]
		if e.Name != props.Environment {
			continue
		}
		if props.Watch != nil {
			w := *props.Watch
			w.Alarms = append([]string(nil), props.Watch.Alarms...)
			e.Watch = &w
		}
		if props.Window != nil {
			w := *props.Window
			e.Window = &w
		}
		if props.RollbackOnFailure != nil {
			v := *props.RollbackOnFailure
			e.RollbackOnFailure = &v
		}
	}
	return path
}

// pathProblems lists the problems of the path, one per line. A problem in a field the props
// replaced names the prop (Watch.Bake, Window.Cron), not the path's field.
func pathProblems(err error, props EnvPipelineProps) []string {
	var ve *org.ValidationError
	if !errors.As(err, &ve) {
		return []string{err.Error()}
	}
	env := -1
	for i, e := range props.Path.Environments {
		if e.Name == props.Environment {
			env = i
		}
	}
	var out []string
	for _, p := range ve.Problems {
		prefix := fmt.Sprintf("path.environments[%d].", env)
		for _, o := range []struct {
			field, prop string
			set         bool
		}{
			{"watch", "Watch", props.Watch != nil},
			{"window", "Window", props.Window != nil},
			{"rollbackOnFailure", "RollbackOnFailure", props.RollbackOnFailure != nil},
		} {
			if rest, ok := strings.CutPrefix(p.Field, prefix+o.field); o.set && env >= 0 && ok {
				p.Field = o.prop + propField(rest)
			}
		}
		out = append(out, p.String())
	}
	return out
}

// propField turns the rest of a YAML field path (".alarms[1]", ".bake") into the Go field
// names of the prop (".Alarms[1]", ".Bake").
func propField(rest string) string {
	if len(rest) < 2 || rest[0] != '.' {
		return rest
	}
	return "." + strings.ToUpper(rest[1:2]) + rest[2:]
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
