package controller

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/sandboxes/state"
)

// The events of a Notification (its "event" message attribute). A successful deploy is not
// notified: the pusher watches it, and a quiet success keeps the topic for what needs action.
const (
	EventRefused       = "refused"
	EventFailed        = "failed"
	EventExpiring      = "expiring"
	EventExpired       = "expired"
	EventDestroyed     = "destroyed"
	EventDestroyFailed = "destroy-failed"
)

// OwnerUnknown is the "owner" attribute of a notification about a sandbox whose events did
// not say who pushed (SNS refuses an empty attribute value).
const OwnerUnknown = "unknown"

// MaxSubject is SNS's limit on a message's subject.
const MaxSubject = 100

// Notification is one message to the path's notification topic.
type Notification struct {
	// Sandbox is the sandbox's name (as pushed, for a refused name): the "sandbox" attribute.
	Sandbox string
	// Owner is the callerUserArn of the sandbox's owner, or of the refused pusher: the
	// "owner" attribute a developer filters on. OwnerUnknown when no event said.
	Owner string
	// Event is one of the Event* constants: the "event" attribute.
	Event string
	// Subject is at most MaxSubject ASCII characters, "sandbox alice of payments-checkout: ...".
	Subject string
	// Message says what happened, why, and what to do next.
	Message string
}

// Attributes are the message attributes (all of type String) of n.
func (n Notification) Attributes() map[string]string {
	sandbox := n.Sandbox
	if sandbox == "" {
		sandbox = `""`
	}
	return map[string]string{"sandbox": sandbox, "owner": n.Owner, "event": n.Event}
}

// note builds a notification about sandbox name for owner.
func (cfg Config) note(name, owner, event, what, message string) Notification {
	if owner == "" {
		owner = OwnerUnknown
	}
	shown := name
	if org.SandboxNameProblem(name) != "" {
		// ASCII only: SNS refuses a subject with anything else, and the name may hold anything.
		if shown = strconv.QuoteToASCII(name); len(shown) > 32 {
			shown = shown[:29] + "..."
		}
	}
	subject := fmt.Sprintf("sandbox %s of %s: %s", shown, cfg.PathID, what)
	if len(subject) > MaxSubject {
		subject = subject[:MaxSubject-3] + "..."
	}
	return Notification{Sandbox: name, Owner: owner, Event: event, Subject: subject, Message: strings.TrimSpace(message) + "\n"}
}

// where names the path and account, for messages.
func (cfg Config) where() string {
	return fmt.Sprintf("%s (repository %s, %s account)", cfg.PathID, cfg.Repository, cfg.Environment)
}

func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func (cfg Config) refusedName(ev Event, name, problem string) Notification {
	return cfg.note(name, ev.Caller, EventRefused, "refused, invalid name", fmt.Sprintf(`
Nothing was deployed for your push of %s to branch %s of %s.

Why: %q cannot name a sandbox: %s. A sandbox name is %s: it ends up in stack names, tags and shell commands.

What to do: push to a branch with a valid name and delete this one:
  git push dev HEAD:%s
  git push dev --delete %s
`, short(ev.Commit), strconv.Quote(truncate(ev.Reference, 200)), cfg.where(), truncate(name, 200), problem, org.AllowedSandboxName,
		org.SandboxBranch("alice"), strconv.Quote(truncate(ev.Reference, 200))))
}

func (cfg Config) refusedCap(set *state.Set, sb *state.Sandbox, ev Event, revival bool) Notification {
	what, done := "refused, too many sandboxes", "was not created"
	if revival {
		what, done = "not revived, too many sandboxes", "expired earlier and was not deployed again"
	}
	return cfg.note(sb.Name, ev.Caller, EventRefused, what, fmt.Sprintf(`
Sandbox %s of %s %s by your push of %s.

Why: %s.

What to do: delete the branch of a sandbox nobody needs (git push dev --delete sandbox/<name>; its stacks are destroyed and it stops counting), then push %s again. The branch %s is kept.
`, sb.Name, cfg.where(), done, short(ev.Commit), cfg.capReason(set), sb.Branch, sb.Branch))
}

