package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// Exit codes of the sandbox's sub-commands, as ship's: done, refused or failed, usage.
const (
	ExitOK     = 0
	ExitFailed = 1
	ExitUsage  = 2
)

// ControlUsage is the synopsis of the sub-commands that answer an approval.
const ControlUsage = `  sandbox approve <env> [summary...]   approve the run waiting for sign-off in <env>
  sandbox reject <env> [summary...]    reject it: that run fails, the next queued one moves up`

// Control runs a sub-command against the running sandbox whose fake is at endpoint (the
// AWS_ENDPOINT_URL its printed lines export): approve or reject the run waiting for
// sign-off, as an approver does in the console or with aws codepipeline
// put-approval-result. It returns the exit code.
func Control(ctx context.Context, args []string, endpoint string, stdout, stderr io.Writer) int {
	if len(args) < 2 || (args[0] != "approve" && args[0] != "reject") {
		fmt.Fprintf(stderr, "sandbox: want approve or reject and an environment, got %q\nusage:\n%s\n", args, ControlUsage)
		return ExitUsage
	}
	summary := strings.Join(args[2:], " ")
	if summary == "" {
		summary = args[0] + "d in the ship sandbox"
	}
	msg, err := Answer(ctx, endpoint, args[1], args[0] == "approve", summary)
	if err != nil {
		fmt.Fprintf(stderr, "sandbox %s: %v\n", args[0], err)
		var u usageError
		if errors.As(err, &u) {
			return ExitUsage
		}
		return ExitFailed
	}
	fmt.Fprintln(stdout, msg)
	return ExitOK
}

type usageError struct{ error }

// Answer approves or rejects the run waiting for sign-off in env's pipeline, through the
// CodePipeline API at endpoint: GetPipelineState for the waiting action and its token, then
// PutApprovalResult. It talks only to a loopback endpoint, never to AWS. It returns what
// happened, and what waits for approval next, for a person.
func Answer(ctx context.Context, endpoint, env string, approve bool, summary string) (string, error) {
	path, err := org.Default().Path(Team, Service)
	if err != nil {
		return "", err
	}
	e, err := path.Environment(env)
	if err != nil {
		return "", usageError{fmt.Errorf("unknown environment %q (known: %s)", env, strings.Join(envNames(path), ", "))}
	}
	if !e.NeedsApproval() {
		return "", usageError{fmt.Errorf("environment %s has no approval stage: its runs deploy without sign-off", env)}
	}
	if err := loopback(endpoint); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c := codepipeline.New(codepipeline.Options{
		Region:       e.Region,
		BaseEndpoint: aws.String(endpoint),
		// The fake checks no signature; the key only shows, in its record, who answered.
		Credentials: credentials.NewStaticCredentialsProvider("sandbox-approver", "sandbox", ""),
	})
	pipeline := path.PipelineName(env)
	stage, action, token, run, err := waitingApproval(ctx, c, pipeline)
	if err != nil {
		return "", err
	}
	if token == "" {
		return "", fmt.Errorf("no run waits for approval in %s (pipeline %s); see ship status", env, pipeline)
	}
	status, did := types.ApprovalStatusRejected, "rejected"
	if approve {
		status, did = types.ApprovalStatusApproved, "approved"
	}
	if _, err := c.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{
		PipelineName: aws.String(pipeline), StageName: aws.String(stage), ActionName: aws.String(action),
		Token: aws.String(token), Result: &types.ApprovalResult{Status: status, Summary: aws.String(summary)},
	}); err != nil {
		return "", fmt.Errorf("answer the approval in %s: %w", env, err)
	}
	outcome := "it failed, without deploying"
	if approve {
		outcome = "it deployed and succeeded"
	}
	msg := fmt.Sprintf("%s: %s execution %s at action %s in stage %s: %s.", env, did, run, action, stage, outcome)
	if _, _, next, nextRun, err := waitingApproval(ctx, c, pipeline); err == nil && next != "" {
		msg += fmt.Sprintf("\n%s: execution %s, queued behind it, now waits for approval.", env, nextRun)
	}
	return msg, nil
}

// waitingApproval is the approval action waiting in the pipeline: its stage, name, token
// and the run it holds ("" token: none waits).
func waitingApproval(ctx context.Context, c *codepipeline.Client, pipeline string) (stage, action, token, run string, err error) {
	out, err := c.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String(pipeline)})
	if err != nil {
		return "", "", "", "", fmt.Errorf("read pipeline %s (is the sandbox still running?): %w", pipeline, err)
	}
	for _, st := range out.StageStates {
		for _, a := range st.ActionStates {
			if x := a.LatestExecution; x != nil && x.Status == types.ActionExecutionStatusInProgress && aws.ToString(x.Token) != "" {
				if st.LatestExecution != nil {
					run = aws.ToString(st.LatestExecution.PipelineExecutionId)
				}
				return aws.ToString(st.StageName), aws.ToString(a.ActionName), aws.ToString(x.Token), run, nil
			}
		}
	}
	return "", "", "", "", nil
}

// loopback refuses any endpoint but a local one: these sub-commands answer the sandbox's
// own fake and must never reach an AWS account.
func loopback(endpoint string) error {
	if endpoint == "" {
		return usageError{errors.New("AWS_ENDPOINT_URL is not set: run this in the shell where you pasted the sandbox's lines")}
	}
	u, err := url.Parse(endpoint)
	if err == nil {
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return nil
		}
	}
	return usageError{fmt.Errorf("AWS_ENDPOINT_URL=%s is not a local sandbox (want http://127.0.0.1:<port>); the sandbox answers only its own fake, never AWS", endpoint)}
}

func envNames(p org.Path) []string {
	var out []string
	for _, e := range p.Environments {
		out = append(out, e.Name)
	}
	return out
}
