package main

// A hostile MCP client for the forgery table (forgery_test.go): it speaks raw
// JSON-RPC to the built binary over real stdio or streamable HTTP, in the
// legacy (initialize, 2025-11-25) or modern (2026-07-28, per-request _meta)
// protocol era, so every byte an agent could send is under the test's
// control. Everything the server sends back is kept, to look for the plan
// code in it afterwards.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
)

const (
	legacyVersion = "2025-11-25"
	modernVersion = "2026-07-28"

	// The well-known _meta keys of 2026-07-28 (mcp/meta.go).
	metaProtocolVersion    = "io.modelcontextprotocol/protocolVersion"
	metaClientInfo         = "io.modelcontextprotocol/clientInfo"
	metaClientCapabilities = "io.modelcontextprotocol/clientCapabilities"
)

type rpcErr struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// wireMsg is any JSON-RPC message, either direction.
type wireMsg struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcErr         `json:"error,omitempty"`
}

// forger is one hostile client connection to one server process.
type forger struct {
	t         *testing.T
	transport string // stdio | http
	mode      string // legacy | modern
	dir       string

	cmd    *exec.Cmd
	stderr *syncBuffer

	// stdio
	stdin io.WriteCloser
	lines chan []byte

	// http
	url     string
	session string
	hc      *http.Client

	mu     sync.Mutex
	raw    bytes.Buffer // every byte the server sent
	asked  int          // elicitation/create requests the server sent us
	nextID int

	// modernHeaders sends the 2026-07-28 standard headers even on a legacy
	// session (a mixed-era request).
	modernHeaders bool

	// legacy session identity (re-initialized when a call asks for another)
	sessName   string
	sessElicit bool
	inited     bool
}

// callOpts is what a hostile agent varies per call.
type callOpts struct {
	name      string         // clientInfo.name (modern: per request; legacy: re-initialize)
	elicit    bool           // declare the elicitation capability
	meta      map[string]any // extra _meta keys
	responses map[string]any // params.inputResponses
	state     *string        // params.requestState
	modernIn  bool           // legacy mode: also put the modern _meta keys in (mixed era)
}

func strp(s string) *string { return &s }

// acceptAnswer is the elicitation answer an agent forges.
func acceptAnswer() map[string]any {
	return map[string]any{"approve_plan": map[string]any{"action": "accept", "content": map[string]any{"approve": true}}}
}

func startForger(t *testing.T, transport, mode, dir string) *forger {
	t.Helper()
	f := &forger{t: t, transport: transport, mode: mode, dir: dir, stderr: &syncBuffer{}}
	args := []string{"serve", "--data-dir", dir}
	if transport == "http" {
		args = append(args, "--http", "127.0.0.1:0")
	}
	f.cmd = exec.Command(bin, args...)
	f.cmd.Env = childEnv(t)
	t.Cleanup(func() {
		if f.cmd.Process != nil && f.cmd.ProcessState == nil {
			f.cmd.Process.Kill()
			f.cmd.Wait()
		}
	})
	switch transport {
	case "stdio":
		f.spawnStdio()
	case "http":
		pr, pw := io.Pipe()
		f.cmd.Stderr = io.MultiWriter(pw, f.stderr)
		if err := f.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		found := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(pr)
			sent := false
			for sc.Scan() {
				if u, ok := strings.CutPrefix(sc.Text(), "lastmile: MCP endpoint "); ok && !sent {
					found <- u
					sent = true
				}
			}
		}()
		exited := make(chan struct{})
		go func() { f.cmd.Wait(); pw.Close(); close(exited) }()
		select {
		case f.url = <-found:
		case <-exited:
			t.Fatalf("serve --http exited before listening (stderr:\n%s)", f.stderr.String())
		case <-time.After(safety):
			t.Fatalf("serve --http did not say where it listens (stderr:\n%s)", f.stderr.String())
		}
		f.hc = &http.Client{Timeout: safety}
		t.Cleanup(func() {
			if f.cmd.Process != nil {
				f.cmd.Process.Kill()
			}
			<-exited
		})
	default:
		t.Fatalf("transport %q", transport)
	}
	return f
}

// spawnStdio starts f.cmd with its stdin and stdout as the connection.
func (f *forger) spawnStdio() {
	t := f.t
	f.cmd.Stderr = f.stderr
	stdin, err := f.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := f.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	f.stdin = stdin
	f.lines = make(chan []byte, 64)
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := f.lines
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			line := append([]byte(nil), sc.Bytes()...)
			f.keep(line)
			lines <- line
		}
	}()
}

