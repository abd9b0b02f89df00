package tools_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
	"github.com/lastmile/lastmile/tools"
)

// stdioPeer is a client talking to ServeStdio over in-process pipes, one
// JSON text per line, as a real client does over a process's stdio.
type stdioPeer struct {
	t     *testing.T
	sb    *sandbox.Sandbox
	in    *io.PipeWriter
	lines *bufio.Reader
	logs  *syncBuffer // the server's log, at debug level
}

// syncBuffer is a bytes.Buffer safe for a logger and a test at once.
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

func newStdioPeer(t *testing.T) *stdioPeer { return newStdioPeerWrapping(t, nil) }

// newStdioPeerWrapping is newStdioPeer with the local target wrapped.
func newStdioPeerWrapping(t *testing.T, wrap func(*local.Target) sandbox.Target) *stdioPeer {
	t.Helper()
	return newStdioPeerOpts(t, peerOptions{wrap: wrap, initialize: true})
}

type peerOptions struct {
	wrap       func(*local.Target) sandbox.Target
	initialize bool               // send initialize (2025-11-25, no capabilities) first
	policy     *governance.Policy // default: governance.Default()
}

func newStdioPeerOpts(t *testing.T, o peerOptions) *stdioPeer {
	t.Helper()
	wrap := o.wrap
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte(local.SampleContacts), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	lt, err := local.New("local", dir, local.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var target sandbox.Target = lt
	if wrap != nil {
		target = wrap(lt)
	}
	sb, err := sandbox.New(sandbox.Options{Store: st, Targets: map[string]sandbox.Target{"local": target},
		Policy: sandbox.StaticPolicy{P: cmp.Or(o.policy, governance.Default())}, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan struct{})
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() {
		defer close(done)
		tools.ServeStdio(ctx, tools.New(sb, tools.Options{}), inR, outW, log)
		outW.Close()
	}()
	t.Cleanup(func() {
		inW.Close()
		cancel()
		<-done
		st.Close()
	})
	p := &stdioPeer{t: t, sb: sb, in: inW, lines: bufio.NewReaderSize(outR, 1<<20), logs: logs}
	if !o.initialize {
		return p
	}
	p.roundTrip(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test","version":"0"}}}`)
	return p
}

// roundTrip sends one line and returns the response to it.
func (p *stdioPeer) roundTrip(line string) map[string]any {
	p.t.Helper()
	if _, err := io.WriteString(p.in, line+"\n"); err != nil {
		p.t.Fatal(err)
	}
	type read struct {
		line []byte
		err  error
	}
	got := make(chan read, 1)
	go func() {
		l, err := p.lines.ReadBytes('\n')
		got <- read{l, err}
	}()
	select {
	case r := <-got:
		if r.err != nil {
			p.t.Fatalf("reading the response: %v", r.err)
		}
		var m map[string]any
		if err := json.Unmarshal(r.line, &m); err != nil {
			p.t.Fatalf("response is not JSON: %v: %s", err, r.line)
		}
		return m
	case <-time.After(20 * time.Second):
		p.t.Fatalf("no response to %.200s", line)
	}
	return nil
}

func (p *stdioPeer) callTool(id int, name, args string) map[string]any {
	p.t.Helper()
	res := p.roundTrip(`{"jsonrpc":"2.0","id":` + itoa(id) + `,"method":"tools/call","params":{"name":"` + name + `","arguments":` + args + `}}`)
	r, ok := res["result"].(map[string]any)
	if !ok {
		p.t.Fatalf("%s: no result: %v", name, res)
	}
	return r
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// What is stored of an email's HTML is exactly what was sent, every escape
// decoded as encoding/json decodes it, and the input schema sees the real
// strings.
func TestStdioLongStringsArriveExactly(t *testing.T) {
	p := newStdioPeer(t)
	cmp := p.callTool(1, "create_campaign", `{"name":"Spring","industry":"retail"}`)["structuredContent"].(map[string]any)["id"].(string)

	// The HTML as a JSON literal, written by hand: escaped quotes and
	// slashes, \u escapes (Go's encoder writes < as \u003c), a surrogate
	// pair, raw UTF-8, a lone surrogate (decoded as U+FFFD) and a literal
	// backslash before a quote.
	row := `<tr><td style=\"color:#1a1a1a\">Caf\u00e9 cr\u00e8me \ud83c\udf38 \u003cb\u003e\u2028</td><td>ünïcödé \\\"q\\\" \/ \t</td></tr>\n`
	lit := `"<html><body><table>` + strings.Repeat(row, 80) + `<a href=\"https://www.acme.com/spring\">Shop</a> \ud800 end</table></body></html>"`
	var want string
	if err := json.Unmarshal([]byte(lit), &want); err != nil {
		t.Fatal(err)
	}
	res := p.callTool(2, "create_email", `{"campaign_id":"`+cmp+`","name":"Spring launch","subject":"Spring at Acme","from_name":"Acme","from_email":"news@acme.com","html":`+lit+`}`)
	if res["isError"] == true {
		t.Fatalf("create_email failed: %v", res)
	}
	id := res["structuredContent"].(map[string]any)["id"].(string)
	view, err := p.sb.GetArtifact(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := view.Revision.Email.HTML; got != want {
		t.Fatalf("stored HTML differs from what was sent (%d vs %d bytes)", len(got), len(want))
	}

	// A long name is checked by the input schema (which runs first and
	// says "was not run") at its real length, not the placeholder's.
	long := strings.Repeat("n", 1500)
	res = p.callTool(3, "create_email", `{"campaign_id":"`+cmp+`","name":"`+long+`","subject":"s","from_name":"Acme","from_email":"news@acme.com","html":"<p>x</p>"}`)
	if msg := toText(res); res["isError"] != true || !strings.Contains(msg, "was not run: name: is 1500 characters long") {
		t.Fatalf("a 1,500-character name got past the input schema: %v", msg)
	}

	// A long string encoding/json rejects is a parse error.
	bad := p.roundTrip(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"create_email","arguments":{"campaign_id":"` + cmp + `","html":"` + strings.Repeat("a", 2000) + "\x01" + `"}}}`)
	if e, ok := bad["error"].(map[string]any); !ok || e["code"] != float64(-32700) {
		t.Fatalf("a control character in a long string: %v", bad)
	}
}

func toText(res map[string]any) string {
	var b strings.Builder
	if cs, ok := res["content"].([]any); ok {
		for _, c := range cs {
			if m, ok := c.(map[string]any); ok {
				s, _ := m["text"].(string)
				b.WriteString(s)
			}
		}
	}
	return b.String()
}

// At debug level the server logs each request it answered and how long it
// took, so a slow call can be told from a slow transport.
func TestStdioLogsAnsweredRequests(t *testing.T) {
	p := newStdioPeer(t)
	p.callTool(7, "create_campaign", `{"name":"Timed"}`)
	p.callTool(8, "list_campaigns", `{}`)
	p.roundTrip(`{"jsonrpc":"2.0","id":9,"method":"ping"}`)
	// The line is logged once the answer is written: the last may still be
	// on its way.
	want := []string{`method=tools/call tool=create_campaign id=7 duration_us=\d+`, `method=tools/call tool=list_campaigns id=8 duration_us=\d+`, `method=ping tool="" id=9 duration_us=\d+`}
	var logs string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if logs = p.logs.String(); regexp.MustCompile(`msg=answered ` + want[2]).MatchString(logs) {
			break
		}
	}
	for _, w := range want {
		if !regexp.MustCompile(`msg=answered ` + w).MatchString(logs) {
			t.Errorf("no log line matching %q in:\n%s", w, logs)
		}
	}
}

// stuckTarget is the local target whose Assess waits until its context ends,
// as a platform that does not answer.
type stuckTarget struct {
	*local.Target
	assessing chan struct{}
}

func (s stuckTarget) Assess(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	select {
	case s.assessing <- struct{}{}:
	default:
	}
	select {
	case <-ctx.Done():
		return sandbox.Assessment{}, ctx.Err()
	case <-time.After(10 * time.Second):
		return sandbox.Assessment{}, errors.New("stuck for 10 s: nothing cancelled the call")
	}
}

// notifications/cancelled stops a call in flight: its context ends, and no
// answer is written for it (the client asked for none).
func TestStdioCancelStopsACall(t *testing.T) {
	assessing := make(chan struct{}, 1)
	p := newStdioPeerWrapping(t, func(lt *local.Target) sandbox.Target { return stuckTarget{lt, assessing} })
	res := p.callTool(1, "create_campaign", `{"name":"Stuck","industry":"retail"}`)
	id := res["structuredContent"].(map[string]any)["id"].(string)
	p.callTool(2, "build_segment", `{"campaign_id":"`+id+`","name":"Everyone","conditions":[{"property":"email","operator":"exists"}]}`)
	if _, err := p.in.Write([]byte(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"plan_promotion","arguments":{"campaign_id":"` + id + `"}}}` + "\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-assessing:
	case <-time.After(10 * time.Second):
		t.Fatal("plan_promotion never asked the target")
	}
	if _, err := p.in.Write([]byte(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3,"reason":"the user stopped it"}}` + "\n")); err != nil {
		t.Fatal(err)
	}
	// The next answer is the ping's: none comes for the cancelled call.
	pong := p.roundTrip(`{"jsonrpc":"2.0","id":4,"method":"ping"}`)
	if pong["id"] != float64(4) {
		t.Fatalf("after the cancel, the next answer is %v, not the ping's", pong)
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(p.logs.String(), "request cancelled by the client"); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the call did not stop:\n%s", p.logs.String())
		}
	}
}
