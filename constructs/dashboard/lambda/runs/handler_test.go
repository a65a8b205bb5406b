package runs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	cctypes "github.com/aws/aws-sdk-go-v2/service/codecommit/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/smithy-go"

	"github.com/platform-eng/pathtoprod/constructs/dashboard/lambda/runs"
	"github.com/platform-eng/pathtoprod/constructs/dora"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

const (
	pipeline   = "payments-checkout-prd"
	repository = "payments-checkout"
	region     = "eu-west-1"
)

// now is when every test's dashboard is viewed.
var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// day returns 2026-11-<d> at hh:mm UTC.
func day(d, hh, mm int) time.Time { return time.Date(2026, 11, d, hh, mm, 0, 0, time.UTC) }

// commits is a CodeCommit of commit times (dora.CommitGetter): the shared fake has no
// BatchGetCommits, and the commit side needs no wire format to be tested.
type commits struct {
	times map[string]time.Time
	err   error
	calls int
	asked []string
}

func (c *commits) BatchGetCommits(_ context.Context, in *codecommit.BatchGetCommitsInput, _ ...func(*codecommit.Options)) (*codecommit.BatchGetCommitsOutput, error) {
	c.calls++
	if c.err != nil {
		return nil, c.err
	}
	if got := aws.ToString(in.RepositoryName); got != repository {
		return nil, &smithy.GenericAPIError{Code: "RepositoryDoesNotExistException", Message: got}
	}
	out := &codecommit.BatchGetCommitsOutput{}
	for _, id := range in.CommitIds {
		c.asked = append(c.asked, id)
		if t, ok := c.times[id]; ok {
			out.Commits = append(out.Commits, cctypes.Commit{CommitId: aws.String(id),
				Committer: &cctypes.UserInfo{Date: aws.String(fmt.Sprintf("%d +0100", t.Unix()))}})
		} else {
			out.Errors = append(out.Errors, cctypes.BatchGetCommitsError{CommitId: aws.String(id), ErrorCode: aws.String("CommitIdDoesNotExistException")})
		}
	}
	return out, nil
}

// pipelines is the real CodePipeline client against fake, one attempt per call.
func pipelines(t testing.TB, fake *fakeaws.Server) *codepipeline.Client {
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return codepipeline.NewFromConfig(aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDDASHBOARD", "secret", ""),
		Retryer:      func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) },
	})
}

