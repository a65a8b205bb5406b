package test

// The org-formation files under apps/platform/org-formation, checked for what the paths to
// production need of them, by running the real platform app as the tasks do rather than by
// re-implementing org-formation: every binding has a Region, the deploy tasks run in the
// order the environments need, every account of the organisation is bound and synthesizes
// exactly its own stacks, and the tasks pass only the context keys the app reads.
//
//	PATH=$PWD/node_modules/.bin:$PATH go test ./test/ -run OrgFormation -v

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/platform"
)

const ofDir = "../apps/platform/org-formation"

// ofTask is what these tests read of a task. Bindings are by tag key only
// (AccountsWithTag); a binding that selects accounts another way fails ofLoad, so that no
// account escapes the checks.
type ofTask struct {
	name       string
	DependsOn  ofNames              `yaml:"DependsOn"`
	Path       string               `yaml:"Path"`
	Parameters map[string]yaml.Node `yaml:"Parameters"`
	Binding    map[string]yaml.Node `yaml:"OrganizationBinding"`
	accounts   []string             // ids of the accounts in organization.yml with the bound tag
}

// ofNames is a task name or a list of them, as DependsOn takes.
type ofNames []string

func (n *ofNames) UnmarshalYAML(v *yaml.Node) error {
	if v.Kind == yaml.ScalarNode {
		*n = ofNames{v.Value}
		return nil
	}
	return v.Decode((*[]string)(n))
}

type ofFiles struct {
	tasks, byTag map[string]*ofTask // by name, by the tag key they bind
	parameters   map[string]string  // organization-tasks.yml's Parameters: name -> Default
}

