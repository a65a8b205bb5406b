package fakeaws

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// The approval stage and action of an environment pipeline, as envpipeline names them
// (StageApproval, ApprovalAction). Not imported: envpipeline is CDK code, and this
// package stays free of jsii so that its users' tests stay fast.
const (
	ApprovalStage  = "Approval"
	ApprovalAction = "SignOff"
)

// Repo is one environment's git repository, for Watch: a push to Branch starts Pipeline.
type Repo struct {
	// Env is the environment's name; the runs Watch records are called <Env>-<n>.
	Env string
	// Pipeline is the environment's pipeline, e.g. payments-checkout-stg.
	Pipeline string
	// GitDir is the repository, typically bare, e.g. /tmp/sandbox/stg.git.
	GitDir string
	// Branch whose pushes start the pipeline. Default: main.
	Branch string
	// Approval says the pipeline waits for a person's sign-off before it deploys.
	// Default: - no approval; a push deploys at once.
	Approval bool
}

// ReposFor describes a path's environments for Watch: their pipelines, branches and
// approvals as the organisation defines them, with gitDir[env] each one's repository.
func ReposFor(p org.Path, gitDir map[string]string) []Repo {
	var out []Repo
	for _, e := range p.Environments {
		out = append(out, Repo{Env: e.Name, Pipeline: p.PipelineName(e.Name), GitDir: gitDir[e.Name], Branch: e.Branch,
			Approval: e.NeedsApproval()})
	}
	return out
}

type watchedRepo struct {
	Repo
	head string // the branch head last seen ("" while the branch does not exist)
}

// Watch turns on the live mode: before answering each request the fake reads the branch
// head of every repo (git rev-parse), and when one moved since it last looked, it records
// the run that push would have started, newest first in the repo's pipeline:
//   - without approval, a Succeeded run of the new commit: the pipeline ran, instantly;
//   - with approval, an InProgress run whose state shows the Approval stage's SignOff
//     action waiting, with a token (a pending approval); an earlier run still waiting is
//     Superseded, as CodePipeline does when a newer run reaches the stage.
//
// A deleted branch records nothing. The heads as they are when Watch is called are taken
// as already run: seed their history with SetRuns. A pipeline not set yet is created empty.
// Watch fails if a repository cannot be read.
func (s *Server) Watch(ctx context.Context, repos ...Repo) error {
	var ws []watchedRepo
	for _, r := range repos {
		if r.Branch == "" {
			r.Branch = org.DefaultBranch
		}
		head, err := branchHead(ctx, r)
		if err != nil {
			return err
		}
		ws = append(ws, watchedRepo{Repo: r, head: head})
	}
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range ws {
		if _, ok := s.runs[r.Pipeline]; !ok {
			s.runs[r.Pipeline] = nil
		}
	}
	s.watched = append(s.watched, ws...)
	return nil
}

// poll records a run for every watched branch that moved. Without Watch it does nothing.
func (s *Server) poll(ctx context.Context) error {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	for i := range s.watched {
		r := &s.watched[i]
		head, err := branchHead(ctx, r.Repo)
		if err != nil {
			return err
		}
		if head == r.head {
			continue
		}
		r.head = head
		if head != "" {
			s.record(r.Repo, head)
		}
	}
	return nil
}

// record adds the run a push of commit to r's branch starts, and the pipeline state it leaves.
func (s *Server) record(r Repo, commit string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	runs := s.runs[r.Pipeline]
	run := Run{ID: s.nextID(r), Commit: commit, Status: "Succeeded", At: now, Started: now}
	source := Stage{Name: "Source", Actions: []Action{{Name: "Source", Status: "Succeeded", Changed: now}}}
	if !r.Approval {
		s.runs[r.Pipeline] = append([]Run{run}, runs...)
		s.states[r.Pipeline] = []Stage{source, {Name: "Deploy", Actions: []Action{{Name: "Deploy", Status: "Succeeded", Changed: now}}}}
		return
	}
	run.Status = "InProgress"
	for i := range runs {
		if runs[i].Status == "InProgress" {
			runs[i].Status, runs[i].At = "Superseded", now
		}
	}
	s.runs[r.Pipeline] = append([]Run{run}, runs...)
	s.states[r.Pipeline] = []Stage{
		source,
		{Name: ApprovalStage, Actions: []Action{{Name: ApprovalAction, Status: "InProgress", Token: "approval-" + run.ID, Changed: now}}},
		{Name: "Deploy", Actions: []Action{{Name: "Deploy"}}},
	}
}

// nextID is <env>-<n>, n one more than the pipeline's runs, or higher if that id is taken.
func (s *Server) nextID(r Repo) string {
	taken := map[string]bool{}
	for _, x := range s.runs[r.Pipeline] {
		taken[x.ID] = true
	}
	for n := len(s.runs[r.Pipeline]) + 1; ; n++ {
		if id := fmt.Sprintf("%s-%d", r.Env, n); !taken[id] {
			return id
		}
	}
}

// branchHead is the commit r's branch points at, "" if the branch does not exist.
func branchHead(ctx context.Context, r Repo) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "--git-dir", r.GitDir, "rev-parse", "--verify", "--quiet", "refs/heads/"+r.Branch+"^{commit}")
	// Only the repository's own config: a user's or system config has no say in what a
	// branch points at, and an odd one (safe.directory, includes) must not break the fake.
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull)
	out, err := cmd.Output()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return strings.TrimSpace(string(out)), nil
	case errors.As(err, &exit) && exit.ExitCode() == 1 && ctx.Err() == nil:
		// --verify --quiet exits 1, silently, for a ref that does not exist.
		return "", nil
	default:
		return "", fmt.Errorf("read branch %s of %s's repository %s: %w", r.Branch, r.Env, r.GitDir, err)
	}
}
