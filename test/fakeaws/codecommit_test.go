package fakeaws

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	cctypes "github.com/aws/aws-sdk-go-v2/service/codecommit/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/platform-eng/pathtoprod/constructs/dora"
)

// datedCommits makes a bare repository with one commit per committer date, oldest first,
// and returns it and the commit ids.
func datedCommits(t *testing.T, dates ...time.Time) (bare string, ids []string) {
	t.Helper()
	root := t.TempDir()
	git := func(dir string, env []string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx(t), "git", append([]string{"-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+root, "XDG_CONFIG_HOME="+root, "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=Ann Author", "GIT_AUTHOR_EMAIL=ann@example.com", "GIT_COMMITTER_NAME=Carl Committer",
			"GIT_COMMITTER_EMAIL=carl@example.com", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	work, bare := filepath.Join(root, "work"), filepath.Join(root, "repo.git")
	git(root, nil, "init", "-q", work)
	git(root, nil, "init", "-q", "--bare", bare)
	for i, d := range dates {
		if err := os.WriteFile(filepath.Join(work, "f"), []byte(fmt.Sprint(i)), 0o644); err != nil {
			t.Fatal(err)
		}
		git(work, nil, "add", "f")
		// A committer clock in another zone: the instant is what counts.
		git(work, []string{"GIT_COMMITTER_DATE=" + d.In(time.FixedZone("", -8*3600)).Format(time.RFC3339)}, "commit", "-q", "-m", fmt.Sprintf("change %d\n\nbody %d", i+1, i+1))
		ids = append(ids, git(work, nil, "rev-parse", "HEAD"))
	}
	git(work, nil, "push", "-q", bare, "HEAD:refs/heads/main")
	return bare, ids
}

func codeCommitClient(t *testing.T, url string, creds aws.CredentialsProvider) *codecommit.Client {
	return codecommit.New(codecommit.Options{Region: "eu-west-1", BaseEndpoint: aws.String(url), Credentials: creds, Retryer: aws.NopRetryer{}})
}

func TestBatchGetCommitsAnswersFromARealGitRepository(t *testing.T) {
	t1 := time.Date(2026, 2, 1, 9, 30, 0, 0, time.UTC)
	t2 := t1.Add(26 * time.Hour)
	bare, ids := datedCommits(t, t1, t2)
	s := New()
	s.SetAccount("AKIDDEV", "222222222222")
	s.SetAccount("AKIDSTG", "333333333333")
	s.SetRepository("222222222222", "payments-checkout", bare)
	url := srvURL(t, s)
	dev := codeCommitClient(t, url, credentials.NewStaticCredentialsProvider("AKIDDEV", "s", ""))
	missing := strings.Repeat("ab", 20)

	// WHEN both commits, one that is not in the repository and a short id are asked for
	out, err := dev.BatchGetCommits(ctx(t), &codecommit.BatchGetCommitsInput{RepositoryName: aws.String("payments-checkout"),
		CommitIds: []string{ids[1], missing, ids[0], ids[0][:7]}})
	if err != nil {
		t.Fatal(err)
	}

	// THEN the two are read from git, with git's own dates, and the others are error entries
	if len(out.Commits) != 2 {
		t.Fatalf("commits %+v, want 2", out.Commits)
	}
	second, first := out.Commits[0], out.Commits[1]
	if aws.ToString(second.CommitId) != ids[1] || len(second.Parents) != 1 || second.Parents[0] != ids[0] || len(first.Parents) != 0 ||
		aws.ToString(second.Message) != "change 2\n\nbody 2\n" || len(aws.ToString(second.TreeId)) != 40 {
		t.Errorf("second commit %+v", second)
	}
	c := second.Committer
	if c == nil || aws.ToString(c.Name) != "Carl Committer" || aws.ToString(c.Email) != "carl@example.com" ||
		aws.ToString(c.Date) != fmt.Sprintf("%d -0800", t2.Unix()) || aws.ToString(second.Author.Name) != "Ann Author" {
		t.Errorf("committer %+v, author %+v", c, second.Author)
	}
	for i, cm := range []cctypes.Commit{first, second} {
		got, err := dora.ParseGitDate(aws.ToString(cm.Committer.Date))
		if want := []time.Time{t1, t2}[i]; err != nil || !got.Equal(want) {
			t.Errorf("commit %d: committer date %v, %v, want %v", i+1, got, err, want)
		}
	}
	codes := map[string]string{}
	for _, e := range out.Errors {
		codes[aws.ToString(e.CommitId)] = aws.ToString(e.ErrorCode)
	}
	if len(codes) != 2 || codes[missing] != CommitNotFoundCode || codes[ids[0][:7]] != CommitInvalidCode {
		t.Errorf("errors %v", codes)
	}

	// AND dora.CommitTimes reads the same through it, counting one call
	times, calls, err := dora.CommitTimes(ctx(t), dev, "payments-checkout", []string{ids[0], ids[1], missing})
	if err != nil || calls != 1 || len(times) != 2 || !times[ids[0]].Equal(t1) || !times[ids[1]].Equal(t2) {
		t.Errorf("CommitTimes = %v, %d calls, %v", times, calls, err)
	}
	if call, ok := s.Last("BatchGetCommits"); !ok || call.AccessKey != "AKIDDEV" || call.Input["repositoryName"] != "payments-checkout" {
		t.Errorf("last BatchGetCommits call %+v", call)
	}

	// AND the repository is the caller's account's only: another account has none of that name
	stg := codeCommitClient(t, url, credentials.NewStaticCredentialsProvider("AKIDSTG", "s", ""))
	_, err = stg.BatchGetCommits(ctx(t), &codecommit.BatchGetCommitsInput{RepositoryName: aws.String("payments-checkout"), CommitIds: ids})
	var nf *cctypes.RepositoryDoesNotExistException
	if !errors.As(err, &nf) {
		t.Errorf("another account's call: %v, want RepositoryDoesNotExistException", err)
	}

	// AND the API's limits are kept: at most 100 ids, at least one
	many := make([]string, 101)
	for i := range many {
		many[i] = ids[0]
	}
	_, err = dev.BatchGetCommits(ctx(t), &codecommit.BatchGetCommitsInput{RepositoryName: aws.String("payments-checkout"), CommitIds: many})
	var limit *cctypes.CommitIdsLimitExceededException
	if !errors.As(err, &limit) {
		t.Errorf("101 ids: %v, want CommitIdsLimitExceededException", err)
	}
	_, err = dev.BatchGetCommits(ctx(t), &codecommit.BatchGetCommitsInput{RepositoryName: aws.String("payments-checkout"), CommitIds: []string{}})
	var none *cctypes.CommitIdsListRequiredException
	if !errors.As(err, &none) {
		t.Errorf("no ids: %v, want CommitIdsListRequiredException", err)
	}

	// AND a planned fault reaches the SDK as the modelled error
	s.Fail("BatchGetCommits", Fault{Status: 400, Code: "AccessDeniedException", Message: "not allowed"}, 1)
	_, err = dev.BatchGetCommits(ctx(t), &codecommit.BatchGetCommitsInput{RepositoryName: aws.String("payments-checkout"), CommitIds: ids})
	if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Errorf("planned fault: %v", err)
	}
}

// TestRolesAssumedAtOnceEachActInTheirOwnAccount: the session token of an assumed role's
// credentials says which AssumeRole made them, so two roles assumed one after the other
// are still told apart: GetCallerIdentity and CodeCommit see each in its own account.
func TestRolesAssumedAtOnceEachActInTheirOwnAccount(t *testing.T) {
	bare, ids := datedCommits(t, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	s := New()
	s.SetRepository("333333333333", "repo", bare)
	url := srvURL(t, s)
	base := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("AKIDBASE", "s", ""), Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
	role := func(arn string) aws.Config {
		cfg := base.Copy()
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), arn))
		return cfg
	}
	stg, prd := role("arn:aws:iam::333333333333:role/reader"), role("arn:aws:iam::444444444444:role/reader")
	// Both assumed, stg's first: prd's is the role assumed last.
	for _, cfg := range []aws.Config{stg, prd} {
		if _, err := cfg.Credentials.Retrieve(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		cfg     aws.Config
		account string
	}{{stg, "333333333333"}, {prd, "444444444444"}} {
		id, err := sts.NewFromConfig(tc.cfg).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(id.Account); got != tc.account {
			t.Errorf("GetCallerIdentity says account %s, want %s", got, tc.account)
		}
	}
	out, err := codecommit.NewFromConfig(stg).BatchGetCommits(ctx(t), &codecommit.BatchGetCommitsInput{RepositoryName: aws.String("repo"), CommitIds: ids})
	if err != nil || len(out.Commits) != 1 {
		t.Errorf("stg's role reads stg's repository: %v, %v", out, err)
	}
	if c, ok := s.Last("BatchGetCommits"); !ok || c.AccessKey != RoleAccessKey || c.SessionToken != RoleSessionToken+"-1" {
		t.Errorf("call %+v, want signed with the first role's session", c)
	}
}

// TestListActionExecutionsFiltersByRunForDoraRead: dora.Read asks, for each failed run in
// the window, whether its Deploy stage started, by ListActionExecutions filtered by that
// run; the fake answers with that run's actions only.
func TestListActionExecutionsFiltersByRunForDoraRead(t *testing.T) {
	s := New()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return now.Add(time.Duration(-h) * time.Hour) }
	s.SetRuns("p",
		Run{ID: "r4", Commit: "c3", Status: "Failed", At: at(1)},    // failed in Build
		Run{ID: "r3", Commit: "c2", Status: "Failed", At: at(2)},    // failed in Deploy
		Run{ID: "r2", Commit: "c2", Status: "Succeeded", At: at(3)}, // reached Deploy too
		Run{ID: "r1", Commit: "c1", Status: "Succeeded", At: at(100)})
	s.SetActionRuns("p",
		ActionRun{Execution: "r2", Stage: DeployStage, Action: DeployAction, Status: "Succeeded", Started: at(3), Updated: at(3)},
		ActionRun{Execution: "r3", Stage: BuildStage, Action: BuildAction, Status: "Succeeded", Started: at(2), Updated: at(2)},
		ActionRun{Execution: "r3", Stage: DeployStage, Action: DeployAction, Status: "Failed", Started: at(2), Updated: at(2)},
		ActionRun{Execution: "r4", Stage: BuildStage, Action: BuildAction, Status: "Failed", Started: at(1), Updated: at(1)})

	h, err := dora.Read(ctx(t), client(t, s), dora.ReadOptions{Pipeline: "p", Window: dora.Last(24*time.Hour, now)})

	if err != nil {
		t.Fatal(err)
	}
	reached := map[string]bool{}
	for _, r := range h.Runs {
		reached[r.ID] = r.ReachedDeploy
	}
	if !reached["r3"] || reached["r4"] {
		t.Errorf("reached deploy %v, want r3 only", reached)
	}
	// dora.Read asks several runs at once, so the calls arrive in any order.
	var filters []string
	for _, c := range s.Recorded() {
		if c.Op == "ListActionExecutions" {
			filters = append(filters, fmt.Sprint(c.Input["filter"].(map[string]any)["pipelineExecutionId"]))
		}
	}
	sort.Strings(filters)
	if fmt.Sprint(filters) != "[r3 r4]" {
		t.Errorf("ListActionExecutions filters %v, want one per failed run in the window", filters)
	}
}

