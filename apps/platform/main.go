// Command platform is the CDK app the platform team runs (`npx cdk synth`, `npx cdk deploy`):
// it reads the organization description and synthesizes every path's pipeline stacks, or
// only one account's.
//
//	npx cdk synth --quiet                             # the embedded example organization
//	npx cdk synth --quiet -c config=organization.yaml # your own file
//	npx cdk synth --quiet -c config=organization.yaml -c account=333333333333   # one account only
//
// Templates go to cdk.out/. --quiet matters when one stack is selected: without it the CLI
// also prints that stack's template (over 1,000 lines) to the terminal.
//
// The target account comes from the `account` context, else from CDK_DEPLOY_ACCOUNT, which
// org-formation's update-cdk task sets to the account it deploys to (the keys are
// platform.ContextConfig, platform.ContextAccount and platform.EnvDeployAccount). Bad input ends with a
// message naming every problem and exit status 1.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/jsiiexit"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/platform"
)

func main() {
	err := run()
	// Before the error is printed: CloseJSII's output (none, normally) is then complete, and
	// jsii's stray "waitid" line can no longer be glued to ours.
	jsiiexit.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "platform:", err)
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	cfg, err := contextString(app, platform.ContextConfig)
	if err != nil {
		return err
	}
	account, err := contextString(app, platform.ContextAccount)
	if err != nil {
		return err
	}
	if account == "" {
		account = os.Getenv(platform.EnvDeployAccount)
	}
	o := org.Default()
	if cfg != "" {
		if o, err = org.Load(cfg); err != nil {
			return err
		}
	}
	platform.AddChecks(app, o.Settings.CompliancePacks...)
	if _, err := platform.Build(app, o, platform.Options{Account: account}); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}

// contextString reads a `-c key=value` context value; absent is "".
func contextString(app awscdk.App, key string) (string, error) {
	v := app.Node().TryGetContext(jsii.String(key))
	switch s := v.(type) {
	case nil:
		return "", nil
	case string:
		return s, nil
	default:
		return "", fmt.Errorf("context %s: %v: must be a string (pass -c %s=VALUE)", key, v, key)
	}
}
