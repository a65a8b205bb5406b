// Package deploywindow is the deployment window of an environment: when its Deploy stage may
// start. One description serves two readers that must agree: the pipeline, which gets it as
// the cron expression of CodePipeline's DeploymentWindow rule, and the ship CLI, which says
// whether the window is open now and when it opens next.
//
// The simplest use:
//
//	w, err := deploywindow.Parse("0 9 * * MON-THU", "8h", "Europe/Berlin")
//	// err names the field (cron, duration, timeZone), the value and what is allowed
//	w.RuleCron()      // "* * 9-16 ? * MON-THU *": the minutes in which a deploy may start
//	w.Open(time.Now()) // whether a deploy may start now
//
// A window opens at one time of day (minute and hour of the cron are single numbers) on the
// days its cron names and stays open for its duration, never past midnight: CodePipeline's
// rule takes one cron expression of the allowed minutes, and these are the windows one such
// expression describes exactly. Day-of-week is written with names (SUN-SAT), because cron
// dialects number the days differently.
//
// This package needs no jsii and no AWS.
package deploywindow

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	// The time zone database travels with the binary: a window must mean the same thing on a
	// build machine, a laptop and in a container without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Window is a parsed deployment window.
type Window struct {
	cron     string // as written
	minute   int
	hour     int
	length   time.Duration
	loc      *time.Location
	zoneName string
	dom      field // day of month 1-31; nil matches every day
	month    field // 1-12
	dow      field // 0-6, Sunday = 0 (time.Weekday)
	domAny   bool
	dowAny   bool
	domText  string
	monText  string
	dowText  string
}

// Problem is one thing wrong with a window: the field (cron, duration or timeZone), the
// value as written and what is allowed.
type Problem struct {
	Field, Value, Allowed string
}

// Error is the list of problems Parse found.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %q: %s", p.Field, p.Value, p.Allowed)
	}
	return b.String()
}

// What each field allows, as messages say it.
const (
	AllowedCron = `when the window opens, as five cron fields "minute hour day-of-month month day-of-week": ` +
		`minute 0-59 and hour 0-23 single numbers, day-of-month 1-31, month 1-12 or JAN-DEC, ` +
		`day-of-week SUN-SAT by name (e.g. "0 9 * * MON-FRI"); * ? , - and / are allowed in the day and month fields; ` +
		`day-of-month and day-of-week cannot both be restricted`
	AllowedDuration = "how long the window stays open: a Go duration of whole minutes from 1m to 24h (e.g. 8h, 90m), " +
		"ending by midnight; longer than an hour only when the window opens on the hour and lasts whole hours"
	AllowedTimeZone = "an IANA time zone name such as Europe/Berlin or America/New_York. Default: UTC"
)

