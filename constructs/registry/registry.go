// Package registry provides the shared container registry of an organisation: one ECR
// repository per service path, in the registry (tooling) account, so an image is built once
// in the first environment and the same bytes are promoted to the others by digest.
//
// In the registry account's stack:
//
//	registry.NewRegistry(stack, jsii.String("Registry"), &registry.RegistryProps{Paths: o.Paths()})
//
// In a team account, for a role that pulls images of a path (a deploy or runtime role):
//
//	registry.GrantPull(role, registry.RepositoryARN(o.Registry, path))
//
// Cross-account access needs both sides: the repository policy written here names each
// principal, and the principal's own policy (GrantPull, GrantPush) allows the same actions.
package registry

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/trust"
)

// Actions, grouped by what a principal does with a repository.
var (
	// PullActions read an image's manifest and layers.
	PullActions = []string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"}
	// PushActions upload layers and put an image (a tag, immutably).
	PushActions = []string{"ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
		"ecr:CompleteLayerUpload", "ecr:PutImage"}
	// DescribeActions find an image by tag and read its digest.
	DescribeActions = []string{"ecr:DescribeImages"}
	// ScanActions read an image's vulnerability scan: its status, counts and findings.
	ScanActions = []string{"ecr:DescribeImageScanFindings"}
)

// DefaultUntaggedExpiryDays is how long an untagged image (a layer set no tag points to any
// more) is kept. Commit-tagged images never expire: see RegistryProps.
const DefaultUntaggedExpiryDays = 14

// RegistryProps configures the shared registry.
type RegistryProps struct {
	// Paths are the service paths that get a repository each. Each is normalized here (as
	// org.Path.Normalize does) and its Settings.CdkQualifier names the CDK bootstrap of the
	// path's accounts: their CloudFormation execution role creates container-image Lambdas
	// and may pull. Required.
	Paths []org.Path
	// UntaggedExpiryDays is how long untagged images are kept. Tagged images, one per
	// commit built, are never expired by a rule: an environment may run any of them, and a
	// rollback may need any of them. Default: - 14 days.
	UntaggedExpiryDays float64
	// Scanning is how images are scanned for vulnerabilities: org.ScanningBasic (ECR's scan
	// on push of each repository) or org.ScanningEnhanced (Amazon Inspector, continuous: it
	// rescans as vulnerabilities are published and covers language packages). Enhanced
	// scanning is the registry account's one registry scanning configuration, which this
	// construct then owns, and Amazon Inspector bills it per image. At most
	// MaxEnhancedRepositories paths. Default: - org.ScanningBasic.
	Scanning string
}

// MaxEnhancedRepositories is how many repositories an enhanced scanning rule may name (ECR
// takes 100 filters per rule).
const MaxEnhancedRepositories = 100

// Registry is the shared registry: one repository per path.
type Registry interface {
	constructs.Construct
	// Repository returns the path's repository, or nil.
	Repository(path org.Path) awsecr.IRepository
}

type registryConstruct struct {
	constructs.Construct
	repos map[string]awsecr.Repository
}

// NewRegistry creates one repository per path with tag immutability, scan on push, AES-256
// encryption at rest, lifecycle rules and a repository policy that names each principal.
func NewRegistry(scope constructs.Construct, id *string, props *RegistryProps) Registry {
	r := &registryConstruct{repos: map[string]awsecr.Repository{}}
	constructs.NewConstruct_Override(r, scope, id) // r is the construct: callers may pass it to CDK
	this := constructs.Construct(r)
	if props == nil {
		props = &RegistryProps{}
	}
	paths, days, err := validate(props)
	if err != nil {
		panic(err.Error())
	}
	for _, p := range paths {
		repo := awsecr.NewRepository(this, jsii.String(p.ID()), &awsecr.RepositoryProps{
			RepositoryName:     jsii.String(p.ImageRepositoryName()),
			ImageTagMutability: awsecr.TagMutability_IMMUTABLE,
			ImageScanOnPush:    jsii.Bool(true),
			Encryption:         awsecr.RepositoryEncryption_AES_256(),
			// Retained: environments run these images; deleting the stack must not delete them.
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
			LifecycleRules: &[]*awsecr.LifecycleRule{{
				Description: jsii.String("Expire untagged images; commit-tagged images are never expired"),
				TagStatus:   awsecr.TagStatus_UNTAGGED,
				MaxImageAge: awscdk.Duration_Days(jsii.Number(days)),
			}},
		})
		for _, st := range repositoryStatements(p, *awscdk.Stack_Of(this).Region()) {
			repo.AddToResourcePolicy(st)
		}
		r.repos[p.ID()] = repo
	}
	if props.Scanning == org.ScanningEnhanced {
		enhancedScanning(this, paths)
	}
	newSbomStore(this, paths) // the images' SBOMs, keyed by digest (sbom.go)
	return r
}

