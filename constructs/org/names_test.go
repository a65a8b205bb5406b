package org

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestRegionPatternAcceptsEveryKindOfRegionAndNothingElse(t *testing.T) {
	for _, r := range []string{
		"eu-west-1", "us-east-1", "ap-southeast-7", "eu-central-2", "il-central-1", "mx-central-1",
		"ca-west-1", "cn-northwest-1", "us-gov-west-1", "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "ap-east-12",
	} {
		if !IsRegion(r) {
			t.Errorf("IsRegion(%q) = false, want true", r)
		}
	}
	for _, r := range []string{
		"", "eu", "eu-west", "EU-WEST-1", "europe-1", "eu-west-0", "eu-west-100", "eu-west-1a", "eu--west-1",
		"eu-west-1 ", " eu-west-1", "e-west-1", "eu-a-b-c-1", "global", "aws-global", "eu-west-1\n",
	} {
		if IsRegion(r) {
			t.Errorf("IsRegion(%q) = true, want false", r)
		}
	}
}

func TestAccountIDsAreExactlyTwelveDigits(t *testing.T) {
	for s, want := range map[string]bool{
		"012345678901": true, "123456789012": true, "": false, "12345678901": false, "1234567890123": false,
		"12345678901x": false, "１２３４５６７８９０１２": false, "123456789012\n": false,
	} {
		if got := IsAccountID(s); got != want {
			t.Errorf("IsAccountID(%q) = %v, want %v", s, got, want)
		}
	}
}

// Every rule of git check-ref-format for refs/heads/<name>, plus the narrowing to characters
// safe in an EventBridge pattern and a URL.
func TestBranchRules(t *testing.T) {
	cases := []struct {
		branch string
		reason string // "" when accepted
	}{
		{"main", ""},
		{"trunk", ""},
		{"release/1.2", ""},
		{"feature/JIRA-123_fix", ""},
		{"v1.0.lock.x", ""}, // .lock only matters at the end of a part
		{"_x", ""},
		{strings.Repeat("b", 100), ""},

		{"", "empty"},
		{strings.Repeat("b", 101), "101 bytes long"},
		{"feature..x", "contains '..'"},
		{"a@{1}", `contains '@'`},
		{"@", `contains '@'`},
		{"a\x01b", `contains '\x01'`},
		{"a\x7fb", `contains '\x7f'`},
		{"a b", `contains ' '`},
		{"a~1", `contains '~'`},
		{"a^1", `contains '^'`},
		{"a:b", `contains ':'`},
		{"a?", `contains '?'`},
		{"a*", `contains '*'`},
		{"a[1]", `contains '['`},
		{`a\b`, `contains '\\'`},
		{"a#b", `contains '#'`}, // a URL fragment
		{"a%20", `contains '%'`},
		{"a\"b", `contains '"'`}, // would need escaping in the event pattern
		{"ma\u00efn", `contains 'ï'`},
		{".hidden", "part \".hidden\" starts with '.'"},
		{"a/.b", "part \".b\" starts with '.'"},
		{"main.lock", "part \"main.lock\" ends with '.lock'"},
		{"a.lock/b", "part \"a.lock\" ends with '.lock'"},
		{"a//b", "contains '//'"},
		{"a/", "ends with '/'"},
		{"/a", "starts with '/'"},
		{"a.", "ends with '.'"},
		{"-x", "starts with '-'"},
		{"HEAD", "HEAD"},
	}
	for _, c := range cases {
		got := branchProblem(c.branch)
		if c.reason == "" && got != "" {
			t.Errorf("branchProblem(%q) = %q, want accepted", c.branch, got)
		}
		if c.reason != "" && !strings.Contains(got, c.reason) {
			t.Errorf("branchProblem(%q) = %q, want it to say %q", c.branch, got, c.reason)
		}
	}
}

func TestBranchProblemsNameTheRuleInTheMessage(t *testing.T) {
	o := valid()
	o.Teams[0].Services[0].Environments[1].Branch = "release//1"
	_, err := o.Normalize()
	want := `teams[0].services[0].environments[1].branch: "release//1": a git branch name of at most 100 letters, digits, '.', '_', '/' or '-' that git accepts; this one contains '//'`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant it to contain %s", err, want)
	}
}

