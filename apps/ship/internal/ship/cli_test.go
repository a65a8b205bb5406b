package ship

import (
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
		{[]string{"status", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"status", "--remote", "stg"}, "want env=value"},
		{[]string{"status", "--profile", "qa=x"}, `--profile qa=x: path payments/checkout has no environment "qa" (known: dev, stg, prd)`},
		{[]string{"status", "--role", "stg=arn:aws:iam::444444444444:role/r"}, "the role is in account 444444444444, but stg is account 333333333333"},
		{[]string{"status", "--role", "stg=reader"}, "not a role ARN"},
		{[]string{"status", "--path", "payments/nope"}, `--path "payments/nope": no such service`},
		{[]string{"status", "--path", "payments"}, "want team/service"},
		{[]string{"status", "--config", "/nonexistent/org.yaml"}, "organisation file /nonexistent/org.yaml"},
		{[]string{"promote", "dev"}, "environment dev has no upstream"},
		{[]string{"history", "--", "-x"}, `argument "-x" looks like a flag`},
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
	for _, args := range [][]string{{"help"}, {"-h"}, {"promote", "--help"}} {
		code, out, _ := f.ship(args...)
		if code != ExitOK || !strings.Contains(out, "Usage:") || !strings.Contains(out, "--force-with-lease") || !strings.Contains(out, "Exit codes") {
			t.Errorf("ship %v: exit %d, stdout %q", args, code, out)
		}
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

func TestFlagsAreReadAnywhereOnTheLine(t *testing.T) {
	inv, err := parseArgs([]string{"--path", "a/b", "promote", "-C", "/src", "stg", "--remote", "stg=origin", "abc123", "--timeout=1m"})
	if err != nil {
		t.Fatal(err)
	}
	if inv.cmd != "promote" || strings.Join(inv.args, ",") != "stg,abc123" || inv.path != "a/b" || inv.dir != "/src" ||
		inv.remotes.pairs["stg"] != "origin" || inv.timeout != time.Minute {
		t.Errorf("parsed %+v", inv)
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
