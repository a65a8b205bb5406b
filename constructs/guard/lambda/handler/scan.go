package handler

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/platform-eng/pathtoprod/constructs/guard/gate"
	"github.com/platform-eng/pathtoprod/constructs/vulnscan"
)

// ScanDescriber is the one ECR call the scan check needs.
type ScanDescriber interface {
	DescribeImageScanFindings(ctx context.Context, in *ecr.DescribeImageScanFindingsInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImageScanFindingsOutput, error)
}

var _ ScanDescriber = (*ecr.Client)(nil)

// ScanCheck is the vulnerability gate: it reads the registry's scan of the commit's image
// and refuses it when the scan counts findings at or above Threshold, or when the scan has
// no usable result and Unscanned is Refuse. It runs after the image check and asks for the
// digest that check resolved (the tag, the full commit id, when there is none: tags are
// immutable, so it is the same image). It calls ECR with the guard's own credentials, as
// the image check does: the registry's repository policy grants it DescribeImageScanFindings.
//
// The decision rests on the scan's severity counts (findingSeverityCounts, which basic and
// enhanced scanning both give on every page). Findings are read only to name the worst
// few in a refusal, page by page, until the worst are found or MaxPages are read.
type ScanCheck struct {
	// Describer reads the registry.
	Describer ScanDescriber
	// Repository is the ECR repository name, e.g. "payments/checkout".
	Repository string
	// RegistryID is the registry's account id. Default: - the guard's own account.
	RegistryID string
	// Region is the registry's region (used in messages).
	Region string
	// Threshold is the least severity that refuses the image; vulnscan.None refuses
	// nothing (the counts are reported, a missing scan too). Required.
	Threshold vulnscan.Threshold
	// Unscanned is what to do with an image whose scan has no usable result.
	// Default: vulnscan.Refuse.
	Unscanned vulnscan.Unscanned
	// MaxPages bounds the pages of findings read to name the worst ones. Default: DefaultScanPages.
	MaxPages int
	// PageSize is the findings asked for per page (ECR allows 1 to 1000).
	// Default: DefaultScanPageSize.
	PageSize int32
}

// Paging of the findings a refusal names.
const (
	// DefaultScanPages bounds the findings read after the first page: the decision needs
	// only the first page's counts, so this only bounds the time spent naming findings.
	DefaultScanPages = 5
	// DefaultScanPageSize is ECR's own default page size.
	DefaultScanPageSize = 100
	// maxNamed is how many findings a refusal names.
	maxNamed = 3
	// pageMargin is the time kept, before the guard's own deadline, when a further page of
	// findings is read: a slow page must not turn a decided refusal into "out of time".
	pageMargin = time.Second
)

// Name is "scan".
func (c *ScanCheck) Name() string { return "scan" }

