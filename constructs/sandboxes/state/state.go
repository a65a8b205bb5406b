// Package state is the record of a path's sandboxes: one DynamoDB item (id "sandboxes") in
// the table org.Path.SandboxTableName(env) of the first environment's account, holding the
// JSON of every sandbox and a version that every write increments. The controller Lambda
// writes it; ship sandbox list reads it.
//
//	set, err := state.Read(ctx, dynamodb.NewFromConfig(cfg), table)
//	for _, sb := range set.Sandboxes { fmt.Println(sb.Name, sb.Status) }
//
// Every write is a read-modify-write that loses no update and never exceeds a cap under
// concurrent writers: Update reads the item consistently, applies the change in Go, and
// writes it only if the version is still the one read (or, for the first write, if there is
// no item yet); when another writer won, it reads again and retries:
//
//	set, err := state.Update(ctx, db, table, func(s *state.Set) error {
//		if s.Counted() >= max {
//			return errFull // nothing is written
//		}
//		s.Add(state.Sandbox{Name: "alice", Status: state.StatusDeploying})
//		return nil
//	})
//
// It has no jsii: it is linked into the controller Lambda and into ship.
package state

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Status is where a sandbox is in its life.
type Status string

// The statuses of a sandbox.
const (
	// StatusDeploying: a deploy of the last pushed commit has been asked for or is running.
	StatusDeploying Status = "deploying"
	// StatusLive: the last deploy succeeded.
	StatusLive Status = "live"
	// StatusFailed: the last deploy failed or was stopped; a push tries again.
	StatusFailed Status = "failed"
	// StatusDestroying: its stacks are being destroyed (branch deleted, or idle too long).
	StatusDestroying Status = "destroying"
	// StatusDestroyFailed: the destroy failed; its stacks may still exist.
	StatusDestroyFailed Status = "destroy-failed"
	// StatusExpired: destroyed after its TTL without a push; its branch is kept and a push
	// revives it.
	StatusExpired Status = "expired"
	// StatusRefused: a push was refused (the cap was reached); nothing was deployed.
	StatusRefused Status = "refused"
)

// Statuses is every Status, in the order of a sandbox's life.
var Statuses = []Status{StatusDeploying, StatusLive, StatusFailed, StatusDestroying, StatusDestroyFailed, StatusExpired, StatusRefused}

// Counts reports whether a sandbox in status s counts against the cap: it has, or may have,
// stacks in the account (deploying, live, failed, destroying, destroy-failed). An expired or
// refused sandbox has none.
func (s Status) Counts() bool {
	switch s {
	case StatusDeploying, StatusLive, StatusFailed, StatusDestroying, StatusDestroyFailed:
		return true
	}
	return false
}

// Actions of a sandbox's current or last build (Sandbox.Action).
const (
	ActionDeploy  = "deploy"
	ActionDestroy = "destroy"
	// ActionExpire is a destroy because the sandbox went TTL without a push: when it
	// succeeds the record stays, StatusExpired, since the branch still exists.
	ActionExpire = "expire"
)

// Sandbox is one sandbox: a branch org.SandboxBranch(Name) of the first environment's
// repository and the stacks its pushes deployed.
type Sandbox struct {
	// Name is what follows org.SandboxBranchPrefix in the branch.
	Name string `json:"name"`
	// Branch is the branch, org.SandboxBranch(Name).
	Branch string `json:"branch"`
	// Commit is the full id of the last commit pushed to the branch.
	Commit string `json:"commit"`
	// Owner is the callerUserArn of the push that created the sandbox: notifications carry
	// it, so its owner can subscribe to their own. Empty when the event did not say.
	Owner string `json:"owner"`
	// Created is when the sandbox was created (its first push).
	Created time.Time `json:"created"`
	// Pushed is when its branch was last pushed: the idle clock of the TTL starts here.
	Pushed time.Time `json:"pushed"`
	// Status is where it is in its life.
	Status Status `json:"status"`
	// Build is the CodeBuild build id of the current (or last) deploy or destroy; empty
	// while the build is asked for but not yet started.
	Build string `json:"build"`
	// Action is what Build does: ActionDeploy, ActionDestroy or ActionExpire.
	Action string `json:"action"`
	// Warned is when its owner was told it will expire; zero until then, and again after
	// every push.
	Warned time.Time `json:"warned,omitzero"`
	// Reason says why it is failed, refused, expired or destroy-failed.
	Reason string `json:"reason,omitempty"`
	// Event is the id of the EventBridge event that asked for the current action, so a
	// redelivered event is recognised and starts no second build.
	Event string `json:"event,omitempty"`
	// Requested is when the current action was asked for: a deploy or destroy whose build
	// has still not started long after (the controller stopped between the write and the
	// start) is started again by the sweep.
	Requested time.Time `json:"requested,omitzero"`
}

// Set is every sandbox of a path, as one item holds them.
type Set struct {
	// Version is the item's version: 0 when there is no item yet, incremented by every write.
	Version int64 `json:"version"`
	// Sandboxes in the order they were added.
	Sandboxes []Sandbox `json:"sandboxes"`
}

// Find returns the sandbox named name, which the caller may change in place, and whether
// there is one.
func (s *Set) Find(name string) (*Sandbox, bool) {
	for i := range s.Sandboxes {
		if s.Sandboxes[i].Name == name {
			return &s.Sandboxes[i], true
		}
	}
	return nil, false
}

// Counted is how many sandboxes count against the cap (Status.Counts).
func (s Set) Counted() int {
	n := 0
	for _, sb := range s.Sandboxes {
		if sb.Status.Counts() {
			n++
		}
	}
	return n
}

// CountedNames is the names of the sandboxes Counted counts, for messages.
func (s Set) CountedNames() []string {
	var names []string
	for _, sb := range s.Sandboxes {
		if sb.Status.Counts() {
			names = append(names, sb.Name+" ("+string(sb.Status)+")")
		}
	}
	return names
}

// Add adds sb, replacing the sandbox of the same name if there is one.
func (s *Set) Add(sb Sandbox) {
	if old, ok := s.Find(sb.Name); ok {
		*old = sb
		return
	}
	s.Sandboxes = append(s.Sandboxes, sb)
}

// Remove removes the sandbox named name and reports whether there was one.
func (s *Set) Remove(name string) bool {
	n := len(s.Sandboxes)
	s.Sandboxes = slices.DeleteFunc(s.Sandboxes, func(sb Sandbox) bool { return sb.Name == name })
	return len(s.Sandboxes) != n
}

// Clone is a copy of s that shares nothing with it.
func (s Set) Clone() Set {
	return Set{Version: s.Version, Sandboxes: slices.Clone(s.Sandboxes)}
}

// String is the set as one line per sandbox, for logs and test failures.
func (s Set) String() string {
	var b strings.Builder
	b.WriteString("version ")
	j, _ := json.Marshal(s.Version)
	b.Write(j)
	for _, sb := range s.Sandboxes {
		b.WriteString("\n  " + sb.Name + " " + string(sb.Status) + " action=" + sb.Action + " build=" + sb.Build + " commit=" + sb.Commit)
		if sb.Reason != "" {
			b.WriteString(" reason=" + sb.Reason)
		}
	}
	return b.String()
}
