package org

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/platform-eng/pathtoprod/constructs/deploywindow"
	"github.com/platform-eng/pathtoprod/constructs/vulnscan"
)

// Problem is one thing wrong with a description: where, what was found, what is allowed.
type Problem struct {
	// Field is the path to the field, e.g. teams[0].services[1].environments[2].account.
	Field string
	// Value is the offending value as written ("" when missing).
	Value string
	// Allowed says what the field accepts.
	Allowed string
	// Line is the field's line in the YAML file, or 0 when unknown (an Organization built in Go).
	Line int
}

// String is "field: "value": allowed", with " (line N)" when the line is known. The value is
// quoted with its control characters escaped, and cut to maxEcho bytes (saying how long it
// was) so that a huge value never makes a huge message.
func (p Problem) String() string {
	s := p.Field + ": " + echo(p.Value) + ": " + p.Allowed
	if p.Line > 0 {
		s += fmt.Sprintf(" (line %d)", p.Line)
	}
	return s
}

// maxEcho is how many bytes of a value a message repeats.
const maxEcho = 80

// echo quotes v for a message, cut to maxEcho bytes: "aaaa…" (5242880 bytes).
func echo(v string) string {
	if len(v) <= maxEcho {
		return strconv.Quote(v)
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	q := strconv.Quote(v[:cut])
	return q[:len(q)-1] + "…\" (" + strconv.Itoa(len(v)) + " bytes)"
}

// ValidationError lists every problem found, in file order, so a user fixes all at once.
// Parse puts the problems of decoding the YAML (unknown fields, wrong types) in it too.
type ValidationError struct {
	Problems []Problem
}

// Error is "invalid organization: N problem(s)" followed by one indented line per problem.
func (e *ValidationError) Error() string {
	lines := make([]string, 0, len(e.Problems)+1)
	lines = append(lines, fmt.Sprintf("invalid organization: %d problem(s)", len(e.Problems)))
	for _, p := range e.Problems {
		lines = append(lines, "  "+p.String())
	}
	return strings.Join(lines, "\n")
}

const (
	allowedTeam     = "2-16 lowercase letters or digits in runs joined by single hyphens, starting with a letter (e.g. payments, web-shop), as every AWS name derived from it requires"
	allowedService  = "2-20 lowercase letters or digits in runs joined by single hyphens, starting with a letter (e.g. checkout, card-api), as every AWS name derived from it requires"
	allowedEnv      = "2-8 lowercase letters or digits, starting with a letter (e.g. dev, stg, prd)"
	allowedAccount  = "a 12-digit AWS account id, quoted in YAML so leading zeros survive"
	allowedRegion   = "an AWS region name such as eu-west-1 or us-gov-west-1"
	allowedBranch   = "a git branch name of at most 100 letters, digits, '.', '_', '/' or '-' that git accepts"
	allowedEmail    = "an e-mail address such as team@example.com"
	allowedARN      = "an IAM role or user ARN such as arn:aws:iam::123456789012:role/Approvers"
	allowedCommand  = "a non-empty shell command"
	allowedRoleName = "an IAM role name (not an ARN): 1-64 letters, digits or +=,.@_-"
)

// Normalize returns a copy of o with every default applied, or a *ValidationError that
// lists every problem found. The receiver is never modified.
func (o Organization) Normalize() (Organization, error) {
	n := o.withDefaults()
	if problems := n.validate(nil); len(problems) > 0 {
		return Organization{}, &ValidationError{Problems: problems}
	}
	return n, nil
}

func (o Organization) withDefaults() Organization {
	out := Organization{Registry: o.Registry, Settings: o.Settings, Teams: make([]Team, len(o.Teams))}
	if out.Registry.Scanning == "" {
		out.Registry.Scanning = ScanningBasic
	}
	if out.Settings.HistoryPages == 0 {
		out.Settings.HistoryPages = DefaultHistoryPages
	}
	if out.Settings.PermissionsBoundary == "" {
		out.Settings.PermissionsBoundary = DefaultPermissionsBoundary
	}
	if out.Settings.CdkQualifier == "" {
		out.Settings.CdkQualifier = DefaultCdkQualifier
	}
	// nil is unset; an empty list written in the file stays empty, and is refused.
	if out.Settings.CompliancePacks == nil {
		out.Settings.CompliancePacks = DefaultCompliancePacks
	}
	out.Settings.CompliancePacks = append([]string(nil), out.Settings.CompliancePacks...)
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
				Plan:   append([]string(nil), s.Commands.Plan...),
			}
			ns.PullRoles = append([]string(nil), s.PullRoles...)
			ns.Environments = make([]Environment, len(s.Environments))
			for ei, e := range s.Environments {
				ne := e
				ne.Approvers = append([]string(nil), e.Approvers...)
				if ne.Upstream == "" {
					if ei == 0 {
						ne.Upstream = UpstreamNone
					} else {
						ne.Upstream = s.Environments[ei-1].Name
					}
				}
				if e.Watch != nil {
					w := *e.Watch
					w.Alarms = append([]string(nil), e.Watch.Alarms...)
					if len(w.Alarms) == 0 {
						w.Alarms = []string{Path{Team: t.Name, Service: Service{Name: s.Name}}.HealthAlarmName(e.Name)}
					}
					if w.Bake == "" {
						w.Bake = DefaultBake
					}
					if w.Wait == "" {
						w.Wait = DefaultEntryWait
					}
					ne.Watch = &w
				}
				if e.Window != nil {
					w := *e.Window
					ne.Window = &w
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
			// An environment no other follows (the last, e.g. prd) rolls back by default.
			for ei, e := range ns.Environments {
				if e.RollbackOnFailure != nil {
					v := *e.RollbackOnFailure
					ns.Environments[ei].RollbackOnFailure = &v
					continue
				}
				last := isLast(ns.Environments, e.Name)
				ns.Environments[ei].RollbackOnFailure = &last
			}
			// The guard of every environment with an upstream gates the image's scan: CRITICAL
			// refused in the last environment, counts reported elsewhere.
			for ei, e := range ns.Environments {
				if !e.HasUpstream() {
					if e.Vulnerabilities != nil {
						v := *e.Vulnerabilities
						ns.Environments[ei].Vulnerabilities = &v
					}
					continue // refused by validation when set
				}
				v := Vulnerabilities{}
				if e.Vulnerabilities != nil {
					v = *e.Vulnerabilities
				}
				if v.Refuse == "" {
					v.Refuse = string(vulnscan.None)
					if isLast(ns.Environments, e.Name) {
						v.Refuse = string(vulnscan.Critical)
					}
				}
				if t, err := vulnscan.ParseThreshold(v.Refuse); err == nil {
					v.Refuse = string(t)
				}
				if v.Unscanned == "" {
					v.Unscanned = string(vulnscan.Refuse)
				}
				if u, err := vulnscan.ParseUnscanned(v.Unscanned); err == nil {
					v.Unscanned = string(u)
				}
				ns.Environments[ei].Vulnerabilities = &v
			}
			sourceDefaults(&ns)
			nt.Services[si] = ns
		}
		out.Teams[ti] = nt
	}
	return out
}

