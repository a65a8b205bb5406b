package fakeaws

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"time"
)

// Credentials every AssumeRole answers with; a test tells the role's calls from others
// by RoleAccessKey.
const (
	RoleAccessKey    = "ASIAROLE"
	RoleSecretKey    = "rolesecret"
	RoleSessionToken = "roletoken"
)

// assumeRole answers STS AssumeRole (Query protocol, XML answer) for any role.
func (s *Server) assumeRole(w http.ResponseWriter, key string, form url.Values) {
	s.mu.Lock()
	s.assumed = append(s.assumed, form)
	s.calls = append(s.calls, Call{Op: "AssumeRole", AccessKey: key})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>%s</AccessKeyId>
      <SecretAccessKey>%s</SecretAccessKey>
      <SessionToken>%s</SessionToken>
      <Expiration>%s</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <Arn>%s/session</Arn>
      <AssumedRoleId>AROAEXAMPLE:session</AssumedRoleId>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
</AssumeRoleResponse>`, RoleAccessKey, RoleSecretKey, RoleSessionToken,
		// The SDK checks the expiry against the real clock, whatever SetClock says.
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339), html.EscapeString(form.Get("RoleArn")))
}
