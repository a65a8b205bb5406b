package org

import (
	"regexp"
	"strings"
	"testing"
)

func TestSbomNamesDeriveFromTheRegistryAndThePath(t *testing.T) {
	o := Default()
	p, err := o.Path("payments", "checkout")
	if err != nil {
		t.Fatal(err)
	}
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for got, want := range map[string]string{
		o.Registry.SbomBucketName(): "pathtoprod-sbom-111111111111-eu-west-1",
		o.Registry.SbomBucketARN():  "arn:aws:s3:::pathtoprod-sbom-111111111111-eu-west-1",
		p.SbomPrefix():              "payments/checkout/",
		p.SbomKey(digest):           "payments/checkout/" + digest + ".spdx.json",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// S3 bucket names: 3-63 characters, lowercase letters, digits, dots and hyphens, starting and
// ending with a letter or digit. Every region name the loader accepts up to 34 characters
// gives one (the longest region today, ap-southeast-7, has 14).
func TestSbomBucketNameIsAValidBucketNameForEveryRegion(t *testing.T) {
	bucket := regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	long := "ap-" + strings.Repeat("s", 29) + "-1" // 34 characters
	for _, region := range []string{"eu-west-1", "ap-southeast-7", "us-gov-west-1", "us-isob-east-1", long} {
		if !IsRegion(region) {
			t.Fatalf("%q is not a region the loader accepts", region)
		}
		name := Registry{Account: "012345678901", Region: region}.SbomBucketName()
		if !bucket.MatchString(name) {
			t.Errorf("region %s: %q (%d characters) is not a valid S3 bucket name", region, name, len(name))
		}
	}
}