var (
	policyName = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	// boundaryPlaceholders stand in for the longest values they take, for the length check.
	boundaryPlaceholders = strings.NewReplacer("${Qualifier}", "qqqqqqqqqq", "${AWS::AccountId}", "000000000000", "${AWS::Region}", "ap-southeast-4")
)

// isLast reports whether no environment of envs names env as its upstream.
func isLast(envs []Environment, env string) bool {
	for _, other := range envs {
		if other.Upstream == env {
			return false
		}
	}
	return true
}

// checker collects problems in the order found, leaving out those about a field that did not
// decode (undecoded, from Parse): that field has already been reported, and what validation
// sees in its place is a zero value the user never wrote.
type checker struct {
	ps        []Problem
	undecoded map[string]bool
}

// compliancePacks checks settings.compliancePacks: known names, each once, AwsSolutions
// among them.
func (c *checker) compliancePacks(packs []string) {
	known := strings.Join(CompliancePackNames, ", ")
	seen := map[string]int{}
	for i, p := range packs {
		f := fmt.Sprintf("settings.compliancePacks[%d]", i)
		switch first, dup := seen[p]; {
		case !slices.Contains(CompliancePackNames, p):
			c.bad(f, p, "one of cdk-nag's packs: "+known+" (exactly so written)")
		case dup:
			c.bad(f, p, fmt.Sprintf("a pack not listed before; settings.compliancePacks[%d] has it", first))
		default:
			seen[p] = i
		}
	}
	if !slices.Contains(packs, PackAwsSolutions) && !c.skipped("settings.compliancePacks") {
		c.bad("settings.compliancePacks", "["+strings.Join(packs, ", ")+"]",
			"a list that includes "+PackAwsSolutions+" (it reviews every wildcard permission of the platform's roles), plus any of "+known)
	}
}

func (c *checker) bad(field, value, allowed string) {
	if !c.skipped(field) {
		c.ps = append(c.ps, Problem{Field: field, Value: value, Allowed: allowed})
	}
}

