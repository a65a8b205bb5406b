package org

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// The YAML is decoded here rather than by yaml.v3's own decoder, which stops at the first
// problem and names it in Go and YAML types (org.Environment, !!str). This decoder walks the
// node tree with the field path, reports every problem as a Problem (field, value as written,
// what is allowed, line), and remembers which fields did not decode so that validation does
// not report them a second time as missing or wrong.

// maxNodes bounds the values one file may expand to: aliases can make a small file huge.
const maxNodes = 200_000

// document parses data as exactly one YAML document whose top level is a mapping. Anything
// else (an empty file, invalid YAML, a second document, a list at the top) cannot be read
// field by field at all, so it is one plain error rather than a Problem.
func document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty; it needs registry and teams")
		}
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, fmt.Errorf("more than one YAML document (after a '---', and that one is not valid YAML: %v); an organization file is one document", err)
	default:
		return nil, fmt.Errorf("line %d: a second YAML document starts here; an organization file is one document, remove this '---' and what follows it", next.Line)
	}
	root := doc.Content[0]
	if root.ShortTag() == "!!null" {
		return nil, errors.New("the file is empty; it needs registry and teams")
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: the top level is %s; an organization file is a mapping with registry and teams", root.Line, kindOf(root))
	}
	return root, nil
}

// decoder decodes a node tree into the model's types, strictly, collecting problems.
type decoder struct {
	problems []Problem
	// undecoded are the fields that were written but could not be decoded.
	undecoded map[string]bool
	// lines are the line of every field and list item written, by field path.
	lines map[string]int
	// expanding are the anchors being merged (<<: *anchor), to refuse a merge inside itself.
	expanding map[*yaml.Node]bool
	left      int // nodes left to decode before the file counts as too large
}

func newDecoder(root *yaml.Node) *decoder {
	return &decoder{
		undecoded: map[string]bool{},
		lines:     map[string]int{"": root.Line},
		expanding: map[*yaml.Node]bool{},
		left:      maxNodes,
	}
}

// problem reports a problem that leaves the model as it was (an unknown or repeated field).
func (d *decoder) problem(line int, field, value, allowed string) {
	d.problems = append(d.problems, Problem{Field: field, Value: value, Allowed: allowed, Line: line})
}

// fail reports a field that was written but could not be decoded.
func (d *decoder) fail(n *yaml.Node, field, allowed string) {
	d.problem(n.Line, field, render(n), allowed)
	d.undecoded[field] = true
}

// exhausted reports whether the file expanded to more than maxNodes values.
func (d *decoder) exhausted() bool { return d.left < 0 }

// spend counts one value read at field, and reports whether the file is still within
// maxNodes (the first time it is not, that is a problem).
func (d *decoder) spend(n *yaml.Node, field string) bool {
	if d.left--; d.left == -1 {
		d.problem(n.Line, field, "", fmt.Sprintf("a file of at most %d values once its aliases are expanded", maxNodes))
	}
	return d.left >= 0
}

// decode decodes n, found at field, into v.
func (d *decoder) decode(n *yaml.Node, field string, v reflect.Value) {
	if !d.spend(n, field) {
		return
	}
	if n.Kind == yaml.AliasNode {
		// An alias inside its own anchor ends: no type of the model contains itself, so the
		// decoding reaches a value of another kind and stops there.
		d.decode(n.Alias, field, v)
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // written empty: the same as not written
	}
	switch v.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.fail(n, field, describe(v.Type()))
			return
		}
		d.mapping(n, field, v)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, field, describe(v.Type()))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			f := fmt.Sprintf("%s[%d]", field, i)
			d.lines[f] = item.Line
			d.decode(item, f, s.Index(i))
		}
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decode(n, field, p.Elem())
		if !d.undecoded[field] {
			v.Set(p)
		}
	case reflect.String:
		// Any scalar is its text as written: account: 012345678901 keeps its leading zero.
		if n.Kind != yaml.ScalarNode {
			d.fail(n, field, describe(v.Type()))
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.fail(n, field, describe(v.Type())+quotedHint(n))
			return
		}
		v.SetInt(int64(i))
	case reflect.Bool:
		plain := n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) == 0
		if n.Kind != yaml.ScalarNode || !plain || n.ShortTag() != "!!bool" || (n.Value != "true" && n.Value != "false") {
			d.fail(n, field, describe(v.Type())+boolHint(n))
			return
		}
		v.SetBool(n.Value == "true")
	default:
		panic(fmt.Sprintf("org: decode: no rule for %s at %s", v.Type(), field))
	}
}

