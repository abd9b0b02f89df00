package report

import (
	"testing"
	"time"

	"github.com/lastmile/lastmile/outcomes"
)

// Ad spend is cost: it adds to what a person said a campaign cost, and the
// return is computed over both.
func TestAdSpendIsCost(t *testing.T) {
	now := time.Date(2027, 3, 31, 12, 0, 0, 0, time.UTC)
	manual := outcomes.Money{Minor: 20_000, Currency: "USD"}
	in := Input{Period: "2027-03", From: now.AddDate(0, -1, 0), To: now, Results: map[string]Result{
		"cmp_a": {Revenue: []outcomes.Money{{Minor: 150_000, Currency: "USD"}}},
	}, Campaigns: []Campaign{{ID: "cmp_a", Name: "A", CreatedAt: now.AddDate(0, 0, -10), Cost: &manual, AdSpend: []outcomes.Money{{Minor: 30_000, Currency: "USD"}}}}}
	r := Build(in)
	if len(r.Cost) != 1 || r.Cost[0].Minor != 50_000 {
		t.Fatalf("cost = %+v, want USD 500.00 (200 said + 300 ad spend)", r.Cost)
	}
	if len(r.Campaigns) != 1 || len(r.Campaigns[0].ROI) != 1 || r.Campaigns[0].ROI[0].Ratio != 2 {
		t.Fatalf("campaign line %+v, want ROI 2.0 ((1500-500)/500)", r.Campaigns)
	}
	if len(r.ROI) != 1 || r.ROI[0].Ratio != 2 {
		t.Errorf("report ROI %+v", r.ROI)
	}
}
