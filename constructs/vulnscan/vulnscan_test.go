package vulnscan_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/platform-eng/pathtoprod/constructs/vulnscan"
)

func TestParseThreshold(t *testing.T) {
	for in, want := range map[string]vulnscan.Threshold{
		"CRITICAL": vulnscan.Critical, "critical": vulnscan.Critical, " High ": vulnscan.High,
		"medium": vulnscan.Medium, "LOW": vulnscan.Low, "Informational": vulnscan.Informational,
		"NONE": vulnscan.None, "none": vulnscan.None,
	} {
		if got, err := vulnscan.ParseThreshold(in); err != nil || got != want {
			t.Errorf("ParseThreshold(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	// A threshold must be a ranked severity: UNDEFINED and UNTRIAGED say nothing about how
	// bad a finding is, so they cannot be a line to refuse at.
	for _, in := range []string{"", " ", "SEVERE", "UNDEFINED", "untriaged", "CRIT", "HIGH,CRITICAL", "0"} {
		got, err := vulnscan.ParseThreshold(in)
		if err == nil {
			t.Errorf("ParseThreshold(%q) = %q, want an error", in, got)
			continue
		}
		if want := `"` + in + `": one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL (refuse findings of that severity or above) or NONE`; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseThreshold(%q) error %q, want it to quote the value and say what is allowed (%q)", in, err, want)
		}
	}
}

func TestParseUnscanned(t *testing.T) {
	for in, want := range map[string]vulnscan.Unscanned{"refuse": vulnscan.Refuse, "REFUSE": vulnscan.Refuse, " Allow ": vulnscan.Allow} {
		if got, err := vulnscan.ParseUnscanned(in); err != nil || got != want {
			t.Errorf("ParseUnscanned(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "maybe", "deny", "allowed", "true"} {
		got, err := vulnscan.ParseUnscanned(in)
		if err == nil || err.Error() != `"`+in+`": `+vulnscan.AllowedUnscanned {
			t.Errorf("ParseUnscanned(%q) = %q, %v; want the value quoted and %q", in, got, err, vulnscan.AllowedUnscanned)
		}
	}
}

func TestRank(t *testing.T) {
	for s, want := range map[vulnscan.Severity]int{
		vulnscan.Critical: 5, vulnscan.High: 4, vulnscan.Medium: 3, vulnscan.Low: 2, vulnscan.Informational: 1,
		vulnscan.Undefined: 0, vulnscan.Untriaged: 0, vulnscan.None: 0, "critical": 0, "SEVERE": 0, "": 0,
	} {
		if got := s.Rank(); got != want {
			t.Errorf("%q.Rank() = %d, want %d", s, got, want)
		}
	}
	for i := 1; i < len(vulnscan.Ranked); i++ {
		if vulnscan.Ranked[i-1].Rank() <= vulnscan.Ranked[i].Rank() {
			t.Errorf("Ranked is not most severe first: %v", vulnscan.Ranked)
		}
	}
}

// every is one finding of each severity ECR reports, and one it might add later.
var every = vulnscan.Counts{
	vulnscan.Critical: 1, vulnscan.High: 10, vulnscan.Medium: 100, vulnscan.Low: 1000, vulnscan.Informational: 10000,
	vulnscan.Undefined: 100000, vulnscan.Untriaged: 1000000, "SEVERE": 10000000,
}

func TestAtOrAbove(t *testing.T) {
	// Each severity's count is a different power of ten, so the sum names exactly the
	// severities counted: UNDEFINED, UNTRIAGED and unknown ones never are.
	for th, want := range map[vulnscan.Threshold]int{
		vulnscan.Critical:      1,
		vulnscan.High:          11,
		vulnscan.Medium:        111,
		vulnscan.Low:           1111,
		vulnscan.Informational: 11111,
		vulnscan.None:          0,
		vulnscan.Undefined:     0, // not a threshold: refuses nothing rather than everything
	} {
		if got := every.AtOrAbove(th); got != want {
			t.Errorf("AtOrAbove(%s) = %d, want %d", th, got, want)
		}
	}
	// A HIGH-only image passes CRITICAL and is refused at HIGH.
	highOnly := vulnscan.Counts{vulnscan.High: 2, vulnscan.Critical: 0}
	if highOnly.AtOrAbove(vulnscan.Critical) != 0 || highOnly.AtOrAbove(vulnscan.High) != 2 {
		t.Errorf("HIGH-only: AtOrAbove(CRITICAL)=%d AtOrAbove(HIGH)=%d, want 0 and 2",
			highOnly.AtOrAbove(vulnscan.Critical), highOnly.AtOrAbove(vulnscan.High))
	}
	// Unranked findings alone are never refused, whatever the threshold.
	unranked := vulnscan.Counts{vulnscan.Undefined: 3, vulnscan.Untriaged: 4}
	for _, th := range append(vulnscan.Ranked, vulnscan.None) {
		if n := unranked.AtOrAbove(th); n != 0 {
			t.Errorf("UNDEFINED/UNTRIAGED only: AtOrAbove(%s) = %d, want 0", th, n)
		}
	}
	if n := (vulnscan.Counts)(nil).AtOrAbove(vulnscan.Low); n != 0 {
		t.Errorf("nil counts: %d", n)
	}
	if got := every.Total(); got != 11111111 {
		t.Errorf("Total = %d", got)
	}
}

func TestCountsStringAndParseCounts(t *testing.T) {
	cases := map[string]struct {
		in   vulnscan.Counts
		want string
	}{
		"none":                   {vulnscan.Counts{}, "CRITICAL=0 HIGH=0 MEDIUM=0 LOW=0 INFORMATIONAL=0 UNDEFINED=0"},
		"basic":                  {vulnscan.Counts{vulnscan.High: 2, vulnscan.Medium: 5}, "CRITICAL=0 HIGH=2 MEDIUM=5 LOW=0 INFORMATIONAL=0 UNDEFINED=0"},
		"enhanced: UNTRIAGED":    {vulnscan.Counts{vulnscan.Critical: 1, vulnscan.Untriaged: 3}, "CRITICAL=1 HIGH=0 MEDIUM=0 LOW=0 INFORMATIONAL=0 UNDEFINED=0 UNTRIAGED=3"},
		"unknown severities":     {vulnscan.Counts{"ZETA": 1, "ALPHA": 2, vulnscan.Low: 4}, "CRITICAL=0 HIGH=0 MEDIUM=0 LOW=4 INFORMATIONAL=0 UNDEFINED=0 ALPHA=2 ZETA=1"},
		"UNTRIAGED counted at 0": {vulnscan.Counts{vulnscan.Untriaged: 0}, "CRITICAL=0 HIGH=0 MEDIUM=0 LOW=0 INFORMATIONAL=0 UNDEFINED=0 UNTRIAGED=0"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := tc.in.String()
			if got != tc.want {
				t.Fatalf("String = %q, want %q", got, tc.want)
			}
			back, err := vulnscan.ParseCounts(got)
			if err != nil {
				t.Fatalf("ParseCounts(%q): %v", got, err)
			}
			// The round trip keeps every count (String adds the zero ones it always writes).
			for s, n := range tc.in {
				if back[s] != n {
					t.Errorf("%s: %d after the round trip, was %d", s, back[s], n)
				}
			}
			for s, n := range back {
				if n != tc.in[s] {
					t.Errorf("%s=%d appeared in the round trip", s, n)
				}
			}
			if again := back.String(); again != got {
				t.Errorf("String after ParseCounts = %q, want %q", again, got)
			}
		})
	}
	// What Counts itself holds is not changed by String.
	c := vulnscan.Counts{vulnscan.High: 1}
	before := maps.Clone(c)
	_ = c.String()
	if !maps.Equal(c, before) {
		t.Errorf("String changed its receiver: %v", c)
	}
}

func TestParseCountsRefusesMalformedInput(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "empty, want SEVERITY=COUNT pairs",
		"   ":                           "empty",
		"NOT_SCANNED":                   `"NOT_SCANNED" is not SEVERITY=COUNT`,
		"CRITICAL=1 HIGH":               `"HIGH" is not SEVERITY=COUNT`,
		"=3":                            `"=3" is not SEVERITY=COUNT`,
		"CRITICAL=":                     `"CRITICAL=" is not SEVERITY=COUNT`,
		"CRITICAL=-1":                   `"CRITICAL=-1" is not SEVERITY=COUNT`,
		"CRITICAL=two":                  `"CRITICAL=two" is not SEVERITY=COUNT`,
		"CRITICAL=1.5":                  `"CRITICAL=1.5" is not SEVERITY=COUNT`,
		"HIGH=1=2":                      `"HIGH=1=2" is not SEVERITY=COUNT`,
		"CRITICAL=0 CRITICAL=3":         "CRITICAL is counted twice",
		"CRITICAL=99999999999999999999": `is not SEVERITY=COUNT`,
	} {
		c, err := vulnscan.ParseCounts(in)
		if err == nil {
			t.Errorf("ParseCounts(%q) = %v, want an error", in, c)
			continue
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `vulnerability counts "`+in+`"`) {
			t.Errorf("ParseCounts(%q) error %q, want it to quote the input and say %q", in, err, want)
		}
	}
}

func TestSummary(t *testing.T) {
	for _, tc := range []struct {
		c    vulnscan.Counts
		want string
	}{
		{vulnscan.Counts{}, "no findings"},
		{vulnscan.Counts{vulnscan.Critical: 0, vulnscan.High: 0}, "no findings"},
		{vulnscan.Counts{vulnscan.High: 2, vulnscan.Medium: 5, vulnscan.Low: 0}, "0 CRITICAL, 2 HIGH, 5 MEDIUM"},
		{vulnscan.Counts{vulnscan.Critical: 1}, "1 CRITICAL"},
		{vulnscan.Counts{vulnscan.Low: 3}, "0 CRITICAL, 0 HIGH, 0 MEDIUM, 3 LOW"},
		{vulnscan.Counts{vulnscan.Undefined: 1}, "0 CRITICAL, 1 UNDEFINED"},
		{vulnscan.Counts{"ZETA": 5, vulnscan.Untriaged: 3, "ALPHA": 4, vulnscan.Undefined: 2, vulnscan.Critical: 1},
			"1 CRITICAL, 2 UNDEFINED, 3 UNTRIAGED, 4 ALPHA, 5 ZETA"},
	} {
		if got := tc.c.Summary(); got != tc.want {
			t.Errorf("Summary(%v) = %q, want %q", tc.c, got, tc.want)
		}
	}
}

func TestRefuses(t *testing.T) {
	for th, want := range map[vulnscan.Threshold]string{
		vulnscan.Critical: "CRITICAL", vulnscan.High: "HIGH and above", vulnscan.Informational: "INFORMATIONAL and above",
		vulnscan.None: "nothing", vulnscan.Undefined: "nothing",
	} {
		if got := vulnscan.Refuses(th); got != want {
			t.Errorf("Refuses(%s) = %q, want %q", th, got, want)
		}
	}
}
