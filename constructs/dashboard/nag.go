package dashboard

import (
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/platform-eng/pathtoprod/constructs/compliance"
)

// suppressFindings records the findings the runs widget accepts on purpose: no dead-letter
// target (only the dashboard invokes it, synchronously), its role's inline policy, running
// outside a VPC, and, when the caller chose NoReservedConcurrency, no reserved concurrency.
// Its role has no wildcard to accept: every statement names one resource.
func suppressFindings(scope constructs.Construct, fn constructs.IConstruct, unreserved bool) {
	compliance.SynchronousOnly(fn, "a CloudWatch dashboard's custom widget, each time someone views the dashboard")
	compliance.InlinePolicies(scope)
	compliance.LambdaOutsideVPC(fn)
	if unreserved {
		compliance.UnreservedConcurrency(fn)
	}
}
