package handler

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/vulnscan"
)

// Config is the guard's configuration, read from the Lambda's environment by ConfigFromEnv.
type Config struct {
	// UpstreamEnvironment is the upstream environment's name, e.g. "stg" (used in messages).
	UpstreamEnvironment string
	// UpstreamPipeline is the pipeline's name in the upstream account.
	UpstreamPipeline string
	// UpstreamRoleARN is the read-only role in the upstream account the guard assumes.
	UpstreamRoleARN string
	// UpstreamRegion is the upstream pipeline's region.
	UpstreamRegion string
	// MaxPages bounds the upstream history read. Default: org.DefaultHistoryPages.
	MaxPages int

	// ImageRepository, when set, adds the image check: the image tagged with the full
	// commit id must exist in this ECR repository. Default: - no image check.
	ImageRepository string
	// ImageRegistryID is the registry (account id) of ImageRepository.
	// Default: - the guard's own account.
	ImageRegistryID string
	// ImageRegion is the registry's region. Default: - the guard's own region (AWS_REGION).
	ImageRegion string
	// VulnerabilityThreshold, when set, adds the scan check after the image check: the
	// image's scan must count no finding of this severity or above; vulnscan.None refuses
	// nothing and reports the counts. Requires ImageRepository. Default: - no scan check
	// (a guard whose role may not read scans yet keeps working as before).
	VulnerabilityThreshold vulnscan.Threshold
	// UnscannedImages is what the scan check does with an image whose scan has no usable
	// result. Default: vulnscan.Refuse when VulnerabilityThreshold is set.
	UnscannedImages vulnscan.Unscanned

	// Region is the guard's own region (AWS_REGION): PutJob*Result goes there.
	Region string

	// Reserve is the time kept back from the Lambda deadline so a failure can still be
	// reported after the checks ran out of time. Default: DefaultReserve.
	Reserve time.Duration
	// MaxAttempts is the number of attempts per AWS call (throttling and transient
	// errors are retried with jittered exponential backoff). Default: DefaultMaxAttempts.
	MaxAttempts int
	// MaxBackoff caps the wait between attempts. Default: DefaultMaxBackoff.
	MaxBackoff time.Duration
}

// Defaults of the Config fields not read from the environment.
const (
	DefaultReserve     = 3 * time.Second
	DefaultMaxAttempts = 6
	DefaultMaxBackoff  = 2 * time.Second
	// DefaultBudget is the time budget when the context has no deadline (outside Lambda).
	DefaultBudget = 30 * time.Second
)

// Environment variable names of the contract with the CDK construct.
const (
	EnvUpstreamEnvironment = "UPSTREAM_ENVIRONMENT"
	EnvUpstreamPipeline    = "UPSTREAM_PIPELINE"
	EnvUpstreamRoleARN     = "UPSTREAM_ROLE_ARN"
	EnvUpstreamRegion      = "UPSTREAM_REGION"
	EnvHistoryMaxPages     = "HISTORY_MAX_PAGES"
	EnvImageRepository     = "IMAGE_REPOSITORY"
	EnvImageRegistryID     = "IMAGE_REGISTRY_ID"
	EnvImageRegion         = "IMAGE_REGION"
	EnvRegion              = "AWS_REGION"

	// EnvVulnerabilityThreshold is vulnerabilities.refuse of the organisation file:
	// CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL or NONE, in any case.
	EnvVulnerabilityThreshold = "VULNERABILITY_THRESHOLD"
	// EnvUnscannedImages is vulnerabilities.unscanned: refuse or allow, in any case.
	EnvUnscannedImages = "UNSCANNED_IMAGES"
)

// maxMaxPages keeps HISTORY_MAX_PAGES within what a Lambda can read in its time budget.
const maxMaxPages = org.MaxHistoryPages

