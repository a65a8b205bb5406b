package org

import (
	_ "embed"
	"fmt"
	"os"
	"reflect"
	"sort"
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

// Parse decodes YAML strictly and normalizes the result; name (the file's) prefixes every
// message.
//
// Every problem of the file is reported at once, in file order, in one *ValidationError:
// what does not decode (an unknown field, so a typo is never silently ignored; a list where a
// string belongs; approval: yes, or "true" in quotes, for a boolean) as well as what does not
// validate, each with its line. A field that did not decode is reported once, not again as
// missing. A file that cannot be read field by field at all (empty, not YAML, more than one
// document, a list at the top) is one plain error.
func Parse(data []byte, name string) (Organization, error) {
	root, err := document(data)
	if err != nil {
		return Organization{}, fmt.Errorf("%s: %w", name, err)
	}
	d := newDecoder(root)
	var o Organization
	d.decode(root, "", reflect.ValueOf(&o).Elem())
	problems := d.problems
	n := o.withDefaults()
	if !d.exhausted() {
		problems = append(problems, n.validate(d.undecoded)...)
	}
	if len(problems) == 0 {
		return n, nil
	}
	for i := range problems {
		if problems[i].Line == 0 {
			problems[i].Line = d.lineOf(problems[i].Field)
		}
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Line < problems[j].Line })
	return Organization{}, fmt.Errorf("%s: %w", name, &ValidationError{Problems: problems})
}
