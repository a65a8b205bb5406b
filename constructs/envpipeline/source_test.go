package envpipeline_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/dashboard/lambda/runs"
	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// indexer is the default organisation's search/indexer path: one GitHub repository,
// example-org/search-indexer, read in each environment through that account's connection;
// dev follows main, stg env/stg, prd env/prd.
func indexer(t *testing.T) org.Path {
	t.Helper()
	p, err := org.Default().Path("search", "indexer")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Source.UsesConnection() {
		t.Fatalf("search/indexer's source is %+v, want a connection provider", p.Source)
	}
	return p
}

// subgroupRepository is the GitLab path's repository: a project in a subgroup.
const subgroupRepository = "example-group/platform/search-indexer"

// olderARN is a connection created under the service's older name, codestar-connections.
const olderARN = "arn:aws:codestar-connections:eu-central-1:777777777777:connection/0a1b2c3d-4e5f-4a6b-8c9d-0e1f2a3b4c5d"

// gitlab is search/indexer moved to a GitLab project in a subgroup, whose prd follows an
// explicit branch, release, through a connection created under the older service name.
func gitlab(t *testing.T) org.Path {
	p := indexer(t)
	p.Source = org.Source{Provider: org.ProviderGitLab, Repository: subgroupRepository}
	p.Environments = append([]org.Environment(nil), p.Environments...)
	p.Environments[2].Branch = "release"
	p.Environments[2].Connection = olderARN
	return p
}

// sharedAccount is search/indexer with stg in dev's account and region (and so dev's
// connection): allowed with a connection source, which creates no repository per account.
func sharedAccount(t *testing.T) org.Path {
	p := indexer(t)
	p.Environments = append([]org.Environment(nil), p.Environments...)
	p.Environments[1].Account, p.Environments[1].Connection = p.Environments[0].Account, p.Environments[0].Connection
	return p
}

// connectionTemplates synthesizes, once for the test binary, one app holding the GitHub
// path's dev, stg and prd pipelines, the GitLab path's prd pipeline and the stg pipeline of
// sharedAccount, and returns their templates by "github/dev" ... "gitlab/prd", "shared/stg".
// One app is synthesized once however many stacks it holds.
func connectionTemplates(t *testing.T) map[string]assertions.Template {
	t.Helper()
	if connectionTpls != nil {
		return connectionTpls
	}
	app := awscdk.NewApp(nil)
	stacks := map[string]awscdk.Stack{}
	add := func(key string, path org.Path, env string) {
		e, err := path.Environment(env)
		if err != nil {
			t.Fatal(err)
		}
		stack := awscdk.NewStack(app, jsii.String(strings.ReplaceAll(key, "/", "-")), &awscdk.StackProps{
			Env: &awscdk.Environment{Account: jsii.String(e.Account), Region: jsii.String(e.Region)},
		})
		p := envpipeline.NewEnvPipeline(stack, jsii.String("Pipeline"), &envpipeline.EnvPipelineProps{Path: path, Environment: env})
		if p.Repository() != nil {
			t.Errorf("%s: Repository() is %v, want nil: the code is not in this account", key, p.Repository())
		}
		stacks[key] = stack
	}
	for _, env := range []string{"dev", "stg", "prd"} {
		add("github/"+env, indexer(t), env)
	}
	add("gitlab/prd", gitlab(t), "prd")
	add("shared/stg", sharedAccount(t), "stg")
	connectionTpls = map[string]assertions.Template{}
	for k, st := range stacks {
		connectionTpls[k] = assertions.Template_FromStack(st, nil)
	}
	return connectionTpls
}

// connectionTpls caches connectionTemplates (tests only read templates).
var connectionTpls map[string]assertions.Template

// pipelineProps returns the properties of the template's one pipeline.
func pipelineProps(t *testing.T, tpl assertions.Template) map[string]interface{} {
	t.Helper()
	return only(t, tpl, "AWS::CodePipeline::Pipeline")["Properties"].(map[string]interface{})
}

