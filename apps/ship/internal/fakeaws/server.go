package fakeaws

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Run is one pipeline execution as ListPipelineExecutions reports it.
type Run struct {
	// ID is the pipeline execution id.
	ID string
	// Commit is the source revision the run built or deployed.
	Commit string
	// Status is CodePipeline's execution status: InProgress, Stopped, Stopping, Succeeded,
	// Superseded or Failed.
	Status string
	// At is the run's lastUpdateTime: for a finished run, when it finished.
	At time.Time
	// Started is the run's startTime. Default: - five minutes before At.
	Started time.Time
}

// Stage is one stage of GetPipelineState's answer.
type Stage struct {
	Name    string
	Actions []Action
}

// Action is one action of a Stage and its latest execution.
type Action struct {
	Name string
	// Status is the latest execution's status (InProgress, Succeeded, Failed, ...).
	// Default: - the action has not run, and the answer has no latestExecution.
	Status string
	// Token is what an approval action carries while it waits. Default: - none.
	Token string
	// Changed is the latest execution's lastStatusChange.
	Changed time.Time
}

// Call is one request as the fake saw it.
type Call struct {
	// Op is the operation, e.g. ListPipelineExecutions, GetPipelineState, AssumeRole.
	Op string
	// Pipeline is the pipeline a CodePipeline call named; empty for STS.
	Pipeline string
	// AccessKey is the access key id the request was signed with.
	AccessKey string
}

// Server is the fake endpoint. Its methods are safe to call while it serves.
type Server struct {
	mu       sync.Mutex
	runs     map[string][]Run   // pipeline -> executions, newest first
	states   map[string][]Stage // pipeline -> GetPipelineState stages
	pageSize int                // server-side cap per page (0: the client's maxResults)
	endless  map[string]bool    // pipeline -> always answer with a next token
	reject   string             // access key answered with UnrecognizedClientException
	calls    []Call
	assumed  []url.Values
	now      func() time.Time

	// pollMu serialises the live mode's look at the repositories, so two concurrent
	// requests never record the same push twice.
	pollMu  sync.Mutex
	watched []watchedRepo
}

// New returns a fake with no pipelines.
func New() *Server {
	return &Server{runs: map[string][]Run{}, states: map[string][]Stage{}, endless: map[string]bool{}, now: time.Now}
}

// SetRuns makes the pipeline exist with these executions, newest first (none: a pipeline
// that never ran). It replaces what the pipeline had.
func (s *Server) SetRuns(pipeline string, runs ...Run) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs[pipeline] = append([]Run(nil), runs...)
}

// Runs returns the pipeline's executions, newest first: what SetRuns set and the live mode
// recorded since.
func (s *Server) Runs(pipeline string) []Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Run(nil), s.runs[pipeline]...)
}

// SetState is what GetPipelineState answers for the pipeline. Default: - no stages.
func (s *Server) SetState(pipeline string, stages ...Stage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states[pipeline] = append([]Stage(nil), stages...)
}

// SetPageSize caps every ListPipelineExecutions page at n runs, below what the client asks
// for, as a server may. Default: - the client's maxResults (100 if it gives none).
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// SetEndless makes ListPipelineExecutions of the pipeline answer every page with no runs
// and a next token: a history longer than any bound a client keeps.
func (s *Server) SetEndless(pipeline string, endless bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endless[pipeline] = endless
}

// RejectAccessKey makes every CodePipeline call signed with key fail with
// UnrecognizedClientException, as AWS answers a deleted or mistyped key. "" rejects none.
func (s *Server) RejectAccessKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reject = key
}

// SetClock sets the clock the live mode dates its runs with. Default: time.Now.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Recorded returns every call so far, in order.
func (s *Server) Recorded() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// AssumedRoles returns the form of every AssumeRole call so far (RoleArn,
// RoleSessionName, DurationSeconds, ...), in order.
func (s *Server) AssumedRoles() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.assumed...)
}

// ServeHTTP answers one CodePipeline or STS request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.poll(r.Context()); err != nil {
		// Not an API error: the sandbox itself is broken (a repository deleted, git missing).
		writeError(w, http.StatusInternalServerError, "InternalFailure", "fakeaws: "+err.Error())
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	target := r.Header.Get("X-Amz-Target")
	if op, ok := strings.CutPrefix(target, "CodePipeline_20150709."); ok {
		s.codePipeline(w, op, accessKey(r), body)
		return
	}
	form, _ := url.ParseQuery(string(body))
	if form.Get("Action") == "AssumeRole" {
		s.assumeRole(w, accessKey(r), form)
		return
	}
	http.Error(w, "fakeaws: unexpected request "+r.Method+" "+target+" "+string(body), http.StatusBadRequest)
}

// accessKey is the key id in a SigV4 Authorization header:
// AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/codepipeline/aws4_request, ...
func accessKey(r *http.Request) string {
	_, rest, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	key, _, _ := strings.Cut(rest, "/")
	return key
}

// writeError is an error in the JSON protocols' shape, which the SDK turns into the
// modelled error type named by __type.
func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}
