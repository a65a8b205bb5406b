package ship

import (
	"encoding/json"
	"io"
	"time"
)

// The JSON documents the read commands print with --json, one per command on stdout. The
// schema is stable: within a SchemaVersion a field keeps its name, type and meaning, and
// fields are only added. Names are camelCase, as in the AWS APIs ship reads. Times are
// RFC 3339 in UTC; a time that is not known is null; durations are seconds (numbers), and
// a figure that is not defined (a rate without attempts) is null. Commit ids are full (40
// hex digits).
// An error still goes to stderr with the exit code; a status that could not read every
// environment still prints its document (complete: false) and exits 1.

// SchemaVersion is the version of the --json documents.
const SchemaVersion = 1

// StatusJSON is `ship status --json`.
type StatusJSON struct {
	// SchemaVersion is SchemaVersion.
	SchemaVersion int `json:"schemaVersion"`
	// Path is the service, "team/service".
	Path string `json:"path"`
	// Organisation is where the organisation came from: its file, or the embedded example.
	Organisation string `json:"organisation"`
	// Now is the clock the document was made with: windows and ages are as of then.
	Now time.Time `json:"now"`
	// Complete is false when an environment's pipeline could not be read (its error says why).
	Complete bool `json:"complete"`
	// Environments are the path's environments, in path order.
	Environments []EnvironmentJSON `json:"environments"`
}

// EnvironmentJSON is one environment in StatusJSON.
type EnvironmentJSON struct {
	// Name, Account, Region, Pipeline, Remote and Branch say where the environment is.
	Name     string `json:"name"`
	Account  string `json:"account"`
	Region   string `json:"region"`
	Pipeline string `json:"pipeline"`
	Remote   string `json:"remote"`
	Branch   string `json:"branch"`
	// Upstream is the environment a commit must pass first; "" for the first environment.
	Upstream string `json:"upstream"`
	// BranchHead is the commit the branch points at; "" if the branch does not exist or
	// could not be read (then BranchError says why).
	BranchHead  string `json:"branchHead"`
	BranchError string `json:"branchError,omitempty"`
	// Deployed is the newest successful run: what the environment runs (a ROLLBACK's commit
	// is its target's). null if none was read.
	Deployed *RunJSON `json:"deployed"`
	// Latest is the newest run. null if none.
	Latest *RunJSON `json:"latest"`
	// Drift says why Deployed's commit is not BranchHead. null when they are the same, or
	// either is unknown.
	Drift *DriftJSON `json:"drift"`
	// Approvals are the approvals waiting for a decision, Queued the runs waiting behind them.
	Approvals []ApprovalJSON `json:"approvals"`
	Queued    []QueuedJSON   `json:"queued"`
	// Window is the deployment window now. null: the environment has none (any time).
	Window *WindowJSON `json:"window"`
	// Alarms are the watched alarms now. null: the environment watches none.
	Alarms *AlarmsJSON `json:"alarms"`
	// Vulnerabilities is the vulnerability gate: the organisation file's setting and what
	// the guard said of the deployed commit's image. null for the first environment (the
	// image is built there; the guards after it gate its scan).
	Vulnerabilities *VulnerabilitiesJSON `json:"vulnerabilities"`
	// Waiting is what ship promote would bring from the upstream.
	Waiting WaitingJSON `json:"waiting"`
	// Error is why the pipeline could not be read; "" if it was.
	Error string `json:"error,omitempty"`
}

// RunJSON is one pipeline execution.
type RunJSON struct {
	// ExecutionID is the pipeline execution id.
	ExecutionID string `json:"executionId"`
	// Commit is the revision of the pipeline's own source action; "" if it has none.
	Commit string `json:"commit"`
	// Status is CodePipeline's: InProgress, Succeeded, Failed, Stopped, Stopping,
	// Superseded, Cancelled.
	Status string `json:"status"`
	// Type is STANDARD or ROLLBACK; "" when CodePipeline did not say.
	Type string `json:"type"`
	// Trigger is CodePipeline's triggerType, e.g. CloudWatchEvent (a push),
	// AutomatedRollback, ManualRollback; "" when it did not say.
	Trigger string `json:"trigger"`
	// StatusSummary is CodePipeline's summary of the status; "" if none.
	StatusSummary string `json:"statusSummary,omitempty"`
	// Started and Updated are its start and its last change (for a finished run, its end).
	Started *time.Time `json:"started"`
	Updated *time.Time `json:"updated"`
	// Rollback is set for a ROLLBACK run only.
	Rollback *RollbackJSON `json:"rollback,omitempty"`
	// Deployed marks, in HistoryJSON, the run whose commit the environment runs.
	Deployed bool `json:"deployed,omitempty"`
}

