package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Benchmarks of the binary over real stdio pipes. Figures and how to read
// them are in docs/benchmarks.md; nothing here asserts on time.

// pipeProc is a child process spoken to one JSON-RPC line at a time.
type pipeProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
	id  int
}

func startProc(b *testing.B, exe string, args ...string) *pipeProc {
	return startProcLogging(b, io.Discard, "error", exe, args...)
}

// startProcLogging is startProc with the child's log at level written to
// stderr.
func startProcLogging(b *testing.B, stderr io.Writer, level, exe string, args ...string) *pipeProc {
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "HOME="+b.TempDir(), "LASTMILE_LOG="+level)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { in.Close(); cmd.Wait() })
	return &pipeProc{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
}

// roundTrip sends one request and reads lines until its response.
func (p *pipeProc) roundTrip(b *testing.B, method string, params any) []byte {
	return p.send(b, p.request(method, params))
}

// request encodes the next request, so that a benchmark can leave the
// client's encoding out of what it times.
func (p *pipeProc) request(method string, params any) []byte {
	p.id++
	req, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": p.id, "method": method, "params": params})
	return append(req, '\n')
}

// send writes an encoded request and reads lines until its response.
func (p *pipeProc) send(b *testing.B, req []byte) []byte {
	if _, err := p.in.Write(req); err != nil {
		b.Fatal(err)
	}
	want := `"id":` + strconv.Itoa(p.id) + `,`
	for {
		line, err := p.out.ReadBytes('\n')
		if err != nil {
			b.Fatalf("request %d: %v", p.id, err)
		}
		if strings.Contains(string(line), want) {
			return line
		}
	}
}

// createCampaign stages a campaign and returns its id.
func (p *pipeProc) createCampaign(b *testing.B, name string) string {
	res := p.roundTrip(b, "tools/call", map[string]any{"name": "create_campaign", "arguments": map[string]any{"name": name, "markets": []string{"US"}}})
	var r struct {
		Result struct {
			StructuredContent struct {
				ID string `json:"id"`
			} `json:"structuredContent"`
		} `json:"result"`
	}
	if err := json.Unmarshal(res, &r); err != nil || r.Result.StructuredContent.ID == "" {
		b.Fatalf("create_campaign: %s", res)
	}
	return r.Result.StructuredContent.ID
}

func (p *pipeProc) notify(method string) {
	req, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": method})
	p.in.Write(append(req, '\n'))
}

func initializeParams() map[string]any {
	return map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "bench", "version": "0"}}
}

// reportPercentiles reports the p50 and p99 of durations, in ms, under a
// name prefix ("" for none).
func reportPercentiles(b *testing.B, prefix string, ds []time.Duration) {
	slices.Sort(ds)
	at := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))]) / 1e6 }
	b.ReportMetric(at(0.50), prefix+"p50-ms")
	b.ReportMetric(at(0.99), prefix+"p99-ms")
}

// startServer starts `lastmile serve` on a fresh data directory with one
// staged campaign, and returns the campaign id.
func startServer(b *testing.B) (*pipeProc, string) { return startServerIn(b, b.TempDir()) }

// startServerIn is startServer on a given data directory.
func startServerIn(b *testing.B, dir string) (*pipeProc, string) {
	return startServerLogging(b, dir, startProc(b, bin, "serve", "--data-dir", dir))
}

// startServerLogging initializes a started server and stages a campaign.
func startServerLogging(b *testing.B, dir string, p *pipeProc) (*pipeProc, string) {
	p.roundTrip(b, "initialize", initializeParams())
	p.notify("notifications/initialized")
	id := p.createCampaign(b, "Bench")
	for i := range 5 {
		p.roundTrip(b, "tools/call", map[string]any{"name": "build_segment", "arguments": map[string]any{"campaign_id": id, "name": fmt.Sprint("Segment ", i),
			"conditions": []map[string]any{{"property": "country", "operator": "eq", "value": "US"}}}})
	}
	return p, id
}

// BenchmarkReadRoundTrip: get_campaign over real stdio pipes to the built
// binary, as a client sees it, and ping for the transport alone. Budget
// (docs/benchmarks.md): a read tool ≤ 1 ms p99.
func BenchmarkReadRoundTrip(b *testing.B) {
	srv, id := startServer(b)
	args := map[string]any{"name": "get_campaign", "arguments": map[string]any{"campaign_id": id}}
	for range 200 {
		srv.roundTrip(b, "tools/call", args)
	}
	var ts []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		srv.roundTrip(b, "tools/call", args)
		ts = append(ts, time.Since(t0))
	}
	reportPercentiles(b, "get_campaign-", ts)
	var tp []time.Duration
	for range 2000 {
		t0 := time.Now()
		srv.roundTrip(b, "ping", map[string]any{})
		tp = append(tp, time.Since(t0))
	}
	reportPercentiles(b, "ping-", tp)
}

