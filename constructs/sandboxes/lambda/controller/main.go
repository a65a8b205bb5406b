// Command bootstrap is the sandbox controller Lambda (provided.al2023): it deploys, updates,
// destroys and expires a path's sandboxes as sandbox/<name> branches are pushed and deleted,
// and tells their owners. The decisions are package controller's; the handler, its
// configuration and its AWS clients are package handler.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/platform-eng/pathtoprod/constructs/lambdaconfig"
	"github.com/platform-eng/pathtoprod/constructs/sandboxes/lambda/handler"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))

	cfg, cfgErr := handler.ConfigFromEnv(os.Getenv)
	if cfgErr != nil {
		// Keep going: every invocation fails with this message, in the function's log and
		// its Errors metric, instead of the function failing to start.
		slog.Error("sandbox controller misconfigured", "err", cfgErr)
	}
	awsCfg, cfgErr := lambdaconfig.Load(context.Background(), cfgErr)
	lambda.Start(handler.NewHandler(awsCfg, cfg, cfgErr).Handle)
}