// RollbackJSON is what a ROLLBACK run rolled back to.
type RollbackJSON struct {
	// TargetExecutionID is the execution rolled back to, whose commit it redeploys.
	TargetExecutionID string `json:"targetExecutionId"`
	// Automatic is true for CodePipeline's own rollback (a failed stage, an alarm during
	// the bake), false for one a person started (rollback-stage), null when not said.
	// ship's own rollbacks are git pushes: STANDARD runs, never ROLLBACK ones.
	Automatic *bool `json:"automatic"`
}

// DriftJSON is why an environment runs another commit than its branch head names.
type DriftJSON struct {
	// DeployedCommit and BranchHead are the two commits.
	DeployedCommit string `json:"deployedCommit"`
	BranchHead     string `json:"branchHead"`
	// Cause is "rollback" (a ROLLBACK run redeployed an older commit), "running" (the
	// head's run is in progress), "ended" (the head's newest run ended without deploying)
	// or "notRun" (no run of the head was read).
	Cause string `json:"cause"`
	// RolledBack is, for cause rollback, the run that was rolled back (null if not read).
	RolledBack *RunJSON `json:"rolledBack,omitempty"`
	// Reason is the explanation status prints; Fix how to make the two agree.
	Reason string `json:"reason"`
	Fix    string `json:"fix"`
}

// ApprovalJSON is a manual approval waiting for a decision.
type ApprovalJSON struct {
	Stage  string `json:"stage"`
	Action string `json:"action"`
	// Since is when it started waiting.
	Since *time.Time `json:"since"`
	// ExecutionID is the run waiting for it; "" when the state does not say.
	ExecutionID string `json:"executionId"`
	// Approvers says who may answer it.
	Approvers string `json:"approvers"`
}

// QueuedJSON is a run waiting to enter a stage an earlier run holds.
type QueuedJSON struct {
	ExecutionID string `json:"executionId"`
	Stage       string `json:"stage"`
}

// WindowJSON is an environment's deployment window, computed from the organisation file.
type WindowJSON struct {
	// Cron, Duration and TimeZone are the window as the organisation file gives it.
	Cron     string `json:"cron"`
	Duration string `json:"duration"`
	TimeZone string `json:"timeZone"`
	// Open says whether a deploy may start now.
	Open bool `json:"open"`
	// Opens and Closes are the window open now, else the next one; null if it never opens.
	Opens  *time.Time `json:"opens"`
	Closes *time.Time `json:"closes"`
	// Summary is the line status prints.
	Summary string `json:"summary"`
}

// AlarmsJSON is the state of an environment's watched alarms.
type AlarmsJSON struct {
	// Known is false when CloudWatch could not be read: Error says why, and every alarm's
	// state is UNKNOWN.
	Known bool   `json:"known"`
	Error string `json:"error,omitempty"`
	// Alarms are the watched alarms, in the organisation file's order.
	Alarms []AlarmJSON `json:"alarms"`
}

// AlarmJSON is one watched alarm.
type AlarmJSON struct {
	Name string `json:"name"`
	// State is OK, ALARM, INSUFFICIENT_DATA, MISSING (no such alarm in the account) or
	// UNKNOWN (CloudWatch could not be read).
	State string `json:"state"`
	// Since is when the alarm went into State; null if missing or unknown.
	Since *time.Time `json:"since"`
	// Reason is CloudWatch's state reason.
	Reason    string `json:"reason,omitempty"`
	Composite bool   `json:"composite,omitempty"`
}

