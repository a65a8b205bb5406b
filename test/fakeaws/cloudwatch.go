package fakeaws

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// CloudWatch speaks Smithy RPC v2 CBOR, as aws-sdk-go-v2/service/cloudwatch does since it
// left the Query protocol: POST /service/GraniteServiceVersion20100801/operation/<Op>, a
// CBOR map in and out, timestamps as tag 1 (epoch seconds), errors as a CBOR map with
// __type and message. The service is awsQueryCompatible, so an error also carries the
// Query-era code in the x-amzn-query-error header, which the SDK prefers.
const cloudWatchService = "GraniteServiceVersion20100801"

// Alarm is one CloudWatch alarm as DescribeAlarms reports it.
type Alarm struct {
	// Name is the alarm name, which DescribeAlarms is asked for.
	Name string
	// State is the StateValue: OK, ALARM or INSUFFICIENT_DATA.
	State string
	// Reason is the StateReason. Default: - a sentence naming the state.
	Reason string
	// Since is when the alarm went into State: the StateTransitionedTimestamp (and the
	// StateUpdatedTimestamp).
	Since time.Time
	// Composite makes it a composite alarm, which DescribeAlarms returns only when asked
	// for AlarmTypes CompositeAlarm: a metric alarm otherwise.
	Composite bool
}

// SetAlarms makes these alarms exist, replacing any of the same name. An alarm never set
// does not exist: DescribeAlarms leaves it out of its answer, with no error, as CloudWatch
// does for a name it does not know.
func (s *Server) SetAlarms(alarms ...Alarm) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.alarms == nil {
		s.alarms = map[string]Alarm{}
	}
	for _, a := range alarms {
		s.alarms[a.Name] = a
	}
}

// isCBOR reports whether r is a Smithy RPC v2 CBOR request, and names its service and operation.
func isCBOR(r *http.Request) (service, op string, ok bool) {
	if !strings.EqualFold(r.Header.Get("Smithy-Protocol"), "rpc-v2-cbor") {
		return "", "", false
	}
	// /service/<service>/operation/<operation>
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 4 || parts[0] != "service" || parts[2] != "operation" {
		return "", "", false
	}
	return parts[1], parts[3], true
}

// cborInput decodes a request body into plain Go values for Call.Input: maps, lists,
// strings, numbers, bools and times.
func cborInput(body []byte) (map[string]any, error) {
	if len(body) == 0 {
		return map[string]any{}, nil
	}
	v, err := cbor.Decode(body)
	if err != nil {
		return nil, err
	}
	m, ok := plain(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the request body is a CBOR %T, not a map", v)
	}
	return m, nil
}

func plain(v cbor.Value) any {
	switch x := v.(type) {
	case cbor.Map:
		m := map[string]any{}
		for k, e := range x {
			m[k] = plain(e)
		}
		return m
	case cbor.List:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = plain(e)
		}
		return l
	case cbor.String:
		return string(x)
	case cbor.Uint:
		return float64(x)
	case cbor.NegInt:
		return -float64(x) - 1
	case cbor.Float64:
		return float64(x)
	case cbor.Float32:
		return float64(x)
	case cbor.Bool:
		return bool(x)
	case *cbor.Tag:
		if x.ID == 1 {
			if secs, ok := plain(x.Value).(float64); ok {
				return time.UnixMilli(int64(secs * 1000)).UTC()
			}
		}
		return plain(x.Value)
	default:
		return nil
	}
}

// cloudWatch answers DescribeAlarms by name. Other operations are refused.
func (s *Server) cloudWatch(w http.ResponseWriter, c Call) {
	s.mu.Lock()
	rejected := s.reject != "" && c.AccessKey == s.reject
	s.mu.Unlock()
	if rejected {
		writeCBORError(w, Fault{Status: 403, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."})
		return
	}
	if c.Op != "DescribeAlarms" {
		writeCBORError(w, Fault{Status: 400, Code: "InvalidAction", Message: "fakeaws does not implement " + c.Op})
		return
	}
	var names []string
	if l, ok := c.Input["AlarmNames"].([]any); ok {
		for _, n := range l {
			if s, ok := n.(string); ok {
				names = append(names, s)
			}
		}
	}
	if len(names) > 100 {
		writeCBORError(w, Fault{Status: 400, Code: "InvalidParameterValue",
			Message: fmt.Sprintf("The collection AlarmNames must not have a size greater than 100 (got %d).", len(names))})
		return
	}
	// Without AlarmTypes CloudWatch returns metric alarms only, composite ones never.
	metric, composite := true, false
	if l, ok := c.Input["AlarmTypes"].([]any); ok && len(l) > 0 {
		metric = false
		for _, t := range l {
			switch t {
			case "MetricAlarm":
				metric = true
			case "CompositeAlarm":
				composite = true
			}
		}
	}
	s.mu.Lock()
	var found []Alarm
	for _, n := range names {
		if a, ok := s.alarms[n]; ok && (a.Composite && composite || !a.Composite && metric) {
			found = append(found, a)
		}
	}
	s.mu.Unlock()
	sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })

	metrics, composites := cbor.List{}, cbor.List{}
	for _, a := range found {
		reason := a.Reason
		if reason == "" {
			reason = "Threshold Crossed: fakeaws set the alarm to " + a.State
		}
		m := cbor.Map{
			"AlarmName":                  cbor.String(a.Name),
			"AlarmArn":                   cbor.String("arn:aws:cloudwatch:" + c.Region + ":000000000000:alarm:" + a.Name),
			"StateValue":                 cbor.String(a.State),
			"StateReason":                cbor.String(reason),
			"StateUpdatedTimestamp":      cborTime(a.Since),
			"StateTransitionedTimestamp": cborTime(a.Since),
		}
		if a.Composite {
			m["AlarmRule"] = cbor.String(`ALARM("` + a.Name + `-latency") OR ALARM("` + a.Name + `-errors")`)
			composites = append(composites, m)
		} else {
			m["MetricName"], m["Namespace"] = cbor.String("Errors"), cbor.String("Fake")
			metrics = append(metrics, m)
		}
	}
	out := cbor.Map{"MetricAlarms": metrics}
	if composite {
		out["CompositeAlarms"] = composites
	}
	writeCBOR(w, http.StatusOK, out)
}

// cborTime is a timestamp as rpcv2Cbor sends it: tag 1 around epoch seconds.
func cborTime(t time.Time) cbor.Value {
	return &cbor.Tag{ID: 1, Value: cbor.Float64(float64(t.UnixMilli()) / 1000)}
}

func writeCBOR(w http.ResponseWriter, status int, v cbor.Value) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.WriteHeader(status)
	w.Write(cbor.Encode(v))
}

// writeCBORError is an error in the rpcv2Cbor shape, with the Query-compatible code header.
func writeCBORError(w http.ResponseWriter, f Fault) {
	fault := "Sender"
	if f.Status >= 500 {
		fault = "Receiver"
	}
	w.Header().Set("X-Amzn-Query-Error", f.Code+";"+fault)
	writeCBOR(w, f.Status, cbor.Map{"__type": cbor.String("com.amazonaws.cloudwatch#" + f.Code), "message": cbor.String(f.Message)})
}
