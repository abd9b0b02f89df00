package mailchimptest

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// specPath is where the checkout's sibling folder keeps Mailchimp's spec
// (not committed: 1.7 MB).
const specPath = "../../../../shared/apispecs/mailchimp/marketing-3.0.55.openapi.json"

// The embedded schemas are the spec's, untouched except for the rewrites
// gen_schemas.go documents ($ref targets; x-oneOf conditions).
func TestEmbeddedSchemasMatchTheSpec(t *testing.T) {
	data, err := os.ReadFile(specPath)
	if err != nil {
		t.Skipf("spec not available (%v); the embedded extract is used as is", err)
	}
	var spec struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	var embedded struct {
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(schemasJSON, &embedded); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for name, def := range embedded.Defs {
		raw, ok := spec.Components.Schemas[name]
		if !ok {
			t.Errorf("%s: not in the spec", name)
			continue
		}
		if strings.Contains(string(raw), "x-oneOf") {
			continue // rewritten on purpose
		}
		var want, got any
		json.Unmarshal([]byte(strings.ReplaceAll(string(raw), "#/components/schemas/", "#/$defs/")), &want)
		json.Unmarshal(def, &got)
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s differs from the spec: run go generate in mailchimptest", name)
		}
		checked++
	}
	if checked < 20 {
		t.Errorf("only %d schemas checked", checked)
	}
}
