package handler_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/platform-eng/pathtoprod/constructs/guard/lambda/handler"
	"github.com/platform-eng/pathtoprod/constructs/vulnscan"
	"github.com/platform-eng/pathtoprod/test/fakeaws"
)

// img is how the guard names the test image in its messages: the digest the image check
// resolved, cut as the image check cuts it.
const img = testRepo + "@sha256:0123456789ab…"

// vulnGate is one guard with the vulnerability gate, and what the fake holds.
type vulnGate struct {
	threshold vulnscan.Threshold
	unscanned vulnscan.Unscanned // "": the default
	scan      *fakeaws.Scan      // nil: ECR has no scan of the image
	fake      *fakeAWS           // default: history(10) with the image
	setup     func(*fakeaws.Server)
	timeout   time.Duration // the Lambda's time left; default 10s
}

// decision is what the guard reported on the job.
type decision struct {
	passed bool
	msg    string // the failure message, or the Summary output of a pass
	vars   map[string]any
	scans  int // DescribeImageScanFindings calls
	pages  int // the pages they read: a call the SDK retried (a dropped loopback connection) reads no new page
	fake   *fakeAWS
}

// decide runs one job of commitN(1) through the handler NewHandler builds, with the real
// SDK clients against the fake.
func (g vulnGate) decide(t *testing.T) decision {
	t.Helper()
	fake := g.fake
	if fake == nil {
		fake = &fakeAWS{Executions: history(10), ImageDigest: digest}
	}
	fake.Scan = g.scan
	srv := newFakeAWS(t, fake)
	if g.setup != nil {
		g.setup(fake.srv)
	}
	h := newSDKHandler(srv.URL, func(c *handler.Config) {
		withImage(c)
		c.VulnerabilityThreshold, c.UnscannedImages = g.threshold, g.unscanned
	})
	timeout := cmpOr(g.timeout, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := h.Handle(ctx, eventFor(testJobID, commitN(1))); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	d := decision{fake: fake, scans: countOp(fake, "DescribeImageScanFindings")}
	tokens := map[any]bool{}
	for _, c := range fake.calls() {
		if c.Op == "DescribeImageScanFindings" {
			tokens[c.Body["nextToken"]] = true
		}
	}
	d.pages = len(tokens)
	if c, ok := fake.srv.Last("PutJobSuccessResult"); ok {
		d.passed = true
		d.vars, _ = c.Input["outputVariables"].(map[string]any)
		d.msg, _ = d.vars["Summary"].(string)
	} else {
		fd, _ := fake.last(t, "PutJobFailureResult").Body["failureDetails"].(map[string]any)
		d.msg, _ = fd["message"].(string)
	}
	return d
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// contains fails the test for every want that s lacks.
func contains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s %q\n lacks %q", what, s, w)
		}
	}
}

// unusable is every scan state without a usable result, and what a refusal must say of it.
var unusable = map[string][]string{
	"IN_PROGRESS":              {"its scan is IN_PROGRESS (ECR: scan started)", "retry the Guard stage in a few minutes, once the scan is COMPLETE"},
	"PENDING":                  {"its scan is PENDING (queued, not started) (ECR: scan started)", "retry the Guard stage in a few minutes"},
	"FAILED":                   {"its scan FAILED (ECR: scan started)", "scan it again (aws ecr start-image-scan --registry-id 222222222222 --repository-name payments/checkout --image-id imageDigest=" + digest + " --region us-east-1"},
	"UNSUPPORTED_IMAGE":        {"ECR cannot scan it, UNSUPPORTED_IMAGE (ECR: scan started)", "the scanner does not support the image's operating system", "if the registry uses basic scanning, enhanced scanning (registry.scanning: enhanced in the organisation file)"},
	"SCAN_ELIGIBILITY_EXPIRED": {"Amazon Inspector no longer scans it, SCAN_ELIGIBILITY_EXPIRED", "re-scan duration", "promote a newer build"},
	"FINDINGS_UNAVAILABLE":     {"its findings are FINDINGS_UNAVAILABLE (ECR: scan started)", "retry the Guard stage later"},
	"LIMIT_EXCEEDED":           {"ECR's scan limit was exceeded for it, LIMIT_EXCEEDED", "retry the Guard stage later"},
	"IMAGE_ARCHIVED":           {"it is archived, IMAGE_ARCHIVED", "ECR does not scan archived images; restore it"},
	"A_STATUS_ECR_ADDS_LATER":  {"its scan has status A_STATUS_ECR_ADDS_LATER (ECR: scan started), which this guard does not know as a usable result (COMPLETE or ACTIVE)"},
	"NOT_FOUND":                {"ECR has no scan of it (ScanNotFoundException)", "scan on push (start one: aws ecr start-image-scan", "https://github.com/aws/containers-roadmap/issues/2541"},
}

