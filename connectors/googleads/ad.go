package googleads

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

func adOp(verb string, obj sandbox.Object) string {
	name := ""
	if obj.Ad != nil {
		name = obj.Ad.Name
	}
	return fmt.Sprintf("%s ad campaign %q", verb, name)
}

// assessAd: the local checks, then the dry run (validateOnly) of the very
// request Put would send: the create, or for a live campaign the update.
func (t *Target) assessAd(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	problems, notes := t.check(obj)
	out := sandbox.Assessment{AudienceSize: -1, Notes: notes}
	for gi, g := range obj.Ad.Groups {
		for ai, ad := range g.Ads {
			if ad.PagePending {
				out.Notes = append(out.Notes, fmt.Sprintf("ad_groups[%d].ads[%d].final_url: the page is not live yet; Google checks the URL the promotion gives it", gi, ai))
			}
		}
	}
	if len(problems) > 0 {
		out.Problems = problems
		return out, nil
	}
	op := adOp("check", obj)
	d := want(obj)
	var r *request
	if id := obj.Refs[obj.ArtifactID]; id != "" {
		lc, found, err := t.readLive(ctx, op, id)
		if err != nil {
			return sandbox.Assessment{}, err
		}
		switch {
		case found && lc.Status == "REMOVED":
			out.Problems = append(out.Problems, fmt.Sprintf("campaign %s was removed in Google Ads; a removed campaign cannot be changed: stage a new ad campaign", id))
			return out, nil
		case found:
			if lc.Budget.Period != "" && lc.Budget.Period != d.period {
				out.Problems = append(out.Problems, fmt.Sprintf("budget.period: the live campaign has a %s budget and Google Ads cannot change a budget's period; keep %s, or stage a new ad campaign",
					periodWord(lc.Budget.Period), periodWord(lc.Budget.Period)))
				return out, nil
			}
			r = t.updateRequest(lc, d)
			if len(r.ops) == 0 {
				return out, nil
			}
		}
	}
	if r == nil {
		r = t.createRequest(d)
	}
	_, err := t.mutate(ctx, r.ops, true, true)
	if err != nil && obj.Refs[obj.ArtifactID] == "" && (hasCode(err, "campaignError", "DUPLICATE_CAMPAIGN_NAME") || hasCode(err, "campaignBudgetError", "DUPLICATE_NAME")) {
		// The name is taken: by an earlier, interrupted promotion of this
		// very artifact (its marker is in the name)? Then the plan's Put
		// takes that campaign to this revision: dry-run that instead.
		id, found, ferr := t.findByMarker(ctx, obj.Marker)
		if ferr != nil {
			return sandbox.Assessment{}, ferr
		}
		if found {
			lc, ok, lerr := t.readLive(ctx, op, id)
			if lerr != nil {
				return sandbox.Assessment{}, lerr
			}
			if ok {
				out.Notes = append(out.Notes, fmt.Sprintf("campaign %s, which an interrupted promotion of this ad campaign created, exists already: it is updated, not created again", id))
				if r = t.updateRequest(lc, d); len(r.ops) == 0 {
					return out, nil
				}
				_, err = t.mutate(ctx, r.ops, true, true)
			}
		}
	}
	if err != nil {
		if ps := rejections(r, err); len(ps) > 0 {
			out.Problems = append(out.Problems, ps...)
			return out, nil
		}
		return sandbox.Assessment{}, t.fail(op+" (dry run)", err)
	}
	return out, nil
}

func periodWord(p string) string {
	if p == "CUSTOM_PERIOD" {
		return "lifetime"
	}
	return "daily"
}

// rejections are Google's refusals of a request's operations, each placed
// at the artifact's position; nil when the failure is not about the
// request's content (auth, quota, outage).
func rejections(r *request, err error) []string {
	if rest.StatusOf(err) != http.StatusBadRequest {
		return nil
	}
	errs := adsErrors(err)
	if len(errs) == 0 || hasFamily(errs, "headerError") || hasFamily(errs, "authenticationError") || hasFamily(errs, "authorizationError") {
		return nil
	}
	var out []string
	for _, e := range errs {
		pos := position(r, e.Location.FieldPathElements)
		msg := fmt.Sprintf("%s: Google Ads rejects it: %s (%s)", pos, strings.TrimRight(rest.Clip(e.Message, 200), "."), e.code())
		switch {
		case e.is("campaignError", "DUPLICATE_CAMPAIGN_NAME"):
			msg += "; another campaign that is not removed has this name: rename this ad campaign, or remove the other one in Google Ads"
		case e.is("campaignBudgetError", "DUPLICATE_NAME"):
			msg += "; a budget with this name exists: rename this ad campaign, or remove the other budget in Google Ads"
		case e.is("adGroupError", "DUPLICATE_ADGROUP_NAME"):
			msg += "; rename the ad group"
		}
		out = append(out, msg)
	}
	return out
}

