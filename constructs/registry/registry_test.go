package registry_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/compliance"
	"github.com/platform-eng/pathtoprod/constructs/jsiiexit"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/registry"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsiiexit.Close() // jsii.Close, minus its stray "waitid" line after the test output
	os.Exit(code)
}

func compact(v interface{}) string { b, _ := json.Marshal(v); return string(b) }

func registryTemplate(t *testing.T, paths []org.Path) (awscdk.Stack, assertions.Template) {
	t.Helper()
	return registryTemplateWith(t, &registry.RegistryProps{Paths: paths})
}

func registryTemplateWith(t *testing.T, props *registry.RegistryProps) (awscdk.Stack, assertions.Template) {
	t.Helper()
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Registry"), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")},
	})
	registry.NewRegistry(stack, jsii.String("Registry"), props)
	return stack, assertions.Template_FromStack(stack, nil)
}

// onlyRepository returns the properties of the template's one repository, failing otherwise.
func onlyRepository(t *testing.T, tpl assertions.Template) map[string]interface{} {
	t.Helper()
	repos := *tpl.FindResources(jsii.String("AWS::ECR::Repository"), nil)
	if len(repos) != 1 {
		t.Fatalf("want one repository, got %d", len(repos))
	}
	for _, r := range repos {
		return (*r)["Properties"].(map[string]interface{})
	}
	return nil
}

