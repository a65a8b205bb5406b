package fakeaws

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// ecrClient is the real ECR client, pointed at the fake, without retries.
func ecrClient(t *testing.T, s *Server) *ecr.Client {
	return ecr.New(ecr.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srvURL(t, s)),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "s", ""), Retryer: aws.NopRetryer{}})
}

const scanDigest = "sha256:" + "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12"

func scanInput(tag, digest string) *ecr.DescribeImageScanFindingsInput {
	in := &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("team/svc"), RegistryId: aws.String("111111111111"), ImageId: &ecrtypes.ImageIdentifier{}}
	if tag != "" {
		in.ImageId.ImageTag = aws.String(tag)
	}
	if digest != "" {
		in.ImageId.ImageDigest = aws.String(digest)
	}
	return in
}

// TestScanFindingsBasicShape: a basic scan is read by the SDK into findings with their
// name, severity and package attributes, and counts by severity.
func TestScanFindingsBasicShape(t *testing.T) {
	s := New()
	s.SetImage("team/svc", "c1", scanDigest)
	s.SetScan("team/svc", "c1", &Scan{Status: "COMPLETE", Findings: []Finding{
		{ID: "CVE-2026-0002", Severity: "HIGH", Package: "openssl", Version: "3.0.1"},
		{ID: "CVE-2026-0001", Severity: "HIGH", Package: "zlib", Version: "1.2.11"},
		{ID: "CVE-2026-0003", Severity: "LOW", Package: "bash", Version: "5.1"},
	}})
	e := ecrClient(t, s)

	for _, in := range []*ecr.DescribeImageScanFindingsInput{scanInput("c1", ""), scanInput("", scanDigest)} {
		out, err := e.DescribeImageScanFindings(ctx(t), in)
		if err != nil {
			t.Fatal(err)
		}
		if out.ImageScanStatus.Status != ecrtypes.ScanStatusComplete || aws.ToString(out.ImageId.ImageDigest) != scanDigest ||
			aws.ToString(out.ImageId.ImageTag) != aws.ToString(in.ImageId.ImageTag) || aws.ToString(out.RegistryId) != "111111111111" {
			t.Errorf("status %+v, image %+v, registry %s", out.ImageScanStatus, out.ImageId, aws.ToString(out.RegistryId))
		}
		f := out.ImageScanFindings
		if got := fmt.Sprint(f.FindingSeverityCounts); got != "map[HIGH:2 LOW:1]" {
			t.Errorf("counts %s, want the findings counted", got)
		}
		if len(f.Findings) != 3 || len(f.EnhancedFindings) != 0 || f.ImageScanCompletedAt == nil {
			t.Fatalf("findings %+v", f)
		}
		attrs := map[string]string{}
		for _, a := range f.Findings[0].Attributes {
			attrs[aws.ToString(a.Key)] = aws.ToString(a.Value)
		}
		if aws.ToString(f.Findings[0].Name) != "CVE-2026-0002" || f.Findings[0].Severity != ecrtypes.FindingSeverityHigh ||
			attrs["package_name"] != "openssl" || attrs["package_version"] != "3.0.1" {
			t.Errorf("first finding %+v, attributes %v", f.Findings[0], attrs)
		}
	}
}

// TestAScanBelongsToTheImage: two tags of one digest share its scan; SetScan of an image
// that does not exist is a mistake in the test, and panics.
func TestAScanBelongsToTheImage(t *testing.T) {
	s := New()
	s.SetImage("team/svc", "c1", scanDigest)
	s.SetImage("team/svc", "latest", scanDigest)
	s.SetScan("team/svc", "c1", &Scan{Status: "IN_PROGRESS"})
	out, err := ecrClient(t, s).DescribeImageScanFindings(ctx(t), scanInput("latest", ""))
	if err != nil || out.ImageScanStatus.Status != ecrtypes.ScanStatusInProgress {
		t.Errorf("the other tag's scan: %+v, %v", out, err)
	}
	defer func() {
		if recover() == nil {
			t.Error("SetScan of a missing image did not panic")
		}
	}()
	s.SetScan("team/svc", "c9", &Scan{Status: "COMPLETE"})
}

