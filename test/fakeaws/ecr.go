package fakeaws

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ImagePushedAt is the imagePushedAt every DescribeImages answer gives.
var ImagePushedAt = time.Date(2026, 11, 19, 9, 0, 0, 0, time.UTC)

// ScanCompletedAt is the imageScanCompletedAt of every scan with findings.
var ScanCompletedAt = time.Date(2026, 11, 19, 9, 5, 0, 0, time.UTC)

// Scan is what DescribeImageScanFindings answers for one image: the scan's status and,
// for a usable result (COMPLETE, ACTIVE), its findings.
type Scan struct {
	// Status is imageScanStatus.status: COMPLETE (basic), ACTIVE (enhanced), IN_PROGRESS,
	// PENDING, FAILED, UNSUPPORTED_IMAGE, ... any string is answered as given.
	Status string
	// Description is imageScanStatus.description, e.g. why a scan FAILED. Default: - none.
	Description string
	// Enhanced answers in enhanced scanning's shape (Amazon Inspector:
	// imageScanFindings.enhancedFindings) instead of basic scanning's (findings).
	Enhanced bool
	// Findings are the scan's findings, in the order the pages give them (ECR's order is
	// not by severity).
	Findings []Finding
	// Counts is findingSeverityCounts. Default: - the Findings counted by severity.
	Counts map[string]int
	// NoCounts leaves findingSeverityCounts out of the answer.
	NoCounts bool
}

// Finding is one vulnerability of a Scan.
type Finding struct {
	// ID is the vulnerability's id, e.g. CVE-2026-0001: a basic finding's name, an
	// enhanced one's packageVulnerabilityDetails.vulnerabilityId.
	ID string
	// Severity is CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNDEFINED or UNTRIAGED.
	Severity string
	// Package and Version are the vulnerable package: a basic finding's package_name and
	// package_version attributes, an enhanced one's first vulnerablePackages entry.
	Package, Version string
	// Status is an enhanced finding's status: ACTIVE, SUPPRESSED or CLOSED. Default: - ACTIVE.
	Status string
}

// SetScan sets what DescribeImageScanFindings answers for the image tagged tag in the
// repository, asked for by tag or by digest. A scan belongs to the image, not the tag:
// every tag of the same digest has it. SetImage must have made the image exist. nil
// removes the scan: ECR then answers ScanNotFoundException, as it does for an image never
// scanned. Default: - no scan.
func (s *Server) SetScan(repository, tag string, scan *Scan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	digest := s.images[repository+":"+tag]
	if digest == "" {
		panic(fmt.Sprintf("fakeaws: SetScan of %s:%s, an image SetImage did not make", repository, tag))
	}
	if s.scans == nil {
		s.scans = map[string]*Scan{}
	}
	if scan == nil {
		delete(s.scans, repository+"@"+digest)
		return
	}
	c := *scan
	c.Findings = slices.Clone(scan.Findings)
	s.scans[repository+"@"+digest] = &c
}

// ecr answers ECR's DescribeImages and DescribeImageScanFindings for one image, as the
// guard asks them.
func (s *Server) ecr(w http.ResponseWriter, c Call) {
	switch c.Op {
	case "DescribeImages":
		s.describeImages(w, c)
	case "DescribeImageScanFindings":
		s.describeImageScanFindings(w, c)
	default:
		writeError(w, http.StatusBadRequest, "InvalidActionException", "fakeaws does not implement "+c.Op)
	}
}

