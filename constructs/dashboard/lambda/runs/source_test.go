package runs_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"

	"github.com/platform-eng/pathtoprod/constructs/dashboard/lambda/runs"
	"github.com/platform-eng/pathtoprod/constructs/dora"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// githubEnv is the environment package dashboard gives the widget of a path whose code is on
// GitHub (dashboard_test.go in envpipeline checks the construct's side).
var githubEnv = map[string]string{
	"PIPELINE_NAME": pipeline, "ENVIRONMENT": "prd", "HISTORY_MAX_PAGES": "10", "AWS_REGION": region,
	"SOURCE_PROVIDER": "github", "SOURCE_REPOSITORY": "example-org/search-indexer",
}

// counted is a dora.CommitGetter that counts the calls reaching the client it wraps.
type counted struct {
	*codecommit.Client
	calls int
}

func (c *counted) BatchGetCommits(ctx context.Context, in *codecommit.BatchGetCommitsInput, optFns ...func(*codecommit.Options)) (*codecommit.BatchGetCommitsOutput, error) {
	c.calls++
	return c.Client.BatchGetCommits(ctx, in, optFns...)
}

// GIVEN a widget configured as for a GitHub-sourced path, with the real CodePipeline and
// CodeCommit clients pointed at the shared fake WHEN the dashboard is viewed THEN it asks
// CodeCommit nothing, shows every key but the lead time, and says why the lead times are
// unknown and where to read them.
func TestAConnectionSourceReadsNoCommitsAndSaysWhy(t *testing.T) {
	cfg, err := runs.ConfigFromEnv(func(k string) string { return githubEnv[k] })
	if err != nil || cfg.Repository != "" || cfg.Source.Provider != "github" || cfg.Source.Repository != "example-org/search-indexer" {
		t.Fatalf("ConfigFromEnv = %+v, %v", cfg, err)
	}
	fake := fakeaws.New()
	history(fake)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	awsCfg := aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDDASHBOARD", "secret", ""),
		Retryer:      func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) },
	}
	cc := &counted{Client: codecommit.NewFromConfig(awsCfg)}
	h := &runs.Handler{
		Pipelines: codepipeline.NewFromConfig(awsCfg),
		Commits:   runs.RememberCommits(cc),
		Config:    cfg,
		Now:       func() time.Time { return now },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}

	got := text(handle(t, h, view(now.Add(-7*24*time.Hour), now)))

	contains(t, got,
		"Lead times are unknown: commit times come from CodeCommit; this path's code is on GitHub (github.com/example-org/search-indexer): "+
			"see ship metrics, which reads them from your clone.",
		"Deployments 4 4.0 per week",
		"Lead time for changes — median · p90 — · 0 known, 4 unknown",
		"Change failure rate 40% 2 of 5",
		"Time to restore 1h 0m median",
	)
	if strings.Contains(got, "codecommit:BatchGetCommits") || strings.Contains(got, "Could not read commit times") {
		t.Errorf("the page blames a CodeCommit read:\n%s", got)
	}
	if ops := fake.Ops(); cc.calls != 0 || slices.Contains(ops, "BatchGetCommits") {
		t.Errorf("BatchGetCommits called %d times (calls reaching AWS: %v), want none", cc.calls, ops)
	}
}

func TestConfigFromEnvOfAConnectionSource(t *testing.T) {
	cases := []struct {
		name string
		set  map[string]string
		want []string
	}{
		{"unknown provider", map[string]string{"SOURCE_PROVIDER": "svn"},
			[]string{`SOURCE_PROVIDER="svn": github, gitlab or bitbucket for a source through a connection; unset (or codecommit) for CodeCommit`}},
		{"no repository", map[string]string{"SOURCE_REPOSITORY": ""},
			[]string{`SOURCE_REPOSITORY="": required with SOURCE_PROVIDER=github: the repository as owner/name`}},
		{"a CodeCommit repository too", map[string]string{"REPOSITORY_NAME": "search-indexer"},
			[]string{`REPOSITORY_NAME="search-indexer": unset with SOURCE_PROVIDER=github: the path has no CodeCommit repository`}},
		{"CodeCommit with a source repository", map[string]string{"SOURCE_PROVIDER": "", "REPOSITORY_NAME": "search-indexer"},
			[]string{`SOURCE_REPOSITORY="example-org/search-indexer": unset with a CodeCommit source, whose repository is REPOSITORY_NAME`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range githubEnv {
				env[k] = v
			}
			for k, v := range c.set {
				env[k] = v
			}
			_, err := runs.ConfigFromEnv(func(k string) string { return env[k] })
			for _, w := range c.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to name %s", err, w)
				}
			}
		})
	}
}

// TestPackagedBinaryWithAConnectionSource starts the artifact the deploy ships with the
// environment the construct gives a GitHub-sourced path's widget: it answers with the runs,
// the lead times unknown and why, and no CodeCommit call reaches AWS.
func TestPackagedBinaryWithAConnectionSource(t *testing.T) {
	fake := fakeaws.New()
	fake.SetRuns(pipeline, fakeaws.Run{ID: "r1", Commit: "c1c1c1c1c1", Status: "Succeeded", At: time.Now().Add(-time.Hour)})
	aws := httptest.NewServer(fake)
	defer aws.Close()
	var env []string
	for _, kv := range widgetEnv(aws.URL) {
		if !strings.HasPrefix(kv, "REPOSITORY_NAME=") {
			env = append(env, kv)
		}
	}
	env = append(env, "SOURCE_PROVIDER=github", "SOURCE_REPOSITORY=example-org/search-indexer")

	got := runBinary(t, env, view(time.Now().Add(-24*time.Hour), time.Now()))

	id, body, _ := strings.Cut(got, " ")
	var page string
	if id != "req-1/response" || json.Unmarshal([]byte(body), &page) != nil {
		t.Fatalf("answer %q, want a JSON string response to req-1", got)
	}
	contains(t, text(page), "Deployments 1 ",
		"Lead times are unknown: commit times come from CodeCommit; this path's code is on GitHub (github.com/example-org/search-indexer)")
	if ops := fake.Ops(); !slices.Equal(ops, []string{"ListPipelineExecutions"}) {
		t.Errorf("calls %v, want the history's page only (no BatchGetCommits)", ops)
	}
}

// A run a connection's webhook started (a push to GitHub, GitLab or Bitbucket) reads as a
// push, as one EventBridge started (a push to CodeCommit) does.
func TestAPushThroughAConnectionReadsAsAPush(t *testing.T) {
	for _, trigger := range []string{"CloudWatchEvent", "WebhookV2", "Webhook"} {
		h := historyOf("r1", trigger)
		var b strings.Builder
		if err := runs.Render(&b, runs.NewPage(runs.Read{Config: runs.Config{Pipeline: pipeline, Environment: "prd", Region: region},
			History: h, Metrics: dora.Compute(h, nil, dora.Last(24*time.Hour, now)), Now: now})); err != nil {
			t.Fatal(err)
		}
		if r := rows(b.String()); len(r) != 1 || !strings.Contains(r[0], " deploy push 5m r1") {
			t.Errorf("%s: rows %q, want the run started by a push", trigger, r)
		}
	}
}