// TestScanFindingsEnhancedShape: an enhanced scan answers enhancedFindings with the
// vulnerability id and the vulnerable packages, UNTRIAGED counted like any severity.
func TestScanFindingsEnhancedShape(t *testing.T) {
	s := New()
	s.SetImage("team/svc", "c1", scanDigest)
	s.SetScan("team/svc", "c1", &Scan{Status: "ACTIVE", Description: "Continuous scan is selected for image.", Enhanced: true, Findings: []Finding{
		{ID: "CVE-2026-1000", Severity: "CRITICAL", Package: "log4j-core", Version: "2.14.1"},
		{ID: "GHSA-xxxx", Severity: "UNTRIAGED", Package: "left-pad", Version: "1.0.0", Status: "SUPPRESSED"},
	}})
	out, err := ecrClient(t, s).DescribeImageScanFindings(ctx(t), scanInput("c1", ""))
	if err != nil {
		t.Fatal(err)
	}
	f := out.ImageScanFindings
	if out.ImageScanStatus.Status != ecrtypes.ScanStatusActive || aws.ToString(out.ImageScanStatus.Description) != "Continuous scan is selected for image." ||
		len(f.Findings) != 0 || len(f.EnhancedFindings) != 2 || fmt.Sprint(f.FindingSeverityCounts) != "map[CRITICAL:1 UNTRIAGED:1]" {
		t.Fatalf("answer %+v / %+v", out.ImageScanStatus, f)
	}
	e := f.EnhancedFindings[0]
	d := e.PackageVulnerabilityDetails
	if aws.ToString(e.Severity) != "CRITICAL" || aws.ToString(e.Status) != "ACTIVE" || aws.ToString(d.VulnerabilityId) != "CVE-2026-1000" ||
		len(d.VulnerablePackages) != 1 || aws.ToString(d.VulnerablePackages[0].Name) != "log4j-core" || aws.ToString(d.VulnerablePackages[0].Version) != "2.14.1" {
		t.Errorf("enhanced finding %+v, details %+v", e, d)
	}
	if aws.ToString(f.EnhancedFindings[1].Status) != "SUPPRESSED" {
		t.Errorf("second finding's status %q, want SUPPRESSED", aws.ToString(f.EnhancedFindings[1].Status))
	}
}

// TestScanFindingsPages: the SDK's paginator reads every finding once, in order, in pages
// of maxResults (100 without it); counts are on every page; a bad token or size is refused.
func TestScanFindingsPages(t *testing.T) {
	s := New()
	s.SetImage("team/svc", "c1", scanDigest)
	var fs []Finding
	for i := range 250 {
		fs = append(fs, Finding{ID: fmt.Sprintf("CVE-2026-%04d", i), Severity: "MEDIUM", Package: "p", Version: "1"})
	}
	s.SetScan("team/svc", "c1", &Scan{Status: "COMPLETE", Findings: fs, Counts: map[string]int{"MEDIUM": 250, "CRITICAL": 0}})
	e := ecrClient(t, s)

	for _, tc := range []struct {
		limit int32
		pages []int
	}{{0, []int{100, 100, 50}}, {120, []int{120, 120, 10}}, {1000, []int{250}}} {
		var ids []string
		var sizes []int
		p := ecr.NewDescribeImageScanFindingsPaginator(e, scanInput("c1", ""), func(o *ecr.DescribeImageScanFindingsPaginatorOptions) { o.Limit = tc.limit })
		for p.HasMorePages() {
			page, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(page.ImageScanFindings.Findings))
			if page.ImageScanFindings.FindingSeverityCounts["MEDIUM"] != 250 {
				t.Errorf("page %d counts %v", len(sizes), page.ImageScanFindings.FindingSeverityCounts)
			}
			for _, f := range page.ImageScanFindings.Findings {
				ids = append(ids, aws.ToString(f.Name))
			}
		}
		if !slices.Equal(sizes, tc.pages) || len(ids) != 250 || ids[0] != "CVE-2026-0000" || ids[249] != "CVE-2026-0249" {
			t.Errorf("limit %d: pages %v (want %v), %d findings", tc.limit, sizes, tc.pages, len(ids))
		}
		for i, id := range ids {
			if id != fmt.Sprintf("CVE-2026-%04d", i) {
				t.Fatalf("limit %d: finding %d is %s", tc.limit, i, id)
			}
		}
	}
	var ipe *ecrtypes.InvalidParameterException
	bad := scanInput("c1", "")
	bad.NextToken = aws.String("nonsense")
	if _, err := e.DescribeImageScanFindings(ctx(t), bad); !errors.As(err, &ipe) {
		t.Errorf("bad token: %v, want InvalidParameterException", err)
	}
	bad = scanInput("c1", "")
	bad.MaxResults = aws.Int32(1001)
	if _, err := e.DescribeImageScanFindings(ctx(t), bad); !errors.As(err, &ipe) {
		t.Errorf("maxResults 1001: %v, want InvalidParameterException", err)
	}
}

