// Package envpipeline provides EnvPipeline: everything one environment account needs to
// ship one service by `git push` — a CodePipeline V2 started by a push to the environment's
// branch, CodeBuild steps, an encrypted artifact store, notifications of failed runs, and,
// with a CodeCommit source (the default), the CodeCommit repository that is the
// environment's git remote.
//
// The simplest use, in a stack that lives in the environment's account and region:
//
//	path, _ := org.Default().Path("payments", "checkout")
//	p := envpipeline.NewEnvPipeline(stack, jsii.String("Pipeline"), &envpipeline.EnvPipelineProps{
//		Path:        path,
//		Environment: "dev",
//	})
//	p.AddStep("IntegrationTests", &envpipeline.StepProps{Commands: []string{"make integration"}})
//
// Stage order is Source → [SecretsScan | Guard] → [Plan → Approval] → [Build] → Deploy: the
// first environment scans the pushed commit's files for secrets before anything runs it (see
// secretsscan.go), the guard of every other environment runs before anything is deployed,
// the plan and the approval after them, and only the first environment builds (with a
// registry: the image, once, and its SBOM, kept in the registry account; see image.go). Deploy holds the deploy step and then the verify step (StepVerify), so
// that a rollback, which re-runs one stage, redeploys and re-verifies. Every resource name
// that another account or the CLI relies on derives from the org.Path, so it is deterministic.
//
// # Sources
//
// Where the pushed commit comes from is the path's source (org.Source). With CodeCommit each
// environment account has its own repository (Repository), and a push to the environment's
// branch of it starts the pipeline. With GitHub, GitLab or Bitbucket there is one repository
// for the whole path, outside AWS, and no repository in this account (Repository returns
// nil): the Source action reads it through the environment's CodeConnections connection
// (org.Environment.Connection, in this account and region), and a CodePipeline V2 trigger
// starts the pipeline on a push to the environment's own branch only (main, env/stg,
// env/prd by default). Either way the Source stage's one action, SourceAction, publishes
// #{SourceVariables.CommitId}, the git commit id every step and the guard read, so promotion
// works the same: a push of the commit that passed upstream to this environment's branch.
//
// # Deploys that watch themselves
//
// From the environment's Watch, Window and RollbackOnFailure (or the props of those names),
// the Deploy stage gets CodePipeline stage conditions: it starts only inside the deployment
// window and while no watched alarm is in ALARM; after it succeeded, a watched alarm going
// into ALARM within the bake time rolls it back to the previous successful execution; with
// RollbackOnFailure a failed deploy or verify rolls back too. See watch.go for the rules and
// their names. The approver role may let one run into Deploy outside the window
// (codepipeline:OverrideStageCondition); that skips the entry's alarm check as well.
//
// # The gates are an invariant
//
// Source, SecretsScan, Guard, Plan and Approval are the gates. In the first environment
// nothing runs the pushed commit before the SecretsScan has found no secret in its files,
// whose role may only write its logs and read the source; in an environment with an
// upstream nothing runs it before the Guard has checked it passed upstream; where there is an
// approval, nothing runs it before the Approval but the Plan, whose role may only assume the
// account's CDK bootstrap lookup role (read-only). AddStep refuses a step placed before the
// last gate (in the first environment without an approval a step may follow the
// SecretsScan). Stage does not return the gate stages, nor StepRole the SecretsScan's or the
// Plan's role. And whatever a caller does through Pipeline() or a stage, synthesis fails
// unless the stages begin Source → [SecretsScan | Guard] → [Plan → Approval], each gate stage
// holds only its own action (SourceAction, SecretsScanAction, the guard's, PlanAction,
// ApprovalAction), and the SecretsScan's and the Plan's roles have only the permissions this
// construct gave them.
//
// # The dashboard
//
// Every environment's pipeline gets a CloudWatch dashboard named after it (package
// dashboard): the runs of the pipeline and the four delivery keys of the dashboard's time
// range, read from CodePipeline's history when someone views it, beside the alarms the
// deploys watch, the CodeBuild steps' builds and durations (a step added with AddStep is
// graphed too) and the guard's errors. Dashboard returns it, to add widgets of the
// service's own.
//
// What stays the caller's responsibility: what its own steps and actions run and the
// permissions it grants them (StepRole, or roles of actions added through Pipeline() or
// Stage); escape hatches below the L2 pipeline (property overrides on the CfnPipeline, or a
// policy attached to a role found through the construct tree), which this check cannot see;
// who may assume the ApproverRole beyond the configured approvers; changes to the guard's
// function (Guard().Function()); and other ways of changing the environment's account than
// this pipeline.
package envpipeline

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodecommit"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/platform-eng/pathtoprod/constructs/compliance"
	"github.com/platform-eng/pathtoprod/constructs/dashboard"
	"github.com/platform-eng/pathtoprod/constructs/guard"
	"github.com/platform-eng/pathtoprod/constructs/loggroup"
	"github.com/platform-eng/pathtoprod/constructs/notify"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/sandboxes"
)

