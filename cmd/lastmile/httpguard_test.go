package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// httpServer is a running lastmile serve --http, with a client.
type httpServer struct {
	*serveProc
	t      *testing.T
	origin string // http://127.0.0.1:PORT
	hc     *http.Client
}

func startHTTP(t *testing.T, args ...string) *httpServer {
	t.Helper()
	return startHTTPAt(t, "127.0.0.1:0", nil, args...)
}

// startHTTPAt serves --http addr; a later --data-dir in args wins.
func startHTTPAt(t *testing.T, addr string, env []string, args ...string) *httpServer {
	t.Helper()
	p, err := spawnServe(t, addr, env, append([]string{"--data-dir", t.TempDir()}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	s := &httpServer{serveProc: p, t: t, hc: &http.Client{Timeout: safety}}
	s.origin = strings.TrimSuffix(s.url, "/mcp")
	if _, port, ok := strings.Cut(strings.TrimPrefix(s.origin, "http://"), "]:"); ok {
		// Listening on every address ([::]:PORT): reach it on loopback.
		s.origin = "http://127.0.0.1:" + port
		s.url = s.origin + "/mcp"
	} else if h, port, _ := strings.Cut(strings.TrimPrefix(s.origin, "http://"), ":"); h == "0.0.0.0" {
		s.origin = "http://127.0.0.1:" + port
		s.url = s.origin + "/mcp"
	}
	return s
}

// serveProc is a running `lastmile serve --http`, killed when the test ends.
type serveProc struct {
	cmd    *exec.Cmd
	url    string // the endpoint it said it serves, http://ADDR/mcp
	stderr *syncBuffer
	exited chan struct{}
}

// spawnServe starts `lastmile serve --http addr args…` with the test's
// child environment and env, and waits until it says where it listens.
func spawnServe(tb testing.TB, addr string, env []string, args ...string) (*serveProc, error) {
	tb.Helper()
	p := &serveProc{stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--http", addr}, args...)...)
	p.cmd.Env = append(childEnv(tb), env...)
	pr, pw := io.Pipe()
	p.cmd.Stderr = io.MultiWriter(pw, p.stderr)
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "lastmile: MCP endpoint "); ok {
				found <- u
			}
		}
	}()
	go func() { p.cmd.Wait(); pw.Close(); close(p.exited) }()
	tb.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	select {
	case p.url = <-found:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("serve --http exited before listening (stderr:\n%s)", p.stderr.String())
	case <-time.After(safety):
		return nil, fmt.Errorf("serve --http did not say where it listens (stderr:\n%s)", p.stderr.String())
	}
}

// req sends one request; hdr sets headers ("Host" sets the Host).
func (s *httpServer) req(method, path string, body []byte, hdr map[string]string) (*http.Response, string) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.origin+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

func rpcBody(id int, method string, params map[string]any) []byte {
	m := map[string]any{"jsonrpc": "2.0", "method": method, "params": params}
	if id != 0 {
		m["id"] = id
	}
	data, _ := json.Marshal(m)
	return data
}

var initBody = rpcBody(1, "initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{},
	"clientInfo": map[string]any{"name": "guard-test", "version": "0"}})

