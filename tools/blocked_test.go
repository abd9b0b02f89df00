package tools_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/governance"
)

// A plan whose content has governance errors is not offered for approval:
// it comes back blocked, with the errors and what to fix, and no way to
// approve it.
func TestBlockedPlanIsNotOfferedForApproval(t *testing.T) {
	pol, err := governance.Parse("policy.yaml", []byte("rules:\n  - id: no-guarantees\n    kind: existence\n    level: error\n    message: \"cannot promise %s\"\n    tokens: [guaranteed]\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, withPolicy(pol))
	cmp := h.newCampaign(t, "Blocked")
	seg := str(t, h.stage(t, "build_segment", segmentArgs(cmp)), "id")
	h.stage(t, "create_email", with(emailArgs(cmp), "html", `<html><body><p>Results guaranteed.</p></body></html>`, "audience", obj{"include": []string{seg}}))
	res := h.call(t, "plan_promotion", obj{"campaign_id": cmp})
	plan := mustOK(t, res)
	if plan["status"] != "blocked" {
		t.Fatalf("status = %v, want blocked", plan["status"])
	}
	if _, ok := plan["approve_command"]; ok {
		t.Errorf("a blocked plan carries an approve command: %v", plan["approve_command"])
	}
	next := str(t, plan, "next")
	if !strings.Contains(next, "Do not ask a human") || strings.Contains(next, "lastmile approve") || strings.Contains(text(res), "lastmile approve") {
		t.Errorf("next = %q, text = %q", next, text(res))
	}
	gov, _ := plan["governance"].(map[string]any)
	if gov == nil || gov["errors"] == float64(0) {
		t.Fatalf("governance = %v", plan["governance"])
	}
	mustToolError(t, h.call(t, "confirm_promotion", obj{"plan_id": str(t, plan, "id")}), "governance errors")
}

// check_campaign and plan_promotion report the same findings for the same
// content, audience-scoped rules included.
func TestCheckAndPlanAgree(t *testing.T) {
	pol, err := governance.Load("../testdata/policy/acme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, withPolicy(pol))
	cmp := h.newCampaign(t, "Agree")
	seg := str(t, h.stage(t, "build_segment", segmentArgs(cmp)), "id")
	eml := str(t, h.stage(t, "create_email", with(emailArgs(cmp), "audience", obj{"include": []string{seg}})), "id")
	followUp := str(t, h.stage(t, "create_email", with(emailArgs(cmp), "name", "Follow-up")), "id")
	h.stage(t, "configure_workflow", workflowArgs(cmp, seg, followUp))
	_ = eml
	chk := mustOK(t, h.call(t, "check_campaign", obj{"campaign_id": cmp}))
	plan := mustOK(t, h.call(t, "plan_promotion", obj{"campaign_id": cmp}))
	gov, _ := plan["governance"].(map[string]any)
	keys := func(v any) []string {
		list, _ := v.([]any)
		var out []string
		for _, f := range list {
			m, _ := f.(map[string]any)
			out = append(out, fmt.Sprint(m["rule"], " ", m["artifact_id"], " ", m["field"], " ", m["level"]))
		}
		sort.Strings(out)
		return out
	}
	// The plan lists the first findings, errors first, and counts the rest;
	// check_campaign lists them all.
	all, listed := keys(chk["findings"]), keys(gov["findings"])
	unlisted, _ := gov["unlisted_findings"].(float64)
	if len(listed)+int(unlisted) != len(all) || len(listed) > 20 {
		t.Fatalf("the plan lists %d findings and leaves %v unlisted; check_campaign has %d", len(listed), unlisted, len(all))
	}
	for _, k := range listed {
		if !slices.Contains(all, k) {
			t.Errorf("the plan lists a finding check_campaign does not: %s", k)
		}
	}
	for _, k := range []string{"errors", "warnings", "suggestions"} {
		if chk[k] != gov[k] {
			t.Errorf("%s: check %v, plan %v", k, chk[k], gov[k])
		}
	}
}