// TestUnusableScans: every scan state without a usable result (and no scan at all) is
// refused with its own explanation where unscanned images are refused; let through, saying
// the image was NOT checked, where they are allowed, and wherever nothing is refused.
func TestUnusableScans(t *testing.T) {
	for status, says := range unusable {
		scan := &fakeaws.Scan{Status: status, Description: "scan started",
			// Findings are never read from a scan without a usable result.
			Findings: []fakeaws.Finding{{ID: "CVE-2026-0001", Severity: "CRITICAL"}}}
		if status == vulnscan.ScanNotFound {
			scan = nil
		}
		t.Run(status+"/refuse", func(t *testing.T) {
			t.Parallel()
			d := vulnGate{threshold: vulnscan.Critical, scan: scan}.decide(t) // unscanned: the default, refuse
			if d.passed {
				t.Fatalf("passed: %s", d.msg)
			}
			contains(t, "message", d.msg, append([]string{"image " + img + " has no usable vulnerability scan: ",
				"This environment refuses an image without one (vulnerabilities.unscanned: refuse in the organisation file, the default); to promote such images deliberately, set it to allow."},
				says...)...)
			if d.pages != 1 {
				t.Errorf("%d pages of findings read, want 1", d.pages)
			}
		})
		for _, let := range []struct {
			name      string
			threshold vulnscan.Threshold
			unscanned vulnscan.Unscanned
			why       string
		}{
			{"allow", vulnscan.High, vulnscan.Allow, "(allowed by vulnerabilities.unscanned)"},
			{"NONE", vulnscan.None, vulnscan.Refuse, "(refusing nothing)"},
		} {
			t.Run(status+"/"+let.name, func(t *testing.T) {
				t.Parallel()
				d := vulnGate{threshold: let.threshold, unscanned: let.unscanned, scan: scan}.decide(t)
				if !d.passed {
					t.Fatalf("refused: %s", d.msg)
				}
				contains(t, "summary", d.msg, "; scan "+status+": image NOT checked for vulnerabilities "+let.why+".")
				if d.vars["Vulnerabilities"] != vulnscan.NotScanned || d.vars["ScanStatus"] != status {
					t.Errorf("outputs %v, want Vulnerabilities=%s ScanStatus=%s", d.vars, vulnscan.NotScanned, status)
				}
			})
		}
	}
}

// TestThresholds: an image with findings of one severity only, against every threshold,
// in basic and in enhanced scanning's shape: refused exactly when that severity is at or
// above the threshold; UNDEFINED and UNTRIAGED never; NONE refuses nothing.
func TestThresholds(t *testing.T) {
	severities := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED", "UNTRIAGED"}
	for _, enhanced := range []bool{false, true} {
		status := map[bool]string{false: "COMPLETE", true: "ACTIVE"}[enhanced]
		for _, sev := range severities {
			for _, th := range append(slices.Clone(vulnscan.Ranked), vulnscan.None) {
				refuse := th != vulnscan.None && vulnscan.Severity(sev).Rank() >= th.Rank()
				t.Run(fmt.Sprintf("%s/%s-only/threshold-%s", status, sev, th), func(t *testing.T) {
					t.Parallel()
					scan := &fakeaws.Scan{Status: status, Enhanced: enhanced, Findings: []fakeaws.Finding{
						{ID: "CVE-2026-0002", Severity: sev, Package: "openssl", Version: "3.0.1"},
						{ID: "CVE-2026-0001", Severity: sev, Package: "zlib", Version: "1.2.11"},
					}}
					d := vulnGate{threshold: th, scan: scan}.decide(t)
					counts := vulnscan.Counts{vulnscan.Severity(sev): 2}
					if d.passed == refuse {
						t.Fatalf("passed=%t, want refused=%t: %s", d.passed, refuse, d.msg)
					}
					if refuse {
						contains(t, "message", d.msg,
							fmt.Sprintf("image %s has 2 findings at or above %s (%s), which this environment refuses (vulnerabilities.refuse: %s in the organisation file); scan %s: %s.",
								img, th, counts.Summary(), th, status, counts.Summary()),
							fmt.Sprintf(" Worst: CVE-2026-0001 (%s) in zlib 1.2.11; CVE-2026-0002 (%s) in openssl 3.0.1.", sev, sev),
							"Fix them in a new build pushed to the first environment")
						return
					}
					contains(t, "summary", d.msg, fmt.Sprintf("; scan %s: %s (refusing %s).", status, counts.Summary(), vulnscan.Refuses(th)))
					got, err := vulnscan.ParseCounts(fmt.Sprint(d.vars["Vulnerabilities"]))
					if err != nil || got[vulnscan.Severity(sev)] != 2 || got.Total() != 2 || d.vars["ScanStatus"] != status {
						t.Errorf("outputs %v (counts %v, %v), want 2 %s and status %s", d.vars, got, err, sev, status)
					}
					if d.pages != 1 {
						t.Errorf("%d pages of findings read for a pass, want 1: a pass reads no findings beyond the counts", d.pages)
					}
				})
			}
		}
	}
}

