// Package sandboxes gives developers short-lived copies of a service in its first
// environment's account: a push of branch sandbox/<name> to that environment's CodeCommit
// repository deploys the service's stacks under names ending in -sandbox-<name>, a later push
// updates them, and deleting the branch (or TTL without a push) destroys them.
//
// The simplest use is a service team's own CDK app, made sandbox-ready with three calls:
//
//	app := awscdk.NewApp(nil)
//	stack := awscdk.NewStack(app, jsii.String("checkout-app"), &awscdk.StackProps{
//		StackName: jsii.String(sandboxes.StackName("checkout-app")), // checkout-app-sandbox-alice in sandbox alice
//	})
//	sandboxes.Apply(app) // in a sandbox: everything is deleted with it
//	app.Synth(nil)
//
// Outside a sandbox (no SANDBOX variable, no "sandbox" context) StackName returns its
// argument and Apply does nothing, so the app synthesizes exactly what it did before. In one,
// Name is the sandbox's name, Suffix what names the app sets itself must end with, and the
// sandbox's deploy refuses an app whose stack names lack the suffix or that retains anything
// (the assembly check, assemblycheck.js).
//
// The platform's side is New, the machinery in the first environment's account, which
// envpipeline creates for every path with sandboxes (org.Service.Sandboxes): EventBridge
// rules on the repository's sandbox/ branches, on the sandbox project's builds and on a
// 15-minute schedule, all invoking the controller Lambda (package
// github.com/platform-eng/pathtoprod/constructs/sandboxes/lambda/controller), which keeps the
// record of the path's sandboxes in a DynamoDB table and starts the sandbox CodeBuild project
// to deploy or destroy one; with an image, an ECR repository of sandbox images in that
// account, never the shared registry, so no sandbox image can be promoted.
package sandboxes

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodecommit"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/golambda"
	"github.com/platform-eng/pathtoprod/constructs/loggroup"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/registry"
)

// ControllerPackage is the main package built into the controller Lambda's bootstrap binary.
const ControllerPackage = "github.com/platform-eng/pathtoprod/constructs/sandboxes/lambda/controller"

// The controller's configuration: environment variables New sets and the controller
// validates at cold start.
const (
	EnvTableName      = "TABLE_NAME"      // the state table
	EnvProjectName    = "PROJECT_NAME"    // the sandbox CodeBuild project
	EnvTopicARN       = "TOPIC_ARN"       // the path's notification topic in this account
	EnvRepositoryName = "REPOSITORY_NAME" // the CodeCommit repository whose sandbox/ branches count
	EnvMaxSandboxes   = "MAX_SANDBOXES"   // org.Service.SandboxLimit
	EnvTTL            = "SANDBOX_TTL"     // org.Service.SandboxTTL, a Go duration
	EnvWarning        = "SANDBOX_WARNING" // org.Service.SandboxWarning, a Go duration
	EnvBucket         = "BUCKET"          // where deploys keep each sandbox's cloud assembly
	EnvPathID         = "PATH_ID"         // <team>-<service>
	EnvEnvironment    = "ENVIRONMENT"     // the environment's name
)

// SweepRate is how often the controller looks for sandboxes to warn about and to expire.
const SweepRate = 15 * time.Minute

