package sandbox

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/platform-eng/pathtoprod/apps/ship/internal/ship"
	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
)

// Var is one environment variable ship needs to use the sandbox.
type Var struct {
	Name string
	// Value "" means the variable must be unset.
	Value string
}

// Env is the environment ship needs, in the order WriteInstructions prints it: the SDK
// pointed at the fake and at the sandbox's own config and credentials files (a profile per
// environment, see ShipFlags), no instance metadata service, the service and the
// organisation file named. Variables a user's shell may carry that would take ship
// elsewhere are emptied: static keys, an AWS profile, a session token.
func (sb *Sandbox) Env() []Var {
	return []Var{
		{"AWS_ENDPOINT_URL", sb.URL},
		{"AWS_CONFIG_FILE", sb.AWSConfig},
		{"AWS_SHARED_CREDENTIALS_FILE", sb.AWSCredentials},
		// ship takes each environment's region from the organisation; this one is for
		// anything else run in the same shell (the aws CLI, say).
		{"AWS_REGION", sb.Path.Environments[0].Region},
		{"AWS_EC2_METADATA_DISABLED", "true"},
		{ship.EnvPath, sb.Path.Team + "/" + sb.Path.Name},
		{ship.EnvConfig, sb.Config},
		{"AWS_ACCESS_KEY_ID", ""},
		{"AWS_SECRET_ACCESS_KEY", ""},
		{"AWS_PROFILE", ""},
		{"AWS_DEFAULT_PROFILE", ""},
		{"AWS_SESSION_TOKEN", ""},
	}
}

// Step is one command of the tour: Prog is "ship" or "sandbox" (the printed shell
// functions) or "git", Args its arguments, Note what it shows, Exit the exit code it ends
// with.
type Step struct {
	Prog, Args, Note string
	Exit             int
}

// Line is the step as the instructions print it, without its note.
func (s Step) Line() string { return s.Prog + " " + s.Args }

// Tour is the sequence of commands the instructions suggest, with what each shows: a
// promotion to prd that waits for sign-off, a rollback queued behind it, the approval
// rejected (the rollback's run moves up) and then approved; then a new commit whose deploy
// sets stg's alarm off during the bake (CodePipeline rolls it back, followed with --wait),
// and a prd approval read and given with ship approve, its run followed to the end; last,
// the delivery metrics of all that, as ship metrics' table and as ship report's HTML file.
var Tour = []Step{
	{"ship", "status", "", 0},
	{"ship", "promote stg", "dev's newest success", 0},
	{"ship", "promote prd", "its run waits for sign-off", 0},
	{"ship", "status", "prd: who may approve; nothing to promote", 0},
	{"ship", "promote prd", "nothing to push: the run waits for approval", 0},
	{"ship", "rollback prd", "queued behind the pending approval", 0},
	{"ship", "status", "prd: one run at the approval, one queued", 0},
	{"sandbox", "reject prd", "that run fails; the rollback's run moves up", 0},
	{"sandbox", "approve prd", "the sign-off: the rollback deploys", 0},
	{"ship", "history prd", "", 0},
	{"git", "push dev main", "change 5: dev builds and deploys it", 0},
	{"ship", "promote stg --wait", "stg's alarm fires in the bake: CodePipeline rolls back to change 4 (exit 1)", 1},
	{"ship", "status", "stg: change 4 runs by that rollback; change 5 stays on the branch", 0},
	{"ship", "promote prd", "change 4, what stg runs: it waits for sign-off", 0},
	{"ship", "approve prd --wait", "the plan and the guard's check; y approves, as prd's approver role; followed to the end", 0},
	{"ship", "history prd", "", 0},
	{"ship", "metrics", "the four keys per environment: stg's rolled-back change 5 is a failure, restored", 0},
	{"ship", "report -o report.html", "the same as one HTML file of charts; open it in a browser", 0},
}

// Programs are the shell commands the printed functions run, each followed by arguments:
// Ship runs ship, Sandbox this sandbox program (for approve and reject). GoBuild makes
// one that builds from the repository first.
type Programs struct{ Ship, Sandbox string }

// GoBuild is a shell command that builds the Go package pkg of the module at root into bin
// (a no-op when it is up to date) and then runs bin with whatever follows. Running the
// binary, not go run, keeps the program's own exit code: go run exits 1 for any failure.
func GoBuild(root, pkg, bin string) string {
	return fmt.Sprintf("go -C %s build -o %s %s && %s", ShellQuote(root), ShellQuote(bin), pkg, ShellQuote(bin))
}

