package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/mark3labs/mcp-go/server"
)

// batchVersion is the one protocol version whose HTTP transport allows
// JSON-RPC batches (2025-06-18 removed them). A client of it sends no
// MCP-Protocol-Version header, and the transport spec has servers assume
// it when the header is absent.
const batchVersion = "2025-03-26"

// isBatch reports whether a POST body is a JSON-RPC batch: an array.
func isBatch(body []byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && b[0] == '['
}

// serveBatch answers a batch of a 2025-03-26 session. mcp-go takes one
// message per request, so each message of the batch goes through its
// handler on its own, in order, as the request it would have been alone
// (same headers, same session, same principal): the one road every MCP
// message takes. The answers are returned together: a JSON array of the
// responses, or 202 when the batch held only notifications and responses.
func (g *httpGuard) serveBatch(w http.ResponseWriter, r *http.Request, body []byte) {
	var msgs []json.RawMessage
	if err := json.Unmarshal(body, &msgs); err != nil || len(msgs) == 0 {
		writeRPCError(w, nil, -32600, "Invalid Request: a batch is a non-empty JSON array of JSON-RPC messages")
		return
	}
	sid := r.Header.Get(server.HeaderKeySessionID)
	if sid == "" {
		// initialize may not be batched, so a batch belongs to a session.
		http.Error(w, "Bad Request: Mcp-Session-Id header is required (initialize cannot be part of a batch)", http.StatusBadRequest)
		return
	}
	if ended, err := g.sessions.ResolveSessionIdManager(r).Validate(sid); err != nil || ended {
		http.Error(w, "Not Found: no such session (initialize a new one)", http.StatusNotFound)
		return
	}
	var out []json.RawMessage
	for _, m := range msgs {
		var head struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if json.Unmarshal(m, &head) != nil {
			out = append(out, rpcError(nil, -32600, "Invalid Request"))
			continue
		}
		if head.Method == "initialize" {
			out = append(out, rpcError(head.ID, -32600, "Invalid Request: initialize cannot be part of a batch"))
			continue
		}
		one := r.Clone(r.Context())
		one.Body, one.ContentLength = io.NopCloser(bytes.NewReader(m)), int64(len(m))
		rec := &recorder{header: http.Header{}}
		g.next.ServeHTTP(rec, one)
		switch {
		case rec.code == http.StatusAccepted:
			// a notification or a response: nothing to answer
		case rec.code != http.StatusOK:
			// The transport refused the message (the session ended meanwhile,
			// say): the batch is answered as that message was.
			w.Header().Set("Content-Type", rec.header.Get("Content-Type"))
			w.WriteHeader(rec.code)
			w.Write(rec.body.Bytes())
			return
		default:
			if resp := responseOf(rec); resp != nil {
				out = append(out, resp)
			}
		}
	}
	if len(out) == 0 {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	data, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json")
	w.Write(data)
}

// responseOf is the JSON-RPC response in a recorded answer: the body of
// an application/json answer, or the last message with an id of an event
// stream (the response follows the progress notifications that a stream
// carries first).
func responseOf(rec *recorder) json.RawMessage {
	if !strings.HasPrefix(rec.header.Get("Content-Type"), "text/event-stream") {
		return bytes.TrimSpace(rec.body.Bytes())
	}
	var last json.RawMessage
	sc := bufio.NewScanner(&rec.body)
	sc.Buffer(make([]byte, 0, 64*1024), maxHTTPBody*4)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data:")
		if !ok {
			continue
		}
		var m struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal([]byte(data), &m) == nil && len(m.ID) > 0 && string(m.ID) != "null" {
			last = json.RawMessage(strings.TrimSpace(data))
		}
	}
	return last
}

func rpcError(id json.RawMessage, code int, msg string) json.RawMessage {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	data, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "error": map[string]any{"code": code, "message": msg}})
	return data
}

func writeRPCError(w http.ResponseWriter, id json.RawMessage, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	w.Write(rpcError(id, code, msg))
}

// recorder keeps one message's answer for serveBatch.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.body.Write(b)
}

// Flush lets mcp-go stream into the recorder as into a connection.
func (r *recorder) Flush() {}
