package envpipeline_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// construct builds a fresh stack in env's account with one EnvPipeline, without synthesizing.
func construct(t *testing.T, path org.Path, env string) envpipeline.EnvPipeline {
	t.Helper()
	e, err := path.Environment(env)
	if err != nil {
		t.Fatal(err)
	}
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Test"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String(e.Account), Region: jsii.String(e.Region)},
	})
	return envpipeline.NewEnvPipeline(stack, jsii.String("Pipeline"), &envpipeline.EnvPipelineProps{Path: path, Environment: env})
}

func contains(t *testing.T, msg string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("message lacks %q:\n%s", w, msg)
		}
	}
}

var scan = []string{"make scan"}

func TestStepsMayNotRunThePushedCommitBeforeTheGates(t *testing.T) {
	// GIVEN stg (a guard) and prd (a guard and an approval); AddStep panics before adding
	// anything, so one pipeline per environment serves every case.
	stg := construct(t, checkout(t), "stg")
	prd := construct(t, checkout(t), "prd")

	t.Run("dev: after Source, before the SecretsScan", func(t *testing.T) {
		dev := construct(t, checkout(t), "dev")
		msg := panicMessage(func() { dev.AddStep("Lint", &envpipeline.StepProps{Commands: scan, After: envpipeline.StageSource}) })
		contains(t, msg, `envpipeline: AddStep "Lint": invalid props:`,
			`After: "Source": one of the stages from the SecretsScan on [SecretsScan Build Deploy]: `+
				`in dev nothing may run the pushed commit before the SecretsScan: its files have not yet been scanned for secrets, `+
				`and a secret must stop the run before anything is built`)
		// Right after it is fine: the step runs on files the scan found clean.
		dev.AddStep("Lint", &envpipeline.StepProps{Commands: scan, After: envpipeline.StageSecretsScan})
		if got, want := stageNames(t, templateOf(dev)), []string{"Source", "SecretsScan", "Lint", "Build", "Deploy"}; !reflect.DeepEqual(got, want) {
			t.Errorf("dev stages %v, want %v", got, want)
		}
	})
	t.Run("stg: after Source", func(t *testing.T) {
		msg := panicMessage(func() { stg.AddStep("Scan", &envpipeline.StepProps{Commands: scan, After: envpipeline.StageSource}) })
		contains(t, msg, `envpipeline: AddStep "Scan": invalid props:`,
			`After: "Source": one of the stages from the Guard on [Guard Deploy]: `+
				`in stg nothing may run the pushed commit before the Guard: it has not yet been checked to have passed dev`)
	})
	for _, after := range []string{envpipeline.StageSource, envpipeline.StageGuard, envpipeline.StagePlan} {
		t.Run("prd: after "+after, func(t *testing.T) {
			msg := panicMessage(func() { prd.AddStep("Scan", &envpipeline.StepProps{Commands: scan, After: after}) })
			contains(t, msg, `After: "`+after+`": one of the stages from the Approval on [Approval Deploy]: `+
				`in prd nothing may run the pushed commit before the Guard and the Approval but the read-only Plan: until then it has been neither checked to have passed stg nor approved`)
		})
	}
	t.Run("after Verify, which is a step of Deploy", func(t *testing.T) {
		msg := panicMessage(func() { stg.AddStep("Scan", &envpipeline.StepProps{Commands: scan, After: envpipeline.StepVerify}) })
		contains(t, msg, `After: "Verify": one of the stages [Guard Deploy]: Verify is a step of the Deploy stage (run order 2), not a stage; `+
			`After "Deploy" places a stage after deploy and verify, or add an action with RunOrder 3 to Stage("Deploy") to run inside the watched stage`)
	})
	t.Run("an approval in the first environment is a gate too", func(t *testing.T) {
		p := checkout(t)
		on := true
		p.Environments[0].Approval = &on
		dev := construct(t, p, "dev")
		for _, after := range []string{envpipeline.StageSource, envpipeline.StageSecretsScan, envpipeline.StagePlan} {
			msg := panicMessage(func() { dev.AddStep("Lint", &envpipeline.StepProps{Commands: scan, After: after}) })
			contains(t, msg, `After: "`+after+`": one of the stages from the Approval on [Approval Build Deploy]: `+
				`in dev nothing may run the pushed commit before the SecretsScan and the Approval but the read-only Plan: `+
				`until then its files have been neither scanned for secrets nor approved`)
		}
	})
	t.Run("stg and prd: right after the last gate", func(t *testing.T) {
		stg.AddStep("Scan", &envpipeline.StepProps{Commands: scan, After: envpipeline.StageGuard})
		prd.AddStep("Scan", &envpipeline.StepProps{Commands: scan, After: envpipeline.StageApproval})
		if got, want := stageNames(t, templateOf(stg)), []string{"Source", "Guard", "Scan", "Deploy"}; !reflect.DeepEqual(got, want) {
			t.Errorf("stg stages %v, want %v", got, want)
		}
		if got, want := stageNames(t, templateOf(prd)), []string{"Source", "Guard", "Plan", "Approval", "Scan", "Deploy"}; !reflect.DeepEqual(got, want) {
			t.Errorf("prd stages %v, want %v", got, want)
		}
	})
}