// EnvPipeline is one environment's pipeline of one service path.
type EnvPipeline interface {
	constructs.Construct
	// Pipeline is the CodePipeline (V2), for reading its ARN or adding stages after the gates.
	// A stage added before a gate (Placement), or an action added to a gate stage, fails
	// synthesis. What a stage added here runs, and with which role, is the caller's.
	Pipeline() awscodepipeline.Pipeline
	// Repository is the CodeCommit repository: this environment's git remote. It is nil when
	// the path's source is on GitHub, GitLab or Bitbucket (org.Source.UsesConnection): that
	// one repository is not in this account, and nothing here creates one.
	Repository() awscodecommit.IRepository
	// Topic receives failed runs and pending approvals.
	Topic() awssns.ITopic
	// ArtifactKey encrypts the artifact bucket and the step projects.
	ArtifactKey() awskms.IKey
	// SourceOutput is the artifact with the pushed commit's files, the input of every step.
	SourceOutput() awscodepipeline.Artifact
	// Stage returns the stage with the given name (StageBuild, StageDeploy, or a name given to
	// AddStep), to add an action beside that stage's step; nil for another name, and for the
	// gate stages (StageSource, StageSecretsScan, StageGuard, StagePlan, StageApproval), which
	// hold only their own action. In StageDeploy the deploy runs at DeployRunOrder and the verify at
	// VerifyRunOrder: an action added with RunOrder 3 or more runs after both, inside the
	// watched stage (its failure rolls back like theirs; a rollback re-runs it); one added
	// without a RunOrder runs at 1, beside the deploy. What an added action runs, and with
	// which role, is the caller's.
	Stage(name string) awscodepipeline.IStage
	// Guard is the promotion guard, or nil in the first environment (it has no upstream).
	Guard() guard.Guard
	// ApproverRole is the only role that may answer the approval, and let a run into Deploy
	// outside its window (codepipeline:OverrideStageCondition on the Deploy stage); nil in an
	// environment with neither an approval nor a window (org.Environment.HasApproverRole).
	ApproverRole() awsiam.IRole
	// StepRole returns the role of a step's project (StageBuild, StageDeploy, StepVerify, or a
	// name given to AddStep), or nil if the pipeline has no such step. What it is granted
	// beyond a step's needs is the caller's responsibility: a step that may, say, approve
	// runs or start another pipeline's executions can go around the gates. The gate steps'
	// roles are not handed out (nil for StagePlan and StageSecretsScan): the Plan's must stay
	// read-only, since it runs the commit before the approval, and the SecretsScan's must
	// have nothing but its logs and the source, since it reads the commit before the build.
	StepRole(name string) awsiam.IRole
	// Dashboard is the environment's dashboard: the pipeline's runs, alarms and steps.
	Dashboard() dashboard.Dashboard
	// Sandboxes is the sandbox machinery (package sandboxes) in the first environment of a path
	// with sandboxes (org.Service.Sandboxes); nil in every other pipeline (sandboxes.go).
	Sandboxes() sandboxes.Sandboxes
	// AddStep adds a stage with one CodeBuild step that runs commands on the pushed commit's
	// files, placed after the stage props.After: never before a gate (see StepProps.After).
	// It returns the step's project.
	AddStep(name string, props *StepProps) awscodebuild.PipelineProject
}

