package tools_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"golang.org/x/net/html"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/lastmile/lastmile/connectors/local"
)

// ---- happy paths ----

// TestHappyPath stages a whole campaign through the MCP client under every
// protocol era: mcp-go's default (2026-07-28) and the two initialize-era
// versions real clients speak.
func TestHappyPath(t *testing.T) {
	for _, p := range protocols {
		t.Run(protoName(p), func(t *testing.T) {
			h := newHarness(t, withProtocol(p))
			want := p
			if want == "" {
				want = mcp.LATEST_PROTOCOL_VERSION
			}
			if got := h.init.ProtocolVersion; got != want {
				t.Fatalf("negotiated %s, want %s", got, want)
			}
			if h.init.ServerInfo.Name != "lastmile" {
				t.Errorf("server name %q", h.init.ServerInfo.Name)
			}
			if !strings.Contains(h.init.Instructions, "STAGED") {
				t.Errorf("instructions do not say everything is staged: %q", h.init.Instructions)
			}

			camp := mustOK(t, h.call(t, "create_campaign", obj{
				"name": "Spring launch 2027", "brief": "Launch for US and UK customers", "goal": "200 demos",
				"markets": []string{"us", "GB"}, "industry": "Retail",
				"utm": obj{"source": "newsletter", "medium": "email", "campaign": "spring_launch"},
			}))
			cmp := str(t, camp, "id")
			if !strings.HasPrefix(cmp, "cmp_") || camp["staged"] != true {
				t.Fatalf("create_campaign: %v", camp)
			}
			c := camp["campaign"].(obj)
			if fmt.Sprint(c["markets"]) != "[US GB]" || c["industry"] != "retail" || c["target"] != "local" {
				t.Errorf("campaign not normalized: %v", c)
			}

			seg := h.stage(t, "build_segment", segmentArgs(cmp))
			checkStaged(t, seg, "segment", "seg_", cmp, 1)
			if _, ok := seg["estimated_size"]; !ok {
				t.Errorf("local target counts, but build_segment gave no estimated_size: %v", seg)
			}
			segID := str(t, seg, "id")

			em := blocksEmailArgs(cmp)
			em["audience"] = obj{"include": []string{segID}}
			em["send_at"] = epoch.Add(48 * time.Hour).Format(time.RFC3339)
			em["preview_text"] = "Faster, cheaper"
			em["reply_to"] = "support@acme.com"
			eml := h.stage(t, "create_email", em)
			checkStaged(t, eml, "email", "eml_", cmp, 1)
			emlID := str(t, eml, "id")

			pg := h.stage(t, "publish_page", with(pageArgs(cmp, "spring-launch"), "meta_description", "Book a demo",
				"publish_at", epoch.Add(72*time.Hour).Format(time.RFC3339)))
			checkStaged(t, pg, "page", "pg_", cmp, 1)
			pgID := str(t, pg, "id")

			wf := h.stage(t, "configure_workflow", with(workflowArgs(cmp, segID, emlID), "activate", true))
			checkStaged(t, wf, "workflow", "wf_", cmp, 1)
			formWF := h.stage(t, "configure_workflow", with(workflowArgs(cmp, segID, emlID),
				"name", "Demo follow-up", "trigger", obj{"type": "form_submission", "page_id": pgID}))
			checkStaged(t, formWF, "workflow", "wf_", cmp, 1)
			for _, trig := range []obj{{"type": "date_property", "property": "renewal_date"}, {"type": "manual"}} {
				h.stage(t, "configure_workflow", with(workflowArgs(cmp, segID, emlID), "name", "Trigger "+trig["type"].(string), "trigger", trig))
			}

			got := mustOK(t, h.call(t, "get_campaign", obj{"campaign_id": cmp}))
			arts := got["artifacts"].([]any)
			if len(arts) != 7 {
				t.Fatalf("get_campaign lists %d artifacts, want 7: %v", len(arts), got)
			}
			// Promotion order: segments, emails, pages, workflows.
			var kinds []string
			for _, a := range arts {
				a := a.(obj)
				kinds = append(kinds, a["kind"].(string))
				if a["status"] != "staged" || a["target"] != "local" || a["revision"].(float64) != 1 || a["live"] != nil {
					t.Errorf("artifact %v", a)
				}
			}
			if strings.Join(kinds, ",") != "segment,email,page,workflow,workflow,workflow,workflow" {
				t.Errorf("artifact order %v", kinds)
			}
			counts := got["counts"].(obj)
			if counts["staged"].(float64) != 7 || counts["workflow"].(float64) != 4 {
				t.Errorf("counts %v", counts)
			}

			// Every write is in the audit log, under the agent's name.
			entries, err := h.sb.Audit(context.Background(), 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 8 {
				t.Errorf("%d audit entries for 8 writes", len(entries))
			}
			for _, e := range entries {
				if e.Actor != "agent:lastmile-test" {
					t.Errorf("audit entry %s %s by %q, want agent:lastmile-test", e.Action, e.Object, e.Actor)
				}
			}

			list := mustOK(t, h.call(t, "list_campaigns", obj{}))
			cs := list["campaigns"].([]any)
			if len(cs) != 1 || cs[0].(obj)["id"] != cmp || cs[0].(obj)["artifacts"].(float64) != 7 {
				t.Errorf("list_campaigns %v", list)
			}
		})
	}
}

// checkStaged asserts the shape every write tool's result has, and that it
// says plainly the change is staged and not live.
func checkStaged(t *testing.T, out obj, kind, prefix, cmp string, rev int) {
	t.Helper()
	if id := str(t, out, "id"); !strings.HasPrefix(id, prefix) {
		t.Errorf("id %q lacks prefix %s", id, prefix)
	}
	if out["kind"] != kind || out["campaign_id"] != cmp || num(t, out, "revision") != rev {
		t.Errorf("result %v: want kind %s, campaign %s, revision %d", out, kind, cmp, rev)
	}
	if out["staged"] != true || out["live"] != false || out["status"] != "staged" {
		t.Errorf("result does not say staged and not live: %v", out)
	}
	if !strings.Contains(str(t, out, "next"), "plan_promotion") {
		t.Errorf("next step does not point at plan_promotion: %v", out["next"])
	}
}

// TestWriteResultsSayNotLive checks the text a client without
// structuredContent support shows.
func TestWriteResultsSayNotLive(t *testing.T) {
	h := newHarness(t)
	cmp := h.newCampaign(t, "Text")
	res := h.call(t, "build_segment", segmentArgs(cmp))
	mustOK(t, res)
	// One line naming what was staged; the data is in structuredContent.
	if msg := text(res); !strings.Contains(msg, "not live") || !strings.Contains(msg, "seg_") || strings.Contains(msg, "\n") || strings.Contains(msg, `"id":`) {
		t.Errorf("text content should be one line saying not live: %s", msg)
	}
	res = h.call(t, "create_campaign", obj{"name": "Other"})
	mustOK(t, res)
	if msg := text(res); !strings.Contains(msg, "nothing is live") {
		t.Errorf("create_campaign text: %s", msg)
	}
}

// TestCreateEmailFromHTML stages emails and pages given as HTML rather than
// blocks.
func TestCreateEmailFromHTML(t *testing.T) {
	h := newHarness(t)
	cmp := h.newCampaign(t, "HTML")
	out := mustOK(t, h.call(t, "create_email", emailArgs(cmp)))
	checkStaged(t, out, "email", "eml_", cmp, 1)

	page := with(pageArgs(cmp, "html-page"), "blocks", nil, "html", "<html><body><h1>Hi</h1></body></html>")
	out = mustOK(t, h.call(t, "publish_page", page))
	checkStaged(t, out, "page", "pg_", cmp, 1)
}

// TestRevisions: giving an artifact's id stages revision N+1; identical
// content stages nothing and says unchanged.
func TestRevisions(t *testing.T) {
	h := newHarness(t)
	cmp := h.newCampaign(t, "Revisions")
	segID := str(t, h.stage(t, "build_segment", segmentArgs(cmp)), "id")
	emlID := str(t, h.stage(t, "create_email", blocksEmailArgs(cmp)), "id")

	cases := []struct {
		tool, idField string
		first         obj
		change        func(obj) obj
	}{
		{"build_segment", "segment_id", with(segmentArgs(cmp), "name", "Rev segment"),
			func(a obj) obj { return with(a, "match", "any") }},
		{"create_email", "email_id", with(blocksEmailArgs(cmp), "name", "Rev email"),
			func(a obj) obj { return with(a, "subject", "A better subject") }},
		{"publish_page", "page_id", pageArgs(cmp, "rev-page"),
			func(a obj) obj { return with(a, "title", "A better title") }},
		{"configure_workflow", "workflow_id", workflowArgs(cmp, segID, emlID),
			func(a obj) obj { return with(a, "activate", true) }},
	}
	for _, tc := range cases {
		t.Run(tc.tool, func(t *testing.T) {
			first := h.stage(t, tc.tool, tc.first)
			id := str(t, first, "id")
			if num(t, first, "revision") != 1 || first["unchanged"] == true {
				t.Fatalf("first: %v", first)
			}

			args := with(tc.first, tc.idField, id)
			same := h.stage(t, tc.tool, args)
			if same["unchanged"] != true || num(t, same, "revision") != 1 || same["id"] != id {
				t.Errorf("identical content: want unchanged at revision 1, got %v", same)
			}

			changed := tc.change(args)
			second := h.stage(t, tc.tool, changed)
			if num(t, second, "revision") != 2 || second["unchanged"] == true || second["id"] != id {
				t.Errorf("changed content: want revision 2 of %s, got %v", id, second)
			}
			again := mustOK(t, h.call(t, tc.tool, changed))
			if again["unchanged"] != true || num(t, again, "revision") != 2 {
				t.Errorf("retry of revision 2: want unchanged, got %v", again)
			}
			if res := h.call(t, tc.tool, changed); !strings.Contains(text(res), "Unchanged") {
				t.Errorf("text of an unchanged result should say so: %s", text(res))
			}

			// The head moved to revision 2 and both revisions are kept.
			got := mustOK(t, h.call(t, "get_campaign", obj{"campaign_id": cmp}))
			found := false
			for _, a := range got["artifacts"].([]any) {
				if a := a.(obj); a["id"] == id {
					found = true
					if a["revision"].(float64) != 2 {
						t.Errorf("get_campaign shows revision %v, want 2", a["revision"])
					}
				}
			}
			if !found {
				t.Errorf("%s missing from get_campaign", id)
			}
			for rev := 1; rev <= 2; rev++ {
				v, err := h.sb.GetArtifact(context.Background(), id, rev)
				if err != nil || v.Revision.Number != rev {
					t.Errorf("revision %d of %s: %v %v", rev, id, v, err)
				}
			}
			if _, err := h.sb.GetArtifact(context.Background(), id, 3); err == nil {
				t.Errorf("revision 3 of %s exists", id)
			}
		})
	}
}

// ---- estimated_size ----

// contacts parses the sample contacts.csv the harness writes, so expected
// counts come from the data, not from magic numbers.
func contacts(t *testing.T) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(local.SampleContacts)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		c := map[string]string{}
		for i, h := range recs[0] {
			c[h] = strings.TrimSpace(r[i])
		}
		out = append(out, c)
	}
	return out
}

