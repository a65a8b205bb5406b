// Command bootstrap is the runs widget of an environment's dashboard (provided.al2023): a
// CloudWatch custom widget's function that reads the environment's pipeline history when
// someone views the dashboard and answers HTML. The widget is package runs; this is its
// configuration and its AWS clients.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"

	"github.com/platform-eng/pathtoprod/constructs/dashboard/lambda/runs"
	"github.com/platform-eng/pathtoprod/constructs/lambdaconfig"
)

// Retries of each AWS call: a few, quickly. A person is waiting for the widget, and the
// whole read must fit its time budget; a throttled view says so instead of waiting it out.
const (
	maxAttempts = 3
	maxBackoff  = time.Second
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))

	cfg, cfgErr := runs.ConfigFromEnv(os.Getenv)
	if cfgErr != nil {
		// Keep going: every view shows this message instead of a Lambda error.
		slog.Error("runs widget misconfigured", "err", cfgErr)
	}
	// Keep going when it fails to load: every invocation then reports why.
	awsCfg, cfgErr := lambdaconfig.Load(context.Background(), cfgErr)
	// No client-side retry quota: a warm function must not carry a drained quota from one
	// view into the next.
	awsCfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts, o.MaxBackoff, o.RateLimiter = maxAttempts, maxBackoff, ratelimit.None
		})
	}
	awsCfg.RetryMaxAttempts, awsCfg.RetryMode = 0, ""
	// Built once per process: a warm function remembers what cannot change between views
	// (a finished run's action executions, commit times) and rereads only the history.
	h := &runs.Handler{
		Pipelines: runs.RememberActions(codepipeline.NewFromConfig(awsCfg)),
		Commits:   runs.RememberCommits(codecommit.NewFromConfig(awsCfg)),
		Config:    cfg,
		ConfigErr: cfgErr,
	}
	lambda.Start(h.Handle)
}
