// Package sandbox builds a service's path to production on the local machine, for trying
// ship without AWS: bare git repositories as the environments' remotes, a clone of the
// service with a few commits, and a fakeaws endpoint whose pipelines run whatever is
// pushed to those repositories. It is what `go run ./apps/ship/sandbox` serves:
//
//	sb, err := sandbox.Start(ctx, sandbox.Options{})
//	if err != nil { ... }
//	defer sb.Close()
//	sb.WriteInstructions(os.Stdout, sandbox.Programs{
//		Ship:    sandbox.GoBuild("/path/to/repo", "./apps/ship", sb.Dir+"/bin/ship"),
//		Sandbox: sandbox.GoBuild("/path/to/repo", "./apps/ship/sandbox", sb.Dir+"/bin/sandbox"),
//	})
//
// Its pipelines have the stages the constructs give them (Build or Guard, Plan and
// Approval where there is an approval, Deploy with its watched alarms) and run QUEUED, as
// the constructs' do: prd's runs wait for sign-off, which ship approve gives as prd's
// approver role, or Answer (the sandbox program's approve and reject) through the fake's
// API. One thing is scripted: stg's health alarm goes off during the bake of stg's run of
// change 5 (AlarmCommit), so CodePipeline rolls that deploy back.
//
// The service is payments/checkout of the embedded example organisation (org.Default),
// which the sandbox writes to a file for ship's SHIP_CONFIG: ship refuses to act on the
// embedded example unless told to, and the sandbox is no exception.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// The service the sandbox provides, in the embedded example organisation.
const (
	Team    = "payments"
	Service = "checkout"
)

// configHeader heads the organisation file the sandbox writes.
const configHeader = "# Written by the ship sandbox: the embedded example organisation, placeholder accounts\n" +
	"# and all. Its pipelines are the sandbox's local fake, not AWS.\n"

// Commits is how many commits the service's clone has: "change 1" .. "change 5".
const Commits = 5

// DevCommits is how many of them dev has run; stg and prd have run only the first.
const DevCommits = 4

// AlarmCommit is the commit (1-based) whose deploy sets off stg's watched health alarm
// during the bake: stg rolls it back automatically, as CodePipeline does.
const AlarmCommit = 5

// Options say where the sandbox lives.
type Options struct {
	// Dir is where the repositories are built; it must be empty or not exist yet.
	// Default: - a new directory ship-sandbox-* under the system's temporary directory.
	Dir string
	// Port is the fake's port on 127.0.0.1. Default: - a free port the system picks.
	Port int
	// Keep leaves Dir in place when the sandbox is closed. Default: - Close removes it
	// (it holds nothing but what Start made).
	Keep bool
}

// Sandbox is a running sandbox: the repositories and the fake serving their pipelines.
type Sandbox struct {
	// Dir holds everything: the bare repositories <env>.git, the clone and a git home.
	Dir string
	// Clone is the service's working clone, with remotes dev, stg and prd.
	Clone string
	// Bare maps each environment to its bare repository.
	Bare map[string]string
	// Commits are the clone's commits on main, oldest first.
	Commits []string
	// AWSConfig and AWSCredentials are the AWS shared config and credentials files, with
	// one profile per environment (Profile).
	AWSConfig, AWSCredentials string
	// Config is the organisation file ship is given (SHIP_CONFIG): the embedded example,
	// written out, since ship refuses to act on the example unless told to.
	Config string
	// Path is the service's path in the organisation.
	Path org.Path
	// URL is the fake's endpoint, e.g. http://127.0.0.1:41234.
	URL string
	// Fake is the fake CodePipeline and STS, in live mode.
	Fake *fakeaws.Server

	initial map[string]int // env -> the 1-based commit its branch was given at start
	srv     *http.Server
	keep    bool
}

// Start builds the sandbox and starts serving. On error nothing is left behind.
func Start(ctx context.Context, opts Options) (_ *Sandbox, err error) {
	path, err := org.Default().Path(Team, Service)
	if err != nil {
		return nil, err
	}
	dir, err := makeDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	sb := &Sandbox{Dir: dir, Clone: filepath.Join(dir, "clone"), Bare: map[string]string{}, Path: path,
		Fake: fakeaws.New(), initial: map[string]int{}, keep: opts.Keep}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	// One clock for the commits' dates and the seeded history, so that each run comes a
	// plausible while after its commit (commitAgo, devRunAgo) whenever the sandbox starts.
	now := time.Now().UTC().Truncate(time.Second)
	if err := sb.buildRepos(ctx, now); err != nil {
		return nil, fmt.Errorf("build the git repositories in %s: %w", dir, err)
	}
	sb.Config = filepath.Join(dir, "organization.yaml")
	config, err := demoConfig()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(sb.Config, config, 0o644); err != nil {
		return nil, err
	}
	if sb.Path, err = parsePath(config, sb.Config); err != nil {
		return nil, err
	}
	path = sb.Path
	if err := sb.writeAWSConfig(); err != nil {
		return nil, err
	}
	sb.seed(now)
	// Each environment's account has the path's CodeCommit repository: its bare one, from
	// which ship metrics reads the commit dates.
	for _, e := range path.Environments {
		sb.Fake.SetRepository(e.Account, path.RepositoryName(), sb.Bare[e.Name])
	}
	if err := sb.seedSandboxes(now); err != nil {
		return nil, err
	}
	if err := sb.Fake.Watch(ctx, fakeaws.ReposFor(path, sb.Bare)...); err != nil {
		return nil, err
	}
	sb.Fake.Script(path.PipelineName("stg"), sb.Commits[AlarmCommit-1], fakeaws.Fate{BakeAlarm: true})
	// The alarms the Deploy stages watch exist, OK: the service's stacks would create them.
	for _, r := range fakeaws.ReposFor(path, sb.Bare) {
		for _, a := range r.Alarms {
			sb.Fake.SetAlarms(fakeaws.Alarm{Name: a, State: "OK", Since: now.Add(-time.Hour)})
		}
	}

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.Port)))
	if err != nil {
		return nil, fmt.Errorf("listen on 127.0.0.1:%d: %w", opts.Port, err)
	}
	sb.URL = "http://" + ln.Addr().String()
	sb.srv = &http.Server{Handler: sb.Fake, ReadHeaderTimeout: 10 * time.Second}
	go sb.srv.Serve(ln)
	return sb, nil
}

