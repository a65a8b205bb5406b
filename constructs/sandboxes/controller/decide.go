package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/sandboxes/state"
)

// RestartAfter is how long a deploy or destroy may stay asked for without a build before
// the sweep starts it again: the controller stopped between recording it and starting it,
// and every retry of the event failed too.
const RestartAfter = 15 * time.Minute

// Config is what the controller decides with: the path's names and its sandbox settings.
type Config struct {
	// Repository is the first environment's CodeCommit repository: events of any other are refused.
	Repository string
	// Project is the sandbox CodeBuild project: build events of any other are refused.
	Project string
	// PathID is the path's id, <team>-<service>, for messages.
	PathID string
	// Environment is the first environment's name, for messages.
	Environment string
	// Max is how many sandboxes may count at once (state.Status.Counts).
	Max int
	// TTL is how long a live or failed sandbox may go without a push.
	TTL time.Duration
	// Warning is how long before the TTL its owner is warned.
	Warning time.Duration
}

// Decision is what the controller does about one event: the new state (in the set Decide
// changed), then the builds to stop and start, then the notifications, in that order.
type Decision struct {
	// Write says the set changed and must be written before anything else is done. When it
	// is false nothing was changed, and nothing need be written.
	Write bool
	// Stop are build ids to stop: deploys a newer push or a delete superseded.
	Stop []string
	// Start are the builds to start, each once the write is known to have succeeded.
	Start []Build
	// Notify are the notifications to send.
	Notify []Notification
	// Log says what was decided and why, for the function's log.
	Log []string
}

// Build is one build of the sandbox project to start.
type Build struct {
	// Sandbox is the sandbox's name.
	Sandbox string
	// Action is the build's SANDBOX_ACTION: state.ActionDeploy or state.ActionDestroy.
	Action string
	// Commit is the sandbox's last pushed commit: what a deploy builds (sourceVersion).
	Commit string
	// Event is the id of the event that asked for it: the build is the sandbox's only while
	// its record still names this event (Started).
	Event string
	// Token is StartBuild's idempotency token, derived from the event, the sandbox and the
	// action, so a redelivered event does not start a second build.
	Token string
}

// Variable is one environment variable of a build.
type Variable struct{ Name, Value string }

// Environment is the environment variables StartBuild overrides: the sandbox, the action,
// the commit and the stack suffix every stack of the sandbox ends with.
func (b Build) Environment() []Variable {
	return []Variable{
		{"SANDBOX", b.Sandbox},
		{"SANDBOX_ACTION", b.Action},
		{"COMMIT_ID", b.Commit},
		{"SANDBOX_STACK_SUFFIX", org.SandboxStackSuffix(b.Sandbox)},
	}
}

// Token is the idempotency token of the build an event asks for: the same for the same
// event, sandbox and action, different for any other. 32 hex characters.
func Token(event, sandbox, action string) string {
	sum := sha256.Sum256([]byte(event + "\x00" + sandbox + "\x00" + action))
	return hex.EncodeToString(sum[:16])
}

// newBuild is the build that carries out sb's current action, asked for by event.
func newBuild(sb *state.Sandbox, event string) Build {
	action := state.ActionDeploy
	if sb.Action != state.ActionDeploy {
		action = state.ActionDestroy
	}
	return Build{Sandbox: sb.Name, Action: action, Commit: sb.Commit, Event: event, Token: Token(event, sb.Name, action)}
}

// ask records that sb's action is asked for by ev, with no build yet, and returns the build
// to start. The record comes first: a controller that stops before the build starts leaves
// a sandbox the sweep restarts.
func ask(sb *state.Sandbox, action string, ev Event) Build {
	sb.Action, sb.Build, sb.Event, sb.Requested = action, "", ev.ID, ev.Time
	return newBuild(sb, ev.ID)
}

// running is the deploy build of sb that is still running, if any: a newer push or a delete
// stops it.
func running(sb *state.Sandbox) string {
	if sb.Status == state.StatusDeploying && sb.Action == state.ActionDeploy {
		return sb.Build
	}
	return ""
}

