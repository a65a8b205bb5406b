package handler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"

	"github.com/platform-eng/pathtoprod/constructs/sandboxes/controller"
	"github.com/platform-eng/pathtoprod/constructs/sandboxes/lambda/handler"
	"github.com/platform-eng/pathtoprod/constructs/sandboxes/state"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

const (
	account = "222222222222"
	region  = "eu-west-1"
	keyID   = "AKIDCONTROLLER"
	table   = "payments-checkout-dev-sandboxes"
	project = "payments-checkout-dev-sandbox"
	topic   = "arn:aws:sns:eu-west-1:222222222222:payments-checkout-dev-notifications"
	repo    = "payments-checkout"
	alice   = "arn:aws:sts::222222222222:assumed-role/Developer/alice"
)

var (
	t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	c1 = strings.Repeat("a1", 20)
	c2 = strings.Repeat("b2", 20)
)

func testConfig(max int) handler.Config {
	return handler.Config{Table: table, Project: project, TopicARN: topic, Repository: repo, Max: max,
		TTL: 72 * time.Hour, Warning: 18 * time.Hour, Bucket: "payments-checkout-dev-artifacts", PathID: "payments-checkout", Environment: "dev"}
}

// world is the fake account and the handler with real SDK clients pointed at it.
type world struct {
	fake *fakeaws.Server
	h    *handler.Handler
	url  string
	now  time.Time // the fake's clock (CodeBuild's token window)
	mu   sync.Mutex
}

func newWorld(t testing.TB, max int) *world {
	t.Helper()
	w := &world{fake: fakeaws.New(), now: t0}
	w.fake.SetAccount(keyID, account)
	w.fake.SetTable(account, table)
	w.fake.SetProject(account, project)
	w.fake.SetTopic(topic)
	w.fake.SetClock(func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now })
	srv := httptest.NewServer(w.fake)
	t.Cleanup(srv.Close)
	w.url = srv.URL
	awsCfg := aws.Config{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(keyID, "secret", "")}
	w.h = handler.NewHandler(awsCfg, testConfig(max), nil)
	w.h.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	return w
}

func (w *world) setNow(t time.Time) { w.mu.Lock(); defer w.mu.Unlock(); w.now = t }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// The events, in EventBridge's shapes.
func envelope(id, detailType, source string, at time.Time, detail any) []byte {
	b, _ := json.Marshal(map[string]any{"version": "0", "id": id, "detail-type": detailType, "source": source,
		"account": account, "time": at.UTC().Format(time.RFC3339), "region": region, "resources": []string{}, "detail": detail})
	return b
}
func pushEvent(id, name, commit string, at time.Time) []byte {
	return envelope(id, "CodeCommit Repository State Change", "aws.codecommit", at, map[string]any{
		"callerUserArn": alice, "commitId": commit, "event": "referenceUpdated", "referenceFullName": "refs/heads/sandbox/" + name,
		"referenceName": "sandbox/" + name, "referenceType": "branch", "repositoryId": "12345678-1234-5678-abcd-12345678abcd", "repositoryName": repo})
}
func deleteEvent(id, name, commit string, at time.Time) []byte {
	return envelope(id, "CodeCommit Repository State Change", "aws.codecommit", at, map[string]any{
		"callerUserArn": alice, "oldCommitId": commit, "event": "referenceDeleted", "referenceFullName": "refs/heads/sandbox/" + name,
		"referenceName": "sandbox/" + name, "referenceType": "branch", "repositoryId": "12345678-1234-5678-abcd-12345678abcd", "repositoryName": repo})
}
func buildEvent(id string, b fakeaws.Build, status string) []byte {
	var vars []map[string]string
	for k, v := range b.Environment {
		vars = append(vars, map[string]string{"name": k, "value": v, "type": "PLAINTEXT"})
	}
	return envelope(id, "CodeBuild Build State Change", "aws.codebuild", t0, map[string]any{
		"build-status": status, "project-name": b.Project, "build-id": b.ARN, "current-phase": "COMPLETED",
		"additional-information": map[string]any{"build-complete": true, "environment": map[string]any{"environment-variables": vars}}})
}
func sweepEvent(id string, at time.Time) []byte {
	return envelope(id, "Scheduled Event", "aws.events", at, map[string]any{})
}

