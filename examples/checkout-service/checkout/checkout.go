// Package checkout is the payments team's checkout service as its pipeline deploys it: two
// stacks in the environment's account, deployed in one `cdk deploy --all`, infrastructure
// first.
//
//	cfg, err := checkout.ConfigFromEnv(path, o.Registry, os.Getenv) // IMAGE_URI, ENVIRONMENT, TARGET_*
//	if err != nil {
//		// err names each bad variable, its value and what is allowed
//	}
//	stacks := checkout.NewStacks(app, cfg)
//
// checkout-infra holds the state (the orders table) and the alarm topic; checkout-app holds
// the container-image Lambda, pinned to the image the pipeline built once in dev and
// promoted by digest, and an alarm on its errors that notifies the infra stack's topic.
//
// Both stacks pass cdk-nag's AwsSolutions and NIST 800-53 R5 packs (platform.AddChecks) by
// fixing what they find where that is reasonable: the function's log group and dead-letter
// queue are encrypted with a customer key, the function has reserved concurrency and a
// dead-letter queue, and the table is in an AWS Backup plan. The two findings accepted
// instead (the function outside a VPC, CDK's per-role inline policies) and one the backup
// plan brings (AWS Backup's own managed service-role policy) are suppressed with their
// reasons. Every IAM role carries the organisation's permissions boundary
// (platform.ApplyPermissionsBoundary): the accounts are bootstrapped with it, and their
// CloudFormation execution role may create no role without it.
//
// That alarm is the service's health alarm: it is named org.Path.HealthAlarmName (e.g.
// payments-checkout-prd-health), the name the platform's pipelines watch by default where an
// environment has a watch. The pipeline does not start a deploy while it is in ALARM, and
// rolls a deploy back when it goes into ALARM during the bake after the deploy.
//
// # Sandboxes
//
// The app is sandbox-ready (package sandboxes): a push of sandbox/alice to the dev
// repository deploys a copy of both stacks into dev, and deleting the branch destroys it. Three
// calls make it so, and outside a sandbox none of them changes anything:
//
//	StackName: jsii.String(sandboxes.StackName("checkout-app")), // checkout-app-sandbox-alice in sandbox alice
//	AlarmName: jsii.String(cfg.Path.HealthAlarmName(cfg.Environment) + sandboxes.Suffix()),
//	sandboxes.Apply(app) // in a sandbox, everything is deleted with it
//
// A name the app sets itself (here the health alarm's) takes the suffix too: a sandbox's alarm
// must not replace the one dev's pipeline may watch. The backup plan and its vault are left
// out of a sandbox: a vault holding recovery points cannot be deleted, and a sandbox lives
// days, with point-in-time recovery on its table while it does. In a sandbox the image is the
// one its build pushed to the path's sandbox repository in dev (ConfigFromEnv).
package checkout

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsbackup"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/platform-eng/pathtoprod/constructs/compliance"
	"github.com/platform-eng/pathtoprod/constructs/loggroup"
	"github.com/platform-eng/pathtoprod/constructs/notify"
	"github.com/platform-eng/pathtoprod/constructs/platform"
	"github.com/platform-eng/pathtoprod/constructs/sandboxes"
)

// Stack names. Each environment is its own account, so the names need no environment suffix.
const (
	InfraStackName = "checkout-infra"
	AppStackName   = "checkout-app"
)

// ReservedConcurrency is the checkout function's reserved concurrency: at most this many
// invocations run at once, and that many always can, whatever else runs in the account. It
// keeps a burst elsewhere in the account from starving checkout, and a runaway checkout from
// starving the account's other functions (the pipeline's guard runs there too). 10 is for
// the example's small traffic; size it as requests per second × seconds per request, with
// headroom. Lambda keeps 10 of the account's concurrency unreserved, so the account's quota
// must exceed all its reservations by 10: a new account whose quota is 10 needs it raised.
const ReservedConcurrency = 10

// BackupRetentionDays is how long the daily backups of the orders table are kept.
// Point-in-time recovery already restores any second of the last 35 days; the backups add
// recovery points that AWS Backup manages and reports on, in a vault whose access policy
// denies every principal their early deletion through AWS Backup. Keep them as long as the
// business must be able to restore orders.
const BackupRetentionDays = 35

