package envpipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// The Deploy stage's conditions (CodePipeline V2 stage conditions), from the environment's
// Watch, Window and RollbackOnFailure:
//
//   - Entry (result FAIL): the DeploymentWindow rule WindowRule holds the run until the window
//     opens; a CloudWatchAlarm rule per watched alarm (EntryAlarmRule) fails the run if the
//     alarm is in ALARM and stays there for Watch.Wait. Nothing deploys into an incident.
//   - On success (result ROLLBACK): a CloudWatchAlarm rule per watched alarm (BakeAlarmRule)
//     watches it for Watch.Bake after deploy and verify succeeded; ALARM rolls the stage back
//     to its previous successful execution, which redeploys and re-verifies that commit.
//   - On failure (result ROLLBACK, with RollbackOnFailure): a failed deploy or verify rolls
//     the stage back the same way.
//
// The window and the alarms share the one entry condition (BeforeEntry takes one). CodePipeline
// documents that an alarm rule may succeed while the window rule still holds the run and is
// not checked again when the window opens, so a run can enter Deploy while an alarm that went
// into ALARM in between still is. The bake is the backstop: an alarm in ALARM during the bake
// rolls the deploy back. The rule order (window first) costs nothing and helps if CodePipeline
// ever evaluates the rules in order.

// Rule names are part of the contract: the console, GetPipelineState and the ship CLI show
// them, and CodePipeline requires them unique within the pipeline.
const (
	// WindowRule is the DeploymentWindow rule of the Deploy stage's entry condition.
	WindowRule = "DeployWindow"
	// entryAlarmPrefix and bakeAlarmPrefix start the names of the CloudWatchAlarm rules.
	entryAlarmPrefix = "Entry-"
	bakeAlarmPrefix  = "Bake-"
	// maxRuleName is CodePipeline's limit on a rule name.
	maxRuleName = 100
)

// ruleNameChars are the characters CodePipeline accepts in a rule name.
var ruleNameChars = regexp.MustCompile(`^[A-Za-z0-9.@_-]+$`)

// EntryAlarmRule is the name of the entry condition's rule that checks the watched alarm
// alarm: "Entry-" and the alarm's name (see alarmRuleName).
func EntryAlarmRule(alarm string) string { return alarmRuleName(entryAlarmPrefix, alarm) }

// BakeAlarmRule is the name of the on-success condition's rule that watches the alarm alarm
// during the bake: "Bake-" and the alarm's name (see alarmRuleName).
func BakeAlarmRule(alarm string) string { return alarmRuleName(bakeAlarmPrefix, alarm) }

