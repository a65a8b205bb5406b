package fakeaws

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
)

// snsService names SNS in Call and in the fault handling. SNS speaks the Query protocol, as
// STS does: the fake tells them apart by the signature's service (.../<region>/sns/aws4_request).
const snsService = "SNS"

// maxSubject is SNS's limit on a subject.
const maxSubject = 100

// Publication is one message Publish accepted.
type Publication struct {
	TopicARN, Subject, Message string
	// Attributes are the message attributes, by name (their StringValue).
	Attributes map[string]string
	// Types are the attributes' DataType, by name.
	Types map[string]string
	// MessageID is what Publish answered.
	MessageID string
}

// SetTopic makes the SNS topic arn exist.
func (s *Server) SetTopic(arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.topics == nil {
		s.topics = map[string]bool{}
	}
	s.topics[arn] = true
}

// Published returns every message Publish accepted, in order.
func (s *Server) Published() []Publication {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Publication(nil), s.published...)
}

// signingService is the service of a SigV4 signature's scope: AKID/date/region/<service>/aws4_request.
func signingService(r *http.Request) string {
	_, rest, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	parts := strings.SplitN(rest, "/", 5)
	if len(parts) < 4 {
		return ""
	}
	return parts[3]
}

// sns answers SNS's Publish (Query protocol, XML answers), checking what SNS checks of a
// message: the topic exists (NotFound), the subject is at most 100 printable ASCII
// characters and the message is not empty (InvalidParameter), and every attribute has a
// DataType and a non-empty value (ParameterValueInvalid).
func (s *Server) sns(w http.ResponseWriter, c Call, form url.Values) {
	if c.Op != "Publish" {
		writeSNSError(w, Fault{Status: 400, Code: "InvalidAction", Message: "fakeaws does not implement SNS's " + c.Op})
		return
	}
	p := Publication{TopicARN: form.Get("TopicArn"), Subject: form.Get("Subject"), Message: form.Get("Message"),
		Attributes: map[string]string{}, Types: map[string]string{}}
	for i := 1; form.Has(fmt.Sprintf("MessageAttributes.entry.%d.Name", i)); i++ {
		prefix := fmt.Sprintf("MessageAttributes.entry.%d.", i)
		name, typ, value := form.Get(prefix+"Name"), form.Get(prefix+"Value.DataType"), form.Get(prefix+"Value.StringValue")
		if typ == "" || value == "" {
			writeSNSError(w, Fault{Status: 400, Code: "ParameterValueInvalid",
				Message: fmt.Sprintf("The message attribute '%s' must contain non-empty message attribute value and type", name)})
			return
		}
		p.Attributes[name], p.Types[name] = value, typ
	}
	switch {
	case len(p.Subject) > maxSubject:
		writeSNSError(w, Fault{Status: 400, Code: "InvalidParameter", Message: "Invalid parameter: Subject: longer than 100 characters"})
		return
	case strings.IndexFunc(p.Subject, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0:
		writeSNSError(w, Fault{Status: 400, Code: "InvalidParameter", Message: "Invalid parameter: Subject: only printable ASCII characters, no line breaks"})
		return
	case p.Message == "":
		writeSNSError(w, Fault{Status: 400, Code: "InvalidParameter", Message: "Invalid parameter: Empty message"})
		return
	}
	s.mu.Lock()
	if !s.topics[p.TopicARN] {
		s.mu.Unlock()
		writeSNSError(w, Fault{Status: 404, Code: "NotFound", Message: "Topic does not exist"})
		return
	}
	p.MessageID = fmt.Sprintf("00000000-0000-4000-8000-%012d", len(s.published)+1)
	s.published = append(s.published, p)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <PublishResult><MessageId>%s</MessageId></PublishResult>
  <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>
</PublishResponse>`, p.MessageID)
}

// writeSNSError is an error in SNS's Query-protocol XML shape.
func writeSNSError(w http.ResponseWriter, f Fault) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(f.Status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`,
		html.EscapeString(f.Code), html.EscapeString(f.Message))
}
