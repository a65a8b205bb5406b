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
	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/platform"
)

// Team and Service name the path this app provisions.
const (
	Team    = "search"
	Service = "indexer"
)

// NewStacks adds one pipeline stack per environment of search/indexer to app, in
// environment order, named org.Path.StackName, each in its environment's account: the
// library's platform.NewPathStacks with nothing configured.
func NewStacks(app awscdk.App) ([]awscdk.Stack, error) {
	o := org.Default()
	path, err := o.Path(Team, Service)
	if err != nil {
		return nil, err
	}
	made, err := platform.NewPathStacks(app, path, &o.Registry, nil)
	if err != nil {
		return nil, err
	}
	var stacks []awscdk.Stack
	for _, m := range made {
		stacks = append(stacks, m.Stack)
	}
	return stacks, nil
}