// Props configures the sandboxes of one path in its first environment's account. envpipeline
// passes everything from its pipeline; a caller building a pipeline of its own passes the same.
type Props struct {
	// Path is the service path, normalized (org.Load returns it so), with Sandboxes and a
	// CodeCommit source. Its Max, TTL and warning configure the controller. Required.
	Path org.Path
	// Environment is the path's first environment (the one without an upstream): the account
	// whose repository receives sandbox/ pushes and which hosts the sandboxes. Required.
	Environment string
	// Repository is that environment's CodeCommit repository. Required.
	Repository awscodecommit.IRepository
	// Topic is the path's notification topic in that account: the controller tells it of
	// refused, warned, expired, failed and destroyed sandboxes, and it receives the
	// controller's failed invocations (dead letters). Required.
	Topic awssns.ITopic
	// Key encrypts the state table, the project's and the controller's logs, and the bucket's
	// objects (the pipeline's artifact key). Required.
	Key awskms.Key
	// Bucket keeps each sandbox's cloud assembly under sandboxes/<name>/ (the pipeline's
	// artifact bucket, encrypted with Key). Required.
	Bucket awss3.IBucket
	// Registry is the shared registry. With it, the path has an image: the sandbox project
	// builds it into the sandbox image repository of this account (never the registry) with
	// a Docker daemon (privileged), and exports IMAGE_URI and IMAGE_DIGEST.
	// Default: - no image: no sandbox image repository, no Docker daemon.
	Registry *org.Registry
	// Commands are the pipeline's commands the sandbox build runs. Commands.SecretsScan is
	// required, Commands.Image with a Registry.
	Commands Commands

	// BuildImage is the sandbox project's CodeBuild image.
	// Default: - Amazon Linux 2023 standard 3.0 for arm64, as the pipeline's steps.
	BuildImage awscodebuild.IBuildImage
	// ComputeType of the sandbox project. Default: - SMALL.
	ComputeType awscodebuild.ComputeType
	// Timeout bounds one deploy or destroy. Default: - 60 minutes.
	Timeout awscdk.Duration
	// LogRetention of the project's and the controller's logs. Default: - one year.
	LogRetention awslogs.RetentionDays
	// EnvironmentVariables are added to the project, as the pipeline adds them to every step.
	// Default: - none.
	EnvironmentVariables map[string]*awscodebuild.BuildEnvironmentVariable
}

// Sandboxes is the sandbox machinery of one path in its first environment's account.
type Sandboxes interface {
	constructs.Construct
	// Function is the controller Lambda.
	Function() awslambda.IFunction
	// Project is the CodeBuild project that deploys and destroys sandboxes.
	Project() awscodebuild.IProject
	// ProjectRole is the project's role (org.Path.SandboxRoleName).
	ProjectRole() awsiam.IRole
	// Table is the record of the path's sandboxes (one item; RETAINED).
	Table() awsdynamodb.ITable
	// ImageRepository is the ECR repository of sandbox images, or nil without a Registry.
	ImageRepository() awsecr.IRepository
	// BranchRule sends the repository's sandbox/ branch events to the controller.
	BranchRule() awsevents.IRule
	// BuildRule sends the sandbox project's finished builds to the controller.
	BuildRule() awsevents.IRule
	// SweepRule invokes the controller every SweepRate, to warn about and expire idle sandboxes.
	SweepRule() awsevents.IRule
}

type sandboxes struct {
	constructs.Construct
	fn                           awslambda.Function
	project                      awscodebuild.Project
	projectRole                  awsiam.Role
	table                        awsdynamodb.Table
	images                       awsecr.Repository
	branchRule, buildRule, sweep awsevents.Rule
}

// settings are the props with their defaults applied.
type settings struct {
	Props
	env org.Environment
}

