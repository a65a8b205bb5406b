// Package gate decides whether a commit may run in a downstream environment: it must have
// a Succeeded execution in the upstream environment's pipeline (and, optionally, its image
// must exist in ECR). The guard Lambda and the `ship promote` CLI both ask this package, so
// they can never disagree.
//
// The simplest use:
//
//	v, err := gate.FindPassed(ctx, codepipelineClient, "payments-checkout-stg", commit, gate.DefaultMaxPages)
//	if err != nil { /* could not decide: fail closed */ }
//	if !v.Passed { fmt.Println(v.Reason(commit, "stg")) }
//
// The guard Lambda (constructs/guard/lambda) is a thin main around this package:
//
//	cfg, cfgErr := gate.ConfigFromEnv(os.Getenv)
//	awsCfg, _ := config.LoadDefaultConfig(ctx)
//	lambda.Start(gate.NewHandler(awsCfg, cfg, cfgErr).Handle)
//
// # Contract with the CDK construct
//
// Environment variables:
//
//   - UPSTREAM_ENVIRONMENT (required): the upstream environment's name, e.g. "stg", used in messages.
//   - UPSTREAM_PIPELINE (required): the pipeline's name in the upstream account.
//   - UPSTREAM_ROLE_ARN (required): the read-only role in the upstream account the guard
//     assumes; it needs codepipeline:ListPipelineExecutions on that pipeline.
//   - UPSTREAM_REGION (required): the upstream pipeline's region.
//   - HISTORY_MAX_PAGES (optional, 1..100): how many pages of 100 executions to read.
//     Default: DefaultMaxPages (10 pages, 1000 executions).
//   - IMAGE_REPOSITORY (optional): when set, the image tagged with the full 40-character
//     commit id must also exist in this ECR repository; the guard calls ecr:DescribeImages
//     with its OWN credentials (the repository policy must grant its role that action).
//     Default: - no image check.
//   - IMAGE_REGISTRY_ID (optional): the registry's 12-digit account id. Default: - the guard's own account.
//   - IMAGE_REGION (optional): the registry's region. Default: - AWS_REGION.
//   - AWS_REGION (set by Lambda): the guard's own region; PutJob*Result is sent there with
//     the guard's own credentials, never the assumed ones.
//
// A configuration error does not stop the Lambda from starting: every job then fails with
// a message naming the variable, its value and what is allowed.
//
// Event: the standard CodePipeline job event (key "CodePipeline.job"). Its
// data.actionConfiguration.configuration.UserParameters must be the JSON object
//
//	{"commit":"#{SourceVariables.CommitId}","executionId":"#{codepipeline.PipelineExecutionId}"}
//
// resolved by the pipeline: "commit" is required and must be 40 lowercase hex characters;
// "executionId" is optional (a lowercase UUID, used in logs). Keys are case-sensitive; an
// unknown or repeated key is an error, to catch misconfiguration early.
//
// Outcome: the guard reports on the job and the invocation itself succeeds.
//
//   - Pass: PutJobSuccessResult with output variables Commit (full id), UpstreamExecutionId,
//     UpstreamSucceededAt (RFC 3339, UTC), Summary (one sentence of what was verified, at
//     most 250 bytes, e.g. for the prd approval request) and, with the image check,
//     ImageDigest ("sha256:…") and ImageUri ("<registry>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:…").
//   - Fail: PutJobFailureResult (type JobFailed) with a message for a person, e.g.
//     "commit 1a2b3c4 has not passed stg (newest success there: 9f8e7d6 at 2026-11-20T10:00:00Z)".
//
// The guard fails closed, each time with its own message: the commit has not passed
// upstream; the upstream history is longer than the page bound (ErrHistoryBound);
// AssumeRole is denied (the role may be missing or not trust the guard); listing is denied;
// the upstream pipeline does not exist; AWS keeps throttling (calls are retried with
// jittered backoff within the time budget); the time budget runs out; the image or its
// repository does not exist; the job's UserParameters are malformed; the guard is
// misconfigured. An older commit that passed upstream long ago (a rollback) passes, as long
// as it is within the page bound.
//
// Time budget: the checks get the Lambda's remaining time less Config.Reserve
// (DefaultReserve, 3 s); the report is then sent in a fresh context that runs to the
// Lambda deadline, so running out of time is reported, never a silent time-out. Give the
// Lambda a timeout of 30 s or more.
//
// The one case that cannot be reported: an event without a readable job id. The handler
// then logs the event and returns an error (ErrNoJobID); the action fails when CodePipeline
// times the job out. The handler also returns an error when CodePipeline rejects the report
// itself (except InvalidJobStateException: the job was already reported by an earlier try).
package gate