func (c *checker) check(field, value string, ok func(string) bool, allowed string) {
	if !ok(value) {
		c.bad(field, value, allowed)
	}
}

// skipped reports whether field, or a field it is part of, did not decode.
func (c *checker) skipped(field string) bool {
	if len(c.undecoded) == 0 {
		return false
	}
	for i := 0; i <= len(field); i++ {
		if (i == len(field) || field[i] == '.' || field[i] == '[') && c.undecoded[field[:i]] {
			return true
		}
	}
	return false
}

func matches(re *regexp.Regexp) func(string) bool { return re.MatchString }

// validate lists every problem of a normalized o in file order. undecoded holds the fields
// Parse could not decode (nil for an Organization built in Go).
func (o Organization) validate(undecoded map[string]bool) []Problem {
	c := &checker{undecoded: undecoded}
	c.check("registry.account", o.Registry.Account, IsAccountID, allowedAccount)
	c.check("registry.region", o.Registry.Region, IsRegion, allowedRegion)
	if sc := o.Registry.Scanning; sc != ScanningBasic && sc != ScanningEnhanced {
		c.bad("registry.scanning", sc, fmt.Sprintf("%q (ECR scan on push) or %q (Amazon Inspector)", ScanningBasic, ScanningEnhanced))
	}
	// 0 is "unset" and became the default; only a written value can be out of range here.
	if n := o.Settings.HistoryPages; n < 1 || n > MaxHistoryPages {
		c.bad("settings.historyPages", fmt.Sprint(n), fmt.Sprintf("a whole number of pages of %d executions, from 1 to %d", HistoryPageSize, MaxHistoryPages))
	}
	// CDK's bootstrap accepts 1-10 lowercase letters and digits.
	c.check("settings.cdkQualifier", o.Settings.CdkQualifier, matches(cdkQualifier), "1-10 lowercase letters or digits, as given to cdk bootstrap --qualifier")
	if b := o.Settings.PermissionsBoundary; b != NoPermissionsBoundary && !policyName.MatchString(boundaryPlaceholders.Replace(b)) {
		c.bad("settings.permissionsBoundary", b, `an IAM managed policy name (1-128 letters, digits or +=,.@_-; `+
			`${Qualifier}, ${AWS::AccountId} and ${AWS::Region} are replaced per account), or "none"`)
	}
	c.compliancePacks(o.Settings.CompliancePacks)

	if len(o.Teams) == 0 {
		c.bad("teams", "", "at least one team")
	}
	teams := map[string]int{}
	ids := map[string]idOwner{}
	for ti, t := range o.Teams {
		tf := fmt.Sprintf("teams[%d]", ti)
		c.check(tf+".name", t.Name, isTeamName, allowedTeam)
		first, dupTeam := teams[t.Name]
		if dupTeam && t.Name != "" {
			c.bad(tf+".name", t.Name, fmt.Sprintf("a team name not used by another team; teams[%d] has it", first))
		} else if !dupTeam {
			teams[t.Name] = ti
		}
		if len(t.Services) == 0 {
			c.bad(tf+".services", "", "at least one service")
		}
		services := map[string]int{}
		for si, s := range t.Services {
			sf := fmt.Sprintf("%s.services[%d]", tf, si)
			c.check(sf+".name", s.Name, isServiceName, allowedService)
			first, dupService := services[s.Name]
			if dupService && s.Name != "" {
				c.bad(sf+".name", s.Name, fmt.Sprintf("a service name not used by another service of the same team; %s.services[%d] has it", tf, first))
			} else if !dupService {
				services[s.Name] = si
			}
			// A duplicate team or service is reported above; its id is not a second problem.
			if !dupTeam && !dupService && isTeamName(t.Name) && isServiceName(s.Name) {
				c.uniqueID(ids, sf, t.Name, s.Name)
			}
			for i, a := range s.Notify {
				c.check(fmt.Sprintf("%s.notify[%d]", sf, i), a, matches(email), allowedEmail)
			}
			for _, step := range []struct {
				name string
				cmds []string
			}{{"build", s.Commands.Build}, {"deploy", s.Commands.Deploy}, {"verify", s.Commands.Verify}, {"image", s.Commands.Image}, {"plan", s.Commands.Plan}} {
				for i, cmd := range step.cmds {
					if strings.TrimSpace(cmd) == "" {
						c.bad(fmt.Sprintf("%s.commands.%s[%d]", sf, step.name, i), cmd, allowedCommand)
					}
				}
			}
			for i, r := range s.PullRoles {
				c.check(fmt.Sprintf("%s.pullRoles[%d]", sf, i), r, matches(roleName), allowedRoleName)
			}
			c.environments(sf, t.Name, s.Name, s.Environments, s.Source.UsesConnection())
			c.source(sf, t.Name, s)
		}
	}
	return c.ps
}