type envPipeline struct {
	constructs.Construct
	s        settings
	pipeline awscodepipeline.Pipeline
	repo     awscodecommit.Repository
	topic    awssns.Topic
	key      awskms.Key
	source   awscodepipeline.Artifact
	stages   map[string]awscodepipeline.IStage
	roles    map[string]awsiam.IRole
	order    []string // stage names in pipeline order
	guard    guard.Guard
	approver awsiam.Role
	// gateRoles are the roles of the gate steps that run on the pushed commit (the Plan's, the
	// SecretsScan's), by stage, with the statements each had when NewEnvPipeline returned.
	gateRoles map[string]*gateRole
	// artifactFindings are the nag suppressions every role needs for the artifacts.
	artifactFindings []*cdknag.NagPackSuppression
	// steps are the CodeBuild steps, in the order they were added; the dashboard graphs
	// them, and each one added after it exists.
	steps     []string
	dashboard dashboard.Dashboard
}

// NewEnvPipeline provisions one environment's pipeline. It panics, as CDK constructs do,
// with every invalid prop listed when props are invalid.
func NewEnvPipeline(scope constructs.Construct, id *string, props *EnvPipelineProps) EnvPipeline {
	// The Go value itself is the jsii construct (not a wrapper of one), so callers can pass
	// it wherever CDK takes a construct: Stack_Of, Tags_Of, NagSuppressions, a scope.
	p := &envPipeline{stages: map[string]awscodepipeline.IStage{}, roles: map[string]awsiam.IRole{}, gateRoles: map[string]*gateRole{}}
	constructs.NewConstruct_Override(p, scope, id)
	this := constructs.Construct(p)
	// Server access logs are delivered under a bucket policy, not the legacy ACL, so the log
	// bucket can disable ACLs like every other bucket here.
	this.Node().SetContext(jsii.String("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"), true)
	s, err := resolve(awscdk.Stack_Of(this), props)
	if err != nil {
		panic(err.Error())
	}
	p.s = s

	p.key = awskms.NewKey(this, jsii.String("ArtifactKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the artifacts and build outputs of pipeline " + s.pipeline),
		EnableKeyRotation: jsii.Bool(true),
		// Retained: artifacts and logs written with it stay readable after the stack is gone.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	p.repo = p.newRepository() // nil for a source on GitHub, GitLab or Bitbucket (source.go)

	bucket := p.artifactBucket()
	p.topic = p.notificationTopic()

	p.pipeline = awscodepipeline.NewPipeline(this, jsii.String("Resource"), &awscodepipeline.PipelineProps{
		PipelineName:             jsii.String(s.pipeline),
		PipelineType:             awscodepipeline.PipelineType_V2,
		ExecutionMode:            s.ExecutionMode,
		ArtifactBucket:           bucket,
		RestartExecutionOnUpdate: jsii.Bool(false),
	})
	p.artifactFindings = p.artifactSuppressions()

	p.source = awscodepipeline.NewArtifact(jsii.String("Source"), nil)
	p.addSource()
	if s.Path.IsFirst(s.env) {
		p.addSecretsScan()
	}
	if s.env.HasUpstream() {
		p.guard = guard.NewGuard(this, jsii.String("Guard"), &guard.GuardProps{
			Path: s.Path, Environment: s.env.Name, Timeout: s.GuardTimeout, LogRetention: s.LogRetention,
			Image: p.imageCheck(), LogKey: p.key, FailureTopic: p.topic, ReservedConcurrency: s.GuardReservedConcurrency,
		})
		p.addStage(StageGuard, "", p.guard.Action(SourceNamespace))
	}
	if s.env.NeedsApproval() {
		p.addPlan()
		p.addApproval()
	}
	if s.env.HasApproverRole() {
		p.addApproverRole()
	}
	if len(s.Path.Downstream(s.env.Name)) > 0 {
		guard.NewUpstreamReader(this, jsii.String("UpstreamReader"), &guard.UpstreamReaderProps{Path: s.Path, Environment: s.env.Name})
	}
	if s.Path.IsFirst(s.env) {
		p.addStep(p.buildStep(p.namedRole(StageBuild, s.Path.BuildRoleName(s.env.Name))))
	}
	deployRole := p.namedRole(StageDeploy, s.Path.DeployRoleName(s.env.Name))
	p.grantCdkDeploy(deployRole)
	p.addDeployStage(deployRole)

	p.pipeline.NotifyOn(jsii.String("NotifyFailed"), p.topic, &awscodepipeline.PipelineNotifyOnOptions{
		NotificationRuleName: jsii.String(s.Path.NotificationRuleName(s.env.Name)),
		Events:               &[]awscodepipeline.PipelineNotificationEvents{awscodepipeline.PipelineNotificationEvents_PIPELINE_EXECUTION_FAILED},
	})
	// Every environment has one: what its on-call engineer opens first. The CodeBuild steps
	// so far are graphed; newStep adds the ones a team adds later.
	var guardFn awslambda.IFunction
	if p.guard != nil {
		guardFn = p.guard.Function()
	}
	p.dashboard = dashboard.New(this, jsii.String("Dashboard"), &dashboard.Props{
		Path: s.Path, Environment: s.env.Name, Steps: p.steps, Guard: guardFn,
		LogKey: p.key, LogRetention: s.LogRetention, ReservedConcurrency: s.DashboardReservedConcurrency,
	})
	p.addSandboxes() // the first environment of a path with sandboxes (sandboxes.go)
	suppressFindings(p)
	for _, g := range p.gateRoles {
		g.statements = statementCount(g.role)
	}
	// Checked at synthesis, after everything the caller added: the gates come first.
	this.Node().AddValidation(&orderValidation{p})
	return p
}

// SourceNamespace is the variables namespace of the source action: #{SourceVariables.CommitId}.
const SourceNamespace = "SourceVariables"

// SourceAction is the name of the one action of StageSource: the push. "Passed upstream"
// (the guard, the ship CLI) reads the revision of exactly this action.
const SourceAction = org.SourceActionName

func (p *envPipeline) artifactBucket() awss3.Bucket {
	logs := compliance.NewAccessLogBucket(p, "AccessLogs")
	artifacts := awss3.NewBucket(p, jsii.String("Artifacts"), &awss3.BucketProps{
		Encryption:             awss3.BucketEncryption_KMS,
		EncryptionKey:          p.key,
		BucketKeyEnabled:       jsii.Bool(true),
		EnforceSSL:             jsii.Bool(true),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:              jsii.Bool(true),
		ServerAccessLogsBucket: logs,
		ServerAccessLogsPrefix: jsii.String("artifacts/"),
		// Retained: the artifacts are the evidence of what ran. They expire on their own: a
		// rollback is a git push of an older commit, it never needs an old artifact.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                          jsii.String("ExpireOldArtifacts"),
			Expiration:                  awscdk.Duration_Days(jsii.Number(90)),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30)),
		}},
	})
	compliance.NoReplication(artifacts, "The artifact bucket (each run's artifacts are rebuilt from the commit in git)")
	compliance.NoObjectLock(artifacts, "Each run's artifacts are intermediate outputs rebuilt from the commit in git and expire after "+
		"90 days; default Object Lock retention would hold every run's artifacts past that.")
	return artifacts
}

