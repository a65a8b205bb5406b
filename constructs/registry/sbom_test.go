package registry_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/platform-eng/pathtoprod/constructs/compliance"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/registry"
)

// sbomStack is the registry stack of the default organisation (payments/checkout and
// search/indexer), with both cdk-nag packs the platform runs, synthesized once for every
// SBOM test.
var sbomStack struct {
	stack awscdk.Stack
	tpl   assertions.Template
}

func defaultRegistry(t *testing.T) (awscdk.Stack, assertions.Template) {
	t.Helper()
	if sbomStack.tpl == nil {
		app := awscdk.NewApp(nil)
		stack := awscdk.NewStack(app, jsii.String("Registry"), &awscdk.StackProps{
			Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")},
		})
		registry.NewRegistry(stack, jsii.String("Registry"), &registry.RegistryProps{Paths: org.Default().Paths()})
		awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{}), nil)
		awscdk.Aspects_Of(app).Add(cdknag.NewNIST80053R5Checks(&cdknag.NagPackProps{}), nil)
		sbomStack.stack, sbomStack.tpl = stack, assertions.Template_FromStack(stack, nil)
	}
	return sbomStack.stack, sbomStack.tpl
}

// resourceByID returns the one resource whose logical id starts with prefix (CDK appends a hash).
func resourceByID(t *testing.T, tpl assertions.Template, prefix string) map[string]interface{} {
	t.Helper()
	var found []map[string]interface{}
	for id, r := range (*tpl.ToJSON())["Resources"].(map[string]interface{}) {
		if strings.HasPrefix(id, prefix) && len(id) == len(prefix)+8 {
			found = append(found, r.(map[string]interface{}))
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one resource %s…, got %d", prefix, len(found))
	}
	return found[0]
}

func TestSbomBucketIsEncryptedWithTheRegistrysKeyVersionedPrivateLoggedAndRetained(t *testing.T) {
	_, tpl := defaultRegistry(t)
	bucket := resourceByID(t, tpl, "RegistrySboms")
	if bucket["DeletionPolicy"] != "Retain" || bucket["UpdateReplacePolicy"] != "Retain" {
		t.Errorf("SBOM bucket deletion %v, replace %v: want retained", bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"])
	}
	props := bucket["Properties"].(map[string]interface{})
	for field, want := range map[string]string{
		"BucketName": `"pathtoprod-sbom-111111111111-eu-west-1"`,
		// The registry stack's own key, without a Bucket Key, so that the encryption context is
		// each object's ARN (what the key policy narrows to each path's prefix).
		"BucketEncryption": `{"ServerSideEncryptionConfiguration":[{"BucketKeyEnabled":false,"ServerSideEncryptionByDefault":` +
			`{"KMSMasterKeyID":{"Fn::GetAtt":["RegistrySbomsKey4FB43CFC","Arn"]},"SSEAlgorithm":"aws:kms"}}]}`,
		"VersioningConfiguration":        `{"Status":"Enabled"}`,
		"PublicAccessBlockConfiguration": `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}`,
		"OwnershipControls":              `{"Rules":[{"ObjectOwnership":"BucketOwnerEnforced"}]}`,
		"LoggingConfiguration":           `{"DestinationBucketName":{"Ref":"RegistrySbomsAccessLogs8A77610C"},"LogFilePrefix":"sboms/"}`,
		// SBOMs never expire; a replaced version does.
		"LifecycleConfiguration": `{"Rules":[{"Id":"ExpireReplacedSboms","NoncurrentVersionExpiration":{"NoncurrentDays":90},"Status":"Enabled"}]}`,
	} {
		if got := compact(props[field]); got != want {
			t.Errorf("SBOM bucket %s\n got %s\nwant %s", field, got, want)
		}
	}
	key := resourceByID(t, tpl, "RegistrySbomsKey")
	if key["DeletionPolicy"] != "Retain" || key["Properties"].(map[string]interface{})["EnableKeyRotation"] != true {
		t.Errorf("SBOM key: deletion %v, rotation %v", key["DeletionPolicy"], key["Properties"].(map[string]interface{})["EnableKeyRotation"])
	}
	tpl.HasResourceProperties(jsii.String("AWS::KMS::Alias"), map[string]interface{}{
		"AliasName": "alias/pathtoprod-sbom", "TargetKeyId": map[string]interface{}{"Fn::GetAtt": []interface{}{"RegistrySbomsKey4FB43CFC", "Arn"}},
	})
	logs := resourceByID(t, tpl, "RegistrySbomsAccessLogs")
	if logs["DeletionPolicy"] != "Retain" {
		t.Errorf("access log bucket deletion %v", logs["DeletionPolicy"])
	}
	lp := logs["Properties"].(map[string]interface{})
	for field, want := range map[string]string{
		// SSE-S3: S3 log delivery cannot write with a customer key.
		"BucketEncryption":               `{"ServerSideEncryptionConfiguration":[{"ServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}`,
		"VersioningConfiguration":        `{"Status":"Enabled"}`,
		"PublicAccessBlockConfiguration": `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}`,
		"OwnershipControls":              `{"Rules":[{"ObjectOwnership":"BucketOwnerEnforced"}]}`,
		"LifecycleConfiguration":         `{"Rules":[{"ExpirationInDays":365,"Id":"ExpireAccessLogs","NoncurrentVersionExpiration":{"NoncurrentDays":30},"Status":"Enabled"}]}`,
	} {
		if got := compact(lp[field]); got != want {
			t.Errorf("access log bucket %s\n got %s\nwant %s", field, got, want)
		}
	}
}

// policyStatements returns the statements of the bucket policy or key policy found at prefix.
func policyStatements(t *testing.T, tpl assertions.Template, prefix, field string) []interface{} {
	t.Helper()
	return resourceByID(t, tpl, prefix)["Properties"].(map[string]interface{})[field].(map[string]interface{})["Statement"].([]interface{})
}

func account(a string) string {
	return `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::` + a + `:root"]]}`
}

func TestSbomBucketPolicyLetsEachPathsBuildWriteAndItsAccountsReadUnderItsPrefix(t *testing.T) {
	_, tpl := defaultRegistry(t)
	sts := policyStatements(t, tpl, "RegistrySbomsPolicy", "PolicyDocument")
	// First CDK's TLS-only statement, then two per path.
	if len(sts) != 5 {
		t.Fatalf("want the TLS statement and two per path, got %d: %s", len(sts), compact(sts))
	}
	if got := compact(sts[0]); !strings.Contains(got, `"aws:SecureTransport":"false"`) || !strings.Contains(got, `"Effect":"Deny"`) {
		t.Errorf("first statement is not the TLS-only deny: %s", got)
	}
	const bucket = "arn:aws:s3:::pathtoprod-sbom-111111111111-eu-west-1"
	want := `[` +
		`{"Action":["s3:PutObject","s3:GetObject"],"Condition":{"ArnEquals":{"aws:PrincipalArn":["arn:aws:iam::222222222222:role/payments-checkout-dev-build"]}},` +
		`"Effect":"Allow","Principal":{"AWS":` + account("222222222222") + `},"Resource":"` + bucket + `/payments/checkout/*","Sid":"BuildWritesSbomsOfPaymentsXcheckout"},` +
		`{"Action":"s3:GetObject","Effect":"Allow","Principal":{"AWS":[` + account("222222222222") + `,` + account("333333333333") + `,` + account("444444444444") + `]},` +
		`"Resource":"` + bucket + `/payments/checkout/*","Sid":"AccountsReadSbomsOfPaymentsXcheckout"},` +
		`{"Action":["s3:PutObject","s3:GetObject"],"Condition":{"ArnEquals":{"aws:PrincipalArn":["arn:aws:iam::555555555555:role/search-indexer-dev-build"]}},` +
		`"Effect":"Allow","Principal":{"AWS":` + account("555555555555") + `},"Resource":"` + bucket + `/search/indexer/*","Sid":"BuildWritesSbomsOfSearchXindexer"},` +
		`{"Action":"s3:GetObject","Effect":"Allow","Principal":{"AWS":[` + account("555555555555") + `,` + account("666666666666") + `,` + account("777777777777") + `]},` +
		`"Resource":"` + bucket + `/search/indexer/*","Sid":"AccountsReadSbomsOfSearchXindexer"}]`
	if got := compact(sts[1:]); got != want {
		t.Errorf("SBOM bucket policy\n got %s\nwant %s", got, want)
	}
}

func TestSbomKeyIsUsableOnlyThroughS3ForEachPathsPrefix(t *testing.T) {
	_, tpl := defaultRegistry(t)
	sts := policyStatements(t, tpl, "RegistrySbomsKey", "KeyPolicy")
	// CDK's default first: the registry account's IAM administers the key.
	if got := compact(sts[0]); got != `{"Action":"kms:*","Effect":"Allow","Principal":{"AWS":`+account("111111111111")+`},"Resource":"*"}` {
		t.Errorf("first key statement %s", got)
	}
	cond := func(prefix string) string {
		return `"StringEquals":{"kms:ViaService":"s3.eu-west-1.amazonaws.com"},` +
			`"StringLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::pathtoprod-sbom-111111111111-eu-west-1/` + prefix + `*"}`
	}
	want := `[` +
		`{"Action":["kms:GenerateDataKey","kms:Decrypt"],"Condition":{"ArnEquals":{"aws:PrincipalArn":["arn:aws:iam::222222222222:role/payments-checkout-dev-build"]},` + cond("payments/checkout/") + `},` +
		`"Effect":"Allow","Principal":{"AWS":` + account("222222222222") + `},"Resource":"*","Sid":"BuildEncryptsSbomsOfPaymentsXcheckout"},` +
		`{"Action":"kms:Decrypt","Condition":{` + cond("payments/checkout/") + `},` +
		`"Effect":"Allow","Principal":{"AWS":[` + account("222222222222") + `,` + account("333333333333") + `,` + account("444444444444") + `]},"Resource":"*","Sid":"AccountsDecryptSbomsOfPaymentsXcheckout"},` +
		`{"Action":["kms:GenerateDataKey","kms:Decrypt"],"Condition":{"ArnEquals":{"aws:PrincipalArn":["arn:aws:iam::555555555555:role/search-indexer-dev-build"]},` + cond("search/indexer/") + `},` +
		`"Effect":"Allow","Principal":{"AWS":` + account("555555555555") + `},"Resource":"*","Sid":"BuildEncryptsSbomsOfSearchXindexer"},` +
		`{"Action":"kms:Decrypt","Condition":{` + cond("search/indexer/") + `},` +
		`"Effect":"Allow","Principal":{"AWS":[` + account("555555555555") + `,` + account("666666666666") + `,` + account("777777777777") + `]},"Resource":"*","Sid":"AccountsDecryptSbomsOfSearchXindexer"}]`
	if got := compact(sts[1:]); got != want {
		t.Errorf("SBOM key policy\n got %s\nwant %s", got, want)
	}
}

// Each path's build role and each of its accounts' readers get the other half of the
// cross-account grant in their own policy: the same actions, on the path's prefix and on the
// key found by its alias.
func TestSbomGrantsGiveExactlyWhatWritingAndReadingNeed(t *testing.T) {
	r := org.Default().Registry
	keyStatement := func(actions string) string {
		return `{"Action":` + actions + `,"Condition":{"ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/pathtoprod-sbom"},` +
			`"StringEquals":{"kms:ViaService":"s3.eu-west-1.amazonaws.com"}},"Effect":"Allow","Resource":"arn:aws:kms:eu-west-1:111111111111:key/*"}`
	}
	objects := `"Resource":"arn:aws:s3:::pathtoprod-sbom-111111111111-eu-west-1/payments/checkout/*"`
	cases := []struct {
		name  string
		grant func(awsiam.IGrantable, org.Registry, org.Path) awsiam.Grant
		want  string
	}{
		{"write", registry.GrantSbomWrite, `[{"Action":["s3:PutObject","s3:GetObject"],"Effect":"Allow",` + objects + `},` + keyStatement(`["kms:GenerateDataKey","kms:Decrypt"]`) + `]`},
		{"read", registry.GrantSbomRead, `[{"Action":"s3:GetObject","Effect":"Allow",` + objects + `},` + keyStatement(`"kms:Decrypt"`) + `]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Team"), nil)
			role := awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("codebuild.amazonaws.com"), nil)})
			if g := c.grant(role, r, checkout(t)); !*g.Success() {
				t.Fatal("grant did not succeed")
			}
			policies := *assertions.Template_FromStack(stack, nil).FindResources(jsii.String("AWS::IAM::Policy"), nil)
			if len(policies) != 1 {
				t.Fatalf("want the role's one policy, got %d", len(policies))
			}
			for _, p := range policies {
				if got := compact((*p)["Properties"].(map[string]interface{})["PolicyDocument"].(map[string]interface{})["Statement"]); got != c.want {
					t.Errorf("statements\n got %s\nwant %s", got, c.want)
				}
			}
		})
	}
}

// Both packs the platform runs (platform.AddChecks): AwsSolutions and NIST 800-53 R5. The
// SBOM store has no unsuppressed finding of either; the suppressions it needs are the named
// ones, each with its reason.
func TestSbomStoreHasNoNagErrors(t *testing.T) {
	stack, tpl := defaultRegistry(t)
	annotations := assertions.Annotations_FromStack(stack)
	for _, pack := range []string{"AwsSolutions-", "NIST.800.53.R5-"} {
		for _, e := range *annotations.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(pack))) {
			if strings.HasPrefix(*e.Id, "/Registry/Registry/Sboms/") {
				t.Errorf("%s %v", *e.Id, e.Entry.Data)
			}
		}
	}
	suppressed := map[string][]string{}
	for id, r := range (*tpl.ToJSON())["Resources"].(map[string]interface{}) {
		meta, _ := r.(map[string]interface{})["Metadata"].(map[string]interface{})
		nag, _ := meta["cdk_nag"].(map[string]interface{})
		rules, _ := nag["rules_to_suppress"].([]interface{})
		for _, rule := range rules {
			rule := rule.(map[string]interface{})
			if rule["reason"] == "" {
				t.Errorf("%s: suppression %v without a reason", id, rule["id"])
			}
			if strings.HasPrefix(id, "RegistrySboms") {
				suppressed[id] = append(suppressed[id], rule["id"].(string))
			}
		}
	}
	// Each exception under every pack that shares the rule (compliance.RuleIDs).
	ids := func(rules ...string) (out []string) {
		for _, r := range rules {
			out = append(out, compliance.RuleIDs(r)...)
		}
		return out
	}
	want := map[string][]string{
		"RegistrySboms9FB2905C":           ids("S3BucketReplicationEnabled", "S3BucketDefaultLockEnabled"),
		"RegistrySbomsAccessLogs8A77610C": ids("S3DefaultEncryptionKMS", "S3BucketReplicationEnabled", "S3BucketDefaultLockEnabled"),
	}
	if got := compact(suppressed); got != compact(want) {
		t.Errorf("SBOM store suppressions\n got %s\nwant %s", got, compact(want))
	}
}
