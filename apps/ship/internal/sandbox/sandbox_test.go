package sandbox

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/apps/ship/internal/ship"
	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
)

// startSandbox starts a sandbox in a temp dir and sets the process environment as the
// printed lines would, with git kept from the user's configuration as in ship's tests.
func startSandbox(t *testing.T) *Sandbox {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sb, err := Start(ctx, Options{Dir: filepath.Join(t.TempDir(), "sandbox")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Close(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(sb.Dir); !os.IsNotExist(err) {
			t.Errorf("%s not removed on Close: %v", sb.Dir, err)
		}
	})
	if !strings.HasPrefix(sb.URL, "http://127.0.0.1:") {
		t.Fatalf("URL %s, want 127.0.0.1 only", sb.URL)
	}
	for _, v := range sb.Env() {
		t.Setenv(v.Name, v.Value)
	}
	home := t.TempDir()
	for k, v := range map[string]string{"HOME": home, "XDG_CONFIG_HOME": home, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"} {
		t.Setenv(k, v)
	}
	return sb
}

// ship runs the real ship in the clone, bounded in time.
func runShip(t *testing.T, sb *Sandbox, args string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var o, e bytes.Buffer
	code = ship.Main(ctx, append(append([]string{"-C", sb.Clone}, sb.ShipFlags()...), strings.Fields(args)...), &o, &e)
	t.Logf("ship %s -> %d\nstdout:\n%s\nstderr:\n%s", args, code, o.String(), e.String())
	return code, o.String(), e.String()
}

// section is the part of status output about one environment.
func section(t *testing.T, out, env string) string {
	t.Helper()
	for _, block := range strings.Split(out, "\n\n") {
		if strings.HasPrefix(block, env+"  account ") {
			return block
		}
	}
	t.Fatalf("no section for %s in:\n%s", env, out)
	return ""
}

func expect(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

func TestTheTourTheInstructionsSuggest(t *testing.T) {
	sb := startSandbox(t)
	c := func(i int) string { return gate.Short(sb.Commits[i-1]) }

	var instructions bytes.Buffer
	sb.WriteInstructions(&instructions, "go -C /src run ./apps/ship")
	expect(t, "instructions", instructions.String(),
		"LOCAL test double", "not AWS",
		"cd "+sb.Clone+"\n",
		"export AWS_ENDPOINT_URL="+sb.URL+" ", "SHIP_PATH=payments/checkout",
		`ship() { go -C /src run ./apps/ship -C "$PWD" --profile dev=sandbox-dev --profile stg=sandbox-stg --profile prd=sandbox-prd "$@"; }`,
		"ship promote prd\n", "ship history stg\n")

	// GIVEN dev ran c1..c4, stg and prd c1
	code, out, errOut := runShip(t, sb, "status")
	if code != ship.ExitOK {
		t.Fatalf("status: exit %d", code)
	}
	if errOut != "" {
		t.Errorf("status wrote to stderr: %s", errOut)
	}
	expect(t, "status", out, "payments/checkout (organisation: "+sb.Config+")")
	expect(t, "dev", section(t, out, "dev"), "deployed   "+c(4)+" (execution dev-4")
	expect(t, "stg", section(t, out, "stg"), "deployed   "+c(1)+" (execution stg-1",
		"waiting    3 commits deployed in dev, not in stg; ship promote stg brings "+c(4))
	expect(t, "prd", section(t, out, "prd"), "deployed   "+c(1), "approval   none pending",
		"waiting    none (prd has everything deployed in stg)")

	// WHEN stg is promoted: c4, dev's newest success
	code, out, _ = runShip(t, sb, "promote stg")
	if code != ship.ExitOK {
		t.Fatalf("promote stg: exit %d", code)
	}
	expect(t, "promote stg", out, "pushed "+c(4), "replacing "+c(1), "passed dev in execution dev-4")

	// THEN stg's pipeline ran it, and prd has it waiting
	code, out, _ = runShip(t, sb, "status")
	if code != ship.ExitOK {
		t.Fatalf("status: exit %d", code)
	}
	expect(t, "stg", section(t, out, "stg"), "branch     "+c(4), "deployed   "+c(4)+" (execution stg-2",
		"waiting    none (stg has everything deployed in dev)")
	expect(t, "prd", section(t, out, "prd"), "waiting    3 commits deployed in stg, not in prd; ship promote prd brings "+c(4))

	// WHEN prd is promoted, THEN its run waits for approval and c1 stays deployed
	code, out, _ = runShip(t, sb, "promote prd")
	if code != ship.ExitOK {
		t.Fatalf("promote prd: exit %d", code)
	}
	expect(t, "promote prd", out, "pushed "+c(4), "passed stg in execution stg-2")
	code, out, _ = runShip(t, sb, "status")
	if code != ship.ExitOK {
		t.Fatalf("status: exit %d", code)
	}
	expect(t, "prd", section(t, out, "prd"), "branch     "+c(4), "deployed   "+c(1)+" (execution prd-1",
		"latest     InProgress (execution prd-2, commit "+c(4),
		"approval   PENDING: action SignOff in stage Approval, waiting less than a minute")

	// WHEN stg is rolled back, THEN it is at c1 again, by a new run
	code, out, _ = runShip(t, sb, "rollback stg")
	if code != ship.ExitOK {
		t.Fatalf("rollback stg: exit %d", code)
	}
	expect(t, "rollback stg", out, "rolled back branch main of remote stg to "+c(1), "execution stg-1", "replacing "+c(4))
	code, out, _ = runShip(t, sb, "history stg")
	if code != ship.ExitOK {
		t.Fatalf("history stg: exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 { // title, header, stg-3, stg-2, stg-1
		t.Fatalf("history has %d lines, want 5:\n%s", len(lines), out)
	}
	for i, want := range []string{"stg-3 " + c(1) + " Succeeded", "stg-2 " + c(4) + " Succeeded", "stg-1 " + c(1) + " Succeeded"} {
		if got := strings.Join(strings.Fields(lines[2+i]), " "); !strings.HasPrefix(got, want) {
			t.Errorf("history row %d %q, want %q...", i, got, want)
		}
	}
	expect(t, "newest row", lines[2], "<- deployed")
}

func TestStartRefusesADirectoryThatIsNotEmpty(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "precious")
	if err := os.WriteFile(keep, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "is not empty") {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("the directory's file is gone: %v", err)
	}
}