// position turns a fieldPathElements list into the artifact's terms:
// [mutate_operations 5, ad_group_ad_operation, create, ad,
// responsive_search_ad, headlines 3, text] → ad_groups[0].ads[1].headlines[3].
func position(r *request, path []pathElement) string {
	if len(path) == 0 || path[0].FieldName != "mutate_operations" || path[0].Index == nil || *path[0].Index >= len(r.pos) {
		return "ad campaign"
	}
	base := r.pos[*path[0].Index]
	var suffix strings.Builder
	for _, el := range path[1:] {
		switch el.FieldName {
		case "headlines", "descriptions":
			suffix.WriteString("." + el.FieldName)
			if el.Index != nil {
				suffix.WriteString("[" + strconv.Itoa(*el.Index) + "]")
			}
		case "path1", "path2":
			suffix.WriteString("." + el.FieldName)
		case "final_urls":
			suffix.WriteString(".final_url")
		case "cpc_bid_micros":
			suffix.WriteString(".max_cpc")
		case "text":
			if strings.Contains(base, ".keywords[") {
				suffix.WriteString(".text")
			}
		case "match_type":
			suffix.WriteString(".match")
		case "name":
			if base == "campaign" || base == "budget" {
				return "name"
			}
			suffix.WriteString(".name")
		case "amount_micros", "total_amount_micros":
			return "budget.amount"
		case "start_date_time":
			return "start_date"
		case "end_date_time":
			return "end_date"
		}
	}
	if base == "campaign" && suffix.Len() == 0 {
		return "ad campaign"
	}
	return base + suffix.String()
}

// rejected is Put's error for a request Google refused for its content.
func (t *Target) rejected(op string, r *request, err error) error {
	ps := rejections(r, err)
	if len(ps) == 0 {
		return t.fail(op, err)
	}
	return &rest.Error{Platform: Platform, Op: op, Status: rest.StatusOf(err), Cause: err, Code: adsErrors(err)[0].code(),
		Message: "Google Ads refused the campaign: " + strings.Join(ps, "; ") + "; nothing was created or changed (the request is atomic): fix the artifact and re-plan"}
}

// createAd makes the whole campaign, paused, in one atomic mutate. A
// resumed attempt, or a create that meets its own name (an earlier attempt
// landed), takes the campaign that exists to this revision instead.
func (t *Target) createAd(ctx context.Context, obj sandbox.Object) (sandbox.LiveState, error) {
	op := adOp("create", obj)
	if obj.Resumed {
		id, found, err := t.findByMarker(ctx, obj.Marker)
		if err != nil {
			return sandbox.LiveState{}, err
		}
		if found {
			t.log.Info("an earlier attempt created the campaign; updating it", "marker", obj.Marker, "campaign", id)
			return t.updateAd(ctx, obj, id)
		}
	}
	d := want(obj)
	r := t.createRequest(d)
	resp, err := t.mutate(ctx, r.ops, false, false)
	if err != nil {
		if hasCode(err, "campaignError", "DUPLICATE_CAMPAIGN_NAME") || hasCode(err, "campaignBudgetError", "DUPLICATE_NAME") {
			id, found, ferr := t.findByMarker(ctx, obj.Marker)
			if ferr == nil && found {
				t.log.Info("the campaign exists already (an earlier attempt landed); updating it", "marker", obj.Marker, "campaign", id)
				return t.updateAd(ctx, obj, id)
			}
		}
		return sandbox.LiveState{}, t.rejected(op, r, err)
	}
	names := resp.resourceNames()
	if len(names) < 2 || !strings.Contains(names[1], "/campaigns/") {
		return sandbox.LiveState{}, failf(op, nil, "Google Ads answered the create without the campaign's resource name; lastmile finds it by its marker on the next attempt")
	}
	id := names[1][strings.LastIndex(names[1], "/")+1:]
	lc, found, err := t.readTree(ctx, op, id)
	if err != nil {
		return sandbox.LiveState{}, err
	}
	if !found {
		return sandbox.LiveState{}, failf(op, nil, "Google Ads created campaign %s but does not list it yet; confirm again shortly", id)
	}
	// The create is atomic: the campaign's criteria are the ones it made,
	// named in the answer (operations 2…, after budget and campaign), so
	// they need no query. Without the names, they are read.
	if !createdTargets(lc, d, names) {
		lc.Criteria = nil
		if err := t.readTargets(ctx, op, lc); err != nil {
			return sandbox.LiveState{}, err
		}
	}
	return t.state(lc), nil
}

