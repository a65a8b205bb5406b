// Package gate is the promotion rule: whether a commit passed an environment, read from
// that environment's pipeline history. The guard Lambda (constructs/guard/lambda) and the
// ship CLI both call it, so they cannot disagree; it has no Lambda, ECR or credential
// dependency, and no jsii.
//
// The simplest use:
//
//	v, err := gate.FindPassed(ctx, codepipelineClient, "payments-checkout-stg", commit, path.Settings.HistoryPages)
//	if err != nil { /* could not decide: fail closed */ }
//	if !v.Passed { fmt.Println(v.Reason(commit, "stg")) }
//
// # What "passed" means
//
// A commit passed an environment when the newest *deciding* execution of that commit in the
// environment's pipeline Succeeded and was not rolled back. Judge is the rule, applied to
// one execution at a time, newest first:
//
//   - Only a STANDARD execution decides (one that states no type, as a V1 pipeline's, is
//     taken as STANDARD unless it carries rollback metadata). A ROLLBACK execution
//     (CodePipeline V2 stage rollback) redeploys an earlier run's revisions in some stages
//     only; its Succeeded status says nothing about the commit having passed the whole
//     pipeline, so it never decides. It does mark the STANDARD executions it undid (below).
//   - The commit is read only from the revision of the pipeline's own source action
//     (org.SourceActionName in stage org.SourceStageName). A revision of any other action
//     (a second source added by a caller) never matches.
//   - A Succeeded execution of the commit passes it. A Failed or Stopped execution of the
//     commit that is newer than every Succeeded one withdraws the pass: the environment's
//     latest word on that commit is "no" (a re-run that failed Deploy or Verify, a run an
//     operator stopped). A newer success restores it.
//   - A STANDARD execution that a rollback undid counts as Failed, whatever status
//     CodePipeline gave it (an alarm rollback after the stage succeeded may leave it
//     Succeeded). It was rolled back when a ROLLBACK execution started after it and that
//     rollback's target (rollbackMetadata.rollbackTargetPipelineExecutionId) started before
//     it: read newest first, it comes after the rollback and before the target. The target
//     itself is not rolled back: it is what the rollback restored. A ROLLBACK execution
//     counts whatever its own status; one that names no target is taken to undo every
//     STANDARD execution after it up to and including the next Succeeded one (the run it
//     undid may show Succeeded, so that one cannot be taken for the restore point). A
//     success of the commit that started after the rollback restores the pass. The pager
//     (EachExecution, so FindPassed too) marks rolled-back executions (Execution.RolledBackBy)
//     before Judge sees them, tracking the rollbacks from the newest execution on; Rollbacks
//     does the same for executions built by hand. Deployed never counts a rolled-back
//     execution either.
//   - InProgress, Stopping, Superseded and Cancelled executions have no verdict and are
//     skipped (a rolled-back one too: it decided nothing yet).
//
// History is read newest first, in pages of org.HistoryPageSize, at most maxPages pages
// (org.Settings.HistoryPages). When the bound stops the search before a deciding execution is
// found and more history exists, the answer is ErrHistoryBound, never "not passed" and never
// "passed": the search cannot tell "never passed" from "passed long ago". A rollback whose
// target lies past the bound still marks every execution read after it: a rollback is
// always newer than what it undid, so the bound never hides one from the run it undid.
//
// "After" and "before" are CodePipeline's listing order (newest first), not a comparison
// of times. A run that started before a rollback but reached the rolled-back stage only after
// it (queued behind an approval, say) counts as rolled back too: fail closed; running that
// commit through the environment again passes it.
package gate
