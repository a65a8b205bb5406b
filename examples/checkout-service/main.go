// Command checkout-service is the payments team's service app: what its repository's
// cdk.json runs and what the pipeline's Deploy step deploys with `npx cdk deploy --all`.
// It takes the promoted image and the target from the variables the pipeline sets:
//
//	IMAGE_URI=111111111111.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout@sha256:<64 hex> \
//	ENVIRONMENT=stg TARGET_ACCOUNT=333333333333 TARGET_REGION=eu-west-1 \
//	  cdk synth --app "go run ./examples/checkout-service"
//
// A missing or malformed variable ends with a message naming each one, its value and what
// is allowed, and exit status 1.
//
// A sandbox's build synthesizes it the same way in dev, with SANDBOX set (and the context
// sandbox=<name>) and IMAGE_URI naming the path's sandbox repository there: both stacks then
// end in -sandbox-<name> and everything in them is deleted with the sandbox (package
// checkout, "Sandboxes"):
//
//	SANDBOX=alice IMAGE_URI=222222222222.dkr.ecr.eu-west-1.amazonaws.com/payments/checkout/sandboxes@sha256:<64 hex> \
//	ENVIRONMENT=dev TARGET_ACCOUNT=222222222222 TARGET_REGION=eu-west-1 \
//	  cdk synth --app "go run ./examples/checkout-service" --context sandbox=alice
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/platform-eng/pathtoprod/constructs/jsiiexit"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/platform"
	"github.com/platform-eng/pathtoprod/examples/checkout-service/checkout"
)

func main() {
	err := run()
	jsiiexit.Close() // before the error: see its doc for jsii's stray line
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkout-service:", err)
		os.Exit(1)
	}
}

func run() error {
	o := org.Default() // the organisation the platform team vends; its own file in real life
	path, err := o.Path("payments", "checkout")
	if err != nil {
		return err
	}
	// Validated before the CDK app starts: bad input never reaches a construct.
	cfg, err := checkout.ConfigFromEnv(path, o.Registry, os.Getenv)
	if err != nil {
		return err
	}
	app := awscdk.NewApp(nil)
	platform.AddChecks(app)
	checkout.NewStacks(app, cfg)
	app.Synth(nil)
	return nil
}
