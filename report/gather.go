package report

import (
	"context"
	"time"

	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/sandbox"
)

// Gather reads what Build needs for a period from the sandbox: the audit
// log, the campaigns with their costs, and each campaign's results — the
// sends, opens and clicks of its live artifacts in the period, and the
// conversions in the period credited to it by the model (the configured
// one when model is empty). It reads the outcomes kept so far; a sync
// before it brings them up to date.
func Gather(ctx context.Context, sb *sandbox.Sandbox, period string, now time.Time, model string) (Input, error) {
	name, from, to, err := ParsePeriod(period, now)
	if err != nil {
		return Input{}, err
	}
	in := Input{Period: name, From: from, To: to, Results: map[string]Result{}}
	for after := uint64(0); ; {
		page, err := sb.Audit(ctx, after, 5000)
		if err != nil {
			return in, err
		}
		if len(page) == 0 {
			break
		}
		in.Audit = append(in.Audit, page...)
		after = page[len(page)-1].Seq
	}
	for cursor := ""; ; {
		page, err := sb.ListCampaigns(ctx, cursor, 100)
		if err != nil {
			return in, err
		}
		for _, c := range page.Campaigns {
			camp := Campaign{ID: c.ID, Name: c.Name, CreatedAt: c.CreatedAt}
			if v, err := sb.GetCampaign(ctx, c.ID); err == nil {
				camp.Cost = v.Campaign.Cost
			}
			in.Campaigns = append(in.Campaigns, camp)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}

	cat, err := sb.Catalog(ctx)
	if err != nil {
		return in, err
	}
	att, err := sb.Attribution(ctx, model, "")
	if err != nil {
		return in, err
	}
	in.Model = string(att.Model)
	inPeriod := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }

	// Engagement: each contact once per campaign and kind of touch.
	owner := map[[2]string]string{} // (target, live id) → campaign
	for _, a := range cat.Artifacts {
		for target, live := range a.LiveIDs {
			owner[[2]string{target, live}] = a.CampaignID
		}
	}
	seen := map[[3]string]bool{}
	results := map[string]*Result{}
	result := func(id string) *Result {
		if results[id] == nil {
			results[id] = &Result{}
		}
		return results[id]
	}
	if _, err := sb.Outcomes(ctx, 0, func(e outcomes.Event) error {
		c, ok := owner[[2]string{e.Target, e.LiveID}]
		if !ok || !inPeriod(e.At) {
			return nil
		}
		k := [3]string{c, e.Type, e.Contact}
		if e.Contact != "" && seen[k] {
			return nil
		}
		seen[k] = true
		switch e.Type {
		case outcomes.Sent:
			result(c).Sent++
		case outcomes.Open:
			result(c).UniqueOpens++
		case outcomes.Click:
			result(c).UniqueClicks++
		}
		return nil
	}); err != nil {
		return in, err
	}

	// Conversions in the period, by their credits.
	pipeline, revenue := map[string]sums{}, map[string]sums{}
	for _, conv := range att.Conversions {
		if !inPeriod(conv.At) {
			continue
		}
		for _, cr := range conv.Credits {
			r := result(cr.CampaignID)
			r.Conversions += float64(cr.Share) / 1000
			if cr.Value == nil {
				continue
			}
			into := revenue
			if conv.Type == outcomes.OpportunityCreated {
				into = pipeline
			}
			if into[cr.CampaignID] == nil {
				into[cr.CampaignID] = sums{}
			}
			into[cr.CampaignID].add(*cr.Value)
		}
	}
	for id, r := range results {
		if s := pipeline[id]; s != nil {
			r.Pipeline = s.list()
		}
		if s := revenue[id]; s != nil {
			r.Revenue = s.list()
		}
		in.Results[id] = *r
	}
	return in, nil
}