// ECR repository names, the strictest of the names a team and a service become part of.
var ecrName = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

func TestTeamAndServiceNamesAreWhatAWSAccepts(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"pay", true}, {"pay-ments", true}, {"a1", true}, {"web-shop-2", true}, {"a-b-c", true},
		{"pay--ments", false}, {"pay-", false}, {"-pay", false}, {"1pay", false}, {"p", false},
		{"Pay", false}, {"pay_ments", false}, {"pay.ments", false}, {"pay/ments", false}, {"pay ments", false}, {"", false},
	}
	for _, c := range cases {
		for _, field := range []string{"teams[0].name", "teams[0].services[0].name"} {
			o := valid()
			if field == "teams[0].name" {
				o.Teams[0].Name = c.name
			} else {
				o.Teams[0].Services[0].Name = c.name
			}
			n, err := o.Normalize()
			if c.ok {
				if err != nil {
					t.Errorf("%s %q refused: %v", field, c.name, err)
					continue
				}
				if img := n.Paths()[0].ImageRepositoryName(); !ecrName.MatchString(img) {
					t.Errorf("%s %q accepted, but ECR refuses %q", field, c.name, img)
				}
				continue
			}
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%s: %q: ", field, c.name)) {
				t.Errorf("%s %q: want it refused, got %v", field, c.name, err)
			}
		}
	}
}

func TestLongestNamesFitEveryAWSLimit(t *testing.T) {
	const team, service, env = "ab-cd-ef-gh-ij-k", "ab-cd-ef-gh-ij-kl-mn", "abcdefgh"
	step := strings.Repeat("S", 40) // envpipeline's longest step name
	o := valid()
	o.Teams[0].Name, o.Teams[0].Services[0].Name = team, service
	o.Teams[0].Services[0].Environments[0].Name = env
	n, err := o.Normalize()
	if err != nil {
		t.Fatalf("the longest names are refused: %v", err)
	}
	// One character more is refused, so these really are the longest.
	for _, grow := range []func(o *Organization){
		func(o *Organization) { o.Teams[0].Name += "x" },
		func(o *Organization) { o.Teams[0].Services[0].Name += "x" },
		func(o *Organization) { o.Teams[0].Services[0].Environments[0].Name += "x" },
	} {
		longer := valid()
		longer.Teams[0].Name, longer.Teams[0].Services[0].Name = team, service
		longer.Teams[0].Services[0].Environments[0].Name = env
		grow(&longer)
		if _, err := longer.Normalize(); err == nil {
			t.Errorf("a name longer than the limit was accepted: %+v", longer.Teams[0])
		}
	}
	p := n.Paths()[0]
	limits := []struct {
		what string
		name string
		re   string
		max  int
	}{
		{"CodeCommit repository", p.RepositoryName(), `^[\w.-]+$`, 100},
		{"ECR repository", p.ImageRepositoryName(), ecrName.String(), 256},
		{"CodePipeline", p.PipelineName(env), `^[A-Za-z0-9.@_-]+$`, 100},
		{"CloudFormation stack", p.StackName(env), `^[a-zA-Z][-a-zA-Z0-9]*$`, 128},
		{"IAM role (build)", p.BuildRoleName(env), `^[\w+=,.@-]+$`, 64},
		{"IAM role (deploy)", p.DeployRoleName(env), `^[\w+=,.@-]+$`, 64},
		{"IAM role (guard)", p.GuardRoleName(env), `^[\w+=,.@-]+$`, 64},
		{"IAM role (reader)", p.UpstreamReaderRoleName(env), `^[\w+=,.@-]+$`, 64},
		{"IAM role (approver)", p.ApproverRoleName(env), `^[\w+=,.@-]+$`, 64},
		{"Lambda function", p.GuardFunctionName(env), `^[a-zA-Z0-9_-]+$`, 64},
		{"CloudWatch log group", "/aws/lambda/" + p.GuardFunctionName(env), `^[.\-_/#A-Za-z0-9]+$`, 512},
		{"CodeBuild project", p.ProjectName(env, step), `^[A-Za-z0-9][A-Za-z0-9_-]+$`, 255},
		{"SNS topic", p.NotificationTopicName(env), `^[A-Za-z0-9_-]+$`, 256},
		{"CloudWatch dashboard", p.DashboardName(env), `^[A-Za-z0-9_-]+$`, 255},
		{"CodeStar notification rule", p.NotificationRuleName(env), `^[A-Za-z0-9_ -]+$`, 64},
		{"IAM role (sandbox)", p.SandboxRoleName(env), `^[\w+=,.@-]+$`, 64},
		{"Lambda function (sandboxes)", p.SandboxFunctionName(env), `^[a-zA-Z0-9_-]+$`, 64},
		{"DynamoDB table (sandboxes)", p.SandboxTableName(env), `^[a-zA-Z0-9_.-]+$`, 255},
		{"CodeBuild project (sandbox)", p.SandboxProjectName(env), `^[A-Za-z0-9][A-Za-z0-9_-]+$`, 255},
		{"ECR repository (sandboxes)", p.SandboxImageRepositoryName(), ecrName.String(), 256},
	}
	for _, l := range limits {
		if !regexp.MustCompile(l.re).MatchString(l.name) || len(l.name) > l.max {
			t.Errorf("%s %q (%d characters) breaks AWS's limit of %d characters of %s", l.what, l.name, len(l.name), l.max, l.re)
		}
	}
	// The comment in names.go says the approver role binds, with 9 characters to spare.
	if got := 64 - len(p.ApproverRoleName(env)); got != 9 {
		t.Errorf("the approver role has %d characters to spare, names.go says 9", got)
	}
}