// TestScanStatesAndFaults: a scan without a usable result has a status and no findings;
// no scan, no image and no repository are ECR's errors; a planned fault (access denied)
// answers instead.
func TestScanStatesAndFaults(t *testing.T) {
	s := New()
	s.SetImage("team/svc", "c1", scanDigest)
	s.SetImage("team/svc", "c2", "sha256:"+strings.Repeat("2", 64))
	e := ecrClient(t, s)
	for _, st := range []string{"IN_PROGRESS", "PENDING", "FAILED", "UNSUPPORTED_IMAGE", "SCAN_ELIGIBILITY_EXPIRED", "FINDINGS_UNAVAILABLE", "LIMIT_EXCEEDED", "IMAGE_ARCHIVED", "SOMETHING_NEW"} {
		s.SetScan("team/svc", "c1", &Scan{Status: st, Description: "why: " + st, Findings: []Finding{{ID: "CVE-1", Severity: "CRITICAL"}}})
		out, err := e.DescribeImageScanFindings(ctx(t), scanInput("c1", ""))
		if err != nil || string(out.ImageScanStatus.Status) != st || aws.ToString(out.ImageScanStatus.Description) != "why: "+st || out.ImageScanFindings != nil {
			t.Errorf("%s: %+v, %v; want the status, its description and no findings", st, out, err)
		}
	}
	s.SetScan("team/svc", "c1", &Scan{Status: "COMPLETE", NoCounts: true, Findings: []Finding{{ID: "CVE-1", Severity: "CRITICAL"}}})
	if out, err := e.DescribeImageScanFindings(ctx(t), scanInput("c1", "")); err != nil || out.ImageScanFindings.FindingSeverityCounts != nil {
		t.Errorf("NoCounts: %+v, %v", out.ImageScanFindings, err)
	}

	var snf *ecrtypes.ScanNotFoundException
	if _, err := e.DescribeImageScanFindings(ctx(t), scanInput("c2", "")); !errors.As(err, &snf) || !strings.Contains(err.Error(), "Image scan does not exist for the image with '{imageDigest:'sha256:2222") {
		t.Errorf("no scan: %v, want ScanNotFoundException", err)
	}
	s.SetScan("team/svc", "c1", nil)
	if _, err := e.DescribeImageScanFindings(ctx(t), scanInput("c1", "")); !errors.As(err, &snf) {
		t.Errorf("scan removed: %v, want ScanNotFoundException", err)
	}
	var inf *ecrtypes.ImageNotFoundException
	for _, in := range []*ecr.DescribeImageScanFindingsInput{scanInput("c9", ""), scanInput("", "sha256:"+strings.Repeat("9", 64)), scanInput("c1", "sha256:"+strings.Repeat("2", 64))} {
		if _, err := e.DescribeImageScanFindings(ctx(t), in); !errors.As(err, &inf) {
			t.Errorf("%+v: %v, want ImageNotFoundException", in.ImageId, err)
		}
	}
	var rnf *ecrtypes.RepositoryNotFoundException
	other := scanInput("c1", "")
	other.RepositoryName = aws.String("team/other")
	if _, err := e.DescribeImageScanFindings(ctx(t), other); !errors.As(err, &rnf) {
		t.Errorf("no repository: %v, want RepositoryNotFoundException", err)
	}
	s.Fail("DescribeImageScanFindings", Fault{400, "AccessDeniedException", "not authorized to perform: inspector2:ListFindings"}, -1)
	if _, err := e.DescribeImageScanFindings(ctx(t), scanInput("c1", "")); err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Errorf("denied: %v, want AccessDeniedException", err)
	}
	if c, ok := s.Last("DescribeImageScanFindings"); !ok || c.Input["registryId"] != "111111111111" || c.Input["repositoryName"] != "team/svc" {
		t.Errorf("recorded %+v", c)
	}
}