// TestBatchGetCommitsConcurrently: ship metrics reads many environments at once, and every
// environment of a path may share one git repository behind the fake: concurrent calls on
// the same repository, each with ids the fake has not yet seen, answer each its own ids.
// `make test` runs this package under the race detector, which this test exists for.
func TestBatchGetCommitsConcurrently(t *testing.T) {
	base := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	var dates []time.Time
	for i := range 16 {
		dates = append(dates, base.Add(time.Duration(i)*time.Hour))
	}
	bare, ids := datedCommits(t, dates...)
	s := New()
	s.SetAccount("AKIDDEV", "222222222222")
	s.SetRepository("222222222222", "r", bare)
	cc := codeCommitClient(t, srvURL(t, s), credentials.NewStaticCredentialsProvider("AKIDDEV", "s", ""))

	errs := make(chan error, len(ids))
	for i := range ids {
		go func() {
			// Each caller asks for its own commit and its neighbour's, so the calls overlap.
			want := []string{ids[i], ids[(i+1)%len(ids)]}
			out, err := cc.BatchGetCommits(ctx(t), &codecommit.BatchGetCommitsInput{RepositoryName: aws.String("r"), CommitIds: want})
			switch {
			case err != nil:
				errs <- err
			case len(out.Commits) != 2 || aws.ToString(out.Commits[0].CommitId) != want[0] || aws.ToString(out.Commits[1].CommitId) != want[1]:
				errs <- fmt.Errorf("asked %v, got %d commits", want, len(out.Commits))
			default:
				errs <- nil
			}
		}()
	}
	for range ids {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
