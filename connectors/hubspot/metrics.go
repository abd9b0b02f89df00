package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

const isoMillis = "2006-01-02T15:04:05.000Z07:00"

// counterNames maps HubSpot's statistics counters to lastmile's normalized
// names. Counters not listed here are kept under HubSpot's own names.
var counterNames = map[string]string{
	"sent":         sandbox.MetricSent,
	"delivered":    sandbox.MetricDelivered,
	"open":         sandbox.MetricOpens,
	"click":        sandbox.MetricClicks,
	"bounce":       sandbox.MetricBounces,
	"unsubscribed": sandbox.MetricUnsubscribes,
	"spamreport":   sandbox.MetricSpamReports,
}

func normalize(artifactID, liveID string, counters map[string]int64, ratios map[string]float64, now time.Time) sandbox.Metrics {
	m := sandbox.Metrics{ArtifactID: artifactID, LiveID: liveID, Counters: map[string]int64{}, Source: Platform, FetchedAt: now}
	for k, v := range counters {
		if n, ok := counterNames[k]; ok {
			m.Counters[n] = v
		} else {
			m.Counters[k] = v
		}
	}
	if len(ratios) > 0 {
		m.Ratios = make(map[string]float64, len(ratios))
		for k, v := range ratios {
			m.Ratios[k] = v
		}
	}
	return m
}

// Metrics reads email statistics. For all-time figures it lists the
// portal's emails with their stats (100 per request) when that takes fewer
// requests than reading each email; for a time window it asks the
// statistics endpoint once per email, concurrently within the rate limit.
// Landing pages, lists and workflows have no statistics in the APIs this
// connector uses; they are skipped.
func (t *Target) Metrics(ctx context.Context, req sandbox.MetricsRequest) ([]sandbox.Metrics, error) {
	var items []sandbox.MetricsItem
	for _, it := range req.Items {
		if it.Kind == sandbox.KindEmail && it.LiveID != "" {
			items = append(items, it)
		}
	}
	if len(items) == 0 {
		return nil, nil
	}
	if req.Since.IsZero() {
		return t.metricsAllTime(ctx, items)
	}
	return t.metricsWindow(ctx, items, req.Since)
}

func (t *Target) metricsAllTime(ctx context.Context, items []sandbox.MetricsItem) ([]sandbox.Metrics, error) {
	want := map[string][]sandbox.MetricsItem{}
	for _, it := range items {
		want[it.LiveID] = append(want[it.LiveID], it)
	}
	got := map[string]hsEmail{}
	first := true
	// The first page tells how many emails the portal has: listing them all
	// is worth it when it takes fewer requests than one per email.
	err := t.pageThrough(ctx, t.paths.emails+"?limit=100&includeStats=true", func(raw []byte) (string, bool, error) {
		var page struct {
			Results []hsEmail `json:"results"`
			Total   int       `json:"total"`
			Paging  *paging   `json:"paging"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return "", true, err
		}
		for _, e := range page.Results {
			if _, ok := want[e.ID]; ok {
				got[e.ID] = e
			}
		}
		remaining := len(want) - len(got)
		if remaining == 0 {
			return "", true, nil
		}
		if first {
			first = false
			if pagesLeft := (page.Total - len(page.Results) + 99) / 100; pagesLeft > remaining {
				return "", true, nil // cheaper to read the rest one by one
			}
		}
		return page.Paging.after(), false, nil
	})
	if err != nil {
		return nil, t.fail("read email statistics", err)
	}
	var missing []string
	for id := range want {
		if _, ok := got[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		fetched, err := collect(ctx, missing, t.cfg.MaxConcurrency, func(ctx context.Context, id string) (hsEmail, bool, error) {
			var e hsEmail
			_, err := t.do(ctx, call{method: http.MethodGet, path: t.paths.emails + "/" + id + "?includeStats=true"}, &e)
			if rest.StatusOf(err) == http.StatusNotFound {
				return e, false, nil
			}
			return e, err == nil, err
		})
		if err != nil {
			return nil, t.fail("read email statistics", err)
		}
		for id, e := range fetched {
			got[id] = e
		}
	}
	now := t.now().UTC()
	var out []sandbox.Metrics
	for _, it := range items {
		e, ok := got[it.LiveID]
		if !ok {
			continue // deleted in HubSpot: nothing to report
		}
		var c map[string]int64
		var r map[string]float64
		if e.Stats != nil {
			c, r = e.Stats.Counters, e.Stats.Ratios
		}
		m := normalize(it.ArtifactID, it.LiveID, c, r, now)
		if m.Variants, err = t.abVariants(ctx, e, m, now); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (t *Target) metricsWindow(ctx context.Context, items []sandbox.MetricsItem, since time.Time) ([]sandbox.Metrics, error) {
	ids := make([]string, 0, len(items))
	seen := map[string]bool{}
	for _, it := range items {
		if !seen[it.LiveID] {
			seen[it.LiveID] = true
			ids = append(ids, it.LiveID)
		}
	}
	end := t.now().UTC()
	type agg struct {
		Counters map[string]int64
		Ratios   map[string]float64
	}
	fetched, err := collect(ctx, ids, t.cfg.MaxConcurrency, func(ctx context.Context, id string) (agg, bool, error) {
		q := url.Values{"emailIds": {id}, "startTimestamp": {since.UTC().Format(isoMillis)}, "endTimestamp": {end.Format(isoMillis)}}
		var r struct {
			Aggregate struct {
				Counters map[string]int64   `json:"counters"`
				Ratios   map[string]float64 `json:"ratios"`
			} `json:"aggregate"`
		}
		_, err := t.do(ctx, call{method: http.MethodGet, path: t.paths.emails + "/statistics/list?" + q.Encode()}, &r)
		return agg{r.Aggregate.Counters, r.Aggregate.Ratios}, err == nil, err
	})
	if err != nil {
		return nil, t.fail("read email statistics since "+since.UTC().Format(time.RFC3339), err)
	}
	var out []sandbox.Metrics
	for _, it := range items {
		a := fetched[it.LiveID]
		out = append(out, normalize(it.ArtifactID, it.LiveID, a.Counters, a.Ratios, end))
	}
	return out, nil
}

// collect runs f for every id with the given concurrency (the limiter paces
// the requests) and gathers the results f reports as found. The first error
// stops the rest.
func collect[T any](ctx context.Context, ids []string, workers int, f func(context.Context, string) (T, bool, error)) (map[string]T, error) {
	out := map[string]T{}
	var mu sync.Mutex
	err := parallel(ctx, ids, workers, func(ctx context.Context, id string) error {
		v, ok, err := f(ctx, id)
		if err != nil {
			return err
		}
		if ok {
			mu.Lock()
			out[id] = v
			mu.Unlock()
		}
		return nil
	})
	return out, err
}

func parallel(ctx context.Context, ids []string, workers int, f func(context.Context, string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan string)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range max(1, min(workers, len(ids))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				if err := f(ctx, id); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
	for _, id := range ids {
		select {
		case work <- id:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if first != nil {
		return first
	}
	if err := ctx.Err(); err != nil && first == nil {
		return fmt.Errorf("reading statistics: %w", err)
	}
	return nil
}