// New creates the sandbox machinery. It panics, listing every problem, when the props are
// invalid.
func New(scope constructs.Construct, id *string, props *Props) Sandboxes {
	s, err := resolve(props)
	if err != nil {
		panic(err.Error())
	}
	sb := &sandboxes{}
	constructs.NewConstruct_Override(sb, scope, id) // sb is the construct: callers may pass it to CDK
	this := constructs.Construct(sb)
	p, env := s.Path, s.env.Name

	// The record of what exists: retained, protected and recoverable, whatever else happens
	// to the stack, so no sandbox is ever forgotten (and left running) by accident.
	sb.table = awsdynamodb.NewTable(this, jsii.String("State"), &awsdynamodb.TableProps{
		TableName:          jsii.String(p.SandboxTableName(env)),
		PartitionKey:       &awsdynamodb.Attribute{Name: jsii.String("id"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:        awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:         awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey:      s.Key,
		DeletionProtection: jsii.Bool(true),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	if s.Registry != nil {
		sb.images = sb.imageRepository(s)
	}
	sb.project, sb.projectRole = sb.newProject(s)
	sb.fn = sb.controller(s)

	target := func() awsevents.IRuleTarget { return awseventstargets.NewLambdaFunction(sb.fn, nil) }
	sb.branchRule = awsevents.NewRule(this, jsii.String("BranchRule"), &awsevents.RuleProps{
		Description: jsii.String("Sandbox branches: " + org.SandboxBranchPrefix + "* created, updated or deleted in " + p.RepositoryName() + " (" + env + ")"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.codecommit"),
			DetailType: jsii.Strings("CodeCommit Repository State Change"),
			Resources:  &[]*string{s.Repository.RepositoryArn()},
			Detail: &map[string]interface{}{
				"event":         []interface{}{"referenceCreated", "referenceUpdated", "referenceDeleted"},
				"referenceType": []interface{}{"branch"},
				"referenceName": []interface{}{map[string]interface{}{"prefix": org.SandboxBranchPrefix}},
			},
		},
		Targets: &[]awsevents.IRuleTarget{target()},
	})
	sb.buildRule = awsevents.NewRule(this, jsii.String("BuildRule"), &awsevents.RuleProps{
		Description: jsii.String("Sandbox builds: a deploy or destroy of " + p.SandboxProjectName(env) + " finished"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.codebuild"),
			DetailType: jsii.Strings("CodeBuild Build State Change"),
			Detail: &map[string]interface{}{
				"project-name": []interface{}{p.SandboxProjectName(env)},
				"build-status": []interface{}{"SUCCEEDED", "FAILED", "STOPPED"},
			},
		},
		Targets: &[]awsevents.IRuleTarget{target()},
	})
	sb.sweep = awsevents.NewRule(this, jsii.String("SweepRule"), &awsevents.RuleProps{
		Description: jsii.String("Sandbox sweep: warns the owners of idle sandboxes of " + p.ID() + " and expires them"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(SweepRate.Minutes()))),
		Targets:     &[]awsevents.IRuleTarget{target()},
	})
	suppressFindings(sb, s)
	return sb
}

// imageRepository is the ECR repository of the path's sandbox images in this account.
//
// Tags are immutable: a tag is <name>-<commit>, so it always names the bytes a sandbox deploy
// used, and a retried build of the same commit reuses its image (as the pipeline's build
// does) instead of replacing it under a running function. Images expire a day after the TTL:
// by then no sandbox runs them (a live sandbox was pushed within its TTL, and each push
// builds its own image; an expired one is rebuilt by the push that revives it). The
// repository is destroyed with the stack, images and all (EmptyOnDelete): they are rebuilt
// from git on the next push, and a retained repository would keep its name taken, so the
// stack could not be created again.
func (sb *sandboxes) imageRepository(s settings) awsecr.Repository {
	days := int(math.Ceil(s.Path.SandboxTTL().Hours()/24)) + 1
	repo := awsecr.NewRepository(sb, jsii.String("Images"), &awsecr.RepositoryProps{
		RepositoryName:     jsii.String(s.Path.SandboxImageRepositoryName()),
		ImageScanOnPush:    jsii.Bool(true),
		ImageTagMutability: awsecr.TagMutability_IMMUTABLE,
		EmptyOnDelete:      jsii.Bool(true),
		RemovalPolicy:      awscdk.RemovalPolicy_DESTROY,
		LifecycleRules: &[]*awsecr.LifecycleRule{{
			Description: jsii.String(fmt.Sprintf("Sandbox images expire %d days after their push: a day after the sandbox TTL (%s)", days, s.Path.SandboxTTL())),
			TagStatus:   awsecr.TagStatus_ANY,
			MaxImageAge: awscdk.Duration_Days(jsii.Number(days)),
		}},
	})
	// The Lambda service pulls a container-image function's image with its own principal: a
	// sandbox's functions, in this account and region, may pull. Written here rather than left
	// to Lambda (which adds it when a function is created), so a stack update never removes it.
	repo.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("LambdaPullForSandboxFunctions"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)},
		Actions:    jsii.Strings("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
		Conditions: &map[string]interface{}{"StringLike": map[string]interface{}{
			"aws:sourceArn": awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:*"), nil),
		}},
	}))
	return repo
}

