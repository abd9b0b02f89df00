package review_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/internal/passkeytest"
	"github.com/lastmile/lastmile/review"
	"github.com/lastmile/lastmile/sandbox"
)

// The review page shows every A/B variant as its recipients get it: its
// headers, and its HTML in sandboxed previews like the email's, agent text
// inert.
func TestPlanPageShowsEveryABVariant(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, _ := f.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Spring", Markets: []string{"US"}})
	seg, err := f.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: "Customers", Match: "all",
		Conditions: []sandbox.Condition{{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}}})
	if err != nil {
		t.Fatal(err)
	}
	footer := `<p>Acme, 1 Main St. <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>`
	if _, err := f.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Spring news", Subject: "Spring is here",
		FromName: "Acme", FromEmail: "news@acme.com", Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}},
		HTML: `<html><body><h1>Hello A</h1>` + footer + `</body></html>`,
		ABTest: &sandbox.ABTest{Winner: "clicks", DecideAfter: "4h", TestPercent: 30, Variants: []sandbox.Variant{
			{Subject: "Spring for {{ contact.firstname | default: \"you\" }}\u202e", FromName: "Ada at Acme"},
			{HTML: `<html><body onload="parent.document.title='PWNED'"><h1>Hello C {{ contact.firstname | default: "there" }}</h1><script>parent.x=1</script>` + footer + `</body></html>`},
		}}}); err != nil {
		t.Fatal(err)
	}
	p, err := f.sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	b.enrol("maria@acme.com", nil, passkeytest.New(t, f.origin, "localhost"))
	_, page := b.do("GET", "/plans/"+p.ID, nil, "")
	for _, want := range []string{"A/B test: 3 variants", "30% of the audience", "clicks", "Variant b", "Spring for Ada", "Ada at Acme", "Variant c", "v=b", "v=c"} {
		if !strings.Contains(page, want) {
			t.Errorf("the plan page lacks %q", want)
		}
	}
	if strings.Contains(page, "\u202e") || strings.Contains(page, "<script>parent") {
		t.Error("a variant's agent text is live on the page")
	}
	m := regexp.MustCompile(`src="(/plans/[^"]+/preview/[^"]+v=c[^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no preview frame for variant c")
	}
	req, _ := http.NewRequest("GET", f.origin+strings.ReplaceAll(m[1], "&amp;", "&"), nil)
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox") {
		t.Fatalf("variant c's preview is not sandboxed: %q", csp)
	}
	body, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(body), "Hello C Ada") {
		t.Fatalf("variant c's preview is not variant c for a sample recipient: %.300s", body)
	}
	// The MCP preview resource inlines every variant too.
	doc, err := review.Preview(ctx, f.sb, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc, "Variant c") || !strings.Contains(doc, "Hello C") {
		t.Error("the preview resource lacks variant c")
	}
}
