package gate_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTheRuleIsAPurePackage: the rule, its paging and its verdict carry no Lambda runtime,
// ECR or credential-cache code, and the ship CLI, which imports the rule, none either.
func TestTheRuleIsAPurePackage(t *testing.T) {
	forbidden := []string{
		"github.com/aws/aws-lambda-go",
		"github.com/aws/aws-sdk-go-v2/service/ecr",
		"github.com/aws/aws-sdk-go-v2/credentials",
		"github.com/aws/jsii-runtime-go",
	}
	for _, pkg := range []string{".", "../../../apps/ship"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("go list -deps %s listed only %v", pkg, deps)
		}
		for _, d := range deps {
			for _, f := range forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					if pkg == "." || f != "github.com/aws/aws-sdk-go-v2/credentials" {
						t.Errorf("%s depends on %s", pkg, d)
					}
				}
			}
		}
	}
}
