package org

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/vulnscan"
)

func TestSettingsDefaultAndReachEveryPath(t *testing.T) {
	n, err := valid().Normalize()
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{HistoryPages: DefaultHistoryPages, CdkQualifier: DefaultCdkQualifier, PermissionsBoundary: DefaultPermissionsBoundary,
		CompliancePacks: []string{"AwsSolutions", "NIST.800.53.R5"}}
	if !reflect.DeepEqual(n.Settings, want) || DefaultHistoryPages != 10 || DefaultCdkQualifier != "hnb659fds" ||
		DefaultPermissionsBoundary != "cdk-${Qualifier}-permissions-boundary-${AWS::AccountId}-${AWS::Region}" {
		t.Errorf("settings %+v, want %+v (10 pages, hnb659fds)", n.Settings, want)
	}
	for _, p := range n.Paths() {
		if !reflect.DeepEqual(p.Settings, want) {
			t.Errorf("path %s has settings %+v, want %+v", p.ID(), p.Settings, want)
		}
	}
	p, err := valid().Paths()[0].Normalize()
	if err != nil || !reflect.DeepEqual(p.Settings, want) {
		t.Errorf("Path.Normalize: settings %+v, %v; want %+v", p.Settings, err, want)
	}
	o := valid()
	o.Settings = Settings{HistoryPages: 3, CdkQualifier: "team1", PermissionsBoundary: "team1-boundary",
		CompliancePacks: []string{"HIPAA.Security", "AwsSolutions"}}
	if n, err := o.Normalize(); err != nil || !reflect.DeepEqual(n.Paths()[0].Settings, o.Settings) {
		t.Errorf("explicit settings not kept: %+v, %v", n.Settings, err)
	}
}

