package envpipeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
)

// The order of the gates is the construct's central promise: in the first environment
// nothing runs the pushed commit before the SecretsScan has found no secret in its files; in
// an environment with an upstream, nothing runs it before the Guard has checked that the
// commit passed the upstream environment; where there is an approval, nothing runs it before
// the Approval but the Plan, and the Plan only with its read-only role. AddStep refuses to
// place a step before the last gate, and a validation run at synthesis (whatever the caller
// did with Pipeline() or a stage) refuses a pipeline whose stages do not begin with the
// gates, each holding only its own action, or whose Plan or SecretsScan role gained a
// permission.

// gate is one stage that must complete before the pushed commit runs, and its one action.
type gate struct {
	stage, action string
}

// gateRole is the role of a gate step that runs on the pushed commit (the Plan, the
// SecretsScan): the statements this construct gave it, and why it may have nothing more.
type gateRole struct {
	role awsiam.Role
	// statements is how many statements its policy had when NewEnvPipeline returned.
	statements int
	// grant and managed say why a statement, or a managed policy, may not be added.
	grant, managed string
}

// gates lists this environment's gates in pipeline order: the source, the secrets scan (in
// the first environment) or the guard (with an upstream), and the plan and the approval
// (with an approval). The SecretsScan and the Plan are gates although they run on the
// commit: their roles have only what they need by construction, and as gate stages they hold
// only their own action and are not handed out (Stage, StepRole), so that nothing with more
// permissions can run beside or before them.
func (p *envPipeline) gates() []gate {
	g := []gate{{StageSource, SourceAction}}
	if p.s.Path.IsFirst(p.s.env) {
		g = append(g, gate{StageSecretsScan, SecretsScanAction})
	}
	if p.s.env.HasUpstream() {
		g = append(g, gate{StageGuard, guardActionName})
	}
	if p.s.env.NeedsApproval() {
		g = append(g, gate{StagePlan, PlanAction}, gate{StageApproval, ApprovalAction})
	}
	return g
}

// isGate reports whether name is one of this environment's gate stages.
func (p *envPipeline) isGate(name string) bool {
	return slices.ContainsFunc(p.gates(), func(g gate) bool { return g.stage == name })
}

// lastGate is the stage from which on steps may run: the Approval, the Guard or the
// SecretsScan; "" if the Source were the only gate (a step could follow it).
func (p *envPipeline) lastGate() string {
	g := p.gates()
	if len(g) == 1 {
		return ""
	}
	return g[len(g)-1].stage
}

// whyGates says why nothing may run the pushed commit before the last gate, or "" where
// nothing but the source comes first.
func (p *envPipeline) whyGates() string {
	env := p.s.env
	switch scanned, guarded, approved := p.s.Path.IsFirst(env), env.HasUpstream(), env.NeedsApproval(); {
	case scanned && approved:
		return fmt.Sprintf("in %s nothing may run the pushed commit before the SecretsScan and the Approval but the read-only Plan: "+
			"until then its files have been neither scanned for secrets nor approved", env.Name)
	case scanned:
		return fmt.Sprintf("in %s nothing may run the pushed commit before the SecretsScan: its files have not yet been scanned for secrets, "+
			"and a secret must stop the run before anything is built", env.Name)
	case guarded && approved:
		return fmt.Sprintf("in %s nothing may run the pushed commit before the Guard and the Approval but the read-only Plan: "+
			"until then it has been neither checked to have passed %s nor approved", env.Name, env.Upstream)
	case guarded:
		return fmt.Sprintf("in %s nothing may run the pushed commit before the Guard: it has not yet been checked to have passed %s", env.Name, env.Upstream)
	case approved:
		return fmt.Sprintf("in %s nothing may run the pushed commit before the Approval but the read-only Plan: it has not yet been approved", env.Name)
	}
	return ""
}

// stepsMayFollow lists the stages a step may be placed after: the stages from the last gate
// on, or every stage where there is no gate but the source.
func (p *envPipeline) stepsMayFollow() []string {
	last := p.lastGate()
	if last == "" {
		return p.stageNames()
	}
	return p.stageNames()[slices.Index(p.order, last):]
}

// checkAfter returns the problem with placing a step after the stage after, or "".
func (p *envPipeline) checkAfter(after string) string {
	allowed := p.stepsMayFollow()
	if slices.Contains(allowed, after) {
		return ""
	}
	if after == StepVerify {
		return fmt.Sprintf("After: %q: one of the stages %v: %s is a step of the %s stage (run order %d), not a stage; "+
			"After %q places a stage after deploy and verify, or add an action with RunOrder %d to Stage(%q) to run inside the watched stage",
			after, allowed, StepVerify, StageDeploy, VerifyRunOrder, StageDeploy, VerifyRunOrder+1, StageDeploy)
	}
	if last := p.lastGate(); last != "" {
		return fmt.Sprintf("After: %q: one of the stages from the %s on %v: %s", after, last, allowed, p.whyGates())
	}
	return fmt.Sprintf("After: %q: one of the pipeline's stages %v", after, allowed)
}

