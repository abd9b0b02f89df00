package tools

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

// The direct encoding of tool results must say exactly what encoding/json
// says, for every shape it accepts, and decline the others.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	structured := json.RawMessage(`{"id":"cmp_1","note":"<a> & \"b\"","n":[1,2,3],"nested":{"x":null}}`)
	results := []*mcp.CallToolResult{
		{Content: []mcp.Content{mcp.NewTextContent("Staged email eml_1 — not live.\n\n" + string(structured))}, StructuredContent: structured},
		{Content: []mcp.Content{mcp.NewTextContent("no campaign cmp_x; list_campaigns shows the campaigns")}, IsError: true},
		{Content: []mcp.Content{mcp.NewTextContent("two"), mcp.NewTextContent("parts \u2028 \x01")}, RawStructuredContent: structured},
		{Content: []mcp.Content{}},
	}
	for i, r := range results {
		resp := mcp.NewJSONRPCResultResponse(mcp.NewRequestId(int64(i+7)), r)
		fast, err := encode(resp)
		if err != nil {
			t.Fatal(err)
		}
		slow, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(fast, &a); err != nil {
			t.Fatalf("result %d: the direct encoding is not JSON: %v\n%s", i, err, fast)
		}
		json.Unmarshal(slow, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("result %d differs:\nfast %s\njson %s", i, fast, slow)
		}
	}
	// Shapes it does not handle go through encoding/json unchanged.
	img := &mcp.CallToolResult{Content: []mcp.Content{mcp.NewImageContent("AAAA", "image/png")}}
	if _, ok := encodeToolResult(img); ok {
		t.Error("an image result was encoded directly")
	}
	withMeta := &mcp.CallToolResult{Result: mcp.Result{Meta: &mcp.Meta{}}, Content: []mcp.Content{mcp.NewTextContent("x")}}
	if _, ok := encodeToolResult(withMeta); ok {
		t.Error("a result with _meta was encoded directly")
	}
}
