// Package trust names exact IAM principals in other accounts in a way that deploys in any
// order. Every cross-account policy of this library (the upstream reader's trust, the
// approver's trust, the registry's repository policy) goes through it, so there is one rule:
//
//	role.AssumeRolePolicy() ... trust.Exactly("333333333333", "arn:aws:iam::333333333333:role/x-stg-guard")
//
// The principal is the account, with the condition that the caller's ARN is exactly one of
// the given ARNs (aws:PrincipalArn): no other principal of that account matches. A plain
// role-ARN principal would be simpler to read, but IAM and ECR reject a policy that names a
// role which does not exist yet, and the accounts of a path deploy upstream first (registry,
// dev, stg, prd), before the downstream roles exist; a role-ARN principal is also stored as
// the role's unique id and silently stops matching when the role is re-created.
package trust

import (
	"fmt"
	"regexp"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// Exactly is a principal matching only the given role or user ARNs, all of account.
func Exactly(account string, arns ...string) awsiam.IPrincipal {
	list := make([]interface{}, len(arns))
	for i, a := range arns {
		list[i] = a
	}
	return awsiam.NewAccountPrincipal(jsii.String(account)).WithConditions(&map[string]interface{}{
		"ArnEquals": map[string]interface{}{"aws:PrincipalArn": list},
	})
}

var arnAccount = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):`)

// ExactlyAny is a principal matching only the given IAM ARNs, which may be in several
// accounts: one Exactly per account, in account order. It panics on an ARN without an
// account (validate input first: org.Normalize checks approver ARNs).
func ExactlyAny(arns ...string) awsiam.IPrincipal {
	byAccount := map[string][]string{}
	for _, a := range arns {
		m := arnAccount.FindStringSubmatch(a)
		if m == nil {
			panic(fmt.Sprintf("trust: %q: an IAM ARN with a 12-digit account", a))
		}
		byAccount[m[1]] = append(byAccount[m[1]], a)
	}
	var accounts []string
	for acct := range byAccount {
		accounts = append(accounts, acct)
	}
	sort.Strings(accounts)
	var ps []awsiam.IPrincipal
	for _, acct := range accounts {
		ps = append(ps, Exactly(acct, byAccount[acct]...))
	}
	if len(ps) == 1 {
		return ps[0]
	}
	return awsiam.NewCompositePrincipal(ps...)
}
