package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/platform-eng/pathtoprod/constructs/sandboxes/controller"
	"github.com/platform-eng/pathtoprod/constructs/sandboxes/state"
)

// Builds is the part of CodeBuild the controller calls, on the sandbox project only.
type Builds interface {
	StartBuild(ctx context.Context, in *codebuild.StartBuildInput, optFns ...func(*codebuild.Options)) (*codebuild.StartBuildOutput, error)
	StopBuild(ctx context.Context, in *codebuild.StopBuildInput, optFns ...func(*codebuild.Options)) (*codebuild.StopBuildOutput, error)
	BatchGetBuilds(ctx context.Context, in *codebuild.BatchGetBuildsInput, optFns ...func(*codebuild.Options)) (*codebuild.BatchGetBuildsOutput, error)
}

// Publisher is the part of SNS the controller calls, on the path's topic only.
type Publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var (
	_ Builds    = (*codebuild.Client)(nil)
	_ Publisher = (*sns.Client)(nil)
	_ state.API = (*dynamodb.Client)(nil)
)

// Handler is the controller Lambda's handler.
type Handler struct {
	Config Config
	// DB reads and writes the sandbox table; Builds starts and stops the project's builds;
	// Topic publishes the notifications.
	DB     state.API
	Builds Builds
	Topic  Publisher
	// ConfigErr is the configuration's problem, if any: every invocation fails with it.
	ConfigErr error
	// Log is where decisions are logged. Default: slog.Default().
	Log *slog.Logger
}

// NewHandler builds the AWS clients, once per process, from awsCfg (the function's own
// credentials and region). cfgErr is ConfigFromEnv's error, if any.
func NewHandler(awsCfg aws.Config, cfg Config, cfgErr error) *Handler {
	return &Handler{Config: cfg, ConfigErr: cfgErr, DB: dynamodb.NewFromConfig(awsCfg),
		Builds: codebuild.NewFromConfig(awsCfg), Topic: sns.NewFromConfig(awsCfg)}
}

// errNoWrite aborts a state.Update whose decision changed nothing.
var errNoWrite = errors.New("nothing to write")