func (s *Server) describeImages(w http.ResponseWriter, c Call) {
	repo, _ := c.Input["repositoryName"].(string)
	tag := ""
	if ids, _ := c.Input["imageIds"].([]any); len(ids) == 1 {
		if id, ok := ids[0].(map[string]any); ok {
			tag, _ = id["imageTag"].(string)
		}
	}
	s.mu.Lock()
	exists, digest := s.repos[repo], s.images[repo+":"+tag]
	s.mu.Unlock()
	switch {
	case !exists:
		writeError(w, http.StatusBadRequest, "RepositoryNotFoundException",
			fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%v'", repo, c.Input["registryId"]))
	case digest == "":
		writeError(w, http.StatusBadRequest, "ImageNotFoundException",
			fmt.Sprintf("The image with imageId {imageDigest:'null', imageTag:'%s'} does not exist within the repository with name '%s'", tag, repo))
	default:
		writeJSON(w, map[string]any{"imageDetails": []map[string]any{{
			"registryId": c.Input["registryId"], "repositoryName": repo,
			"imageDigest": digest, "imageTags": []string{tag}, "imagePushedAt": epoch(ImagePushedAt),
		}}})
	}
}

// Paging of DescribeImageScanFindings, as ECR documents it: maxResults from 1 to 1000,
// 100 findings a page when it is not given.
const (
	scanPageDefault = 100
	scanPageMax     = 1000
)

// describeImageScanFindings answers one page of the image's scan findings. The next token
// is the offset of the next page's first finding.
func (s *Server) describeImageScanFindings(w http.ResponseWriter, c Call) {
	repo, _ := c.Input["repositoryName"].(string)
	id, _ := c.Input["imageId"].(map[string]any)
	tag, _ := id["imageTag"].(string)
	digest, _ := id["imageDigest"].(string)
	registry, _ := c.Input["registryId"].(string)
	if registry == "" {
		registry = "000000000000"
	}

	s.mu.Lock()
	exists := s.repos[repo]
	found := false
	if tag != "" {
		d := s.images[repo+":"+tag]
		if found = d != "" && (digest == "" || d == digest); found {
			digest = d
		}
	} else {
		for key, d := range s.images {
			if r, _, _ := strings.Cut(key, ":"); r == repo && d == digest { // names have no ':'
				found = true
				break
			}
		}
	}
	var scan *Scan
	if sc := s.scans[repo+"@"+digest]; sc != nil && found {
		cp := *sc
		scan = &cp
	}
	s.mu.Unlock()

	imageID := fmt.Sprintf("{imageDigest:'%s', imageTag:'%s'}", orNull(digest), orNull(tag))
	switch {
	case !exists:
		writeError(w, http.StatusBadRequest, "RepositoryNotFoundException",
			fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", repo, registry))
		return
	case !found:
		writeError(w, http.StatusBadRequest, "ImageNotFoundException",
			fmt.Sprintf("The image with imageId %s does not exist within the repository with name '%s' in the registry with id '%s'", imageID, repo, registry))
		return
	case scan == nil:
		writeError(w, http.StatusBadRequest, "ScanNotFoundException",
			fmt.Sprintf("Image scan does not exist for the image with '%s' in the repository with name '%s' in the registry with id '%s'", imageID, repo, registry))
		return
	}

	size := scanPageDefault
	if v, ok := c.Input["maxResults"].(float64); ok {
		if v < 1 || v > scanPageMax {
			writeError(w, http.StatusBadRequest, "InvalidParameterException",
				fmt.Sprintf("maxResults %v is not from 1 to %d", v, scanPageMax))
			return
		}
		size = int(v)
	}
	start := 0
	if token, _ := c.Input["nextToken"].(string); token != "" {
		v, err := strconv.Atoi(token)
		if err != nil || v < 0 || v > len(scan.Findings) {
			writeError(w, http.StatusBadRequest, "InvalidParameterException", "Invalid parameter at 'nextToken' failed to satisfy constraint: 'The next token is not valid'")
			return
		}
		start = v
	}

	status := map[string]any{"status": scan.Status}
	if scan.Description != "" {
		status["description"] = scan.Description
	}
	out := map[string]any{
		"registryId": registry, "repositoryName": repo,
		"imageId":         imageIdentifier(digest, tag),
		"imageScanStatus": status,
	}
	if scan.Status != "COMPLETE" && scan.Status != "ACTIVE" {
		writeJSON(w, out) // no findings while a scan has no usable result
		return
	}
	end := min(start+size, len(scan.Findings))
	findings := map[string]any{
		"imageScanCompletedAt": epoch(ScanCompletedAt), "vulnerabilitySourceUpdatedAt": epoch(ScanCompletedAt.Add(-time.Hour)),
	}
	if !scan.NoCounts {
		counts := scan.Counts
		if counts == nil {
			counts = map[string]int{}
			for _, f := range scan.Findings {
				counts[f.Severity]++
			}
		}
		findings["findingSeverityCounts"] = counts
	}
	page := []map[string]any{}
	for _, f := range scan.Findings[start:end] {
		if scan.Enhanced {
			page = append(page, enhancedFinding(f, registry, repo, digest))
		} else {
			page = append(page, basicFinding(f))
		}
	}
	if scan.Enhanced {
		findings["enhancedFindings"] = page
	} else {
		findings["findings"] = page
	}
	out["imageScanFindings"] = findings
	if end < len(scan.Findings) {
		out["nextToken"] = strconv.Itoa(end)
	}
	writeJSON(w, out)
}

// basicFinding is f as basic scanning reports it.
func basicFinding(f Finding) map[string]any {
	return map[string]any{
		"name": f.ID, "severity": f.Severity, "description": "A vulnerability in " + f.Package + ".",
		"uri": "https://security-tracker.debian.org/tracker/" + f.ID,
		"attributes": []map[string]string{
			{"key": "package_version", "value": f.Version},
			{"key": "package_name", "value": f.Package},
			{"key": "CVSS2_SCORE", "value": "7.5"},
		},
	}
}

// enhancedFinding is f as Amazon Inspector reports it through ECR.
func enhancedFinding(f Finding, registry, repo, digest string) map[string]any {
	status := f.Status
	if status == "" {
		status = "ACTIVE"
	}
	return map[string]any{
		"awsAccountId": registry, "description": "A vulnerability in " + f.Package + ".",
		"findingArn":      "arn:aws:inspector2:eu-west-1:" + registry + ":finding/" + f.ID,
		"firstObservedAt": epoch(ScanCompletedAt), "lastObservedAt": epoch(ScanCompletedAt), "updatedAt": epoch(ScanCompletedAt),
		"score": 7.5, "severity": f.Severity, "status": status, "title": f.ID + " - " + f.Package, "type": "PACKAGE_VULNERABILITY",
		"packageVulnerabilityDetails": map[string]any{
			"source": "NVD", "sourceUrl": "https://nvd.nist.gov/vuln/detail/" + f.ID, "vendorSeverity": f.Severity,
			"vulnerabilityId": f.ID,
			"vulnerablePackages": []map[string]any{{
				"name": f.Package, "version": f.Version, "packageManager": "OS", "arch": "X86_64", "epoch": 0,
			}},
		},
		"resources": []map[string]any{{
			"id": "arn:aws:ecr:eu-west-1:" + registry + ":repository/" + repo + "/" + digest, "type": "AWS_ECR_CONTAINER_IMAGE",
		}},
	}
}

// imageIdentifier is the imageId of an answer: the digest, and the tag if one was asked for.
func imageIdentifier(digest, tag string) map[string]any {
	id := map[string]any{"imageDigest": digest}
	if tag != "" {
		id["imageTag"] = tag
	}
	return id
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}