// initialize opens a 2025-11-25 session and returns its id.
func (s *httpServer) initialize() string {
	s.t.Helper()
	resp, body := s.req(http.MethodPost, "/mcp", initBody, nil)
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || sid == "" {
		s.t.Fatalf("initialize: %d session %q %s", resp.StatusCode, sid, body)
	}
	s.req(http.MethodPost, "/mcp", rpcBody(0, "notifications/initialized", nil), map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"})
	return sid
}

// serve --http checks Origin against the server's own origins and
// --allow-origin, and Host against loopback names (DNS rebinding).
func TestServeHTTPOriginAndHost(t *testing.T) {
	s := startHTTP(t, "--allow-origin", "https://Agent.example.com/")
	_, port, _ := strings.Cut(strings.TrimPrefix(s.origin, "http://"), ":")
	for _, c := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"no Origin (not a browser)", nil, 200},
		{"own origin", map[string]string{"Origin": s.origin}, 200},
		{"own origin as localhost", map[string]string{"Origin": "http://localhost:" + port}, 200},
		{"allowed origin", map[string]string{"Origin": "https://agent.example.com"}, 200},
		{"foreign origin", map[string]string{"Origin": "https://evil.example"}, 403},
		{"allowed host, other scheme", map[string]string{"Origin": "http://agent.example.com"}, 403},
		{"own host, other port", map[string]string{"Origin": "http://127.0.0.1:1"}, 403},
		{"opaque origin", map[string]string{"Origin": "null"}, 403},
		{"rebound Host", map[string]string{"Host": "evil.example:" + port}, 403},
		{"rebound Host with own Origin", map[string]string{"Host": "evil.example:" + port, "Origin": "http://evil.example:" + port}, 403},
		{"localhost Host", map[string]string{"Host": "localhost:" + port}, 200},
	} {
		resp, body := s.req(http.MethodPost, "/mcp", initBody, c.hdr)
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d: %s", c.name, resp.StatusCode, c.want, body)
		}
	}
	// A page from an allowed origin may read the answers (CORS), with the
	// headers a session's requests carry; a foreign one may not ask.
	pre := map[string]string{"Origin": "https://agent.example.com", "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "content-type,mcp-session-id,mcp-protocol-version"}
	resp, _ := s.req(http.MethodOptions, "/mcp", nil, pre)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://agent.example.com" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Mcp-Protocol-Version") {
		t.Errorf("preflight from the allowed origin: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = s.req(http.MethodPost, "/mcp", initBody, map[string]string{"Origin": "https://agent.example.com"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://agent.example.com" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Mcp-Session-Id") {
		t.Errorf("initialize from the allowed origin: CORS headers %v", resp.Header)
	}
	pre["Origin"] = "https://evil.example"
	if resp, _ := s.req(http.MethodOptions, "/mcp", nil, pre); resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from a foreign origin: %d %v", resp.StatusCode, resp.Header)
	}
}

// Only /mcp serves MCP: a GET elsewhere is 404, not an event stream.
func TestServeHTTPOnlyMCPPath(t *testing.T) {
	s := startHTTP(t)
	s.hc.Timeout = 30 * time.Second // a stream that never ends fails here
	sid := s.initialize()
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/.well-known/oauth-protected-resource"},
		{http.MethodGet, "/"},
		{http.MethodPost, "/"},
		{http.MethodPost, "/mcp/"},
		{http.MethodPost, "/sse"},
		{http.MethodDelete, "/other"},
	} {
		resp, body := s.req(c.method, c.path, initBody, map[string]string{"Mcp-Session-Id": sid})
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404: %s", c.method, c.path, resp.StatusCode, body)
		}
	}
}

