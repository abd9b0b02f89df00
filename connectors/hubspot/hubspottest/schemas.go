package hubspottest

import (
	"bytes"
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var printer = message.NewPrinter(language.English)

// The schemas under schemas/ are extracted verbatim from HubSpot's
// public-api-spec-collection by gen_schemas.go (the source file and commit are
// in each file's x-source). Two adjustments are made when they are loaded,
// both because the published OpenAPI is generated from Java types and says
// more than the API enforces:
//
//  1. A schema that is exactly {"type":"object","properties":{}} is how the
//     generator renders Java's Object (any JSON value). It appears as the
//     value type of maps such as a workflow action's fields, where HubSpot's
//     own examples put strings ({"content_id":"123"}). Such a schema is
//     loaded as {} (any value).
//  2. Page marks 57 properties required because the same schema describes
//     responses. For requests the fake drops that list and applies a
//     hand-written rule instead: a create needs name and templatePath (see
//     createPage); every other property keeps its declared type.
//
//go:generate go run gen_schemas.go -src ../../../../shared/apispecs/hubspot -out schemas
//go:embed schemas/*.json
var schemaFS embed.FS

// Schema names the fake validates with, as "file#Name".
const (
	schemaEmailCreate   = "marketing-emails-v3.json#EmailCreateRequest"
	schemaEmailUpdate   = "marketing-emails-v3.json#EmailUpdateRequest"
	schemaABCreate      = "marketing-emails-v3.json#AbTestCreateRequestVNext"
	schemaListCreate    = "crm-lists-v3.json#ListCreateRequest"
	schemaListFilters   = "crm-lists-v3.json#ListFilterUpdateRequest"
	schemaListSearch    = "crm-lists-v3.json#ListSearchRequest"
	schemaMemberChange  = "crm-lists-v3.json#MembershipChangeRequest"
	schemaFlowCreate    = "automation-v4-flows.json#ApiFlowCreateRequest"
	schemaFlowPut       = "automation-v4-flows.json#ApiFlowPutRequest"
	schemaPage          = "cms-pages-v3.json#Page"
	schemaSchedule      = "cms-pages-v3.json#ContentScheduleRequestVNext"
	schemaPublicEmail   = "marketing-emails-v3.json#PublicEmail"
	schemaEmailPage     = "marketing-emails-v3.json#CollectionResponseWithTotalPublicEmail"
	schemaEmailStats    = "marketing-emails-v3.json#AggregateEmailStatistics"
	schemaListCreated   = "crm-lists-v3.json#ListCreateResponse"
	schemaListFetched   = "crm-lists-v3.json#ListFetchResponse"
	schemaListSearchRes = "crm-lists-v3.json#ListSearchResponse"
	schemaListUpdated   = "crm-lists-v3.json#ListUpdateResponse"
	schemaMembersUpdate = "crm-lists-v3.json#MembershipsUpdateResponse"
	schemaMembersPage   = "crm-lists-v3.json#ApiCollectionResponseJoinTimeAndRecordId"
	schemaFlow          = "automation-v4-flows.json#ApiFlow"
	schemaFlowPage      = "automation-v4-flows.json#CollectionResponseApiFlowListingForwardPaging"
	schemaPageList      = "cms-pages-v3.json#CollectionResponseWithTotalPageForwardPaging"
	schemaToken         = "oauth-v1.json#AccessTokenResponse"
	schemaError         = "marketing-emails-v3.json#Error"
)

type validators struct {
	mu       sync.Mutex
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}

var loadValidators = sync.OnceValues(func() (*validators, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	entries, err := schemaFS.ReadDir("schemas")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		data, err := schemaFS.ReadFile(path.Join("schemas", e.Name()))
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		doc = adjust(doc)
		if e.Name() == "cms-pages-v3.json" {
			page := doc.(map[string]any)["components"].(map[string]any)["schemas"].(map[string]any)["Page"].(map[string]any)
			delete(page, "required")
		}
		if err := c.AddResource("mem:///"+e.Name(), doc); err != nil {
			return nil, err
		}
	}
	v := &validators{compiler: c, compiled: map[string]*jsonschema.Schema{}}
	// Compile every schema up front: a first request should not pay for it.
	for _, name := range allSchemas {
		if _, err := v.schema(name); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return v, nil
})

var allSchemas = []string{schemaEmailCreate, schemaEmailUpdate, schemaABCreate, schemaListCreate, schemaListFilters, schemaListSearch,
	schemaMemberChange, schemaFlowCreate, schemaFlowPut, schemaPage, schemaSchedule, schemaPublicEmail, schemaEmailPage,
	schemaEmailStats, schemaListCreated, schemaListFetched, schemaListSearchRes, schemaListUpdated, schemaMembersUpdate,
	schemaMembersPage, schemaFlow, schemaFlowPage, schemaPageList, schemaToken, schemaError}

// adjust replaces the generator's rendering of Java Object with {}.
func adjust(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if isJavaObject(x) {
			return map[string]any{}
		}
		for k, c := range x {
			x[k] = adjust(c)
		}
		return x
	case []any:
		for i, c := range x {
			x[i] = adjust(c)
		}
		return x
	}
	return v
}

