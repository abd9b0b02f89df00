package meta

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Sweeper = (*Target)(nil)

// Marked lists the account's campaigns (not deleted or archived) whose name
// carries a lastmile marker. An ACTIVE one counts as having reached people.
func (t *Target) Marked(ctx context.Context, kind sandbox.Kind) ([]sandbox.Marked, error) {
	if kind != sandbox.KindAd {
		return nil, failf("list marked "+string(kind), []error{sandbox.ErrNotSupported}, "Meta targets hold ad campaigns only")
	}
	all, err := t.list(ctx, "/"+t.account+"/campaigns", "id,name,status")
	if err != nil {
		return nil, t.fail("list marked campaigns", err)
	}
	var out []sandbox.Marked
	for _, c := range all {
		tg, ok := tagOf(c.Name)
		if !ok || tg.group != "" {
			continue
		}
		out = append(out, sandbox.Marked{Kind: sandbox.KindAd, ArtifactID: strings.TrimPrefix(tg.marker, sandbox.MarkerPrefix),
			LiveID: c.ID, Name: c.Name, Status: statusWord(c.Status), Reached: c.Status == "ACTIVE"})
	}
	return out, nil
}

// Discard deletes a marked campaign that never spent (not ACTIVE, and
// with no spend in its insights) and the customer lists made for it. Anything else is refused with an error
// wrapping sandbox.ErrReachedPeople.
func (t *Target) Discard(ctx context.Context, m sandbox.Marked) error {
	op := "discard campaign " + m.LiveID
	if m.Kind != sandbox.KindAd {
		return failf(op, []error{sandbox.ErrNotSupported}, "Meta targets hold ad campaigns only")
	}
	st, found, err := t.readCampaign(ctx, m.LiveID)
	if err != nil {
		return t.fail(op, err)
	}
	if !found || st.camp.Status == "DELETED" {
		return nil
	}
	marker := sandbox.MarkerPrefix + m.ArtifactID
	if tg, ok := tagOf(st.camp.Name); !ok || tg.marker != marker {
		return failf(op, nil, "campaign %s does not carry the marker %s, so lastmile did not make it for that artifact; it is left alone", m.LiveID, marker)
	}
	if st.camp.Status == "ACTIVE" {
		return failf(op, []error{sandbox.ErrReachedPeople}, "campaign %s is ACTIVE on Meta: it may be spending, so a human decides what happens to it", m.LiveID)
	}
	var res struct {
		Data []struct {
			Spend string `json:"spend"`
		} `json:"data"`
	}
	if err := t.get(ctx, "/"+m.LiveID+"/insights", url.Values{"fields": {"spend"}, "date_preset": {"maximum"}}, &res); err != nil {
		return t.fail(op+": read its spend", err)
	}
	for _, r := range res.Data {
		if scaled(r.Spend, 1e6) > 0 {
			return failf(op, []error{sandbox.ErrReachedPeople}, "campaign %s has spent %s %s: its ads reached people, so a human decides what happens to it", m.LiveID, r.Spend, t.Currency())
		}
	}
	if _, err := t.call(ctx, http.MethodDelete, "/"+m.LiveID, nil); err != nil && !notFound(err) {
		return t.fail(op, err)
	}
	if err := t.removeAudiences(ctx, marker); err != nil {
		return t.fail(op+": delete its customer lists", err)
	}
	t.log.Info("meta: discarded a paused campaign that never spent and that no artifact is bound to", "target", t.name, "campaign", m.LiveID, "marker", marker)
	return nil
}
