package fakeaws

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Credentials every AssumeRole answers with; a test tells the role's calls from others
// by RoleAccessKey. The session token is RoleSessionToken followed by "-<n>", n counting
// the AssumeRole calls from 1: it tells the fake which assumed role signed a call, so
// roles of several accounts assumed at once each act in their own account.
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
		s.callerIdentity(w, c.AccessKey, c.SessionToken)
	default:
		writeQueryError(w, Fault{Status: 400, Code: "InvalidAction", Message: "fakeaws does not implement " + c.Op})
	}
}

// callerIdentity answers GetCallerIdentity with the account and ARN of the signing key.
func (s *Server) callerIdentity(w http.ResponseWriter, key, token string) {
	s.mu.Lock()
	arn := s.identity(key, token)
	s.mu.Unlock()
	account := strings.Split(arn, ":")[4]
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>%s</Arn>
    <UserId>AIDAFAKE</UserId>
    <Account>%s</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`, html.EscapeString(arn), account)
}

// arnOf is the identity behind an access key: for the credentials of an assumed role
// (RoleAccessKey), the assumed-role session of the role assumed last, in that role's
// account; for any other key, a user in the account SetAccount gave it (default
// 000000000000). s.mu must be held.
func (s *Server) arnOf(key string) string { return s.identity(key, "") }

// identity is arnOf for a call signed with key and session token: a role's credentials
// whose token names one AssumeRole call (RoleSessionToken-<n>) are that call's role, not
// the one assumed last. s.mu must be held.
func (s *Server) identity(key, token string) string {
	if account, ok := s.accounts[key]; ok {
		return "arn:aws:iam::" + account + ":user/fake"
	}
	if key == RoleAccessKey && len(s.assumed) > 0 {
		which := s.assumed[len(s.assumed)-1]
		if n, err := strconv.Atoi(strings.TrimPrefix(token, RoleSessionToken+"-")); err == nil && n >= 1 && n <= len(s.assumed) {
			which = s.assumed[n-1]
		}
		// arn:aws:iam::<account>:role/<path/><name>
		if parts := strings.SplitN(which.Get("RoleArn"), ":", 6); len(parts) == 6 && strings.HasPrefix(parts[5], "role/") {
			name := parts[5][strings.LastIndex(parts[5], "/")+1:]
			return "arn:aws:sts::" + parts[4] + ":assumed-role/" + name + "/" + which.Get("RoleSessionName")
		}
	}
	return "arn:aws:iam::000000000000:user/fake"
}

// accountOf is the account of the identity that signed a call. s.mu must be held.
func (s *Server) accountOf(key, token string) string {
	return strings.Split(s.identity(key, token), ":")[4]
}

// assumeRole answers STS AssumeRole for any role.
func (s *Server) assumeRole(w http.ResponseWriter, form url.Values) {
	s.mu.Lock()
	s.assumed = append(s.assumed, form)
	token := RoleSessionToken + "-" + strconv.Itoa(len(s.assumed))
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
</AssumeRoleResponse>`, RoleAccessKey, RoleSecretKey, token,
		// The SDK checks the expiry against the real clock, whatever SetClock says.
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339), html.EscapeString(form.Get("RoleArn")))
}