// Decide decides what the controller does about ev, changing set (the state just read) to
// what must be written. An event that is not this path's (another repository, a tag, a
// branch outside sandbox/, another project) is an error, and nothing is to be done.
// Decide is pure: state.Update may call it again on a newer set.
func Decide(cfg Config, set *state.Set, ev Event) (Decision, error) {
	switch ev.Kind {
	case KindPush, KindDelete:
		name, err := cfg.sandboxOf(ev)
		if err != nil {
			return Decision{}, err
		}
		if ev.Kind == KindPush {
			return cfg.push(set, ev, name), nil
		}
		return cfg.delete(set, ev, name), nil
	case KindBuild:
		if ev.Project != cfg.Project {
			return Decision{}, fmt.Errorf("detail.project-name %q: not this path's sandbox project %s", ev.Project, cfg.Project)
		}
		return cfg.finished(set, ev)
	case KindSweep:
		return cfg.sweep(set, ev), nil
	}
	return Decision{}, fmt.Errorf("event kind %q: want push, delete, build or sweep", ev.Kind)
}

// sandboxOf checks that a reference event is about a sandbox branch of this path's
// repository, and returns what follows the prefix (not yet checked against the name rule).
func (cfg Config) sandboxOf(ev Event) (string, error) {
	switch {
	case ev.Repository != cfg.Repository:
		return "", fmt.Errorf("detail.repositoryName %q: not this path's repository %s", ev.Repository, cfg.Repository)
	case ev.ReferenceType != "branch":
		return "", fmt.Errorf("detail.referenceType %q: want branch (only %s<name> branches make sandboxes)", ev.ReferenceType, org.SandboxBranchPrefix)
	case !strings.HasPrefix(ev.Reference, org.SandboxBranchPrefix):
		return "", fmt.Errorf("detail.referenceName %q: want a branch %s<name>", truncate(ev.Reference, 100), org.SandboxBranchPrefix)
	}
	return strings.TrimPrefix(ev.Reference, org.SandboxBranchPrefix), nil
}

// push decides about a push of sandbox/<name>.
func (cfg Config) push(set *state.Set, ev Event, name string) Decision {
	var d Decision
	if problem := org.SandboxNameProblem(name); problem != "" {
		d.Notify = append(d.Notify, cfg.refusedName(ev, name, problem))
		d.Log = append(d.Log, fmt.Sprintf("push of %s refused: %s", truncate(ev.Reference, 100), problem))
		return d
	}
	sb, exists := set.Find(name)
	if exists && sb.Event == ev.ID {
		return cfg.redelivered(sb, ev)
	}
	if exists {
		switch sb.Status {
		case state.StatusDestroying, state.StatusDestroyFailed:
			d.Notify = append(d.Notify, cfg.refusedDestroying(sb, ev))
			d.Log = append(d.Log, fmt.Sprintf("push of %s refused: the sandbox is %s", name, sb.Status))
			return d
		case state.StatusExpired:
			if set.Counted() >= cfg.Max {
				sb.Commit, sb.Pushed, sb.Event = ev.Commit, ev.Time, ev.ID
				sb.Reason = cfg.capReason(set)
				d.Write = true
				d.Notify = append(d.Notify, cfg.refusedCap(set, sb, ev, true))
				d.Log = append(d.Log, fmt.Sprintf("revival of expired %s refused: %d of %d sandboxes count", name, set.Counted(), cfg.Max))
				return d
			}
		case state.StatusRefused:
			exists = false // tried again as a new one
		}
	}
	if exists {
		if old := running(sb); old != "" {
			d.Stop = append(d.Stop, old)
			d.Log = append(d.Log, fmt.Sprintf("deploy %s of %s superseded by the push of %s", old, name, ev.Commit))
		}
		sb.Commit, sb.Pushed, sb.Warned, sb.Status, sb.Reason = ev.Commit, ev.Time, time.Time{}, state.StatusDeploying, ""
		d.Write = true
		d.Start = append(d.Start, ask(sb, state.ActionDeploy, ev))
		d.Log = append(d.Log, fmt.Sprintf("deploy %s of %s", ev.Commit, name))
		return d
	}
	sb = &state.Sandbox{Name: name, Branch: org.SandboxBranch(name), Commit: ev.Commit, Owner: ev.Caller, Created: ev.Time, Pushed: ev.Time}
	d.Write = true
	if set.Counted() >= cfg.Max {
		sb.Status, sb.Event, sb.Reason = state.StatusRefused, ev.ID, cfg.capReason(set)
		d.Notify = append(d.Notify, cfg.refusedCap(set, sb, ev, false))
		d.Log = append(d.Log, fmt.Sprintf("new sandbox %s refused: %d of %d sandboxes count", name, set.Counted(), cfg.Max))
		set.Add(*sb)
		return d
	}
	sb.Status = state.StatusDeploying
	d.Start = append(d.Start, ask(sb, state.ActionDeploy, ev))
	d.Log = append(d.Log, fmt.Sprintf("new sandbox %s: deploy %s", name, ev.Commit))
	set.Add(*sb)
	return d
}