// reconnectStdio ends the stdio connection and opens a new one to a new
// server process on the same data directory, as a client does to start a
// session under another identity: a session initializes once.
func (f *forger) reconnectStdio() {
	f.stdin.Close()
	for range f.lines {
	}
	f.cmd.Wait()
	f.cmd = exec.Command(f.cmd.Path, f.cmd.Args[1:]...)
	f.cmd.Env = childEnv(f.t)
	f.spawnStdio()
	f.inited = false
}

func (f *forger) keep(b []byte) {
	f.mu.Lock()
	f.raw.Write(b)
	f.raw.WriteByte('\n')
	f.mu.Unlock()
}

func (f *forger) allBytes() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.raw.String()
}

func (f *forger) elicitations() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asked
}

// answerServerRequest is the hostile client's side of a server→client
// request: it accepts every elicitation without showing anyone anything.
func (f *forger) answerServerRequest(m wireMsg) any {
	if m.Method == "elicitation/create" {
		f.mu.Lock()
		f.asked++
		f.mu.Unlock()
		return map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": map[string]any{"action": "accept", "content": map[string]any{"approve": true}}}
	}
	return map[string]any{"jsonrpc": "2.0", "id": m.ID, "error": map[string]any{"code": -32601, "message": "not supported by this client"}}
}

// rpc sends one request and returns its response, answering any server
// requests that arrive meanwhile.
func (f *forger) rpc(method string, params map[string]any) wireMsg {
	f.t.Helper()
	f.nextID++
	id := f.nextID
	msg := map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params}
	if f.transport == "stdio" {
		return f.stdioRPC(id, msg)
	}
	return f.httpRPC(id, method, params, msg)
}

func (f *forger) notify(method string, params map[string]any) {
	f.t.Helper()
	msg := map[string]any{"jsonrpc": "2.0", "method": method, "params": params}
	if f.transport == "stdio" {
		f.stdioSend(msg)
		return
	}
	resp := f.httpPost(msg, method, nil)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func (f *forger) stdioSend(v any) {
	f.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.stdin.Write(append(data, '\n')); err != nil {
		f.t.Fatalf("write to server: %v (stderr:\n%s)", err, f.stderr.String())
	}
}

func (f *forger) stdioRPC(id int, msg any) wireMsg {
	f.t.Helper()
	f.stdioSend(msg)
	deadline := time.After(safety)
	for {
		select {
		case line, ok := <-f.lines:
			if !ok {
				f.t.Fatalf("server closed stdout (stderr:\n%s)", f.stderr.String())
			}
			var m wireMsg
			if json.Unmarshal(line, &m) != nil {
				continue
			}
			if m.Method != "" {
				if len(m.ID) > 0 {
					f.stdioSend(f.answerServerRequest(m))
				}
				continue
			}
			if string(m.ID) == strconv.Itoa(id) {
				return m
			}
		case <-deadline:
			f.t.Fatalf("no response to request %d (stderr:\n%s)", id, f.stderr.String())
		}
	}
}

func (f *forger) httpPost(msg any, method string, params map[string]any) *http.Response {
	f.t.Helper()
	data, err := json.Marshal(msg)
	if err != nil {
		f.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, f.url, bytes.NewReader(data))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if f.session != "" {
		req.Header.Set("Mcp-Session-Id", f.session)
	}
	if (f.mode == "modern" || f.modernHeaders) && method != "" {
		// The standard headers of 2026-07-28 must agree with the body.
		req.Header.Set("Mcp-Protocol-Version", modernVersion)
		req.Header.Set("Mcp-Method", method)
		switch method {
		case "tools/call", "prompts/get":
			req.Header.Set("Mcp-Name", fmt.Sprint(params["name"]))
		case "resources/read":
			req.Header.Set("Mcp-Name", fmt.Sprint(params["uri"]))
		}
	} else if f.inited {
		req.Header.Set("Mcp-Protocol-Version", legacyVersion)
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		f.t.Fatalf("POST %s: %v (stderr:\n%s)", method, err, f.stderr.String())
	}
	return resp
}

func (f *forger) httpRPC(id int, method string, params map[string]any, msg any) wireMsg {
	f.t.Helper()
	resp := f.httpPost(msg, method, params)
	defer resp.Body.Close()
	if sid := resp.Header.Get("Mcp-Session-Id"); sid != "" && method == "initialize" {
		f.session = sid
	}
	ct := resp.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "text/event-stream") {
		rd := bufio.NewReader(resp.Body)
		var data []string
		for {
			line, err := rd.ReadString('\n')
			line = strings.TrimRight(line, "\r\n")
			if line == "" && len(data) > 0 {
				payload := []byte(strings.Join(data, "\n"))
				data = nil
				f.keep(payload)
				var m wireMsg
				if json.Unmarshal(payload, &m) == nil {
					if m.Method != "" {
						if len(m.ID) > 0 {
							// Answer on a separate POST, as streamable HTTP clients do.
							r := f.httpPost(f.answerServerRequest(m), "", nil)
							io.Copy(io.Discard, r.Body)
							r.Body.Close()
						}
					} else if string(m.ID) == strconv.Itoa(id) {
						return m
					}
				}
			} else if d, ok := strings.CutPrefix(line, "data:"); ok {
				data = append(data, strings.TrimPrefix(d, " "))
			}
			if err != nil {
				f.t.Fatalf("%s: SSE stream ended without a response (HTTP %d; stderr:\n%s)", method, resp.StatusCode, f.stderr.String())
			}
		}
	}
	body, _ := io.ReadAll(resp.Body)
	f.keep(body)
	var m wireMsg
	if err := json.Unmarshal(body, &m); err != nil {
		f.t.Fatalf("%s: HTTP %d, body not JSON-RPC: %q", method, resp.StatusCode, body)
	}
	return m
}

