package org_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/platform-eng/pathtoprod/constructs/org"
)

// TestTheREADMESampleErrorIsRealOutput: the error the README shows for a broken file is
// exactly what the platform app prints for testdata/readme-sample.yaml (the app prefixes
// "platform: " and names the file as given, here organization.yaml).
func TestTheREADMESampleErrorIsRealOutput(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```text\n(platform: organization.yaml: invalid organization:.*?)\n```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no ```text block starting with \"platform: organization.yaml: invalid organization:\"")
	}
	data, err := os.ReadFile("testdata/readme-sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = org.Parse(data, "organization.yaml")
	if err == nil {
		t.Fatal("testdata/readme-sample.yaml is valid; it must show the README's problems")
	}
	if got := "platform: " + err.Error(); got != string(m[1]) {
		t.Errorf("README shows:\n%s\n\nthe loader prints:\n%s", m[1], got)
	}
}