// redelivered decides about an event that already made sb's current action: EventBridge, or
// Lambda's retry of a failed invocation, delivered it again. Its build is started again only
// if it was never recorded (the token makes CodeBuild answer with the build it started, if
// it did); anything else was done.
func (cfg Config) redelivered(sb *state.Sandbox, ev Event) Decision {
	var d Decision
	if sb.Build == "" && (sb.Status == state.StatusDeploying || sb.Status == state.StatusDestroying) {
		d.Start = append(d.Start, newBuild(sb, ev.ID))
		d.Log = append(d.Log, fmt.Sprintf("event %s delivered again: its %s build of %s was not recorded, starting it (same token)", ev.ID, sb.Action, sb.Name))
		return d
	}
	d.Log = append(d.Log, fmt.Sprintf("event %s delivered again: already done for %s", ev.ID, sb.Name))
	return d
}

// delete decides about the deletion of branch sandbox/<name>.
func (cfg Config) delete(set *state.Set, ev Event, name string) Decision {
	var d Decision
	sb, exists := set.Find(name)
	if !exists {
		d.Log = append(d.Log, fmt.Sprintf("deleted branch %s has no sandbox: nothing to do", truncate(ev.Reference, 100)))
		return d
	}
	if sb.Event == ev.ID {
		return cfg.redelivered(sb, ev)
	}
	switch sb.Status {
	case state.StatusRefused, state.StatusExpired:
		set.Remove(name)
		d.Write = true
		d.Log = append(d.Log, fmt.Sprintf("branch of %s sandbox %s deleted: record removed", sb.Status, name))
		return d
	case state.StatusDestroying:
		if sb.Action == state.ActionExpire {
			// The expiry's destroy goes on; once it succeeds the record goes, as the branch has.
			sb.Action = state.ActionDestroy
			d.Write = true
		}
		d.Log = append(d.Log, fmt.Sprintf("branch of %s deleted while it is destroyed: the destroy goes on", name))
		return d
	}
	if old := running(sb); old != "" {
		d.Stop = append(d.Stop, old)
		d.Log = append(d.Log, fmt.Sprintf("deploy %s of %s stopped: its branch was deleted", old, name))
	}
	sb.Status, sb.Reason = state.StatusDestroying, "its branch was deleted"
	d.Write = true
	d.Start = append(d.Start, ask(sb, state.ActionDestroy, ev))
	d.Log = append(d.Log, fmt.Sprintf("destroy %s: its branch was deleted", name))
	return d
}

