// Package compliance is what this library checks its templates against, and the findings it
// accepts on purpose: cdk-nag's AwsSolutions and NIST 800-53 Rev. 5 packs run on every stack
// at synthesis, and an unsuppressed finding of either fails `cdk synth`.
//
//	app := awscdk.NewApp(nil)
//	compliance.AddChecks(app)
//
// The constructs fix what they reasonably can (customer keys on log groups, reserved
// concurrency and a dead-letter target for the guard, versioned access-log buckets, key
// policies scoped by encryption context or calling service) and suppress the rest through
// the functions here, each with its reason, so the same exception reads the same wherever
// it applies. README.md ("Compliance") lists them.
package compliance

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// The packs AddChecks runs, by the prefix of their rule ids and of their reports
// (<pack>-<stack>-NagReport.csv in the cloud assembly).
const (
	AwsSolutions = "AwsSolutions"
	NIST80053R5  = "NIST.800.53.R5"
)

// Packs are the rule packs AddChecks runs.
var Packs = []string{AwsSolutions, NIST80053R5}

// AddChecks runs every pack of Packs on everything in scope at synthesis, with a report per
// stack and pack in the cloud assembly: an unsuppressed finding is an error annotation, and
// `cdk synth` fails on it.
func AddChecks(scope constructs.IConstruct) {
	props := &cdknag.NagPackProps{Verbose: jsii.Bool(true), Reports: jsii.Bool(true)}
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(props), nil)
	awscdk.Aspects_Of(scope).Add(cdknag.NewNIST80053R5Checks(props), nil)
}

// Rule ids of the findings suppressed here.
const (
	ruleInlinePolicy = NIST80053R5 + "-IAMNoInlinePolicy"
	ruleReplication  = NIST80053R5 + "-S3BucketReplicationEnabled"
	ruleLogBucketKMS = NIST80053R5 + "-S3DefaultEncryptionKMS"
	ruleLambdaVPC    = NIST80053R5 + "-LambdaInsideVPC"
	ruleConcurrency  = NIST80053R5 + "-LambdaConcurrency"
	ruleLambdaDLQ    = NIST80053R5 + "-LambdaDLQ"
)

// InlinePolicies accepts the AWS::IAM::Policy resources under scope, including those added
// after the call (a step added later, the role of an action CodePipeline binds at
// synthesis): CDK's grants write each role's permissions into a policy attached to that
// role only, statement by statement on the exact resources (AwsSolutions-IAM5 reviews every
// wildcard). A managed policy per role would hold the same statements, count against the
// managed-policy quota, and invite reuse by roles that need less.
func InlinePolicies(scope constructs.IConstruct) {
	// An aspect, run before the packs' (MUTATING comes before DEFAULT), reaches what exists
	// at synthesis; a suppression added now would reach only what exists now.
	awscdk.Aspects_Of(scope).Add(&inlinePolicies{}, &awscdk.AspectOptions{Priority: awscdk.AspectPriority_MUTATING()})
}

type inlinePolicies struct{ _ byte } // not zero-sized: jsii tells objects apart by address

func (*inlinePolicies) Visit(node constructs.IConstruct) {
	if r, ok := node.(awscdk.CfnResource); ok && *r.CfnResourceType() == "AWS::IAM::Policy" {
		suppress(r, ruleInlinePolicy, "Each role's permissions are CDK grants in a policy attached to that role only, "+
			"scoped statement by statement to the exact resources; a managed policy would hold the same statements and invite reuse by roles that need less.")
	}
}

// NoReplication accepts a bucket without cross-region replication: what it holds is either
// reproducible from git (pipeline artifacts) or a log (access logs), and replication is a
// disaster-recovery decision of the platform team, for which a replica bucket in another
// region would have to exist first.
func NoReplication(bucket constructs.IConstruct, what string) {
	suppress(bucket, ruleReplication, what+" is not replicated to another region: a disaster-recovery decision for the platform team "+
		"(it needs a replica bucket in another region first); the bucket is versioned and retained.", false)
}

// NewAccessLogBucket creates the bucket a bucket's server access logs go to: SSE-S3 (S3
// server access log delivery supports only SSE-S3 on the target bucket, not SSE-KMS, which
// is accepted here with that reason), TLS only, private, ACLs disabled, versioned so a
// deleted or overwritten log object can be recovered, logs kept 365 days and noncurrent
// versions 30, retained with its stack. Logs are delivered under a bucket policy, not the
// legacy ACL: set the context "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy" on the
// logged bucket's scope.
func NewAccessLogBucket(scope constructs.Construct, id string) awss3.Bucket {
	logs := awss3.NewBucket(scope, jsii.String(id), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:         jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                          jsii.String("ExpireAccessLogs"),
			Expiration:                  awscdk.Duration_Days(jsii.Number(365)),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30)),
		}},
	})
	suppress(logs, ruleLogBucketKMS, "S3 server access logging delivers only to a target bucket with SSE-S3 (AES-256) default encryption; "+
		"SSE-KMS is not supported for the log delivery.", false)
	NoReplication(logs, "The access log bucket")
	return logs
}

// LambdaOutsideVPC accepts a function outside a VPC: it calls only AWS APIs over TLS with
// its own role's credentials, and a VPC would add endpoints or a NAT gateway to every
// account without narrowing what the function can reach.
func LambdaOutsideVPC(fn constructs.IConstruct) {
	suppress(fn, ruleLambdaVPC, "The function calls only AWS service APIs (TLS, its own role's credentials) and serves no network; "+
		"a VPC would need interface endpoints or a NAT gateway in every account without narrowing what it can reach.")
}

// UnreservedConcurrency accepts a function without reserved concurrency, where the account's
// concurrency quota leaves nothing to reserve (Lambda keeps 10 unreserved).
func UnreservedConcurrency(fn constructs.IConstruct) {
	suppress(fn, ruleConcurrency, "Reserved concurrency was turned off deliberately (NoReservedConcurrency): the account's "+
		"Lambda concurrency quota leaves nothing to reserve, since Lambda keeps 10 executions unreserved.")
}

// SynchronousOnly accepts a function without a dead-letter target because only a synchronous
// caller invokes it (caller names it, e.g. "a CloudWatch dashboard's custom widget, when
// someone views the dashboard"): a failed synchronous invocation returns its error to the
// caller, and Lambda sends only asynchronous invocations to a dead-letter target, so one
// would stay empty.
func SynchronousOnly(fn constructs.IConstruct, caller string) {
	suppress(fn, ruleLambdaDLQ, "The function is invoked only synchronously ("+caller+"): a failed invocation returns its error "+
		"to the caller, and Lambda sends only asynchronous invocations to a dead-letter target, which would stay empty.")
}

// suppress accepts rule on scope and what is under it, or on scope alone (a bucket, whose
// children are its policy and notifications, none of which the rule is about).
func suppress(scope constructs.IConstruct, rule, reason string, children ...bool) {
	cdknag.NagSuppressions_AddResourceSuppressions(scope, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String(rule), Reason: jsii.String(reason),
	}}, jsii.Bool(len(children) == 0 || children[0]))
}