// enhancedScanning makes the registry account scan the paths' repositories with Amazon
// Inspector, continuously, naming each repository exactly so that other repositories of the
// account keep basic scanning.
func enhancedScanning(scope constructs.Construct, paths []org.Path) {
	var filters []interface{}
	for _, p := range paths {
		filters = append(filters, &awsecr.CfnRegistryScanningConfiguration_RepositoryFilterProperty{
			Filter: jsii.String(p.ImageRepositoryName()), FilterType: jsii.String("WILDCARD"),
		})
	}
	awsecr.NewCfnRegistryScanningConfiguration(scope, jsii.String("EnhancedScanning"), &awsecr.CfnRegistryScanningConfigurationProps{
		ScanType: jsii.String("ENHANCED"),
		Rules: &[]interface{}{&awsecr.CfnRegistryScanningConfiguration_ScanningRuleProperty{
			ScanFrequency:     jsii.String("CONTINUOUS_SCAN"),
			RepositoryFilters: &filters,
		}},
	})
}

// validate returns the normalized paths and the untagged expiry, or an error that lists
// every problem of the props.
func validate(props *RegistryProps) ([]org.Path, float64, error) {
	var problems []string
	if len(props.Paths) == 0 {
		problems = append(problems, "Paths: []: at least one service path")
	}
	days := props.UntaggedExpiryDays
	if days == 0 {
		days = DefaultUntaggedExpiryDays
	}
	if days < 1 {
		problems = append(problems, fmt.Sprintf("UntaggedExpiryDays: %v: at least 1 day", days))
	}
	switch props.Scanning {
	case "", org.ScanningBasic:
	case org.ScanningEnhanced:
		if len(props.Paths) > MaxEnhancedRepositories {
			problems = append(problems, fmt.Sprintf("Scanning: %q with %d paths: at most %d paths (one enhanced scanning rule names at most %d repositories)",
				props.Scanning, len(props.Paths), MaxEnhancedRepositories, MaxEnhancedRepositories))
		}
	default:
		problems = append(problems, fmt.Sprintf("Scanning: %q: %q or %q", props.Scanning, org.ScanningBasic, org.ScanningEnhanced))
	}
	var paths []org.Path
	seen := map[string]bool{}
	for i, p := range props.Paths {
		n, err := p.Normalize()
		if err != nil {
			problems = append(problems, fmt.Sprintf("Paths[%d] (%s): %v", i, p.ID(), err))
			continue
		}
		if seen[n.ID()] {
			problems = append(problems, fmt.Sprintf("Paths[%d]: %q: each path once (one repository per path)", i, n.ID()))
		}
		seen[n.ID()] = true
		paths = append(paths, n)
	}
	if len(problems) > 0 {
		return nil, 0, fmt.Errorf("registry: invalid props:\n  %s", strings.Join(problems, "\n  "))
	}
	return paths, days, nil
}

func (r *registryConstruct) Repository(path org.Path) awsecr.IRepository {
	if repo, ok := r.repos[path.ID()]; ok {
		return repo
	}
	return nil
}