// finished decides about a finished build of the project.
func (cfg Config) finished(set *state.Set, ev Event) (Decision, error) {
	var sb *state.Sandbox
	for i := range set.Sandboxes {
		if set.Sandboxes[i].Build == ev.BuildID {
			sb = &set.Sandboxes[i]
		}
	}
	if sb == nil {
		return Decision{Log: []string{fmt.Sprintf("build %s (%s) is no sandbox's current build: superseded, ignored", ev.BuildID, ev.BuildStatus)}}, nil
	}
	if v, ok := ev.Variables["SANDBOX"]; ok && v != sb.Name {
		return Decision{}, fmt.Errorf("detail.additional-information.environment.environment-variables SANDBOX %q: build %s is sandbox %s's", v, ev.BuildID, sb.Name)
	}
	if v, ok := ev.Variables["SANDBOX_ACTION"]; ok && v != newBuild(sb, "").Action {
		return Decision{}, fmt.Errorf("detail.additional-information.environment.environment-variables SANDBOX_ACTION %q: build %s is the %s of sandbox %s", v, ev.BuildID, sb.Action, sb.Name)
	}
	return cfg.finish(set, sb, ev.BuildStatus), nil
}

// finish applies the end of sb's current build, whose status is status.
func (cfg Config) finish(set *state.Set, sb *state.Sandbox, status string) Decision {
	var d Decision
	build := sb.Build
	switch {
	case sb.Action == state.ActionDeploy && sb.Status == state.StatusDeploying:
		d.Write = true
		if status == BuildSucceeded {
			sb.Status, sb.Reason = state.StatusLive, ""
			d.Log = append(d.Log, fmt.Sprintf("%s is live: deploy %s succeeded", sb.Name, build))
			return d
		}
		sb.Status, sb.Reason = state.StatusFailed, fmt.Sprintf("the deploy of %s failed (build %s)", short(sb.Commit), build)
		if status == BuildStopped {
			sb.Reason = fmt.Sprintf("the deploy of %s was stopped (build %s)", short(sb.Commit), build)
		}
		d.Notify = append(d.Notify, cfg.failed(sb))
	case sb.Action != state.ActionDeploy && sb.Status == state.StatusDestroying:
		d.Write = true
		switch {
		case status != BuildSucceeded:
			sb.Status, sb.Reason = state.StatusDestroyFailed, fmt.Sprintf("the destroy %s (build %s)", map[string]string{BuildFailed: "failed", BuildStopped: "was stopped"}[status], build)
			d.Notify = append(d.Notify, cfg.destroyFailed(sb))
		case sb.Action == state.ActionExpire:
			sb.Status = state.StatusExpired
			d.Notify = append(d.Notify, cfg.expired(sb))
		default:
			d.Notify = append(d.Notify, cfg.destroyed(sb))
			set.Remove(sb.Name)
		}
	default:
		d.Log = append(d.Log, fmt.Sprintf("build %s of %s finished %s, but %s is already %s: nothing to do", build, sb.Name, status, sb.Name, sb.Status))
		return d
	}
	d.Log = append(d.Log, fmt.Sprintf("%s build %s of %s finished %s", sb.Action, build, sb.Name, status))
	return d
}