func count(cs []map[string]string, pred func(map[string]string) bool) int {
	n := 0
	for _, c := range cs {
		if pred(c) {
			n++
		}
	}
	return n
}

func TestEstimatedSize(t *testing.T) {
	h := newHarness(t)
	cmp := h.newCampaign(t, "Sizes")
	cs := contacts(t)
	if len(cs) < 10 {
		t.Fatalf("sample has %d contacts", len(cs))
	}
	is := strings.EqualFold
	date := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	cutoff := date("2026-01-01")

	usCustomer := func(c map[string]string) bool { return is(c["country"], "US") && is(c["lifecycle_stage"], "customer") }
	pro := func(c map[string]string) bool { return is(c["plan"], "pro") }

	ids := map[string]string{}
	cases := []struct {
		name string
		args obj
		want int
	}{
		{"us-customers", segmentArgs(cmp), count(cs, usCustomer)},
		{"pro", obj{"conditions": []obj{{"property": "plan", "operator": "eq", "value": "pro"}}}, count(cs, pro)},
		{"any-paid-or-gb", obj{"match": "any", "conditions": []obj{
			{"property": "plan", "operator": "in", "value": []string{"pro", "enterprise"}},
			{"property": "country", "operator": "eq", "value": "gb"},
		}}, count(cs, func(c map[string]string) bool {
			return is(c["plan"], "pro") || is(c["plan"], "enterprise") || is(c["country"], "GB")
		})},
		{"recent-signups", obj{"conditions": []obj{{"property": "signup_date", "operator": "after", "value": "2026-01-01"}}},
			count(cs, func(c map[string]string) bool { return date(c["signup_date"]).After(cutoff) })},
		{"has-city-and-consent", obj{"conditions": []obj{
			{"property": "City", "operator": "exists"},
			{"property": "marketing_consent", "operator": "eq", "value": true},
		}}, count(cs, func(c map[string]string) bool { return c["city"] != "" && c["marketing_consent"] == "true" })},
		{"no-plan", obj{"conditions": []obj{{"property": "plan", "operator": "not_exists"}}},
			count(cs, func(c map[string]string) bool { return c["plan"] == "" })},
		{"city-contains-on", obj{"conditions": []obj{{"property": "city", "operator": "contains", "value": "ON"}}},
			count(cs, func(c map[string]string) bool { return strings.Contains(strings.ToLower(c["city"]), "on") })},
		{"lastname-t", obj{"conditions": []obj{{"property": "lastname", "operator": "starts_with", "value": "t"}}},
			count(cs, func(c map[string]string) bool { return strings.HasPrefix(strings.ToLower(c["lastname"]), "t") })},
		{"nested", obj{
			"conditions": []obj{{"property": "country", "operator": "in", "value": []string{"US", "CA"}}},
			"groups": []obj{{"match": "any", "conditions": []obj{
				{"property": "plan", "operator": "eq", "value": "enterprise"},
				{"property": "signup_date", "operator": "before", "value": "2025-01-01"},
			}}},
		}, count(cs, func(c map[string]string) bool {
			return (is(c["country"], "US") || is(c["country"], "CA")) &&
				(is(c["plan"], "enterprise") || date(c["signup_date"]).Before(date("2025-01-01")))
		})},
		// Static addresses count, including one contacts.csv lacks.
		{"static", obj{
			"conditions":    []obj{{"property": "country", "operator": "eq", "value": "FI"}},
			"static_emails": []string{"outsider@example.org", "Ada@Example.com", "ada@example.com"},
		}, count(cs, func(c map[string]string) bool { return is(c["country"], "FI") || c["email"] == "ada@example.com" }) + 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := with(tc.args, "campaign_id", cmp, "name", tc.name)
			out := h.stage(t, "build_segment", args)
			ids[tc.name] = str(t, out, "id")
			if got := num(t, out, "estimated_size"); got != tc.want {
				t.Errorf("estimated_size %d, want %d", got, tc.want)
			}
			if tc.want == 0 {
				t.Errorf("fixture selects nobody; pick a condition that tests something")
			}
		})
	}

	t.Run("include-minus-exclude", func(t *testing.T) {
		out := h.stage(t, "build_segment", obj{"campaign_id": cmp, "name": "US customers not on pro",
			"include_segments": []string{ids["us-customers"]}, "exclude_segments": []string{ids["pro"]}})
		want := count(cs, func(c map[string]string) bool { return usCustomer(c) && !pro(c) })
		if got := num(t, out, "estimated_size"); got != want {
			t.Errorf("estimated_size %d, want %d", got, want)
		}
	})
}

// ---- validation: one table per tool ----

// row is one user mistake: the arguments, and what the tool error must say
// (the field, and how to fix it).
type row struct {
	name string
	args any
	want []string
}

func runRows(t *testing.T, h *harness, tool string, rows []row) {
	t.Helper()
	before := auditLen(t, h)
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			mustToolError(t, h.call(t, tool, r.args), r.want...)
		})
	}
	// A refused write leaves no trace: no record, no revision, no audit entry.
	if after := auditLen(t, h); after != before {
		t.Errorf("refused %s calls wrote %d audit entries", tool, after-before)
	}
}

