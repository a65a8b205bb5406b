// Package compliance is what this library checks its templates against, and the findings it
// accepts on purpose: cdk-nag's packs run on every stack at synthesis (AwsSolutions and NIST
// 800-53 Rev. 5 by default; NIST 800-53 Rev. 4, HIPAA Security and PCI DSS 3.2.1 on
// request), and an unsuppressed finding of any fails `cdk synth`.
//
//	app := awscdk.NewApp(nil)
//	compliance.AddChecks(app)                                    // the default packs
//	compliance.AddChecks(app, org.PackAwsSolutions, org.PackHIPAA) // or name them
//
// The constructs fix what they reasonably can (customer keys on log groups, reserved
// concurrency and a dead-letter target for the guard, versioned access-log buckets, key
// policies scoped by encryption context or calling service) and accept the rest through the
// functions here, each with its reason, so the same exception reads the same wherever it
// applies. An exception is recorded under every pack that has the rule (Accept), so a
// service team that adds another of cdk-nag's packs to its own app inherits the reasons
// instead of a page of findings. README.md ("Compliance") lists them.
package compliance

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// The packs, by the prefix of their rule ids and of their reports
// (<pack>-<stack>-NagReport.csv in the cloud assembly). The organisation file names them in
// settings.compliancePacks.
const (
	AwsSolutions  = org.PackAwsSolutions
	NIST80053R4   = org.PackNIST80053R4
	NIST80053R5   = org.PackNIST80053R5
	HIPAASecurity = org.PackHIPAA
	PCIDSS321     = org.PackPCIDSS321
)

// DefaultPacks are the packs AddChecks runs when given none.
var DefaultPacks = org.DefaultCompliancePacks

// newPack makes each pack AddChecks can run.
var newPack = map[string]func(*cdknag.NagPackProps) awscdk.IAspect{
	AwsSolutions:  func(p *cdknag.NagPackProps) awscdk.IAspect { return cdknag.NewAwsSolutionsChecks(p) },
	NIST80053R4:   func(p *cdknag.NagPackProps) awscdk.IAspect { return cdknag.NewNIST80053R4Checks(p) },
	NIST80053R5:   func(p *cdknag.NagPackProps) awscdk.IAspect { return cdknag.NewNIST80053R5Checks(p) },
	HIPAASecurity: func(p *cdknag.NagPackProps) awscdk.IAspect { return cdknag.NewHIPAASecurityChecks(p) },
	PCIDSS321:     func(p *cdknag.NagPackProps) awscdk.IAspect { return cdknag.NewPCIDSS321Checks(p) },
}

// AddChecks runs the named packs (org.CompliancePackNames; none given: DefaultPacks) on
// everything in scope at synthesis, with a report per stack and pack in the cloud assembly:
// an unsuppressed finding is an error annotation, and `cdk synth` fails on it. An unknown or
// repeated name panics, naming the allowed ones (the organisation file's packs are checked
// when it is loaded).
func AddChecks(scope constructs.IConstruct, packs ...string) {
	if len(packs) == 0 {
		packs = DefaultPacks
	}
	for i, p := range packs {
		if newPack[p] == nil || slices.Index(packs, p) != i {
			panic(fmt.Sprintf("compliance.AddChecks: pack %q: want each of %s at most once", p, strings.Join(org.CompliancePackNames, ", ")))
		}
	}
	// Findings every pack makes of what no construct of this library can fix, judged per
	// resource (a CodeBuild project's source), before the packs run.
	awscdk.Aspects_Of(scope).Add(&sourceWithoutURL{}, &awscdk.AspectOptions{Priority: awscdk.AspectPriority_MUTATING()})
	props := &cdknag.NagPackProps{Verbose: jsii.Bool(true), Reports: jsii.Bool(true)}
	for _, p := range packs {
		awscdk.Aspects_Of(scope).Add(newPack[p](props), nil)
	}
}

// rulePacks are the packs whose rules share names (NIST 800-53 R4 and R5, HIPAA Security,
// PCI DSS 3.2.1 check the same AWS Config-style rules under their own prefixes);
// AwsSolutions names its rules differently, so its exceptions are written by id.
var rulePacks = []string{NIST80053R4, NIST80053R5, HIPAASecurity, PCIDSS321}

// RuleIDs are rule's ids in every pack that may have it ("LambdaDLQ" is
// "NIST.800.53.R4-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", ...). cdk-nag ignores a
// suppression of a rule a pack lacks, so one exception covers whichever packs run.
func RuleIDs(rule string) []string {
	ids := make([]string, len(rulePacks))
	for i, p := range rulePacks {
		ids[i] = p + "-" + rule
	}
	return ids
}

// Accept records that rule (a name shared by the NIST, HIPAA and PCI packs, such as
// "DynamoDBInBackupPlan") is accepted on scope and what is under it, for reason: a sentence
// a reviewer can check against the template. It is recorded under every pack that may have
// the rule (RuleIDs).
func Accept(scope constructs.IConstruct, rule, reason string) { accept(scope, rule, reason, true) }

