package main

// End-to-end tests of the built binary: `lastmile serve` over real stdio
// pipes (stdout must carry nothing but JSON-RPC; logs go to stderr), a
// restart on the same data directory, `lastmile version` and `lastmile init`.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox"
)

const testVersion = "stdio-test-1.2.3"

// bin is the lastmile binary TestMain builds.
var bin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lastmile-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "lastmile")
	// go test puts its own toolchain first in PATH.
	build := exec.Command("go", "build", "-ldflags", "-X main.version="+testVersion, "-o", bin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building lastmile:", err)
		return 1
	}
	return m.Run()
}

// childEnv keeps the binary away from the real home and data directories.
func childEnv(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "LASTMILE_HOME", "LASTMILE_LOG", "XDG_DATA_HOME":
			continue
		}
		out = append(out, kv)
	}
	return append(out, "HOME="+t.TempDir())
}

// safety bounds a wait on the child so a broken server fails the test
// instead of hanging CI; nothing asserts on how long anything takes.
const safety = 2 * time.Minute

// ---- a raw JSON-RPC client over the child's pipes ----

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

type stdioServer struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	msgs   chan message
	stderr *syncBuffer
	nextID int

	mu      sync.Mutex
	badOut  []string // stdout lines that are not JSON-RPC
	rawOut  int      // stdout lines seen
	readErr error
}

// initSample makes dir a data directory whose policy is the Acme sample, the
// brand the tests' campaigns are written for (a new data directory gets the
// unbranded baseline, under which their emails lack a postal address).
func initSample(t testing.TB, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "config.yaml")); err == nil {
		return
	}
	if err := initDataDir(dir, false, acmeSamplePolicy, io.Discard); err != nil {
		t.Fatal(err)
	}
}

func serve(t *testing.T, dataDir string) *stdioServer {
	t.Helper()
	initSample(t, dataDir)
	return serveAsIs(t, dataDir)
}

// serveAsIs starts lastmile serve on dataDir as it is: an empty directory is
// initialized by the server itself.
func serveAsIs(t *testing.T, dataDir string, flags ...string) *stdioServer {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--data-dir", dataDir}, flags...)...)
	cmd.Env = childEnv(t)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &stdioServer{t: t, cmd: cmd, stdin: stdin, msgs: make(chan message, 64), stderr: &syncBuffer{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(s.msgs)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			line := sc.Bytes()
			var m message
			s.mu.Lock()
			s.rawOut++
			if err := json.Unmarshal(line, &m); err != nil || m.JSONRPC != "2.0" {
				s.badOut = append(s.badOut, string(line))
				s.mu.Unlock()
				continue
			}
			s.mu.Unlock()
			s.msgs <- m
		}
		s.mu.Lock()
		s.readErr = sc.Err()
		s.mu.Unlock()
	}()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	return s
}

func (s *stdioServer) send(v any) {
	s.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.stdin.Write(append(data, '\n')); err != nil {
		s.t.Fatalf("write to server: %v (stderr:\n%s)", err, s.stderr.String())
	}
}