// sourceActions returns the actions of the pipeline's Source stage.
func sourceActions(t *testing.T, tpl assertions.Template) []interface{} {
	t.Helper()
	for _, s := range pipelineProps(t, tpl)["Stages"].([]interface{}) {
		if st := s.(map[string]interface{}); st["Name"] == envpipeline.StageSource {
			return st["Actions"].([]interface{})
		}
	}
	t.Fatal("no Source stage")
	return nil
}

// connections are the environments' connection ARNs in the default organisation.
var connections = map[string]string{
	"dev": "arn:aws:codeconnections:eu-central-1:555555555555:connection/5a6b7c8d-0000-4000-8000-000000000555",
	"stg": "arn:aws:codeconnections:eu-central-1:666666666666:connection/5a6b7c8d-0000-4000-8000-000000000666",
	"prd": "arn:aws:codeconnections:eu-central-1:777777777777:connection/5a6b7c8d-0000-4000-8000-000000000777",
}

// githubBranches are the branches the GitHub path's environments follow (the defaults).
var githubBranches = map[string]string{"dev": "main", "stg": "env/stg", "prd": "env/prd"}

// GIVEN search/indexer, whose code is on GitHub WHEN each environment's pipeline is
// synthesized THEN there is no CodeCommit repository (nor its EventBridge rule), and the
// Source stage's one action, Push, reads the environment's branch of example-org/
// search-indexer through the environment's connection, publishing SourceVariables.
func TestAGitHubSourceReadsItsBranchThroughTheConnection(t *testing.T) {
	tpls := connectionTemplates(t)
	for _, env := range []string{"dev", "stg", "prd"} {
		t.Run(env, func(t *testing.T) {
			tpl := tpls["github/"+env]
			tpl.ResourceCountIs(jsii.String("AWS::CodeCommit::Repository"), jsii.Number(0))
			if j := compact(*tpl.ToJSON()); strings.Contains(j, "aws.codecommit") || strings.Contains(j, "codecommit:") {
				t.Errorf("the template still refers to CodeCommit")
			}
			actions := sourceActions(t, tpl)
			if len(actions) != 1 {
				t.Fatalf("Source stage actions %s, want exactly one", compact(actions))
			}
			a := actions[0].(map[string]interface{})
			want := map[string]interface{}{
				"Name":         "Push",
				"Namespace":    "SourceVariables",
				"RunOrder":     float64(1),
				"ActionTypeId": map[string]interface{}{"Category": "Source", "Owner": "AWS", "Provider": "CodeStarSourceConnection", "Version": "1"},
				// Exactly these: no DetectChanges (the trigger below replaces the action's own
				// change detection) and the default output format, the commit's files.
				"Configuration": map[string]interface{}{
					"ConnectionArn":    connections[env],
					"FullRepositoryId": "example-org/search-indexer",
					"BranchName":       githubBranches[env],
				},
				"OutputArtifacts": []interface{}{map[string]interface{}{"Name": "Source"}},
			}
			for k, v := range want {
				if got := a[k]; !reflect.DeepEqual(got, v) {
					t.Errorf("%s: %s, want %s", k, compact(got), compact(v))
				}
			}
		})
	}
}

// triggersOf is the pipeline's Triggers as JSON ("null" without).
func triggersOf(t *testing.T, tpl assertions.Template) string {
	t.Helper()
	return compact(pipelineProps(t, tpl)["Triggers"])
}

// wantTrigger is the one trigger a connection-sourced pipeline has: a push to branch, of
// the Push action's repository, and nothing else.
func wantTrigger(branch string) string {
	return `[{"GitConfiguration":{"Push":[{"Branches":{"Includes":["` + branch + `"]}}],"SourceActionName":"Push"},"ProviderType":"CodeStarSourceConnection"}]`
}

// GIVEN the GitHub path WHEN each environment's pipeline is synthesized THEN it has exactly
// one trigger, on a push to its own branch (main, env/stg, env/prd) of the Push action's
// repository: a push to another environment's branch does not start it.
func TestAConnectionPipelineStartsOnlyOnItsOwnBranch(t *testing.T) {
	tpls := connectionTemplates(t)
	for _, env := range []string{"dev", "stg", "prd"} {
		if got, want := triggersOf(t, tpls["github/"+env]), wantTrigger(githubBranches[env]); got != want {
			t.Errorf("%s: triggers\n got %s\nwant %s", env, got, want)
		}
	}
}