// templateOf synthesizes the stack of p, running the validations.
func templateOf(p envpipeline.EnvPipeline) assertions.Template {
	return assertions.Template_FromStack(awscdk.Stack_Of(p), nil)
}

func TestStepNamesMayNotCollide(t *testing.T) {
	// GIVEN prd's pipeline with a step Scan
	prd := construct(t, checkout(t), "prd")
	prd.AddStep("Scan", &envpipeline.StepProps{Commands: scan})
	cases := []struct{ name, want string }{
		// The project would be payments-checkout-prd-deploy, Deploy's.
		{"deploy", `name: "deploy": a stage name not already in the pipeline [Source Guard Plan Approval Deploy Scan] in any case ("Deploy" exists, and a step's project is named payments-checkout-prd-<lowercased name>)`},
		{"SCAN", `name: "SCAN": a stage name not already in the pipeline [Source Guard Plan Approval Deploy Scan] in any case ("Scan" exists`},
		// A library stage this environment does not have still means that stage.
		{"SECRETSSCAN", `name: "SECRETSSCAN": not one of the library's stage and step names [Source SecretsScan Guard Plan Approval Build Deploy Verify] in any case`},
		{"build", `name: "build": not one of the library's stage and step names [Source SecretsScan Guard Plan Approval Build Deploy Verify] in any case`},
		// The verify step is no stage, but its project, role and construct ids are taken.
		{"verify", `name: "verify": not one of the library's stage and step names [Source SecretsScan Guard Plan Approval Build Deploy Verify] in any case`},
		// The step's children would clash with the construct's own.
		{"Repository", `name: "Repository": a name whose construct ids "Repository" and "RepositoryLogs" are free under Test/Pipeline: "Repository" is already a child of the construct`},
		{"Artifacts", `"Artifacts" is already a child of the construct`},
		{"Notifications", `"Notifications" is already a child of the construct`},
		{"Resource", `"Resource" is already a child of the construct`},
		{"ApproverRole", `"ApproverRole" is already a child of the construct`},
		{"PlanRole", `"PlanRole" is already a child of the construct`},
		{"ScanLogs", `"ScanLogs" is already a child of the construct`},
		{"Scan", `name: "Scan": a stage name not already in the pipeline`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// WHEN a step of that name is added THEN it is refused, saying why
			msg := panicMessage(func() { prd.AddStep(c.name, &envpipeline.StepProps{Commands: scan}) })
			contains(t, msg, `envpipeline: AddStep "`+c.name+`": invalid props:`, c.want)
		})
	}
}