// Sessions are the server's: unknown → 404, missing → 400, DELETE ends one.
func TestServeHTTPSessions(t *testing.T) {
	s := startHTTP(t)
	sid := s.initialize()
	list := rpcBody(2, "tools/list", map[string]any{})
	v := "2025-11-25"
	check := func(what, method string, body []byte, hdr map[string]string, want int) {
		t.Helper()
		resp, text := s.req(method, "/mcp", body, hdr)
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d: %s", what, resp.StatusCode, want, text)
		}
	}
	check("tools/list in the session", http.MethodPost, list, map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": v}, 200)
	check("tools/list without a session", http.MethodPost, list, map[string]string{"Mcp-Protocol-Version": v}, 400)
	check("tools/list in a session never issued", http.MethodPost, list, map[string]string{"Mcp-Session-Id": "mcp-session-8a0b5e2c-6a4f-4d0e-9c4b-3f1f0b2a9d11", "Mcp-Protocol-Version": v}, 404)
	check("tools/list in a malformed session", http.MethodPost, list, map[string]string{"Mcp-Session-Id": "forged", "Mcp-Protocol-Version": v}, 404)
	check("GET without a session", http.MethodGet, nil, map[string]string{"Mcp-Protocol-Version": v}, 400)
	check("GET in a session never issued", http.MethodGet, nil, map[string]string{"Mcp-Session-Id": "mcp-session-8a0b5e2c-6a4f-4d0e-9c4b-3f1f0b2a9d11", "Mcp-Protocol-Version": v}, 404)
	check("DELETE without a session", http.MethodDelete, nil, map[string]string{"Mcp-Protocol-Version": v}, 400)
	check("DELETE a session never issued", http.MethodDelete, nil, map[string]string{"Mcp-Session-Id": "forged", "Mcp-Protocol-Version": v}, 404)
	check("DELETE the session", http.MethodDelete, nil, map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": v}, 200)
	check("tools/list in the ended session", http.MethodPost, list, map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": v}, 404)
	check("GET in the ended session", http.MethodGet, nil, map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": v}, 404)
	check("DELETE the ended session", http.MethodDelete, nil, map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": v}, 404)
	if other := s.initialize(); other == sid {
		t.Errorf("a new initialize reissued the ended session %s", sid)
	}
}

// serve --http refuses every address but loopback while no authentication
// is configured, and bad --allow-origin.
func TestServeHTTPRefusesNonLoopback(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--http", "0.0.0.0:0"}, "non-loopback"},
		{[]string{"--http", ":0"}, "non-loopback"},
		{[]string{"--http", "192.0.2.1:8765"}, "bind a loopback address"},
		{[]string{"--http", "example.com:8765"}, "needs authentication"},
		{[]string{"--http", "0.0.0.0:0"}, "lastmile tokens create"},
		{[]string{"--http", "127.0.0.1"}, "host:port"},
		{[]string{"--http", "127.0.0.1:0", "--allow-origin", "https://a.example/path"}, "no path"},
		{[]string{"--allow-origin", "https://a.example"}, "--http only"},
	} {
		cmd := exec.Command(bin, append([]string{"serve", "--data-dir", t.TempDir()}, c.args...)...)
		cmd.Env = childEnv(t)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Stdin = strings.NewReader("")
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit status 2 (stderr: %s)", c.args, err, stderr.String())
			continue
		}
		if !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: stderr does not say %q:\n%s", c.args, c.want, stderr.String())
		}
	}
}

// A body over the limit is 413, whether or not it says its length.
func TestServeHTTPBodyLimit(t *testing.T) {
	s := startHTTP(t)
	sid := s.initialize()
	big := rpcBody(3, "tools/call", map[string]any{"name": "create_campaign", "arguments": map[string]any{"name": strings.Repeat("x", 5<<20)}})
	hdr := map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"}
	if resp, body := s.req(http.MethodPost, "/mcp", big, hdr); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("5 MiB with Content-Length: %d, want 413: %.200s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodPost, s.url, io.MultiReader(bytes.NewReader(big))) // chunked
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	resp, err := s.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("5 MiB chunked: %d, want 413", resp.StatusCode)
	}
	if resp, body := s.req(http.MethodPost, "/mcp", rpcBody(4, "tools/list", map[string]any{}), hdr); resp.StatusCode != 200 {
		t.Errorf("tools/list after the refusals: %d %s", resp.StatusCode, body)
	}
}

// SIGTERM: the server stops taking requests, finishes the one under way,
// and exits 0.
func TestServeHTTPSIGTERM(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	s := startHTTP(t)
	sid := s.initialize()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	// An open GET stream must not hold the shutdown up.
	greq, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	greq.Header.Set("Accept", "text/event-stream")
	greq.Header.Set("Mcp-Session-Id", sid)
	greq.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	stream, err := s.hc.Do(greq)
	if err != nil || stream.StatusCode != 200 {
		t.Fatalf("GET stream: %v %+v", err, stream)
	}
	defer stream.Body.Close()
	body := rpcBody(5, "tools/call", map[string]any{"name": "create_campaign", "arguments": map[string]any{"name": "Under way"}})
	// The body waits for the server's 100 Continue, which it sends when
	// the handler reads the body: then the request is surely under way.
	pr, pw := io.Pipe()
	under := make(chan struct{})
	trace := &httptrace.ClientTrace{Got100Continue: func() { close(under) }}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, s.url, pr)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	req.Header.Set("Expect", "100-continue")
	hc := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: safety}}
	type result struct {
		resp *http.Response
		body string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := hc.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{resp: resp, body: string(data)}
	}()
	select {
	case <-under:
	case r := <-done:
		t.Fatalf("the request ended before its body was sent: %v %+v", r.err, r.resp)
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(s.stderr.String(), "finishing requests under way") {
		select {
		case <-s.exited:
			if !strings.Contains(s.stderr.String(), "finishing requests under way") {
				t.Fatalf("exited before the request finished:\n%s", s.stderr.String())
			}
		case <-time.After(20 * time.Millisecond):
		}
	}
	half := len(body) / 2
	pw.Write(body[:half])
	pw.Write(body[half:])
	pw.Close()
	r := <-done
	if r.err != nil || r.resp.StatusCode != 200 || !strings.Contains(r.body, "cmp_") {
		t.Fatalf("the request under way: %v %+v %s (stderr:\n%s)", r.err, r.resp, r.body, s.stderr.String())
	}
	select {
	case <-s.exited:
	case <-ctx.Done():
		t.Fatal("serve --http did not exit after SIGTERM")
	}
	if strings.Contains(s.stderr.String(), "stopped before requests under way finished") {
		t.Errorf("the shutdown waited out its grace:\n%s", s.stderr.String())
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0 (stderr:\n%s)", code, s.stderr.String())
	}
	// And new connections are refused.
	if _, err := http.Post(s.url, "application/json", bytes.NewReader(initBody)); err == nil {
		t.Error("a request after shutdown was answered")
	}
}

