package googleads

import (
	"context"
	"math"
	"strconv"
	"strings"

	"github.com/lastmile/lastmile/sandbox"
)

// Metrics reads impressions, clicks, cost and conversions of the live
// campaigns (GAQL over the campaign resource, summed over segments.date
// from the day of req.Since in the account's time zone; all time when
// Since is zero). A campaign without figures reports zeros.
func (t *Target) Metrics(ctx context.Context, req sandbox.MetricsRequest) ([]sandbox.Metrics, error) {
	var items []sandbox.MetricsItem
	for _, it := range req.Items {
		if it.Kind == sandbox.KindAd && it.LiveID != "" {
			if _, err := strconv.ParseUint(it.LiveID, 10, 64); err == nil {
				items = append(items, it)
			}
		}
	}
	if len(items) == 0 {
		return nil, nil
	}
	type sums struct {
		imp, clicks, cost int64
		conv              float64
	}
	got := map[string]*sums{}
	const chunk = 500
	for start := 0; start < len(items); start += chunk {
		part := items[start:min(start+chunk, len(items))]
		ids := make([]string, len(part))
		for i, it := range part {
			ids[i] = it.LiveID
		}
		q := "SELECT campaign.id, metrics.impressions, metrics.clicks, metrics.cost_micros, metrics.conversions FROM campaign WHERE campaign.id IN (" + strings.Join(ids, ", ") + ")"
		if !req.Since.IsZero() {
			q += " AND segments.date >= " + gaqlString(req.Since.In(t.zone()).Format("2006-01-02"))
		}
		rows, err := t.search(ctx, q)
		if err != nil {
			return nil, t.fail("read ad campaign metrics", err)
		}
		for _, r := range rows {
			if r.Campaign == nil || r.Metrics == nil {
				continue
			}
			s := got[r.Campaign.ID]
			if s == nil {
				s = &sums{}
				got[r.Campaign.ID] = s
			}
			s.imp += i64(r.Metrics.Impressions)
			s.clicks += i64(r.Metrics.Clicks)
			s.cost += i64(r.Metrics.CostMicros)
			s.conv += r.Metrics.Conversions
		}
	}
	now := t.now().UTC()
	out := make([]sandbox.Metrics, 0, len(items))
	for _, it := range items {
		s := got[it.LiveID]
		if s == nil {
			s = &sums{}
		}
		out = append(out, sandbox.Metrics{ArtifactID: it.ArtifactID, LiveID: it.LiveID, Source: Platform, FetchedAt: now,
			Counters: map[string]int64{
				sandbox.MetricImpressions: s.imp, sandbox.MetricClicks: s.clicks, sandbox.MetricCostMicros: s.cost,
				sandbox.MetricConversionsMilli: int64(math.Round(s.conv * 1000)),
			}})
	}
	return out, nil
}
