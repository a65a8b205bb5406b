// Package handler is the sandbox controller Lambda's handler: it decodes the EventBridge
// event, lets package controller decide inside state.Update (so concurrent invocations
// never exceed the cap), then stops and starts the sandbox project's builds and publishes
// the notifications. The Lambda's main (constructs/sandboxes/lambda/controller) is a thin
// wrapper:
//
//	cfg, cfgErr := handler.ConfigFromEnv(os.Getenv)
//	awsCfg, cfgErr := lambdaconfig.Load(ctx, cfgErr)
//	lambda.Start(handler.NewHandler(awsCfg, cfg, cfgErr).Handle)
//
// # Contract with the CDK construct (constructs/sandboxes)
//
// Environment variables, all required, checked at cold start (every problem is reported
// together, naming the variable, its value and what is allowed; a misconfigured function
// fails every invocation with that message):
//
//   - TABLE_NAME: the sandbox table, org.Path.SandboxTableName(env).
//   - PROJECT_NAME: the sandbox CodeBuild project, org.Path.SandboxProjectName(env); build
//     events of any other project are refused.
//   - TOPIC_ARN: the path's notification topic in this account.
//   - REPOSITORY_NAME: the first environment's CodeCommit repository; events of any other
//     repository are refused.
//   - MAX_SANDBOXES: Service.SandboxLimit(), 1 to org.MaxSandboxes.
//   - SANDBOX_TTL, SANDBOX_WARNING: Service.SandboxTTL() and SandboxWarning(), Go durations
//     (whole hours from 1h to 720h; the warning below the TTL).
//   - BUCKET: the bucket of the sandboxes' cloud assemblies (used by the builds).
//   - PATH_ID: <team>-<service>; ENVIRONMENT: the first environment's name (messages).
//
// Calls, with the function's own credentials: dynamodb:GetItem and PutItem on the table;
// codebuild:StartBuild, StopBuild and BatchGetBuilds on the project; sns:Publish on the topic.
//
// StartBuild gets projectName, idempotencyToken (controller.Token of the event, sandbox and
// action: a redelivered event gets back the build it started), environmentVariablesOverride
// SANDBOX, SANDBOX_ACTION (deploy|destroy), COMMIT_ID and SANDBOX_STACK_SUFFIX (PLAINTEXT),
// and for a deploy sourceVersion = the full commit id, for a destroy sourceTypeOverride
// NO_SOURCE.
//
// # Faults
//
//	fault                                  what happens
//	event not this path's, or malformed    error naming the field; nothing written or started
//	the table unreadable or unwritable     error; nothing started (Lambda retries the event)
//	every write lost to concurrent ones    error after state.MaxAttempts; nothing started
//	StopBuild fails                        logged: the stopped build's end is ignored anyway
//	StartBuild fails                       the sandbox failed (or destroy-failed), its owner told
//	recording a started build fails        logged: the sweep starts the action again later
//	a build superseded while it started    stopped at once
//	a build event lost                     the sweep asks BatchGetBuilds and applies the end
//	Publish fails                          error, after everything else was done
package handler
