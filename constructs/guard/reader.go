package guard

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/trust"
)

// UpstreamReaderProps configures the read-only role of an upstream environment.
type UpstreamReaderProps struct {
	// Path is the service path (normalized). Required.
	Path org.Path
	// Environment is the upstream environment whose pipeline history is read; it must have at
	// least one downstream environment. Required.
	Environment string
}

// NewUpstreamReader creates the role, in the upstream environment's account, that the guards
// of its downstream environments assume. It may only list and read executions of this
// environment's pipeline.
//
// Trust: each downstream guard's role, by exact ARN (trust.Exactly: the downstream account,
// on condition that the caller is exactly that role, because dev deploys before stg's
// guard role exists).
func NewUpstreamReader(scope constructs.Construct, id *string, props *UpstreamReaderProps) awsiam.Role {
	if props == nil {
		props = &UpstreamReaderProps{}
	}
	p := props.Path
	env, err := p.Environment(props.Environment)
	if err != nil {
		panic(fmt.Sprintf("guard: invalid props: Environment: %q: %v", props.Environment, err))
	}
	downstream := p.Downstream(env.Name)
	if len(downstream) == 0 {
		panic(fmt.Sprintf("guard: invalid props: Environment: %q: an environment that another environment names as upstream", env.Name))
	}
	var principals []awsiam.IPrincipal
	var guards []string
	for _, d := range downstream {
		arn := partitionARN("iam::" + d.Account + ":role/" + p.GuardRoleName(d.Name))
		guards = append(guards, p.GuardRoleName(d.Name))
		principals = append(principals, trust.Exactly(d.Account, *arn))
	}
	role := awsiam.NewRole(scope, id, &awsiam.RoleProps{
		RoleName:           jsii.String(p.UpstreamReaderRoleName(env.Name)),
		Description:        jsii.String(fmt.Sprintf("Lets the promotion guards %v read the history of pipeline %s", guards, p.PipelineName(env.Name))),
		AssumedBy:          awsiam.NewCompositePrincipal(principals...),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadPipelineHistory"),
		Actions:   jsii.Strings("codepipeline:ListPipelineExecutions", "codepipeline:GetPipelineExecution"),
		Resources: &[]*string{awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:codepipeline:"+env.Region+":"+env.Account+":"+p.PipelineName(env.Name)), nil)},
	}))
	return role
}
