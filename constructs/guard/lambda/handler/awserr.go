package handler

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// CheckError is a check's failure to decide, with a message for a person. It wraps the
// error that caused it.
type CheckError struct {
	// Message says what could not be done and, where it can be known, why.
	Message string
	// Err is the underlying error.
	Err error
}

func (e *CheckError) Error() string { return e.Message }

// Unwrap returns the underlying error.
func (e *CheckError) Unwrap() error { return e.Err }

// AssumeRoleError means the guard could not get credentials for the upstream read-only
// role: the call that needed them was never sent.
type AssumeRoleError struct {
	// RoleARN is the role the guard tried to assume.
	RoleARN string
	// Err is the STS error.
	Err error
}

func (e *AssumeRoleError) Error() string { return fmt.Sprintf("assume role %s: %v", e.RoleARN, e.Err) }

// Unwrap returns the STS error.
func (e *AssumeRoleError) Unwrap() error { return e.Err }

// assumeRoleTagger marks the failures of an assume-role credentials provider, so that a
// CodePipeline call that fails for want of credentials is not mistaken for a CodePipeline
// error (both surface from the same ListPipelineExecutions call).
type assumeRoleTagger struct {
	roleARN  string
	provider aws.CredentialsProvider
}

func (t assumeRoleTagger) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := t.provider.Retrieve(ctx)
	if err != nil {
		return c, &AssumeRoleError{RoleARN: t.roleARN, Err: err}
	}
	return c, nil
}

// errorCode is the AWS error code in err ("AccessDenied", "ThrottlingException", ...), or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isThrottling tells whether code is one of the codes the SDK treats as throttling.
func isThrottling(code string) bool {
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(&smithy.GenericAPIError{Code: code}).Bool()
}

// retryLog records, per decision, the retried errors of every AWS call made with the
// decision's context, so that running out of time while being throttled says so (the
// SDK returns only "request canceled" when the deadline falls in a backoff sleep).
type retryLog struct {
	mu        sync.Mutex
	retries   int
	throttled int
	last      error
}

type retryLogKey struct{}

// withRetryLog returns ctx carrying a fresh retryLog.
func withRetryLog(ctx context.Context) (context.Context, *retryLog) {
	l := &retryLog{}
	return context.WithValue(ctx, retryLogKey{}, l), l
}

func (l *retryLog) note(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.retries++
	if isThrottling(errorCode(err)) {
		l.throttled++
	}
	l.last = err
}

func (l *retryLog) snapshot() (retries, throttled int) {
	if l == nil {
		return 0, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.retries, l.throttled
}

// recordingRetryer is the SDK's standard retryer that also notes each retry in the
// context's retryLog. GetRetryToken is called once per retry, with the failed attempt's error.
type recordingRetryer struct {
	aws.RetryerV2
}

// IsErrorRetryable never retries a call whose credentials could not be had: the assume-role
// provider's own STS client has already retried that, and retrying every CodePipeline
// attempt around every STS attempt would spend the whole time budget (6 × 6 attempts).
func (r recordingRetryer) IsErrorRetryable(err error) bool {
	var assume *AssumeRoleError
	if errors.As(err, &assume) {
		return false
	}
	return r.RetryerV2.IsErrorRetryable(err)
}

func (r recordingRetryer) GetRetryToken(ctx context.Context, err error) (func(error) error, error) {
	if l, ok := ctx.Value(retryLogKey{}).(*retryLog); ok {
		l.note(err)
	}
	return r.RetryerV2.GetRetryToken(ctx, err)
}

// explain turns err from an AWS call made while doing what ("reading executions of stg
// pipeline x") into a message for a person, for the faults every call shares: running
// out of time, persistent throttling, and anything else (code and message as AWS gave them).
func explain(ctx context.Context, what string, err error) *CheckError {
	l, _ := ctx.Value(retryLogKey{}).(*retryLog)
	retries, throttled := l.snapshot()
	code := errorCode(err)
	var maxAttempts *retry.MaxAttemptsError
	switch {
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		msg := "ran out of time " + what
		if throttled > 0 {
			msg += fmt.Sprintf(" while AWS was throttling the guard (%d throttled attempts retried)", throttled)
		} else if retries > 0 {
			msg += fmt.Sprintf(" (%d failed attempts retried)", retries)
		}
		return &CheckError{Message: msg, Err: err}
	case isThrottling(code):
		attempts := "repeated attempts"
		if errors.As(err, &maxAttempts) {
			attempts = fmt.Sprintf("%d attempts", maxAttempts.Attempt)
		}
		return &CheckError{Message: fmt.Sprintf("AWS kept throttling the guard %s (%s, %s); retry the stage later", what, code, attempts), Err: err}
	case code != "":
		return &CheckError{Message: fmt.Sprintf("failed %s: %s: %s", what, code, apiMessage(err)), Err: err}
	default:
		return &CheckError{Message: fmt.Sprintf("failed %s: %v", what, err), Err: err}
	}
}

// apiMessage is the message of the AWS error in err.
func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorMessage() != "" {
		return limit(ae.ErrorMessage(), 300)
	}
	return "(no message)"
}
