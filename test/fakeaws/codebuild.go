package fakeaws

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"time"
)

// codeBuildService is the X-Amz-Target prefix of CodeBuild's JSON 1.1 protocol.
const codeBuildService = "CodeBuild_20161006"

// idempotencyWindow is how long CodeBuild answers a repeated idempotencyToken with the
// build it started: "valid for 5 minutes".
const idempotencyWindow = 5 * time.Minute

// Build is one build StartBuild started, as the fake keeps it.
type Build struct {
	// ID is project:uuid, as StartBuild answers it; ARN its ARN.
	ID, ARN string
	// Account is the account of the project, the caller's.
	Account string
	Project string
	// SourceVersion and SourceTypeOverride are StartBuild's ("" when not given).
	SourceVersion, SourceTypeOverride string
	// Environment is environmentVariablesOverride, by name (every one PLAINTEXT here).
	Environment map[string]string
	// Token is the idempotencyToken ("" when not given).
	Token string
	// Status is IN_PROGRESS until StopBuild (STOPPED) or FinishBuild.
	Status string
	// Started is when it started, by the fake's clock (SetClock).
	Started time.Time
	// request is the StartBuild input, to tell a repeated token with other parameters.
	request map[string]any
}

// SetProject makes the CodeBuild project name exist in account.
func (s *Server) SetProject(account, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.projects == nil {
		s.projects = map[string]bool{}
	}
	s.projects[account+"/"+name] = true
}

// Builds returns every build started so far, in order.
func (s *Server) Builds() []Build {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Build, len(s.builds))
	for i, b := range s.builds {
		out[i] = *b
	}
	return out
}

// FinishBuild sets the status of build id (SUCCEEDED, FAILED, STOPPED, FAULT, TIMED_OUT),
// as BatchGetBuilds then answers it. It reports whether there is such a build.
func (s *Server) FinishBuild(id, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.builds {
		if b.ID == id {
			b.Status = status
			return true
		}
	}
	return false
}

// codeBuild answers CodeBuild's StartBuild, StopBuild and BatchGetBuilds (JSON 1.1). A
// StartBuild of a project SetProject did not make is ResourceNotFoundException, as for an
// account without it. A repeated idempotencyToken within 5 minutes is answered with the build
// it started, or with InvalidInputException when the other parameters differ.
func (s *Server) codeBuild(w http.ResponseWriter, c Call, body []byte) {
	var in struct {
		ProjectName                  string
		SourceVersion                string
		SourceTypeOverride           string
		IdempotencyToken             string
		EnvironmentVariablesOverride []struct{ Name, Value, Type string }
		ID                           string   `json:"id"`
		IDs                          []string `json:"ids"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	account := s.accountOf(c.AccessKey, c.SessionToken)
	switch c.Op {
	case "StartBuild":
		if !s.projects[account+"/"+in.ProjectName] {
			writeError(w, http.StatusBadRequest, "ResourceNotFoundException",
				fmt.Sprintf("Project cannot be found: arn:aws:codebuild:%s:%s:project/%s", c.Region, account, in.ProjectName))
			return
		}
		now := s.now()
		if in.IdempotencyToken != "" {
			for _, b := range s.builds {
				if b.Token != in.IdempotencyToken || b.Account != account || now.Sub(b.Started) >= idempotencyWindow {
					continue
				}
				if !reflect.DeepEqual(b.request, c.Input) {
					writeError(w, http.StatusBadRequest, "InvalidInputException", "Idempotency token "+in.IdempotencyToken+" was used with other parameters")
					return
				}
				writeJSON(w, map[string]any{"build": b.answer()})
				return
			}
		}
		env := map[string]string{}
		for _, v := range in.EnvironmentVariablesOverride {
			if v.Type != "" && v.Type != "PLAINTEXT" {
				writeError(w, http.StatusBadRequest, "InvalidInputException", "fakeaws keeps PLAINTEXT variables only, not "+v.Type)
				return
			}
			env[v.Name] = v.Value
		}
		id := fmt.Sprintf("%s:%08x-0000-4000-8000-%012x", in.ProjectName, len(s.builds)+1, len(s.builds)+1)
		b := &Build{ID: id, ARN: fmt.Sprintf("arn:aws:codebuild:%s:%s:build/%s", c.Region, account, id), Account: account,
			Project: in.ProjectName, SourceVersion: in.SourceVersion, SourceTypeOverride: in.SourceTypeOverride,
			Environment: env, Token: in.IdempotencyToken, Status: "IN_PROGRESS", Started: now, request: c.Input}
		s.builds = append(s.builds, b)
		writeJSON(w, map[string]any{"build": b.answer()})
	case "StopBuild":
		b := s.build(account, in.ID)
		if b == nil {
			writeError(w, http.StatusBadRequest, "ResourceNotFoundException", "Build cannot be found: "+in.ID)
			return
		}
		// A finished build stays as it finished.
		if b.Status == "IN_PROGRESS" {
			b.Status = "STOPPED"
		}
		writeJSON(w, map[string]any{"build": b.answer()})
	case "BatchGetBuilds":
		if len(in.IDs) == 0 || len(in.IDs) > 100 {
			writeError(w, http.StatusBadRequest, "InvalidInputException", fmt.Sprintf("1 to 100 ids, not %d", len(in.IDs)))
			return
		}
		builds, missing := []any{}, []string{}
		for _, id := range in.IDs {
			if b := s.build(account, id); b != nil {
				builds = append(builds, b.answer())
			} else {
				missing = append(missing, id)
			}
		}
		writeJSON(w, map[string]any{"builds": builds, "buildsNotFound": missing})
	default:
		writeError(w, http.StatusBadRequest, "InvalidInputException", "fakeaws does not implement CodeBuild's "+c.Op)
	}
}

// build is the build of account with id (project:uuid) or ARN. s.mu must be held.
func (s *Server) build(account, id string) *Build {
	for _, b := range s.builds {
		if b.Account == account && (b.ID == id || b.ARN == id) {
			return b
		}
	}
	return nil
}

// answer is b in CodeBuild's Build shape.
func (b *Build) answer() map[string]any {
	vars := []map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(b.Environment)) {
		vars = append(vars, map[string]string{"name": k, "value": b.Environment[k], "type": "PLAINTEXT"})
	}
	a := map[string]any{"id": b.ID, "arn": b.ARN, "projectName": b.Project, "buildStatus": b.Status,
		"buildComplete": b.Status != "IN_PROGRESS", "startTime": float64(b.Started.UnixMilli()) / 1000,
		"environment": map[string]any{"type": "LINUX_CONTAINER", "environmentVariables": vars}}
	if b.SourceVersion != "" {
		a["sourceVersion"] = b.SourceVersion
	}
	return a
}
