package controller

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeTheRealShapes(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Event
	}{
		{"push-created.json", Event{ID: "6f1c2a0e-3b7d-4e21-9a55-0c1d2e3f4a5b", Time: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), Kind: KindPush,
			Repository: "payments-checkout", ReferenceType: "branch", Reference: "sandbox/alice",
			Commit: "0123456789abcdef0123456789abcdef01234567", Caller: "arn:aws:sts::222222222222:assumed-role/Developer/alice"}},
		{"push-updated.json", Event{ID: "7a2d3b1f-4c8e-4f32-8b66-1d2e3f4a5b6c", Time: time.Date(2026, 5, 1, 11, 30, 0, 0, time.UTC), Kind: KindPush,
			Repository: "payments-checkout", ReferenceType: "branch", Reference: "sandbox/alice",
			Commit: "89abcdef0123456789abcdef0123456789abcdef", Caller: "arn:aws:sts::222222222222:assumed-role/Developer/alice"}},
		{"delete.json", Event{ID: "8b3e4c2a-5d9f-4a43-9c77-2e3f4a5b6c7d", Time: time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC), Kind: KindDelete,
			Repository: "payments-checkout", ReferenceType: "branch", Reference: "sandbox/alice",
			Commit: "89abcdef0123456789abcdef0123456789abcdef", Caller: "arn:aws:sts::222222222222:assumed-role/Developer/alice"}},
		{"schedule.json", Event{ID: "ad6e7f5c-8a2c-4d76-9faa-5b6c7d8e9f0a", Time: time.Date(2026, 5, 1, 10, 15, 0, 0, time.UTC), Kind: KindSweep}},
	} {
		got, err := Decode(fixture(t, tc.file))
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if g, w := mustJSON(got), mustJSON(tc.want); g != w {
			t.Errorf("%s:\n got %s\nwant %s", tc.file, g, w)
		}
	}
	got, err := Decode(fixture(t, "build-succeeded.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != KindBuild || got.Project != project || got.BuildID != project+":0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e" || got.BuildStatus != BuildSucceeded ||
		got.Variables["SANDBOX"] != "alice" || got.Variables["SANDBOX_ACTION"] != "deploy" || len(got.Variables) != 4 {
		t.Errorf("build event: %+v", got)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// mutate is the fixture with the value at path (dot-separated; "detail.x") set to v, or
// removed when v is remove.
func mutate(t *testing.T, file, path string, v any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(fixture(t, file), &m); err != nil {
		t.Fatal(err)
	}
	keys := strings.Split(path, ".")
	at := m
	for _, k := range keys[:len(keys)-1] {
		at = at[k].(map[string]any)
	}
	if v == remove {
		delete(at, keys[len(keys)-1])
	} else {
		at[keys[len(keys)-1]] = v
	}
	b, _ := json.Marshal(m)
	return b
}

var remove = &struct{}{}

func TestDecodeRefusesHostileEvents(t *testing.T) {
	const push, del, build, sched = "push-created.json", "delete.json", "build-succeeded.json", "schedule.json"
	for _, tc := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"not JSON", []byte("{"), "event: "},
		{"not an object", []byte(`["x"]`), "event: want an object, got array"},
		{"null", []byte(`null`), "event: want an object, got null"},
		{"no id", mutate(t, push, "id", remove), "id: missing, want a string"},
		{"id a number", mutate(t, push, "id", 7), "id: want a string, got number 7"},
		{"id with a space", mutate(t, push, "id", "a b"), `id "a b": want the event's id`},
		{"no time", mutate(t, push, "time", remove), "time: missing"},
		{"time not RFC 3339", mutate(t, push, "time", "yesterday"), `time "yesterday": want an RFC 3339 time`},
		{"unknown detail-type", mutate(t, push, "detail-type", "CodeCommit Pull Request State Change"), `detail-type "CodeCommit Pull Request State Change": want`},
		{"detail-type missing", mutate(t, push, "detail-type", remove), "detail-type: missing"},
		{"source of another service", mutate(t, push, "source", "my.app"), `source "my.app": want "aws.codecommit"`},
		{"scheduled event not from aws.events", mutate(t, sched, "source", "aws.codecommit"), `source "aws.codecommit": want "aws.events"`},
		{"no detail", mutate(t, push, "detail", remove), "detail: missing, want an object"},
		{"detail a string", mutate(t, push, "detail", "x"), "detail: want an object, got string"},
		{"a comment event", mutate(t, push, "detail.event", "commentOnCommitCreated"), `detail.event "commentOnCommitCreated": want referenceCreated`},
		{"event a list", mutate(t, push, "detail.event", []string{"referenceCreated"}), "detail.event: want a string, got array"},
		{"no repositoryName", mutate(t, push, "detail.repositoryName", remove), "detail.repositoryName: missing"},
		{"repositoryName with a slash", mutate(t, push, "detail.repositoryName", "a/b"), `detail.repositoryName "a/b": want a CodeCommit repository name`},
		{"no referenceType", mutate(t, push, "detail.referenceType", remove), "detail.referenceType: missing"},
		{"no referenceName", mutate(t, push, "detail.referenceName", remove), "detail.referenceName: missing"},
		{"referenceName a number", mutate(t, push, "detail.referenceName", 1), "detail.referenceName: want a string, got number"},
		{"referenceName empty", mutate(t, push, "detail.referenceName", ""), "detail.referenceName: empty"},
		{"referenceName too long", mutate(t, push, "detail.referenceName", "sandbox/"+strings.Repeat("a", 1000)), "detail.referenceName: 1008 characters, want at most 1000"},
		{"push without commitId", mutate(t, push, "detail.commitId", remove), "detail.commitId: missing, want a string"},
		{"short commitId", mutate(t, push, "detail.commitId", "0123456"), `detail.commitId "0123456": want a full commit id, 40 lowercase hex characters`},
		{"uppercase commitId", mutate(t, push, "detail.commitId", strings.Repeat("A", 40)), `detail.commitId "AAAA`},
		{"the documentation's placeholder commitId", mutate(t, push, "detail.commitId", "3e5983DESTINATION"), `detail.commitId "3e5983DESTINATION"`},
		{"commitId with a shell command", mutate(t, push, "detail.commitId", "$(curl evil)"+strings.Repeat("a", 28)), `detail.commitId "$(curl evil)`},
		{"commitId a number", mutate(t, push, "detail.commitId", 123), "detail.commitId: want a string, got number 123"},
		{"delete without oldCommitId", mutate(t, del, "detail.oldCommitId", remove), "detail.oldCommitId: missing"},
		{"delete with a bad oldCommitId", mutate(t, del, "detail.oldCommitId", "26a8f2EXAMPLE"), `detail.oldCommitId "26a8f2EXAMPLE"`},
		{"callerUserArn not an ARN", mutate(t, push, "detail.callerUserArn", "alice"), `detail.callerUserArn "alice": want the ARN of an IAM or STS identity`},
		{"callerUserArn null", mutate(t, push, "detail.callerUserArn", nil), "detail.callerUserArn: want a string, got null"},
		{"build in progress", mutate(t, build, "detail.build-status", "IN_PROGRESS"), `detail.build-status "IN_PROGRESS": want a finished build's`},
		{"no build-status", mutate(t, build, "detail.build-status", remove), "detail.build-status: missing"},
		{"no project-name", mutate(t, build, "detail.project-name", remove), "detail.project-name: missing"},
		{"project-name a bool", mutate(t, build, "detail.project-name", true), "detail.project-name: want a string, got boolean"},
		{"no build-id", mutate(t, build, "detail.build-id", remove), "detail.build-id: missing"},
		{"build-id not an ARN", mutate(t, build, "detail.build-id", "payments-checkout-dev-sandbox:1"), `detail.build-id "payments-checkout-dev-sandbox:1": want the ARN of a build of project payments-checkout-dev-sandbox`},
		{"build-id of another project", mutate(t, build, "detail.build-id", "arn:aws:codebuild:eu-west-1:222222222222:build/other:0b1c2d3e"), `detail.build-id "arn:aws:codebuild:eu-west-1:222222222222:build/other:0b1c2d3e"`},
		{"environment-variables an object", mutate(t, build, "detail.additional-information.environment.environment-variables", map[string]any{}), "detail.additional-information.environment.environment-variables: want an array, got object"},
		{"a variable without a name", mutate(t, build, "detail.additional-information.environment.environment-variables", []any{map[string]any{"value": "x"}}), "environment-variables[0].name: missing"},
		{"a variable's value a number", mutate(t, build, "detail.additional-information.environment.environment-variables", []any{map[string]any{"name": "SANDBOX", "value": 1}}), "environment-variables[0].value: want a string, got number"},
		{"additional-information a list", mutate(t, build, "detail.additional-information", []any{}), "detail.additional-information: want an object, got array"},
	} {
		_, err := Decode(tc.raw)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

// TestDecodeAcceptsWhatIsOptional: a push without callerUserArn (the documentation's examples
// have none) and a build event without additional-information decode.
func TestDecodeAcceptsWhatIsOptional(t *testing.T) {
	ev, err := Decode(mutate(t, "push-created.json", "detail.callerUserArn", remove))
	if err != nil || ev.Caller != "" || ev.Kind != KindPush {
		t.Errorf("push without callerUserArn: %+v, %v", ev, err)
	}
	ev, err = Decode(mutate(t, "build-succeeded.json", "detail.additional-information", remove))
	if err != nil || ev.Variables != nil || ev.BuildStatus != BuildSucceeded {
		t.Errorf("build without additional-information: %+v, %v", ev, err)
	}
	ev, err = Decode(mutate(t, "build-succeeded.json", "detail.additional-information.environment.environment-variables", []any{map[string]any{"name": "EMPTY", "type": "PLAINTEXT", "value": ""}}))
	if err != nil || ev.Variables["EMPTY"] != "" || len(ev.Variables) != 1 {
		t.Errorf("a variable with an empty value: %+v, %v", ev, err)
	}
}

// FuzzDecode: no input makes Decode panic, and what it accepts has the fields Decide needs.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"push-created.json", "push-updated.json", "delete.json", "build-succeeded.json", "schedule.json"} {
		f.Add(fixture(f, name))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := Decode(raw)
		if err != nil {
			return
		}
		switch ev.Kind {
		case KindPush, KindDelete:
			if !commitPattern.MatchString(ev.Commit) || ev.Repository == "" || ev.Reference == "" {
				t.Fatalf("accepted %+v", ev)
			}
		case KindBuild:
			if ev.BuildID == "" || ev.Project == "" {
				t.Fatalf("accepted %+v", ev)
			}
		case KindSweep:
		default:
			t.Fatalf("kind %q", ev.Kind)
		}
	})
}
