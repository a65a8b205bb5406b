package fakeaws

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// srvURL serves s for the test.
func srvURL(t *testing.T, s *Server) string {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL
}

// client is the real SDK client, pointed at the fake, without retries.
func client(t *testing.T, s *Server) *codepipeline.Client {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return codepipeline.New(codepipeline.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer:      aws.NopRetryer{},
	})
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// executions is every run of the pipeline through the SDK's paginator, as "id commit status".
func executions(t *testing.T, c *codepipeline.Client, pipeline string) []string {
	t.Helper()
	var out []string
	p := codepipeline.NewListPipelineExecutionsPaginator(c, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(pipeline), MaxResults: aws.Int32(10)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatalf("list executions of %s: %v", pipeline, err)
		}
		for _, s := range page.PipelineExecutionSummaries {
			out = append(out, aws.ToString(s.PipelineExecutionId)+" "+aws.ToString(s.SourceRevisions[0].RevisionId)+" "+string(s.Status))
		}
	}
	return out
}

func TestListPagesThroughTheHistoryAndRecordsTheCaller(t *testing.T) {
	// GIVEN five runs, served two per page
	s := New()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var runs []Run
	var want []string
	for _, id := range []string{"e", "d", "c", "b", "a"} {
		runs = append(runs, Run{ID: id, Commit: "c-" + id, Status: "Succeeded", At: at})
		want = append(want, id+" c-"+id+" Succeeded")
	}
	s.SetRuns("p", runs...)
	s.SetPageSize(2)
	c := client(t, s)

	got := executions(t, c, "p")

	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("runs %q, want %q", got, want)
	}
	calls := s.Recorded()
	if len(calls) != 3 {
		t.Fatalf("calls %+v, want 3 pages read", calls)
	}
	if c := calls[0]; c.Op != "ListPipelineExecutions" || c.Pipeline != "p" || c.AccessKey != "AKIDTEST" || c.Region != "eu-west-1" || c.Input["maxResults"] == nil {
		t.Errorf("first call %+v, want ListPipelineExecutions of p signed by AKIDTEST in eu-west-1, with its input", c)
	}
}

func TestFaultsDelaysImagesAndCallerIdentity(t *testing.T) {
	s := New()
	s.SetRuns("p", Run{ID: "r1", Commit: "c1", Status: "Succeeded", At: time.Now(), Type: "ROLLBACK", RollbackTarget: "r0"})
	c := client(t, s)

	// GIVEN two throttles planned, THEN the third call gets through.
	s.Fail("ListPipelineExecutions", Throttled, 2)
	list := func() (*codepipeline.ListPipelineExecutionsOutput, error) {
		return c.ListPipelineExecutions(ctx(t), &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("p")})
	}
	for i := range 2 {
		if _, err := list(); err == nil || !strings.Contains(err.Error(), "ThrottlingException") {
			t.Errorf("call %d: %v, want ThrottlingException", i+1, err)
		}
	}
	out, err := list()
	if err != nil {
		t.Fatal(err)
	}
	sum := out.PipelineExecutionSummaries[0]
	if sum.ExecutionType != types.ExecutionTypeRollback || aws.ToString(sum.RollbackMetadata.RollbackTargetPipelineExecutionId) != "r0" ||
		aws.ToString(sum.SourceRevisions[0].ActionName) != "Push" {
		t.Errorf("summary %+v, want a ROLLBACK to r0 with the Push action's revision", sum)
	}
	// A fault planned for always stays.
	s.Fail("GetPipelineState", Fault{400, "AccessDeniedException", "no"}, -1)
	for range 2 {
		if _, err := c.GetPipelineState(ctx(t), &codepipeline.GetPipelineStateInput{Name: aws.String("p")}); err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
			t.Errorf("err = %v, want AccessDeniedException", err)
		}
	}
	// A delay longer than the caller waits ends the call with the caller's deadline.
	s.Delay("ListPipelineExecutions", time.Second)
	short, cancel := context.WithTimeout(ctx(t), 50*time.Millisecond)
	defer cancel()
	if _, err := c.ListPipelineExecutions(short, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("p")}); err == nil {
		t.Error("a delayed call finished before its deadline")
	}

	// ECR: an image that exists, one that does not, a repository that does not.
	s.SetImage("team/svc", "c1", "sha256:"+strings.Repeat("0", 64))
	e := ecr.NewFromConfig(aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "s", ""),
		BaseEndpoint: aws.String(srvURL(t, s))})
	img, err := e.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String("team/svc"), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("c1")}}})
	if err != nil || aws.ToString(img.ImageDetails[0].ImageDigest) != "sha256:"+strings.Repeat("0", 64) {
		t.Errorf("DescribeImages = %+v, %v", img, err)
	}
	_, err = e.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String("team/svc"), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("c2")}}})
	var nf *ecrtypes.ImageNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("missing tag: %v, want ImageNotFoundException", err)
	}
	_, err = e.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String("team/other"), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("c1")}}})
	var rnf *ecrtypes.RepositoryNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("missing repository: %v, want RepositoryNotFoundException", err)
	}

	// STS: the caller's account, and an assumed role's.
	st := sts.NewFromConfig(aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "s", ""),
		BaseEndpoint: aws.String(srvURL(t, s))})
	s.SetAccount("AKIDTEST", "222222222222")
	id, err := st.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "222222222222" {
		t.Errorf("GetCallerIdentity = %+v, %v", id, err)
	}
	s.Fail("AssumeRole", Fault{403, "AccessDenied", "not authorized"}, 1)
	_, err = st.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::333333333333:role/r"), RoleSessionName: aws.String("s")})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("AssumeRole = %v, want AccessDenied", err)
	}
}

