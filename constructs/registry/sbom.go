package registry

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/compliance"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/trust"
)

// The SBOM store: the software bill of materials of every image the paths' first
// environments build, one SPDX JSON object per image digest, in the registry account next to
// the images (org/sbom.go names the bucket, the keys and the key alias):
//
//	s3://pathtoprod-sbom-<registry account>-<region>/<team>/<service>/sha256:<hex>.spdx.json
//
// Each path's first-environment build role may write (and read, to skip an SBOM already
// stored) only under its repository's prefix; each of the path's environment accounts may
// read under that prefix, and its own IAM decides which of its people and roles may. The
// objects are encrypted with the registry stack's customer key (alias org.SbomKeyAlias),
// which the same principals may use only through S3 in the registry's region and only for
// objects under their prefix (the encryption context S3 passes is the object's ARN).

// SbomWriteActions are what a path's build does with its SBOMs: store one, and read it (a
// HeadObject needs s3:GetObject) to skip one already stored.
var SbomWriteActions = []string{"s3:PutObject", "s3:GetObject"}

// SbomReadActions are what an environment account does with its path's SBOMs.
var SbomReadActions = []string{"s3:GetObject"}

// SbomWriteKeyActions are the KMS actions S3 calls on the writer's behalf: GenerateDataKey for
// a PutObject, Decrypt for an upload in parts (and to read an SBOM back). S3 never calls
// kms:Encrypt for SSE-KMS, so it is not granted.
var SbomWriteKeyActions = []string{"kms:GenerateDataKey", "kms:Decrypt"}

// SbomReadKeyActions is what S3 calls on a reader's behalf for a GetObject.
var SbomReadKeyActions = []string{"kms:Decrypt"}

// DefaultSbomNoncurrentDays is how long an overwritten or deleted SBOM's previous version is
// kept. An SBOM is written once per digest; a noncurrent version only exists after a manual
// change, and is kept long enough to notice and undo it.
const DefaultSbomNoncurrentDays = 90

// newSbomStore creates the SBOM bucket, its access log bucket and its key, with the policies
// that let paths' builds write and their accounts read. It is a child "Sboms" of the
// registry construct.
func newSbomStore(scope constructs.Construct, paths []org.Path) {
	c := constructs.NewConstruct(scope, jsii.String("Sboms"))
	// Server access logs are delivered under a bucket policy, not the legacy ACL, so the log
	// bucket can disable ACLs like the SBOM bucket.
	c.Node().SetContext(jsii.String("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"), true)
	stack := awscdk.Stack_Of(c)
	r := org.Registry{Account: *stack.Account(), Region: *stack.Region()}

	key := awskms.NewKey(c, jsii.String("Key"), &awskms.KeyProps{
		Alias:             jsii.String(org.SbomKeyAlias),
		Description:       jsii.String("Encrypts the SBOMs of the images in the shared registry (bucket " + r.SbomBucketName() + ")"),
		EnableKeyRotation: jsii.Bool(true),
		// Retained: the SBOMs encrypted with it stay readable after the stack is gone.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	logs := compliance.NewAccessLogBucket(c, "AccessLogs")
	bucket := awss3.NewBucket(c, jsii.String("Resource"), &awss3.BucketProps{
		BucketName:    jsii.String(r.SbomBucketName()),
		Encryption:    awss3.BucketEncryption_KMS,
		EncryptionKey: key,
		// No S3 Bucket Key: S3 then passes each object's own ARN as the encryption context, so
		// the key policy can limit each principal to its path's prefix (with a Bucket Key it
		// would pass the bucket's ARN). SBOMs are written once per image: the KMS calls a
		// Bucket Key saves are few.
		BucketKeyEnabled:       jsii.Bool(false),
		EnforceSSL:             jsii.Bool(true),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:              jsii.Bool(true),
		ServerAccessLogsBucket: logs,
		ServerAccessLogsPrefix: jsii.String("sboms/"),
		// Retained, and SBOMs never expire: an environment may run, or roll back to, any
		// image built, and its SBOM must stay findable from its commit.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                          jsii.String("ExpireReplacedSboms"),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(DefaultSbomNoncurrentDays)),
		}},
	})
	for _, st := range sbomBucketStatements(paths, r) {
		bucket.AddToResourcePolicy(st)
	}
	for _, st := range sbomKeyStatements(paths, r) {
		key.AddToResourcePolicy(st, jsii.Bool(false))
	}
	suppressSbomFindings(bucket)
}

