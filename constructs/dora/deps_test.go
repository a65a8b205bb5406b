package dora_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTheMetricsAreAPurePackage: ship and the dashboard's Lambda both import the
// metrics; they carry no jsii (a Node process), no Lambda runtime and no credentials.
func TestTheMetricsAreAPurePackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed only %v", deps)
	}
	for _, d := range deps {
		for _, f := range []string{"github.com/aws/jsii-runtime-go", "github.com/aws/aws-cdk-go", "github.com/aws/aws-lambda-go", "github.com/aws/aws-sdk-go-v2/credentials"} {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("dora depends on %s", d)
			}
		}
	}
}