var (
	roleARNPattern  = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)
	pipelinePattern = regexp.MustCompile(`^[A-Za-z0-9.@_-]{1,100}$`)
	repoPattern     = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$`)
)

// ConfigFromEnv reads the Config from getenv (os.Getenv in the Lambda) and validates it,
// reporting every problem at once. On error the returned Config still holds what could be
// read, so the guard can start and report the misconfiguration on each job.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		UpstreamEnvironment: getenv(EnvUpstreamEnvironment),
		UpstreamPipeline:    getenv(EnvUpstreamPipeline),
		UpstreamRoleARN:     getenv(EnvUpstreamRoleARN),
		UpstreamRegion:      getenv(EnvUpstreamRegion),
		ImageRepository:     getenv(EnvImageRepository),
		ImageRegistryID:     getenv(EnvImageRegistryID),
		ImageRegion:         getenv(EnvImageRegion),
		Region:              getenv(EnvRegion),
	}
	// A value that does not parse is kept as given, for Validate to name it.
	if s := getenv(EnvVulnerabilityThreshold); s != "" {
		c.VulnerabilityThreshold = vulnscan.Threshold(s)
		if t, err := vulnscan.ParseThreshold(s); err == nil {
			c.VulnerabilityThreshold = t
		}
	}
	if s := getenv(EnvUnscannedImages); s != "" {
		c.UnscannedImages = vulnscan.Unscanned(s)
		if u, err := vulnscan.ParseUnscanned(s); err == nil {
			c.UnscannedImages = u
		}
	}
	var problems []string
	if s := getenv(EnvHistoryMaxPages); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxMaxPages {
			problems = append(problems, fmt.Sprintf("%s=%q: want a whole number from 1 to %d", EnvHistoryMaxPages, s, maxMaxPages))
		} else {
			c.MaxPages = n
		}
	}
	if err := c.Validate(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("guard configuration: %s", strings.Join(problems, "; "))
	}
	return c.WithDefaults(), nil
}

// WithDefaults returns a copy of c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.MaxPages < 1 {
		c.MaxPages = org.DefaultHistoryPages
	}
	if c.ImageRepository != "" && c.ImageRegion == "" {
		c.ImageRegion = c.Region
	}
	if c.VulnerabilityThreshold != "" && c.UnscannedImages == "" {
		c.UnscannedImages = vulnscan.Refuse
	}
	if c.Reserve <= 0 {
		c.Reserve = DefaultReserve
	}
	if c.MaxAttempts < 1 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	return c
}

// Validate checks the fields of c that come from the environment and returns every
// problem in one error, naming the variable, its value and what is allowed.
func (c Config) Validate() error {
	var problems []string
	bad := func(env, val, want string) {
		problems = append(problems, fmt.Sprintf("%s=%q: %s", env, val, want))
	}
	if c.UpstreamEnvironment == "" {
		bad(EnvUpstreamEnvironment, "", "required, e.g. stg")
	}
	if !pipelinePattern.MatchString(c.UpstreamPipeline) {
		bad(EnvUpstreamPipeline, c.UpstreamPipeline, "required, a pipeline name")
	}
	if !roleARNPattern.MatchString(c.UpstreamRoleARN) {
		bad(EnvUpstreamRoleARN, c.UpstreamRoleARN, "required, an IAM role ARN")
	}
	if !org.IsRegion(c.UpstreamRegion) {
		bad(EnvUpstreamRegion, c.UpstreamRegion, "required, a region such as eu-west-1")
	}
	if !org.IsRegion(c.Region) {
		bad(EnvRegion, c.Region, "required, the Lambda's own region")
	}
	if c.MaxPages < 0 || c.MaxPages > maxMaxPages {
		bad(EnvHistoryMaxPages, strconv.Itoa(c.MaxPages), fmt.Sprintf("from 1 to %d", maxMaxPages))
	}
	if c.ImageRepository != "" && !repoPattern.MatchString(c.ImageRepository) {
		bad(EnvImageRepository, c.ImageRepository, "an ECR repository name")
	}
	if c.ImageRepository == "" && (c.ImageRegistryID != "" || c.ImageRegion != "") {
		problems = append(problems, fmt.Sprintf("%s and %s are set but %s is not", EnvImageRegistryID, EnvImageRegion, EnvImageRepository))
	}
	if c.ImageRegistryID != "" && !org.IsAccountID(c.ImageRegistryID) {
		bad(EnvImageRegistryID, c.ImageRegistryID, "a 12-digit account id")
	}
	if c.ImageRegion != "" && !org.IsRegion(c.ImageRegion) {
		bad(EnvImageRegion, c.ImageRegion, "a region such as eu-west-1")
	}
	if t := c.VulnerabilityThreshold; t != "" {
		if p, err := vulnscan.ParseThreshold(string(t)); err != nil || p != t {
			bad(EnvVulnerabilityThreshold, string(t), vulnscan.AllowedThresholds)
		} else if c.ImageRepository == "" {
			problems = append(problems, fmt.Sprintf("%s is set but %s is not: the scan checked is the image's", EnvVulnerabilityThreshold, EnvImageRepository))
		}
	}
	if u := c.UnscannedImages; u != "" {
		if p, err := vulnscan.ParseUnscanned(string(u)); err != nil || p != u {
			bad(EnvUnscannedImages, string(u), vulnscan.AllowedUnscanned)
		} else if c.VulnerabilityThreshold == "" {
			problems = append(problems, fmt.Sprintf("%s is set but %s is not: without a threshold there is no scan check", EnvUnscannedImages, EnvVulnerabilityThreshold))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}
