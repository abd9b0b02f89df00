package review_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lastmile/lastmile/internal/browsertest"
	"github.com/lastmile/lastmile/sandbox"
)

// In Debian's chromium, with Chrome's virtual authenticator as the passkey:
// an approver enrols through the link, opens the plan, sees the finished
// campaign (both preview frames, the subject filled in for a recipient,
// the segment's count, the workflow diagram), approves with the passkey,
// and confirm_promotion then succeeds. The email's HTML tries to run
// script three ways; none of it runs in the page's origin. Screenshots of
// the plan page at desktop and mobile widths are kept as artifacts.
func TestReviewInABrowser(t *testing.T) {
	ctx := browsertest.Start(t)
	if _, err := browsertest.AddAuthenticator(ctx); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	p := f.planWithWorkflow()

	token := f.invite("maria@acme.com", nil)
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	// waitFor polls js until it is true; a navigation under way cuts a
	// poll short, so polls are retried until the deadline.
	waitFor := func(js string) bool {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err == nil && ok {
				return true
			}
			time.Sleep(100 * time.Millisecond)
		}
		return false
	}
	do("open the enrolment link", chromedp.Navigate(f.origin+"/enrol/"+token))
	do("create the passkey", chromedp.Click(chromedp.CSS("#enrol")))
	if !waitFor(`location.pathname === "/" && !!document.querySelector("table.plans")`) {
		t.Fatalf("after enrolling: %s", eval(`location.href + " " + (document.getElementById("status")?.textContent ?? "")`))
	}

	if os.Getenv("REVIEW_DEBUG") != "" {
		go func() {
			for m, err := range chromedp.Console(ctx) {
				if err != nil {
					return
				}
				t.Logf("console: %+v", m)
			}
		}()
	}
	do("open the plan", chromedp.Navigate(f.origin+"/plans/"+p.ID))
	if !waitFor(`document.querySelectorAll("iframe.desktop, iframe.mobile").length === 2`) {
		t.Fatal("the plan page has no desktop and mobile previews")
	}
	for js, want := range map[string]string{
		`document.querySelector(".subject").textContent`:                            "Spring for Ada",
		`document.querySelector("iframe.desktop").getAttribute("sandbox")`:          "",
		`document.querySelector("iframe.mobile").getAttribute("width")`:             "375",
		`document.querySelector(".segment .count").textContent`:                     "contacts",
		`document.querySelector(".diagram svg").getAttribute("role")`:               "img",
		`String(document.querySelector(".diagram svg title").textContent)`:          "Welcome",
		`document.querySelector("#approve").dataset.hash`:                           p.Hash,
		`document.getElementById("plan-code").textContent.length > 0 ? "code" : ""`: "code",
	} {
		if got := eval(js); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want %q", js, got, want)
		}
	}
	// Load every frame now (they load lazily, as they scroll into view),
	// and let their agent HTML try its worst.
	eval(`document.querySelectorAll("iframe").forEach((f) => { f.loading = "eager"; }); "ok"`)
	time.Sleep(1500 * time.Millisecond)
	if got := eval(`document.title + "|" + (document.body.dataset.pwned ?? "") + "|" + location.pathname`); got != "Plan "+p.ID+" · lastmile review||/plans/"+p.ID {
		t.Fatalf("agent HTML ran in the review page's origin: %s", got)
	}
	for _, w := range []int{1280, 390} {
		browsertest.Screenshot(t, ctx, "review-plan", w)
	}

	// The preview opened on its own is still sandboxed: no script runs.
	src := eval(`document.querySelector("iframe.desktop").src`)
	do("open a preview alone", chromedp.Navigate(src))
	if got := eval(`document.querySelector("h1").textContent + "|" + (document.body.dataset.pwned ?? "") + "|" + document.title`); got != "Hello Ada||" {
		t.Fatalf("the preview opened alone: %q", got)
	}

	do("back to the plan", chromedp.Navigate(f.origin+"/plans/"+p.ID))
	do("approve", chromedp.Click(chromedp.CSS("#approve")))
	if !waitFor(`document.getElementById("status").textContent.includes("approved by maria@acme.com")`) {
		t.Fatalf("approving: %s", eval(`document.getElementById("status").textContent`))
	}
	if got := f.status(p.ID); got.Status != sandbox.PlanApproved || got.Approvals.Have[0].Channel != sandbox.ChannelReview {
		t.Fatalf("after approving in the browser: %s %+v", got.Status, got.Approvals.Have)
	}
	res, err := f.sb.Confirm(context.Background(), "agent", p.ID, nil)
	if err != nil {
		t.Fatalf("confirm_promotion after the browser's approval: %v", err)
	}
	if res.AlreadyPromoted {
		t.Fatal("promoted before")
	}
}

// planWithWorkflow is plan plus a workflow, so the page draws a diagram.
func (f *fixture) planWithWorkflow() *sandbox.Plan {
	f.t.Helper()
	p := f.plan()
	ctx := context.Background()
	seg := ""
	for _, st := range p.Steps {
		if st.Kind == sandbox.KindSegment {
			seg = st.ArtifactID
		}
	}
	email := f.emailID(p)
	if _, err := f.sb.StageWorkflow(ctx, "agent", sandbox.WorkflowInput{CampaignID: p.CampaignID, Name: "Welcome", Activate: true,
		Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: seg},
		Steps:   []sandbox.Step{{ID: "wait", Type: "wait", Duration: "2d", Next: "send"}, {ID: "send", Type: "send_email", EmailID: email}}}); err != nil {
		f.t.Fatal(err)
	}
	p, err := f.sb.PlanPromotion(ctx, "agent", p.CampaignID)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) emailID(p *sandbox.Plan) string {
	for _, st := range p.Steps {
		if st.Kind == sandbox.KindEmail {
			return st.ArtifactID
		}
	}
	f.t.Fatal("no email in the plan")
	return ""
}
