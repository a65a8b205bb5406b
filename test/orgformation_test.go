package test

// The org-formation files under apps/platform/org-formation, checked against the org model and
// against the real platform app: organization.yml must describe the same accounts as the
// organisation the app synthesizes, every task must follow the project's conventions, the
// deploy tasks must run in the order the paths need, and running the app as each deploy task
// does, once per bound account, must synthesize exactly the stacks the model places there.
//
//	PATH=$PWD/node_modules/.bin:$PATH go test ./test/ -run OrgFormation -v

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

const (
	ofDir          = "../apps/platform/org-formation"
	ofOrgFile      = ofDir + "/organization.yml"
	ofTasksFile    = ofDir + "/organization-tasks.yml"
	ofAppMain      = "../apps/platform/main.go"
	ofTaskType     = "update-cdk" // the only task type the project uses
	ofTagPrefix    = "pathtoprod-"
	ofPlatformTag  = ofTagPrefix + "platform" // the account every bootstrap trusts
	ofRegionTag    = ofTagPrefix + "region"   // where an account's stacks live and CDK is bootstrapped
	ofEnvTag       = ofTagPrefix + "environment"
	ofRegistryRole = "registry" // the role of the registry account; environment names are the others
)

// ofUpdateCdkAttributes are the attributes org-formation accepts on an update-cdk task (its
// CdkBuildTaskPlugin rejects any other).
var ofUpdateCdkAttributes = map[string]bool{
	"Type": true, "DependsOn": true, "Skip": true, "TaskRoleName": true, "Path": true,
	"OrganizationBinding": true, "RunNpmInstall": true, "RunNpmBuild": true, "FailedTaskTolerance": true,
	"MaxConcurrentTasks": true, "CustomDeployCommand": true, "CustomRemoveCommand": true,
	"Parameters": true, "IgnoreFileChanges": true,
}

// ---------------------------------------------------------------------------------------------
// YAML with org-formation's tags

// ofExpr is a tagged YAML value: !Ref X, !Sub "...", !GetAtt X.Attr (or [X, Attr]).
type ofExpr struct {
	fn   string
	arg  any
	line int
}

// ofSupportedTags are the org-formation functions these files may use; any other tag fails the
// test, so a new function is added here together with its resolution below.
var ofSupportedTags = map[string]bool{"Ref": true, "Sub": true, "GetAtt": true}

// ofDecode turns a yaml.Node tree into maps, lists, plain scalars and ofExpr for tagged nodes.
func ofDecode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return ofDecode(n.Content[0])
	case yaml.AliasNode:
		return ofDecode(n.Alias)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		fn := strings.TrimPrefix(n.Tag, "!")
		if !ofSupportedTags[fn] {
			return nil, fmt.Errorf("line %d: tag %s is not one of the supported !Ref, !Sub, !GetAtt", n.Line, n.Tag)
		}
		plain := *n
		plain.Tag = ""
		arg, err := ofDecode(&plain)
		if err != nil {
			return nil, err
		}
		return ofExpr{fn: fn, arg: arg, line: n.Line}, nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("line %d: key %q repeated", n.Content[i].Line, k)
			}
			v, err := ofDecode(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case yaml.SequenceNode:
		var l []any
		for _, c := range n.Content {
			v, err := ofDecode(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	}
}

// ofTopLevel reads a file and returns its top-level keys in file order with their values.
func ofTopLevel(path string) (keys []string, values map[string]any, lines map[string]int, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, nil, fmt.Errorf("%s: not a YAML mapping", path)
	}
	root := doc.Content[0]
	values, lines = map[string]any{}, map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i].Value
		if _, dup := values[k]; dup {
			return nil, nil, nil, fmt.Errorf("%s:%d: %s repeated", path, root.Content[i].Line, k)
		}
		v, err := ofDecode(root.Content[i+1])
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %s: %w", path, k, err)
		}
		keys = append(keys, k)
		values[k], lines[k] = v, root.Content[i].Line
	}
	return keys, values, lines, nil
}

