package tools_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/lastmile/lastmile/sandbox"
)

// Each fetch_metrics is kept: lastmile://artifacts/{id}/metrics lists the
// snapshots, oldest first, and refuses what is not an artifact.
func TestMetricsHistoryResource(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cmp := h.newCampaign(t, "Measured")
	seg := str(t, h.stage(t, "build_segment", segmentArgs(cmp)), "id")
	eml := str(t, h.stage(t, "create_email", with(blocksEmailArgs(cmp), "audience", obj{"include": []string{seg}})), "id")
	p, err := h.sb.PlanPromotion(ctx, "agent", cmp)
	if err != nil {
		t.Fatal(err)
	}
	code, err := h.sb.PlanCode(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: code}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		mustOK(t, h.call(t, "fetch_metrics", obj{"campaign_id": cmp}))
	}
	var hist struct {
		ArtifactID string                    `json:"artifact_id"`
		Snapshots  []sandbox.ArtifactMetrics `json:"snapshots"`
	}
	if err := json.Unmarshal([]byte(readResource(t, h, "lastmile://artifacts/"+eml+"/metrics")), &hist); err != nil {
		t.Fatal(err)
	}
	if hist.ArtifactID != eml || len(hist.Snapshots) != 2 || hist.Snapshots[0].Sent == 0 || hist.Snapshots[0].FetchedAt.After(hist.Snapshots[1].FetchedAt) {
		t.Fatalf("history: %+v", hist)
	}
	if one := readResource(t, h, "lastmile://artifacts/"+eml+"/metrics?limit=1"); strings.Count(one, `"fetched_at"`) != 1 {
		t.Fatalf("limit=1: %s", one)
	}
	if _, err := h.c.ReadResource(ctx, mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: "lastmile://artifacts/eml_01nope/metrics"}}); err == nil || !strings.Contains(err.Error(), "eml_01nope") {
		t.Fatalf("an unknown artifact's history: %v", err)
	}
}
