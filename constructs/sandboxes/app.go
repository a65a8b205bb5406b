package sandboxes

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/platform-eng/pathtoprod/constructs/compliance"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// The helpers in this file are for a service team's own CDK app (what the pipeline's Deploy
// step and a sandbox's build synthesize). They read where the app runs from its environment,
// as the CDK CLI and the sandbox build set it, so they need no props.

// VarSandbox is the environment variable a sandbox's build sets to the sandbox's name, and
// ContextKey the context key (cdk synth --context sandbox=<name>) it passes to the app too.
const (
	VarSandbox = "SANDBOX"
	ContextKey = "sandbox"
)

// The variables through which the CDK CLI hands its context (cdk.json, --context) to the app
// it runs: JSON, and the part too large for the environment in a file.
const (
	cdkContextJSON     = "CDK_CONTEXT_JSON"
	cdkContextOverflow = "CONTEXT_OVERFLOW_LOCATION_ENV"
)

// Name is the sandbox the app is synthesized for: the SANDBOX environment variable, or the
// app's "sandbox" context as the CDK CLI passes it (cdk synth --context sandbox=alice, or
// cdk.json); "" outside a sandbox (neither set, or set empty). When both are set they must
// agree: an app told two different names cannot know which stacks it may touch. A sandbox
// build sets both to the same name.
//
// Name panics, with a message naming the variable or context key, its value and what is
// allowed, when the name is not a sandbox name (org.SandboxNameProblem) or the two disagree:
// a wrong name must stop the synthesis, never fall back to the environment's own stacks.
//
// Context given in code (awscdk.AppProps.Context) is not read: Name is called before the
// app exists, to name its stacks.
func Name() string {
	name, err := NameFrom(os.Getenv)
	if err != nil {
		panic("sandboxes: " + err.Error())
	}
	return name
}

// NameFrom is Name reading the variables through getenv, returning the problem as an error
// (naming the variable or context key, its value and what is allowed) instead of panicking:
// for an app that validates its configuration before it creates the CDK app. Pass os.Getenv,
// the environment StackName, Suffix and Apply read.
func NameFrom(getenv func(string) string) (string, error) { return lookupName(getenv, os.ReadFile) }

// lookupName is Name with its inputs given, for tests.
func lookupName(getenv func(string) string, readFile func(string) ([]byte, error)) (string, error) {
	fromEnv := getenv(VarSandbox)
	fromContext, err := contextName(getenv, readFile)
	if err != nil {
		return "", err
	}
	switch {
	case fromEnv != "" && fromContext != "" && fromEnv != fromContext:
		return "", fmt.Errorf("%s: %q and context %s: %q: the same sandbox name in both, or only one of them "+
			"(a sandbox build sets both to the name of the pushed branch sandbox/<name>)", VarSandbox, fromEnv, ContextKey, fromContext)
	case fromEnv != "":
		if p := org.SandboxNameProblem(fromEnv); p != "" {
			return "", fmt.Errorf("%s: %q: %s; allowed: %s", VarSandbox, fromEnv, p, org.AllowedSandboxName)
		}
		return fromEnv, nil
	case fromContext != "":
		if p := org.SandboxNameProblem(fromContext); p != "" {
			return "", fmt.Errorf("context %s: %q: %s; allowed: %s", ContextKey, fromContext, p, org.AllowedSandboxName)
		}
		return fromContext, nil
	}
	return "", nil
}

// contextName reads the "sandbox" context the CDK CLI passed, or "".
func contextName(getenv func(string) string, readFile func(string) ([]byte, error)) (string, error) {
	sources := []struct{ what, text string }{{cdkContextJSON, getenv(cdkContextJSON)}}
	if file := getenv(cdkContextOverflow); file != "" {
		b, err := readFile(file)
		if err != nil {
			return "", fmt.Errorf("%s: %q: the CDK CLI's context file, readable: %v", cdkContextOverflow, file, err)
		}
		sources = append(sources, struct{ what, text string }{file, string(b)})
	}
	for _, s := range sources {
		if s.text == "" {
			continue
		}
		var ctx map[string]any
		if err := json.Unmarshal([]byte(s.text), &ctx); err != nil {
			return "", fmt.Errorf("%s: the CDK CLI's context as a JSON object: %v", s.what, err)
		}
		v, ok := ctx[ContextKey]
		if !ok || v == nil {
			continue
		}
		name, isString := v.(string)
		if !isString {
			return "", fmt.Errorf("context %s: %s: a sandbox name as a string, e.g. --context %s=alice", ContextKey, jsonText(v), ContextKey)
		}
		return name, nil
	}
	return "", nil
}

func jsonText(v any) string { b, _ := json.Marshal(v); return string(b) }