// ofRefs lists the names an expression tree refers to (!Ref X, !GetAtt X.Y, ${X.Y} in !Sub).
func ofRefs(v any) []ofExpr {
	var out []ofExpr
	switch x := v.(type) {
	case ofExpr:
		switch x.fn {
		case "Ref":
			if s, ok := x.arg.(string); ok {
				out = append(out, ofExpr{fn: "Ref", arg: s, line: x.line})
			}
		case "GetAtt":
			if res, _, err := ofGetAttParts(x.arg); err == nil {
				out = append(out, ofExpr{fn: "GetAtt", arg: res, line: x.line})
			}
		case "Sub":
			if s, ok := x.arg.(string); ok {
				for _, m := range ofSubVariable.FindAllStringSubmatch(s, -1) {
					res, _, _ := strings.Cut(m[1], ".")
					out = append(out, ofExpr{fn: "Sub", arg: res, line: x.line})
				}
			}
		}
		out = append(out, ofRefs(x.arg)...)
	case map[string]any:
		for _, e := range x {
			out = append(out, ofRefs(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, ofRefs(e)...)
		}
	}
	return out
}

// ofSubVariable is org-formation's own pattern for ${...} in !Sub.
var ofSubVariable = regexp.MustCompile(`\$\{([\w:.\-]*)\}`)

func ofGetAttParts(arg any) (resource, path string, err error) {
	switch a := arg.(type) {
	case string:
		res, p, ok := strings.Cut(a, ".")
		if !ok {
			return "", "", fmt.Errorf("!GetAtt %q has no attribute", a)
		}
		return res, p, nil
	case []any:
		if len(a) == 2 {
			r, ok1 := a[0].(string)
			p, ok2 := a[1].(string)
			if ok1 && ok2 {
				return r, p, nil
			}
		}
	}
	return "", "", fmt.Errorf("!GetAtt %v: want Resource.Attribute or [Resource, Attribute]", arg)
}

// ---------------------------------------------------------------------------------------------
// organization.yml

type ofAccount struct {
	logical, id, name, email string
	master                   bool
	tags                     map[string]string
}

type ofOrganization struct {
	accounts map[string]*ofAccount // by logical id
	ous      map[string][]string   // OU logical id -> account logical ids
	other    map[string]bool       // other resources (root, policies): valid !Ref targets
}

func (o *ofOrganization) sorted() []*ofAccount {
	var out []*ofAccount
	for _, a := range o.accounts {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func (o *ofOrganization) withTag(key string) []*ofAccount {
	var out []*ofAccount
	for _, a := range o.sorted() {
		if _, ok := a.tags[key]; ok {
			out = append(out, a)
		}
	}
	return out
}

var ofAccountID = regexp.MustCompile(`^[0-9]{12}$`)

// ofParseOrganization reads organization.yml, collecting every problem rather than the first.
func ofParseOrganization(path string) (*ofOrganization, []string, error) {
	_, top, _, err := ofTopLevel(path)
	if err != nil {
		return nil, nil, err
	}
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	res, ok := top["Organization"].(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("%s: no Organization mapping", path)
	}
	o := &ofOrganization{accounts: map[string]*ofAccount{}, ous: map[string][]string{}, other: map[string]bool{}}
	ouRefs := map[string][]any{}
	for logical, v := range res {
		r, _ := v.(map[string]any)
		props, _ := r["Properties"].(map[string]any)
		typ, _ := r["Type"].(string)
		switch typ {
		case "OC::ORG::MasterAccount", "OC::ORG::Account":
			a := &ofAccount{logical: logical, master: typ == "OC::ORG::MasterAccount", tags: map[string]string{}}
			a.id, _ = props["AccountId"].(string)
			a.name, _ = props["AccountName"].(string)
			a.email, _ = props["RootEmail"].(string)
			if !ofAccountID.MatchString(a.id) {
				bad("%s: AccountId %v: a quoted 12-digit account id", logical, props["AccountId"])
			}
			if a.name == "" {
				bad("%s: AccountName is required", logical)
			}
			if a.email == "" && !a.master {
				bad("%s: RootEmail is required", logical)
			}
			tags, _ := props["Tags"].(map[string]any)
			for k, tv := range tags {
				s, ok := tv.(string)
				if !ok {
					bad("%s: tag %s: %v is not a string (quote it)", logical, k, tv)
				}
				a.tags[k] = s
			}
			o.accounts[logical] = a
		case "OC::ORG::OrganizationalUnit":
			switch l := props["Accounts"].(type) {
			case []any:
				ouRefs[logical] = l
			case nil:
				ouRefs[logical] = nil
			default:
				ouRefs[logical] = []any{l}
			}
			if n, _ := props["OrganizationalUnitName"].(string); n == "" {
				bad("%s: OrganizationalUnitName is required", logical)
			}
		case "OC::ORG::OrganizationRoot", "OC::ORG::ServiceControlPolicy", "OC::ORG::PasswordPolicy":
			o.other[logical] = true
		default:
			bad("%s: unknown resource type %q", logical, typ)
		}
	}
	// Accounts of OUs are references to accounts; an account is in at most one OU.
	inOU := map[string]string{}
	for ou, refs := range ouRefs {
		o.ous[ou] = nil
		for _, r := range refs {
			e, ok := r.(ofExpr)
			name, _ := e.arg.(string)
			a := o.accounts[name]
			switch {
			case !ok || e.fn != "Ref":
				bad("%s: Accounts entry %v is not a !Ref", ou, r)
			case a == nil:
				bad("%s: !Ref %s (line %d): no such account", ou, name, e.line)
			case a.master:
				bad("%s: the MasterAccount %s cannot be in an OU", ou, name)
			case inOU[name] != "":
				bad("%s: account %s is already in %s", ou, name, inOU[name])
			default:
				inOU[name] = ou
				o.ous[ou] = append(o.ous[ou], name)
			}
		}
	}
	// Every other reference names a resource of the file.
	for _, ref := range ofRefs(res) {
		name := ref.arg.(string)
		if _, isOU := ouRefs[name]; o.accounts[name] == nil && !o.other[name] && !isOU {
			bad("!%s %s (line %d): no such resource in the organization", ref.fn, name, ref.line)
		}
	}
	masters, ids, emails := 0, map[string]string{}, map[string]string{}
	for _, a := range o.sorted() {
		if a.master {
			masters++
		}
		if prev, dup := ids[a.id]; dup {
			bad("account id %s is both %s and %s", a.id, prev, a.logical)
		}
		ids[a.id] = a.logical
		if prev, dup := emails[a.email]; dup && a.email != "" {
			bad("RootEmail %s is both %s's and %s's", a.email, prev, a.logical)
		}
		emails[a.email] = a.logical
	}
	if masters != 1 {
		bad("%d MasterAccount resources, want 1", masters)
	}
	return o, problems, nil
}

// ---------------------------------------------------------------------------------------------
// organization-tasks.yml

type ofTask struct {
	name  string
	line  int
	attrs map[string]any
}

type ofTasks struct {
	params map[string]string // the task file's Parameters with their defaults
	tasks  []*ofTask         // in file order
	byName map[string]*ofTask
}

func ofParseTasks(path string) (*ofTasks, error) {
	keys, top, lines, err := ofTopLevel(path)
	if err != nil {
		return nil, err
	}
	f := &ofTasks{params: map[string]string{}, byName: map[string]*ofTask{}}
	for _, k := range keys {
		if k == "Parameters" {
			ps, _ := top[k].(map[string]any)
			for name, p := range ps {
				pm, _ := p.(map[string]any)
				d, ok := pm["Default"].(string)
				if !ok {
					return nil, fmt.Errorf("%s: parameter %s: a string Default is required (the test resolves it)", path, name)
				}
				f.params[name] = d
			}
			continue
		}
		attrs, ok := top[k].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s:%d: task %s is not a mapping", path, lines[k], k)
		}
		t := &ofTask{name: k, line: lines[k], attrs: attrs}
		f.tasks = append(f.tasks, t)
		f.byName[k] = t
	}
	return f, nil
}

// ofTarget is one account (and region) a task runs in.
type ofTarget struct {
	account *ofAccount
	region  string
}

// ofResolver evaluates org-formation expressions as perform-tasks does for one target.
type ofResolver struct {
	org    *ofOrganization
	params map[string]string
	target ofTarget
	cdk    *string // ${CurrentTask.Parameters}: only in an update-cdk task's commands
}

func (r *ofResolver) eval(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int, bool:
		return fmt.Sprint(x), nil
	case ofExpr:
		switch x.fn {
		case "Ref":
			name, ok := x.arg.(string)
			if !ok {
				return "", fmt.Errorf("line %d: !Ref of %v", x.line, x.arg)
			}
			return r.lookup(name, "")
		case "GetAtt":
			res, path, err := ofGetAttParts(x.arg)
			if err != nil {
				return "", fmt.Errorf("line %d: %w", x.line, err)
			}
			return r.lookup(res, path)
		case "Sub":
			s, ok := x.arg.(string)
			if !ok {
				return "", fmt.Errorf("line %d: only the one-string form of !Sub is supported", x.line)
			}
			var firstErr error
			out := ofSubVariable.ReplaceAllStringFunc(s, func(m string) string {
				res, path, _ := strings.Cut(ofSubVariable.FindStringSubmatch(m)[1], ".")
				val, err := r.lookup(res, path)
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("line %d: %s: %w", x.line, m, err)
				}
				return val
			})
			if firstErr == nil && strings.Contains(out, "$") {
				// org-formation treats any '$' left in a !Sub as an unresolved variable.
				firstErr = fmt.Errorf("line %d: a '$' outside ${...} in !Sub: %q", x.line, s)
			}
			return out, firstErr
		}
	}
	return "", fmt.Errorf("cannot resolve %#v to a string", v)
}

