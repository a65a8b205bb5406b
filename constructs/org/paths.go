package org

import (
	"fmt"
	"strings"
)

// Path is one service of one team and its environments: the unit the constructs provision.
// Every name that has to agree across accounts is derived from a Path, deterministically.
type Path struct {
	Team string
	Service
	// Settings are the organisation's (Organization.Paths copies them into every path).
	// Default: see Settings.
	Settings Settings
}

// Paths lists every (team, service) path in file order.
func (o Organization) Paths() []Path {
	var out []Path
	for _, t := range o.Teams {
		for _, s := range t.Services {
			out = append(out, Path{Team: t.Name, Service: s, Settings: o.Settings})
		}
	}
	return out
}

// Path finds one path by team and service name.
func (o Organization) Path(team, service string) (Path, error) {
	for _, p := range o.Paths() {
		if p.Team == team && p.Name == service {
			return p, nil
		}
	}
	return Path{}, fmt.Errorf("no service %q of team %q in the organization (known: %v)", service, team, o.pathIDs())
}

func (o Organization) pathIDs() []string {
	var ids []string
	for _, p := range o.Paths() {
		ids = append(ids, p.ID())
	}
	return ids
}

// ID is "team-service", the prefix of every name of the path.
func (p Path) ID() string { return p.Team + "-" + p.Name }

// Environment finds one of the path's environments by name.
func (p Path) Environment(name string) (Environment, error) {
	for _, e := range p.Environments {
		if e.Name == name {
			return e, nil
		}
	}
	var known []string
	for _, e := range p.Environments {
		known = append(known, e.Name)
	}
	return Environment{}, fmt.Errorf("path %s has no environment %q (known: %v)", p.ID(), name, known)
}

// IsFirst reports whether env is where the path builds: the environment without an upstream.
func (p Path) IsFirst(env Environment) bool { return !env.HasUpstream() }

// Downstream lists the environments whose upstream is env.
func (p Path) Downstream(env string) []Environment {
	var out []Environment
	for _, e := range p.Environments {
		if e.HasUpstream() && e.Upstream == env {
			out = append(out, e)
		}
	}
	return out
}

// RepositoryName is the CodeCommit repository of the path; each environment account has
// its own repository of this name, its git remote.
func (p Path) RepositoryName() string { return p.ID() }

// ImageRepositoryName is the path's ECR repository in the shared registry account.
func (p Path) ImageRepositoryName() string { return p.Team + "/" + p.Name }

// PipelineName is the CodePipeline of the path in one environment account.
func (p Path) PipelineName(env string) string { return p.ID() + "-" + env }

// StackName is the CloudFormation stack holding the path's pipeline in one environment.
func (p Path) StackName(env string) string { return p.ID() + "-" + env + "-pipeline" }

// GuardRoleName is the execution role of the guard Lambda in a downstream environment.
func (p Path) GuardRoleName(env string) string { return p.ID() + "-" + env + "-guard" }

// UpstreamReaderRoleName is the read-only role in environment env that the guards of its
// downstream environments assume to read env's pipeline history.
func (p Path) UpstreamReaderRoleName(env string) string { return p.ID() + "-" + env + "-reader" }

// ApproverRoleName is the role allowed to approve runs of the path's pipeline in env.
func (p Path) ApproverRoleName(env string) string { return p.ID() + "-" + env + "-approver" }

// BuildRoleName is the role of the image build in the first environment: the only
// principal the shared registry lets push the path's images.
func (p Path) BuildRoleName(env string) string { return p.ID() + "-" + env + "-build" }

// DeployRoleName is the role of the deploy step in env; the registry lets it pull.
func (p Path) DeployRoleName(env string) string { return p.ID() + "-" + env + "-deploy" }

// HealthAlarmName is the CloudWatch alarm an environment's Deploy stage watches by default
// (Environment.Watch without alarms): the service's stacks create an alarm of this name in
// the environment's account, e.g. a composite of its error and latency alarms.
func (p Path) HealthAlarmName(env string) string { return p.PipelineName(env) + "-health" }

// DashboardName is the CloudWatch dashboard of the path's pipeline in env: the pipeline's
// name. Dashboard names are per account, not per region; two environments of a path in one
// account still differ by the environment's name.
func (p Path) DashboardName(env string) string { return p.PipelineName(env) }

// GuardFunctionName is the guard Lambda function of the path's pipeline in a downstream
// environment (its log group is /aws/lambda/ and this name).
func (p Path) GuardFunctionName(env string) string { return p.PipelineName(env) + "-guard" }

// NotificationTopicName is the SNS topic told of the pipeline's failed runs in env.
func (p Path) NotificationTopicName(env string) string {
	return p.PipelineName(env) + "-notifications"
}

// NotificationRuleName is the CodeStar notification rule that sends env's failed runs to
// the topic.
func (p Path) NotificationRuleName(env string) string { return p.PipelineName(env) + "-failed" }

// ProjectName is the CodeBuild project of one step of the pipeline in env: the pipeline's
// name and the step's, lowercased. Step names are letters and digits (no hyphen), which is
// what keeps the project names of different paths apart.
func (p Path) ProjectName(env, step string) string {
	return p.PipelineName(env) + "-" + strings.ToLower(step)
}

// RoleARN is the ARN of a role with the given name in account, in the standard partition.
func RoleARN(account, roleName string) string {
	return "arn:aws:iam::" + account + ":role/" + roleName
}

// RegistryStackName is the stack of the shared registry in the tooling account.
const RegistryStackName = "pathtoprod-registry"

// Accounts lists every account the organisation uses, registry first, without repeats.
func (o Organization) Accounts() []string {
	seen := map[string]bool{}
	var out []string
	add := func(a string) {
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	add(o.Registry.Account)
	for _, p := range o.Paths() {
		for _, e := range p.Environments {
			add(e.Account)
		}
	}
	return out
}

// PermissionsBoundaryName is the name of the permissions boundary policy in env's account
// (Settings.PermissionsBoundary with its placeholders replaced), or false for "none".
func (p Path) PermissionsBoundaryName(env Environment) (string, bool) {
	return p.Settings.BoundaryIn(env.Account, env.Region)
}

// BoundaryIn is the permissions boundary policy's name in one account and region, or false
// for "none".
func (s Settings) BoundaryIn(account, region string) (string, bool) {
	b := s.PermissionsBoundary
	if b == "" {
		b = DefaultPermissionsBoundary
	}
	if b == NoPermissionsBoundary {
		return "", false
	}
	q := s.CdkQualifier
	if q == "" {
		q = DefaultCdkQualifier
	}
	return strings.NewReplacer("${Qualifier}", q, "${AWS::AccountId}", account, "${AWS::Region}", region).Replace(b), true
}
