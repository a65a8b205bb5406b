// Package org is the typed description of an organisation's paths to production:
// teams own services, and each service ships through an ordered list of environments
// (dev, stg, prd), one AWS account each, plus one shared registry account.
//
// The simplest use loads and validates a YAML file:
//
//	o, err := org.Load("organization.yaml")
//	if err != nil {
//		// err lists every problem at once, each naming the field, the value and what is allowed
//	}
//	for _, p := range o.Paths() {
//		fmt.Println(p.ID(), p.PipelineName("prd"))
//	}
//
// An Organization built in Go is checked the same way with Normalize. Every name that
// crosses an account (repositories, pipelines, roles, stacks) is derived here and only
// here, so the platform app, the constructs and the CLI always agree on it.
//
// This package needs no jsii and no AWS: its tests are instant.
package org

import (
	"time"

	"github.com/platform-eng/pathtoprod/constructs/deploywindow"
	"github.com/platform-eng/pathtoprod/constructs/vulnscan"
)

// Organization is the whole description: the shared registry account and the teams.
type Organization struct {
	// Registry is the shared tooling account that holds one ECR repository per path.
	Registry Registry `yaml:"registry"`
	// Settings are what the constructs, the guard and the ship CLI must agree on for every
	// path. Default: see Settings.
	Settings Settings `yaml:"settings,omitempty"`
	// Teams are the service teams, each with its services.
	Teams []Team `yaml:"teams"`
}

// Settings are the organisation-wide values that more than one part of the product reads:
// the pipelines' constructs, the guard Lambda they configure, and the ship CLI. They live
// here, once, so that ship's "the guard would refuse it too" stays true.
type Settings struct {
	// HistoryPages bounds how much upstream history the guard (and ship, on its behalf) reads,
	// in pages of 100 executions: a commit older than that is refused rather than passed
	// unchecked. 1-100. Default: DefaultHistoryPages (10 pages, 1000 executions).
	HistoryPages int `yaml:"historyPages,omitempty"`
	// CdkQualifier is the qualifier of the CDK bootstrap stack in every environment account:
	// the deploy step assumes its roles and the registry lets its CloudFormation execution
	// role pull. Default: DefaultCdkQualifier ("hnb659fds", CDK's own default).
	CdkQualifier string `yaml:"cdkQualifier,omitempty"`
	// PermissionsBoundary is the IAM policy every role of the platform's stacks carries as
	// its permissions boundary, and that the accounts' CDK bootstrap attaches to the
	// CloudFormation execution role (cdk bootstrap --example-permissions-boundary creates the
	// default; --custom-permissions-boundary names another): with it, a deploy cannot create a
	// role or user without the boundary, nor change or remove the boundary, so it cannot
	// escalate beyond it. ${Qualifier} (CdkQualifier), ${AWS::AccountId} and ${AWS::Region}
	// are replaced per account. "none" applies no boundary (an account bootstrapped without
	// one). Default: DefaultPermissionsBoundary, the policy CDK's example boundary creates.
	PermissionsBoundary string `yaml:"permissionsBoundary,omitempty"`
	// CompliancePacks are the cdk-nag rule packs the platform's synthesis runs on every stack
	// (an unsuppressed finding of any fails cdk synth), by their names in CompliancePackNames.
	// AwsSolutions must be one of them: it reviews every wildcard permission. Default:
	// DefaultCompliancePacks (AwsSolutions and NIST 800-53 Rev. 5).
	CompliancePacks []string `yaml:"compliancePacks,omitempty"`
}

// The cdk-nag rule packs, by the prefix of their rule ids and of their reports
// (<pack>-<stack>-NagReport.csv in the cloud assembly). They are named here, not in
// constructs/compliance, so that the organisation file is checked without loading cdk-nag.
const (
	PackAwsSolutions = "AwsSolutions"
	PackNIST80053R4  = "NIST.800.53.R4"
	PackNIST80053R5  = "NIST.800.53.R5"
	PackHIPAA        = "HIPAA.Security"
	PackPCIDSS321    = "PCI.DSS.321"
)

// CompliancePackNames are the packs Settings.CompliancePacks may name.
var CompliancePackNames = []string{PackAwsSolutions, PackNIST80053R4, PackNIST80053R5, PackHIPAA, PackPCIDSS321}

// DefaultCompliancePacks are the packs run when Settings.CompliancePacks is unset.
var DefaultCompliancePacks = []string{PackAwsSolutions, PackNIST80053R5}