func handler(t testing.TB, fake *fakeaws.Server, c *commits) *runs.Handler {
	return &runs.Handler{
		Pipelines: pipelines(t, fake),
		Commits:   c,
		Config:    runs.Config{Pipeline: pipeline, Repository: repository, Environment: "prd", Region: region},
		Now:       func() time.Time { return now },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// view is the event a dashboard sends for the range from–to.
func view(from, to time.Time) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"widgetContext":{"dashboardName":"payments-checkout-prd","widgetId":"widget-1","accountId":"444444444444",
		"locale":"en","timezone":{"label":"UTC","offsetISO":"+00:00","offsetInMinutes":0},"period":300,"isAutoPeriod":true,
		"timeRange":{"mode":"relative","start":%d,"end":%d,"relativeStart":604800000},"theme":"light","linkCharts":true,
		"title":"Runs","forms":{"all":{}},"params":{},"width":900,"height":600}}`, from.UnixMilli(), to.UnixMilli()))
}

func handle(t testing.TB, h *runs.Handler, event json.RawMessage) string {
	t.Helper()
	out, err := h.Handle(context.Background(), event)
	if err != nil {
		t.Fatalf("Handle returned an error (the widget would show a bare Lambda error): %v", err)
	}
	return out
}

var (
	style = regexp.MustCompile(`(?s)<style>.*?</style>`)
	tags  = regexp.MustCompile(`<[^>]*>`)
	space = regexp.MustCompile(`\s+`)
	rowRE = regexp.MustCompile(`(?s)<tr><td>.*?</tr>`)
)

// text is page as a person reads it: style and tags dropped, entities read, spaces collapsed.
func text(page string) string {
	page = tags.ReplaceAllString(style.ReplaceAllString(page, ""), " ")
	return strings.TrimSpace(space.ReplaceAllString(html.UnescapeString(page), " "))
}

// rows are the text of the runs table's rows, newest first.
func rows(html string) []string {
	var out []string
	for _, r := range rowRE.FindAllString(html, -1) {
		out = append(out, text(r))
	}
	return out
}

func contains(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in\n%s", w, got)
		}
	}
}

// history is a week of prd, hand-built, newest first, with what the metrics must make of it
// (computed by hand, in the comments):
//
//	r0 deploys c0 before the window (the read stops there: what prd ran when it opened)
//	r1 deploys c1: lead 2h (committed 08:00, deployed 10:00)
//	r2 fails in Deploy: a failed deploy, restored by r3 2h later
//	r3 deploys c3: lead 1h30m
//	r4 fails before Deploy (the guard refused it): no deployment attempt
//	r5 deploys c5: lead 4h; rolled back by r6, 1h later: a failure restored in 1h
//	r6 is CodePipeline's rollback to r3
//	r7 deploys c6: lead 1h
//	r8 runs c6 again: a rerun
//	r9 is running
//
// Deploys r1 r3 r5 r7 = 4 (4.0 per week over 7 days). Lead times 1h, 1h30m, 2h, 4h: median
// (nearest rank 2 of 4) 1h30m, p90 (rank 4) 4h. Attempts 4 deploys + 1 failed = 5, failures
// r2 and r5 = 2: 40%. Restores 1h, 2h: median 1h, p90 2h, none open. 1 rollback, 1 rerun.
func history(fake *fakeaws.Server) *commits {
	fake.SetRuns(pipeline,
		fakeaws.Run{ID: "r9", Commit: "c7c7c7c7c7", Status: "InProgress", Started: day(20, 11, 50), At: day(20, 11, 55)},
		fakeaws.Run{ID: "r8", Commit: "c6c6c6c6c6", Status: "Succeeded", At: day(19, 10, 0)},
		fakeaws.Run{ID: "r7", Commit: "c6c6c6c6c6", Status: "Succeeded", At: day(18, 10, 0)},
		fakeaws.Run{ID: "r6", Commit: "c3c3c3c3c3", Status: "Succeeded", At: day(17, 11, 0), Type: "ROLLBACK", RollbackTarget: "r3"},
		fakeaws.Run{ID: "r5", Commit: "c5c5c5c5c5", Status: "Succeeded", At: day(17, 10, 0)},
		fakeaws.Run{ID: "r4", Commit: "c4c4c4c4c4", Status: "Failed", At: day(16, 10, 0)},
		fakeaws.Run{ID: "r3", Commit: "c3c3c3c3c3", Status: "Succeeded", Started: day(15, 11, 15), At: day(15, 12, 0)},
		fakeaws.Run{ID: "r2", Commit: "c2c2c2c2c2", Status: "Failed", At: day(15, 10, 0)},
		fakeaws.Run{ID: "r1", Commit: "c1c1c1c1c1", Status: "Succeeded", At: day(14, 10, 0)},
		fakeaws.Run{ID: "r0", Commit: "c0c0c0c0c0", Status: "Succeeded", At: day(10, 10, 0)},
		fakeaws.Run{ID: "rx", Commit: "cxcxcxcxcx", Status: "Succeeded", At: day(1, 10, 0)},
	)
	fake.SetActionRuns(pipeline,
		fakeaws.ActionRun{Execution: "r2", Stage: "Guard", Action: "CommitPassedUpstream", Status: "Succeeded"},
		fakeaws.ActionRun{Execution: "r2", Stage: "Deploy", Action: "Deploy", Status: "Failed"},
		fakeaws.ActionRun{Execution: "r4", Stage: "Guard", Action: "CommitPassedUpstream", Status: "Failed"},
	)
	return &commits{times: map[string]time.Time{
		"c1c1c1c1c1": day(14, 8, 0), "c3c3c3c3c3": day(15, 10, 30), "c5c5c5c5c5": day(17, 6, 0), "c6c6c6c6c6": day(18, 9, 0),
	}}
}

func TestTheFourKeysAreTheOnesComputedByHand(t *testing.T) {
	fake := fakeaws.New()
	c := history(fake)
	out := handle(t, handler(t, fake, c), view(now.Add(-7*24*time.Hour), now))
	got := text(out)
	contains(t, got,
		"Pipeline payments-checkout-prd (prd) · 2026-11-13 12:00 to 2026-11-20 12:00 UTC (7 days)",
		"Deployments 4 4.0 per week",
		"Lead time for changes 1h 30m median · p90 4h 0m · 4 known",
		"Change failure rate 40% 2 of 5 deployment attempts failed",
		"Time to restore 1h 0m median · p90 2h 0m · 2 restored, 0 open",
		"Also in the range: rollbacks (runs, and pushes of an older commit) 1 · reruns of a deployed commit 1.",
	)
	if strings.Contains(got, "unknown") || strings.Contains(got, "rw-note") {
		t.Errorf("no lead time is unknown and there is nothing to note:\n%s", got)
	}
	want := []string{
		"2026-11-20 11:50 c7c7c7c in progress push running 10m r9",
		"2026-11-19 09:55 c6c6c6c rerun (the commit was already deployed) push 5m r8",
		"2026-11-18 09:55 c6c6c6c deploy push 5m r7",
		"2026-11-17 10:55 c3c3c3c rollback (automatic) CodePipeline (rollback) 5m r6",
		"2026-11-17 09:55 c5c5c5c deploy, later rolled back (by run r6) push 5m r5",
		"2026-11-16 09:55 c4c4c4c refused or failed before deploy (guard, build, plan or approval) push 5m r4",
		"2026-11-15 11:15 c3c3c3c deploy push 45m r3",
		"2026-11-15 09:55 c2c2c2c failed deploy (restored 2026-11-15 12:00, after 2h 0m) push 5m r2",
		"2026-11-14 09:55 c1c1c1c deploy push 5m r1",
	}
	if g := rows(out); !slices.Equal(g, want) {
		t.Errorf("runs table:\n got %q\nwant %q", g, want)
	}
	// The read stopped at r0, what prd ran when the window opened; it asked CodeCommit once,
	// for the commits read, and CodePipeline about the two failed runs of the window only.
	ops := fake.Ops()
	if want := []string{"ListPipelineExecutions", "ListActionExecutions", "ListActionExecutions"}; !slices.Equal(ops, want) {
		t.Errorf("CodePipeline calls %v, want %v", ops, want)
	}
	if c.calls != 1 || slices.Contains(c.asked, "cxcxcxcxcx") {
		t.Errorf("BatchGetCommits: %d calls for %v, want one for the commits read up to r0", c.calls, c.asked)
	}
	if call, _ := fake.Last("ListPipelineExecutions"); call.Pipeline != pipeline {
		t.Errorf("read pipeline %q", call.Pipeline)
	}
}

func TestTimesAreShownInTheDashboardsZone(t *testing.T) {
	fake := fakeaws.New()
	c := history(fake)
	event := strings.Replace(string(view(now.Add(-7*24*time.Hour), now)), `"offsetISO":"+00:00"`, `"offsetISO":"+02:00"`, 1)
	out := handle(t, handler(t, fake, c), json.RawMessage(event))
	contains(t, text(out), "2026-11-13 14:00 to 2026-11-20 14:00 UTC+02:00 (7 days)", "Started (UTC+02:00)")
	if r := rows(out); len(r) == 0 || !strings.HasPrefix(r[0], "2026-11-20 13:50 ") {
		t.Errorf("first row %q, want the run's start in UTC+02:00", r)
	}
}

func TestARangeLongerThan90DaysIsCutWithANote(t *testing.T) {
	fake := fakeaws.New()
	fake.SetRuns(pipeline,
		fakeaws.Run{ID: "new", Commit: "bbbbbbbbbb", Status: "Succeeded", At: now.Add(-10 * 24 * time.Hour)},
		fakeaws.Run{ID: "failed", Commit: "ffffffffff", Status: "Failed", At: now.Add(-95 * 24 * time.Hour)},
		fakeaws.Run{ID: "old", Commit: "aaaaaaaaaa", Status: "Succeeded", At: now.Add(-100 * 24 * time.Hour)},
	)
	out := handle(t, handler(t, fake, &commits{}), view(now.Add(-200*24*time.Hour), now))
	contains(t, text(out),
		"2026-08-22 12:00 to 2026-11-20 12:00 UTC (90 days)",
		"The dashboard's range (200 days) is longer than the widget reads: the figures cover its newest 90 days.",
		"Deployments 1 ", // old finished before the cut: not counted, though inside the dashboard's range
	)
	// The failed run before the cut is not asked about: the read is of the cut window.
	if slices.Contains(fake.Ops(), "ListActionExecutions") {
		t.Errorf("calls %v: the failed run 95 days ago is outside the 90 days read", fake.Ops())
	}
	if r := rows(out); len(r) != 1 || !strings.Contains(r[0], " new") {
		t.Errorf("rows %q, want only the run inside the 90 days", r)
	}
}

func TestTheHistoryBoundShortensTheRangeWithANote(t *testing.T) {
	fake := fakeaws.New()
	fake.SetPageSize(2) // pages of 2 runs: a bound of 1 page reads 2 runs
	fake.SetRuns(pipeline,
		fakeaws.Run{ID: "e3", Commit: "cccccccccc", Status: "Succeeded", At: day(19, 10, 0)},
		fakeaws.Run{ID: "e2", Commit: "bbbbbbbbbb", Status: "Succeeded", At: day(18, 10, 0)},
		fakeaws.Run{ID: "e1", Commit: "aaaaaaaaaa", Status: "Succeeded", At: day(17, 10, 0)},
	)
	h := handler(t, fake, &commits{})
	h.Config.MaxPages = 1
	out := handle(t, h, view(now.Add(-7*24*time.Hour), now))
	contains(t, text(out),
		"The history read stopped at the organisation's bound (settings.historyPages = 1, pages of 100 runs) before the range's start: "+
			"the figures cover only 2026-11-18 09:55 to 2026-11-20 12:00.",
		"(2 days)", "Deployments 2 ")
}

func TestAccessDeniedSaysWhichPermissionIsMissing(t *testing.T) {
	fake := fakeaws.New()
	c := history(fake)
	fake.Fail("ListPipelineExecutions", fakeaws.Fault{Status: 400, Code: "AccessDeniedException",
		Message: "User: arn:aws:sts::444444444444:assumed-role/x/y is not authorized to perform: codepipeline:ListPipelineExecutions"}, -1)
	got := text(handle(t, handler(t, fake, c), view(now.Add(-7*24*time.Hour), now)))
	contains(t, got,
		"The runs of pipeline payments-checkout-prd cannot be shown.",
		"The widget's function may not read the history of pipeline payments-checkout-prd (AccessDeniedException: User: arn:aws:sts::444444444444:assumed-role/x/y is not authorized to perform: codepipeline:ListPipelineExecutions).",
		"Its role needs codepipeline:ListPipelineExecutions and codepipeline:ListActionExecutions on the pipeline.",
	)
	if strings.Contains(got, "Deployments") || c.calls != 0 {
		t.Errorf("no figures may be shown without the history (commit calls %d):\n%s", c.calls, got)
	}
}

// Without commit times every key but the lead time is still right: the widget shows them and
// says what is missing.
func TestUnreadableCommitTimesLeaveTheOtherKeys(t *testing.T) {
	fake := fakeaws.New()
	c := history(fake)
	c.err = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: codecommit:BatchGetCommits"}
	got := text(handle(t, handler(t, fake, c), view(now.Add(-7*24*time.Hour), now)))
	contains(t, got,
		"Lead times are unknown: The widget's function may not read commit times from repository payments-checkout "+
			"(AccessDeniedException: not authorized to perform: codecommit:BatchGetCommits). Its role needs codecommit:BatchGetCommits on the repository.",
		"Deployments 4 4.0 per week",
		"Lead time for changes — median · p90 — · 0 known, 4 unknown",
		"Change failure rate 40% 2 of 5",
	)
}

func TestRunningOutOfTimeShowsAnErrorInTime(t *testing.T) {
	fake := fakeaws.New()
	c := history(fake)
	fake.Delay("ListPipelineExecutions", 10*time.Second)
	h := handler(t, fake, c)
	h.Config.Reserve = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 1300*time.Millisecond) // the Lambda's deadline
	defer cancel()
	start := time.Now()
	out, err := h.Handle(ctx, view(now.Add(-7*24*time.Hour), now))
	elapsed := time.Since(start)
	if err != nil || elapsed > 1300*time.Millisecond {
		t.Fatalf("answered after %s (err %v), want within the Lambda's deadline", elapsed, err)
	}
	contains(t, text(out),
		"Ran out of time to read the history of pipeline payments-checkout-prd: the widget has 1s and had made 1 calls.",
		"Choose a shorter time range, or read the figures with ship metrics")
}

func TestAMissingPipelineAndAMisconfigurationAreShown(t *testing.T) {
	fake := fakeaws.New() // knows no pipeline
	got := text(handle(t, handler(t, fake, &commits{}), view(now.Add(-time.Hour), now)))
	contains(t, got, "Could not read the history of pipeline payments-checkout-prd: it does not exist in this account and region (PipelineNotFoundException).")

	cfg, cfgErr := runs.ConfigFromEnv(func(k string) string { return map[string]string{"AWS_REGION": region, "HISTORY_MAX_PAGES": "0"}[k] })
	h := &runs.Handler{Pipelines: pipelines(t, fake), Commits: &commits{}, Config: cfg, ConfigErr: cfgErr, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	fake.ForgetCalls()
	got = text(handle(t, h, view(now.Add(-time.Hour), now)))
	contains(t, got, "The runs of the pipeline cannot be shown. The widget is misconfigured: runs widget configuration: ",
		`PIPELINE_NAME="": required`, `REPOSITORY_NAME="": required`, `ENVIRONMENT="": required`,
		`HISTORY_MAX_PAGES="0": a whole number from 1 to 100`)
	if len(fake.Ops()) != 0 {
		t.Errorf("a misconfigured widget called %v", fake.Ops())
	}
}

func TestDescribeAnswersTheDocumentationWithoutReading(t *testing.T) {
	fake := fakeaws.New()
	c := history(fake)
	out := handle(t, handler(t, fake, c), json.RawMessage(`{"describe":true,"widgetContext":{}}`))
	if out != runs.Docs || !strings.HasPrefix(out, "## Pipeline runs") || !strings.Contains(out, "lambda:InvokeFunction") {
		t.Errorf("describe answered %q", out)
	}
	if len(fake.Ops()) != 0 || c.calls != 0 {
		t.Errorf("describe read %v and %d commit batches", fake.Ops(), c.calls)
	}
	got := text(handle(t, handler(t, fake, c), json.RawMessage(`[1,2]`)))
	contains(t, got, "the widget's event is not the JSON object a dashboard sends")
}

// A run id, a commit and a trigger type come from CodePipeline's answer; none of them can
// add markup to the page.
func TestHostileValuesCannotInjectHTML(t *testing.T) {
	fake := fakeaws.New()
	fake.SetRuns(pipeline, fakeaws.Run{ID: `<img src=x onerror=alert(1)>`, Commit: `"><script>alert(2)</script>`, Status: "Succeeded", At: now.Add(-time.Hour)})
	out := handle(t, handler(t, fake, &commits{}), view(now.Add(-24*time.Hour), now))
	h := historyOf(`"onmouseover="alert(3)`, `<b>evil</b>`)
	w := dora.Last(24*time.Hour, now)
	hostileTrigger := runs.NewPage(runs.Read{
		Config:  runs.Config{Pipeline: pipeline, Environment: `<i>prd</i>`, Region: region},
		History: h, Metrics: dora.Compute(h, nil, w), Now: now,
	})
	var b strings.Builder
	if err := runs.Render(&b, hostileTrigger); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{out, b.String()} {
		for _, bad := range []string{"<img", "<script", "<b>evil", "<i>prd", `"onmouseover=`} {
			if strings.Contains(page, bad) {
				t.Errorf("%q reached the page:\n%s", bad, page)
			}
		}
	}
	contains(t, out, "&lt;img src=x onerror=alert(1)&gt;", "&lt;script&gt;")
	contains(t, b.String(), "&lt;b&gt;evil&lt;/b&gt;", "&lt;i&gt;prd&lt;/i&gt;", "&#34;onmouseover=&#34;alert(3)")
	if r := rows(b.String()); len(r) != 1 {
		t.Errorf("rows %q, want the hostile run shown, escaped", r)
	}
}

func TestTheTableShowsTheNewestRunsAndCountsTheRest(t *testing.T) {
	fake := fakeaws.New()
	h := handler(t, fake, history(fake))
	h.Config.Rows = 2
	out := handle(t, h, view(now.Add(-7*24*time.Hour), now))
	if r := rows(out); len(r) != 2 || !strings.HasSuffix(r[0], " r9") || !strings.HasSuffix(r[1], " r8") {
		t.Errorf("rows %q, want r9 and r8, the newest", r)
	}
	// The keys still count every run of the range.
	contains(t, text(out), "Older runs in the range not shown: 7 (ship history prd --limit 1000 lists them).", "Deployments 4 ")
}
