// Command defaults is a service team's pipeline app with all defaults: one pipeline stack
// per environment of search/indexer, checked by cdk-nag.
//
//	cdk synth --app "go run ./examples/defaults"
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/platform-eng/pathtoprod/constructs/jsiiexit"
	"github.com/platform-eng/pathtoprod/constructs/platform"
	"github.com/platform-eng/pathtoprod/examples/defaults/defaults"
)

func main() {
	err := run()
	jsiiexit.Close() // before the error: see its doc for jsii's stray line
	if err != nil {
		fmt.Fprintln(os.Stderr, "defaults:", err)
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	platform.AddChecks(app)
	if _, err := defaults.NewStacks(app); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}