// Check reads the scan of job's image; on a pass it outputs Vulnerabilities
// (vulnscan.Counts.String, or vulnscan.NotScanned) and ScanStatus (ECR's status, or
// vulnscan.ScanNotFound).
func (c *ScanCheck) Check(ctx context.Context, job Job) (Result, error) {
	if t, err := vulnscan.ParseThreshold(string(c.Threshold)); err != nil || t != c.Threshold {
		// Rank 0 would refuse nothing: a threshold that is not one must not open the gate.
		return Result{}, &CheckError{Message: fmt.Sprintf("the scan check's threshold %q is not %s", c.Threshold, vulnscan.AllowedThresholds)}
	}
	img := c.image(job)
	out, err := c.Describer.DescribeImageScanFindings(ctx, c.input(job, nil))
	if err != nil {
		switch code := errorCode(err); {
		case ctx.Err() != nil:
		case code == "ScanNotFoundException":
			return c.unscanned(img, vulnscan.ScanNotFound, "")
		case code == "ImageNotFoundException":
			return Result{Summary: fmt.Sprintf("commit %s's image %s is gone from ECR repository %s: the image check found it, reading its scan did not (ImageNotFoundException); retry the Guard stage",
				gate.Short(job.Commit), img.name, c.where())}, nil
		case code == "RepositoryNotFoundException":
			return Result{}, &CheckError{Err: err, Message: fmt.Sprintf(
				"ECR repository %s does not exist (region %s); check %s, %s and %s",
				c.where(), c.Region, EnvImageRepository, EnvImageRegistryID, EnvImageRegion)}
		case code == "AccessDeniedException":
			return Result{}, &CheckError{Err: err, Message: fmt.Sprintf(
				"the guard may not read the vulnerability scan of image %s in ECR repository %s: access denied (%s: %s); "+
					"the guard's role and the registry's repository policy must both grant ecr:DescribeImageScanFindings "+
					"(and, with enhanced scanning, the guard's role inspector2:ListFindings)",
				img.name, c.where(), code, apiMessage(err))}
		}
		return Result{}, explain(ctx, "reading the vulnerability scan of image "+img.name, err)
	}
	// An answer without a status is not a usable result either: the default case of why.
	status, description := "UNKNOWN", ""
	if s := out.ImageScanStatus; s != nil {
		status, description = cmp.Or(string(s.Status), status), aws.ToString(s.Description)
	}
	if status != string(types.ScanStatusComplete) && status != string(types.ScanStatusActive) {
		return c.unscanned(img, status, description)
	}

	counts, read, err := c.counts(ctx, job, img, out)
	if err != nil {
		return Result{}, err
	}
	refused := counts.AtOrAbove(c.Threshold)
	if refused == 0 {
		return Result{
			Passed:  true,
			Summary: fmt.Sprintf("scan %s: %s (refusing %s)", status, counts.Summary(), vulnscan.Refuses(c.Threshold)),
			Outputs: map[string]string{vulnscan.OutputVulnerabilities: counts.String(), vulnscan.OutputScanStatus: status},
		}, nil
	}
	named, note := c.worst(ctx, job, counts, read)
	above := vulnscan.Counts{}
	for s, n := range counts {
		if s.Rank() >= c.Threshold.Rank() {
			above[s] = n
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "image %s has %d %s at or above %s (%s), which this environment refuses (vulnerabilities.refuse: %s in the organisation file); scan %s: %s.",
		img.name, refused, plural(refused, "finding", "findings"), c.Threshold, above.Summary(), c.Threshold, status, counts.Summary())
	if len(named) > 0 {
		b.WriteString(" Worst: ")
		for i, f := range named {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(f.String())
		}
		b.WriteString(".")
	}
	if note != "" {
		b.WriteString(" (" + note + ")")
	}
	b.WriteString(" Fix them in a new build pushed to the first environment (update the affected packages or the base image), " +
		"or change vulnerabilities.refuse for this environment, deliberately.")
	return Result{Summary: b.String()}, nil
}

// imageRef is how the check names the image: to ECR (ref) and to a person (name).
type imageRef struct {
	digest string // "" when the image check gave none: then the tag is asked for
	ref    string // "imageDigest=sha256:…" or "imageTag=<commit>", as the AWS CLI takes it
	name   string // "payments/checkout@sha256:0123456789ab…" or "payments/checkout:abc1234"
}

func (c *ScanCheck) image(job Job) imageRef {
	if d := job.Verified["ImageDigest"]; strings.HasPrefix(d, "sha256:") {
		return imageRef{digest: d, ref: "imageDigest=" + d, name: c.Repository + "@" + limit(d, len("sha256:")+12+len("…"))}
	}
	return imageRef{ref: "imageTag=" + job.Commit, name: c.Repository + ":" + gate.Short(job.Commit)}
}

func (c *ScanCheck) input(job Job, token *string) *ecr.DescribeImageScanFindingsInput {
	in := &ecr.DescribeImageScanFindingsInput{
		RepositoryName: aws.String(c.Repository),
		ImageId:        &types.ImageIdentifier{},
		MaxResults:     aws.Int32(cmp.Or(c.PageSize, DefaultScanPageSize)),
		NextToken:      token,
	}
	if img := c.image(job); img.digest != "" {
		in.ImageId.ImageDigest = aws.String(img.digest)
	} else {
		in.ImageId.ImageTag = aws.String(job.Commit)
	}
	if c.RegistryID != "" {
		in.RegistryId = aws.String(c.RegistryID)
	}
	return in
}

func (c *ScanCheck) where() string {
	if c.RegistryID != "" {
		return fmt.Sprintf("%s of registry %s", c.Repository, c.RegistryID)
	}
	return c.Repository
}

// unscanned decides for an image whose scan has no usable result: status is ECR's, or
// vulnscan.ScanNotFound. Refused only where something is refused and Unscanned is Refuse.
func (c *ScanCheck) unscanned(img imageRef, status, description string) (Result, error) {
	outputs := map[string]string{vulnscan.OutputVulnerabilities: vulnscan.NotScanned, vulnscan.OutputScanStatus: status}
	switch {
	case c.Threshold.Rank() == 0:
		return Result{Passed: true, Outputs: outputs,
			Summary: fmt.Sprintf("scan %s: image NOT checked for vulnerabilities (refusing nothing)", status)}, nil
	case c.Unscanned == vulnscan.Allow:
		return Result{Passed: true, Outputs: outputs,
			Summary: fmt.Sprintf("scan %s: image NOT checked for vulnerabilities (allowed by vulnerabilities.unscanned)", status)}, nil
	}
	return Result{Summary: fmt.Sprintf("image %s has no usable vulnerability scan: %s. This environment refuses an image without one "+
		"(vulnerabilities.unscanned: refuse in the organisation file, the default); to promote such images deliberately, set it to allow.",
		img.name, c.why(img, status, description))}, nil
}

// why says what a scan status means and what to do about it.
func (c *ScanCheck) why(img imageRef, status, description string) string {
	ecrSays := ""
	if description != "" {
		ecrSays = fmt.Sprintf(" (ECR: %s)", limit(description, 300))
	}
	registry := ""
	if c.RegistryID != "" {
		registry = " --registry-id " + c.RegistryID
	}
	startScan := fmt.Sprintf("aws ecr start-image-scan%s --repository-name %s --image-id %s --region %s", registry, c.Repository, img.ref, c.Region)
	switch types.ScanStatus(status) {
	case types.ScanStatusInProgress:
		return "its scan is IN_PROGRESS" + ecrSays + "; retry the Guard stage in a few minutes, once the scan is COMPLETE"
	case types.ScanStatusPending:
		return "its scan is PENDING (queued, not started)" + ecrSays + "; retry the Guard stage in a few minutes"
	case types.ScanStatusFailed:
		if ecrSays == "" {
			ecrSays = " (ECR gave no reason)"
		}
		return "its scan FAILED" + ecrSays + "; with basic scanning, scan it again (" + startScan +
			", allowed once a day per image) and retry the Guard stage once the scan is COMPLETE"
	case types.ScanStatusUnsupportedImage:
		return "ECR cannot scan it, UNSUPPORTED_IMAGE" + ecrSays + ": the scanner does not support the image's operating system " +
			"or package manager (an image built FROM scratch, for instance); if the registry uses basic scanning, enhanced scanning " +
			"(registry.scanning: enhanced in the organisation file) covers more operating systems and language packages"
	case types.ScanStatusScanEligibilityExpired:
		return "Amazon Inspector no longer scans it, SCAN_ELIGIBILITY_EXPIRED" + ecrSays + ": enhanced scanning rescans an image only for " +
			"the re-scan duration set in Amazon Inspector's ECR settings; promote a newer build, or have that duration lengthened"
	case types.ScanStatusFindingsUnavailable:
		return "its findings are FINDINGS_UNAVAILABLE" + ecrSays + "; retry the Guard stage later, and if it persists have the " +
			"image's coverage checked in Amazon Inspector"
	case types.ScanStatusLimitExceeded:
		return "ECR's scan limit was exceeded for it, LIMIT_EXCEEDED" + ecrSays + "; retry the Guard stage later"
	case types.ScanStatusImageArchived:
		return "it is archived, IMAGE_ARCHIVED" + ecrSays + ", and ECR does not scan archived images; restore it in ECR and " +
			"retry the Guard stage once it has been scanned"
	case vulnscan.ScanNotFound:
		return "ECR has no scan of it (ScanNotFoundException); with basic scanning, the repository must scan on push " +
			"(start one: " + startScan + "); with enhanced scanning, the registry's scan filters must cover the repository, and " +
			"ECR does not return Amazon Inspector's findings to another account (https://github.com/aws/containers-roadmap/issues/2541)"
	}
	return fmt.Sprintf("its scan has status %s%s, which this guard does not know as a usable result (COMPLETE or ACTIVE); "+
		"look at the scan in the ECR console", status, ecrSays)
}

// pages is the findings of a scan read so far: the pages in order, the last one's next
// token saying whether there are more.
type pages struct {
	read  []finding
	last  *ecr.DescribeImageScanFindingsOutput
	count int
}

func (p *pages) add(out *ecr.DescribeImageScanFindingsOutput) {
	p.read = append(p.read, findingsOf(out)...)
	p.last = out
	p.count++
}

func (p *pages) more() bool { return aws.ToString(p.last.NextToken) != "" }

// next reads the page after the last one.
func (c *ScanCheck) next(ctx context.Context, job Job, p *pages) error {
	out, err := c.Describer.DescribeImageScanFindings(ctx, c.input(job, p.last.NextToken))
	if err != nil {
		return err
	}
	p.add(out)
	return nil
}

// counts are the scan's findings by severity: findingSeverityCounts. Without it (a shape
// ECR is not known to answer), the findings are counted, every page of them, and a scan
// with more than MaxPages of them cannot be judged. It returns the pages it read.
func (c *ScanCheck) counts(ctx context.Context, job Job, img imageRef, out *ecr.DescribeImageScanFindingsOutput) (vulnscan.Counts, *pages, error) {
	read := &pages{}
	read.add(out)
	counts := vulnscan.Counts{}
	if f := out.ImageScanFindings; f != nil && f.FindingSeverityCounts != nil {
		for s, n := range f.FindingSeverityCounts {
			// ECR writes severities in capitals; a lower-case one must not go unranked.
			counts[vulnscan.Severity(strings.ToUpper(s))] += int(n)
		}
		return counts, read, nil
	}
	for read.more() {
		if read.count >= c.maxPages() {
			return nil, nil, &CheckError{Message: fmt.Sprintf("ECR gave no severity counts for the scan of image %s, and it has more findings than the guard reads "+
				"(%d pages of %d); it cannot be judged", img.name, read.count, cmp.Or(c.PageSize, DefaultScanPageSize))}
		}
		if err := c.next(ctx, job, read); err != nil {
			return nil, nil, explain(ctx, "reading the vulnerability scan of image "+img.name, err)
		}
	}
	for _, f := range read.read {
		counts[f.severity]++
	}
	return counts, read, nil
}

func (c *ScanCheck) maxPages() int { return cmp.Or(c.MaxPages, DefaultScanPages) }

// finding is one finding as a refusal names it.
type finding struct {
	id, pkg  string
	severity vulnscan.Severity
}

// String is e.g. "CVE-2026-0001 (CRITICAL) in openssl 3.0.1".
func (f finding) String() string {
	s := fmt.Sprintf("%s (%s)", f.id, f.severity)
	if f.pkg != "" {
		s += " in " + f.pkg
	}
	return s
}

// findingsOf reads one page's findings, basic (findings) and enhanced (enhancedFindings;
// a SUPPRESSED or CLOSED one is left out: it is not what the image is refused for).
func findingsOf(out *ecr.DescribeImageScanFindingsOutput) []finding {
	f := out.ImageScanFindings
	if f == nil {
		return nil
	}
	var fs []finding
	for _, x := range f.Findings {
		var name, version string
		for _, a := range x.Attributes {
			switch aws.ToString(a.Key) {
			case "package_name":
				name = aws.ToString(a.Value)
			case "package_version":
				version = aws.ToString(a.Value)
			}
		}
		fs = append(fs, finding{id: aws.ToString(x.Name), severity: vulnscan.Severity(strings.ToUpper(string(x.Severity))),
			pkg: strings.TrimSpace(name + " " + version)})
	}
	for _, x := range f.EnhancedFindings {
		if st := aws.ToString(x.Status); st == "SUPPRESSED" || st == "CLOSED" {
			continue
		}
		id, pkg := aws.ToString(x.Title), ""
		if d := x.PackageVulnerabilityDetails; d != nil {
			id = cmp.Or(aws.ToString(d.VulnerabilityId), id)
			if len(d.VulnerablePackages) > 0 {
				p := d.VulnerablePackages[0]
				pkg = strings.TrimSpace(aws.ToString(p.Name) + " " + aws.ToString(p.Version))
				if more := len(d.VulnerablePackages) - 1; more > 0 {
					pkg += fmt.Sprintf(" and %d more %s", more, plural(more, "package", "packages"))
				}
			}
		}
		fs = append(fs, finding{id: id, severity: vulnscan.Severity(strings.ToUpper(aws.ToString(x.Severity))), pkg: pkg})
	}
	return fs
}

// worst names up to maxNamed findings at or above the threshold, most severe first, then
// by id. Beyond the pages already read it reads only until the worst the counts promise
// are found (three CRITICALs end it at once), at most MaxPages in all, and never into the
// guard's last pageMargin: the refusal is decided already, so a page that fails or is too
// slow only shortens the list, and note says so.
func (c *ScanCheck) worst(ctx context.Context, job Job, counts vulnscan.Counts, read *pages) (named []finding, note string) {
	// want is the severities of the worst maxNamed findings, as the counts say them.
	var want []vulnscan.Severity
	for _, s := range vulnscan.Ranked {
		for range min(counts[s], maxNamed-len(want)) {
			if s.Rank() >= c.Threshold.Rank() {
				want = append(want, s)
			}
		}
	}
	pick := func() []finding {
		var have []finding
		for _, f := range read.read {
			if f.severity.Rank() >= c.Threshold.Rank() {
				have = append(have, f)
			}
		}
		slices.SortFunc(have, func(a, b finding) int {
			return cmp.Or(b.severity.Rank()-a.severity.Rank(), strings.Compare(a.id, b.id))
		})
		return have[:min(len(have), maxNamed)]
	}
	found := func(have []finding) bool {
		if len(have) < len(want) {
			return false
		}
		for i := range want {
			if have[i].severity != want[i] {
				return false
			}
		}
		return true
	}
	pagesOf := func(n int) string { return fmt.Sprintf("the first %d %s of findings", n, plural(n, "page", "pages")) }
	for {
		have := pick()
		if found(have) || !read.more() {
			return have, ""
		}
		if read.count >= c.maxPages() {
			return have, "the worst named are from " + pagesOf(read.count) + "; see the scan in the ECR console for all"
		}
		pctx, cancel, ok := pageContext(ctx)
		if !ok {
			return have, "the worst named are from " + pagesOf(read.count) + ": too little time was left to read more"
		}
		err := c.next(pctx, job, read)
		if err != nil {
			note = "the worst named are from " + pagesOf(read.count) + "; reading more failed: " +
				limit(explain(pctx, fmt.Sprintf("reading page %d", read.count+1), err).Message, 300)
		}
		cancel()
		if err != nil {
			return have, note
		}
	}
}

// pageContext is the context for one more page of findings: it ends pageMargin before
// ctx does, and is not given when less than twice that is left.
func pageContext(ctx context.Context) (context.Context, context.CancelFunc, bool) {
	deadline, ok := ctx.Deadline()
	if !ok {
		c, cancel := context.WithTimeout(ctx, DefaultBudget)
		return c, cancel, true
	}
	if time.Until(deadline) < 2*pageMargin {
		return nil, nil, false
	}
	c, cancel := context.WithDeadline(ctx, deadline.Add(-pageMargin))
	return c, cancel, true
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
