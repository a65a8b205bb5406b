package envpipeline

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// The SecretsScan runs in the first environment (the one without an upstream) right after
// the Source: Source → SecretsScan → [Plan → Approval] → Build → Deploy. It scans the pushed
// commit's files (the source artifact is the tree at the commit, without .git) with gitleaks,
// and a finding stops the run before anything is built, pushed to the registry or deployed:
// a secret that reaches an image is promoted with it to every environment.
//
// It is a gate: nothing may run the pushed commit before it (AddStep refuses, synthesis
// fails), Stage and StepRole do not hand it out, and its role may only write its logs and
// read the source artifact; synthesis fails if that role gained a permission. The rules are
// the platform's: gitleaks' default rules, from a configuration the step writes itself, so a
// .gitleaks.toml in the repository can neither replace nor weaken them. The only ways to
// accept a finding are in the commit, and so reviewed like code: its fingerprint in
// .gitleaksignore at the repository root, or a gitleaks:allow comment on its line.

// SecretsScanAction is the name of the one action of StageSecretsScan.
const SecretsScanAction = "SecretsScan"

// The pinned gitleaks: the module the scan installs, and its version.
const (
	GitleaksModule  = "github.com/zricethezav/gitleaks/v8"
	GitleaksVersion = "v8.28.0"
)

// SecretsScanFindingsExit is the exit status gitleaks is told to use when it found a secret,
// so the scan tells a finding from gitleaks failing (which exits 1).
const SecretsScanFindingsExit = 42

// goInstall is the command that installs the pinned version of a Go command into "$dir": go
// install, not a downloaded release binary, because the go command verifies every module it
// fetches (the tool's and its dependencies') against the Go checksum database, so the bytes
// built are the ones published under that version. The build image's Go may be older than
// the tool needs: GOTOOLCHAIN=auto fetches the toolchain its go.mod asks for, verified the
// same way. The variables that would weaken the verification or change the build (GOFLAGS,
// GONOSUMDB, GOSUMDB=off, GOINSECURE, GOPRIVATE, from the pipeline's EnvironmentVariables
// say) are reset, and it runs in the tools directory, outside the commit's tree, so no
// go.mod or go.work of the commit takes part.
//
// With cache set, the go command keeps its module and build caches there (GOMODCACHE,
// GOCACHE): a directory the step's project caches between builds.
func goInstall(dir, pkg, version, cache string) string {
	caches := ""
	if cache != "" {
		caches = `GOMODCACHE="` + cache + `/mod" GOCACHE="` + cache + `/build" `
	}
	return `(cd "` + dir + `" && GOBIN="` + dir + `" GOTOOLCHAIN=auto GOFLAGS= GOSUMDB=sum.golang.org GONOSUMDB= GONOSUMCHECK= GOINSECURE= GOPRIVATE= ` +
		caches + `go install ` + pkg + `@` + version + `)`
}

// SecretsScanCache is the directory of the go command's caches in the SecretsScan step, which
// CodeBuild keeps on the build host between the step's builds (best effort): a scan soon after
// another does not download and compile gitleaks again. The step runs none of the commit's
// code (gitleaks only reads its files), so nothing of a commit can enter the cache; the Build
// step, which runs the commit's code, has no cache for that reason.
const SecretsScanCache = "/root/.cache/pathtoprod-secrets-scan"

// SecretsScanCommands are the SecretsScan step's commands: make a tools directory outside the
// source tree, install the pinned gitleaks there (see goInstall), then SecretsScanCommand.
var SecretsScanCommands = []string{
	`export SECRETS_SCAN_TOOLS="$(mktemp -d)"`,
	goInstall("$SECRETS_SCAN_TOOLS", GitleaksModule, GitleaksVersion, SecretsScanCache),
	SecretsScanCommand,
}

// SecretsScanCommand scans the working directory, the pushed commit's files, with
// "$SECRETS_SCAN_TOOLS/gitleaks". It prints one line per finding, sorted:
//
//	config/prod.env:3: aws-access-token: Identified a pattern that may indicate AWS credentials, … (fingerprint for .gitleaksignore: config/prod.env:aws-access-token:3)
//
// and then what to do, and fails; with no finding it says so and succeeds. The secret itself
// is never printed (--redact, and the lines name only the file, line, rule and fingerprint).
// A gitleaks that fails without a finding fails the step too: an unscanned commit is not
// built. Written in bash (the steps' shell), with the findings formatted by gitleaks' own
// report template, so nothing beyond gitleaks and coreutils is needed here or on a laptop.
var SecretsScanCommand = `bash -s -- "$SECRETS_SCAN_TOOLS/gitleaks" <<'SECRETS_SCAN_SCRIPT'
` + secretsScanScript + `SECRETS_SCAN_SCRIPT`

var secretsScanScript = `set -u
gitleaks="$1" work="$(mktemp -d)" commit="${COMMIT_ID:-the pushed commit}"
# The platform's rules, whatever the repository holds: gitleaks reads <source>/.gitleaks.toml
# only when no --config is given.
printf '[extend]\nuseDefault = true\n' > "$work/config.toml"
printf '%s\n' '{{range .}}{{.File}}:{{.StartLine}}: {{.RuleID}}: {{.Description}} (fingerprint for .gitleaksignore: {{.Fingerprint}})' '{{end}}' > "$work/findings.tmpl"
"$gitleaks" dir . --config "$work/config.toml" --redact --no-banner --no-color --log-level info \
  --exit-code ` + strconv.Itoa(SecretsScanFindingsExit) + ` --report-format template --report-template "$work/findings.tmpl" --report-path "$work/findings.txt"
status=$?
if [ "$status" -eq 0 ]; then
  echo "SecretsScan: no secrets found in $commit."
  exit 0
fi
if [ "$status" -ne ` + strconv.Itoa(SecretsScanFindingsExit) + ` ]; then
  echo "SecretsScan FAILED: gitleaks exited with status $status without a verdict (see its messages above); $commit is not built unscanned."
  exit 1
fi
findings="$(grep -c . "$work/findings.txt" || true)"
echo "SecretsScan FAILED: $findings possible secret(s) in $commit (each line: file:line: rule: description, and its fingerprint):"
LC_ALL=C sort "$work/findings.txt" | grep . | sed 's/^/  /'
echo "The run stops here: nothing of $commit is built, pushed or deployed."
echo "A real secret: remove it and rotate it (it stays in the repository's history)."
echo "A false positive: add its fingerprint as a line of .gitleaksignore at the repository root, or put a"
echo "gitleaks:allow comment on its line, and push that commit; it is reviewed like any other change."
exit 1
`

// addSecretsScan adds the SecretsScan stage, right after the Source, with its own role that
// only the step's own grants reach (its logs, the source artifact).
func (p *envPipeline) addSecretsScan() {
	role := awsiam.NewRole(p, jsii.String(StageSecretsScan+"Role"), &awsiam.RoleProps{
		Description: jsii.String("SecretsScan step of pipeline " + p.s.pipeline + ": may only write its logs and read the source"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("codebuild.amazonaws.com"), nil),
	})
	p.gateRoles[StageSecretsScan] = &gateRole{
		role: role,
		grant: "the SecretsScan reads the pushed commit's files before anything is built, so its role may only " +
			"write its logs and read the source; grant nothing to it",
		managed: "the SecretsScan reads the pushed commit's files before anything is built, so its role may only " +
			"write its logs and read the source",
	}
	p.addStep(step{name: StageSecretsScan, commands: SecretsScanCommands, role: role, cache: []string{SecretsScanCache}})
}
