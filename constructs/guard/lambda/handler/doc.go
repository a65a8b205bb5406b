// Package handler is the promotion guard Lambda's handler: it reads the CodePipeline job,
// asks the promotion rule (package gate) whether the commit passed upstream, checks the
// commit's image, and always reports the outcome on the job. The Lambda's main
// (constructs/guard/lambda) is a thin wrapper:
//
//	cfg, cfgErr := handler.ConfigFromEnv(os.Getenv)
//	awsCfg, _ := config.LoadDefaultConfig(ctx) // on failure: the runtime's own credentials, and cfgErr says why
//	lambda.Start(handler.NewHandler(awsCfg, cfg, cfgErr).Handle)
//
// # Contract with the CDK construct (constructs/guard)
//
// Environment variables:
//
//   - UPSTREAM_ENVIRONMENT (required): the upstream environment's name, e.g. "stg", used in messages.
//   - UPSTREAM_PIPELINE (required): the pipeline's name in the upstream account.
//   - UPSTREAM_ROLE_ARN (required): the read-only role in the upstream account the guard
//     assumes; it needs codepipeline:ListPipelineExecutions on that pipeline.
//   - UPSTREAM_REGION (required): the upstream pipeline's region.
//   - HISTORY_MAX_PAGES (optional, 1..100): how many pages of 100 executions to read; the
//     construct sets it from the organisation's settings.historyPages, which ship reads too.
//     Default: org.DefaultHistoryPages (10 pages, 1000 executions).
//   - IMAGE_REPOSITORY (optional): when set, the image tagged with the full 40-character
//     commit id must also exist in this ECR repository; the guard calls ecr:DescribeImages
//     with its OWN credentials (the repository policy must grant its role that action).
//     Default: - no image check.
//   - IMAGE_REGISTRY_ID (optional): the registry's 12-digit account id. Default: - the guard's own account.
//   - IMAGE_REGION (optional): the registry's region. Default: - AWS_REGION.
//   - VULNERABILITY_THRESHOLD (optional, needs IMAGE_REPOSITORY): adds the vulnerability
//     gate (ScanCheck): the registry's scan of the image must count no finding of this
//     severity or above. CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, or NONE (report the
//     counts, refuse nothing), in any case: the environment's vulnerabilities.refuse. The
//     guard calls ecr:DescribeImageScanFindings with its OWN credentials (its role's policy
//     and the repository policy must both grant it; with enhanced scanning its role needs
//     inspector2:ListFindings too). Default: - no scan check.
//   - UNSCANNED_IMAGES (optional, needs VULNERABILITY_THRESHOLD): refuse or allow, in any
//     case: what the gate does with an image whose scan has no usable result (in progress,
//     failed, unsupported, none): the environment's vulnerabilities.unscanned. With NONE
//     such an image is only reported. Default: refuse.
//   - AWS_REGION (set by Lambda): the guard's own region; PutJob*Result is sent there with
//     the guard's own credentials, never the assumed ones.
//
// Event: the standard CodePipeline job event (key "CodePipeline.job"). Its
// data.actionConfiguration.configuration.UserParameters must be the JSON object
//
//	{"commit":"#{SourceVariables.CommitId}","executionId":"#{codepipeline.PipelineExecutionId}"}
//
// resolved by the pipeline: "commit" is required and must be 40 lowercase hex characters;
// "executionId" is optional (a lowercase UUID, used in logs). Keys are case-sensitive; an
// unknown or repeated key is an error, to catch misconfiguration early. The event also
// carries temporary artifact credentials: wherever the guard logs an event, it logs it
// through RedactEvent, never raw.
//
// Outcome: the guard reports on the job and the invocation itself succeeds.
//
//   - Pass: PutJobSuccessResult with output variables Commit (full id), UpstreamExecutionId,
//     UpstreamSucceededAt (RFC 3339, UTC), Summary (one sentence of what was verified, at
//     most 250 bytes, e.g. for the prd approval request) and, with the image check,
//     ImageDigest ("sha256:…") and ImageUri ("<registry>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:…"),
//     and, with the scan check, Vulnerabilities (the scan's counts, vulnscan.Counts.String:
//     "CRITICAL=0 HIGH=2 MEDIUM=5 LOW=0 INFORMATIONAL=0 UNDEFINED=0"; "NOT_SCANNED" when an
//     image without a usable scan was let through) and ScanStatus (ECR's status: COMPLETE,
//     ACTIVE, IN_PROGRESS, ...; "NOT_FOUND" when ECR has no scan of the image).
//   - Fail: PutJobFailureResult (type JobFailed) with a message for a person.
//
// # Faults: what the guard does on each
//
// The guard fails closed: every fault ends in PutJobFailureResult with its own message, and
// nothing is deployed. The time budget is the Lambda's remaining time less Config.Reserve
// (DefaultReserve, 3 s); the report then gets a fresh context that runs to the Lambda's
// deadline, so running out of time is reported, never a silent time-out.
//
//	fault                                   what the job's failure message says
//	the commit has not passed upstream      gate.Verdict.Reason: the newest pass there, or the newer failed run of the commit
//	its upstream run was rolled back        gate.Verdict.Reason: the run, the ROLLBACK execution that undid it, its target and when
//	history longer than the page bound      how many executions were read, in how many pages; raise settings.historyPages
//	AssumeRole denied                       the read-only role may be missing or not trust the guard (an STS fault)
//	STS throttling or unavailable           "assuming the <env> read-only role … through STS": retried by the STS client only
//	listing denied / pipeline missing       the role may not list / the pipeline does not exist in that account and region
//	CodePipeline throttling                 retried with jittered backoff, bounded attempts; then "AWS kept throttling"
//	the time budget runs out                "out of time (budget …)", and whether AWS was throttling meanwhile
//	the image or its repository missing     the tag, the repository, the registry; or the policy that must grant DescribeImages
//	findings at or above the threshold      how many, the threshold and its setting (vulnerabilities.refuse), the worst three
//	no usable scan (refuse)                 the scan's status, what it means and what to do (retry later, rescan, enhanced scanning)
//	the scan not readable                   the policies that must grant ecr:DescribeImageScanFindings (and inspector2:ListFindings)
//	malformed job (UserParameters)          which key or value is wrong, and what the action must pass
//	the guard misconfigured                 every bad variable, its value and what is allowed
//	the AWS configuration fails to load     "load AWS configuration: …" (reported with the runtime's own credentials)
//	a panic inside a check                  "the guard's <check> check failed unexpectedly (panic: …)": a bug, reported
//	the report fails transiently            retried until the deadline; InvalidJobStateException after a try means it landed
//
// Retries never nest: a call whose credentials could not be assumed is not retried around
// every STS attempt (CodePipeline's retryer skips AssumeRoleError), and the report client
// makes one attempt per call, retried by Handler.report.
//
// The one case that cannot be reported: an event without a readable job id. The handler
// then logs the event (redacted) and returns an error (ErrNoJobID); the action fails when
// CodePipeline times the job out. The handler also returns an error when CodePipeline
// refuses the report for good (JobNotFoundException, ValidationException) or the deadline
// passes while it keeps failing.
package handler
