package tools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

// Whole-inventory checks, after github-mcp-server's tools_validation_test:
// what every tool must declare, checked on the wire (tools/list) and on the
// registrations themselves.

// wireTool is a tool as tools/list sends it.
type wireTool struct {
	Name         string         `json:"name"`
	Title        string         `json:"title"`
	Description  string         `json:"description"`
	InputSchema  map[string]any `json:"inputSchema"`
	OutputSchema map[string]any `json:"outputSchema"`
	Annotations  map[string]any `json:"annotations"`
}

func wireTools(t *testing.T) []wireTool {
	t.Helper()
	h := newHarness(t, withProtocol(proto1125))
	var out []wireTool
	for _, raw := range h.rawToolsList(t) {
		var wt wireTool
		if err := json.Unmarshal(raw, &wt); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		out = append(out, wt)
	}
	if len(out) == 0 {
		t.Fatal("tools/list is empty")
	}
	return out
}

var hintNames = []string{"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}

// isReadTool names the tools that only read: they must say so, since mcp-go
// defaults every tool to destructive and open-world.
func isReadTool(name string) bool {
	for _, p := range []string{"get_", "list_", "check_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// isStagingTool names the write tools that stage artifacts: their
// descriptions must say the change is staged and not live. (plan_promotion,
// confirm_promotion and fetch_metrics write too, but stage nothing.)
func isStagingTool(wt wireTool) bool {
	for _, p := range []string{"create_", "build_", "configure_", "publish_", "update_"} {
		if strings.HasPrefix(wt.Name, p) {
			return true
		}
	}
	return false
}

// hint is an annotation as a client reads it: absent means MCP's default
// (readOnly false, destructive true, idempotent false, openWorld true).
func hint(ann map[string]any, k string) bool {
	if v, ok := ann[k].(bool); ok {
		return v
	}
	return k == "destructiveHint" || k == "openWorldHint"
}

func TestToolAnnotationsSayWhatEachToolDoes(t *testing.T) {
	for _, wt := range wireTools(t) {
		t.Run(wt.Name, func(t *testing.T) {
			for _, k := range hintNames {
				if v, ok := wt.Annotations[k]; ok {
					if _, isBool := v.(bool); !isBool {
						t.Errorf("annotation %s is %T, not a boolean", k, v)
					}
				}
			}
			if wt.Annotations["title"] == nil && wt.Title == "" {
				t.Errorf("no title")
			}
			ro := hint(wt.Annotations, "readOnlyHint")
			if isReadTool(wt.Name) != ro {
				t.Errorf("%s: readOnlyHint is %v", wt.Name, ro)
			}
			if !ro && wt.Name != "confirm_promotion" && hint(wt.Annotations, "destructiveHint") {
				t.Errorf("%s only stages or plans, but a client reads it as destructive", wt.Name)
			}
			if wt.Name == "confirm_promotion" && (!hint(wt.Annotations, "destructiveHint") || !hint(wt.Annotations, "openWorldHint")) {
				t.Errorf("confirm_promotion changes live platforms: %v", wt.Annotations)
			}
		})
	}
}

func TestToolInputSchemasHaveAnObjectRoot(t *testing.T) {
	for _, wt := range wireTools(t) {
		t.Run(wt.Name, func(t *testing.T) {
			for which, s := range map[string]map[string]any{"inputSchema": wt.InputSchema, "outputSchema": wt.OutputSchema} {
				if s == nil {
					if which == "inputSchema" {
						t.Fatal("no inputSchema")
					}
					continue
				}
				if s["type"] != "object" {
					t.Errorf("%s: root type is %v, want object", which, s["type"])
				}
				// Some providers reject a whole tools/list payload over these.
				// $defs is fine: it holds the parts the properties refer to.
				for _, k := range []string{"anyOf", "oneOf", "allOf", "not", "$ref", "definitions", "if", "then", "else"} {
					if _, ok := s[k]; ok {
						t.Errorf("%s: top-level %s", which, k)
					}
				}
			}
			if wt.InputSchema["additionalProperties"] != false {
				t.Errorf("inputSchema allows unknown fields: additionalProperties is %v", wt.InputSchema["additionalProperties"])
			}
			if _, ok := wt.InputSchema["properties"].(map[string]any); !ok {
				t.Errorf("inputSchema has no properties object")
			}
			// Required fields must exist.
			props, _ := wt.InputSchema["properties"].(map[string]any)
			req, _ := wt.InputSchema["required"].([]any)
			for _, r := range req {
				if _, ok := props[r.(string)]; !ok {
					t.Errorf("required field %v is not a property", r)
				}
			}
		})
	}
}

// walkSchema calls fn on every subschema with its path.
func walkSchema(s map[string]any, path string, fn func(path string, s map[string]any)) {
	fn(path, s)
	if props, ok := s["properties"].(map[string]any); ok {
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if sub, ok := props[k].(map[string]any); ok {
				walkSchema(sub, strings.TrimPrefix(path+"."+k, "."), fn)
			}
		}
	}
	switch items := s["items"].(type) {
	case map[string]any:
		walkSchema(items, path+"[]", fn)
	}
}

// TestSchemasUseSingleTypes: no "type": ["null", "array"] style unions,
// which strict tool-schema subsets of some LLM providers reject.
func TestSchemasUseSingleTypes(t *testing.T) {
	for _, wt := range wireTools(t) {
		for which, s := range map[string]map[string]any{"inputSchema": wt.InputSchema, "outputSchema": wt.OutputSchema} {
			if s == nil {
				continue
			}
			walkSchema(s, "", func(path string, sub map[string]any) {
				if ty, ok := sub["type"]; ok {
					if _, single := ty.(string); !single {
						t.Errorf("%s %s %s: type is %v", wt.Name, which, path, ty)
					}
				}
			})
		}
	}
}

func TestEveryToolPropertyHasADescription(t *testing.T) {
	for _, wt := range wireTools(t) {
		props, _ := wt.InputSchema["properties"].(map[string]any)
		for name, p := range props {
			if d, _ := p.(map[string]any)["description"].(string); strings.TrimSpace(d) == "" {
				t.Errorf("%s: property %s has no description", wt.Name, name)
			}
		}
		if len(strings.TrimSpace(wt.Description)) < 40 {
			t.Errorf("%s: description %q is too thin for an agent to choose the tool", wt.Name, wt.Description)
		}
	}
}

// TestEveryNestedPropertyHasADescription: an agent fills nested fields
// (conditions, steps, blocks, form fields) from the schema alone.
func TestEveryNestedPropertyHasADescription(t *testing.T) {
	for _, wt := range wireTools(t) {
		var missing []string
		walkSchema(wt.InputSchema, "", func(path string, sub map[string]any) {
			if path == "" || !strings.ContainsAny(path, ".[") || strings.HasSuffix(path, "[]") {
				return // the root, top-level properties (checked above), array items (their array is described)
			}
			if d, _ := sub["description"].(string); strings.TrimSpace(d) == "" {
				missing = append(missing, path)
			}
		})
		if len(missing) > 0 {
			t.Errorf("%s: nested properties without a description: %s", wt.Name, strings.Join(missing, ", "))
		}
	}
}

var toolName = regexp.MustCompile(`^[a-z]+(_[a-z]+)+$`)

func TestToolNames(t *testing.T) {
	seen := map[string]bool{}
	var names []string
	for _, wt := range wireTools(t) {
		if seen[wt.Name] {
			t.Errorf("duplicate tool name %s", wt.Name)
		}
		seen[wt.Name] = true
		names = append(names, wt.Name)
		if !toolName.MatchString(wt.Name) {
			t.Errorf("%s is not snake_case verb_noun", wt.Name)
		}
	}
	// The names from the design card, and the campaign tools around them.
	for _, want := range []string{"create_email", "build_segment", "configure_workflow", "publish_page", "create_campaign", "get_campaign", "list_campaigns"} {
		if !seen[want] {
			t.Errorf("tool %s is not registered (have %v)", want, names)
		}
	}
}

// The server's instructions say once that everything is staged and that a
// human approves before anything goes live; the staging tools' descriptions
// say they stage, without repeating it.
func TestWriteToolsSayStagedNotLive(t *testing.T) {
	h := newHarness(t, withProtocol(proto1125))
	notLive := regexp.MustCompile(`(?i)\b(not live|nothing is live)\b`)
	if in := h.init.Instructions; !strings.Contains(in, "STAGED") || !notLive.MatchString(in) || !strings.Contains(in, "approves") {
		t.Errorf("the instructions do not say everything is staged and a human approves: %q", in)
	}
	for _, wt := range wireTools(t) {
		if !isStagingTool(wt) {
			continue
		}
		d := strings.ToLower(wt.Description)
		if !strings.Contains(d, "stage") && !strings.Contains(d, "container") {
			t.Errorf("%s: description does not say it stages: %q", wt.Name, wt.Description)
		}
		if notLive.MatchString(d) {
			t.Errorf("%s: description repeats the instructions' staging sentence: %q", wt.Name, wt.Description)
		}
	}
}

// TestToolSurfaceIsTheSameInEveryProtocol: the modern (2026-07-28) and the
// initialize-era clients see the same tools and hints.
func TestToolSurfaceIsTheSameInEveryProtocol(t *testing.T) {
	surface := func(p string) string {
		h := newHarness(t, withProtocol(p))
		res, err := h.c.ListTools(context.Background(), mcp.ListToolsRequest{})
		if err != nil {
			t.Fatalf("%s: tools/list: %v", protoName(p), err)
		}
		var lines []string
		for _, tl := range res.Tools {
			a := tl.Annotations
			b := func(p *bool) string {
				if p == nil {
					return "unset"
				}
				return fmt.Sprint(*p)
			}
			lines = append(lines, fmt.Sprintf("%s ro=%s destr=%s idem=%s open=%s", tl.Name, b(a.ReadOnlyHint), b(a.DestructiveHint), b(a.IdempotentHint), b(a.OpenWorldHint)))
		}
		slices.Sort(lines)
		return strings.Join(lines, "\n")
	}
	want := surface(proto1125)
	for _, p := range []string{protoDefault, proto0618} {
		if got := surface(p); got != want {
			t.Errorf("%s sees\n%s\n2025-11-25 sees\n%s", protoName(p), got, want)
		}
	}
}
