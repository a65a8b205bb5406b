package handler

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

var _ stscreds.AssumeRoleAPIClient = (*sts.Client)(nil)

// RoleSessionName is the session name of the assumed upstream role, as the upstream
// account's CloudTrail shows it.
const RoleSessionName = "promotion-guard"

// NewHandler builds the guard's AWS clients, once per process, and its checks: the
// upstream check, then the image check when cfg.ImageRepository is set, then the scan
// check when cfg.VulnerabilityThreshold is set too.
//
// awsCfg carries the Lambda's own credentials and region: PutJob*Result and ECR use them;
// the upstream CodePipeline client uses credentials of cfg.UpstreamRoleARN, assumed through
// STS with the own credentials and cached until they expire. cfgErr is the error
// ConfigFromEnv returned, if any: the handler then reports it on every job.
func NewHandler(awsCfg aws.Config, cfg Config, cfgErr error) *Handler {
	if cfg.Region == "" {
		cfg.Region = awsCfg.Region
	}
	if cfgErr == nil {
		cfgErr = cfg.Validate()
	}
	cfg = cfg.WithDefaults()

	own := awsCfg.Copy()
	own.Region = cfg.Region
	// Bounded attempts with jittered backoff, and no client-side retry quota: a warm
	// Lambda must not carry a drained quota from one job into the next.
	own.Retryer = func() aws.Retryer {
		return recordingRetryer{retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = cfg.MaxAttempts
			o.MaxBackoff = cfg.MaxBackoff
			o.RateLimiter = ratelimit.None
		})}
	}
	own.RetryMaxAttempts, own.RetryMode = 0, "" // the Retryer above decides, not AWS_MAX_ATTEMPTS
	// The report is retried by Handler.report until the Lambda's deadline, so its client
	// makes one attempt per call: retries must not nest.
	report := own.Copy()
	report.Retryer = func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) }
	h := &Handler{Reporter: codepipeline.NewFromConfig(report), Reserve: cfg.Reserve, ConfigErr: cfgErr}
	if cfgErr != nil {
		return h
	}

	up := own.Copy()
	up.Region = cfg.UpstreamRegion
	up.Credentials = aws.NewCredentialsCache(assumeRoleTagger{
		roleARN: cfg.UpstreamRoleARN,
		provider: stscreds.NewAssumeRoleProvider(sts.NewFromConfig(own), cfg.UpstreamRoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = RoleSessionName
		}),
	})
	h.Checks = append(h.Checks, &UpstreamCheck{
		Lister:      codepipeline.NewFromConfig(up),
		Environment: cfg.UpstreamEnvironment,
		Pipeline:    cfg.UpstreamPipeline,
		RoleARN:     cfg.UpstreamRoleARN,
		Region:      cfg.UpstreamRegion,
		MaxPages:    cfg.MaxPages,
	})

	if cfg.ImageRepository != "" {
		img := own.Copy()
		img.Region = cfg.ImageRegion
		registry := ecr.NewFromConfig(img)
		h.Checks = append(h.Checks, &ImageCheck{
			Describer:  registry,
			Repository: cfg.ImageRepository,
			RegistryID: cfg.ImageRegistryID,
			Region:     cfg.ImageRegion,
		})
		if cfg.VulnerabilityThreshold != "" {
			h.Checks = append(h.Checks, &ScanCheck{
				Describer:  registry,
				Repository: cfg.ImageRepository,
				RegistryID: cfg.ImageRegistryID,
				Region:     cfg.ImageRegion,
				Threshold:  cfg.VulnerabilityThreshold,
				Unscanned:  cfg.UnscannedImages,
			})
		}
	}
	return h
}