func (r *ofResolver) lookup(resource, path string) (string, error) {
	switch {
	case resource == "AWS::AccountId" && path == "":
		return r.target.account.id, nil
	case resource == "AWS::Region" && path == "":
		return r.target.region, nil
	case resource == "CurrentAccount" || resource == "AWSAccount":
		return ofAccountAttribute(r.target.account, path)
	case resource == "CurrentTask":
		if path != "Parameters" || r.cdk == nil {
			return "", fmt.Errorf("CurrentTask.%s: only ${CurrentTask.Parameters}, only in an update-cdk command", path)
		}
		return *r.cdk, nil
	}
	if v, ok := r.params[resource]; ok && path == "" {
		return v, nil
	}
	if a := r.org.accounts[resource]; a != nil {
		return ofAccountAttribute(a, path)
	}
	return "", fmt.Errorf("%s: not a parameter, pseudo parameter or account of organization.yml", strings.TrimSuffix(resource+"."+path, "."))
}

func ofAccountAttribute(a *ofAccount, path string) (string, error) {
	switch {
	case path == "" || path == "AccountId":
		return a.id, nil
	case path == "AccountName":
		return a.name, nil
	case path == "RootEmail":
		return a.email, nil
	case strings.HasPrefix(path, "Tags."):
		if v, ok := a.tags[strings.TrimPrefix(path, "Tags.")]; ok {
			return v, nil
		}
		return "", fmt.Errorf("account %s has no tag %s", a.logical, strings.TrimPrefix(path, "Tags."))
	}
	return "", fmt.Errorf("account attribute %s is not supported here", path)
}

