package org

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// base is a valid file; each case replaces one of its lines (marked with a comment).
const base = `registry:
  account: "111111111111"
  region: eu-west-1
teams:
  - name: payments
    services:
      - name: checkout
        notify: [oncall@example.com]   # NOTIFY
        environments:
          - name: dev
            account: "222222222222"
            region: eu-west-1          # DEV
          - name: prd
            account: "444444444444"
            region: eu-west-1          # PRD
`

func replaceLine(t *testing.T, marker, with string) string {
	t.Helper()
	lines := strings.Split(base, "\n")
	for i, l := range lines {
		if strings.HasSuffix(l, "# "+marker) {
			indent := l[:len(l)-len(strings.TrimLeft(l, " "))]
			var out []string
			for _, w := range strings.Split(with, "\n") {
				out = append(out, indent+w)
			}
			lines[i] = strings.Join(out, "\n")
			return strings.Join(lines, "\n")
		}
	}
	t.Fatalf("no line marked %s", marker)
	return ""
}

func TestBaseIsValid(t *testing.T) {
	if _, err := Parse([]byte(base), "base.yaml"); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeProblemsAreReportedLikeValidationProblems(t *testing.T) {
	cases := []struct {
		name, marker, with string
		want               string // the one problem, exactly
	}{
		{"unknown field", "PRD", "region: eu-west-1\nregoin: eu-west-2",
			`teams[0].services[0].environments[1].regoin: "eu-west-2": no such field; an environment has name, account, region, branch, connection, upstream, approval, approvers, watch, window, rollbackOnFailure, vulnerabilities (did you mean region?) (line 16)`},
		{"unknown field far from any", "NOTIFY", "colour: blue",
			`teams[0].services[0].colour: "blue": no such field; a service has name, source, environments, sandboxes, notify, commands, pullRoles (line 8)`},
		{"approval maybe", "PRD", "region: eu-west-1\napproval: maybe",
			`teams[0].services[0].environments[1].approval: "maybe": true or false, unquoted (line 16)`},
		{"approval yes", "PRD", "region: eu-west-1\napproval: yes",
			`teams[0].services[0].environments[1].approval: "yes": true or false, unquoted (yes, no, on and off are not booleans here) (line 16)`},
		{"approval quoted", "PRD", "region: eu-west-1\napproval: \"true\"",
			`teams[0].services[0].environments[1].approval: "true": true or false, unquoted (in quotes it is a string) (line 16)`},
		{"approval single-quoted", "PRD", "region: eu-west-1\napproval: 'false'",
			`teams[0].services[0].environments[1].approval: "false": true or false, unquoted (in quotes it is a string) (line 16)`},
		{"approval capitalised", "PRD", "region: eu-west-1\napproval: True",
			`teams[0].services[0].environments[1].approval: "True": true or false, unquoted (in lowercase) (line 16)`},
		{"approval tagged a string", "PRD", "region: eu-west-1\napproval: !!str true",
			`teams[0].services[0].environments[1].approval: "true": true or false, unquoted (without a tag) (line 16)`},
		{"approval a list", "PRD", "region: eu-west-1\napproval: [true]",
			`teams[0].services[0].environments[1].approval: "[true]": true or false, unquoted (line 16)`},
		{"string where a list belongs", "NOTIFY", "notify: oncall@example.com",
			`teams[0].services[0].notify: "oncall@example.com": a list of strings, written [a, b] or one '- ' line each (line 8)`},
		{"mapping where a string belongs", "DEV", "region: {name: eu-west-1}",
			`teams[0].services[0].environments[0].region: "{name: eu-west-1}": a string (line 12)`},
		{"list where a string belongs", "DEV", "region: [eu-west-1]",
			`teams[0].services[0].environments[0].region: "[eu-west-1]": a string (line 12)`},
		{"mapping where a list of strings belongs", "NOTIFY", "notify: {to: oncall@example.com}",
			`teams[0].services[0].notify: "{to: oncall@example.com}": a list of strings, written [a, b] or one '- ' line each (line 8)`},
		{"list where a mapping belongs", "NOTIFY", "commands: [make build]",
			`teams[0].services[0].commands: "[make build]": a mapping with build, deploy, verify, image, plan (line 8)`},
		{"repeated field", "DEV", "region: eu-west-1\nregion: eu-west-2",
			`teams[0].services[0].environments[0].region: "eu-west-2": a field written once; it is already on line 12 (line 13)`},
		{"unknown field that is not a word", "NOTIFY", "\"a.b\\nc\": 1",
			`teams[0].services[0]."a.b\nc": "1": no such field; a service has name, source, environments, sandboxes, notify, commands, pullRoles (line 8)`},
		{"list item of the wrong kind", "NOTIFY", "notify: [[a@example.com]]",
			`teams[0].services[0].notify[0]: "[a@example.com]": a string (line 8)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(replaceLine(t, c.marker, c.with)), "org.yaml")
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want *ValidationError, got %v", err)
			}
			if len(ve.Problems) != 1 || ve.Problems[0].String() != c.want {
				t.Errorf("got\n%v\nwant the one problem\n  %s", err, c.want)
			}
		})
	}
}

func TestSettingsThatDoNotDecodeAreProblems(t *testing.T) {
	for value, want := range map[string]string{
		`"20"`: `settings.historyPages: "20": a whole number, unquoted (in quotes it is a string) (line 2)`,
		`ten`:  `settings.historyPages: "ten": a whole number, unquoted (line 2)`,
		`1.5`:  `settings.historyPages: "1.5": a whole number, unquoted (line 2)`,
		`[1]`:  `settings.historyPages: "[1]": a whole number, unquoted (line 2)`,
	} {
		_, err := Parse([]byte("settings:\n  historyPages: "+value+"\n"+base), "org.yaml")
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].String() != want {
			t.Errorf("historyPages: %s: got %v\nwant the one problem %s", value, err, want)
		}
	}
}

// A field that did not decode is not reported again by validation as missing or wrong, and
// what validation would conclude from its absence is not reported either.
func TestAFieldThatDidNotDecodeIsReportedOnce(t *testing.T) {
	cases := []struct{ name, from, to, want string }{
		// without the rule, also: name "" invalid, and "2 environments without upstream"
		{"an environment's name", "- name: dev\n", "- name: [dev]\n", `environments[0].name: "[dev]": a string`},
		// without the rule, also: "at least one environment" (the list moves to an unknown field)
		{"the environments", "environments:\n", "environments: {dev: 1}\n        x-environments:\n", `environments: "{dev: 1}": a list of environments`},
		// without the rule, also: account "" is not a 12-digit id
		{"an account", `account: "222222222222"`, `account: {id: 1}`, `account: "{id: 1}": a string`},
		// without the rule, also: the team name "" is invalid
		{"a team's name", "- name: payments", "- name: {payments: 1}", `teams[0].name: "{payments: 1}": a string`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			y := strings.Replace(base, c.from, c.to, 1)
			_, err := Parse([]byte(y), "org.yaml")
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v\nwant a problem containing %s\nin\n%s", err, c.want, y)
			}
			for _, p := range ve.Problems {
				if !strings.Contains(p.String(), c.want) && !strings.Contains(p.Field, "x-environments") {
					t.Errorf("reported again: %s", p)
				}
			}
		})
	}
}

func TestParseRefusesFilesThatAreNotOneMapping(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"empty", "", "org.yaml: the file is empty; it needs registry and teams"},
		{"only comments", "# nothing yet\n", "org.yaml: the file is empty; it needs registry and teams"},
		{"null", "~\n", "org.yaml: the file is empty; it needs registry and teams"},
		{"a list", "- registry: {}\n", "org.yaml: line 1: the top level is a list; an organization file is a mapping with registry and teams"},
		{"a value", "registry\n", "org.yaml: line 1: the top level is a single value; an organization file is a mapping with registry and teams"},
		{"two documents", base + "---\n" + base, "org.yaml: line 16: a second YAML document starts here; an organization file is one document, remove this '---' and what follows it"},
		{"a trailing separator", base + "---\n", "org.yaml: line 16: a second YAML document starts here"},
		{"a broken second document", base + "---\n: : :\n", "org.yaml: more than one YAML document (after a '---', and that one is not valid YAML"},
		{"not YAML", "registry: [\n", "org.yaml: not valid YAML: yaml: line 1: did not find expected node content"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml), "org.yaml")
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got %v\nwant %s", err, c.want)
			}
		})
	}
	// One document with an explicit start and end is fine.
	if _, err := Parse([]byte("---\n"+base+"...\n"), "org.yaml"); err != nil {
		t.Errorf("explicit document markers: %v", err)
	}
}

func TestEchoedValuesAreCappedAndEscaped(t *testing.T) {
	huge := strings.Repeat("a", 5<<20)
	o := valid()
	o.Teams[0].Name = huge
	_, err := o.Normalize()
	if err == nil {
		t.Fatal("a 5 MB team name was accepted")
	}
	want := `teams[0].name: "` + strings.Repeat("a", maxEcho) + `…" (5242880 bytes): 2-16 lowercase`
	if !strings.Contains(err.Error(), want) || len(err.Error()) > 1000 {
		t.Errorf("got a %d-byte message:\n%.600s", len(err.Error()), err.Error())
	}
	// From a file too, where the value is echoed by the decoder (1 MB: YAML parses slowly).
	huge = huge[:1<<20]
	_, err = Parse([]byte(replaceLine(t, "NOTIFY", "notify: "+huge)), "org.yaml")
	if err == nil || len(err.Error()) > 1000 || !strings.Contains(err.Error(), "(1048576 bytes)") {
		t.Errorf("decoder echo: got a %d-byte message:\n%.600s", len(err.Error()), err)
	}
	// An unknown key is cut too.
	_, err = Parse([]byte(replaceLine(t, "NOTIFY", "? "+huge+"\n: 1")), "org.yaml")
	if err == nil || len(err.Error()) > 1000 || !strings.Contains(err.Error(), `teams[0].services[0]."aaaa`) {
		t.Errorf("unknown key: got a %d-byte message:\n%.600s", len(err.Error()), err)
	}
	// A multi-byte character is never cut in half, and control characters stay escaped.
	cut := Problem{Field: "f", Value: strings.Repeat("a", maxEcho-1) + "é\n", Allowed: "x"}.String()
	if want := `f: "` + strings.Repeat("a", maxEcho-1) + `…" (82 bytes): x`; cut != want {
		t.Errorf("got  %s\nwant %s", cut, want)
	}
	if got := (Problem{Field: "f", Value: "a\nb\x00", Allowed: "x", Line: 3}).String(); got != `f: "a\nb\x00": x (line 3)` {
		t.Errorf("got %s", got)
	}
}

func TestAliasesAndMergeKeysAreRead(t *testing.T) {
	y := `registry: {account: "111111111111", region: eu-west-1}
x-env: &eu {region: eu-west-1, branch: trunk}
teams:
  - name: payments
    services:
      - name: checkout
        notify: &oncall [oncall@example.com]
        environments:
          - {<<: *eu, name: dev, account: "222222222222"}
          - {<<: *eu, name: prd, account: "444444444444", branch: release}
      - name: refunds
        notify: *oncall
        environments: [{<<: *eu, name: dev, account: "222222222222", region: eu-central-1}]
`
	_, err := Parse([]byte(y), "org.yaml")
	// x-env is not a field: reported, while the aliases into it still work.
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Field != "x-env" {
		t.Fatalf("want only x-env refused, got %v", err)
	}
	o, err := Parse([]byte(strings.Replace(y, "x-env: &eu", "settings: {}\n# \n_: &eu", 1)), "org.yaml")
	if err == nil {
		t.Fatalf("_ accepted: %+v", o)
	}
	// With the anchor inside a known field (a list item of notify is a string, so use a
	// second service's environments) the file loads and the merges apply.
	y2 := strings.Replace(y, "x-env: &eu {region: eu-west-1, branch: trunk}\n", "", 1)
	y2 = strings.Replace(y2, "- {<<: *eu, name: dev, account: \"222222222222\"}", "- &eu {region: eu-west-1, branch: trunk, name: dev, account: \"222222222222\"}", 1)
	o, err = Parse([]byte(y2), "org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	envs := o.Teams[0].Services[0].Environments
	if envs[1].Region != "eu-west-1" || envs[1].Branch != "release" || envs[0].Branch != "trunk" {
		t.Errorf("merge not applied: %+v", envs)
	}
	refunds := o.Teams[0].Services[1]
	if len(refunds.Notify) != 1 || refunds.Environments[0].Region != "eu-central-1" || refunds.Environments[0].Name != "dev" {
		t.Errorf("alias or merge override not applied: %+v", refunds)
	}
}

func TestAMergeOfItsOwnAnchorIsRefused(t *testing.T) {
	y := strings.Replace(base, "- name: dev\n", "- &e\n            <<: *e\n            name: dev\n", 1)
	_, err := Parse([]byte(y), "org.yaml")
	if err == nil || !strings.Contains(err.Error(), `teams[0].services[0].environments[0]: "*e": a merge of an anchor outside it`) {
		t.Errorf("got %v\nin\n%s", err, y)
	}
}

func TestAFileThatExpandsWithoutBoundIsRefused(t *testing.T) {
	// 40 teams of 40 services of 40 environments of 40 approvers (2.6 million values) in 2 kB.
	more := func(alias string) string { return strings.Repeat(", *"+alias, 39) }
	y := `registry: {account: "111111111111", region: eu-west-1}
teams: [&t {name: payments, services: [&s {name: checkout, environments: [&e {name: dev, account: "222222222222", region: eu-west-1, approvers: [&a "arn:aws:iam::222222222222:role/x"` + more("a") + `]}` + more("e") + `]}` + more("s") + `]}` + more("t") + `]
`
	_, err := Parse([]byte(y), "org.yaml")
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || !strings.Contains(err.Error(), "a file of at most 200000 values once its aliases are expanded") {
		t.Errorf("got %.2000v", err)
	}
}

func TestAFileOfMergesWithoutBoundIsRefused(t *testing.T) {
	// Each level merges the one before 20 times: 20^5 merged keys, none decoded twice.
	y := "x0: &m0 {a: 1, b: 2}\n"
	for i := 1; i <= 5; i++ {
		y += fmt.Sprintf("x%d: &m%d {<<: [%s]}\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*m%d, ", i-1), 20), ", "))
	}
	y += strings.Replace(base, "registry:\n", "registry:\n  <<: *m5\n", 1)
	start := time.Now()
	_, err := Parse([]byte(y), "org.yaml")
	if err == nil || !strings.Contains(err.Error(), "a file of at most 200000 values once its aliases are expanded") {
		t.Errorf("got %.1000v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestLoadReportsDecodeAndValidationProblemsTogether(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "mixed.yaml"))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	// README's sample of an error is this one; keep them equal.
	want := `testdata/mixed.yaml: invalid organization: 14 problem(s)
  registry.region: "": an AWS region name such as eu-west-1 or us-gov-west-1 (line 2)
  registry.regoin: "eu-west-1": no such field; registry has account, region, scanning (did you mean region?) (line 4)
  settings.historyPages: "20": a whole number, unquoted (in quotes it is a string) (line 6)
  teams[0].name: "pay--ments": 2-16 lowercase letters or digits in runs joined by single hyphens, starting with a letter (e.g. payments, web-shop), as every AWS name derived from it requires (line 8)
  teams[0].services[0].notify: "oncall@example.com": a list of strings, written [a, b] or one '- ' line each (line 11)
  teams[0].services[0].environments[0].approval: "maybe": true or false, unquoted (line 16)
  teams[0].services[0].environments[1].approval: "true": true or false, unquoted (in quotes it is a string) (line 20)
  teams[0].services[0].environments[1].branch: "[main]": a string (line 21)
  teams[0].services[0].environments[2]: "333333333333 eu-west-1": an account and region no other environment of the service uses; environments[1] (stg) is there too, and both would create the same CodeCommit repository (line 22)
  teams[0].services[0].environments[2].approvers: "arn:aws:iam::333333333333:role/x": a list of strings, written [a, b] or one '- ' line each (line 25)
  teams[1].services[0].environments: "{name: dev}": a list of environments, each a mapping with name, account, region, branch, connection, upstream, approval, approvers, watch, window, rollbackOnFailure, vulnerabilities (line 29)
  teams[2].services[0]: "ab-cd-ef": a team-service id no other path derives; teams[1].services[0] (team "ab-cd", service "ef") derives it too, and both would name their repository, pipelines, stacks and roles alike (line 32)
  teams[2].services[0].environments: "0 environments without upstream": exactly one environment without upstream: the first, where the image is built (line 33)
  teams[2].services[0].environments[0].upstream: "qa": one of [dev], or "none" (line 34)`
	if got := err.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
