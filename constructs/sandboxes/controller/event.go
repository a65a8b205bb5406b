package controller

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Kind is what an Event tells the controller.
type Kind string

// The kinds of Event.
const (
	// KindPush: a sandbox branch was created or moved (referenceCreated, referenceUpdated).
	KindPush Kind = "push"
	// KindDelete: a sandbox branch was deleted (referenceDeleted).
	KindDelete Kind = "delete"
	// KindBuild: a build of the sandbox project finished.
	KindBuild Kind = "build"
	// KindSweep: the schedule: warn and expire idle sandboxes, restart lost builds.
	KindSweep Kind = "sweep"
)

// The detail-types of the three EventBridge rules that invoke the controller.
const (
	DetailTypeReference = "CodeCommit Repository State Change"
	DetailTypeBuild     = "CodeBuild Build State Change"
	DetailTypeSchedule  = "Scheduled Event"
)

// Build statuses of a finished build, as the build rule forwards them.
const (
	BuildSucceeded = "SUCCEEDED"
	BuildFailed    = "FAILED"
	BuildStopped   = "STOPPED"
)

// Event is one EventBridge event, decoded and checked by Decode.
type Event struct {
	// ID is the event's id: a redelivered event has the same one.
	ID string
	// Time is the event's time: for a push, when the branch moved; for the sweep, now.
	Time time.Time
	Kind Kind

	// Repository, ReferenceType and Reference (referenceName, e.g. sandbox/alice) are a push's or delete's.
	Repository, ReferenceType, Reference string
	// Commit is a push's commitId, or a delete's oldCommitId: 40 lowercase hex characters.
	Commit string
	// Caller is the callerUserArn of the push or delete; empty when the event has none.
	Caller string

	// Project is the build's project-name; BuildID its id (project:uuid, as StartBuild
	// answers it, from the event's build ARN); BuildStatus SUCCEEDED, FAILED or STOPPED.
	Project, BuildID, BuildStatus string
	// Variables are the build's environment variables, by name (SANDBOX, SANDBOX_ACTION, ...).
	Variables map[string]string

	// Finished are builds the sweep found finished although no build event said so
	// (EventBridge delivers on a best-effort basis): build id -> status. The Lambda fills
	// it from BatchGetBuilds before the sweep's decision; Decode leaves it empty.
	Finished map[string]string
}

var (
	eventIDPattern   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	commitPattern    = regexp.MustCompile(`^[0-9a-f]{40}$`)
	callerPattern    = regexp.MustCompile(`^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:[A-Za-z0-9+=,.@_/-]{1,1000}$`)
	buildARNPattern  = regexp.MustCompile(`^arn:aws[a-z-]*:codebuild:[a-z0-9-]+:[0-9]{12}:build/([A-Za-z0-9][A-Za-z0-9_-]{1,254}:[A-Za-z0-9-]{1,64})$`)
	projectPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$`)
	repoNamePattern  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	variablePattern  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,254}$`)
	maxReferenceName = 1000
)

// Decode reads one EventBridge event of the three the controller is invoked with, and checks
// its shape: every field the controller uses present, of its type and form (a commit id is
// 40 lowercase hex characters, a build id a CodeBuild build ARN of the event's project). A
// malformed or unexpected event is an error naming the field, its value and what is
// allowed. Whether the event is about this path's repository, branches and project is
// Decide's to check.
func Decode(raw []byte) (Event, error) {
	top, err := object("event", raw)
	if err != nil {
		return Event{}, err
	}
	var ev Event
	if ev.ID, err = top.str("id", eventIDPattern, "the event's id, 1-128 letters, digits, '.', '_' or '-'"); err != nil {
		return Event{}, err
	}
	when, err := top.str("time", nil, "")
	if err != nil {
		return Event{}, err
	}
	if ev.Time, err = time.Parse(time.RFC3339, when); err != nil {
		return Event{}, fmt.Errorf("time %q: want an RFC 3339 time, e.g. 2026-05-01T10:00:00Z", when)
	}
	detailType, err := top.str("detail-type", nil, "")
	if err != nil {
		return Event{}, err
	}
	source, err := top.str("source", nil, "")
	if err != nil {
		return Event{}, err
	}
	wantSource := map[string]string{DetailTypeReference: "aws.codecommit", DetailTypeBuild: "aws.codebuild", DetailTypeSchedule: "aws.events"}[detailType]
	if wantSource == "" {
		return Event{}, fmt.Errorf("detail-type %q: want %q, %q or %q", detailType, DetailTypeReference, DetailTypeBuild, DetailTypeSchedule)
	}
	if source != wantSource {
		return Event{}, fmt.Errorf("source %q: want %q for a %q event", source, wantSource, detailType)
	}
	detail, err := top.object("detail")
	if err != nil {
		return Event{}, err
	}
	switch detailType {
	case DetailTypeReference:
		err = ev.reference(detail)
	case DetailTypeBuild:
		err = ev.build(detail)
	default:
		ev.Kind = KindSweep
	}
	if err != nil {
		return Event{}, err
	}
	return ev, nil
}