// Defaults of Settings.
const (
	DefaultHistoryPages = 10
	DefaultCdkQualifier = "hnb659fds"
	// DefaultPermissionsBoundary is the name of the policy `cdk bootstrap
	// --example-permissions-boundary` creates.
	DefaultPermissionsBoundary = "cdk-${Qualifier}-permissions-boundary-${AWS::AccountId}-${AWS::Region}"
	// NoPermissionsBoundary, as Settings.PermissionsBoundary, applies none.
	NoPermissionsBoundary = "none"
	// MaxHistoryPages keeps the history read within what the guard can do in its time budget.
	MaxHistoryPages = 100
	// HistoryPageSize is the executions read per ListPipelineExecutions call (the API maximum).
	HistoryPageSize = 100
)

// SourceStageName and SourceActionName name the one source action of every path's
// pipeline. "Passed upstream" reads the revision of exactly this action, never another
// source a caller might add.
const (
	SourceStageName  = "Source"
	SourceActionName = "Push"
)

// Registry is the account and region of the shared container registry.
type Registry struct {
	// Account is the 12-digit AWS account id of the registry (tooling) account.
	Account string `yaml:"account"`
	// Region is the region of the registry, e.g. eu-west-1.
	Region string `yaml:"region"`
	// Scanning is how the registry scans images for vulnerabilities: "basic" (ECR's scan on
	// push) or "enhanced" (Amazon Inspector: operating-system and language packages, and
	// rescans as new vulnerabilities are published; Inspector is billed per image).
	// Default: ScanningBasic.
	Scanning string `yaml:"scanning,omitempty"`
}

// The values of Registry.Scanning.
const (
	ScanningBasic    = "basic"
	ScanningEnhanced = "enhanced"
)

// Team is one service team.
type Team struct {
	// Name is 2-16 lowercase letters or digits in runs joined by single hyphens, starting
	// with a letter (e.g. web-shop): what every AWS name derived from it accepts (names.go).
	// It prefixes every resource name of the team's paths.
	Name string `yaml:"name"`
	// Services are the team's services; each is one path to production.
	Services []Service `yaml:"services"`
}

// Service is one service of a team and the environments it ships through.
type Service struct {
	// Name is 2-20 lowercase letters or digits in runs joined by single hyphens, starting
	// with a letter. Team and service together must not derive another path's id: team
	// ab-cd with service ef and team ab with service cd-ef are refused.
	Name string `yaml:"name"`
	// Source is where the service's code lives: a CodeCommit repository in every environment
	// account, or one repository on GitHub, GitLab or Bitbucket reached through a connection
	// per environment account (see Source). Default: CodeCommit.
	Source Source `yaml:"source,omitempty"`
	// Environments are ordered from the first (where the build happens) to the last.
	// With a CodeCommit source no two are in the same account and region: each creates the
	// repository <team>-<service>.
	Environments []Environment `yaml:"environments"`
	// Sandboxes lets developers deploy their own short-lived copies of the service into the
	// first environment's account by pushing sandbox/<name> branches (see Sandboxes).
	// CodeCommit sources only. Default: - none (a push to sandbox/<name> deploys nothing).
	Sandboxes *Sandboxes `yaml:"sandboxes,omitempty"`
	// Notify lists e-mail addresses told of failed runs and pending approvals.
	// Default: no subscribers (the SNS topic still exists for other subscriptions).
	Notify []string `yaml:"notify,omitempty"`
	// Commands overrides the commands the pipeline runs. Default: see Commands.
	Commands Commands `yaml:"commands,omitempty"`
	// PullRoles are names of roles that exist in every environment account of the service and
	// run its image (an ECS task execution role, say); the shared registry lets them pull.
	// The deploy roles, the CDK CloudFormation execution roles and the Lambda service (for
	// container-image functions in these accounts) may always pull. Default: - none.
	PullRoles []string `yaml:"pullRoles,omitempty"`
}

// Commands are the shell commands each pipeline step runs in the service's repository.
// An empty list means the library default for that step.
type Commands struct {
	// Build runs in the first environment only. Default: ["make build", "make test"].
	Build []string `yaml:"build,omitempty"`
	// Deploy runs in every environment and deploys the service's stacks into that account.
	// Default: a CDK deploy of all stacks, in dependency order, through the CDK bootstrap roles.
	Deploy []string `yaml:"deploy,omitempty"`
	// Verify runs after Deploy. Default: ["make verify"].
	Verify []string `yaml:"verify,omitempty"`
	// Image builds the container image in the first environment, tagged $IMAGE_TAGGED (the
	// registry repository and the full commit id); the pipeline pushes it and records its
	// digest. Default: ["docker build --tag \"$IMAGE_TAGGED\" ."].
	Image []string `yaml:"image,omitempty"`
	// Plan runs before every approval and writes the plan an approver reads: a read-only
	// `cdk diff` against the account and a security diff. The one-line summary the approver
	// reads is made from $PLAN_DIFF_FILE and $PLAN_SECURITY_DIFF_FILE: commands of a team's
	// own write their diffs there. Default: DefaultPlanCommands in package envpipeline.
	Plan []string `yaml:"plan,omitempty"`
}