// TestAHighOnlyImage is the example of the README: 2 HIGH and 5 MEDIUM pass a CRITICAL
// threshold and are refused at HIGH.
func TestAHighOnlyImage(t *testing.T) {
	var fs []fakeaws.Finding
	for i := range 7 {
		sev := map[bool]string{true: "HIGH", false: "MEDIUM"}[i < 2]
		fs = append(fs, fakeaws.Finding{ID: fmt.Sprintf("CVE-2026-%04d", 7-i), Severity: sev, Package: "libc", Version: "2.36"})
	}
	scan := &fakeaws.Scan{Status: "COMPLETE", Findings: fs}
	d := vulnGate{threshold: vulnscan.Critical, scan: scan}.decide(t)
	if !d.passed || !strings.HasSuffix(d.msg, "; scan COMPLETE: 0 CRITICAL, 2 HIGH, 5 MEDIUM (refusing CRITICAL).") || len(d.msg) > 250 {
		t.Errorf("CRITICAL: passed=%t %q (%d bytes)", d.passed, d.msg, len(d.msg))
	}
	if d.vars["Vulnerabilities"] != "CRITICAL=0 HIGH=2 MEDIUM=5 LOW=0 INFORMATIONAL=0 UNDEFINED=0" || d.vars["ScanStatus"] != "COMPLETE" {
		t.Errorf("outputs %v", d.vars)
	}
	d = vulnGate{threshold: vulnscan.High, scan: scan}.decide(t)
	if d.passed {
		t.Fatalf("HIGH: passed %q", d.msg)
	}
	contains(t, "message", d.msg, "has 2 findings at or above HIGH (0 CRITICAL, 2 HIGH)", "vulnerabilities.refuse: HIGH",
		"scan COMPLETE: 0 CRITICAL, 2 HIGH, 5 MEDIUM.", "Worst: CVE-2026-0006 (HIGH) in libc 2.36; CVE-2026-0007 (HIGH) in libc 2.36.")
}

// TestTheWorstFindingsAreNamed: most severe first, then by id, at most three, only those
// at or above the threshold; an enhanced finding by its vulnerability id and package, a
// suppressed one not at all.
func TestTheWorstFindingsAreNamed(t *testing.T) {
	basic := &fakeaws.Scan{Status: "COMPLETE", Findings: []fakeaws.Finding{
		{ID: "CVE-5", Severity: "MEDIUM", Package: "a", Version: "1"},
		{ID: "CVE-3", Severity: "HIGH", Package: "b", Version: "2"},
		{ID: "CVE-9", Severity: "CRITICAL", Package: "c", Version: "3"},
		{ID: "CVE-1", Severity: "HIGH", Package: "d", Version: "4"},
		{ID: "CVE-2", Severity: "CRITICAL", Package: "e", Version: "5"},
		{ID: "CVE-0", Severity: "UNDEFINED", Package: "f", Version: "6"},
	}}
	d := vulnGate{threshold: vulnscan.Medium, scan: basic}.decide(t)
	contains(t, "message", d.msg, "has 5 findings at or above MEDIUM (2 CRITICAL, 2 HIGH, 1 MEDIUM)",
		"scan COMPLETE: 2 CRITICAL, 2 HIGH, 1 MEDIUM, 1 UNDEFINED.",
		" Worst: CVE-2 (CRITICAL) in e 5; CVE-9 (CRITICAL) in c 3; CVE-1 (HIGH) in d 4. Fix")
	// Only what the threshold refuses is named: at HIGH, not the MEDIUM even with room left.
	d = vulnGate{threshold: vulnscan.High, scan: &fakeaws.Scan{Status: "COMPLETE", Findings: basic.Findings[:3]}}.decide(t)
	contains(t, "message", d.msg, " Worst: CVE-9 (CRITICAL) in c 3; CVE-3 (HIGH) in b 2. Fix")

	enhanced := &fakeaws.Scan{Status: "ACTIVE", Enhanced: true, Findings: []fakeaws.Finding{
		{ID: "CVE-2021-44228", Severity: "CRITICAL", Package: "log4j-core", Version: "2.14.1"},
		{ID: "CVE-2020-0001", Severity: "CRITICAL", Package: "muted", Version: "1", Status: "SUPPRESSED"},
		{ID: "GHSA-aaaa", Severity: "UNTRIAGED", Package: "left-pad", Version: "1.0.0"},
	}, Counts: map[string]int{"CRITICAL": 1, "UNTRIAGED": 1}}
	d = vulnGate{threshold: vulnscan.Critical, scan: enhanced}.decide(t)
	contains(t, "message", d.msg, "has 1 finding at or above CRITICAL (1 CRITICAL)", "scan ACTIVE: 1 CRITICAL, 1 UNTRIAGED.",
		" Worst: CVE-2021-44228 (CRITICAL) in log4j-core 2.14.1. Fix")
	if strings.Contains(d.msg, "CVE-2020-0001") {
		t.Errorf("a suppressed finding is named: %s", d.msg)
	}
}

