package tools_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/lastmile/lastmile/tools"
)

// docs/tools.md is written from the tools themselves: their descriptions,
// their argument schemas and the full schemas of their results (the output
// schema on the wire names only the fields always present). This test fails
// when the page is stale; UPDATE_SNAPSHOTS=1 rewrites it.
func TestToolsDoc(t *testing.T) {
	h := newHarness(t)
	var b strings.Builder
	b.WriteString("# Tools\n\n" +
		"Every tool lastmile serves, its arguments and its result. Written from the code by\n" +
		"`UPDATE_SNAPSHOTS=1 go test ./tools -run TestToolsDoc`; a test fails when this page is stale.\n\n" +
		"Every write tool stages: nothing reaches a platform until a human approves a plan and\n" +
		"`confirm_promotion` runs it. Each result is structured content (the fields below) with a\n" +
		"one-line summary as text. Fields marked *always* are in every result and in the tool's\n" +
		"output schema; the others appear when they apply.\n")
	safeModes(&b, tools.All(h.sb, tools.Options{}))
	for _, tl := range tools.All(h.sb, tools.Options{}) {
		mt := tl.Tool
		fmt.Fprintf(&b, "\n## `%s` — %s\n\n%s\n\n*%s*\n", mt.Name, mt.Annotations.Title, mt.Description, effect(mt.Name, mt.Annotations))
		var in schemaDoc
		if err := json.Unmarshal(mt.RawInputSchema, &in); err != nil {
			t.Fatal(err)
		}
		b.WriteString("\n| argument | type | | |\n|---|---|---|---|\n")
		fields(&b, in, "", "required")
		for _, name := range slices.Sorted(maps.Keys(in.Defs)) {
			fmt.Fprintf(&b, "\n`%s`:\n\n| field | type | | |\n|---|---|---|---|\n", name)
			fields(&b, in.Defs[name], "", "required")
		}
		var out schemaDoc
		if err := json.Unmarshal(tl.Result(), &out); err != nil {
			t.Fatal(err)
		}
		b.WriteString("\nResult:\n\n| field | type | | |\n|---|---|---|---|\n")
		fields(&b, out, "", "always")
	}
	got := b.String()
	const path = "../docs/tools.md"
	if os.Getenv("UPDATE_SNAPSHOTS") != "" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil || string(want) != got {
		t.Fatalf("docs/tools.md is stale: UPDATE_SNAPSHOTS=1 go test ./tools -run TestToolsDoc")
	}
}

type schemaDoc struct {
	Type        any                  `json:"type"`
	Ref         string               `json:"$ref"`
	Description string               `json:"description"`
	Enum        []any                `json:"enum"`
	Format      string               `json:"format"`
	Properties  orderedProps         `json:"properties"`
	Required    []string             `json:"required"`
	Items       *schemaDoc           `json:"items"`
	Defs        map[string]schemaDoc `json:"$defs"`
}

// orderedProps keeps properties in the schema's order (the struct's).
type orderedProps struct {
	keys []string
	vals map[string]schemaDoc
}

func (o *orderedProps) UnmarshalJSON(data []byte) error {
	d := json.NewDecoder(strings.NewReader(string(data)))
	if _, err := d.Token(); err != nil {
		return err
	}
	o.vals = map[string]schemaDoc{}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return err
		}
		var v schemaDoc
		if err := d.Decode(&v); err != nil {
			return err
		}
		o.keys = append(o.keys, k.(string))
		o.vals[k.(string)] = v
	}
	return nil
}

func fields(b *strings.Builder, s schemaDoc, prefix, mark string) {
	for _, k := range s.Properties.keys {
		p := s.Properties.vals[k]
		flag := ""
		if slices.Contains(s.Required, k) {
			flag = mark
		}
		desc := p.Description
		if len(p.Enum) > 0 {
			var vs []string
			for _, e := range p.Enum {
				vs = append(vs, fmt.Sprintf("`%v`", e))
			}
			desc = strings.TrimSpace(desc + " One of " + strings.Join(vs, ", ") + ".")
		}
		fmt.Fprintf(b, "| `%s%s` | %s | %s | %s |\n", prefix, k, typeOf(p), flag, strings.ReplaceAll(desc, "|", `\|`))
		switch {
		case len(p.Properties.keys) > 0:
			fields(b, p, prefix+k+".", mark)
		case p.Items != nil && len(p.Items.Properties.keys) > 0:
			fields(b, *p.Items, prefix+k+"[].", mark)
		}
	}
}

func typeOf(s schemaDoc) string {
	switch {
	case s.Ref != "":
		return strings.TrimPrefix(s.Ref, "#/$defs/")
	case s.Items != nil:
		return "array of " + typeOf(*s.Items)
	case s.Format != "":
		return fmt.Sprint(s.Type) + " (" + s.Format + ")"
	case s.Type == nil && len(s.Properties.keys) > 0:
		return "object"
	case s.Type == nil:
		return "any"
	}
	return fmt.Sprint(s.Type)
}

func effect(name string, a mcp.ToolAnnotation) string {
	switch {
	case name == "send_test":
		// Its open world is mail, to the policy's test addresses only.
		return "Sends a proof to the team's test addresses only; nothing goes live and nothing is counted."
	case a.ReadOnlyHint != nil && *a.ReadOnlyHint:
		return "Reads only."
	case a.DestructiveHint == nil || *a.DestructiveHint:
		return "Changes live platforms, only as a human-approved plan says."
	case a.OpenWorldHint == nil || *a.OpenWorldHint:
		return "Reads the targets and writes lastmile's own records; nothing goes live."
	}
	return "Writes to lastmile's sandbox; nothing goes live."
}

// safeModes writes the "Safe modes" section: serve's flags and the table
// of toolsets, from tools.Toolsets and the tools' hints.
func safeModes(b *strings.Builder, all []tools.Tool) {
	b.WriteString("\n## Safe modes\n\n" +
		"`lastmile serve` (stdio, or `--http`) can serve fewer tools:\n\n" +
		"- `--read-only` serves only the tools marked *reads only* below (the `readOnly` hint): nothing can be\n" +
		"  staged, tested, planned or promoted, and `fetch_metrics`, which keeps a snapshot, is left out too. The\n" +
		"  `build_campaign` prompt, which walks an agent through writes, is not offered; the resources, which\n" +
		"  only read, are.\n" +
		"- `--toolsets LIST` serves only the tools of the comma-separated toolsets below; `all` (the default)\n" +
		"  serves every one. An unknown name is refused at start with the list of valid ones. With\n" +
		"  `--read-only` too, only the read tools of those toolsets are served.\n\n" +
		"Only the served tools are registered with the MCP server, so a hidden tool is not in `tools/list`\n" +
		"and a `tools/call` of it gets the SDK's ordinary unknown-tool error: there is no second gate to get\n" +
		"past. The server's instructions say which mode it runs in.\n\n" +
		"| toolset | | tools (*read-only ones in italics*) |\n|---|---|---|\n")
	readOnly := map[string]bool{}
	for _, tl := range all {
		readOnly[tl.Tool.Name] = tl.Tool.Annotations.ReadOnlyHint != nil && *tl.Tool.Annotations.ReadOnlyHint
	}
	for _, ts := range tools.Toolsets {
		var names []string
		for _, n := range ts.Tools {
			if readOnly[n] {
				names = append(names, "*`"+n+"`*")
			} else {
				names = append(names, "`"+n+"`")
			}
		}
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", ts.Name, ts.Description, strings.Join(names, ", "))
	}
}
