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
// environment's pipeline Succeeded. Judge is the rule, applied to one execution at a time,
// newest first:
//
//   - Only a STANDARD execution decides (one that states no type, as a V1 pipeline's, is
//     taken as STANDARD unless it carries rollback metadata). A ROLLBACK execution (CodePipeline V2 stage
//     rollback) redeploys an earlier run's revisions in some stages only; its Succeeded
//     status says nothing about the commit having passed the whole pipeline, so it is
//     ignored.
//   - The commit is read only from the revision of the pipeline's own source action
//     (org.SourceActionName in stage org.SourceStageName). A revision of any other action
//     (a second source added by a caller) never matches.
//   - A Succeeded execution of the commit passes it. A Failed or Stopped execution of the
//     commit that is newer than every Succeeded one withdraws the pass: the environment's
//     latest word on that commit is "no" (a re-run that failed Deploy or Verify, a run an
//     operator stopped). A newer success restores it.
//   - InProgress, Stopping, Superseded and Cancelled executions have no verdict and are
//     skipped.
//
// History is read newest first, in pages of org.HistoryPageSize, at most maxPages pages
// (org.Settings.HistoryPages). When the bound stops the search before a deciding execution is
// found and more history exists, the answer is ErrHistoryBound, never "not passed" and never
// "passed": the search cannot tell "never passed" from "passed long ago".
package gate
