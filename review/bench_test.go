package review_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/lastmile/lastmile/internal/passkeytest"
	"github.com/lastmile/lastmile/sandbox"
)

// BenchmarkPlanPage100 renders the page of a 100-artifact plan (20
// segments, 70 emails, 10 workflows) from scratch each time: what an
// approver waits for when a plan first opens. The previews are frames the
// browser loads lazily, so they are not part of it. Budget: ≤ 300 ms
// (docs/benchmarks.md).
func BenchmarkPlanPage100(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	c, err := f.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Big", Markets: []string{"US"}})
	if err != nil {
		b.Fatal(err)
	}
	var segs, emails []string
	for i := range 20 {
		r, err := f.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: fmt.Sprint("Segment ", i), Match: "all",
			Conditions: []sandbox.Condition{{Property: "country", Operator: "eq", Value: "US"}, {Property: "lifecycle_stage", Operator: "eq", Value: "customer"}}})
		if err != nil {
			b.Fatal(err)
		}
		segs = append(segs, r.Artifact.ID)
	}
	for i := range 70 {
		r, err := f.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: fmt.Sprint("Email ", i), Subject: "News for {{ contact.firstname | default: \"you\" }}",
			FromName: "Acme", FromEmail: "news@acme.com", Audience: sandbox.Audience{Include: []string{segs[i%20]}},
			HTML: "<html><body><h1>Hello {{ contact.firstname }}</h1><p>" + fmt.Sprint(i) + " Acme, 1 Main St. <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>"})
		if err != nil {
			b.Fatal(err)
		}
		emails = append(emails, r.Artifact.ID)
	}
	for i := range 10 {
		if _, err := f.sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: c.ID, Name: fmt.Sprint("Flow ", i), Activate: true,
			Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: segs[i]},
			Steps: []sandbox.Step{{ID: "wait", Type: "wait", Duration: "2d", Next: "branch"}, {ID: "branch", Type: "branch", Condition: &sandbox.BranchCondition{SegmentID: segs[i+1]}, Then: "send", Else: "exit"},
				{ID: "send", Type: "send_email", EmailID: emails[i]}, {ID: "exit", Type: "exit"}}}); err != nil {
			b.Fatal(err)
		}
	}
	p, err := f.sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		b.Fatal(err)
	}
	r := passkeytest.NewReviewer(b, f.origin)
	token := f.invite("maria@acme.com", nil)
	if err := r.Enrol(f.origin + "/enrol/" + token); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		// A write since the last render: the page is built again.
		if err := f.sb.Record(ctx, sandbox.AuditEntry{Actor: "bench", Action: "bench"}); err != nil {
			b.Fatal(err)
		}
		st, page, err := r.Get("/plans/" + p.ID)
		if err != nil || st != http.StatusOK || len(page) < 10000 {
			b.Fatalf("%d %v %d bytes", st, err, len(page))
		}
	}
}
