package fakeaws

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// TestTheRealSNSClientPublishes: subject, message and attributes reach the fake through the
// Query protocol; SNS's refusals (unknown topic, long or non-ASCII subject, empty
// attribute) come back as the modelled errors; STS still answers beside it.
func TestTheRealSNSClientPublishes(t *testing.T) {
	s := New()
	const topic = "arn:aws:sns:eu-west-1:222222222222:payments-checkout-dev-notifications"
	s.SetTopic(topic)
	url := srvURL(t, s)
	creds := credentials.NewStaticCredentialsProvider("AKIDSNS", "s", "")
	client := sns.New(sns.Options{Region: "eu-west-1", BaseEndpoint: aws.String(url), Credentials: creds, Retryer: aws.NopRetryer{}})
	attr := func(v string) snstypes.MessageAttributeValue {
		return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	in := &sns.PublishInput{TopicArn: aws.String(topic), Subject: aws.String("sandbox alice of payments-checkout: deploy failed"),
		Message: aws.String("The deploy failed.\n\nWhat to do: & < > push a fix."),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"sandbox": attr("alice"), "owner": attr("arn:aws:sts::222222222222:assumed-role/Developer/alice"), "event": attr("failed")}}
	out, err := client.Publish(ctx(t), in)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Published()
	if len(got) != 1 || aws.ToString(out.MessageId) != got[0].MessageID || got[0].TopicARN != topic || got[0].Subject != aws.ToString(in.Subject) ||
		got[0].Message != aws.ToString(in.Message) || got[0].Attributes["owner"] != "arn:aws:sts::222222222222:assumed-role/Developer/alice" ||
		got[0].Attributes["event"] != "failed" || got[0].Types["sandbox"] != "String" || len(got[0].Attributes) != 3 {
		t.Fatalf("published %+v (answer %v)", got, aws.ToString(out.MessageId))
	}
	if c, _ := s.Last("Publish"); c.AccessKey != "AKIDSNS" {
		t.Errorf("recorded %+v", c)
	}

	var notFound *snstypes.NotFoundException
	var invalid *snstypes.InvalidParameterException
	var badValue *snstypes.InvalidParameterValueException
	for _, tc := range []struct {
		name   string
		change func(*sns.PublishInput)
		want   any
	}{
		{"unknown topic", func(p *sns.PublishInput) { p.TopicArn = aws.String(topic + "-x") }, &notFound},
		{"101-character subject", func(p *sns.PublishInput) { p.Subject = aws.String(strings.Repeat("s", 101)) }, &invalid},
		{"subject with a line break", func(p *sns.PublishInput) { p.Subject = aws.String("a\nb") }, &invalid},
		{"subject with non-ASCII", func(p *sns.PublishInput) { p.Subject = aws.String("sandbox…") }, &invalid},
		{"empty attribute", func(p *sns.PublishInput) {
			p.MessageAttributes = map[string]snstypes.MessageAttributeValue{"owner": attr("")}
		}, &badValue},
	} {
		p := *in
		tc.change(&p)
		if _, err := client.Publish(ctx(t), &p); !errors.As(err, tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if len(s.Published()) != 1 {
		t.Errorf("refused messages were kept: %+v", s.Published())
	}
	s.Fail("Publish", Fault{Status: 400, Code: "Throttled", Message: "Rate exceeded"}, 1)
	// (Publish does not model Throttled: it reaches the caller as a generic API error.)
	var api smithy.APIError
	if _, err := client.Publish(ctx(t), in); !errors.As(err, &api) || api.ErrorCode() != "Throttled" {
		t.Errorf("planned fault: %v, want Throttled", err)
	}
	// STS, the other Query-protocol service, is still STS
	id, err := sts.New(sts.Options{Region: "eu-west-1", BaseEndpoint: aws.String(url), Credentials: creds}).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "000000000000" {
		t.Errorf("GetCallerIdentity beside SNS: %v, %v", id, err)
	}
}