// ofBind resolves an OrganizationBinding as org-formation does. AccountsWithTag matches the tag
// key only. A binding without Region is an error: org-formation would run nothing.
func ofBind(o *ofOrganization, v any) ([]ofTarget, error) {
	b, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("OrganizationBinding is required and must be a mapping")
	}
	list := func(v any) []any {
		switch l := v.(type) {
		case nil:
			return nil
		case []any:
			return l
		default:
			return []any{l}
		}
	}
	refAccounts := func(attr string) (map[string]bool, error) {
		out := map[string]bool{}
		for _, e := range list(b[attr]) {
			if e == "*" {
				for n, a := range o.accounts {
					if !a.master {
						out[n] = true
					}
				}
				continue
			}
			x, ok := e.(ofExpr)
			name, _ := x.arg.(string)
			if !ok || x.fn != "Ref" || o.accounts[name] == nil {
				return nil, fmt.Errorf("%s: %v is not a !Ref to an account of organization.yml", attr, e)
			}
			out[name] = true
		}
		return out, nil
	}
	refOUs := func(attr string) (map[string]bool, error) {
		out := map[string]bool{}
		for _, e := range list(b[attr]) {
			x, ok := e.(ofExpr)
			name, _ := x.arg.(string)
			accounts, isOU := o.ous[name]
			if !ok || x.fn != "Ref" || !isOU {
				return nil, fmt.Errorf("%s: %v is not a !Ref to an OU of organization.yml", attr, e)
			}
			for _, a := range accounts {
				out[a] = true
			}
		}
		return out, nil
	}
	selected := map[string]bool{}
	for k := range b {
		switch k {
		case "Account", "ExcludeAccount", "OrganizationalUnit", "ExcludeOrganizationalUnit", "IncludeMasterAccount", "AccountsWithTag", "Region":
		default:
			return nil, fmt.Errorf("OrganizationBinding: unknown attribute %s", k)
		}
	}
	for _, attr := range []string{"Account", "OrganizationalUnit"} {
		get := refAccounts
		if attr == "OrganizationalUnit" {
			get = refOUs
		}
		s, err := get(attr)
		if err != nil {
			return nil, err
		}
		for n := range s {
			selected[n] = true
		}
	}
	for _, e := range list(b["AccountsWithTag"]) {
		key, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("AccountsWithTag: %v is not a tag key", e)
		}
		for _, a := range o.withTag(key) {
			if !a.master {
				selected[a.logical] = true
			}
		}
	}
	if inc, _ := b["IncludeMasterAccount"].(bool); inc {
		for n, a := range o.accounts {
			if a.master {
				selected[n] = true
			}
		}
	}
	for _, attr := range []string{"ExcludeAccount", "ExcludeOrganizationalUnit"} {
		get := refAccounts
		if attr == "ExcludeOrganizationalUnit" {
			get = refOUs
		}
		s, err := get(attr)
		if err != nil {
			return nil, err
		}
		for n := range s {
			delete(selected, n)
		}
	}
	var regions []string
	for _, r := range list(b["Region"]) {
		s, ok := r.(string)
		if !ok || s == "" {
			return nil, fmt.Errorf("Region: %v is not a region name", r)
		}
		regions = append(regions, s)
	}
	if len(regions) == 0 {
		return nil, fmt.Errorf("OrganizationBinding has no Region: org-formation would deploy nothing")
	}
	var out []ofTarget
	for _, a := range o.sorted() {
		if selected[a.logical] {
			for _, r := range regions {
				out = append(out, ofTarget{account: a, region: r})
			}
		}
	}
	return out, nil
}

// ---------------------------------------------------------------------------------------------
// the model and the app

// ofModelAccount is what the org model puts in one account.
type ofModelAccount struct {
	roles   map[string]bool // ofRegistryRole and/or environment names
	regions map[string]bool
	stacks  []string // sorted
}

func ofModel(o org.Organization) map[string]*ofModelAccount {
	m := map[string]*ofModelAccount{}
	add := func(account, role, region, stack string) {
		a := m[account]
		if a == nil {
			a = &ofModelAccount{roles: map[string]bool{}, regions: map[string]bool{}}
			m[account] = a
		}
		a.roles[role], a.regions[region] = true, true
		a.stacks = append(a.stacks, stack)
		sort.Strings(a.stacks)
	}
	add(o.Registry.Account, ofRegistryRole, o.Registry.Region, org.RegistryStackName)
	for _, p := range o.Paths() {
		for _, e := range p.Environments {
			add(e.Account, e.Name, e.Region, p.StackName(e.Name))
		}
	}
	return m
}

func ofKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ofRoleTag is the tag key that binds an account of the given role.
func ofRoleTag(role string) string { return ofTagPrefix + role }

// ofAppContextKeys reads the context keys the platform app accepts from its source: every
// contextString(app, "<key>") or TryGetContext(jsii.String("<key>")) call in apps/platform.
func ofAppContextKeys() (map[string]bool, error) {
	f, err := parser.ParseFile(token.NewFileSet(), ofAppMain, nil, 0)
	if err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	literal := func(e ast.Expr) {
		if call, ok := e.(*ast.CallExpr); ok && len(call.Args) == 1 { // jsii.String("key")
			e = call.Args[0]
		}
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil {
				keys[s] = true
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		switch fn := call.Fun.(type) {
		case *ast.Ident:
			if fn.Name == "contextString" && len(call.Args) == 2 {
				literal(call.Args[1])
			}
		case *ast.SelectorExpr:
			if fn.Sel.Name == "TryGetContext" && len(call.Args) == 1 {
				literal(call.Args[0])
			}
		}
		return true
	})
	if len(keys) == 0 {
		return nil, fmt.Errorf("found no context keys in %s (contextString(app, \"key\") calls); update ofAppContextKeys", ofAppMain)
	}
	return keys, nil
}