// Over --rate-limit a request is 429 with Retry-After; the bucket refills.
func TestServeHTTPRateLimit(t *testing.T) {
	s := startHTTP(t, "--rate-limit", "1") // bursts of 4
	codes := map[int]int{}
	var retry string
	for range 12 {
		resp, _ := s.req(http.MethodPost, "/mcp", initBody, nil)
		codes[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests {
			retry = resp.Header.Get("Retry-After")
		}
	}
	if codes[200] < 4 || codes[429] == 0 {
		t.Fatalf("12 quick requests at 1/s, bursts of 4: %v", codes)
	}
	if n, err := strconv.Atoi(retry); err != nil || n < 1 {
		t.Errorf("Retry-After %q, want whole seconds", retry)
	}
}

// TestServeHTTPSessionsAcrossReplicas: two serve --http processes on one
// data directory (replicas behind a load balancer that does not pin
// sessions): a session initialized at one serves requests at the other,
// and a DELETE at either ends it at both.
func TestServeHTTPSessionsAcrossReplicas(t *testing.T) {
	dir := t.TempDir()
	one := startHTTP(t, "--data-dir", dir)
	two := startHTTP(t, "--data-dir", dir)
	sid := one.initialize()
	v := "2025-11-25"
	hdr := map[string]string{"Mcp-Session-Id": sid, "Mcp-Protocol-Version": v}
	resp, body := two.req(http.MethodPost, "/mcp", rpcBody(2, "tools/list", map[string]any{}), hdr)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "create_campaign") {
		t.Fatalf("tools/list at the other replica: %d %.300s", resp.StatusCode, body)
	}
	if resp, body := two.req(http.MethodDelete, "/mcp", nil, hdr); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE at the other replica: %d %s", resp.StatusCode, body)
	}
	if resp, body := one.req(http.MethodPost, "/mcp", rpcBody(3, "tools/list", map[string]any{}), hdr); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("tools/list at the first replica after DELETE at the other: %d %.300s, want 404", resp.StatusCode, body)
	}
}

