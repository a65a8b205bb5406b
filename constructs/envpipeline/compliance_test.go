package envpipeline_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
	"github.com/platform-eng/pathtoprod/constructs/guard"
)

// What NIST 800-53 R5 asked for and the construct fixes rather than suppresses: every log
// group encrypted with the pipeline's key (whose policy lets only this account's log groups
// use it through CloudWatch Logs), the guard's reserved concurrency and dead-letter topic,
// and a versioned access-log bucket.
func TestLogGroupsAreEncryptedWithThePipelinesKey(t *testing.T) {
	for _, env := range []string{"dev", "prd"} {
		tpl := withRegistry(t, env)
		groups := resources(tpl, "AWS::Logs::LogGroup")
		if len(groups) < 3 {
			t.Fatalf("%s: %d log groups", env, len(groups))
		}
		for id, g := range groups {
			key := compact(g["Properties"].(map[string]interface{})["KmsKeyId"])
			if key != `{"Fn::GetAtt":["PipelineArtifactKeyFFEED257","Arn"]}` {
				t.Errorf("%s: log group %s is encrypted with %s, want the artifact key", env, id, key)
			}
			if g["DeletionPolicy"] != "Retain" {
				t.Errorf("%s: log group %s is not retained", env, id)
			}
		}
		policy := compact(resources(tpl, "AWS::KMS::Key")["PipelineArtifactKeyFFEED257"]["Properties"].(map[string]interface{})["KeyPolicy"])
		want := `{"Action":["kms:Encrypt*","kms:Decrypt*","kms:ReEncrypt*","kms:GenerateDataKey*","kms:Describe*"],` +
			`"Condition":{"ArnLike":{"kms:EncryptionContext:aws:logs:arn":{"Fn::Sub":"arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"}}},` +
			`"Effect":"Allow","Principal":{"Service":"logs.eu-west-1.amazonaws.com"},"Resource":"*","Sid":"AllowLogGroupsOfThisAccountAndRegion"}`
		if strings.Count(policy, `"Sid":"AllowLogGroupsOfThisAccountAndRegion"`) != 1 || !strings.Contains(policy, want) {
			t.Errorf("%s: the artifact key's policy lacks exactly one %s:\n%s", env, want, policy)
		}
	}
}

func TestGuardHasReservedConcurrencyAndADeadLetterTopic(t *testing.T) {
	tpl := withRegistry(t, "prd")
	tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
		"FunctionName":                 "payments-checkout-prd-guard",
		"ReservedConcurrentExecutions": 2,
		// The team's notification topic: an invocation the guard could not report reaches people.
		"DeadLetterConfig": map[string]interface{}{"TargetArn": map[string]interface{}{"Ref": "PipelineNotificationsEAA31857"}},
		"Environment": map[string]interface{}{"Variables": assertions.Match_ObjectLike(&map[string]interface{}{
			// prd is the last environment: CRITICAL findings are refused, and so is an unscanned image.
			"VULNERABILITY_THRESHOLD": "CRITICAL",
			"UNSCANNED_IMAGES":        "refuse",
		})},
	})
	withRegistry(t, "stg").HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
		"Environment": map[string]interface{}{"Variables": assertions.Match_ObjectLike(&map[string]interface{}{
			"VULNERABILITY_THRESHOLD": "NONE", // stg reports the counts only
			"UNSCANNED_IMAGES":        "refuse",
		})},
	})
}

func TestAccessLogBucketIsVersionedAndExpires(t *testing.T) {
	tpl := defaults(t, "stg")
	tpl.HasResource(jsii.String("AWS::S3::Bucket"), map[string]interface{}{
		"DeletionPolicy": "Retain",
		"Properties": assertions.Match_ObjectLike(&map[string]interface{}{
			"BucketEncryption": map[string]interface{}{"ServerSideEncryptionConfiguration": []interface{}{
				map[string]interface{}{"ServerSideEncryptionByDefault": map[string]interface{}{"SSEAlgorithm": "AES256"}},
			}},
			"VersioningConfiguration": map[string]interface{}{"Status": "Enabled"},
			"LifecycleConfiguration": map[string]interface{}{"Rules": []interface{}{map[string]interface{}{
				"Id": "ExpireAccessLogs", "ExpirationInDays": 365, "NoncurrentVersionExpiration": map[string]interface{}{"NoncurrentDays": 30}, "Status": "Enabled",
			}}},
		}),
	})
}

// An account whose concurrency quota leaves nothing to reserve can turn the reservation off;
// the NIST finding that follows is then accepted with its reason, not left to fail synthesis.
func TestGuardWithoutReservedConcurrency(t *testing.T) {
	var stack awscdk.Stack
	tpl := synth(t, envpipeline.EnvPipelineProps{Path: checkout(t), Environment: "stg", GuardReservedConcurrency: guard.NoReservedConcurrency},
		func(p envpipeline.EnvPipeline) {
			stack = awscdk.Stack_Of(p)
			awscdk.Aspects_Of(stack).Add(cdknag.NewNIST80053R5Checks(&cdknag.NagPackProps{}), nil)
		})
	tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]interface{}{
		"FunctionName":                 "payments-checkout-stg-guard",
		"ReservedConcurrentExecutions": assertions.Match_Absent(),
	})
	for _, e := range *assertions.Annotations_FromStack(stack).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(".*"))) {
		t.Errorf("%s %v", *e.Id, e.Entry.Data)
	}
	defer func() {
		if msg := fmt.Sprint(recover()); !strings.Contains(msg, "ReservedConcurrency: -5: a positive number, 0 for the default (2), or NoReservedConcurrency (-1)") {
			t.Errorf("ReservedConcurrency -5: got %q", msg)
		}
	}()
	synth(t, envpipeline.EnvPipelineProps{Path: checkout(t), Environment: "stg", GuardReservedConcurrency: -5})
}
