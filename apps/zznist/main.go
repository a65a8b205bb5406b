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
	dir := os.Args[1]
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir)})
	platform.AddChecks(app)
	if _, err := platform.Build(app, org.Default(), platform.Options{}); err != nil {
		panic(err)
	}
	app.Synth(nil)
	fmt.Println("dir", dir)
	jsiiexit.Close()
}