// JSON-RPC batches, in the one protocol version whose HTTP transport has
// them (2025-03-26: its clients send no MCP-Protocol-Version): each
// message is answered as it would be alone, the responses together in an
// array; notifications get none; initialize may not be batched. Later
// versions removed batches, and mcp-go refuses them there.
func TestServeHTTPBatches(t *testing.T) {
	s := startHTTP(t)
	old := rpcBody(1, "initialize", map[string]any{"protocolVersion": "2025-03-26", "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": "batch-test", "version": "0"}})
	resp, body := s.req(http.MethodPost, "/mcp", old, nil)
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 || sid == "" {
		t.Fatalf("initialize 2025-03-26: %d %s", resp.StatusCode, body)
	}
	hdr := map[string]string{"Mcp-Session-Id": sid}
	batch := "[" + string(rpcBody(0, "notifications/initialized", nil)) + "," + string(rpcBody(2, "tools/list", map[string]any{})) + "," +
		string(rpcBody(3, "ping", map[string]any{})) + "," + string(rpcBody(4, "tools/call", map[string]any{"name": "list_campaigns", "arguments": map[string]any{}})) + "]"
	resp, body = s.req(http.MethodPost, "/mcp", []byte(batch), hdr)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("batch: %d %s %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var answers []struct {
		ID     int             `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &answers); err != nil {
		t.Fatalf("batch answer is not an array: %v\n%.300s", err, body)
	}
	if len(answers) != 3 || answers[0].ID != 2 || answers[1].ID != 3 || answers[2].ID != 4 {
		t.Fatalf("batch answers %+v, want the three requests' in order (none for the notification)", answers)
	}
	for _, a := range answers {
		if a.Error != nil || a.Result == nil {
			t.Errorf("answer %d: error %s", a.ID, a.Error)
		}
	}
	if !strings.Contains(string(answers[0].Result), "create_campaign") {
		t.Errorf("tools/list in a batch: %.200s", answers[0].Result)
	}
	check := func(what, body string, hdr map[string]string, want int, has string) {
		t.Helper()
		resp, text := s.req(http.MethodPost, "/mcp", []byte(body), hdr)
		if resp.StatusCode != want || !strings.Contains(text, has) {
			t.Errorf("%s: %d %.300s, want %d with %q", what, resp.StatusCode, text, want, has)
		}
	}
	check("notifications only", "["+string(rpcBody(0, "notifications/initialized", nil))+"]", hdr, http.StatusAccepted, "")
	check("initialize in a batch", "["+string(old)+"]", hdr, 200, "initialize cannot be part of a batch")
	check("an empty batch", "[]", hdr, 400, "Invalid Request")
	check("a batch without a session", "["+string(rpcBody(2, "ping", nil))+"]", nil, 400, "Mcp-Session-Id")
	check("a batch in a session never issued", "["+string(rpcBody(2, "ping", nil))+"]", map[string]string{"Mcp-Session-Id": "lms_00000000000000000000000000000000"}, 404, "")
	// 2025-11-25 has no batches.
	sid2 := s.initialize()
	resp, text := s.req(http.MethodPost, "/mcp", []byte("["+string(rpcBody(2, "ping", nil))+"]"), map[string]string{"Mcp-Session-Id": sid2, "Mcp-Protocol-Version": "2025-11-25"})
	if strings.HasPrefix(strings.TrimSpace(text), "[") {
		t.Errorf("a 2025-11-25 session was answered a batch: %d %.200s", resp.StatusCode, text)
	}
}