// newProject is the sandbox CodeBuild project and its role, whose only permissions are the
// statements of projectStatements: CDK's automatic grants (logs, report groups, the key, the
// source) do not reach it, so the role has exactly what the tests assert.
func (sb *sandboxes) newProject(s settings) (awscodebuild.Project, awsiam.Role) {
	p, env := s.Path, s.env.Name
	role := awsiam.NewRole(sb, jsii.String("ProjectRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(p.SandboxRoleName(env)),
		Description: jsii.String("Deploys and destroys the sandboxes of " + p.ID() + " in " + env + " through the CDK bootstrap roles"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("codebuild.amazonaws.com"), nil),
	})
	logs := loggroup.New(sb, jsii.String("ProjectLogs"), &loggroup.Props{Key: s.Key, Retention: s.LogRetention})
	policy := awsiam.NewPolicy(sb, jsii.String("ProjectPolicy"), &awsiam.PolicyProps{
		Roles:      &[]awsiam.IRole{role},
		Statements: sb.projectStatements(s, logs),
	})
	vars := map[string]*awscodebuild.BuildEnvironmentVariable{}
	for k, v := range s.EnvironmentVariables {
		vars[k] = v
	}
	for k, v := range map[string]string{
		"ENVIRONMENT":    env,
		"PIPELINE_NAME":  p.PipelineName(env),
		"TARGET_ACCOUNT": s.env.Account,
		"TARGET_REGION":  s.env.Region,
		VarPathID:        p.ID(),
	} {
		vars[k] = &awscodebuild.BuildEnvironmentVariable{Value: jsii.String(v)}
	}
	vars[VarBucket] = &awscodebuild.BuildEnvironmentVariable{Value: s.Bucket.BucketName()}
	if sb.images != nil {
		vars[VarImageRepository] = &awscodebuild.BuildEnvironmentVariable{Value: sb.images.RepositoryUri()}
	}
	spec := buildSpec(s.Commands, sb.images != nil)
	proj := awscodebuild.NewProject(sb, jsii.String("Project"), &awscodebuild.ProjectProps{
		ProjectName: jsii.String(p.SandboxProjectName(env)),
		Description: jsii.String("Deploys (SANDBOX_ACTION=deploy) and destroys (destroy) the sandbox SANDBOX of " + p.ID() + "; the controller " +
			p.SandboxFunctionName(env) + " starts it"),
		Source:        awscodebuild.Source_CodeCommit(&awscodebuild.CodeCommitSourceProps{Repository: s.Repository}),
		BuildSpec:     awscodebuild.BuildSpec_FromObject(&spec),
		Role:          role.WithoutPolicyUpdates(nil),
		EncryptionKey: s.Key,
		Timeout:       s.Timeout,
		Environment: &awscodebuild.BuildEnvironment{
			BuildImage:           s.BuildImage,
			ComputeType:          s.ComputeType,
			EnvironmentVariables: &vars,
			// Docker builds the image; nothing else here needs a daemon.
			Privileged: jsii.Bool(sb.images != nil),
		},
		Logging: &awscodebuild.LoggingOptions{CloudWatch: &awscodebuild.CloudWatchLoggingOptions{LogGroup: logs}},
	})
	proj.Node().AddDependency(policy) // a build never starts without its permissions
	return proj, role
}

// projectStatements are the sandbox project role's permissions. A sandbox build runs the
// pushed commit's code, so it gets what deploying and destroying needs and nothing about the
// sandboxes' record, the notifications, CodeBuild or CodePipeline: whatever a commit runs, it
// cannot change which sandboxes exist, start builds, or touch the pipeline.
func (sb *sandboxes) projectStatements(s settings, logs awslogs.ILogGroup) *[]awsiam.PolicyStatement {
	p := s.Path
	var bootstrap []*string
	for _, r := range []string{"deploy", "file-publishing", "image-publishing", "lookup"} {
		bootstrap = append(bootstrap, awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-"+
			p.Settings.CdkQualifier+"-"+r+"-role-${AWS::AccountId}-${AWS::Region}"), nil))
	}
	st := []awsiam.PolicyStatement{
		statement("WriteItsLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, logs.LogGroupArn()),
		statement("CloneTheRepository", []string{"codecommit:GitPull"}, s.Repository.RepositoryArn()),
		// What the pipeline's deploy step may do: the account's CDK bootstrap roles, whose
		// permissions the platform team decided when it bootstrapped the account.
		statement("AssumeCdkBootstrapRoles", []string{"sts:AssumeRole"}, bootstrap...),
		statement("KeepAssemblies", []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
			jsii.String(*s.Bucket.BucketArn()+"/"+assemblyPrefix+"*")),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("FindAssemblies"),
			Actions:   jsii.Strings("s3:ListBucket"),
			Resources: &[]*string{s.Bucket.BucketArn()},
			// A listing of the sandboxes' part only: the destroy asks whether an assembly exists.
			Conditions: &map[string]interface{}{"StringLike": map[string]interface{}{"s3:prefix": assemblyPrefix + "*"}},
		}),
		statement("UseTheArtifactKey", []string{"kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"}, s.Key.KeyArn()),
	}
	if sb.images != nil {
		st = append(st,
			statement("LogInToECR", []string{"ecr:GetAuthorizationToken"}, jsii.String("*")),
			statement("PushSandboxImages", append(append([]string(nil), registry.PushActions...), registry.DescribeActions...), sb.images.RepositoryArn()),
		)
	}
	return &st
}

