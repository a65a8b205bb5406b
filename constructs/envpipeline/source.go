package envpipeline

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodecommit"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipelineactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// The Source stage's one action, SourceAction, hands every later stage the pushed commit.
// Where it reads the commit from is the path's source (org.Source):
//
//   - CodeCommit, the default: this account's own repository org.Path.RepositoryName,
//     created here and retained; EventBridge starts the pipeline on a push to env.Branch.
//   - GitHub, GitLab or Bitbucket: the path's one repository, read through the environment's
//     CodeConnections connection (org.Environment.Connection, in this account and region).
//     Nothing is created for it here; a CodePipeline V2 trigger on exactly env.Branch starts
//     the pipeline, so a push to another environment's branch does not start this one.
//
// Either way the action publishes CommitId in SourceNamespace and its revision is git's
// commit id, the value the next environment's guard looks up in this pipeline's history:
// promotion follows the same rule for every source.

// newRepository creates this account's CodeCommit repository, or returns nil for a source
// on a connection provider, which has no repository in this account.
func (p *envPipeline) newRepository() awscodecommit.Repository {
	s := p.s
	if s.Path.Source.UsesConnection() {
		return nil
	}
	repo := awscodecommit.NewRepository(p, jsii.String("Repository"), &awscodecommit.RepositoryProps{
		RepositoryName: jsii.String(s.Path.RepositoryName()),
		Description:    jsii.String("git remote of " + s.Path.ID() + " in " + s.env.Name + ": a push to " + s.env.Branch + " starts pipeline " + s.pipeline),
	})
	// The repository is the environment's source of truth: deleting the stack keeps it.
	repo.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN)
	return repo
}

// addSource adds the Source stage with its one action, and for a connection source the
// pipeline's trigger on the environment's branch.
func (p *envPipeline) addSource() {
	s := p.s
	if !s.Path.Source.UsesConnection() {
		p.addStage(StageSource, "", awscodepipelineactions.NewCodeCommitSourceAction(&awscodepipelineactions.CodeCommitSourceActionProps{
			ActionName: jsii.String(SourceAction),
			Repository: p.repo,
			Branch:     jsii.String(s.env.Branch),
			Output:     p.source,
			// EventBridge on the one branch: the only change detection CodeCommit has in V2.
			Trigger:            awscodepipelineactions.CodeCommitTrigger_EVENTS,
			VariablesNamespace: jsii.String(SourceNamespace),
		}))
		return
	}
	owner, name := splitRepository(s.Path.Source.Repository)
	action := awscodepipelineactions.NewCodeStarConnectionsSourceAction(&awscodepipelineactions.CodeStarConnectionsSourceActionProps{
		ActionName:    jsii.String(SourceAction),
		ConnectionArn: jsii.String(s.env.Connection),
		Owner:         jsii.String(owner),
		Repo:          jsii.String(name),
		Branch:        jsii.String(s.env.Branch),
		Output:        p.source,
		// The default output (the commit's files as a ZIP, like CodeCommit's), so the steps,
		// the SecretsScan among them, see the same tree for every source.
		VariablesNamespace: jsii.String(SourceNamespace),
		// TriggerOnPush (DetectChanges) is left unset: with a trigger on the pipeline, CodePipeline
		// disables the action's own change detection, so pushes start one run each, never two.
		Role: p.connectionRole(),
	})
	p.addStage(StageSource, "", action)
	// Only a push to this environment's branch starts it. A branch name here is letters,
	// digits, '.', '_', '/' and '-' (org validates it), none of which a trigger's glob treats
	// as a pattern, so the filter matches exactly that branch.
	p.pipeline.AddTrigger(&awscodepipeline.TriggerProps{
		ProviderType: awscodepipeline.ProviderType_CODE_STAR_SOURCE_CONNECTION,
		GitConfiguration: &awscodepipeline.GitConfiguration{
			SourceAction: action,
			PushFilter:   &[]*awscodepipeline.GitPushFilter{{BranchesIncludes: jsii.Strings(s.env.Branch)}},
		},
	})
}

// connectionRole is the source action's role for a connection source: it may use exactly
// the environment's connection, and read and write this pipeline's artifacts (what CDK's
// CodeStarConnectionsSourceAction grants the role it generates).
//
// The role is made here, and handed to the action without policy updates, because of the
// statement CDK would add: codestar-connections:UseConnection on the connection's ARN
// whatever its service. A connection created since July 2024 has an ARN in the renamed
// service, arn:aws:codeconnections:..., and IAM matches a resource only under an action of
// the ARN's own service prefix ("the service prefix needs to match that of the resource",
// AWS CodeConnections' IAM guide): CDK's statement would allow nothing, and the source
// action would be refused. The one statement here names the action in the connection ARN's
// own service: codeconnections:UseConnection, or codestar-connections:UseConnection for a
// connection created under the older name.
func (p *envPipeline) connectionRole() awsiam.IRole {
	s := p.s
	bucket := p.pipeline.ArtifactBucket()
	role := awsiam.NewRole(p, jsii.String("SourceActionRole"), &awsiam.RoleProps{
		Description: jsii.String(fmt.Sprintf("Source action of pipeline %s: reads %s through connection %s",
			s.pipeline, SourceDescription(s.Path, s.env), s.env.Connection)),
		// Only the pipeline's own role assumes it, as with the roles CDK makes for actions.
		AssumedBy: awsiam.NewArnPrincipal(p.pipeline.Role().RoleArn()),
	})
	// The artifact grants are exactly those CDK gives the role it generates for this action:
	// read and write on this pipeline's bucket and its key, as for every action, and put-ACL
	// on its objects, which CDK adds for this action type only. The role is CDK's own, then,
	// with the one connection statement corrected.
	bucket.GrantReadWrite(role, nil)
	bucket.GrantPutAcl(role, nil)
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("UseConnection"),
		Actions:   jsii.Strings(connectionService(s.env.Connection) + ":UseConnection"),
		Resources: jsii.Strings(s.env.Connection),
	}))
	findings := append([]*cdknag.NagPackSuppression(nil), p.artifactFindings...)
	cdknag.NagSuppressions_AddResourceSuppressions(role, &findings, jsii.Bool(true))
	return role.WithoutPolicyUpdates(nil)
}

// connectionService is the service of a connection ARN, "codeconnections" or
// "codestar-connections" (org validates that it is one of the two).
func connectionService(arn string) string {
	if parts := strings.SplitN(arn, ":", 4); len(parts) == 4 {
		return parts[2]
	}
	return ""
}

// splitRepository splits a provider's repository path into the source action's Owner and
// Repo: owner is everything before the last '/', repo the last part. The action joins them
// again as FullRepositoryId, so a GitLab project in a subgroup, group/sub/name, is read as
// its full path, which is how CodePipeline names it.
func splitRepository(path string) (owner, repo string) {
	i := strings.LastIndex(path, "/")
	if i < 0 {
		return "", path
	}
	return path[:i], path[i+1:]
}

// SourceDescription says what starts the pipeline of env of path p, for descriptions:
// "branch env/stg of github.com/example-org/search-indexer", or for CodeCommit "branch main of
// CodeCommit repository payments-checkout in this account".
func SourceDescription(p org.Path, env org.Environment) string {
	if p.Source.UsesConnection() {
		return "branch " + env.Branch + " of " + p.Source.Host() + "/" + p.Source.Repository
	}
	return "branch " + env.Branch + " of CodeCommit repository " + p.RepositoryName() + " in this account"
}
