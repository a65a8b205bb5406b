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
// the run that push would have started, newest first in the repo's pipeline. The pipelines
// run in QUEUED mode, as the path's pipelines do (envpipeline's default):
//   - without approval, a Succeeded run of the new commit: the pipeline ran, instantly;
//   - with approval, an InProgress run. The first one reaches the Approval stage, whose
//     SignOff action waits with a token (a pending approval); a run pushed while another
//     waits there is queued: InProgress too (CodePipeline has no "Queued" execution
//     status), with only its Source stage done, listed in the Approval stage's inbound
//     executions. Nothing is superseded.
//
// PutApprovalResult answers the waiting approval: Approved deploys that run and it
// Succeeds, Rejected makes it Fail; then the oldest queued run enters the Approval stage
// and waits in turn. RollBack records a stage rollback. GetPipelineState shows each stage's
// latest execution, and the queued runs, at every step.
//
// A deleted branch records nothing. The heads as they are when Watch is called are taken
// as already run: seed their history with SetRuns before, and Watch shows the seeded
// newest run, if it succeeded, in every stage (replacing a SetState). A pipeline not set
// yet is created empty. Watch fails if a repository cannot be read.
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
		lp := &livePipeline{repo: r.Repo,
			source:   Stage{Name: org.SourceStageName, Actions: []Action{{Name: org.SourceActionName}}},
			approval: Stage{Name: ApprovalStage, Actions: []Action{{Name: ApprovalAction}}},
			deploy:   Stage{Name: DeployStage, Actions: []Action{{Name: DeployAction}}},
		}
		// The seeded history's newest run, if it succeeded, is what every stage last ran.
		if runs := s.runs[r.Pipeline]; len(runs) > 0 && runs[0].Status == "Succeeded" {
			at := runs[0].At
			lp.source = stage(org.SourceStageName, org.SourceActionName, runs[0].ID, "Succeeded", at)
			lp.approval = stage(ApprovalStage, ApprovalAction, runs[0].ID, "Succeeded", at)
			lp.deploy = stage(DeployStage, DeployAction, runs[0].ID, "Succeeded", at)
		}
		s.live[r.Pipeline] = lp
		s.publish(lp)
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

// livePipeline is what the live mode knows of one watched pipeline beyond its runs: the
// run holding the Approval stage, the runs queued behind it, and the stages as
// GetPipelineState shows them.
type livePipeline struct {
	repo     Repo
	active   string   // the run waiting at the approval, "" if none
	queue    []string // runs waiting to enter the Approval stage, oldest first
	source   Stage
	approval Stage
	deploy   Stage
}

// publish makes the stages what GetPipelineState answers. s.mu must be held.
func (s *Server) publish(lp *livePipeline) {
	stages := []Stage{lp.source}
	if lp.repo.Approval {
		lp.approval.Inbound = append([]string(nil), lp.queue...)
		stages = append(stages, lp.approval)
	}
	s.states[lp.repo.Pipeline] = append(stages, lp.deploy)
}

// record adds the run a push of commit to r's branch starts, and the pipeline state it leaves.
func (s *Server) record(r Repo, commit string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lp := s.live[r.Pipeline]
	now := s.now()
	run := Run{ID: s.nextID(r.Pipeline, r.Env), Commit: commit, Status: "Succeeded", At: now, Started: now}
	lp.source = stage(org.SourceStageName, org.SourceActionName, run.ID, "Succeeded", now)
	if !r.Approval {
		s.runs[r.Pipeline] = append([]Run{run}, s.runs[r.Pipeline]...)
		lp.deploy = stage(DeployStage, DeployAction, run.ID, "Succeeded", now)
		s.publish(lp)
		return
	}
	run.Status = "InProgress"
	s.runs[r.Pipeline] = append([]Run{run}, s.runs[r.Pipeline]...)
	if lp.active == "" {
		s.startApproval(lp, run.ID, now)
	} else {
		lp.queue = append(lp.queue, run.ID)
	}
	s.publish(lp)
}

// startApproval lets run id into the Approval stage, where it waits for an answer.
func (s *Server) startApproval(lp *livePipeline, id string, now time.Time) {
	lp.active = id
	lp.approval = stage(ApprovalStage, ApprovalAction, id, "InProgress", now)
	lp.approval.Actions[0].Token = ApprovalToken(id)
	s.setRun(lp.repo.Pipeline, id, "InProgress", now)
}

// ApprovalToken is the token the live mode gives the approval a run waits at.
func ApprovalToken(execution string) string { return "approval-" + execution }

// The stages besides Source and Approval, and their one action, that the live mode shows.
const (
	DeployStage  = "Deploy"
	DeployAction = "Deploy"
)

func stage(name, action, execution, status string, at time.Time) Stage {
	return Stage{Name: name, Execution: execution, ExecutionStatus: status,
		Actions: []Action{{Name: action, Status: status, Changed: at}}}
}