// GIVEN a GitLab project in a subgroup, group/sub/name, whose prd follows branch release
// WHEN prd's pipeline is synthesized THEN the action names the project by its full path
// (CodePipeline's FullRepositoryId for GitLab is the project's path with its groups) and both
// the action and the trigger follow release.
func TestAGitLabSubgroupAndAnExplicitBranch(t *testing.T) {
	tpl := connectionTemplates(t)["gitlab/prd"]
	a := sourceActions(t, tpl)[0].(map[string]interface{})
	want := `{"BranchName":"release","ConnectionArn":"` + olderARN + `","FullRepositoryId":"` + subgroupRepository + `"}`
	if got := compact(a["Configuration"]); got != want {
		t.Errorf("configuration\n got %s\nwant %s", got, want)
	}
	if got, want := triggersOf(t, tpl), wantTrigger("release"); got != want {
		t.Errorf("triggers\n got %s\nwant %s", got, want)
	}
}

// useConnection returns the statements of the template's policies that name an action
// ending in UseConnection, with the logical ids of the roles each policy is attached to.
func useConnection(tpl assertions.Template) (statements []map[string]interface{}, roles []string) {
	for _, pol := range resources(tpl, "AWS::IAM::Policy") {
		props := pol["Properties"].(map[string]interface{})
		for _, s := range props["PolicyDocument"].(map[string]interface{})["Statement"].([]interface{}) {
			if st := s.(map[string]interface{}); strings.Contains(compact(st["Action"]), "UseConnection") {
				statements = append(statements, st)
				for _, r := range props["Roles"].([]interface{}) {
					roles = append(roles, r.(map[string]interface{})["Ref"].(string))
				}
			}
		}
	}
	return statements, roles
}

// GIVEN the GitHub path WHEN each environment's pipeline is synthesized THEN exactly one
// statement lets anything use a connection: codeconnections:UseConnection (the service of
// the connection's ARN: IAM matches a codeconnections ARN only under that prefix) on exactly
// that environment's connection, in the policy of the Source action's role, which only the
// pipeline's role may assume.
func TestOnlyTheSourceActionMayUseExactlyItsConnection(t *testing.T) {
	tpls := connectionTemplates(t)
	for _, env := range []string{"dev", "stg", "prd"} {
		t.Run(env, func(t *testing.T) {
			tpl := tpls["github/"+env]
			statements, roles := useConnection(tpl)
			want := `[{"Action":"codeconnections:UseConnection","Effect":"Allow","Resource":"` + connections[env] + `","Sid":"UseConnection"}]`
			if got := compact(statements); got != want {
				t.Fatalf("UseConnection statements\n got %s\nwant %s", got, want)
			}
			action := sourceActions(t, tpl)[0].(map[string]interface{})
			if got, want := compact(action["RoleArn"]), `{"Fn::GetAtt":["`+roles[0]+`","Arn"]}`; len(roles) != 1 || got != want {
				t.Errorf("the statement is on roles %v; the Source action's role is %s", roles, got)
			}
			role := resources(tpl, "AWS::IAM::Role")[roles[0]]["Properties"].(map[string]interface{})
			pipelineRole := compact(pipelineProps(t, tpl)["RoleArn"])
			trust := compact(role["AssumeRolePolicyDocument"])
			if want := `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"AWS":` + pipelineRole + `}}],"Version":"2012-10-17"}`; trust != want {
				t.Errorf("the Source action's role trusts\n %s\nwant only the pipeline's role\n %s", trust, want)
			}
		})
	}
}

