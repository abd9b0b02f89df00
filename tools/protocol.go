package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// This file holds the protocol rules mcp-go v1.2.1 does not enforce, each
// checked before a message reaches its HandleMessage: an answer to every
// message that deserves one (with the request's id whenever it can be
// read), no request with a null id mistaken for a notification, required
// prompt arguments, and the initialize handshake of a stdio session.

// envelope is what a transport reads of a message to route it.
type envelope struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Params struct {
		Name      string          `json:"name"`
		RequestID json.RawMessage `json:"requestId"` // notifications/cancelled
		Meta      struct {
			ProtocolVersion string `json:"io.modelcontextprotocol/protocolVersion"`
		} `json:"_meta"`
	} `json:"params"`
}

// modern: the request carries its protocol version (2026-07-28 and later)
// and needs no handshake.
func (e envelope) modern() bool { return mcp.IsModernProtocol(e.Params.Meta.ProtocolVersion) }

// isResponse: an answer to a request the server sent.
func (e envelope) isResponse() bool {
	return e.Method == "" && len(e.ID) > 0 && (e.Result != nil || e.Error != nil)
}

// readEnvelope reads a message's envelope, or returns the error response the
// message gets instead.
func readEnvelope(line []byte) (envelope, any) {
	var env envelope
	err := json.Unmarshal(line, &env)
	if err == nil {
		return env, nil
	}
	id := scanID(line)
	if json.Valid(line) {
		return env, errorMessage(id, mcp.INVALID_REQUEST, "Invalid request: "+shapeProblem(err))
	}
	return env, errorMessage(id, mcp.PARSE_ERROR, "Parse error: "+clip(err.Error(), 200))
}

// shapeProblem words why valid JSON is not a request.
func shapeProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field == "" {
		return "a message is one JSON object (batches are not part of MCP)"
	}
	return clip(err.Error(), 200)
}

// scanID finds a top-level "id" in a message that may be malformed or nested
// too deep to decode, reading tokens only as far as the id.
func scanID(line []byte) json.RawMessage {
	d := json.NewDecoder(bytes.NewReader(line))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil
		}
		key, _ := t.(string)
		if key == "id" {
			var id json.RawMessage
			if d.Decode(&id) != nil || !validID(id) {
				return nil
			}
			return id
		}
		if skipValue(d) != nil {
			return nil
		}
	}
	return nil
}

// skipValue reads one value token by token, so that depth costs no stack.
func skipValue(d *json.Decoder) error {
	depth := 0
	for {
		t, err := d.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// validID: JSON-RPC ids are strings or numbers (MCP forbids null).
func validID(id json.RawMessage) bool {
	id = bytes.TrimSpace(id)
	if len(id) == 0 {
		return false
	}
	switch c := id[0]; {
	case c == '"':
		return true
	case c == '-' || c >= '0' && c <= '9':
		return true
	}
	return false
}

// refuse returns the error a request gets before dispatch, or nil.
func refuse(s *server.MCPServer, env envelope, line []byte) any {
	if !validID(env.ID) {
		return errorMessage(nil, mcp.INVALID_REQUEST, "Invalid request: the id must be a string or a number")
	}
	if env.Method == string(mcp.MethodPromptsGet) {
		if msg := missingPromptArguments(s, env.Params.Name, line); msg != "" {
			return errorMessage(env.ID, mcp.INVALID_PARAMS, msg)
		}
	}
	return nil
}

// missingPromptArguments names the required arguments a prompts/get leaves
// out, as the spec asks (-32602).
func missingPromptArguments(s *server.MCPServer, name string, line []byte) string {
	p := s.ListPrompts()[name]
	if p == nil {
		return "" // mcp-go answers an unknown prompt
	}
	var req struct {
		Params struct {
			Arguments map[string]any `json:"arguments"`
		} `json:"params"`
	}
	if json.Unmarshal(line, &req) != nil {
		return fmt.Sprintf("prompt %s: arguments must be an object of strings", name)
	}
	args := req.Params.Arguments
	var missing []string
	for _, a := range p.Prompt.Arguments {
		if v, ok := args[a.Name].(string); a.Required && (!ok || strings.TrimSpace(v) == "") {
			missing = append(missing, a.Name)
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("prompt %s needs the argument %s", name, strings.Join(missing, " and "))
}

// errorMessage is a JSON-RPC error response; id nil is written as null.
func errorMessage(id json.RawMessage, code int, msg string) any {
	var rid any
	if len(id) > 0 {
		rid = id
	}
	return mcp.JSONRPCError{JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(rid), Error: mcp.NewJSONRPCErrorDetails(code, msg, nil)}
}

// handshake refuses, in a legacy session (one that begins with initialize:
// stdio), any request but ping before initialize, and a second initialize.
// Modern requests (protocol version in _meta) need no handshake. An HTTP
// session begins with its own initialize POST.
func handshake(sess server.ClientSession, env envelope) any {
	if env.modern() {
		return nil
	}
	switch {
	case env.Method == string(mcp.MethodInitialize) && sess.Initialized():
		return errorMessage(env.ID, mcp.INVALID_REQUEST, "the session is already initialized; initialize is sent once")
	case env.Method != string(mcp.MethodInitialize) && env.Method != string(mcp.MethodPing) && !sess.Initialized():
		return errorMessage(env.ID, mcp.INVALID_REQUEST, clip(env.Method, 64)+" before initialize: send initialize first")
	}
	return nil
}

// Checked wraps an MCP HTTP handler with the checks stdio makes before
// dispatch, for POSTs of a single message.
func Checked(s *server.MCPServer, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			h.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLine))
		if err != nil {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorMessage(nil, mcp.INVALID_REQUEST, "Invalid request: "+err.Error()))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		env, bad := readEnvelope(body)
		if bad == nil && !env.isResponse() && env.Method != "" && len(env.ID) > 0 {
			bad = refuse(s, env, body)
		}
		if bad != nil {
			writeJSON(w, http.StatusOK, bad)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}

// clip cuts s to at most n bytes, at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
