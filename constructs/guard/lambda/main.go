// Command bootstrap is the promotion guard Lambda (provided.al2023): before a downstream
// pipeline deploys a commit, it passes the job only if the commit passed upstream. The rule
// is package gate's; the handler, its configuration and its AWS clients are package handler.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/platform-eng/pathtoprod/constructs/guard/lambda/handler"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))

	cfg, cfgErr := handler.ConfigFromEnv(os.Getenv)
	if cfgErr != nil {
		// Keep going: every job will fail with this message instead of timing out.
		slog.Error("guard misconfigured", "err", cfgErr)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		// Keep going here too: exiting would leave every job to CodePipeline's time-out.
		// Report with what Lambda always provides (its region and the execution role's
		// credentials in the environment), and fail each job naming the problem.
		slog.Error("load AWS configuration", "err", err)
		awsCfg = fallbackConfig()
		if cfgErr == nil {
			cfgErr = fmt.Errorf("load AWS configuration: %w", err)
		} else {
			cfgErr = fmt.Errorf("%w; load AWS configuration: %w", cfgErr, err)
		}
	}
	lambda.Start(handler.NewHandler(awsCfg, cfg, cfgErr).Handle)
}

// fallbackConfig is the Lambda runtime's own region and credentials, read without the
// shared configuration loader.
func fallbackConfig() aws.Config {
	return aws.Config{
		Region:       os.Getenv("AWS_REGION"),
		BaseEndpoint: endpoint(),
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
			os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN"))),
	}
}

// endpoint is AWS_ENDPOINT_URL when set (tests point the SDK at a local fake with it).
func endpoint() *string {
	if u := os.Getenv("AWS_ENDPOINT_URL"); u != "" {
		return &u
	}
	return nil
}