func (w *world) handle(t *testing.T, event []byte) {
	t.Helper()
	if err := w.h.Handle(ctx(t), event); err != nil {
		t.Fatalf("Handle: %v", err)
	}
}

func (w *world) sandbox(t *testing.T, name string) (state.Sandbox, bool) {
	t.Helper()
	set, err := state.Read(ctx(t), w.h.DB, table)
	if err != nil {
		t.Fatal(err)
	}
	sb, ok := set.Find(name)
	if !ok {
		return state.Sandbox{}, false
	}
	return *sb, true
}

func (w *world) published(events ...string) bool {
	var got []string
	for _, p := range w.fake.Published() {
		got = append(got, p.Attributes["event"]+" "+p.Attributes["sandbox"])
	}
	return slices.Equal(got, events)
}

func publishedEvents(w *world) []string {
	var got []string
	for _, p := range w.fake.Published() {
		got = append(got, p.Attributes["event"]+" "+p.Attributes["sandbox"])
	}
	return got
}

// TestPushStartsADeployWithTheContractsParameters: a push of sandbox/alice writes the intent,
// starts exactly the contract's StartBuild (project, commit as sourceVersion, the four
// variables, the event's token), and records the build id; nothing is published.
func TestPushStartsADeployWithTheContractsParameters(t *testing.T) {
	w := newWorld(t, 3)
	w.handle(t, pushEvent("ev-push-1", "alice", c1, t0))

	builds := w.fake.Builds()
	if len(builds) != 1 {
		t.Fatalf("builds %+v", builds)
	}
	call, _ := w.fake.Last("StartBuild")
	want := map[string]any{
		"projectName":      project,
		"sourceVersion":    c1,
		"idempotencyToken": controller.Token("ev-push-1", "alice", "deploy"),
		"environmentVariablesOverride": []any{
			map[string]any{"name": "SANDBOX", "value": "alice", "type": "PLAINTEXT"},
			map[string]any{"name": "SANDBOX_ACTION", "value": "deploy", "type": "PLAINTEXT"},
			map[string]any{"name": "COMMIT_ID", "value": c1, "type": "PLAINTEXT"},
			map[string]any{"name": "SANDBOX_STACK_SUFFIX", "value": "-sandbox-alice", "type": "PLAINTEXT"},
		},
	}
	if got, wantJSON := mustJSON(call.Input), mustJSON(want); got != wantJSON {
		t.Errorf("StartBuild input\n got %s\nwant %s", got, wantJSON)
	}
	if call.AccessKey != keyID || call.Region != region {
		t.Errorf("StartBuild signed by %s in %s", call.AccessKey, call.Region)
	}
	// The intent was written before the build started, the id after.
	ops := w.fake.Ops()
	if want := []string{"GetItem", "PutItem", "StartBuild", "GetItem", "PutItem"}; !slices.Equal(ops, want) {
		t.Errorf("calls %v, want %v", ops, want)
	}
	sb, _ := w.sandbox(t, "alice")
	if sb.Status != state.StatusDeploying || sb.Build != builds[0].ID || sb.Commit != c1 || sb.Owner != alice || !sb.Created.Equal(t0) || sb.Event != "ev-push-1" {
		t.Errorf("recorded %+v", sb)
	}
	if len(w.fake.Published()) != 0 {
		t.Errorf("published %+v", w.fake.Published())
	}
}