func (p *envPipeline) notificationTopic() awssns.Topic {
	return notify.NewTopic(p, jsii.String("Notifications"), &notify.TopicProps{
		TopicName:   p.s.Path.NotificationTopicName(p.s.env.Name),
		DisplayName: p.s.Path.ID() + " " + p.s.env.Name + " pipeline",
		Publishers:  []string{notify.CodeStarNotifications},
		Emails:      p.s.Path.Notify,
	})
}

// namedRole creates a step role with a deterministic name, for roles that other accounts
// name in their policies (the registry lets the build role push and the deploy role pull).
func (p *envPipeline) namedRole(step, name string) awsiam.Role {
	return awsiam.NewRole(p, jsii.String(step+"Role"), &awsiam.RoleProps{
		RoleName:    jsii.String(name),
		Description: jsii.String(step + " step of pipeline " + p.s.pipeline),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("codebuild.amazonaws.com"), nil),
	})
}

// grantCdkDeploy lets the deploy step use the account's CDK bootstrap roles and nothing else:
// what the deploy can change is what the bootstrap's deploy role allows, decided by the
// platform team when it bootstraps the account.
func (p *envPipeline) grantCdkDeploy(role awsiam.Role) {
	var arns []*string
	for _, r := range []string{"deploy", "file-publishing", "image-publishing", "lookup"} {
		arns = append(arns, awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-"+
			p.s.Path.Settings.CdkQualifier+"-"+r+"-role-${AWS::AccountId}-${AWS::Region}"), nil))
	}
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("AssumeCdkBootstrapRoles"),
		Actions:   jsii.Strings("sts:AssumeRole"),
		Resources: &arns,
	}))
}

