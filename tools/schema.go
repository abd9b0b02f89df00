package tools

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/invopop/jsonschema"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/content"
)

// One schema dialect for every tool: invopop reflection, each input schema a
// plain object at the root with additionalProperties false and required
// fields taken from the absence of omitempty. Parts used more than once or
// recursive (segment groups and their conditions, content blocks) are
// written once under $defs and referred to with $ref; the root is never a
// $ref.

var reflector = &jsonschema.Reflector{
	DoNotReference: true,
	ExpandedStruct: true,
	Mapper:         mapType,
}

// mapType refers the shared parts to their definitions.
func mapType(t reflect.Type) *jsonschema.Schema {
	switch t {
	case reflect.TypeFor[sandbox.Group]():
		return ref("group")
	case reflect.TypeFor[content.Block]():
		return ref("block")
	case reflect.TypeFor[content.Cell]():
		return ref("cell")
	case reflect.TypeFor[sandbox.Condition]():
		return ref("condition")
	case reflect.TypeFor[stepOut]():
		return ref("step")
	}
	return nil
}

func ref(name string) *jsonschema.Schema { return &jsonschema.Schema{Ref: "#/$defs/" + name} }

// definitions are the shared parts, each built once per process.
var definitions = map[string]func() []byte{
	"group":     sync.OnceValue(func() []byte { return marshalSchema(groupSchema()) }),
	"condition": sync.OnceValue(func() []byte { return marshalSchema(conditionSchema()) }),
	"block":     sync.OnceValue(func() []byte { return marshalSchema(blockSchema()) }),
	"cell":      sync.OnceValue(func() []byte { return marshalSchema(cellSchema()) }),
	"step":      sync.OnceValue(func() []byte { return marshalSchema(plainSchema[stepOut]()) }),
}

// plainSchema reflects T with nothing referred to definitions.
func plainSchema[T any]() *jsonschema.Schema {
	r := &jsonschema.Reflector{DoNotReference: true, ExpandedStruct: true}
	s := r.Reflect(new(T))
	s.Version, s.ID = "", ""
	return s
}

// withDefinitions adds to s the definitions it refers to, directly or
// through another definition.
func withDefinitions(s *jsonschema.Schema) {
	seen := string(marshalSchema(s))
	defs := jsonschema.Definitions{}
	for grew := true; grew; {
		grew = false
		for _, name := range slices.Sorted(maps.Keys(definitions)) {
			if _, ok := defs[name]; ok || !strings.Contains(seen, `"#/$defs/`+name+`"`) {
				continue
			}
			data := definitions[name]()
			defs[name] = fresh(data)
			seen += string(data)
			grew = true
		}
	}
	if len(defs) > 0 {
		s.Definitions = defs
	}
}

func marshalSchema(s *jsonschema.Schema) []byte {
	data, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return data
}

func fresh(data []byte) *jsonschema.Schema {
	s := &jsonschema.Schema{}
	if err := json.Unmarshal(data, s); err != nil {
		panic(err)
	}
	return s
}

// schemaOf returns the JSON schema of T, with nested descriptions applied.
func schemaOf[T any](nested map[string]string) json.RawMessage {
	s := reflector.Reflect(new(T))
	s.Version, s.ID = "", ""
	for path, desc := range nested {
		describe(s, path, desc)
	}
	withDefinitions(s)
	data, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("schema of %T: %v", *new(T), err)) // a programming error caught by the snapshot tests
	}
	return data
}

// outputSchemaOf returns the output schema of T: the fields a result always
// has, and their types. It is a contract a client can check, not
// documentation: clients send a model a tool's name, description and input
// schema, never its output schema, yet every byte of it is in tools/list.
// So nested objects are said to be objects, optional fields are left out
// (results stay open to fields the schema does not name; docs/tools.md
// describes them all), and nothing carries a description.
func outputSchemaOf[T any]() json.RawMessage {
	s := plainSchema[T]()
	root := &jsonschema.Schema{Type: "object", Required: s.Required, Properties: jsonschema.NewProperties()}
	for p := s.Properties.Oldest(); p != nil; p = p.Next() {
		if slices.Contains(s.Required, p.Key) {
			root.Properties.Set(p.Key, shallow(p.Value))
		}
	}
	return marshalSchema(root)
}

