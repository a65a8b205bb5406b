package envpipeline

import (
	"fmt"
	"strings"

	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/sandboxes"
)

// Sandboxes: in the first environment of a path with sandboxes (org.Service.Sandboxes), the
// pipeline creates the sandbox machinery (package sandboxes) beside itself, in the same
// account: a push of sandbox/<name> to this environment's repository deploys a copy of the
// service's stacks, named with -sandbox-<name>, through the same CDK bootstrap roles as the
// Deploy step. It shares the pipeline's repository, notification topic, artifact key and
// bucket, and runs the pipeline's secrets scan, build and image commands, so a sandbox is
// built as the pipeline builds; its image goes to a sandbox repository of this account,
// never to the shared registry.

// sandboxesID is the construct id of the sandbox machinery under the pipeline.
const sandboxesID = "Sandboxes"

// SandboxStepName is the step name AddStep refuses in every environment: a step's project is
// <pipeline>-<lowercased name>, which for it is the sandbox project's name
// (org.Path.SandboxProjectName), and a path may gain sandboxes later.
const SandboxStepName = "Sandbox"

// addSandboxes creates the sandbox machinery where the path has it; elsewhere nothing.
func (p *envPipeline) addSandboxes() {
	s := p.s
	if !s.Path.HasSandboxes() || !s.Path.IsFirst(s.env) {
		return
	}
	sandboxes.New(p, jsii.String(sandboxesID), &sandboxes.Props{
		Path:        s.Path,
		Environment: s.env.Name,
		Repository:  p.repo,
		Topic:       p.topic,
		Key:         p.key,
		Bucket:      p.pipeline.ArtifactBucket(),
		Registry:    s.Registry,
		Commands: sandboxes.Commands{
			SecretsScan: SandboxSecretsScanCommands,
			Build:       s.build,
			Image:       s.image,
		},
		BuildImage:           s.BuildImage,
		ComputeType:          s.ComputeType,
		Timeout:              s.StepTimeout,
		LogRetention:         s.LogRetention,
		EnvironmentVariables: s.EnvironmentVariables,
	})
}

// SandboxSecretsScanCommands are the SecretsScan's commands as a sandbox's build runs them:
// the same pinned gitleaks, rules and verdict, but without the SecretsScan's go caches. The
// SecretsScan step may keep them between builds because it runs none of the commit's code; a
// sandbox build goes on to run the commit's build, which could write into a cache and so
// change the gitleaks that scans the next sandbox's commit.
var SandboxSecretsScanCommands = []string{
	`export SECRETS_SCAN_TOOLS="$(mktemp -d)"`,
	goInstall("$SECRETS_SCAN_TOOLS", GitleaksModule, GitleaksVersion, ""),
	SecretsScanCommand,
}

// Sandboxes is the sandbox machinery, or nil where there is none (see EnvPipeline).
func (p *envPipeline) Sandboxes() sandboxes.Sandboxes {
	sb, _ := p.Node().TryFindChild(jsii.String(sandboxesID)).(sandboxes.Sandboxes)
	return sb
}

// checkSandboxStepName returns the problem with naming a step SandboxStepName, or "".
func (p *envPipeline) checkSandboxStepName(name string) string {
	if !strings.EqualFold(name, SandboxStepName) {
		return ""
	}
	return fmt.Sprintf("name: %q: not %q in any case: a step's project is %s-<lowercased name>, and %s is the name of the "+
		"sandbox project of the path's first environment (org.Path.SandboxProjectName); it is reserved in every environment",
		name, SandboxStepName, p.s.pipeline, p.s.Path.SandboxProjectName(p.s.Path.Environments[0].Name))
}
