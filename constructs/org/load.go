package org

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

//go:embed default-organization.yaml
var defaultOrganization []byte

// DefaultYAML is the example organisation the platform app synthesizes when it is given no
// file: two teams with placeholder account ids. Copy it to start your own.
func DefaultYAML() []byte { return append([]byte(nil), defaultOrganization...) }

// Default is the example organisation, parsed and normalized.
func Default() Organization {
	o, err := Parse(defaultOrganization, "default-organization.yaml")
	if err != nil {
		panic("the embedded default organization is invalid: " + err.Error())
	}
	return o
}

// Load reads, parses and normalizes the organisation file at path.
func Load(path string) (Organization, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Organization{}, fmt.Errorf("read organization file: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes YAML strictly (an unknown field is an error, so a typo is never silently
// ignored) and normalizes the result. name is used in messages.
func Parse(data []byte, name string) (Organization, error) {
	var o Organization
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&o); err != nil {
		if errors.Is(err, io.EOF) {
			return Organization{}, fmt.Errorf("%s: the file is empty; it needs registry and teams", name)
		}
		return Organization{}, fmt.Errorf("%s: %w", name, err)
	}
	n, err := o.Normalize()
	if err != nil {
		return Organization{}, fmt.Errorf("%s: %w", name, err)
	}
	return n, nil
}
