// Package loggroup provides the log group every construct of this library writes to:
// encrypted with a customer managed key, retained when its stack is deleted, and kept for a
// bounded time.
//
//	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
//	logs := loggroup.New(stack, jsii.String("Logs"), &loggroup.Props{Key: key})
//
// CloudWatch Logs encrypts with a customer key only if the key's policy lets the regional
// logs service use it (AllowLogGroups); New adds that statement to the key, scoped to log
// groups of the key's own account and region through the encryption context CloudWatch
// Logs sends, so the key cannot be used by the service for anything else.
package loggroup

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// DefaultRetention is how long log events are kept when Props.Retention is not set.
const DefaultRetention = awslogs.RetentionDays_ONE_YEAR

// Props configures a log group.
type Props struct {
	// Key encrypts the log events; its policy gets the statement AllowLogGroups adds (once
	// per key). Required.
	Key awskms.Key
	// Name of the log group, e.g. /aws/lambda/<function>. Default: - a name CloudFormation
	// generates.
	Name string
	// Retention of the log events. Default: DefaultRetention (one year).
	Retention awslogs.RetentionDays
}

// New creates an encrypted, retained log group. It panics when Key is missing: every log
// group of this library is encrypted with a customer key (NIST 800-53 R5 SC-13, SC-28).
func New(scope constructs.Construct, id *string, props *Props) awslogs.LogGroup {
	if props == nil || props.Key == nil {
		panic("loggroup: invalid props: Key: nil: a customer managed KMS key (every log group here is encrypted with one)")
	}
	AllowLogGroups(props.Key)
	retention := props.Retention
	if retention == "" {
		retention = DefaultRetention
	}
	lp := &awslogs.LogGroupProps{
		EncryptionKey: props.Key,
		Retention:     retention,
		// Retained: the logs are the record of what ran, and outlive the stack.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	}
	if props.Name != "" {
		lp.LogGroupName = jsii.String(props.Name)
	}
	return awslogs.NewLogGroup(scope, id, lp)
}

// allowLogsSid names the key policy statement AllowLogGroups adds.
const allowLogsSid = "AllowLogGroupsOfThisAccountAndRegion"

// AllowLogGroups lets CloudWatch Logs of the key's region use key for log groups of the
// key's account and region, and for nothing else (the aws:logs:arn encryption context). It
// adds the statement once however often it is called for the same key.
func AllowLogGroups(key awskms.Key) {
	if key.Node().TryFindChild(jsii.String(allowLogsSid)) != nil {
		return
	}
	// A marker child records that the statement is there: key policies cannot be read back.
	constructs.NewConstruct(key, jsii.String(allowLogsSid))
	stack := awscdk.Stack_Of(key)
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(allowLogsSid),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logs."+*stack.Region()+".amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"), // in a key policy, "*" is this key
		Conditions: &map[string]interface{}{
			"ArnLike": map[string]interface{}{
				"kms:EncryptionContext:aws:logs:arn": awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"), nil),
			},
		},
	}), nil)
}

// KeyOr returns key, or, when it is nil, a new customer managed key for the logs of what
// (e.g. "the promotion guard payments-checkout-prd-guard"), created in scope as "LogKey":
// rotated yearly, and retained, so the logs stay readable after the stack is gone.
func KeyOr(scope constructs.Construct, key awskms.Key, what string) awskms.Key {
	if key != nil {
		return key
	}
	return awskms.NewKey(scope, jsii.String("LogKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the logs of " + what),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
}