// ---------------------------------------------------------------------------------------------
// the analysis shared by the tests

type ofAnalysis struct {
	org      *ofOrganization
	tasks    *ofTasks
	problems []string   // everything wrong with the task file
	deploys  []ofDeploy // the app runs of the deploy tasks, one per bound account
	order    []string   // the deploy tasks in dependency order
}

func (a *ofAnalysis) bad(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, p := range a.problems {
		if p == msg {
			return
		}
	}
	a.problems = append(a.problems, msg)
}

// ofDeploy is one app run an update-cdk deploy task performs.
type ofDeploy struct {
	task    string
	target  ofTarget
	context map[string]string // the task's Parameters, as the app receives them (-c key=value)
}

// ofAnalyze parses both files and checks the tasks once for all the tests.
var ofAnalyze = sync.OnceValues(func() (*ofAnalysis, error) {
	o, problems, err := ofParseOrganization(ofOrgFile)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s:\n  %s", ofOrgFile, strings.Join(problems, "\n  "))
	}
	tf, err := ofParseTasks(ofTasksFile)
	if err != nil {
		return nil, err
	}
	accepted, err := ofAppContextKeys()
	if err != nil {
		return nil, err
	}
	a := &ofAnalysis{org: o, tasks: tf}
	a.checkTasks(ofModel(org.Default()), accepted)
	return a, nil
})

