package checkout

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/platform-eng/pathtoprod/constructs/envpipeline"
	"github.com/platform-eng/pathtoprod/constructs/org"
	"github.com/platform-eng/pathtoprod/constructs/registry"
	"github.com/platform-eng/pathtoprod/constructs/sandboxes"
)

// The variables the pipeline sets, by their names in envpipeline.
const (
	VarImageURI      = envpipeline.VarImageURI
	VarEnvironment   = envpipeline.VarEnvironment
	VarTargetAccount = envpipeline.VarTargetAccount
	VarTargetRegion  = envpipeline.VarTargetRegion
)

// Config is what one deploy of the service needs: where to deploy and which image.
type Config struct {
	// Path is the service's path to production (payments/checkout in the example).
	Path org.Path
	// Registry is the shared registry that holds the path's images.
	Registry org.Registry
	// Environment is the environment deployed to: dev, stg or prd.
	Environment string
	// Account and Region are the environment's account and region: the stacks live there.
	Account, Region string
	// Image is the image the pipeline promoted, by digest; in a sandbox, the image the
	// sandbox's build pushed to the path's sandbox repository in the environment's account.
	Image registry.Image
	// Sandbox is the sandbox deployed (sandboxes.NameFrom: the SANDBOX variable, or the
	// "sandbox" context), or "" for the environment's own deploy.
	Sandbox string
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// ConfigError lists every problem with the deploy's environment variables at once, each
// naming the variable, its value and what is allowed.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid deploy environment: %d problem(s)\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// ConfigFromEnv reads the deploy's configuration from the variables the pipeline sets
// (getenv is os.Getenv in the app: the environment sandboxes.StackName and sandboxes.Apply
// read too). The image must be the path's repository in the shared registry, by digest, in
// the target region (Lambda pulls images only from its own region); the environment must be
// one of the path's, and the target account and region its own.
//
// In a sandbox (SANDBOX set, as a sandbox's build sets it) the environment must be the path's
// first, the only one with sandboxes, and the image the one the sandbox's build pushed: the
// path's sandbox repository (org.Path.SandboxImageRepositoryName) in the environment's own
// account and region, by digest. A sandbox never runs an image of the shared registry, and no
// environment ever runs a sandbox's.
func ConfigFromEnv(path org.Path, reg org.Registry, getenv func(string) string) (Config, error) {
	var problems []string
	bad := func(name, value, allowed string) {
		problems = append(problems, fmt.Sprintf("%s: %q: %s", name, value, allowed))
	}
	cfg := Config{
		Path:        path,
		Registry:    reg,
		Environment: getenv(VarEnvironment),
		Account:     getenv(VarTargetAccount),
		Region:      getenv(VarTargetRegion),
	}

	sandbox, err := sandboxes.NameFrom(getenv)
	if err != nil {
		problems = append(problems, err.Error())
	}
	cfg.Sandbox = sandbox

	env, err := path.Environment(cfg.Environment)
	if err != nil {
		var names []string
		for _, e := range path.Environments {
			names = append(names, e.Name)
		}
		bad(VarEnvironment, cfg.Environment, fmt.Sprintf("one of the environments of %s: %s", path.ID(), strings.Join(names, ", ")))
	} else if sandbox != "" && !path.IsFirst(env) {
		bad(VarEnvironment, cfg.Environment, fmt.Sprintf("%s, the first environment of %s, in sandbox %s: sandboxes live only there", path.Environments[0].Name, path.ID(), sandbox))
	}
	switch {
	case !accountID.MatchString(cfg.Account):
		bad(VarTargetAccount, cfg.Account, "a 12-digit AWS account id")
	case err == nil && cfg.Account != env.Account:
		bad(VarTargetAccount, cfg.Account, fmt.Sprintf("the account of %s in %s, %s", env.Name, path.ID(), env.Account))
	}
	switch {
	case cfg.Region == "":
		bad(VarTargetRegion, cfg.Region, "an AWS region name such as eu-west-1")
	case err == nil && cfg.Region != env.Region:
		bad(VarTargetRegion, cfg.Region, fmt.Sprintf("the region of %s in %s, %s", env.Name, path.ID(), env.Region))
	}

	var img registry.Image
	if sandbox == "" {
		img, err = registry.ParsePathImageURI(getenv(VarImageURI), reg, path)
	} else {
		img, err = sandboxImage(getenv(VarImageURI), cfg, path)
	}
	switch {
	case err != nil:
		problems = append(problems, VarImageURI+": "+err.Error())
	case cfg.Region != "" && img.Region != cfg.Region:
		bad(VarImageURI, img.URI(), fmt.Sprintf("an image in %s (%s): a Lambda function pulls images only from its own region", cfg.Region, VarTargetRegion))
	}
	cfg.Image = img
	if len(problems) > 0 {
		return Config{}, &ConfigError{Problems: problems}
	}
	return cfg, nil
}

// sandboxImage reads a sandbox's image: the path's sandbox repository in the target account
// and region, by digest.
func sandboxImage(uri string, cfg Config, path org.Path) (registry.Image, error) {
	repo := cfg.Account + ".dkr.ecr." + cfg.Region + ".amazonaws.com/" + path.SandboxImageRepositoryName()
	img, err := registry.ParseImageURI(uri)
	if err != nil || img.RepositoryURI() != repo {
		return registry.Image{}, fmt.Errorf("%q: %s@sha256:<64 hex digits>: in sandbox %s, the image its build pushed to the path's sandbox repository in the environment's own account, by digest", uri, repo, cfg.Sandbox)
	}
	return img, nil
}