// sbomSid is a statement id for a path: purpose and the path's id with each hyphen as an X
// (ids are lowercase letters, digits and hyphens, so it stays unique), first letter upper.
func sbomSid(purpose string, p org.Path) string {
	id := strings.ReplaceAll(p.ID(), "-", "X")
	return purpose + strings.ToUpper(id[:1]) + id[1:]
}

// sbomWriters is the principal of the path's first-environment build role(s), by exact ARN
// (trust.Exactly: the registry deploys before the team accounts' roles exist).
func sbomWriters(p org.Path) []awsiam.IPrincipal {
	var out []awsiam.IPrincipal
	for _, e := range p.Environments {
		if p.IsFirst(e) {
			out = append(out, trust.Exactly(e.Account, org.RoleARN(e.Account, p.BuildRoleName(e.Name))))
		}
	}
	return out
}

// sbomReaders is one account principal per account of the path's environments, in
// environment order, each once.
func sbomReaders(p org.Path) []awsiam.IPrincipal {
	var out []awsiam.IPrincipal
	seen := map[string]bool{}
	for _, e := range p.Environments {
		if !seen[e.Account] {
			seen[e.Account] = true
			out = append(out, awsiam.NewAccountPrincipal(jsii.String(e.Account)))
		}
	}
	return out
}

// sbomBucketStatements is the SBOM bucket's policy for every path: its build writes, its
// accounts read, each only under the path's prefix.
func sbomBucketStatements(paths []org.Path, r org.Registry) []awsiam.PolicyStatement {
	var sts []awsiam.PolicyStatement
	for _, p := range paths {
		objects := jsii.Strings(r.SbomBucketARN() + "/" + p.SbomPrefix() + "*")
		for _, w := range sbomWriters(p) {
			sts = append(sts, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String(sbomSid("BuildWritesSbomsOf", p)),
				Principals: &[]awsiam.IPrincipal{w},
				Actions:    jsii.Strings(SbomWriteActions...),
				Resources:  objects,
			}))
		}
		sts = append(sts, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String(sbomSid("AccountsReadSbomsOf", p)),
			Principals: &[]awsiam.IPrincipal{awsiam.NewCompositePrincipal(sbomReaders(p)...)},
			Actions:    jsii.Strings(SbomReadActions...),
			Resources:  objects,
		}))
	}
	return sts
}

// sbomKeyStatements is the key policy for every path, besides the account's own (CDK's
// default: the registry account's IAM administers the key): the same principals as the
// bucket policy may use the key only through S3 in the registry's region, and only for
// objects under the path's prefix.
func sbomKeyStatements(paths []org.Path, r org.Registry) []awsiam.PolicyStatement {
	var sts []awsiam.PolicyStatement
	for _, p := range paths {
		conditions := &map[string]interface{}{
			"StringEquals": map[string]interface{}{"kms:ViaService": "s3." + r.Region + ".amazonaws.com"},
			"StringLike":   map[string]interface{}{"kms:EncryptionContext:aws:s3:arn": r.SbomBucketARN() + "/" + p.SbomPrefix() + "*"},
		}
		for _, w := range sbomWriters(p) {
			sts = append(sts, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String(sbomSid("BuildEncryptsSbomsOf", p)),
				Principals: &[]awsiam.IPrincipal{w},
				Actions:    jsii.Strings(SbomWriteKeyActions...),
				Resources:  jsii.Strings("*"), // in a key policy, "*" is this key
				Conditions: conditions,
			}))
		}
		sts = append(sts, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String(sbomSid("AccountsDecryptSbomsOf", p)),
			Principals: &[]awsiam.IPrincipal{awsiam.NewCompositePrincipal(sbomReaders(p)...)},
			Actions:    jsii.Strings(SbomReadKeyActions...),
			Resources:  jsii.Strings("*"),
			Conditions: conditions,
		}))
	}
	return sts
}