// addStage appends a stage, or places it just after the stage named after when after is set.
func (p *envPipeline) addStage(name, after string, actions ...awscodepipeline.IAction) awscodepipeline.IStage {
	return p.addStageWith(&awscodepipeline.StageOptions{StageName: jsii.String(name), Actions: &actions}, after)
}

// addStageWith adds a stage with opts (its name, actions and conditions), appended or placed
// just after the stage named after.
func (p *envPipeline) addStageWith(opts *awscodepipeline.StageOptions, after string) awscodepipeline.IStage {
	name := *opts.StageName
	if after == "" || after == p.lastStage() {
		p.order = append(p.order, name)
	} else {
		opts.Placement = &awscodepipeline.StagePlacement{JustAfter: p.stages[after]}
		i := slices.Index(p.order, after) + 1
		p.order = slices.Insert(p.order, i, name)
	}
	st := p.pipeline.AddStage(opts)
	p.stages[name] = st
	return st
}

func (p *envPipeline) lastStage() string {
	if len(p.order) == 0 {
		return ""
	}
	return p.order[len(p.order)-1]
}

func (p *envPipeline) stageNames() []string { return append([]string(nil), p.order...) }

// step is one CodeBuild step of the pipeline: a project and the stage that runs it.
type step struct {
	name     string
	commands []string
	// role is the project's role. Default: a role of CDK's with only what a step needs.
	role awsiam.IRole
	// vars are project environment variables, on top of the pipeline's.
	vars map[string]*awscodebuild.BuildEnvironmentVariable
	// actionVars are resolved per run (pipeline variables such as the commit or the image).
	actionVars map[string]string
	// namespace publishes the step's exported variables, e.g. #{Build.IMAGE_URI}.
	namespace string
	exported  []string
	// privileged runs a Docker daemon in the build (the image build only).
	privileged bool
	// after is the stage the new stage follows. Default: the last stage.
	after string
	// runOrder of the step's action in its stage. Default: 1.
	runOrder int
	// cache are directories CodeBuild keeps on the build host between this project's builds
	// (a local custom cache, best effort). Only for a step that runs none of the commit's
	// code: a cache the commit could write would reach the next commit's build.
	// Default: - no cache.
	cache []string
}

// addStep adds a stage named after the step, holding its one action (see newStep).
func (p *envPipeline) addStep(st step) awscodebuild.PipelineProject {
	proj, action := p.newStep(st)
	p.addStage(st.name, st.after, action)
	return proj
}