// createdTargets fills lc.Criteria from the create's answer; false when
// the answer lacks a campaign criterion's name.
func createdTargets(lc *liveCampaign, d desired, names []string) bool {
	if lc.Status == "REMOVED" || len(names) < 2+len(d.criteria) {
		return false
	}
	for i, c := range d.criteria {
		name := names[2+i]
		if !strings.Contains(name, "/campaignCriteria/") {
			return false
		}
		lc.Criteria = append(lc.Criteria, liveCriterion{ResourceName: name, Key: c.key})
	}
	sort.Slice(lc.Criteria, func(i, j int) bool { return lc.Criteria[i].ResourceName < lc.Criteria[j].ResourceName })
	return true
}

// updateAd takes the live campaign to obj's revision in one mutate,
// keeping its id and status.
func (t *Target) updateAd(ctx context.Context, obj sandbox.Object, id string) (sandbox.LiveState, error) {
	op := adOp("update", obj) + " (campaign " + id + ")"
	lc, found, err := t.readLive(ctx, op, id)
	if err != nil {
		return sandbox.LiveState{}, err
	}
	if !found {
		return sandbox.LiveState{}, failf(op, nil, "campaign %s no longer exists in Google Ads; re-plan to create it again", id)
	}
	if lc.Status == "REMOVED" {
		return sandbox.LiveState{}, failf(op, []error{sandbox.ErrConflict}, "campaign %s was removed in Google Ads, and a removed campaign cannot be changed; stage a new ad campaign", id)
	}
	d := want(obj)
	if lc.Budget.Period != "" && lc.Budget.Period != d.period {
		return sandbox.LiveState{}, failf(op, []error{sandbox.ErrConflict}, "the live campaign has a %s budget and Google Ads cannot change a budget's period; keep it %s, or stage a new ad campaign",
			periodWord(lc.Budget.Period), periodWord(lc.Budget.Period))
	}
	r := t.updateRequest(lc, d)
	if len(r.ops) == 0 {
		return t.state(lc), nil
	}
	if _, err := t.mutate(ctx, r.ops, false, false); err != nil {
		return sandbox.LiveState{}, t.rejected(op, r, err)
	}
	lc, found, err = t.readLive(ctx, op, id)
	if err != nil {
		return sandbox.LiveState{}, err
	}
	if !found {
		return sandbox.LiveState{}, failf(op, nil, "campaign %s disappeared during the update", id)
	}
	return t.state(lc), nil
}

var errGone = errors.New("the campaign does not exist")

// enable sets the campaign and what is paused in it ENABLED; one mutate,
// none when everything is enabled already. Campaign criteria have no
// status to enable, so the first read leaves them out.
func (t *Target) enable(ctx context.Context, op, id string) (sandbox.LiveState, error) {
	lc, found, err := t.readTree(ctx, op, id)
	if err != nil {
		return sandbox.LiveState{}, err
	}
	if !found {
		return sandbox.LiveState{}, &rest.Error{Platform: Platform, Op: op, Cause: errGone, Message: fmt.Sprintf("campaign %s no longer exists in Google Ads; re-plan to create it again", id)}
	}
	if lc.Status == "REMOVED" {
		return sandbox.LiveState{}, failf(op, []error{sandbox.ErrConflict}, "campaign %s was removed in Google Ads and cannot be enabled again; stage a new ad campaign", id)
	}
	r := enableRequest(lc)
	if len(r.ops) == 0 {
		if err := t.readTargets(ctx, op, lc); err != nil {
			return sandbox.LiveState{}, err
		}
		return t.state(lc), nil
	}
	if _, err := t.mutate(ctx, r.ops, false, true); err != nil {
		return sandbox.LiveState{}, t.fail(op, err)
	}
	lc, _, err = t.readLive(ctx, op, id)
	if err != nil {
		return sandbox.LiveState{}, err
	}
	return t.state(lc), nil
}