// repositoryStatements is the repository policy of one path: one statement per account and
// purpose, naming exactly that account's roles (trust.Exactly: the registry deploys before
// the team accounts' roles exist).
//
// The Lambda service may pull for functions in the path's accounts in the registry's own
// region only: Lambda pulls images from its own region, so a container-image function in
// another region needs ECR replication, which this library does not set up.
func repositoryStatements(p org.Path, registryRegion string) []awsiam.PolicyStatement {
	// A region-agnostic stack cannot tell which functions share its region: allow all.
	anyRegion := *awscdk.Token_IsUnresolved(jsii.String(registryRegion))
	var sts []awsiam.PolicyStatement
	add := func(sid string, actions []string, roles map[string][]string) {
		for _, e := range p.Environments { // environment order keeps the policy stable
			names := roles[e.Account]
			if len(names) == 0 {
				continue
			}
			var arns []string
			for _, n := range names {
				arns = append(arns, org.RoleARN(e.Account, n))
			}
			sts = append(sts, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String(sid + e.Account),
				Principals: &[]awsiam.IPrincipal{trust.Exactly(e.Account, arns...)},
				Actions:    jsii.Strings(actions...),
			}))
			delete(roles, e.Account) // an account hosting two environments gets one statement
		}
	}

	push, describe, scan, pull := map[string][]string{}, map[string][]string{}, map[string][]string{}, map[string][]string{}
	var lambdaSources []interface{}
	for _, e := range p.Environments {
		if !e.HasUpstream() {
			push[e.Account] = append(push[e.Account], p.BuildRoleName(e.Name))
			describe[e.Account] = append(describe[e.Account], p.BuildRoleName(e.Name))
		} else {
			describe[e.Account] = append(describe[e.Account], p.GuardRoleName(e.Name))
			scan[e.Account] = append(scan[e.Account], p.GuardRoleName(e.Name))
		}
		pull[e.Account] = append(pull[e.Account], p.DeployRoleName(e.Name),
			fmt.Sprintf("cdk-%s-cfn-exec-role-%s-%s", p.Settings.CdkQualifier, e.Account, e.Region))
		for _, r := range p.PullRoles {
			pull[e.Account] = append(pull[e.Account], r)
		}
		if anyRegion || e.Region == registryRegion {
			lambdaSources = append(lambdaSources, "arn:aws:lambda:"+e.Region+":"+e.Account+":function:*")
		}
	}
	add("PushFromTheBuild", PushActions, push)
	add("FindCommitImages", DescribeActions, describe)
	// The guards gate promotion on the image's scan (vulnerabilities.refuse).
	add("ReadScanFindings", ScanActions, scan)
	add("PullToDeployAndRun", PullActions, pull)
	// Container-image Lambdas in the path's accounts: the Lambda service pulls on their behalf.
	if len(lambdaSources) == 0 {
		return sts
	}
	sts = append(sts, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("LambdaPullForThePathsFunctions"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)},
		Actions:    jsii.Strings("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
		Conditions: &map[string]interface{}{"StringLike": map[string]interface{}{"aws:sourceArn": lambdaSources}},
	}))
	return sts
}

// RepositoryARN is the ARN of a path's repository in the shared registry.
func RepositoryARN(r org.Registry, p org.Path) string {
	return "arn:aws:ecr:" + r.Region + ":" + r.Account + ":repository/" + p.ImageRepositoryName()
}

// RepositoryURI is the registry host and repository of a path, without tag or digest.
func RepositoryURI(r org.Registry, p org.Path) string {
	return r.Account + ".dkr.ecr." + r.Region + ".amazonaws.com/" + p.ImageRepositoryName()
}

// GrantPull gives grantee, a role in any account, what pulling from one repository of the
// shared registry needs: an authorization token (an account-level call, so "*") and the
// pull actions on that repository only.
func GrantPull(grantee awsiam.IGrantable, repositoryARN string) awsiam.Grant {
	return grant(grantee, repositoryARN, PullActions)
}

// GrantPush gives grantee what building and pushing a commit's image needs: push, and
// describing images to skip a commit already pushed and to read the pushed digest.
func GrantPush(grantee awsiam.IGrantable, repositoryARN string) awsiam.Grant {
	return grant(grantee, repositoryARN, append(append([]string{}, PushActions...), DescribeActions...))
}

func grant(grantee awsiam.IGrantable, repositoryARN string, actions []string) awsiam.Grant {
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("ecr:GetAuthorizationToken"),
		ResourceArns: jsii.Strings("*"),
	})
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings(actions...),
		ResourceArns: jsii.Strings(repositoryARN),
	})
}
