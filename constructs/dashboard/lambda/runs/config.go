package runs

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// Environment variable names of the contract with the CDK construct (package dashboard sets
// them; its tests check it sets exactly these).
const (
	EnvPipeline     = "PIPELINE_NAME"
	EnvRepository   = "REPOSITORY_NAME"
	EnvEnvironment  = "ENVIRONMENT"
	EnvHistoryPages = "HISTORY_MAX_PAGES"
	EnvRegion       = "AWS_REGION"
	// EnvSourceProvider and EnvSourceRepository name a source on a connection provider
	// (github, gitlab, bitbucket; owner/name), which has no CodeCommit repository in the
	// account. Unset: the source is CodeCommit, and EnvRepository names its repository.
	EnvSourceProvider   = "SOURCE_PROVIDER"
	EnvSourceRepository = "SOURCE_REPOSITORY"
)

// Defaults and bounds of the handler.
const (
	// MaxRange is the longest time range the widget reads: a longer dashboard range is cut
	// to its newest MaxRange, with a note. It keeps a read within the widget's time budget
	// and within the history CodePipeline keeps (12 months).
	MaxRange = 90 * 24 * time.Hour
	// DefaultRange is the range read when the event carries none (an invocation from the
	// Lambda console or the CLI, not from a dashboard).
	DefaultRange = 7 * 24 * time.Hour
	// DefaultReserve is kept back from the Lambda's deadline to render what was read, or
	// the error, after the reads ran out of time.
	DefaultReserve = 2 * time.Second
	// DefaultBudget is the time for the reads when the context has no deadline (outside Lambda).
	DefaultBudget = 25 * time.Second
	// DefaultRows is how many runs the table shows, newest first.
	DefaultRows = 25
)

// Config is the widget's configuration, read from the Lambda's environment by ConfigFromEnv.
type Config struct {
	// Pipeline is the pipeline whose runs the widget shows, in the function's own account
	// and region.
	Pipeline string
	// Repository is the CodeCommit repository the pipeline's source action reads: the
	// commits' times (for lead times) come from it. Empty with a connection Source.
	Repository string
	// Source is the path's source when it is on a connection provider (GitHub, GitLab,
	// Bitbucket): there is no CodeCommit repository to read commit times from, so the widget
	// reads none and shows the lead times as unknown, saying why (CommitTimesElsewhere).
	// Default: - CodeCommit, the repository named Repository.
	Source org.Source
	// Environment is the environment's name, for the page.
	Environment string
	// Region is the function's region (AWS_REGION), for console links.
	Region string
	// MaxPages bounds the history read, in pages of org.HistoryPageSize runs: the
	// organisation's settings.historyPages. Default: org.DefaultHistoryPages.
	MaxPages int
	// Rows is how many runs the table shows. Default: DefaultRows.
	Rows int
	// Reserve is kept back from the deadline to render. Default: DefaultReserve.
	Reserve time.Duration
}

var pipelinePattern = regexp.MustCompile(`^[A-Za-z0-9.@_-]{1,100}$`)

// ConfigFromEnv reads the Config from getenv (os.Getenv in the Lambda) and validates it,
// reporting every problem at once, each naming the variable, its value and what is allowed.
// On error the Config still holds what could be read: the widget starts and shows the
// problem instead of failing every view with a Lambda error.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Pipeline:    getenv(EnvPipeline),
		Repository:  getenv(EnvRepository),
		Environment: getenv(EnvEnvironment),
		Region:      getenv(EnvRegion),
	}
	var problems []string
	bad := func(env, val, want string) { problems = append(problems, fmt.Sprintf("%s=%q: %s", env, val, want)) }
	if !pipelinePattern.MatchString(c.Pipeline) {
		bad(EnvPipeline, c.Pipeline, "required, a pipeline name (1-100 letters, digits, '.', '@', '_' or '-')")
	}
	provider, sourceRepo := getenv(EnvSourceProvider), getenv(EnvSourceRepository)
	src := org.Source{Provider: provider, Repository: sourceRepo}
	switch {
	case src.UsesConnection():
		c.Source = src
		if sourceRepo == "" {
			bad(EnvSourceRepository, "", "required with "+EnvSourceProvider+"="+provider+": the repository as owner/name")
		}
		if c.Repository != "" {
			bad(EnvRepository, c.Repository, "unset with "+EnvSourceProvider+"="+provider+": the path has no CodeCommit repository")
		}
	case provider != "" && provider != org.ProviderCodeCommit:
		bad(EnvSourceProvider, provider, "github, gitlab or bitbucket for a source through a connection; unset (or codecommit) for CodeCommit")
	default:
		if c.Repository == "" || len(c.Repository) > 100 {
			bad(EnvRepository, c.Repository, "required, a CodeCommit repository name of at most 100 characters")
		}
		if sourceRepo != "" {
			bad(EnvSourceRepository, sourceRepo, "unset with a CodeCommit source, whose repository is "+EnvRepository)
		}
	}
	if c.Environment == "" {
		bad(EnvEnvironment, "", "required, the environment's name, e.g. prd")
	}
	if !org.IsRegion(c.Region) {
		bad(EnvRegion, c.Region, "required, the function's own region (Lambda sets it)")
	}
	if s := getenv(EnvHistoryPages); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > org.MaxHistoryPages {
			bad(EnvHistoryPages, s, fmt.Sprintf("a whole number from 1 to %d (the organisation's settings.historyPages)", org.MaxHistoryPages))
		} else {
			c.MaxPages = n
		}
	}
	if len(problems) > 0 {
		return c.WithDefaults(), errors.New("runs widget configuration: " + strings.Join(problems, "; "))
	}
	return c.WithDefaults(), nil
}

// WithDefaults returns a copy of c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.MaxPages < 1 {
		c.MaxPages = org.DefaultHistoryPages
	}
	if c.Rows < 1 {
		c.Rows = DefaultRows
	}
	if c.Reserve <= 0 {
		c.Reserve = DefaultReserve
	}
	return c
}

// CommitTimesElsewhere says why a widget of a path whose code is on a connection provider
// shows no lead times, and where to read them.
func CommitTimesElsewhere(src org.Source) string {
	return fmt.Sprintf("commit times come from CodeCommit; this path's code is on %s (%s/%s): see ship metrics, which reads them from your clone.",
		src.ProviderType(), src.Host(), src.Repository)
}