func auditLen(t *testing.T, h *harness) int {
	t.Helper()
	entries, err := h.sb.Audit(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// big is just over the 1 MB limit on html.
var big = "<p>" + strings.Repeat("a", 1<<20) + "</p>"

func TestCreateCampaignValidation(t *testing.T) {
	h := newHarness(t)
	base := obj{"name": "Spring"}
	runRows(t, h, "create_campaign", []row{
		{"missing name", obj{}, []string{"name: is required", "Fix the arguments"}},
		{"empty name", obj{"name": ""}, []string{"name: must not be empty"}},
		{"blank name", obj{"name": "   "}, []string{"name: is required", "Spring launch 2027"}},
		{"name too long", obj{"name": strings.Repeat("n", 201)}, []string{"name: is 201 characters long; the limit is 200"}},
		{"unknown field", with(base, "budget", 100), []string{"budget: is not a field here", "the fields are", "markets"}},
		{"wrong type name", obj{"name": 5}, []string{"name: must be string, not number"}},
		{"wrong type markets", with(base, "markets", "US"), []string{"markets: must be array, not string"}},
		{"wrong type utm", with(base, "utm", "newsletter"), []string{"utm: must be object, not string"}},
		{"unknown utm field", with(base, "utm", obj{"content": "x"}), []string{"utm.content: is not a field here", "campaign, medium, source"}},
		{"UK market", with(base, "markets", []string{"UK"}), []string{"markets[0]", `"UK" is not an ISO 3166-1 alpha-2`, "use GB for the United Kingdom"}},
		{"EU market", with(base, "markets", []string{"US", "EU"}), []string{"markets[1]", "list the member states"}},
		{"three letters", with(base, "markets", []string{"USA"}), []string{"markets[0]", `"USA"`, "use two letters such as US"}},
		{"duplicate market", with(base, "markets", []string{"us", "US"}), []string{"markets[1]", "US is listed twice", "list each market once"}},
		{"every market problem at once", with(base, "markets", []string{"UK", "XX", "de", "DE"}),
			[]string{"3 problems", "markets[0]", "markets[1]", "markets[3]"}},
		{"industry", with(base, "industry", "Fin Serv!"), []string{"industry", "not a simple identifier", "finserv"}},
		{"unknown target", with(base, "target", "hubspot"), []string{"target", `no target named "hubspot"`, "use one of [local]"}},
		{"utm", with(base, "utm", obj{"source": "news letter", "campaign": "a&b"}),
			[]string{"utm.source", "utm.campaign", "letters, digits and . _ ~ + -"}},
	})
}

func TestGetAndListValidation(t *testing.T) {
	h := newHarness(t)
	runRows(t, h, "get_campaign", []row{
		{"missing id", obj{}, []string{"campaign_id: is required"}},
		{"empty id", obj{"campaign_id": ""}, []string{"campaign_id: must not be empty"}},
		{"wrong type", obj{"campaign_id": 7}, []string{"campaign_id: must be string, not number"}},
		{"unknown campaign", obj{"campaign_id": "cmp_01nope"}, []string{"no campaign cmp_01nope", "list_campaigns shows the campaigns"}},
		{"not a campaign id", obj{"campaign_id": "spring"}, []string{`no campaign "spring"`, "campaign ids start with cmp_", "list_campaigns"}},
		{"unknown field", obj{"campaign_id": "cmp_x", "verbose": true}, []string{"verbose: is not a field here", "campaign_id"}},
	})
	runRows(t, h, "list_campaigns", []row{
		{"limit zero", obj{"limit": 0}, []string{"limit: must be at least 1."}},
		{"limit too big", obj{"limit": 101}, []string{"limit: must be at most 100."}},
		{"limit not a number", obj{"limit": "ten"}, []string{"limit: must be integer, not string"}},
		{"limit fraction", obj{"limit": 2.5}, []string{"limit: must be integer"}},
		{"unknown field", obj{"page": 2}, []string{"page: is not a field here", "cursor, limit"}},
	})
}

func TestCreateEmailValidation(t *testing.T) {
	h := newHarness(t)
	cmp := h.newCampaign(t, "Email rules")
	other := h.newCampaign(t, "Other")
	seg := str(t, h.stage(t, "build_segment", segmentArgs(cmp)), "id")
	otherSeg := str(t, h.stage(t, "build_segment", segmentArgs(other)), "id")
	eml := str(t, h.stage(t, "create_email", blocksEmailArgs(cmp)), "id")
	otherEml := str(t, h.stage(t, "create_email", blocksEmailArgs(other)), "id")
	base := blocksEmailArgs(cmp)
	htmlOnly := with(base, "blocks", nil, "html", "<p>Hi</p>")
	past := epoch.Add(-time.Hour).Format(time.RFC3339)
	future := epoch.Add(24 * time.Hour).Format(time.RFC3339)
	aud := obj{"include": []string{seg}}

	runRows(t, h, "create_email", []row{
		// The schema's errors and the write's own checks, in one round.
		{"missing everything", obj{}, []string{"6 problems", "campaign_id: is required", "name: is required", "subject: is required", "from_name: is required", "from_email: is required", "html: the content is missing"}},
		{"schema and semantic errors together", with(with(base, "subject", strings.Repeat("s", 300)), "from_email", "not-an-address"), []string{"2 problems", "subject: is 300 characters long; the limit is 250", `from_email: "not-an-address" is not a valid email address`}},
		{"schema error and an unknown segment", with(with(base, "name", ""), "audience", obj{"include": []string{"seg_nope"}}), []string{"2 problems", "name: must not be empty", "audience.include[0]:"}},
		{"missing subject", with(base, "subject", nil), []string{"subject: is required"}},
		{"unknown field", with(base, "bcc", "x@acme.com"), []string{"bcc: is not a field here", "the fields are", "reply_to"}},
		{"unknown audience field", with(base, "audience", obj{"only": []string{seg}}), []string{"audience.only: is not a field here", "exclude, include"}},
		{"wrong type subject", with(base, "subject", 42), []string{"subject: must be string, not number"}},
		{"wrong type blocks", with(base, "blocks", "hello"), []string{"blocks: must be array, not string"}},
		{"wrong type audience", with(base, "audience", []string{seg}), []string{"audience: must be object, not array"}},
		{"not an object", []int{1, 2}, []string{"the arguments: must be object, not array"}},
		{"bad block type", with(base, "blocks", []obj{{"type": "video", "text": "x"}}), []string{"blocks[0].type", "is not allowed", "use one of", "heading"}},
		{"integer out of range", with(base, "blocks", []obj{{"type": "heading", "text": "x", "level": 1e30}}), []string{"blocks[0].level", "must be at most 3"}},
		{"image without alt", with(base, "blocks", []obj{{"type": "image", "src": "https://acme.com/a.png"}}), []string{"blocks[0].alt"}},
		{"blank subject", with(base, "subject", "  "), []string{"subject: is required", "subject line"}},
		{"subject with newline", with(base, "subject", "Hi\nthere"), []string{"subject: contains a line break", "one line"}},
		{"subject too long", with(base, "subject", strings.Repeat("s", 251)), []string{"subject: is 251 characters long; the limit is 250"}},
		{"from_name with brackets", with(base, "from_name", "Acme <news@acme.com>"), []string{"from_name", "angle bracket", "plain words"}},
		{"from_email not an address", with(base, "from_email", "news at acme"), []string{"from_email", "RFC 5322", "news@example.com"}},
		{"from_email with display name", with(base, "from_email", "Acme <news@acme.com>"), []string{"from_email", "RFC 5322", "plain address"}},
		{"from_email without domain", with(base, "from_email", "news@localhost"), []string{"from_email", "no domain", "news@example.com"}},
		{"from_email too short", with(base, "from_email", "a@"), []string{"from_email: must be at least 3 characters"}},
		{"reply_to not an address", with(base, "reply_to", "support"), []string{"reply_to", "RFC 5322", "leave it empty"}},
		{"html and blocks", with(base, "html", "<p>Hi</p>"), []string{"blocks", "both html and blocks", "exactly one"}},
		{"neither html nor blocks", with(base, "blocks", nil), []string{"html", "content is missing", "give either html"}},
		{"html over 1 MB", with(htmlOnly, "html", big), []string{"html", "the limit is 1048576 bytes (1 MB)", "trim it"}},
		{"send_at in the past", with(base, "audience", aud, "send_at", past), []string{"send_at", "is not in the future", "pick a later time"}},
		{"send_at not RFC 3339", with(base, "audience", aud, "send_at", "2027-03-01 09:00"), []string{"send_at", "not an RFC 3339 time", "2027-03-01T09:00:00Z"}},
		{"send_at without audience", with(base, "send_at", future), []string{"send_at", "no audience", "audience.include"}},
		{"audience segment unknown", with(base, "audience", obj{"include": []string{"seg_01nope"}}),
			[]string{"audience.include[0]", "no segment seg_01nope in campaign " + cmp, "stage the segment first", "get_campaign " + cmp}},
		{"audience segment of another campaign", with(base, "audience", obj{"include": []string{otherSeg}}),
			[]string{"audience.include[0]", "no segment " + otherSeg + " in campaign " + cmp}},
		{"audience names an email", with(base, "audience", obj{"include": []string{eml}}), []string{"audience.include[0]", "is not a segment id", "seg_"}},
		{"audience exclude unknown", with(base, "audience", obj{"include": []string{seg}, "exclude": []string{"seg_01nope"}}), []string{"audience.exclude[0]", "no segment seg_01nope"}},
		{"included and excluded", with(base, "audience", obj{"include": []string{seg}, "exclude": []string{seg}}), []string{"audience.exclude[0]", "both included and excluded", "keep it in one list"}},
		{"segment listed twice", with(base, "audience", obj{"include": []string{seg, seg}}), []string{"audience.include[1]", "listed twice", "list it once"}},
		{"unknown target", with(base, "target", "mailchimp"), []string{"target", `no target named "mailchimp"`, "campaign's"}},
		{"unknown campaign", with(base, "campaign_id", "cmp_01nope"), []string{"no campaign cmp_01nope", "list_campaigns shows the campaigns"}},
		{"unknown email id", with(base, "email_id", "eml_01nope"), []string{"no email eml_01nope", "get_campaign " + cmp, "leave the id empty"}},
		{"email id of the wrong kind", with(base, "email_id", seg), []string{"email_id", seg + " is a segment", "leave it empty"}},
		{"email of another campaign", with(base, "email_id", otherEml), []string{"email_id", "belongs to campaign " + other}},
		{"several problems at once", with(base, "subject", " ", "from_email", "xyz", "send_at", past),
			[]string{"4 problems", "subject: is required", "from_email", "send_at"}},
		{"several argument problems at once", with(base, "subject", "", "from_email", "x", "bcc", 1),
			[]string{"3 problems", "subject: must not be empty", "from_email: must be at least 3", "bcc: is not a field"}},
	})
	_ = eml
}

func TestBuildSegmentValidation(t *testing.T) {
	h := newHarness(t)
	cmp := h.newCampaign(t, "Segment rules")
	other := h.newCampaign(t, "Other")
	seg := str(t, h.stage(t, "build_segment", segmentArgs(cmp)), "id")
	otherSeg := str(t, h.stage(t, "build_segment", segmentArgs(other)), "id")
	eml := str(t, h.stage(t, "create_email", blocksEmailArgs(cmp)), "id")
	base := segmentArgs(cmp)
	cond := func(op string, v any) obj {
		c := obj{"property": "country", "operator": op}
		if v != nil {
			c["value"] = v
		}
		return with(base, "conditions", []obj{c})
	}
	exists := []obj{{"property": "email", "operator": "exists"}}
	nest := func(depth int) []obj {
		g := obj{"conditions": exists}
		for i := 0; i < depth-1; i++ {
			g = obj{"groups": []obj{g}}
		}
		return []obj{g}
	}

	runRows(t, h, "build_segment", []row{
		{"missing name", with(base, "name", nil), []string{"name: is required"}},
		{"missing campaign", with(base, "campaign_id", nil), []string{"campaign_id: is required"}},
		{"unknown field", with(base, "filter", "x"), []string{"filter: is not a field here", "conditions"}},
		{"unknown condition field", with(base, "conditions", []obj{{"property": "country", "operator": "eq", "value": "US", "negate": true}}), []string{"conditions[0].negate: is not a field here", "operator, property, value"}},
		{"wrong type conditions", with(base, "conditions", obj{"property": "country"}), []string{"conditions: must be array, not object"}},
		{"wrong type static_emails", with(base, "static_emails", "a@b.com"), []string{"static_emails: must be array, not string"}},
		{"bad match", with(base, "match", "some"), []string{"match", "some is not allowed", "use one of all, any"}},
		{"bad match in group", with(base, "groups", []obj{{"match": "most", "conditions": exists}}), []string{"groups[0].match", "use one of all, any"}},
		{"unknown operator", cond("like", "US"), []string{"conditions[0].operator", "like is not allowed", "use one of eq, neq"}},
		{"unknown operator in a group", with(base, "groups", []obj{{"conditions": []obj{{"property": "x", "operator": "like"}}}}),
			[]string{"groups[0].conditions[0].operator", "is not allowed", "use one of eq"}},
		{"missing property", with(base, "conditions", []obj{{"operator": "exists"}}), []string{"conditions[0].property: is required"}},
		{"blank property", with(base, "conditions", []obj{{"property": " ", "operator": "exists"}}), []string{"conditions[0].property: is required", "country or lifecycle_stage"}},
		{"bad property", with(base, "conditions", []obj{{"property": "1st", "operator": "exists"}}), []string{"conditions[0].property", `"1st" is not a property name`, "starting with a letter"}},
		{"exists with value", cond("exists", "x"), []string{"conditions[0].value", "exists takes no value", "remove the value"}},
		{"not_exists with value", cond("not_exists", true), []string{"conditions[0].value", "not_exists takes no value"}},
		{"in without list", cond("in", "US"), []string{"conditions[0].value", "in needs a non-empty list", `["US", "CA"]`}},
		{"in with empty list", cond("in", []any{}), []string{"conditions[0].value", "in needs a non-empty list"}},
		{"not_in with nested list", cond("not_in", []any{[]any{"US"}}), []string{"conditions[0].value[0]", "must be a string, number or boolean"}},
		{"gt not a number", cond("gt", "many"), []string{"conditions[0].value", "gt compares numbers", "give a number"}},
		{"lte without value", cond("lte", nil), []string{"conditions[0].value", "lte compares numbers"}},
		{"before not a date", cond("before", "soon"), []string{"conditions[0].value", "before compares dates", "2027-01-31"}},
		{"after a number", cond("after", 2026), []string{"conditions[0].value", "after compares dates"}},
		{"eq without value", cond("eq", nil), []string{"conditions[0].value", "eq needs a value", "give the value"}},
		{"eq with an object", cond("eq", obj{"a": 1}), []string{"conditions[0].value", "eq needs a value (string, number or boolean)"}},
		{"contains empty", cond("contains", ""), []string{"conditions[0].value: is empty", "exists/not_exists"}},
		{"starts_with a list", cond("starts_with", []string{"U"}), []string{"conditions[0].value", "starts_with needs a value"}},
		{"groups nested too deep", with(base, "groups", nest(4)), []string{"groups[0].groups[0].groups[0].groups", "deeper than 3 levels"}},
		{"empty group", with(base, "groups", []obj{{"match": "any"}}), []string{"groups[0]", "is empty", "give the group conditions"}},
		{"selects nobody", obj{"campaign_id": cmp, "name": "Nobody"}, []string{"conditions", "the segment selects nobody", "static_emails"}},
		{"too many static emails", with(base, "static_emails", manyAddresses(10001)), []string{"static_emails: has 10001 items; the limit is 10000"}},
		{"bad static email", with(base, "static_emails", []string{"jane", "a@b"}), []string{"static_emails[0]", "RFC 5322", "static_emails[1]", "no domain"}},
		{"include unknown", with(base, "include_segments", []string{"seg_01nope"}), []string{"include_segments[0]", "no segment seg_01nope in campaign " + cmp}},
		{"include of another campaign", with(base, "include_segments", []string{otherSeg}), []string{"include_segments[0]", "no segment " + otherSeg + " in campaign " + cmp}},
		{"include an email", with(base, "include_segments", []string{eml}), []string{"include_segments[0]", "is not a segment id"}},
		{"include twice", with(base, "include_segments", []string{seg, seg}), []string{"include_segments[1]", "listed twice"}},
		{"exclude unknown", with(base, "exclude_segments", []string{"seg_01nope"}), []string{"exclude_segments[0]", "no segment seg_01nope"}},
		{"self include", with(base, "segment_id", seg, "include_segments", []string{seg}), []string{"include_segments[0]", "cannot include itself", "remove it"}},
		{"self exclude", with(base, "segment_id", seg, "exclude_segments", []string{seg}), []string{"exclude_segments[0]", "cannot exclude itself"}},
		{"unknown segment id", with(base, "segment_id", "seg_01nope"), []string{"no segment seg_01nope", "get_campaign " + cmp}},
		{"segment id of the wrong kind", with(base, "segment_id", eml), []string{"segment_id", eml + " is a", "not a segment", "leave it empty"}},
		{"segment of another campaign", with(base, "segment_id", otherSeg), []string{"segment_id", "belongs to campaign " + other}},
		{"unknown campaign", with(base, "campaign_id", "cmp_01nope"), []string{"no campaign cmp_01nope", "list_campaigns shows the campaigns"}},
		{"unknown target", with(base, "target", "hubspot"), []string{"target", `no target named "hubspot"`}},
	})
}

// TestSegmentCycles: include/exclude chains that lead back are refused,
// naming the loop.
func TestSegmentCycles(t *testing.T) {
	h := newHarness(t)
	cmp := h.newCampaign(t, "Cycles")
	a := str(t, h.stage(t, "build_segment", with(segmentArgs(cmp), "name", "A")), "id")
	b := str(t, h.stage(t, "build_segment", obj{"campaign_id": cmp, "name": "B", "include_segments": []string{a}}), "id")
	c := str(t, h.stage(t, "build_segment", obj{"campaign_id": cmp, "name": "C", "include_segments": []string{b}}), "id")

	// A → C → B → A
	res := h.call(t, "build_segment", with(segmentArgs(cmp), "name", "A", "segment_id", a, "include_segments", []string{c}))
	mustToolError(t, res, "include_segments", "loop", a, b, c, "break the loop")
	// Through an exclude as well.
	res = h.call(t, "build_segment", with(segmentArgs(cmp), "name", "A", "segment_id", a, "exclude_segments", []string{b}))
	mustToolError(t, res, "loop", a+" → "+b+" → "+a)
	// A refused update leaves the segment as it was.
	v, err := h.sb.GetArtifact(context.Background(), a, 0)
	if err != nil || v.Revision.Number != 1 || len(v.Revision.Segment.IncludeSegments) != 0 {
		t.Errorf("refused update changed %s: %+v %v", a, v, err)
	}
	// No loop: C may include A directly too.
	h.stage(t, "build_segment", obj{"campaign_id": cmp, "name": "C", "segment_id": c, "include_segments": []string{b, a}})
}

func TestConfigureWorkflowValidation(t *testing.T) {
	h := newHarness(t)
	cmp := h.newCampaign(t, "Workflow rules")
	other := h.newCampaign(t, "Other")
	seg := str(t, h.stage(t, "build_segment", segmentArgs(cmp)), "id")
	otherSeg := str(t, h.stage(t, "build_segment", segmentArgs(other)), "id")
	eml := str(t, h.stage(t, "create_email", blocksEmailArgs(cmp)), "id")
	otherEml := str(t, h.stage(t, "create_email", blocksEmailArgs(other)), "id")
	formPage := str(t, h.stage(t, "publish_page", pageArgs(cmp, "with-form")), "id")
	plainPage := str(t, h.stage(t, "publish_page", with(pageArgs(cmp, "no-form"), "form", nil)), "id")
	wf := str(t, h.stage(t, "configure_workflow", workflowArgs(cmp, seg, eml)), "id")
	base := workflowArgs(cmp, seg, eml)
	steps := func(s ...obj) obj { return with(base, "steps", s) }
	send := func(id, next string) obj {
		s := obj{"id": id, "type": "send_email", "email_id": eml}
		if next != "" {
			s["next"] = next
		}
		return s
	}
	wait := func(id, d, next string) obj {
		s := obj{"id": id, "type": "wait", "duration": d}
		if next != "" {
			s["next"] = next
		}
		return s
	}
	exit := obj{"id": "end", "type": "exit"}
	many := make([]obj, 101)
	for i := range many {
		many[i] = send(fmt.Sprintf("s%d", i), "")
	}

	runRows(t, h, "configure_workflow", []row{
		{"missing trigger and steps", obj{"campaign_id": cmp, "name": "W"}, []string{"trigger: is required", "steps: is required"}},
		{"no steps", with(base, "steps", []obj{}), []string{"steps: needs at least 1 items"}},
		{"too many steps", with(base, "steps", many), []string{"steps: has 101 items; the limit is 100"}},
		{"unknown step field", steps(with(send("a", ""), "delay", "2d")), []string{"steps[0].delay: is not a field here", "duration"}},
		{"unknown trigger field", with(base, "trigger", obj{"type": "manual", "cron": "* * *"}), []string{"trigger.cron: is not a field here", "segment_id"}},
		{"wrong type activate", with(base, "activate", "yes"), []string{"activate: must be boolean, not string"}},
		{"wrong type steps", with(base, "steps", obj{"id": "a"}), []string{"steps: must be array, not object"}},
		{"bad trigger type", with(base, "trigger", obj{"type": "cron"}), []string{"trigger.type", `"cron" is not a trigger type`, "segment_entry, form_submission"}},
		{"segment_entry without segment", with(base, "trigger", obj{"type": "segment_entry"}), []string{"trigger.segment_id: is required for a segment_entry trigger"}},
		{"form_submission without page", with(base, "trigger", obj{"type": "form_submission"}), []string{"trigger.page_id: is required for a form_submission trigger"}},
		{"date_property without property", with(base, "trigger", obj{"type": "date_property"}), []string{"trigger.property: is required", "renewal_date"}},
		{"form trigger on a page without a form", with(base, "trigger", obj{"type": "form_submission", "page_id": plainPage}),
			[]string{"trigger.page_id", "page " + plainPage + " has no form", "add a form with publish_page"}},
		{"trigger segment of another campaign", with(base, "trigger", obj{"type": "segment_entry", "segment_id": otherSeg}),
			[]string{"trigger.segment_id", "no segment " + otherSeg + " in campaign " + cmp}},
		{"trigger page is an email", with(base, "trigger", obj{"type": "form_submission", "page_id": eml}), []string{"trigger.page_id", "is not a page id"}},
		{"dangling next", steps(send("a", "zz")), []string{"steps[0].next", `points to step "zz", which does not exist`, "use the id of a step"}},
		{"dangling then", steps(obj{"id": "b", "type": "branch", "condition": obj{"segment_id": seg}, "then": "nowhere"}),
			[]string{"steps[0].then", `"nowhere"`, "does not exist"}},
		{"unreachable step", steps(send("a", ""), exit), []string{"steps[1]", `step "end" cannot be reached from the first step "a"`, "point a next, then or else at it"}},
		{"loop without a wait", steps(send("a", "b"), obj{"id": "b", "type": "set_property", "property": "x", "value": 1, "next": "a"}),
			[]string{"steps", "loop without a wait: a → b → a", "put a wait step in the loop"}},
		{"loop through a branch without a wait", steps(
			obj{"id": "check", "type": "branch", "condition": obj{"property": "x", "operator": "exists"}, "then": "mail", "else": "end"},
			send("mail", "check"), exit), []string{"loop without a wait", "check → mail → check"}},
		{"step leads to itself", steps(send("a", "a")), []string{"steps[0].next", "cannot lead to itself"}},
		{"branch without condition", steps(obj{"id": "b", "type": "branch", "then": "end"}, exit), []string{"steps[0].condition", "is required for branch", "segment_id"}},
		{"branch with both tests", steps(obj{"id": "b", "type": "branch", "condition": obj{"segment_id": seg, "property": "x", "operator": "exists"}, "then": "end"}, exit),
			[]string{"steps[0].condition", "tests more than one of a segment, a property and engagement", "give one of them"}},
		{"branch with a bad operator", steps(obj{"id": "b", "type": "branch", "condition": obj{"property": "x", "operator": "like", "value": "y"}, "then": "end"}, exit),
			[]string{"steps[0].condition.operator", `"like" is not an operator`}},
		{"branch with a bad value", steps(obj{"id": "b", "type": "branch", "condition": obj{"property": "x", "operator": "gt", "value": "y"}, "then": "end"}, exit),
			[]string{"steps[0].condition.value", "gt compares numbers"}},
		{"branch going nowhere", steps(obj{"id": "b", "type": "branch", "condition": obj{"segment_id": seg}}), []string{"steps[0].then", "a branch needs somewhere to go"}},
		{"branch with next", steps(obj{"id": "b", "type": "branch", "condition": obj{"segment_id": seg}, "then": "end", "next": "end"}, exit),
			[]string{"steps[0].next", "not next", "move it to then or else"}},
		{"branch segment unknown", steps(obj{"id": "b", "type": "branch", "condition": obj{"segment_id": "seg_01nope"}, "then": "end"}, exit),
			[]string{"steps[0].condition.segment_id", "no segment seg_01nope"}},
		{"engagement without its email", steps(obj{"id": "b", "type": "branch", "condition": obj{"engagement": "opened"}, "then": "end"}, exit),
			[]string{"steps[0].condition.email_id: is required to branch on opened"}},
		{"engagement of an unknown kind", steps(obj{"id": "b", "type": "branch", "condition": obj{"engagement": "forwarded", "email_id": eml}, "then": "end"}, exit),
			[]string{"steps[0].condition.engagement", `"forwarded" is not an engagement`, "opened, clicked, submitted"}},
		{"engagement with an operator", steps(obj{"id": "b", "type": "branch", "condition": obj{"engagement": "clicked", "email_id": eml, "operator": "gt", "value": 2}, "then": "end"}, exit),
			[]string{"steps[0].condition", "engagement takes no operator or value"}},
		{"submitted on a page without a form", steps(obj{"id": "b", "type": "branch", "condition": obj{"engagement": "submitted", "page_id": plainPage}, "then": "end"}, exit),
			[]string{"steps[0].condition.page_id", "page " + plainPage + " has no form", "branch on something else"}},
		{"opened an email of another campaign", steps(obj{"id": "b", "type": "branch", "condition": obj{"engagement": "opened", "email_id": otherEml}, "then": "end"}, exit),
			[]string{"steps[0].condition.email_id", "no email " + otherEml + " in campaign " + cmp}},
		{"wrong type reenrol", with(base, "reenrol", "yes"), []string{"reenrol: must be boolean, not string"}},
		{"wait not a duration", steps(wait("w", "2x", "")), []string{"steps[0].duration", `"2x" is not a duration`, `"1d12h"`}},
		{"wait of zero", steps(wait("w", "0m", "")), []string{"steps[0].duration", "outside 1 minute to 365 days"}},
		{"wait without duration", steps(wait("w", "", "")), []string{"steps[0].duration: is required for wait", `"2d"`}},
		{"wait over a year", steps(wait("w", "53w", "")), []string{"steps[0].duration", "53w is outside 1 minute to 365 days", "pick a wait in that range"}},
		{"wait that overflows", steps(wait("w", "30500w7175m", "")), []string{"steps[0].duration", `"30500w7175m"`}},
		{"wait with decimals", steps(wait("w", "1.5d", "")), []string{"steps[0].duration", "is not a duration"}},
		{"send without email", steps(obj{"id": "a", "type": "send_email"}), []string{"steps[0].email_id: is required for send_email", "create_email"}},
		{"send a segment", steps(obj{"id": "a", "type": "send_email", "email_id": seg}), []string{"steps[0].email_id", "email id", "eml_"}},
		{"send an unknown email", steps(obj{"id": "a", "type": "send_email", "email_id": "eml_01nope"}), []string{"steps[0].email_id", "no email eml_01nope in campaign " + cmp}},
		{"send an email of another campaign", steps(obj{"id": "a", "type": "send_email", "email_id": otherEml}), []string{"steps[0].email_id", "no email " + otherEml + " in campaign " + cmp}},
		{"add_to_segment without segment", steps(obj{"id": "a", "type": "add_to_segment"}), []string{"steps[0].segment_id: is required for add_to_segment"}},
		{"remove_from_segment unknown", steps(obj{"id": "a", "type": "remove_from_segment", "segment_id": "seg_01nope"}), []string{"steps[0].segment_id", "no segment seg_01nope"}},
		{"set_property without value", steps(obj{"id": "a", "type": "set_property", "property": "tier"}), []string{"steps[0].value", "is required for set_property"}},
		{"set_property bad name", steps(obj{"id": "a", "type": "set_property", "property": "my tier", "value": "x"}), []string{"steps[0].property", `"my tier" is not a property name`}},
		{"exit with next", steps(send("a", "end"), with(exit, "next", "a")), []string{"steps[1].next", "exit ends the path", "remove next"}},
		{"duplicate step ids", steps(send("a", ""), send("a", "")), []string{"steps[1].id", `"a" is also the id of steps[0]`, "its own id"}},
		{"bad step id", steps(send("first step", "")), []string{"steps[0].id", `"first step" is not a step id`, "wait_2d"}},
		{"bad step type", steps(obj{"id": "a", "type": "sms"}), []string{"steps[0].type", `"sms" is not a step type`, "send_email, wait"}},
		{"unknown workflow id", with(base, "workflow_id", "wf_01nope"), []string{"no workflow wf_01nope", "get_campaign " + cmp}},
		{"workflow id of the wrong kind", with(base, "workflow_id", seg), []string{"workflow_id", "is a segment", "not a workflow"}},
		{"workflow of another campaign", with(base, "campaign_id", other, "workflow_id", wf), []string{"workflow_id", "belongs to campaign " + cmp}},
		{"unknown campaign", with(base, "campaign_id", "cmp_01nope"), []string{"no campaign cmp_01nope", "list_campaigns shows the campaigns"}},
	})

	// What the rules accept.
	for _, tc := range []struct {
		name string
		args obj
	}{
		{"loop with a wait", steps(send("a", "w"), wait("w", "1d12h", "a"))},
		{"branch loop through a wait", steps(
			obj{"id": "check", "type": "branch", "condition": obj{"segment_id": seg}, "then": "mail", "else": "end"},
			send("mail", "pause"), wait("pause", "1w", "check"), exit)},
		{"every step type", steps(
			send("a", "w"), wait("w", "90m", "b"),
			obj{"id": "b", "type": "branch", "condition": obj{"property": "plan", "operator": "in", "value": []string{"pro"}}, "then": "add", "else": "rm"},
			obj{"id": "add", "type": "add_to_segment", "segment_id": seg, "next": "set"},
			obj{"id": "rm", "type": "remove_from_segment", "segment_id": seg, "next": "end"},
			obj{"id": "set", "type": "set_property", "property": "tier", "value": 2},
			exit)},
		{"form trigger on a page with a form", with(base, "trigger", obj{"type": "form_submission", "page_id": formPage})},
		{"longest wait", steps(wait("w", "365d", ""))},
	} {
		t.Run("accepts "+tc.name, func(t *testing.T) {
			mustOK(t, h.call(t, "configure_workflow", with(tc.args, "name", tc.name)))
		})
	}
}

func TestPublishPageValidation(t *testing.T) {
	h := newHarness(t)
	cmp := h.newCampaign(t, "Page rules")
	other := h.newCampaign(t, "Other")
	taken := str(t, h.stage(t, "publish_page", pageArgs(other, "taken")), "id")
	eml := str(t, h.stage(t, "create_email", blocksEmailArgs(cmp)), "id")
	base := pageArgs(cmp, "spring")
	htmlOnly := with(base, "blocks", nil, "html", "<p>Hi</p>")
	past := epoch.Add(-time.Minute).Format(time.RFC3339)

	runRows(t, h, "publish_page", []row{
		{"missing title and slug", with(base, "title", nil, "slug", nil), []string{"title: is required", "slug: is required"}},
		{"unknown field", with(base, "path", "/x"), []string{"path: is not a field here", "slug"}},
		{"unknown form field", with(base, "form", obj{"fields": []obj{{"name": "email", "label": "Email"}}, "action": "/post"}), []string{"form.action: is not a field here", "fields"}},
		{"wrong type form", with(base, "form", []string{"email"}), []string{"form: must be object, not array"}},
		{"wrong type slug", with(base, "slug", 12), []string{"slug: must be string, not number"}},
		{"slug not URL-safe", with(base, "slug", "Spring Launch!"), []string{"slug", `"Spring Launch!" is not URL-safe`, `"spring-launch"`}},
		{"slug with double hyphen", with(base, "slug", "spring--launch"), []string{"slug", "is not URL-safe", "single hyphens"}},
		{"slug too long", with(base, "slug", strings.Repeat("a", 101)), []string{"slug: is 101 characters long; the limit is 100"}},
		{"blank slug", with(base, "slug", " "), []string{"slug: is required", `"spring-launch"`}},
		{"slug used by another campaign's page", with(base, "slug", "taken"), []string{"slug", `"taken" is already used on target local by page ` + taken, "pick another slug"}},
		{"html and blocks", with(base, "html", "<p>Hi</p>"), []string{"blocks", "both html and blocks", "exactly one"}},
		{"neither html nor blocks", with(base, "blocks", nil), []string{"html", "content is missing", "give either html"}},
		{"html over 1 MB", with(htmlOnly, "html", big), []string{"html", "the limit is 1048576 bytes (1 MB)"}},
		{"publish_at in the past", with(base, "publish_at", past), []string{"publish_at", "is not in the future", "pick a later time"}},
		{"publish_at not RFC 3339", with(base, "publish_at", "next monday"), []string{"publish_at", "not an RFC 3339 time"}},
		{"form without fields", with(base, "form", obj{"fields": []obj{}}), []string{"form.fields", "no fields", "add at least one field"}},
		{"form field bad name", with(base, "form", obj{"fields": []obj{{"name": "E-mail", "label": "Email"}}}), []string{"form.fields[0].name", `"E-mail" is not allowed`, "first_name"}},
		{"form field bad type", with(base, "form", obj{"fields": []obj{{"name": "email", "label": "Email", "type": "date"}}}), []string{"form.fields[0].type", "is not allowed", "checkbox"}},
		{"form field without label", with(base, "form", obj{"fields": []obj{{"name": "email", "label": ""}}}), []string{"form.fields[0].label", "no label"}},
		{"meta_description too long", with(base, "meta_description", strings.Repeat("m", 301)), []string{"meta_description: is 301 characters long; the limit is 300"}},
		{"unknown page id", with(base, "page_id", "pg_01nope"), []string{"no page pg_01nope", "get_campaign " + cmp, "leave the id empty"}},
		{"page id of the wrong kind", with(base, "page_id", eml), []string{"page_id", eml + " is a", "not a page"}},
		{"page of another campaign", with(base, "page_id", taken), []string{"page_id", "belongs to campaign " + other}},
		{"unknown campaign", with(base, "campaign_id", "cmp_01nope"), []string{"no campaign cmp_01nope", "list_campaigns shows the campaigns"}},
		{"unknown target", with(base, "target", "wordpress"), []string{"target", `no target named "wordpress"`}},
	})
}

// TestSlugs: a slug is unique per target across campaigns, and free again
// once the page holding it moves to another slug.
func TestSlugs(t *testing.T) {
	h := newHarness(t)
	a := h.newCampaign(t, "A")
	b := h.newCampaign(t, "B")
	pa := str(t, h.stage(t, "publish_page", pageArgs(a, "launch")), "id")

	mustToolError(t, h.call(t, "publish_page", pageArgs(b, "launch")), "slug", `"launch" is already used on target local by page `+pa)
	mustToolError(t, h.call(t, "publish_page", pageArgs(a, "launch")), "slug", "already used", "update that page with its page_id")
	// The owner may keep its slug across revisions.
	h.stage(t, "publish_page", with(pageArgs(a, "launch"), "page_id", pa, "title", "Launch v2"))
	// Moving the owner frees the slug; its new one is now taken.
	h.stage(t, "publish_page", with(pageArgs(a, "launch-old"), "page_id", pa))
	pb := str(t, h.stage(t, "publish_page", pageArgs(b, "launch")), "id")
	mustToolError(t, h.call(t, "publish_page", pageArgs(b, "launch-old")), "already used on target local by page "+pa)
	// And the old owner cannot take it back.
	mustToolError(t, h.call(t, "publish_page", with(pageArgs(a, "launch"), "page_id", pa)), "already used on target local by page "+pb)
	// Nested paths are URL-safe.
	h.stage(t, "publish_page", pageArgs(b, "events/spring-2027"))
}

// TestErrorsAreToolErrors: every kind of mistake comes back as a tool result
// with isError, under every protocol era, and never as a JSON-RPC error.
func TestErrorsAreToolErrors(t *testing.T) {
	for _, p := range protocols {
		t.Run(protoName(p), func(t *testing.T) {
			h := newHarness(t, withProtocol(p))
			for _, tool := range toolNames(t, h) {
				for _, args := range []any{nil, obj{}, obj{"zzz": 1}, []any{1}, "text", 3, obj{"campaign_id": "cmp_01nope", "name": "x"}} {
					res, err := h.callRaw(tool, args)
					if err != nil {
						t.Errorf("%s(%v): protocol error %v", tool, args, err)
						continue
					}
					if (tool == "list_campaigns" || tool == "get_insights" || tool == "get_report" || tool == "list_targets") && (args == nil || fmt.Sprint(args) == "map[]") {
						mustOK(t, res)
						continue
					}
					if !res.IsError {
						t.Errorf("%s(%v): want a tool error, got %s", tool, args, text(res))
					}
				}
			}
		})
	}
}

func toolNames(t testing.TB, h *harness) []string {
	t.Helper()
	res, err := h.c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
	}
	slices.Sort(names)
	return names
}

// ---- persistence ----

// snapshotCampaign is what get_campaign shows, minus nothing: ids, kinds,
// names, revisions, targets and statuses.
func snapshotCampaign(t *testing.T, h *harness, cmp string) string {
	t.Helper()
	got := mustOK(t, h.call(t, "get_campaign", obj{"campaign_id": cmp}))
	var b strings.Builder
	c := got["campaign"].(obj)
	fmt.Fprintf(&b, "%v %v %v %v %v\n", c["id"], c["name"], c["markets"], c["utm"], c["created_at"])
	for _, a := range got["artifacts"].([]any) {
		a := a.(obj)
		fmt.Fprintf(&b, "%v %v %v r%v %v %v %v\n", a["id"], a["kind"], a["name"], a["revision"], a["status"], a["target"], a["updated_at"])
	}
	return b.String()
}

func readResource(t *testing.T, h *harness, uri string) string {
	t.Helper()
	res, err := h.c.ReadResource(context.Background(), mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: uri}})
	if err != nil {
		t.Fatalf("read %s: %v", uri, err)
	}
	var parts []string
	for _, c := range res.Contents {
		if tc, ok := mcp.AsTextResourceContents(c); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// TestPersistence restarts the server on the same data directory: every
// campaign, artifact and revision staged before is there after.
func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, withDir(dir), withProtocol(proto1125))
	cmp := str(t, mustOK(t, h.call(t, "create_campaign", obj{"name": "Durable", "markets": []string{"DE"},
		"utm": obj{"source": "newsletter"}})), "id")
	other := h.newCampaign(t, "Second")
	seg := str(t, h.stage(t, "build_segment", segmentArgs(cmp)), "id")
	em := blocksEmailArgs(cmp)
	eml := str(t, h.stage(t, "create_email", em), "id")
	h.stage(t, "create_email", with(em, "email_id", eml, "subject", "Revision two"))
	pg := str(t, h.stage(t, "publish_page", pageArgs(cmp, "durable")), "id")
	wf := str(t, h.stage(t, "configure_workflow", with(workflowArgs(cmp, seg, eml), "trigger", obj{"type": "form_submission", "page_id": pg})), "id")
	before := snapshotCampaign(t, h, cmp)
	h.Close()

	h = newHarness(t, withDir(dir))
	if after := snapshotCampaign(t, h, cmp); after != before {
		t.Errorf("after restart get_campaign shows\n%s\nbefore it showed\n%s", after, before)
	}
	list := mustOK(t, h.call(t, "list_campaigns", obj{}))
	if n := len(list["campaigns"].([]any)); n != 2 {
		t.Errorf("list_campaigns after restart: %d campaigns, want 2", n)
	}
	// Content, and every revision, survived.
	if body := readResource(t, h, "lastmile://artifacts/"+eml); !strings.Contains(body, "Revision two") {
		t.Errorf("email content after restart: %s", body)
	}
	for _, id := range []string{seg, eml, pg, wf} {
		if _, err := h.sb.GetArtifact(context.Background(), id, 1); err != nil {
			t.Errorf("revision 1 of %s after restart: %v", id, err)
		}
	}
	// Staging continues where it left off: revision 3, identical content unchanged.
	out := h.stage(t, "create_email", with(em, "email_id", eml, "subject", "Revision two"))
	if out["unchanged"] != true || num(t, out, "revision") != 2 {
		t.Errorf("identical content after restart: %v", out)
	}
	out = h.stage(t, "create_email", with(em, "email_id", eml, "subject", "Revision three"))
	if num(t, out, "revision") != 3 {
		t.Errorf("update after restart: %v", out)
	}
	// The slug index survived too.
	mustToolError(t, h.call(t, "publish_page", pageArgs(other, "durable")), "already used on target local by page "+pg)
	// References into the restored campaign still resolve.
	h.stage(t, "create_email", with(em, "audience", obj{"include": []string{seg}}))
}

