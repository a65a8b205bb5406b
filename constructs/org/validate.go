package org

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Problem is one thing wrong with a description: where, what was found, what is allowed.
type Problem struct {
	// Field is the path to the field, e.g. teams[0].services[1].environments[2].account.
	Field string
	// Value is the offending value as written ("" when missing).
	Value string
	// Allowed says what the field accepts.
	Allowed string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %q: %s", p.Field, p.Value, p.Allowed)
}

// ValidationError lists every problem found, in file order, so a user fixes all at once.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, 0, len(e.Problems)+1)
	lines = append(lines, fmt.Sprintf("invalid organization: %d problem(s)", len(e.Problems)))
	for _, p := range e.Problems {
		lines = append(lines, "  "+p.String())
	}
	return strings.Join(lines, "\n")
}

var (
	teamName     = regexp.MustCompile(`^[a-z][a-z0-9-]{0,14}[a-z0-9]$`)
	serviceName  = regexp.MustCompile(`^[a-z][a-z0-9-]{0,18}[a-z0-9]$`)
	envName      = regexp.MustCompile(`^[a-z][a-z0-9]{1,7}$`)
	accountID    = regexp.MustCompile(`^[0-9]{12}$`)
	cdkQualifier = regexp.MustCompile(`^[a-z0-9]{1,10}$`)
	// Region syntax: partition-area-direction-number, e.g. eu-west-1, us-gov-west-1, ap-southeast-7.
	regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+){1,2}-[0-9]{1,2}$`)
	// Branch: the subset of git ref names that is safe in an EventBridge pattern and a URL.
	branchName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$`)
	email      = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	roleName   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	iamARN     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[\w+=,.@/-]{1,128}$`)
)

const (
	allowedTeam     = "2-16 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen"
	allowedService  = "2-20 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen"
	allowedEnv      = "2-8 lowercase letters or digits, starting with a letter (e.g. dev, stg, prd)"
	allowedAccount  = "a 12-digit AWS account id, quoted in YAML so leading zeros survive"
	allowedRegion   = "an AWS region name such as eu-west-1 or us-gov-west-1"
	allowedBranch   = "a git branch name of letters, digits, '.', '_', '/', '-', not starting with a symbol, not containing '..', not ending in '/' or '.lock'"
	allowedEmail    = "an e-mail address such as team@example.com"
	allowedARN      = "an IAM role or user ARN such as arn:aws:iam::123456789012:role/Approvers"
	allowedCommand  = "a non-empty shell command"
	allowedRoleName = "an IAM role name (not an ARN): 1-64 letters, digits or +=,.@_-"
)

// Normalize returns a copy of o with every default applied, or a *ValidationError that
// lists every problem found. The receiver is never modified.
func (o Organization) Normalize() (Organization, error) {
	n := o.withDefaults()
	if problems := n.validate(); len(problems) > 0 {
		return Organization{}, &ValidationError{Problems: problems}
	}
	return n, nil
}

func (o Organization) withDefaults() Organization {
	out := Organization{Registry: o.Registry, Settings: o.Settings, Teams: make([]Team, len(o.Teams))}
	if out.Settings.HistoryPages == 0 {
		out.Settings.HistoryPages = DefaultHistoryPages
	}
	if out.Settings.CdkQualifier == "" {
		out.Settings.CdkQualifier = DefaultCdkQualifier
	}
	for ti, t := range o.Teams {
		nt := Team{Name: t.Name, Services: make([]Service, len(t.Services))}
		for si, s := range t.Services {
			ns := s
			ns.Notify = append([]string(nil), s.Notify...)
			ns.Commands = Commands{
				Build:  append([]string(nil), s.Commands.Build...),
				Deploy: append([]string(nil), s.Commands.Deploy...),
				Verify: append([]string(nil), s.Commands.Verify...),
				Image:  append([]string(nil), s.Commands.Image...),
			}
			ns.PullRoles = append([]string(nil), s.PullRoles...)
			ns.Environments = make([]Environment, len(s.Environments))
			for ei, e := range s.Environments {
				ne := e
				ne.Approvers = append([]string(nil), e.Approvers...)
				if ne.Branch == "" {
					ne.Branch = DefaultBranch
				}
				if ne.Upstream == "" {
					if ei == 0 {
						ne.Upstream = UpstreamNone
					} else {
						ne.Upstream = s.Environments[ei-1].Name
					}
				}
				if ne.Approval == nil {
					v := ne.Name == "prd"
					ne.Approval = &v
				} else {
					v := *ne.Approval
					ne.Approval = &v
				}
				ns.Environments[ei] = ne
			}
			nt.Services[si] = ns
		}
		out.Teams[ti] = nt
	}
	return out
}

func (o Organization) validate() []Problem {
	var ps []Problem
	bad := func(field, value, allowed string) {
		ps = append(ps, Problem{Field: field, Value: value, Allowed: allowed})
	}
	check := func(field, value string, re *regexp.Regexp, allowed string) {
		if !re.MatchString(value) {
			bad(field, value, allowed)
		}
	}

	check("registry.account", o.Registry.Account, accountID, allowedAccount)
	if n := o.Settings.HistoryPages; n < 1 || n > MaxHistoryPages {
		bad("settings.historyPages", fmt.Sprint(n), fmt.Sprintf("a whole number of pages of %d executions, from 1 to %d", HistoryPageSize, MaxHistoryPages))
	}
	// CDK's bootstrap accepts 1-10 lowercase letters and digits.
	check("settings.cdkQualifier", o.Settings.CdkQualifier, cdkQualifier, "1-10 lowercase letters or digits, as given to cdk bootstrap --qualifier")
	check("registry.region", o.Registry.Region, regionName, allowedRegion)

	if len(o.Teams) == 0 {
		bad("teams", "", "at least one team")
	}
	teams := map[string]bool{}
	for ti, t := range o.Teams {
		tf := fmt.Sprintf("teams[%d]", ti)
		check(tf+".name", t.Name, teamName, allowedTeam)
		if teams[t.Name] {
			bad(tf+".name", t.Name, "a team name not used by another team")
		}
		teams[t.Name] = true
		if len(t.Services) == 0 {
			bad(tf+".services", "", "at least one service")
		}
		services := map[string]bool{}
		for si, s := range t.Services {
			sf := fmt.Sprintf("%s.services[%d]", tf, si)
			check(sf+".name", s.Name, serviceName, allowedService)
			if services[s.Name] {
				bad(sf+".name", s.Name, "a service name not used by another service of the same team")
			}
			services[s.Name] = true
			for i, a := range s.Notify {
				check(fmt.Sprintf("%s.notify[%d]", sf, i), a, email, allowedEmail)
			}
			for _, step := range []struct {
				name string
				cmds []string
			}{{"build", s.Commands.Build}, {"deploy", s.Commands.Deploy}, {"verify", s.Commands.Verify}, {"image", s.Commands.Image}} {
				for i, c := range step.cmds {
					if strings.TrimSpace(c) == "" {
						bad(fmt.Sprintf("%s.commands.%s[%d]", sf, step.name, i), c, allowedCommand)
					}
				}
			}
			for i, r := range s.PullRoles {
				check(fmt.Sprintf("%s.pullRoles[%d]", sf, i), r, roleName, allowedRoleName)
			}
			ps = append(ps, validateEnvironments(sf, s.Environments)...)
		}
	}
	return ps
}

func validateEnvironments(sf string, envs []Environment) []Problem {
	var ps []Problem
	bad := func(field, value, allowed string) {
		ps = append(ps, Problem{Field: field, Value: value, Allowed: allowed})
	}
	if len(envs) == 0 {
		bad(sf+".environments", "", "at least one environment")
		return ps
	}
	index := map[string]int{}
	var names []string
	for i, e := range envs {
		if _, dup := index[e.Name]; !dup {
			index[e.Name] = i
			names = append(names, e.Name)
		}
	}
	seen := map[string]bool{}
	roots := 0
	for ei, e := range envs {
		ef := fmt.Sprintf("%s.environments[%d]", sf, ei)
		if !envName.MatchString(e.Name) {
			bad(ef+".name", e.Name, allowedEnv)
		} else if e.Name == UpstreamNone {
			bad(ef+".name", e.Name, "any name but \"none\", which is reserved for upstream")
		}
		duplicate := seen[e.Name]
		if duplicate {
			bad(ef+".name", e.Name, "an environment name not used by another environment of the same service")
		}
		seen[e.Name] = true
		if !accountID.MatchString(e.Account) {
			bad(ef+".account", e.Account, allowedAccount)
		}
		if !regionName.MatchString(e.Region) {
			bad(ef+".region", e.Region, allowedRegion)
		}
		if !branchName.MatchString(e.Branch) || strings.Contains(e.Branch, "..") ||
			strings.HasSuffix(e.Branch, "/") || strings.HasSuffix(e.Branch, ".lock") {
			bad(ef+".branch", e.Branch, allowedBranch)
		}
		for i, a := range e.Approvers {
			if !iamARN.MatchString(a) {
				bad(fmt.Sprintf("%s.approvers[%d]", ef, i), a, allowedARN)
			}
		}
		if !e.HasUpstream() {
			roots++
			continue
		}
		if duplicate {
			continue // its upstream cannot be judged until the name is fixed
		}
		if e.Upstream == e.Name {
			bad(ef+".upstream", e.Upstream, "another environment of the same service; an environment cannot be its own upstream")
		} else if _, ok := index[e.Upstream]; !ok {
			bad(ef+".upstream", e.Upstream, fmt.Sprintf("one of %v, or %q", names, UpstreamNone))
		}
	}
	if roots != 1 {
		bad(sf+".environments", fmt.Sprintf("%d environments without upstream", roots),
			"exactly one environment without upstream: the first, where the image is built")
	}
	// Follow each chain of upstreams; a chain that revisits an environment is a cycle.
	reported := map[string]bool{}
	for ei, e := range envs {
		chain := []string{e.Name}
		visited := map[string]bool{e.Name: true}
		cur := e
		for cur.HasUpstream() {
			ui, ok := index[cur.Upstream]
			if !ok || cur.Upstream == cur.Name {
				break // reported above
			}
			cur = envs[ui]
			chain = append(chain, cur.Name)
			if visited[cur.Name] {
				key := cycleKey(chain)
				if !reported[key] {
					reported[key] = true
					bad(fmt.Sprintf("%s.environments[%d].upstream", sf, ei), e.Upstream,
						"an upstream chain that ends at the first environment; found the cycle "+strings.Join(chain, " -> "))
				}
				break
			}
			visited[cur.Name] = true
		}
	}
	return ps
}

// cycleKey identifies a cycle independently of where it was entered, so each is reported once.
func cycleKey(chain []string) string {
	last := chain[len(chain)-1]
	start := 0
	for i, n := range chain {
		if n == last {
			start = i
			break
		}
	}
	loop := append([]string(nil), chain[start:len(chain)-1]...)
	minI := 0
	for i := range loop {
		if loop[i] < loop[minI] {
			minI = i
		}
	}
	return strings.Join(append(loop[minI:], loop[:minI]...), ",")
}

// Normalize returns a copy of the path with every default applied, or a *ValidationError
// whose field names start with "path." (e.g. path.environments[1].account). It checks
// what Organization.Normalize checks for one path, and nothing about the registry.
func (p Path) Normalize() (Path, error) {
	o := Organization{
		Registry: Registry{Account: "000000000000", Region: "us-east-1"}, // not validated here
		Settings: p.Settings,
		Teams:    []Team{{Name: p.Team, Services: []Service{p.Service}}},
	}
	n, err := o.Normalize()
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			for i := range ve.Problems {
				f := ve.Problems[i].Field
				f = strings.Replace(f, "teams[0].services[0].", "path.", 1)
				f = strings.Replace(f, "teams[0].services[0]", "path", 1)
				f = strings.Replace(f, "teams[0].name", "path.team", 1)
				f = strings.Replace(f, "settings.", "path.settings.", 1)
				ve.Problems[i].Field = f
			}
		}
		return Path{}, err
	}
	return n.Paths()[0], nil
}