// Parse reads a window: cron says when it opens, duration how long it stays open, timeZone
// (IANA, "" for UTC) in which zone the cron is read. Every problem is reported at once.
func Parse(cron, duration, timeZone string) (Window, error) {
	var problems []Problem
	bad := func(f, v, allowed string) { problems = append(problems, Problem{f, v, allowed}) }
	w := Window{cron: cron, zoneName: timeZone}

	if timeZone == "" {
		w.loc, w.zoneName = time.UTC, "UTC"
	} else if strings.ContainsAny(timeZone, " \t\n") || strings.HasPrefix(timeZone, "/") || strings.Contains(timeZone, "..") {
		bad("timeZone", timeZone, AllowedTimeZone)
	} else if loc, err := time.LoadLocation(timeZone); err != nil || timeZone == "Local" {
		bad("timeZone", timeZone, AllowedTimeZone)
	} else {
		w.loc = loc
	}

	cronOK := true
	fields := strings.Fields(cron)
	if len(fields) != 5 {
		bad("cron", cron, AllowedCron)
		cronOK = false
	} else {
		var err error
		if w.minute, err = single(fields[0], 59); err != nil {
			bad("cron", cron, "minute: "+err.Error()+"; "+AllowedCron)
			cronOK = false
		}
		if w.hour, err = single(fields[1], 23); err != nil {
			bad("cron", cron, "hour: "+err.Error()+"; "+AllowedCron)
			cronOK = false
		}
		w.domText, w.monText, w.dowText = fields[2], strings.ToUpper(fields[3]), strings.ToUpper(fields[4])
		if w.dom, w.domAny, err = parseField(fields[2], 1, 31, nil, false); err != nil {
			bad("cron", cron, "day-of-month: "+err.Error()+"; "+AllowedCron)
			cronOK = false
		}
		if w.month, _, err = parseField(w.monText, 1, 12, monthNames, false); err != nil {
			bad("cron", cron, "month: "+err.Error()+"; "+AllowedCron)
			cronOK = false
		}
		if w.dow, w.dowAny, err = parseField(w.dowText, 0, 6, dayNames, true); err != nil {
			bad("cron", cron, "day-of-week: "+err.Error()+"; "+AllowedCron)
			cronOK = false
		}
		if cronOK && !w.domAny && !w.dowAny {
			bad("cron", cron, "day-of-month and day-of-week both restricted: restrict one and write * in the other; "+AllowedCron)
			cronOK = false
		}
	}

	d, err := time.ParseDuration(duration)
	switch {
	case duration == "" || err != nil || d < time.Minute || d > 24*time.Hour || d%time.Minute != 0:
		bad("duration", duration, AllowedDuration)
	case cronOK:
		w.length = d
		start := w.hour*60 + w.minute
		mins := int(d / time.Minute)
		switch {
		case start+mins > 24*60:
			bad("duration", duration, fmt.Sprintf("a window that ends by midnight: opening at %02d:%02d it may last at most %s; %s",
				w.hour, w.minute, time.Duration(24*60-start)*time.Minute, AllowedDuration))
		case mins > 60 || w.minute+mins > 60:
			if w.minute != 0 || mins%60 != 0 {
				bad("duration", duration, fmt.Sprintf("opening at %02d:%02d, a window crossing the hour must open on the hour and last whole hours "+
					"(one CodePipeline DeploymentWindow cron describes it); %s", w.hour, w.minute, AllowedDuration))
			}
		}
	}
	if len(problems) > 0 {
		return Window{}, &Error{Problems: problems}
	}
	return w, nil
}

// RuleCron is the window as CodePipeline's DeploymentWindow rule takes it: the minutes in
// which a deploy may start, in the rule's seven-field form (seconds minutes hours
// day-of-month month day-of-week year).
func (w Window) RuleCron() string {
	mins := int(w.length / time.Minute)
	minutes, hours := "*", strconv.Itoa(w.hour)
	if mins < 60 || w.minute != 0 {
		// Within one hour: the minutes of that hour.
		minutes = rangeText(w.minute, w.minute+mins-1)
	} else {
		hours = rangeText(w.hour, w.hour+mins/60-1)
	}
	dom, dow := w.domText, w.dowText
	// The rule's dialect (Quartz) wants "no specific value" in the unrestricted one of the two.
	switch {
	case !w.dowAny:
		dom = "?"
	default:
		dow = "?"
		if dom == "?" {
			dom = "*"
		}
	}
	return fmt.Sprintf("* %s %s %s %s %s *", minutes, hours, dom, w.monText, dow)
}

func rangeText(a, b int) string {
	if a == b {
		return strconv.Itoa(a)
	}
	return fmt.Sprintf("%d-%d", a, b)
}

// TimeZone is the IANA name the rule reads the cron in ("UTC" by default).
func (w Window) TimeZone() string { return w.zoneName }

// Duration is how long the window stays open.
func (w Window) Duration() time.Duration { return w.length }

// String describes the window for a person: "09:00-17:00 Europe/Berlin, cron 0 9 * * MON-THU".
func (w Window) String() string {
	end := time.Date(2000, 1, 1, w.hour, w.minute, 0, 0, time.UTC).Add(w.length)
	endText := end.Format("15:04")
	if end.Day() == 2 {
		endText = "24:00"
	}
	return fmt.Sprintf("%02d:%02d-%s %s on days matching %q", w.hour, w.minute, endText, w.zoneName, w.cron)
}

