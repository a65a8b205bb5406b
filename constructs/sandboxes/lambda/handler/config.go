package handler

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/sandboxes/controller"
)

// Environment variable names of the contract with the CDK construct (constructs/sandboxes).
const (
	EnvTable       = "TABLE_NAME"
	EnvProject     = "PROJECT_NAME"
	EnvTopic       = "TOPIC_ARN"
	EnvRepository  = "REPOSITORY_NAME"
	EnvMax         = "MAX_SANDBOXES"
	EnvTTL         = "SANDBOX_TTL"
	EnvWarning     = "SANDBOX_WARNING"
	EnvBucket      = "BUCKET"
	EnvPathID      = "PATH_ID"
	EnvEnvironment = "ENVIRONMENT"
)

// Config is the controller's configuration, read from the Lambda's environment by ConfigFromEnv.
type Config struct {
	// Table is the sandbox table, org.Path.SandboxTableName(env).
	Table string
	// Project is the sandbox CodeBuild project, org.Path.SandboxProjectName(env).
	Project string
	// TopicARN is the path's notification topic in this account.
	TopicARN string
	// Repository is the first environment's CodeCommit repository.
	Repository string
	// Max is Service.SandboxLimit().
	Max int
	// TTL is Service.SandboxTTL(); Warning Service.SandboxWarning().
	TTL, Warning time.Duration
	// Bucket is where deploys keep each sandbox's cloud assembly (the builds use it; the
	// controller only checks it is set, so a construct that forgot it fails at once).
	Bucket string
	// PathID is <team>-<service>; Environment the first environment's name.
	PathID, Environment string
}

var (
	tablePattern   = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	projectPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$`)
	topicPattern   = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)
	repoPattern    = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	bucketPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	pathIDPattern  = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	// envPattern is org's rule for environment names.
	envPattern = regexp.MustCompile(`^[a-z][a-z0-9]{1,7}$`)
)

// ConfigFromEnv reads the Config from getenv (os.Getenv in the Lambda) and checks it,
// reporting every problem at once, each naming the variable, its value and what is allowed.
// On error the Config still holds what could be read.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{Table: getenv(EnvTable), Project: getenv(EnvProject), TopicARN: getenv(EnvTopic), Repository: getenv(EnvRepository),
		Bucket: getenv(EnvBucket), PathID: getenv(EnvPathID), Environment: getenv(EnvEnvironment)}
	var problems []string
	bad := func(env, val, want string) { problems = append(problems, fmt.Sprintf("%s=%q: %s", env, val, want)) }
	check := func(env, val string, p *regexp.Regexp, want string) {
		if !p.MatchString(val) {
			bad(env, val, "required, "+want)
		}
	}
	check(EnvTable, c.Table, tablePattern, "a DynamoDB table name, e.g. payments-checkout-dev-sandboxes")
	check(EnvProject, c.Project, projectPattern, "a CodeBuild project name, e.g. payments-checkout-dev-sandbox")
	check(EnvTopic, c.TopicARN, topicPattern, "an SNS topic ARN, e.g. arn:aws:sns:eu-west-1:123456789012:payments-checkout-dev-notifications")
	check(EnvRepository, c.Repository, repoPattern, "a CodeCommit repository name, e.g. payments-checkout")
	check(EnvBucket, c.Bucket, bucketPattern, "an S3 bucket name")
	check(EnvPathID, c.PathID, pathIDPattern, "the path's id, <team>-<service>, e.g. payments-checkout")
	check(EnvEnvironment, c.Environment, envPattern, "an environment name, 2-8 lowercase letters or digits starting with a letter, e.g. dev")

	s := getenv(EnvMax)
	if n, err := strconv.Atoi(s); err != nil || n < 1 || n > org.MaxSandboxes {
		bad(EnvMax, s, fmt.Sprintf("required, a whole number from 1 to %d", org.MaxSandboxes))
	} else {
		c.Max = n
	}
	s = getenv(EnvTTL)
	if d, err := time.ParseDuration(s); err != nil || d < time.Hour || d > org.MaxSandboxTTLHours*time.Hour || d%time.Hour != 0 {
		bad(EnvTTL, s, fmt.Sprintf("required, whole hours as a Go duration from 1h to %dh, e.g. 72h", org.MaxSandboxTTLHours))
	} else {
		c.TTL = d
	}
	s = getenv(EnvWarning)
	if d, err := time.ParseDuration(s); err != nil || d <= 0 || (c.TTL > 0 && d >= c.TTL) {
		want := "required, a Go duration above 0 and below " + EnvTTL + ", e.g. 18h"
		bad(EnvWarning, s, want)
	} else {
		c.Warning = d
	}
	if len(problems) > 0 {
		return c, errors.New("sandbox controller configuration: " + strings.Join(problems, "; "))
	}
	return c, nil
}

// Controller is the part of c the decisions need.
func (c Config) Controller() controller.Config {
	return controller.Config{Repository: c.Repository, Project: c.Project, PathID: c.PathID, Environment: c.Environment,
		Max: c.Max, TTL: c.TTL, Warning: c.Warning}
}