// ShellSetup is the lines that prepare a shell for the tour: into the clone, the
// environment, and the functions ship and sandbox, which pass on the programs' exit codes.
func (sb *Sandbox) ShellSetup(p Programs) []string {
	var set, unset []string
	for _, v := range sb.Env() {
		if v.Value == "" {
			unset = append(unset, v.Name)
		} else {
			set = append(set, v.Name+"="+ShellQuote(v.Value))
		}
	}
	return []string{
		"cd " + ShellQuote(sb.Clone),
		"export " + strings.Join(set, " "),
		"unset " + strings.Join(unset, " "),
		fmt.Sprintf("ship() { %s -C \"$PWD\" %s \"$@\"; }", p.Ship, strings.Join(sb.ShipFlags(), " ")),
		fmt.Sprintf("sandbox() { %s \"$@\"; }", p.Sandbox),
	}
}

// WriteInstructions prints what the sandbox is, the shell lines that drive it (ShellSetup)
// and the tour.
func (sb *Sandbox) WriteInstructions(w io.Writer, p Programs) {
	fmt.Fprintf(w, "ship sandbox: a LOCAL test double of CodePipeline and STS at %s. This is not AWS:\n", sb.URL)
	fmt.Fprintf(w, "nothing here reaches an AWS account. The git remotes are bare repositories in %s:\n\n", sb.Dir)
	for _, e := range sb.Path.Environments {
		runs := "each push runs through its stages at once"
		if e.NeedsApproval() {
			runs = "each push runs its guard and plan, then waits for approval, in push order (QUEUED)"
		}
		fmt.Fprintf(w, "  %-4s %s.git at %s, pipeline %s: %s\n", e.Name, e.Name, sb.describeHead(e.Name), sb.Path.PipelineName(e.Name), runs)
	}
	fmt.Fprintf(w, "\nScripted: stg's alarm %s goes into ALARM during the bake of change %d, so\n",
		sb.Path.HealthAlarmName("stg"), AlarmCommit)
	fmt.Fprintf(w, "CodePipeline rolls that deploy back. Deployment windows are not simulated: deploys start at once.\n")
	fmt.Fprintf(w, "\nThe organisation is the embedded example, written to %s (ship refuses to act on\n", sb.Config)
	fmt.Fprintf(w, "the embedded one unless told to); each environment has its own AWS profile, sandbox-<env>.\n")
	fmt.Fprintf(w, "\nPaste into another shell (the first ship and sandbox compile them):\n\n")
	for _, l := range sb.ShellSetup(p) {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w)
	for _, l := range TourLines() {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintf(w, "\nDeveloper sandboxes (ship sandbox): the organisation file gives %s/%s\n%s; %s's sandbox table has a colleague's, %s, live. No sandbox\n",
		sb.Path.Team, sb.Path.Name, sandboxesBlock(sb.Path), sb.Path.Environments[0].Name, Colleague)
	fmt.Fprintf(w, "controller runs here: a sandbox you push stays \"unseen\".\n\n")
	for _, c := range SandboxSteps {
		fmt.Fprintf(w, "%-24s # %s\n", c.Line(), c.Note)
	}
	fmt.Fprintln(w)
}

// TourLines are the lines the instructions print for the Tour, each command with its note,
// the notes lined up after the longest command that has one.
func TourLines() []string {
	width := 0
	for _, c := range Tour {
		if c.Note != "" {
			width = max(width, len(c.Line()))
		}
	}
	var lines []string
	for _, c := range Tour {
		line := c.Line()
		if c.Note != "" {
			line = fmt.Sprintf("%-*s # %s", width, line, c.Note)
		}
		lines = append(lines, line)
	}
	return lines
}

// SandboxSteps are the developer-sandbox commands the instructions suggest after the tour.
var SandboxSteps = []Step{
	{"ship", "sandbox list", Colleague + "'s sandbox, live", 0},
	{"ship", "sandbox up mine", "HEAD to branch sandbox/mine of dev", 0},
	{"ship", "sandbox list", "mine: unseen (no controller here)", 0},
	{"ship", "sandbox down mine", "deletes the branch", 0},
}

// describeHead is "<short id> (change N)", the commit env's branch was given at start.
func (sb *Sandbox) describeHead(env string) string {
	n := sb.initial[env]
	return fmt.Sprintf("%s (change %d)", gate.Short(sb.Commits[n-1]), n)
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+-]+$`)

// shellQuote quotes s for a POSIX shell unless it needs none.
func ShellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
