//go:build !windows

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/store/pgtest"
)

// BenchmarkReplicasStaging: 60 agents (3 × 20), each an MCP client over
// streamable HTTP with a session of its own, stage build_segment calls
// against one serve --http on bbolt, one replica on PostgreSQL, or three
// replicas on PostgreSQL (20 agents each). saturated: every agent calls
// back to back; paced: every agent stages once every 500 ms (an LLM agent
// thinks between calls). b.N is the number of writes; it reports writes/s
// and each call's p50 and p99 latency. Figures: docs/benchmarks.md,
// "Replicas". Nothing asserts on time.
//
//	go test -run '^$' -bench ReplicasStaging -benchtime 3000x ./cmd/lastmile
func BenchmarkReplicasStaging(b *testing.B) {
	for _, setup := range []struct {
		name     string
		replicas int
		postgres bool
	}{
		{"bolt-1", 1, false},
		{"postgres-1", 1, true},
		{"postgres-3", 3, true},
	} {
		for _, mode := range []struct {
			name  string
			think time.Duration
		}{
			{"saturated", 0},
			{"paced-500ms", 500 * time.Millisecond},
		} {
			b.Run(setup.name+"/"+mode.name, func(b *testing.B) {
				url := ""
				if setup.postgres {
					url = pgtest.Schema(b)
				}
				benchStaging(b, startReplicas(b, setup.replicas, url, local.SampleContacts), mode.think)
			})
		}
	}
}

func benchStaging(b *testing.B, r *replicas, think time.Duration) {
	const agents = 60
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	type worker struct {
		a        *agent
		campaign string
		n        int
		lat      []time.Duration
		err      error
	}
	ws := make([]*worker, agents)
	for k := range ws {
		a := mustAgent(b, ctx, r.srv[k%len(r.srv)].url, fmt.Sprintf("bench-%d", k))
		c := a.must(b, ctx, "create_campaign", map[string]any{"name": fmt.Sprintf("Bench %d", k)})
		n := b.N / agents
		if k < b.N%agents {
			n++
		}
		ws[k] = &worker{a: a, campaign: c["id"].(string), n: n, lat: make([]time.Duration, 0, n)}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for k, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			begin := time.Now()
			if think > 0 { // spread the agents over the first interval
				begin = begin.Add(time.Duration(rand.Int64N(int64(think))))
			}
			for i := range w.n {
				if think > 0 {
					time.Sleep(time.Until(begin.Add(time.Duration(i) * think)))
				}
				t0 := time.Now()
				res, err := w.a.call(ctx, "build_segment", map[string]any{"campaign_id": w.campaign, "name": fmt.Sprintf("Segment %d-%d", k, i),
					"conditions": []map[string]any{{"property": "lifecycle_stage", "operator": "eq", "value": "customer"}}})
				w.lat = append(w.lat, time.Since(t0))
				if err == nil && res.isError {
					err = fmt.Errorf("build_segment: %s", res.text)
				}
				if err != nil {
					w.err = err
					return
				}
			}
		}()
	}
	b.ResetTimer()
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	b.StopTimer()
	var all []time.Duration
	for _, w := range ws {
		if w.err != nil {
			b.Fatal(w.err)
		}
		all = append(all, w.lat...)
	}
	slices.Sort(all)
	q := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p*float64(len(all))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "writes/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1)-0, "max-ms")
}