// mapping decodes the fields of mapping n into the struct v, by their yaml tags.
func (d *decoder) mapping(n *yaml.Node, field string, v reflect.Value) {
	known := fieldsOf(v.Type())
	for _, kv := range d.pairs(n, field) {
		f := keyPath(field, kv.key.Value)
		i, ok := known[kv.key.Value]
		if !ok {
			d.problem(kv.key.Line, f, render(kv.value), unknownField(v.Type(), kv.key.Value))
			continue
		}
		d.lines[f] = kv.key.Line
		d.decode(kv.value, f, v.Field(i))
	}
}

type keyValue struct{ key, value *yaml.Node }

// plainKey is a key that can be shown as is in a field path.
var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// keyPath is the path of field key of the mapping at field. A key that is not a plain word
// (an unknown one can be anything: long, with a newline or a dot) is echoed, quoted and cut.
func keyPath(field, key string) string {
	if !plainKey.MatchString(key) {
		key = echo(key)
	}
	if field == "" {
		return key
	}
	return field + "." + key
}

// pairs lists the fields of mapping n: each key once (a repeated key is a problem, the first
// one counts), then the fields of merge keys (<<: *defaults) not written here.
func (d *decoder) pairs(n *yaml.Node, field string) []keyValue {
	var out, merged []keyValue
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !d.spend(k, field) {
			return nil // merges of merges can take long without decoding anything
		}
		if k.Kind != yaml.ScalarNode {
			d.problem(k.Line, field, render(k), "field names that are plain words; this key is "+kindOf(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merged = append(merged, d.merge(val, field)...)
			continue
		}
		f := keyPath(field, k.Value)
		if line, dup := seen[k.Value]; dup {
			d.problem(k.Line, f, render(val), fmt.Sprintf("a field written once; it is already on line %d", line))
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, keyValue{k, val})
	}
	for _, kv := range merged {
		if _, written := seen[kv.key.Value]; !written {
			seen[kv.key.Value] = kv.key.Line
			out = append(out, kv)
		}
	}
	return out
}

// merge lists the fields a merge key brings: those of a mapping, or of a list of mappings
// (the first that has a field wins).
func (d *decoder) merge(n *yaml.Node, field string) []keyValue {
	if n.Kind == yaml.AliasNode {
		if d.expanding[n.Alias] {
			d.problem(n.Line, field, render(n), "a merge of an anchor outside it; this one is inside its own anchor")
			return nil
		}
		d.expanding[n.Alias] = true
		defer delete(d.expanding, n.Alias)
		return d.merge(n.Alias, field)
	}
	switch n.Kind {
	case yaml.MappingNode:
		return d.pairs(n, field)
	case yaml.SequenceNode:
		var out []keyValue
		for _, m := range n.Content {
			out = append(out, d.merge(m, field)...)
		}
		return out
	}
	d.problem(n.Line, field, render(n), "a merge (<<) of a mapping or a list of mappings")
	return nil
}

// fieldsOf maps the yaml names of struct type t's fields to their indexes.
func fieldsOf(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		out[yamlName(t.Field(i))] = i
	}
	return out
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

func fieldNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		out = append(out, yamlName(t.Field(i)))
	}
	return out
}