// Open reports whether a deploy may start at t.
func (w Window) Open(t time.Time) bool {
	opens, _ := w.opening(t.In(w.loc))
	return !opens.IsZero() && !t.Before(opens) && t.Before(opens.Add(w.length))
}

// Next returns the window that is open at t, or else the next one: when it opens and when it
// closes. It looks up to eight years ahead (a cron like "0 9 29 FEB *" opens rarely) and
// returns zero times if the cron never matches (e.g. "0 9 31 FEB *").
func (w Window) Next(t time.Time) (opens, closes time.Time) {
	local := t.In(w.loc)
	if o, _ := w.opening(local); !o.IsZero() && !t.Before(o) && t.Before(o.Add(w.length)) {
		return o, o.Add(w.length)
	}
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, w.loc)
	for i := 0; i < 8*366+2; i++ {
		d := day.AddDate(0, 0, i)
		if !w.matchesDay(d) {
			continue
		}
		o := time.Date(d.Year(), d.Month(), d.Day(), w.hour, w.minute, 0, 0, w.loc)
		if o.After(t) {
			return o, o.Add(w.length)
		}
	}
	return time.Time{}, time.Time{}
}

// opening is the opening of the window on t's local day, or zero if the day does not match.
func (w Window) opening(local time.Time) (time.Time, bool) {
	if !w.matchesDay(local) {
		return time.Time{}, false
	}
	return time.Date(local.Year(), local.Month(), local.Day(), w.hour, w.minute, 0, 0, w.loc), true
}

func (w Window) matchesDay(d time.Time) bool {
	return w.month.has(int(d.Month())) && w.dom.has(d.Day()) && w.dow.has(int(d.Weekday()))
}

// field is the set of values a cron field allows; nil allows every value.
type field map[int]bool

func (f field) has(v int) bool { return f == nil || f[v] }

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames   = map[string]int{"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
)

// single reads a field that must be one number in [0, max].
func single(s string, max int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > max || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("%q is not one number 0-%d (a window opens once a day)", s, max)
	}
	return n, nil
}

// parseField reads a day or month field: * or ?, or a list of values, ranges a-b and steps
// (*/n, a-b/n). namesOnly requires names (day-of-week).
func parseField(s string, lo, hi int, names map[string]int, namesOnly bool) (field, bool, error) {
	if s == "*" || s == "?" {
		return nil, true, nil
	}
	if strings.ContainsAny(s, "LW#") && names == nil || strings.ContainsAny(s, "#") {
		return nil, false, fmt.Errorf("%q: L, W and # are not supported", s)
	}
	value := func(v string) (int, error) {
		if n, ok := names[v]; ok {
			return n, nil
		}
		if namesOnly {
			return 0, fmt.Errorf("%q is not a day name SUN-SAT", v)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi || strings.HasPrefix(v, "+") {
			return 0, fmt.Errorf("%q is not %d-%d", v, lo, hi)
		}
		return n, nil
	}
	f := field{}
	for _, part := range strings.Split(s, ",") {
		step := 1
		if base, st, ok := strings.Cut(part, "/"); ok {
			n, err := strconv.Atoi(st)
			if err != nil || n < 1 || n > hi {
				return nil, false, fmt.Errorf("%q: step %q is not 1-%d", s, st, hi)
			}
			step, part = n, base
		}
		a, b := lo, hi
		switch {
		case part == "*":
		case strings.Contains(part, "-"):
			x, y, _ := strings.Cut(part, "-")
			var err error
			if a, err = value(x); err != nil {
				return nil, false, err
			}
			if b, err = value(y); err != nil {
				return nil, false, err
			}
			if b < a {
				return nil, false, fmt.Errorf("%q: range %s runs backwards", s, part)
			}
		case part == "":
			return nil, false, errors.New("an empty value")
		default:
			v, err := value(part)
			if err != nil {
				return nil, false, err
			}
			a, b = v, v
			if step > 1 {
				b = hi
			}
		}
		for v := a; v <= b; v += step {
			f[v] = true
		}
	}
	return f, false, nil
}
