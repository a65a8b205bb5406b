package test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeCommands are the command lines of the README's ```sh blocks (indented ones too),
// with comments dropped and continued lines joined. ```text blocks are output or
// transcripts, covered where they say.
func readmeCommands(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds []string
	in, cont := false, ""
	comment := regexp.MustCompile(`\s+#.*$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case !in && line == "```sh":
			in = true
		case in && line == "```":
			in = false
		case in:
			line = strings.TrimSpace(comment.ReplaceAllString(line, ""))
			if strings.HasSuffix(line, `\`) {
				cont += strings.TrimSuffix(line, `\`) + " "
				continue
			}
			if line = strings.TrimSpace(cont + line); line != "" {
				cmds = append(cmds, line)
			}
			cont = ""
		}
	}
	if len(cmds) < 10 {
		t.Fatalf("found only %d commands in the README's sh blocks: %q", len(cmds), cmds)
	}
	return cmds
}

// readmeCoverage says, for every command the README shows, what runs it: a test (by
// name; the test must exist), "CI: <what .ci/run must contain>", or why it cannot run here.
var readmeCoverage = []struct {
	command *regexp.Regexp
	by      string
}{
	{regexp.MustCompile(`^git push (dev|stg|prd) `), "TestWatchRecordsTheRunEachPushStarts"},
	{regexp.MustCompile(`^make synth$`), "TestREADMECommandsRun"},
	{regexp.MustCompile(`^make test$`), "CI: make test"},
	{regexp.MustCompile(`^pipx install cfn-lint==`), "not here: PyPI is not reachable from this machine, whose image carries cfn-lint"},
	{regexp.MustCompile(`^make lint$`), "TestREADMECommandsRun"},
	{regexp.MustCompile(`^make golden$`), "TestGoldenTemplates"},
	{regexp.MustCompile(`^make bench$`), "TestREADMECommandsRun"},
	{regexp.MustCompile(`^npx cdk synth --quiet -c config=organization.yaml( -c account=\d{12})?$`), "TestREADMECommandsRun"},
	{regexp.MustCompile(`^npx cdk bootstrap `), "not here: it needs AWS accounts"},
	{regexp.MustCompile(`^aws codepipeline override-stage-condition `), "not here: it needs an AWS account; the approver role's grant of it is asserted in TestOnlyTheApproverMayApprove"},
	{regexp.MustCompile(`^go build -o ~/bin/ship ./apps/ship$`), "TestREADMECommandsRun"},
	{regexp.MustCompile(`^cd ~/src/checkout$`), "TestTheTourTheInstructionsSuggest"},
	{regexp.MustCompile(`^export SHIP_CONFIG=`), "TestTheTourTheInstructionsSuggest"},
	{regexp.MustCompile(`^ship status$`), "TestStatusShowsDeployedLatestApprovalAndWaitingCommits"},
	{regexp.MustCompile(`^ship promote stg$`), "TestPromoteWithoutCommitTakesUpstreamsNewestSuccess"},
	{regexp.MustCompile(`^ship promote prd [0-9a-f]+$`), "TestPromoteNamedCommitThatPassedPushesExactlyIt"},
	{regexp.MustCompile(`^ship rollback prd$`), "TestRollbackPushesThePreviousSuccessfulCommit"},
	{regexp.MustCompile(`^ship history prd$`), "TestHistoryListsRecentRunsNewestFirst"},
	{regexp.MustCompile(`^ship status --json( \| jq .*)?$`), "TestStatusJSON"},
	{regexp.MustCompile(`^ship history prd --json$`), "TestHistoryJSON"},
	{regexp.MustCompile(`^ship help (promote|rollback|status|history)$`), "TestEachCommandHasItsOwnHelp"},
	{regexp.MustCompile(`^ship help sbom$`), "TestEachCommandHasItsOwnHelp"},
	{regexp.MustCompile(`^ship sbom (dev|stg|prd)( > \S+| \| jq .*)?$`), "TestSbomPrintsTheSbomOfTheImageTheEnvironmentRuns"},
	{regexp.MustCompile(`^ship sbom (dev|stg|prd) -o \S+$`), "TestSbomWritesToAFileAndSaysWhatItWrote"},
	{regexp.MustCompile(`^go install github\.com/zricethezav/gitleaks/v8@v8\.28\.0$`), "CI: make test"},
	{regexp.MustCompile(`^gitleaks dir \. --redact --no-banner( -v)?$`), "TestSecretsScanStopsACommitWithASecretAndNothingElse"},
	{regexp.MustCompile(`^ship promote (stg|prd) --wait$`), "TestPromoteWaitFollowsTheRunToSuccess"},
	{regexp.MustCompile(`^ship rollback (stg|prd) --wait$`), "TestRollbackWaitSaysWhatItWaitsFor"},
	{regexp.MustCompile(`^ship approve prd( --reason "[^"]*")?$`), "TestApproveShowsThePlanAndAnswersAsTheApproverRole"},
	{regexp.MustCompile(`^ship approve prd --wait$`), "TestApproveWaitFollowsTheRunToItsEnd"},
	{regexp.MustCompile(`^ship reject prd --reason "[^"]+"$`), "TestRejectNeedsAReasonAndRecordsIt"},
	{regexp.MustCompile(`^source <\(ship completion (bash|zsh)\)$`), "TestCompletion"},
	{regexp.MustCompile(`^go get github.com/platform-eng/pathtoprod@`), "TestConsumerModuleSynthesizesWithOnlyItsImport"},
	{regexp.MustCompile(`^go mod tidy$`), "TestConsumerModuleSynthesizesWithOnlyItsImport"},
	{regexp.MustCompile(`^PATH=\$PWD/node_modules/.bin:\$PATH go test ./test/ ./examples/\.\.\. -run 'Examples\|Config' -v$`), "CI: make test"},
	{regexp.MustCompile(`^ship metrics( --since 12w)?$`), "TestMetricsTableOfOnePath"},
	{regexp.MustCompile(`^ship metrics --json( \| jq .*)?$`), "TestMetricsJSONOfOnePath"},
	{regexp.MustCompile(`^ship metrics --all --role-name \S+$`), "TestMetricsRoleNameAndAccountKeys"},
	{regexp.MustCompile(`^ship report( --all)?( --role-name \S+)? -o \S+$`), "TestReportWritesWhatMetricsReadsIntoTheFile"},
	{regexp.MustCompile(`^ship help metrics$`), "TestEachCommandHasItsOwnHelp"},
	{regexp.MustCompile(`^make report-picture$`), "TestScreenshot"},
	{regexp.MustCompile(`^git remote add origin https://github\.com/\S+$`), "TestConnectionSourceShipsThroughItsOneRemote"},
	{regexp.MustCompile(`^ship sandbox up( [a-z][a-z0-9-]*)?( --commit [0-9a-f]+)?$`), "TestSandboxUpCreatesThenUpdatesTheBranch"},
	{regexp.MustCompile(`^ship sandbox list$`), "TestSandboxListJoinsTheBranchesAndTheTable"},
	{regexp.MustCompile(`^ship sandbox list --json( \| jq .*)?$`), "TestSandboxListJSON"},
	{regexp.MustCompile(`^ship sandbox down [a-z][a-z0-9-]*$`), "TestSandboxDownDeletesTheBranch"},
	{regexp.MustCompile(`^ship help sandbox( up| down| list)?$`), "TestSandboxHelpAndCompletion"},
	{regexp.MustCompile(`^aws sns subscribe `), "not here: it needs an AWS account; the messages' owner, sandbox and event attributes it filters on are asserted in TestNotificationsSayWhatWhyAndWhatToDo"},
	{regexp.MustCompile(`^apt-get install -y graphviz$`), "CI: apt-get install -y -qq graphviz"},
	{regexp.MustCompile(`^make synth && go run ./apps/diagram -assembly cdk.out -path payments-checkout -o apps/diagram/path.png$`), "TestREADMECommandsRun"},
}

// TestEveryREADMECommandIsRunByATestOrByCI: adding a command to the README without saying
// what runs it fails here, and so does naming a test that does not exist.
func TestEveryREADMECommandIsRunByATestOrByCI(t *testing.T) {
	tests := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || d.Name() == "cdk.out") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range regexp.MustCompile(`(?m)^func (Test\w+)\(`).FindAllStringSubmatch(string(b), -1) {
				tests[m[1]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile("../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range readmeCommands(t) {
		var by []string
		for _, c := range readmeCoverage {
			if c.command.MatchString(cmd) {
				by = append(by, c.by)
			}
		}
		switch {
		case len(by) != 1:
			t.Errorf("README command %q is covered by %d entries of readmeCoverage, want 1: say what runs it", cmd, len(by))
		case strings.HasPrefix(by[0], "CI: "):
			if want := strings.TrimPrefix(by[0], "CI: "); !strings.Contains(string(ci), want) {
				t.Errorf("README command %q is said to run in CI, but .ci/run does not contain %q", cmd, want)
			}
		case strings.HasPrefix(by[0], "not here:"):
		case !tests[by[0]]:
			t.Errorf("README command %q is said to be run by %s, which does not exist", cmd, by[0])
		}
	}
}

// TestREADMECommandsRun runs the README's local commands as a user would, from the
// repository root: make lint (so make synth), make bench (a smoke run), a per-account
// synthesis with the CDK CLI, the ship build and the diagram.
func TestREADMECommandsRun(t *testing.T) {
	tmp := t.TempDir()
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CDK_DEPLOY_ACCOUNT=")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		t.Logf("%s %s: %s", name, strings.Join(args, " "), time.Since(start).Round(100*time.Millisecond))
		return string(out)
	}
	run("make", "lint")
	if _, err := os.Stat("../cdk.out/payments-checkout-prd-pipeline.template.json"); err != nil {
		t.Errorf("make lint (make synth) left no template: %v", err)
	}
	run("make", "bench", "BENCH_FLAGS=-runs 1 -teams 1", "METRICS_BENCH_FLAGS=-benchtime=1x")
	// The README's file is the user's own organization.yaml; the default organisation stands in.
	out := run("npx", "cdk", "synth", "--quiet", "-c", "config=constructs/org/default-organization.yaml",
		"-c", "account=333333333333", "-o", filepath.Join(tmp, "cdk.out"))
	if strings.Count(out, "\n") > 5 {
		t.Errorf("--quiet printed %d lines:\n%s", strings.Count(out, "\n"), out)
	}
	if _, err := os.Stat(filepath.Join(tmp, "cdk.out", "payments-checkout-stg-pipeline.template.json")); err != nil {
		t.Errorf("the per-account synthesis wrote no stg template: %v", err)
	}
	run("go", "build", "-o", filepath.Join(tmp, "ship"), "./apps/ship")
	// The diagram: a PNG where Graphviz is installed (CI installs it), its DOT source otherwise.
	diagram := filepath.Join(tmp, "path.png")
	if _, err := exec.LookPath("dot"); err != nil {
		t.Log("Graphviz dot is not installed (apt-get install -y graphviz): drawing the DOT source only")
		diagram = filepath.Join(tmp, "path.dot")
	}
	run("go", "run", "./apps/diagram", "-assembly", "cdk.out", "-path", "payments-checkout", "-o", diagram)
	if st, err := os.Stat(diagram); err != nil || st.Size() == 0 {
		t.Errorf("the diagram %s was not written: %v", diagram, err)
	}
}