// many is n findings of severity LOW, with the given findings put at their indexes.
func many(n int, at map[int]fakeaws.Finding) []fakeaws.Finding {
	fs := make([]fakeaws.Finding, n)
	for i := range fs {
		fs[i] = fakeaws.Finding{ID: fmt.Sprintf("CVE-2026-%05d", i), Severity: "LOW", Package: "p", Version: "1"}
		if f, ok := at[i]; ok {
			fs[i] = f
		}
	}
	return fs
}

// TestPagingForTheWorst: findings are read beyond the first page only to name the worst the
// counts promise, and no further than that, nor than the page bound.
func TestPagingForTheWorst(t *testing.T) {
	crit := func(id string) fakeaws.Finding {
		return fakeaws.Finding{ID: id, Severity: "CRITICAL", Package: "openssl", Version: "3.0.1"}
	}
	high := fakeaws.Finding{ID: "CVE-HIGH", Severity: "HIGH", Package: "zlib", Version: "1"}
	cases := map[string]struct {
		scan      *fakeaws.Scan
		threshold vulnscan.Threshold
		pages     int
		want      []string
	}{
		"the CRITICAL is on page 3": {
			scan: &fakeaws.Scan{Status: "COMPLETE", Findings: many(450, map[int]fakeaws.Finding{240: crit("CVE-X")})}, threshold: vulnscan.High,
			pages: 3, want: []string{"has 1 finding at or above HIGH (1 CRITICAL)", " Worst: CVE-X (CRITICAL) in openssl 3.0.1. Fix"},
		},
		"three CRITICALs on page 1: no more pages": {
			scan:      &fakeaws.Scan{Status: "COMPLETE", Findings: many(450, map[int]fakeaws.Finding{5: crit("CVE-C"), 50: crit("CVE-A"), 99: crit("CVE-B"), 300: high})},
			threshold: vulnscan.High, pages: 1,
			want: []string{"has 4 findings at or above HIGH (3 CRITICAL, 1 HIGH)", " Worst: CVE-A (CRITICAL) in openssl 3.0.1; CVE-B (CRITICAL) in openssl 3.0.1; CVE-C (CRITICAL) in openssl 3.0.1. Fix"},
		},
		"the one HIGH is on page 2: read until found, not to the end": {
			scan: &fakeaws.Scan{Status: "ACTIVE", Enhanced: true, Findings: many(450, map[int]fakeaws.Finding{150: high})}, threshold: vulnscan.High,
			pages: 2, want: []string{" Worst: CVE-HIGH (HIGH) in zlib 1. Fix"},
		},
		"beyond the page bound: the refusal stands, without the worst": {
			scan: &fakeaws.Scan{Status: "COMPLETE", Findings: many(700, map[int]fakeaws.Finding{650: crit("CVE-LATE")})}, threshold: vulnscan.Critical,
			pages: handler.DefaultScanPages,
			want:  []string{"has 1 finding at or above CRITICAL (1 CRITICAL)", "(the worst named are from the first 5 pages of findings; see the scan in the ECR console for all)"},
		},
		"no counts from ECR: every page is counted": {
			scan: &fakeaws.Scan{Status: "COMPLETE", NoCounts: true, Findings: many(250, map[int]fakeaws.Finding{120: crit("CVE-Y")})}, threshold: vulnscan.Critical,
			pages: 3, // to count them all; the worst are among them
			want:  []string{"has 1 finding at or above CRITICAL (1 CRITICAL)", "scan COMPLETE: 1 CRITICAL, 0 HIGH, 0 MEDIUM, 249 LOW.", " Worst: CVE-Y (CRITICAL)"},
		},
		"no counts and more findings than the bound: not judged": {
			scan: &fakeaws.Scan{Status: "COMPLETE", NoCounts: true, Findings: many(600, nil)}, threshold: vulnscan.Critical,
			pages: handler.DefaultScanPages,
			want:  []string{"ECR gave no severity counts for the scan of image " + img + ", and it has more findings than the guard reads (5 pages of 100); it cannot be judged"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := vulnGate{threshold: tc.threshold, scan: tc.scan}.decide(t)
			if d.passed {
				t.Fatalf("passed: %s", d.msg)
			}
			contains(t, "message", d.msg, tc.want...)
			if d.pages != tc.pages {
				t.Errorf("%d pages of findings read, want %d", d.pages, tc.pages)
			}
			if strings.HasPrefix(d.msg, "out of time") {
				t.Errorf("a decided refusal reads as out of time: %s", d.msg)
			}
		})
	}
}