// VulnerabilitiesJSON is an environment's vulnerability gate, and the scan of the deployed
// commit's image as its guard read it when it let the commit in: the Vulnerabilities and
// ScanStatus output variables of the Guard action (stage Guard, action
// CommitPassedUpstream) of the run that deployed it, or for a ROLLBACK of the run it
// rolled back to. The counts are those of that moment; with enhanced (continuous) scanning
// the registry's may have changed since.
type VulnerabilitiesJSON struct {
	// Refuse is the organisation file's vulnerabilities.refuse for the environment, as it is
	// now: CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, or NONE (refuse nothing).
	Refuse string `json:"refuse"`
	// Unscanned is its vulnerabilities.unscanned: refuse or allow.
	Unscanned string `json:"unscanned"`
	// State is "scanned" (Counts are the scan's), "notScanned" (the guard let an image
	// without a usable scan through; ScanStatus says why), "notReported" (the guard's run
	// reported no scan: a guard without the gate, or a run from before it), "unknown" (the
	// guard's action could not be read; Error says why) or "none" (nothing deployed yet).
	State string `json:"state"`
	// ExecutionID is the run whose Guard action was read; "" for state none.
	ExecutionID string `json:"executionId"`
	// ScanStatus is ECR's scan status as the guard read it: COMPLETE or ACTIVE (a usable
	// scan), IN_PROGRESS, PENDING, FAILED, UNSUPPORTED_IMAGE, ..., or NOT_FOUND (no scan);
	// "" when not reported.
	ScanStatus string `json:"scanStatus"`
	// Counts are the findings by severity: CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL and
	// UNDEFINED always, UNTRIAGED (enhanced scanning) and any severity ECR adds when
	// counted. null unless State is scanned.
	Counts map[string]int `json:"counts"`
	// Summary is the line status prints.
	Summary string `json:"summary"`
	// Error is why State is unknown.
	Error string `json:"error,omitempty"`
}

// WaitingJSON is what ship promote would bring into an environment.
type WaitingJSON struct {
	// State is "first" (the first environment builds what is pushed to it), "commits"
	// (Commits are deployed upstream and not here), "none" (nothing to promote), or
	// "unknown" (an environment or the local repository could not tell).
	State string `json:"state"`
	// Commits are the commits deployed upstream but not here, newest first.
	Commits []CommitJSON `json:"commits"`
	// Summary is what status prints.
	Summary string `json:"summary"`
}

// CommitJSON is one commit.
type CommitJSON struct {
	ID      string `json:"id"`
	Subject string `json:"subject"`
}

// HistoryJSON is `ship history <env> --json`.
type HistoryJSON struct {
	// SchemaVersion is SchemaVersion.
	SchemaVersion int `json:"schemaVersion"`
	// Environment, Pipeline, Account and Region say whose history it is.
	Environment string `json:"environment"`
	Pipeline    string `json:"pipeline"`
	Account     string `json:"account"`
	Region      string `json:"region"`
	// Limit is the --limit asked for; Runs may be fewer.
	Limit int `json:"limit"`
	// Runs are the newest runs, newest first.
	Runs []RunJSON `json:"runs"`
}

// MetricsJSON is `ship metrics --json`: the delivery metrics of each environment read,
// with the events they were computed from, so that a script can recompute or regroup them.
type MetricsJSON struct {
	// SchemaVersion is SchemaVersion.
	SchemaVersion int `json:"schemaVersion"`
	// Organisation is where the organisation came from: its file, or the embedded example.
	Organisation string `json:"organisation"`
	// Now is when the histories were read: the window ends then.
	Now time.Time `json:"now"`
	// Since is --since as given, e.g. "30d".
	Since string `json:"since"`
	// Window is the window asked for. An environment whose history read was bounded
	// covers less: its summary's from says from when.
	Window MetricsWindowJSON `json:"window"`
	// All is true with --all: every path of the organisation.
	All bool `json:"all"`
	// Complete is false when an environment could not be read (its error says why).
	Complete bool `json:"complete"`
	// Paths are the paths read, in the organisation file's order.
	Paths []PathMetricsJSON `json:"paths"`
	// OrganisationWide is, per environment name (in the order the paths first name
	// them), the events of every path's environment of that name summarised together.
	// null without --all.
	OrganisationWide []OrgMetricsJSON `json:"organisationWide"`
}

// MetricsWindowJSON is a window: From inclusive to To inclusive.
type MetricsWindowJSON struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Days is its length in days.
	Days float64 `json:"days"`
}

// PathMetricsJSON is one path's environments.
type PathMetricsJSON struct {
	// Path is the service, "team/service".
	Path string `json:"path"`
	// Environments are the path's environments, in path order.
	Environments []EnvMetricsJSON `json:"environments"`
}

