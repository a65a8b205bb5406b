package sandboxes

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/platform-eng/pathtoprod/constructs/compliance"
)

// suppressFindings records the findings the sandbox machinery accepts on purpose, each for
// the exact permission or resource it explains: the controller outside a VPC and without
// reserved concurrency, the state table outside an AWS Backup plan, the roles' inline
// policies, and the project role's wildcards (its assemblies' keys, the ECR login, CDK's key
// action families).
func suppressFindings(sb *sandboxes, s settings) {
	compliance.InlinePolicies(sb)
	compliance.LambdaOutsideVPC(sb.fn)
	compliance.Accept(sb.fn, "LambdaConcurrency",
		"EventBridge invokes the sandbox controller asynchronously (a throttled event is retried by Lambda for up to "+
			"6 hours), a few times per push and once per 15 minutes, and its writes to the record are conditional on the version read, "+
			"so concurrent invocations are correct without a reservation; not reserving keeps it deployable in accounts whose "+
			"concurrency quota leaves nothing to reserve (Lambda keeps 10 unreserved).")
	compliance.Accept(sb.table, "DynamoDBInBackupPlan",
		"The sandbox record is one small item that point-in-time recovery restores to any second of the last 35 days; "+
			"the table is retained and deletion-protected, and what it records can be rebuilt from the sandbox/ branches of the repository "+
			"and the stacks tagged pathtoprod:sandbox.")

	suppressions := []*cdknag.NagPackSuppression{
		{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("A sandbox's deploy keeps its cloud assembly under sandboxes/<name>/ of the pipeline's artifact bucket, and its " +
				"destroy reads and deletes it; the names are the sandboxes', unknown at synthesis. Nothing else of the bucket is reachable."),
			// The bucket's ARN, however it is written (an attribute of the pipeline's bucket, or a literal).
			AppliesTo: &[]interface{}{cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::.+\/` + assemblyPrefix + `\*$/`)}},
		},
		{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("kms:GenerateDataKey* and kms:ReEncrypt* are granted on the pipeline's artifact key only (the resource is the " +
				"key's ARN), to write the encrypted assemblies; they are the action families CDK grants a project on its encryption key."),
			AppliesTo: &[]interface{}{"Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"},
		},
	}
	if sb.images != nil {
		suppressions = append(suppressions, &cdknag.NagPackSuppression{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("ecr:GetAuthorizationToken is an account-level call with no resource-level permission; every repository " +
				"action of this role is limited to the sandbox image repository."),
			AppliesTo: &[]interface{}{"Resource::*"},
		})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(sb.Node().FindChild(jsii.String("ProjectPolicy")), &suppressions, jsii.Bool(true))
	// The controller's key statement: the table's key, only through DynamoDB.
	cdknag.NagSuppressions_AddResourceSuppressions(sb.Node().FindChild(jsii.String("ControllerPolicy")), &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("kms:GenerateDataKey* and kms:ReEncrypt* on the pipeline's artifact key only, and only through DynamoDB " +
			"(kms:ViaService): what DynamoDB needs to use the state table's key on the controller's behalf."),
		AppliesTo: &[]interface{}{"Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"},
	}}, jsii.Bool(true))
}