// TestConcurrentPushesKeepTheCap: four pushes of new sandboxes handled at once with a cap of
// three start exactly three deploys; the fourth is recorded refused and its pusher told.
// Run with -race.
func TestConcurrentPushesKeepTheCap(t *testing.T) {
	for round := range 5 { // several rounds: the interleaving differs each time
		w := newWorld(t, 3)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for i, name := range []string{"alice", "bob", "carol", "dave"} {
			wg.Go(func() { errs <- w.h.Handle(ctx(t), pushEvent(fmt.Sprintf("ev-%d", i), name, c1, t0)) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		set, err := state.Read(ctx(t), w.h.DB, table)
		if err != nil {
			t.Fatal(err)
		}
		refused := 0
		for _, sb := range set.Sandboxes {
			if sb.Status == state.StatusRefused {
				refused++
			}
		}
		pubs := w.fake.Published()
		if len(w.fake.Builds()) != 3 || set.Counted() != 3 || refused != 1 || len(pubs) != 1 || pubs[0].Attributes["event"] != "refused" || pubs[0].Attributes["owner"] != alice {
			t.Fatalf("round %d: %d builds, state %v, published %+v", round, len(w.fake.Builds()), set, pubs)
		}
		if !strings.Contains(pubs[0].Message, "at most 3 sandboxes at once") {
			t.Errorf("refusal: %s", pubs[0].Message)
		}
	}
}

// TestDeleteDestroysThenForgets: deleting a live sandbox's branch starts a destroy without
// source; its success removes the record and tells the owner.
func TestDeleteDestroysThenForgets(t *testing.T) {
	w := newWorld(t, 3)
	w.handle(t, pushEvent("ev-1", "alice", c1, t0))
	deploy := w.fake.Builds()[0]
	w.handle(t, buildEvent("ev-2", deploy, "SUCCEEDED"))
	if sb, _ := w.sandbox(t, "alice"); sb.Status != state.StatusLive {
		t.Fatalf("after the deploy: %+v", sb)
	}
	w.handle(t, deleteEvent("ev-3", "alice", c1, t0.Add(time.Hour)))
	builds := w.fake.Builds()
	if len(builds) != 2 {
		t.Fatalf("builds %+v", builds)
	}
	destroy := builds[1]
	call, _ := w.fake.Last("StartBuild")
	if destroy.SourceTypeOverride != "NO_SOURCE" || call.Input["sourceVersion"] != nil || destroy.Environment["SANDBOX_ACTION"] != "destroy" ||
		destroy.Environment["SANDBOX"] != "alice" || destroy.Environment["COMMIT_ID"] != c1 || destroy.Environment["SANDBOX_STACK_SUFFIX"] != "-sandbox-alice" ||
		destroy.Token != controller.Token("ev-3", "alice", "destroy") {
		t.Errorf("destroy %+v, input %v", destroy, call.Input)
	}
	if sb, _ := w.sandbox(t, "alice"); sb.Status != state.StatusDestroying || sb.Build != destroy.ID {
		t.Errorf("while destroying: %+v", sb)
	}
	w.handle(t, buildEvent("ev-4", destroy, "SUCCEEDED"))
	if _, ok := w.sandbox(t, "alice"); ok || !w.published("destroyed alice") {
		t.Errorf("after the destroy: record kept %v, published %v", ok, publishedEvents(w))
	}
}

// TestDeleteWhileDeployingStopsTheDeploy, and the stopped deploy's end changes nothing.
func TestDeleteWhileDeployingStopsTheDeploy(t *testing.T) {
	w := newWorld(t, 3)
	w.handle(t, pushEvent("ev-1", "alice", c1, t0))
	deploy := w.fake.Builds()[0]
	w.handle(t, deleteEvent("ev-2", "alice", c1, t0.Add(time.Minute)))
	if call, _ := w.fake.Last("StopBuild"); call.Input["id"] != deploy.ID || w.fake.Builds()[0].Status != "STOPPED" {
		t.Errorf("StopBuild %v, deploy %+v", call.Input, w.fake.Builds()[0])
	}
	w.handle(t, buildEvent("ev-3", deploy, "STOPPED"))
	if sb, _ := w.sandbox(t, "alice"); sb.Status != state.StatusDestroying || len(w.fake.Published()) != 0 {
		t.Errorf("the stopped deploy's end changed %+v, published %v", sb, publishedEvents(w))
	}
}

// TestBuildEvents: a failed deploy tells the owner, with the attributes a filter policy
// uses; a newer push stops the running deploy and the old build's end is ignored.
func TestBuildEvents(t *testing.T) {
	w := newWorld(t, 3)
	w.handle(t, pushEvent("ev-1", "alice", c1, t0))
	first := w.fake.Builds()[0]
	w.handle(t, pushEvent("ev-2", "alice", c2, t0.Add(time.Minute)))
	second := w.fake.Builds()[1]
	if w.fake.Builds()[0].Status != "STOPPED" || second.SourceVersion != c2 {
		t.Fatalf("builds %+v", w.fake.Builds())
	}
	w.handle(t, buildEvent("ev-3", first, "STOPPED"))
	if sb, _ := w.sandbox(t, "alice"); sb.Status != state.StatusDeploying || sb.Build != second.ID {
		t.Fatalf("the superseded build's end changed %+v", sb)
	}
	w.handle(t, buildEvent("ev-4", second, "FAILED"))
	sb, _ := w.sandbox(t, "alice")
	pubs := w.fake.Published()
	if sb.Status != state.StatusFailed || len(pubs) != 1 {
		t.Fatalf("after the failure: %+v, published %+v", sb, pubs)
	}
	p := pubs[0]
	if p.TopicARN != topic || p.Attributes["sandbox"] != "alice" || p.Attributes["owner"] != alice || p.Attributes["event"] != "failed" ||
		p.Subject != "sandbox alice of payments-checkout: deploy failed" || !strings.Contains(p.Message, second.ID) || p.Types["owner"] != "String" {
		t.Errorf("published %+v", p)
	}
}

// TestSweepWarnsOnceThenExpiresThenAPushRevives: the whole idle life of a sandbox.
func TestSweepWarnsOnceThenExpiresThenAPushRevives(t *testing.T) {
	w := newWorld(t, 3)
	w.handle(t, pushEvent("ev-1", "alice", c1, t0))
	w.handle(t, buildEvent("ev-2", w.fake.Builds()[0], "SUCCEEDED"))

	w.handle(t, sweepEvent("sw-1", t0.Add(53*time.Hour+45*time.Minute)))
	w.handle(t, sweepEvent("sw-2", t0.Add(54*time.Hour)))
	w.handle(t, sweepEvent("sw-3", t0.Add(54*time.Hour+15*time.Minute)))
	if !w.published("expiring alice") {
		t.Fatalf("after three sweeps around the warning: %v", publishedEvents(w))
	}
	if !strings.Contains(w.fake.Published()[0].Message, "will be destroyed at 2026-05-04 10:00 UTC") {
		t.Errorf("warning: %s", w.fake.Published()[0].Message)
	}
	w.setNow(t0.Add(72 * time.Hour))
	w.handle(t, sweepEvent("sw-4", t0.Add(72*time.Hour)))
	if len(w.fake.Builds()) != 2 {
		t.Fatalf("builds after the TTL: %+v", w.fake.Builds())
	}
	destroy := w.fake.Builds()[1]
	if destroy.SourceTypeOverride != "NO_SOURCE" || destroy.Environment["SANDBOX_ACTION"] != "destroy" {
		t.Errorf("expiry build %+v", destroy)
	}
	w.handle(t, sweepEvent("sw-5", t0.Add(72*time.Hour+15*time.Minute))) // still running: nothing
	w.handle(t, buildEvent("ev-3", destroy, "SUCCEEDED"))
	sb, ok := w.sandbox(t, "alice")
	if !ok || sb.Status != state.StatusExpired || sb.Reason != "expired after 72h without a push" || !w.published("expiring alice", "expired alice") {
		t.Fatalf("after the expiry: %+v, published %v", sb, publishedEvents(w))
	}
	w.handle(t, pushEvent("ev-4", "alice", c2, t0.Add(100*time.Hour)))
	sb, _ = w.sandbox(t, "alice")
	if len(w.fake.Builds()) != 3 || w.fake.Builds()[2].SourceVersion != c2 || sb.Status != state.StatusDeploying || !sb.Warned.IsZero() {
		t.Errorf("revival: %+v, builds %+v", sb, w.fake.Builds())
	}
}

// TestRedeliveredEventsStartNoSecondBuild: the same push delivered twice starts one build;
// a controller that stopped after starting a build but before recording it gets the same
// build back (the token) when the event comes again; one that stopped before starting it has
// it started by the sweep after controller.RestartAfter.
func TestRedeliveredEventsStartNoSecondBuild(t *testing.T) {
	w := newWorld(t, 3)
	ev := pushEvent("ev-1", "alice", c1, t0)
	w.handle(t, ev)
	w.handle(t, ev)
	if n := len(w.fake.Builds()); n != 1 {
		t.Errorf("a push delivered twice started %d builds", n)
	}

	// GIVEN the intent of bob's deploy written, and its build started by a controller that
	// stopped before recording it
	intent := state.Sandbox{Name: "bob", Branch: "sandbox/bob", Commit: c2, Owner: alice, Created: t0, Pushed: t0,
		Status: state.StatusDeploying, Action: state.ActionDeploy, Event: "ev-bob", Requested: t0}
	if _, err := state.Update(ctx(t), w.h.DB, table, func(s *state.Set) error { s.Add(intent); return nil }); err != nil {
		t.Fatal(err)
	}
	cb := codebuild.New(codebuild.Options{Region: region, BaseEndpoint: aws.String(w.url), Credentials: credentials.NewStaticCredentialsProvider(keyID, "s", "")})
	b := controller.Build{Sandbox: "bob", Action: "deploy", Commit: c2, Event: "ev-bob", Token: controller.Token("ev-bob", "bob", "deploy")}
	started, err := cb.StartBuild(ctx(t), handler.StartBuildInput(project, b))
	if err != nil {
		t.Fatal(err)
	}
	// WHEN Lambda retries the event: THEN CodeBuild answers with that build, which is recorded
	w.handle(t, pushEvent("ev-bob", "bob", c2, t0))
	if sb, _ := w.sandbox(t, "bob"); len(w.fake.Builds()) != 2 || sb.Build != aws.ToString(started.Build.Id) {
		t.Errorf("retry after a crash: %+v, builds %+v", sb, w.fake.Builds())
	}

	// GIVEN carol's destroy asked for but never started, and no retry
	intent = state.Sandbox{Name: "carol", Branch: "sandbox/carol", Commit: c1, Owner: alice, Created: t0, Pushed: t0,
		Status: state.StatusDestroying, Action: state.ActionDestroy, Event: "ev-carol", Requested: t0, Reason: "its branch was deleted"}
	if _, err := state.Update(ctx(t), w.h.DB, table, func(s *state.Set) error { s.Add(intent); return nil }); err != nil {
		t.Fatal(err)
	}
	w.handle(t, sweepEvent("sw-1", t0.Add(10*time.Minute)))
	if len(w.fake.Builds()) != 2 {
		t.Fatalf("restarted too early: %+v", w.fake.Builds())
	}
	w.handle(t, sweepEvent("sw-2", t0.Add(controller.RestartAfter)))
	builds := w.fake.Builds()
	if sb, _ := w.sandbox(t, "carol"); len(builds) != 3 || builds[2].SourceTypeOverride != "NO_SOURCE" || sb.Build != builds[2].ID {
		t.Errorf("the sweep's restart: %+v, builds %+v", sb, builds)
	}
}

// TestSweepAppliesTheEndOfABuildWhoseEventWasLost: EventBridge delivers on a best-effort
// basis; the sweep asks CodeBuild about running builds.
func TestSweepAppliesTheEndOfABuildWhoseEventWasLost(t *testing.T) {
	w := newWorld(t, 3)
	w.handle(t, pushEvent("ev-1", "alice", c1, t0))
	w.handle(t, sweepEvent("sw-1", t0.Add(15*time.Minute)))
	if sb, _ := w.sandbox(t, "alice"); sb.Status != state.StatusDeploying {
		t.Fatalf("a running build's sandbox changed: %+v", sb)
	}
	w.fake.FinishBuild(w.fake.Builds()[0].ID, "TIMED_OUT")
	w.handle(t, sweepEvent("sw-2", t0.Add(30*time.Minute)))
	if sb, _ := w.sandbox(t, "alice"); sb.Status != state.StatusFailed || !w.published("failed alice") {
		t.Errorf("after the sweep: %+v, published %v", sb, publishedEvents(w))
	}
}

// TestAFailedStartMarksTheSandboxFailed: CodeBuild refusing the start is not silent.
func TestAFailedStartMarksTheSandboxFailed(t *testing.T) {
	w := newWorld(t, 3)
	w.fake.Fail("StartBuild", fakeaws.Fault{Status: 400, Code: "AccountLimitExceededException", Message: "Cannot have more than 1 builds in queue for the account"}, -1)
	w.handle(t, pushEvent("ev-1", "alice", c1, t0))
	sb, _ := w.sandbox(t, "alice")
	if sb.Status != state.StatusFailed || !strings.Contains(sb.Reason, "could not be started") || !strings.Contains(sb.Reason, "AccountLimitExceededException") || !w.published("failed alice") {
		t.Errorf("%+v, published %v", sb, publishedEvents(w))
	}
}

// TestRefusedEventsDoNothing: an event of another repository, a tag, a malformed event and
// a misconfigured function write nothing, start nothing and send nothing.
func TestRefusedEventsDoNothing(t *testing.T) {
	tag := envelope("ev-t", "CodeCommit Repository State Change", "aws.codecommit", t0, map[string]any{
		"callerUserArn": alice, "commitId": c1, "event": "referenceCreated", "referenceFullName": "refs/tags/sandbox/alice",
		"referenceName": "sandbox/alice", "referenceType": "tag", "repositoryId": "x", "repositoryName": repo})
	other := []byte(strings.Replace(string(pushEvent("ev-o", "alice", c1, t0)), `"repositoryName":"payments-checkout"`, `"repositoryName":"other-repo"`, 1))
	short := []byte(strings.Replace(string(pushEvent("ev-s", "alice", c1, t0)), c1, "a1a1a1a", 1))
	for _, tc := range []struct {
		name, want string
		event      []byte
	}{
		{"a tag", `detail.referenceType "tag"`, tag},
		{"another repository", `detail.repositoryName "other-repo"`, other},
		{"a short commit id", `detail.commitId "a1a1a1a"`, short},
		{"not JSON", "event refused", []byte("nope")},
	} {
		w := newWorld(t, 3)
		err := w.h.Handle(ctx(t), tc.event)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
		for _, op := range w.fake.Ops() {
			if op != "GetItem" {
				t.Errorf("%s: called %s", tc.name, op)
			}
		}
	}
	w := newWorld(t, 3)
	w.h.ConfigErr = fmt.Errorf(`sandbox controller configuration: MAX_SANDBOXES="0": required`)
	if err := w.h.Handle(ctx(t), pushEvent("ev-1", "alice", c1, t0)); err != w.h.ConfigErr || len(w.fake.Ops()) != 0 {
		t.Errorf("misconfigured: %v, calls %v", err, w.fake.Ops())
	}
}

// TestAnInvalidNameIsToldAndNotRecorded: sandbox/Alice deploys nothing; the pusher is told.
func TestAnInvalidNameIsToldAndNotRecorded(t *testing.T) {
	w := newWorld(t, 3)
	w.handle(t, pushEvent("ev-1", "Alice", c1, t0))
	set, _ := state.Read(ctx(t), w.h.DB, table)
	pubs := w.fake.Published()
	if len(set.Sandboxes) != 0 || len(w.fake.Builds()) != 0 || len(pubs) != 1 || pubs[0].Attributes["sandbox"] != "Alice" || pubs[0].Attributes["event"] != "refused" {
		t.Errorf("state %v, builds %v, published %+v", set, w.fake.Builds(), pubs)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
