// Package storefront is a service team's pipeline app that extends the platform's pipeline:
// the web team's storefront, described in Go rather than in the platform's organisation
// file, with its own build, image and deploy commands, a bigger build machine, extra
// variables, and steps of its own:
//
//	dev: Source → Build → SecurityScan → Deploy (deploy, verify)
//	stg: Source → Guard → Deploy (deploy, verify) → IntegrationTests
//	prd: Source → Guard → Plan → Approval → Deploy (deploy, verify)
//
// The integration tests read an API key from one SSM parameter, granted through StepRole.
//
//	app := awscdk.NewApp(nil)
//	platform.AddChecks(app)
//	stacks, err := storefront.NewStacks(app)
package storefront

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/platform"
)

// Registry is the organisation's shared registry (placeholder account). The platform team
// lists web/storefront in its organisation so that the registry has the path's repository.
var Registry = org.Registry{Account: "210000000000", Region: "eu-west-1"}

// Names of the steps this team adds. They name stages and projects, so they are stable.
const (
	StepSecurityScan     = "SecurityScan"
	StepIntegrationTests = "IntegrationTests"
)

// Commands the team runs instead of the library defaults.
var (
	BuildCommands  = []string{"go vet ./...", "go test -race ./..."}
	ImageCommands  = []string{`docker build --platform linux/arm64 --build-arg COMMIT_ID="$COMMIT_ID" --tag "$IMAGE_TAGGED" .`}
	DeployCommands = []string{"make deploy"}
	// ScanCommands check the module's dependencies for known vulnerabilities, with a pinned tool.
	ScanCommands = []string{"go run golang.org/x/vuln/cmd/govulncheck@v1.1.4 ./..."}
	// IntegrationCommands run against what was just deployed to stg.
	IntegrationCommands = []string{
		`export STOREFRONT_API_KEY="$(aws ssm get-parameter --name "$API_KEY_PARAMETER" --with-decryption --query Parameter.Value --output text)"`,
		"make integration-test",
	}
)

// Path is the storefront's path to production, normalized (defaults applied, validated).
func Path() (org.Path, error) {
	return org.Path{
		Team: "web",
		Service: org.Service{
			Name: "storefront",
			Environments: []org.Environment{
				{Name: "dev", Account: "210000000001", Region: "eu-west-1"},
				{Name: "stg", Account: "210000000002", Region: "eu-west-1"},
				{Name: "prd", Account: "210000000003", Region: "eu-west-1",
					Approvers: []string{"arn:aws:iam::210000000003:role/web-release-managers"}},
			},
			Notify: []string{"web-team@example.com"},
			Commands: org.Commands{
				Build:  BuildCommands,
				Image:  ImageCommands,
				Deploy: DeployCommands,
			},
		},
	}.Normalize()
}

// APIKeyParameter is the SSM parameter the integration tests read, in the stg account.
func APIKeyParameter(env org.Environment) (name, arn string) {
	name = "/web/storefront/" + env.Name + "/integration-api-key"
	return name, "arn:aws:ssm:" + env.Region + ":" + env.Account + ":parameter" + name
}

// NewStacks adds one pipeline stack per environment to app, in environment order, named
// org.Path.StackName (platform.NewPathStacks), with bigger machines and two variables for
// every step, then this team's own steps. Invalid props come back as an error, not a panic.
func NewStacks(app awscdk.App) ([]awscdk.Stack, error) {
	path, err := Path()
	if err != nil {
		return nil, err
	}
	made, err := platform.NewPathStacks(app, path, &Registry, func(_ org.Environment, props *envpipeline.EnvPipelineProps) {
		// go test -race and the image build want more than the default SMALL machine.
		props.ComputeType = awscodebuild.ComputeType_LARGE
		props.EnvironmentVariables = map[string]*awscodebuild.BuildEnvironmentVariable{
			"GOFLAGS":     {Value: jsii.String("-mod=readonly")},
			"GOTOOLCHAIN": {Value: jsii.String("local")},
		}
	})
	if err != nil {
		return nil, err
	}
	var stacks []awscdk.Stack
	for _, m := range made {
		addSteps(m.Environment, m.Pipeline)
		stacks = append(stacks, m.Stack)
	}
	return stacks, nil
}

// addSteps adds this team's own steps to one environment's pipeline.
func addSteps(e org.Environment, p envpipeline.EnvPipeline) {
	switch e.Name {
	case "dev":
		// Scan what was just built and tested, before anything is deployed.
		p.AddStep(StepSecurityScan, &envpipeline.StepProps{
			Commands: ScanCommands,
			After:    envpipeline.StageBuild,
		})
	case "stg":
		param, arn := APIKeyParameter(e)
		p.AddStep(StepIntegrationTests, &envpipeline.StepProps{
			Commands: IntegrationCommands,
			After:    envpipeline.StageDeploy,
			EnvironmentVariables: map[string]*awscodebuild.BuildEnvironmentVariable{
				"API_KEY_PARAMETER": {Value: jsii.String(param)},
			},
		})
		// The step's own role gets exactly one more permission: this one parameter. It is a
		// SecureString under the account's aws/ssm key, which SSM decrypts for any caller
		// allowed to read the parameter, so no KMS grant is needed.
		p.StepRole(StepIntegrationTests).AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadIntegrationApiKey"),
			Actions:   jsii.Strings("ssm:GetParameter"),
			Resources: jsii.Strings(arn),
		}))
	}
}
