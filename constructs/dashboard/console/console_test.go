package console_test

import (
	"testing"

	"github.com/platform-eng/pathtoprod/constructs/dashboard/console"
)

func TestLinksAreTheRegionsConsole(t *testing.T) {
	cases := map[string]string{
		console.PipelineURL("eu-west-1", "payments-checkout-prd"):     "https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/payments-checkout-prd/view?region=eu-west-1",
		console.PipelineURL("cn-north-1", "a-b-prd"):                  "https://console.amazonaws.cn/codesuite/codepipeline/pipelines/a-b-prd/view?region=cn-north-1",
		console.PipelineURL("us-gov-west-1", "a-b-prd"):               "https://console.amazonaws-us-gov.com/codesuite/codepipeline/pipelines/a-b-prd/view?region=us-gov-west-1",
		console.ExecutionURL("eu-west-1", "a-b-prd", "1234-abcd"):     "https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/a-b-prd/executions/1234-abcd/timeline?region=eu-west-1",
		console.ExecutionURL("eu-west-1", "a-b-prd", "x/../y?z=<a>#"): "https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/a-b-prd/executions/x%2F..%2Fy%3Fz=%3Ca%3E%23/timeline?region=eu-west-1",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}