// accept is Accept, on scope alone unless children (a bucket, whose children are its policy
// and notifications, none of which the rule is about).
func accept(scope constructs.IConstruct, rule, reason string, children bool) {
	var s []*cdknag.NagPackSuppression
	for _, id := range RuleIDs(rule) {
		s = append(s, &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(scope, &s, jsii.Bool(children))
}

// Rule names of the findings accepted here.
const (
	ruleInlinePolicy = "IAMNoInlinePolicy"
	ruleReplication  = "S3BucketReplicationEnabled"
	ruleLogBucketKMS = "S3DefaultEncryptionKMS"
	ruleObjectLock   = "S3BucketDefaultLockEnabled"
	ruleLambdaVPC    = "LambdaInsideVPC"
	ruleConcurrency  = "LambdaConcurrency"
	ruleLambdaDLQ    = "LambdaDLQ"
	ruleSourceOAuth  = "CodeBuildProjectSourceRepoUrl"
)

// sourceWithoutURL accepts CodeBuildProjectSourceRepoUrl (NIST R4, HIPAA, PCI) on a project
// whose source has no URL that could carry a credential: the rule asks a GitHub or Bitbucket
// source to use OAuth rather than credentials in its URL, but cdk-nag flags every project
// without OAuth, also those that take their source from CodePipeline's artifact, CodeCommit
// (IAM-authenticated), S3 or nothing. A project with any other source stays checked.
type sourceWithoutURL struct{ _ byte } // not zero-sized: jsii tells objects apart by address

func (*sourceWithoutURL) Visit(node constructs.IConstruct) {
	p, ok := node.(awscodebuild.CfnProject)
	if !ok {
		return
	}
	src, _ := awscdk.Stack_Of(p).Resolve(p.Source()).(map[string]interface{})
	typ, _ := src["type"].(string)
	switch typ {
	case "CODEPIPELINE", "CODECOMMIT", "S3", "NO_SOURCE":
	default:
		return // a repository URL (GitHub, Bitbucket, GitLab), or unknown: the rule applies
	}
	accept(p, ruleSourceOAuth, fmt.Sprintf("The project's source is %s, not a GitHub or Bitbucket repository: there is no URL to carry a "+
		"credential, and no OAuth to configure; the rule flags every project without OAuth.", typ), false)
}

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
		Accept(r, ruleInlinePolicy, "Each role's permissions are CDK grants in a policy attached to that role only, "+
			"scoped statement by statement to the exact resources; a managed policy would hold the same statements and invite reuse by roles that need less.")
	}
}

// NoReplication accepts a bucket without cross-region replication: what it holds is either
// reproducible from git (pipeline artifacts) or a log (access logs), and replication is a
// disaster-recovery decision of the platform team, for which a replica bucket in another
// region would have to exist first.
func NoReplication(bucket constructs.IConstruct, what string) {
	accept(bucket, ruleReplication, what+" is not replicated to another region: a disaster-recovery decision for the platform team "+
		"(it needs a replica bucket in another region first); the bucket is versioned and retained.", false)
}

// NoObjectLock accepts a versioned bucket without S3 Object Lock (NIST 800-53 R4's
// S3BucketDefaultLockEnabled) for why: what the bucket holds, and why write-once retention
// would not serve it.
func NoObjectLock(bucket constructs.IConstruct, why string) {
	accept(bucket, ruleObjectLock, why+" The bucket is versioned and retained, so an overwritten or deleted object can be recovered.", false)
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
	accept(logs, ruleLogBucketKMS, "S3 server access logging delivers only to a target bucket with SSE-S3 (AES-256) default encryption; "+
		"SSE-KMS is not supported for the log delivery.", false)
	NoReplication(logs, "The access log bucket")
	NoObjectLock(logs, "Access logs expire after 365 days by the bucket's lifecycle rule; default Object Lock retention would hold "+
		"every log object past that, whatever the lifecycle says.")
	return logs
}

// LambdaOutsideVPC accepts a function outside a VPC: it calls only AWS APIs over TLS with
// its own role's credentials, and a VPC would add endpoints or a NAT gateway to every
// account without narrowing what the function can reach.
func LambdaOutsideVPC(fn constructs.IConstruct) {
	Accept(fn, ruleLambdaVPC, "The function calls only AWS service APIs (TLS, its own role's credentials) and serves no network; "+
		"a VPC would need interface endpoints or a NAT gateway in every account without narrowing what it can reach.")
}

// UnreservedConcurrency accepts a function without reserved concurrency, where the account's
// concurrency quota leaves nothing to reserve (Lambda keeps 10 unreserved).
func UnreservedConcurrency(fn constructs.IConstruct) {
	Accept(fn, ruleConcurrency, "Reserved concurrency was turned off deliberately (NoReservedConcurrency): the account's "+
		"Lambda concurrency quota leaves nothing to reserve, since Lambda keeps 10 executions unreserved.")
}

// SynchronousOnly accepts a function without a dead-letter target because only a synchronous
// caller invokes it (caller names it, e.g. "a CloudWatch dashboard's custom widget, when
// someone views the dashboard"): a failed synchronous invocation returns its error to the
// caller, and Lambda sends only asynchronous invocations to a dead-letter target, so one
// would stay empty.
func SynchronousOnly(fn constructs.IConstruct, caller string) {
	Accept(fn, ruleLambdaDLQ, "The function is invoked only synchronously ("+caller+"): a failed invocation returns its error "+
		"to the caller, and Lambda sends only asynchronous invocations to a dead-letter target, which would stay empty.")
}
