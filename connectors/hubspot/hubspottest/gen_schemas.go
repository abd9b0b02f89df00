//go:build ignore

// gen_schemas extracts, from HubSpot's published OpenAPI files, the
// component schemas the fake validates against (the named roots and every
// schema they reference), so the fake is self-contained: the full spec files
// are 1.6 MB and live outside the repository.
//
//	go run gen_schemas.go -src /path/to/apispecs/hubspot
//
// The output is the spec's own text, unmodified apart from dropping what the
// roots do not reach; the fake applies its documented adjustments at load
// time (see schemas.go).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

var roots = map[string][]string{
	"marketing-emails-v3.json": {"EmailCreateRequest", "EmailUpdateRequest", "AbTestCreateRequestVNext", "PublicEmail", "AggregateEmailStatistics", "CollectionResponseWithTotalPublicEmail", "Error"},
	"crm-lists-v3.json":        {"ListCreateRequest", "ListCreateResponse", "ListFetchResponse", "ListFilterUpdateRequest", "ListSearchRequest", "ListSearchResponse", "ListUpdateResponse", "MembershipsUpdateResponse", "MembershipChangeRequest", "ApiCollectionResponseJoinTimeAndRecordId", "Error"},
	"automation-v4-flows.json": {"ApiFlowCreateRequest", "ApiFlowPutRequest", "ApiFlow", "CollectionResponseApiFlowListingForwardPaging", "Error"},
	"cms-pages-v3.json":        {"Page", "ContentScheduleRequestVNext", "CollectionResponseWithTotalPageForwardPaging", "Error"},
	"oauth-v1.json":            {"AccessTokenResponse", "Error"},
}

func main() {
	src := flag.String("src", "../../../../shared/apispecs/hubspot", "folder holding HubSpot's OpenAPI files")
	out := flag.String("out", "schemas", "output folder")
	flag.Parse()
	var sources struct {
		HubSpot struct {
			Repo   string            `json:"repo"`
			Commit string            `json:"commit"`
			Files  map[string]string `json:"files"`
		} `json:"hubspot"`
	}
	if data, err := os.ReadFile(filepath.Join(*src, "..", "SOURCES.json")); err == nil {
		_ = json.Unmarshal(data, &sources)
	}
	for file, names := range roots {
		data, err := os.ReadFile(filepath.Join(*src, file))
		if err != nil {
			log.Fatal(err)
		}
		var spec struct {
			Components struct {
				Schemas map[string]json.RawMessage `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(data, &spec); err != nil {
			log.Fatalf("%s: %v", file, err)
		}
		keep := map[string]json.RawMessage{}
		queue := append([]string(nil), names...)
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			if _, ok := keep[n]; ok {
				continue
			}
			raw, ok := spec.Components.Schemas[n]
			if !ok {
				log.Fatalf("%s: no schema %s", file, n)
			}
			keep[n] = raw
			var v any
			_ = json.Unmarshal(raw, &v)
			walk(v, func(ref string) {
				if name, ok := strings.CutPrefix(ref, "#/components/schemas/"); ok {
					queue = append(queue, name)
				}
			})
		}
		keys := make([]string, 0, len(keep))
		for k := range keep {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		doc := map[string]any{
			"x-source": fmt.Sprintf("%s@%s:%s", sources.HubSpot.Repo, sources.HubSpot.Commit, sources.HubSpot.Files["hubspot/"+file]),
			"x-roots":  names,
			"components": map[string]any{
				"schemas": keep,
			},
		}
		b, err := json.Marshal(doc)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*out, file), append(b, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "%s: %d schemas, %d bytes\n", file, len(keys), len(b))
	}
}

func walk(v any, f func(string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if s, ok := c.(string); ok && k == "$ref" {
				f(s)
				continue
			}
			walk(c, f)
		}
	case []any:
		for _, c := range x {
			walk(c, f)
		}
	}
}
