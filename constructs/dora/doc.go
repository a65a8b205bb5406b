// Package dora computes the four delivery metrics (the DORA keys: deployment frequency,
// lead time for changes, change failure rate, time to restore) of one environment from its
// pipeline's history. The ship CLI (`ship metrics`, `ship report`) and the dashboard's
// runs widget in each environment account both call it, so they cannot disagree. It has no
// jsii and no credentials: it reads through the interfaces it is given.
//
// The simplest use:
//
//	w := dora.Last(30*24*time.Hour, time.Now())
//	h, err := dora.Read(ctx, codepipelineClient, dora.ReadOptions{Pipeline: "payments-checkout-prd", Window: w})
//	times, _, err := dora.CommitTimes(ctx, codecommitClient, "payments-checkout", h.Commits())
//	m := dora.Compute(h, times, w)
//	fmt.Println(m.Summary.Deployments, m.Summary.LeadTime.Median, m.Summary.ChangeFailureRate())
//
// # Definitions
//
// Every run of the environment's pipeline is read as the guard reads it (gate.Execution:
// its commit is the revision of the pipeline's own source action; a STANDARD run a
// ROLLBACK run undid is marked rolled back). Classify turns the runs, oldest first, into
// events:
//
//   - deploy: a STANDARD run that succeeded with a commit new to the environment (never
//     deployed there before, as far as the history read shows, and not older than the
//     commit it replaced). Only deploys count as deployments.
//   - rerun: a STANDARD run that succeeded with the commit already deployed (a "Release
//     change" of the same commit, a push of the same commit), or with a commit deployed
//     there before that is not older than the one it replaced (deployed again after a
//     rollback). Not a deployment.
//   - rollback-push: a STANDARD run that succeeded with an older commit
//     (`git push prd <older>`): one whose commit time is older than that of the commit it
//     replaced, or one the environment deployed before when either time is unknown. Not a
//     deployment; the deploy it replaced counts as failed.
//   - rollback: a ROLLBACK run that succeeded (CodePipeline's automatic rollback, or a
//     person's rollback-stage). Not a deployment; the deploys it undid count as failed.
//   - failed-deploy: a STANDARD run that failed or was stopped after its Deploy stage
//     started. A run that stopped before deploying (the guard refused it, the build failed,
//     the approval was rejected) is not a deployment attempt and is not an event.
//
// Runs in progress, superseded or cancelled are not events. A stage retried inside the same
// run is one run: only its final status is seen.
//
// Summarise counts the events that finished inside the window:
//
//   - Deployment frequency: the deploys, and deploys per week (deploys / window days × 7).
//   - Lead time for changes: per deploy, commit time (the committer date) to the end of
//     the run that deployed it. A commit is deployed once: its first successful run in the
//     environment; a commit promoted again later is a rerun or a rollback-push, not a second
//     lead time. Median and p90 are nearest-rank (the smallest sample that at least half,
//     or 90%, of the samples do not exceed). A commit whose time is unknown is counted, not
//     guessed.
//   - Change failure rate: failures / attempts. Attempts are deploys and failed deploys;
//     failures are failed deploys and deploys later rolled back (by a rollback run or a
//     rollback-push). Undefined (not 0) with no attempts.
//   - Time to restore: per failure, from when it began (the end of the failed run; the end
//     of the run that deployed the bad commit) to the end of the next run that left a
//     commit deployed (gate.Deployed: a rollback, a rollback-push, a rerun, or a fix
//     deployed forward). Median and p90; a failure not yet restored is counted as open.
//
// # History read
//
// Read pages the history newest first (gate.EachExecution) until it has read the newest
// run that left a commit deployed before the window opened (what the environment ran when
// the window opened), or the history ends. When the organisation's bound
// (settings.historyPages) stops it first, the metrics cover only the span read: the
// summary's window starts at the oldest run read and says it was shortened. A commit
// deployed before the oldest run read counts as new if it comes back later (unless its
// commit time says it is older).
package dora
