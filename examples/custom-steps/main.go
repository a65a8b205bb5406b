// Command custom-steps is a service team's pipeline app that extends the platform's
// pipeline with its own commands and steps (see package storefront).
//
//	cdk synth --app "go run ./examples/custom-steps"
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/platform-eng/pathtoprod/constructs/jsiiexit"
	"github.com/platform-eng/pathtoprod/constructs/platform"
	"github.com/platform-eng/pathtoprod/examples/custom-steps/storefront"
)

func main() {
	err := run()
	jsiiexit.Close() // before the error: see its doc for jsii's stray line
	if err != nil {
		fmt.Fprintln(os.Stderr, "custom-steps:", err)
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	platform.AddChecks(app)
	if _, err := storefront.NewStacks(app); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}
