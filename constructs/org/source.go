package org

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Source is where a service's code lives, and so what each environment's pipeline watches.
//
// The default, CodeCommit, gives every environment account its own repository named
// RepositoryName: the environment's git remote, whose Branch (main) starts its pipeline.
//
// A connection provider (GitHub, GitLab, Bitbucket) keeps one repository on the provider's
// side for the whole path. Every environment's pipeline watches its own Branch of it (main
// in the first environment, env/<name> in the others by default) through a CodeConnections
// connection of its own account (Environment.Connection), and promotion is a push of the
// commit to that branch. The commit ids are git's either way, so the guard is unchanged.
type Source struct {
	// Provider is where the repository is: "codecommit", "github", "gitlab" or "bitbucket".
	// Default: ProviderCodeCommit.
	Provider string `yaml:"provider,omitempty"`
	// Repository is the repository on a connection provider, as the provider writes it:
	// "owner/name" (GitLab: "group/subgroup/name"). Required with a connection provider;
	// refused with CodeCommit, whose repositories are named RepositoryName.
	Repository string `yaml:"repository,omitempty"`
}

// The values of Source.Provider.
const (
	ProviderCodeCommit = "codecommit"
	ProviderGitHub     = "github"
	ProviderGitLab     = "gitlab"
	ProviderBitbucket  = "bitbucket"
)

// connectionProviders are the providers reached through a CodeConnections connection: the
// provider type CodePipeline's source action names, and the host of the provider's cloud
// service (self-managed GitLab and GitHub Enterprise Server are not supported here).
var connectionProviders = map[string]struct{ providerType, host string }{
	ProviderGitHub:    {"GitHub", "github.com"},
	ProviderGitLab:    {"GitLab", "gitlab.com"},
	ProviderBitbucket: {"Bitbucket", "bitbucket.org"},
}

// UsesConnection reports whether the source is a connection provider's repository rather
// than per-account CodeCommit repositories.
func (s Source) UsesConnection() bool {
	_, ok := connectionProviders[s.Provider]
	return ok
}

// ProviderType is the provider's name as CodeConnections and CodePipeline write it
// (GitHub, GitLab, Bitbucket), or "CodeCommit".
func (s Source) ProviderType() string {
	if p, ok := connectionProviders[s.Provider]; ok {
		return p.providerType
	}
	return "CodeCommit"
}

// Host is the provider's host name (github.com, gitlab.com, bitbucket.org), or "" for
// CodeCommit.
func (s Source) Host() string { return connectionProviders[s.Provider].host }

// CloneURL is the repository's HTTPS clone URL on a connection provider, or "" for CodeCommit.
func (s Source) CloneURL() string {
	if !s.UsesConnection() {
		return ""
	}
	return "https://" + s.Host() + "/" + s.Repository + ".git"
}

// ConnectionBranchPrefix prefixes the default branch of every environment but the first of a
// connection-sourced path: env/stg, env/prd. The first environment follows DefaultBranch.
const ConnectionBranchPrefix = "env/"

// Sandboxes lets developers deploy short-lived copies of the service into the first
// environment's account by pushing a branch SandboxBranchPrefix+<name> (sandbox/alice-fix)
// to the first environment's repository; deleting the branch destroys the copy.
type Sandboxes struct {
	// Max is how many sandboxes of the path may exist at once; a push that would create one
	// more is refused, and its pusher told. 1-MaxSandboxes. Default: DefaultMaxSandboxes.
	Max int `yaml:"max,omitempty"`
	// TTL is how long a sandbox may go without a push before it is destroyed, its branch
	// kept and its owner told (and warned a quarter of the TTL, at most a day, before).
	// Whole hours, 1h-720h. Default: DefaultSandboxTTL.
	TTL string `yaml:"ttl,omitempty"`
}

// Defaults and bounds of Sandboxes, and the branch prefix that makes one.
const (
	SandboxBranchPrefix = "sandbox/"
	DefaultMaxSandboxes = 3
	MaxSandboxes        = 20
	DefaultSandboxTTL   = "72h"
	MaxSandboxTTLHours  = 720
	// MaxSandboxName bounds the name after the prefix: it suffixes the sandbox's stack names.
	MaxSandboxName = 20
)

// SandboxLimit is how many sandboxes the path may have at once (0 without sandboxes).
func (s Service) SandboxLimit() int {
	if s.Sandboxes == nil {
		return 0
	}
	if s.Sandboxes.Max == 0 {
		return DefaultMaxSandboxes
	}
	return s.Sandboxes.Max
}