// Environment is one stage of a path: one AWS account with its own git remote and pipeline.
type Environment struct {
	// Name is 2-8 lowercase letters or digits, e.g. dev, stg, prd.
	Name string `yaml:"name"`
	// Account is the 12-digit AWS account id of this environment.
	Account string `yaml:"account"`
	// Region is where the environment's repository and pipeline live, e.g. eu-west-1
	// (RegionPattern).
	Region string `yaml:"region"`
	// Branch is the branch whose pushes start the pipeline: a name git accepts, of at most
	// 100 letters, digits, '.', '_', '/' or '-' (see branchProblem), outside sandbox/. With a
	// connection source every environment follows its own branch of the one repository.
	// Default: main; with a connection source, env/<name> in every environment but the first.
	Branch string `yaml:"branch,omitempty"`
	// Connection is the ARN of the CodeConnections connection, in this environment's own
	// account and region, through which its pipeline reads a GitHub, GitLab or Bitbucket
	// source. Required with such a source, refused with CodeCommit.
	Connection string `yaml:"connection,omitempty"`
	// Upstream is the environment a commit must have passed before it may run here.
	// Default: the environment listed before this one; the first environment has none
	// and is where the image is built. Write "none" to make an environment a root explicitly.
	Upstream string `yaml:"upstream,omitempty"`
	// Approval puts a manual approval after the guard and before the deploy.
	// Default: true for an environment named prd, false otherwise.
	Approval *bool `yaml:"approval,omitempty"`
	// Approvers are IAM role or user ARNs allowed to assume this environment's approver role:
	// the release managers who answer its approvals and may open a closed deployment window
	// for a hotfix (see Window). Default: none (the role exists where there is an approval or
	// a window, and the account's administrators can extend its trust).
	Approvers []string `yaml:"approvers,omitempty"`
	// Watch has CodePipeline watch CloudWatch alarms of this account around the deploy: a run
	// whose Deploy would start while one is in ALARM waits up to Watch.Wait for it to clear,
	// then fails; one going into ALARM during the bake time after a successful deploy rolls
	// the deploy back. Default: - nothing watched.
	Watch *Watch `yaml:"watch,omitempty"`
	// Window is when the Deploy stage may start. Outside it a run waits at Deploy's entry
	// until the window opens. Default: - any time.
	Window *Window `yaml:"window,omitempty"`
	// RollbackOnFailure rolls the Deploy stage back to the previous successful deployment
	// when it fails (the deploy or the verify step). Default: true for an environment no
	// other environment follows (the last one, e.g. prd), false otherwise.
	RollbackOnFailure *bool `yaml:"rollbackOnFailure,omitempty"`
	// Vulnerabilities is the gate this environment's guard applies to the registry's scan of
	// the promoted image. Only an environment with an upstream has a guard; in the first
	// environment, where the image is built, it is refused. Default: refuse CRITICAL findings
	// in an environment no other follows (the last, e.g. prd), report only elsewhere; refuse
	// an image without a usable scan wherever something is refused.
	Vulnerabilities *Vulnerabilities `yaml:"vulnerabilities,omitempty"`
}

// Vulnerabilities is an environment's vulnerability gate (package vulnscan reads it).
type Vulnerabilities struct {
	// Refuse is the least severity that refuses the image: CRITICAL, HIGH, MEDIUM, LOW or
	// INFORMATIONAL, or NONE to report the counts only. Default: CRITICAL in the last
	// environment, NONE elsewhere.
	Refuse string `yaml:"refuse,omitempty"`
	// Unscanned is what happens to an image whose scan is in progress, failed, unsupported
	// or missing: "refuse" (fail closed; retry the Guard stage once the scan completes) or
	// "allow" (promote it, saying so in the guard's summary). Default: refuse.
	Unscanned string `yaml:"unscanned,omitempty"`
}