func isJavaObject(m map[string]any) bool {
	if m["type"] != "object" {
		return false
	}
	props, ok := m["properties"].(map[string]any)
	if !ok || len(props) != 0 {
		return false
	}
	for k := range m {
		switch k {
		case "type", "properties", "example", "description":
		default:
			return false
		}
	}
	return true
}

func (v *validators) schema(name string) (*jsonschema.Schema, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.compiled[name]; ok {
		return s, nil
	}
	file, def, _ := strings.Cut(name, "#")
	s, err := v.compiler.Compile("mem:///" + file + "#/components/schemas/" + def)
	if err != nil {
		return nil, err
	}
	v.compiled[name] = s
	return s, nil
}

// Validate checks a JSON document against one of the fake's schemas (for
// example "cms-pages-v3.json#Page") and returns HubSpot-style error details,
// empty when the document is valid.
func Validate(schema string, doc []byte) ([]ErrorDetail, error) {
	vs, err := loadValidators()
	if err != nil {
		return nil, err
	}
	s, err := vs.schema(schema)
	if err != nil {
		return nil, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return []ErrorDetail{{Message: "Invalid input JSON: " + err.Error(), Code: "INVALID_JSON", In: "body"}}, nil
	}
	return details(s.Validate(inst)), nil
}

// details flattens a validation error into one entry per leaf problem. In a
// oneOf, alternatives whose discriminator (type, filterType, operationType,
// filterBranchType) does not match are dropped, so a wrong field inside a
// filter is reported as that field, not as 20 failed alternatives.
func details(err error) []ErrorDetail {
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []ErrorDetail{{Message: err.Error(), Code: "INVALID", In: "body"}}
	}
	seen := map[string]bool{}
	var out []ErrorDetail
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		causes := e.Causes
		if _, isOneOf := e.ErrorKind.(*kind.OneOf); isOneOf && len(causes) > 0 {
			var kept []*jsonschema.ValidationError
			for _, c := range causes {
				if !discriminatorMismatch(c, len(e.InstanceLocation)) {
					kept = append(kept, c)
				}
			}
			if len(kept) == 0 {
				loc := "/" + strings.Join(e.InstanceLocation, "/")
				add(&out, seen, ErrorDetail{
					Message: fmt.Sprintf("%s does not match any of the allowed shapes (check its type field)", loc),
					Code:    "INVALID_SHAPE", In: loc,
				})
				return
			}
			causes = kept
		}
		if len(causes) == 0 {
			loc := "/" + strings.Join(e.InstanceLocation, "/")
			msg := e.ErrorKind.LocalizedString(printer)
			d := ErrorDetail{Message: fmt.Sprintf("%s: %s", loc, msg), Code: code(e.ErrorKind), In: loc}
			if r, ok := e.ErrorKind.(*kind.Required); ok {
				d.Context = map[string][]string{"propertyName": r.Missing}
			} else if len(e.InstanceLocation) > 0 {
				d.Context = map[string][]string{"propertyName": {e.InstanceLocation[len(e.InstanceLocation)-1]}}
			}
			add(&out, seen, d)
			return
		}
		for _, c := range causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(out, func(i, j int) bool { return out[i].In < out[j].In })
	return out
}

var discriminators = map[string]bool{"type": true, "filterType": true, "operationType": true, "filterBranchType": true}

func discriminatorMismatch(e *jsonschema.ValidationError, base int) bool {
	switch e.ErrorKind.(type) {
	case *kind.Enum, *kind.Const:
		loc := e.InstanceLocation
		return len(loc) == base+1 && discriminators[loc[base]]
	case *kind.OneOf, *kind.AnyOf:
		return false // a nested choice judges its own discriminators
	}
	for _, c := range e.Causes {
		if discriminatorMismatch(c, base) {
			return true
		}
	}
	return false
}

func add(out *[]ErrorDetail, seen map[string]bool, d ErrorDetail) {
	if seen[d.Message] {
		return
	}
	seen[d.Message] = true
	*out = append(*out, d)
}

func code(k jsonschema.ErrorKind) string {
	switch k.(type) {
	case *kind.Required:
		return "REQUIRED"
	case *kind.Type:
		return "INVALID_TYPE"
	case *kind.Enum, *kind.Const:
		return "INVALID_ENUM"
	case *kind.Format:
		return "INVALID_FORMAT"
	}
	return "INVALID"
}