// Whatever a caller does through Pipeline() or a stage, synthesis fails unless the stages
// begin with the gates and each gate stage holds only its own action.
func TestGateEscapeHatchesFailSynthesis(t *testing.T) {
	codebuild := func(p envpipeline.EnvPipeline, name string) awscodepipeline.IAction {
		proj := awscodebuild.NewPipelineProject(p, jsii.String(name+"Project"), nil)
		return awscodepipelineactions.NewCodeBuildAction(&awscodepipelineactions.CodeBuildActionProps{
			ActionName: jsii.String(name), Project: proj, Input: p.SourceOutput(),
		})
	}
	cases := []struct {
		name   string
		env    string
		escape func(p envpipeline.EnvPipeline)
		want   []string
	}{
		{"a stage placed before the Guard", "stg", func(p envpipeline.EnvPipeline) {
			p.Pipeline().AddStage(&awscodepipeline.StageOptions{
				StageName: jsii.String("Early"),
				Placement: &awscodepipeline.StagePlacement{RightBefore: p.Pipeline().Stage(jsii.String(envpipeline.StageGuard))},
				Actions:   &[]awscodepipeline.IAction{codebuild(p, "Early")},
			})
		}, []string{
			"[Test/Pipeline] envpipeline: pipeline payments-checkout-stg: stages [Source Early Guard Deploy]: must begin Source → Guard, nothing placed between them: " +
				"in stg nothing may run the pushed commit before the Guard: it has not yet been checked to have passed dev " +
				"(place a stage of your own after the Guard: AddStep's After, or Pipeline().AddStage's Placement)",
		}},
		{"a stage placed between the Guard and the Approval", "prd", func(p envpipeline.EnvPipeline) {
			p.Pipeline().AddStage(&awscodepipeline.StageOptions{
				StageName: jsii.String("Early"),
				Placement: &awscodepipeline.StagePlacement{JustAfter: p.Pipeline().Stage(jsii.String(envpipeline.StageGuard))},
				Actions:   &[]awscodepipeline.IAction{codebuild(p, "Early")},
			})
		}, []string{"stages [Source Guard Early Plan Approval Deploy]: must begin Source → Guard → Plan → Approval, nothing placed between them"}},
		{"a stage placed between the Plan and the Approval", "prd", func(p envpipeline.EnvPipeline) {
			p.Pipeline().AddStage(&awscodepipeline.StageOptions{
				StageName: jsii.String("Early"),
				Placement: &awscodepipeline.StagePlacement{JustAfter: p.Pipeline().Stage(jsii.String(envpipeline.StagePlan))},
				Actions:   &[]awscodepipeline.IAction{codebuild(p, "Early")},
			})
		}, []string{"stages [Source Guard Plan Early Approval Deploy]: must begin Source → Guard → Plan → Approval, nothing placed between them: " +
			"in prd nothing may run the pushed commit before the Guard and the Approval but the read-only Plan"}},
		{"an action beside the plan", "prd", func(p envpipeline.EnvPipeline) {
			p.Pipeline().Stage(jsii.String(envpipeline.StagePlan)).AddAction(codebuild(p, "Beside"))
		}, []string{"stage Plan: actions [Plan Beside]: only its own action Plan"}},
		{"a permission granted to the plan's role through the construct tree", "prd", func(p envpipeline.EnvPipeline) {
			p.Node().FindChild(jsii.String("PlanRole")).(awsiam.Role).AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings("s3:PutObject"), Resources: jsii.Strings("arn:aws:s3:::anything/*"),
			}))
		}, []string{"the Plan step's role: 8 policy statements, 7 made by this construct: the Plan runs the pushed commit before the Approval, " +
			"so its role may only assume the CDK bootstrap lookup role (read-only), write its logs and read the source; grant nothing to it"}},
		{"a managed policy attached to the plan's role", "prd", func(p envpipeline.EnvPipeline) {
			p.Node().FindChild(jsii.String("PlanRole")).(awsiam.Role).AddManagedPolicy(awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("PowerUserAccess")))
		}, []string{"the Plan step's role: 1 managed policies attached"}},
		{"an action beside the guard", "stg", func(p envpipeline.EnvPipeline) {
			p.Pipeline().Stage(jsii.String(envpipeline.StageGuard)).AddAction(codebuild(p, "Beside"))
		}, []string{
			"[Test/Pipeline] envpipeline: pipeline payments-checkout-stg: stage Guard: actions [CommitPassedUpstream Beside]: only its own action CommitPassedUpstream " +
				"(an action added to a gate stage runs before or beside the gate, not after it): in stg nothing may run the pushed commit before the Guard",
		}},
		{"an action beside the approval", "prd", func(p envpipeline.EnvPipeline) {
			p.Pipeline().Stage(jsii.String(envpipeline.StageApproval)).AddAction(codebuild(p, "Beside"))
		}, []string{"stage Approval: actions [SignOff Beside]: only its own action SignOff"}},
		{"a stage placed between the Source and the SecretsScan", "dev", func(p envpipeline.EnvPipeline) {
			p.Pipeline().AddStage(&awscodepipeline.StageOptions{
				StageName: jsii.String("Early"),
				Placement: &awscodepipeline.StagePlacement{JustAfter: p.Pipeline().Stage(jsii.String(envpipeline.StageSource))},
				Actions:   &[]awscodepipeline.IAction{codebuild(p, "Early")},
			})
		}, []string{
			"[Test/Pipeline] envpipeline: pipeline payments-checkout-dev: stages [Source Early SecretsScan Build Deploy]: must begin Source → SecretsScan, nothing placed between them: " +
				"in dev nothing may run the pushed commit before the SecretsScan: its files have not yet been scanned for secrets, and a secret must stop the run before anything is built " +
				"(place a stage of your own after the SecretsScan: AddStep's After, or Pipeline().AddStage's Placement)",
		}},
		{"an action beside the secrets scan", "dev", func(p envpipeline.EnvPipeline) {
			p.Pipeline().Stage(jsii.String(envpipeline.StageSecretsScan)).AddAction(codebuild(p, "Beside"))
		}, []string{"stage SecretsScan: actions [SecretsScan Beside]: only its own action SecretsScan " +
			"(an action added to a gate stage runs before or beside the gate, not after it): in dev nothing may run the pushed commit before the SecretsScan"}},
		{"a permission granted to the secrets scan's role through the construct tree", "dev", func(p envpipeline.EnvPipeline) {
			p.Node().FindChild(jsii.String("SecretsScanRole")).(awsiam.Role).AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings("codecommit:GitPush"), Resources: jsii.Strings("*"),
			}))
		}, []string{"the SecretsScan step's role: 7 policy statements, 6 made by this construct: the SecretsScan reads the pushed commit's files " +
			"before anything is built, so its role may only write its logs and read the source; grant nothing to it"}},
		{"a managed policy attached to the secrets scan's role", "dev", func(p envpipeline.EnvPipeline) {
			p.Node().FindChild(jsii.String("SecretsScanRole")).(awsiam.Role).AddManagedPolicy(awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("ReadOnlyAccess")))
		}, []string{"the SecretsScan step's role: 1 managed policies attached: the SecretsScan reads the pushed commit's files before anything is built"}},
		{"a second source", "stg", func(p envpipeline.EnvPipeline) {
			p.Pipeline().Stage(jsii.String(envpipeline.StageSource)).AddAction(awscodepipelineactions.NewCodeCommitSourceAction(&awscodepipelineactions.CodeCommitSourceActionProps{
				ActionName: jsii.String("Other"), Repository: p.Repository(), Branch: jsii.String("other"),
				Output: awscodepipeline.NewArtifact(jsii.String("Other"), nil),
			}))
		}, []string{"stage Source: actions [Push Other]: only its own action Push"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// GIVEN a pipeline WHEN the escape hatch is used
			p := construct(t, checkout(t), c.env)
			c.escape(p)
			// THEN synthesis fails with the problem
			contains(t, panicMessage(func() { templateOf(p) }), append([]string{"Validation failed"}, c.want...)...)
		})
	}
	t.Run("dev: Stage does not return the SecretsScan, nor StepRole its role", func(t *testing.T) {
		p := construct(t, checkout(t), "dev")
		if p.Stage(envpipeline.StageSecretsScan) != nil || p.Stage(envpipeline.StageSource) != nil {
			t.Error("Stage returns a gate stage of dev")
		}
		if p.StepRole(envpipeline.StageSecretsScan) != nil {
			t.Error("StepRole(SecretsScan) is not nil: the scan's role would be open to grants")
		}
		if p.Stage(envpipeline.StageBuild) == nil || p.StepRole(envpipeline.StageBuild) == nil {
			t.Error("Stage or StepRole of Build is nil")
		}
	})
	t.Run("Stage does not return the gate stages, nor StepRole the Plan's role", func(t *testing.T) {
		p := construct(t, checkout(t), "prd")
		for _, name := range []string{envpipeline.StageSource, envpipeline.StageGuard, envpipeline.StagePlan, envpipeline.StageApproval} {
			if p.Stage(name) != nil {
				t.Errorf("Stage(%q) is not nil", name)
			}
		}
		if p.Stage(envpipeline.StageDeploy) == nil {
			t.Error("Stage(Deploy) is nil")
		}
		if p.StepRole(envpipeline.StagePlan) != nil {
			t.Error("StepRole(Plan) is not nil: the Plan's role would be open to grants")
		}
		for _, step := range []string{envpipeline.StageDeploy, envpipeline.StepVerify} {
			if p.StepRole(step) == nil {
				t.Errorf("StepRole(%q) is nil", step)
			}
		}
	})
}

// The names the CLI and the guard read are the organisation model's, not copies.
func TestSourceNamesAreTheOrganisations(t *testing.T) {
	if envpipeline.StageSource != org.SourceStageName || envpipeline.SourceAction != org.SourceActionName {
		t.Errorf("source stage %q action %q, want %q %q", envpipeline.StageSource, envpipeline.SourceAction, org.SourceStageName, org.SourceActionName)
	}
}
