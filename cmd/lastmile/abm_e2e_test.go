package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// The account-based outreach the lifecycle issue was found with, over real
// stdio with the built binary: a workspace suppression segment excluded by
// three account campaigns (the policy requires it), a UTM fixed with
// update_campaign after check_campaign's finding names it, a test send to
// the seed list, the campaigns promoted without the suppressed contact,
// an A/B subject test whose winner the simulated clock sends to the rest,
// then a page unpublished and a workflow switched off, each approved and
// promoted, and verified on the local target.
func TestABMOverStdio(t *testing.T) {
	dir := t.TempDir()
	if err := initDataDir(dir, false, acmeSamplePolicy, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := enableScripted(dir, io.Discard); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(dir, "policy.yaml")
	data, err := os.ReadFile(policy)
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, []byte("\ntest_sends:\n  seed_list: [qa@acme.com]\nalways_exclude: [Suppression]\n")...)
	if err := os.WriteFile(policy, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// A simulated clock, ten minutes a second: the A/B test decides an
	// hour after its send, six seconds later.
	s := serveAsIs(t, dir, "--clock-start", "2027-03-01T09:00:00Z", "--clock-rate", "600", "--tick", "200ms")
	defer s.stop()
	s.initialize(mcp.ProtocolVersion20251125)

	promote := func(campaign string) map[string]any {
		t.Helper()
		plan := s.mustStage("plan_promotion", map[string]any{"campaign_id": campaign})
		id := plan["id"].(string)
		if _, errOut, status := runBin(t, "approve", id, "--scripted", "--data-dir", dir); status != 0 {
			t.Fatalf("approve %s: %s", id, errOut)
		}
		res := s.call("confirm_promotion", map[string]any{"plan_id": id})
		if res.IsError {
			t.Fatalf("confirm %s: %s", id, res.text())
		}
		return plan
	}

	// What the target can do, before anything is planned.
	targets := jsonText(t, s.mustStage("list_targets", map[string]any{}))
	for _, want := range []string{`"name":"local"`, `"test_sends":true`, `"page":["unpublish"]`, `"workflow":["deactivate"]`} {
		if !strings.Contains(targets, want) {
			t.Errorf("list_targets lacks %s: %s", want, targets)
		}
	}

	// The workspace's suppression list, live first.
	sup := s.mustStage("build_segment", map[string]any{"scope": "workspace", "name": "Suppression", "static_emails": []string{"ada@example.com"}})["id"].(string)
	promote("cmp_workspace")

	var campaigns, emails []string
	var page, workflow string
	for i, account := range []string{"Globex", "Initech", "Umbrella"} {
		slug := strings.ToLower(account)
		// utm_source "partner" is not one the policy allows.
		c := s.mustStage("create_campaign", map[string]any{"name": account + " outreach", "markets": []string{"US"}, "industry": "retail",
			"utm": map[string]any{"source": "partner", "medium": "email", "campaign": slug + "_abm"}})["id"].(string)
		seg := s.mustStage("build_segment", map[string]any{"campaign_id": c, "name": account + " buyers",
			"conditions": []map[string]any{{"property": "lifecycle_stage", "operator": "eq", "value": "customer"}}})["id"].(string)
		args := map[string]any{"campaign_id": c, "name": account + " intro", "subject": "A plan for " + account,
			"preview_text": "Three ideas for your team.", "from_name": "Acme", "from_email": "news@acme.com",
			"audience": map[string]any{"include": []string{seg}, "exclude": []string{sup}},
			"blocks":   []map[string]any{{"type": "heading", "text": "Ideas for " + account}, {"type": "paragraph", "text": "Hi {{ contact.firstname | default: \"there\" }}, see [the ideas](https://www.acme.com/abm/" + slug + ")."}}}
		if i == 2 {
			// The last account's subject is tested: half the audience gets a
			// or b, the winner by opens goes to the rest an hour later.
			args["ab_test"] = map[string]any{"variants": []map[string]any{{"subject": "Three ideas for " + account}}, "test_percent": 50, "winner": "opens", "decide_after": "1h"}
		}
		em := s.mustStage("create_email", args)["id"].(string)
		if i == 0 {
			page = s.mustStage("publish_page", map[string]any{"campaign_id": c, "title": account + " ideas", "slug": "abm-" + slug,
				"blocks": []map[string]any{{"type": "heading", "text": "Ideas for " + account}}})["id"].(string)
			workflow = s.mustStage("configure_workflow", map[string]any{"campaign_id": c, "name": account + " nurture", "activate": true,
				"trigger": map[string]any{"type": "segment_entry", "segment_id": seg},
				"steps":   []map[string]any{{"id": "wait", "type": "wait", "duration": "1d", "next": "send"}, {"id": "send", "type": "send_email", "email_id": em}}})["id"].(string)
		}

		// The finding's fix names the tool that applies it.
		check := s.call("check_campaign", map[string]any{"campaign_id": c})
		if check.StructuredContent["passed"] == true || !strings.Contains(jsonText(t, check.StructuredContent["findings"]), "update_campaign") {
			t.Fatalf("check of a campaign with a disallowed utm_source: %s", check.text())
		}
		up := s.mustStage("update_campaign", map[string]any{"campaign_id": c, "utm": map[string]any{"source": "newsletter"}})
		if up["errors"].(float64) != 0 {
			t.Fatalf("update_campaign left errors: %v", up)
		}
		if check := s.call("check_campaign", map[string]any{"campaign_id": c}); check.StructuredContent["passed"] != true {
			t.Fatalf("check after update_campaign: %s", check.text())
		}
		campaigns, emails = append(campaigns, c), append(emails, em)
	}

	// A proof to the seed list; anyone else is refused.
	if r := s.call("send_test", map[string]any{"artifact_id": emails[0], "to": []string{"ada@example.com"}}); !r.IsError {
		t.Fatalf("a test send to a customer was sent: %s", r.text())
	}
	s.mustStage("send_test", map[string]any{"artifact_id": emails[0], "to": []string{"qa@acme.com"}})
	if proofs, _ := os.ReadDir(filepath.Join(dir, "outbox", "tests", emails[0])); len(proofs) != 1 {
		t.Fatalf("test proofs: %d, want 1", len(proofs))
	}

	for i, c := range campaigns {
		plan := promote(c)
		if !strings.Contains(jsonText(t, plan), sup) {
			t.Errorf("the plan of %s does not show the workspace segment it excludes", c)
		}
		box, err := os.ReadDir(filepath.Join(dir, "outbox", emails[i]))
		if err != nil || len(box) == 0 {
			t.Fatalf("%s sent nothing: %v", emails[i], err)
		}
		for _, f := range box {
			if strings.HasPrefix(f.Name(), "ada") {
				t.Errorf("%s mailed the suppressed contact", emails[i])
			}
		}
	}
	abTestWinner(t, dir, emails[2])

	site := filepath.Join(dir, "site", "abm-globex", "index.html")
	if _, err := os.Stat(site); err != nil {
		t.Fatalf("the page is not live: %v", err)
	}

	// Take the page and the workflow back.
	for id, action := range map[string]string{page: "unpublish", workflow: "deactivate"} {
		r := s.mustStage("retire_artifact", map[string]any{"artifact_id": id, "action": action})
		if r["status"] != "retirement staged" || r["effect"] == "" {
			t.Fatalf("retire %s %s: %v", action, id, r)
		}
	}
	if _, err := os.Stat(site); err != nil {
		t.Fatalf("staging the unpublish took the page down before approval: %v", err)
	}
	plan := promote(campaigns[0])
	if text := jsonText(t, plan); !strings.Contains(text, `"op":"unpublish"`) || !strings.Contains(text, `"op":"deactivate"`) {
		t.Fatalf("the plan does not show the retirements: %s", text)
	}
	if _, err := os.Stat(site); !os.IsNotExist(err) {
		t.Errorf("the page is still on the site after the unpublish: %v", err)
	}
	var wf struct {
		Enabled bool `json:"enabled"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "workflows", workflow+".json"))
	if err != nil || json.Unmarshal(raw, &wf) != nil || wf.Enabled {
		t.Errorf("the workflow is still on after deactivate: %s %v", raw, err)
	}
	view := s.mustStage("get_campaign", map[string]any{"campaign_id": campaigns[0]})
	if text := jsonText(t, view); strings.Count(text, `"status":"retired"`) != 2 {
		t.Errorf("get_campaign does not show the two retired artifacts: %s", text)
	}
}

// abTestWinner makes one recipient of the A/B test open its variant (b when
// anyone got b), waits for the clock to decide, and checks the winner went
// to everyone else, once each.
func abTestWinner(t *testing.T, dir, email string) {
	t.Helper()
	events := filepath.Join(dir, "events.jsonl")
	type event struct {
		Type     string    `json:"type"`
		Artifact string    `json:"artifact"`
		Email    string    `json:"email"`
		Variant  string    `json:"variant,omitempty"`
		At       time.Time `json:"at"`
	}
	read := func() []event {
		data, err := os.ReadFile(events)
		if err != nil {
			t.Fatal(err)
		}
		var out []event
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var e event
			if json.Unmarshal([]byte(l), &e) == nil && e.Artifact == email {
				out = append(out, e)
			}
		}
		return out
	}
	var opener event
	tested := 0
	for _, e := range read() {
		if e.Type == "sent" && e.Variant != "" {
			tested++
			if opener.Email == "" || (e.Variant == "b" && opener.Variant != "b") {
				opener = e
			}
		}
	}
	want := "a" // nobody in the test: the email as written
	if opener.Email != "" {
		want = opener.Variant
		f, err := os.OpenFile(events, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		line, _ := json.Marshal(event{Type: "open", Artifact: email, Email: opener.Email, At: opener.At.Add(time.Minute)})
		f.Write(append(line, '\n'))
		f.Close()
	}
	var rec struct {
		Status string `json:"status"`
		AB     struct {
			Winner string `json:"winner"`
		} `json:"ab"`
	}
	deadline := time.Now().Add(safety)
	for {
		raw, err := os.ReadFile(filepath.Join(dir, "emails", email+".json"))
		if err == nil && json.Unmarshal(raw, &rec) == nil && rec.Status == "sent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the A/B test did not finish: %s", raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if rec.AB.Winner != want {
		t.Errorf("winner %q, want %q (the variant %s opened)", rec.AB.Winner, want, opener.Email)
	}
	perAddr := map[string]int{}
	for _, e := range read() {
		if e.Type == "sent" {
			perAddr[e.Email]++
		}
	}
	for addr, n := range perAddr {
		if n != 1 {
			t.Errorf("%s got the A/B email %d times", addr, n)
		}
	}
	if len(perAddr) <= tested {
		t.Errorf("the winner went to nobody beyond the %d tested", tested)
	}
	box, _ := os.ReadDir(filepath.Join(dir, "outbox", email))
	if len(box) != len(perAddr) {
		t.Errorf("%d messages in the outbox for %d recipients", len(box), len(perAddr))
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