func checkout(t *testing.T) org.Path {
	t.Helper()
	p, err := org.Default().Path("payments", "checkout")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRepositoryIsImmutableScannedEncryptedAndRetained(t *testing.T) {
	_, tpl := registryTemplate(t, org.Default().Paths())
	tpl.ResourceCountIs(jsii.String("AWS::ECR::Repository"), jsii.Number(2))
	tpl.HasResource(jsii.String("AWS::ECR::Repository"), map[string]interface{}{
		"DeletionPolicy":      "Retain",
		"UpdateReplacePolicy": "Retain",
		"Properties": assertions.Match_ObjectLike(&map[string]interface{}{
			"RepositoryName":             "payments/checkout",
			"ImageTagMutability":         "IMMUTABLE",
			"ImageScanningConfiguration": map[string]interface{}{"ScanOnPush": true},
			// AES-256 at rest is ECR's default and CDK emits nothing for it. A KMS key would need a
			// key policy for every pulling account: changing this must be deliberate.
			"EncryptionConfiguration": assertions.Match_Absent(),
		}),
	})
}

func TestLifecycleExpiresOnlyUntaggedImages(t *testing.T) {
	_, tpl := registryTemplate(t, []org.Path{checkout(t)})
	text := onlyRepository(t, tpl)["LifecyclePolicy"].(map[string]interface{})["LifecyclePolicyText"].(string)
	want := `{"rules":[{"rulePriority":1,"description":"Expire untagged images; commit-tagged images are never expired",` +
		`"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countNumber":14,"countUnit":"days"},"action":{"type":"expire"}}]}`
	if text != want {
		t.Errorf("lifecycle policy\n got %s\nwant %s", text, want)
	}
}

func TestRepositoryPolicyNamesEachPrincipal(t *testing.T) {
	p := checkout(t)
	p.PullRoles = []string{"checkout-task-execution"}
	_, tpl := registryTemplate(t, []org.Path{p})
	policy := onlyRepository(t, tpl)["RepositoryPolicyText"].(map[string]interface{})
	account := func(a string) string {
		return `{"AWS":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::` + a + `:root"]]}}`
	}
	cond := func(arns ...string) string {
		return `{"ArnEquals":{"aws:PrincipalArn":["` + strings.Join(arns, `","`) + `"]}}`
	}
	pull := `["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]`
	pullers := func(a, env string) string {
		return cond("arn:aws:iam::"+a+":role/payments-checkout-"+env+"-deploy",
			"arn:aws:iam::"+a+":role/cdk-hnb659fds-cfn-exec-role-"+a+"-eu-west-1",
			"arn:aws:iam::"+a+":role/checkout-task-execution")
	}
	want := `{"Statement":[` +
		`{"Action":["ecr:BatchCheckLayerAvailability","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage"],"Condition":` + cond("arn:aws:iam::222222222222:role/payments-checkout-dev-build") + `,"Effect":"Allow","Principal":` + account("222222222222") + `,"Sid":"PushFromTheBuild222222222222"},` +
		`{"Action":"ecr:DescribeImages","Condition":` + cond("arn:aws:iam::222222222222:role/payments-checkout-dev-build") + `,"Effect":"Allow","Principal":` + account("222222222222") + `,"Sid":"FindCommitImages222222222222"},` +
		`{"Action":"ecr:DescribeImages","Condition":` + cond("arn:aws:iam::333333333333:role/payments-checkout-stg-guard") + `,"Effect":"Allow","Principal":` + account("333333333333") + `,"Sid":"FindCommitImages333333333333"},` +
		`{"Action":"ecr:DescribeImages","Condition":` + cond("arn:aws:iam::444444444444:role/payments-checkout-prd-guard") + `,"Effect":"Allow","Principal":` + account("444444444444") + `,"Sid":"FindCommitImages444444444444"},` +
		`{"Action":"ecr:DescribeImageScanFindings","Condition":` + cond("arn:aws:iam::333333333333:role/payments-checkout-stg-guard") + `,"Effect":"Allow","Principal":` + account("333333333333") + `,"Sid":"ReadScanFindings333333333333"},` +
		`{"Action":"ecr:DescribeImageScanFindings","Condition":` + cond("arn:aws:iam::444444444444:role/payments-checkout-prd-guard") + `,"Effect":"Allow","Principal":` + account("444444444444") + `,"Sid":"ReadScanFindings444444444444"},` +
		`{"Action":` + pull + `,"Condition":` + pullers("222222222222", "dev") + `,"Effect":"Allow","Principal":` + account("222222222222") + `,"Sid":"PullToDeployAndRun222222222222"},` +
		`{"Action":` + pull + `,"Condition":` + pullers("333333333333", "stg") + `,"Effect":"Allow","Principal":` + account("333333333333") + `,"Sid":"PullToDeployAndRun333333333333"},` +
		`{"Action":` + pull + `,"Condition":` + pullers("444444444444", "prd") + `,"Effect":"Allow","Principal":` + account("444444444444") + `,"Sid":"PullToDeployAndRun444444444444"},` +
		`{"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Condition":{"StringLike":{"aws:sourceArn":["arn:aws:lambda:eu-west-1:222222222222:function:*","arn:aws:lambda:eu-west-1:333333333333:function:*","arn:aws:lambda:eu-west-1:444444444444:function:*"]}},"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Sid":"LambdaPullForThePathsFunctions"}` +
		`],"Version":"2012-10-17"}`
	if got := compact(policy); got != want {
		t.Errorf("repository policy\n got %s\nwant %s", got, want)
	}
	// No statement may be open to everyone.
	if strings.Contains(compact(policy), `"AWS":"*"`) || strings.Contains(compact(policy), `"Principal":"*"`) {
		t.Error("a statement has a * principal")
	}
}

func TestTwoEnvironmentsInOneAccountShareAStatement(t *testing.T) {
	p := checkout(t)
	// dev and stg in one account (in two regions: one account and region holds one
	// repository of a given name, so the loader refuses the same region twice)
	p.Environments[1].Account = p.Environments[0].Account
	p.Environments[1].Region = "eu-central-1"
	_, tpl := registryTemplate(t, []org.Path{p})
	policy := compact(onlyRepository(t, tpl)["RepositoryPolicyText"])
	if n := strings.Count(policy, `"Sid":"PullToDeployAndRun222222222222"`); n != 1 {
		t.Errorf("want one pull statement for the shared account, got %d: %s", n, policy)
	}
	if !strings.Contains(policy, "payments-checkout-stg-deploy") || !strings.Contains(policy, "payments-checkout-dev-deploy") {
		t.Errorf("both environments' deploy roles must be named: %s", policy)
	}
}

func TestGrantsGiveExactlyWhatPullingAndPushingNeed(t *testing.T) {
	arn := registry.RepositoryARN(org.Default().Registry, checkout(t))
	if arn != "arn:aws:ecr:eu-west-1:111111111111:repository/payments/checkout" {
		t.Fatalf("repository ARN %s", arn)
	}
	cases := []struct {
		name  string
		grant func(awsiam.IGrantable, string) awsiam.Grant
		want  string
	}{
		{"pull", registry.GrantPull, `[{"Action":"ecr:GetAuthorizationToken","Effect":"Allow","Resource":"*"},` +
			`{"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],"Effect":"Allow","Resource":"` + arn + `"}]`},
		{"push", registry.GrantPush, `[{"Action":"ecr:GetAuthorizationToken","Effect":"Allow","Resource":"*"},` +
			`{"Action":["ecr:BatchCheckLayerAvailability","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage","ecr:DescribeImages"],"Effect":"Allow","Resource":"` + arn + `"}]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := awscdk.NewApp(nil)
			stack := awscdk.NewStack(app, jsii.String("Team"), nil)
			role := awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("codebuild.amazonaws.com"), nil)})
			if g := c.grant(role, arn); !*g.Success() {
				t.Fatal("grant did not succeed")
			}
			tpl := assertions.Template_FromStack(stack, nil)
			policies := *tpl.FindResources(jsii.String("AWS::IAM::Policy"), nil)
			if len(policies) != 1 {
				t.Fatalf("want the role's one policy, got %d", len(policies))
			}
			for _, r := range policies {
				got := compact((*r)["Properties"].(map[string]interface{})["PolicyDocument"].(map[string]interface{})["Statement"])
				if got != c.want {
					t.Errorf("statements\n got %s\nwant %s", got, c.want)
				}
			}
		})
	}
}

func TestRegistryStackHasNoNagErrors(t *testing.T) {
	for _, scanning := range []string{org.ScanningBasic, org.ScanningEnhanced} {
		// The checks are added before anything synthesizes the stack: an aspect added later
		// would not run.
		stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Registry"), &awscdk.StackProps{
			Env: &awscdk.Environment{Account: jsii.String("111111111111"), Region: jsii.String("eu-west-1")},
		})
		compliance.AddChecks(stack)
		registry.NewRegistry(stack, jsii.String("Registry"), &registry.RegistryProps{Paths: org.Default().Paths(), Scanning: scanning})
		errs := assertions.Annotations_FromStack(stack).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(".*")))
		for _, e := range *errs {
			t.Errorf("%s: %s %v", scanning, *e.Id, e.Entry.Data)
		}
	}
}

func TestEnhancedScanningNamesExactlyThePathsRepositories(t *testing.T) {
	_, basic := registryTemplate(t, org.Default().Paths())
	basic.ResourceCountIs(jsii.String("AWS::ECR::RegistryScanningConfiguration"), jsii.Number(0))
	_, tpl := registryTemplateWith(t, &registry.RegistryProps{Paths: org.Default().Paths(), Scanning: org.ScanningEnhanced})
	tpl.ResourceCountIs(jsii.String("AWS::ECR::RegistryScanningConfiguration"), jsii.Number(1))
	tpl.HasResourceProperties(jsii.String("AWS::ECR::RegistryScanningConfiguration"), map[string]interface{}{
		"ScanType": "ENHANCED",
		"Rules": []interface{}{map[string]interface{}{
			"ScanFrequency": "CONTINUOUS_SCAN",
			"RepositoryFilters": []interface{}{
				map[string]interface{}{"Filter": "payments/checkout", "FilterType": "WILDCARD"},
				map[string]interface{}{"Filter": "search/indexer", "FilterType": "WILDCARD"},
			},
		}},
	})
}

func TestInvalidPropsListEveryProblem(t *testing.T) {
	invalid := func(props *registry.RegistryProps) (msg string) {
		defer func() { msg = fmt.Sprint(recover()) }()
		registry.NewRegistry(awscdk.NewStack(awscdk.NewApp(nil), jsii.String("S"), nil), jsii.String("R"), props)
		return "no panic"
	}
	t.Run("no paths", func(t *testing.T) {
		if msg := invalid(&registry.RegistryProps{}); !strings.Contains(msg, "registry: invalid props:\n  Paths: []: at least one service path") {
			t.Errorf("got %q", msg)
		}
	})
	t.Run("every problem at once", func(t *testing.T) {
		bad := checkout(t)
		bad.Settings.CdkQualifier = "Not_A_Qualifier"
		msg := invalid(&registry.RegistryProps{Paths: []org.Path{checkout(t), checkout(t), bad}, UntaggedExpiryDays: 0.5, Scanning: "deep"})
		for _, want := range []string{
			"UntaggedExpiryDays: 0.5: at least 1 day",
			`Scanning: "deep": "basic" or "enhanced"`,
			`Paths[1]: "payments-checkout": each path once`,
			`Paths[2] (payments-checkout):`, `path.settings.cdkQualifier`, `"Not_A_Qualifier"`,
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("panic lacks %q:\n%s", want, msg)
			}
		}
	})
}

// The CDK bootstrap qualifier is the organisation's: the CloudFormation execution role the
// registry lets pull is the one of the qualifier every other part uses.
func TestCfnExecPullerIsTheOrganisationsBootstrapRole(t *testing.T) {
	// GIVEN a path whose organisation bootstraps its accounts with qualifier abc
	p := checkout(t)
	p.Settings.CdkQualifier = "abc"
	// WHEN the registry is synthesized for it
	_, tpl := registryTemplate(t, []org.Path{p})
	// THEN each account's pull statement names that bootstrap's execution role, and no other
	policy := compact(onlyRepository(t, tpl)["RepositoryPolicyText"])
	for _, a := range []string{"222222222222", "333333333333", "444444444444"} {
		if want := `"arn:aws:iam::` + a + `:role/cdk-abc-cfn-exec-role-` + a + `-eu-west-1"`; !strings.Contains(policy, want) {
			t.Errorf("policy lacks %s: %s", want, policy)
		}
	}
	if strings.Contains(policy, "hnb659fds") {
		t.Errorf("policy names the default qualifier: %s", policy)
	}
}

func TestParseImageURIAcceptsOnlyADigest(t *testing.T) {
	const d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	repo := "111111111111.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout"
	img, err := registry.ParseImageURI(repo + "@" + d)
	if err != nil {
		t.Fatal(err)
	}
	if want := (registry.Image{Registry: "111111111111", Region: "eu-west-1", Repository: "payments/checkout", Digest: d}); img != want || img.URI() != repo+"@"+d {
		t.Errorf("got %+v (%s)", img, img.URI())
	}
	for _, bad := range []string{
		"", repo + ":v1", repo + ":v1@" + d, repo + "@" + strings.ToUpper(d), repo + "@sha256:abc",
		"11111111111.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout@" + d, "docker.io/library/nginx@" + d,
	} {
		if _, err := registry.ParseImageURI(bad); err == nil || !strings.Contains(err.Error(), "never a tag") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	other := strings.Replace(repo, "checkout", "other", 1) + "@" + d
	if _, err := registry.ParsePathImageURI(other, org.Default().Registry, checkout(t)); err == nil || !strings.Contains(err.Error(), repo+"@sha256:<64 hex digits>") {
		t.Errorf("another repository: %v", err)
	}
}

// Lambda pulls container images only from its own region: functions of environments in
// another region than the registry's get no pull grant (they would need ECR replication).
func TestLambdaPullOnlyInTheRegistrysRegion(t *testing.T) {
	indexer, err := org.Default().Path("search", "indexer") // eu-central-1; the registry is in eu-west-1
	if err != nil {
		t.Fatal(err)
	}
	_, tpl := registryTemplate(t, []org.Path{checkout(t), indexer})
	repos := *tpl.FindResources(jsii.String("AWS::ECR::Repository"), nil)
	if len(repos) != 2 {
		t.Fatalf("want the two paths' repositories, got %d", len(repos))
	}
	withLambda := 0
	for id, r := range repos {
		policy := compact((*r)["Properties"].(map[string]interface{})["RepositoryPolicyText"])
		hasLambda := strings.Contains(policy, "lambda.amazonaws.com")
		if hasLambda {
			withLambda++
		}
		if strings.Contains(id, "checkout") != hasLambda {
			t.Errorf("%s: Lambda pull statement present=%v: %s", id, hasLambda, policy)
		}
		if strings.Contains(policy, "arn:aws:lambda:eu-central-1") {
			t.Errorf("%s grants Lambda pulls in eu-central-1", id)
		}
	}
	if withLambda != 1 {
		t.Errorf("%d repositories let Lambda pull, want checkout's only", withLambda)
	}
}
