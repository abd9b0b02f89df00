package sandbox_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
)

// Pages of a plan's steps are the plan's steps, in order; each page carries
// the rest of the plan as GetPlan gives it, and sees changes to it.
func TestGetPlanPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	c := stageCampaign(t, e, "Paged")
	p, err := e.sb.PlanPromotion(ctx, "agent", c.id)
	if err != nil {
		t.Fatal(err)
	}
	full, err := e.sb.GetPlan(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var steps []sandbox.PlanStep
	for off := 0; off < len(full.Steps)+3; off += 3 {
		pg, err := e.sb.GetPlanPage(ctx, p.ID, off, 3)
		if err != nil {
			t.Fatal(err)
		}
		if pg.Offset != min(off, len(full.Steps)) || pg.Total != len(full.Steps) || len(pg.Irreversible) != len(full.Irreversible()) {
			t.Fatalf("page at %d: offset %d, total %d, %d irreversible; want total %d, %d irreversible", off, pg.Offset, pg.Total, len(pg.Irreversible), len(full.Steps), len(full.Irreversible()))
		}
		if len(pg.Plan.Steps) == 0 {
			continue
		}
		steps = append(steps, pg.Plan.Steps...)
		// The page is the caller's: changing it changes no later page.
		pg.Plan.Steps[0].Name = "changed by the caller"
		pg.Plan.Approvals.Have = append(pg.Plan.Approvals.Have, sandbox.Approval{Approver: "nobody"})
	}
	whole := *full
	whole.Steps = steps
	got, _ := json.Marshal(whole)
	want, _ := json.Marshal(full)
	if string(got) != string(want) {
		t.Fatalf("the pages put together differ from the plan:\n got %s\nwant %s", got, want)
	}
	// An approval is seen by the next page.
	approved := planAndApproveExisting(t, e, p.ID)
	pg, err := e.sb.GetPlanPage(ctx, p.ID, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if pg.Plan.Status != approved.Status || len(pg.Plan.Approvals.Have) != len(approved.Approvals.Have) {
		t.Fatalf("after approval the page says %s with %d approvals; the plan %s with %d", pg.Plan.Status, len(pg.Plan.Approvals.Have), approved.Status, len(approved.Approvals.Have))
	}
	if _, err := e.sb.GetPlanPage(ctx, "pln_nope", 0, 1); err == nil {
		t.Fatal("a page of a plan that does not exist")
	}
}

func planAndApproveExisting(t *testing.T, e *env, planID string) *sandbox.Plan {
	t.Helper()
	p, err := e.sb.Approve(context.Background(), sandbox.ApproveInput{PlanID: planID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: planCode(t, e.sb, planID)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