// TestTwoServersShareADataDirectory: two agent sessions on one data
// directory, writing at once, lose nothing and see each other's writes.
func TestTwoServersShareADataDirectory(t *testing.T) {
	dir := t.TempDir()
	a := newHarness(t, withDir(dir))
	b := newHarness(t, withDir(dir), withProtocol(proto1125))
	cmp := a.newCampaign(t, "Shared")
	const each = 8
	done := make(chan error, 2)
	for _, h := range []*harness{a, b} {
		go func() {
			for i := range each {
				res, err := h.callRaw("build_segment", with(segmentArgs(cmp), "name", fmt.Sprintf("%p-%d", h, i)))
				if err == nil && res.IsError {
					err = fmt.Errorf("%s", text(res))
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range []*harness{a, b} {
		got := mustOK(t, h.call(t, "get_campaign", obj{"campaign_id": cmp}))
		if n := len(got["artifacts"].([]any)); n != 2*each {
			t.Errorf("a server sees %d segments, want %d", n, 2*each)
		}
	}
}

func manyAddresses(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("u%d@example.com", i)
	}
	return out
}

// ---- resources and prompt ----

func TestResources(t *testing.T) {
	for _, p := range []string{protoDefault, proto1125} {
		t.Run(protoName(p), func(t *testing.T) {
			h := newHarness(t, withProtocol(p))
			cmp := h.newCampaign(t, "Resources")
			em := blocksEmailArgs(cmp)
			id := str(t, h.stage(t, "create_email", em), "id")
			h.stage(t, "create_email", with(em, "email_id", id, "subject", "Second subject"))

			if body := readResource(t, h, "lastmile://policy"); !strings.Contains(body, "#") {
				t.Errorf("policy resource: %q", body)
			}
			if body := readResource(t, h, "lastmile://campaigns/"+cmp); !strings.Contains(body, id) {
				t.Errorf("campaign resource lacks %s: %s", id, body)
			}
			if body := readResource(t, h, "lastmile://artifacts/"+id); !strings.Contains(body, "Second subject") {
				t.Errorf("artifact resource is not the current revision: %s", body)
			}
			// The template's description offers ?revision=N for older revisions.
			uri := "lastmile://artifacts/" + id + "?revision=1"
			res, err := h.c.ReadResource(context.Background(), mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: uri}})
			if err != nil {
				t.Errorf("%s: %v", uri, err)
			} else if tc, _ := mcp.AsTextResourceContents(res.Contents[0]); !strings.Contains(tc.Text, "Meet the new Acme") || strings.Contains(tc.Text, "Second subject") {
				t.Errorf("?revision=1 is not revision 1: %s", tc.Text)
			}

			pr, err := h.c.GetPrompt(context.Background(), mcp.GetPromptRequest{Params: mcp.GetPromptParams{Name: "build_campaign", Arguments: map[string]string{"brief": "Spring launch for US customers"}}})
			if err != nil || len(pr.Messages) == 0 {
				t.Fatalf("build_campaign prompt: %v %+v", err, pr)
			}
			if tc, ok := mcp.AsTextContent(pr.Messages[0].Content); !ok || !strings.Contains(tc.Text, "Spring launch for US customers") || !strings.Contains(tc.Text, "approval") {
				t.Errorf("prompt text: %+v", pr.Messages[0].Content)
			}
		})
	}
}

// ---- paging and limits ----

func TestListCampaignsPages(t *testing.T) {
	h := newHarness(t)
	var want []string
	for i := range 5 {
		want = append([]string{h.newCampaign(t, fmt.Sprintf("C%d", i))}, want...) // newest first
	}
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		args := obj{"limit": 2}
		if cursor != "" {
			args["cursor"] = cursor
		}
		out := mustOK(t, h.call(t, "list_campaigns", args))
		cs := out["campaigns"].([]any)
		if len(cs) > 2 {
			t.Fatalf("page of %d with limit 2", len(cs))
		}
		for _, c := range cs {
			got = append(got, c.(obj)["id"].(string))
		}
		next, _ := out["next_cursor"].(string)
		if next == "" {
			break
		}
		if page > 5 {
			t.Fatal("pages never end")
		}
		cursor = next
	}
	if !slices.Equal(got, want) {
		t.Errorf("paging gave\n%v\nwant newest first\n%v", got, want)
	}
	all := mustOK(t, h.call(t, "list_campaigns", obj{"limit": 100}))
	if n := len(all["campaigns"].([]any)); n != 5 || all["next_cursor"] != nil {
		t.Errorf("one page of 100: %d campaigns, next_cursor %v", n, all["next_cursor"])
	}
}

