package googleads

import (
	"context"
	"fmt"

	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Retirer = (*Target)(nil)

// CanRetire: ad campaigns can be paused, resumed and removed.
func (t *Target) CanRetire(k sandbox.Kind, op string) (string, error) {
	if k != sandbox.KindAd {
		return "", failf(op+" "+string(k), []error{sandbox.ErrNotSupported}, "google_ads holds ad campaigns only: it has no %s to %s", k, op)
	}
	switch op {
	case sandbox.OpPause:
		return "the campaign is set PAUSED in Google Ads: its ads stop showing and it stops spending; resume sets it ENABLED again", nil
	case sandbox.OpResume:
		return "the campaign, its ad groups, ads and keywords are set ENABLED in Google Ads: it spends again, within its budget and dates", nil
	case sandbox.OpRemove:
		return "the campaign is REMOVED in Google Ads: it stops for good, its figures stay in reports, and it cannot be enabled again", nil
	}
	return "", failf(op+" ad campaign", []error{sandbox.ErrNotSupported}, "google_ads can pause, resume or remove an ad campaign, not %s it", op)
}

// Retire pauses, resumes or removes the campaign. It reads first, so a
// campaign already in the state asked for is left alone.
func (t *Target) Retire(ctx context.Context, obj sandbox.Object, op string, live sandbox.LiveState) (sandbox.LiveState, error) {
	if _, err := t.CanRetire(obj.Kind, op); err != nil {
		return sandbox.LiveState{}, err
	}
	what := fmt.Sprintf("%s ad campaign %s", op, live.ID)
	if op == sandbox.OpResume {
		return t.enable(ctx, what, live.ID)
	}
	lc, found, err := t.readLive(ctx, what, live.ID)
	if err != nil {
		return sandbox.LiveState{}, err
	}
	if !found {
		if op == sandbox.OpRemove {
			return sandbox.LiveState{ID: live.ID, Status: "removed"}, nil
		}
		return sandbox.LiveState{}, failf(what, nil, "campaign %s no longer exists in Google Ads, so nothing spends; withdraw the retirement with retire_artifact action cancel", live.ID)
	}
	var r *request
	switch {
	case lc.Status == "REMOVED":
		return t.state(lc), nil
	case op == sandbox.OpPause && lc.Status == "ENABLED":
		r = &request{}
		r.add("campaign", updateOp(opCampaign, map[string]any{"resourceName": lc.ResourceName, "status": "PAUSED"}, "status"))
	case op == sandbox.OpRemove:
		r = &request{}
		r.add("campaign", removeOp(opCampaign, lc.ResourceName))
	default:
		return t.state(lc), nil
	}
	// A status update can be repeated after an ambiguous failure; a
	// remove cannot (a second one is refused): Retire, called again,
	// reads first.
	if _, err := t.mutate(ctx, r.ops, false, op == sandbox.OpPause); err != nil {
		return sandbox.LiveState{}, t.fail(what, err)
	}
	lc, _, err = t.readLive(ctx, what, live.ID)
	if err != nil {
		return sandbox.LiveState{}, err
	}
	return t.state(lc), nil
}
