// Package vulnscan is the vulnerability gate's vocabulary, shared by the organisation file,
// the guard Lambda and ship: the severities a registry scan reports, an environment's
// threshold, what to do with an image whose scan has no usable result, and the one-line
// counts the guard reports and ship reads back.
//
//	t, _ := vulnscan.ParseThreshold("HIGH")
//	counts := vulnscan.Counts{vulnscan.Critical: 1, vulnscan.Medium: 4}
//	if n := counts.AtOrAbove(t); n > 0 { /* refuse: n findings at HIGH or above */ }
//	counts.String()  // "CRITICAL=1 HIGH=0 MEDIUM=4 LOW=0 INFORMATIONAL=0 UNDEFINED=0": the guard's output
//	counts.Summary() // "1 CRITICAL, 0 HIGH, 4 MEDIUM": what a person reads
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

// ParseCounts reads what Counts.String writes. A severity named twice is an error: the
// writer never does that, and taking either count could hide findings.
func ParseCounts(s string) (Counts, error) {
	c := Counts{}
	for _, f := range strings.Fields(s) {
		name, n, ok := strings.Cut(f, "=")
		k, err := strconv.Atoi(n)
		if !ok || name == "" || err != nil || k < 0 {
			return nil, fmt.Errorf("vulnerability counts %q: %q is not SEVERITY=COUNT (a severity, '=', a whole number from 0)", s, f)
		}
		if _, dup := c[Severity(name)]; dup {
			return nil, fmt.Errorf("vulnerability counts %q: %s is counted twice", s, name)
		}
		c[Severity(name)] = k
	}
	if len(c) == 0 {
		return nil, fmt.Errorf("vulnerability counts %q: empty, want SEVERITY=COUNT pairs such as CRITICAL=0 HIGH=2", s)
	}
	return c, nil
}

// Summary is the counts as a person reads them: the ranked severities from CRITICAL down
// to the least severe one with findings, then any other severity with findings, e.g.
// "0 CRITICAL, 2 HIGH, 5 MEDIUM" or "0 CRITICAL, 1 UNDEFINED"; "no findings" when there
// are none. CRITICAL is always named, so a reader never has to guess whether it was 0.
func (c Counts) Summary() string {
	if c.Total() == 0 {
		return "no findings"
	}
	last := -1
	for i, s := range Ranked {
		if c[s] > 0 {
			last = i
		}
	}
	parts := []string{}
	for _, s := range Ranked[:max(last, 0)+1] {
		parts = append(parts, fmt.Sprintf("%d %s", c[s], s))
	}
	var other []Severity
	for s, n := range c {
		if s.Rank() == 0 && n > 0 {
			other = append(other, s)
		}
	}
	// UNDEFINED and UNTRIAGED first, as String writes them, then the unknown by name.
	slices.SortFunc(other, func(a, b Severity) int {
		ia, ib := slices.Index(reported, a), slices.Index(reported, b)
		switch {
		case ia >= 0 && ib >= 0:
			return ia - ib
		case ia >= 0:
			return -1
		case ib >= 0:
			return 1
		}
		return strings.Compare(string(a), string(b))
	})
	for _, s := range other {
		parts = append(parts, fmt.Sprintf("%d %s", c[s], s))
	}
	return strings.Join(parts, ", ")
}

// Refuses says what threshold t refuses, for messages: "CRITICAL", "HIGH and above", or
// "nothing" for None.
func Refuses(t Threshold) string {
	switch {
	case t == Critical:
		return string(Critical)
	case t.Rank() > 0:
		return string(t) + " and above"
	}
	return "nothing"
}

// The guard's output variables of the vulnerability gate, which ship reads back from the
// Guard action's execution.
const (
	// OutputVulnerabilities is Counts.String of the scan the guard read, or NotScanned.
	OutputVulnerabilities = "Vulnerabilities"
	// OutputScanStatus is ECR's scan status (COMPLETE, ACTIVE, IN_PROGRESS, ...), or
	// ScanNotFound.
	OutputScanStatus = "ScanStatus"
)

// NotScanned is OutputVulnerabilities when the image had no usable scan and the guard let
// it through anyway (vulnerabilities.unscanned: allow, or a NONE threshold).
// ParseCounts refuses it: it is not a count of anything.
const NotScanned = "NOT_SCANNED"

// ScanNotFound is OutputScanStatus when ECR has no scan of the image at all
// (ScanNotFoundException), a status ECR itself never reports.
const ScanNotFound = "NOT_FOUND"
