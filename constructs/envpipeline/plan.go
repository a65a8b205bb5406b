package envpipeline

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// The Plan runs wherever there is an approval, between the Guard and the Approval: it shows
// the approver what the deploy would change, and it is the one thing that runs the pushed
// commit before the approval. So its role may only assume the account's CDK bootstrap lookup
// role (read-only, and denied kms:Decrypt by the bootstrap template), besides writing its own
// logs and reading the source artifact: whatever the commit's code does there, it cannot
// change the account. Nothing can be granted to it through this construct (StepRole returns
// nil for it), and synthesis fails if its role gained a permission after construction.

// PlanAction is the name of the Plan stage's one action, and PlanNamespace its variables
// namespace: #{Plan.PLAN_SUMMARY}, #{Plan.PLAN_URL}.
const (
	PlanAction    = "Plan"
	PlanNamespace = "Plan"
)

// The variables the Plan exports and the files its commands write.
const (
	// VarPlanSummary is one line for the approver, at most MaxPlanSummary bytes: how many
	// resources the deploy adds, changes and destroys, and whether it broadens IAM
	// permissions or network access (see PlanSummaryCommand).
	VarPlanSummary = "PLAN_SUMMARY"
	// VarPlanURL is the Plan build's page ($CODEBUILD_BUILD_URL), with the full diff in its log.
	VarPlanURL = "PLAN_URL"
	// VarPlanDiffFile and VarPlanSecurityDiffFile name the files in which the plan commands
	// leave the output of `cdk diff` and of `cdk diff --security-only`: what the summary reads.
	VarPlanDiffFile         = "PLAN_DIFF_FILE"
	VarPlanSecurityDiffFile = "PLAN_SECURITY_DIFF_FILE"
	// MaxPlanSummary bounds PLAN_SUMMARY. The approval's additional information carries it
	// after the commit and the guard's summary (at most 250 bytes), and CodePipeline takes
	// at most 1000 characters in an action's configuration value.
	MaxPlanSummary = 400
)

// Where the default plan commands write the diffs (outside the source, so that nothing of the
// commit can be mistaken for them).
const (
	planDiffFile         = "/tmp/plan/cdk-diff.txt"
	planSecurityDiffFile = "/tmp/plan/cdk-diff-security.txt"
)

// DefaultPlanCommands are what the Plan runs when the path's Commands.Plan is empty: the
// service's CDK app, diffed against what is deployed, read-only. `--method template` compares
// templates through the bootstrap lookup role; a change set (the CLI's default method) would
// need the deploy role, which the Plan does not get. Both diffs go to the build log and to
// the files the summary reads; a failing diff fails the Plan (and so the run: no approval
// without a plan). The CDK CLI's exit status is 0 whether or not there are differences.
var DefaultPlanCommands = []string{
	"npm ci",
	`npx cdk diff --method template --no-color 2>&1 | tee "$` + VarPlanDiffFile + `"; test "${PIPESTATUS[0]}" -eq 0`,
	`npx cdk diff --method template --security-only --no-color 2>&1 | tee "$` + VarPlanSecurityDiffFile + `"; test "${PIPESTATUS[0]}" -eq 0`,
}

// PlanSummaryCommand is the Plan's last command: it reads the diffs in $PLAN_DIFF_FILE and
// $PLAN_SECURITY_DIFF_FILE and exports PLAN_SUMMARY, one line such as
//
//	Plan: 1 to add, 2 to change (1 replaced), 1 to destroy in 1 of 2 stacks. IAM BROADENING: 1 statement added. NETWORK BROADENING: 1 security group rule added, 1 open to the internet. Full diff in the build log.
//	Plan: no changes in 2 stacks.
//
// Resources are counted from the full diff's Resources sections; broadening from the tables
// of the security diff (or of the full diff, without one): IAM statements and managed policy
// attachments added ("+" rows of "IAM Statement Changes" and "IAM Policy Changes"), security
// group rules added ("Security Group Changes"), and of those, rules whose peer is everyone
// (0.0.0.0/0 or ::/0). Without a diff it says so, and the approver reads the log.
var PlanSummaryCommand = `plan_summary="$(bash -s -- "$` + VarPlanDiffFile + `" "$` + VarPlanSecurityDiffFile + `" <<'PLAN_SUMMARY_SCRIPT'
` + planSummaryScript + `PLAN_SUMMARY_SCRIPT
)" && export ` + VarPlanSummary + `="$plan_summary" && echo "$` + VarPlanSummary + `"`