// initialize runs the legacy handshake under a client name, with or without
// the elicitation capability. Over stdio a second call re-initializes the
// same connection (an attack in itself); over HTTP it opens a new session.
func (f *forger) initialize(name string, elicit bool) {
	f.t.Helper()
	caps := map[string]any{}
	if elicit {
		caps["elicitation"] = map[string]any{}
	}
	if f.transport == "http" {
		f.session = ""
	} else if f.inited {
		// A second initialize on one connection is refused (tested in
		// the tools package); another identity takes another session.
		f.reconnectStdio()
	}
	m := f.rpc("initialize", map[string]any{"protocolVersion": legacyVersion, "capabilities": caps,
		"clientInfo": map[string]any{"name": name, "version": "0"}})
	if m.Error != nil {
		if f.inited {
			f.t.Logf("re-initialize as %q refused: %d %s", name, m.Error.Code, m.Error.Message)
			return
		}
		f.t.Fatalf("initialize: %+v", m.Error)
	}
	f.inited = true
	f.sessName, f.sessElicit = name, elicit
	f.notify("notifications/initialized", map[string]any{})
}

// toolReply is what came back from one tools/call.
type toolReply struct {
	Raw        json.RawMessage
	RPCErr     *rpcErr
	IsError    bool
	ResultType string
	State      string
	InputReqs  map[string]json.RawMessage
	SC         map[string]any
	Text       string
}

func (r toolReply) String() string {
	if r.RPCErr != nil {
		return fmt.Sprintf("JSON-RPC error %d %s", r.RPCErr.Code, r.RPCErr.Message)
	}
	return string(r.Raw)
}

// promoted reports whether a reply is a successful promotion.
func (r toolReply) promoted() bool {
	return r.RPCErr == nil && !r.IsError && r.ResultType != "input_required" && r.SC != nil && r.SC["status"] == "promoted"
}

