package fakeaws

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
)

func codeBuildClient(t *testing.T, url, key string) *codebuild.Client {
	return codebuild.New(codebuild.Options{Region: "eu-west-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(key, "s", ""), Retryer: aws.NopRetryer{}})
}

// TestTheRealCodeBuildClientStartsStopsAndReadsBuilds: StartBuild's parameters are kept as
// given, a repeated idempotency token within five minutes gives back the same build (and
// another one after), StopBuild stops a running build only, BatchGetBuilds answers what
// FinishBuild set, and projects belong to one account.
func TestTheRealCodeBuildClientStartsStopsAndReadsBuilds(t *testing.T) {
	s := New()
	s.SetAccount("AKIDDEV", "222222222222")
	s.SetAccount("AKIDSTG", "333333333333")
	s.SetProject("222222222222", "payments-checkout-dev-sandbox")
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	url := srvURL(t, s)
	cb := codeBuildClient(t, url, "AKIDDEV")
	commit := "0123456789abcdef0123456789abcdef01234567"
	deploy := &codebuild.StartBuildInput{ProjectName: aws.String("payments-checkout-dev-sandbox"), SourceVersion: aws.String(commit),
		IdempotencyToken: aws.String("tok-1"),
		EnvironmentVariablesOverride: []cbtypes.EnvironmentVariable{
			{Name: aws.String("SANDBOX"), Value: aws.String("alice"), Type: cbtypes.EnvironmentVariableTypePlaintext},
			{Name: aws.String("SANDBOX_ACTION"), Value: aws.String("deploy"), Type: cbtypes.EnvironmentVariableTypePlaintext},
		}}
	out, err := cb.StartBuild(ctx(t), deploy)
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.Build.Id)
	if out.Build.BuildStatus != cbtypes.StatusTypeInProgress || aws.ToString(out.Build.Arn) != "arn:aws:codebuild:eu-west-1:222222222222:build/"+id ||
		aws.ToString(out.Build.SourceVersion) != commit || len(out.Build.Environment.EnvironmentVariables) != 2 {
		t.Errorf("started %+v", out.Build)
	}
	b := s.Builds()[0]
	if b.Project != "payments-checkout-dev-sandbox" || b.SourceVersion != commit || b.Environment["SANDBOX"] != "alice" || b.Token != "tok-1" || b.SourceTypeOverride != "" {
		t.Errorf("kept %+v", b)
	}

	// WHEN the same token comes again within five minutes: the same build, none started
	now = now.Add(4 * time.Minute)
	again, err := cb.StartBuild(ctx(t), deploy)
	if err != nil || aws.ToString(again.Build.Id) != id || len(s.Builds()) != 1 {
		t.Errorf("repeated token: %v, %v, %d builds", again, err, len(s.Builds()))
	}
	// AND with other parameters: refused
	var invalid *cbtypes.InvalidInputException
	other := *deploy
	other.SourceVersion = aws.String("89abcdef0123456789abcdef0123456789abcdef")
	if _, err := cb.StartBuild(ctx(t), &other); !errors.As(err, &invalid) {
		t.Errorf("repeated token, other parameters: %v, want InvalidInputException", err)
	}
	// AND after five minutes: a new build
	now = now.Add(time.Minute)
	if later, err := cb.StartBuild(ctx(t), deploy); err != nil || aws.ToString(later.Build.Id) == id {
		t.Errorf("token after 5 minutes: %v, %v", later, err)
	}

	// A destroy without source
	destroy, err := cb.StartBuild(ctx(t), &codebuild.StartBuildInput{ProjectName: aws.String("payments-checkout-dev-sandbox"), SourceTypeOverride: cbtypes.SourceTypeNoSource})
	if err != nil || s.Builds()[2].SourceTypeOverride != "NO_SOURCE" {
		t.Fatalf("destroy: %v, %+v", err, s.Builds())
	}

	// StopBuild stops a running build; a finished one stays as it finished
	stopped, err := cb.StopBuild(ctx(t), &codebuild.StopBuildInput{Id: aws.String(id)})
	if err != nil || stopped.Build.BuildStatus != cbtypes.StatusTypeStopped {
		t.Errorf("StopBuild: %v, %v", stopped, err)
	}
	s.FinishBuild(aws.ToString(destroy.Build.Id), "SUCCEEDED")
	if done, err := cb.StopBuild(ctx(t), &codebuild.StopBuildInput{Id: destroy.Build.Id}); err != nil || done.Build.BuildStatus != cbtypes.StatusTypeSucceeded {
		t.Errorf("StopBuild of a finished build: %v, %v", done, err)
	}
	got, err := cb.BatchGetBuilds(ctx(t), &codebuild.BatchGetBuildsInput{Ids: []string{id, aws.ToString(destroy.Build.Id), "payments-checkout-dev-sandbox:nope"}})
	if err != nil || len(got.Builds) != 2 || got.Builds[0].BuildStatus != cbtypes.StatusTypeStopped || got.Builds[1].BuildStatus != cbtypes.StatusTypeSucceeded ||
		!got.Builds[1].BuildComplete || len(got.BuildsNotFound) != 1 {
		t.Errorf("BatchGetBuilds: %+v, %v", got, err)
	}
	if c, _ := s.Last("StartBuild"); c.Input["sourceTypeOverride"] != "NO_SOURCE" || c.AccessKey != "AKIDDEV" {
		t.Errorf("recorded %+v", c)
	}

	// Another account has neither the project nor its builds
	var notFound *cbtypes.ResourceNotFoundException
	stg := codeBuildClient(t, url, "AKIDSTG")
	if _, err := stg.StartBuild(ctx(t), deploy); !errors.As(err, &notFound) {
		t.Errorf("StartBuild in another account: %v, want ResourceNotFoundException", err)
	}
	if _, err := stg.StopBuild(ctx(t), &codebuild.StopBuildInput{Id: aws.String(id)}); !errors.As(err, &notFound) {
		t.Errorf("StopBuild in another account: %v, want ResourceNotFoundException", err)
	}
	s.Fail("StartBuild", Fault{Status: 400, Code: "AccountLimitExceededException", Message: "too many concurrent builds"}, 1)
	var limit *cbtypes.AccountLimitExceededException
	if _, err := cb.StartBuild(ctx(t), deploy); !errors.As(err, &limit) {
		t.Errorf("planned fault: %v", err)
	}
}