// TestPagingKeepsToTheTimeBudget: a slow registry leaves too little time for a second page;
// the refusal is reported as what it is, saying why it names no finding, well before the
// Lambda's deadline.
func TestPagingKeepsToTheTimeBudget(t *testing.T) {
	start := time.Now()
	d := vulnGate{threshold: vulnscan.Critical, timeout: 2600 * time.Millisecond, // 1.6s of work: newSDKHandler keeps 1s back
		scan: &fakeaws.Scan{Status: "COMPLETE", Findings: many(300, map[int]fakeaws.Finding{200: {ID: "CVE-Z", Severity: "CRITICAL"}})},
		fake: &fakeAWS{Executions: history(10), ImageDigest: digest, ScanDelay: 400 * time.Millisecond}}.decide(t)
	if d.passed || strings.HasPrefix(d.msg, "out of time") {
		t.Fatalf("passed=%t %q, want the refusal", d.passed, d.msg)
	}
	contains(t, "message", d.msg, "has 1 finding at or above CRITICAL", "(the worst named are from the first 1 page of findings: too little time was left to read more)")
	if d.pages != 1 {
		t.Errorf("%d pages of findings read, want 1", d.pages)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %s", el)
	}
}

// TestScanFaults: what the guard says when the scan cannot be read.
func TestScanFaults(t *testing.T) {
	complete := &fakeaws.Scan{Status: "COMPLETE", Findings: []fakeaws.Finding{{ID: "CVE-1", Severity: "HIGH"}}}
	cases := map[string]struct {
		fault    *awsFault
		throttle int
		pass     bool
		want     string
		scans    int
	}{
		"access denied": {
			fault: &awsFault{Status: 400, Code: "AccessDeniedException", Message: "User: arn:aws:sts::333333333333:assumed-role/guard is not authorized to perform: inspector2:ListFindings"},
			want: "the guard may not read the vulnerability scan of image " + img + " in ECR repository payments/checkout of registry 222222222222: access denied " +
				"(AccessDeniedException: User: arn:aws:sts::333333333333:assumed-role/guard is not authorized to perform: inspector2:ListFindings); " +
				"the guard's role and the registry's repository policy must both grant ecr:DescribeImageScanFindings (and, with enhanced scanning, the guard's role inspector2:ListFindings)",
			scans: 1,
		},
		"repository gone": {
			fault: &awsFault{Status: 400, Code: "RepositoryNotFoundException", Message: "gone"},
			want:  "ECR repository payments/checkout of registry 222222222222 does not exist (region us-east-1); check IMAGE_REPOSITORY, IMAGE_REGISTRY_ID and IMAGE_REGION", scans: 1,
		},
		"image gone since the image check": {
			fault: &awsFault{Status: 400, Code: "ImageNotFoundException", Message: "gone"},
			want:  "commit " + commitN(1)[:7] + "'s image " + img + " is gone from ECR repository payments/checkout of registry 222222222222", scans: 1,
		},
		"throttled twice, then read": {throttle: 2, pass: true, want: "; scan COMPLETE: 0 CRITICAL, 1 HIGH (refusing CRITICAL).", scans: 3},
		"throttled throughout": {
			throttle: -1, scans: 3,
			want: "AWS kept throttling the guard reading the vulnerability scan of image " + img + " (ThrottlingException, 3 attempts); retry the stage later",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeAWS{Executions: history(10), ImageDigest: digest, ScanFault: tc.fault}
			d := vulnGate{threshold: vulnscan.Critical, scan: complete, fake: fake, setup: func(s *fakeaws.Server) {
				if tc.throttle != 0 {
					s.Fail("DescribeImageScanFindings", fakeaws.Throttled, tc.throttle)
				}
			}}.decide(t)
			if d.passed != tc.pass {
				t.Fatalf("passed=%t: %s", d.passed, d.msg)
			}
			contains(t, "message", d.msg, tc.want)
			if d.scans != tc.scans {
				t.Errorf("%d DescribeImageScanFindings calls, want %d", d.scans, tc.scans)
			}
		})
	}
}

// TestTheScanIsReadAsTheImageCheckFoundIt: by the digest the image check resolved, in the
// registry's account and region, with the guard's own credentials; after the upstream
// and image checks, and not at all when they fail.
func TestTheScanIsReadAsTheImageCheckFoundIt(t *testing.T) {
	d := vulnGate{threshold: vulnscan.High, scan: &fakeaws.Scan{Status: "COMPLETE"}}.decide(t)
	if !d.passed || !strings.HasSuffix(d.msg, "; scan COMPLETE: no findings (refusing HIGH and above).") {
		t.Fatalf("passed=%t %q", d.passed, d.msg)
	}
	if got, want := d.fake.ops(), []string{"AssumeRole", "ListPipelineExecutions", "DescribeImages", "DescribeImageScanFindings", "PutJobSuccessResult"}; !slices.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	c := d.fake.last(t, "DescribeImageScanFindings")
	id, _ := c.Body["imageId"].(map[string]any)
	if c.KeyID != ownKeyID || c.Region != "us-east-1" || c.Body["registryId"] != testRegistry || c.Body["repositoryName"] != testRepo ||
		id["imageDigest"] != digest || id["imageTag"] != nil || c.Body["maxResults"] != float64(handler.DefaultScanPageSize) {
		t.Errorf("DescribeImageScanFindings signed by %s in %s with %v", c.KeyID, c.Region, c.Body)
	}
	if len(d.vars) != 8 { // Commit, Summary, the upstream's 2, the image's 2, the scan's 2, and nothing else
		t.Errorf("outputs %v", d.vars)
	}

	// The image missing: refused by the image check, the scan never read.
	d = vulnGate{threshold: vulnscan.High, fake: &fakeAWS{Executions: history(10)}}.decide(t)
	if d.passed || d.scans != 0 || !strings.Contains(d.msg, "has no image in ECR repository") {
		t.Errorf("passed=%t, %d scan calls: %s", d.passed, d.scans, d.msg)
	}
}

