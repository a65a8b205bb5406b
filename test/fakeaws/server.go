package fakeaws

import (
	"encoding/json"
	"fmt"
	"html"
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
	// Type is the executionType, STANDARD or ROLLBACK. Default: - STANDARD.
	Type string
	// RollbackTarget is, for a ROLLBACK run, the execution it rolled back to.
	RollbackTarget string
	// SourceAction names the action whose revision is Commit. Default: - the path
	// pipeline's own source action, org.SourceActionName.
	SourceAction string
	// StatusSummary is GetPipelineExecution's statusSummary. Default: - none.
	StatusSummary string
}

// Fault is an error answer: the HTTP status, the AWS error code and its message.
type Fault struct {
	Status  int
	Code    string
	Message string
}

// Throttled is the fault AWS answers a caller that calls too often.
var Throttled = Fault{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"}

// Stage is one stage of GetPipelineState's answer.
type Stage struct {
	Name    string
	Actions []Action
	// Execution is the stage's latestExecution: the run it works on, or last worked on.
	// Default: - none, and the answer has no latestExecution.
	Execution string
	// ExecutionStatus is that run's status in this stage: InProgress, Succeeded, Failed, ...
	ExecutionStatus string
	// Inbound are the runs waiting to enter the stage, oldest first: in QUEUED mode a run
	// waits here, InProgress, while an earlier one holds the stage. Default: - none.
	Inbound []string
	// Type is the latest execution's type, STANDARD or ROLLBACK. Default: - not said.
	Type string
	// Entry, Success and Failure are the stage's beforeEntry, onSuccess and onFailure
	// condition states (stages.go). Default: - none.
	Entry, Success, Failure *Condition
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
	// Summary is the latest execution's summary, e.g. an approver's comment.
	Summary string
	// Error is the latest execution's errorDetails message, for a Failed action.
	Error string
	// URL is the latest execution's externalExecutionUrl, e.g. the build's page.
	URL string
}

// Call is one request as the fake saw it.
type Call struct {
	// Op is the operation, e.g. ListPipelineExecutions, GetPipelineState, AssumeRole.
	Op string
	// Pipeline is the pipeline a CodePipeline call named; empty for other calls.
	Pipeline string
	// AccessKey is the access key id the request was signed with.
	AccessKey string
	// SessionToken is the request's session token (X-Amz-Security-Token): "" for long-term
	// keys, RoleSessionToken-<n> for the credentials of the n-th AssumeRole.
	SessionToken string
	// Region is the region of the request's signature.
	Region string
	// Input is the request: the JSON body, or the Query form's values for STS.
	Input map[string]any
}

// Server is the fake endpoint. Its methods are safe to call while it serves.
type Server struct {
	mu       sync.Mutex
	runs     map[string][]Run   // pipeline -> executions, newest first
	states   map[string][]Stage // pipeline -> GetPipelineState stages
	pageSize int                // server-side cap per page (0: the client's maxResults)
	endless  map[string]bool    // pipeline -> always answer with a next token
	reject   string             // access key answered with UnrecognizedClientException
	faults   map[string]*faultPlan
	delays   map[string]time.Duration
	images   map[string]string // repository + ":" + tag -> digest
	scans    map[string]*Scan  // repository + "@" + digest -> its scan (ecr.go)
	repos    map[string]bool   // ECR repositories that exist
	accounts map[string]string // access key -> account, for GetCallerIdentity
	calls    []Call
	assumed  []url.Values
	now      func() time.Time
	live     map[string]*livePipeline     // watched pipelines, by name
	alarms   map[string]Alarm             // CloudWatch alarms, by name (cloudwatch.go)
	objects  map[string]map[string]Object // S3 bucket -> key -> object (s3.go)
	gitRepos map[string]string            // CodeCommit account + "/" + repository -> git dir (codecommit.go)
	// commitsOf keeps what git said of each commit, by git dir and id (codecommit.go).
	commitsOf map[string]map[string]map[string]any
	// tables are the DynamoDB tables, by account + "/" + name: each item by its key (dynamodb.go).
	tables map[string]map[string]map[string]any

	// pollMu serialises the live mode's look at the repositories, so two concurrent
	// requests never record the same push twice.
	pollMu  sync.Mutex
	watched []watchedRepo

	steps stepState // action executions, scripts, the clock and change notices (stages.go)
}

// New returns a fake with no pipelines.
func New() *Server {
	return &Server{runs: map[string][]Run{}, states: map[string][]Stage{}, endless: map[string]bool{},
		faults: map[string]*faultPlan{}, delays: map[string]time.Duration{}, images: map[string]string{},
		repos: map[string]bool{}, accounts: map[string]string{}, now: time.Now, live: map[string]*livePipeline{}}
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

type faultPlan struct {
	fault Fault
	times int // < 0: always
}

// Fail makes the next times calls of op (all of them if times < 0) fail with f, before the
// fake looks at the request; a later Fail of the same op replaces it. Op is the operation
// name, e.g. "ListPipelineExecutions", "AssumeRole", "PutJobFailureResult".
func (s *Server) Fail(op string, f Fault, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = &faultPlan{fault: f, times: times}
}

// Delay makes every call of op wait d before it is answered, or until the caller gives up.
func (s *Server) Delay(op string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delays[op] = d
}

// SetImage makes the ECR repository exist with an image tagged tag of digest
// ("sha256:…"). An empty tag only makes the repository exist.
func (s *Server) SetImage(repository, tag, digest string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[repository] = true
	if tag != "" {
		s.images[repository+":"+tag] = digest
	}
}

// SetAccount says which account an access key belongs to, for GetCallerIdentity.
// Default: - the credentials of an assumed role belong to that role's account; any
// other key to account 000000000000.
func (s *Server) SetAccount(accessKey, account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[accessKey] = account
}

// ForgetCalls empties the record of calls (Recorded, Ops, Last), e.g. after a warm-up.
func (s *Server) ForgetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// Ops returns the operation of every call so far, in order.
func (s *Server) Ops() []string {
	var ops []string
	for _, c := range s.Recorded() {
		ops = append(ops, c.Op)
	}
	return ops
}

// Last returns the newest call of op, and false if there was none.
func (s *Server) Last(op string) (Call, bool) {
	cs := s.Recorded()
	for i := len(cs) - 1; i >= 0; i-- {
		if cs[i].Op == op {
			return cs[i], true
		}
	}
	return Call{}, false
}

// ServeHTTP answers one CodePipeline, CodeCommit, ECR, STS, CloudWatch, S3 or DynamoDB request.
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
	key, region := signature(r)
	c := Call{AccessKey: key, SessionToken: r.Header.Get("X-Amz-Security-Token"), Region: region, Input: map[string]any{}}
	target := r.Header.Get("X-Amz-Target")
	var service string
	if svc, op, ok := isCBOR(r); ok {
		service, c.Op = svc, op
		if c.Input, err = cborInput(body); err != nil {
			writeCBORError(w, Fault{Status: 400, Code: "SerializationException", Message: err.Error()})
			return
		}
	} else if op, input, ok := s3Request(r); ok {
		service, c.Op, c.Input = s3Service, op, input
	} else if target != "" {
		service, c.Op, _ = strings.Cut(target, ".")
		_ = json.Unmarshal(body, &c.Input)
		c.Pipeline, _ = c.Input["pipelineName"].(string)
		if c.Pipeline == "" {
			c.Pipeline, _ = c.Input["name"].(string)
		}
	} else {
		form, _ := url.ParseQuery(string(body))
		service, c.Op = "STS", form.Get("Action")
		for k := range form {
			c.Input[k] = form.Get(k)
		}
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.notify()
	delay := s.delays[c.Op]
	fault, faulty := s.takeFault(c.Op)
	s.mu.Unlock()

	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if faulty {
		switch service {
		case "STS":
			writeQueryError(w, fault)
		case cloudWatchService:
			writeCBORError(w, fault)
		case s3Service:
			writeS3Error(w, r, fault)
		case dynamoDBService:
			writeDynamoDBError(w, fault)
		default:
			writeError(w, fault.Status, fault.Code, fault.Message)
		}
		return
	}
	switch service {
	case "CodePipeline_20150709":
		s.codePipeline(w, c.Op, key, body)
	case "AmazonEC2ContainerRegistry_V20150921":
		s.ecr(w, c)
	case codeCommitService:
		s.codeCommit(r.Context(), w, c, body)
	case "STS":
		s.sts(w, c)
	case cloudWatchService:
		s.cloudWatch(w, c)
	case s3Service:
		s.s3(w, r, c)
	case dynamoDBService:
		s.dynamoDB(w, c, body)
	default:
		http.Error(w, "fakeaws: unexpected request "+r.Method+" "+target+" "+string(body), http.StatusBadRequest)
	}
}

// takeFault is the fault planned for op's call, if any. s.mu must be held.
func (s *Server) takeFault(op string) (Fault, bool) {
	p := s.faults[op]
	if p == nil || p.times == 0 {
		return Fault{}, false
	}
	if p.times > 0 {
		p.times--
	}
	return p.fault, true
}

// signature is the key id and region in a SigV4 Authorization header:
// AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/codepipeline/aws4_request, ...
func signature(r *http.Request) (key, region string) {
	_, rest, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) >= 3 {
		return parts[0], parts[2]
	}
	return parts[0], ""
}

// writeError is an error in the JSON protocols' shape, which the SDK turns into the
// modelled error type named by __type.
func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

// writeQueryError is an error in the Query protocol's XML shape (STS).
func writeQueryError(w http.ResponseWriter, f Fault) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(f.Status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`,
		html.EscapeString(f.Code), html.EscapeString(f.Message))
}
