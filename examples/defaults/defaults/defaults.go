// Package defaults is a service team's pipeline app with nothing customised: the search
// team's indexer, as the platform team's organisation describes it, gets one pipeline stack
// per environment, each in that environment's account and region.
//
//	app := awscdk.NewApp(nil)
//	platform.AddChecks(app)
//	stacks, err := defaults.NewStacks(app)
//	app.Synth(nil)
package defaults

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// Team and Service name the path this app provisions.
const (
	Team    = "search"
	Service = "indexer"
)

// NewStacks adds one pipeline stack per environment of search/indexer to app, in
// environment order, named org.Path.StackName. A construct that rejects its props panics,
// as CDK constructs do; NewStacks returns that as an error instead.
func NewStacks(app awscdk.App) (stacks []awscdk.Stack, err error) {
	o := org.Default()
	path, err := o.Path(Team, Service)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			stacks, err = nil, fmt.Errorf("%v", r)
		}
	}()
	for _, e := range path.Environments {
		name := path.StackName(e.Name)
		stack := awscdk.NewStack(app, jsii.String(name), &awscdk.StackProps{
			StackName: jsii.String(name),
			Env:       &awscdk.Environment{Account: jsii.String(e.Account), Region: jsii.String(e.Region)},
		})
		envpipeline.NewEnvPipeline(stack, jsii.String("Pipeline"), &envpipeline.EnvPipelineProps{
			Path:        path,
			Environment: e.Name,
			Registry:    &o.Registry,
		})
		stacks = append(stacks, stack)
	}
	return stacks, nil
}