// TestNoThresholdNoScanCheck: without VULNERABILITY_THRESHOLD the guard does not read scans
// (a role that may not read them yet keeps working); with it, the scan check runs last.
func TestNoThresholdNoScanCheck(t *testing.T) {
	names := func(h *handler.Handler) []string {
		var n []string
		for _, c := range h.Checks {
			n = append(n, c.Name())
		}
		return n
	}
	h := newSDKHandler("http://127.0.0.1:1", withImage)
	if got := names(h); !slices.Equal(got, []string{"upstream", "image"}) {
		t.Errorf("checks %v without a threshold", got)
	}
	h = newSDKHandler("http://127.0.0.1:1", func(c *handler.Config) { withImage(c); c.VulnerabilityThreshold = vulnscan.None })
	if got := names(h); !slices.Equal(got, []string{"upstream", "image", "scan"}) {
		t.Errorf("checks %v with threshold NONE", got)
	}
	sc, _ := h.Checks[2].(*handler.ScanCheck)
	if sc == nil || sc.Unscanned != vulnscan.Refuse || sc.Threshold != vulnscan.None || sc.Repository != testRepo || sc.RegistryID != testRegistry || sc.Region != "us-east-1" {
		t.Errorf("scan check %+v", sc)
	}
}

func TestScanConfigFromEnv(t *testing.T) {
	base := map[string]string{
		"UPSTREAM_ENVIRONMENT": "stg", "UPSTREAM_PIPELINE": "payments-checkout-stg", "UPSTREAM_ROLE_ARN": testRoleARN,
		"UPSTREAM_REGION": "eu-west-1", "AWS_REGION": "eu-central-1", "IMAGE_REPOSITORY": testRepo,
	}
	env := func(over map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := over[k]; ok {
				return v
			}
			return base[k]
		}
	}
	for name, tc := range map[string]struct {
		env       map[string]string
		threshold vulnscan.Threshold
		unscanned vulnscan.Unscanned
		wantErr   string
	}{
		"unset: no scan check":         {},
		"any case, unscanned default":  {env: map[string]string{"VULNERABILITY_THRESHOLD": "high"}, threshold: vulnscan.High, unscanned: vulnscan.Refuse},
		"NONE and allow":               {env: map[string]string{"VULNERABILITY_THRESHOLD": "None", "UNSCANNED_IMAGES": "ALLOW"}, threshold: vulnscan.None, unscanned: vulnscan.Allow},
		"a threshold that is not one":  {env: map[string]string{"VULNERABILITY_THRESHOLD": "SEVERE"}, wantErr: `VULNERABILITY_THRESHOLD="SEVERE": ` + vulnscan.AllowedThresholds},
		"UNDEFINED is not a threshold": {env: map[string]string{"VULNERABILITY_THRESHOLD": "UNDEFINED"}, wantErr: `VULNERABILITY_THRESHOLD="UNDEFINED": one of CRITICAL`},
		"unscanned that is not a choice": {env: map[string]string{"VULNERABILITY_THRESHOLD": "HIGH", "UNSCANNED_IMAGES": "maybe"},
			wantErr: `UNSCANNED_IMAGES="maybe": ` + vulnscan.AllowedUnscanned},
		"threshold without an image": {env: map[string]string{"VULNERABILITY_THRESHOLD": "HIGH", "IMAGE_REPOSITORY": ""},
			wantErr: "VULNERABILITY_THRESHOLD is set but IMAGE_REPOSITORY is not"},
		"unscanned without a threshold": {env: map[string]string{"UNSCANNED_IMAGES": "allow"},
			wantErr: "UNSCANNED_IMAGES is set but VULNERABILITY_THRESHOLD is not"},
		"both bad, both named": {env: map[string]string{"VULNERABILITY_THRESHOLD": "x", "UNSCANNED_IMAGES": "y", "IMAGE_REPOSITORY": "Bad"},
			wantErr: `IMAGE_REPOSITORY="Bad": an ECR repository name; VULNERABILITY_THRESHOLD="x": one of CRITICAL`},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := handler.ConfigFromEnv(env(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || c.VulnerabilityThreshold != tc.threshold || c.UnscannedImages != tc.unscanned {
				t.Errorf("threshold %q unscanned %q err %v, want %q %q", c.VulnerabilityThreshold, c.UnscannedImages, err, tc.threshold, tc.unscanned)
			}
		})
	}
	// A Config made in code must name its threshold as ParseThreshold does: "high" would
	// rank 0, and refuse nothing.
	c, _ := handler.ConfigFromEnv(env(nil))
	c.VulnerabilityThreshold = "high"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `VULNERABILITY_THRESHOLD="high"`) {
		t.Errorf("Validate = %v, want the lower-case threshold refused", err)
	}
}