// idOwner is the first path found with a given id.
type idOwner struct{ field, team, service string }

// uniqueID refuses a path whose id ("team-service") another path already has: team ab-cd with
// service ef and team ab with service cd-ef would share every derived name.
//
// The id is the only cross-path check needed. Every other derived name is
// <id>-<env>[-<suffix>] (pipeline, stack, roles, CodeBuild projects, topic, notification
// rule, guard function), and neither an environment name nor a suffix (pipeline, build,
// deploy, guard, reader, approver, notifications, failed, or a step name of letters and
// digits) contains a hyphen. Read from the right, such a name gives back its suffix, its
// environment and its id, so two of them are equal only when id and environment are: the
// same path's same environment. <id> alone (the CodeCommit repository) can equal another
// path's <id>-<env> (a pipeline), but never a name of the same kind, so AWS never sees a
// clash. The image repository <team>/<service> cannot collide: '/' is in no name.
// TestEveryDerivedNameCollisionIsRefused checks this by brute force.
func (c *checker) uniqueID(ids map[string]idOwner, sf, team, service string) {
	id := team + "-" + service
	first, taken := ids[id]
	if !taken {
		ids[id] = idOwner{sf, team, service}
		return
	}
	c.bad(sf, id, fmt.Sprintf("a team-service id no other path derives; %s (team %q, service %q) derives it too, and both would name their repository, pipelines, stacks and roles alike", first.field, first.team, first.service))
}

// environments checks the environments of the service at sf.
func (c *checker) environments(sf, team, service string, envs []Environment, connection bool) {
	if len(envs) == 0 {
		c.bad(sf+".environments", "", "at least one environment")
		return
	}
	index := map[string]int{}
	var names []string
	for i, e := range envs {
		if _, dup := index[e.Name]; !dup {
			index[e.Name] = i
			if envName.MatchString(e.Name) {
				names = append(names, e.Name)
			}
		}
	}
	// The upstream chain can only be judged when every name and upstream was read as written.
	chainKnown := true
	for ei := range envs {
		ef := fmt.Sprintf("%s.environments[%d]", sf, ei)
		if c.skipped(ef+".name") || c.skipped(ef+".upstream") {
			chainKnown = false
		}
	}
	seen := map[string]bool{}
	places := map[string]int{} // "account region" -> first environment there
	roots := 0
	for ei, e := range envs {
		ef := fmt.Sprintf("%s.environments[%d]", sf, ei)
		if !envName.MatchString(e.Name) {
			c.bad(ef+".name", e.Name, allowedEnv)
		} else if e.Name == UpstreamNone {
			c.bad(ef+".name", e.Name, "any name but \"none\", which is reserved for upstream")
		}
		duplicate := seen[e.Name] && e.Name != ""
		if duplicate {
			c.bad(ef+".name", e.Name, fmt.Sprintf("an environment name not used by another environment of the same service; environments[%d] has it", index[e.Name]))
		}
		seen[e.Name] = true
		c.check(ef+".account", e.Account, IsAccountID, allowedAccount)
		c.check(ef+".region", e.Region, IsRegion, allowedRegion)
		// Each environment's stack creates the CodeCommit repository <id> in its account and
		// region, so two environments there would create the same repository. In one account
		// but different regions they are fine: regional names do not meet, and the IAM role
		// names, global to the account, contain the environment name.
		if IsAccountID(e.Account) && IsRegion(e.Region) && !connection {
			where := e.Account + " " + e.Region
			if fi, taken := places[where]; taken {
				repo := "the same CodeCommit repository"
				if isTeamName(team) && isServiceName(service) {
					repo = fmt.Sprintf("CodeCommit repository %q", team+"-"+service)
				}
				c.bad(ef, where, fmt.Sprintf("an account and region no other environment of the service uses; environments[%d] (%s) is there too, and both would create %s", fi, display(envs[fi].Name), repo))
			} else {
				places[where] = ei
			}
		}
		if p := branchProblem(e.Branch); p != "" {
			c.bad(ef+".branch", e.Branch, allowedBranch+"; "+p)
		}
		for i, a := range e.Approvers {
			c.check(fmt.Sprintf("%s.approvers[%d]", ef, i), a, matches(iamARN), allowedARN)
		}
		c.watch(ef, e)
		c.vulnerabilities(ef, e)
		if !e.HasUpstream() {
			roots++
			continue
		}
		if duplicate || !chainKnown {
			continue // its upstream cannot be judged until the names are fixed
		}
		if e.Upstream == e.Name {
			c.bad(ef+".upstream", e.Upstream, "another environment of the same service; an environment cannot be its own upstream")
		} else if _, ok := index[e.Upstream]; !ok {
			c.bad(ef+".upstream", e.Upstream, fmt.Sprintf("one of %v, or %q", names, UpstreamNone))
		}
	}
	if !chainKnown {
		return
	}
	if roots != 1 {
		c.bad(sf+".environments", fmt.Sprintf("%d environments without upstream", roots),
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
					shown := make([]string, len(chain))
					for i, n := range chain {
						shown[i] = display(n)
					}
					c.bad(fmt.Sprintf("%s.environments[%d].upstream", sf, ei), e.Upstream,
						"an upstream chain that ends at the first environment; found the cycle "+strings.Join(shown, " -> "))
				}
				break
			}
			visited[cur.Name] = true
		}
	}
}

