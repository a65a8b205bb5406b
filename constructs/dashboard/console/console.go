// Package console builds links into the AWS console for a pipeline and its runs: the
// dashboard's text widget and its runs widget link to the same pages. It is plain Go with no
// AWS dependency, so the construct can use it without pulling the Lambda's SDK into a
// service team's module.
//
//	console.PipelineURL("eu-west-1", "payments-checkout-prd")
//	// https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/payments-checkout-prd/view?region=eu-west-1
package console

import (
	"net/url"
	"strings"
)

// Host is the console's host name for region: the partition's console, per region.
func Host(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "console.amazonaws.cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "console.amazonaws-us-gov.com"
	default:
		return region + ".console.aws.amazon.com"
	}
}

// PipelineURL is the page of the pipeline in region.
func PipelineURL(region, pipeline string) string {
	return "https://" + Host(region) + "/codesuite/codepipeline/pipelines/" + url.PathEscape(pipeline) +
		"/view?region=" + url.QueryEscape(region)
}

// ExecutionURL is the timeline of one run of the pipeline.
func ExecutionURL(region, pipeline, execution string) string {
	return "https://" + Host(region) + "/codesuite/codepipeline/pipelines/" + url.PathEscape(pipeline) +
		"/executions/" + url.PathEscape(execution) + "/timeline?region=" + url.QueryEscape(region)
}
