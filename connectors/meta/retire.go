package meta

import (
	"context"
	"net/http"

	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Retirer = (*Target)(nil)

// CanRetire: an ad campaign can be paused, resumed and removed.
func (t *Target) CanRetire(k sandbox.Kind, op string) (string, error) {
	if k != sandbox.KindAd {
		return "", failf(op+" "+string(k), []error{sandbox.ErrNotSupported}, "meta holds only ad campaigns: it has no %s to %s", k, op)
	}
	switch op {
	case sandbox.OpPause:
		return "the campaign is set PAUSED on Meta: its ads stop delivering and spending within minutes; ad sets and ads keep their own status, so resuming restores them", nil
	case sandbox.OpResume:
		return "the campaign, its ad sets and its ads are set ACTIVE on Meta: it spends again, within its budget and dates", nil
	case sandbox.OpRemove:
		return "the campaign is deleted on Meta (status DELETED, with its ad sets and ads, and the customer lists lastmile uploaded for it): it stops for good and cannot be restored; its insights stay readable", nil
	}
	return "", failf(op+" ad campaign", []error{sandbox.ErrNotSupported}, "meta can pause, resume or remove an ad campaign, not %s it", op)
}

// Retire pauses, resumes or removes a campaign; each is safe to repeat.
func (t *Target) Retire(ctx context.Context, obj sandbox.Object, op string, live sandbox.LiveState) (sandbox.LiveState, error) {
	if _, err := t.CanRetire(obj.Kind, op); err != nil {
		return sandbox.LiveState{}, err
	}
	what := adOp(op, obj)
	switch op {
	case sandbox.OpPause:
		return t.setStatus(ctx, what, live.ID, "PAUSED")
	case sandbox.OpResume:
		return t.setStatus(ctx, what, live.ID, "ACTIVE")
	}
	st, found, err := t.readCampaign(ctx, live.ID)
	if err != nil {
		return sandbox.LiveState{}, t.fail(what, err)
	}
	if !found {
		return live, nil // gone already
	}
	if st.camp.Status != "DELETED" {
		if _, err := t.call(ctx, http.MethodDelete, "/"+live.ID, nil); err != nil && !notFound(err) {
			return sandbox.LiveState{}, t.fail(what, err)
		}
	}
	if obj.Ad != nil && len(obj.Ad.AudienceSegments) > 0 {
		if err := t.removeAudiences(ctx, obj.Marker); err != nil {
			return sandbox.LiveState{}, t.fail(what+": delete its customer lists", err)
		}
	}
	out, found, err := t.liveCampaign(ctx, live.ID)
	if err == nil && !found {
		return live, nil
	}
	return out, err
}
