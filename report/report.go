// Package report is what a marketing team shows for a period: how many
// campaigns went live and how fast (from the audit log), what they reached
// and what they brought (from the attributed outcomes), what they cost and
// the return. Build is pure; html.go draws it.
package report

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/sandbox"
)

// Campaign is what the report needs to know of a campaign.
type Campaign struct {
	ID        string
	Name      string
	CreatedAt time.Time
	Cost      *outcomes.Money // what it cost, when someone said
	// AdSpend is what its ad campaigns have cost, as their platforms last
	// reported it (fetch_metrics), by currency: it adds to Cost.
	AdSpend []outcomes.Money
}

// Result is what a campaign's live artifacts reached and brought in the
// period, attributed by the report's model.
type Result struct {
	Sent         int64
	UniqueOpens  int64
	UniqueClicks int64
	Conversions  float64 // fractional under linear attribution
	Pipeline     []outcomes.Money
	Revenue      []outcomes.Money
}

// Input is everything Build reads.
type Input struct {
	Period    string    // as asked, e.g. "2026-11"
	From, To  time.Time // [From, To)
	Model     string    // the attribution model behind Results
	Audit     []sandbox.AuditEntry
	Campaigns []Campaign
	Results   map[string]Result // by campaign id
}

// Report is the period's figures.
type Report struct {
	Period       string           `json:"period"`
	From         time.Time        `json:"from"`
	To           time.Time        `json:"to"`
	Model        string           `json:"attribution_model"`
	Staged       int              `json:"campaigns_staged"`
	Approved     int              `json:"campaigns_approved"`
	Live         int              `json:"campaigns_live"`
	TimeToLive   Durations        `json:"brief_to_live"`
	ApprovalWait Durations        `json:"approval_wait"`
	LivePerWeek  []WeekCount      `json:"live_per_week"`
	Funnel       Funnel           `json:"funnel"`
	Pipeline     []outcomes.Money `json:"pipeline"`
	Revenue      []outcomes.Money `json:"revenue"`
	Cost         []outcomes.Money `json:"cost"`
	ROI          []ROI            `json:"roi"`
	Campaigns    []Line           `json:"campaigns"`
}

// Durations summarizes waits in hours.
type Durations struct {
	N      int       `json:"n"`
	Median float64   `json:"median_hours"`
	P90    float64   `json:"p90_hours"`
	Hours  []float64 `json:"-"` // each, for the distribution chart
}

// WeekCount is how many campaigns went live in the week starting Monday Start.
type WeekCount struct {
	Start time.Time `json:"week_of"`
	Count int       `json:"live"`
}

// Funnel is the period's totals from send to conversion.
type Funnel struct {
	Sent        int64   `json:"sent"`
	Opened      int64   `json:"opened"`
	Clicked     int64   `json:"clicked"`
	Conversions float64 `json:"conversions"`
}

// ROI is (revenue − cost) / cost in one currency; lastmile never converts
// between currencies.
type ROI struct {
	Currency string  `json:"currency"`
	Ratio    float64 `json:"ratio"`
}

// Line is one campaign's row.
type Line struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	LiveAt     *time.Time      `json:"live_at,omitempty"`
	TimeToLive *float64        `json:"brief_to_live_hours,omitempty"`
	Result     Result          `json:"result"`
	Cost       *outcomes.Money `json:"cost,omitempty"`
	// AdSpend is the ad platforms' part of the cost, by currency.
	AdSpend []outcomes.Money `json:"ad_spend,omitempty"`
	ROI     []ROI            `json:"roi,omitempty"`
}

