// Package notify provides an SNS topic encrypted with its own KMS key that named AWS
// services may publish to: what pipeline notifications and a service's alarms both need.
//
//	topic := notify.NewTopic(stack, jsii.String("Alarms"), &notify.TopicProps{
//		Publishers: []string{notify.CloudWatch},
//		Emails:     []string{"oncall@example.com"},
//	})
//
// A service publishes to an encrypted topic only if the topic's key lets it, and the
// AWS-managed SNS key does not, so the topic gets a customer key (rotated, retained) whose
// policy lets exactly the listed services use it, only through SNS in the topic's region.
package notify

import (
	"fmt"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Service principals that commonly publish to a team's topics.
const (
	CloudWatch            = "cloudwatch.amazonaws.com"             // alarm actions
	CodeStarNotifications = "codestar-notifications.amazonaws.com" // pipeline notification rules
)

// TopicProps configures an encrypted topic.
type TopicProps struct {
	// TopicName is the topic's name. Default: - a name CloudFormation generates.
	TopicName string
	// DisplayName is shown in e-mails. Default: - none.
	DisplayName string
	// Publishers are the AWS service principals allowed to use the key to publish.
	// Default: - none (only principals of the account with key and topic permissions).
	Publishers []string
	// Emails are subscribed to the topic (each must confirm). Default: - none.
	Emails []string
}

var servicePrincipal = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com$`)

// NewTopic creates the key (child "Key" of a construct named id) and the topic ("Resource").
// It panics, listing the problem, on a publisher that is not a service principal.
func NewTopic(scope constructs.Construct, id *string, props *TopicProps) awssns.Topic {
	if props == nil {
		props = &TopicProps{}
	}
	for _, p := range props.Publishers {
		if !servicePrincipal.MatchString(p) {
			panic(fmt.Sprintf("notify: invalid props: Publishers: %q: an AWS service principal such as %s", p, CloudWatch))
		}
	}
	this := constructs.NewConstruct(scope, id)
	key := awskms.NewKey(this, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the notifications of " + *this.Node().Path()),
		EnableKeyRotation: jsii.Bool(true),
		// Retained: messages and subscriptions encrypted with it stay readable.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	if len(props.Publishers) > 0 {
		var principals []awsiam.IPrincipal
		for _, p := range props.Publishers {
			principals = append(principals, awsiam.NewServicePrincipal(jsii.String(p), nil))
		}
		key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("AllowPublishersThroughSNS"),
			Principals: &principals,
			Actions:    jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
			Resources:  jsii.Strings("*"), // in a key policy, "*" is this key
			Conditions: &map[string]interface{}{
				"StringEquals": map[string]interface{}{"kms:ViaService": "sns." + *awscdk.Stack_Of(this).Region() + ".amazonaws.com"},
			},
		}), nil)
	}
	topicProps := &awssns.TopicProps{MasterKey: key, EnforceSSL: jsii.Bool(true)}
	if props.TopicName != "" {
		topicProps.TopicName = jsii.String(props.TopicName)
	}
	if props.DisplayName != "" {
		topicProps.DisplayName = jsii.String(props.DisplayName)
	}
	topic := awssns.NewTopic(this, jsii.String("Resource"), topicProps)
	for _, addr := range props.Emails {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(addr), nil))
	}
	return topic
}
