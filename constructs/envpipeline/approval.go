package envpipeline

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/guard"
	"github.com/platform-eng/pathtoprod/constructs/trust"
)

// ApprovalAction is the name of the manual approval action in StageApproval.
const ApprovalAction = "SignOff"

// addApproval adds the manual approval stage (after the guard, before any build or deploy)
// and the approver role: the only principal allowed to answer it.
func (p *envPipeline) addApproval() {
	s := p.s
	info := "Approve commit #{" + SourceNamespace + ".CommitId} for " + s.env.Name + "."
	if p.guard != nil {
		info += " Guard: #{" + guard.Namespace + ".Summary}"
	}
	p.addStage(StageApproval, "", awscodepipelineactions.NewManualApprovalAction(&awscodepipelineactions.ManualApprovalActionProps{
		ActionName:            jsii.String(ApprovalAction),
		NotificationTopic:     p.topic,
		AdditionalInformation: jsii.String(info),
		ExternalEntityLink: jsii.String("https://" + s.env.Region + ".console.aws.amazon.com/codesuite/codecommit/repositories/" +
			s.Path.RepositoryName() + "/commit/#{" + SourceNamespace + ".CommitId}?region=" + s.env.Region),
	}))

	// Without configured approvers the role trusts the account, whose administrators decide
	// who may assume it; with approvers, exactly those principals (trust.ExactlyAny, so an
	// approver role created later, or re-created, still works).
	var principal awsiam.IPrincipal = awsiam.NewAccountRootPrincipal()
	if len(s.env.Approvers) > 0 {
		principal = trust.ExactlyAny(s.env.Approvers...)
	}
	p.approver = awsiam.NewRole(p, jsii.String("ApproverRole"), &awsiam.RoleProps{
		RoleName:           jsii.String(s.Path.ApproverRoleName(s.env.Name)),
		Description:        jsii.String("May approve or reject runs of pipeline " + s.pipeline + ", nothing else"),
		AssumedBy:          principal,
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	pipelineARN := "arn:${AWS::Partition}:codepipeline:" + s.env.Region + ":" + s.env.Account + ":" + s.pipeline
	p.approver.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("AnswerTheApproval"),
		Actions:   jsii.Strings("codepipeline:PutApprovalResult"),
		Resources: &[]*string{awscdk.Fn_Sub(jsii.String(pipelineARN+"/"+StageApproval+"/"+ApprovalAction), nil)},
	}))
	p.approver.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("SeeWhatIsApproved"),
		Actions:   jsii.Strings("codepipeline:GetPipelineState", "codepipeline:GetPipelineExecution", "codepipeline:ListPipelineExecutions"),
		Resources: &[]*string{awscdk.Fn_Sub(jsii.String(pipelineARN), nil)},
	}))
}
