package org

import (
	"fmt"
	"regexp"
	"strings"
)

// RegionPattern matches an AWS region name: a two-letter area, one or two words, and a
// number from 1 to 99, e.g. eu-west-1, ap-southeast-7, il-central-1, us-gov-west-1,
// cn-northwest-1, us-isob-east-1. It is the one region pattern of the project: the guard's
// configuration and the ship CLI use it (through IsRegion) rather than their own, so a
// region the loader accepts is never refused later. It does not know the list of regions
// (a new region must not need a release); an availability zone (eu-west-1a) does not match.
var RegionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+){1,2}-[1-9][0-9]?$`)

// AccountIDPattern matches an AWS account id: exactly 12 digits, leading zeros included.
var AccountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// IsRegion reports whether s is a region name RegionPattern accepts.
func IsRegion(s string) bool { return RegionPattern.MatchString(s) }

// IsAccountID reports whether s is a 12-digit AWS account id.
func IsAccountID(s string) bool { return AccountIDPattern.MatchString(s) }

// Team and service names become part of every name derived from a path (paths.go), so they
// are exactly what every one of those AWS resources accepts. The charset is ECR's, the
// strictest: lowercase letters and digits in runs separated by single hyphens (no "--", no
// leading or trailing hyphen), starting with a letter because CloudFormation stack names
// must. Environment names are 2-8 lowercase letters or digits and never contain a hyphen,
// which is what keeps the derived names of different paths apart (see validateUniqueIDs).
//
// Lengths: the longest path id is 16+1+20 = 37 characters, the longest per-environment
// prefix <id>-<env> is 37+1+8 = 46. Against each AWS limit:
//
//	IAM role <id>-<env>-approver             55 of 64   <- binds: 9 to spare
//	CodeStar notification rule <id>-<env>-failed 53 of 64
//	Lambda function <id>-<env>-guard          52 of 64
//	CloudFormation stack <id>-<env>-pipeline  55 of 128
//	CodePipeline <id>-<env>                   46 of 100
//	CodeCommit repository <id>                37 of 100
//	CodeBuild project <id>-<env>-<step>       87 of 255 (steps are at most 40 characters)
//	SNS topic <id>-<env>-notifications        60 of 256
//	ECR repository <team>/<service>           37 of 256
//
// Raising maxTeamName, maxServiceName or the environment name length by more than 9
// characters in total breaks the IAM role names first; TestLongestNamesFitEveryAWSLimit
// checks every row.
const (
	minName        = 2
	maxTeamName    = 16
	maxServiceName = 20
	// maxBranch keeps a branch readable in descriptions, messages and console URLs;
	// CodeCommit itself allows 256.
	maxBranch = 100
)

var (
	// lowercase alphanumeric runs joined by single hyphens, starting with a letter
	dnsLikeName  = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	envName      = regexp.MustCompile(`^[a-z][a-z0-9]{1,7}$`)
	cdkQualifier = regexp.MustCompile(`^[a-z0-9]{1,10}$`)
	email        = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	roleName     = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	iamARN       = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[\w+=,.@/-]{1,128}$`)
)

func isTeamName(s string) bool {
	return len(s) >= minName && len(s) <= maxTeamName && dnsLikeName.MatchString(s)
}

func isServiceName(s string) bool {
	return len(s) >= minName && len(s) <= maxServiceName && dnsLikeName.MatchString(s)
}

// branchProblem says why name is not a branch the pipelines accept, or "" when it is one.
//
// The rules are git's for refs/heads/<name> (git check-ref-format --branch), narrowed to
// letters, digits and . _ / - so the name is also safe unescaped in the EventBridge pattern
// of the source action, in a console URL and in the git commands ship prints. The narrowing
// covers git's own character rules (no control characters, space, ~ ^ : ? * [ \, no "@{", not
// "@" alone); the checks after it are the ones a name of those characters can still break.
func branchProblem(name string) string {
	if name == "" {
		return "this one is empty"
	}
	if len(name) > maxBranch {
		return fmt.Sprintf("this one is %d bytes long", len(name))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._/-", r)) {
			return fmt.Sprintf("this one contains %q", r)
		}
	}
	switch {
	case name[0] == '-':
		return "this one starts with '-' (git reads it as an option)"
	case name[0] == '/':
		return "this one starts with '/'"
	case strings.HasSuffix(name, "/"):
		return "this one ends with '/'"
	case strings.HasSuffix(name, "."):
		return "this one ends with '.'"
	case strings.Contains(name, "//"):
		return "this one contains '//'"
	case strings.Contains(name, ".."):
		return "this one contains '..'"
	case name == "HEAD":
		return "HEAD names the checked-out commit, git refuses it as a branch"
	}
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") {
			return fmt.Sprintf("its part %q starts with '.'", part)
		}
		if strings.HasSuffix(part, ".lock") {
			return fmt.Sprintf("its part %q ends with '.lock'", part)
		}
	}
	return ""
}