// EnvMetricsJSON is one environment's metrics, or why it could not be read.
type EnvMetricsJSON struct {
	// Name, Account, Region, Pipeline and Repository say what was read: the pipeline's
	// history and the committer dates from the repository in the environment's account, or,
	// for a GitHub, GitLab or Bitbucket source, from the working clone of Repository
	// (host/owner/name, e.g. github.com/example-org/search-indexer).
	Name       string `json:"name"`
	Account    string `json:"account"`
	Region     string `json:"region"`
	Pipeline   string `json:"pipeline"`
	Repository string `json:"repository"`
	// Readable is false when the account or the pipeline could not be read: Error says
	// why, Summary is null and Events empty.
	Readable bool   `json:"readable"`
	Error    string `json:"error,omitempty"`
	// CommitTimesError says why the commit dates could not (all) be read: lead times
	// whose commit date is missing are unknown (summary.leadTimeUnknown).
	CommitTimesError string `json:"commitTimesError,omitempty"`
	// Notes are what the figures do not say themselves (a window shortened by the
	// history bound, commit dates unreadable), as the table prints them.
	Notes []string `json:"notes"`
	// Summary is the four keys over the window.
	Summary *MetricsSummaryJSON `json:"summary"`
	// Events are every event read, oldest first: the window's (inWindow) and the ones
	// before it that say what the window started from.
	Events []MetricsEventJSON `json:"events"`
	// Calls are the API calls the environment's read made.
	Calls MetricsCallsJSON `json:"calls"`
}

// MetricsSummaryJSON is the four keys over a window (dora.Summary).
type MetricsSummaryJSON struct {
	// From and To are the window covered: the one asked for, or, when Shortened, from the
	// oldest run the history bound let ship read.
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Shortened bool      `json:"shortened"`
	// Deployments are the deploys that finished in the window; DeploymentsPerWeek is
	// their count per 7 days of it.
	Deployments        int     `json:"deployments"`
	DeploymentsPerWeek float64 `json:"deploymentsPerWeek"`
	// LeadTime is commit time to deployment, of the deploys whose commit date was read;
	// LeadTimeUnknown counts the others.
	LeadTime        DurationStatsJSON `json:"leadTime"`
	LeadTimeUnknown int               `json:"leadTimeUnknown"`
	// Attempts are deploys and failed deploys; Failures the failed deploys and the deploys
	// later rolled back. ChangeFailureRate is Failures/Attempts, from 0 to 1; null with
	// no attempts.
	Attempts          int      `json:"attempts"`
	Failures          int      `json:"failures"`
	ChangeFailureRate *float64 `json:"changeFailureRate"`
	// TimeToRestore is the times to restore of the failures restored; Unrestored counts
	// the failures still open when the history was read.
	TimeToRestore DurationStatsJSON `json:"timeToRestore"`
	Unrestored    int               `json:"unrestored"`
	// Rollbacks counts rollback runs and pushes of an older commit; Reruns the successful
	// runs of the commit already deployed.
	Rollbacks int `json:"rollbacks"`
	Reruns    int `json:"reruns"`
}

// DurationStatsJSON is a distribution of durations, in seconds.
type DurationStatsJSON struct {
	// Count is the number of samples.
	Count int `json:"count"`
	// MedianSeconds and P90Seconds are nearest-rank percentiles; null when Count is 0.
	MedianSeconds *float64 `json:"medianSeconds"`
	P90Seconds    *float64 `json:"p90Seconds"`
}

// MetricsEventJSON is one run that matters to the metrics (dora.Event).
type MetricsEventJSON struct {
	// Kind is deploy, rerun, rollback-push, rollback or failed-deploy.
	Kind string `json:"kind"`
	// Run is the pipeline execution id; Commit its commit (a rollback's: the one it
	// restored).
	Run    string `json:"run"`
	Commit string `json:"commit"`
	// At is when the run finished; InWindow says it finished inside the summary's window,
	// so the summary counts it.
	At       time.Time `json:"at"`
	InWindow bool      `json:"inWindow"`
	// CommitTime is the commit's committer date; null if it was not read.
	CommitTime *time.Time `json:"commitTime"`
	// LeadTimeSeconds is, for a deploy whose commit date was read, commit time to At;
	// null otherwise.
	LeadTimeSeconds *float64 `json:"leadTimeSeconds"`
	// Automatic is, for a rollback, whether CodePipeline started it (true) or a person
	// did (false); null for other kinds.
	Automatic *bool `json:"automatic"`
	// Failed says a deploy was later rolled back (by FailedBy: a rollback run, or the run
	// of a push of an older commit), or the event is a failed deploy (FailedBy is itself).
	Failed   bool   `json:"failed"`
	FailedBy string `json:"failedBy"`
	// Restored is, for a failure, when the environment was restored (the end of the next
	// run that left a commit deployed), RestoreSeconds how long that took; null while open.
	Restored       *time.Time `json:"restored"`
	RestoreSeconds *float64   `json:"restoreSeconds"`
}