// makeDir returns dir, absolute and created, after checking it holds nothing that Close
// could remove by mistake; "" makes a new temporary directory.
func makeDir(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "ship-sandbox-")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	entries, err := os.ReadDir(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return abs, os.MkdirAll(abs, 0o755)
	case err != nil:
		return "", err
	case len(entries) > 0:
		return "", fmt.Errorf("directory %s is not empty; give a new or empty one (the sandbox removes it afterwards unless kept)", abs)
	}
	return abs, nil
}

// writeAWSConfig writes the shared config and credentials files ship reads (AWS_CONFIG_FILE,
// AWS_SHARED_CREDENTIALS_FILE): one profile per environment, each with its own access key,
// which the fake says belongs to that environment's account. ship checks whose credentials
// it holds before it reads an account, so one key for all three would be refused, as it
// would be on AWS.
func (sb *Sandbox) writeAWSConfig() error {
	var cfg, creds strings.Builder
	for _, e := range sb.Path.Environments {
		key := "sandbox-" + e.Name
		fmt.Fprintf(&cfg, "[profile %s]\nregion = %s\n", Profile(e.Name), e.Region)
		fmt.Fprintf(&creds, "[%s]\naws_access_key_id = %s\naws_secret_access_key = sandbox\n", Profile(e.Name), key)
		sb.Fake.SetAccount(key, e.Account)
	}
	sb.AWSConfig, sb.AWSCredentials = filepath.Join(sb.Dir, "aws-config"), filepath.Join(sb.Dir, "aws-credentials")
	return errors.Join(os.WriteFile(sb.AWSConfig, []byte(cfg.String()), 0o644),
		os.WriteFile(sb.AWSCredentials, []byte(creds.String()), 0o600))
}

// Profile is the AWS profile the sandbox gives environment env.
func Profile(env string) string { return "sandbox-" + env }

// ShipFlags are the flags every ship command in the sandbox needs: each environment's
// profile. The printed ship function passes them.
func (sb *Sandbox) ShipFlags() []string {
	var out []string
	for _, e := range sb.Path.Environments {
		out = append(out, "--profile", e.Name+"="+Profile(e.Name))
	}
	return out
}

// seedLeadTime is how long before dev's seeded run of each commit ended the commit was
// made: ship metrics in a new sandbox shows it as dev's lead time.
const seedLeadTime = 30 * time.Minute

// devRunAgo is how long before the sandbox's start dev's seeded run of commit i (1-based)
// ended: ten minutes apart, the newest (c4) 20 minutes ago. For change 5, which the user
// pushes, it is when such a run would have ended: 10 minutes ago.
func devRunAgo(i int) time.Duration { return time.Duration(60-10*i) * time.Minute }

// commitAgo is how long before the sandbox's start commit i (1-based) was made:
// seedLeadTime before dev's run of it, so c1 80 minutes ago .. c5 40 minutes ago.
func commitAgo(i int) time.Duration { return devRunAgo(i) + seedLeadTime }

// seed records the runs the initial pushes started, minutes apart, in the order a team
// would have made them: c1 through dev, stg and prd (approved then), then c2..c4 in dev.
// now is the sandbox's start, the clock the commits are dated by (buildRepos).
func (sb *Sandbox) seed(now time.Time) {
	ago := func(m int) time.Time { return now.Add(-time.Duration(m) * time.Minute) }
	var dev []fakeaws.Run
	for i := DevCommits; i >= 1; i-- {
		dev = append(dev, fakeaws.Run{ID: "dev-" + strconv.Itoa(i), Commit: sb.Commits[i-1], Status: "Succeeded", At: now.Add(-devRunAgo(i))})
	}
	sb.Fake.SetRuns(sb.Path.PipelineName("dev"), dev...)
	sb.Fake.SetRuns(sb.Path.PipelineName("stg"), fakeaws.Run{ID: "stg-1", Commit: sb.Commits[0], Status: "Succeeded", At: ago(45)})
	sb.Fake.SetRuns(sb.Path.PipelineName("prd"), fakeaws.Run{ID: "prd-1", Commit: sb.Commits[0], Status: "Succeeded", At: ago(35)})
}

// Close stops the fake and, unless kept, removes the sandbox's directory.
func (sb *Sandbox) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := sb.srv.Shutdown(ctx)
	if !sb.keep {
		err = errors.Join(err, os.RemoveAll(sb.Dir))
	}
	return err
}

// Kept reports whether Close leaves the directory in place.
func (sb *Sandbox) Kept() bool { return sb.keep }