// SandboxTTL is how long a sandbox may go without a push (0 without sandboxes). On a
// normalized Organization the value has been checked; an unchecked one reads as the default.
func (s Service) SandboxTTL() time.Duration {
	if s.Sandboxes == nil {
		return 0
	}
	d, err := time.ParseDuration(s.Sandboxes.TTL)
	if err != nil || d <= 0 {
		d, _ = time.ParseDuration(DefaultSandboxTTL)
	}
	return d
}

// SandboxWarning is how long before a sandbox's idle expiry its owner is warned: a quarter
// of the TTL, at most a day.
func (s Service) SandboxWarning() time.Duration {
	return min(s.SandboxTTL()/4, 24*time.Hour)
}

// HasSandboxes reports whether developers may create sandboxes of the path.
func (s Service) HasSandboxes() bool { return s.Sandboxes != nil }

// SandboxNameProblem says why name (what follows SandboxBranchPrefix in a branch) cannot
// name a sandbox, or "" when it can. The name ends up in stack names, CloudFormation tags
// and shell commands, so it is a DNS-like label: lowercase letters and digits in runs joined
// by single hyphens, starting with a letter, 1-MaxSandboxName characters.
func SandboxNameProblem(name string) string {
	switch {
	case name == "":
		return "the name after " + SandboxBranchPrefix + " is empty"
	case len(name) > MaxSandboxName:
		return fmt.Sprintf("%d characters is longer than %d", len(name), MaxSandboxName)
	case !dnsLikeName.MatchString(name):
		return "it is not lowercase letters and digits in runs joined by single hyphens, starting with a letter"
	}
	return ""
}

// AllowedSandboxName says what SandboxNameProblem accepts, for messages.
var AllowedSandboxName = fmt.Sprintf("1-%d lowercase letters or digits in runs joined by single hyphens, starting with a letter (e.g. alice, fix-login)", MaxSandboxName)

// SandboxBranch is the branch whose pushes deploy sandbox name.
func SandboxBranch(name string) string { return SandboxBranchPrefix + name }

// SandboxStackSuffix is what every stack of sandbox name ends with: a service's CDK app
// appends it to its stack names when the SANDBOX variable is set (package sandbox), and the
// sandbox's deploy refuses an app whose stacks lack it, so no sandbox can update the
// environment's own stacks.
func SandboxStackSuffix(name string) string { return "-sandbox-" + name }

// Names of the sandbox machinery in the first environment's account (env is its name).
// Suffixes have no hyphen, like every other derived name (see uniqueID).

// SandboxProjectName is the CodeBuild project that deploys and destroys sandboxes.
func (p Path) SandboxProjectName(env string) string { return p.ProjectName(env, "sandbox") }

// SandboxTableName is the DynamoDB table of the path's sandboxes: one item each, with its
// branch, commit, owner, times and status; ship sandbox list reads it.
func (p Path) SandboxTableName(env string) string { return p.PipelineName(env) + "-sandboxes" }

// SandboxFunctionName is the Lambda function that reacts to sandbox branches and expires
// idle sandboxes.
func (p Path) SandboxFunctionName(env string) string { return p.PipelineName(env) + "-sandboxes" }

// SandboxImageRepositoryName is the ECR repository, in the first environment's account, of
// sandbox images: never the shared registry, so promotion cannot pick one up.
func (p Path) SandboxImageRepositoryName() string { return p.Team + "/" + p.Name + "/sandboxes" }

// SandboxRoleName is the role of the sandbox project.
func (p Path) SandboxRoleName(env string) string { return p.ID() + "-" + env + "-sandbox" }

var (
	// connectionARN is a CodeConnections connection (the codestar-connections service name
	// is the older one of the same connections).
	connectionARN = regexp.MustCompile(`^arn:aws[a-z-]*:(codeconnections|codestar-connections):([a-z0-9-]+):([0-9]{12}):connection/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	// repositoryPath is owner/name, or group/subgroup/.../name (GitLab), of the characters the
	// three providers allow in owner and repository names.
	repositoryPath = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){1,5}$`)
)

// ConnectionAccount and ConnectionRegion read a connection ARN's account and region ("" when
// it is not one).
func ConnectionAccount(arn string) string { return connectionPart(arn, 3) }
func ConnectionRegion(arn string) string  { return connectionPart(arn, 2) }

func connectionPart(arn string, i int) string {
	m := connectionARN.FindStringSubmatch(arn)
	if m == nil {
		return ""
	}
	return m[i]
}

const (
	allowedProvider   = `"codecommit" (a repository in every environment account), "github", "gitlab" or "bitbucket" (one repository, through a CodeConnections connection per environment account)`
	allowedConnection = "the ARN of a CodeConnections connection in the environment's own account and region, e.g. arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
	allowedSandboxTTL = "whole hours as a Go duration, from 1h to 720h (30 days), e.g. 72h"
)

