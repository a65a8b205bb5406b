// Package controller decides what the sandbox controller Lambda does about each event: a
// push to or deletion of a sandbox/<name> branch, a finished build of the sandbox project,
// or the schedule's sweep. It is pure: it changes the set of sandboxes read from the table
// (package state) and returns the builds to stop and start and the notifications to send,
// which the Lambda (constructs/sandboxes/lambda/handler) carries out, in that order, after
// the write:
//
//	ev, err := controller.Decode(raw) // the EventBridge event, checked field by field
//	var d controller.Decision
//	set, err := state.Update(ctx, db, table, func(s *state.Set) error {
//		d, err = controller.Decide(cfg, s, ev)
//		if err == nil && !d.Write {
//			return errNothingToWrite
//		}
//		return err
//	})
//	// then StopBuild d.Stop, StartBuild d.Start (recording each id with Started), publish d.Notify
//
// # Rules
//
// A push of sandbox/<name> deploys the pushed commit: a new sandbox if fewer than Max count
// (state.Status.Counts), else it is recorded refused and its pusher told; a sandbox that is
// deploying, live, failed or expired is deployed again (a running deploy of it is stopped:
// the newer push wins; an expired one only if the cap allows); one that is destroying or
// destroy-failed is not, and the pusher is told why. A name that breaks org's rule deploys
// nothing, is not recorded, and its pusher is told.
//
// A deletion of the branch destroys the sandbox (stopping a running deploy); a refused or
// expired one is only forgotten. When the destroy succeeds the record goes and the owner is
// told; when it fails the sandbox is destroy-failed and counts until a later delete's destroy
// succeeds.
//
// A finished build counts only if it is the sandbox's current one (Sandbox.Build): a
// superseded build's end changes nothing. A deploy that succeeds makes the sandbox live,
// silently; one that fails or is stopped makes it failed, and its owner is told.
//
// The sweep (every 15 minutes) destroys a live or failed sandbox that has had no push for
// TTL (an expiry: the branch is kept and the record stays, expired, once the destroy
// succeeds), warns its owner once when Warning is left, restarts a deploy or destroy
// asked for more than RestartAfter ago whose build never started, and applies the end of
// builds whose event never came (Event.Finished).
//
// # Events delivered twice, and concurrent ones
//
// The record of a sandbox names the event that asked for its current action (Sandbox.Event):
// the same event delivered again starts nothing new, and StartBuild's idempotency token is
// derived from it (Token), so a start retried after a crash returns the same build. Decide
// is called inside state.Update, which may call it again on a newer set when another
// invocation wrote first: that is what keeps the cap exact under concurrent pushes.
package controller