// suppressSbomFindings accepts, with their reasons, the findings the SBOM bucket has on
// purpose; its access log bucket's are accepted by compliance.NewAccessLogBucket.
func suppressSbomFindings(bucket awss3.Bucket) {
	compliance.NoReplication(bucket, "The SBOM bucket (versioned, retained, never expiring, like the images it describes, which are not replicated either)")
	compliance.NoObjectLock(bucket, "SBOMs never expire and each is written once per image digest, only by the dev build roles, each "+
		"under its own path's prefix; Object Lock, where an audit asks for write-once evidence, can be turned on for the bucket later.")
}

// SbomKeyARNs is the resource under which a principal in another account is granted the SBOM
// key: every key of the registry account in its region, narrowed by SbomKeyConditions to the
// one with the alias org.SbomKeyAlias. The key's id is random (known only once the registry
// is deployed) and an IAM policy cannot name a key by its alias as a resource.
func SbomKeyARNs(r org.Registry) string {
	return "arn:aws:kms:" + r.Region + ":" + r.Account + ":key/*"
}

// SbomKeyConditions narrow SbomKeyARNs to the SBOM key, used through S3 in the registry's
// region. kms:ResourceAliases, not kms:RequestAlias: S3 calls KMS with the key ARN of the
// bucket's default encryption, never with the alias, so a request alias would never match;
// the key's own aliases do, whatever the request names.
func SbomKeyConditions(r org.Registry) map[string]interface{} {
	return map[string]interface{}{
		"ForAnyValue:StringEquals": map[string]interface{}{"kms:ResourceAliases": org.SbomKeyAlias},
		"StringEquals":             map[string]interface{}{"kms:ViaService": "s3." + r.Region + ".amazonaws.com"},
	}
}

// GrantSbomWrite gives grantee, a path's first-environment build role in its own account,
// what storing the path's SBOMs needs on its side: SbomWriteActions under the path's prefix
// of the registry's SBOM bucket, and SbomWriteKeyActions on the SBOM key. The bucket and key
// policies (NewRegistry) name the same role.
func GrantSbomWrite(grantee awsiam.IGrantable, r org.Registry, p org.Path) awsiam.Grant {
	return grantSbom(grantee, r, p, SbomWriteActions, SbomWriteKeyActions)
}

// GrantSbomRead gives grantee, a principal in one of the path's environment accounts, what
// reading the path's SBOMs needs on its side (what ship sbom does): SbomReadActions under
// the path's prefix and SbomReadKeyActions on the SBOM key.
func GrantSbomRead(grantee awsiam.IGrantable, r org.Registry, p org.Path) awsiam.Grant {
	return grantSbom(grantee, r, p, SbomReadActions, SbomReadKeyActions)
}

func grantSbom(grantee awsiam.IGrantable, r org.Registry, p org.Path, actions, keyActions []string) awsiam.Grant {
	objects := awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings(actions...),
		ResourceArns: jsii.Strings(r.SbomBucketARN() + "/" + p.SbomPrefix() + "*"),
	})
	conditions := map[string]*map[string]interface{}{}
	for k, v := range SbomKeyConditions(r) {
		v := v.(map[string]interface{})
		conditions[k] = &v
	}
	return objects.Combine(awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings(keyActions...),
		ResourceArns: jsii.Strings(SbomKeyARNs(r)),
		Conditions:   &conditions,
	}))
}
