package tools

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/invopop/jsonschema"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/content"
)

// One schema dialect for every tool: invopop reflection with everything
// inlined, so each input schema is a plain object at the root (no $ref, no
// combinators), with additionalProperties false and required fields taken
// from the absence of omitempty.

var reflector = &jsonschema.Reflector{
	DoNotReference: true,
	ExpandedStruct: true,
	Mapper:         mapType,
}

// mapType supplies schemas for types the reflector cannot or should not
// derive: the recursive segment group, content blocks with their
// descriptions, and free-form values.
func mapType(t reflect.Type) *jsonschema.Schema {
	switch t {
	case reflect.TypeFor[sandbox.Group]():
		return fresh(groupJSON)
	case reflect.TypeFor[content.Block]():
		return fresh(blockJSON)
	case reflect.TypeFor[content.Cell]():
		return fresh(cellJSON)
	case reflect.TypeFor[sandbox.Condition]():
		return conditionSchema()
	}
	return nil
}

// The shared sub-schemas are built once per process and copied for each
// use: building them reflects and parses repeatedly, and describe() edits
// the copy it is given.
var (
	groupJSON = sync.OnceValue(func() []byte { return marshalSchema(groupSchema(sandbox.MaxGroupDepth)) })
	blockJSON = sync.OnceValue(func() []byte { return marshalSchema(blockSchema()) })
	cellJSON  = sync.OnceValue(func() []byte { return marshalSchema(cellSchema()) })
)

func marshalSchema(s *jsonschema.Schema) []byte {
	data, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return data
}

func fresh(data func() []byte) *jsonschema.Schema {
	s := &jsonschema.Schema{}
	if err := json.Unmarshal(data(), s); err != nil {
		panic(err)
	}
	return s
}

// schemaOf returns the JSON schema of T, with nested descriptions applied.
func schemaOf[T any](nested map[string]string) json.RawMessage {
	s := reflector.Reflect(new(T))
	s.Version = ""
	for path, desc := range nested {
		describe(s, path, desc)
	}
	data, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("schema of %T: %v", *new(T), err)) // a programming error caught by the snapshot tests
	}
	return data
}

// describe sets the description of the property at a dotted path; "[]"
// steps into array items ("steps[].type").
func describe(s *jsonschema.Schema, path, desc string) {
	parts := strings.Split(path, ".")
	cur := s
	for i, p := range parts {
		items := strings.HasSuffix(p, "[]")
		p = strings.TrimSuffix(p, "[]")
		if cur.Properties == nil {
			panic("describe: no properties at " + path)
		}
		next, ok := cur.Properties.Get(p)
		if !ok {
			panic("describe: no property " + path)
		}
		if next.Type == "" && next.Properties == nil && next.Items == nil && next.Enum == nil && next.Description == "" {
			// a `true` schema (free-form value): replace it to carry text
			next = &jsonschema.Schema{}
			cur.Properties.Set(p, next)
		}
		if items {
			next = next.Items
		}
		if i == len(parts)-1 {
			next.Description = desc
		}
		cur = next
	}
}

func mustSchema(js string) *jsonschema.Schema {
	s := &jsonschema.Schema{}
	if err := json.Unmarshal([]byte(js), s); err != nil {
		panic(err)
	}
	return s
}

const conditionJSON = `{
	"type": "object",
	"description": "One test on a contact property.",
	"properties": {
		"property": {"type": "string", "minLength": 1, "description": "Contact property name, e.g. country, lifecycle_stage, signup_date (case-insensitive)."},
		"operator": {"type": "string", "enum": ["eq","neq","contains","not_contains","starts_with","gt","gte","lt","lte","in","not_in","exists","not_exists","before","after"], "description": "eq/neq compare text (case-insensitive) or numbers; gt/gte/lt/lte numbers; before/after dates (2027-01-31 or RFC 3339); in/not_in a list; exists/not_exists take no value."},
		"value": {"description": "String, number or boolean; a list for in/not_in; omit for exists/not_exists."}
	},
	"required": ["property", "operator"],
	"additionalProperties": false
}`

// groupSchema spells the recursive group out to a fixed depth: the
// reflector would recurse forever, and some clients reject $ref.
func groupSchema(depth int) *jsonschema.Schema {
	props := `"match": {"type": "string", "enum": ["all", "any"], "description": "all: every condition and group must hold (default); any: at least one."},
		"conditions": {"type": "array", "description": "Tests on contact properties.", "items": ` + conditionJSON + `}`
	s := mustSchema(`{"type": "object", "description": "A nested group of conditions.", "properties": {` + props + `}, "additionalProperties": false}`)
	if depth > 0 {
		g := groupSchema(depth - 1)
		s.Properties.Set("groups", &jsonschema.Schema{Type: "array", Items: g, Description: "Nested groups (same shape)."})
	}
	return s
}

// ConditionSchema is shared by segment conditions and workflow branches.
func conditionSchema() *jsonschema.Schema { return mustSchema(conditionJSON) }

var blockFieldDocs = map[string]string{
	"text":   "heading text; paragraph text in simple Markdown (**bold**, *italic*, [label](https://…), line breaks); button label. Personalization tokens like {{ contact.firstname | default: \"there\" }} pass through.",
	"level":  "Heading level 1-3 (default 1).",
	"url":    "Button target, or a link around an image (https).",
	"src":    "Image source (https).",
	"alt":    "Image alt text (required for images).",
	"width":  "Image width in px (at most 600).",
	"height": "Spacer height in px (default 24).",
	"align":  "left | center | right.",
}

func cellSchema() *jsonschema.Schema {
	r := &jsonschema.Reflector{DoNotReference: true, ExpandedStruct: true}
	s := r.Reflect(new(content.Cell))
	s.Version, s.ID = "", ""
	s.Description = "One content block."
	// Bounds on every integer, so no number decodes out of range.
	bounds := map[string][2]int{"level": {1, 3}, "width": {1, content.MaxImageWidth}, "height": {1, content.MaxImageHeight}}
	for pair := s.Properties.Oldest(); pair != nil; pair = pair.Next() {
		if d, ok := blockFieldDocs[pair.Key]; ok && pair.Value.Description == "" {
			pair.Value.Description = d
		}
		if b, ok := bounds[pair.Key]; ok {
			pair.Value.Minimum, pair.Value.Maximum = json.Number(fmt.Sprint(b[0])), json.Number(fmt.Sprint(b[1]))
		}
	}
	return s
}

func blockSchema() *jsonschema.Schema {
	s := cellSchema()
	s.Description = "One content block; type decides which other fields apply. A columns block holds exactly two columns of blocks (stacked on mobile)."
	s.Properties.Set("columns", &jsonschema.Schema{
		Type: "array", MinItems: ptr(uint64(2)), MaxItems: ptr(uint64(2)),
		Items:       &jsonschema.Schema{Type: "array", Items: cellSchema()},
		Description: "For type columns: exactly two columns, each a list of blocks (no nested columns).",
	})
	return s
}

func ptr[T any](v T) *T { return &v }