// BenchmarkServeStartup: from exec to the initialize response, on an
// initialized data directory. Budget ≤ 60 ms.
func BenchmarkServeStartup(b *testing.B) {
	dir := b.TempDir()
	initSample(b, dir)
	var ds []time.Duration
	for b.Loop() {
		start := time.Now()
		p := startProc(b, bin, "serve", "--data-dir", dir)
		p.roundTrip(b, "initialize", initializeParams())
		ds = append(ds, time.Since(start))
		p.in.Close()
		p.cmd.Wait()
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(ds[len(ds)-1])/1e6, "max-ms")
}

// BenchmarkRSSAfter10kCalls: resident memory of `lastmile serve` after
// 10,000 tool calls (reads and writes), as serve runs (its soft memory
// limit is far above what serving alone uses). Budget ≤ 60 MB.
func BenchmarkRSSAfter10kCalls(b *testing.B) {
	for b.Loop() {
		srv, id := startServer(b)
		for i := range 10000 {
			switch i % 4 {
			case 0:
				srv.roundTrip(b, "tools/call", map[string]any{"name": "list_campaigns", "arguments": map[string]any{}})
			case 1, 2:
				srv.roundTrip(b, "tools/call", map[string]any{"name": "get_campaign", "arguments": map[string]any{"campaign_id": id}})
			default:
				srv.roundTrip(b, "tools/call", map[string]any{"name": "build_segment", "arguments": map[string]any{"campaign_id": id, "name": fmt.Sprint("S", i%40),
					"conditions": []map[string]any{{"property": "plan", "operator": "eq", "value": fmt.Sprint("p", i)}}}})
			}
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.cmd.Process.Pid))
		if err != nil {
			b.Skip("no /proc on this system")
		}
		for _, l := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
				b.ReportMetric(float64(kb)/1024, "rss-MB")
			}
		}
	}
}

// BenchmarkCreateEmail20KBStdio: create_email with 20 KB of HTML, as an
// agent calls it — over real stdio pipes to the built binary — with no
// policy and with the sample policy. Budget: p50 ≤ 3 ms, p99 ≤ 10 ms, as
// the client sees it; server-p50 is the server's own share (from reading
// the request to writing the answer, logged at debug level).
func BenchmarkCreateEmail20KBStdio(b *testing.B) {
	b.Run("no-policy", func(b *testing.B) {
		dir := b.TempDir()
		initSample(b, dir)
		cfg := filepath.Join(dir, "config.yaml")
		data, _ := os.ReadFile(cfg)
		os.WriteFile(cfg, []byte(strings.Replace(string(data), "\npolicy: policy.yaml", "\n", 1)), 0o600)
		benchCreateEmail(b, dir)
	})
	b.Run("sample-policy", func(b *testing.B) { benchCreateEmail(b, b.TempDir()) })
}

func benchCreateEmail(b *testing.B, dir string) {
	data, err := os.ReadFile("../../testdata/bench/email-20kb.html")
	if err != nil {
		b.Fatal(err)
	}
	html := string(data)
	// The server logs to a file, not a pipe: reading a pipe would wake
	// the client for every log line, just as it waits for an answer.
	logs, err := os.Create(filepath.Join(b.TempDir(), "serve.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer logs.Close()
	srv, id := startServerLogging(b, dir, startProcLogging(b, logs, "debug", bin, "serve", "--data-dir", dir))
	var ts []time.Duration
	var ids []int
	i := 0
	b.ResetTimer()
	for b.Loop() {
		i++
		if i%450 == 0 { // a campaign holds at most 500 artifacts
			id = srv.createCampaign(b, fmt.Sprint("Bench ", i))
		}
		args := map[string]any{"name": "create_email", "arguments": map[string]any{
			"campaign_id": id, "name": fmt.Sprint("Email ", i), "subject": "Spring at Acme",
			"preview_text": "Lighter fabrics, brighter colours and the same fair prices.", "from_name": "Acme", "from_email": "news@acme.com", "html": html}}
		req := srv.request("tools/call", args)
		ids = append(ids, srv.id)
		t0 := time.Now()
		out := srv.send(b, req)
		ts = append(ts, time.Since(t0))
		if !strings.Contains(string(out), `"staged":true`) {
			b.Fatalf("create_email: %s", out)
		}
	}
	srv.in.Close() // the server logs the last answer before it exits
	srv.cmd.Wait()
	logged, err := os.ReadFile(logs.Name())
	if err != nil {
		b.Fatal(err)
	}
	reportPercentiles(b, "", ts)
	b.ReportMetric(float64(answeredMedian(b, logged, ids))/1e6, "server-p50-ms")
}

var answeredLine = regexp.MustCompile(`msg=answered method=tools/call tool=\S+ id=(\d+) duration_us=(\d+)`)

// answeredMedian returns the median time a server logged for the requests ids.
func answeredMedian(b *testing.B, log []byte, ids []int) time.Duration {
	took := map[int]time.Duration{}
	for _, m := range answeredLine.FindAllStringSubmatch(string(log), -1) {
		id, _ := strconv.Atoi(m[1])
		us, _ := strconv.Atoi(m[2])
		took[id] = time.Duration(us) * time.Microsecond
	}
	var ds []time.Duration
	for _, id := range ids {
		d, ok := took[id]
		if !ok {
			b.Fatalf("the server logged no answer to request %d", id)
		}
		ds = append(ds, d)
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}