// scripted is a ScanDescriber that answers from a script, one answer per call.
type scripted struct {
	answers []any // *ecr.DescribeImageScanFindingsOutput or error
	calls   int
}

func (s *scripted) DescribeImageScanFindings(ctx context.Context, in *ecr.DescribeImageScanFindingsInput, _ ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error) {
	a := s.answers[min(s.calls, len(s.answers)-1)]
	s.calls++
	if err, ok := a.(error); ok {
		return nil, err
	}
	return a.(*ecr.DescribeImageScanFindingsOutput), nil
}

// TestALaterPageFails: the counts decided, so a page of findings that cannot be read only
// shortens the list of the worst, and the refusal says why.
func TestALaterPageFails(t *testing.T) {
	first := &ecr.DescribeImageScanFindingsOutput{
		ImageScanStatus: &ecrtypes.ImageScanStatus{Status: ecrtypes.ScanStatusComplete},
		ImageScanFindings: &ecrtypes.ImageScanFindings{FindingSeverityCounts: map[string]int32{"CRITICAL": 1, "LOW": 1},
			Findings: []ecrtypes.ImageScanFinding{{Name: aws.String("CVE-LOW"), Severity: ecrtypes.FindingSeverityLow}}},
		NextToken: aws.String("2"),
	}
	s := &scripted{answers: []any{first, errors.New("connection reset by peer")}}
	c := &handler.ScanCheck{Describer: s, Repository: "r", Region: "eu-west-1", Threshold: vulnscan.Critical}
	res, err := c.Check(context.Background(), handler.Job{ID: "j", Commit: cA})
	if err != nil || res.Passed {
		t.Fatalf("res %+v err %v, want a refusal", res, err)
	}
	contains(t, "message", res.Summary, "image r:aaaaaaa has 1 finding at or above CRITICAL",
		"(the worst named are from the first 1 page of findings; reading more failed: failed reading page 2: connection reset by peer)")
	if s.calls != 2 {
		t.Errorf("%d calls", s.calls)
	}
	// A threshold that is not one does not open the gate.
	c.Threshold = "high"
	if _, err := c.Check(context.Background(), handler.Job{ID: "j", Commit: cA}); err == nil || !strings.Contains(err.Error(), `threshold "high" is not one of`) {
		t.Errorf("err = %v", err)
	}
}

// TestPackagedBinaryVulnerabilityGate: the deployed artifact reads the gate's variables
// as the construct sets them and refuses an image with a finding at the threshold; a bad
// value fails the job naming the variable.
func TestPackagedBinaryVulnerabilityGate(t *testing.T) {
	bin := guardBinary(t)
	for _, tc := range []struct {
		name, threshold string
		want            string
	}{
		{"refused at HIGH", "high", "image " + img + " has 1 finding at or above HIGH (0 CRITICAL, 1 HIGH), which this environment refuses (vulnerabilities.refuse: HIGH in the organisation file)"},
		{"misconfigured", "SEVERE", `the guard is misconfigured: guard configuration: VULNERABILITY_THRESHOLD="SEVERE": one of CRITICAL`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeAWS{Executions: history(10), ImageDigest: digest,
				Scan: &fakeaws.Scan{Status: "COMPLETE", Findings: []fakeaws.Finding{{ID: "CVE-2026-0001", Severity: "HIGH", Package: "zlib", Version: "1"}}}}
			awsSrv := newFakeAWS(t, fake)
			rt, rtSrv := newFakeRuntime(t, "req-0004", eventFor(testJobID, commitN(1)))
			env := append(guardEnv(rtSrv.URL, awsSrv.URL), "IMAGE_REPOSITORY="+testRepo, "IMAGE_REGISTRY_ID="+testRegistry,
				"IMAGE_REGION=us-east-1", "VULNERABILITY_THRESHOLD="+tc.threshold, "UNSCANNED_IMAGES=refuse")
			ans, _, logs := runGuard(t, bin, rt, env)
			if ans.Kind != "response" {
				t.Fatalf("answer %+v\n%s", ans, logs)
			}
			fd, _ := fake.last(t, "PutJobFailureResult").Body["failureDetails"].(map[string]any)
			msg, _ := fd["message"].(string)
			contains(t, "message", msg, tc.want)
		})
	}
}

