package tools_test

import (
	"strings"
	"testing"
)

// update_campaign over MCP: only the fields given change, the result says
// which and what the checks found, a bad field is a tool error naming it.
func TestUpdateCampaignTool(t *testing.T) {
	h := newHarness(t)
	cmp := h.newCampaign(t, "Spring")
	h.stage(t, "create_email", emailArgs(cmp))

	out := mustOK(t, h.call(t, "update_campaign", obj{"campaign_id": cmp, "goal": "200 demos", "utm": obj{"source": "newsletter", "page_medium": "web"}}))
	if num(t, out, "revision") != 2 || out["staged"] != true || str(t, out, "governance") == "" {
		t.Fatalf("update_campaign: %v", out)
	}
	c := out["campaign"].(map[string]any)
	utm := c["utm"].(map[string]any)
	if c["name"] != "Spring" || c["goal"] != "200 demos" || utm["source"] != "newsletter" || utm["page_medium"] != "web" {
		t.Fatalf("campaign after update: %v", c)
	}
	if got := out["changed"].([]any); len(got) != 3 {
		t.Fatalf("changed = %v", got)
	}
	again := mustOK(t, h.call(t, "update_campaign", obj{"campaign_id": cmp, "goal": "200 demos"}))
	if again["unchanged"] != true || num(t, again, "revision") != 2 {
		t.Fatalf("same update again: %v", again)
	}
	mustToolError(t, h.call(t, "update_campaign", obj{"campaign_id": cmp, "markets": []string{"UK"}, "utm": obj{"term": "a b"}}), "markets[0]", "use GB", "utm.term")
	mustToolError(t, h.call(t, "update_campaign", obj{"campaign_id": cmp, "target": "hubspot"}), "target")
}

// archive_artifact over MCP: a staged email leaves get_campaign's list and
// is counted as archived; a segment an email targets is refused.
func TestArchiveArtifactTool(t *testing.T) {
	h := newHarness(t)
	cmp := h.newCampaign(t, "Spring")
	seg := str(t, h.stage(t, "build_segment", segmentArgs(cmp)), "id")
	eml := str(t, h.stage(t, "create_email", with(emailArgs(cmp), "audience", obj{"include": []string{seg}})), "id")

	mustToolError(t, h.call(t, "archive_artifact", obj{"artifact_id": seg}), "referenced by email "+eml)
	out := mustOK(t, h.call(t, "archive_artifact", obj{"artifact_id": eml}))
	if out["status"] != "archived" {
		t.Fatalf("archive_artifact: %v", out)
	}
	res := h.call(t, "get_campaign", obj{"campaign_id": cmp})
	v := mustOK(t, res)
	if arts := v["artifacts"].([]any); len(arts) != 1 || !strings.Contains(text(res), "1 archived") {
		t.Fatalf("get_campaign after archive: %v / %s", v, text(res))
	}
	mustOK(t, h.call(t, "archive_artifact", obj{"artifact_id": seg}))
}
