// Command bootstrap is the promotion guard Lambda (provided.al2023): before a downstream
// pipeline deploys a commit, it passes the job only if the commit passed upstream.
// The logic and its contract with the CDK construct are in package gate.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))

	cfg, cfgErr := gate.ConfigFromEnv(os.Getenv)
	if cfgErr != nil {
		// Keep going: every job will fail with this message instead of timing out.
		slog.Error("guard misconfigured", "err", cfgErr)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		slog.Error("load AWS configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(gate.NewHandler(awsCfg, cfg, cfgErr).Handle)
}