func TestErrorsAreTheModelledExceptions(t *testing.T) {
	s := New()
	s.SetRuns("p")
	c := client(t, s)

	_, err := c.GetPipelineState(ctx(t), &codepipeline.GetPipelineStateInput{Name: aws.String("nope")})
	var nf *types.PipelineNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("unknown pipeline: %v, want PipelineNotFoundException", err)
	}

	_, err = c.ListPipelineExecutions(ctx(t), &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("p"), NextToken: aws.String("x")})
	var bad *types.InvalidNextTokenException
	if !errors.As(err, &bad) {
		t.Errorf("bad token: %v, want InvalidNextTokenException", err)
	}

	s.RejectAccessKey("AKIDTEST")
	_, err = c.ListPipelineExecutions(ctx(t), &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("p")})
	if err == nil || !strings.Contains(err.Error(), "UnrecognizedClientException") {
		t.Errorf("rejected key: %v, want UnrecognizedClientException", err)
	}
}

// gitRepos makes a clone with commits c1 and c2 and the empty bare repositories
// stg.git and prd.git, with git isolated from the user's configuration.
func gitRepos(t *testing.T) (push func(env, commit string), del func(env string), bare map[string]string, commits []string) {
	root := t.TempDir()
	t.Setenv("HOME", root)
	t.Setenv("XDG_CONFIG_HOME", root)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for k, v := range map[string]string{"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.com", "GIT_COMMITTER_NAME": "C", "GIT_COMMITTER_EMAIL": "c@example.com"} {
		t.Setenv(k, v)
	}
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx(t), "git", append([]string{"-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	work := filepath.Join(root, "work")
	git(root, "init", "-q", work)
	bare = map[string]string{}
	for _, env := range []string{"stg", "prd"} {
		bare[env] = filepath.Join(root, env+".git")
		git(root, "init", "-q", "--bare", bare[env])
	}
	for _, msg := range []string{"c1", "c2"} {
		if err := os.WriteFile(filepath.Join(work, "f"), []byte(msg), 0o644); err != nil {
			t.Fatal(err)
		}
		git(work, "add", "f")
		git(work, "commit", "-q", "-m", msg)
		commits = append(commits, git(work, "rev-parse", "HEAD"))
	}
	push = func(env, commit string) { git(work, "push", "-q", "--force", bare[env], commit+":refs/heads/main") }
	del = func(env string) { git(root, "--git-dir", bare[env], "update-ref", "-d", "refs/heads/main") }
	return push, del, bare, commits
}

func TestWatchRecordsTheRunEachPushStarts(t *testing.T) {
	push, del, bare, c := gitRepos(t)
	// GIVEN stg (no approval) already at c1, prd (with approval) empty, and a fixed clock
	push("stg", c[0])
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := New()
	s.SetClock(func() time.Time { return now })
	s.SetRuns("p-stg", Run{ID: "stg-1", Commit: c[0], Status: "Succeeded", At: now.Add(-time.Hour)})
	if err := s.Watch(ctx(t),
		Repo{Env: "stg", Pipeline: "p-stg", GitDir: bare["stg"]},
		Repo{Env: "prd", Pipeline: "p-prd", GitDir: bare["prd"], Branch: "main", Approval: true}); err != nil {
		t.Fatal(err)
	}
	cl := client(t, s)
	expect := func(pipeline string, want ...string) {
		t.Helper()
		if got := executions(t, cl, pipeline); strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Errorf("%s runs:\n got %q\nwant %q", pipeline, got, want)
		}
	}

	// THEN the heads Watch found count as already run
	expect("p-stg", "stg-1 "+c[0]+" Succeeded")
	expect("p-prd")

	// WHEN c2 is pushed to stg and c1 to prd
	push("stg", c[1])
	push("prd", c[0])

	// THEN stg ran c2 to success; prd's run of c1 waits for its sign-off
	expect("p-stg", "stg-2 "+c[1]+" Succeeded", "stg-1 "+c[0]+" Succeeded")
	expect("p-prd", "prd-1 "+c[0]+" InProgress")
	if r := s.Runs("p-stg")[0]; !r.Started.Equal(now) || !r.At.Equal(now) {
		t.Errorf("stg-2 started %s, updated %s; want both at the clock's %s", r.Started, r.At, now)
	}
	state, err := cl.GetPipelineState(ctx(t), &codepipeline.GetPipelineStateInput{Name: aws.String("p-prd")})
	if err != nil {
		t.Fatal(err)
	}
	var waiting []string
	for _, st := range state.StageStates {
		for _, a := range st.ActionStates {
			if x := a.LatestExecution; x != nil && x.Status == types.ActionExecutionStatusInProgress {
				waiting = append(waiting, aws.ToString(st.StageName)+"/"+aws.ToString(a.ActionName)+" "+aws.ToString(x.Token)+" "+x.LastStatusChange.UTC().Format(time.RFC3339))
			}
		}
	}
	if want := "Approval/SignOff approval-prd-1 2026-03-01T12:00:00Z"; strings.Join(waiting, ", ") != want {
		t.Errorf("prd's waiting actions %q, want %q", waiting, want)
	}

	// WHEN c2 follows to prd before c1 was approved
	push("prd", c[1])

	// THEN, QUEUED, both runs are InProgress: c1's holds the approval, c2's waits to enter it
	expect("p-prd", "prd-2 "+c[1]+" InProgress", "prd-1 "+c[0]+" InProgress")
	if got, want := stateOf(t, cl, "p-prd"), "Source: prd-2 Succeeded [Push Succeeded] | Approval: prd-1 InProgress [SignOff InProgress approval-prd-1] inbound prd-2 | Deploy: - [Deploy -]"; got != want {
		t.Errorf("prd's state\n got %s\nwant %s", got, want)
	}

	// AND a deleted branch, or no push at all, starts nothing
	del("stg")
	expect("p-stg", "stg-2 "+c[1]+" Succeeded", "stg-1 "+c[0]+" Succeeded")
	expect("p-prd", "prd-2 "+c[1]+" InProgress", "prd-1 "+c[0]+" InProgress")
}

// stateOf is GetPipelineState in one line: per stage, its latest execution and status,
// each action's status (and token), and the runs waiting to enter it.
func stateOf(t *testing.T, cl *codepipeline.Client, pipeline string) string {
	t.Helper()
	out, err := cl.GetPipelineState(ctx(t), &codepipeline.GetPipelineStateInput{Name: aws.String(pipeline)})
	if err != nil {
		t.Fatal(err)
	}
	var stages []string
	for _, st := range out.StageStates {
		line := aws.ToString(st.StageName) + ": "
		if x := st.LatestExecution; x != nil {
			line += aws.ToString(x.PipelineExecutionId) + " " + string(x.Status)
		} else {
			line += "-"
		}
		var actions []string
		for _, a := range st.ActionStates {
			as := aws.ToString(a.ActionName) + " -"
			if x := a.LatestExecution; x != nil {
				as = strings.TrimSpace(aws.ToString(a.ActionName) + " " + string(x.Status) + " " + aws.ToString(x.Token))
			}
			actions = append(actions, as)
		}
		line += " [" + strings.Join(actions, ", ") + "]"
		var inbound []string
		for _, x := range st.InboundExecutions {
			inbound = append(inbound, aws.ToString(x.PipelineExecutionId))
		}
		if len(inbound) > 0 {
			line += " inbound " + strings.Join(inbound, " ")
			if st.InboundExecution == nil || aws.ToString(st.InboundExecution.PipelineExecutionId) != inbound[0] {
				t.Errorf("stage %s: inboundExecution %+v, want the first of %v", aws.ToString(st.StageName), st.InboundExecution, inbound)
			}
		}
		stages = append(stages, line)
	}
	return strings.Join(stages, " | ")
}

// approve answers prd's pending approval through the real SDK.
func putApproval(cl *codepipeline.Client, t *testing.T, pipeline, token string, status types.ApprovalStatus) (*codepipeline.PutApprovalResultOutput, error) {
	return cl.PutApprovalResult(ctx(t), &codepipeline.PutApprovalResultInput{
		PipelineName: aws.String(pipeline), StageName: aws.String(ApprovalStage), ActionName: aws.String(ApprovalAction),
		Token: aws.String(token), Result: &types.ApprovalResult{Status: status, Summary: aws.String("by the test")},
	})
}

// TestQueuedRunsWaitForTheApprovalAndRunInPushOrder: three pushes to a pipeline with an
// approval, answered one at a time: each answer ends the waiting run (Approved: it deploys
// and Succeeds; Rejected: it Fails) and lets the oldest queued run reach the approval.
func TestQueuedRunsWaitForTheApprovalAndRunInPushOrder(t *testing.T) {
	push, _, bare, c := gitRepos(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := New()
	s.SetClock(func() time.Time { return now })
	push("prd", c[0])
	s.SetRuns("p-prd", Run{ID: "prd-1", Commit: c[0], Status: "Succeeded", At: now.Add(-time.Hour)})
	if err := s.Watch(ctx(t), Repo{Env: "prd", Pipeline: "p-prd", GitDir: bare["prd"], Approval: true}); err != nil {
		t.Fatal(err)
	}
	cl := client(t, s)
	step := func(what string, wantRuns []string, wantState string) {
		t.Helper()
		if got := executions(t, cl, "p-prd"); strings.Join(got, ", ") != strings.Join(wantRuns, ", ") {
			t.Errorf("%s: runs\n got %q\nwant %q", what, got, wantRuns)
		}
		if got := stateOf(t, cl, "p-prd"); got != wantState {
			t.Errorf("%s: state\n got %s\nwant %s", what, got, wantState)
		}
	}
	step("the seeded run is what every stage last ran", []string{"prd-1 " + c[0] + " Succeeded"},
		"Source: prd-1 Succeeded [Push Succeeded] | Approval: prd-1 Succeeded [SignOff Succeeded] | Deploy: prd-1 Succeeded [Deploy Succeeded]")

	// WHEN c2, then c1 (a rollback by push), then c2 again are pushed before any answer,
	// each seen by the fake (it looks at the repositories when it is asked something)
	for _, commit := range []string{c[1], c[0], c[1]} {
		push("prd", commit)
		executions(t, cl, "p-prd")
		now = now.Add(time.Minute)
	}
	step("three pushes", []string{"prd-4 " + c[1] + " InProgress", "prd-3 " + c[0] + " InProgress", "prd-2 " + c[1] + " InProgress", "prd-1 " + c[0] + " Succeeded"},
		"Source: prd-4 Succeeded [Push Succeeded] | Approval: prd-2 InProgress [SignOff InProgress approval-prd-2] inbound prd-3 prd-4 | Deploy: prd-1 Succeeded [Deploy Succeeded]")

	// THEN an answer with another run's token is refused, and nothing moves
	var invalid *types.InvalidApprovalTokenException
	if _, err := putApproval(cl, t, "p-prd", ApprovalToken("prd-3"), types.ApprovalStatusApproved); !errors.As(err, &invalid) {
		t.Errorf("a queued run's token: %v, want InvalidApprovalTokenException", err)
	}

	// WHEN prd-2 is rejected, THEN it Fails and prd-3 reaches the approval
	out, err := putApproval(cl, t, "p-prd", ApprovalToken("prd-2"), types.ApprovalStatusRejected)
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToTime(out.ApprovedAt).Equal(now) {
		t.Errorf("approvedAt %v, want the clock's %s", out.ApprovedAt, now)
	}
	step("prd-2 rejected", []string{"prd-4 " + c[1] + " InProgress", "prd-3 " + c[0] + " InProgress", "prd-2 " + c[1] + " Failed", "prd-1 " + c[0] + " Succeeded"},
		"Source: prd-4 Succeeded [Push Succeeded] | Approval: prd-3 InProgress [SignOff InProgress approval-prd-3] inbound prd-4 | Deploy: prd-1 Succeeded [Deploy Succeeded]")

	// AND answering the answered approval again is refused as an invalid token
	if _, err := putApproval(cl, t, "p-prd", ApprovalToken("prd-2"), types.ApprovalStatusApproved); !errors.As(err, &invalid) {
		t.Errorf("an answered run's token: %v, want InvalidApprovalTokenException", err)
	}

	// WHEN prd-3 is approved, THEN it deploys and Succeeds, and prd-4 waits
	if _, err := putApproval(cl, t, "p-prd", ApprovalToken("prd-3"), types.ApprovalStatusApproved); err != nil {
		t.Fatal(err)
	}
	step("prd-3 approved", []string{"prd-4 " + c[1] + " InProgress", "prd-3 " + c[0] + " Succeeded", "prd-2 " + c[1] + " Failed", "prd-1 " + c[0] + " Succeeded"},
		"Source: prd-4 Succeeded [Push Succeeded] | Approval: prd-4 InProgress [SignOff InProgress approval-prd-4] | Deploy: prd-3 Succeeded [Deploy Succeeded]")

	// WHEN prd-4 is approved, THEN nothing is left waiting
	if _, err := putApproval(cl, t, "p-prd", ApprovalToken("prd-4"), types.ApprovalStatusApproved); err != nil {
		t.Fatal(err)
	}
	step("prd-4 approved", []string{"prd-4 " + c[1] + " Succeeded", "prd-3 " + c[0] + " Succeeded", "prd-2 " + c[1] + " Failed", "prd-1 " + c[0] + " Succeeded"},
		"Source: prd-4 Succeeded [Push Succeeded] | Approval: prd-4 Succeeded [SignOff Succeeded] | Deploy: prd-4 Succeeded [Deploy Succeeded]")
	var done *types.ApprovalAlreadyCompletedException
	if _, err := putApproval(cl, t, "p-prd", ApprovalToken("prd-4"), types.ApprovalStatusApproved); !errors.As(err, &done) {
		t.Errorf("no approval pending: %v, want ApprovalAlreadyCompletedException", err)
	}
	if a, ok := s.Last("PutApprovalResult"); !ok || a.Pipeline != "p-prd" || a.Input["token"] != ApprovalToken("prd-4") {
		t.Errorf("last PutApprovalResult recorded as %+v", a)
	}

	// AND the next push reaches the approval at once
	push("prd", c[0])
	step("a push with nothing waiting", []string{"prd-5 " + c[0] + " InProgress", "prd-4 " + c[1] + " Succeeded", "prd-3 " + c[0] + " Succeeded", "prd-2 " + c[1] + " Failed", "prd-1 " + c[0] + " Succeeded"},
		"Source: prd-5 Succeeded [Push Succeeded] | Approval: prd-5 InProgress [SignOff InProgress approval-prd-5] | Deploy: prd-4 Succeeded [Deploy Succeeded]")
}

func TestPutApprovalResultRefusesWhatCodePipelineRefuses(t *testing.T) {
	s := New()
	s.SetRuns("p")
	s.SetState("p", Stage{Name: ApprovalStage, Actions: []Action{{Name: ApprovalAction, Status: "InProgress", Token: "tok-1", Changed: time.Now()}}})
	cl := client(t, s)
	put := func(stage, action, token string, status types.ApprovalStatus) error {
		_, err := cl.PutApprovalResult(ctx(t), &codepipeline.PutApprovalResultInput{
			PipelineName: aws.String("p"), StageName: aws.String(stage), ActionName: aws.String(action),
			Token: aws.String(token), Result: &types.ApprovalResult{Status: status, Summary: aws.String("")},
		})
		return err
	}
	var (
		stageNF  *types.StageNotFoundException
		actionNF *types.ActionNotFoundException
		invalid  *types.InvalidApprovalTokenException
		done     *types.ApprovalAlreadyCompletedException
		valid    *types.ValidationException
		pipeNF   *types.PipelineNotFoundException
	)
	if err := put("Nope", ApprovalAction, "tok-1", "Approved"); !errors.As(err, &stageNF) {
		t.Errorf("unknown stage: %v", err)
	}
	if err := put(ApprovalStage, "Nope", "tok-1", "Approved"); !errors.As(err, &actionNF) {
		t.Errorf("unknown action: %v", err)
	}
	if err := put(ApprovalStage, ApprovalAction, "tok-1", "Maybe"); !errors.As(err, &valid) {
		t.Errorf("status Maybe: %v", err)
	}
	if err := put(ApprovalStage, ApprovalAction, "tok-2", "Approved"); !errors.As(err, &invalid) {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := cl.PutApprovalResult(ctx(t), &codepipeline.PutApprovalResultInput{PipelineName: aws.String("q"), StageName: aws.String("s"),
		ActionName: aws.String("a"), Token: aws.String("t"), Result: &types.ApprovalResult{Status: "Approved", Summary: aws.String("")}}); !errors.As(err, &pipeNF) {
		t.Errorf("unknown pipeline: %v", err)
	}
	// A SetState pipeline records the answer on the action; it has no runs to move.
	if err := put(ApprovalStage, ApprovalAction, "tok-1", "Rejected"); err != nil {
		t.Fatal(err)
	}
	if got := stateOf(t, cl, "p"); got != "Approval: - [SignOff Failed]" {
		t.Errorf("state after the answer: %s", got)
	}
	if err := put(ApprovalStage, ApprovalAction, "tok-1", "Approved"); !errors.As(err, &done) {
		t.Errorf("answered twice: %v, want ApprovalAlreadyCompletedException", err)
	}
}

func TestRollBackRecordsARollbackRunOfTheTargetsCommit(t *testing.T) {
	push, _, bare, c := gitRepos(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := New()
	s.SetClock(func() time.Time { return now })
	push("stg", c[1])
	s.SetRuns("p-stg", Run{ID: "stg-2", Commit: c[1], Status: "Succeeded", At: now.Add(-time.Minute)},
		Run{ID: "stg-1", Commit: c[0], Status: "Succeeded", At: now.Add(-time.Hour)})
	if err := s.Watch(ctx(t), Repo{Env: "stg", Pipeline: "p-stg", GitDir: bare["stg"]}); err != nil {
		t.Fatal(err)
	}
	cl := client(t, s)

	r, err := s.RollBack("p-stg", "stg-1")

	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "stg-3" || r.Type != "ROLLBACK" || r.RollbackTarget != "stg-1" || r.Commit != c[0] || r.Status != "Succeeded" {
		t.Errorf("rollback run %+v", r)
	}
	out, err := cl.ListPipelineExecutions(ctx(t), &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("p-stg")})
	if err != nil {
		t.Fatal(err)
	}
	if sum := out.PipelineExecutionSummaries[0]; sum.ExecutionType != types.ExecutionTypeRollback ||
		aws.ToString(sum.RollbackMetadata.RollbackTargetPipelineExecutionId) != "stg-1" || aws.ToString(sum.SourceRevisions[0].RevisionId) != c[0] {
		t.Errorf("newest summary %+v", sum)
	}
	if got, want := stateOf(t, cl, "p-stg"), "Source: stg-2 Succeeded [Push Succeeded] | Deploy: stg-3 Succeeded [Deploy Succeeded]"; got != want {
		t.Errorf("state\n got %s\nwant %s", got, want)
	}
	if _, err := s.RollBack("p-stg", "stg-9"); err == nil {
		t.Error("a rollback to an execution that does not exist was recorded")
	}
}

func TestWatchOfAMissingRepositoryFails(t *testing.T) {
	err := New().Watch(ctx(t), Repo{Env: "stg", Pipeline: "p-stg", GitDir: filepath.Join(t.TempDir(), "nope.git")})
	if err == nil || !strings.Contains(err.Error(), "read branch main of stg's repository") {
		t.Errorf("err = %v", err)
	}
}
