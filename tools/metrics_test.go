package tools_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// The closed loop through the tools: a campaign sent to 45 customers, of
// whom some click and one wins a deal; get_report credits the campaign
// with the deal, get_insights and lastmile://insights have the baseline,
// and the next create_email to that segment carries the history note.
func TestReportAndInsightsTools(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	f, err := os.OpenFile(filepath.Join(h.dir, "contacts.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		fmt.Fprintf(f, "c%02d@example.com,C,%02d,US,customer,pro,2026-01-01,true,Austin\n", i, i)
	}
	f.Close()
	cmp := h.newCampaign(t, "Loop")
	seg := str(t, h.stage(t, "build_segment", segmentArgs(cmp)), "id")
	eml := str(t, h.stage(t, "create_email", with(blocksEmailArgs(cmp), "audience", obj{"include": []string{seg}})), "id")
	p, err := h.sb.PlanPromotion(ctx, "agent", cmp)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := h.sb.PlanCode(ctx, p.ID)
	if _, err := h.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: code}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	at := epoch.Add(time.Hour).Format(time.RFC3339)
	ev, err := os.OpenFile(filepath.Join(h.dir, "events.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		fmt.Fprintf(ev, `{"type":"open","artifact":%q,"email":"c%02d@example.com","at":%q}`+"\n", eml, i, at)
	}
	fmt.Fprintf(ev, `{"type":"click","artifact":%q,"email":"c01@example.com","at":%q}`+"\n", eml, at)
	fmt.Fprintf(ev, `{"type":"deal_won","email":"c01@example.com","amount":"999.99","currency":"USD","at":%q}`+"\n", epoch.Add(3*time.Hour).Format(time.RFC3339))
	ev.Close()
	if _, err := h.sb.SyncOutcomes(ctx); err != nil {
		t.Fatal(err)
	}

	rep := mustOK(t, h.call(t, "get_report", obj{"period": epoch.Format("2006-01")}))
	r := rep["report"].(obj)
	if r["campaigns_live"] != 1.0 || r["attribution_model"] != "last_touch" {
		t.Fatalf("report: %v", r)
	}
	revenue := r["revenue"].([]any)
	if len(revenue) != 1 || revenue[0].(obj)["amount"] != "999.99" {
		t.Fatalf("revenue: %v", revenue)
	}
	mustToolError(t, h.call(t, "get_report", obj{"period": "November"}), "is not a period")

	ins := mustOK(t, h.call(t, "get_insights", obj{"segment_id": seg}))
	if n := ins["insights"].(obj)["emails"]; n != 1.0 {
		t.Fatalf("insights over %v emails: %v", n, ins)
	}
	if note, _ := ins["note"].(string); !strings.Contains(note, "open at") {
		t.Fatalf("note: %q", note)
	}
	if body := readResource(t, h, "lastmile://insights"); !strings.Contains(body, `"baseline"`) {
		t.Fatalf("lastmile://insights: %s", body)
	}
	next := mustOK(t, h.call(t, "create_email", with(blocksEmailArgs(cmp), "name", "Follow-up", "audience", obj{"include": []string{seg}})))
	if hist, _ := next["history"].(string); !strings.Contains(hist, "From your history") {
		t.Fatalf("create_email's history: %q", hist)
	}
}
