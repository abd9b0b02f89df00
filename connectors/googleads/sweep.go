package googleads

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Sweeper = (*Target)(nil)

var markerRE = regexp.MustCompile(`\[` + regexp.QuoteMeta(sandbox.MarkerPrefix) + `([a-z]+_[0-9a-z]+)\]`)

// Marked lists the campaigns (not removed) whose names carry a lastmile
// marker. A campaign reached people when it is enabled or has spent.
func (t *Target) Marked(ctx context.Context, kind sandbox.Kind) ([]sandbox.Marked, error) {
	if kind != sandbox.KindAd {
		return nil, nil
	}
	rows, err := t.search(ctx, "SELECT campaign.id, campaign.name, campaign.status FROM campaign WHERE campaign.name LIKE '%"+likeLiteral("["+sandbox.MarkerPrefix)+"%' AND campaign.status != 'REMOVED'")
	if err != nil {
		return nil, t.fail("list marked ad campaigns", err)
	}
	var out []sandbox.Marked
	var ids []string
	for _, r := range rows {
		c := r.Campaign
		if c == nil {
			continue
		}
		m := markerRE.FindStringSubmatch(c.Name)
		if m == nil {
			continue
		}
		out = append(out, sandbox.Marked{Kind: sandbox.KindAd, ArtifactID: m[1], LiveID: c.ID, Name: c.Name, Status: statusWord(c.Status), Reached: c.Status == "ENABLED"})
		ids = append(ids, c.ID)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	spent, err := t.spent(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if spent[out[i].LiveID] {
			out[i].Reached = true
		}
	}
	sort.Slice(out, func(i, j int) bool { return i64(out[i].LiveID) < i64(out[j].LiveID) })
	return out, nil
}

// spent says which campaigns have any impressions or cost.
func (t *Target) spent(ctx context.Context, ids []string) (map[string]bool, error) {
	rows, err := t.search(ctx, "SELECT campaign.id, metrics.impressions, metrics.cost_micros FROM campaign WHERE campaign.id IN ("+strings.Join(ids, ", ")+")")
	if err != nil {
		return nil, t.fail("read what marked ad campaigns spent", err)
	}
	out := map[string]bool{}
	for _, r := range rows {
		if r.Campaign != nil && r.Metrics != nil && (i64(r.Metrics.CostMicros) > 0 || i64(r.Metrics.Impressions) > 0) {
			out[r.Campaign.ID] = true
		}
	}
	return out, nil
}

// Discard removes a campaign that never ran: paused and without a cent
// spent or an impression. Anything else is left alone (ErrReachedPeople).
func (t *Target) Discard(ctx context.Context, m sandbox.Marked) error {
	op := "discard ad campaign " + m.LiveID
	if m.Kind != sandbox.KindAd {
		return failf(op, []error{sandbox.ErrNotSupported}, "google_ads holds ad campaigns only")
	}
	lc, found, err := t.readTree(ctx, op, m.LiveID)
	if err != nil {
		return err
	}
	if !found || lc.Status == "REMOVED" {
		return nil
	}
	spent, err := t.spent(ctx, []string{m.LiveID})
	if err != nil {
		return err
	}
	if lc.Status == "ENABLED" || spent[m.LiveID] {
		return failf(op, []error{sandbox.ErrReachedPeople}, "campaign %s (%s) is %s or has spent, so lastmile leaves it: pause or remove it in Google Ads if nobody should see it", m.LiveID, lc.Name, strings.ToLower(lc.Status))
	}
	r := &request{}
	r.add("campaign", removeOp(opCampaign, lc.ResourceName))
	if _, err := t.mutate(ctx, r.ops, false, false); err != nil {
		return t.fail(op, err)
	}
	t.log.Info("removed a paused Google Ads campaign no artifact is bound to", "campaign", m.LiveID, "marker", fmt.Sprintf("lm-%s", m.ArtifactID))
	return nil
}
