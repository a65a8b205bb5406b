// Package lambdaruntime is a fake of the Lambda Runtime API for tests that start a packaged
// Lambda binary (the guard's, the dashboard's runs widget's): it hands the function one
// event, takes its answer, then holds the next poll open as a frozen sandbox would.
//
//	rt, srv := lambdaruntime.New(t, "req-1", "arn:aws:lambda:...:function:f", event)
//	ans, took, logs := lambdaruntime.Run(t, bin, rt, append(env, "AWS_LAMBDA_RUNTIME_API="+lambdaruntime.Address(srv)))
package lambdaruntime

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Invocation is one answer the function gave.
type Invocation struct {
	// ID is the request id answered ("" for an init error).
	ID string
	// Kind is "response", "error" or "init/error".
	Kind string
	Body []byte
}

// Runtime is the fake Runtime API.
type Runtime struct {
	event   []byte
	id, arn string
	once    sync.Once
	answers chan Invocation
}

// New serves a Runtime that hands out event as request id with function ARN arn; the
// server closes when the test ends.
func New(t testing.TB, id, arn string, event []byte) (*Runtime, *httptest.Server) {
	rt := &Runtime{event: event, id: id, arn: arn, answers: make(chan Invocation, 4)}
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	return rt, srv
}

// Address is the server's host:port, the form AWS_LAMBDA_RUNTIME_API takes.
func Address(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

// ServeHTTP implements the Runtime API's next, response, error and init/error calls.
func (rt *Runtime) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix = "/2018-06-01/runtime/invocation/"
	switch {
	case r.Method == http.MethodGet && r.URL.Path == prefix+"next":
		first := false
		rt.once.Do(func() { first = true })
		if !first { // a real runtime freezes the process here; hold until the test ends
			select {
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
			return
		}
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", rt.id)
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(20*time.Second).UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", rt.arn)
		w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
		w.Write(rt.event)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, prefix):
		id, kind, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, prefix), "/")
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		rt.answers <- Invocation{ID: id, Kind: kind, Body: body}
	case r.Method == http.MethodPost && r.URL.Path == "/2018-06-01/runtime/init/error":
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		rt.answers <- Invocation{Kind: "init/error", Body: body}
	default:
		http.NotFound(w, r)
	}
}

// Run starts bin with exactly env, waits (at most 15 s) for its answer to the one
// invocation, then kills it. It returns the answer, the time from start to answer, and
// what the process wrote. A process that exits or stays silent fails the test.
func Run(t testing.TB, bin string, rt *Runtime, env []string) (Invocation, time.Duration, string) {
	t.Helper()
	var out syncBuffer
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	exited := make(chan error, 1)
	go func() { _, err := cmd.Process.Wait(); exited <- err }()
	select {
	case a := <-rt.answers:
		return a, time.Since(start), out.String()
	case err := <-exited:
		t.Fatalf("%s exited before answering (%v):\n%s", bin, err, out.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("%s did not answer within 15s:\n%s", bin, out.String())
	}
	return Invocation{}, 0, ""
}

// syncBuffer is a bytes.Buffer safe to read while the process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
