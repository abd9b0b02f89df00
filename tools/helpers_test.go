package tools_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
	"github.com/lastmile/lastmile/tools"
)

// epoch is the test clock's start. Every reading advances it by one
// millisecond, so ids and "newest first" lists have a defined order while
// staying reproducible.
var epoch = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// The protocol versions the suite speaks. "" is mcp-go's default, which
// negotiates the modern 2026-07-28 core.
const (
	protoDefault = ""
	proto1125    = mcp.ProtocolVersion20251125
	proto0618    = mcp.ProtocolVersion20250618
)

// protocols is every client era a test that matters runs under.
var protocols = []string{protoDefault, proto1125, proto0618}

func protoName(p string) string {
	if p == "" {
		return "default"
	}
	return p
}

type harnessConfig struct {
	protocol string
	dir      string
	memory   bool
	policy   *governance.Policy
}

type option func(*harnessConfig)

// withProtocol pins the client's protocol version.
func withProtocol(v string) option { return func(c *harnessConfig) { c.protocol = v } }

// withPolicy serves under p instead of the default (empty) policy.
func withPolicy(p *governance.Policy) option { return func(c *harnessConfig) { c.policy = p } }

// withDir reuses a data directory (to restart a server on it).
func withDir(dir string) option { return func(c *harnessConfig) { c.dir = dir } }

// withMemoryStore swaps bbolt (one fsync per write) for the in-memory
// store; the fuzz target uses it to keep executions cheap.
func withMemoryStore() option { return func(c *harnessConfig) { c.memory = true } }

// harness is the whole stack over a temporary data directory: bbolt store,
// the local target reading contacts.csv, the default (empty) policy, a
// deterministic clock, the MCP server, and an initialized in-process client.
type harness struct {
	t      testing.TB
	dir    string
	sb     *sandbox.Sandbox
	srv    *server.MCPServer
	c      *client.Client
	init   *mcp.InitializeResult
	closed bool
	close  func()
}

func newHarness(t testing.TB, opts ...option) *harness {
	t.Helper()
	cfg := harnessConfig{}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.dir == "" {
		cfg.dir = t.TempDir()
	}
	contacts := filepath.Join(cfg.dir, "contacts.csv")
	if _, err := os.Stat(contacts); err != nil {
		if err := os.WriteFile(contacts, []byte(local.SampleContacts), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var ticks atomic.Int64
	now := func() time.Time { return epoch.Add(time.Duration(ticks.Add(1)) * time.Millisecond) }

	var st store.Store
	var closeStore func() error
	if cfg.memory {
		st, closeStore = store.NewMemory(), func() error { return nil }
	} else {
		b, err := store.OpenBolt(cfg.dir)
		if err != nil {
			t.Fatal(err)
		}
		st, closeStore = b, b.Close
	}
	lt, err := local.New("local", cfg.dir, local.Config{}, local.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.policy == nil {
		cfg.policy = governance.Default()
	}
	sb, err := sandbox.New(sandbox.Options{
		Store:   st,
		Config:  sandbox.DefaultConfig(),
		Targets: map[string]sandbox.Target{"local": lt},
		Policy:  sandbox.StaticPolicy{P: cfg.policy},
		Now:     now,
		DataDir: cfg.dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := tools.New(sb, tools.Options{Version: "test"})

	var copts []client.ClientOption
	if cfg.protocol != "" {
		copts = append(copts, client.WithProtocolVersion(cfg.protocol))
	}
	c := stdioClient(t, srv, copts...)
	ctx := context.Background()
	req := mcp.InitializeRequest{}
	req.Params.ClientInfo = mcp.Implementation{Name: "lastmile-test", Version: "0"}
	res, err := c.Initialize(ctx, req)
	if err != nil {
		t.Fatalf("initialize (%s): %v", protoName(cfg.protocol), err)
	}
	h := &harness{t: t, dir: cfg.dir, sb: sb, srv: srv, c: c, init: res}
	h.close = func() {
		if h.closed {
			return
		}
		h.closed = true
		c.Close()
		closeStore()
	}
	t.Cleanup(h.close)
	return h
}

// stdioClient starts srv on the production stdio transport (ServeStdio)
// over in-process pipes and returns a started mcp-go client speaking to it
// as a client speaks to the binary. Closing the client closes the server's
// stdin; the server has stopped when the test's cleanup returns.
func stdioClient(t testing.TB, srv *server.MCPServer, opts ...client.ClientOption) *client.Client {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := tools.ServeStdio(context.Background(), srv, inR, outW, nil); err != nil {
			t.Errorf("ServeStdio: %v", err)
		}
		outW.Close()
	}()
	c := client.NewClient(transport.NewIO(outR, inW, io.NopCloser(strings.NewReader(""))), opts...)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		inW.Close()
		select {
		case <-served:
		case <-time.After(30 * time.Second):
			t.Error("the stdio server did not stop 30 s after its client closed stdin")
		}
	})
	return c
}

// Close stops the client and releases the store, as a server exit would.
func (h *harness) Close() { h.close() }

// callRaw calls a tool and returns whatever came back, protocol errors included.
func (h *harness) callRaw(name string, args any) (*mcp.CallToolResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return h.c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name, Arguments: args}})
}