func TestNamesThatDeriveTheSameIDAreRefused(t *testing.T) {
	o := valid()
	envs := o.Teams[0].Services[0].Environments
	o.Teams = []Team{
		{Name: "ab-cd", Services: []Service{{Name: "ef", Environments: envs}}},
		{Name: "ab", Services: []Service{{Name: "cd-ef", Environments: envs}}},
	}
	_, err := o.Normalize()
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 {
		t.Fatalf("want one problem, got %v", err)
	}
	want := `teams[1].services[0]: "ab-cd-ef": a team-service id no other path derives; teams[0].services[0] (team "ab-cd", service "ef") derives it too`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant it to contain %s", err, want)
	}
}

// Brute force over names built to run into each other (hyphens in teams and services,
// environments named like the suffixes): two paths are refused exactly when one of their
// derived names equals the other's in the same namespace. All environments share one
// account and region, so every regional and account-wide namespace is shared.
func TestEveryDerivedNameCollisionIsRefused(t *testing.T) {
	words := []string{"ab", "cd", "ab-cd", "cd-ab", "ab-cd-ab"}
	envs := []string{"cd", "dev", "guard", "pipeline"}
	type tuple struct{ team, service, env string }
	var all []tuple
	for _, tm := range words {
		for _, s := range words {
			for _, e := range envs {
				all = append(all, tuple{tm, s, e})
			}
		}
	}
	names := func(x tuple) map[string]bool {
		p := Path{Team: x.team, Service: Service{Name: x.service}}
		out := map[string]bool{}
		for kind, n := range map[string][]string{
			"codecommit": {p.RepositoryName()},
			"ecr":        {p.ImageRepositoryName()},
			"pipeline":   {p.PipelineName(x.env)},
			"stack":      {p.StackName(x.env), RegistryStackName},
			"role": {p.BuildRoleName(x.env), p.DeployRoleName(x.env), p.GuardRoleName(x.env),
				p.UpstreamReaderRoleName(x.env), p.ApproverRoleName(x.env)},
			"project":   {p.ProjectName(x.env, "Build"), p.ProjectName(x.env, "Deploy"), p.ProjectName(x.env, "Verify"), p.ProjectName(x.env, "Integration")},
			"topic":     {p.NotificationTopicName(x.env)},
			"rule":      {p.NotificationRuleName(x.env)},
			"function":  {p.GuardFunctionName(x.env)},
			"dashboard": {p.DashboardName(x.env)},
		} {
			for _, name := range n {
				if name != RegistryStackName {
					out[kind+" "+name] = true
				}
			}
		}
		return out
	}
	var collide, apart int
	for i, a := range all {
		for _, b := range all[i+1:] {
			na, clash := names(a), ""
			for n := range names(b) {
				if na[n] {
					clash = n
				}
			}
			env := func(name string) []Environment {
				return []Environment{{Name: name, Account: "222222222222", Region: "eu-west-1"}}
			}
			o := Organization{Registry: Registry{Account: "111111111111", Region: "eu-west-1"}}
			sa := Service{Name: a.service, Environments: env(a.env)}
			sb := Service{Name: b.service, Environments: env(b.env)}
			if a.team == b.team {
				o.Teams = []Team{{Name: a.team, Services: []Service{sa, sb}}}
			} else {
				o.Teams = []Team{{Name: a.team, Services: []Service{sa}}, {Name: b.team, Services: []Service{sb}}}
			}
			_, err := o.Normalize()
			switch {
			case clash != "" && err == nil:
				t.Errorf("%+v and %+v both derive %s, and were accepted", a, b, clash)
			case clash == "" && err != nil:
				t.Errorf("%+v and %+v derive no common name, and were refused: %v", a, b, err)
			case clash != "":
				collide++
			default:
				apart++
			}
		}
	}
	if collide == 0 || apart == 0 {
		t.Errorf("the cases proved nothing: %d colliding pairs, %d apart", collide, apart)
	}
}

