package tools

import (
	_ "embed"
	"encoding/json"
	"sync"
)

// Reflecting twelve input and output schemas costs several milliseconds,
// a fifth of the start-up budget, and the result only changes with the
// code. So the schemas are generated once (UPDATE_SNAPSHOTS=1 go test
// ./tools, with the snapshots) into schemas.json and embedded; a test fails
// when the file and the code disagree.

//go:embed schemas.json
var schemasJSON []byte

type toolSchemas struct {
	Input  json.RawMessage `json:"input"`
	Output json.RawMessage `json:"output"`
}

// reflectSchemas makes build reflect instead of using schemas.json (the
// test that keeps the file current).
var reflectSchemas = false

var embedded = sync.OnceValue(func() map[string]toolSchemas {
	m := map[string]toolSchemas{}
	if err := json.Unmarshal(schemasJSON, &m); err != nil {
		panic("tools/schemas.json: " + err.Error())
	}
	return m
})

func precomputed(name string) (in, out json.RawMessage) {
	if reflectSchemas {
		return nil, nil
	}
	s, ok := embedded()[name]
	if !ok {
		return nil, nil
	}
	return s.Input, s.Output
}