// controller is the controller Lambda, its role and log group.
func (sb *sandboxes) controller(s settings) awslambda.Function {
	p, env := s.Path, s.env.Name
	name := p.SandboxFunctionName(env)
	logs := loggroup.New(sb, jsii.String("ControllerLogs"), &loggroup.Props{Key: s.Key, Name: "/aws/lambda/" + name, Retention: s.LogRetention})
	role := awsiam.NewRole(sb, jsii.String("ControllerRole"), &awsiam.RoleProps{
		Description: jsii.String("Sandbox controller of " + p.ID() + " in " + env + ": keeps the record, starts deploys and destroys, notifies"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	region := *awscdk.Stack_Of(sb).Region()
	st := []awsiam.PolicyStatement{
		statement("WriteItsLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, logs.LogGroupArn()),
		statement("ReadAndWriteTheRecord", []string{"dynamodb:GetItem", "dynamodb:PutItem"}, sb.table.TableArn()),
		// DynamoDB uses the table's key on the caller's behalf; only through DynamoDB.
		viaService("UseTheTableKey", []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"},
			s.Key.KeyArn(), "dynamodb."+region+".amazonaws.com"),
		statement("StartAndStopSandboxBuilds", []string{"codebuild:StartBuild", "codebuild:StopBuild", "codebuild:BatchGetBuilds"}, sb.project.ProjectArn()),
		statement("Notify", []string{"sns:Publish"}, s.Topic.TopicArn()),
	}
	if k := s.Topic.MasterKey(); k != nil {
		// An encrypted topic's key: to publish, and for Lambda to send a dead letter there.
		st = append(st, viaService("UseTheTopicKey", []string{"kms:Decrypt", "kms:GenerateDataKey"}, k.KeyArn(), "sns."+region+".amazonaws.com"))
	}
	policy := awsiam.NewPolicy(sb, jsii.String("ControllerPolicy"), &awsiam.PolicyProps{Roles: &[]awsiam.IRole{role}, Statements: &st})

	fn := awslambda.NewFunction(sb, jsii.String("Controller"), &awslambda.FunctionProps{
		FunctionName: jsii.String(name),
		Description:  jsii.String("Deploys, expires and destroys the sandboxes of " + p.ID() + " (" + org.SandboxBranchPrefix + "<name> branches of " + p.RepositoryName() + ")"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         golambda.Code(ControllerPackage),
		Role:         role.WithoutPolicyUpdates(nil),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(60)),
		MemorySize:   jsii.Number(256),
		LogGroup:     logs,
		Environment: &map[string]*string{
			EnvTableName:      sb.table.TableName(),
			EnvProjectName:    jsii.String(p.SandboxProjectName(env)),
			EnvTopicARN:       s.Topic.TopicArn(),
			EnvRepositoryName: s.Repository.RepositoryName(),
			EnvMaxSandboxes:   jsii.String(strconv.Itoa(p.SandboxLimit())),
			EnvTTL:            jsii.String(p.SandboxTTL().String()),
			EnvWarning:        jsii.String(p.SandboxWarning().String()),
			EnvBucket:         s.Bucket.BucketName(),
			EnvPathID:         jsii.String(p.ID()),
			EnvEnvironment:    jsii.String(env),
		},
		// EventBridge invokes it asynchronously: an event it failed twice more reaches the
		// team's topic, not the void. Its state writes are conditional (optimistic), so a
		// retry or a concurrent invocation cannot lose a sandbox.
		DeadLetterTopic: s.Topic,
	})
	fn.Node().AddDependency(policy) // no invocation before its permissions exist
	return fn
}

func statement(sid string, actions []string, resources ...*string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String(sid), Actions: jsii.Strings(actions...), Resources: &resources,
	})
}

// viaService is a statement on a key usable only through one AWS service.
func viaService(sid string, actions []string, key *string, service string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String(sid), Actions: jsii.Strings(actions...), Resources: &[]*string{key},
		Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"kms:ViaService": service}},
	})
}

