package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/store"
)

const bMetrics = "metrics" // artifact id/fetched-at → snapshot

// ArtifactMetrics is one artifact's normalized figures.
type ArtifactMetrics struct {
	ArtifactID      string  `json:"artifact_id"`
	Kind            Kind    `json:"kind"`
	Name            string  `json:"name"`
	Target          string  `json:"target"`
	LiveID          string  `json:"live_id"`
	Sent            int64   `json:"sent"`
	Delivered       int64   `json:"delivered"`
	Opens           int64   `json:"opens"`
	UniqueOpens     int64   `json:"unique_opens"`
	Clicks          int64   `json:"clicks"`
	UniqueClicks    int64   `json:"unique_clicks"`
	Bounces         int64   `json:"bounces"`
	Unsubscribes    int64   `json:"unsubscribes"`
	SpamReports     int64   `json:"spam_reports"`
	OpenRate        float64 `json:"open_rate"`
	ClickRate       float64 `json:"click_rate"`
	PageViews       int64   `json:"page_views"`
	FormSubmissions int64   `json:"form_submissions"`
	ConversionRate  float64 `json:"conversion_rate"`
	// Ad campaigns: what the platform counted and charged, in the ad
	// account's currency (micros, and written out in Cost), with the
	// ratios over impressions, clicks and conversions.
	Impressions int64     `json:"impressions,omitempty"`
	CostMicros  int64     `json:"cost_micros,omitempty"`
	Cost        string    `json:"cost,omitempty"`
	Currency    string    `json:"currency,omitempty"`
	Conversions float64   `json:"conversions,omitempty"`
	CTR         float64   `json:"ctr,omitempty"`
	CPCMicros   int64     `json:"cpc_micros,omitempty"`
	CPAMicros   int64     `json:"cpa_micros,omitempty"`
	FetchedAt   time.Time `json:"fetched_at"`
	Source      string    `json:"source"`
	// Other keeps what the platform reports beyond the normalized fields.
	Other      map[string]int64   `json:"other,omitempty"`
	OtherRates map[string]float64 `json:"other_rates,omitempty"`
	// Workflow is where a workflow's contacts stand, when its target runs it.
	Workflow *WorkflowState `json:"workflow,omitempty"`
	// Variants are an A/B test's figures per variant, a first; Winner is
	// the variant sent to the rest, once picked.
	Variants []VariantMetrics `json:"variants,omitempty"`
	Winner   string           `json:"winner,omitempty"`
}

// MetricsScope selects what FetchMetrics reads.
type MetricsScope struct {
	CampaignID string
	ArtifactID string
	Since      time.Time
}

func ratio(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(int64(float64(a)/float64(b)*10000+0.5)) / 10000
}

// normalize maps a target's counters onto the fixed fields and computes the
// rates: opens and clicks over delivered (or sent, when the target does not
// report deliveries), submissions over views.
func normalize(m Metrics) ArtifactMetrics {
	c := m.Counters
	out := ArtifactMetrics{
		Sent: c[MetricSent], Delivered: c[MetricDelivered], Opens: c[MetricOpens], UniqueOpens: c[MetricUniqueOpens],
		Clicks: c[MetricClicks], UniqueClicks: c[MetricUniqueClicks], Bounces: c[MetricBounces], Unsubscribes: c[MetricUnsubscribes],
		SpamReports: c[MetricSpamReports], PageViews: c[MetricPageViews], FormSubmissions: c[MetricFormSubmissions],
		FetchedAt: m.FetchedAt, Source: m.Source, LiveID: m.LiveID, ArtifactID: m.ArtifactID, Workflow: m.Workflow,
	}
	out.Impressions, out.CostMicros, out.Conversions = c[MetricImpressions], c[MetricCostMicros], float64(c[MetricConversionsMilli])/1000
	out.CTR = ratio(out.Clicks, out.Impressions)
	if out.Clicks > 0 {
		out.CPCMicros = out.CostMicros / out.Clicks
	}
	if m := c[MetricConversionsMilli]; m > 0 {
		out.CPAMicros = out.CostMicros * 1000 / m
	}
	known := []string{MetricSent, MetricDelivered, MetricOpens, MetricUniqueOpens, MetricClicks, MetricUniqueClicks, MetricBounces, MetricUnsubscribes, MetricSpamReports, MetricPageViews, MetricFormSubmissions,
		MetricImpressions, MetricCostMicros, MetricConversionsMilli}
	for k, v := range c {
		if !slices.Contains(known, k) {
			if out.Other == nil {
				out.Other = map[string]int64{}
			}
			out.Other[k] = v
		}
	}
	base := out.Delivered
	if base == 0 {
		base = out.Sent - out.Bounces
	}
	out.OpenRate, out.ClickRate = ratio(out.UniqueOpens, base), ratio(out.UniqueClicks, base)
	out.ConversionRate = ratio(out.FormSubmissions, out.PageViews)
	out.Variants, out.Winner = variantMetrics(m), m.Winner
	for k, v := range m.Ratios {
		if out.OtherRates == nil {
			out.OtherRates = map[string]float64{}
		}
		out.OtherRates[k] = v
	}
	return out
}

