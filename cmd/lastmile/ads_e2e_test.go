//go:build !windows

package main

import (
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/lastmile/lastmile/connectors/googleads/googleadstest"
	"github.com/lastmile/lastmile/connectors/mailchimp/mailchimptest"
	"github.com/lastmile/lastmile/connectors/webflow/webflowtest"
)

// One plan across three platforms, by the built binary: an email through
// Mailchimp, a landing page on Webflow and a Google Ads search campaign
// whose ads send clicks to that page. The page's live URL, tagged cpc,
// lands in the ads' final URLs; nothing is created on Google Ads, let
// alone enabled, before a person approves; and the budget, above the
// policy's threshold, needs the finance role.
func TestEmailPageAndSearchCampaignInOnePlan(t *testing.T) {
	mc := mailchimptest.New(t, mailchimptest.WithLatency(5*time.Millisecond))
	wf := webflowtest.New(t, func(o *webflowtest.Options) { o.SitePublished = true })
	ga := googleadstest.New(t)
	dir := t.TempDir()
	initSample(t, dir)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	policy := `version: 1
roles:
  finance: [` + me.Username + `]
approval:
  channels:
    cli: {roles: true}
rules:
  - id: approvals.ad-spend
    kind: approvals
    roles: [finance]
    min_daily_budget: USD 100
    message: Ad budgets of $100 a day or more need finance.
`
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	runBinEnv(t, []string{"MC_KEY=" + mc.APIKey()}, "connect", "mailchimp", "--name", "mailchimp", "--key-env", "MC_KEY", "--base-url", mc.BaseURL(), "--list", mc.ListID(), "--data-dir", dir)
	runBinEnv(t, []string{"WF_TOKEN=" + webflowtest.DefaultToken}, "connect", "webflow", "--name", "site", "--token-env", "WF_TOKEN",
		"--site", webflowtest.DefaultSiteID, "--collection", webflowtest.DefaultCollectionID, "--base-url", wf.BaseURL(), "--data-dir", dir)
	runBinEnv(t, []string{"GADS_DEV=" + googleadstest.DefaultDeveloperToken, "GADS_SECRET=" + googleadstest.DefaultClientSecret, "GADS_REFRESH=" + googleadstest.DefaultRefreshToken},
		"connect", "google-ads", "--name", "gads", "--customer-id", ga.CustomerID(), "--developer-token-env", "GADS_DEV",
		"--client-id", googleadstest.DefaultClientID, "--client-secret-env", "GADS_SECRET", "--refresh-token-env", "GADS_REFRESH",
		"--base-url", ga.BaseURL(), "--token-url", ga.TokenURL(), "--data-dir", dir)

	s := serve(t, dir)
	defer s.stop()
	s.initialize(mcp.ProtocolVersion20251125)
	c := s.mustStage("create_campaign", map[string]any{"name": "Spring sale", "target": "mailchimp", "markets": []string{"US"},
		"utm": map[string]any{"source": "newsletter", "medium": "email", "campaign": "spring_sale"}})
	cid := c["id"].(string)
	seg := s.mustStage("build_segment", map[string]any{"campaign_id": cid, "name": "Spring list " + cid,
		"static_emails": []string{"member01@example.com", "member02@example.com"}})
	s.mustStage("create_email", map[string]any{"campaign_id": cid, "name": "Announcement", "subject": "The spring sale is on", "preview_text": "Thirty percent off tents, packs and boots.",
		"from_name": "Acme", "from_email": "news@acme.com", "audience": map[string]any{"include": []string{seg["id"].(string)}},
		"blocks": []map[string]any{{"type": "heading", "text": "Spring sale"}, {"type": "button", "text": "Shop now", "url": "https://www.acme.com/spring"}}})
	page := s.mustStage("publish_page", map[string]any{"campaign_id": cid, "target": "site", "title": "Spring sale", "slug": "spring-sale",
		"blocks": []map[string]any{{"type": "heading", "text": "Spring sale"}, {"type": "paragraph", "text": "Thirty percent off this week."}}})
	start := time.Now().UTC().AddDate(0, 0, 3).Format(time.DateOnly)
	end := time.Now().UTC().AddDate(0, 0, 12).Format(time.DateOnly)
	ad := s.mustStage("build_ad_campaign", map[string]any{"campaign_id": cid, "target": "gads", "name": "Spring sale search", "objective": "traffic",
		"budget": map[string]any{"period": "daily", "amount": "150.00", "currency": "USD"}, "start_date": start, "end_date": end,
		"locations": []string{"US"}, "languages": []string{"en"}, "enable": true,
		"ad_groups": []map[string]any{{"name": "Tents", "max_cpc": "1.50",
			"keywords": []map[string]any{{"text": "camping tents", "match": "phrase"}, {"text": "tent sale", "match": "exact"}},
			"ads": []map[string]any{{"headlines": []string{"Spring sale: 30% off", "Tents, packs and boots", "Free returns"},
				"descriptions": []string{"Thirty percent off tents, packs and boots this week.", "Order by Friday for weekend delivery."},
				"page_id":      page["id"].(string)}}}}})
	if notes := strings.Join(asStrings(ad["notes"]), " "); !strings.Contains(notes, "up to $150.00/day") {
		t.Errorf("build_ad_campaign notes %q do not state the spend", notes)
	}

	plan := s.mustStage("plan_promotion", map[string]any{"campaign_id": cid})
	if roles := asStrings(plan["approvals"].(map[string]any)["roles"]); strings.Join(roles, ",") != "finance" {
		t.Fatalf("approvals %v, want the finance role for a $150/day budget", plan["approvals"])
	}
	var enable map[string]any
	ops := map[string]bool{}
	for _, st := range plan["irreversible"].([]any) {
		st := st.(map[string]any)
		ops[st["op"].(string)] = true
		if st["op"] == "enable" {
			enable = st
		}
	}
	if !ops["send"] || !ops["publish"] || enable == nil {
		t.Fatalf("irreversible steps %v, want a send, a publish and an enable", plan["irreversible"])
	}
	if want := "up to $150.00/day from " + start + " to " + end + ", ≤ $1,500.00 total (10 days)"; enable["spend"] != want {
		t.Errorf("enable step's spend = %v, want %q", enable["spend"], want)
	}
	if ga.Counts().ValidateOnly == 0 {
		t.Error("planning made no dry run on Google Ads")
	}

	if r := s.call("confirm_promotion", map[string]any{"plan_id": plan["id"]}); !r.IsError || !strings.Contains(r.text(), "not approved") {
		t.Fatalf("confirm before approval: %s", r.text())
	}
	if n := len(ga.Campaigns()); n != 0 {
		t.Fatalf("Google Ads holds %d campaigns before approval, want none", n)
	}
	screen, _ := approveAtTerminal(t, dir, plan["id"].(string))
	if !strings.Contains(screen, "starts spending: up to $150.00/day") || !strings.Contains(screen, "starts 1 ad campaign spending up to $1,500.00 in all") {
		t.Errorf("the approver's screen does not state the spend:\n%s", screen)
	}
	if r := s.call("confirm_promotion", map[string]any{"plan_id": plan["id"]}); r.IsError {
		t.Fatalf("confirm: %s", r.text())
	}

	live, ok := wf.LivePage(webflowtest.DefaultCollectionID, "spring-sale")
	if !ok || !strings.Contains(live, "Spring sale") {
		t.Fatalf("the Webflow page is not live: %q", live)
	}
	camps := ga.Campaigns()
	if len(camps) != 1 || camps[0].Status != "ENABLED" || camps[0].StatusUpdates != 1 {
		t.Fatalf("Google Ads campaigns %+v, want one, created paused and enabled once", camps)
	}
	tree := ga.Tree(strconv.FormatInt(camps[0].ID, 10))
	if len(tree.Ads) != 1 || len(tree.Ads[0].FinalURLs) != 1 {
		t.Fatalf("ads %+v", tree.Ads)
	}
	final, err := url.Parse(tree.Ads[0].FinalURLs[0])
	if err != nil {
		t.Fatal(err)
	}
	q := final.Query()
	if final.Host != webflowtest.DefaultDomain || !strings.HasSuffix(final.Path, "/spring-sale") ||
		q.Get("utm_source") != "google" || q.Get("utm_medium") != "cpc" || q.Get("utm_campaign") != "spring_sale" || q.Get("utm_content") != ad["id"] {
		t.Errorf("the ad's final URL %s is not the page's live URL tagged google/cpc/spring_sale/%s", final, ad["id"])
	}
	if n := len(mc.Campaigns()); n != 1 || mc.Campaigns()[0].SendActions != 1 {
		t.Errorf("Mailchimp campaigns %d, want one sent once", n)
	}
}

func asStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
