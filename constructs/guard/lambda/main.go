// Command bootstrap is the promotion guard Lambda (provided.al2023): before a downstream
// pipeline deploys a commit, it passes the job only if the commit passed upstream. The rule
// is package gate's; the handler, its configuration and its AWS clients are package handler.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/platform-eng/pathtoprod/constructs/guard/lambda/handler"
	"github.com/platform-eng/pathtoprod/constructs/lambdaconfig"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))

	cfg, cfgErr := handler.ConfigFromEnv(os.Getenv)
	if cfgErr != nil {
		// Keep going: every job will fail with this message instead of timing out.
		slog.Error("guard misconfigured", "err", cfgErr)
	}
	// Keep going when it fails to load: every invocation then reports why.
	awsCfg, cfgErr := lambdaconfig.Load(context.Background(), cfgErr)
	lambda.Start(handler.NewHandler(awsCfg, cfg, cfgErr).Handle)
}