func ofLoad(t *testing.T) *ofAnalysis {
	t.Helper()
	a, err := ofAnalyze()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// checkTasks checks every task of the task file against the org model and the app, records
// what is wrong in a.problems and the app runs of the deploy tasks in a.deploys.
func (a *ofAnalysis) checkTasks(model map[string]*ofModelAccount, accepted map[string]bool) {
	platform := a.org.withTag(ofPlatformTag)
	if len(platform) != 1 {
		a.bad("%d accounts tagged %s, want 1", len(platform), ofPlatformTag)
		return
	}
	trust := platform[0].id

	// Every reference in the task file resolves to something that exists.
	names := map[string]bool{"AWS::AccountId": true, "AWS::Region": true, "CurrentAccount": true, "AWSAccount": true, "CurrentTask": true}
	for p := range a.tasks.params {
		names[p] = true
	}
	for n := range a.org.accounts {
		names[n] = true
	}
	for n := range a.org.ous {
		names[n] = true
	}
	for _, task := range a.tasks.tasks {
		for _, ref := range ofRefs(task.attrs) {
			if !names[ref.arg.(string)] {
				a.bad("%s: !%s %s (line %d): not a parameter, pseudo parameter, account or OU", task.name, ref.fn, ref.arg, ref.line)
			}
		}
	}

	bootstraps, deployTask := map[string]bool{}, map[string]string{} // role -> deploy task
	deployedBy := map[string]string{}                                // account -> deploy task
	for _, task := range a.tasks.tasks {
		bad := func(format string, args ...any) {
			a.bad("%s (line %d): %s", task.name, task.line, fmt.Sprintf(format, args...))
		}
		if typ := task.attrs["Type"]; typ != ofTaskType {
			bad("Type %v: the project uses only %s", typ, ofTaskType)
			continue
		}
		for k := range task.attrs {
			if !ofUpdateCdkAttributes[k] {
				bad("attribute %s is not one update-cdk accepts", k)
			}
		}
		for _, k := range []string{"RunNpmInstall", "RunNpmBuild"} {
			if v, _ := task.attrs[k].(bool); v {
				bad("%s: true is ignored with a CustomDeployCommand; run npm ci in the command", k)
			}
		}
		if n, ok := task.attrs["MaxConcurrentTasks"].(int); ok && n > 1 {
			bad("MaxConcurrentTasks %d: update-cdk supports only 1", n)
		}
		path, _ := task.attrs["Path"].(string)
		dir := filepath.Join(ofDir, path)
		for _, f := range []string{"cdk.json", "package.json", "package-lock.json"} {
			if _, err := os.Stat(filepath.Join(dir, f)); path == "" || err != nil {
				bad("Path %q (relative to the task file) is not the CDK project root: no %s", path, f)
			}
		}
		ignore := map[string]bool{}
		switch v := task.attrs["IgnoreFileChanges"].(type) {
		case string:
			ignore[v] = true
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					ignore[s] = true
				}
			}
		}
		if !ignore["cdk.out"] {
			bad("IgnoreFileChanges %v lacks cdk.out: every synthesis would look like a change", task.attrs["IgnoreFileChanges"])
		}
		for p := range ignore {
			if _, err := regexp.Compile(p); err != nil {
				bad("IgnoreFileChanges %q is not a regular expression (org-formation compiles it): %v", p, err)
			}
		}
		params, _ := task.attrs["Parameters"].(map[string]any)
		if task.attrs["Parameters"] != nil && params == nil {
			bad("Parameters is not a mapping")
		}
		for k := range params {
			if !accepted[k] {
				bad("Parameters key %q: the platform app accepts context %v only", k, ofKeys(accepted))
			}
		}
		targets, err := ofBind(a.org, task.attrs["OrganizationBinding"])
		if err != nil {
			bad("%v", err)
			continue
		}
		if len(targets) == 0 {
			bad("OrganizationBinding selects no account")
		}

		kind := ""
		roles := map[string]bool{}
		for _, tg := range targets {
			r := &ofResolver{org: a.org, params: a.tasks.params, target: tg}
			ctx := map[string]string{}
			var keys []string
			for k, v := range params {
				s, err := r.eval(v)
				if err != nil || s == "" {
					bad("Parameters %s in %s: %q %v", k, tg.account.id, s, err)
				}
				ctx[k] = s
				keys = append(keys, k)
			}
			// org-formation's GetParametersAsArgument; the order does not matter to the app.
			sort.Strings(keys)
			var cdkArgs strings.Builder
			for _, k := range keys {
				fmt.Fprintf(&cdkArgs, " -c '%s=%s'", k, ctx[k])
			}
			args := cdkArgs.String()
			r.cdk = &args

			deploy, err := r.eval(task.attrs["CustomDeployCommand"])
			if err != nil {
				bad("CustomDeployCommand in %s: %v", tg.account.id, err)
				continue
			}
			for _, p := range ofCommandProblems(deploy) {
				bad("CustomDeployCommand in %s: %s\n  %s", tg.account.id, p, deploy)
			}
			remove, err := r.eval(task.attrs["CustomRemoveCommand"])
			if err != nil {
				bad("CustomRemoveCommand in %s (required: the default would destroy): %v", tg.account.id, err)
			} else if p := ofRemoveProblem(remove); p != "" {
				bad("CustomRemoveCommand in %s: %s\n  %s", tg.account.id, p, remove)
			}

			m := model[tg.account.id]
			switch {
			case strings.Contains(deploy, "npx cdk bootstrap "):
				kind = "bootstrap"
				if m == nil {
					bad("bootstraps %s, where the org model has no stacks", tg.account.id)
					continue
				}
				for region := range m.regions {
					if env := "aws://" + tg.account.id + "/" + region; !ofHasWord(deploy, env) {
						bad("in %s the command does not bootstrap %s (the region of its stacks)", tg.account.id, env)
					}
				}
				if !regexp.MustCompile(`--trust ` + trust + `\b`).MatchString(deploy) {
					bad("in %s the bootstrap does not --trust the platform account %s", tg.account.id, trust)
				}
				if !regexp.MustCompile(`--cloudformation-execution-policies arn:aws:iam::`).MatchString(deploy) {
					bad("in %s: --cloudformation-execution-policies is required with --trust", tg.account.id)
				}
				if strings.Index(deploy, "aws://") > strings.Index(deploy, "--trust") {
					bad("the aws:// environment must come before --trust (a list option would swallow it)")
				}
				if len(params) > 0 {
					bad("the bootstrap takes no Parameters (it does not run the app)")
				}
			case strings.Contains(deploy, "npx cdk deploy "):
				kind = "deploy"
				if !ofHasWord(deploy, "--all") || !regexp.MustCompile(`--require-approval[ =]never\b`).MatchString(deploy) {
					bad("deploy must be `cdk deploy --all --require-approval never` (unattended; the app selects the account's stacks)")
				}
				if args != "" && !strings.Contains(deploy, args) {
					bad("the command drops the Parameters: add ${CurrentTask.Parameters}")
				}
				if m == nil {
					bad("deploys to %s, where the org model has no stacks", tg.account.id)
					continue
				}
				for role := range m.roles {
					roles[role] = true
				}
				if prev, dup := deployedBy[tg.account.id]; dup && prev != task.name {
					bad("account %s is deployed by %s too", tg.account.id, prev)
				}
				deployedBy[tg.account.id] = task.name
				a.deploys = append(a.deploys, ofDeploy{task: task.name, target: tg, context: ctx})
			default:
				bad("the command neither bootstraps nor deploys (npx cdk bootstrap / npx cdk deploy)")
			}
		}
		switch kind {
		case "bootstrap":
			bootstraps[task.name] = true
			bound := map[string]bool{}
			for _, tg := range targets {
				bound[tg.account.id] = true
			}
			for id := range model {
				if !bound[id] {
					bad("does not bootstrap %s, which has stacks %v", id, model[id].stacks)
				}
			}
		case "deploy":
			if len(roles) != 1 {
				bad("binds accounts of roles %v: one task per role (registry, or one environment), so the order holds", ofKeys(roles))
				continue
			}
			role := ofKeys(roles)[0]
			if prev, dup := deployTask[role]; dup {
				bad("deploys %s accounts, like %s", role, prev)
			}
			deployTask[role] = task.name
		}
	}
	for id, m := range model {
		if deployedBy[id] == "" {
			a.bad("no task deploys account %s (stacks %v)", id, m.stacks)
		}
	}

	// DependsOn: existing tasks, no cycle, and the order the paths need.
	deps := map[string][]string{}
	for _, task := range a.tasks.tasks {
		var d []any
		switch v := task.attrs["DependsOn"].(type) {
		case string:
			d = []any{v}
		case []any:
			d = v
		}
		for _, e := range d {
			s, _ := e.(string)
			if a.tasks.byName[s] == nil {
				a.bad("%s: DependsOn %v: no such task", task.name, e)
				continue
			}
			deps[task.name] = append(deps[task.name], s)
		}
	}
	var after func(task, dep string, seen map[string]bool) bool
	after = func(task, dep string, seen map[string]bool) bool {
		for _, d := range deps[task] {
			if d == dep {
				return true
			}
			if !seen[d] {
				seen[d] = true
				if after(d, dep, seen) {
					return true
				}
			}
		}
		return false
	}
	for _, task := range a.tasks.tasks {
		if after(task.name, task.name, map[string]bool{}) {
			a.bad("%s: DependsOn cycle", task.name)
		}
	}
	requireAfter := func(task, dep, why string) {
		if task == "" || dep == "" {
			return // reported above
		}
		if !after(task, dep, map[string]bool{}) {
			a.bad("%s must run after %s (DependsOn): %s", task, dep, why)
		}
	}
	if len(bootstraps) != 1 {
		a.bad("%d bootstrap tasks, want 1", len(bootstraps))
	}
	for b := range bootstraps {
		for _, d := range deployTask {
			requireAfter(d, b, "CDK must be bootstrapped first")
		}
	}
	for _, p := range org.Default().Paths() {
		for _, e := range p.Environments {
			if e.HasUpstream() {
				requireAfter(deployTask[e.Name], deployTask[e.Upstream], p.ID()+": "+e.Name+" follows "+e.Upstream)
			} else {
				requireAfter(deployTask[e.Name], deployTask[ofRegistryRole], p.ID()+": "+e.Name+" builds and pushes to the registry")
			}
		}
	}
	// The deploy tasks in dependency order, for the log.
	for _, task := range deployTask {
		a.order = append(a.order, task)
	}
	sort.Slice(a.order, func(i, j int) bool { return after(a.order[j], a.order[i], map[string]bool{}) })
}

