package org

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func connArn(account, region string) string {
	return fmt.Sprintf("arn:aws:codeconnections:%s:%s:connection/0a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d", region, account)
}

// github is valid() with its path on GitHub, a connection per environment account.
func github() Organization {
	o := valid()
	s := &o.Teams[0].Services[0]
	s.Source = Source{Provider: ProviderGitHub, Repository: "example-org/checkout"}
	for i := range s.Environments {
		e := &s.Environments[i]
		e.Connection = connArn(e.Account, e.Region)
	}
	return o
}

func TestConnectionSourceDefaults(t *testing.T) {
	n, err := github().Normalize()
	if err != nil {
		t.Fatal(err)
	}
	p := n.Paths()[0]
	var branches []string
	for _, e := range p.Environments {
		branches = append(branches, e.Branch)
	}
	if fmt.Sprint(branches) != "[main env/stg env/prd]" {
		t.Errorf("branches %v, want main, env/stg, env/prd", branches)
	}
	if !p.Source.UsesConnection() || p.Source.ProviderType() != "GitHub" || p.Source.CloneURL() != "https://github.com/example-org/checkout.git" {
		t.Errorf("source %+v: connection %v, type %q, url %q", p.Source, p.Source.UsesConnection(), p.Source.ProviderType(), p.Source.CloneURL())
	}
	// CodeCommit stays the default, main everywhere, no clone URL
	c, err := valid().Normalize()
	if err != nil {
		t.Fatal(err)
	}
	cp := c.Paths()[0]
	if cp.Source.Provider != ProviderCodeCommit || cp.Source.UsesConnection() || cp.Source.CloneURL() != "" || cp.Environments[2].Branch != "main" {
		t.Errorf("codecommit path %+v, prd branch %q", cp.Source, cp.Environments[2].Branch)
	}
	// an explicit branch is kept
	o := github()
	o.Teams[0].Services[0].Environments[2].Branch = "release"
	if n, err := o.Normalize(); err != nil || n.Paths()[0].Environments[2].Branch != "release" {
		t.Errorf("explicit branch: %v", err)
	}
}