// MetricsCallsJSON counts the API calls of one environment's read.
type MetricsCallsJSON struct {
	// CodePipeline is ListPipelineExecutions and ListActionExecutions calls.
	CodePipeline int `json:"codePipeline"`
	// CodeCommit is BatchGetCommits calls.
	CodeCommit int `json:"codeCommit"`
}

// OrgMetricsJSON is the organisation's figures for one environment name.
type OrgMetricsJSON struct {
	// Name is the environment's name, e.g. prd.
	Name string `json:"name"`
	// Paths is how many paths have an environment of that name, PathsRead how many of
	// them were read.
	Paths     int `json:"paths"`
	PathsRead int `json:"pathsRead"`
	// Summary summarises the events of all of them over the window asked for: lead times
	// are the union of their samples, the rate their failures over their attempts.
	// Shortened says the history bound shortened at least one of them.
	Summary MetricsSummaryJSON `json:"summary"`
}

// writeJSON prints v indented, one document, with a final newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// stampOf is a time for JSON: nil when it is not known.
func stampOf(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// runJSON is a run as the documents show it.
func runJSON(e Execution, d runDetail) RunJSON {
	r := RunJSON{ExecutionID: e.ID, Commit: e.Commit, Status: e.Status, Type: e.Type, Trigger: d.Trigger,
		StatusSummary: d.StatusSummary, Started: stampOf(e.Started), Updated: stampOf(e.At)}
	if e.Rollback() {
		r.Rollback = &RollbackJSON{TargetExecutionID: e.RollbackTarget, Automatic: d.automatic()}
	}
	return r
}

// SandboxListJSON is `ship sandbox list --json`: the path's sandboxes, from the first
// environment's remote (its sandbox/* branches) and its sandbox table.
type SandboxListJSON struct {
	// SchemaVersion is SchemaVersion.
	SchemaVersion int `json:"schemaVersion"`
	// Path is the service, "team/service"; Organisation where the organisation came from.
	Path         string `json:"path"`
	Organisation string `json:"organisation"`
	// Now is the clock the document was made with.
	Now time.Time `json:"now"`
	// Environment, Account and Region are the first environment's, where sandboxes live;
	// Remote is its git remote, Table the sandbox table read.
	Environment string `json:"environment"`
	Account     string `json:"account"`
	Region      string `json:"region"`
	Remote      string `json:"remote"`
	Table       string `json:"table"`
	// Max is how many sandboxes may exist at once (sandboxes.max), TTLSeconds how long one
	// may go without a push (sandboxes.ttl).
	Max        int     `json:"max"`
	TTLSeconds float64 `json:"ttlSeconds"`
	// InUse is how many count against Max (deploying, live, failed, destroying,
	// destroy-failed); null when the table could not be read.
	InUse *int `json:"inUse"`
	// StateRead is false when the table could not be read: StateError says why, and every
	// status is "unknown".
	StateRead  bool   `json:"stateRead"`
	StateError string `json:"stateError,omitempty"`
	// Sandboxes are the branches and the records, joined by name, sorted by name.
	Sandboxes []SandboxJSON `json:"sandboxes"`
}

// SandboxJSON is one sandbox: its branch, its record, or both.
type SandboxJSON struct {
	// Name is what follows sandbox/ in Branch.
	Name   string `json:"name"`
	Branch string `json:"branch"`
	// BranchCommit is the commit the branch points at; "" when there is no branch (deleted).
	BranchCommit string `json:"branchCommit"`
	// Local says the local clone has the commit shown: BranchCommit, or Commit without a branch.
	Local bool `json:"local"`
	// Status is the controller's (deploying, live, failed, destroying, destroy-failed,
	// expired, refused), "unseen" for a branch without a record, "unknown" when the table
	// could not be read.
	Status string `json:"status"`
	// Commit is the last commit the controller saw pushed; "" without a record.
	Commit string `json:"commit"`
	// Owner is the ARN of who created it, OwnerName its session or user name; "" when not known.
	Owner     string `json:"owner"`
	OwnerName string `json:"ownerName"`
	// Created and Pushed are its creation and last push; Expires is when it is destroyed
	// unless pushed again (live or failed only). null when not known or not applicable.
	Created *time.Time `json:"created"`
	Pushed  *time.Time `json:"pushed"`
	Expires *time.Time `json:"expires"`
	// Reason is the controller's: why it failed, was refused or expired.
	Reason string `json:"reason"`
	// Note is what the join of branch and record says (list's REASON column prints it after
	// Reason): the branch deleted, a push not yet seen by the controller, a name the
	// controller does not take; "" when nothing.
	Note string `json:"note"`
}