// display shows an environment name inside a message: as is when valid, else echoed.
func display(name string) string {
	if envName.MatchString(name) {
		return name
	}
	return echo(name)
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
// what Organization.Normalize checks for one path (names, branches, regions, upstreams, no
// two environments in one account and region, settings), and nothing about the registry or
// other paths: only an Organization can tell that two paths derive the same names.
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

const (
	allowedAlarmName = "a CloudWatch alarm name of the environment's account and region: 1-255 characters, no control characters, no * or ? (they would be wildcards in the pipeline role's policy)"
	allowedWatchTime = "whole minutes as a Go duration, e.g. 10m or 1h"
)

// watch checks an environment's watch, window and their shared limit of rules per condition.
func (c *checker) watch(ef string, e Environment) {
	if w := e.Watch; w != nil {
		max := MaxWatchedAlarms
		if e.Window != nil {
			max-- // the window is a rule of the same entry condition
		}
		if len(w.Alarms) > max {
			c.bad(ef+".watch.alarms", fmt.Sprintf("%d alarms", len(w.Alarms)), fmt.Sprintf(
				"at most %d alarm names (CodePipeline takes five rules per condition%s); combine more into a composite alarm",
				max, map[bool]string{true: ", and the window is one of them", false: ""}[e.Window != nil]))
		}
		seen := map[string]int{}
		for i, a := range w.Alarms {
			f := fmt.Sprintf("%s.watch.alarms[%d]", ef, i)
			// * and ? would be wildcards in the pipeline role's cloudwatch:DescribeAlarms resource.
			if a == "" || len(a) > 255 || strings.ContainsAny(a, "*?") || strings.IndexFunc(a, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 || !utf8.ValidString(a) {
				c.bad(f, a, allowedAlarmName)
			} else if j, dup := seen[a]; dup {
				c.bad(f, a, fmt.Sprintf("an alarm not already listed; alarms[%d] is the same", j))
			}
			seen[a] = i
		}
		c.minutes(ef+".watch.bake", w.Bake, 1)
		c.minutes(ef+".watch.wait", w.Wait, 0)
	}
	if w := e.Window; w != nil {
		if _, err := deploywindow.Parse(w.Cron, w.Duration, w.TimeZone); err != nil {
			var perr *deploywindow.Error
			if errors.As(err, &perr) {
				for _, p := range perr.Problems {
					c.bad(ef+".window."+p.Field, p.Value, p.Allowed)
				}
			}
		}
	}
}

// vulnerabilities checks an environment's vulnerability gate: only a guard applies one.
func (c *checker) vulnerabilities(ef string, e Environment) {
	v := e.Vulnerabilities
	if v == nil {
		return
	}
	if !e.HasUpstream() {
		c.bad(ef+".vulnerabilities", "set", "absent in an environment without an upstream: the image is built here, and the guards of the environments after it gate its scan")
		return
	}
	if _, err := vulnscan.ParseThreshold(v.Refuse); err != nil {
		c.bad(ef+".vulnerabilities.refuse", v.Refuse, vulnscan.AllowedThresholds)
	}
	if _, err := vulnscan.ParseUnscanned(v.Unscanned); err != nil {
		c.bad(ef+".vulnerabilities.unscanned", v.Unscanned, vulnscan.AllowedUnscanned)
	}
}

// minutes checks a watch time: whole minutes from min to MaxWatchMinutes.
func (c *checker) minutes(field, value string, min int) {
	d, err := time.ParseDuration(value)
	if err != nil || d%time.Minute != 0 || d < time.Duration(min)*time.Minute || d > MaxWatchMinutes*time.Minute {
		c.bad(field, value, fmt.Sprintf("%s, from %dm to %dm", allowedWatchTime, min, MaxWatchMinutes))
	}
}
