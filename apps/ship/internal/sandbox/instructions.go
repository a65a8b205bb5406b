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

// Tour is the sequence of ship commands the instructions suggest, with what each shows.
var Tour = []struct{ Args, Note string }{
	{"status", ""},
	{"promote stg", ""},
	{"promote prd", ""},
	{"status", "prd waits for approval"},
	{"rollback stg", ""},
	{"history stg", ""},
}

// WriteInstructions prints what the sandbox is and the shell lines that drive it with
// ship. shipCommand runs ship, e.g. "go -C /src/pathtoprod run ./apps/ship"; the lines
// wrap it in a shell function ship that passes the clone as -C.
func (sb *Sandbox) WriteInstructions(w io.Writer, shipCommand string) {
	fmt.Fprintf(w, "ship sandbox: a LOCAL test double of CodePipeline and STS at %s. This is not AWS:\n", sb.URL)
	fmt.Fprintf(w, "nothing here reaches an AWS account. The git remotes are bare repositories in %s:\n\n", sb.Dir)
	for _, e := range sb.Path.Environments {
		runs := "each push runs and succeeds at once"
		if e.NeedsApproval() {
			runs = "each push runs and waits for approval"
		}
		fmt.Fprintf(w, "  %-4s %s.git at %s, pipeline %s: %s\n", e.Name, e.Name, sb.describeHead(e.Name), sb.Path.PipelineName(e.Name), runs)
	}
	fmt.Fprintf(w, "\nPaste into another shell (the first ship compiles it):\n\n")
	fmt.Fprintf(w, "cd %s\n", ShellQuote(sb.Clone))
	var set, unset []string
	for _, v := range sb.Env() {
		if v.Value == "" {
			unset = append(unset, v.Name)
		} else {
			set = append(set, v.Name+"="+ShellQuote(v.Value))
		}
	}
	fmt.Fprintf(w, "export %s\n", strings.Join(set, " "))
	fmt.Fprintf(w, "unset %s\n", strings.Join(unset, " "))
	fmt.Fprintf(w, "ship() { %s -C \"$PWD\" %s \"$@\"; }\n", shipCommand, strings.Join(sb.ShipFlags(), " "))
	for _, c := range Tour {
		line := "ship " + c.Args
		if c.Note != "" {
			line = fmt.Sprintf("%-20s # %s", line, c.Note)
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w)
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
