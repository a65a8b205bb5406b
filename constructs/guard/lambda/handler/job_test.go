package handler_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/platform-eng/pathtoprod/constructs/guard/lambda/handler"
)

const fixtureCommit = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"

func TestParseJobEventFixtures(t *testing.T) {
	cases := map[string]struct {
		want    handler.Job
		wantErr error
		wantMsg string
	}{
		"job-event.json":                 {want: handler.Job{ID: "11111111-abcd-1111-abcd-111111111111", Commit: fixtureCommit, ExecutionID: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}},
		"job-event-no-execution-id.json": {want: handler.Job{ID: "22222222-abcd-2222-abcd-222222222222", Commit: fixtureCommit}},
		"job-event-no-id.json":           {wantErr: handler.ErrNoJobID},
		"job-event-unresolved.json":      {want: handler.Job{ID: "33333333-abcd-3333-abcd-333333333333"}, wantErr: handler.ErrMalformedJob, wantMsg: `commit "#{SourceVariables.CommitId}" is not a full 40-character`},
		"job-event-unknown-key.json":     {want: handler.Job{ID: "44444444-abcd-4444-abcd-444444444444"}, wantErr: handler.ErrMalformedJob, wantMsg: `unknown key "upstream"`},
		"job-event-short-commit.json":    {want: handler.Job{ID: "55555555-abcd-5555-abcd-555555555555"}, wantErr: handler.ErrMalformedJob, wantMsg: `commit "1a2b3c4" is not`},
		"job-event-bad-shape.json":       {want: handler.Job{ID: "66666666-abcd-6666-abcd-666666666666"}, wantErr: handler.ErrMalformedJob, wantMsg: "does not have the CodePipeline job shape"},
	}
	for file, tc := range cases {
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := handler.ParseJobEvent(raw)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %q, want it to contain %q", err, tc.wantMsg)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("job = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseUserParameters(t *testing.T) {
	c := fixtureCommit
	cases := map[string]string{ // input → wanted error fragment ("" = valid)
		`{"commit":"` + c + `"}`: "",
		`{"commit":"` + c + `","executionId":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}`: "",
		` { "executionId" : "" , "commit" : "` + c + `" } `:                           "",
		``:              "missing",
		`null`:          "not a JSON object",
		`["` + c + `"]`: "not a JSON object",
		`{}`:            `"commit" is required`,
		`{"commit":"` + strings.ToUpper(c) + `"}`:       "is not a full 40-character lowercase hex",
		`{"commit":"` + c + `0"}`:                       "is not a full",
		`{"commit":1}`:                                  "commit must be a string",
		`{"Commit":"` + c + `"}`:                        `unknown key "Commit"`,
		`{"commit":"` + c + `","commit":"` + c + `"}`:   `key "commit" appears twice`,
		`{"commit":"` + c + `"}{}`:                      "unexpected data after the JSON object",
		`{"commit":"` + c + `"`:                         "invalid JSON",
		`{"commit":"` + c + `","executionId":"latest"}`: `executionId "latest" is not`,
		`{"commit":"` + c + `","executionId":null}`:     "executionId must be a string",
		`{"commit":"` + strings.Repeat("x", 500) + `"}`: "…",
	}
	for in, wantErr := range cases {
		t.Run(in, func(t *testing.T) {
			p, err := handler.ParseUserParameters(in)
			if wantErr == "" {
				if err != nil || p.Commit != c {
					t.Fatalf("p=%+v err=%v", p, err)
				}
				return
			}
			if !errors.Is(err, handler.ErrMalformedJob) || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("err = %v, want ErrMalformedJob containing %q", err, wantErr)
			}
		})
	}
}

var validCommit = regexp.MustCompile(`^[0-9a-f]{40}$`)

// FuzzParseJobEvent checks, for any event bytes, that parsing never panics, that a
// result is either a valid job or a classified error, and that the job id is kept
// whenever it was readable (so the failure can be reported).
func FuzzParseJobEvent(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		job, err := handler.ParseJobEvent(raw)
		switch {
		case err == nil:
			if job.ID == "" || !validCommit.MatchString(job.Commit) {
				t.Fatalf("accepted an invalid job %+v", job)
			}
		case errors.Is(err, handler.ErrNoJobID):
			if !reflect.DeepEqual(job, handler.Job{}) {
				t.Fatalf("ErrNoJobID with a job %+v", job)
			}
		case errors.Is(err, handler.ErrMalformedJob):
			if job.ID == "" || job.Commit != "" {
				t.Fatalf("ErrMalformedJob with job %+v", job)
			}
		default:
			t.Fatalf("unclassified error %v", err)
		}
		if err != nil && len(err.Error()) > 1000 {
			t.Fatalf("error message of %d bytes", len(err.Error()))
		}
	})
}

// FuzzParseUserParameters checks that UserParameters are either valid (and survive a
// round trip) or rejected with ErrMalformedJob and a bounded message.
func FuzzParseUserParameters(f *testing.F) {
	for _, s := range []string{
		`{"commit":"` + fixtureCommit + `"}`,
		`{"commit":"` + fixtureCommit + `","executionId":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}`,
		`{"commit":"#{SourceVariables.CommitId}"}`,
		`{"commit":"` + fixtureCommit + `","commit":"x"}`,
		`{"commit":"\u0031a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"}`,
		``, `null`, `{`, `{"commit":1}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := handler.ParseUserParameters(s)
		if err != nil {
			if !errors.Is(err, handler.ErrMalformedJob) || len(err.Error()) > 1000 {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		if !validCommit.MatchString(p.Commit) {
			t.Fatalf("accepted commit %q", p.Commit)
		}
		b, _ := json.Marshal(p)
		q, err := handler.ParseUserParameters(string(b))
		if err != nil || q != p {
			t.Fatalf("round trip of %s: %+v, %v", b, q, err)
		}
	})
}