// Watch is what an environment's Deploy stage watches. CodePipeline's CloudWatchAlarm rule
// takes alarm names, so the alarms are named here; the platform's naming convention is
// Path.HealthAlarmName ("<team>-<service>-<env>-health"), which the service's own stacks
// create (a composite alarm when several signals matter).
type Watch struct {
	// Alarms are names of CloudWatch alarms in the environment's account and region: at most
	// MaxWatchedAlarms, one fewer with a Window (CodePipeline allows five rules per condition).
	// Default: - [Path.HealthAlarmName(env)].
	Alarms []string `yaml:"alarms,omitempty"`
	// Bake is how long the alarms are watched after Deploy (deploy and verify) succeeded; an
	// alarm going into ALARM meanwhile rolls the deploy back. Whole minutes, 1m-3h.
	// Default: DefaultBake (10m).
	Bake string `yaml:"bake,omitempty"`
	// Wait is how long a run waits at Deploy's entry for a watched alarm that is in ALARM to
	// return to OK before the run fails: nothing is deployed into an incident. Whole minutes,
	// 0m-3h (0m: fail at once). Default: DefaultEntryWait (15m).
	Wait string `yaml:"wait,omitempty"`
}

// Window is when an environment's deploys may start: it opens at the time Cron names, on the
// days it names, for Duration, in TimeZone (package deploywindow reads it).
type Window struct {
	// Cron is when the window opens: "minute hour day-of-month month day-of-week", minute and
	// hour single numbers, day-of-week by name (e.g. "0 9 * * MON-THU"). Required.
	Cron string `yaml:"cron"`
	// Duration is how long the window stays open, e.g. 8h: whole minutes, at most 24h, ending
	// by midnight. Required.
	Duration string `yaml:"duration"`
	// TimeZone is the IANA zone the cron is read in, e.g. Europe/Berlin. Default: UTC.
	TimeZone string `yaml:"timeZone,omitempty"`
}

// Defaults and bounds of Watch.
const (
	DefaultBake      = "10m"
	DefaultEntryWait = "15m"
	MaxWatchedAlarms = 5
	MaxWatchMinutes  = 180
)

// BakeTime is the watch's bake time (0 without a watch). On a normalized Organization the
// value has been checked; an unchecked one reads as the default.
func (e Environment) BakeTime() time.Duration {
	return e.watchDuration(func(w *Watch) string { return w.Bake }, DefaultBake)
}

// EntryWait is how long a run waits for watched alarms to clear before Deploy (0 without a watch).
func (e Environment) EntryWait() time.Duration {
	return e.watchDuration(func(w *Watch) string { return w.Wait }, DefaultEntryWait)
}

func (e Environment) watchDuration(get func(*Watch) string, def string) time.Duration {
	if e.Watch == nil {
		return 0
	}
	v := get(e.Watch)
	if v == "" {
		v = def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		d, _ = time.ParseDuration(def)
	}
	return d
}

// DeployWindow is the environment's parsed window, or false without one. On a normalized
// Organization it always parses.
func (e Environment) DeployWindow() (deploywindow.Window, bool) {
	if e.Window == nil {
		return deploywindow.Window{}, false
	}
	w, err := deploywindow.Parse(e.Window.Cron, e.Window.Duration, e.Window.TimeZone)
	return w, err == nil
}

// RollsBackOnFailure reports whether a failed Deploy stage rolls back. On a normalized
// Organization RollbackOnFailure is always set.
func (e Environment) RollsBackOnFailure() bool {
	return e.RollbackOnFailure != nil && *e.RollbackOnFailure
}

// VulnerabilityThreshold is the least severity the guard refuses, or vulnscan.None. On a
// normalized Organization every environment with an upstream has one.
func (e Environment) VulnerabilityThreshold() vulnscan.Threshold {
	if e.Vulnerabilities == nil {
		return vulnscan.None
	}
	t, err := vulnscan.ParseThreshold(e.Vulnerabilities.Refuse)
	if err != nil {
		return vulnscan.None
	}
	return t
}

// UnscannedImages is what the guard does with an image that has no usable scan.
func (e Environment) UnscannedImages() vulnscan.Unscanned {
	if e.Vulnerabilities != nil {
		if u, err := vulnscan.ParseUnscanned(e.Vulnerabilities.Unscanned); err == nil {
			return u
		}
	}
	return vulnscan.Refuse
}

// HasApproverRole reports whether the environment has an approver role: it answers the
// approval, and opens a closed window for a hotfix.
func (e Environment) HasApproverRole() bool { return e.NeedsApproval() || e.Window != nil }

// UpstreamNone is the explicit value of Environment.Upstream for an environment without one.
const UpstreamNone = "none"

// DefaultBranch is the branch used when an environment names none.
const DefaultBranch = "main"

// HasUpstream reports whether a commit must pass another environment before running here.
func (e Environment) HasUpstream() bool { return e.Upstream != "" && e.Upstream != UpstreamNone }

// NeedsApproval reports whether the environment has a manual approval stage.
// On a normalized Organization Approval is always set; the fallback keeps the rule in one place.
func (e Environment) NeedsApproval() bool {
	if e.Approval != nil {
		return *e.Approval
	}
	return e.Name == "prd"
}
