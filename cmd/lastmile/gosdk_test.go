package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// The official Go SDK, a client nobody here wrote, drives the binary over
// stdio: it lists the tools, every input and output schema ($defs, $ref
// and all) resolves with the JSON Schema library that SDK uses, and the
// structured results of real calls validate against their output schemas.
func TestOfficialGoSDKClient(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	initSample(t, dir)
	cmd := exec.Command(bin, "serve", "--data-dir", dir)
	cmd.Env = childEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := sdk.NewClient(&sdk.Implementation{Name: "go-sdk-test", Version: "0"}, nil)
	sess, err := client.Connect(ctx, &sdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()

	list, err := sess.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]*jsonschema.Resolved{}
	inputs := map[string]*jsonschema.Resolved{}
	resolve := func(name, which string, v any) *jsonschema.Resolved {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var s jsonschema.Schema
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatalf("%s %s: %v", name, which, err)
		}
		r, err := s.Resolve(nil)
		if err != nil {
			t.Fatalf("%s %s does not resolve: %v", name, which, err)
		}
		return r
	}
	for _, tool := range list.Tools {
		inputs[tool.Name] = resolve(tool.Name, "inputSchema", tool.InputSchema)
		if tool.OutputSchema != nil {
			outputs[tool.Name] = resolve(tool.Name, "outputSchema", tool.OutputSchema)
		}
	}
	if len(inputs) < 12 {
		t.Fatalf("%d tools", len(inputs))
	}

	call := func(name string, args map[string]any) map[string]any {
		t.Helper()
		if err := inputs[name].Validate(args); err != nil {
			t.Fatalf("%s: the SDK's validator refuses valid arguments: %v", name, err)
		}
		res, err := sess.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.IsError {
			t.Fatalf("%s: %+v", name, res.Content)
		}
		data, _ := json.Marshal(res.StructuredContent)
		var sc map[string]any
		json.Unmarshal(data, &sc)
		if err := outputs[name].Validate(sc); err != nil {
			t.Fatalf("%s: the result does not match its output schema: %v\n%s", name, err, data)
		}
		return sc
	}
	cmp := call("create_campaign", map[string]any{"name": "SDK", "markets": []any{"US"}, "industry": "retail"})["id"].(string)
	seg := call("build_segment", map[string]any{"campaign_id": cmp, "name": "Nested", "match": "any",
		"groups": []any{map[string]any{"conditions": []any{map[string]any{"property": "country", "operator": "eq", "value": "US"}},
			"groups": []any{map[string]any{"conditions": []any{map[string]any{"property": "email", "operator": "exists"}}}}}}})["id"].(string)
	call("create_email", map[string]any{"campaign_id": cmp, "name": "Blocks", "subject": "Spring", "from_name": "Acme", "from_email": "news@acme.com",
		"audience": map[string]any{"include": []any{seg}},
		"blocks": []any{map[string]any{"type": "heading", "text": "Spring"},
			map[string]any{"type": "columns", "columns": []any{[]any{map[string]any{"type": "paragraph", "text": "Left"}}, []any{map[string]any{"type": "paragraph", "text": "Right"}}}}}})
	call("get_campaign", map[string]any{"campaign_id": cmp})
	call("list_campaigns", map[string]any{})
	call("check_campaign", map[string]any{"campaign_id": cmp})
	plan := call("plan_promotion", map[string]any{"campaign_id": cmp})
	call("get_plan", map[string]any{"plan_id": plan["id"]})

	// A cell with columns in it breaks the schema's rule, as the server says.
	bad := map[string]any{"campaign_id": cmp, "name": "Nested columns", "subject": "S", "from_name": "Acme", "from_email": "news@acme.com",
		"blocks": []any{map[string]any{"type": "columns", "columns": []any{
			[]any{map[string]any{"type": "paragraph", "text": "x", "columns": []any{}}}, []any{map[string]any{"type": "paragraph", "text": "y"}}}}}}
	if inputs["create_email"].Validate(bad) == nil {
		t.Error("the SDK's validator accepts columns inside a column")
	}
}
