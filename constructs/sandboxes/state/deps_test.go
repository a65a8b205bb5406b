package state_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStateAndControllerArePurePackages: ship, the controller Lambda and the tests import
// them; they carry no jsii (a Node process), no CDK and no Lambda runtime, and the
// controller.s decisions no CodeBuild or SNS client.
func TestStateAndControllerArePurePackages(t *testing.T) {
	for pkg, forbidden := range map[string][]string{
		".":                    {"github.com/aws/jsii-runtime-go", "github.com/aws/aws-cdk-go", "github.com/aws/constructs-go", "github.com/aws/aws-lambda-go"},
		"../controller":        {"github.com/aws/jsii-runtime-go", "github.com/aws/aws-cdk-go", "github.com/aws/constructs-go", "github.com/aws/aws-lambda-go", "github.com/aws/aws-sdk-go-v2/service/codebuild", "github.com/aws/aws-sdk-go-v2/service/sns"},
		"../lambda/controller": {"github.com/aws/jsii-runtime-go", "github.com/aws/aws-cdk-go", "github.com/aws/constructs-go"},
	} {
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
					t.Errorf("%s depends on %s", pkg, d)
				}
			}
		}
	}
}