// planSummaryScript is bash (not awk, whose dialects differ between build images and
// laptops). It prints one line of at most MaxPlanSummary bytes and never fails on odd input.
var planSummaryScript = `set -u
export LC_ALL=C
diff_file="${1:-}" security_file="${2:-}"
strip() { sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$1"; }
if [ -z "$diff_file" ] || [ ! -s "$diff_file" ] || ! grep -q 'Number of stacks with differences:' "$diff_file"; then
  echo "Plan: no cdk diff output to summarize; read the Plan's build log."
  exit 0
fi
plural() { if [ "$1" -eq 1 ]; then printf '%s %s' "$1" "$2"; else printf '%s %s' "$1" "$3"; fi; }
stacks=0 differing=0 add=0 change=0 replace=0 destroy=0 orphan=0 other=0 section=""
while IFS= read -r line; do
  case "$line" in
    "Stack "*) stacks=$((stacks + 1)); section="" ;;
    *"Number of stacks with differences: "*) n="${line##*: }"; n="${n//[!0-9]/}"; differing="${n:-0}" ;;
    Resources) section=resources ;;
    "["[-+~]"] "*)
      if [ "$section" = resources ]; then
        case "$line" in
          "[+] "*) add=$((add + 1)) ;;
          "[~] "*) change=$((change + 1))
                   case "$line" in *" replace"|*" may be replaced") replace=$((replace + 1)) ;; esac ;;
          "[-] "*) case "$line" in *" orphan") orphan=$((orphan + 1)) ;; *) destroy=$((destroy + 1)) ;; esac ;;
        esac
      else
        other=$((other + 1))
      fi ;;
    "["*"] "*) [ "$section" = resources ] || other=$((other + 1)) ;; # an import or a move: no count of its own
    " "*|"") ;;
    *) section="" ;;
  esac
done < <(strip "$diff_file")
tables="$diff_file"
if [ -n "$security_file" ] && [ -s "$security_file" ] && grep -q 'Number of stacks with differences:' "$security_file"; then
  tables="$security_file"
fi
statements=0 policies=0 rules=0 open=0 table="" row=""
end_row() {
  if [ "$table" = sg ] && [ -n "$row" ]; then
    case "$row" in *"Everyone (IPv"*|*"0.0.0.0/0"*|*"::/0"*) open=$((open + 1)) ;; esac
  fi
  row=""
}
while IFS= read -r line; do
  case "$line" in
    "IAM Statement Changes") end_row; table=statements ;;
    "IAM Policy Changes") end_row; table=policies ;;
    "Security Group Changes") end_row; table=sg ;;
    "│ + │"*)
      end_row
      case "$table" in
        statements) statements=$((statements + 1)) ;;
        policies) policies=$((policies + 1)) ;;
        sg) rules=$((rules + 1)); row="$line" ;;
      esac ;;
    "│   │"*) [ -n "$row" ] && row="$row $line" ;;
    "│"*|"├"*|"┌"*) end_row ;;
    "└"*) end_row ;;
    *) end_row; table="" ;;
  esac
done < <(strip "$tables")
end_row
if [ "$differing" -eq 0 ]; then
  summary="Plan: no changes in $(plural "$stacks" stack stacks)."
else
  summary="Plan: $add to add, $change to change"
  [ "$replace" -gt 0 ] && summary="$summary ($replace replaced)"
  summary="$summary, $destroy to destroy"
  [ "$orphan" -gt 0 ] && summary="$summary, $orphan removed but retained"
  [ "$other" -gt 0 ] && summary="$summary, $(plural "$other" "other change" "other changes") (outputs, parameters)"
  summary="$summary in $differing of $(plural "$stacks" stack stacks)."
  if [ $((statements + policies)) -gt 0 ]; then
    summary="$summary IAM BROADENING:"
    [ "$statements" -gt 0 ] && summary="$summary $(plural "$statements" statement statements) added"
    [ "$statements" -gt 0 ] && [ "$policies" -gt 0 ] && summary="$summary,"
    [ "$policies" -gt 0 ] && summary="$summary $(plural "$policies" "managed policy" "managed policies") attached"
    summary="$summary."
  else
    summary="$summary No IAM broadening."
  fi
  if [ "$rules" -gt 0 ]; then
    summary="$summary NETWORK BROADENING: $(plural "$rules" "security group rule" "security group rules") added"
    [ "$open" -gt 0 ] && summary="$summary, $open open to the internet"
    summary="$summary."
  else
    summary="$summary No network broadening."
  fi
  summary="$summary Full diff in the build log."
fi
printf '%s\n' "${summary:0:` + strconv.Itoa(MaxPlanSummary) + `}"
`

