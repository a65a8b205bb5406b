package compliance

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// Every pack the organisation file may name can be run, and nothing else. (Whether each
// pack then finds nothing in the platform's stacks is test/'s TestDefaultOrganizationHasNoNagErrors,
// which runs them all.)
func TestEveryPackTheOrganisationMayNameCanRun(t *testing.T) {
	if len(newPack) != len(org.CompliancePackNames) {
		t.Errorf("AddChecks knows %d packs, the organisation file may name %d", len(newPack), len(org.CompliancePackNames))
	}
	for _, p := range org.CompliancePackNames {
		if newPack[p] == nil {
			t.Errorf("the organisation file may name %s, which AddChecks cannot run", p)
		}
	}
	if !reflect.DeepEqual(DefaultPacks, []string{"AwsSolutions", "NIST.800.53.R5"}) {
		t.Errorf("DefaultPacks %v", DefaultPacks)
	}
}

// A pack AddChecks cannot run, or one named twice, is refused before anything is added
// (the panic comes before any jsii call, so no scope is needed to see it).
func TestAddChecksRefusesUnknownAndRepeatedPacks(t *testing.T) {
	for _, packs := range [][]string{{"HIPAA"}, {"AwsSolutions", "nist.800.53.r5"}, {"PCI.DSS.321", "AwsSolutions", "PCI.DSS.321"}} {
		got := func() (msg string) {
			defer func() { msg = fmt.Sprint(recover()) }()
			AddChecks(nil, packs...)
			return ""
		}()
		want := "want each of AwsSolutions, NIST.800.53.R4, NIST.800.53.R5, HIPAA.Security, PCI.DSS.321 at most once"
		if !strings.HasPrefix(got, "compliance.AddChecks: pack ") || !strings.Contains(got, want) {
			t.Errorf("AddChecks(%v): panic %q, want one naming the pack and %q", packs, got, want)
		}
	}
}

// An exception is recorded under the id each rule-sharing pack gives the rule.
func TestRuleIDsNameTheRuleInEveryPackThatSharesIt(t *testing.T) {
	want := []string{"NIST.800.53.R4-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", "HIPAA.Security-LambdaDLQ", "PCI.DSS.321-LambdaDLQ"}
	if got := RuleIDs("LambdaDLQ"); !reflect.DeepEqual(got, want) {
		t.Errorf("RuleIDs %v, want %v", got, want)
	}
}
