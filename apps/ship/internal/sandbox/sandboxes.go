package sandbox

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/sandboxes/state"
)

// Developer sandboxes (ship sandbox up, down, list) in the demo: the organisation file gives
// payments/checkout sandboxes, dev's account has the path's sandbox table, and a colleague's
// sandbox, bob, is live there (its branch sandbox/bob at change 2, its record in the table).
// There is no sandbox controller: a sandbox pushed here stays "unseen" in ship sandbox list.

// Colleague is the sandbox the demo's table starts with, live, and ColleagueCommit its
// commit (1-based).
const (
	Colleague       = "bob"
	ColleagueCommit = 2
)

// demoConfig is the organisation file the demo writes: the embedded example, whose
// payments/checkout has sandboxes.
func demoConfig() ([]byte, error) {
	y := org.DefaultYAML()
	p, err := parsePath(y, "the embedded example organisation")
	if err != nil {
		return nil, err
	}
	if !p.HasSandboxes() {
		return nil, fmt.Errorf("the embedded example organisation gives %s/%s no sandboxes: the demo's ship sandbox commands need them", Team, Service)
	}
	return append([]byte(configHeader), y...), nil
}

// sandboxesBlock is the path's sandboxes as the organisation file writes them.
func sandboxesBlock(p org.Path) string {
	return fmt.Sprintf("sandboxes: {max: %d, ttl: %s}", p.SandboxLimit(), p.Sandboxes.TTL)
}

// parsePath reads the demo's service from its organisation file.
func parsePath(config []byte, name string) (org.Path, error) {
	o, err := org.Parse(config, name)
	if err != nil {
		return org.Path{}, err
	}
	return o.Path(Team, Service)
}

// seedSandboxes makes the path's sandbox table in dev's account, with the colleague's
// sandbox recorded as the controller records one: live, created two hours ago, last pushed
// one hour ago. The branch itself is pushed by buildRepos.
func (sb *Sandbox) seedSandboxes(now time.Time) error {
	first := sb.Path.Environments[0]
	table := sb.Path.SandboxTableName(first.Name)
	sb.Fake.SetTable(first.Account, table)
	sbs, err := json.Marshal([]state.Sandbox{{
		Name: Colleague, Branch: org.SandboxBranch(Colleague), Commit: sb.Commits[ColleagueCommit-1],
		Owner:   "arn:aws:sts::" + first.Account + ":assumed-role/developer/" + Colleague + "@example.com",
		Created: now.Add(-2 * time.Hour), Pushed: now.Add(-time.Hour), Status: state.StatusLive,
		Build: sb.Path.SandboxProjectName(first.Name) + ":0a1b2c3d", Action: state.ActionDeploy,
	}})
	if err != nil {
		return err
	}
	return sb.Fake.PutRawItem(first.Account, table, map[string]any{
		state.KeyAttribute:       map[string]any{"S": state.ItemID},
		state.VersionAttribute:   map[string]any{"N": strconv.Itoa(1)},
		state.SandboxesAttribute: map[string]any{"S": string(sbs)},
	})
}