func TestSourceValidationNamesTheField(t *testing.T) {
	const ef = "teams[0].services[0].environments"
	cases := []struct {
		name string
		edit func(s *Service)
		want []string // problems, in order, each a prefix and the parts after '|' it contains; none when accepted
	}{
		{"gitlab subgroups", func(s *Service) { s.Source = Source{Provider: ProviderGitLab, Repository: "group/sub/repo"} }, nil},
		{"bitbucket", func(s *Service) { s.Source = Source{Provider: ProviderBitbucket, Repository: "ws/repo"} }, nil},
		{"older service name", func(s *Service) {
			s.Environments[0].Connection = strings.Replace(s.Environments[0].Connection, "codeconnections", "codestar-connections", 1)
		}, nil},
		{"unknown provider", func(s *Service) { s.Source.Provider = "GitHub" },
			[]string{`teams[0].services[0].source.provider: "GitHub": "codecommit"`}},
		{"repository missing", func(s *Service) { s.Source.Repository = "" },
			[]string{`teams[0].services[0].source.repository: "": the repository on github.com as owner/name`}},
		{"github has no subgroups", func(s *Service) { s.Source.Repository = "a/b/c" },
			[]string{`teams[0].services[0].source.repository: "a/b/c": the repository on github.com as owner/name: only GitLab repositories are in (sub)groups`}},
		{"repository a URL", func(s *Service) { s.Source.Repository = "https://github.com/a/b" },
			[]string{`teams[0].services[0].source.repository: "https://github.com/a/b": the repository on github.com`}},
		{"repository with codecommit", func(s *Service) { s.Source = Source{Repository: "a/b"} },
			[]string{`teams[0].services[0].source.repository: "a/b": nothing with a CodeCommit source: every environment account has its own repository payments-checkout`,
				ef + `[0].connection: "arn:aws:codeconnections:eu-west-1:222222222222:|: nothing with a CodeCommit source`,
				ef + `[1].connection`, ef + `[2].connection`}},
		{"connection missing", func(s *Service) { s.Environments[1].Connection = "" },
			[]string{ef + `[1].connection: "": with source provider github, the ARN of a CodeConnections connection in the environment's own account and region`}},
		{"connection not an ARN", func(s *Service) { s.Environments[1].Connection = "my-connection" },
			[]string{ef + `[1].connection: "my-connection": the ARN of a CodeConnections connection`}},
		{"connection of another account", func(s *Service) { s.Environments[2].Connection = connArn("111111111111", "eu-west-1") },
			[]string{ef + `[2].connection: "arn:aws:codeconnections:eu-west-1:111111111111:|: a connection of the environment's account 444444444444 (this one is in 111111111111)`}},
		{"connection in another region", func(s *Service) { s.Environments[0].Connection = connArn("222222222222", "us-east-1") },
			[]string{ef + `[0].connection: "arn:aws:codeconnections:us-east-1:222222222222:|: a connection in the environment's region eu-west-1 (this one is in us-east-1)`}},
		{"two environments on one branch", func(s *Service) { s.Environments[2].Branch = "env/stg" },
			[]string{ef + `[2].branch: "env/stg": a branch no other environment follows (environments[1] follows it): with one GitHub repository`}},
		{"a sandbox branch", func(s *Service) { s.Environments[1].Branch = "sandbox/stg" },
			[]string{ef + `[1].branch: "sandbox/stg": a branch outside sandbox/, which is reserved for developer sandboxes`}},
		{"sandboxes with a connection", func(s *Service) { s.Sandboxes = &Sandboxes{} },
			[]string{`teams[0].services[0].sandboxes: "": no sandboxes with source provider github`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := github()
			c.edit(&o.Teams[0].Services[0])
			_, err := o.Normalize()
			var got []string
			var ve *ValidationError
			if errors.As(err, &ve) {
				for _, p := range ve.Problems {
					got = append(got, p.String())
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("problems %q, want %d: %q", got, len(c.want), c.want)
			}
			for i, w := range c.want {
				parts := strings.Split(w, "|")
				if !strings.HasPrefix(got[i], parts[0]) {
					t.Errorf("problem %d %q, want it to start %q", i, got[i], parts[0])
				}
				for _, part := range parts[1:] {
					if !strings.Contains(got[i], part) {
						t.Errorf("problem %d %q, want it to say %q", i, got[i], part)
					}
				}
			}
		})
	}
}

// TestConnectionSourcesMayShareAnAccount: with no CodeCommit repository per account, two
// environments of one connection-sourced path may share an account and region (their
// pipelines, stacks and roles carry the environment's name); with CodeCommit they may not.
func TestConnectionSourcesMayShareAnAccount(t *testing.T) {
	o := github()
	s := &o.Teams[0].Services[0]
	s.Environments[1].Account = s.Environments[0].Account
	s.Environments[1].Connection = s.Environments[0].Connection
	if _, err := o.Normalize(); err != nil {
		t.Errorf("connection source in one account: %v", err)
	}
	c := valid()
	c.Teams[0].Services[0].Environments[1].Account = c.Teams[0].Services[0].Environments[0].Account
	if _, err := c.Normalize(); err == nil || !strings.Contains(err.Error(), `would create CodeCommit repository "payments-checkout"`) {
		t.Errorf("codecommit source in one account: %v", err)
	}
}

func TestSandboxesDefaultsAndValidation(t *testing.T) {
	o := valid()
	o.Teams[0].Services[0].Sandboxes = &Sandboxes{}
	n, err := o.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	s := n.Paths()[0].Service
	if *s.Sandboxes != (Sandboxes{Max: 3, TTL: "72h"}) || s.SandboxLimit() != 3 || s.SandboxTTL() != 72*time.Hour || s.SandboxWarning() != 18*time.Hour {
		t.Errorf("defaults %+v: limit %d, ttl %v, warning %v", *s.Sandboxes, s.SandboxLimit(), s.SandboxTTL(), s.SandboxWarning())
	}
	if o.Teams[0].Services[0].Sandboxes.TTL != "" {
		t.Error("Normalize wrote the caller's Sandboxes")
	}
	long := Service{Sandboxes: &Sandboxes{TTL: "720h"}}
	if long.SandboxWarning() != 24*time.Hour || (Service{}).SandboxLimit() != 0 || (Service{}).HasSandboxes() {
		t.Errorf("a 30-day TTL warns %v before; no sandboxes: limit %d", long.SandboxWarning(), (Service{}).SandboxLimit())
	}
	for _, c := range []struct {
		sb   Sandboxes
		want string
	}{
		{Sandboxes{Max: 1, TTL: "1h"}, ""},
		{Sandboxes{Max: MaxSandboxes, TTL: "720h"}, ""},
		{Sandboxes{Max: 21}, `teams[0].services[0].sandboxes.max: "21": a whole number from 1 to 20`},
		{Sandboxes{Max: -1}, `teams[0].services[0].sandboxes.max: "-1": a whole number from 1 to 20`},
		{Sandboxes{TTL: "30m"}, `teams[0].services[0].sandboxes.ttl: "30m": whole hours as a Go duration, from 1h to 720h`},
		{Sandboxes{TTL: "90m"}, `teams[0].services[0].sandboxes.ttl: "90m": whole hours`},
		{Sandboxes{TTL: "721h"}, `teams[0].services[0].sandboxes.ttl: "721h": whole hours`},
		{Sandboxes{TTL: "3d"}, `teams[0].services[0].sandboxes.ttl: "3d": whole hours`},
	} {
		o := valid()
		sb := c.sb
		o.Teams[0].Services[0].Sandboxes = &sb
		_, err := o.Normalize()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v refused: %v", c.sb, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: %v, want %q", c.sb, err, c.want)
		}
	}
}

func TestSandboxNames(t *testing.T) {
	for _, ok := range []string{"a", "alice", "fix-login-2", strings.Repeat("a", MaxSandboxName)} {
		if p := SandboxNameProblem(ok); p != "" {
			t.Errorf("%q refused: %s", ok, p)
		}
	}
	for _, bad := range []string{"", "Alice", "a_b", "a/b", "-a", "a-", "a--b", "1a", "a.b", "a b", "$(id)", "../x", strings.Repeat("a", MaxSandboxName+1), "ä", "alice\x00"} {
		if SandboxNameProblem(bad) == "" {
			t.Errorf("%q accepted", bad)
		}
	}
	p := Path{Team: "payments", Service: Service{Name: "checkout"}}
	got := []string{SandboxBranch("alice"), SandboxStackSuffix("alice"), p.SandboxProjectName("dev"), p.SandboxTableName("dev"),
		p.SandboxFunctionName("dev"), p.SandboxImageRepositoryName(), p.SandboxRoleName("dev")}
	want := []string{"sandbox/alice", "-sandbox-alice", "payments-checkout-dev-sandbox", "payments-checkout-dev-sandboxes",
		"payments-checkout-dev-sandboxes", "payments/checkout/sandboxes", "payments-checkout-dev-sandbox"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("names %q, want %q", got, want)
	}
}