func TestArtifactsPerCampaignLimit(t *testing.T) {
	h := newHarness(t, withMemoryStore())
	cmp := h.newCampaign(t, "Full")
	em := blocksEmailArgs(cmp)
	first := str(t, h.stage(t, "create_email", em), "id")
	for i := 1; i < 500; i++ {
		h.stage(t, "create_email", with(em, "name", fmt.Sprintf("E%d", i)))
	}
	mustToolError(t, h.call(t, "build_segment", segmentArgs(cmp)), "campaign_id", "already has 500 artifacts", "split the work into several campaigns")
	// New revisions of what is there are still fine.
	out := h.stage(t, "create_email", with(em, "email_id", first, "subject", "Revised"))
	if num(t, out, "revision") != 2 {
		t.Errorf("revision of an artifact in a full campaign: %v", out)
	}
}

// TestSendTimesCompareAsInstants: the same instant written in another zone
// is the same content.
func TestSendTimesCompareAsInstants(t *testing.T) {
	h := newHarness(t)
	cmp := h.newCampaign(t, "Zones")
	seg := str(t, h.stage(t, "build_segment", segmentArgs(cmp)), "id")
	at := epoch.Add(30 * 24 * time.Hour)
	em := with(blocksEmailArgs(cmp), "audience", obj{"include": []string{seg}}, "send_at", at.Format(time.RFC3339))
	id := str(t, h.stage(t, "create_email", em), "id")
	paris := at.In(time.FixedZone("CET", 3600)).Format(time.RFC3339)
	out := h.stage(t, "create_email", with(em, "email_id", id, "send_at", paris))
	if out["unchanged"] != true {
		t.Errorf("%s and %s are one instant, but a new revision was staged: %v", at.Format(time.RFC3339), paris, out)
	}
}