// Infra is the stateful half of the service, deployed before the app.
type Infra struct {
	Stack awscdk.Stack
	// Orders is the service's table.
	Orders awsdynamodb.ITable
	// Backup is the AWS Backup plan that backs the table up daily into its own vault; nil in
	// a sandbox.
	Backup awsbackup.BackupPlan
	// Alarms receives the service's alarms.
	Alarms awssns.ITopic
}

// App is the code half of the service: the function and its alarm.
type App struct {
	Stack    awscdk.Stack
	Function awslambda.IFunction
	// DeadLetters holds the asynchronous invocations the function failed after Lambda's
	// retries, for 14 days, encrypted with the stack's key (the log group's).
	DeadLetters awssqs.IQueue
	// ErrorsAlarm fires on any function error and notifies Infra.Alarms. It is named
	// Path.HealthAlarmName(environment): the alarm the environment's pipeline watches.
	ErrorsAlarm awscloudwatch.Alarm
}

// Stacks are both stacks of one environment, in deploy order.
type Stacks struct {
	Infra Infra
	App   App
}

// NewStacks adds both stacks to app, in cfg's account and region. cfg comes from
// ConfigFromEnv, which has validated it.
func NewStacks(app awscdk.App, cfg Config) Stacks {
	// Cross-stack references are CloudFormation exports, explicitly: the infra stack cannot
	// remove or replace the table or the topic while the app stack still uses them.
	app.Node().SetContext(jsii.String("@aws-cdk/core:defaultCrossStackReferences"), jsii.String("strong"))
	// In a sandbox, everything both stacks create is deleted with the sandbox (and the
	// sandbox's deploy refuses an app that retains anything); elsewhere it does nothing.
	sandboxes.Apply(app)
	infra := NewInfra(app, cfg)
	a := NewApp(app, cfg, infra)
	// Explicit, though the cross-stack references imply it: the table and the topic must
	// exist before the function that uses them, and `cdk deploy --all` follows this order.
	a.Stack.AddStackDependency(infra.Stack, jsii.String("the function uses the orders table and alarms to the topic"))
	return Stacks{Infra: infra, App: a}
}

// newStack adds one of the service's stacks to app, in cfg's account and region, with what
// every stack the Deploy step deploys needs.
func newStack(app awscdk.App, cfg Config, name, description string) awscdk.Stack {
	stack := awscdk.NewStack(app, jsii.String(name), &awscdk.StackProps{
		// name-sandbox-<name> in a sandbox, so it can never update the environment's own stack.
		StackName:   jsii.String(sandboxes.StackName(name)),
		Description: jsii.String(description),
		Env:         &awscdk.Environment{Account: jsii.String(cfg.Account), Region: jsii.String(cfg.Region)},
		Tags: &map[string]*string{
			"service":     jsii.String(cfg.Path.ID()),
			"environment": jsii.String(cfg.Environment),
		},
	})
	// The Deploy step deploys through the account's CloudFormation execution role, which the
	// CDK bootstrap confines to the organisation's permissions boundary: it may create a role
	// only with that boundary attached, so every role here carries it (the path's Settings
	// are the organisation's).
	platform.ApplyPermissionsBoundary(stack, cfg.Path.Settings, cfg.Account, cfg.Region)
	// CDK writes each role's grants into a policy attached to that role only (NIST
	// IAMNoInlinePolicy); accepted for every role, including those CDK adds at synthesis.
	compliance.InlinePolicies(stack)
	return stack
}