func (s *stdioServer) notify(method string, params any) {
	s.t.Helper()
	s.send(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

// request sends a request and returns its response, skipping notifications.
func (s *stdioServer) request(method string, params any) message {
	s.t.Helper()
	s.nextID++
	id := s.nextID
	s.send(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	deadline := time.After(safety)
	for {
		select {
		case m, ok := <-s.msgs:
			if !ok {
				s.t.Fatalf("%s: server closed stdout (stderr:\n%s)", method, s.stderr.String())
			}
			if string(m.ID) == fmt.Sprint(id) && m.Method == "" {
				return m
			}
		case <-deadline:
			s.t.Fatalf("%s: no response (stderr:\n%s)", method, s.stderr.String())
		}
	}
}

type callResult struct {
	IsError           bool           `json:"isError"`
	StructuredContent map[string]any `json:"structuredContent"`
	Content           []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
}

func (r callResult) text() string {
	var parts []string
	for _, c := range r.Content {
		parts = append(parts, c.Text)
	}
	return strings.Join(parts, "\n")
}

func (s *stdioServer) call(name string, args any) callResult {
	s.t.Helper()
	m := s.request("tools/call", map[string]any{"name": name, "arguments": args})
	if m.Error != nil {
		s.t.Fatalf("%s: JSON-RPC error %d %s", name, m.Error.Code, m.Error.Message)
	}
	var r callResult
	if err := json.Unmarshal(m.Result, &r); err != nil {
		s.t.Fatalf("%s: %v in %s", name, err, m.Result)
	}
	return r
}

func (s *stdioServer) mustStage(name string, args any) map[string]any {
	s.t.Helper()
	r := s.call(name, args)
	if r.IsError || r.StructuredContent == nil {
		s.t.Fatalf("%s: want success, got %s", name, r.text())
	}
	return r.StructuredContent
}

func (s *stdioServer) initialize(version string) map[string]any {
	s.t.Helper()
	m := s.request("initialize", map[string]any{
		"protocolVersion": version,
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]any{"name": "stdio-test", "version": "0"},
	})
	if m.Error != nil {
		s.t.Fatalf("initialize: %+v", m.Error)
	}
	var res map[string]any
	if err := json.Unmarshal(m.Result, &res); err != nil {
		s.t.Fatal(err)
	}
	if res["protocolVersion"] != version {
		s.t.Fatalf("negotiated %v, want %s", res["protocolVersion"], version)
	}
	s.notify("notifications/initialized", map[string]any{})
	return res
}

// stop closes stdin, as a client does when it quits, and checks the server
// exits cleanly having written only JSON-RPC to stdout.
func (s *stdioServer) stop() {
	s.t.Helper()
	s.stdin.Close()
	// Read stdout to its end before Wait: Wait closes the pipe, and a read
	// still in progress would fail with "file already closed".
	drained := make(chan struct{})
	go func() {
		for range s.msgs {
		}
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(safety):
		s.cmd.Process.Kill()
		s.t.Fatalf("server did not exit when stdin closed (stderr:\n%s)", s.stderr.String())
	}
	if err := s.cmd.Wait(); err != nil {
		s.t.Errorf("server exited with %v (stderr:\n%s)", err, s.stderr.String())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readErr != nil {
		s.t.Errorf("reading stdout: %v", s.readErr)
	}
	for _, l := range s.badOut {
		s.t.Errorf("stdout carried a line that is not JSON-RPC (logs belong on stderr): %q", l)
	}
	if s.rawOut == 0 {
		s.t.Errorf("the server wrote nothing to stdout")
	}
}

// stageForPromotion stages a small campaign that passes the sample policy.
func stageForPromotion(t *testing.T, s *stdioServer) (campaign, segment, email, page string) {
	t.Helper()
	c := s.mustStage("create_campaign", map[string]any{"name": "Process test", "markets": []string{"US"}, "industry": "retail",
		"utm": map[string]any{"source": "newsletter", "medium": "email", "campaign": "process_test"}})
	campaign = c["id"].(string)
	seg := s.mustStage("build_segment", map[string]any{"campaign_id": campaign, "name": "Customers",
		"conditions": []map[string]any{{"property": "lifecycle_stage", "operator": "eq", "value": "customer"}}})
	segment = seg["id"].(string)
	em := s.mustStage("create_email", map[string]any{"campaign_id": campaign, "name": "Hello", "subject": "News from Acme",
		"preview_text": "What is new this month.", "from_name": "Acme", "from_email": "news@acme.com", "audience": map[string]any{"include": []string{segment}},
		"blocks": []map[string]any{{"type": "heading", "text": "What is new"}, {"type": "paragraph", "text": "Hi {{ contact.firstname | default: \"there\" }}, see [the news](https://www.acme.com/news)."}}})
	email = em["id"].(string)
	pg := s.mustStage("publish_page", map[string]any{"campaign_id": campaign, "title": "News", "slug": "process-news",
		"blocks": []map[string]any{{"type": "heading", "text": "News"}}})
	page = pg["id"].(string)
	return
}

// servedPlan serves a fresh data directory over stdio, stages a campaign and
// plans it.
func servedPlan(t *testing.T) (dir string, s *stdioServer, campaign, planID string) {
	t.Helper()
	dir = t.TempDir()
	s = serve(t, dir)
	s.initialize(mcp.ProtocolVersion20251125)
	campaign, _, _, _ = stageForPromotion(t, s)
	planID = s.mustStage("plan_promotion", map[string]any{"campaign_id": campaign})["id"].(string)
	return dir, s, campaign, planID
}

// ---- tests ----

func TestServeOverStdio(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // does not exist yet

	// First run: the empty directory is initialized, and says so on stderr.
	s := serveAsIs(t, dir)
	init := s.initialize(mcp.ProtocolVersion20251125)
	info, _ := init["serverInfo"].(map[string]any)
	if info["name"] != "lastmile" || info["version"] != testVersion {
		t.Errorf("serverInfo %v", info)
	}

	m := s.request("tools/list", map[string]any{})
	var list struct {
		Tools []struct {
			Name string `json:"name"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(m.Result, &list); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, tl := range list.Tools {
		have[tl.Name] = true
	}
	for _, want := range []string{"create_campaign", "get_campaign", "list_campaigns", "build_segment", "create_email", "publish_page", "configure_workflow"} {
		if !have[want] {
			t.Errorf("tools/list over stdio lacks %s", want)
		}
	}

	cmp := s.mustStage("create_campaign", map[string]any{"name": "Over stdio", "markets": []string{"US"}})["id"].(string)
	seg := s.mustStage("build_segment", map[string]any{"campaign_id": cmp, "name": "US",
		"conditions": []any{map[string]any{"property": "country", "operator": "eq", "value": "US"}}})
	if _, ok := seg["estimated_size"]; !ok {
		t.Errorf("no estimated_size from the sample contacts.csv: %v", seg)
	}
	segID := seg["id"].(string)
	eml := s.mustStage("create_email", map[string]any{"campaign_id": cmp, "name": "Hello", "subject": "Hello",
		"from_name": "Acme", "from_email": "news@acme.com", "audience": map[string]any{"include": []string{segID}},
		"blocks": []any{map[string]any{"type": "heading", "text": "Hello"}, map[string]any{"type": "paragraph", "text": "It works."}}})["id"].(string)
	pg := s.mustStage("publish_page", map[string]any{"campaign_id": cmp, "title": "Hello", "slug": "hello",
		"blocks": []any{map[string]any{"type": "heading", "text": "Hello"}},
		"form":   map[string]any{"fields": []any{map[string]any{"name": "email", "label": "Email", "type": "email", "required": true}}}})["id"].(string)
	wf := s.mustStage("configure_workflow", map[string]any{"campaign_id": cmp, "name": "Follow up",
		"trigger": map[string]any{"type": "form_submission", "page_id": pg},
		"steps":   []any{map[string]any{"id": "send", "type": "send_email", "email_id": eml}}})["id"].(string)

	// A user mistake is a tool error, not a JSON-RPC error.
	if r := s.call("get_campaign", map[string]any{"campaign_id": "cmp_01nope"}); !r.IsError || !strings.Contains(r.text(), "list_campaigns") {
		t.Errorf("unknown campaign: %+v", r)
	}
	before := campaignLines(t, s, cmp)
	s.stop()

	stderr := s.stderr.String()
	for _, want := range []string{"initializing " + dir, "lastmile serving MCP on stdio"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, f := range []string{sandbox.ConfigFile, "contacts.csv", "policy.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("first serve did not write %s: %v", f, err)
		}
	}

	// Restart on the same directory: everything staged is there, and the
	// directory is not initialized again.
	s = serve(t, dir)
	s.initialize(mcp.ProtocolVersion20250618)
	after := campaignLines(t, s, cmp)
	if after != before {
		t.Errorf("after restart get_campaign shows\n%s\nbefore it showed\n%s", after, before)
	}
	for _, id := range []string{segID, eml, pg, wf} {
		if !strings.Contains(after, id) {
			t.Errorf("%s is missing after restart", id)
		}
	}
	r := s.call("list_campaigns", map[string]any{})
	if n := len(r.StructuredContent["campaigns"].([]any)); n != 1 {
		t.Errorf("list_campaigns after restart: %d campaigns", n)
	}
	s.stop()
	if strings.Contains(s.stderr.String(), "initializing") {
		t.Errorf("an initialized directory was initialized again:\n%s", s.stderr.String())
	}

	// And a client on mcp-go's default, the modern protocol, over stdio.
	c, err := client.NewStdioMCPClientWithOptions(bin, childEnv(t), []string{"serve", "--data-dir", dir},
		transport.WithCommandFunc(func(ctx context.Context, command string, env []string, args []string) (*exec.Cmd, error) {
			cmd := exec.CommandContext(ctx, command, args...)
			cmd.Env = env
			return cmd, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	req := mcp.InitializeRequest{}
	req.Params.ClientInfo = mcp.Implementation{Name: "stdio-test-modern", Version: "0"}
	res, err := c.Initialize(ctx, req)
	if err != nil {
		t.Fatalf("modern initialize over stdio: %v", err)
	}
	if res.ProtocolVersion != mcp.LATEST_PROTOCOL_VERSION {
		t.Errorf("modern client negotiated %s", res.ProtocolVersion)
	}
	got, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "get_campaign", Arguments: map[string]any{"campaign_id": cmp}}})
	if err != nil || got.IsError {
		t.Fatalf("get_campaign over stdio, modern protocol: %v %+v", err, got)
	}
	data, _ := json.Marshal(got.StructuredContent)
	if !strings.Contains(string(data), wf) {
		t.Errorf("modern client does not see the workflow: %s", data)
	}
}

// campaignLines renders what get_campaign shows about a campaign's artifacts.
func campaignLines(t *testing.T, s *stdioServer, cmp string) string {
	t.Helper()
	r := s.call("get_campaign", map[string]any{"campaign_id": cmp})
	if r.IsError {
		t.Fatalf("get_campaign: %s", r.text())
	}
	var b strings.Builder
	for _, a := range r.StructuredContent["artifacts"].([]any) {
		a := a.(map[string]any)
		fmt.Fprintf(&b, "%v %v %v r%v %v\n", a["id"], a["kind"], a["name"], a["revision"], a["status"])
	}
	if b.Len() == 0 {
		t.Fatalf("campaign %s has no artifacts", cmp)
	}
	return b.String()
}

// run runs the binary to completion.
func runBin(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = childEnv(t)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestVersion(t *testing.T) {
	out, _, code := runBin(t, "version")
	if code != 0 || out != "lastmile "+testVersion+"\n" {
		t.Errorf("lastmile version: exit %d, %q", code, out)
	}
}

func TestInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home")
	out, _, code := runBin(t, "init", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("init: exit %d: %s", code, out)
	}
	files := map[string][]byte{
		sandbox.ConfigFile: []byte(sandbox.DefaultConfigText),
		"contacts.csv":     []byte(local.SampleContacts),
		"policy.yaml":      baselinePolicy,
	}
	for name, want := range files {
		p := filepath.Join(dir, name)
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("init did not write %s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what init should write", name)
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, st.Mode().Perm())
		}
		if !strings.Contains(out, "wrote   "+p) {
			t.Errorf("output does not list %s:\n%s", p, out)
		}
	}
	// What init writes loads.
	if _, err := sandbox.LoadConfig(dir); err != nil {
		t.Errorf("the written config does not load: %v", err)
	}
	if _, err := governance.Load(filepath.Join(dir, "policy.yaml")); err != nil {
		t.Errorf("the written policy does not load: %v", err)
	}

	// A second init keeps what is there, edited or not.
	edited := []byte("email,country\nme@example.com,US\n")
	contacts := filepath.Join(dir, "contacts.csv")
	if err := os.WriteFile(contacts, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = runBin(t, "init", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("second init: exit %d", code)
	}
	if got, _ := os.ReadFile(contacts); !bytes.Equal(got, edited) {
		t.Errorf("init without --force overwrote contacts.csv")
	}
	if !strings.Contains(out, "kept    "+contacts) || !strings.Contains(out, "--force") {
		t.Errorf("second init does not say it kept the files:\n%s", out)
	}
	// --force overwrites.
	if _, _, code = runBin(t, "init", "--data-dir", dir, "--force"); code != 0 {
		t.Fatalf("init --force: exit %d", code)
	}
	if got, _ := os.ReadFile(contacts); !bytes.Equal(got, []byte(local.SampleContacts)) {
		t.Errorf("init --force did not restore contacts.csv")
	}
}

func TestUnknownCommand(t *testing.T) {
	out, errOut, code := runBin(t, "frobnicate")
	if code != 2 || out != "" || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// runBinEnv runs the built binary with more environment and fails the test
// when it fails.
func runBinEnv(t *testing.T, env []string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(childEnv(t), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("lastmile %s: %v\n%s\n%s", strings.Join(args, " "), err, o.String(), e.String())
	}
	return o.String(), e.String()
}
