//go:build ignore

// gen_schemas extracts the request schemas the fake validates from
// Mailchimp's Marketing API spec (3.0.55, an openapi-generator re-export of
// Mailchimp's own marketing.json) into testdata/schemas.json, so the fake
// works without the 1.7 MB spec at hand.
//
//	go run gen_schemas.go [path/to/marketing-3.0.55.openapi.json]
//
// Three rewrites, all documented in the output's "x-lastmile" note:
//   - the segment-condition union survives in the re-export only as
//     "x-oneOf" (which validators ignore); it becomes a condition_type
//     discriminator (an enum of the 41 types) plus one if/then per type, so a
//     wrong op or field is reported at its own path;
//   - the segment update's doubly nested conditions array (Conditions_2)
//     becomes the flat array the create body uses (see main);
//   - "$ref"s point into the extracted "$defs".
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Roots are the request bodies the fake validates, by operation.
var roots = map[string]string{
	"POST /campaigns":                                "Campaign_1",
	"PATCH /campaigns/{campaign_id}":                 "Campaign_2",
	"PUT /campaigns/{campaign_id}/content":           "Campaign_Content_1",
	"POST /campaigns/{campaign_id}/actions/schedule": "postCampaignsIdActionsSchedule_request",
	"POST /campaigns/{campaign_id}/actions/test":     "postCampaignsIdActionsTest_request",
	"POST /lists/{list_id}/segments":                 "List_8",
	"PATCH /lists/{list_id}/segments/{segment_id}":   "List_9",
	"POST /lists/{list_id}/segments/{segment_id}":    "Members_to_add_remove_to_from_a_static_segment",
}

func main() {
	src := "../../../../shared/apispecs/mailchimp/marketing-3.0.55.openapi.json"
	if len(os.Args) > 1 {
		src = os.Args[1]
	}
	data, err := os.ReadFile(src)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var spec struct {
		Info       map[string]any `json:"info"`
		Paths      map[string]map[string]any
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The segment update's conditions (Conditions_2) nest the condition
	// array inside another array. That is a re-export artifact: the inner
	// array is, word for word, the "Segment Type" array the create body
	// (Conditions_1) uses, and Mailchimp's client libraries send the same
	// flat array to create and to update. Unwrap it.
	if c2, ok := spec.Components.Schemas["Conditions_2"].(map[string]any); ok {
		props, _ := c2["properties"].(map[string]any)
		conds, _ := props["conditions"].(map[string]any)
		inner, _ := conds["items"].(map[string]any)
		if inner["type"] != "array" {
			fmt.Fprintln(os.Stderr, "Conditions_2 no longer nests its conditions: drop the unwrap")
			os.Exit(1)
		}
		props["conditions"] = inner
	}
	// Check the roots against the spec's own requestBody refs.
	for op, name := range roots {
		method, path, _ := strings.Cut(op, " ")
		o, _ := spec.Paths[path][strings.ToLower(method)].(map[string]any)
		b, _ := json.Marshal(o["requestBody"])
		if !strings.Contains(string(b), "#/components/schemas/"+name+`"`) {
			fmt.Fprintf(os.Stderr, "%s: spec does not use %s\n", op, name)
			os.Exit(1)
		}
	}
	defs := map[string]any{}
	var walk func(v any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case map[string]any:
			out := map[string]any{}
			for k, x := range t {
				if k == "$ref" {
					s := x.(string)
					name := s[strings.LastIndex(s, "/")+1:]
					if _, ok := defs[name]; !ok {
						defs[name] = nil
						defs[name] = walk(spec.Components.Schemas[name])
					}
					out[k] = "#/$defs/" + name
					continue
				}
				out[k] = walk(x)
			}
			if alts, ok := t["x-oneOf"].([]any); ok {
				delete(out, "x-oneOf")
				delete(out, "x-discriminator")
				var types []any
				var allOf []any
				for _, a := range alts {
					am := walk(a).(map[string]any)
					props, _ := am["properties"].(map[string]any)
					ct, _ := props["condition_type"].(map[string]any)
					enum, _ := ct["enum"].([]any)
					if len(enum) != 1 {
						fmt.Fprintln(os.Stderr, "condition without a single condition_type")
						os.Exit(1)
					}
					types = append(types, enum[0])
					allOf = append(allOf, map[string]any{
						"if":   map[string]any{"properties": map[string]any{"condition_type": map[string]any{"const": enum[0]}}},
						"then": am,
					})
				}
				out["required"] = []any{"condition_type"}
				out["properties"] = map[string]any{"condition_type": map[string]any{"type": "string", "enum": types}}
				out["allOf"] = allOf
			}
			return out
		case []any:
			out := make([]any, len(t))
			for i, x := range t {
				out[i] = walk(x)
			}
			return out
		}
		return v
	}
	ops := map[string]string{}
	var names []string
	for op, name := range roots {
		defs[name] = nil
		defs[name] = walk(spec.Components.Schemas[name])
		ops[op] = "#/$defs/" + name
		names = append(names, op)
	}
	sort.Strings(names)
	out := map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"x-lastmile": fmt.Sprintf("Generated by gen_schemas.go from marketing-3.0.55.openapi.json (%v %v): the request schemas of %s. x-oneOf segment conditions rewritten as a condition_type discriminator with if/then per type; the doubly nested conditions array of the segment update (Conditions_2) unwrapped to the flat array the create body uses.",
			spec.Info["title"], spec.Info["version"], strings.Join(names, ", ")),
		"x-operations": ops,
		"$defs":        defs,
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile("testdata/schemas.json", append(b, '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