// addPlan adds the Plan stage (after the Guard, before the Approval) and its read-only role.
func (p *envPipeline) addPlan() {
	role := awsiam.NewRole(p, jsii.String(StagePlan+"Role"), &awsiam.RoleProps{
		Description: jsii.String("Plan step of pipeline " + p.s.pipeline + ": may only assume the CDK bootstrap lookup role (read-only)"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("codebuild.amazonaws.com"), nil),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:     jsii.String("AssumeCdkLookupRole"),
		Actions: jsii.Strings("sts:AssumeRole"),
		Resources: &[]*string{awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-"+
			p.s.Path.Settings.CdkQualifier+"-lookup-role-${AWS::AccountId}-${AWS::Region}"), nil)},
	}))
	p.gateRoles[StagePlan] = &gateRole{
		role: role,
		grant: "the Plan runs the pushed commit before the Approval, so its role may only assume " +
			"the CDK bootstrap lookup role (read-only), write its logs and read the source; grant nothing to it",
		managed: "the Plan runs the pushed commit before the Approval, so its role may only assume the CDK bootstrap lookup role (read-only)",
	}
	// The image's coordinates, where the Guard (before the Plan) resolved them; in the first
	// environment the Build, after the Approval, has not run yet.
	var imageVars map[string]string
	if p.imageProducer() == StageGuard {
		imageVars = p.imageVariables()
	}
	commands := append([]string{
		`mkdir -p "$(dirname "$` + VarPlanDiffFile + `")" "$(dirname "$` + VarPlanSecurityDiffFile + `")"`,
		`export ` + VarPlanURL + `="$CODEBUILD_BUILD_URL"`,
	}, p.s.plan...)
	commands = append(commands, PlanSummaryCommand)
	p.addStep(step{
		name:       StagePlan,
		commands:   commands,
		role:       role,
		namespace:  PlanNamespace,
		exported:   []string{VarPlanSummary, VarPlanURL},
		actionVars: imageVars,
		vars: map[string]*awscodebuild.BuildEnvironmentVariable{
			VarPlanDiffFile:         {Value: jsii.String(planDiffFile)},
			VarPlanSecurityDiffFile: {Value: jsii.String(planSecurityDiffFile)},
		},
	})
}

// statementCount is how many statements a role's default policy has.
func statementCount(role awsiam.Role) int {
	c := role.Node().TryFindChild(jsii.String("DefaultPolicy"))
	if c == nil {
		return 0
	}
	return int(*c.(awsiam.Policy).Document().StatementCount())
}
