package ship

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/platform-eng/pathtoprod/constructs/deploywindow"
	"github.com/platform-eng/pathtoprod/constructs/org"
)

// windowState is an environment's deployment window at one moment, computed locally from
// the organisation file (deploywindow, the package the pipeline's rule is made from), so
// it needs no AWS call.
type windowState struct {
	w    deploywindow.Window
	open bool
	// opens and closes are the window open now, else the next one; zero if it never opens.
	opens, closes time.Time
}

// windowAt is env's window at now, nil if env has none (it may deploy at any time).
func windowAt(env org.Environment, now time.Time) *windowState {
	w, ok := env.DeployWindow()
	if !ok {
		return nil
	}
	opens, closes := w.Next(now)
	return &windowState{w: w, open: w.Open(now), opens: opens, closes: closes}
}

// text is the window for a person: "open now until 17:00 Europe/Berlin" or "closed,
// opens Mon 2 Mar 09:00 Europe/Berlin (in 20h)", then what the window is.
func (ws *windowState) text(now time.Time) string {
	what := "window " + ws.w.String()
	switch {
	case ws.open:
		return fmt.Sprintf("open now until %s %s (%s)", clock(ws.closes), ws.w.TimeZone(), what)
	case ws.opens.IsZero():
		return fmt.Sprintf("closed, and its cron matches no day in the next eight years: nothing deploys (%s)", what)
	default:
		return fmt.Sprintf("closed, opens %s %s (in %s); a run waits at Deploy's entry until then (%s)",
			ws.opens.Format("Mon 2 Jan 15:04"), ws.w.TimeZone(), age(ws.opens.Sub(now)), what)
	}
}

// clock is a window's end as people write it: 17:00, or 24:00 for midnight.
func clock(t time.Time) string {
	if t.Hour() == 0 && t.Minute() == 0 {
		return "24:00"
	}
	return t.Format("15:04")
}

// alarmsState is what status found of the alarms env's Deploy stage watches.
type alarmsState struct {
	// alarms are the watched alarms, in the organisation file's order.
	alarms []alarmState
	// err is why they could not be read: they are unknown, the rest of status stands.
	err error
}

// alarmState is one watched alarm: its state and since when, or missing.
type alarmState struct {
	Name string
	// State is OK, ALARM or INSUFFICIENT_DATA; "" when the alarm does not exist.
	State string
	// Since is when the alarm went into State.
	Since time.Time
	// Reason is CloudWatch's StateReason.
	Reason string
	// Composite says it is a composite alarm.
	Composite bool
}

// missing reports whether CloudWatch has no alarm of that name: the watch names an alarm
// the service's stacks have not created (yet), so nothing is watched under that name.
func (a alarmState) missing() bool { return a.State == "" }

// readAlarms reads the state of env's watched alarms with one DescribeAlarms call, metric
// and composite alarms both (CloudWatch returns composite ones only when asked). nil if
// env watches none.
func readAlarms(ctx context.Context, acc Account, env org.Environment) *alarmsState {
	if env.Watch == nil || len(env.Watch.Alarms) == 0 {
		return nil
	}
	st := &alarmsState{}
	for _, n := range env.Watch.Alarms {
		st.alarms = append(st.alarms, alarmState{Name: n})
	}
	if acc.Alarms == nil {
		st.err = fmt.Errorf("no CloudWatch client for %s", env.Name)
		return st
	}
	out, err := acc.Alarms.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{
		AlarmNames: env.Watch.Alarms,
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
	})
	if err != nil {
		st.err = err
		return st
	}
	set := func(name string, a alarmState) {
		for i := range st.alarms {
			if st.alarms[i].Name == name {
				a.Name = name
				st.alarms[i] = a
			}
		}
	}
	since := func(transitioned, updated *time.Time) time.Time {
		if transitioned != nil {
			return transitioned.UTC()
		}
		return aws.ToTime(updated).UTC()
	}
	for _, a := range out.MetricAlarms {
		set(aws.ToString(a.AlarmName), alarmState{State: string(a.StateValue), Reason: aws.ToString(a.StateReason),
			Since: since(a.StateTransitionedTimestamp, a.StateUpdatedTimestamp)})
	}
	for _, a := range out.CompositeAlarms {
		set(aws.ToString(a.AlarmName), alarmState{State: string(a.StateValue), Reason: aws.ToString(a.StateReason),
			Since: since(a.StateTransitionedTimestamp, a.StateUpdatedTimestamp), Composite: true})
	}
	return st
}

// lines are the alarms for a person, one per alarm: "name: ALARM since <time> (reason)",
// "name: missing (...)", or one "unknown (<why>)" when CloudWatch could not be read.
func (st *alarmsState) lines(env org.Environment) []string {
	if st.err != nil {
		return []string{fmt.Sprintf("unknown (%v)", st.err)}
	}
	var out []string
	for _, a := range st.alarms {
		switch {
		case a.missing():
			out = append(out, fmt.Sprintf("%s: missing (no such alarm in account %s, %s; the watch names it, so create it in the service's stacks)",
				a.Name, env.Account, env.Region))
		case a.State == string(cwtypes.StateValueOk):
			out = append(out, fmt.Sprintf("%s: OK since %s", a.Name, formatTime(a.Since)))
		default:
			reason := ""
			if a.Reason != "" {
				reason = " (" + strings.TrimSpace(a.Reason) + ")"
			}
			then := ""
			if a.State == string(cwtypes.StateValueAlarm) {
				wait := "a run reaching Deploy fails at once"
				if d := env.EntryWait(); d > 0 {
					wait = fmt.Sprintf("a run waits at Deploy's entry (up to %s, then fails)", age(d))
				}
				then = "; while it is, " + wait + " and a run baking is rolled back"
			}
			out = append(out, fmt.Sprintf("%s: %s since %s%s%s", a.Name, a.State, formatTime(a.Since), reason, then))
		}
	}
	return out
}