// Handle decides about one EventBridge event and carries the decision out, in the contract's
// order: the state write, then the builds stopped, then each build started (its id recorded
// in a second write), then the notifications. It returns an error when the event is refused
// (not this path's, malformed), when the state cannot be read or written (nothing was done:
// Lambda's retry of the event is safe), or when a notification could not be sent (the retry
// sends it again only where no state records that it was sent).
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) error {
	log := h.Log
	if log == nil {
		log = slog.Default()
	}
	if h.ConfigErr != nil {
		log.Error("sandbox controller misconfigured", "err", h.ConfigErr)
		return h.ConfigErr
	}
	ev, err := controller.Decode(raw)
	if err != nil {
		log.Error("event refused", "err", err)
		return fmt.Errorf("event refused: %w", err)
	}
	log = log.With("event", ev.ID, "kind", ev.Kind)
	cc := h.Config.Controller()
	if ev.Kind == controller.KindSweep {
		ev.Finished = h.finishedBuilds(ctx, log)
	}
	var d controller.Decision
	_, err = state.Update(ctx, h.DB, h.Config.Table, func(s *state.Set) error {
		var err error
		if d, err = controller.Decide(cc, s, ev); err == nil && !d.Write {
			err = errNoWrite
		}
		return err
	})
	if err != nil && !errors.Is(err, errNoWrite) {
		log.Error("nothing done", "err", err)
		return err
	}
	for _, line := range d.Log {
		log.Info(line)
	}
	for _, id := range d.Stop {
		if _, err := h.Builds.StopBuild(ctx, &codebuild.StopBuildInput{Id: aws.String(id)}); err != nil {
			// Its end is ignored anyway: it is no sandbox's current build any more.
			log.Warn("stop a superseded build", "build", id, "err", err)
		}
	}
	notes := d.Notify
	for _, b := range d.Start {
		notes = append(notes, h.start(ctx, log, cc, b)...)
	}
	var errs []error
	for _, n := range notes {
		if err := h.publish(ctx, n); err != nil {
			log.Error("notify", "sandbox", n.Sandbox, "notification", n.Event, "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// start starts build b and records its id, or records that it could not start (returning the
// notification that says so). A build that a newer event superseded while it started is
// stopped at once.
func (h *Handler) start(ctx context.Context, log *slog.Logger, cc controller.Config, b controller.Build) []controller.Notification {
	out, err := h.Builds.StartBuild(ctx, StartBuildInput(h.Config.Project, b))
	if err != nil {
		log.Error("start build", "sandbox", b.Sandbox, "action", b.Action, "err", err)
		var failed controller.Decision
		_, uerr := state.Update(ctx, h.DB, h.Config.Table, func(s *state.Set) error {
			if failed = cc.StartFailed(s, b, err); !failed.Write {
				return errNoWrite
			}
			return nil
		})
		if uerr != nil && !errors.Is(uerr, errNoWrite) {
			// The sweep starts it again after controller.RestartAfter.
			log.Error("record the failed start", "sandbox", b.Sandbox, "err", uerr)
			return nil
		}
		return failed.Notify
	}
	id := aws.ToString(out.Build.Id)
	recorded := false
	_, err = state.Update(ctx, h.DB, h.Config.Table, func(s *state.Set) error {
		if recorded = controller.Started(s, b, id); !recorded {
			return errNoWrite
		}
		return nil
	})
	switch {
	case err != nil && !errors.Is(err, errNoWrite):
		// Not recorded: its end will be ignored, and the sweep starts the action again.
		log.Error("record the started build", "sandbox", b.Sandbox, "build", id, "err", err)
	case !recorded:
		log.Info("build superseded while it started: stopping it", "sandbox", b.Sandbox, "build", id)
		if _, err := h.Builds.StopBuild(ctx, &codebuild.StopBuildInput{Id: aws.String(id)}); err != nil {
			log.Warn("stop a superseded build", "build", id, "err", err)
		}
	default:
		log.Info("build started", "sandbox", b.Sandbox, "action", b.Action, "build", id, "commit", b.Commit)
	}
	return nil
}

// StartBuildInput is the StartBuild request of build b of project: a deploy builds the
// commit (sourceVersion); a destroy has no source; both carry the sandbox's variables and
// the event's idempotency token.
func StartBuildInput(project string, b controller.Build) *codebuild.StartBuildInput {
	in := &codebuild.StartBuildInput{ProjectName: aws.String(project), IdempotencyToken: aws.String(b.Token)}
	for _, v := range b.Environment() {
		in.EnvironmentVariablesOverride = append(in.EnvironmentVariablesOverride, cbtypes.EnvironmentVariable{
			Name: aws.String(v.Name), Value: aws.String(v.Value), Type: cbtypes.EnvironmentVariableTypePlaintext})
	}
	if b.Action == state.ActionDeploy {
		in.SourceVersion = aws.String(b.Commit)
	} else {
		in.SourceTypeOverride = cbtypes.SourceTypeNoSource
	}
	return in
}

// publish sends n to the topic.
func (h *Handler) publish(ctx context.Context, n controller.Notification) error {
	attrs := map[string]snstypes.MessageAttributeValue{}
	for k, v := range n.Attributes() {
		attrs[k] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	_, err := h.Topic.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(h.Config.TopicARN), Subject: aws.String(n.Subject),
		Message: aws.String(n.Message), MessageAttributes: attrs})
	if err != nil {
		return fmt.Errorf("publish %s notification of sandbox %s to %s: %w", n.Event, n.Sandbox, h.Config.TopicARN, err)
	}
	return nil
}

// finishedBuilds asks CodeBuild about the builds the state says are running, and returns
// those that finished: their end is applied even if its event never came.
func (h *Handler) finishedBuilds(ctx context.Context, log *slog.Logger) map[string]string {
	set, err := state.Read(ctx, h.DB, h.Config.Table)
	if err != nil {
		log.Warn("sweep: read the running builds", "err", err)
		return nil
	}
	var ids []string
	for _, sb := range set.Sandboxes {
		if sb.Build != "" && (sb.Status == state.StatusDeploying || sb.Status == state.StatusDestroying) {
			ids = append(ids, sb.Build)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	out, err := h.Builds.BatchGetBuilds(ctx, &codebuild.BatchGetBuildsInput{Ids: ids})
	if err != nil {
		log.Warn("sweep: ask CodeBuild about the running builds", "err", err)
		return nil
	}
	finished := map[string]string{}
	for _, b := range out.Builds {
		switch b.BuildStatus {
		case cbtypes.StatusTypeInProgress, "":
		case cbtypes.StatusTypeSucceeded:
			finished[aws.ToString(b.Id)] = controller.BuildSucceeded
		case cbtypes.StatusTypeStopped:
			finished[aws.ToString(b.Id)] = controller.BuildStopped
		default: // FAILED, FAULT, TIMED_OUT
			finished[aws.ToString(b.Id)] = controller.BuildFailed
		}
	}
	return finished
}