// TestEveryBlockType stages an email and a page using every block type, an
// explicit target and a hand-written text part.
func TestEveryBlockType(t *testing.T) {
	h := newHarness(t)
	cmp := h.newCampaign(t, "Blocks")
	blocks := []obj{
		{"type": "heading", "text": "Hello {{ contact.firstname | default: \"there\" }}", "level": 2, "align": "center"},
		{"type": "paragraph", "text": "**Bold**, *italic* and [a link](https://acme.com/a).\nNew line."},
		{"type": "button", "text": "Book a demo", "url": "https://acme.com/demo", "align": "left"},
		{"type": "image", "src": "https://acme.com/hero.png", "alt": "Hero", "width": 600, "url": "https://acme.com"},
		{"type": "divider"},
		{"type": "spacer", "height": 32},
		{"type": "html", "text": "<p>Raw <b>HTML</b></p>"},
		{"type": "columns", "columns": [][]obj{
			{{"type": "heading", "text": "Left", "level": 3}, {"type": "paragraph", "text": "One"}},
			{{"type": "image", "src": "https://acme.com/r.png", "alt": "Right", "width": 200}},
		}},
	}
	out := h.stage(t, "create_email", with(blocksEmailArgs(cmp), "blocks", blocks, "target", "local", "text", "Plain text, by hand."))
	checkStaged(t, out, "email", "eml_", cmp, 1)
	body := readResource(t, h, "lastmile://artifacts/"+str(t, out, "id"))
	for _, want := range []string{"Plain text, by hand.", "https://acme.com/demo", "Hero", `{{ contact.firstname | default: \"there\" }}`} {
		if !strings.Contains(body, want) {
			t.Errorf("staged email lacks %q", want)
		}
	}
	out = h.stage(t, "publish_page", with(pageArgs(cmp, "blocks"), "blocks", blocks, "target", "local"))
	checkStaged(t, out, "page", "pg_", cmp, 1)
}

