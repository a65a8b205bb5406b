// Package vulnscan is the vulnerability gate's vocabulary, shared by the organisation file,
// the guard Lambda and ship: the severities a registry scan reports, an environment's
// threshold, what to do with an image whose scan has no usable result, and the one-line
// counts the guard reports and ship reads back.
//
//	t, _ := vulnscan.ParseThreshold("HIGH")
//	counts := vulnscan.Counts{vulnscan.Critical: 1, vulnscan.Medium: 4}
//	if n := counts.AtOrAbove(t); n > 0 { /* refuse: n findings at HIGH or above */ }
//	counts.String() // "CRITICAL=1 HIGH=0 MEDIUM=4 LOW=0 INFORMATIONAL=0 UNDEFINED=0"
//
// It has no dependencies, so the organisation model can validate with it and the guard
// Lambda stays small.
package vulnscan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Severity is a finding's severity as ECR reports it: basic scanning uses CRITICAL, HIGH,
// MEDIUM, LOW, INFORMATIONAL and UNDEFINED; enhanced scanning (Amazon Inspector) UNTRIAGED
// instead of UNDEFINED.
type Severity string

// The severities, most severe first.
const (
	Critical      Severity = "CRITICAL"
	High          Severity = "HIGH"
	Medium        Severity = "MEDIUM"
	Low           Severity = "LOW"
	Informational Severity = "INFORMATIONAL"
	Undefined     Severity = "UNDEFINED"
	Untriaged     Severity = "UNTRIAGED"
)

// Ranked are the severities a threshold can name, most severe first. UNDEFINED and
// UNTRIAGED findings have no rank: they are counted and shown, never refused by a
// threshold (the scanner did not say how bad they are).
var Ranked = []Severity{Critical, High, Medium, Low, Informational}

// reported is the order Counts.String writes: the ranked severities, then the unranked.
var reported = append(append([]Severity(nil), Ranked...), Undefined, Untriaged)

// Rank is 5 for CRITICAL down to 1 for INFORMATIONAL, 0 for an unranked severity.
func (s Severity) Rank() int {
	if i := slices.Index(Ranked, s); i >= 0 {
		return len(Ranked) - i
	}
	return 0
}

// None is the threshold that refuses nothing: the guard reports the counts only.
const None Severity = "NONE"

// Threshold is the least severity that refuses an image, or None.
type Threshold = Severity

// AllowedThresholds says, for error messages, what a threshold may be.
const AllowedThresholds = "one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL (refuse findings of that severity or above) or NONE (report the counts, refuse nothing)"

// ParseThreshold reads a threshold, in any case: a ranked severity or NONE.
func ParseThreshold(s string) (Threshold, error) {
	t := Severity(strings.ToUpper(strings.TrimSpace(s)))
	if t == None || t.Rank() > 0 {
		return t, nil
	}
	return "", fmt.Errorf("%q: %s", s, AllowedThresholds)
}

// Unscanned is what the gate does with an image whose scan has no usable result: in
// progress, failed, unsupported, or never run.
type Unscanned string

// The choices for an image without a usable scan.
const (
	// Refuse fails closed: the image is not promoted until its scan completes.
	Refuse Unscanned = "refuse"
	// Allow promotes it, saying in the guard's summary that it was not checked.
	Allow Unscanned = "allow"
)

// AllowedUnscanned says, for error messages, what Unscanned may be.
const AllowedUnscanned = "refuse (fail closed until the scan completes) or allow (promote, saying it was not checked)"

// ParseUnscanned reads an Unscanned choice, in any case.
func ParseUnscanned(s string) (Unscanned, error) {
	switch u := Unscanned(strings.ToLower(strings.TrimSpace(s))); u {
	case Refuse, Allow:
		return u, nil
	}
	return "", fmt.Errorf("%q: %s", s, AllowedUnscanned)
}

// Counts are findings per severity.
type Counts map[Severity]int

// AtOrAbove is the number of findings of severity t or more severe; 0 for None.
func (c Counts) AtOrAbove(t Threshold) int {
	if t.Rank() == 0 {
		return 0
	}
	n := 0
	for s, k := range c {
		if s.Rank() >= t.Rank() {
			n += k
		}
	}
	return n
}

// Total is the number of findings of every severity.
func (c Counts) Total() int {
	n := 0
	for _, k := range c {
		n += k
	}
	return n
}

// String is "CRITICAL=1 HIGH=0 MEDIUM=4 LOW=0 INFORMATIONAL=0 UNDEFINED=0": every ranked
// severity and UNDEFINED always, UNTRIAGED and any severity ECR adds later only when
// counted, the unknown ones last in name order. ParseCounts reads it back.
func (c Counts) String() string {
	var b strings.Builder
	write := func(s Severity, n int) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(s) + "=" + strconv.Itoa(n))
	}
	for _, s := range reported {
		if n, ok := c[s]; ok || s != Untriaged {
			write(s, n)
		}
	}
	var other []Severity
	for s := range c {
		if !slices.Contains(reported, s) {
			other = append(other, s)
		}
	}
	slices.Sort(other)
	for _, s := range other {
		write(s, c[s])
	}
	return b.String()
}

// ParseCounts reads what Counts.String writes.
func ParseCounts(s string) (Counts, error) {
	c := Counts{}
	for _, f := range strings.Fields(s) {
		name, n, ok := strings.Cut(f, "=")
		k, err := strconv.Atoi(n)
		if !ok || name == "" || err != nil || k < 0 {
			return nil, fmt.Errorf("vulnerability counts %q: %q is not SEVERITY=COUNT", s, f)
		}
		c[Severity(name)] = k
	}
	if len(c) == 0 {
		return nil, fmt.Errorf("vulnerability counts %q: empty", s)
	}
	return c, nil
}