// TestSummariesFitWithTheGate: the longest pass summary the three checks make stays within
// CodePipeline's limit, the scan's clause whole for an ordinary repository name.
func TestSummariesFitWithTheGate(t *testing.T) {
	fs := []fakeaws.Finding{}
	for i, sev := range []string{"HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED", "UNTRIAGED", "SOMETHING_NEW"} {
		for j := range 1000 + i {
			fs = append(fs, fakeaws.Finding{ID: fmt.Sprintf("CVE-%d-%d", i, j), Severity: sev})
		}
	}
	d := vulnGate{threshold: vulnscan.Critical, scan: &fakeaws.Scan{Status: "COMPLETE", Findings: fs}}.decide(t)
	clause := "scan COMPLETE: 0 CRITICAL, 1000 HIGH, 1001 MEDIUM, 1002 LOW, 1003 INFORMATIONAL, 1004 UNDEFINED, 1005 UNTRIAGED, 1006 SOMETHING_NEW (refusing CRITICAL)"
	if !d.passed || len(d.msg) > 250 {
		t.Fatalf("passed=%t, %d bytes: %q", d.passed, len(d.msg), d.msg)
	}
	// It is cut, marked, when it cannot fit: the outputs carry the whole counts.
	if !strings.HasSuffix(d.msg, "…") && !strings.Contains(d.msg, clause) {
		t.Errorf("summary %q neither holds %q nor is marked cut", d.msg, clause)
	}
	if c, err := vulnscan.ParseCounts(fmt.Sprint(d.vars["Vulnerabilities"])); err != nil || c["SOMETHING_NEW"] != 1006 || c.Total() != 7021 {
		t.Errorf("Vulnerabilities %v: %v %v", d.vars["Vulnerabilities"], c, err)
	}
}

// TestSeveritiesInAnyCase: a severity ECR might write in lower case is still ranked, in the
// counts and in the findings: "critical" must refuse like CRITICAL.
func TestSeveritiesInAnyCase(t *testing.T) {
	s := &scripted{answers: []any{&ecr.DescribeImageScanFindingsOutput{
		ImageScanStatus: &ecrtypes.ImageScanStatus{Status: ecrtypes.ScanStatusActive},
		ImageScanFindings: &ecrtypes.ImageScanFindings{FindingSeverityCounts: map[string]int32{"critical": 1},
			EnhancedFindings: []ecrtypes.EnhancedImageScanFinding{{Severity: aws.String("critical"), Title: aws.String("CVE-LC - pkg")}}},
	}}}
	c := &handler.ScanCheck{Describer: s, Repository: "r", Region: "eu-west-1", Threshold: vulnscan.Critical}
	res, err := c.Check(context.Background(), handler.Job{ID: "j", Commit: cA})
	if err != nil || res.Passed {
		t.Fatalf("res %+v err %v, want a refusal", res, err)
	}
	contains(t, "message", res.Summary, "has 1 finding at or above CRITICAL (1 CRITICAL)", "Worst: CVE-LC - pkg (CRITICAL).")
}

// BenchmarkScanGate measures one warm decision with the vulnerability gate (upstream on the
// first page, image, scan), real SDK clients against the fake over loopback HTTP: a pass
// (one page of findings: the counts decide), and a refusal whose worst finding is on the
// last page the bound reads (DefaultScanPages pages of 100 findings).
func BenchmarkScanGate(b *testing.B) {
	for _, tc := range []struct {
		name string
		scan *fakeaws.Scan
		pass bool
	}{
		{"pass", &fakeaws.Scan{Status: "COMPLETE", Findings: many(450, nil)}, true},
		{"refuse/page-bound", &fakeaws.Scan{Status: "COMPLETE", Findings: many(600, map[int]fakeaws.Finding{450: {ID: "CVE-X", Severity: "CRITICAL"}})}, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			fake := &fakeAWS{Executions: history(10), ImageDigest: digest, Scan: tc.scan}
			srv := newFakeAWS(b, fake)
			h := newSDKHandler(srv.URL, func(c *handler.Config) { withImage(c); c.VulnerabilityThreshold = vulnscan.Critical })
			ev, ctx := eventFor(testJobID, commitN(1)), context.Background()
			if err := h.Handle(ctx, ev); err != nil { // warm up: AssumeRole, connections
				b.Fatal(err)
			}
			fake.srv.ForgetCalls()
			ds := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if err := h.Handle(ctx, ev); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(start))
			}
			b.StopTimer()
			op := map[bool]string{true: "PutJobSuccessResult", false: "PutJobFailureResult"}[tc.pass]
			if n := countOp(fake, op); n != b.N {
				b.Fatalf("%d %s for %d decisions: %v", n, op, b.N, fake.ops())
			}
			b.ReportMetric(float64(countOp(fake, "DescribeImageScanFindings"))/float64(b.N), "scan-calls/op")
			reportP50(b, ds)
		})
	}
}
