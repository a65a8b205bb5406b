// Package fakeaws is a local stand-in for the AWS APIs ship, the guard and the sandbox call:
// CodePipeline's ListPipelineExecutions, GetPipelineExecution, GetPipelineState,
// ListActionExecutions, PutApprovalResult, StopPipelineExecution and the job results (JSON
// 1.1), CodeCommit's BatchGetCommits (JSON 1.1; SetRepository: answered with git from a
// real repository), ECR's DescribeImages and DescribeImageScanFindings (SetImage, SetScan), STS's
// AssumeRole and GetCallerIdentity (Query/XML), and
// CloudWatch's DescribeAlarms (Smithy RPC v2 CBOR, the protocol the pinned
// aws-sdk-go-v2/service/cloudwatch speaks; SetAlarms), and S3's GetObject and HeadObject
// (REST-XML, path-style requests; SetObject), and DynamoDB's GetItem and PutItem with the
// conditions of an optimistic write (JSON 1.0; SetTable, Item, PutRawItem).
// It speaks the wire protocols, so the real SDK clients reach it through AWS_ENDPOINT_URL
// and their serialisation, paging and error handling run for real:
//
//	fake := fakeaws.New()
//	fake.SetRuns("payments-checkout-dev",
//		fakeaws.Run{ID: "dev-2", Commit: c2, Status: "Succeeded", At: t2}, // newest first
//		fakeaws.Run{ID: "dev-1", Commit: c1, Status: "Succeeded", At: t1})
//	srv := httptest.NewServer(fake) // a *Server is an http.Handler
//	// then AWS_ENDPOINT_URL=srv.URL and any AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
//
// A pipeline exists once SetRuns (or Watch) has named it; any other name is answered with
// PipelineNotFoundException, as an account without that pipeline would. Signatures are not
// checked, but the access key of every call is recorded (Recorded), so a test can tell which
// credentials were used, and RejectAccessKey makes the fake refuse one as AWS does a
// deleted key.
//
// Watch turns on the live mode the ship sandbox uses: the fake looks at the environments'
// git repositories on every request and, when a branch moved, records the run the pipeline
// would have started for the new commit. Its pipelines run in QUEUED mode, as the
// constructs' do: a run waits behind the one at the approval until PutApprovalResult
// answers it (see Watch); RollBack records a stage rollback. With Repo.Full the pipelines
// have the path's stages (Guard, Plan, Approval, Deploy with its entry and bake conditions),
// and a test scripts what happens to a run (Script: a failed action, a window or alarm wait,
// an alarm during the bake and the automatic rollback it starts) and moves it at its own
// pace: at once, one Step at a time, or one step per GetPipelineState (Pace), with a Clock
// that only the test moves. Await waits for a state without sleeping.
//
// It is a test double, not an emulator: it answers only what ship asks, with no accounts,
// regions or permissions.
package fakeaws
