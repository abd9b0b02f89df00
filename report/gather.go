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
	camps, err := sb.Campaigns(ctx)
	if err != nil {
		return in, err
	}
	for _, c := range camps {
		spend, err := sb.AdSpend(ctx, c.ID)
		if err != nil {
			return in, err
		}
		in.Campaigns = append(in.Campaigns, Campaign{ID: c.ID, Name: c.Name, CreatedAt: c.CreatedAt, Cost: c.Cost, AdSpend: spend})
	}

	eng, credited, usedModel, err := sb.Period(ctx, model, from, to)
	if err != nil {
		return in, err
	}
	in.Model = usedModel
	for id, e := range eng {
		r := in.Results[id]
		r.Sent, r.UniqueOpens, r.UniqueClicks = e.Sent, e.Opened, e.Clicked
		in.Results[id] = r
	}
	for id, c := range credited {
		r := in.Results[id]
		r.Conversions = float64(c.Conversions) / 1000
		r.Pipeline, r.Revenue = sorted(c.Pipeline), sorted(c.Revenue)
		in.Results[id] = r
	}
	return in, nil
}

// sorted orders amounts by currency, as the report lists them.
func sorted(ms []outcomes.Money) []outcomes.Money {
	s := sums{}
	s.add(ms...)
	return s.list()
}
