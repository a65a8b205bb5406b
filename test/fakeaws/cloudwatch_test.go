package fakeaws

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
)

// cloudWatchClient is the real SDK client (Smithy RPC v2 CBOR), pointed at the fake.
func cloudWatchClient(t *testing.T, s *Server) *cloudwatch.Client {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return cloudwatch.New(cloudwatch.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDCW", "secret", ""),
		Retryer:      aws.NopRetryer{},
	})
}

// TestTheRealCloudWatchClientReadsDescribeAlarms: the SDK's own deserializer reads the
// fake's CBOR: states, reasons, timestamps, a composite alarm only when asked for, and a
// name that does not exist is simply absent, as CloudWatch answers it.
func TestTheRealCloudWatchClientReadsDescribeAlarms(t *testing.T) {
	s := New()
	since := time.Date(2026, 3, 1, 12, 34, 56, 789e6, time.UTC)
	s.SetAlarms(
		Alarm{Name: "health", State: "ALARM", Reason: "Threshold Crossed: 5 errors", Since: since},
		Alarm{Name: "latency", State: "OK", Since: since.Add(-time.Hour)},
		Alarm{Name: "composite", State: "INSUFFICIENT_DATA", Since: since, Composite: true},
	)
	c := cloudWatchClient(t, s)

	out, err := c.DescribeAlarms(ctx(t), &cloudwatch.DescribeAlarmsInput{
		AlarmNames: []string{"health", "latency", "composite", "nope"},
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range out.MetricAlarms {
		got[aws.ToString(a.AlarmName)] = string(a.StateValue)
		if aws.ToString(a.AlarmName) == "health" {
			if !aws.ToTime(a.StateTransitionedTimestamp).Equal(since) || !aws.ToTime(a.StateUpdatedTimestamp).Equal(since) ||
				aws.ToString(a.StateReason) != "Threshold Crossed: 5 errors" {
				t.Errorf("health: transitioned %v, updated %v, reason %q", a.StateTransitionedTimestamp, a.StateUpdatedTimestamp, aws.ToString(a.StateReason))
			}
		}
	}
	for _, a := range out.CompositeAlarms {
		got["composite:"+aws.ToString(a.AlarmName)] = string(a.StateValue)
	}
	want := map[string]string{"health": "ALARM", "latency": "OK", "composite:composite": "INSUFFICIENT_DATA"}
	if len(got) != len(want) {
		t.Errorf("alarms %v, want %v (and no entry for nope)", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("alarm %s: state %q, want %q", k, got[k], v)
		}
	}

	// AND the request was CBOR the fake could read, signed for CloudWatch
	call, ok := s.Last("DescribeAlarms")
	if !ok || call.AccessKey != "AKIDCW" || call.Region != "eu-west-1" || len(call.Input["AlarmNames"].([]any)) != 4 {
		t.Errorf("recorded %+v", call)
	}

	// AND without AlarmTypes, CloudWatch's default: metric alarms only
	out, err = c.DescribeAlarms(ctx(t), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"composite", "latency"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.CompositeAlarms) != 0 || len(out.MetricAlarms) != 1 {
		t.Errorf("without AlarmTypes: %d composite, %d metric alarms; want 0 and 1", len(out.CompositeAlarms), len(out.MetricAlarms))
	}
}

// TestCloudWatchFaultsReachTheSDKAsAPIErrors: a planned fault and a rejected key come back
// as smithy.APIError with the Query-compatible code the SDK reads from the header.
func TestCloudWatchFaultsReachTheSDKAsAPIErrors(t *testing.T) {
	s := New()
	c := cloudWatchClient(t, s)
	describe := func() error {
		_, err := c.DescribeAlarms(ctx(t), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"health"}})
		return err
	}

	s.Fail("DescribeAlarms", Fault{Status: 403, Code: "AccessDenied", Message: "not authorized to perform: cloudwatch:DescribeAlarms"}, 1)
	var api smithy.APIError
	if err := describe(); !errors.As(err, &api) || api.ErrorCode() != "AccessDenied" ||
		api.ErrorMessage() != "not authorized to perform: cloudwatch:DescribeAlarms" || api.ErrorFault() != smithy.FaultClient {
		t.Errorf("planned fault: %v", err)
	}
	s.RejectAccessKey("AKIDCW")
	if err := describe(); !errors.As(err, &api) || api.ErrorCode() != "InvalidClientTokenId" {
		t.Errorf("rejected key: %v", err)
	}
	s.RejectAccessKey("")
	if err := describe(); err != nil {
		t.Errorf("after the faults: %v", err)
	}
}
