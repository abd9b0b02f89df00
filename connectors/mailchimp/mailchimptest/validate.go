package mailchimptest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var printer = message.NewPrinter(language.English)

//go:generate go run gen_schemas.go

// schemasJSON holds the request schemas of the operations the fake serves,
// extracted from Mailchimp's Marketing API 3.0.55 spec by gen_schemas.go.
//
//go:embed testdata/schemas.json
var schemasJSON []byte

var (
	compileOnce sync.Once
	compiled    map[string]*jsonschema.Schema
	compileErr  error
)

// requestSchemas compiles, once per process, one schema per operation
// ("POST /campaigns" → Campaign_1).
func requestSchemas() (map[string]*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemasJSON))
		if err != nil {
			compileErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		const url = "https://lastmile.invalid/mailchimp/schemas.json"
		if err := c.AddResource(url, doc); err != nil {
			compileErr = err
			return
		}
		ops, _ := doc.(map[string]any)["x-operations"].(map[string]any)
		compiled = map[string]*jsonschema.Schema{}
		for op, ref := range ops {
			s, err := c.Compile(url + ref.(string))
			if err != nil {
				compileErr = fmt.Errorf("%s: %w", op, err)
				return
			}
			compiled[op] = s
		}
	})
	return compiled, compileErr
}

// FieldError is one entry of a Mailchimp problem's errors array.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// validateBody checks body against the operation's schema from the spec. It
// returns nil when valid, or the field errors the way Mailchimp reports
// them (dotted field path, message).
func validateBody(op string, body []byte) ([]FieldError, error) {
	schemas, err := requestSchemas()
	if err != nil {
		return nil, err
	}
	s, ok := schemas[op]
	if !ok {
		return nil, nil
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return nil, errJSON
	}
	err = s.Validate(inst)
	if err == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, err
	}
	var out []FieldError
	collect(ve, &out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	// Several alternatives may report the same place; keep one per message.
	seen := map[FieldError]bool{}
	uniq := out[:0]
	for _, fe := range out {
		if !seen[fe] {
			seen[fe] = true
			uniq = append(uniq, fe)
		}
	}
	return uniq, nil
}

var errJSON = errors.New("json parse error")

func collect(e *jsonschema.ValidationError, out *[]FieldError) {
	switch e.ErrorKind.(type) {
	case *kind.OneOf, *kind.AnyOf:
		*out = append(*out, fieldError(e))
		return
	}
	if len(e.Causes) == 0 {
		*out = append(*out, fieldError(e))
		return
	}
	for _, c := range e.Causes {
		collect(c, out)
	}
}

func fieldError(e *jsonschema.ValidationError) FieldError {
	field := strings.Join(e.InstanceLocation, ".")
	if field == "" {
		field = "body"
	}
	return FieldError{Field: field, Message: e.ErrorKind.LocalizedString(printer)}
}

// jsonValid reports whether b parses as JSON.
func jsonValid(b []byte) bool { return json.Valid(b) }
