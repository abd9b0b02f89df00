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
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Benchmarks of the binary over real stdio pipes. Figures and how to read
// them are in docs/benchmarks.md; nothing here asserts on time.

// echoSource is the baseline: a bare JSON-RPC process that reads a request
// line, decodes its id and writes a result.
const echoSource = `package main

import (
	"bufio"
	"encoding/json"
	"os"
)

func main() {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	for {
		line, err := in.ReadBytes('\n')
		if err != nil {
			return
		}
		var req struct {
			ID json.RawMessage ` + "`json:\"id\"`" + `
		}
		json.Unmarshal(line, &req)
		out.WriteString(` + "`{\"jsonrpc\":\"2.0\",\"id\":`" + `)
		out.Write(req.ID)
		out.WriteString(` + "`,\"result\":{}}`" + ` + "\n")
		out.Flush()
	}
}
`

func buildEcho(b *testing.B) string {
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module echo\n\ngo 1.26\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(echoSource), 0o600)
	exe := filepath.Join(dir, "echo")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goTool, "build", "-o", exe, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build echo: %v\n%s", err, out)
	}
	return exe
}

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

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
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
// binary against a bare JSON-RPC echo process over the same kind of pipes,
// interleaved in one run. Target: median ≤ 2× the echo's.
func BenchmarkReadRoundTrip(b *testing.B) {
	echo := startProc(b, buildEcho(b))
	srv, id := startServer(b)
	args := map[string]any{"name": "get_campaign", "arguments": map[string]any{"campaign_id": id}}
	// Warm both up.
	for range 200 {
		echo.roundTrip(b, "tools/call", args)
		srv.roundTrip(b, "tools/call", args)
	}
	var te, ts []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		echo.roundTrip(b, "tools/call", args)
		t1 := time.Now()
		srv.roundTrip(b, "tools/call", args)
		t2 := time.Now()
		te, ts = append(te, t1.Sub(t0)), append(ts, t2.Sub(t1))
	}
	me, ms := median(te), median(ts)
	// The transport alone, for reference: ping through the same server.
	var tp []time.Duration
	for range 2000 {
		t0 := time.Now()
		srv.roundTrip(b, "ping", map[string]any{})
		tp = append(tp, time.Since(t0))
	}
	b.ReportMetric(float64(median(tp).Microseconds()), "ping-median-µs")
	b.ReportMetric(float64(me.Microseconds()), "echo-median-µs")
	b.ReportMetric(float64(ms.Microseconds()), "lastmile-median-µs")
	b.ReportMetric(float64(ms)/float64(me), "x-echo")
}

// BenchmarkServeStartup: from exec to the initialize response, on an
// initialized data directory. Target ≤ 50 ms.
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
	b.ReportMetric(float64(median(ds).Microseconds())/1000, "median-ms")
}

// BenchmarkRSSAfter10kCalls: resident memory of `lastmile serve` after
// 10,000 tool calls (reads and writes). Target ≤ 50 MB.
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
// agent calls it — over real stdio pipes to the built binary — against a
// bare bbolt Update that puts the same bytes into an open database with
// fsync, interleaved in one run. Target: median ≤ 1.5×, for the server's
// own time (from reading the request to writing the answer, which the
// server logs at debug level); what the client sees adds the pipes and the
// two processes' wake-ups, which the read round trip measures.
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
	html, htmlBytes := string(data), data
	// The server logs to a file, not a pipe: reading a pipe would wake
	// the client for every log line, just as it waits for an answer.
	logs, err := os.Create(filepath.Join(b.TempDir(), "serve.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer logs.Close()
	srv, id := startServerLogging(b, dir, startProcLogging(b, logs, "debug", bin, "serve", "--data-dir", dir))
	bare, err := bolt.Open(filepath.Join(b.TempDir(), "bare.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer bare.Close()
	var ts, tb []time.Duration
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
		t1 := time.Now()
		if !strings.Contains(string(out), `"staged":true`) {
			b.Fatalf("create_email: %s", out)
		}
		if err := bare.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("emails"))
			if err != nil {
				return err
			}
			return bk.Put([]byte(strconv.Itoa(i)), htmlBytes)
		}); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		ts, tb = append(ts, t1.Sub(t0)), append(tb, t2.Sub(t1))
	}
	ms, mb := median(ts), median(tb)
	srv.in.Close() // the server logs the last answer before it exits
	srv.cmd.Wait()
	logged, err := os.ReadFile(logs.Name())
	if err != nil {
		b.Fatal(err)
	}
	server := answeredMedian(b, logged, ids)
	b.ReportMetric(float64(ms.Microseconds()), "client-median-µs")
	b.ReportMetric(float64(server.Microseconds()), "server-median-µs")
	b.ReportMetric(float64(mb.Microseconds()), "bbolt-update-median-µs")
	b.ReportMetric(float64(ms)/float64(mb), "client-x-bbolt")
	b.ReportMetric(float64(server)/float64(mb), "x-bbolt")
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
	return median(ds)
}
