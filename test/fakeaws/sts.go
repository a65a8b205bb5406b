package fakeaws

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Credentials every AssumeRole answers with; a test tells the role's calls from others
// by RoleAccessKey.
const (
	RoleAccessKey    = "ASIAROLE"
	RoleSecretKey    = "rolesecret"
	RoleSessionToken = "roletoken"
)

// sts answers STS's AssumeRole and GetCallerIdentity (Query protocol, XML answers).
func (s *Server) sts(w http.ResponseWriter, c Call) {
	form := url.Values{}
	for k, v := range c.Input {
		form.Set(k, fmt.Sprint(v))
	}
	switch c.Op {
	case "AssumeRole":
		s.assumeRole(w, form)
	case "GetCallerIdentity":
		s.callerIdentity(w, c.AccessKey)
	default:
		writeQueryError(w, Fault{Status: 400, Code: "InvalidAction", Message: "fakeaws does not implement " + c.Op})
	}
}

// callerIdentity answers GetCallerIdentity with the account of the signing key.
func (s *Server) callerIdentity(w http.ResponseWriter, key string) {
	s.mu.Lock()
	account, ok := s.accounts[key]
	if !ok && key == RoleAccessKey && len(s.assumed) > 0 {
		// arn:aws:iam::<account>:role/<name>
		if parts := strings.Split(s.assumed[len(s.assumed)-1].Get("RoleArn"), ":"); len(parts) > 4 {
			account, ok = parts[4], true
		}
	}
	s.mu.Unlock()
	if !ok {
		account = "000000000000"
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::%s:user/fake</Arn>
    <UserId>AIDAFAKE</UserId>
    <Account>%s</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`, account, account)
}

// assumeRole answers STS AssumeRole for any role.
func (s *Server) assumeRole(w http.ResponseWriter, form url.Values) {
	s.mu.Lock()
	s.assumed = append(s.assumed, form)
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