// setRun sets the status and lastUpdateTime of one run. s.mu must be held.
func (s *Server) setRun(pipeline, id, status string, at time.Time) *Run {
	for i := range s.runs[pipeline] {
		if r := &s.runs[pipeline][i]; r.ID == id {
			r.Status, r.At = status, at
			return r
		}
	}
	return nil
}

// answer is PutApprovalResult: it checks the request as CodePipeline does and, for a
// watched pipeline, moves the waiting run on and lets the next queued run in. For a
// pipeline given by SetState it only records the answer on the action. s.mu must be held.
func (s *Server) answer(pipeline, stageName, actionName, token, status, summary string) *Fault {
	bad := func(code, msg string) *Fault { return &Fault{Status: 400, Code: code, Message: msg} }
	if status != "Approved" && status != "Rejected" {
		return bad("ValidationException", "1 validation error detected: Value '"+status+
			"' at 'result.status' failed to satisfy constraint: Member must satisfy enum value set: [Approved, Rejected]")
	}
	stages := s.states[pipeline]
	si := -1
	for i := range stages {
		if stages[i].Name == stageName {
			si = i
		}
	}
	if si < 0 {
		return bad("StageNotFoundException", "Stage "+stageName+" not found in pipeline "+pipeline)
	}
	ai := -1
	for i, a := range stages[si].Actions {
		if a.Name == actionName {
			ai = i
		}
	}
	if ai < 0 {
		return bad("ActionNotFoundException", "Action "+actionName+" not found in stage "+stageName+" of pipeline "+pipeline)
	}
	a := stages[si].Actions[ai]
	switch {
	case a.Status != "InProgress" || a.Token == "":
		return bad("ApprovalAlreadyCompletedException", "The approval action "+actionName+" in stage "+stageName+" has no pending approval request")
	case token != a.Token:
		return bad("InvalidApprovalTokenException", "The token "+token+" is not the token of the pending approval request")
	}
	now := s.now()
	outcome := map[string]string{"Approved": "Succeeded", "Rejected": "Failed"}[status]
	lp := s.live[pipeline]
	if lp == nil || !lp.repo.Approval || lp.active == "" {
		// A state set by SetState: record the answer, nothing runs.
		stages = append([]Stage(nil), stages...)
		stages[si].Actions = append([]Action(nil), stages[si].Actions...)
		stages[si].Actions[ai] = Action{Name: a.Name, Status: outcome, Changed: now, Summary: summary}
		s.states[pipeline] = stages
		return nil
	}
	id := lp.active
	lp.approval = stage(ApprovalStage, ApprovalAction, id, outcome, now)
	lp.approval.Actions[0].Summary = summary
	if outcome == "Succeeded" {
		lp.deploy = stage(DeployStage, DeployAction, id, "Succeeded", now)
	}
	s.setRun(pipeline, id, outcome, now)
	lp.active = ""
	if len(lp.queue) > 0 {
		next := lp.queue[0]
		lp.queue = lp.queue[1:]
		s.startApproval(lp, next, now)
	}
	s.publish(lp)
	return nil
}

// RollBack records what a CodePipeline V2 stage rollback of the Deploy stage records: a
// ROLLBACK execution that redeployed the commit of target, an earlier Succeeded execution,
// and Succeeded at once. The branch does not move, and a run waiting at the approval stays
// there (the rollback redeploys a stage, behind no approval). It returns the new run, and
// an error if target is not a Succeeded execution of the pipeline.
func (s *Server) RollBack(pipeline, target string) (Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var from *Run
	for i := range s.runs[pipeline] {
		if r := &s.runs[pipeline][i]; r.ID == target {
			from = r
		}
	}
	if from == nil || from.Status != "Succeeded" {
		return Run{}, fmt.Errorf("roll back %s: execution %q is not a Succeeded execution of it", pipeline, target)
	}
	prefix := pipeline
	lp := s.live[pipeline]
	if lp != nil {
		prefix = lp.repo.Env
	}
	now := s.now()
	run := Run{ID: s.nextID(pipeline, prefix), Commit: from.Commit, Status: "Succeeded", At: now, Started: now,
		Type: "ROLLBACK", RollbackTarget: target, SourceAction: from.SourceAction}
	s.runs[pipeline] = append([]Run{run}, s.runs[pipeline]...)
	if lp != nil {
		lp.deploy = stage(DeployStage, DeployAction, run.ID, "Succeeded", now)
		s.publish(lp)
	}
	return run, nil
}

// nextID is <prefix>-<n>, n one more than the pipeline's runs, or higher if that id is taken.
// s.mu must be held.
func (s *Server) nextID(pipeline, prefix string) string {
	taken := map[string]bool{}
	for _, x := range s.runs[pipeline] {
		taken[x.ID] = true
	}
	for n := len(s.runs[pipeline]) + 1; ; n++ {
		if id := fmt.Sprintf("%s-%d", prefix, n); !taken[id] {
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