// orderValidation is the synthesis-time check of the gates (constructs.IValidation).
type orderValidation struct{ p *envPipeline }

func (v *orderValidation) Validate() *[]*string {
	problems := v.p.orderProblems()
	out := make([]*string, len(problems))
	for i := range problems {
		out[i] = &problems[i]
	}
	return &out
}

// orderProblems inspects the pipeline's final stages and actions, however they were added:
// the stages must begin with the gates, and each gate stage must hold only its own action.
func (p *envPipeline) orderProblems() []string {
	var stages []string
	actions := map[string][]string{}
	for _, st := range *p.pipeline.Stages() {
		name := *st.StageName()
		stages = append(stages, name)
		for _, a := range *st.Actions() {
			actions[name] = append(actions[name], *a.ActionProperties().ActionName)
		}
	}
	gates := p.gates()
	var want []string
	for _, g := range gates {
		want = append(want, g.stage)
	}
	why := p.whyGates()
	if why == "" {
		why = "the commit every stage runs is the revision of the source action " + SourceAction
	}
	var problems []string
	if len(stages) < len(want) || !slices.Equal(stages[:len(want)], want) {
		problems = append(problems, fmt.Sprintf("envpipeline: pipeline %s: stages %v: must begin %s, nothing placed between them: %s "+
			"(place a stage of your own after the %s: AddStep's After, or Pipeline().AddStage's Placement)",
			p.s.pipeline, stages, strings.Join(want, " → "), why, want[len(want)-1]))
	}
	for _, g := range gates {
		if got := actions[g.stage]; slices.Contains(stages, g.stage) && !slices.Equal(got, []string{g.action}) {
			problems = append(problems, fmt.Sprintf("envpipeline: pipeline %s: stage %s: actions %v: only its own action %s "+
				"(an action added to a gate stage runs before or beside the gate, not after it): %s",
				p.s.pipeline, g.stage, got, g.action, why))
		}
	}
	for _, g := range gates {
		r := p.gateRoles[g.stage]
		if r == nil {
			continue
		}
		if n := statementCount(r.role); n != r.statements {
			problems = append(problems, fmt.Sprintf("envpipeline: pipeline %s: the %s step's role: %d policy statements, "+
				"%d made by this construct: %s", p.s.pipeline, g.stage, n, r.statements, r.grant))
		}
		if n := managedPolicies(r.role); n > 0 {
			problems = append(problems, fmt.Sprintf("envpipeline: pipeline %s: the %s step's role: %d managed policies attached: %s",
				p.s.pipeline, g.stage, n, r.managed))
		}
	}
	return problems
}

// checkStepName returns the problem with naming a new step name, or "": it names a stage, a
// CodeBuild project <pipeline>-<lowercased name>, and two children of the construct, name
// and name+"Logs".
func (p *envPipeline) checkStepName(name string) string {
	if !stepName.MatchString(name) {
		return fmt.Sprintf("name: %q: 1-40 letters or digits, starting with a letter (it names a stage and a project)", name)
	}
	var stages []string
	for _, st := range *p.pipeline.Stages() {
		stages = append(stages, *st.StageName())
	}
	for _, st := range stages {
		if strings.EqualFold(name, st) {
			return fmt.Sprintf("name: %q: a stage name not already in the pipeline %v in any case "+
				"(%q exists, and a step's project is named %s-<lowercased name>)", name, stages, st, p.s.pipeline)
		}
	}
	for _, lib := range libraryNames {
		if strings.EqualFold(name, lib) {
			return fmt.Sprintf("name: %q: not one of the library's stage and step names %v in any case "+
				"(each means the same stage or step in every environment, and the CLI reads them)", name, libraryNames)
		}
	}
	for _, id := range []string{name, name + "Logs"} {
		if c := p.Node().TryFindChild(&id); c != nil {
			return fmt.Sprintf("name: %q: a name whose construct ids %q and %q are free under %s: %q is already a child of the construct",
				name, name, name+"Logs", *p.Node().Path(), id)
		}
	}
	return ""
}

// libraryNames are the stage names this library defines, in pipeline order, and the step
// names that are not stage names.
var libraryNames = []string{StageSource, StageSecretsScan, StageGuard, StagePlan, StageApproval, StageBuild, StageDeploy, StepVerify}

// managedPolicies counts the managed policies attached to role (a lazy list until resolved).
func managedPolicies(role awsiam.Role) int {
	cfn, ok := role.Node().DefaultChild().(awsiam.CfnRole)
	if !ok {
		return 0
	}
	list, _ := awscdk.Stack_Of(role).Resolve(cfn.ManagedPolicyArns()).([]interface{})
	return len(list)
}