// Suffix is what every name the sandbox creates ends with, org.SandboxStackSuffix(Name())
// ("-sandbox-alice"), or "" outside a sandbox. Add it to the physical names the app sets
// explicitly (alarm, table, function, role names): two stacks cannot create resources of
// one name in one account, so a sandbox's must differ from the environment's own.
func Suffix() string {
	if name := Name(); name != "" {
		return org.SandboxStackSuffix(name)
	}
	return ""
}

// StackName is the name of the service's stack base: base itself outside a sandbox, and
// base+Suffix() in one ("checkout-app-sandbox-alice"). A sandbox's deploy refuses a stack
// whose name lacks the suffix, so that no sandbox can update the environment's own stacks.
// Keep the stack's construct id as it is (base): only its CloudFormation name changes.
func StackName(base string) string { return base + Suffix() }

// Apply makes everything in scope (the app, or a stack) die with the sandbox, when the app is
// synthesized for one (Name() is not ""); outside a sandbox it does nothing, and the
// templates are exactly what they were without it. Call it once, on the app, before Synth;
// resources added later are covered too (it is an aspect, run before cdk-nag's).
//
// In a sandbox, every CloudFormation resource gets DeletionPolicy and UpdateReplacePolicy
// Delete (RemovalPolicy DESTROY), whatever its construct chose, and what would stop its
// deletion is turned off where a property can do it:
//   - DynamoDB tables: DeletionProtectionEnabled false;
//   - RDS, DocumentDB and Neptune clusters and RDS instances: DeletionProtection false
//     (and no final snapshot: their DeletionPolicy is Delete, not Snapshot);
//   - Cognito user pools: DeletionProtection INACTIVE;
//   - EC2 instances: DisableApiTermination false;
//   - load balancers (the L2 constructs): the attribute deletion_protection.enabled false;
//   - ECR repositories: EmptyOnDelete true (CloudFormation deletes their images first).
//
// cdk-nag's rules on deletion protection (AwsSolutions-RDS10, NIST 800-53 R5
// RDSInstanceDeletionProtectionEnabled and ELBDeletionProtectionEnabled) are suppressed on the
// resources it changed, with that reason: in a sandbox, deletion is the point.
//
// What no property can do is reported as a warning on the resource, for the app to handle:
//   - an S3 bucket is deleted only when empty: give it AutoDeleteObjects (which needs
//     RemovalPolicy DESTROY at construction: pass awscdk.RemovalPolicy_DESTROY when
//     Name() != "");
//   - an AWS Backup vault is deleted only without recovery points: leave the backup plan
//     out of a sandbox (a sandbox lives days; point-in-time recovery still covers it);
//   - a resource with a fixed physical name (AlarmName, TableName, FunctionName, ...) that
//     does not contain the sandbox's name collides with the environment's own: add Suffix().
//
// The sandbox's deploy checks the result (the assembly check): a stack name without the
// suffix, or any resource that is retained or snapshotted, refuses the deploy.
func Apply(scope constructs.IConstruct) {
	name := Name()
	if name == "" {
		return
	}
	awscdk.Aspects_Of(scope).Add(&destroyWithSandbox{name: name}, &awscdk.AspectOptions{Priority: awscdk.AspectPriority_MUTATING()})
}

// destroyWithSandbox is Apply's aspect.
type destroyWithSandbox struct{ name string }

// deletionGuards are the properties that would stop a resource's deletion, by resource type,
// and the value that lets it be deleted.
var deletionGuards = map[string]struct {
	property string
	value    any
}{
	"AWS::DynamoDB::Table":    {"DeletionProtectionEnabled", false},
	"AWS::RDS::DBCluster":     {"DeletionProtection", false},
	"AWS::RDS::DBInstance":    {"DeletionProtection", false},
	"AWS::DocDB::DBCluster":   {"DeletionProtection", false},
	"AWS::Neptune::DBCluster": {"DeletionProtection", false},
	"AWS::Cognito::UserPool":  {"DeletionProtection", "INACTIVE"},
	"AWS::EC2::Instance":      {"DisableApiTermination", false},
	"AWS::ECR::Repository":    {"EmptyOnDelete", true},
}

// physicalNames are the properties that name a resource of a type in its account (as the L1
// construct's properties spell them), for the warning on a fixed name.
var physicalNames = map[string]string{
	"AWS::CloudWatch::Alarm":           "alarmName",
	"AWS::CloudWatch::CompositeAlarm":  "alarmName",
	"AWS::CloudWatch::Dashboard":       "dashboardName",
	"AWS::DynamoDB::Table":             "tableName",
	"AWS::Lambda::Function":            "functionName",
	"AWS::S3::Bucket":                  "bucketName",
	"AWS::IAM::Role":                   "roleName",
	"AWS::IAM::ManagedPolicy":          "managedPolicyName",
	"AWS::SQS::Queue":                  "queueName",
	"AWS::SNS::Topic":                  "topicName",
	"AWS::Logs::LogGroup":              "logGroupName",
	"AWS::ECR::Repository":             "repositoryName",
	"AWS::Events::Rule":                "name",
	"AWS::SSM::Parameter":              "name",
	"AWS::KMS::Alias":                  "aliasName",
	"AWS::SecretsManager::Secret":      "name",
	"AWS::StepFunctions::StateMachine": "stateMachineName",
	"AWS::Backup::BackupVault":         "backupVaultName",
	"AWS::Backup::BackupPlan":          "backupPlan.backupPlanName",
}

