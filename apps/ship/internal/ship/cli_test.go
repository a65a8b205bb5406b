package ship

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

func TestMissingCredentialsNameTheAccountAndHowToProvideThem(t *testing.T) {
	f := newFixture(t)
	f.flags = nil // the default chain only
	f.aws.SetRuns("payments-checkout-stg")
	// GIVEN no credentials in the environment, and empty AWS config and credentials files
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")

	start := time.Now()
	code, _, errOut := f.ship("history", "stg")

	if code != ExitFailed {
		t.Fatalf("exit %d, want %d", code, ExitFailed)
	}
	for _, want := range []string{
		"no usable AWS credentials for environment stg (account 333333333333, region eu-west-1)",
		"--profile stg=<profile>",
		"--role stg=arn:aws:iam::333333333333:role/<name>",
		"AWS_ACCESS_KEY_ID",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
		t.Errorf("stderr shows a panic")
	}
	if len(f.aws.Recorded()) != 0 {
		t.Errorf("an unsigned request was sent: %+v", f.aws.Recorded())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to notice missing credentials", d)
	}
}

func TestAProfileThatDoesNotExist(t *testing.T) {
	f := newFixture(t)
	f.flags = nil
	f.aws.SetRuns("payments-checkout-stg")

	code, _, errOut := f.ship("history", "stg", "--profile", "stg=nope")

	if code != ExitFailed {
		t.Fatalf("exit %d, want %d", code, ExitFailed)
	}
	for _, want := range []string{`AWS profile "nope" (--profile stg=nope)`, "account 333333333333", "does not exist", "AWS_CONFIG_FILE"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
}

func TestRejectedCredentialsAreExplained(t *testing.T) {
	f := newFixture(t)
	f.aws.SetRuns("payments-checkout-stg")
	f.aws.RejectAccessKey(keyStg)

	code, _, errOut := f.ship("history", "stg")

	if code != ExitFailed || !strings.Contains(errOut, "AWS rejected the credentials for environment stg (account 333333333333") ||
		!strings.Contains(errOut, "UnrecognizedClientException") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestRoleIsAssumedThroughSTSForThatEnvironmentOnly(t *testing.T) {
	f := newFixture(t)
	f.flags = nil // the default chain, and the role for stg
	f.pushTo("stg", 2)
	f.aws.SetRuns("payments-checkout-stg", run("stg-1", f.c(1), "Succeeded", mins(10)))
	f.aws.SetRuns("payments-checkout-prd", run("prd-1", f.c(1), "Succeeded", mins(20)))
	const role = "arn:aws:iam::333333333333:role/stg-reader"

	// WHEN prd is promoted with a role for stg (promote reads only the upstream, stg)
	code, _, _ := f.ship("promote", "prd", f.c(1), "--role", "stg="+role)

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if assumed := f.aws.AssumedRoles(); len(assumed) != 1 || assumed[0].Get("RoleArn") != role || !strings.HasPrefix(assumed[0].Get("RoleSessionName"), "ship") {
		t.Fatalf("AssumeRole calls %v, want one for %s", assumed, role)
	}
	// THEN the role is assumed with the default credentials, and everything after, the
	// account check included, is signed with the role's
	for _, c := range f.aws.Recorded() {
		switch c.Op {
		case "AssumeRole":
			if c.AccessKey != keyDefault {
				t.Errorf("AssumeRole signed with %s, want the default credentials", c.AccessKey)
			}
		case "GetCallerIdentity":
			if c.AccessKey != fakeaws.RoleAccessKey {
				t.Errorf("the account check used %s, want the role's credentials", c.AccessKey)
			}
		default:
			if c.Pipeline != "payments-checkout-stg" || c.AccessKey != fakeaws.RoleAccessKey {
				t.Errorf("call %+v, want stg's pipeline read with the role's credentials", c)
			}
		}
	}
	if f.branch("prd") != f.c(1) {
		t.Errorf("prd not pushed")
	}
}

// TestCredentialsOfAnotherAccountAreRefused: before ship reads an environment's pipeline
// it asks STS whose credentials it has; another account's are refused before any read.
func TestCredentialsOfAnotherAccountAreRefused(t *testing.T) {
	f := newFixture(t)
	f.pushTo("dev", 3)
	f.pushTo("stg", 2)
	f.aws.SetRuns("payments-checkout-dev", run("dev-3", f.c(3), "Succeeded", mins(30)))
	f.aws.SetRuns("payments-checkout-stg", run("stg-2", f.c(2), "Succeeded", mins(20)))
	f.aws.SetRuns("payments-checkout-prd")

	// WHEN stg is promoted with prd's profile given for dev, the account promote reads
	f.flags = []string{"--profile", "dev=prd"}
	code, _, errOut := f.ship("promote", "stg", f.c(3))

	// THEN ship refuses, naming both accounts and the flag to fix, and reads and pushes nothing
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d", code, ExitFailed)
	}
	want := `the credentials for environment dev (profile "prd" (--profile dev=prd)) belong to account 444444444444 (prd's account), ` +
		"not dev's account 222222222222; pass --profile dev=<profile for 222222222222> or --role dev=arn:aws:iam::222222222222:role/<name>"
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks\n  %s", want)
	}
	if calls := f.pipelineCalls(); len(calls) != 0 {
		t.Errorf("a pipeline was read with the wrong credentials: %+v", calls)
	}
	if f.branch("stg") != f.c(2) {
		t.Errorf("stg moved to %s", f.branch("stg"))
	}

	// AND the default chain in no environment's account is refused the same way
	f.flags = nil
	code, _, errOut = f.ship("history", "dev")
	if code != ExitFailed || !strings.Contains(errOut, "the credentials for environment dev (the default credential chain: AWS_ACCESS_KEY_ID, AWS_PROFILE, SSO or an instance role) belong to account 000000000000, not dev's account 222222222222") {
		t.Errorf("history with the default chain: exit %d, stderr %q", code, errOut)
	}

	// AND status reports the one environment whose credentials are wrong, and reads the others
	f.aws.ForgetCalls()
	f.flags = []string{"--profile", "dev=dev", "--profile", "stg=dev", "--profile", "prd=prd"}
	code, out, errOut := f.ship("status")
	if code != ExitFailed || !strings.Contains(errOut, "could not read stg") {
		t.Errorf("status: exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(section(t, out, "stg"), "belong to account 222222222222 (dev's account), not stg's account 333333333333") ||
		!strings.Contains(section(t, out, "dev"), "deployed   "+gate.Short(f.c(3))) {
		t.Errorf("status does not report stg's wrong account beside dev's deployment:\n%s", out)
	}
	for _, c := range f.pipelineCalls() {
		if c.Pipeline == "payments-checkout-stg" {
			t.Errorf("stg's pipeline was read with dev's credentials: %+v", c)
		}
	}
}

// TestEachEnvironmentsCredentialsAreCheckedOnce: status opens three accounts, and asks STS
// once for each, with that environment's own credentials, before reading its pipeline.
func TestEachEnvironmentsCredentialsAreCheckedOnce(t *testing.T) {
	f := newFixture(t)
	for _, env := range []string{"dev", "stg", "prd"} {
		f.pushTo(env, 1)
		f.aws.SetRuns("payments-checkout-"+env, run(env+"-1", f.c(1), "Succeeded", mins(10)))
	}

	code, _, _ := f.ship("status")

	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	var checks []string
	checked := map[string]bool{}
	for _, c := range f.aws.Recorded() {
		switch {
		case c.Op == "GetCallerIdentity":
			checks = append(checks, c.AccessKey)
			checked[c.AccessKey] = true
		case !checked[c.AccessKey]:
			t.Errorf("%s of %s before its credentials were checked", c.Op, c.Pipeline)
		}
	}
	if got := strings.Join(checks, " "); got != keyDev+" "+keyStg+" "+keyPrd {
		t.Errorf("GetCallerIdentity signed with %q, want once per environment, each with its own key", got)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no subcommand given"},
		{[]string{"deploy"}, `unknown subcommand "deploy"`},
		{[]string{"promote"}, "promote needs an environment"},
		{[]string{"history", "stg", "extra"}, "too many arguments for history"},
		{[]string{"status", "--limit", "5"}, "--limit applies only to history"},
		{[]string{"history", "stg", "--limit", "0"}, "--limit 0 is out of range (want 1 to 1000)"},
		// cobra's (pflag's) wording for an unknown flag, with the flags the command takes
		{[]string{"status", "--bogus"}, "unknown flag: --bogus (ship status takes --json and the global flags --config, -C, --example-org, --path, --profile, --remote, --role, --timeout)"},
		{[]string{"history", "stg", "--limit", "many"}, `invalid argument "many" for "--limit" flag`},
		{[]string{"--limit", "5", "status"}, "--limit applies only to history, not to status"},
		{[]string{"promote", "stg", "--json"}, "--json applies only to status, history, metrics or sandbox list, not to promote"},
		{[]string{"status", "-x"}, "unknown shorthand flag: 'x' in -x"},
		{[]string{"status", "--timeout", "0s"}, "--timeout 0s must be positive"},
		{[]string{"status", "extra"}, `too many arguments for status: ["extra"] (want ship status)`},
		{[]string{"promte", "stg"}, `unknown subcommand "promte" (want promote, rollback, approve, reject, status, history, sbom, metrics, report, sandbox or help); did you mean promote?`},
		{[]string{"status", "--remote", "stg"}, `invalid argument "stg" for "--remote" flag: want env=value, e.g. --remote stg=..., got "stg"`},
		{[]string{"status", "--profile", "qa=x"}, `--profile qa=x: path payments/checkout has no environment "qa" (known: dev, stg, prd)`},
		{[]string{"status", "--role", "stg=arn:aws:iam::444444444444:role/r"}, "the role is in account 444444444444, but stg is account 333333333333"},
		{[]string{"status", "--role", "stg=reader"}, "not a role ARN"},
		{[]string{"status", "--path", "payments/nope"}, `--path "payments/nope": no such service`},
		{[]string{"status", "--path", "payments"}, "want team/service"},
		{[]string{"status", "--config", "/nonexistent/org.yaml"}, "organisation file /nonexistent/org.yaml"},
		{[]string{"promote", "dev"}, "environment dev has no upstream"},
		{[]string{"history", "--", "-x"}, `argument "-x" looks like a flag`},
		// a global flag given empty is not the flag left out ($SHIP_PATH, $SHIP_CONFIG, .)
		{[]string{"status", "--path", ""}, "--path '': empty (want team/service, e.g. --path payments/checkout; leave the flag out to use $SHIP_PATH)"},
		{[]string{"--path=", "metrics"}, "--path '': empty (want team/service"},
		{[]string{"status", "--config="}, "--config '': empty (want the organisation file; leave the flag out to use $SHIP_CONFIG)"},
		{[]string{"history", "stg", "-C", ""}, "-C '': empty (want the service's git clone, a directory; leave the flag out for the current one)"},
		{[]string{"metrics", "--dir="}, "-C '': empty (want the service's git clone"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := f.ship(tc.args...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "ship help") {
				t.Errorf("stderr lacks %q and the pointer to ship help", tc.want)
			}
			if out != "" {
				t.Errorf("stdout not empty")
			}
		})
	}
	if calls := f.aws.Recorded(); len(calls) != 0 {
		t.Errorf("a usage error reached AWS: %+v", calls)
	}
}

func TestHelpPrintsTheReference(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		code, out, errOut := f.ship(args...)
		if code != ExitOK || errOut != "" {
			t.Errorf("ship %v: exit %d, stderr %q", args, code, errOut)
		}
		for _, want := range []string{"Usage:", "promote     push a commit that passed <env>'s upstream to <env>",
			"--force-with-lease", "--profile env=name", "AWS access:", "Exit codes: 0 done"} {
			if !strings.Contains(out, want) {
				t.Errorf("ship %v: stdout lacks %q:\n%s", args, want, out)
			}
		}
	}
	if len(f.aws.Recorded()) != 0 {
		t.Errorf("help reached AWS: %v", f.aws.Ops())
	}
}

// TestEachCommandHasItsOwnHelp: `ship promote --help`, `ship help promote` and -h print the
// command's own help (synopsis, description, examples, its flags and the global ones), on
// stdout, exit 0, and act on nothing.
func TestEachCommandHasItsOwnHelp(t *testing.T) {
	f := newFixture(t)
	f.pushTo("stg", 2)
	for cmd, wants := range map[string][]string{
		"promote":  {"ship promote <env> [commit] [flags]", "gate.FindPassed", "ship promote prd 1a2b3c4"},
		"rollback": {"ship rollback <env> [commit] [flags]", "--force-with-lease"},
		"status":   {"ship status [flags]", "pending approval"},
		"history":  {"ship history <env> [flags]", "--limit N", "how many runs, N from 1 to 1000 (default 10)"},
		"sbom":     {"ship sbom <env> [flags]", "-o, --output FILE", "s3:GetObject on the path's SBOMs", "ship sbom prd > prd.spdx.json"},
		"metrics": {"ship metrics [flags]", "Deployment frequency:", "Lead time for changes:", "Change failure rate:", "Per failure, from its end",
			`section "Delivery metrics"`, "--since SPAN", "--parallel N", "--role-name NAME", "--all", "--json", "codecommit:BatchGetCommits"},
		"report": {"ship report [flags]", "-o, --output FILE", "whole or not at all", "ship help metrics", "--since SPAN", "--all"},
	} {
		for _, args := range [][]string{{cmd, "--help"}, {"help", cmd}, {cmd, "stg", "-h"}} {
			code, out, errOut := f.ship(args...)
			if code != ExitOK || errOut != "" {
				t.Errorf("ship %v: exit %d, stderr %q", args, code, errOut)
			}
			for _, want := range append(wants, "Global Flags:", "--remote env=remote", "Exit codes: 0 done") {
				if !strings.Contains(out, want) {
					t.Errorf("ship %v: stdout lacks %q:\n%s", args, want, out)
				}
			}
			if strings.Contains(out, "AWS access:") {
				t.Errorf("ship %v prints the whole reference, not the command's help", args)
			}
		}
	}
	if len(f.aws.Recorded()) != 0 || f.branch("stg") != f.c(2) {
		t.Errorf("help acted: AWS %v, stg at %s", f.aws.Ops(), f.branch("stg"))
	}

	// AND help on what is no command is a usage error, not the reference with exit 0
	code, out, errOut := f.ship("help", "deploy")
	if code != ExitUsage || out != "" || !strings.Contains(errOut, `unknown help topic "deploy" (want promote, rollback, approve, reject, status, history, sbom, metrics, report, sandbox or help)`) {
		t.Errorf("help deploy: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestCompletion: cobra's completion scripts for the four shells, and the dynamic
// completion of <env> arguments from the organisation file (the hidden __complete command
// the scripts call): promote offers only environments with an upstream.
func TestCompletion(t *testing.T) {
	f := newFixture(t)
	for shell, want := range map[string]string{
		"bash": "__start_ship", "zsh": "#compdef ship", "fish": "complete -c ship", "powershell": "Register-ArgumentCompleter",
	} {
		code, out, errOut := f.ship("completion", shell)
		if code != ExitOK || errOut != "" || !strings.Contains(out, want) {
			t.Errorf("completion %s: exit %d, stderr %q, stdout lacks %q", shell, code, errOut, want)
		}
	}
	for args, want := range map[string]string{
		"completion tcsh": `unknown shell "tcsh" for completion (want bash, zsh, fish or powershell)`,
		"completion":      "completion needs a shell: ship completion <bash|zsh|fish|powershell>",
	} {
		code, out, errOut := f.ship(strings.Fields(args)...)
		if code != ExitUsage || out != "" || !strings.Contains(errOut, want) || !strings.Contains(errOut, "Run 'ship help completion' for usage.") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}

	complete := func(args ...string) []string {
		t.Helper()
		code, out, _ := f.ship(append([]string{"__complete"}, args...)...)
		if code != ExitOK {
			t.Fatalf("__complete %v: exit %d", args, code)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if !strings.HasPrefix(line, ":") { // the last line is the directive
				got = append(got, line)
			}
		}
		return got
	}
	if got := strings.Join(complete("history", ""), "|"); got != "dev\taccount 222222222222, eu-west-1|stg\taccount 333333333333, eu-west-1|prd\taccount 444444444444, eu-west-1" {
		t.Errorf("history <env> completes to %q", got)
	}
	if got := strings.Join(complete("promote", ""), "|"); strings.Contains(got, "dev") || !strings.Contains(got, "stg") || !strings.Contains(got, "prd") {
		t.Errorf("promote <env> completes to %q, want stg and prd (dev has no upstream)", got)
	}
	if got := strings.Join(complete("rollback", "p"), "|"); got != "prd\taccount 444444444444, eu-west-1" {
		t.Errorf("rollback p completes to %q", got)
	}
	if got := strings.Join(complete("status", "--profile", "s"), "|"); got != "stg=\taccount 333333333333, eu-west-1" {
		t.Errorf("--profile s completes to %q", got)
	}
	if got := complete("promote", "stg", ""); len(got) != 0 {
		t.Errorf("[commit] completes to %q, want nothing", got)
	}
	// Without an organisation file there is nothing to offer, and no error in the shell.
	t.Setenv(EnvConfig, "")
	if got := complete("history", ""); len(got) != 0 {
		t.Errorf("without an organisation, history completes to %q", got)
	}
	if len(f.aws.Recorded()) != 0 {
		t.Errorf("completion reached AWS: %v", f.aws.Ops())
	}
}

func TestWithoutAnOrganisationFileShipRefusesToAct(t *testing.T) {
	f := newFixture(t)
	f.pushTo("dev", 3)
	t.Setenv(EnvConfig, "")

	// WHEN a promotion is asked for with neither --config nor SHIP_CONFIG
	code, out, errOut := f.ship("promote", "stg", f.c(3), "--path", "payments/checkout")

	// THEN ship refuses, says how to give the file and where to try ship, and touches nothing
	if code != ExitUsage {
		t.Fatalf("exit %d, want %d", code, ExitUsage)
	}
	for _, want := range []string{"no organisation file", "--config <file>", "SHIP_CONFIG=<file>",
		"placeholders", "--example-org", "go run ./apps/ship/sandbox"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if out != "" || f.branch("stg") != "" || len(f.aws.Recorded()) != 0 {
		t.Errorf("ship acted anyway: stdout %q, stg at %q, AWS calls %v", out, f.branch("stg"), f.aws.Ops())
	}
}

func TestExampleOrgUsesTheEmbeddedOrganisationDeliberately(t *testing.T) {
	f := newFixture(t)
	t.Setenv(EnvConfig, "")
	t.Setenv(EnvPath, "")

	code, _, errOut := f.ship("status", "--example-org")

	// the example has two services, so ship must be told which, and it says where it looked
	if code != ExitUsage || !strings.Contains(errOut, "using the embedded example organisation (placeholder accounts), as --example-org asks") ||
		!strings.Contains(errOut, "known in the embedded example organisation: payments/checkout, search/indexer") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}

	// --example-org and --config together are ambiguous
	code, _, errOut = f.ship("status", "--example-org", "--config", "org.yaml")
	if code != ExitUsage || !strings.Contains(errOut, "--example-org and --config org.yaml name two organisations") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestFlagsAreReadAnywhereOnTheLine: global flags before the subcommand, between its
// arguments and after them, -C and --flag=value forms, all apply.
func TestFlagsAreReadAnywhereOnTheLine(t *testing.T) {
	f := promoteFixture(t)
	f.git(f.dir, "remote", "remove", "stg")
	f.flags = nil

	code, out, _ := f.ship("--profile", "dev=dev", "promote", "--path", "payments/checkout", "stg", "--remote", "stg="+f.bare["stg"],
		gate.Short(f.c(3)), "--timeout=1m")

	if code != ExitOK || f.branch("stg") != f.c(3) || !strings.Contains(out, "pushed "+gate.Short(f.c(3))) {
		t.Errorf("exit %d, stg at %s, stdout %q", code, f.branch("stg"), out)
	}
	// AND --limit before the subcommand it belongs to is read too
	f.aws.SetRuns("payments-checkout-stg", run("stg-3", f.c(3), "Succeeded", mins(30)), run("stg-2", f.c(2), "Succeeded", mins(20)))
	code, out, _ = f.ship("--limit", "1", "--profile", "stg=stg", "history", "stg")
	if code != ExitOK || !strings.Contains(out, "stg-3") || strings.Contains(out, "stg-2") {
		t.Errorf("--limit 1 before history: exit %d, stdout %q", code, out)
	}
}

// TestAMissingCloneIsNamed: -C to a directory that is not there, or to a file, says so;
// git cannot start there, and its empty error output told the user nothing.
func TestAMissingCloneIsNamed(t *testing.T) {
	f := newFixture(t)
	file := filepath.Join(t.TempDir(), "a-file")
	must(t, os.WriteFile(file, nil, 0o644))
	for dir, why := range map[string]string{"/nonexistent/clone": "no such directory", file: "not a directory"} {
		code, _, errOut := f.ship("status", "-C", dir)

		if want := "ship: " + dir + " is not a git clone of the service (" + why + "); run ship inside it or pass -C <dir>\n"; code != ExitFailed || errOut != want {
			t.Errorf("-C %s: exit %d, stderr %q, want %q", dir, code, errOut, want)
		}
	}
}

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second:                 "less than a minute",
		5*time.Minute + 59*time.Second:   "5m",
		2*time.Hour + 3*time.Minute:      "2h03m",
		50*time.Hour + 10*time.Minute:    "2d2h",
		7*24*time.Hour - time.Nanosecond: "6d23h",
	} {
		if got := age(d); got != want {
			t.Errorf("age(%s) = %q, want %q", d, got, want)
		}
	}
}

// A prd run waits for sign-off and bakes for 15 minutes: --wait without --timeout must not
// give up after the push's 10 minutes, and an explicit --timeout always wins.
func TestWaitWithoutTimeoutIsBoundedByTheWaitDefault(t *testing.T) {
	for _, c := range []struct {
		flag        time.Duration
		given, wait bool
		want        time.Duration
	}{
		{DefaultTimeout, false, false, DefaultTimeout},
		{DefaultTimeout, false, true, DefaultWaitTimeout},
		{3 * time.Minute, true, true, 3 * time.Minute},
		{3 * time.Minute, true, false, 3 * time.Minute},
	} {
		if got := timeoutFor(c.flag, c.given, c.wait); got != c.want {
			t.Errorf("timeoutFor(%s, given=%v, wait=%v) = %s, want %s", c.flag, c.given, c.wait, got, c.want)
		}
	}
	if DefaultWaitTimeout < 2*time.Hour {
		t.Errorf("DefaultWaitTimeout = %s: shorter than an approval plus a bake may take", DefaultWaitTimeout)
	}
}

// TestAnAccountKeyIsForMetricsOnly: the other commands read one path, whose environments
// are named; an account-id key there says which commands take one.
func TestAnAccountKeyIsForMetricsOnly(t *testing.T) {
	f := newFixture(t)
	code, _, errOut := f.ship("status", "--profile", "444444444444=prd")
	if code != ExitUsage || !strings.Contains(errOut, `--profile 444444444444=prd: path payments/checkout has no environment "444444444444" (known: dev, stg, prd; an account id as the key is taken by metrics and report only)`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
