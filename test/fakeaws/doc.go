// Package fakeaws is a local stand-in for the AWS APIs ship calls: CodePipeline's
// ListPipelineExecutions and GetPipelineState (JSON 1.1) and STS's AssumeRole (Query/XML).
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
// would have started for the new commit (see Watch).
//
// It is a test double, not an emulator: it answers only what ship asks, with no accounts,
// regions or permissions.
package fakeaws
