package ship

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/sandboxes/state"
)

// ship sandbox up, down and list: a developer's short-lived copy of the service in the first
// environment's account. A sandbox is a branch sandbox/<name> of the first environment's
// repository; the sandbox controller there deploys every push to it and destroys it when the
// branch is deleted or goes sandboxes.ttl without a push, and keeps what it did in the
// path's sandbox table (package state). up and down are git pushes only; list joins the
// remote's sandbox branches with the table.

// Statuses list gives besides the controller's (state.Status).
const (
	// sandboxUnseen is a branch the table has no record of: pushed, not yet seen by the
	// controller (or refused before it recorded anything).
	sandboxUnseen = "unseen"
	// sandboxUnknown is every branch's status when the table could not be read.
	sandboxUnknown = "unknown"
)

func (c *cli) sandboxCommand() *cobra.Command {
	group := &cobra.Command{
		Use:   "sandbox",
		Short: "your own short-lived copy of the service in the first environment's account: up, down, list",
		Long: `A sandbox is a copy of the service, deployed from a branch sandbox/<name> of the first
environment's repository (dev's) into the first environment's account, next to the
environment's own stacks (its stacks end in -sandbox-<name>). The organisation file turns
sandboxes on per service (teams[i].services[j].sandboxes: max, how many may exist at once;
ttl, how long one may go without a push). Pushing the branch creates or updates the
sandbox, deleting it destroys the sandbox, and one idle for the TTL is destroyed with its
branch kept (a push brings it back). The sandbox controller in that account does the
work and records it in the path's sandbox table; ship only pushes, deletes and reads.

  ship sandbox up [name]     push a commit (--commit, default HEAD) to sandbox/<name>
  ship sandbox down [name]   delete sandbox/<name>: the controller destroys the sandbox
  ship sandbox list          the sandboxes: branches, statuses, owners, ages, expiry

[name] defaults to the local part of git config user.email, made a valid name (lowercase,
other characters as '-', at most 20). A name is ` + org.AllowedSandboxName + `.
Sandboxes need a CodeCommit source: a GitHub, GitLab or Bitbucket connection does not
report branch creation and deletion.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown sandbox subcommand %q (want up, down or list)%s", args[0], suggest(cmd, args[0]))
			}
			return nil
		},
		SuggestionsMinimumDistance: 2, // as the root's: "upp" suggests up
		RunE: func(*cobra.Command, []string) error {
			return usagef("sandbox needs a subcommand: ship sandbox up [name], ship sandbox down [name] or ship sandbox list")
		},
	}
	var commit string
	up := &cobra.Command{
		Use:   "up [name]",
		Short: "create or update sandbox [name]: push --commit (default HEAD) to branch sandbox/<name>",
		Long: `Up pushes a commit (--commit: anything git rev-parse resolves, default HEAD) to branch
sandbox/<name> of the first environment's remote, creating the sandbox or updating it. The
push replaces whatever the branch had, whatever its history (a sandbox follows your work,
rebases included), but only if the branch still points where ship just read it
(--force-with-lease): someone else's push in between is refused and named, never overwritten.

It then says what happens next: the sandbox controller in the first environment's account
deploys the commit (ship sandbox list shows how that goes), how many sandboxes the path may
have at once, and when this one expires if it is not pushed again. If the remote already
has as many other sandbox branches as the path allows, it warns that the controller may
refuse this one. It needs git only: no AWS credentials.`,
		Example: `  ship sandbox up                    # HEAD, as sandbox/<you> (from git config user.email)
  ship sandbox up fix-login          # HEAD, as sandbox/fix-login
  ship sandbox up fix-login --commit 1a2b3c4`,
		Args:              positional,
		ValidArgsFunction: c.completeSandboxName(true),
		RunE: c.run(func(ctx context.Context, x *session, args []string) error {
			return x.sandboxUp(ctx, arg(args, 0), len(args) > 0, commit)
		}),
	}
	up.Flags().StringVar(&commit, "commit", "HEAD", "the `revision` to deploy: a commit id, tag or branch of the local clone")
	must1(up.RegisterFlagCompletionFunc("commit", cobra.NoFileCompletions))
	down := &cobra.Command{
		Use:   "down [name]",
		Short: "destroy sandbox [name]: delete branch sandbox/<name>",
		Long: `Down deletes branch sandbox/<name> of the first environment's remote, if it still points
where ship just read it (--force-with-lease), and the sandbox controller then destroys the
sandbox's stacks (ship sandbox list shows it destroying until it is gone). A name with no
branch is an error that lists the sandbox branches the remote has. It needs git only.`,
		Example: `  ship sandbox down                  # sandbox/<you>
  ship sandbox down fix-login`,
		Args:              positional,
		ValidArgsFunction: c.completeSandboxName(false),
		RunE: c.run(func(ctx context.Context, x *session, args []string) error {
			return x.sandboxDown(ctx, arg(args, 0), len(args) > 0)
		}),
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "the sandboxes: branch, status, commit, owner, age, idle time, expiry",
		Long: `List reads the sandbox branches of the first environment's remote (git ls-remote
<remote> 'refs/heads/sandbox/*') and the path's sandbox table in the first environment's
account (DynamoDB, with that environment's credentials: --profile/--role <env>=..., as
status uses them; the identity needs dynamodb:GetItem on the table), and prints one row
per sandbox:
  NAME     what follows sandbox/ in the branch
  STATUS   the controller's: deploying, live, failed, destroying, destroy-failed, expired
           (destroyed after the TTL without a push; the branch is kept and a push revives
           it) or refused (over the cap: nothing deployed); "unseen" for a branch the table
           has no record of yet (pushed, not yet seen by the controller); "unknown" when
           the table could not be read
  COMMIT   the branch's commit (the record's, once the branch is deleted); "(not fetched)"
           when the local clone does not have it
  OWNER    who created it: the session or user name of the pusher's ARN
  AGE      since it was created; IDLE since its last push
  EXPIRES  in how long the controller destroys it unless pushed again ("-" unless live or
           failed; "due" once the TTL has passed)
  REASON   why it failed, was refused or expired, and what ship noticed: a branch deleted
           (the controller is destroying it), a push the controller has not seen yet