// A connection created under the older service name keeps its prefix: the action is
// codestar-connections:UseConnection on it (the GitLab path's prd has one).
func TestAnOlderConnectionARNKeepsItsServicePrefix(t *testing.T) {
	statements, _ := useConnection(connectionTemplates(t)["gitlab/prd"])
	want := `[{"Action":"codestar-connections:UseConnection","Effect":"Allow","Resource":"` + olderARN + `","Sid":"UseConnection"}]`
	if got := compact(statements); got != want {
		t.Errorf("UseConnection statements\n got %s\nwant %s", got, want)
	}
}

// GIVEN the GitHub path THEN every step and the guard still read the commit as
// #{SourceVariables.CommitId}: the guard's action passes it, every CodeBuild action sets
// COMMIT_ID from it.
func TestAConnectionSourcePassesTheCommitAsBefore(t *testing.T) {
	tpls := connectionTemplates(t)
	for _, env := range []string{"dev", "stg", "prd"} {
		tpl := tpls["github/"+env]
		var builds, guards int
		for _, s := range pipelineProps(t, tpl)["Stages"].([]interface{}) {
			for _, a := range s.(map[string]interface{})["Actions"].([]interface{}) {
				act := a.(map[string]interface{})
				cfg, _ := act["Configuration"].(map[string]interface{})
				switch act["ActionTypeId"].(map[string]interface{})["Provider"] {
				case "CodeBuild":
					builds++
					if vars, _ := cfg["EnvironmentVariables"].(string); !strings.Contains(vars, `{"name":"COMMIT_ID","type":"PLAINTEXT","value":"#{SourceVariables.CommitId}"}`) {
						t.Errorf("%s: %s: environment %s lacks COMMIT_ID from the source", env, act["Name"], vars)
					}
				case "Lambda":
					guards++
					if got, want := cfg["UserParameters"], `{"commit":"#{SourceVariables.CommitId}","executionId":"#{codepipeline.PipelineExecutionId}"}`; got != want {
						t.Errorf("%s: guard parameters %v, want %s", env, got, want)
					}
				}
			}
		}
		if wantGuards := map[string]int{"dev": 0, "stg": 1, "prd": 1}[env]; guards != wantGuards || builds == 0 {
			t.Errorf("%s: %d guard actions, %d CodeBuild actions", env, guards, builds)
		}
	}
}

// GIVEN the GitHub path THEN the dashboard's runs widget reads no commits: its role has no
// CodeCommit action, and its function is told the source instead of a repository, so it shows
// the lead times as unknown and says why (package runs).
func TestTheRunsWidgetOfAConnectionSourceReadsNoCommits(t *testing.T) {
	tpls := connectionTemplates(t)
	for _, env := range []string{"dev", "stg", "prd"} {
		tpl := tpls["github/"+env]
		for _, st := range statementsOf(t, tpl, "PipelineDashboardRole") {
			if strings.Contains(compact(st["Action"]), "codecommit") {
				t.Errorf("%s: the runs widget's role may %s", env, compact(st["Action"]))
			}
		}
		id := idOf(t, tpl, "AWS::Lambda::Function", "FunctionName", "search-indexer-"+env+"-runs")
		vars := resources(tpl, "AWS::Lambda::Function")[id]["Properties"].(map[string]interface{})["Environment"].(map[string]interface{})["Variables"]
		want := map[string]interface{}{
			runs.EnvPipeline: "search-indexer-" + env, runs.EnvEnvironment: env, runs.EnvHistoryPages: "10",
			runs.EnvSourceProvider: "github", runs.EnvSourceRepository: "example-org/search-indexer",
		}
		if compact(vars) != compact(want) {
			t.Errorf("%s: runs widget environment\n got %s\nwant %s", env, compact(vars), compact(want))
		}
	}
}

