package guard

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/platform-eng/pathtoprod/constructs/compliance"
)

// suppressGuardFindings records the findings the guard accepts on purpose: the job result
// calls' wildcard, its role's inline policy, running outside a VPC, and, when the caller
// chose NoReservedConcurrency, no reserved concurrency.
func suppressGuardFindings(scope constructs.Construct, unreserved, enhanced bool) {
	reason := "codepipeline:PutJobSuccessResult and PutJobFailureResult support no resource-level " +
		"permissions (Service Authorization Reference for CodePipeline), so their resource must be \"*\"; " +
		"CDK's Lambda invoke action grants them to the guard's role."
	if enhanced {
		reason += " With enhanced scanning, inspector2:ListFindings (which ECR calls to return an image's findings) " +
			"likewise has no resource-level permission."
	}
	cdknag.NagSuppressions_AddResourceSuppressions(scope, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String(reason),
		AppliesTo: &[]interface{}{"Resource::*"},
	}}, jsii.Bool(true))
	compliance.InlinePolicies(scope)
	compliance.LambdaOutsideVPC(scope)
	if unreserved {
		compliance.UnreservedConcurrency(scope)
	}
}