If the table cannot be read (no credentials, access denied, no table yet), list still
prints the branches, with status unknown, says why, and exits 0: the git side is
useful on its own.

With --json, list prints one document (schemaVersion 1): {schemaVersion, path,
organisation, now, environment, account, region, remote, table, max, ttlSeconds, inUse,
stateRead, stateError?, sandboxes: [{name, branch, branchCommit, local, status, commit,
owner, ownerName, created, pushed, expires, reason, note}]}. branchCommit is "" when the
branch is gone, commit "" without a record; owner is the full ARN; created, pushed and
expires are RFC 3339 UTC or null; inUse is how many count against max (null when the table
could not be read). Fields are only ever added within a schema version.`,
		Example: `  ship sandbox list
  ship sandbox list --json | jq -r '.sandboxes[] | select(.status == "failed") | .name'`,
		Args: positional,
		RunE: c.run(func(ctx context.Context, x *session, _ []string) error {
			return x.sandboxList(ctx)
		}),
	}
	c.jsonFlag(list)
	group.AddCommand(up, down, list)
	return group
}

// completeSandboxName completes a sandbox name from what is cheap to know: the default name
// (for up) and the sandbox branches the clone's last fetch of the first environment's remote
// saw. It asks no remote: completion must be instant and silent.
func (c *cli) completeSandboxName(withDefault bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		p, ok := c.completionPath()
		if len(args) > 0 || !ok || !p.HasSandboxes() {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Second)
		defer cancel()
		g := Git(NewRepo(c.inv.dir))
		if c.app.Git != nil {
			g = c.app.Git(c.inv.dir)
		}
		seen := map[string]bool{}
		var out []cobra.Completion
		add := func(name, desc string) {
			if !seen[name] && strings.HasPrefix(name, toComplete) && org.SandboxNameProblem(name) == "" {
				seen[name] = true
				out = append(out, cobra.CompletionWithDesc(name, desc))
			}
		}
		if withDefault {
			if email, err := g.Config(ctx, "user.email"); err == nil {
				add(defaultSandboxName(email), "yours, from git config user.email")
			}
		}
		remote := c.inv.remotes.pairs[p.Environments[0].Name]
		if remote == "" {
			remote = p.Environments[0].Name
		}
		if names, err := g.TrackingBranches(ctx, remote, org.SandboxBranchPrefix); err == nil {
			for _, b := range names {
				add(strings.TrimPrefix(b, org.SandboxBranchPrefix), "branch "+b+" of "+remote+", as last fetched")
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// sandboxEnv is the first environment, where sandboxes live, after checking that the path
// has sandboxes; if it has none, the error names the organisation file's field and how to
// turn them on (a usage error: the configuration does not allow the command).
func (x *session) sandboxEnv() (org.Environment, error) {
	p := x.s.Path
	field := x.serviceField() + ".sandboxes"
	switch {
	case p.Source.UsesConnection():
		return org.Environment{}, usagef("%s has no sandboxes, and cannot have them: its source is %s (%s.source.provider %q in %s), and sandboxes follow "+
			"CodeCommit's branch events (created, updated, deleted), which a %s connection does not report; sandboxes need a CodeCommit source",
			pathName(p), sourceName(p.Source), x.serviceField(), p.Source.Provider, x.s.OrgSource, p.Source.ProviderType())
	case !p.HasSandboxes():
		return org.Environment{}, usagef("%s has no sandboxes: %s is not set in %s. To turn them on, add to the service:\n"+
			"    sandboxes:\n      max: %d     # how many may exist at once, 1 to %d\n      ttl: %s   # destroyed after this long without a push, 1h to %dh\n"+
			"  then deploy the platform's stacks again, which give %s's account (%s) the sandbox controller",
			pathName(p), field, x.s.OrgSource, org.DefaultMaxSandboxes, org.MaxSandboxes, org.DefaultSandboxTTL, org.MaxSandboxTTLHours,
			p.Environments[0].Name, p.Environments[0].Account)
	}
	return p.Environments[0], nil
}

// serviceField is the path's service as the organisation file's field: teams[i].services[j].
func (x *session) serviceField() string {
	for i, t := range x.s.Org.Teams {
		for j, s := range t.Services {
			if t.Name == x.s.Path.Team && s.Name == x.s.Path.Name {
				return fmt.Sprintf("teams[%d].services[%d]", i, j)
			}
		}
	}
	return "the service " + pathName(x.s.Path)
}

// sandboxName is the name given, checked before any git command runs, or the default one
// made from git config user.email.
func (x *session) sandboxName(ctx context.Context, given bool, name string) (string, error) {
	if given {
		if problem := org.SandboxNameProblem(name); problem != "" {
			return "", usagef("sandbox name %q: %s (want %s)", name, problem, org.AllowedSandboxName)
		}
		return name, nil
	}
	email, err := x.git.Config(ctx, "user.email")
	if err != nil {
		return "", err
	}
	def := defaultSandboxName(email)
	if org.SandboxNameProblem(def) != "" {
		was := "is not set"
		if email != "" {
			was = fmt.Sprintf("is %q", email)
		}
		return "", usagef("no sandbox name given, and none can be made from git config user.email, which %s: name one, e.g. ship sandbox up fix-login (a name is %s)",
			was, org.AllowedSandboxName)
	}
	return def, nil
}

// defaultSandboxName makes a sandbox name of an e-mail address: its local part lowercased,
// every run of other characters than letters and digits one '-', from its first letter,
// at most org.MaxSandboxName characters, without a trailing '-'. "" when nothing is left.
func defaultSandboxName(email string) string {
	local, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@")
	var b strings.Builder
	dash := false
	for _, r := range local {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9' && b.Len() > 0:
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	name := b.String()
	if len(name) > org.MaxSandboxName {
		name = name[:org.MaxSandboxName]
	}
	return strings.TrimRight(name, "-")
}

// sandboxTarget is what up and down act on: the first environment and the sandbox's name
// (checked before any git command), in a working clone.
func (x *session) sandboxTarget(ctx context.Context, nameArg string, given bool) (org.Environment, string, error) {
	env, err := x.sandboxEnv()
	if err != nil {
		return org.Environment{}, "", err
	}
	name, err := x.sandboxName(ctx, given, nameArg)
	if err != nil {
		return org.Environment{}, "", err
	}
	if err := x.git.Check(ctx); err != nil {
		return org.Environment{}, "", err
	}
	return env, name, nil
}

// sandboxUp pushes rev to branch sandbox/<name> with a lease on what the branch has now.
func (x *session) sandboxUp(ctx context.Context, nameArg string, given bool, rev string) error {
	env, name, err := x.sandboxTarget(ctx, nameArg, given)
	if err != nil {
		return err
	}
	commit, err := x.git.ResolveCommit(ctx, rev)
	if err != nil {
		return err
	}
	remote, err := x.remote(ctx, env)
	if err != nil {
		return err
	}
	branch := org.SandboxBranch(name)
	heads, err := x.git.RemoteBranches(ctx, remote, org.SandboxBranchPrefix)
	if err != nil {
		return err
	}
	old := heads[branch]
	p := x.s.Path
	if old == commit {
		fmt.Fprintf(x.out, "sandbox %s: branch %s of remote %s already points at %s; nothing pushed.\n  See how its deploy went with ship sandbox list.\n",
			name, branch, remote, gate.Short(commit))
		return nil
	}
	if err := x.git.PushLease(ctx, remote, commit, branch, old); err != nil {
		return x.leaseLost(ctx, err, remote, branch, old, "nothing was overwritten; look with ship sandbox list, then push again")
	}
	now := x.now()
	was := "a new sandbox"
	if old != "" {
		was = "replacing " + gate.Short(old)
	}
	fmt.Fprintf(x.out, "sandbox %s: pushed %s to branch %s of remote %s (%s).\n", name, gate.Short(commit), branch, remote, was)
	fmt.Fprintf(x.out, "  Next: the sandbox controller in %s's account (%s, %s) deploys it, as stacks ending in %s; watch it with ship sandbox list.\n",
		env.Name, env.Account, env.Region, org.SandboxStackSuffix(name))
	fmt.Fprintf(x.out, "  %s may have %d %s at once (sandboxes.max); one not pushed for %s (sandboxes.ttl) is destroyed, its branch kept.\n",
		pathName(p), p.SandboxLimit(), plural(p.SandboxLimit(), "sandbox", "sandboxes"), p.Sandboxes.TTL)
	fmt.Fprintf(x.out, "  This one expires at %s (in %s) unless pushed again; when done: ship sandbox down %s.\n",
		formatTime(now.Add(p.SandboxTTL())), span(p.SandboxTTL()), name)
	if others := len(heads) - boolInt(old != ""); old == "" && others >= p.SandboxLimit() {
		fmt.Fprintf(x.out, "  Note: remote %s already has %d other sandbox %s; if %d of them are deploying or live, the controller refuses this one (status refused):\n"+
			"  ship sandbox list shows them, ship sandbox down <name> frees one.\n",
			remote, others, plural(others, "branch", "branches"), p.SandboxLimit())
	}
	return nil
}

// sandboxDown deletes branch sandbox/<name> with a lease on what it points at.
func (x *session) sandboxDown(ctx context.Context, nameArg string, given bool) error {
	env, name, err := x.sandboxTarget(ctx, nameArg, given)
	if err != nil {
		return err
	}
	remote, err := x.remote(ctx, env)
	if err != nil {
		return err
	}
	branch := org.SandboxBranch(name)
	heads, err := x.git.RemoteBranches(ctx, remote, org.SandboxBranchPrefix)
	if err != nil {
		return err
	}
	old, ok := heads[branch]
	if !ok {
		return fmt.Errorf("no sandbox %s: remote %s has no branch %s (%s)", name, remote, branch, describeBranches(heads))
	}
	if err := x.git.PushLease(ctx, remote, "", branch, old); err != nil {
		return x.leaseLost(ctx, err, remote, branch, old, "nothing was deleted; look with ship sandbox list, then decide again")
	}
	fmt.Fprintf(x.out, "sandbox %s: deleted branch %s of remote %s (it pointed at %s).\n"+
		"  Next: the sandbox controller in %s's account (%s, %s) destroys its stacks (ending in %s); ship sandbox list shows it destroying until it is gone.\n",
		name, branch, remote, gate.Short(old), env.Name, env.Account, env.Region, org.SandboxStackSuffix(name))
	return nil
}

// leaseLost explains a rejected push: when the branch moved since ship read it, says where
// it points now (someone else's push), else returns git's reason as it is.
func (x *session) leaseLost(ctx context.Context, err error, remote, branch, read, then string) error {
	var pe *PushError
	if !errors.As(err, &pe) || !isStaleLease(pe.Reason) {
		return err
	}
	now, rerr := x.git.RemoteHead(ctx, remote, branch)
	moved := "it changed"
	switch {
	case rerr != nil:
	case now == "":
		moved = "it was deleted"
	default:
		moved = "it now points at " + gate.Short(now) + ": someone else pushed"
	}
	return fmt.Errorf("%w\nbranch %s of remote %s moved after ship read it at %s: %s meanwhile; %s",
		err, branch, remote, describeOld(read), moved, then)
}

// describeBranches lists the sandbox branches of a remote for a message.
func describeBranches(heads map[string]string) string {
	if len(heads) == 0 {
		return "it has no sandbox branches"
	}
	var names []string
	for b, id := range heads {
		names = append(names, b+" at "+gate.Short(id))
	}
	sort.Strings(names)
	return "its sandbox branches: " + strings.Join(names, ", ")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sandboxRow is one sandbox as list shows it: its branch, its record, or both.
type sandboxRow struct {
	name   string
	branch string // the branch's commit; "" when there is no branch
	rec    *state.Sandbox
	local  bool // the commit shown is in the local clone
}

// commit is what the row's COMMIT shows: the branch's, else the record's.
func (r sandboxRow) commit() string {
	if r.branch != "" {
		return r.branch
	}
	if r.rec != nil {
		return r.rec.Commit
	}
	return ""
}

// sandboxList prints the sandboxes: the remote's branches joined with the table's records.
func (x *session) sandboxList(ctx context.Context) error {
	env, err := x.sandboxEnv()
	if err != nil {
		return err
	}
	if err := x.git.Check(ctx); err != nil {
		return err
	}
	remote, err := x.remote(ctx, env)
	if err != nil {
		return err
	}
	heads, err := x.git.RemoteBranches(ctx, remote, org.SandboxBranchPrefix)
	if err != nil {
		return err
	}
	p := x.s.Path
	table := p.SandboxTableName(env.Name)
	set, stateErr := x.readSandboxes(ctx, env, table)
	now := x.now()

	rows := map[string]*sandboxRow{}
	for b, id := range heads {
		n := strings.TrimPrefix(b, org.SandboxBranchPrefix)
		rows[n] = &sandboxRow{name: n, branch: id}
	}
	if stateErr == nil {
		for i := range set.Sandboxes {
			sb := &set.Sandboxes[i]
			r := rows[sb.Name]
			if r == nil {
				r = &sandboxRow{name: sb.Name}
				rows[sb.Name] = r
			}
			r.rec = sb
		}
	}
	var ids []string
	var list []*sandboxRow
	for _, r := range rows {
		list = append(list, r)
		if c := r.commit(); c != "" {
			ids = append(ids, c)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	have, err := x.git.CommitTimes(ctx, ids)
	if err != nil {
		return err
	}
	for _, r := range list {
		_, r.local = have[r.commit()]
	}

	if x.json {
		return writeJSON(x.out, x.sandboxListJSON(env, remote, table, set, stateErr, list, now))
	}
	fmt.Fprintf(x.out, "%s sandboxes: branches sandbox/* of remote %s, records in table %s (%s's account %s, %s)\n",
		pathName(p), remote, table, env.Name, env.Account, env.Region)
	inUse := ""
	if stateErr == nil {
		inUse = fmt.Sprintf("; %d in use", set.Counted())
	}
	fmt.Fprintf(x.out, "at most %d at once (sandboxes.max)%s; destroyed after %s without a push (sandboxes.ttl)\n\n", p.SandboxLimit(), inUse, p.Sandboxes.TTL)
	if len(list) == 0 {
		fmt.Fprintf(x.out, "no sandboxes; create one with ship sandbox up [name]\n")
	} else {
		var buf strings.Builder
		tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSTATUS\tCOMMIT\tOWNER\tAGE\tIDLE\tEXPIRES\tREASON")
		notFetched := false
		for _, r := range list {
			commit := "-"
			if c := r.commit(); c != "" {
				commit = gate.Short(c)
				if !r.local {
					commit += " (not fetched)"
					notFetched = true
				}
			}
			status, owner, ageCol, idle, expires := sandboxUnknown, "-", "-", "-", "-"
			if stateErr == nil {
				status = sandboxUnseen
			}
			if sb := r.rec; sb != nil {
				status, owner = string(sb.Status), orDash(ownerName(sb.Owner))
				ageCol, idle = sinceCol(now, sb.Created), sinceCol(now, sb.Pushed)
				if t := sandboxExpiry(*sb, p.SandboxTTL()); !t.IsZero() {
					expires = "due"
					if d := t.Sub(now); d > 0 {
						expires = span(d)
					}
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.name, status, commit, owner, ageCol, idle, expires, reasonColumn(*r, stateErr == nil))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
			fmt.Fprintln(x.out, strings.TrimRight(line, " "))
		}
		if notFetched {
			fmt.Fprintf(x.out, "\n(not fetched): the commit is not in this clone; git fetch %s gets it.\n", remote)
		}
	}
	if stateErr != nil {
		fmt.Fprintf(x.out, "\nThe statuses are unknown: %v.\nThe branches above are the remote's; ship sandbox up and down work without the table.\n", stateErr)
	}
	return nil
}

// readSandboxes reads the path's sandbox table with env's credentials; any failure (no
// credentials, access denied, no table) is returned for list to report, never to fail it.
func (x *session) readSandboxes(ctx context.Context, env org.Environment, table string) (state.Set, error) {
	acc, err := x.account(ctx, env)
	if err != nil {
		return state.Set{}, fmt.Errorf("the sandbox table could not be read: %w", err)
	}
	if acc.Sandboxes == nil {
		return state.Set{}, fmt.Errorf("the sandbox table could not be read: the account's clients have no DynamoDB client")
	}
	set, err := state.Read(ctx, acc.Sandboxes, table)
	if err != nil {
		// state.Read's own wording repeats the table; the explanation names it already.
		var ex *explained
		if errors.As(err, &ex) {
			return state.Set{}, fmt.Errorf("the sandbox table could not be read: %s", ex.msg)
		}
		return state.Set{}, fmt.Errorf("the sandbox table could not be read: %w", err)
	}
	return set, nil
}

// sandboxExpiry is when the controller destroys sb unless it is pushed again: its last push
// plus the TTL, for a live or failed sandbox; zero for any other status (nothing to expire,
// or a build under way).
func sandboxExpiry(sb state.Sandbox, ttl time.Duration) time.Time {
	if (sb.Status != state.StatusLive && sb.Status != state.StatusFailed) || sb.Pushed.IsZero() {
		return time.Time{}
	}
	return sb.Pushed.Add(ttl)
}

// reasonColumn is a row's REASON: the record's reason, then what the join says.
func reasonColumn(r sandboxRow, stateRead bool) string {
	var parts []string
	if r.rec != nil && r.rec.Reason != "" {
		parts = append(parts, r.rec.Reason)
	}
	return strings.Join(append(parts, sandboxNotes(r, stateRead)...), "; ")
}

// sandboxNotes are what the join of branch and record says of a row: the branch deleted, a
// push the controller has not seen, a name it does not take.
func sandboxNotes(r sandboxRow, stateRead bool) []string {
	var notes []string
	if sb := r.rec; sb != nil {
		switch {
		case r.branch == "":
			notes = append(notes, "branch deleted")
		case sb.Commit != "" && sb.Commit != r.branch:
			notes = append(notes, fmt.Sprintf("branch moved to %s, not yet seen by the controller (it has %s)", gate.Short(r.branch), gate.Short(sb.Commit)))
		}
		return notes
	}
	if problem := org.SandboxNameProblem(r.name); problem != "" {
		notes = append(notes, "not a valid sandbox name: "+problem)
	}
	if stateRead {
		notes = append(notes, "pushed, not yet seen by the controller")
	}
	return notes
}

// sinceCol is how long ago t was, for a column; "-" when t is not known.
func sinceCol(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if d := now.Sub(t); d > 0 {
		return span(d)
	}
	return "0s"
}

// ownerName is the person in an owner's ARN: the session name of an assumed role
// (arn:aws:sts::<account>:assumed-role/<role>/<session>), the user name of an IAM user
// (arn:aws:iam::<account>:user/<path>/<name>); any other value as it is.
func ownerName(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return arn
	}
	resource := parts[5]
	switch {
	case strings.HasPrefix(resource, "assumed-role/"):
		if segs := strings.Split(resource, "/"); len(segs) >= 3 && segs[len(segs)-1] != "" {
			return segs[len(segs)-1]
		}
	case strings.HasPrefix(resource, "user/"):
		if segs := strings.Split(resource, "/"); segs[len(segs)-1] != "" {
			return segs[len(segs)-1]
		}
	}
	return arn
}

// sandboxListJSON is the document of ship sandbox list --json.
func (x *session) sandboxListJSON(env org.Environment, remote, table string, set state.Set, stateErr error, list []*sandboxRow, now time.Time) SandboxListJSON {
	p := x.s.Path
	doc := SandboxListJSON{SchemaVersion: SchemaVersion, Path: pathName(p), Organisation: x.s.OrgSource, Now: now.UTC(),
		Environment: env.Name, Account: env.Account, Region: env.Region, Remote: remote, Table: table,
		Max: p.SandboxLimit(), TTLSeconds: p.SandboxTTL().Seconds(), StateRead: stateErr == nil, Sandboxes: []SandboxJSON{}}
	if stateErr != nil {
		doc.StateError = stateErr.Error()
	} else {
		n := set.Counted()
		doc.InUse = &n
	}
	for _, r := range list {
		j := SandboxJSON{Name: r.name, Branch: org.SandboxBranch(r.name), BranchCommit: r.branch, Local: r.local,
			Status: sandboxUnknown, Note: strings.Join(sandboxNotes(*r, stateErr == nil), "; ")}
		if stateErr == nil {
			j.Status = sandboxUnseen
		}
		if sb := r.rec; sb != nil {
			j.Status, j.Commit, j.Owner, j.OwnerName, j.Reason = string(sb.Status), sb.Commit, sb.Owner, ownerName(sb.Owner), sb.Reason
			j.Created, j.Pushed, j.Expires = stampOf(sb.Created), stampOf(sb.Pushed), stampOf(sandboxExpiry(*sb, p.SandboxTTL()))
		}
		doc.Sandboxes = append(doc.Sandboxes, j)
	}
	return doc
}
