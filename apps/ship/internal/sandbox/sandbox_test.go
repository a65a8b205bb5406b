package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
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

// ship runs the real ship in the clone, bounded in time, with "y" on a stdin that is a
// terminal, as a person at the sandbox's shell answers approve's question.
func runShip(t *testing.T, sb *Sandbox, args string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var o, e bytes.Buffer
	stdin := strings.NewReader("y\n")
	app := &ship.App{Stdout: &o, Stderr: &e, Stdin: stdin, Terminal: func(v any) (bool, int) { return v == stdin, 0 }}
	code = app.Run(ctx, append(append([]string{"-C", sb.Clone}, sb.ShipFlags()...), strings.Fields(args)...))
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

// runGit runs git in the clone, as the person at the sandbox's shell would.
func runGit(t *testing.T, sb *Sandbox, args string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var o, e bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", strings.Fields(args)...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = sb.Clone, &o, &e
	err := cmd.Run()
	t.Logf("git %s -> %v\nstdout:\n%s\nstderr:\n%s", args, err, o.String(), e.String())
	if err != nil {
		t.Fatalf("git %s: %v", args, err)
	}
	return 0, o.String(), ""
}

// runSandbox runs one of the sandbox's sub-commands, in process, against sb's fake.
func runSandbox(t *testing.T, sb *Sandbox, args string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Control(context.Background(), strings.Fields(args), sb.URL, &o, &e)
	t.Logf("sandbox %s -> %d\nstdout:\n%s\nstderr:\n%s", args, code, o.String(), e.String())
	return code, o.String(), e.String()
}

func TestTheTourTheInstructionsSuggest(t *testing.T) {
	sb := startSandbox(t)
	// The printed lines cd into the clone: a relative file (report -o report.html) lands there.
	t.Chdir(sb.Clone)
	c := func(i int) string { return gate.Short(sb.Commits[i-1]) }

	var instructions bytes.Buffer
	sb.WriteInstructions(&instructions, Programs{Ship: "SHIP", Sandbox: "SANDBOX"})
	expect(t, "instructions", instructions.String(),
		"LOCAL test double", "not AWS",
		"cd "+sb.Clone+"\n",
		"export AWS_ENDPOINT_URL="+sb.URL+" ", "SHIP_PATH=payments/checkout", "SHIP_CONFIG="+sb.Config,
		`ship() { SHIP -C "$PWD" --profile dev=sandbox-dev --profile stg=sandbox-stg --profile prd=sandbox-prd "$@"; }`,
		`sandbox() { SANDBOX "$@"; }`,
		"ship promote prd ", "sandbox approve prd ", "ship history prd\n",
		"Scripted: stg's alarm payments-checkout-stg-health goes into ALARM during the bake of change 5",
		"ship promote stg --wait    # stg's alarm fires in the bake", "ship approve prd --wait    # the plan",
		"ship metrics               # the four keys", "ship report -o report.html # the same as one HTML file")

	// Each step of the tour, in order, and what it must show.
	type step struct {
		line  string
		check func(out string)
		// exit is the exit code the step ends with; with 1, check gets stderr after stdout.
		exit int
	}
	steps := []step{
		{"ship status", func(out string) {
			// GIVEN dev ran c1..c4, stg and prd c1
			expect(t, "status", out, "payments/checkout (organisation: "+sb.Config+")")
			expect(t, "dev", section(t, out, "dev"), "deployed   "+c(4)+" (execution dev-4")
			expect(t, "stg", section(t, out, "stg"), "deployed   "+c(1)+" (execution stg-1",
				"waiting    3 commits deployed in dev, not in stg; ship promote stg brings "+c(4))
			expect(t, "prd", section(t, out, "prd"), "deployed   "+c(1), "approval   none pending",
				"waiting    none (prd has everything deployed in stg)")
		}, 0},
		{"ship promote stg", func(out string) {
			expect(t, "promote stg", out, "pushed "+c(4), "replacing "+c(1), "passed dev in execution dev-4")
		}, 0},
		{"ship promote prd", func(out string) {
			expect(t, "promote prd", out, "pushed "+c(4), "passed stg in execution stg-2")
		}, 0},
		{"ship status", func(out string) {
			// THEN stg ran c4, and prd's run of it waits for sign-off: nothing to promote
			expect(t, "stg", section(t, out, "stg"), "branch     "+c(4), "deployed   "+c(4)+" (execution stg-2",
				"waiting    none (stg has everything deployed in dev)",
				// what stg's guard read of the image's scan when it let c4 in
				"vulns      0 CRITICAL, 0 HIGH, 2 MEDIUM, 1 LOW (scan COMPLETE when the guard passed it; stg refuses nothing)")
			prd := section(t, out, "prd")
			expect(t, "prd", prd, "branch     "+c(4), "deployed   "+c(1)+" (execution prd-1",
				"latest     InProgress (execution prd-2, commit "+c(4),
				"approval   PENDING: action SignOff in stage Approval, waiting less than a minute",
				", execution prd-2 (commit "+c(4)+")",
				"approvers  whoever may assume role arn:aws:iam::444444444444:role/payments-checkout-prd-approver, "+
					"which trusts the approvers the organisation file names for prd: arn:aws:iam::444444444444:role/payments-release-managers",
				"waiting    none to promote: "+c(4)+", deployed in stg, is on prd's branch and waits for approval (execution prd-2")
			if strings.Contains(prd, "ship promote prd") {
				t.Errorf("status suggests promoting what prd's branch has and waits for approval:\n%s", prd)
			}
		}, 0},
		{"ship promote prd", func(out string) {
			expect(t, "promote prd again", out, "already points at "+c(4)+"; nothing pushed",
				"Its run waits for approval (execution prd-2",
				"It can be answered by whoever may assume role arn:aws:iam::444444444444:role/payments-checkout-prd-approver")
		}, 0},
		{"ship rollback prd", func(out string) {
			expect(t, "rollback prd", out, "rolled back branch main of remote prd to "+c(1), "execution prd-1", "replacing "+c(4),
				"Note: an approval is pending in prd for execution prd-2")
		}, 0},
		{"ship status", func(out string) {
			expect(t, "prd", section(t, out, "prd"), "branch     "+c(1),
				"latest     InProgress (execution prd-3, commit "+c(1),
				", execution prd-2 (commit "+c(4)+")",
				"queued     execution prd-3 (commit "+c(1)+"), waiting to enter stage Approval")
		}, 0},
		{"sandbox reject prd", func(out string) {
			expect(t, "reject", out, "prd: rejected execution prd-2 at action SignOff in stage Approval: it failed, without deploying.",
				"prd: execution prd-3, queued behind it, now waits for approval.")
		}, 0},
		{"sandbox approve prd", func(out string) {
			expect(t, "approve", out, "prd: approved execution prd-3 at action SignOff in stage Approval: it deployed and succeeded.")
			if strings.Contains(out, "now waits") {
				t.Errorf("nothing was queued, yet: %s", out)
			}
		}, 0},
		{"ship history prd", func(out string) {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 5 { // title, header, prd-3, prd-2, prd-1
				t.Fatalf("history has %d lines, want 5:\n%s", len(lines), out)
			}
			for i, want := range []string{"prd-3 " + c(1) + " Succeeded", "prd-2 " + c(4) + " Failed", "prd-1 " + c(1) + " Succeeded"} {
				if got := strings.Join(strings.Fields(lines[2+i]), " "); !strings.HasPrefix(got, want) {
					t.Errorf("history row %d %q, want %q...", i, got, want)
				}
			}
			expect(t, "newest row", lines[2], "<- deployed")
		}, 0},
		{"git push dev main", func(string) {}, 0},
		{"ship promote stg --wait", func(out string) {
			// THEN stg's run of c5 deployed, its alarm went off in the bake, and the rollback
			// CodePipeline started redeployed c4: ship followed both and says so (exit 1)
			expect(t, "promote stg --wait", out, "stg: pushed "+c(5)+" to branch main of remote stg, replacing "+c(4),
				"stg: following execution stg-3 of "+c(5),
				"  Deploy    Failed              its actions succeeded, then a watched alarm (payments-checkout-stg-health) went into ALARM during the bake",
				"stg: CodePipeline rolls back: execution stg-4 (ROLLBACK to stg-2) redeploys "+c(4),
				"ship: stg: execution stg-3 (commit "+c(5)+") failed at stage Deploy: its actions succeeded, then a watched alarm",
				"CodePipeline rolled back: execution stg-4 (ROLLBACK to stg-2) restored commit "+c(4))
		}, 1},
		{"ship status", func(out string) {
			// THEN status explains it: c4 runs by the automatic rollback after c5's run
			// failed, the branch still names c5, and the alarm that fired is in ALARM
			expect(t, "stg", section(t, out, "stg"), "branch     "+c(5),
				"deployed   "+c(4)+" (execution stg-4, a rollback to stg-2", "automatic",
				"stg runs "+c(4)+", not the branch head "+c(5)+": automatic rollback (execution stg-4",
				"after execution stg-3 (commit "+c(5)+") failed",
				"payments-checkout-stg-health: ALARM")
		}, 0},
		{"ship promote prd", func(out string) {
			expect(t, "promote prd", out, "pushed "+c(4), "replacing "+c(1), "passed stg in execution stg-2")
		}, 0},
		{"ship approve prd --wait", func(out string) {
			expect(t, "approve prd --wait", out,
				"prd: execution prd-4 (commit "+c(4)+") waits for approval at action SignOff in stage Approval",
				"  guard:  Verified commit "+c(4)+": it passed stg in execution stg-2",
				"  plan:   commit "+c(4)+": 1 to add, 2 to change, 0 to destroy; no IAM or network broadening",
				"          full plan: https://",
				"Approve execution prd-4 (commit "+c(4)+") in prd? [y/N] ",
				"prd: approved execution prd-4 (commit "+c(4)+") as arn:aws:sts::444444444444:assumed-role/payments-checkout-prd-approver/",
				"prd: following execution prd-4 of "+c(4),
				"  Deploy    Succeeded",
				"prd: execution prd-4 succeeded: "+c(4)+" is deployed in prd.")
		}, 0},
		{"ship history prd", func(out string) {
			expect(t, "history prd", out, "prd-4", "<- deployed")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if got := strings.Join(strings.Fields(lines[2]), " "); !strings.HasPrefix(got, "prd-4 "+c(4)+" Succeeded") {
				t.Errorf("newest history row %q, want prd-4 of %s, Succeeded", got, c(4))
			}
		}, 0},
		{"ship metrics", func(out string) {
			// THEN stg's deploy of c5, rolled back by CodePipeline, is one failure of three
			// attempts (c1, c4, c5), restored by the rollback; prd's run rejected at the
			// approval deployed nothing, so it is no attempt; dev deployed c1..c5, the first
			// four 30 minutes after their commits.
			dev, stg, prd := metricsRow(t, out, "dev"), metricsRow(t, out, "stg"), metricsRow(t, out, "prd")
			cells := func(env string, got []string, want ...string) {
				t.Helper()
				for i, w := range want {
					if w != "" && got[i] != w {
						t.Errorf("%s's %s %q, want %q", env, metricsColumns[i], got[i], w)
					}
				}
			}
			cells("dev", dev, "5 (1.2/week)", "", "0% (0/5)", "– (n=0)", "0")
			cells("stg", stg, "2 (0.5/week)", "", "33% (1/3)", "", "1")
			cells("prd", prd, "2 (0.5/week)", "", "0% (0/2)", "– (n=0)", "0")
			if !strings.HasPrefix(dev[1], "30m / ") || !strings.HasSuffix(dev[1], " (n=5)") {
				t.Errorf("dev's lead time %q, want a median of 30m over 5", dev[1])
			}
			if !strings.HasSuffix(stg[3], " (n=1)") || strings.Contains(stg[3], "open") {
				t.Errorf("stg's time to restore %q, want one restored failure", stg[3])
			}
		}, 0},
		{"ship report -o report.html", func(out string) {
			expect(t, "report", out, "wrote report.html: delivery metrics of the last 30d", "1 path, 3 environments read")
			page, err := os.ReadFile(filepath.Join(sb.Clone, "report.html"))
			if err != nil {
				t.Fatalf("the report is not where -o report.html puts it, in the clone: %v", err)
			}
			html := string(page)
			if !strings.Contains(html, "<h2>payments/checkout</h2>") {
				t.Errorf("the report has no section headed payments/checkout")
			}
			// stg's card: the rolled-back deploy is its failure, as ship metrics said.
			if card := reportCard(t, html, "stg"); !strings.Contains(card, "<b>33% (1/3)</b>") {
				t.Errorf("stg's card lacks the failure, 33%% (1/3):\n%s", card)
			}
		}, 0},
	}
	var ran []string
	for _, st := range steps {
		prog, args, _ := strings.Cut(st.line, " ")
		var code int
		var out, errOut string
		switch prog {
		case "ship":
			code, out, errOut = runShip(t, sb, args)
		case "git":
			code, out, errOut = runGit(t, sb, args)
		default:
			code, out, errOut = runSandbox(t, sb, args)
		}
		if code != st.exit || (st.exit == 0) != (errOut == "") {
			t.Fatalf("%s: exit %d (want %d), stderr %q", st.line, code, st.exit, errOut)
		}
		st.check(out + errOut)
		ran = append(ran, fmt.Sprintf("%s (exit %d)", st.line, st.exit))
	}
	var tour []string
	for _, s := range Tour {
		tour = append(tour, fmt.Sprintf("%s (exit %d)", s.Line(), s.Exit))
	}
	if strings.Join(ran, "\n") != strings.Join(tour, "\n") {
		t.Errorf("the test ran\n  %s\nbut the tour is\n  %s", strings.Join(ran, "\n  "), strings.Join(tour, "\n  "))
	}
}

// TestARollbackExecutionShowsInHistoryAndStatus: a CodePipeline stage rollback (a ROLLBACK
// execution) in the live fake, read by ship end to end.
func TestARollbackExecutionShowsInHistoryAndStatus(t *testing.T) {
	sb := startSandbox(t)
	c := func(i int) string { return gate.Short(sb.Commits[i-1]) }
	if code, _, _ := runShip(t, sb, "promote stg"); code != ship.ExitOK {
		t.Fatal("promote stg failed")
	}
	runShip(t, sb, "history stg") // the fake sees the push

	// WHEN stg's Deploy stage is rolled back to stg-1 (c1)
	r, err := sb.Fake.RollBack(sb.Path.PipelineName("stg"), "stg-1")
	if err != nil || r.ID != "stg-3" {
		t.Fatalf("RollBack: %+v, %v", r, err)
	}

	// THEN history marks it, and status says c1 runs by a rollback, with c4 still on the branch
	_, out, _ := runShip(t, sb, "history stg")
	expect(t, "history", out, "rollback to stg-1; <- deployed")
	_, out, _ = runShip(t, sb, "status")
	expect(t, "stg", section(t, out, "stg"), "branch     "+c(4),
		"deployed   "+c(1)+" (execution stg-3, a rollback to stg-1, succeeded",
		"waiting    none to promote: "+c(4)+", deployed in dev, is on stg's branch, but a rollback, execution stg-3, redeployed "+c(1)+" since")
	_, out, _ = runShip(t, sb, "promote stg")
	expect(t, "promote stg", out, "nothing pushed", "A rollback, execution stg-3 (to stg-1), redeployed "+c(1)+" since")
}

// TestMetricsInTheSandbox: ship metrics reads the sandbox's histories and, from each
// environment's repository, the commit dates: each deploy's lead time is the while from
// its commit (dated relative to the sandbox's start) to its seeded run, minutes, not the
// months a fixed date would make of it.
func TestMetricsInTheSandbox(t *testing.T) {
	sb := startSandbox(t)

	code, out, errOut := runShip(t, sb, "metrics")

	if code != ship.ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	// dev's runs of c1..c4 each ended 30 minutes after the commit; stg's and prd's of c1
	// 35 and 45 minutes after it (c1 80 minutes before the start, their runs 45 and 35).
	for env, want := range map[string]string{
		"dev": "4 (0.9/week) 30m / 30m (n=4) 0% (0/4)",
		"stg": "1 (0.2/week) 35m / 35m (n=1) 0% (0/1)",
		"prd": "1 (0.2/week) 45m / 45m (n=1) 0% (0/1)",
	} {
		if row := strings.Join(strings.Fields(rowOf(t, out, env)), " "); !strings.HasPrefix(row, env+" "+want) {
			t.Errorf("%s row %q, want %q...", env, row, env+" "+want)
		}
	}
}

// TestReportInTheSandbox runs ship report end to end with the real writer: what the
// sandbox's pipelines ran becomes one HTML file with the charting library inside it.
func TestReportInTheSandbox(t *testing.T) {
	sb := startSandbox(t)
	file := filepath.Join(t.TempDir(), "report.html")

	code, out, errOut := runShip(t, sb, "report -o "+file)

	if code != ship.ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	page, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	// The library is inlined (about 1 MB), the path and its environments are named, and
	// dev's four deploys are the metrics' own figure.
	for _, want := range []string{"payments/checkout", ">dev<", ">prd<", "echarts", "<b>4</b> · 0.9 per week"} {
		if !strings.Contains(html, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if len(page) < 1_000_000 || !strings.Contains(out, file) {
		t.Errorf("report of %d bytes; stdout %q should name %s", len(page), out, file)
	}
}

// TestTheShellFunctionsKeepTheProgramsExitCodes runs the printed setup lines in a real
// shell, with the programs built from this repository as the sandbox prints them, and
// checks that the functions exit as ship and the sandbox do (go run would turn 2 into 1).
func TestTheShellFunctionsKeepTheProgramsExitCodes(t *testing.T) {
	// The go command's own places, before startSandbox points HOME elsewhere.
	goEnv, err := exec.Command("go", "env", "GOMOD", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		t.Fatal(err)
	}
	vals := strings.Split(strings.TrimSpace(string(goEnv)), "\n")
	root := filepath.Dir(vals[0])
	sb := startSandbox(t)
	bin := filepath.Join(sb.Dir, "bin")
	setup := sb.ShellSetup(Programs{
		Ship:    GoBuild(root, "./apps/ship", filepath.Join(bin, "ship")),
		Sandbox: GoBuild(root, "./apps/ship/sandbox", filepath.Join(bin, "sandbox")),
	})
	script := strings.Join(setup, "\n") + `
ship promote prd ` + sb.Commits[4] + ` 2>/dev/null; echo "refused=$?"
ship promote qa 2>/dev/null; echo "usage=$?"
sandbox approve prd 2>/dev/null; echo "nothing-waits=$?"
ship status >/dev/null; echo "status=$?"
`
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Env = append(os.Environ(), "GOCACHE="+vals[1], "GOMODCACHE="+vals[2], "GOPATH="+vals[3])
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, out)
	}
	for _, want := range []string{"refused=1\n", "usage=2\n", "nothing-waits=1\n", "status=0\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
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

// TestDeveloperSandboxesInTheDemo runs the sandbox commands the instructions suggest: the
// colleague's sandbox is listed live from the table, one of one's own is pushed (and listed
// unseen: the demo has no controller), then deleted.
func TestDeveloperSandboxesInTheDemo(t *testing.T) {
	sb := startSandbox(t)
	var instructions bytes.Buffer
	sb.WriteInstructions(&instructions, Programs{Ship: "SHIP", Sandbox: "SANDBOX"})
	expect(t, "instructions", instructions.String(), "Developer sandboxes (ship sandbox): the organisation file gives payments/checkout\nsandboxes: {max: 3, ttl: 72h}; dev's sandbox table has a colleague's, bob, live.",
		"ship sandbox list        # bob's sandbox, live\nship sandbox up mine     # HEAD to branch sandbox/mine of dev\n")
	bob, head := gate.Short(sb.Commits[ColleagueCommit-1]), gate.Short(sb.Commits[Commits-1])

	checks := []func(out string){
		func(out string) {
			expect(t, "list", out, "at most 3 at once (sandboxes.max); 1 in use; destroyed after 72h without a push (sandboxes.ttl)")
			row := strings.Join(strings.Fields(rowOf(t, out, "bob")), " ")
			// Created 2h and pushed 1h before Start, on the wall clock: the seconds since then
			// round the expiry (72h after the push) down from 2d23h to 2d22h.
			if want := "bob live " + bob + " bob@example.com 2h 1h 2d22h"; row != want {
				t.Errorf("bob's row %q, want %q", row, want)
			}
		},
		func(out string) {
			expect(t, "up", out, "sandbox mine: pushed "+head+" to branch sandbox/mine of remote dev (a new sandbox).")
		},
		func(out string) {
			row := strings.Join(strings.Fields(rowOf(t, out, "mine")), " ")
			if want := "mine unseen " + head + " - - - - pushed, not yet seen by the controller"; row != want {
				t.Errorf("mine's row %q, want %q", row, want)
			}
		},
		func(out string) {
			expect(t, "down", out, "sandbox mine: deleted branch sandbox/mine of remote dev (it pointed at "+head+").")
		},
	}
	if len(checks) != len(SandboxSteps) {
		t.Fatalf("%d checks for %d steps", len(checks), len(SandboxSteps))
	}
	for i, st := range SandboxSteps {
		code, out, errOut := runShip(t, sb, st.Args)
		if code != st.Exit || errOut != "" {
			t.Fatalf("ship %s: exit %d, stderr %q", st.Args, code, errOut)
		}
		checks[i](out)
	}
}

// metricsColumns are the columns of ship metrics' table after ENV.
var metricsColumns = []string{"deploys", "lead time", "change failure rate", "time to restore", "rollbacks", "reruns"}

// metricsRow is env's row of ship metrics' table, a cell per metricsColumns: the table's
// columns are two or more spaces apart, its cells have single spaces.
func metricsRow(t *testing.T, out, env string) []string {
	t.Helper()
	cells := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(rowOf(t, out, env)), -1)
	if len(cells) != 1+len(metricsColumns) {
		t.Fatalf("%s's row has %d cells, want %d: %q", env, len(cells), 1+len(metricsColumns), cells)
	}
	return cells[1:]
}

// reportCard is the first card of env in the report's HTML (the organisation's, which for
// one path is the path's figures).
func reportCard(t *testing.T, html, env string) string {
	t.Helper()
	_, card, ok := strings.Cut(html, `<div class="card" data-env="`+env+`"`)
	if !ok {
		t.Fatalf("the report has no card for %s", env)
	}
	card, _, _ = strings.Cut(card, "</div>")
	return card
}

// rowOf is the line of a table whose first field is name.
func rowOf(t *testing.T, out, name string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == name {
			return l
		}
	}
	t.Fatalf("no row %s in:\n%s", name, out)
	return ""
}

// TestTheREADMEShowsTheTourAsPrinted: the README's copy of the tour is what the sandbox
// prints, line for line, so the two cannot drift apart.
func TestTheREADMEShowsTheTourAsPrinted(t *testing.T) {
	raw, err := os.ReadFile("../../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := TourLines()
	start := "```text\n" + want[0] + "\n" + want[1] + "\n"
	i := strings.Index(string(raw), start)
	if i < 0 {
		t.Fatalf("README.md has no text block starting with the tour's first two lines:\n%s\n%s", want[0], want[1])
	}
	block := string(raw)[i+len("```text\n"):]
	block = block[:strings.Index(block, "```")]
	if got := strings.Split(strings.TrimSuffix(block, "\n"), "\n"); !slices.Equal(got, want) {
		t.Errorf("README.md's tour:\n%s\nthe sandbox prints:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
