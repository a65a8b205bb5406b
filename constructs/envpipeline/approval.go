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

// addApproval adds the manual approval stage, after the Plan and before any build or deploy.
// The request names the commit, says what the guard verified and what the plan found, and
// links to the plan's full output (the Plan build's page).
func (p *envPipeline) addApproval() {
	s := p.s
	info := "Approve commit #{" + SourceNamespace + ".CommitId} for " + s.env.Name + "."
	if p.guard != nil {
		info += " Guard: #{" + guard.Namespace + ".Summary}"
	}
	info += " #{" + PlanNamespace + "." + VarPlanSummary + "}"
	p.addStage(StageApproval, "", awscodepipelineactions.NewManualApprovalAction(&awscodepipelineactions.ManualApprovalActionProps{
		ActionName:            jsii.String(ApprovalAction),
		NotificationTopic:     p.topic,
		AdditionalInformation: jsii.String(info),
		ExternalEntityLink:    jsii.String("#{" + PlanNamespace + "." + VarPlanURL + "}"),
	}))
}

// addApproverRole adds the approver role, where the environment has an approval or a window:
// the only principal that may answer the approval, and let a run into Deploy outside its
// window. It may do nothing else.
func (p *envPipeline) addApproverRole() {
	s := p.s
	// Without configured approvers the role trusts the account, whose administrators decide
	// who may assume it; with approvers, exactly those principals (trust.ExactlyAny, so an
	// approver role created later, or re-created, still works).
	var principal awsiam.IPrincipal = awsiam.NewAccountRootPrincipal()
	if len(s.env.Approvers) > 0 {
		principal = trust.ExactlyAny(s.env.Approvers...)
	}
	var may []string
	if s.env.NeedsApproval() {
		may = append(may, "approve or reject runs of pipeline "+s.pipeline)
	}
	if s.env.Window != nil {
		may = append(may, "let a run into "+StageDeploy+" outside its window")
	}
	description := "May " + may[0]
	if len(may) > 1 {
		description += " and " + may[1]
	}
	p.approver = awsiam.NewRole(p, jsii.String("ApproverRole"), &awsiam.RoleProps{
		RoleName:           jsii.String(s.Path.ApproverRoleName(s.env.Name)),
		Description:        jsii.String(description + ", nothing else"),
		AssumedBy:          principal,
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	pipelineARN := "arn:${AWS::Partition}:codepipeline:" + s.env.Region + ":" + s.env.Account + ":" + s.pipeline
	if s.env.NeedsApproval() {
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
	if s.env.Window != nil {
		// On the stage resource (pipeline/stage): this pipeline's Deploy stage, nothing else.
		// IAM does not tell the condition types apart, so the role may also override Deploy's
		// on-success condition (end a bake early): a release manager's call too.
		p.approver.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("OpenTheWindow"),
			Actions:   jsii.Strings("codepipeline:OverrideStageCondition"),
			Resources: &[]*string{awscdk.Fn_Sub(jsii.String(pipelineARN+"/"+StageDeploy), nil)},
		}))
	}
}
