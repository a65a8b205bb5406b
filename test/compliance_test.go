package test

import (
	"path/filepath"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/platform"
)

// TestOnlyProjectsWithoutARepositoryURLAreExcusedFromOAuth: the packs' CodeBuild OAuth rule
// flags every project without OAuth; AddChecks excuses, per project, those whose source has
// no URL (CodePipeline's artifact, CodeCommit, S3, none), and leaves one on GitHub, GitLab or
// Bitbucket checked. Judged in a team's own projects too, not only the library's.
func TestOnlyProjectsWithoutARepositoryURLAreExcusedFromOAuth(t *testing.T) {
	dir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir)})
	platform.AddChecks(app, org.PackAwsSolutions, org.PackNIST80053R4, org.PackHIPAA, org.PackPCIDSS321)
	stack := awscdk.NewStack(app, jsii.String("sources"), nil)
	role := awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("codebuild.amazonaws.com"), nil)})
	sources := map[string]*awscodebuild.CfnProject_SourceProperty{
		"Pipeline":   {Type: jsii.String("CODEPIPELINE"), BuildSpec: jsii.String("version: 0.2")},
		"CodeCommit": {Type: jsii.String("CODECOMMIT"), Location: jsii.String("https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/r")},
		"Nothing":    {Type: jsii.String("NO_SOURCE"), BuildSpec: jsii.String("version: 0.2")},
		"GitHub":     {Type: jsii.String("GITHUB"), Location: jsii.String("https://github.com/o/r.git")},
		"Bitbucket":  {Type: jsii.String("BITBUCKET"), Location: jsii.String("https://bitbucket.org/o/r.git")},
		"GitLab":     {Type: jsii.String("GITLAB"), Location: jsii.String("https://gitlab.com/o/r.git")},
	}
	for id, src := range sources {
		awscodebuild.NewCfnProject(stack, jsii.String(id), &awscodebuild.CfnProjectProps{
			Source:      src,
			Artifacts:   &awscodebuild.CfnProject_ArtifactsProperty{Type: jsii.String("NO_ARTIFACTS")},
			Environment: &awscodebuild.CfnProject_EnvironmentProperty{ComputeType: jsii.String("BUILD_GENERAL1_SMALL"), Image: jsii.String("aws/codebuild/standard:7.0"), Type: jsii.String("LINUX_CONTAINER")},
			ServiceRole: role.RoleArn(),
		})
	}
	app.Synth(nil)

	wantFlagged := map[string]bool{"GitHub": true, "Bitbucket": true, "GitLab": true}
	for _, pack := range []string{org.PackNIST80053R4, org.PackHIPAA, org.PackPCIDSS321} {
		got := map[string]string{}
		for _, r := range nagReport(t, filepath.Join(dir, pack+"-sources-NagReport.csv")) {
			if r.rule == pack+"-CodeBuildProjectSourceRepoUrl" {
				got[filepath.Base(r.resource)] = r.compliance // sources/<id>
			}
		}
		for id := range sources {
			want := "Suppressed"
			if wantFlagged[id] {
				want = "Non-Compliant"
			}
			if got[id] != want {
				t.Errorf("%s: the %s project's OAuth finding is %q, want %s", pack, id, got[id], want)
			}
		}
	}
}