func (cfg Config) refusedDestroying(sb *state.Sandbox, ev Event) Notification {
	why := fmt.Sprintf("it is being destroyed (%s).", sb.Reason)
	todo := "Push again when it is gone: its owner is told when it is destroyed."
	if sb.Status == state.StatusDestroyFailed {
		why = fmt.Sprintf("its last destroy failed (%s), so some of its stacks (those ending in %s) may still exist.", sb.Reason, org.SandboxStackSuffix(sb.Name))
		todo = fmt.Sprintf(`Read the destroy build's log (CodeBuild project %s, build %s) and fix what stopped it, e.g. a resource CloudFormation could not delete. Then delete the branch (git push dev --delete %s): that retries the destroy. Once you are told it is destroyed, push the branch again.`, cfg.Project, sb.Build, sb.Branch)
	}
	return cfg.note(sb.Name, ev.Caller, EventRefused, "push refused, "+string(sb.Status), fmt.Sprintf(`
Your push of %s to %s of %s was not deployed.

Why: %s

What to do: %s
`, short(ev.Commit), sb.Branch, cfg.where(), why, todo))
}

func (cfg Config) failed(sb *state.Sandbox) Notification {
	return cfg.note(sb.Name, sb.Owner, EventFailed, "deploy failed", fmt.Sprintf(`
The deploy of commit %s to sandbox %s of %s failed.

Why: %s.

What to do: read the build's log (CodeBuild project %s, build %s): the secrets scan, the build, the image, the synth, the assembly check (stack names ending in %s, nothing retained) or the deploy stopped it. Push a fix to %s to deploy again. The sandbox counts against the cap of %d until its branch is deleted, and expires after %s without a push.
`, sb.Commit, sb.Name, cfg.where(), sb.Reason, cfg.Project, orNone(sb.Build), org.SandboxStackSuffix(sb.Name), sb.Branch, cfg.Max, hours(cfg.TTL)))
}

func (cfg Config) expiring(sb *state.Sandbox) Notification {
	at := sb.Pushed.Add(cfg.TTL)
	return cfg.note(sb.Name, sb.Owner, EventExpiring, "expires "+when(at), fmt.Sprintf(`
Sandbox %s of %s will be destroyed at %s.

Why: it has had no push since %s, and a sandbox is destroyed after %s without one.

What to do: to keep it, push to %s (an empty commit will do: git commit --allow-empty -m "keep sandbox" && git push dev HEAD:%s). If it expires, its branch is kept, and a push deploys it again. If you are done with it, delete the branch (git push dev --delete %s).
`, sb.Name, cfg.where(), when(at), when(sb.Pushed), hours(cfg.TTL), sb.Branch, sb.Branch, sb.Branch))
}

func (cfg Config) expired(sb *state.Sandbox) Notification {
	return cfg.note(sb.Name, sb.Owner, EventExpired, "expired and destroyed", fmt.Sprintf(`
Sandbox %s of %s was destroyed.

Why: %s (the last was at %s).

What to do: nothing, if you are done with it: delete the branch %s to forget it. To have it back, push to %s: it is deployed again if fewer than %d sandboxes count then.
`, sb.Name, cfg.where(), sb.Reason, when(sb.Pushed), sb.Branch, sb.Branch, cfg.Max))
}

func (cfg Config) destroyed(sb *state.Sandbox) Notification {
	return cfg.note(sb.Name, sb.Owner, EventDestroyed, "destroyed", fmt.Sprintf(`
Sandbox %s of %s was destroyed: %s.

It no longer counts against the cap of %d. Pushing %s again creates it anew.
`, sb.Name, cfg.where(), sb.Reason, cfg.Max, sb.Branch))
}

func (cfg Config) destroyFailed(sb *state.Sandbox) Notification {
	return cfg.note(sb.Name, sb.Owner, EventDestroyFailed, "destroy failed", fmt.Sprintf(`
The destroy of sandbox %s of %s failed.

Why: %s. Some of its stacks (those ending in %s) may still exist, and it still counts against the cap of %d.

What to do: read the build's log (CodeBuild project %s, build %s) and fix what stopped it, e.g. a resource CloudFormation could not delete (empty a bucket, remove a deletion protection). Then retry: delete the branch %s (if it is already deleted, push it and delete it again).
`, sb.Name, cfg.where(), sb.Reason, org.SandboxStackSuffix(sb.Name), cfg.Max, cfg.Project, orNone(sb.Build), sb.Branch))
}

func orNone(s string) string {
	if s == "" {
		return "none started"
	}
	return s
}
