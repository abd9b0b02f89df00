package hubspot

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/liquid/liquidtest"
	"github.com/lastmile/lastmile/sandbox"
)

// shape renders a filterBranch compactly: branches separated by " | ",
// filters in a branch by " & ".
func shape(fb map[string]any) string {
	var bs []string
	for _, b := range fb["filterBranches"].([]any) {
		var fs []string
		for _, f := range b.(map[string]any)["filters"].([]any) {
			fm := f.(map[string]any)
			switch fm["filterType"] {
			case "IN_LIST":
				fs = append(fs, fmt.Sprintf("%s(%s)", fm["operator"], fm["listId"]))
			default:
				op := fm["operation"].(map[string]any)
				v := op["value"]
				if v == nil {
					v = op["values"]
				}
				if v == nil {
					v = op["timestamp"]
				}
				if v == nil {
					fs = append(fs, fmt.Sprintf("%s %s:%s", fm["property"], op["operationType"], op["operator"]))
				} else {
					fs = append(fs, fmt.Sprintf("%s %s:%s %v", fm["property"], op["operationType"], op["operator"], v))
				}
			}
		}
		bs = append(bs, strings.Join(fs, " & "))
	}
	return strings.Join(bs, " | ")
}

func TestPlanList(t *testing.T) {
	tgt := &Target{cfg: Config{PropertyTypes: map[string]string{"plan": "enumeration", "score": "number"}}}
	refs := map[string]string{"seg_a": "11", "seg_b": "12"}
	tests := []struct {
		name    string
		seg     sandbox.Segment
		want    string // shape, or MANUAL:<members>
		problem string
	}{
		{"one condition", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("country", "eq", "DE")}}},
			"country MULTISTRING:IS_EQUAL_TO [DE]", ""},
		{"all of two", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("country", "eq", "DE"), cond("score", "gte", 50.0)}}},
			"country MULTISTRING:IS_EQUAL_TO [DE] & score NUMBER:IS_GREATER_THAN_OR_EQUAL_TO 50", ""},
		{"any of two", sandbox.Segment{Group: sandbox.Group{Match: "any", Conditions: []sandbox.Condition{cond("country", "eq", "DE"), cond("plan", "in", []any{"pro", "max"})}}},
			"country MULTISTRING:IS_EQUAL_TO [DE] | plan ENUMERATION:IS_ANY_OF [pro max]", ""},
		{"all with nested any distributes", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("country", "eq", "DE")},
			Groups: []sandbox.Group{{Match: "any", Conditions: []sandbox.Condition{cond("city", "eq", "Berlin"), cond("city", "eq", "Bonn")}}}}},
			"country MULTISTRING:IS_EQUAL_TO [DE] & city MULTISTRING:IS_EQUAL_TO [Berlin] | country MULTISTRING:IS_EQUAL_TO [DE] & city MULTISTRING:IS_EQUAL_TO [Bonn]", ""},
		{"any with nested all", sandbox.Segment{Group: sandbox.Group{Match: "any", Conditions: []sandbox.Condition{cond("vip", "eq", true)},
			Groups: []sandbox.Group{{Conditions: []sandbox.Condition{cond("score", "gt", 90.0), cond("email", "ends_with", "@acme.test")}}}}},
			"vip BOOL:IS_EQUAL_TO true | score NUMBER:IS_GREATER_THAN 90 & email MULTISTRING:ENDS_WITH [@acme.test]", ""},
		{"number in expands, not_in stays together", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("score", "in", []any{1.0, 2.0}), cond("score", "not_in", []any{3.0, 4.0})}}},
			"score NUMBER:IS_EQUAL_TO 1 & score NUMBER:IS_NOT_EQUAL_TO 3 & score NUMBER:IS_NOT_EQUAL_TO 4 | score NUMBER:IS_EQUAL_TO 2 & score NUMBER:IS_NOT_EQUAL_TO 3 & score NUMBER:IS_NOT_EQUAL_TO 4", ""},
		{"known and unknown", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("phone", "exists", nil), cond("company", "is_not_set", nil)}}},
			"phone ALL_PROPERTY:IS_KNOWN & company ALL_PROPERTY:IS_UNKNOWN", ""},
		{"dates", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("createdate", "after", "2026-01-01"), cond("renewal", "before", "2026-06-01T00:00:00Z")}}},
			"createdate DATETIME:IS_AFTER 1767225600000 & renewal DATETIME:IS_BEFORE 1780272000000", ""},
		{"lifecyclestage is an enumeration", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("lifecyclestage", "neq", "customer")}}},
			"lifecyclestage ENUMERATION:IS_NONE_OF [customer]", ""},
		{"include, exclude and static", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("country", "eq", "DE")}},
			IncludeSegments: []string{"seg_a"}, ExcludeSegments: []string{"seg_b"}, StaticEmails: []string{"B@x.test", "a@x.test"}},
			"country MULTISTRING:IS_EQUAL_TO [DE] & NOT_IN_LIST(12) | IN_LIST(11) & NOT_IN_LIST(12) | email MULTISTRING:IS_EQUAL_TO [a@x.test b@x.test] & NOT_IN_LIST(12)", ""},
		{"static only is manual", sandbox.Segment{StaticEmails: []string{"b@x.test", "A@x.test", "a@x.test"}}, "MANUAL:a@x.test,b@x.test", ""},
		{"empty nested groups are ignored", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("country", "eq", "DE")}, Groups: []sandbox.Group{{Match: "any"}}}},
			"country MULTISTRING:IS_EQUAL_TO [DE]", ""},
		{"bad operator", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("country", "like", "D%")}}}, "", "operator \"like\""},
		{"contains on an enumeration", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("plan", "contains", "pro")}}}, "", "dropdown"},
		{"not a number", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("score", "gt", "lots")}}}, "", "not a number"},
		{"list for eq", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("country", "eq", []any{"DE"})}}}, "", "takes one value"},
		{"bad match", sandbox.Segment{Group: sandbox.Group{Match: "most", Conditions: []sandbox.Condition{cond("country", "eq", "DE")}}}, "", "match \"most\""},
		{"only excludes", sandbox.Segment{ExcludeSegments: []string{"seg_b"}}, "", "only excludes"},
		{"missing ref at promotion", sandbox.Segment{IncludeSegments: []string{"seg_zz"}}, "", "promote it first"},
		{"too many branches", sandbox.Segment{Group: sandbox.Group{Groups: manyAnyGroups(8)}}, "", "AND branches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tgt.planList(&tt.seg, refs, nil, false)
			if tt.problem != "" {
				if !containsAny(p.problems, tt.problem) {
					t.Fatalf("problems %q, want one with %q", p.problems, tt.problem)
				}
				return
			}
			if len(p.problems) > 0 {
				t.Fatalf("problems: %q", p.problems)
			}
			var got string
			if p.processingType == "MANUAL" {
				got = "MANUAL:" + strings.Join(p.static, ",")
			} else {
				got = shape(p.filterBranch)
				// The body validates against HubSpot's published schema.
				body, _ := json.Marshal(map[string]any{"name": "x", "objectTypeId": "0-1", "processingType": "DYNAMIC", "filterBranch": p.filterBranch})
				d, err := hubspottest.Validate("crm-lists-v3.json#ListCreateRequest", body)
				if err != nil || len(d) > 0 {
					t.Errorf("schema: %v %+v", err, d)
				}
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// manyAnyGroups is all(any(a,b), any(c,d), ...): 2^n branches.
func manyAnyGroups(n int) []sandbox.Group {
	var gs []sandbox.Group
	for i := range n {
		gs = append(gs, sandbox.Group{Match: "any", Conditions: []sandbox.Condition{cond(fmt.Sprintf("p%d", i), "eq", "x"), cond(fmt.Sprintf("p%d", i), "eq", "y")}})
	}
	return gs
}

func TestToHubL(t *testing.T) {
	tests := []struct{ in, want, problem string }{
		{`Hi {{ contact.firstname | default: "there" }}!`, `Hi {{ contact.firstname|default("there") }}!`, ""},
		{`Hi {{contact.firstname|default:"there"}}`, `Hi {{ contact.firstname|default("there") }}`, ""},
		{`Hi {{ contact.firstname | default: 'you' }}`, `Hi {{ contact.firstname|default('you') }}`, ""},
		{`{{ contact.company }}`, `{{ contact.company }}`, ""},
		{`<a title="{{ contact.firstname | default: &quot;you&#39;re&quot; }}">`, `<a title="{{ contact.firstname|default('you&#39;re') }}">`, ""},
		{`<a title="{{ contact.firstname | default: &quot;it's&quot; }}">`, `<a title="{{ contact.firstname|default('it\'s') }}">`, ""},
		{`<a href="{{ unsubscribe_url }}">`, `<a href="{{ unsubscribe_link_all }}">`, ""},
		{`{{ contact.firstname | default: "" }}`, `{{ contact.firstname|default("") }}`, ""},
		// Conditions, as HubL writes them (developers.hubspot.com, HubL if
		// statements and operators): elif, "in" for contains, text
		// compared lower-cased as lastmile's preview compares it.
		{`{% if contact.vip %}VIP{% endif %}`, `{% if contact.vip %}VIP{% endif %}`, ""},
		{`{% if contact.plan == "Pro" %}P{% elsif contact.plan != 'free' %}F{% else %}-{% endif %}`,
			`{% if contact.plan|lower == "pro" %}P{% elif contact.plan|lower != 'free' %}F{% else %}-{% endif %}`, ""},
		{`{% if contact.city contains "Port" %}x{% endif %}`, `{% if "port" in contact.city|lower %}x{% endif %}`, ""},
		{`{% if contact.seats > 10 %}big{% elsif contact.seats < 3 %}small{% endif %}`, `{% if contact.seats > 10 %}big{% elif contact.seats < 3 %}small{% endif %}`, ""},
		{`{% if contact.tier > "b" %}x{% endif %}`, `{% if contact.tier|lower > "b" %}x{% endif %}`, ""},
		{`{% if contact.vip == true %}x{% endif %}`, `{% if contact.vip|lower == 'true' %}x{% endif %}`, ""},
		{`<a href="/{% if contact.plan == &quot;it's&quot; %}p{% endif %}">`, `<a href="/{% if contact.plan|lower == 'it\'s' %}p{% endif %}">`, ""},
		{`{% if contact.vip %}{% if contact.plan == "pro" %}x{% endif %}{% endif %}`, `{% if contact.vip %}{% if contact.plan|lower == "pro" %}x{% endif %}{% endif %}`, ""},
		// HubL of HubSpot's own in {{ }} passes as it stands.
		{`{{ personalization_token('contact.firstname', 'there') }} {{ contact.firstname|upper }}`, `{{ personalization_token('contact.firstname', 'there') }} {{ contact.firstname|upper }}`, ""},
		// A {% %} outside the language is a problem naming hubspot, and
		// the text is left as written.
		{`{% for p in products %}{{ p.name }}{% endfor %}`, `{% for p in products %}{{ p.name }}{% endfor %}`, "hubspot cannot render {% for p in products %} in html"},
		{`{% assign x = 1 %}{{ contact.a }}`, `{% assign x = 1 %}{{ contact.a }}`, "{% assign %} is not rendered"},
		{`{% if contact.a and contact.b %}x{% endif %}`, `{% if contact.a and contact.b %}x{% endif %}`, "a condition tests one contact property"},
		{`{% if contact.a %}x{% elif contact.b %}y{% endif %}`, `{% if contact.a %}x{% elif contact.b %}y{% endif %}`, "{% elif %} is not rendered"},
		{`{% if contact.first-name %}x{% endif %}`, `{% if contact.first-name %}x{% endif %}`, "letters, digits and _"},
		{`{% if contact.a %}x`, `{% if contact.a %}x`, "without its {% endif %}"},
	}
	for _, tt := range tests {
		if got := toHubL(tt.in); got != tt.want {
			t.Errorf("toHubL(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
		got := strings.Join(unrenderable("recipients", map[string]string{"html": tt.in}), " | ")
		if tt.problem == "" && got != "" || !strings.Contains(got, tt.problem) {
			t.Errorf("%s: problems %q, want one with %q", tt.in, got, tt.problem)
		}
	}
	if ft := foreignTokens(`{{ contact.a }} {{ campaign.name }} {{ unsubscribe_url }} {% if x %} {{ contact.a|upper }}`); !slices.Equal(ft, []string{"{{ campaign.name }}", "{{ contact.a|upper }}"}) {
		t.Errorf("foreign tokens = %q", ft)
	}
}

// TestCheckAgreesWithTranslation: the governance check has no
// target-cannot-render error for a text exactly when the translation
// reports no problem with it, so what a human approves is what promotion
// can send.
func TestCheckAgreesWithTranslation(t *testing.T) {
	policy, err := governance.Parse("p.yaml", []byte("rules: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range liquidtest.Corpus {
		rep := policy.Check([]governance.Document{{ArtifactID: "eml_1", Channel: "email", Platform: Platform, Fields: []governance.Field{{Name: "html", HTML: true, Value: in}}}})
		var errs []string
		for _, f := range rep.Findings {
			if f.Rule == "lastmile.target-cannot-render" {
				errs = append(errs, f.Message)
				if !strings.HasPrefix(f.Message, "hubspot cannot render") {
					t.Errorf("%s: message %q does not name hubspot", in, f.Message)
				}
			}
		}
		if problems := unrenderable("recipients", map[string]string{"html": in}); (len(errs) == 0) != (len(problems) == 0) {
			t.Errorf("%s: check %q, translation %q", in, errs, problems)
		}
	}
}

func TestPaths(t *testing.T) {
	p, err := buildPaths(Versions{Emails: "2026-03", Lists: "2026-03", Pages: "2026-03", Contacts: "2026-03", OAuth: "2026-03"})
	if err != nil {
		t.Fatal(err)
	}
	want := paths{emails: "/marketing/emails/2026-03", lists: "/crm/lists/2026-03", flows: "/automation/v4/flows",
		pages: "/cms/pages/2026-03/landing-pages", contacts: "/crm/objects/2026-03/contacts", token: "/oauth/2026-03/token"}
	if p != want {
		t.Errorf("paths = %+v\nwant    %+v", p, want)
	}
	if _, err := buildPaths(Versions{Emails: "../admin"}); err == nil {
		t.Error("a bad version was accepted")
	}
	if m, ok := minutes("30m1d12h"); !ok || m != 2190 {
		t.Errorf("minutes(30m1d12h) = %d %v", m, ok)
	}
}

func TestConfigFromYAML(t *testing.T) {
	src := `
type: hubspot
base_url: https://api.hubapi.com
api_versions:
  emails: "2026-03"
rate_limit: 190
timeout: 45s
office_location_id: "5449392956"
page_template_path: "@hubspot/growth/templates/paged.html"
property_types:
  plan: enumeration
`
	var cfg Config
	if err := yaml.Unmarshal([]byte(src), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.RateLimit != 190 || cfg.Timeout != 45*time.Second || cfg.APIVersions.Emails != "2026-03" || cfg.PropertyTypes["plan"] != "enumeration" || cfg.OfficeLocationID != "5449392956" {
		t.Errorf("config = %+v", cfg)
	}
}

// Text whose lower-case form has another length ("İ", "Ⱥ") must not shift
// where the body of a full document is cut.
func TestPageBodyKeepsMultiByteText(t *testing.T) {
	body := "<h1>İstanbul</h1>\n<p>First paragraph.</p>\n<p>Ⱥ second paragraph.</p>"
	for _, c := range []string{"İ", "Ⱥ"} {
		doc := "<!DOCTYPE html><html><head><title>" + strings.Repeat(c, 30) + "</title></head><BODY class=x>\n" + body + "\n</body></html>"
		got := (&Target{}).pageBody(sandbox.Object{Page: &sandbox.Page{HTML: doc}})
		html := got["widgets"].(map[string]any)["lastmile_body"].(map[string]any)["body"].(map[string]any)["html"]
		if html != body {
			t.Errorf("body after %s\n got %q\nwant %q", c, html, body)
		}
	}
}