// reference reads a CodeCommit Repository State Change's detail.
func (ev *Event) reference(d obj) error {
	event, err := d.str("event", nil, "")
	if err != nil {
		return err
	}
	commitField := "commitId"
	switch event {
	case "referenceCreated", "referenceUpdated":
		ev.Kind = KindPush
	case "referenceDeleted":
		ev.Kind, commitField = KindDelete, "oldCommitId" // a deleted reference points nowhere
	default:
		return fmt.Errorf("detail.event %q: want referenceCreated, referenceUpdated or referenceDeleted", event)
	}
	if ev.Repository, err = d.str("repositoryName", repoNamePattern, "a CodeCommit repository name"); err != nil {
		return err
	}
	if ev.ReferenceType, err = d.str("referenceType", nil, ""); err != nil {
		return err
	}
	if ev.Reference, err = d.str("referenceName", nil, ""); err != nil {
		return err
	}
	if len(ev.Reference) > maxReferenceName {
		return fmt.Errorf("detail.referenceName: %d characters, want at most %d", len(ev.Reference), maxReferenceName)
	}
	if ev.Commit, err = d.str(commitField, commitPattern, "a full commit id, 40 lowercase hex characters"); err != nil {
		return err
	}
	if _, ok := d.m["callerUserArn"]; ok {
		if ev.Caller, err = d.str("callerUserArn", callerPattern, "the ARN of an IAM or STS identity"); err != nil {
			return err
		}
	}
	return nil
}

// build reads a CodeBuild Build State Change's detail.
func (ev *Event) build(d obj) error {
	ev.Kind = KindBuild
	var err error
	if ev.BuildStatus, err = d.str("build-status", nil, ""); err != nil {
		return err
	}
	switch ev.BuildStatus {
	case BuildSucceeded, BuildFailed, BuildStopped:
	default:
		return fmt.Errorf("detail.build-status %q: want a finished build's, %s, %s or %s", ev.BuildStatus, BuildSucceeded, BuildFailed, BuildStopped)
	}
	if ev.Project, err = d.str("project-name", projectPattern, "a CodeBuild project name"); err != nil {
		return err
	}
	arn, err := d.str("build-id", nil, "")
	if err != nil {
		return err
	}
	m := buildARNPattern.FindStringSubmatch(arn)
	if m == nil || !strings.HasPrefix(m[1], ev.Project+":") {
		return fmt.Errorf("detail.build-id %q: want the ARN of a build of project %s, arn:aws:codebuild:<region>:<account>:build/%s:<uuid>", arn, ev.Project, ev.Project)
	}
	ev.BuildID = m[1]
	info, err := d.optionalObject("additional-information")
	if err != nil || info == nil {
		return err
	}
	env, err := info.optionalObject("environment")
	if err != nil || env == nil {
		return err
	}
	vars, ok := env.m["environment-variables"]
	if !ok {
		return nil
	}
	path := env.path + ".environment-variables"
	var list []json.RawMessage
	if kind(vars) != "array" || json.Unmarshal(vars, &list) != nil {
		return fmt.Errorf("%s: want an array, got %s", path, kind(vars))
	}
	ev.Variables = map[string]string{}
	for i, raw := range list {
		v, err := object(fmt.Sprintf("%s[%d]", path, i), raw)
		if err != nil {
			return err
		}
		name, err := v.str("name", variablePattern, "an environment variable's name")
		if err != nil {
			return err
		}
		value, err := v.text("value")
		if err != nil {
			return err
		}
		ev.Variables[name] = value
	}
	return nil
}

// obj is a JSON object being decoded, and where it is in the event.
type obj struct {
	path string
	m    map[string]json.RawMessage
}

// object decodes raw as an object at path.
func object(path string, raw json.RawMessage) (obj, error) {
	var m map[string]json.RawMessage
	if k := kind(raw); k != "object" {
		return obj{}, fmt.Errorf("%s: want an object, got %s", path, k)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return obj{}, fmt.Errorf("%s: %v", path, err)
	}
	return obj{path: path, m: m}, nil
}

func (o obj) field(key string) string {
	if o.path == "event" {
		return key
	}
	return o.path + "." + key
}

// object is the required object at key.
func (o obj) object(key string) (obj, error) {
	raw, ok := o.m[key]
	if !ok {
		return obj{}, fmt.Errorf("%s: missing, want an object", o.field(key))
	}
	return object(o.field(key), raw)
}

// optionalObject is the object at key, or nil when there is none.
func (o obj) optionalObject(key string) (*obj, error) {
	raw, ok := o.m[key]
	if !ok || kind(raw) == "null" {
		return nil, nil
	}
	v, err := object(o.field(key), raw)
	return &v, err
}

// str is the required non-empty string at key, which must match pattern when there is one
// (want says what it allows).
func (o obj) str(key string, pattern *regexp.Regexp, want string) (string, error) {
	raw, ok := o.m[key]
	if !ok {
		return "", fmt.Errorf("%s: missing, want a string", o.field(key))
	}
	var s string
	if kind(raw) != "string" || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("%s: want a string, got %s %s", o.field(key), kind(raw), truncate(string(raw), 80))
	}
	if s == "" {
		return "", fmt.Errorf("%s: empty, want a non-empty string", o.field(key))
	}
	if pattern != nil && !pattern.MatchString(s) {
		return "", fmt.Errorf("%s %q: want %s", o.field(key), truncate(s, 80), want)
	}
	return s, nil
}

// text is the string at key, which may be empty or missing ("").
func (o obj) text(key string) (string, error) {
	raw, ok := o.m[key]
	if !ok {
		return "", nil
	}
	var s string
	if kind(raw) != "string" || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("%s: want a string, got %s %s", o.field(key), kind(raw), truncate(string(raw), 80))
	}
	return s, nil
}

// kind names the JSON type of raw.
func kind(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// truncate shortens s to at most n bytes, on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
