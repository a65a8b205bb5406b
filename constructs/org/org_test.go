package org

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// valid returns a small valid organisation that each case breaks in one way.
func valid() Organization {
	return Organization{
		Registry: Registry{Account: "111111111111", Region: "eu-west-1"},
		Teams: []Team{{Name: "payments", Services: []Service{{
			Name: "checkout",
			Environments: []Environment{
				{Name: "dev", Account: "222222222222", Region: "eu-west-1"},
				{Name: "stg", Account: "333333333333", Region: "eu-west-1"},
				{Name: "prd", Account: "444444444444", Region: "eu-west-1"},
			},
		}}}},
	}
}

func TestNormalizeAppliesDefaults(t *testing.T) {
	in := valid()
	n, err := in.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	envs := n.Teams[0].Services[0].Environments
	wantUp := []string{UpstreamNone, "dev", "stg"}
	wantApproval := []bool{false, false, true}
	for i, e := range envs {
		if e.Branch != "main" {
			t.Errorf("%s: branch %q, want main", e.Name, e.Branch)
		}
		if e.Upstream != wantUp[i] {
			t.Errorf("%s: upstream %q, want %q", e.Name, e.Upstream, wantUp[i])
		}
		if e.Approval == nil || *e.Approval != wantApproval[i] {
			t.Errorf("%s: approval %v, want %v", e.Name, e.Approval, wantApproval[i])
		}
	}
	// The caller's value is never written.
	if in.Teams[0].Services[0].Environments[1].Upstream != "" || in.Teams[0].Services[0].Environments[0].Approval != nil {
		t.Error("Normalize modified its receiver")
	}
}

func TestNormalizeKeepsExplicitValues(t *testing.T) {
	o := valid()
	no, yes := false, true
	envs := o.Teams[0].Services[0].Environments
	envs[1].Approval = &yes
	envs[2].Approval = &no
	envs[2].Upstream = "dev"
	envs[0].Branch = "trunk"
	n, err := o.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	got := n.Teams[0].Services[0].Environments
	if !got[1].NeedsApproval() || got[2].NeedsApproval() || got[2].Upstream != "dev" || got[0].Branch != "trunk" {
		t.Errorf("explicit values not kept: %+v", got)
	}
}

