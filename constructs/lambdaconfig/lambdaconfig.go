// Package lambdaconfig is how this library's Go Lambdas (the guard, the dashboard's runs
// widget) load their AWS configuration: a function that cannot load it must still answer
// every invocation, saying why, rather than exit and leave CodePipeline's job, or a
// dashboard viewer, waiting for a time-out.
//
//	cfg, cfgErr := handler.ConfigFromEnv(os.Getenv)
//	awsCfg, cfgErr := lambdaconfig.Load(ctx, cfgErr)
//	// every invocation fails with cfgErr when it is not nil
//
// It has no jsii: it is linked into the Lambdas' binaries.
package lambdaconfig

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Load loads the SDK's default configuration. When that fails it logs the failure and
// returns Fallback, with the failure added to cfgErr (the function's own configuration
// error, or nil), so that the caller keeps going and reports it on every invocation.
func Load(ctx context.Context, cfgErr error) (aws.Config, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err == nil {
		return awsCfg, cfgErr
	}
	slog.Error("load AWS configuration", "err", err)
	if cfgErr == nil {
		return Fallback(), fmt.Errorf("load AWS configuration: %w", err)
	}
	return Fallback(), fmt.Errorf("%w; load AWS configuration: %w", cfgErr, err)
}

// Fallback is what Lambda always provides, read without the shared configuration loader:
// the function's region and its execution role's credentials in the environment, and
// AWS_ENDPOINT_URL when set (the tests point the SDK at a local fake with it).
func Fallback() aws.Config {
	c := aws.Config{
		Region: os.Getenv("AWS_REGION"),
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
			os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN"))),
	}
	if u := os.Getenv("AWS_ENDPOINT_URL"); u != "" {
		c.BaseEndpoint = &u
	}
	return c
}