// The plan preview an MCP client shows is the finished campaign, inert:
// the email's HTML only as a sandboxed frame's escaped srcdoc, no script of
// its own, and never the plan code (the agent reads it).
func TestPlanPreviewResource(t *testing.T) {
	h := newHarness(t)
	cmp := h.newCampaign(t, "Preview")
	seg := str(t, h.stage(t, "build_segment", segmentArgs(cmp)), "id")
	h.stage(t, "create_email", with(emailArgs(cmp), "audience", obj{"include": []string{seg}},
		"html", `<html><body><h1>Hello {{ contact.firstname | default: "there" }}</h1><script>alert(1)</script><img src=x onerror=alert(2)><p>Acme, 500 Market Street, San Francisco. <a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>`))
	plan := mustOK(t, h.call(t, "plan_promotion", obj{"campaign_id": cmp}))
	id := str(t, plan, "id")
	doc := readResource(t, h, "lastmile://plans/"+id+"/preview")
	if !strings.Contains(doc, "<iframe") || !strings.Contains(doc, "sandbox") || !strings.Contains(doc, "srcdoc=") {
		t.Fatalf("no sandboxed frame in the preview:\n%.600s", doc)
	}
	z := html.NewTokenizer(strings.NewReader(doc))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if tok.Data == "script" {
			t.Fatal("the preview document has a script element")
		}
		for _, a := range tok.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Fatalf("<%s %s=%q> in the preview document", tok.Data, a.Key, a.Val)
			}
		}
	}
	if !strings.Contains(doc, "&lt;script&gt;") {
		t.Fatal("the email's HTML is not in the frame")
	}
	code, err := h.sb.PlanCode(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(doc, code) {
		t.Fatalf("the preview shows the plan code %s", code)
	}
}
