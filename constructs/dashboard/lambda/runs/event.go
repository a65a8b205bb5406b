package runs

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/platform-eng/pathtoprod/constructs/dora"
)

// Event is what a CloudWatch dashboard sends a custom widget's function: describe when the
// console asks for the widget's documentation, otherwise the widget's context (the
// dashboard, its time range, its time zone). Fields the widget does not use are not read.
type Event struct {
	// Describe asks for the widget's documentation (markdown) instead of its content.
	Describe bool `json:"describe"`
	// WidgetContext is the dashboard's view of the widget. Nil when the function was invoked
	// by other means (the Lambda console's test button, the CLI).
	WidgetContext *WidgetContext `json:"widgetContext"`
}

// WidgetContext is the part of a custom widget's widgetContext the widget reads.
type WidgetContext struct {
	DashboardName string    `json:"dashboardName"`
	TimeRange     TimeRange `json:"timeRange"`
	Timezone      Timezone  `json:"timezone"`
}

// TimeRange is the dashboard's time range in milliseconds since 1970; Zoom, when set, is the
// part of it a person zoomed into on a graph.
type TimeRange struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	Zoom  *struct {
		Start int64 `json:"start"`
		End   int64 `json:"end"`
	} `json:"zoom"`
}

// Timezone is the dashboard's time zone setting: UTC, or the viewer's local offset.
type Timezone struct {
	// OffsetISO is the zone's offset from UTC, e.g. "+00:00", "+02:00", "-05:30".
	OffsetISO string `json:"offsetISO"`
}

// ParseEvent reads the widget's event.
func ParseEvent(raw []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(raw, &e); err != nil {
		return Event{}, fmt.Errorf("the widget's event is not the JSON object a dashboard sends: %v", err)
	}
	return e, nil
}

// Range is the window the widget reads for this event, and what the person must be told
// about it: the dashboard's time range (its zoomed part, if any), cut to its newest
// MaxRange; DefaultRange ending now without a dashboard.
type Range struct {
	// Window is what is read and summarised.
	Window dora.Window
	// Asked is the dashboard's range before the cut (equal to Window when not cut).
	Asked dora.Window
	// Cut says Window is the newest MaxRange of Asked.
	Cut bool
	// Default says the event had no time range: Window is the DefaultRange ending now.
	Default bool
}

// Range is the window of the event (see Range), or an error naming what is wrong with
// the dashboard's range.
func (e Event) Range(now time.Time) (Range, error) {
	c := e.WidgetContext
	if c == nil || (c.TimeRange.Start == 0 && c.TimeRange.End == 0) {
		w := dora.Last(DefaultRange, now)
		return Range{Window: w, Asked: w, Default: true}, nil
	}
	start, end := c.TimeRange.Start, c.TimeRange.End
	if z := c.TimeRange.Zoom; z != nil && z.End > z.Start {
		start, end = z.Start, z.End
	}
	if end <= start {
		return Range{}, fmt.Errorf("the dashboard's time range ends (%d ms) before it starts (%d ms)", end, start)
	}
	asked := dora.Window{From: time.UnixMilli(start).UTC(), To: time.UnixMilli(end).UTC()}
	r := Range{Window: asked, Asked: asked}
	if asked.To.Sub(asked.From) > MaxRange {
		r.Window.From, r.Cut = asked.To.Add(-MaxRange), true
	}
	return r, nil
}

// Location is the zone the page shows times in: the dashboard's (UTC, or the viewer's local
// time as the console reports it), and its label. The offset is read from offsetISO
// ("+02:00", "-05:30"), whose sign is unambiguous; anything else is shown in UTC.
func (e Event) Location() (*time.Location, string) {
	c := e.WidgetContext
	if c == nil {
		return time.UTC, "UTC"
	}
	iso := c.Timezone.OffsetISO
	t, err := time.Parse("-07:00", iso)
	if err != nil {
		return time.UTC, "UTC"
	}
	_, offset := t.Zone()
	if offset == 0 {
		return time.UTC, "UTC"
	}
	return time.FixedZone("UTC"+iso, offset), "UTC" + iso
}