func TestSettingsValidation(t *testing.T) {
	cases := []struct {
		settings Settings
		want     string // "" when accepted
	}{
		{Settings{HistoryPages: 1}, ""},
		{Settings{HistoryPages: MaxHistoryPages}, ""},
		{Settings{HistoryPages: 0}, ""}, // unset: the default
		{Settings{HistoryPages: -1}, `settings.historyPages: "-1": a whole number of pages of 100 executions, from 1 to 100`},
		{Settings{HistoryPages: MaxHistoryPages + 1}, `settings.historyPages: "101": a whole number of pages of 100 executions, from 1 to 100`},
		{Settings{CdkQualifier: "abcdefghij"}, ""},
		{Settings{CdkQualifier: "0"}, ""},
		{Settings{CdkQualifier: "abcdefghijk"}, `settings.cdkQualifier: "abcdefghijk": 1-10 lowercase letters or digits, as given to cdk bootstrap --qualifier`},
		{Settings{CdkQualifier: "Team"}, `settings.cdkQualifier: "Team": 1-10 lowercase`},
		{Settings{CdkQualifier: "a-b"}, `settings.cdkQualifier: "a-b": 1-10 lowercase`},
		{Settings{PermissionsBoundary: "none"}, ""},
		{Settings{PermissionsBoundary: "org-boundary-${AWS::Region}"}, ""},
		{Settings{PermissionsBoundary: "arn:aws:iam::111111111111:policy/b"}, `settings.permissionsBoundary: "arn:aws:iam::111111111111:policy/b": an IAM managed policy name`},
		{Settings{PermissionsBoundary: strings.Repeat("b", 120) + "${AWS::AccountId}"}, `settings.permissionsBoundary: "bbbb`},
		{Settings{CompliancePacks: []string{"AwsSolutions", "NIST.800.53.R4", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"}}, ""},
		{Settings{CompliancePacks: []string{"PCI.DSS.321", "AwsSolutions"}}, ""},
		{Settings{CompliancePacks: []string{"AwsSolutions", "HIPAA"}}, `settings.compliancePacks[1]: "HIPAA": one of cdk-nag's packs: AwsSolutions, NIST.800.53.R4, NIST.800.53.R5, HIPAA.Security, PCI.DSS.321 (exactly so written)`},
		{Settings{CompliancePacks: []string{"AwsSolutions", "nist.800.53.r5"}}, `settings.compliancePacks[1]: "nist.800.53.r5": one of cdk-nag's packs`},
		{Settings{CompliancePacks: []string{"AwsSolutions", "PCI.DSS.321", "PCI.DSS.321"}}, `settings.compliancePacks[2]: "PCI.DSS.321": a pack not listed before; settings.compliancePacks[1] has it`},
		{Settings{CompliancePacks: []string{"HIPAA.Security"}}, `settings.compliancePacks: "[HIPAA.Security]": a list that includes AwsSolutions (it reviews every wildcard permission`},
		{Settings{CompliancePacks: []string{}}, `settings.compliancePacks: "[]": a list that includes AwsSolutions`},
	}
	for _, c := range cases {
		o := valid()
		o.Settings = c.settings
		_, err := o.Normalize()
		if c.want == "" {
			if err != nil {
				t.Errorf("%+v refused: %v", c.settings, err)
			}
			continue
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 1 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v\nwant one problem containing %s", c.settings, err, c.want)
		}
	}
}

func TestSettingsAreReadFromTheFile(t *testing.T) {
	o, err := Parse([]byte("settings:\n  historyPages: 25\n  cdkQualifier: team1\n"+base), "org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Settings{HistoryPages: 25, CdkQualifier: "team1", PermissionsBoundary: DefaultPermissionsBoundary,
		CompliancePacks: DefaultCompliancePacks}); !reflect.DeepEqual(o.Settings, want) {
		t.Errorf("settings %+v, want %+v", o.Settings, want)
	}
	// An empty list written in the file is not "unset": it is refused, never the default.
	_, err = Parse([]byte("settings:\n  compliancePacks: []\n"+base), "org.yaml")
	if err == nil || !strings.Contains(err.Error(), `settings.compliancePacks: "[]": a list that includes AwsSolutions`) {
		t.Errorf("empty compliancePacks: got %v", err)
	}
	o, err = Parse([]byte("settings:\n  compliancePacks: [AwsSolutions, HIPAA.Security]\n"+base), "org.yaml")
	if err != nil || !reflect.DeepEqual(o.Settings.CompliancePacks, []string{PackAwsSolutions, PackHIPAA}) {
		t.Errorf("compliancePacks from the file: %v, %v", o.Settings.CompliancePacks, err)
	}
	_, err = Parse([]byte("settings:\n  historypages: 25\n"+base), "org.yaml")
	if err == nil || !strings.Contains(err.Error(), `settings.historypages: "25": no such field; settings has historyPages, cdkQualifier, permissionsBoundary, compliancePacks (did you mean historyPages?) (line 2)`) {
		t.Errorf("misspelt setting: got %v", err)
	}
}

// The commented settings block of the default organisation shows the real defaults.
func TestDefaultYAMLShowsTheDefaultSettings(t *testing.T) {
	var lines []string
	uncommented, inBlock := 0, false
	for _, l := range strings.Split(string(DefaultYAML()), "\n") {
		inBlock = strings.HasPrefix(l, "# settings:") || inBlock && strings.HasPrefix(l, "#  ")
		if inBlock {
			l = strings.TrimPrefix(l, "# ")
			if !strings.HasPrefix(strings.TrimSpace(l), "#") {
				uncommented++
			}
		}
		lines = append(lines, l)
	}
	if uncommented != 5 {
		t.Fatalf("uncommented %d lines of the settings block, want 5:\n%s", uncommented, strings.Join(lines, "\n"))
	}
	o, err := Parse([]byte(strings.Join(lines, "\n")), "default-organization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.Settings, Default().Settings) || o.Settings.HistoryPages != DefaultHistoryPages || o.Settings.CdkQualifier != DefaultCdkQualifier {
		t.Errorf("the block says %+v, the defaults are %+v", o.Settings, Default().Settings)
	}
}

func TestWatchAndWindowDefaultsAndProblems(t *testing.T) {
	o := Default()
	p, err := o.Path("payments", "checkout")
	if err != nil {
		t.Fatal(err)
	}
	stg, _ := p.Environment("stg")
	prd, _ := p.Environment("prd")
	dev, _ := p.Environment("dev")
	if got := stg.Watch.Alarms; len(got) != 1 || got[0] != "payments-checkout-stg-health" {
		t.Errorf("stg watches %v, want the conventional payments-checkout-stg-health", got)
	}
	if stg.BakeTime() != 10*time.Minute || prd.BakeTime() != 15*time.Minute || stg.EntryWait() != 15*time.Minute {
		t.Errorf("bake stg %s prd %s, wait %s", stg.BakeTime(), prd.BakeTime(), stg.EntryWait())
	}
	if dev.Watch != nil || dev.BakeTime() != 0 {
		t.Errorf("dev watches %v", dev.Watch)
	}
	if !prd.RollsBackOnFailure() || stg.RollsBackOnFailure() || dev.RollsBackOnFailure() {
		t.Errorf("rollback on failure: dev %v stg %v prd %v, want only prd (the last)", dev.RollsBackOnFailure(), stg.RollsBackOnFailure(), prd.RollsBackOnFailure())
	}
	if w, ok := prd.DeployWindow(); !ok || w.RuleCron() != "* * 9-16 ? * MON-THU *" || w.TimeZone() != "Europe/Berlin" {
		t.Errorf("prd window %v %v", w, ok)
	}
	if !prd.HasApproverRole() || stg.HasApproverRole() {
		t.Errorf("approver role: stg %v prd %v", stg.HasApproverRole(), prd.HasApproverRole())
	}

	_, err = Parse([]byte(`
registry: {account: "111111111111", region: eu-west-1}
teams:
  - name: t1
    services:
      - name: s1
        environments:
          - name: dev
            account: "222222222222"
            region: eu-west-1
            rollbackOnFailure: true
          - name: prd
            account: "333333333333"
            region: eu-west-1
            watch: {alarms: [a, b, c, d, a], bake: 90s, wait: 4h}
            window: {cron: "0 9 * * 1-5", duration: 9h, timeZone: Mars/Olympus}
          - name: qa
            account: "444444444444"
            region: eu-west-1
            watch: {alarms: ["errors-*"]}
`), "org.yaml")
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("err = %v, want a ValidationError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`environments[1].watch.alarms: "5 alarms": at most 4 alarm names`,
		`environments[1].watch.alarms[4]: "a": an alarm not already listed; alarms[0] is the same`,
		`environments[1].watch.bake: "90s": whole minutes`,
		`environments[1].watch.wait: "4h": whole minutes as a Go duration, e.g. 10m or 1h, from 0m to 180m`,
		`environments[1].window.cron: "0 9 * * 1-5": day-of-week`,
		`environments[1].window.timeZone: "Mars/Olympus": an IANA time zone`,
		`environments[2].watch.alarms[0]: "errors-*": a CloudWatch alarm name`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "rollbackOnFailure") {
		t.Errorf("rollbackOnFailure: true in the first environment is allowed:\n%s", msg)
	}
}

func TestVulnerabilityGateDefaultsAndProblems(t *testing.T) {
	p, err := Default().Path("payments", "checkout")
	if err != nil {
		t.Fatal(err)
	}
	dev, _ := p.Environment("dev")
	stg, _ := p.Environment("stg")
	prd, _ := p.Environment("prd")
	if dev.Vulnerabilities != nil {
		t.Errorf("dev, where the image is built, has a gate: %+v", *dev.Vulnerabilities)
	}
	if got := stg.VulnerabilityThreshold(); got != vulnscan.None {
		t.Errorf("stg refuses %s, want NONE (report only: stg is not the last environment)", got)
	}
	if got := prd.VulnerabilityThreshold(); got != vulnscan.Critical {
		t.Errorf("prd refuses %s, want CRITICAL (the last environment)", got)
	}
	if stg.UnscannedImages() != vulnscan.Refuse || prd.UnscannedImages() != vulnscan.Refuse {
		t.Errorf("unscanned: stg %s prd %s, want refuse", stg.UnscannedImages(), prd.UnscannedImages())
	}
	if Default().Registry.Scanning != ScanningBasic {
		t.Errorf("registry scanning %q, want %q by default", Default().Registry.Scanning, ScanningBasic)
	}

	o, err := Parse([]byte(`
registry: {account: "111111111111", region: eu-west-1, scanning: enhanced}
teams:
  - name: t1
    services:
      - name: s1
        environments:
          - {name: dev, account: "222222222222", region: eu-west-1}
          - name: stg
            account: "333333333333"
            region: eu-west-1
            vulnerabilities: {refuse: high, unscanned: ALLOW}
          - {name: prd, account: "444444444444", region: eu-west-1, vulnerabilities: {refuse: none}}
`), "org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p = o.Paths()[0]
	stg, _ = p.Environment("stg")
	prd, _ = p.Environment("prd")
	if stg.VulnerabilityThreshold() != vulnscan.High || stg.UnscannedImages() != vulnscan.Allow || stg.Vulnerabilities.Refuse != "HIGH" || stg.Vulnerabilities.Unscanned != "allow" {
		t.Errorf("stg gate %+v: want HIGH and allow, written in their canonical case", *stg.Vulnerabilities)
	}
	if prd.VulnerabilityThreshold() != vulnscan.None || prd.UnscannedImages() != vulnscan.Refuse {
		t.Errorf("prd gate %+v: want NONE as written, unscanned refuse by default", *prd.Vulnerabilities)
	}
	if o.Registry.Scanning != ScanningEnhanced {
		t.Errorf("registry scanning %q", o.Registry.Scanning)
	}

	_, err = Parse([]byte(`
registry: {account: "111111111111", region: eu-west-1, scanning: inspector}
teams:
  - name: t1
    services:
      - name: s1
        environments:
          - {name: dev, account: "222222222222", region: eu-west-1, vulnerabilities: {refuse: HIGH}}
          - {name: prd, account: "333333333333", region: eu-west-1, vulnerabilities: {refuse: SEVERE, unscanned: maybe}}
`), "org.yaml")
	msg := fmt.Sprint(err)
	for _, want := range []string{
		`registry.scanning: "inspector": "basic" (ECR scan on push) or "enhanced" (Amazon Inspector)`,
		`environments[0].vulnerabilities: "set": absent in an environment without an upstream`,
		`environments[1].vulnerabilities.refuse: "SEVERE": one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL`,
		`environments[1].vulnerabilities.unscanned: "maybe": refuse (fail closed until the scan completes) or allow`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
}

func TestPermissionsBoundaryIsNamedPerAccount(t *testing.T) {
	p, err := Default().Path("payments", "checkout")
	if err != nil {
		t.Fatal(err)
	}
	prd, _ := p.Environment("prd")
	if got, ok := p.PermissionsBoundaryName(prd); !ok || got != "cdk-hnb659fds-permissions-boundary-444444444444-eu-west-1" {
		t.Errorf("default boundary in prd: %q %v, want CDK's example boundary of that account", got, ok)
	}
	p.Settings = Settings{CdkQualifier: "team1", PermissionsBoundary: "org-${Qualifier}-${AWS::Region}"}
	if got, _ := p.PermissionsBoundaryName(prd); got != "org-team1-eu-west-1" {
		t.Errorf("custom boundary: %q", got)
	}
	p.Settings.PermissionsBoundary = NoPermissionsBoundary
	if got, ok := p.PermissionsBoundaryName(prd); ok {
		t.Errorf("none gives %q", got)
	}
}