// NewInfra is the orders table (point-in-time recovery, backed up daily, encrypted,
// retained) and the alarm topic (KMS-encrypted, TLS only).
func NewInfra(app awscdk.App, cfg Config) Infra {
	stack := newStack(app, cfg, InfraStackName, "Checkout service state: orders table and alarm topic ("+cfg.Environment+")")

	orders := awsdynamodb.NewTable(stack, jsii.String("Orders"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("orderId"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		// The AWS-owned-by-account key (aws/dynamodb): encrypted at rest, and the function
		// needs no key grant.
		Encryption: awsdynamodb.TableEncryption_AWS_MANAGED,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		DeletionProtection: jsii.Bool(true),
		// Orders outlive the stack: deleting or replacing it must never delete them.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	var backup awsbackup.BackupPlan
	if cfg.Sandbox == "" {
		backup = backupOrders(stack, cfg, orders)
	} else {
		// A vault with recovery points cannot be deleted, so a sandbox has no backup plan.
		compliance.Accept(orders, "DynamoDBInBackupPlan", "Sandbox "+cfg.Sandbox+" lives days and is destroyed with its data: its table has point-in-time recovery "+
			"but no AWS Backup plan, whose vault could not be deleted with the sandbox once it held a recovery point.")
	}

	// CloudWatch alarm actions publish to it through its own key (notify explains why).
	alarms := notify.NewTopic(stack, jsii.String("Alarms"), &notify.TopicProps{
		DisplayName: "checkout " + cfg.Environment + " alarms",
		Publishers:  []string{notify.CloudWatch},
	})
	return Infra{Stack: stack, Orders: orders, Backup: backup, Alarms: alarms}
}

// backupOrders backs the orders table up daily into a vault of its own.
func backupOrders(stack awscdk.Stack, cfg Config, orders awsdynamodb.Table) awsbackup.BackupPlan {
	// Daily backups in a vault of the table's own (NIST DynamoDBInBackupPlan, CP-9). The
	// vault's access policy denies every principal backup:DeleteRecoveryPoint and
	// backup:UpdateRecoveryPointLifecycle: no one deletes a backup, or shortens its life,
	// through AWS Backup before BackupRetentionDays have passed. (It governs AWS Backup's API
	// only: unless the account turns on AWS Backup's advanced features for DynamoDB, the
	// backups are DynamoDB backups that dynamodb:DeleteBackup can still delete.) Retained,
	// like the table.
	vault := awsbackup.NewBackupVault(stack, jsii.String("BackupVault"), &awsbackup.BackupVaultProps{
		BlockRecoveryPointDeletion: jsii.Bool(true),
		RemovalPolicy:              awscdk.RemovalPolicy_RETAIN,
	})
	backup := awsbackup.NewBackupPlan(stack, jsii.String("Backup"), &awsbackup.BackupPlanProps{
		BackupPlanName: jsii.String(cfg.Path.ID() + "-orders"),
		BackupVault:    vault,
		BackupPlanRules: &[]awsbackup.BackupPlanRule{awsbackup.NewBackupPlanRule(&awsbackup.BackupPlanRuleProps{
			RuleName:           jsii.String("Daily"),
			ScheduleExpression: awsevents.Schedule_Cron(&awsevents.CronOptions{Hour: jsii.String("3"), Minute: jsii.String("0")}),
			DeleteAfter:        awscdk.Duration_Days(jsii.Number(BackupRetentionDays)),
		})},
	})
	selection := backup.AddSelection(jsii.String("Orders"), &awsbackup.BackupSelectionOptions{
		Resources: &[]awsbackup.BackupResource{awsbackup.BackupResource_FromDynamoDbTable(orders)},
	})
	// The selection's role is the one AWS Backup assumes; AWS documents its permissions as
	// this managed policy, which AWS keeps current as the service changes.
	cdknag.NagSuppressions_AddResourceSuppressions(selection, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM4"),
		AppliesTo: &[]interface{}{jsii.String("Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup")},
		Reason: jsii.String("The role AWS Backup assumes to back up the orders table has the service role policy AWS documents for it " +
			"and keeps current as the service changes; the role is assumable by backup.amazonaws.com only and carries the permissions boundary."),
	}}, jsii.Bool(true))
	return backup
}

// NewApp is the checkout function, run from the promoted image by digest, its encrypted log
// group and dead-letter queue, and an alarm on its errors.
func NewApp(app awscdk.App, cfg Config, infra Infra) App {
	stack := newStack(app, cfg, AppStackName, "Checkout service code: the function, image "+cfg.Image.Digest+" ("+cfg.Environment+")")

	// The image's repository: the path's in the shared registry account (in a sandbox, the
	// path's sandbox repository in this account). Not owned here, so imported.
	repo := awsecr.Repository_FromRepositoryAttributes(stack, jsii.String("ImageRepository"), &awsecr.RepositoryAttributes{
		RepositoryArn:  jsii.String("arn:aws:ecr:" + cfg.Image.Region + ":" + cfg.Image.Registry + ":repository/" + cfg.Image.Repository),
		RepositoryName: jsii.String(cfg.Image.Repository),
	})

	// The customer key of what the function leaves behind: its logs (loggroup adds the
	// statement that lets CloudWatch Logs of this account and region use it) and its dead
	// letters. Retained, so that both stay readable after the stack is gone.
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the checkout function's logs and dead letters (" + cfg.Environment + ")"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	logs := loggroup.New(stack, jsii.String("FunctionLogs"), &loggroup.Props{Key: key}) // kept one year, retained
	// The dead-letter target of asynchronous invocations that still fail after Lambda's two
	// retries: a queue, not the alarm topic, so that the failed events (orders) are kept for
	// inspection and redrive instead of being mailed to the alarm's subscribers or dropped.
	// The errors alarm already fires on each failure.
	deadLetters := awssqs.NewQueue(stack, jsii.String("DeadLetters"), &awssqs.QueueProps{
		Encryption:          awssqs.QueueEncryption_KMS,
		EncryptionMasterKey: key,
		EnforceSSL:          jsii.Bool(true),
		RetentionPeriod:     awscdk.Duration_Days(jsii.Number(14)), // SQS's longest
	})
	// An own role instead of CDK's default, which attaches the AWSLambdaBasicExecutionRole
	// managed policy (logs:* on every log group): this one writes to its own log group only.
	role := awsiam.NewRole(stack, jsii.String("FunctionRole"), &awsiam.RoleProps{
		Description: jsii.String("Runs the checkout function (" + cfg.Environment + ")"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	logs.GrantWrite(role)
	// Lambda sends a dead letter with the function's role; CDK grants sqs:SendMessage, and an
	// encrypted queue also needs its key.
	key.Grant(role, jsii.String("kms:GenerateDataKey"), jsii.String("kms:Decrypt"))

	fn := awslambda.NewDockerImageFunction(stack, jsii.String("Function"), &awslambda.DockerImageFunctionProps{
		Description: jsii.String("Checkout (" + cfg.Environment + "), image " + cfg.Image.Digest),
		// By digest: the bytes that passed dev and stg, never whatever a tag points to now.
		Code: awslambda.DockerImageCode_FromEcr(repo, &awslambda.EcrImageCodeProps{
			TagOrDigest: jsii.String(cfg.Image.Digest),
		}),
		Architecture: awslambda.Architecture_ARM_64(), // the pipeline builds on arm64
		MemorySize:   jsii.Number(512),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(10)),
		Role:         role,
		LogGroup:     logs,
		// NIST LambdaConcurrency and LambdaDLQ.
		ReservedConcurrentExecutions: jsii.Number(ReservedConcurrency),
		DeadLetterQueue:              deadLetters,
		Environment: &map[string]*string{
			"ORDERS_TABLE": infra.Orders.TableName(),
			"ENVIRONMENT":  jsii.String(cfg.Environment),
		},
	})
	infra.Orders.GrantReadWriteData(fn)
	// It calls DynamoDB only, over TLS with its role's credentials, and serves no network.
	compliance.LambdaOutsideVPC(fn)

	// Named by the platform's convention, so the pipeline watches it without configuration.
	// Missing data (no invocations) is OK, not INSUFFICIENT_DATA or ALARM: a quiet service
	// neither blocks nor rolls back a deploy.
	alarm := awscloudwatch.NewAlarm(stack, jsii.String("ErrorsAlarm"), &awscloudwatch.AlarmProps{
		// Suffixed in a sandbox: its alarm must not replace the environment's own.
		AlarmName:        jsii.String(cfg.Path.HealthAlarmName(cfg.Environment) + sandboxes.Suffix()),
		AlarmDescription: jsii.String("The checkout function failed (" + cfg.Environment + "); the pipeline watches this alarm around its deploys"),
		Metric: fn.MetricErrors(&awscloudwatch.MetricOptions{
			Period:    awscdk.Duration_Minutes(jsii.Number(1)),
			Statistic: jsii.String("Sum"),
		}),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(infra.Alarms))
	return App{Stack: stack, Function: fn, DeadLetters: deadLetters, ErrorsAlarm: alarm}
}
