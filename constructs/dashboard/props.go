package dashboard

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// settings are the props with every default applied; the caller's struct is never written.
type settings struct {
	Props
	env      org.Environment
	steps    []string
	alarms   []string // the health alarm, then the watched ones, without repeats
	maxPages int
}

// resolve checks the props, collecting every problem (each naming the prop, the value and
// what is allowed), and applies the defaults.
func resolve(props Props) (settings, error) {
	s := settings{Props: props}
	var problems []string
	bad := func(field, value, allowed string) {
		problems = append(problems, fmt.Sprintf("%s: %q: %s", field, value, allowed))
	}
	env, err := props.Path.Environment(props.Environment)
	if err != nil {
		bad("Environment", props.Environment, "the name of one of the path's environments: "+err.Error())
	}
	s.env = env

	s.maxPages = props.Path.Settings.HistoryPages
	if s.maxPages == 0 {
		s.maxPages = org.DefaultHistoryPages
	}
	if s.maxPages < 1 || s.maxPages > org.MaxHistoryPages {
		bad("Path.Settings.HistoryPages", fmt.Sprint(s.maxPages), fmt.Sprintf("1 to %d pages of %d executions", org.MaxHistoryPages, org.HistoryPageSize))
	}
	switch {
	case s.ReservedConcurrency == 0:
		s.ReservedConcurrency = DefaultReservedConcurrency
	case s.ReservedConcurrency < NoReservedConcurrency:
		bad("ReservedConcurrency", fmt.Sprint(s.ReservedConcurrency),
			fmt.Sprintf("a positive number, 0 for the default (%d), or NoReservedConcurrency (-1)", DefaultReservedConcurrency))
	}
	if s.Timeout == nil {
		s.Timeout = awscdk.Duration_Seconds(jsii.Number(DefaultTimeout))
	} else if secs := *s.Timeout.ToSeconds(nil); secs < 5 || secs > 900 {
		bad("Timeout", fmt.Sprintf("%g seconds", secs), "5 to 900 seconds (the widget keeps 2 seconds of it to show what went wrong)")
	}
	s.steps = append([]string(nil), props.Steps...)
	if len(s.steps) == 0 && env.Name != "" {
		if props.Path.IsFirst(env) {
			s.steps = append(s.steps, StepBuild)
		}
		s.steps = append(s.steps, StepDeploy, StepVerify)
	}
	for i, st := range s.steps {
		if !stepName.MatchString(st) {
			bad(fmt.Sprintf("Steps[%d]", i), st, "a step name: a letter, then up to 39 letters or digits (the project is <pipeline>-<lowercased step>)")
		}
	}
	if env.Name != "" {
		seen := map[string]bool{}
		names := []string{props.Path.HealthAlarmName(env.Name)}
		if env.Watch != nil {
			names = append(names, env.Watch.Alarms...)
		}
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				s.alarms = append(s.alarms, n)
			}
		}
	}
	if len(problems) > 0 {
		return settings{}, errors.New(strings.Join(problems, "\n  "))
	}
	return s, nil
}