// sourceDefaults applies the source's defaults to a service whose other defaults are applied.
func sourceDefaults(s *Service) {
	if s.Source.Provider == "" {
		s.Source.Provider = ProviderCodeCommit
	}
	for i := range s.Environments {
		e := &s.Environments[i]
		if e.Branch != "" {
			continue
		}
		e.Branch = DefaultBranch
		if s.Source.UsesConnection() && i > 0 {
			e.Branch = ConnectionBranchPrefix + e.Name
		}
	}
	if s.Sandboxes != nil {
		sb := *s.Sandboxes
		if sb.Max == 0 {
			sb.Max = DefaultMaxSandboxes
		}
		if sb.TTL == "" {
			sb.TTL = DefaultSandboxTTL
		}
		s.Sandboxes = &sb
	}
}

// source checks a service's source, its environments' connections and branches against it,
// and its sandboxes.
func (c *checker) source(sf, team string, s Service) {
	src := s.Source
	conn := src.UsesConnection()
	switch {
	case src.Provider != ProviderCodeCommit && !conn:
		c.bad(sf+".source.provider", src.Provider, allowedProvider)
	case conn && !repositoryPath.MatchString(src.Repository):
		c.bad(sf+".source.repository", src.Repository, fmt.Sprintf("the repository on %s as owner/name (GitLab: group/subgroup/name): letters, digits, '.', '_' and '-' in 2 to 6 parts joined by '/'", src.Host()))
	case conn && src.Provider != ProviderGitLab && strings.Count(src.Repository, "/") != 1:
		// Only GitLab nests projects in (sub)groups; GitHub and Bitbucket have owner/name.
		c.bad(sf+".source.repository", src.Repository, fmt.Sprintf("the repository on %s as owner/name: only GitLab repositories are in (sub)groups", src.Host()))
	case !conn && src.Repository != "":
		c.bad(sf+".source.repository", src.Repository, "nothing with a CodeCommit source: every environment account has its own repository "+team+"-"+s.Name+"; name a repository only with provider github, gitlab or bitbucket")
	}
	branches := map[string]int{}
	for ei, e := range s.Environments {
		ef := fmt.Sprintf("%s.environments[%d]", sf, ei)
		switch {
		case conn && e.Connection == "":
			c.bad(ef+".connection", "", fmt.Sprintf("with source provider %s, %s", src.Provider, allowedConnection))
		case conn && !connectionARN.MatchString(e.Connection):
			c.bad(ef+".connection", e.Connection, allowedConnection)
		case conn && IsAccountID(e.Account) && ConnectionAccount(e.Connection) != e.Account:
			c.bad(ef+".connection", e.Connection, fmt.Sprintf("a connection of the environment's account %s (this one is in %s): each environment's pipeline uses a connection of its own account, so no account depends on another's", e.Account, ConnectionAccount(e.Connection)))
		case conn && IsRegion(e.Region) && ConnectionRegion(e.Connection) != e.Region:
			c.bad(ef+".connection", e.Connection, fmt.Sprintf("a connection in the environment's region %s (this one is in %s)", e.Region, ConnectionRegion(e.Connection)))
		case src.Provider == ProviderCodeCommit && e.Connection != "":
			c.bad(ef+".connection", e.Connection, "nothing with a CodeCommit source; a connection is named only with source provider github, gitlab or bitbucket")
		}
		if strings.HasPrefix(e.Branch, SandboxBranchPrefix) {
			c.bad(ef+".branch", e.Branch, "a branch outside "+SandboxBranchPrefix+", which is reserved for developer sandboxes")
		}
		// With one repository, two environments on one branch would both deploy every push to
		// it: promotion between them would mean nothing.
		if first, taken := branches[e.Branch]; conn && taken && branchProblem(e.Branch) == "" {
			c.bad(ef+".branch", e.Branch, fmt.Sprintf("a branch no other environment follows (environments[%d] follows it): with one %s repository, each environment follows its own branch", first, src.ProviderType()))
		} else if !taken {
			branches[e.Branch] = ei
		}
	}
	if sb := s.Sandboxes; sb != nil {
		if conn {
			c.bad(sf+".sandboxes", "", "no sandboxes with source provider "+src.Provider+": sandboxes follow CodeCommit's branch events (created, updated, deleted), which a connection does not report; remove sandboxes or use a CodeCommit source")
		}
		if sb.Max < 1 || sb.Max > MaxSandboxes {
			c.bad(sf+".sandboxes.max", fmt.Sprint(sb.Max), fmt.Sprintf("a whole number from 1 to %d", MaxSandboxes))
		}
		if d, err := time.ParseDuration(sb.TTL); err != nil || d < time.Hour || d > MaxSandboxTTLHours*time.Hour || d%time.Hour != 0 {
			c.bad(sf+".sandboxes.ttl", sb.TTL, allowedSandboxTTL)
		}
	}
}