// ---------------------------------------------------------------------------------------------
// the tests

// TestOrgFormationOrganizationMatchesTheOrgModel: organization.yml and the organisation the
// app synthesizes (org.Default) name the same accounts, in the same roles and regions.
func TestOrgFormationOrganizationMatchesTheOrgModel(t *testing.T) {
	a := ofLoad(t)
	model := ofModel(org.Default())
	envRoles := map[string]bool{ofRegistryRole: true}
	for _, m := range model {
		for r := range m.roles {
			envRoles[r] = true
		}
	}

	platform := a.org.withTag(ofPlatformTag)
	if len(platform) != 1 {
		t.Fatalf("%d accounts tagged %s, want exactly 1 (the account every bootstrap trusts)", len(platform), ofPlatformTag)
	}
	if model[platform[0].id] != nil {
		t.Errorf("the platform account %s is also one of the organisation's workload accounts", platform[0].id)
	}

	seen := map[string]bool{}
	for _, acc := range a.org.sorted() {
		roles := map[string]bool{}
		for r := range envRoles {
			if _, ok := acc.tags[ofRoleTag(r)]; ok {
				roles[r] = true
			}
		}
		m := model[acc.id]
		if m == nil {
			if len(roles) > 0 {
				t.Errorf("%s (%s) is tagged for %v but the org model has no stacks there", acc.logical, acc.id, ofKeys(roles))
			}
			if _, ok := acc.tags[ofRegionTag]; ok {
				t.Errorf("%s (%s) has tag %s but the org model has no stacks there: BootstrapCdk would bootstrap it for nothing", acc.logical, acc.id, ofRegionTag)
			}
			continue
		}
		seen[acc.id] = true
		if !reflect.DeepEqual(ofKeys(roles), ofKeys(m.roles)) {
			t.Errorf("%s (%s): role tags %v, the org model has it as %v (tag keys %s<role>)", acc.logical, acc.id, ofKeys(roles), ofKeys(m.roles), ofTagPrefix)
		}
		if len(m.regions) != 1 {
			t.Errorf("%s (%s): the org model puts stacks in regions %v; the tasks bootstrap one region per account", acc.logical, acc.id, ofKeys(m.regions))
		} else if got, want := acc.tags[ofRegionTag], ofKeys(m.regions)[0]; got != want {
			t.Errorf("%s (%s): tag %s = %q, the org model's region is %q", acc.logical, acc.id, ofRegionTag, got, want)
		}
		if env, ok := acc.tags[ofEnvTag]; ok && !m.roles[env] {
			t.Errorf("%s (%s): tag %s = %q, the org model has it as %v", acc.logical, acc.id, ofEnvTag, env, ofKeys(m.roles))
		}
		if acc.master {
			t.Errorf("%s (%s): workloads in the management account", acc.logical, acc.id)
		}
	}
	for id, m := range model {
		if !seen[id] {
			t.Errorf("account %s (%v, stacks %v) of the org model is not in %s", id, ofKeys(m.roles), m.stacks, ofOrgFile)
		}
	}
}

