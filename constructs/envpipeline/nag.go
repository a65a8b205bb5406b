package envpipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/platform-eng/pathtoprod/constructs/compliance"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/registry"
)

// The findings this construct accepts on purpose, for cdk-nag. Each names its reason and
// applies only to the exact permission it explains: the wildcards are CDK's standard grants
// on this pipeline's own bucket, key, log groups and report groups, never on anything else.

// artifactSuppressions cover reading and writing this pipeline's artifacts. They are the
// same for every role: NewEnvPipeline builds them once, into p.artifactFindings.
func (p *envPipeline) artifactSuppressions() []*cdknag.NagPackSuppression {
	artifacts := "<" + *awscdk.Stack_Of(p).GetLogicalId(p.pipeline.ArtifactBucket().Node().DefaultChild().(awscdk.CfnElement)) + ".Arn>/*"
	return []*cdknag.NagPackSuppression{
		{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("Pipeline and step roles read and write artifacts in this pipeline's own artifact bucket: " +
				"object keys are per execution and unknown at synthesis, and the s3 action families are CDK's grantReadWrite on that one bucket."),
			AppliesTo: &[]interface{}{
				"Resource::" + artifacts,
				"Action::s3:GetObject*", "Action::s3:GetBucket*", "Action::s3:List*", "Action::s3:DeleteObject*", "Action::s3:Abort*",
			},
		},
		{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("kms:GenerateDataKey* and kms:ReEncrypt* are granted on this pipeline's own artifact key only " +
				"(the resource is the key's ARN), to encrypt the artifacts it writes."),
			AppliesTo: &[]interface{}{"Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"},
		},
	}
}

// suppressFindings covers the roles NewEnvPipeline creates besides the steps': the
// pipeline's, the source action's, and the guard action's.
func suppressFindings(p *envPipeline) {
	stack := awscdk.Stack_Of(p)
	compliance.InlinePolicies(p)
	artifacts := append([]*cdknag.NagPackSuppression(nil), p.artifactFindings...)
	cdknag.NagSuppressions_AddResourceSuppressions(p.pipeline, &artifacts, jsii.Bool(true))
	if p.guard != nil {
		// CDK's Lambda invoke action role: CodePipeline lists functions before invoking one,
		// and lambda:ListFunctions has no resource-level permission; invoking is limited to
		// the guard function (and its versions, the ":*").
		cdknag.NagSuppressions_AddResourceSuppressionsByPath(stack,
			jsii.String("/"+*p.Node().Path()+"/Resource/"+StageGuard+"/"+guardActionName+"/CodePipelineActionRole/DefaultPolicy/Resource"),
			&[]*cdknag.NagPackSuppression{{
				Id: jsii.String("AwsSolutions-IAM5"),
				Reason: jsii.String("The guard action role may list functions (lambda:ListFunctions supports no resource-level " +
					"permission, and CodePipeline calls it) and invoke only the guard function and its versions."),
				AppliesTo: &[]interface{}{
					"Resource::*",
					"Resource::<" + *stack.GetLogicalId(p.guard.Function().Node().DefaultChild().(awscdk.CfnElement)) + ".Arn>:*",
				},
			}}, jsii.Bool(false))
	}
}

// guardActionName is the guard action's name, as guard.Guard.Action names it.
const guardActionName = "CommitPassedUpstream"

// suppressStep covers one step's role, when the step is added (also by AddStep, after
// NewEnvPipeline has returned): the artifacts, the step's own log streams and report groups
// (named after its project, found by the project's logical id), and with a registry the
// account-level ecr:GetAuthorizationToken.
func (p *envPipeline) suppressStep(st step, proj awscodebuild.PipelineProject) {
	id := *awscdk.Stack_Of(p).GetLogicalId(proj.Node().DefaultChild().(awscdk.CfnElement))
	suppressions := append(append([]*cdknag.NagPackSuppression(nil), p.artifactFindings...), &cdknag.NagPackSuppression{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("A step may write only to its own project's log streams and report groups: " +
			"stream and report names are created per build, so they end in a wildcard after the project's name."),
		AppliesTo: &[]interface{}{
			cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:(aws|<AWS::Partition>):logs:[a-z0-9-]+:[0-9]{12}:log-group:\/aws\/codebuild\/<` + id + `>:\*$/`)},
			cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:(aws|<AWS::Partition>):codebuild:[a-z0-9-]+:[0-9]{12}:report-group\/<` + id + `>-\*$/`)},
		},
	})
	if p.s.Registry != nil && (st.name == StageBuild || st.name == StageDeploy) {
		suppressions = append(suppressions, &cdknag.NagPackSuppression{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("ecr:GetAuthorizationToken is an account-level call with no resource-level permission; " +
				"every repository action of this role is limited to the path's repository in the shared registry."),
			AppliesTo: &[]interface{}{"Resource::*"},
		})
	}
	if p.s.Registry != nil && st.name == StageBuild {
		r := *p.s.Registry
		suppressions = append(suppressions, &cdknag.NagPackSuppression{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("The build stores its image's SBOM under its path's prefix of the registry's SBOM bucket (the keys are " +
				"image digests, unknown at synthesis), encrypted with the registry's SBOM key, whose id is random: the grant is on the " +
				"registry account's keys in its region, narrowed by kms:ResourceAliases to " + org.SbomKeyAlias + " and by kms:ViaService to S3."),
			AppliesTo: &[]interface{}{
				"Resource::" + r.SbomBucketARN() + "/" + p.s.Path.SbomPrefix() + "*",
				"Resource::" + registry.SbomKeyARNs(r),
			},
		})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(proj.Role(), &suppressions, jsii.Bool(true))
}