// newStep makes one CodeBuild step on the source output and its pipeline action, with the
// shared defaults: encrypted with the artifact key, logs in its own retained log group, a
// bounded timeout, and the commit the run is for in COMMIT_ID. The step's role is StepRole's
// unless it is the Plan's.
func (p *envPipeline) newStep(st step) (awscodebuild.PipelineProject, awscodepipeline.IAction) {
	logs := loggroup.New(p, jsii.String(st.name+"Logs"), &loggroup.Props{Key: p.key, Retention: p.s.LogRetention})
	vars := map[string]*awscodebuild.BuildEnvironmentVariable{
		VarEnvironment:   {Value: jsii.String(p.s.env.Name)},
		VarPipelineName:  {Value: jsii.String(p.s.pipeline)},
		VarTargetAccount: {Value: jsii.String(p.s.env.Account)},
		VarTargetRegion:  {Value: jsii.String(p.s.env.Region)},
	}
	for k, v := range p.s.EnvironmentVariables {
		vars[k] = v
	}
	for k, v := range st.vars {
		vars[k] = v
	}
	env := map[string]interface{}{"shell": "bash"}
	if len(st.exported) > 0 {
		env["exported-variables"] = st.exported
	}
	spec := map[string]interface{}{
		"version": "0.2",
		"env":     env,
		"phases":  map[string]interface{}{"build": map[string]interface{}{"commands": st.commands}},
	}
	projProps := &awscodebuild.PipelineProjectProps{
		ProjectName:   jsii.String(p.s.Path.ProjectName(p.s.env.Name, st.name)),
		Description:   jsii.String(st.name + " step of pipeline " + p.s.pipeline),
		Role:          st.role,
		EncryptionKey: p.key,
		Timeout:       p.s.StepTimeout,
		Environment: &awscodebuild.BuildEnvironment{
			BuildImage:           p.s.BuildImage,
			ComputeType:          p.s.ComputeType,
			EnvironmentVariables: &vars,
			Privileged:           jsii.Bool(st.privileged),
		},
		Logging: &awscodebuild.LoggingOptions{CloudWatch: &awscodebuild.CloudWatchLoggingOptions{LogGroup: logs}},
	}
	if len(st.cache) > 0 {
		var paths []string
		for _, dir := range st.cache {
			paths = append(paths, dir+"/**/*")
		}
		spec["cache"] = map[string]interface{}{"paths": paths}
		projProps.Cache = awscodebuild.Cache_Local(awscodebuild.LocalCacheMode_CUSTOM)
	}
	projProps.BuildSpec = awscodebuild.BuildSpec_FromObject(&spec)
	proj := awscodebuild.NewPipelineProject(p, jsii.String(st.name), projProps)
	if !p.isGate(st.name) {
		p.roles[st.name] = proj.Role()
	}
	actionVars := map[string]*awscodebuild.BuildEnvironmentVariable{
		// The commit travels with every step, so logs and deploys name exactly what runs.
		VarCommitID: {Value: jsii.String("#{" + SourceNamespace + ".CommitId}")},
	}
	for k, v := range st.actionVars {
		actionVars[k] = &awscodebuild.BuildEnvironmentVariable{Value: jsii.String(v)}
	}
	props := &awscodepipelineactions.CodeBuildActionProps{
		ActionName:           jsii.String(st.name),
		Project:              proj,
		Input:                p.source,
		EnvironmentVariables: &actionVars,
	}
	if st.namespace != "" {
		props.VariablesNamespace = jsii.String(st.namespace)
	}
	if st.runOrder != 0 {
		props.RunOrder = jsii.Number(st.runOrder)
	}
	action := awscodepipelineactions.NewCodeBuildAction(props)
	p.suppressStep(st, proj)
	p.steps = append(p.steps, st.name)
	if p.dashboard != nil {
		p.dashboard.AddStep(st.name)
	}
	return proj, action
}

// addDeployStage adds the Deploy stage: the deploy step, then the verify step, and the
// conditions that watch them (watch.go). The pipeline's role may read the watched alarms.
func (p *envPipeline) addDeployStage(deployRole awsiam.Role) {
	deploy := p.deployStep(deployRole)
	deploy.runOrder = DeployRunOrder
	verify := step{name: StepVerify, commands: p.s.verify, actionVars: p.imageVariables(), runOrder: VerifyRunOrder}
	_, deployAction := p.newStep(deploy)
	_, verifyAction := p.newStep(verify)
	c := p.conditions()
	p.addStageWith(&awscodepipeline.StageOptions{
		StageName:   jsii.String(StageDeploy),
		Actions:     &[]awscodepipeline.IAction{deployAction, verifyAction},
		BeforeEntry: c.beforeEntry,
		OnSuccess:   c.onSuccess,
		OnFailure:   c.onFailure,
	}, "")
	p.grantReadWatchedAlarms()
}

func (p *envPipeline) Guard() guard.Guard             { return p.guard }
func (p *envPipeline) Dashboard() dashboard.Dashboard { return p.dashboard }
func (p *envPipeline) ApproverRole() awsiam.IRole {
	if p.approver == nil {
		return nil
	}
	return p.approver
}
func (p *envPipeline) Pipeline() awscodepipeline.Pipeline     { return p.pipeline }
func (p *envPipeline) Repository() awscodecommit.IRepository  { return p.repo }
func (p *envPipeline) Topic() awssns.ITopic                   { return p.topic }
func (p *envPipeline) ArtifactKey() awskms.IKey               { return p.key }
func (p *envPipeline) SourceOutput() awscodepipeline.Artifact { return p.source }
func (p *envPipeline) Stage(name string) awscodepipeline.IStage {
	if p.isGate(name) {
		return nil // nothing may be added to a gate stage
	}
	return p.stages[name]
}
func (p *envPipeline) StepRole(name string) awsiam.IRole { return p.roles[name] }
