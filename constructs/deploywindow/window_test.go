package deploywindow

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRuleCronDescribesExactlyTheWindow(t *testing.T) {
	for _, c := range []struct{ cron, duration, rule string }{
		{"0 9 * * MON-THU", "8h", "* * 9-16 ? * MON-THU *"},
		{"30 22 * * *", "30m", "* 30-59 22 * * ? *"},
		{"0 0 1 * *", "24h", "* * 0-23 1 * ? *"},
		{"15 6 ? JAN,JUL MON", "45m", "* 15-59 6 ? JAN,JUL MON *"},
		{"0 13 * * SAT", "1h", "* * 13 ? * SAT *"},
		{"5 13 * * SAT", "1m", "* 5 13 ? * SAT *"},
	} {
		w, err := Parse(c.cron, c.duration, "")
		if err != nil {
			t.Fatalf("Parse(%q, %q): %v", c.cron, c.duration, err)
		}
		if got := w.RuleCron(); got != c.rule {
			t.Errorf("Parse(%q, %q).RuleCron() = %q, want %q", c.cron, c.duration, got, c.rule)
		}
	}
}

// The rule's cron and Open must agree minute by minute: what ship says is what CodePipeline does.
func TestOpenAgreesWithTheRuleCronEveryMinuteOfAWeek(t *testing.T) {
	w, err := Parse("0 9 * * MON-THU", "8h", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2026, 11, 22, 0, 0, 0, 0, berlin) // a Sunday
	open := 0
	for m := 0; m < 7*24*60; m++ {
		at := start.Add(time.Duration(m) * time.Minute)
		want := at.Weekday() >= time.Monday && at.Weekday() <= time.Thursday && at.Hour() >= 9 && at.Hour() < 17
		if got := w.Open(at.UTC()); got != want {
			t.Fatalf("Open(%s) = %v, want %v", at, got, want)
		}
		if want {
			open++
		}
	}
	if open != 4*8*60 {
		t.Errorf("open minutes = %d, want %d", open, 4*8*60)
	}
}

func TestNextSaysWhenTheWindowOpensAndCloses(t *testing.T) {
	w, err := Parse("0 9 * * MON-THU", "8h", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	friday := time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC)
	opens, closes := w.Next(friday)
	if want := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC); !opens.Equal(want) { // Monday 09:00 CET
		t.Errorf("opens = %s, want %s", opens, want)
	}
	if !closes.Equal(opens.Add(8 * time.Hour)) {
		t.Errorf("closes = %s, want 8h after %s", closes, opens)
	}
	inside := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	if o, _ := w.Next(inside); !o.Equal(opens) {
		t.Errorf("Next inside the window = %s, want the open window's opening %s", o, opens)
	}
	never, err := Parse("0 9 31 FEB *", "1h", "")
	if err != nil {
		t.Fatal(err)
	}
	if o, c := never.Next(friday); !o.IsZero() || !c.IsZero() {
		t.Errorf("a window that never opens: Next = %s, %s", o, c)
	}
}

func TestParseNamesEveryProblem(t *testing.T) {
	for _, c := range []struct {
		cron, duration, zone string
		fields               []string
		mention              string
	}{
		{"0 9 * *", "8h", "", []string{"cron"}, "five cron fields"},
		{"*/5 9 * * MON", "8h", "", []string{"cron"}, "minute"},
		{"0 9-17 * * MON", "8h", "", []string{"cron"}, "hour"},
		{"0 9 * * 1-5", "8h", "", []string{"cron"}, "SUN-SAT"},
		{"0 9 15 * MON", "8h", "", []string{"cron"}, "both restricted"},
		{"0 9 L * *", "8h", "", []string{"cron"}, "not supported"},
		{"0 9 * * MON#2", "8h", "", []string{"cron"}, "not supported"},
		{"0 9 * 13 *", "8h", "", []string{"cron"}, "month"},
		{"0 9 * * FRI-MON", "8h", "", []string{"cron"}, "backwards"},
		{"0 9 * * MON", "", "", []string{"duration"}, "Go duration"},
		{"0 9 * * MON", "90s", "", []string{"duration"}, "whole minutes"},
		{"0 9 * * MON", "25h", "", []string{"duration"}, "24h"},
		{"0 20 * * MON", "5h", "", []string{"duration"}, "midnight"},
		{"30 9 * * MON", "2h", "", []string{"duration"}, "on the hour"},
		{"0 9 * * MON", "90m", "", []string{"duration"}, "whole hours"},
		{"0 9 * * MON", "8h", "Mars/Olympus", []string{"timeZone"}, "IANA"},
		{"0 9 * * MON", "8h", "Local", []string{"timeZone"}, "IANA"},
		{"x", "y", "Nowhere/Zone", []string{"timeZone", "cron", "duration"}, ""},
	} {
		_, err := Parse(c.cron, c.duration, c.zone)
		var perr *Error
		if !errors.As(err, &perr) {
			t.Errorf("Parse(%q, %q, %q) = %v, want *Error", c.cron, c.duration, c.zone, err)
			continue
		}
		var got []string
		for _, p := range perr.Problems {
			got = append(got, p.Field)
		}
		if strings.Join(got, ",") != strings.Join(c.fields, ",") {
			t.Errorf("Parse(%q, %q, %q) fields = %v, want %v (%v)", c.cron, c.duration, c.zone, got, c.fields, err)
		}
		if !strings.Contains(err.Error(), c.mention) {
			t.Errorf("Parse(%q, %q, %q) = %v, want it to mention %q", c.cron, c.duration, c.zone, err, c.mention)
		}
	}
}

func TestStringSaysTheHoursAndTheZone(t *testing.T) {
	w, err := Parse("0 18 * * FRI", "6h", "America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := w.String(), `18:00-24:00 America/New_York on days matching "0 18 * * FRI"`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