func (f *forger) call(tool string, args map[string]any, o callOpts) toolReply {
	f.t.Helper()
	name := o.name
	if name == "" {
		name = "forge-agent"
	}
	params := map[string]any{"name": tool, "arguments": args}
	meta := map[string]any{}
	if f.mode == "modern" || o.modernIn {
		caps := map[string]any{}
		if o.elicit {
			caps["elicitation"] = map[string]any{}
		}
		meta[metaProtocolVersion] = modernVersion
		meta[metaClientInfo] = map[string]any{"name": name, "version": "0"}
		meta[metaClientCapabilities] = caps
	}
	if f.mode == "legacy" && (!f.inited || f.sessName != name || f.sessElicit != o.elicit) {
		f.initialize(name, o.elicit)
	}
	for k, v := range o.meta {
		meta[k] = v
	}
	if len(meta) > 0 {
		params["_meta"] = meta
	}
	if o.responses != nil {
		params["inputResponses"] = o.responses
	}
	if o.state != nil {
		params["requestState"] = *o.state
	}
	f.modernHeaders = o.modernIn
	m := f.rpc("tools/call", params)
	f.modernHeaders = false
	rep := toolReply{Raw: m.Result, RPCErr: m.Error}
	if m.Error != nil {
		return rep
	}
	var res struct {
		IsError           bool                       `json:"isError"`
		ResultType        string                     `json:"resultType"`
		RequestState      string                     `json:"requestState"`
		InputRequests     map[string]json.RawMessage `json:"inputRequests"`
		StructuredContent map[string]any             `json:"structuredContent"`
		Content           []struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(m.Result, &res); err != nil {
		f.t.Fatalf("%s: %v in %s", tool, err, m.Result)
	}
	rep.IsError, rep.ResultType, rep.State, rep.InputReqs, rep.SC = res.IsError, res.ResultType, res.RequestState, res.InputRequests, res.StructuredContent
	var parts []string
	for _, c := range res.Content {
		parts = append(parts, c.Text)
	}
	rep.Text = strings.Join(parts, "\n")
	return rep
}

// read reads a resource (its bytes are kept for the leak check).
func (f *forger) read(uri string) {
	f.t.Helper()
	params := map[string]any{"uri": uri}
	if f.mode == "modern" {
		params["_meta"] = map[string]any{metaProtocolVersion: modernVersion,
			metaClientInfo: map[string]any{"name": "forge-agent", "version": "0"}, metaClientCapabilities: map[string]any{}}
	} else if !f.inited {
		f.initialize("forge-agent", false)
	}
	if m := f.rpc("resources/read", params); m.Error != nil {
		f.t.Errorf("resources/read %s: %d %s", uri, m.Error.Code, m.Error.Message)
	}
}

func (f *forger) stage(tool string, args map[string]any) map[string]any {
	f.t.Helper()
	r := f.call(tool, args, callOpts{})
	if r.RPCErr != nil || r.IsError || r.SC == nil {
		f.t.Fatalf("%s: want success, got %s", tool, r)
	}
	return r.SC
}

// stageSmall stages a campaign that passes the sample policy: a segment of
// two static addresses, an email to it and (when slug is set) a page.
func (f *forger) stageSmall(slug string) (campaign, email string) {
	f.t.Helper()
	c := f.stage("create_campaign", map[string]any{"name": "Forgery " + slug, "markets": []string{"US"}, "industry": "retail",
		"utm": map[string]any{"source": "newsletter", "medium": "email", "campaign": "forgery"}})
	campaign = c["id"].(string)
	seg := f.stage("build_segment", map[string]any{"campaign_id": campaign, "name": "Two people " + slug,
		"static_emails": []string{"grace@example.com", "barbara@example.com"}})
	em := f.stage("create_email", map[string]any{"campaign_id": campaign, "name": "Hello " + slug, "subject": "News from Acme",
		"preview_text": "What is new this month.", "from_name": "Acme", "from_email": "news@acme.com", "audience": map[string]any{"include": []string{seg["id"].(string)}},
		"blocks": []map[string]any{{"type": "heading", "text": "What is new"}, {"type": "paragraph", "text": "Hi {{ contact.firstname | default: \"there\" }}, see [the news](https://www.acme.com/news)."}}})
	email = em["id"].(string)
	if slug != "" {
		f.stage("publish_page", map[string]any{"campaign_id": campaign, "title": "News", "slug": "forgery-" + slug,
			"blocks": []map[string]any{{"type": "heading", "text": "News"}}})
	}
	return campaign, email
}

// plan runs plan_promotion and checks its result carries no code.
func (f *forger) plan(campaign string) (id, hash string) {
	f.t.Helper()
	p := f.stage("plan_promotion", map[string]any{"campaign_id": campaign})
	noCodeInPlan(f.t, "plan_promotion", p)
	id, _ = p["id"].(string)
	hash, _ = p["hash"].(string)
	if id == "" || hash == "" {
		f.t.Fatalf("plan_promotion result lacks id or hash: %v", p)
	}
	g := f.stage("get_plan", map[string]any{"plan_id": id})
	noCodeInPlan(f.t, "get_plan", g)
	// Read what the resources show too, so the leak check sees it.
	f.read("lastmile://campaigns/" + campaign)
	f.read("lastmile://plans/" + id + "/preview")
	return id, hash
}

func noCodeInPlan(t *testing.T, tool string, sc map[string]any) {
	t.Helper()
	for _, k := range []string{"code", "Code", "approval_code", "read_back_code"} {
		if _, ok := sc[k]; ok {
			t.Errorf("%s result carries a %q field: an agent could approve with it", tool, k)
		}
	}
}

func (f *forger) stop() {
	if f.transport == "stdio" && f.stdin != nil {
		f.stdin.Close()
		done := make(chan struct{})
		go func() {
			for range f.lines {
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(safety):
		}
		f.cmd.Wait()
		return
	}
	if f.cmd.Process != nil {
		f.cmd.Process.Kill()
	}
}

// ---- the data directory ----

// initDir makes a fresh data directory with the sample policy.
func initDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	initSample(t, dir)
	return dir
}

// elicitationPolicy is the policy section that lets a solicited elicitation
// answer count (as at most one approver, for plans reaching ≤ max).
func elicitationPolicy(max int) string {
	return fmt.Sprintf("\napproval:\n  channels:\n    cli: {}\n    elicitation: {max_recipients: %d}\n", max)
}

// setApprovalSection replaces the policy's approval section (the sample
// policy has one) with section.
func setApprovalSection(t *testing.T, path, section string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, replaceApprovalSection(data, strings.TrimPrefix(section, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// requireApprovers makes every plan in dir need n approvers.
func requireApprovers(t *testing.T, dir string, n int) {
	t.Helper()
	p := filepath.Join(dir, sandbox.ConfigFile)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.Contains(s, "  approvals: 1\n") {
		t.Fatalf("%s has no plans.approvals line to raise:\n%s", sandbox.ConfigFile, s)
	}
	s = strings.Replace(s, "  approvals: 1\n", fmt.Sprintf("  approvals: %d\n", n), 1)
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

var liveFolders = []string{"outbox", "site", "emails", "segments", "pages", "workflows"}

// liveUntouched checks that nothing went live into the data directory.
func liveUntouched(t *testing.T, dir string) {
	t.Helper()
	for _, d := range liveFolders {
		filepath.WalkDir(filepath.Join(dir, d), func(path string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				t.Errorf("went live without a human: %s", path)
			}
			return nil
		})
	}
	if data, err := os.ReadFile(filepath.Join(dir, "events.jsonl")); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			var e struct {
				Type string `json:"type"`
			}
			if json.Unmarshal([]byte(l), &e) == nil && e.Type == "sent" {
				t.Errorf("events.jsonl records a send: %s", l)
			}
		}
	}
}

type auditEntry struct {
	Seq    uint64         `json:"seq"`
	Actor  string         `json:"actor"`
	Action string         `json:"action"`
	Object string         `json:"object"`
	Detail map[string]any `json:"detail"`
}

func readAudit(t *testing.T, dir string) []auditEntry {
	t.Helper()
	out, errOut, code := runBin(t, "audit", "--json", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("audit: %d %s", code, errOut)
	}
	var es []auditEntry
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		var e auditEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		es = append(es, e)
	}
	return es
}

func approvalsOf(es []auditEntry, plan string) []auditEntry {
	var out []auditEntry
	for _, e := range es {
		if e.Action == "approve_plan" && (plan == "" || e.Object == plan) {
			out = append(out, e)
		}
	}
	return out
}

// refusedElicitations are the audited refusals of an elicitation answer.
func refusedElicitations(es []auditEntry, plan string) []auditEntry {
	var out []auditEntry
	for _, e := range es {
		if e.Action != "approval_refused" || (plan != "" && e.Object != plan) {
			continue
		}
		if ch, _ := e.Detail["channel"].(string); ch != "elicitation" {
			continue
		}
		if r, _ := e.Detail["reason"].(string); r == "" {
			continue
		}
		out = append(out, e)
	}
	return out
}

func auditLines(es []auditEntry) string {
	var b strings.Builder
	for _, e := range es {
		d, _ := json.Marshal(e.Detail)
		fmt.Fprintf(&b, "  %d %s %s %s %s\n", e.Seq, e.Actor, e.Action, e.Object, d)
	}
	return b.String()
}

// planCodes reads the plans' read-back codes from the store, as an agent
// with a shell could; the test uses them only to look for leaks and to try
// them on the CLI.
func planCodes(t *testing.T, dir string, plans ...string) map[string]string {
	t.Helper()
	st, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer st.Close()
	codes := map[string]string{}
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	err = st.View(ctx, func(tx store.Tx) error {
		for _, p := range plans {
			v, err := tx.Get("plan_codes", p)
			if err != nil {
				return err
			}
			if len(v) > 0 {
				codes[p] = string(v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read plan codes: %v", err)
	}
	return codes
}

// noCodeLeak checks that no byte the server sent carries a plan's code, and
// that no text tells the agent about --code.
func (f *forger) noCodeLeak(plans ...string) {
	f.t.Helper()
	all := f.allBytes()
	for p, c := range planCodes(f.t, f.dir, plans...) {
		if strings.Contains(all, c) {
			f.t.Errorf("the code of plan %s (%s) appears in what the server sent the agent", p, c)
		}
	}
	if strings.Contains(all, "--code") {
		f.t.Errorf("a server message mentions --code: an agent learns how to approve from a script")
	}
}