// reservedVariables are the project variables the construct or the controller set.
var reservedVariables = []string{
	"ENVIRONMENT", "PIPELINE_NAME", "TARGET_ACCOUNT", "TARGET_REGION", VarBucket, VarPathID, VarImageRepository,
	VarImageURI, VarImageDigest, VarSandbox, VarAction, VarCommitID, VarStackSuffix, VarCheckScript,
}

// resolve validates props, listing every problem, and applies the defaults.
func resolve(props *Props) (settings, error) {
	if props == nil {
		props = &Props{}
	}
	s := settings{Props: *props}
	var problems []string
	bad := func(field, value, allowed string) {
		problems = append(problems, fmt.Sprintf("%s: %s: %s", field, value, allowed))
	}
	p := s.Path
	id := p.ID()
	if p.Team == "" && p.Name == "" {
		id = ""
	}
	switch env, err := p.Environment(s.Environment); {
	case !p.HasSandboxes():
		bad("Path", strconv.Quote(id), "a path with sandboxes (org.Service.Sandboxes); this one has none")
	case p.Source.UsesConnection():
		bad("Path", strconv.Quote(id), "a path with a CodeCommit source: sandboxes follow CodeCommit's branch events, and its source is "+p.Source.Provider)
	case err != nil:
		bad("Environment", strconv.Quote(s.Environment), "the path's first environment: "+err.Error())
	case !p.IsFirst(env):
		bad("Environment", strconv.Quote(s.Environment), "the path's first environment (the one without an upstream), where sandboxes live; "+
			s.Environment+" follows "+env.Upstream)
	default:
		s.env = env
	}
	for _, r := range []struct {
		field string
		nil   bool
		what  string
	}{
		{"Repository", s.Repository == nil, "the first environment's CodeCommit repository, whose sandbox/ branches make sandboxes"},
		{"Topic", s.Topic == nil, "the path's notification topic in the first environment's account"},
		{"Key", s.Key == nil, "the customer managed key of the table, the logs and the bucket (the pipeline's artifact key)"},
		{"Bucket", s.Bucket == nil, "the bucket that keeps the sandboxes' cloud assemblies (the pipeline's artifact bucket)"},
	} {
		if r.nil {
			bad(r.field, "nil", r.what)
		}
	}
	if len(s.Commands.SecretsScan) == 0 {
		bad("Commands.SecretsScan", "[]", "the pipeline's secrets scan commands: a sandbox runs nothing of a commit whose files were not scanned")
	}
	if s.Registry != nil && len(s.Commands.Image) == 0 {
		bad("Commands.Image", "[]", "the commands that build the image tagged \"$IMAGE_TAGGED\", with a Registry")
	}
	for name := range s.EnvironmentVariables {
		for _, r := range reservedVariables {
			if name == r {
				bad("EnvironmentVariables", strconv.Quote(name), "a name other than the ones the sandbox project or its controller set: "+strings.Join(reservedVariables, ", "))
			}
		}
	}
	if len(problems) > 0 {
		return settings{}, fmt.Errorf("sandboxes: invalid props:\n  %s", strings.Join(problems, "\n  "))
	}
	if s.BuildImage == nil {
		s.BuildImage = awscodebuild.LinuxArmBuildImage_AMAZON_LINUX_2023_STANDARD_3_0()
	}
	if s.ComputeType == "" {
		s.ComputeType = awscodebuild.ComputeType_SMALL
	}
	if s.Timeout == nil {
		s.Timeout = awscdk.Duration_Minutes(jsii.Number(60))
	}
	if s.LogRetention == "" {
		s.LogRetention = loggroup.DefaultRetention
	}
	return s, nil
}

func (sb *sandboxes) Function() awslambda.IFunction  { return sb.fn }
func (sb *sandboxes) Project() awscodebuild.IProject { return sb.project }
func (sb *sandboxes) ProjectRole() awsiam.IRole      { return sb.projectRole }
func (sb *sandboxes) Table() awsdynamodb.ITable      { return sb.table }
func (sb *sandboxes) BranchRule() awsevents.IRule    { return sb.branchRule }
func (sb *sandboxes) BuildRule() awsevents.IRule     { return sb.buildRule }
func (sb *sandboxes) SweepRule() awsevents.IRule     { return sb.sweep }
func (sb *sandboxes) ImageRepository() awsecr.IRepository {
	if sb.images == nil {
		return nil
	}
	return sb.images
}
