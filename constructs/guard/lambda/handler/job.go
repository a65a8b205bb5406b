package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/aws/aws-lambda-go/events"
)

// Job is what the guard needs from one CodePipeline job event.
type Job struct {
	// ID is the CodePipeline job id that PutJobSuccessResult / PutJobFailureResult report on.
	ID string
	// Commit is the full 40-character lowercase commit id this pipeline run deploys.
	Commit string
	// ExecutionID is this pipeline's execution id, if the pipeline passed it (for logs only).
	ExecutionID string
	// Verified are the output variables of the checks that passed before the one running
	// (Decide sets them), e.g. the image check's ImageDigest, which the scan check reads.
	Verified map[string]string
}

// ErrNoJobID means the event carries no job id, so no result can be reported to
// CodePipeline: the handler logs and returns an error instead, and the pipeline action
// fails when CodePipeline times the job out.
var ErrNoJobID = errors.New(`job event has no "CodePipeline.job" id`)

// ErrMalformedJob means the event has a job id but its UserParameters (or the event
// around them) are not what the guard's contract says; the guard reports it as a failure.
var ErrMalformedJob = errors.New("malformed job")

var (
	commitPattern      = regexp.MustCompile(`^[0-9a-f]{40}$`)
	executionIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// maxShown bounds how much of a bad value is quoted back in a message.
const maxShown = 60

// ParseJobEvent reads a CodePipeline job event (key "CodePipeline.job") whose
// UserParameters are {"commit":"<40 lowercase hex>","executionId":"<uuid>"}.
//
// It returns ErrNoJobID (wrapped) when the job id cannot be read, and ErrMalformedJob
// (wrapped) with the job id set when anything else is wrong, so the caller can still
// report the failure on that job.
func ParseJobEvent(raw []byte) (Job, error) {
	// The id first, leniently: whatever else is wrong, a readable id lets us report it.
	var head struct {
		Job *struct {
			ID *string `json:"id"`
		} `json:"CodePipeline.job"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Job{}, fmt.Errorf("%w: event is not a CodePipeline job event: %v", ErrNoJobID, err)
	}
	if head.Job == nil || head.Job.ID == nil || *head.Job.ID == "" {
		return Job{}, ErrNoJobID
	}
	job := Job{ID: *head.Job.ID}

	var ev events.CodePipelineJobEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return job, fmt.Errorf("%w: event does not have the CodePipeline job shape: %v", ErrMalformedJob, err)
	}
	p, err := ParseUserParameters(ev.CodePipelineJob.Data.ActionConfiguration.Configuration.UserParameters)
	if err != nil {
		return job, err
	}
	job.Commit, job.ExecutionID = p.Commit, p.ExecutionID
	return job, nil
}

// UserParameters is the decoded UserParameters of the guard's Invoke action.
type UserParameters struct {
	// Commit is required: 40 lowercase hex characters.
	Commit string `json:"commit"`
	// ExecutionID is optional: a CodePipeline execution id (a lowercase UUID).
	ExecutionID string `json:"executionId,omitempty"`
}

// ParseUserParameters decodes and validates s strictly: one JSON object, exact
// (case-sensitive) keys "commit" and optionally "executionId", string values, no
// duplicates, no unknown keys, nothing after the object. Errors wrap ErrMalformedJob.
func ParseUserParameters(s string) (UserParameters, error) {
	var p UserParameters
	bad := func(format string, a ...any) (UserParameters, error) {
		return UserParameters{}, fmt.Errorf("%w: UserParameters: %s", ErrMalformedJob, fmt.Sprintf(format, a...))
	}
	if s == "" {
		return bad(`missing; the action must pass {"commit":"#{SourceVariables.CommitId}"}`)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return bad("not a JSON object: %s", quote(s))
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad("invalid JSON: %v", err)
		}
		key, _ := tok.(string) // inside an object, keys are always strings
		if seen[key] {
			return bad("key %s appears twice", quote(key))
		}
		seen[key] = true
		var val any
		if err := dec.Decode(&val); err != nil {
			return bad("invalid JSON: %v", err)
		}
		str, ok := val.(string)
		switch {
		case key != "commit" && key != "executionId":
			return bad(`unknown key %s (allowed: "commit", "executionId")`, quote(key))
		case !ok:
			return bad("%s must be a string", key)
		case key == "commit":
			p.Commit = str
		default:
			p.ExecutionID = str
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return bad("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("unexpected data after the JSON object")
	}
	if !seen["commit"] {
		return bad(`"commit" is required`)
	}
	if !commitPattern.MatchString(p.Commit) {
		return bad("commit %s is not a full 40-character lowercase hex commit id (is the source action's variable namespace SourceVariables?)", quote(p.Commit))
	}
	if p.ExecutionID != "" && !executionIDPattern.MatchString(p.ExecutionID) {
		return bad("executionId %s is not a pipeline execution id", quote(p.ExecutionID))
	}
	return p, nil
}

// quote quotes s for a message, cut to maxShown bytes (on a rune boundary is not needed:
// %q escapes any broken UTF-8).
func quote(s string) string {
	if len(s) > maxShown {
		return fmt.Sprintf("%q…", s[:maxShown])
	}
	return fmt.Sprintf("%q", s)
}