// alarmRuleName is prefix and the alarm's name when that is a valid rule name (letters,
// digits, '.', '@', '_' and '-', at most 100 characters in all), so that a failed rule names
// its alarm. Otherwise every other character becomes '_', the name is cut to fit, and "-" and
// the first 8 hex digits of the name's SHA-256 follow, which keeps two alarms that differ only
// in those characters, or after the cut, apart. The name depends on the alarm's name alone.
func alarmRuleName(prefix, alarm string) string {
	if ruleNameChars.MatchString(alarm) && len(prefix)+len(alarm) <= maxRuleName {
		return prefix + alarm
	}
	sum := sha256.Sum256([]byte(alarm))
	suffix := "-" + hex.EncodeToString(sum[:])[:8]
	var b strings.Builder
	for _, r := range alarm {
		if r < 0x80 && ruleNameChars.MatchString(string(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	safe := b.String()
	if room := maxRuleName - len(prefix) - len(suffix); len(safe) > room {
		safe = safe[:room]
	}
	return prefix + safe + suffix
}

// ruleNameProblems returns a problem for each watched alarm whose rule names another alarm's
// rule has too (only possible when one alarm is literally named like another's hashed form).
func ruleNameProblems(env org.Environment) []string {
	if env.Watch == nil {
		return nil
	}
	var problems []string
	seen := map[string]int{}
	for i, a := range env.Watch.Alarms {
		name := EntryAlarmRule(a)
		if j, dup := seen[name]; dup {
			problems = append(problems, fmt.Sprintf("Watch.Alarms[%d]: %q: an alarm whose rule name %q differs from that of alarms[%d]; rename one of the alarms", i, a, name, j))
		}
		seen[name] = i
	}
	return problems
}

// minutes is d in whole minutes, as the CloudWatchAlarm rule's WaitTime takes it.
func minutes(d time.Duration) string { return strconv.Itoa(int(d / time.Minute)) }

// alarmRule is a CloudWatchAlarm rule: it fails when alarm is in ALARM at the end of wait.
// "AlarmStates": only ALARM engages the result; INSUFFICIENT_DATA (a new alarm, a metric
// without data) does not block a deploy.
func alarmRule(name, alarm string, wait time.Duration) awscodepipeline.Rule {
	return awscodepipeline.NewRule(&awscodepipeline.RuleProps{
		Name:     jsii.String(name),
		Provider: jsii.String("CloudWatchAlarm"),
		Version:  jsii.String("1"),
		Configuration: &map[string]interface{}{
			"AlarmName":   alarm,
			"AlarmStates": "ALARM",
			"WaitTime":    minutes(wait),
		},
	})
}

// deployConditions are the Deploy stage's conditions; a nil field means that condition is not
// configured (an environment without watch, window or rollback has none).
type deployConditions struct {
	beforeEntry *awscodepipeline.Conditions
	onSuccess   *awscodepipeline.Conditions
	onFailure   *awscodepipeline.FailureConditions
}

// conditions builds the Deploy stage's conditions from the environment.
func (p *envPipeline) conditions() deployConditions {
	env := p.s.env
	var c deployConditions
	var entry []awscodepipeline.Rule
	if w, ok := env.DeployWindow(); ok {
		entry = append(entry, awscodepipeline.NewRule(&awscodepipeline.RuleProps{
			Name:     jsii.String(WindowRule),
			Provider: jsii.String("DeploymentWindow"),
			Version:  jsii.String("1"),
			Configuration: &map[string]interface{}{
				"Cron":     w.RuleCron(),
				"TimeZone": w.TimeZone(),
			},
		}))
	}
	if env.Watch != nil {
		var bake []awscodepipeline.Rule
		for _, a := range env.Watch.Alarms {
			entry = append(entry, alarmRule(EntryAlarmRule(a), a, env.EntryWait()))
			bake = append(bake, alarmRule(BakeAlarmRule(a), a, env.BakeTime()))
		}
		c.onSuccess = &awscodepipeline.Conditions{Conditions: &[]*awscodepipeline.Condition{
			{Result: awscodepipeline.Result_ROLLBACK, Rules: &bake},
		}}
	}
	if len(entry) > 0 {
		c.beforeEntry = &awscodepipeline.Conditions{Conditions: &[]*awscodepipeline.Condition{
			{Result: awscodepipeline.Result_FAIL, Rules: &entry},
		}}
	}
	if env.RollsBackOnFailure() {
		c.onFailure = &awscodepipeline.FailureConditions{Result: awscodepipeline.Result_ROLLBACK}
	}
	return c
}

// alarmARN is the ARN of a CloudWatch alarm of the environment, for IAM.
func alarmARN(env org.Environment, alarm string) string {
	// Fn::Sub reads "${" as a reference; "${!" writes it literally.
	return "arn:${AWS::Partition}:cloudwatch:" + env.Region + ":" + env.Account + ":alarm:" + strings.ReplaceAll(alarm, "${", "${!")
}

// grantReadWatchedAlarms lets the pipeline's role read exactly the watched alarms: the
// CloudWatchAlarm rules run as the pipeline's role (they have no role of their own). That
// they need cloudwatch:DescribeAlarms and nothing else is our reading of the rule, which
// CodePipeline's documentation does not spell out.
func (p *envPipeline) grantReadWatchedAlarms() {
	w := p.s.env.Watch
	if w == nil {
		return
	}
	var arns []*string
	for _, a := range w.Alarms {
		arns = append(arns, awscdk.Fn_Sub(jsii.String(alarmARN(p.s.env, a)), nil))
	}
	p.pipeline.Role().AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadWatchedAlarms"),
		Actions:   jsii.Strings("cloudwatch:DescribeAlarms"),
		Resources: &arns,
	}))
}
