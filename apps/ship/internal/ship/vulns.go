package ship

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/vulnscan"
)

// The states of an environment's vulnerability reading (VulnerabilitiesJSON.State).
const (
	// VulnsScanned: the guard read a usable scan; the counts are its.
	VulnsScanned = "scanned"
	// VulnsNotScanned: the guard let an image without a usable scan through (the
	// environment allows unscanned images, or refuses nothing); the scan status says why.
	VulnsNotScanned = "notScanned"
	// VulnsNotReported: the guard's run reported no scan: a guard without the vulnerability
	// gate, or a run from before it.
	VulnsNotReported = "notReported"
	// VulnsUnknown: the guard's action could not be read.
	VulnsUnknown = "unknown"
	// VulnsNone: nothing is deployed in the environment yet.
	VulnsNone = "none"
)

// vulnsState is what the guard said of the deployed commit's image when it let it into a
// downstream environment: the Vulnerabilities and ScanStatus output variables of the
// Guard action of the run that deployed it. The counts are those of that moment: with
// enhanced (continuous) scanning the registry's own may have changed since.
type vulnsState struct {
	env       org.Environment
	execution string // the run whose Guard action is read
	state     string // one of the Vulns* states
	status    string // ECR's scan status as the guard reported it
	counts    vulnscan.Counts
	err       error
}

// readVulns reads, for an environment with an upstream, the guard's report on the image of
// the run that deployed what runs there: the deployed run, or for a ROLLBACK the run it
// rolled back to (a rollback runs no Guard stage; its target's guard passed that commit).
// nil when nothing is deployed, or the environment is the first (its image has no guard).
func (x *session) readVulns(ctx context.Context, st *envStatus) *vulnsState {
	if !st.env.HasUpstream() || st.deployed == nil {
		return nil
	}
	v := &vulnsState{env: st.env, execution: st.deployed.ID}
	if st.deployed.Rollback() {
		v.execution = st.deployed.RollbackTarget
	}
	c, err := x.pipelines(ctx, st.env)
	if err == nil {
		plain := func(_ context.Context, call func() error) error { return call() }
		var acts []types.ActionExecutionDetail
		if acts, err = listActions(ctx, c, x.s.Path.PipelineName(st.env.Name), v.execution, plain); err == nil {
			v.fromGuard(acts)
			return v
		}
	}
	v.state, v.err = VulnsUnknown, err
	return v
}

// fromGuard reads the guard's outputs from the action executions of one run: of its
// Guard actions (a retried stage has several), the newest that succeeded, the one that let
// the run through.
func (v *vulnsState) fromGuard(acts []types.ActionExecutionDetail) {
	var guard *types.ActionExecutionDetail
	for i, a := range acts {
		if aws.ToString(a.StageName) != stageGuard || aws.ToString(a.ActionName) != actionGuard || a.Status != types.ActionExecutionStatusSucceeded {
			continue
		}
		if guard == nil || aws.ToTime(a.LastUpdateTime).After(aws.ToTime(guard.LastUpdateTime)) {
			guard = &acts[i]
		}
	}
	v.state = VulnsNotReported
	if guard == nil || guard.Output == nil {
		return
	}
	out := guard.Output.OutputVariables
	v.status = out[vulnscan.OutputScanStatus]
	switch counts := out[vulnscan.OutputVulnerabilities]; {
	case counts == vulnscan.NotScanned:
		v.state = VulnsNotScanned
	case counts != "":
		c, err := vulnscan.ParseCounts(counts)
		if err != nil {
			v.state, v.err = VulnsUnknown, fmt.Errorf("the guard of execution %s reported %s %q: %w", v.execution, vulnscan.OutputVulnerabilities, counts, err)
			return
		}
		v.state, v.counts = VulnsScanned, c
	}
}

// text is the line status prints, e.g. "0 CRITICAL, 2 HIGH, 5 MEDIUM (scan COMPLETE when
// the guard passed it; prd refuses CRITICAL)".
func (v *vulnsState) text() string {
	refuses := fmt.Sprintf("%s refuses %s", v.env.Name, vulnscan.Refuses(v.env.VulnerabilityThreshold()))
	switch v.state {
	case VulnsScanned:
		return fmt.Sprintf("%s (scan %s when the guard passed it; %s)", v.counts.Summary(), v.status, refuses)
	case VulnsNotScanned:
		why := "allowed by vulnerabilities.unscanned: allow"
		if v.env.VulnerabilityThreshold().Rank() == 0 {
			why = "reported only: " + refuses
		}
		status := v.status
		if status == vulnscan.ScanNotFound {
			status = "ECR had no scan of it"
		}
		return fmt.Sprintf("not scanned (%s when the guard passed it), %s", status, why)
	case VulnsNotReported:
		return fmt.Sprintf("not reported by the guard of execution %s (a guard without the vulnerability gate, or a run from before it); %s", v.execution, refuses)
	}
	return fmt.Sprintf("unknown: %v", v.err)
}

// firstVulns is the line of the first environment: its image is built there and gated by
// the guards of the environments after it.
func firstVulns(p org.Path, first org.Environment) string {
	var gates []string
	for _, e := range p.Environments {
		if e.HasUpstream() {
			gates = append(gates, fmt.Sprintf("%s refuses %s", e.Name, vulnscan.Refuses(e.VulnerabilityThreshold())))
		}
	}
	if len(gates) == 0 {
		return "- (built here)"
	}
	return fmt.Sprintf("- (built here; the guards after %s gate its scan: %s)", first.Name, strings.Join(gates, ", "))
}

// vulnsJSON is the environment's VulnerabilitiesJSON; nil for the first environment.
func (x *session) vulnsJSON(st *envStatus) *VulnerabilitiesJSON {
	env := st.env
	if !env.HasUpstream() {
		return nil
	}
	j := &VulnerabilitiesJSON{Refuse: string(env.VulnerabilityThreshold()), Unscanned: string(env.UnscannedImages()), State: VulnsNone}
	v := st.vulns
	if v == nil {
		j.Summary = "nothing deployed"
		return j
	}
	j.State, j.ExecutionID, j.ScanStatus, j.Summary = v.state, v.execution, v.status, v.text()
	if v.err != nil {
		j.Error = v.err.Error()
	}
	if v.counts != nil {
		j.Counts = map[string]int{}
		for s, n := range v.counts {
			j.Counts[string(s)] = n
		}
	}
	return j
}