func TestEnvironmentsOfAServiceInOneAccountAndRegionAreRefused(t *testing.T) {
	o := valid()
	envs := o.Teams[0].Services[0].Environments
	envs[2].Account, envs[2].Region = envs[0].Account, envs[0].Region
	_, err := o.Normalize()
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 {
		t.Fatalf("want one problem, got %v", err)
	}
	want := `teams[0].services[0].environments[2]: "222222222222 eu-west-1": an account and region no other environment of the service uses; environments[0] (dev) is there too, and both would create CodeCommit repository "payments-checkout"`
	if got := ve.Problems[0].String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestEnvironmentsOfAServiceInOneAccountButOtherRegionsAreFine(t *testing.T) {
	o := valid()
	envs := o.Teams[0].Services[0].Environments
	for i := range envs {
		envs[i].Account = "222222222222"
	}
	envs[1].Region, envs[2].Region = "eu-central-1", "us-east-1"
	n, err := o.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	// IAM is global to the account: the role names must differ by environment.
	p, roles := n.Paths()[0], map[string]bool{}
	for _, e := range p.Environments {
		for _, r := range []string{p.BuildRoleName(e.Name), p.DeployRoleName(e.Name), p.GuardRoleName(e.Name), p.UpstreamReaderRoleName(e.Name), p.ApproverRoleName(e.Name)} {
			if roles[r] {
				t.Errorf("role %s twice in account 222222222222", r)
			}
			roles[r] = true
		}
	}
	if len(roles) != 15 {
		t.Errorf("%d role names, want 15", len(roles))
	}
}

func TestPathsSharingAnAccountAndRegionAreFine(t *testing.T) {
	o := valid()
	svc := o.Teams[0].Services[0]
	svc.Name = "refunds"
	o.Teams[0].Services = append(o.Teams[0].Services, svc)
	o.Teams = append(o.Teams, Team{Name: "search", Services: []Service{svc}})
	if _, err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
}

// Path.Normalize applies every rule about one path; only the cross-path ones are left out.
func TestPathNormalizeAppliesThePerPathRules(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(p *Path)
		want   string
	}{
		{"team charset", func(p *Path) { p.Team = "pay--ments" }, `path.team: "pay--ments": 2-16 lowercase`},
		{"service charset", func(p *Path) { p.Name = "check-" }, `path.name: "check-": 2-20 lowercase`},
		{"branch", func(p *Path) { p.Environments[0].Branch = "a..b" }, `path.environments[0].branch: "a..b": a git branch name`},
		{"region", func(p *Path) { p.Environments[0].Region = "eu-west-0" }, `path.environments[0].region: "eu-west-0": an AWS region`},
		{"same account and region", func(p *Path) { p.Environments[1].Account = p.Environments[0].Account },
			`path.environments[1]: "222222222222 eu-west-1": an account and region no other environment`},
		{"settings", func(p *Path) { p.Settings.HistoryPages = 101 }, `path.settings.historyPages: "101": a whole number`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := valid().Paths()[0]
			c.break_(&p)
			_, err := p.Normalize()
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v\nwant one problem containing %s", err, c.want)
			}
		})
	}
}