// resultSchemaOf is the full schema of a result T, every field described.
func resultSchemaOf[T any]() json.RawMessage { return marshalSchema(plainSchema[T]()) }

// shallow is a property's schema without what nests inside it.
func shallow(s *jsonschema.Schema) *jsonschema.Schema {
	out := &jsonschema.Schema{Type: s.Type, Format: s.Format, Enum: s.Enum}
	if s.Type == "" && s.Properties != nil {
		out.Type = "object"
	}
	if s.Type == "array" && s.Items != nil {
		out.Items = &jsonschema.Schema{Type: s.Items.Type, Format: s.Items.Format, Enum: s.Items.Enum}
	}
	return out
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
		if next.Type == "" && next.Ref == "" && next.Properties == nil && next.Items == nil && next.Enum == nil && next.Description == "" {
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
		"operator": {"type": "string", "enum": ["eq","neq","contains","not_contains","starts_with","gt","gte","lt","lte","in","not_in","exists","not_exists","before","after"], "description": "eq/neq: text (any case) or numbers; gt/gte/lt/lte: numbers; before/after: dates (2027-01-31, RFC 3339); in/not_in: a list; exists/not_exists: no value."},
		"value": {"description": "String, number or boolean; a list for in/not_in; omit for exists/not_exists."}
	},
	"required": ["property", "operator"],
	"additionalProperties": false
}`

// groupSchema is a nested group; the sandbox bounds the nesting.
func groupSchema() *jsonschema.Schema {
	return mustSchema(fmt.Sprintf(`{"type": "object", "description": "A nested group of conditions.", "properties": {
		"match": {"type": "string", "enum": ["all", "any"], "description": "Like the segment's match."},
		"conditions": {"type": "array", "description": "Tests on contact properties.", "items": {"$ref": "#/$defs/condition"}},
		"groups": {"type": "array", "description": "Nested groups (same shape), at most %d levels below the segment.", "items": {"$ref": "#/$defs/group"}}
	}, "additionalProperties": false}`, sandbox.MaxGroupDepth))
}

// conditionSchema is shared by segment conditions and workflow branches.
func conditionSchema() *jsonschema.Schema { return mustSchema(conditionJSON) }

var blockFieldDocs = map[string]string{
	"text":   "heading text; paragraph text in simple Markdown (**bold**, *italic*, [label](https://…), line breaks); button label. Personalization tokens like {{ contact.firstname | default: \"there\" }} pass through.",
	"level":  "Heading level 1-3 (default 1).",
	"url":    "Link (https) of a button or image.",
	"src":    "Image source (https).",
	"alt":    "Image alt text (required for images).",
	"width":  "Image width in px (at most 600).",
	"height": "Spacer px (default 24).",
	"align":  "left | center | right.",
}

// cellFields are the fields of a block, from content.Cell.
func cellFields() *jsonschema.Schema {
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
	s := cellFields()
	s.Description = "A content block; type picks its fields."
	s.Properties.Set("columns", &jsonschema.Schema{
		Type: "array", MinItems: ptr(uint64(2)), MaxItems: ptr(uint64(2)),
		Items:       &jsonschema.Schema{Type: "array", Items: ref("cell")},
		Description: "For columns: two columns of blocks, not nested; stacked on mobile.",
	})
	return s
}

// cellSchema is a block without columns: said as such, not spelled out a
// second time.
func cellSchema() *jsonschema.Schema {
	return mustSchema(`{"$ref": "#/$defs/block", "description": "One content block, not columns.", "not": {"required": ["columns"]}}`)
}

func ptr[T any](v T) *T { return &v }
