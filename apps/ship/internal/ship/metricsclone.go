package ship

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/dora"
	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
)

// The commit times of a path whose source is a GitHub, GitLab or Bitbucket repository
// cannot come from CodeCommit (there is none): ship metrics and ship report read them from
// the working clone (-C), when it is a clone of that repository (one of its remotes points
// at it, as sourceremote.go recognises it). Each such path's deployed commits, of all its
// environments, are read in one git process (git cat-file --batch); a commit the clone
// lacks stays unknown, and a note says how many and what to fetch. From any other
// directory the path's lead times are unknown, and the note says where to run ship.

// cloneTimes reads commit times from the working clone for connection-sourced paths.
type cloneTimes struct {
	dir string
	git Git
	// remotes is the clone's remotes, read once per command; remotesErr why they could not be.
	remotes    []RemoteURLs
	remotesErr error
	read       bool
	// processes counts the git processes started for commit times (one per path read).
	processes int
}

// clone is the clone's remotes, listed on first use.
func (c *cloneTimes) clone(ctx context.Context) ([]RemoteURLs, error) {
	if !c.read {
		c.read = true
		if err := c.git.Check(ctx); err != nil {
			var ge *GitError
			if errors.As(err, &ge) || strings.Contains(err.Error(), "is not a git clone") {
				err = fmt.Errorf("%s is not a git clone", c.dir)
			}
			c.remotesErr = err
		} else {
			c.remotes, c.remotesErr = c.git.Remotes(ctx)
		}
	}
	return c.remotes, c.remotesErr
}

// pathTimes computes the metrics of a connection-sourced path's environments, which readEnv
// left without: it reads the commit times of every environment's runs from the clone in
// one batch, or, when the clone is not the path's repository, records why the lead times
// are unknown. Environments that could not be read are left as they are.
func (r *metricsRun) pathTimes(ctx context.Context, pm pathMetrics) {
	src := pm.path.Source
	var ids []string
	seen := map[string]bool{}
	for _, em := range pm.envs {
		if !em.read() {
			continue
		}
		for _, id := range em.history.Commits() {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	var times map[string]time.Time
	var whyNot error
	var remote string
	if len(ids) > 0 {
		remotes, err := r.clone.clone(ctx)
		match := matchingRemotes(src, remotes)
		switch {
		case err != nil:
			whyNot = fmt.Errorf("commit times of %s come from a clone of it: run ship metrics there (-C <clone>); %v", sourceName(src), err)
		case len(match) == 0:
			whyNot = fmt.Errorf("commit times of %s come from a clone of it: run ship metrics there (-C <clone>); %s is not one: none of its remotes points at it%s",
				sourceName(src), r.clone.dir, describeRemotes(remotes))
		default:
			remote = match[0].Name
			r.clone.processes++
			if times, err = r.clone.git.CommitTimes(ctx, ids); err != nil {
				whyNot = fmt.Errorf("read the commit times of %s from the clone %s: %w", sourceName(src), r.clone.dir, err)
			}
		}
	}
	for _, em := range pm.envs {
		if !em.read() {
			continue
		}
		em.timesErr = whyNot
		if whyNot == nil && remote != "" {
			em.timesErr = missingCommits(em.history.Commits(), times, r.clone.dir, remote)
		}
		em.metrics = dora.Compute(em.history, times, r.window)
	}
}

// missingCommits says which of an environment's commits the clone lacks, and how to get
// them; nil when it has them all.
func missingCommits(ids []string, times map[string]time.Time, dir, remote string) error {
	var missing []string
	for _, id := range ids {
		if _, ok := times[id]; !ok {
			missing = append(missing, gate.Short(id))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	eg := strings.Join(missing[:min(3, len(missing))], ", ")
	if len(missing) > 3 {
		eg += ", ..."
	}
	return fmt.Errorf("%d of the %d commits its runs name are not in the clone %s (%s): git fetch %s, then run ship metrics again",
		len(missing), len(ids), dir, eg, remote)
}