// FetchMetrics reads metrics for every live artifact of a campaign (or one
// artifact) from its target, stores them as snapshots, and returns them.
func (s *Sandbox) FetchMetrics(ctx context.Context, scope MetricsScope) ([]ArtifactMetrics, error) {
	var arts []*Artifact
	currency := map[string]string{} // ad artifact → its account's currency
	err := s.st.View(ctx, func(tx store.Tx) error {
		defer func() {
			for _, a := range arts {
				if a.Kind == KindAd {
					if r, err := s.revision(tx, a.ID, a.Live.Revision); err == nil && r != nil && r.Ad != nil {
						currency[a.ID] = r.Ad.Budget.Currency
					}
				}
			}
		}()
		if scope.ArtifactID != "" {
			a, err := getArtifact(tx, scope.ArtifactID)
			if err != nil {
				return err
			}
			if a == nil {
				return &NotFoundError{What: "artifact", ID: scope.ArtifactID, Hint: "get_campaign lists a campaign's artifacts"}
			}
			if a.Live == nil {
				return &RefusedError{Reason: fmt.Sprintf("%s %s is not live yet, so it has no metrics", a.Kind, a.ID), Action: "Promote it first (plan_promotion, approval, confirm_promotion)"}
			}
			arts = []*Artifact{a}
			return nil
		}
		if _, err := s.campaign(tx, scope.CampaignID); err != nil {
			return err
		}
		all, err := s.campaignArtifacts(tx, scope.CampaignID)
		if err != nil {
			return err
		}
		for _, a := range all {
			if a.Live != nil && !offPlatform(a) && (a.Kind == KindEmail || a.Kind == KindPage || a.Kind == KindWorkflow || a.Kind == KindAd) {
				arts = append(arts, a)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	byTarget := map[string][]MetricsItem{}
	for _, a := range arts {
		byTarget[a.Live.Target] = append(byTarget[a.Live.Target], MetricsItem{ArtifactID: a.ID, Kind: a.Kind, LiveID: a.Live.LiveID})
	}
	got := map[string]Metrics{}
	for name, items := range byTarget {
		t, ok := s.targets[name]
		if !ok {
			return nil, fmt.Errorf("target %q is not available; reconnect it with lastmile connect", name)
		}
		if !t.Capabilities().Metrics {
			continue
		}
		ms, err := t.Metrics(ctx, MetricsRequest{Items: items, Since: scope.Since})
		s.noteTarget(ctx, name, "metrics", err)
		if err != nil {
			return nil, fmt.Errorf("metrics from %s: %w", name, err)
		}
		for _, m := range ms {
			got[m.ArtifactID] = m
		}
	}
	out := make([]ArtifactMetrics, 0, len(arts))
	for _, a := range arts {
		m, ok := got[a.ID]
		if !ok {
			continue
		}
		am := normalize(m)
		am.Kind, am.Name, am.Target = a.Kind, a.Name, a.Live.Target
		if cur := currency[a.ID]; cur != "" {
			am.Currency, am.Cost = cur, FormatMoney(am.CostMicros, cur)
		}
		if am.FetchedAt.IsZero() {
			am.FetchedAt = s.clock()
		}
		out = append(out, am)
	}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		for _, m := range out {
			if err := putJSON(tx, bMetrics, m.ArtifactID+"/"+m.FetchedAt.UTC().Format(metricsKeyTime), m); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// metricsKeyTime keys snapshots by when they were fetched, fixed width so
// that keys sort as times do (RFC 3339 with nanoseconds drops trailing
// zeros: .042 sorted before .04).
const metricsKeyTime = "2006-01-02T15:04:05.000000000Z"

// MetricsHistory returns stored snapshots of an artifact, oldest first.
// Keys written before they were fixed width sort wrongly within a second,
// so the snapshots are ordered by their time too.
func (s *Sandbox) MetricsHistory(ctx context.Context, artifactID string, limit int) ([]ArtifactMetrics, error) {
	var out []ArtifactMetrics
	err := s.st.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan(bMetrics, artifactID+"/", "", limit)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			m, err := getJSONBytes[ArtifactMetrics](kv.Value)
			if err != nil {
				return err
			}
			out = append(out, *m)
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b ArtifactMetrics) int { return a.FetchedAt.Compare(b.FetchedAt) })
	return out, err
}

// AdSpend is what a campaign's ad campaigns have cost, by currency in
// minor units, as their platforms last reported it: the latest stored
// snapshot of each (fetch_metrics reads all time unless told a since; a
// snapshot of part of the time counts what it counted).
func (s *Sandbox) AdSpend(ctx context.Context, campaignID string) ([]outcomes.Money, error) {
	byCur := map[string]int64{}
	err := s.st.View(ctx, func(tx store.Tx) error {
		all, err := s.campaignArtifacts(tx, campaignID)
		if err != nil {
			return err
		}
		for _, a := range all {
			if a.Kind != KindAd || a.Live == nil {
				continue
			}
			kvs, err := tx.Scan(bMetrics, a.ID+"/", "", 0)
			if err != nil {
				return err
			}
			var latest *ArtifactMetrics
			for _, kv := range kvs {
				var m ArtifactMetrics
				if err := json.Unmarshal(kv.Value, &m); err != nil {
					return err
				}
				if latest == nil || m.FetchedAt.After(latest.FetchedAt) {
					latest = &m
				}
			}
			if latest != nil && latest.Currency != "" && latest.CostMicros > 0 {
				byCur[latest.Currency] += MinorUnits(latest.CostMicros, latest.Currency)
			}
		}
		return nil
	})
	var out []outcomes.Money
	for _, cur := range slices.Sorted(maps.Keys(byCur)) {
		out = append(out, outcomes.Money{Minor: byCur[cur], Currency: cur})
	}
	return out, err
}