// A CodeCommit path is as it was: its repository, the CodeCommit action, no trigger (the
// EventBridge rule starts it), and Repository() is the repository.
func TestACodeCommitPathHasItsRepositoryAndNoTrigger(t *testing.T) {
	for _, env := range []string{"dev", "stg", "prd"} {
		tpl := defaults(t, env)
		tpl.ResourceCountIs(jsii.String("AWS::CodeCommit::Repository"), jsii.Number(1))
		tpl.HasResourceProperties(jsii.String("AWS::CodePipeline::Pipeline"), map[string]interface{}{"Triggers": assertions.Match_Absent()})
		a := sourceActions(t, tpl)
		if len(a) != 1 || compact(a[0].(map[string]interface{})["ActionTypeId"]) != `{"Category":"Source","Owner":"AWS","Provider":"CodeCommit","Version":"1"}` {
			t.Errorf("%s: source actions %s", env, compact(a))
		}
		if statements, _ := useConnection(tpl); len(statements) != 0 {
			t.Errorf("%s: a CodeCommit path may use a connection: %s", env, compact(statements))
		}
	}
}

// Invalid sources are refused before anything is synthesized, naming the field.
func TestInvalidConnectionSourcesNameTheField(t *testing.T) {
	cases := []struct {
		name  string
		props func() envpipeline.EnvPipelineProps
		want  string
	}{
		{"a GitHub repository in a subgroup", func() envpipeline.EnvPipelineProps {
			p := indexer(t)
			p.Source.Repository = "example-org/team/search-indexer"
			return envpipeline.EnvPipelineProps{Path: p, Environment: "stg"}
		}, `path.source.repository: "example-org/team/search-indexer": the repository on github.com as owner/name: only GitLab repositories are in (sub)groups`},
		{"PARALLEL", func() envpipeline.EnvPipelineProps {
			return envpipeline.EnvPipelineProps{Path: indexer(t), Environment: "stg", ExecutionMode: awscodepipeline.ExecutionMode_PARALLEL}
		}, `ExecutionMode: "PARALLEL": QUEUED or SUPERSEDED (PARALLEL runs pushes side by side, so the deploy that finishes last, not the last push, would stay deployed`},
		{"another account's connection", func() envpipeline.EnvPipelineProps {
			p := indexer(t)
			p.Environments = append([]org.Environment(nil), p.Environments...)
			p.Environments[1].Connection = connections["dev"]
			return envpipeline.EnvPipelineProps{Path: p, Environment: "stg"}
		}, `: a connection of the environment's account 666666666666 (this one is in 555555555555)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			props := c.props()
			msg := panicMessage(func() {
				envpipeline.NewEnvPipeline(awscdk.NewStack(awscdk.NewApp(nil), jsii.String("S"), nil), jsii.String("P"), &props)
			})
			if !strings.Contains(msg, c.want) {
				t.Errorf("panic %q lacks %q", msg, c.want)
			}
		})
	}
}

// physicalNames are the names the template gives its resources (RoleName, FunctionName,
// DashboardName, ...), by "type name", for the types whose names are unique per account or
// region.
func physicalNames(tpl assertions.Template) map[string]bool {
	out := map[string]bool{}
	for _, r := range (*tpl.ToJSON())["Resources"].(map[string]interface{}) {
		res := r.(map[string]interface{})
		props, _ := res["Properties"].(map[string]interface{})
		for k, v := range props {
			if name, ok := v.(string); ok && strings.HasSuffix(k, "Name") && k != "PolicyName" {
				out[res["Type"].(string)+" "+name] = true
			}
		}
	}
	return out
}

// GIVEN a GitHub path whose dev and stg share one account and region WHEN both pipelines
// are synthesized THEN no two of their resources have the same name: the stacks deploy side
// by side (CodeCommit paths are refused this by the organisation, for their repository).
func TestTwoEnvironmentsOfAConnectionPathShareAnAccount(t *testing.T) {
	tpls := connectionTemplates(t)
	dev, stg := physicalNames(tpls["github/dev"]), physicalNames(tpls["shared/stg"])
	if len(dev) < 10 || len(stg) < 10 {
		t.Fatalf("%d and %d named resources: the names were not read", len(dev), len(stg))
	}
	for n := range stg {
		if dev[n] {
			t.Errorf("dev and stg in one account both create %s", n)
		}
	}
	if !stg["AWS::CodePipeline::Pipeline search-indexer-stg"] || !stg["AWS::IAM::Role search-indexer-stg-deploy"] {
		t.Errorf("stg's names %v lack its pipeline or deploy role", stg)
	}
}
