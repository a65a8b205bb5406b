package ship

import (
	"strings"
	"testing"
	"time"
)

func TestMissingCredentialsNameTheAccountAndHowToProvideThem(t *testing.T) {
	f := newFixture(t)
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
	f.aws.RejectAccessKey("AKIDSTATIC")

	code, _, errOut := f.ship("history", "stg")

	if code != ExitFailed || !strings.Contains(errOut, "AWS rejected the credentials for environment stg (account 333333333333") ||
		!strings.Contains(errOut, "UnrecognizedClientException") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestRoleIsAssumedThroughSTSForThatEnvironmentOnly(t *testing.T) {
	f := newFixture(t)
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
	for _, c := range f.aws.Recorded() {
		switch c.Op {
		case "AssumeRole":
			if c.AccessKey != "AKIDSTATIC" {
				t.Errorf("AssumeRole signed with %s, want the default credentials", c.AccessKey)
			}
		default:
			if c.Pipeline != "payments-checkout-stg" || c.AccessKey != "ASIAROLE" {
				t.Errorf("call %+v, want stg's pipeline read with the role's credentials", c)
			}
		}
	}
	if f.branch("prd") != f.c(1) {
		t.Errorf("prd not pushed")
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
