package tools_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
	"github.com/lastmile/lastmile/tools"
)

// email20KB is a table-layout email of about 20 KB, shared with the
// binary's benchmark.
func email20KB(b *testing.B) string {
	data, err := os.ReadFile("../testdata/bench/email-20kb.html")
	if err != nil {
		b.Fatal(err)
	}
	return string(data)
}

// BenchmarkCreateEmail20KB: the server serving create_email requests with
// 20 KB of HTML over stdio (ServeStdio on in-process pipes: the request
// line in, mcp-go's dispatch, schema validation, staging with fsync'd
// bbolt, the result line out), with no policy and with the sample policy.
// Budget (docs/benchmarks.md): p50 ≤ 3 ms, p99 ≤ 10 ms.
func BenchmarkCreateEmail20KB(b *testing.B) {
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

			htmlJSON, _ := json.Marshal(email20KB(b))
			var msg []byte
			var took []time.Duration
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
				took = append(took, time.Since(t0))
				if !strings.Contains(string(out), `"staged":true`) {
					b.Fatalf("create_email: %s", out)
				}
			}
			reportPercentiles(b, took)
		})
	}
}

// reportPercentiles reports the p50 and p99 of durations, in ms.
func reportPercentiles(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	at := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))]) / 1e6 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}
