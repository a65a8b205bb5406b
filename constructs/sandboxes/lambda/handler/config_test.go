package handler_test

import (
	"strings"
	"testing"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/sandboxes/lambda/handler"
)

func goodEnv() map[string]string {
	return map[string]string{
		"TABLE_NAME": table, "PROJECT_NAME": project, "TOPIC_ARN": topic, "REPOSITORY_NAME": repo,
		"MAX_SANDBOXES": "3", "SANDBOX_TTL": "72h", "SANDBOX_WARNING": "18h",
		"BUCKET": "payments-checkout-dev-artifacts", "PATH_ID": "payments-checkout", "ENVIRONMENT": "dev",
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := goodEnv()
	c, err := handler.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || c != testConfig(3) {
		t.Fatalf("ConfigFromEnv = %+v, %v\nwant %+v", c, err, testConfig(3))
	}
	if cc := c.Controller(); cc.Max != 3 || cc.TTL != 72*time.Hour || cc.Warning != 18*time.Hour || cc.Repository != repo || cc.Project != project {
		t.Errorf("Controller() = %+v", cc)
	}
}

// TestConfigFromEnvNamesEveryProblem: each bad variable is named with its value and what is
// allowed; all of them at once are all named.
func TestConfigFromEnvNamesEveryProblem(t *testing.T) {
	for _, tc := range []struct{ key, value, want string }{
		{"TABLE_NAME", "", `TABLE_NAME="": required, a DynamoDB table name`},
		{"TABLE_NAME", "a b", `TABLE_NAME="a b": required, a DynamoDB table name`},
		{"PROJECT_NAME", "-x", `PROJECT_NAME="-x": required, a CodeBuild project name`},
		{"TOPIC_ARN", "payments-checkout-dev-notifications", `TOPIC_ARN="payments-checkout-dev-notifications": required, an SNS topic ARN`},
		{"REPOSITORY_NAME", "a/b", `REPOSITORY_NAME="a/b": required, a CodeCommit repository name`},
		{"MAX_SANDBOXES", "0", `MAX_SANDBOXES="0": required, a whole number from 1 to 20`},
		{"MAX_SANDBOXES", "21", `MAX_SANDBOXES="21"`},
		{"MAX_SANDBOXES", "three", `MAX_SANDBOXES="three"`},
		{"SANDBOX_TTL", "3d", `SANDBOX_TTL="3d": required, whole hours as a Go duration from 1h to 720h`},
		{"SANDBOX_TTL", "90m", `SANDBOX_TTL="90m"`},
		{"SANDBOX_TTL", "721h", `SANDBOX_TTL="721h"`},
		{"SANDBOX_WARNING", "72h", `SANDBOX_WARNING="72h": required, a Go duration above 0 and below SANDBOX_TTL`},
		{"SANDBOX_WARNING", "-1h", `SANDBOX_WARNING="-1h"`},
		{"BUCKET", "My_Bucket", `BUCKET="My_Bucket": required, an S3 bucket name`},
		{"PATH_ID", "Payments Checkout", `PATH_ID="Payments Checkout": required, the path's id`},
		{"ENVIRONMENT", "development", `ENVIRONMENT="development": required, an environment name`},
	} {
		env := goodEnv()
		env[tc.key] = tc.value
		_, err := handler.ConfigFromEnv(func(k string) string { return env[k] })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: err = %v, want %q", tc.key, tc.value, err, tc.want)
		}
	}
	_, err := handler.ConfigFromEnv(func(string) string { return "" })
	for k := range goodEnv() {
		if err == nil || !strings.Contains(err.Error(), k+`=""`) {
			t.Errorf("with nothing set, %s is not named: %v", k, err)
		}
	}
}