// nouns name the model's mappings in messages.
var nouns = map[reflect.Type][2]string{ // singular with article, plural
	reflect.TypeFor[Organization](): {"the top level", "organizations"},
	reflect.TypeFor[Registry]():     {"registry", "registries"},
	reflect.TypeFor[Settings]():     {"settings", "settings"},
	reflect.TypeFor[Team]():         {"a team", "teams"},
	reflect.TypeFor[Service]():      {"a service", "services"},
	reflect.TypeFor[Commands]():     {"commands", "commands"},
	reflect.TypeFor[Environment]():  {"an environment", "environments"},
}

// describe says what a field of type t accepts, in YAML's words.
func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return describe(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Int:
		return "a whole number, unquoted"
	case reflect.Bool:
		return "true or false, unquoted"
	case reflect.Struct:
		return "a mapping with " + strings.Join(fieldNames(t), ", ")
	case reflect.Slice:
		e := t.Elem()
		if e.Kind() == reflect.Struct {
			return fmt.Sprintf("a list of %s, each a mapping with %s", nouns[e][1], strings.Join(fieldNames(e), ", "))
		}
		return "a list of strings, written [a, b] or one '- ' line each"
	}
	return t.String()
}

// unknownField says which fields the mapping of type t has, and which one was meant.
func unknownField(t reflect.Type, key string) string {
	names := fieldNames(t)
	s := fmt.Sprintf("no such field; %s has %s", nouns[t][0], strings.Join(names, ", "))
	best, bestDistance := "", 3 // at most two edits away
	for _, n := range names {
		if len(key) > 2*len(n) {
			continue // far too long to be a typo, and slow to compare
		}
		if dist := distance(strings.ToLower(key), strings.ToLower(n)); dist < bestDistance {
			best, bestDistance = n, dist
		}
	}
	if best != "" {
		s += fmt.Sprintf(" (did you mean %s?)", best)
	}
	return s
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func quotedHint(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
		return " (in quotes it is a string)"
	}
	return ""
}

func boolHint(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	if h := quotedHint(n); h != "" {
		return h
	}
	switch v := n.Value; {
	case v == "true" || v == "false":
		return " (without a tag)" // !!str true
	case strings.EqualFold(v, "true") || strings.EqualFold(v, "false"):
		return " (in lowercase)"
	}
	switch strings.ToLower(n.Value) {
	case "yes", "no", "on", "off", "y", "n":
		return " (yes, no, on and off are not booleans here)"
	}
	return ""
}

// kindOf names a node's kind in YAML's words.
func kindOf(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a single value"
}

// render writes n back compactly, in flow style, for a message ([a, b], {k: v}). Aliases
// are shown as *name, not followed, so the result is never longer than the file.
// Problem.String cuts it to maxEcho bytes.
func render(n *yaml.Node) string {
	var b strings.Builder
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.ScalarNode:
			b.WriteString(n.Value)
		case yaml.AliasNode:
			b.WriteString("*" + n.Value)
		case yaml.SequenceNode:
			b.WriteString("[")
			for i, c := range n.Content {
				if i > 0 {
					b.WriteString(", ")
				}
				walk(c)
			}
			b.WriteString("]")
		case yaml.MappingNode:
			b.WriteString("{")
			for i := 0; i+1 < len(n.Content); i += 2 {
				if i > 0 {
					b.WriteString(", ")
				}
				walk(n.Content[i])
				b.WriteString(": ")
				walk(n.Content[i+1])
			}
			b.WriteString("}")
		}
	}
	walk(n)
	return b.String()
}

// lineOf is the line of field, or of the closest enclosing field written (a missing field is
// reported at the mapping that lacks it).
func (d *decoder) lineOf(field string) int {
	for {
		if l, ok := d.lines[field]; ok {
			return l
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			return d.lines[""]
		}
		field = field[:i]
	}
}
