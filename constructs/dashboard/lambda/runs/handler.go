package runs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/platform-eng/pathtoprod/constructs/dora"
)

// Handler is the runs widget's Lambda handler: for each view of the dashboard it reads the
// pipeline's history and the commits' times, computes the four keys with package dora (the
// same code as ship metrics), and answers HTML.
type Handler struct {
	// Pipelines reads the pipeline's history (its own account's CodePipeline).
	Pipelines dora.Lister
	// Commits reads the commits' times (its own account's CodeCommit). Never called with a
	// connection Config.Source.
	Commits dora.CommitGetter
	// Config names what is read; ConfigFromEnv reads it.
	Config Config
	// ConfigErr, when set, is shown on every view instead of the runs: a misconfigured
	// widget says so rather than failing with a Lambda error.
	ConfigErr error
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Logger logs each view. Default: slog.Default().
	Logger *slog.Logger
}

// Handle is the Lambda entry point (lambda.Start(h.Handle)). It answers the widget's
// documentation (markdown) when the event asks to describe it, and otherwise the widget's
// HTML: the runs, or a page saying why they cannot be shown. It never returns an error: a
// Lambda error reaches the viewer as a bare message with no advice.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (html string, _ error) {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	start := time.Now()
	cfg := h.Config.WithDefaults()
	defer func() {
		if p := recover(); p != nil {
			log.Error("panic", "panic", fmt.Sprint(p))
			html = ErrorPage(cfg.Pipeline, fmt.Sprintf("The widget failed unexpectedly (panic: %v).", p),
				"This is a bug in the runs widget: report it with the function's log.")
		}
	}()

	ev, err := ParseEvent(raw)
	switch {
	case err != nil:
		log.Error("event", "err", err)
		return ErrorPage(cfg.Pipeline, err.Error(), "Dashboards send a JSON object with widgetContext; invoke the function from the dashboard."), nil
	case ev.Describe:
		return Docs, nil
	case h.ConfigErr != nil:
		log.Error("misconfigured", "err", h.ConfigErr)
		return ErrorPage(cfg.Pipeline, "The widget is misconfigured: "+h.ConfigErr.Error(),
			"The dashboard's stack sets the function's environment; redeploy it, or compare the function's environment with it."), nil
	}
	rng, err := ev.Range(now())
	if err != nil {
		return ErrorPage(cfg.Pipeline, err.Error(), "Choose another time range on the dashboard."), nil
	}

	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = start.Add(DefaultBudget + cfg.Reserve)
	}
	work, cancel := context.WithDeadline(ctx, deadline.Add(-cfg.Reserve))
	defer cancel()
	budget := deadline.Sub(start) - cfg.Reserve

	hist, err := dora.Read(work, h.Pipelines, dora.ReadOptions{Pipeline: cfg.Pipeline, Window: rng.Window, MaxPages: cfg.MaxPages})
	if err != nil {
		problem, hint := explain(work, err, budget, hist.Calls, "read the history of pipeline "+cfg.Pipeline,
			"codepipeline:ListPipelineExecutions and codepipeline:ListActionExecutions on the pipeline")
		log.Error("read history", "pipeline", cfg.Pipeline, "calls", hist.Calls, "err", err)
		return ErrorPage(cfg.Pipeline, problem, hint), nil
	}
	var (
		times        map[string]time.Time
		commitCalls  int
		timesProblem string
	)
	if cfg.Source.UsesConnection() {
		// No CodeCommit repository to ask: the runs and every key but the lead time stand.
		times = map[string]time.Time{}
		timesProblem = CommitTimesElsewhere(cfg.Source)
	} else {
		times, commitCalls, err = dora.CommitTimes(work, h.Commits, cfg.Repository, hist.Commits())
	}
	if err != nil {
		// The runs and every key but the lead time are still right: show them, and say what
		// is missing.
		problem, hint := explain(work, err, budget, commitCalls, "read commit times from repository "+cfg.Repository,
			"codecommit:BatchGetCommits on the repository")
		timesProblem = strings.TrimSpace(problem + " " + hint)
		log.Warn("read commit times", "repository", cfg.Repository, "err", err)
		times = map[string]time.Time{}
	}
	m := dora.Compute(hist, times, rng.Window)
	zone, label := ev.Location()
	var b bytes.Buffer
	if err := Render(&b, NewPage(Read{Config: cfg, Range: rng, History: hist, Metrics: m, CommitTimesProblem: timesProblem,
		Now: now(), Zone: zone, ZoneLabel: label})); err != nil {
		log.Error("render", "err", err)
		return ErrorPage(cfg.Pipeline, "The page could not be rendered: "+err.Error(), "This is a bug in the runs widget: report it."), nil
	}
	log.Info("view", "pipeline", cfg.Pipeline, "from", m.Summary.Window.From, "to", m.Summary.Window.To, "cut", rng.Cut,
		"runs", len(hist.Runs), "bounded", hist.Bounded, "pipelineCalls", hist.Calls, "commitCalls", commitCalls,
		"deployments", m.Summary.Deployments, "elapsed", time.Since(start).Round(time.Millisecond).String())
	return b.String(), nil
}

// explain turns err from doing what into a sentence for the viewer, and a hint: what to do,
// or which permission is missing (needs, for AccessDenied).
func explain(ctx context.Context, err error, budget time.Duration, calls int, what, needs string) (problem, hint string) {
	code, msg := "", ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg = ae.ErrorCode(), ae.ErrorMessage()
	}
	switch {
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("Ran out of time to %s: the widget has %s and had made %d calls.", what, budget.Round(time.Second), calls),
			"Choose a shorter time range, or read the figures with ship metrics, which has no time limit."
	case strings.Contains(code, "AccessDenied") || code == "UnauthorizedOperation":
		return fmt.Sprintf("The widget's function may not %s (%s: %s).", what, code, msg),
			"Its role needs " + needs + ". The dashboard's stack grants exactly that: if the role or its permissions boundary was changed by hand, redeploy the stack."
	case code == "PipelineNotFoundException" || code == "RepositoryDoesNotExistException":
		return fmt.Sprintf("Could not %s: it does not exist in this account and region (%s).", what, code),
			"The dashboard and the pipeline are deployed by the same stack: check that the stack deployed completely."
	case retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool():
		return fmt.Sprintf("AWS throttled the widget's calls to %s (%s).", what, code),
			"Several views at once can do this; refresh the dashboard in a minute."
	case code != "":
		return fmt.Sprintf("Could not %s: %s: %s.", what, code, msg), ""
	default:
		// dora's errors already begin with what they were doing; say it once.
		return fmt.Sprintf("Could not %s: %s.", what, strings.TrimPrefix(err.Error(), what+": ")), ""
	}
}
