package envpipeline

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
)

// StepProps configures a step a service team adds to its pipeline with AddStep.
type StepProps struct {
	// Commands run in order on the pushed commit's files. Required.
	Commands []string
	// After is the stage the new stage follows: in the first environment the SecretsScan or a
	// later stage (nothing may run the pushed commit before its files were scanned for
	// secrets), in an environment with an upstream the Guard or a later stage, and with an
	// approval the Approval or a later stage (nothing but the read-only Plan may run the pushed
	// commit before them). After StageDeploy is after both the deploy and the verify; a
	// step that should roll back with them is an action in that stage instead (see Stage).
	// Default: - the last stage of the pipeline.
	After string
	// EnvironmentVariables of this step only, on top of the pipeline's. With a registry, a
	// step placed after the Build (first environment) or the Guard also gets IMAGE_URI and
	// IMAGE_DIGEST.
	// Default: - none.
	EnvironmentVariables map[string]*awscodebuild.BuildEnvironmentVariable
}

var stepName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,39}$`)

// AddStep adds a stage named name with one CodeBuild step. The step gets its own role with
// only what a step needs (its logs, reading the source artifact); grant it more with
// StepRole(name). It panics, listing every problem, when the props are invalid.
//
// The step runs the pushed commit's code, so in the first environment After must be the
// SecretsScan or a later stage, in an environment with an upstream the Guard or a later
// stage, and with an approval the Approval or a later stage. name must not be one
// of the library's stage names (in any case), differ only in case from a stage already in
// the pipeline (the project is <pipeline>-<lowercased name>), nor clash with the
// construct's children (the step creates name and name+"Logs").
func (p *envPipeline) AddStep(name string, props *StepProps) awscodebuild.PipelineProject {
	if props == nil {
		props = &StepProps{}
	}
	var problems []string
	if problem := p.checkStepName(name); problem != "" {
		problems = append(problems, problem)
	} else if problem := p.checkSandboxStepName(name); problem != "" {
		problems = append(problems, problem)
	}
	if len(props.Commands) == 0 {
		problems = append(problems, "Commands: []: at least one command")
	}
	for k := range props.EnvironmentVariables {
		if reservedVariables[k] {
			problems = append(problems, fmt.Sprintf("EnvironmentVariables: %q: a name other than the ones every step sets", k))
		}
	}
	after := props.After
	if after == "" {
		after = p.lastStage()
	}
	if problem := p.checkAfter(after); problem != "" {
		problems = append(problems, problem)
	}
	if len(problems) > 0 {
		panic(fmt.Sprintf("envpipeline: AddStep %q: invalid props:\n  %s", name, strings.Join(problems, "\n  ")))
	}
	st := step{name: name, commands: props.Commands, vars: props.EnvironmentVariables, after: after}
	// The image's coordinates exist only once the stage that produces them has run.
	if producer := p.imageProducer(); producer != "" && slices.Index(p.order, after) >= slices.Index(p.order, producer) {
		st.actionVars = p.imageVariables()
	}
	return p.addStep(st)
}
