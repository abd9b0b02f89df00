package tools

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// TestEmbeddedSchemasAreCurrent: schemas.json must be what reflection of
// the code gives. UPDATE_SNAPSHOTS=1 rewrites it.
func TestEmbeddedSchemasAreCurrent(t *testing.T) {
	reflectSchemas = true
	defer func() { reflectSchemas = false }()
	want := map[string]toolSchemas{}
	for _, tl := range All(nil, Options{}) {
		want[tl.Tool.Name] = toolSchemas{Input: tl.Tool.RawInputSchema, Output: tl.Tool.RawOutputSchema}
	}
	data, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	if os.Getenv("UPDATE_SNAPSHOTS") != "" {
		if err := os.WriteFile("schemas.json", data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(data, schemasJSON) {
		t.Fatal("tools/schemas.json is out of date with the tool types: run UPDATE_SNAPSHOTS=1 go test ./tools and commit it")
	}
}