// Warning ids, for acknowledging one (awscdk.Annotations_Of(c).AcknowledgeWarning).
const (
	WarningBucketNotEmptied = "@pathtoprod/sandboxes:bucketNotEmptied"
	WarningBackupVault      = "@pathtoprod/sandboxes:backupVault"
	WarningFixedName        = "@pathtoprod/sandboxes:fixedName"
)

// deletionProtectionRules are cdk-nag's rules that a resource's deletion protection is on.
// The NIST, HIPAA and PCI packs share rule names (compliance.RuleIDs gives every pack's id).
var deletionProtectionRules = map[string][]string{
	"AWS::RDS::DBCluster":                       append([]string{"AwsSolutions-RDS10"}, compliance.RuleIDs("RDSInstanceDeletionProtectionEnabled")...),
	"AWS::RDS::DBInstance":                      append([]string{"AwsSolutions-RDS10"}, compliance.RuleIDs("RDSInstanceDeletionProtectionEnabled")...),
	"AWS::ElasticLoadBalancingV2::LoadBalancer": compliance.RuleIDs("ELBDeletionProtectionEnabled"),
}

func (a *destroyWithSandbox) Visit(node constructs.IConstruct) {
	if lb, ok := node.(awselasticloadbalancingv2.BaseLoadBalancer); ok {
		// An attribute in a list the L2 renders: set through the L2, not the CfnResource.
		lb.SetAttribute(jsii.String("deletion_protection.enabled"), jsii.String("false"))
		return
	}
	r, ok := node.(awscdk.CfnResource)
	if !ok {
		return
	}
	r.ApplyRemovalPolicy(awscdk.RemovalPolicy_DESTROY, &awscdk.RemovalPolicyOptions{ApplyToUpdateReplacePolicy: jsii.Bool(true)})
	typ := *r.CfnResourceType()
	if g, ok := deletionGuards[typ]; ok {
		r.AddPropertyOverride(jsii.String(g.property), g.value)
	}
	var accepted []*cdknag.NagPackSuppression
	for _, rule := range deletionProtectionRules[typ] {
		accepted = append(accepted, &cdknag.NagPackSuppression{Id: jsii.String(rule), Reason: jsii.String(
			"Sandbox " + a.name + " is destroyed with its branch, or after its TTL without a push: deletion protection is off " +
				"on purpose (sandboxes.Apply), so that nothing it created outlives it.")})
	}
	if len(accepted) > 0 {
		cdknag.NagSuppressions_AddResourceSuppressions(r, &accepted, jsii.Bool(false))
	}
	warn := func(id, msg string) {
		awscdk.Annotations_Of(r).AddWarningV2(jsii.String(id), jsii.String("sandbox "+a.name+": "+msg))
	}
	switch typ {
	case "AWS::S3::Bucket":
		// The L2 bucket's AutoDeleteObjects adds this custom resource beside the CfnBucket.
		if parent := r.Node().Scope(); parent == nil || parent.Node().TryFindChild(jsii.String("AutoDeleteObjectsCustomResource")) == nil {
			warn(WarningBucketNotEmptied, "this bucket is deleted with the sandbox only if it is empty; give it AutoDeleteObjects "+
				"(with RemovalPolicy DESTROY) when sandboxes.Name() is not \"\", or the sandbox's destroy fails on it")
		}
	case "AWS::Backup::BackupVault":
		warn(WarningBackupVault, "a backup vault with recovery points cannot be deleted, so the sandbox's destroy fails once a backup ran; "+
			"leave the backup plan out of a sandbox (when sandboxes.Name() is not \"\")")
	}
	if prop, ok := physicalNames[typ]; ok {
		if name, fixed := literal(r, prop); fixed && !strings.Contains(name, a.name) {
			warn(WarningFixedName, fmt.Sprintf("%s has the fixed name %q, which the environment's own stacks (or another sandbox) may use: "+
				"in one account two stacks cannot both create it; add sandboxes.Suffix() to the name", typ, name))
		}
	}
}

// literal reads a string property of r (a dotted path of the L1's property names) when it is
// set to a string known at synthesis.
func literal(r awscdk.CfnResource, dotted string) (string, bool) {
	var v any = r.UpdatedProperties()
	if m, ok := v.(*map[string]any); ok && m != nil {
		v = *m
	}
	for _, key := range strings.Split(dotted, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		v = m[key]
	}
	s, ok := v.(string)
	if !ok || s == "" || *awscdk.Token_IsUnresolved(jsii.String(s)) {
		return "", false
	}
	return s, true
}
