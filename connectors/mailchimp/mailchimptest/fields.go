package mailchimptest

import (
	"encoding/json"
	"strings"
)

// project applies Mailchimp's fields / exclude_fields query parameters
// (comma-separated dot paths; arrays are traversed element by element) to a
// response value.
func project(v any, fields, exclude string) any {
	if fields == "" && exclude == "" {
		return v
	}
	// Work on the JSON form so structs and maps are treated alike.
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		return v
	}
	if fields != "" {
		out := any(map[string]any{})
		for _, f := range strings.Split(fields, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = keep(tree, out, strings.Split(f, "."))
			}
		}
		tree = out
	}
	if exclude != "" {
		for _, f := range strings.Split(exclude, ",") {
			if f = strings.TrimSpace(f); f != "" {
				dropPath(tree, strings.Split(f, "."))
			}
		}
	}
	return tree
}

// keep copies the value at path from src into dst (which has src's shape).
func keep(src, dst any, path []string) any {
	switch s := src.(type) {
	case map[string]any:
		d, _ := dst.(map[string]any)
		if d == nil {
			d = map[string]any{}
		}
		v, ok := s[path[0]]
		if !ok {
			return d
		}
		if len(path) == 1 {
			d[path[0]] = v
			return d
		}
		switch v.(type) {
		case map[string]any, []any:
			d[path[0]] = keep(v, d[path[0]], path[1:])
		}
		return d
	case []any:
		d, _ := dst.([]any)
		if len(d) != len(s) {
			d = make([]any, len(s))
		}
		for i := range s {
			d[i] = keep(s[i], d[i], path)
		}
		return d
	}
	return dst
}

func dropPath(v any, path []string) {
	switch t := v.(type) {
	case map[string]any:
		if len(path) == 1 {
			delete(t, path[0])
			return
		}
		if c, ok := t[path[0]]; ok {
			dropPath(c, path[1:])
		}
	case []any:
		for _, e := range t {
			dropPath(e, path)
		}
	}
}