func TestValidationProblems(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(o *Organization)
		want   []string // each must appear in the error, in this order
	}{
		{"short account", func(o *Organization) { o.Teams[0].Services[0].Environments[1].Account = "33333333333" },
			[]string{`teams[0].services[0].environments[1].account: "33333333333": a 12-digit AWS account id`}},
		{"registry", func(o *Organization) { o.Registry = Registry{Account: "abc", Region: "EU"} },
			[]string{`registry.account: "abc": a 12-digit`, `registry.region: "EU": an AWS region name`}},
		{"region", func(o *Organization) { o.Teams[0].Services[0].Environments[0].Region = "eu-west" },
			[]string{`environments[0].region: "eu-west": an AWS region name`}},
		{"team name", func(o *Organization) { o.Teams[0].Name = "Payments" },
			[]string{`teams[0].name: "Payments": 2-16 lowercase letters`}},
		{"service name too long", func(o *Organization) { o.Teams[0].Services[0].Name = "a-very-long-service-name-x" },
			[]string{`teams[0].services[0].name: "a-very-long-service-name-x": 2-20 lowercase`}},
		{"duplicate team", func(o *Organization) { o.Teams = append(o.Teams, o.Teams[0]) },
			[]string{`teams[1].name: "payments": a team name not used by another team`}},
		{"duplicate environment", func(o *Organization) { o.Teams[0].Services[0].Environments[2].Name = "stg" },
			[]string{`environments[2].name: "stg": an environment name not used by another`}},
		{"unknown upstream", func(o *Organization) { o.Teams[0].Services[0].Environments[2].Upstream = "qa" },
			[]string{`environments[2].upstream: "qa": one of [dev stg prd], or "none"`}},
		{"self upstream", func(o *Organization) { o.Teams[0].Services[0].Environments[1].Upstream = "stg" },
			[]string{`environments[1].upstream: "stg": another environment of the same service`}},
		{"cycle", func(o *Organization) {
			envs := o.Teams[0].Services[0].Environments
			envs[0].Upstream = "prd" // dev <- prd <- stg <- dev
		}, []string{`"0 environments without upstream": exactly one environment without upstream`, `found the cycle dev -> prd -> stg -> dev`}},
		{"two roots", func(o *Organization) { o.Teams[0].Services[0].Environments[2].Upstream = UpstreamNone },
			[]string{`teams[0].services[0].environments: "2 environments without upstream"`}},
		{"branch", func(o *Organization) { o.Teams[0].Services[0].Environments[0].Branch = "-x" },
			[]string{`environments[0].branch: "-x": a git branch name`}},
		{"branch lock", func(o *Organization) { o.Teams[0].Services[0].Environments[0].Branch = "main.lock" },
			[]string{`environments[0].branch: "main.lock"`}},
		{"approver", func(o *Organization) {
			o.Teams[0].Services[0].Environments[2].Approvers = []string{"arn:aws:iam::444444444444:root"}
		}, []string{`environments[2].approvers[0]: "arn:aws:iam::444444444444:root": an IAM role or user ARN`}},
		{"notify", func(o *Organization) { o.Teams[0].Services[0].Notify = []string{"oncall"} },
			[]string{`teams[0].services[0].notify[0]: "oncall": an e-mail address`}},
		{"empty command", func(o *Organization) { o.Teams[0].Services[0].Commands.Deploy = []string{" "} },
			[]string{`teams[0].services[0].commands.deploy[0]: " ": a non-empty shell command`}},
		{"no environments", func(o *Organization) { o.Teams[0].Services[0].Environments = nil },
			[]string{`teams[0].services[0].environments: "": at least one environment`}},
		{"no teams", func(o *Organization) { o.Teams = nil }, []string{`teams: "": at least one team`}},
		{"reserved name", func(o *Organization) { o.Teams[0].Services[0].Environments[2].Name = "none" },
			[]string{`environments[2].name: "none": any name but "none"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := valid()
			c.break_(&o)
			_, err := o.Normalize()
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want *ValidationError, got %v", err)
			}
			msg := err.Error()
			at := 0
			for _, w := range c.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("error does not contain %q (after offset %d):\n%s", w, at, msg)
				}
				at += i + len(w)
			}
			if len(ve.Problems) != len(c.want) {
				t.Errorf("want %d problem(s), got %d:\n%s", len(c.want), len(ve.Problems), msg)
			}
		})
	}
}

func TestLoadReportsEveryProblemOfAFile(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "broken.yaml"))
	if err == nil {
		t.Fatal("broken.yaml loaded without error")
	}
	msg := err.Error()
	for _, want := range []string{
		`testdata/broken.yaml: invalid organization: 9 problem(s)`,
		`registry.account: "12345"`,
		`teams[0].name: "Payments"`,
		`teams[0].services[0].notify[0]: "not-an-address"`,
		`environments[0].region: "europe-1"`,
		`environments[1].branch: "feature..x"`,
		`environments[1].upstream: "qa"`,
		`environments[2].name: "stg": an environment name not used`,
		`environments[2].account: "44444444444x"`,
		`environments[2].approvers[0]: "arn:aws:iam::444444444444:root"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
}

func TestParseRejectsUnknownFieldsAndEmptyFiles(t *testing.T) {
	_, err := Parse([]byte("registry: {account: '111111111111', region: eu-west-1}\nteam: []\n"), "org.yaml")
	if err == nil || !strings.Contains(err.Error(), `org.yaml: invalid organization: 2 problem(s)`) ||
		!strings.Contains(err.Error(), `team: "[]": no such field; the top level has registry, settings, teams (did you mean teams?) (line 2)`) {
		t.Errorf("unknown field: got %v", err)
	}
	_, err = Parse(nil, "empty.yaml")
	if err == nil || !strings.Contains(err.Error(), "empty.yaml: the file is empty") {
		t.Errorf("empty file: got %v", err)
	}
}

func TestAccountIDsKeepLeadingZeros(t *testing.T) {
	y := strings.Replace(string(DefaultYAML()), `account: "222222222222"`, `account: 012345678901`, 1)
	o, err := Parse([]byte(y), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Teams[0].Services[0].Environments[0].Account; got != "012345678901" {
		t.Errorf("account %q, want 012345678901", got)
	}
}

func TestDerivedNames(t *testing.T) {
	p, err := Default().Path("payments", "checkout")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{
		"repository": p.RepositoryName(), "image": p.ImageRepositoryName(), "pipeline": p.PipelineName("stg"),
		"stack": p.StackName("prd"), "guard": p.GuardRoleName("stg"), "reader": p.UpstreamReaderRoleName("dev"),
		"approver": p.ApproverRoleName("prd"), "build": p.BuildRoleName("dev"), "deploy": p.DeployRoleName("stg"),
		"roleARN":  RoleARN("333333333333", p.GuardRoleName("stg")),
		"function": p.GuardFunctionName("stg"), "topic": p.NotificationTopicName("dev"), "rule": p.NotificationRuleName("prd"),
		"project": p.ProjectName("stg", "IntegrationTests"), "dashboard": p.DashboardName("prd"),
	}
	want := map[string]string{
		"repository": "payments-checkout", "image": "payments/checkout", "pipeline": "payments-checkout-stg",
		"stack": "payments-checkout-prd-pipeline", "guard": "payments-checkout-stg-guard", "reader": "payments-checkout-dev-reader",
		"approver": "payments-checkout-prd-approver", "build": "payments-checkout-dev-build", "deploy": "payments-checkout-stg-deploy",
		"roleARN":  "arn:aws:iam::333333333333:role/payments-checkout-stg-guard",
		"function": "payments-checkout-stg-guard", "topic": "payments-checkout-dev-notifications", "rule": "payments-checkout-prd-failed",
		"project": "payments-checkout-stg-integrationtests", "dashboard": "payments-checkout-prd",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	// The longest names the validation allows still fit IAM's 64-character role names.
	long := Path{Team: strings.Repeat("t", 16), Service: Service{Name: strings.Repeat("s", 20)}}
	if n := len(long.ApproverRoleName("abcdefgh")); n > 64 {
		t.Errorf("longest role name is %d characters, IAM allows 64", n)
	}
}

func TestPathLookupErrorsNameTheKnownValues(t *testing.T) {
	o := Default()
	if _, err := o.Path("payments", "nope"); err == nil || !strings.Contains(err.Error(), "payments-checkout") {
		t.Errorf("unknown service: %v", err)
	}
	p, _ := o.Path("payments", "checkout")
	if _, err := p.Environment("qa"); err == nil || !strings.Contains(err.Error(), "[dev stg prd]") {
		t.Errorf("unknown environment: %v", err)
	}
	if d := p.Downstream("dev"); len(d) != 1 || d[0].Name != "stg" {
		t.Errorf("downstream of dev: %+v", d)
	}
	if got := o.Accounts(); len(got) != 7 || got[0] != "111111111111" {
		t.Errorf("accounts: %v", got)
	}
}

func TestPathNormalizeNamesPathFields(t *testing.T) {
	p := valid().Paths()[0]
	p.Environments[1].Account = "1"
	_, err := p.Normalize()
	if err == nil || !strings.Contains(err.Error(), `path.environments[1].account: "1"`) {
		t.Errorf("got %v", err)
	}
}

func TestDefaultOrganizationIsValid(t *testing.T) {
	if _, err := Parse(DefaultYAML(), "default"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("default-organization.yaml"); err != nil {
		t.Fatal(err)
	}
}
