package tools_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
	"github.com/lastmile/lastmile/tools"
)

func medianOf(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// email20KB is a table-layout email of about 20 KB, shared with the
// binary's benchmark.
func email20KB(b *testing.B) string {
	data, err := os.ReadFile("../testdata/bench/email-20kb.html")
	if err != nil {
		b.Fatal(err)
	}
	return string(data)
}

// BenchmarkCreateEmail20KB: the server serving a create_email request with
// 20 KB of HTML as it does over stdio (ServeStdio on in-process pipes: the
// request line in, schema validation, staging with fsync'd bbolt, the result
// line out) against a bare bbolt Update that puts the same bytes into an open
// database, in the same run. Target: median ≤ 1.5×. (Process-boundary pipe
// latency is measured by the binary's read round trip.)
func BenchmarkCreateEmail20KB(b *testing.B) {
	// The collector as `lastmile serve` sets it up, for this benchmark only.
	gc, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	debug.SetGCPercent(gc)
	defer func() { debug.SetGCPercent(gc); debug.SetMemoryLimit(limit) }()
	tools.TuneRuntime(os.Getenv)
	for _, withPolicy := range []bool{false, true} {
		name := "no-policy"
		if withPolicy {
			name = "sample-policy"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte(local.SampleContacts), 0o600)
			st, err := store.OpenBolt(dir)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			lt, _ := local.New("local", dir, local.Config{})
			var pol sandbox.PolicySource = sandbox.StaticPolicy{}
			if withPolicy {
				p, err := governance.Load("../testdata/policy/acme.yaml")
				if err != nil {
					b.Fatal(err)
				}
				pol = sandbox.StaticPolicy{P: p}
			}
			sb, _ := sandbox.New(sandbox.Options{Store: st, Targets: map[string]sandbox.Target{"local": lt}, Policy: pol, DataDir: dir})
			srv := tools.New(sb, tools.Options{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			inR, inW := io.Pipe()
			outR, outW := io.Pipe()
			go tools.ServeStdio(ctx, srv, inR, outW, nil)
			defer inW.Close()
			lines := bufio.NewReaderSize(outR, 1<<20)
			roundTrip := func(msg []byte) []byte {
				msg = append(msg, '\n')
				inW.Write(msg)
				line, err := lines.ReadBytes('\n')
				if err != nil {
					b.Fatal(err)
				}
				return line
			}
			roundTrip([]byte(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}`))
			camp, _ := sb.CreateCampaign(ctx, "bench", sandbox.CampaignInput{Name: "Bench", Industry: "retail"})

			bare, err := bolt.Open(filepath.Join(b.TempDir(), "bare.db"), 0o600, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer bare.Close()

			// Every email has the same HTML, encoded once: the requests are
			// put together in one reused buffer, so that the client makes
			// no garbage for the server's collector to deal with (a real
			// client is another process).
			html := email20KB(b)
			htmlJSON, _ := json.Marshal(html)
			htmlBytes, key := []byte(html), []byte(nil)
			var msg []byte
			var tm, tb []time.Duration
			i := 0
			b.ResetTimer()
			for b.Loop() {
				i++
				if i%sandbox.MaxArtifactsPerCampgn == 0 {
					// A campaign holds a bounded number of artifacts.
					camp, _ = sb.CreateCampaign(ctx, "bench", sandbox.CampaignInput{Name: "Bench", Industry: "retail"})
				}
				msg = fmt.Appendf(msg[:0], `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"create_email","arguments":{"campaign_id":%q,"name":"Email %d","subject":"Spring at Acme","preview_text":"Lighter fabrics, brighter colours and the same fair prices.","from_name":"Acme","from_email":"news@acme.com","html":%s}}}`, i, camp.ID, i, htmlJSON)
				t0 := time.Now()
				out := roundTrip(msg)
				t1 := time.Now()
				if !strings.Contains(string(out), `"staged":true`) {
					b.Fatalf("create_email: %s", out)
				}
				if err := bare.Update(func(tx *bolt.Tx) error {
					bk, err := tx.CreateBucketIfNotExists([]byte("emails"))
					if err != nil {
						return err
					}
					key = strconv.AppendInt(key[:0], int64(i), 10)
					return bk.Put(key, htmlBytes)
				}); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				tm, tb = append(tm, t1.Sub(t0)), append(tb, t2.Sub(t1))
			}
			mean := func(ds []time.Duration) float64 {
				var t time.Duration
				for _, d := range ds {
					t += d
				}
				return float64(t.Microseconds()) / float64(len(ds))
			}
			b.ReportMetric(mean(tm), "mean-µs")
			b.ReportMetric(mean(tb), "bare-mean-µs")
			mm, mb := medianOf(tm), medianOf(tb)
			b.ReportMetric(float64(mm.Microseconds()), "create_email-median-µs")
			b.ReportMetric(float64(mb.Microseconds()), "bbolt-update-median-µs")
			b.ReportMetric(float64(mm)/float64(mb), "x-bbolt")
		})
	}
}