// TestOrgFormationTasks checks every task of organization-tasks.yml: type and attributes,
// Path, IgnoreFileChanges, bindings (with Region), references, commands (npm ci, then the
// pinned CLI as npx cdk; removal keeps every stack), Parameters (only context keys the app
// reads), and the dependency order: bootstrap, then registry -> dev -> stg -> prd.
func TestOrgFormationTasks(t *testing.T) {
	a := ofLoad(t)
	for _, p := range a.problems {
		t.Error(p)
	}
	t.Logf("deploy order: %s", strings.Join(a.order, " -> "))
}

// ofCommandProblems checks that a deploy command installs the pinned CLI with npm ci and runs
// only that one, as `npx cdk`.
func ofCommandProblems(cmd string) []string {
	var out []string
	for _, banned := range []string{"npm install -g", "npm i -g", "npm install --global", "npm i --global", "aws-cdk@", "npx aws-cdk", "npx --yes", "npx -y ", "npx -p ", "npx --package", "cdk@", "yarn global", "pnpm add -g"} {
		if strings.Contains(cmd, banned) {
			out = append(out, fmt.Sprintf("uses %q: only the CLI pinned in package-lock.json, via npx cdk after npm ci", banned))
		}
	}
	words := strings.Fields(cmd)
	ci, firstNpx := -1, -1
	for i, w := range words {
		if w == "npm" && i+1 < len(words) && words[i+1] == "ci" && ci < 0 {
			ci = i
		}
		if w == "npx" && firstNpx < 0 {
			firstNpx = i
		}
		if w == "cdk" && (i == 0 || words[i-1] != "npx") {
			out = append(out, "runs `cdk` without npx (a global CLI, if any)")
		}
		if w == "npx" && (i+1 >= len(words) || words[i+1] != "cdk") {
			out = append(out, "npx runs something other than cdk")
		}
	}
	switch {
	case ci < 0:
		out = append(out, "no `npm ci`: the command must install the pinned CLI itself (RunNpmInstall is ignored)")
	case firstNpx >= 0 && ci > firstNpx:
		out = append(out, "`npm ci` must come before `npx cdk`")
	case firstNpx >= 0 && !strings.Contains(strings.Join(words[ci:firstNpx], " "), "&&"):
		out = append(out, "join `npm ci` and `npx cdk` with && so a failed install stops the task")
	}
	if firstNpx < 0 {
		out = append(out, "no `npx cdk`")
	}
	return out
}

// ofRemoveProblem: removal must keep every stack, the CDK bootstrap stack above all, so the
// command is a lone echo.
func ofRemoveProblem(cmd string) string {
	if !strings.HasPrefix(strings.TrimSpace(cmd), "echo ") {
		return "must be an echo that keeps the stacks"
	}
	for _, op := range []string{"&&", "||", ";", "|", "$(", "`", ">", "<"} {
		if strings.Contains(cmd, op) {
			return fmt.Sprintf("contains %q: must be a lone echo", op)
		}
	}
	for _, destroy := range []string{"cdk destroy", "delete-stack", "CDKToolkit --", "rm "} {
		if strings.Contains(cmd, destroy) {
			return fmt.Sprintf("contains %q", destroy)
		}
	}
	return ""
}

func ofHasWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

// TestOrgFormationDeploysSynthesizeTheTargetAccount runs the real platform app as each deploy
// task runs it in each bound account (CDK_DEPLOY_ACCOUNT from org-formation, the task's
// Parameters as -c context, from the task's Path) and checks it synthesizes exactly the stacks
// the org model places in that account. One app run per account.
func TestOrgFormationDeploysSynthesizeTheTargetAccount(t *testing.T) {
	a := ofLoad(t)
	if len(a.deploys) == 0 {
		t.Fatal("no deploy task targets (see TestOrgFormationTasks)")
	}
	model := ofModel(org.Default())
	byAccount := map[string]ofDeploy{}
	for _, d := range a.deploys {
		byAccount[d.target.account.id] = d
	}
	for _, id := range ofSortedKeys(byAccount) {
		d := byAccount[id]
		t.Run(d.task+"/"+id, func(t *testing.T) {
			t.Parallel()
			ctx := map[string]string{}
			for k, v := range d.context {
				ctx[k] = v
			}
			task := a.tasks.byName[d.task]
			cwd := filepath.Join(ofDir, task.attrs["Path"].(string))
			if c, ok := ctx["config"]; ok {
				// The app runs in the task's Path; this test runs in test/.
				if !filepath.IsAbs(c) {
					ctx["config"] = filepath.Join(cwd, c)
				}
				got, err := org.Load(ctx["config"])
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, org.Default()) {
					t.Errorf("config %s is not the organisation organization.yml describes (org.Default)", c)
				}
			}
			r := runApp(t, ctx, "CDK_DEPLOY_ACCOUNT="+id, "CDK_DEPLOY_REGION="+d.target.region)
			want := model[id].stacks
			if r.code != 0 || !reflect.DeepEqual(r.stacks, want) {
				t.Errorf("%s in %s (context %v): exit %d, stacks %v, want %v\n%s", d.task, id, d.context, r.code, r.stacks, want, r.stderr)
			}
		})
	}
}

func ofSortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