// call calls a tool; a protocol (JSON-RPC) error fails the test, since no
// user mistake may produce one.
func (h *harness) call(t testing.TB, name string, args any) *mcp.CallToolResult {
	t.Helper()
	res, err := h.callRaw(name, args)
	if err != nil {
		t.Fatalf("%s: protocol error (user mistakes must be tool errors): %v", name, err)
	}
	if res == nil {
		t.Fatalf("%s: nil result", name)
	}
	return res
}

// text joins the text content of a result.
func text(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := mcp.AsTextContent(c); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// obj is a decoded structured result.
type obj = map[string]any

// mustOK fails unless the result succeeded, and returns its structured
// content as a JSON object.
func mustOK(t testing.TB, res *mcp.CallToolResult) obj {
	t.Helper()
	if res.IsError {
		t.Fatalf("want success, got tool error:\n%s", text(res))
	}
	if res.StructuredContent == nil {
		t.Fatalf("success without structuredContent:\n%s", text(res))
	}
	var out obj
	decodeInto(t, res.StructuredContent, &out)
	return out
}

func decodeInto(t testing.TB, from, to any) {
	t.Helper()
	data, err := json.Marshal(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, to); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}

// mustToolError fails unless the result is a tool error whose text contains
// every wanted substring (case-sensitive), and returns the text.
func mustToolError(t testing.TB, res *mcp.CallToolResult, want ...string) string {
	t.Helper()
	msg := text(res)
	if !res.IsError {
		t.Fatalf("want a tool error containing %q, got success:\n%s", want, msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("tool error lacks %q:\n%s", w, msg)
		}
	}
	for _, bad := range []string{"panic", "runtime error", "goroutine ", "&{", "internal error"} {
		if strings.Contains(msg, bad) {
			t.Errorf("tool error reads like a crash or a Go dump (%q):\n%s", bad, msg)
		}
	}
	return msg
}

// str reads a string field of a decoded object.
func str(t testing.TB, o obj, key string) string {
	t.Helper()
	s, ok := o[key].(string)
	if !ok {
		t.Fatalf("field %q is %T (%v), not a string, in %v", key, o[key], o[key], o)
	}
	return s
}

// num reads a numeric field of a decoded object.
func num(t testing.TB, o obj, key string) int {
	t.Helper()
	f, ok := o[key].(float64)
	if !ok {
		t.Fatalf("field %q is %T (%v), not a number, in %v", key, o[key], o[key], o)
	}
	return int(f)
}

// rawToolsList returns every tool exactly as tools/list puts it on the wire.
// (mcp.Tool has no UnmarshalJSON, so a decoded Tool loses schema details.)
func (h *harness) rawToolsList(t testing.TB) []json.RawMessage {
	t.Helper()
	if h.init.ProtocolVersion != proto1125 && h.init.ProtocolVersion != proto0618 {
		t.Fatalf("rawToolsList needs a legacy session, have %s", h.init.ProtocolVersion)
	}
	var out []json.RawMessage
	cursor := ""
	for page := 0; page < 100; page++ {
		params := map[string]any{}
		if cursor != "" {
			params["cursor"] = cursor
		}
		resp, err := h.c.GetTransport().SendRequest(context.Background(), transport.JSONRPCRequest{
			JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(int64(1000 + page)), Method: "tools/list", Params: params,
		})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Error != nil {
			t.Fatalf("tools/list: %+v", resp.Error)
		}
		var r struct {
			Tools      []json.RawMessage `json:"tools"`
			NextCursor string            `json:"nextCursor"`
		}
		if err := json.Unmarshal(resp.Result, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Tools...)
		if r.NextCursor == "" {
			return out
		}
		cursor = r.NextCursor
	}
	t.Fatal("tools/list pages never end")
	return nil
}

// ---- fixtures: valid arguments each test starts from ----

// newCampaign stages a campaign and returns its id.
func (h *harness) newCampaign(t testing.TB, name string) string {
	t.Helper()
	out := mustOK(t, h.call(t, "create_campaign", obj{"name": name, "markets": []string{"US", "GB"}}))
	return str(t, out, "id")
}

// stage calls a write tool that must succeed and returns its result.
func (h *harness) stage(t testing.TB, tool string, args obj) obj {
	t.Helper()
	return mustOK(t, h.call(t, tool, args))
}

func segmentArgs(cmp string) obj {
	return obj{
		"campaign_id": cmp,
		"name":        "US customers",
		"conditions": []obj{
			{"property": "country", "operator": "eq", "value": "US"},
			{"property": "lifecycle_stage", "operator": "eq", "value": "customer"},
		},
	}
}

func emailArgs(cmp string) obj {
	return obj{
		"campaign_id": cmp,
		"name":        "Launch announcement",
		"subject":     "Meet the new Acme",
		"from_name":   "Acme",
		"from_email":  "news@acme.com",
		"html":        `<html><body><h1>Hello {{ contact.firstname | default: "there" }}</h1><p><a href="https://acme.com/launch">See it</a></p></body></html>`,
	}
}

func blocksEmailArgs(cmp string) obj {
	a := emailArgs(cmp)
	delete(a, "html")
	a["blocks"] = []obj{
		{"type": "heading", "text": "Meet the new Acme"},
		{"type": "paragraph", "text": "It is **faster** and [cheaper](https://acme.com/pricing)."},
		{"type": "button", "text": "See it", "url": "https://acme.com/launch"},
	}
	return a
}

func pageArgs(cmp, slug string) obj {
	return obj{
		"campaign_id": cmp,
		"title":       "Spring launch",
		"slug":        slug,
		"blocks": []obj{
			{"type": "heading", "text": "Spring launch"},
			{"type": "paragraph", "text": "Sign up for the demo."},
		},
		"form": obj{
			"fields": []obj{
				{"name": "email", "label": "Email", "type": "email", "required": true},
				{"name": "consent", "label": "Send me news", "type": "checkbox"},
			},
			"submit_label": "Book a demo",
		},
	}
}

func workflowArgs(cmp, seg, eml string) obj {
	return obj{
		"campaign_id": cmp,
		"name":        "Welcome series",
		"trigger":     obj{"type": "segment_entry", "segment_id": seg},
		"steps": []obj{
			{"id": "welcome", "type": "send_email", "email_id": eml, "next": "wait_2d"},
			{"id": "wait_2d", "type": "wait", "duration": "2d", "next": "check"},
			{"id": "check", "type": "branch", "condition": obj{"segment_id": seg}, "then": "done", "else": "tag"},
			{"id": "tag", "type": "set_property", "property": "nurture", "value": "yes"},
			{"id": "done", "type": "exit"},
		},
	}
}

// with returns a copy of args with the given fields set; a nil value
// deletes the field.
func with(args obj, kv ...any) obj {
	out := obj{}
	for k, v := range args {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
		} else {
			out[k] = kv[i+1]
		}
	}
	return out
}