// ofLoad reads organization-tasks.yml and, to resolve AccountsWithTag, the accounts' tags
// in organization.yml.
func ofLoad(t *testing.T) ofFiles {
	t.Helper()
	read := func(name string, v any) {
		raw, err := os.ReadFile(filepath.Join(ofDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(raw, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var orgFile struct {
		Organization map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				AccountID string            `yaml:"AccountId"`
				Tags      map[string]string `yaml:"Tags"`
			} `yaml:"Properties"`
		} `yaml:"Organization"`
	}
	read("organization.yml", &orgFile)
	var top map[string]yaml.Node
	read("organization-tasks.yml", &top)
	var params struct {
		Parameters map[string]struct {
			Default string `yaml:"Default"`
		} `yaml:"Parameters"`
	}
	read("organization-tasks.yml", &params)
	delete(top, "Parameters")

	f := ofFiles{tasks: map[string]*ofTask{}, parameters: map[string]string{}, byTag: map[string]*ofTask{}}
	for p, v := range params.Parameters {
		f.parameters[p] = v.Default
	}
	for name, node := range top {
		task := &ofTask{name: name}
		if err := node.Decode(task); err != nil {
			t.Fatalf("organization-tasks.yml %s: %v", name, err)
		}
		for k := range task.Binding {
			if k != "AccountsWithTag" && k != "Region" {
				t.Fatalf("%s: OrganizationBinding.%s: these tests understand AccountsWithTag and Region only", name, k)
			}
		}
		tag := task.Binding["AccountsWithTag"].Value
		if tag == "" {
			t.Fatalf("%s: no OrganizationBinding.AccountsWithTag", name)
		}
		if other := f.byTag[tag]; other != nil {
			t.Fatalf("%s and %s both bind tag %s", other.name, name, tag)
		}
		for _, res := range orgFile.Organization {
			if _, ok := res.Properties.Tags[tag]; ok && res.Type != "OC::ORG::OrganizationalUnit" {
				task.accounts = append(task.accounts, res.Properties.AccountID)
			}
		}
		sort.Strings(task.accounts)
		f.tasks[name], f.byTag[tag] = task, task
	}
	return f
}

// deployTask is the task that deploys the stacks of one role: "registry" or an environment.
// Every task but the bootstrap (bound to pathtoprod-region) is one.
func (f ofFiles) deployTask(t *testing.T, role string) *ofTask {
	t.Helper()
	task := f.byTag["pathtoprod-"+role]
	if task == nil {
		t.Fatalf("no task binds AccountsWithTag pathtoprod-%s: the %s stacks are never deployed", role, role)
	}
	return task
}

func TestOrgFormationEveryBindingHasARegion(t *testing.T) {
	f := ofLoad(t)
	if len(f.tasks) != 5 {
		t.Fatalf("%d tasks, want 5 (bootstrap, registry, dev, stg, prd)", len(f.tasks))
	}
	for name, task := range f.tasks {
		// Without a Region org-formation runs an update-cdk task nowhere, silently.
		if r := task.Binding["Region"]; r.Kind != yaml.ScalarNode || r.Value == "" {
			t.Errorf("%s: OrganizationBinding has no Region", name)
		}
	}
}

// TestOrgFormationDeploysRunInPathOrder: CDK is bootstrapped first, the registry deployed
// before the dev pipelines that push to it, and each environment after its upstream (the
// guard reads the upstream pipeline's history through a role that stack creates).
func TestOrgFormationDeploysRunInPathOrder(t *testing.T) {
	f := ofLoad(t)
	after := func(later, earlier *ofTask) bool { // through DependsOn, transitively
		for todo, seen := []*ofTask{later}, map[string]bool{}; len(todo) > 0; todo = todo[1:] {
			for _, d := range todo[0].DependsOn {
				if d == earlier.name {
					return true
				}
				if next := f.tasks[d]; next != nil && !seen[d] {
					seen[d] = true
					todo = append(todo, next)
				}
			}
		}
		return false
	}
	bootstrap := f.byTag["pathtoprod-region"]
	if bootstrap == nil {
		t.Fatal("no task binds pathtoprod-region (the CDK bootstrap)")
	}
	o := org.Default()
	registry := f.deployTask(t, "registry")
	pairs := [][2]*ofTask{{registry, bootstrap}}
	for _, p := range o.Paths() {
		for _, e := range p.Environments {
			upstream := registry
			if e.HasUpstream() {
				upstream = f.deployTask(t, e.Upstream)
			}
			pairs = append(pairs, [2]*ofTask{f.deployTask(t, e.Name), upstream})
		}
	}
	reported := map[[2]*ofTask]bool{}
	for _, pair := range pairs {
		if !reported[pair] && !after(pair[0], pair[1]) {
			reported[pair] = true
			t.Errorf("%s does not depend on %s (DependsOn)", pair[0].name, pair[1].name)
		}
	}
}

// TestOrgFormationParametersAreTheAppsContextKeys: a deploy task's Parameters become `-c
// key=value`; a key the app does not read would be ignored, silently.
func TestOrgFormationParametersAreTheAppsContextKeys(t *testing.T) {
	f := ofLoad(t)
	known := map[string]bool{platform.ContextConfig: true, platform.ContextAccount: true}
	if len(f.tasks) != 5 {
		t.Fatalf("%d tasks, want 5 (bootstrap, registry, dev, stg, prd)", len(f.tasks))
	}
	for _, task := range f.tasks {
		if task == f.byTag["pathtoprod-region"] {
			continue
		}
		if len(task.Parameters) == 0 {
			t.Errorf("%s passes no Parameters: it would synthesize the embedded organisation", task.name)
		}
		for k := range task.Parameters {
			if !known[k] {
				t.Errorf("%s: parameter %q is not a context key of the app (%s, %s)", task.name, k, platform.ContextConfig, platform.ContextAccount)
			}
		}
	}
}

// TestOrgFormationDeploysSynthesizeTheirAccountsStacks runs the platform app once per bound
// account as the deploy task does there: from the task's Path, its Parameters as context
// (!Ref AWS::AccountId is the account, !Ref of a parameter its Default), and
// CDK_DEPLOY_ACCOUNT set by org-formation. Each run must synthesize exactly the stacks the
// organisation places in that account, and every account with stacks must be deployed and
// bootstrapped.
func TestOrgFormationDeploysSynthesizeTheirAccountsStacks(t *testing.T) {
	f := ofLoad(t)
	o := org.Default()
	bound := map[string]*ofTask{}
	for _, task := range f.tasks {
		if task == f.byTag["pathtoprod-region"] {
			continue
		}
		for _, id := range task.accounts {
			if other := bound[id]; other != nil {
				t.Errorf("account %s is bound by %s and %s", id, other.name, task.name)
			}
			bound[id] = task
		}
	}
	ids := slices.Sorted(maps.Keys(bound))
	if !reflect.DeepEqual(ids, o.Accounts()) {
		t.Fatalf("the deploy tasks bind accounts %v, the organisation has stacks in %v", ids, o.Accounts())
	}
	bootstrapped := map[string]bool{}
	for _, id := range f.byTag["pathtoprod-region"].accounts {
		bootstrapped[id] = true
	}
	for _, id := range ids {
		task := bound[id]
		if !bootstrapped[id] {
			t.Errorf("account %s is deployed by %s but not bootstrapped (no pathtoprod-region tag)", id, task.name)
		}
		t.Run(task.name+"/"+id, func(t *testing.T) {
			t.Parallel()
			ctx := map[string]string{}
			for k, v := range task.Parameters {
				ctx[k] = ofResolve(t, f, v, id)
			}
			if c, ok := ctx[platform.ContextConfig]; ok && !filepath.IsAbs(c) {
				ctx[platform.ContextConfig] = filepath.Join(ofDir, task.Path, c) // the app runs in Path
			}
			r := runApp(t, ctx, platform.EnvDeployAccount+"="+id)
			want := stacksInAccount(o, id)
			sort.Strings(want)
			if r.code != 0 || len(want) == 0 || !reflect.DeepEqual(r.stacks, want) {
				t.Errorf("exit %d, stacks %v, want %v (context %v)\n%s", r.code, r.stacks, want, ctx, r.stderr)
			}
		})
	}
}

// ofResolve gives a parameter's value as org-formation passes it in account id.
func ofResolve(t *testing.T, f ofFiles, v yaml.Node, id string) string {
	t.Helper()
	def, isParam := f.parameters[v.Value]
	switch {
	case v.Tag == "!Ref" && v.Value == "AWS::AccountId":
		return id
	case v.Tag == "!Ref" && isParam:
		return def
	case v.Kind == yaml.ScalarNode && v.Tag == "!!str":
		return v.Value
	}
	t.Fatalf("parameter value %s %q: want a string, !Ref AWS::AccountId or !Ref of a parameter", v.Tag, v.Value)
	return ""
}

// TestBootstrapCapsTheExecutionRoleWithTheRolesBoundary: the org-formation bootstrap task
// and the README's bootstrap command both create CDK's example permissions boundary, which
// is the boundary every role of the default organisation's stacks names; otherwise the
// execution role would refuse to create the roles (or nothing would cap it).
func TestBootstrapCapsTheExecutionRoleWithTheRolesBoundary(t *testing.T) {
	if org.Default().Settings.PermissionsBoundary != org.DefaultPermissionsBoundary ||
		org.DefaultPermissionsBoundary != "cdk-${Qualifier}-permissions-boundary-${AWS::AccountId}-${AWS::Region}" {
		t.Fatalf("the default organisation's boundary %q is not the policy --example-permissions-boundary creates", org.Default().Settings.PermissionsBoundary)
	}
	var tasks map[string]struct {
		CustomDeployCommand string `yaml:"CustomDeployCommand"`
	}
	raw, err := os.ReadFile(filepath.Join(ofDir, "organization-tasks.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// !Sub tags decode as their string; the Parameters block has no command.
	if err := yaml.Unmarshal(raw, &tasks); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	bootstrap := regexp.MustCompile(`(?s)npx cdk bootstrap aws://.*?\n\s*` + "```").Find(readme)
	for where, cmd := range map[string]string{
		"organization-tasks.yml BootstrapCdk": tasks["BootstrapCdk"].CustomDeployCommand,
		"README's bootstrap command":          string(bootstrap),
	} {
		if !strings.Contains(cmd, "cdk bootstrap") || !strings.Contains(cmd, "--example-permissions-boundary") {
			t.Errorf("%s does not bootstrap with --example-permissions-boundary:\n%s", where, cmd)
		}
	}
}