// sweep applies the builds found finished, then warns and expires idle sandboxes, and
// restarts the builds asked for long ago but never started.
func (cfg Config) sweep(set *state.Set, ev Event) Decision {
	var d Decision
	for _, id := range slices.Sorted(maps.Keys(ev.Finished)) {
		for i := range set.Sandboxes {
			if sb := &set.Sandboxes[i]; sb.Build == id {
				d.merge(cfg.finish(set, sb, ev.Finished[id]))
				break
			}
		}
	}
	now := ev.Time
	for i := range set.Sandboxes {
		sb := &set.Sandboxes[i]
		switch sb.Status {
		case state.StatusLive, state.StatusFailed:
			idle := now.Sub(sb.Pushed)
			if idle >= cfg.TTL {
				sb.Status, sb.Reason = state.StatusDestroying, fmt.Sprintf("expired after %s without a push", hours(cfg.TTL))
				d.Write = true
				d.Start = append(d.Start, ask(sb, state.ActionExpire, ev))
				d.Log = append(d.Log, fmt.Sprintf("expire %s: no push for %s", sb.Name, idle.Round(time.Minute)))
			} else if idle >= cfg.TTL-cfg.Warning && sb.Warned.IsZero() {
				sb.Warned = now
				d.Write = true
				d.Notify = append(d.Notify, cfg.expiring(sb))
				d.Log = append(d.Log, fmt.Sprintf("warn %s: expires at %s", sb.Name, sb.Pushed.Add(cfg.TTL).UTC().Format(time.RFC3339)))
			}
		case state.StatusDeploying, state.StatusDestroying:
			if sb.Build == "" && now.Sub(sb.Requested) >= RestartAfter {
				d.Log = append(d.Log, fmt.Sprintf("restart the %s of %s: asked for at %s, never started", sb.Action, sb.Name, sb.Requested.UTC().Format(time.RFC3339)))
				sb.Event, sb.Requested = ev.ID, now
				d.Write = true
				d.Start = append(d.Start, newBuild(sb, ev.ID))
			}
		}
	}
	if len(d.Log) == 0 {
		d.Log = append(d.Log, fmt.Sprintf("sweep at %s: %d sandboxes, nothing to do", now.UTC().Format(time.RFC3339), len(set.Sandboxes)))
	}
	return d
}

func (d *Decision) merge(o Decision) {
	d.Write = d.Write || o.Write
	d.Stop = append(d.Stop, o.Stop...)
	d.Start = append(d.Start, o.Start...)
	d.Notify = append(d.Notify, o.Notify...)
	d.Log = append(d.Log, o.Log...)
}

// Started records that build b started as buildID, if the sandbox still waits for it: its
// record still names b's event and has no build. Otherwise a newer event superseded b
// while it started: Started changes nothing and returns false, and the caller stops buildID.
func Started(set *state.Set, b Build, buildID string) bool {
	sb, ok := set.Find(b.Sandbox)
	if !ok || sb.Event != b.Event || sb.Build != "" || newBuild(sb, "").Action != b.Action ||
		(sb.Status != state.StatusDeploying && sb.Status != state.StatusDestroying) {
		return false
	}
	sb.Build = buildID
	return true
}

// StartFailed records that build b could not be started (cause says why), if the sandbox
// still waits for it, and returns the decision: the sandbox failed (or destroy-failed) and
// its owner told. Write is false when a newer event superseded b.
func (cfg Config) StartFailed(set *state.Set, b Build, cause error) Decision {
	sb, ok := set.Find(b.Sandbox)
	if !ok || sb.Event != b.Event || sb.Build != "" || (sb.Status != state.StatusDeploying && sb.Status != state.StatusDestroying) {
		return Decision{Log: []string{fmt.Sprintf("the %s build of %s did not start (%v), but it was superseded meanwhile", b.Action, b.Sandbox, cause)}}
	}
	d := Decision{Write: true}
	reason := fmt.Sprintf("the %s build could not be started: %s", b.Action, truncate(cause.Error(), 300))
	if b.Action == state.ActionDeploy {
		sb.Status, sb.Reason = state.StatusFailed, reason
		d.Notify = append(d.Notify, cfg.failed(sb))
	} else {
		sb.Status, sb.Reason = state.StatusDestroyFailed, reason
		d.Notify = append(d.Notify, cfg.destroyFailed(sb))
	}
	d.Log = append(d.Log, fmt.Sprintf("%s of %s: %s", b.Action, b.Sandbox, reason))
	return d
}

// capReason says that the cap is reached, and by which sandboxes.
func (cfg Config) capReason(set *state.Set) string {
	return fmt.Sprintf("the path may have at most %d sandboxes at once, and %d count: %s", cfg.Max, set.Counted(), strings.Join(set.CountedNames(), ", "))
}

// short is a commit id's first 12 characters.
func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// hours writes a whole-hour duration as "72h".
func hours(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}