// Build computes the report. A campaign counts as staged in the period if
// anything of it was staged then, approved if a plan of it was fully
// approved then, live if a promotion of it finished then. Brief→live runs
// from the campaign's creation to its first finished promotion; the
// approval wait from a plan to its full approval.
func Build(in Input) Report {
	r := Report{Period: in.Period, From: in.From, To: in.To, Model: in.Model, LivePerWeek: []WeekCount{}, Campaigns: []Line{}}
	inPeriod := func(t time.Time) bool { return !t.Before(in.From) && t.Before(in.To) }
	staged, approved, live := map[string]bool{}, map[string]bool{}, map[string]bool{}
	firstLive := map[string]time.Time{}
	planned := map[string]time.Time{} // plan id → when it was made
	var waits []float64
	for _, e := range in.Audit {
		switch {
		case e.Action == "plan_promotion":
			planned[e.Object] = e.At
		case e.Action == "approve_plan":
			if missing, _ := e.Detail["still_missing"].(string); missing == "" && inPeriod(e.At) {
				approved[e.CampaignID] = true
				if at, ok := planned[e.Object]; ok {
					waits = append(waits, e.At.Sub(at).Hours())
				}
			}
		case e.Action == "promotion_finished":
			if _, ok := firstLive[e.CampaignID]; !ok {
				firstLive[e.CampaignID] = e.At
			}
			if inPeriod(e.At) {
				live[e.CampaignID] = true
			}
		case len(e.Action) > 6 && e.Action[:6] == "stage_" || e.Action == "create_campaign":
			if inPeriod(e.At) && e.CampaignID != "" {
				staged[e.CampaignID] = true
			}
		}
	}
	r.Staged, r.Approved, r.Live = len(staged), len(approved), len(live)
	r.ApprovalWait = summarize(waits)

	weeks := map[time.Time]int{}
	for w := monday(in.From); w.Before(in.To); w = w.AddDate(0, 0, 7) {
		weeks[w] = 0
	}
	var ttl []float64
	cost, pipeline, revenue := sums{}, sums{}, sums{}
	for _, c := range in.Campaigns {
		res, hasResult := in.Results[c.ID]
		at, isLive := firstLive[c.ID]
		if !hasResult && !staged[c.ID] && !(isLive && inPeriod(at)) {
			continue
		}
		l := Line{ID: c.ID, Name: c.Name, Result: res, Cost: c.Cost, AdSpend: c.AdSpend}
		if isLive {
			l.LiveAt = &at
			if inPeriod(at) {
				h := at.Sub(c.CreatedAt).Hours()
				l.TimeToLive = &h
				ttl = append(ttl, h)
				weeks[monday(at)]++
			}
		}
		r.Funnel.Sent += res.Sent
		r.Funnel.Opened += res.UniqueOpens
		r.Funnel.Clicked += res.UniqueClicks
		r.Funnel.Conversions += res.Conversions
		pipeline.add(res.Pipeline...)
		revenue.add(res.Revenue...)
		costs := slices.Clone(c.AdSpend)
		if c.Cost != nil {
			costs = append(costs, *c.Cost)
		}
		if len(costs) > 0 {
			cost.add(costs...)
			l.ROI = roi(res.Revenue, costs)
		}
		r.Campaigns = append(r.Campaigns, l)
	}
	r.TimeToLive = summarize(ttl)
	for _, w := range slices.SortedFunc(mapKeys(weeks), func(a, b time.Time) int { return a.Compare(b) }) {
		r.LivePerWeek = append(r.LivePerWeek, WeekCount{Start: w, Count: weeks[w]})
	}
	r.Pipeline, r.Revenue, r.Cost = pipeline.list(), revenue.list(), cost.list()
	r.ROI = roi(r.Revenue, r.Cost)
	slices.SortStableFunc(r.Campaigns, func(a, b Line) int {
		return cmp.Or(cmp.Compare(total(b.Result.Revenue), total(a.Result.Revenue)), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return r
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// monday is the start (00:00 UTC) of t's ISO week.
func monday(t time.Time) time.Time {
	t = t.UTC()
	d := (int(t.Weekday()) + 6) % 7
	return time.Date(t.Year(), t.Month(), t.Day()-d, 0, 0, 0, 0, time.UTC)
}

// summarize gives the median and the 90th percentile (nearest rank).
func summarize(hours []float64) Durations {
	d := Durations{N: len(hours), Hours: slices.Sorted(slices.Values(hours))}
	if d.N == 0 {
		return d
	}
	d.Median = quantile(d.Hours, 0.5)
	d.P90 = quantile(d.Hours, 0.9)
	return d
}

func quantile(sorted []float64, q float64) float64 {
	if q == 0.5 && len(sorted)%2 == 0 {
		return (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	rank := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(rank, 0)]
}

// sums adds money per currency.
type sums map[string]int64

func (s sums) add(ms ...outcomes.Money) {
	for _, m := range ms {
		s[m.Currency] += m.Minor
	}
}

func (s sums) list() []outcomes.Money {
	out := []outcomes.Money{}
	for _, c := range slices.Sorted(mapKeys(s)) {
		out = append(out, outcomes.Money{Minor: s[c], Currency: c})
	}
	return out
}

// total orders campaigns by revenue: the sum of minor units regardless of
// currency is only a sort key, never shown.
func total(ms []outcomes.Money) int64 {
	var n int64
	for _, m := range ms {
		n += m.Minor
	}
	return n
}

// roi is the return per currency that has both revenue and cost.
func roi(revenue, cost []outcomes.Money) []ROI {
	rev, c := sums{}, sums{}
	rev.add(revenue...)
	c.add(cost...)
	var out []ROI
	for _, cur := range slices.Sorted(mapKeys(c)) {
		if c[cur] == 0 {
			continue
		}
		out = append(out, ROI{Currency: cur, Ratio: math.Round(float64(rev[cur]-c[cur])/float64(c[cur])*100) / 100})
	}
	return out
}
