package mailchimp

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/liquid/liquidtest"
	"github.com/lastmile/lastmile/sandbox"
)

func TestTranslateTokens(t *testing.T) {
	tg := &Target{merge: map[string]string{"company": "CNAME"}}
	tests := []struct {
		in, want string
		problem  string // a problem with this text; "" for none
		assumed  string
		unsub    bool
	}{
		{`Hi {{ contact.first_name }}!`, `Hi *|FNAME|*!`, "", "", false},
		{`Hi {{contact.firstname|default:"there"}}`, `Hi *|IF:FNAME|**|FNAME|**|ELSE:|*there*|END:IF|*`, "", "", false},
		{`Hi {{ contact.first_name | default: 'friend' }}`, `Hi *|IF:FNAME|**|FNAME|**|ELSE:|*friend*|END:IF|*`, "", "", false},
		{`Hi {{ contact.first_name | default: "" }}`, `Hi *|FNAME|*`, "", "", false},
		{`<a title="{{ contact.first_name | default: &quot;you&quot; }}">`, `<a title="*|IF:FNAME|**|FNAME|**|ELSE:|*you*|END:IF|*">`, "", "", false},
		{`<a href="{{ unsubscribe_url }}">Unsubscribe</a>`, `<a href="*|UNSUB|*">Unsubscribe</a>`, "", "", true},
		{`{{ view_in_browser_url }} {{ preferences_url }}`, `*|ARCHIVE|* *|UPDATE_PROFILE|*`, "", "", false},
		{`{{ contact.company }} at {{ contact.plan_tier_level }}`, `*|CNAME|* at *|PLAN_TIER_|*`, "", "plan_tier_level", false},
		// Conditions, as Mailchimp's conditional merge tags write them.
		{`{% if contact.vip %}VIP{% else %}hi{% endif %}`, `*|IF:VIP|*VIP*|ELSE:|*hi*|END:IF|*`, "", "vip", false},
		{`{% if contact.plan == "pro" %}P{% endif %}`, `*|IF:PLAN=pro|*P*|END:IF|*`, "", "plan", false},
		{`{% if contact.plan != 'pro' %}P{% endif %}`, `*|IF:PLAN!=pro|*P*|END:IF|*`, "", "", false},
		{`{% if contact.seats > 10 %}big{% elsif contact.seats < 3 %}small{% elsif contact.first_name %}{{ contact.first_name }}{% else %}mid{% endif %}`,
			`*|IF:SEATS>10|*big*|ELSEIF:SEATS<3|*small*|ELSEIF:FNAME|**|FNAME|**|ELSE:|*mid*|END:IF|*`, "", "seats", false},
		{`{% if contact.vip == true %}{% if contact.plan == "team plan" %}x{% endif %}{% endif %}`, `*|IF:VIP=true|**|IF:PLAN=team plan|*x*|END:IF|**|END:IF|*`, "", "", false},
		{`already *|FNAME|* and *|UNSUB|*`, `already *|FNAME|* and *|UNSUB|*`, "", "", true},
		// What Mailchimp cannot render is left as written, with a problem
		// naming mailchimp.
		{`{{ site_url }}`, `{{ site_url }}`, "has no Mailchimp equivalent", "", false},
		{`{% for x in y %}{% endfor %}`, `{% for x in y %}{% endfor %}`, "mailchimp cannot render {% for x in y %} in html", "", false},
		{`{% if contact.city contains "port" %}x{% endif %}`, `{% if contact.city contains "port" %}x{% endif %}`, "cannot test contains", "", false},
		{`{% unless contact.last_name %}x{% endunless %}`, `{% unless contact.last_name %}x{% endunless %}`, "{% unless %} is not rendered", "", false},
		{`{% assign x = 1 %}`, `{% assign x = 1 %}`, "{% assign %} is not rendered", "", false},
		{`{{ contact.first_name | upcase }}`, `{{ contact.first_name | upcase }}`, "mailchimp cannot render {{ contact.first_name | upcase }}", "", false},
		{`{% if contact.plan == "a|*b" %}x{% endif %}`, `{% if contact.plan == "a|*b" %}x{% endif %}`, "cannot hold | or *", "", false},
		{`{% if contact.vip %}x`, `{% if contact.vip %}x`, "without its {% endif %}", "", false},
	}
	for _, tc := range tests {
		tr := tg.translate("html", tc.in)
		if tr.out != tc.want {
			t.Errorf("%s\n got %s\nwant %s", tc.in, tr.out, tc.want)
		}
		if got := strings.Join(tr.problems, " | "); tc.problem == "" && got != "" || !strings.Contains(got, tc.problem) || tc.problem != "" && len(tr.problems) == 0 {
			t.Errorf("%s: problems %q, want one with %q", tc.in, tr.problems, tc.problem)
		}
		if tc.assumed != "" && tr.assumed[tc.assumed] == "" {
			t.Errorf("%s: %s not reported as assumed (%v)", tc.in, tc.assumed, tr.assumed)
		}
		if tr.unsub != tc.unsub {
			t.Errorf("%s: unsub %v", tc.in, tr.unsub)
		}
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
	tg := &Target{merge: map[string]string{}}
	for _, in := range liquidtest.Corpus {
		rep := policy.Check([]governance.Document{{ArtifactID: "eml_1", Channel: "email", Platform: Platform, Fields: []governance.Field{{Name: "html", HTML: true, Value: in}}}})
		var errs []string
		for _, f := range rep.Findings {
			if f.Rule == "lastmile.target-cannot-render" {
				errs = append(errs, f.Message)
				if !strings.HasPrefix(f.Message, "mailchimp cannot render") {
					t.Errorf("%s: message %q does not name mailchimp", in, f.Message)
				}
			}
		}
		if tr := tg.translate("html", in); (len(errs) == 0) != (len(tr.problems) == 0) {
			t.Errorf("%s: check %q, translation %q", in, errs, tr.problems)
		}
	}
}

func TestQuarterHour(t *testing.T) {
	d := func(h, m, s int) time.Time { return time.Date(2030, 5, 1, h, m, s, 0, time.UTC) }
	tests := []struct {
		in, want time.Time
		note     string
	}{
		{d(10, 7, 0), d(10, 15, 0), "Mailchimp schedules on the quarter hour: 10:07 becomes 10:15 UTC"},
		{d(10, 15, 0), d(10, 15, 0), ""},
		{d(10, 15, 1), d(10, 30, 0), "Mailchimp schedules on the quarter hour: 10:15:01 becomes 10:30 UTC"},
		{d(10, 0, 0), d(10, 0, 0), ""},
		{d(10, 59, 0), d(11, 0, 0), "Mailchimp schedules on the quarter hour: 10:59 becomes 11:00 UTC"},
		{d(23, 52, 0), time.Date(2030, 5, 2, 0, 0, 0, 0, time.UTC), "Mailchimp schedules on the quarter hour: 23:52 on 2030-05-01 becomes 00:00 UTC on 2030-05-02"},
		{time.Date(2030, 5, 1, 12, 7, 0, 0, time.FixedZone("CEST", 2*3600)), d(10, 15, 0), "Mailchimp schedules on the quarter hour: 10:07 becomes 10:15 UTC"},
	}
	for _, tc := range tests {
		if got := QuarterHour(tc.in); !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("QuarterHour(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if got := quarterNote(tc.in); got != tc.note {
			t.Errorf("quarterNote(%v) = %q, want %q", tc.in, got, tc.note)
		}
	}
}

func static(b bool) *bool { return &b }

func TestSegmentTranslation(t *testing.T) {
	tg := &Target{name: "mc", merge: map[string]string{}}
	vip := segRef{artifactID: "seg_vip", name: "VIP", liveID: 11, static: static(true)}
	saved := segRef{artifactID: "seg_saved", name: "Active", liveID: 12, static: static(false)}
	other := segRef{artifactID: "seg_hs", name: "HubSpot list", otherTgt: "hubspot"}
	tests := []struct {
		name       string
		seg        sandbox.Segment
		incl, excl []segRef
		want       string // JSON of the request's options or static_segment; "" when a problem is expected
		problem    string
	}{
		{name: "static", seg: sandbox.Segment{Name: "s", StaticEmails: []string{"A@x.com", "a@x.com", "b@x.com"}},
			want: `{"name":"s [lm-seg_1]","static_segment":["a@x.com","b@x.com"]}`},
		{name: "all of two", seg: sandbox.Segment{Name: "s", Group: sandbox.Group{Conditions: []sandbox.Condition{
			{Property: "first_name", Operator: "eq", Value: "Ann"}, {Property: "email", Operator: "ends_with", Value: "@acme.com"}}}},
			want: `{"name":"s [lm-seg_1]","options":{"match":"all","conditions":[{"condition_type":"TextMerge","field":"FNAME","op":"is","value":"Ann"},{"condition_type":"EmailAddress","field":"EMAIL","op":"ends","value":"@acme.com"}]}}`},
		{name: "any, numbers and blanks", seg: sandbox.Segment{Name: "s", Group: sandbox.Group{Match: "any", Conditions: []sandbox.Condition{
			{Property: "score", Operator: "gt", Value: 10.0}, {Property: "contact.phone", Operator: "is_set"}}}},
			want: `{"name":"s [lm-seg_1]","options":{"match":"any","conditions":[{"condition_type":"TextMerge","field":"SCORE","op":"greater","value":"10"},{"condition_type":"TextMerge","field":"PHONE","op":"blank_not"}]}}`},
		{name: "single in becomes any", seg: sandbox.Segment{Name: "s", Group: sandbox.Group{Conditions: []sandbox.Condition{
			{Property: "language", Operator: "in", Value: []any{"en", "fr"}}}}},
			want: `{"name":"s [lm-seg_1]","options":{"match":"any","conditions":[{"condition_type":"Language","field":"language","op":"is","value":"en"},{"condition_type":"Language","field":"language","op":"is","value":"fr"}]}}`},
		{name: "date after", seg: sandbox.Segment{Name: "s", Group: sandbox.Group{Conditions: []sandbox.Condition{
			{Property: "signup_date", Operator: "after", Value: "2030-01-01"}}}},
			want: `{"name":"s [lm-seg_1]","options":{"match":"all","conditions":[{"condition_type":"DateMerge","field":"SIGNUP_DAT","op":"greater","value":"2030-01-01"}]}}`},
		{name: "condition minus static segment", seg: sandbox.Segment{Name: "s", Group: sandbox.Group{Conditions: []sandbox.Condition{
			{Property: "plan", Operator: "eq", Value: "pro"}}}}, excl: []segRef{vip},
			want: `{"name":"s [lm-seg_1]","options":{"match":"all","conditions":[{"condition_type":"TextMerge","field":"PLAN","op":"is","value":"pro"},{"condition_type":"StaticSegment","field":"static_segment","op":"static_not","value":11}]}}`},
		{name: "condition or static segment", seg: sandbox.Segment{Name: "s", Group: sandbox.Group{Conditions: []sandbox.Condition{
			{Property: "plan", Operator: "eq", Value: "pro"}}}}, incl: []segRef{vip},
			want: `{"name":"s [lm-seg_1]","options":{"match":"any","conditions":[{"condition_type":"TextMerge","field":"PLAN","op":"is","value":"pro"},{"condition_type":"StaticSegment","field":"static_segment","op":"static_is","value":11}]}}`},
		{name: "nested group", seg: sandbox.Segment{Name: "s", Group: sandbox.Group{Conditions: []sandbox.Condition{{Property: "plan", Operator: "eq", Value: "pro"}},
			Groups: []sandbox.Group{{Conditions: []sandbox.Condition{{Property: "first_name", Operator: "eq", Value: "Ann"}}}}}},
			problem: "nested groups"},
		{name: "mixed all/any", seg: sandbox.Segment{Name: "s", Group: sandbox.Group{Conditions: []sandbox.Condition{{Property: "plan", Operator: "eq", Value: "pro"}},
			Groups: []sandbox.Group{{Match: "any", Conditions: []sandbox.Condition{{Property: "first_name", Operator: "eq", Value: "Ann"}, {Property: "first_name", Operator: "eq", Value: "Bob"}}}}}},
			problem: "mixed all/any"},
		{name: "all conditions or a segment", seg: sandbox.Segment{Name: "s", Group: sandbox.Group{Conditions: []sandbox.Condition{
			{Property: "plan", Operator: "eq", Value: "pro"}, {Property: "first_name", Operator: "eq", Value: "Ann"}}}}, incl: []segRef{vip},
			problem: "mixed all/any"},
		{name: "any conditions minus a segment", seg: sandbox.Segment{Name: "s", Group: sandbox.Group{Match: "any", Conditions: []sandbox.Condition{
			{Property: "plan", Operator: "eq", Value: "pro"}, {Property: "first_name", Operator: "eq", Value: "Ann"}}}}, excl: []segRef{vip},
			problem: "mixed all/any"},
		{name: "in inside all", seg: sandbox.Segment{Name: "s", Group: sandbox.Group{Conditions: []sandbox.Condition{
			{Property: "plan", Operator: "in", Value: []any{"pro", "team"}}, {Property: "first_name", Operator: "eq", Value: "Ann"}}}},
			problem: "mixed all/any"},
		{name: "static and conditions", seg: sandbox.Segment{Name: "s", StaticEmails: []string{"a@x.com"}, Group: sandbox.Group{Conditions: []sandbox.Condition{
			{Property: "plan", Operator: "eq", Value: "pro"}}}}, problem: "either a static list"},
		{name: "include a saved segment", seg: sandbox.Segment{Name: "s", IncludeSegments: []string{"seg_saved"}}, incl: []segRef{saved}, problem: "only static segments"},
		{name: "include another platform's segment", seg: sandbox.Segment{Name: "s"}, incl: []segRef{other}, problem: `staged for target "hubspot"`},
		{name: "gte", seg: sandbox.Segment{Name: "s", Group: sandbox.Group{Conditions: []sandbox.Condition{{Property: "score", Operator: "gte", Value: 3.0}}}}, problem: "strictly"},
		{name: "unknown operator", seg: sandbox.Segment{Name: "s", Group: sandbox.Group{Conditions: []sandbox.Condition{{Property: "score", Operator: "near", Value: 3.0}}}}, problem: "no Mailchimp equivalent"},
		{name: "email is set", seg: sandbox.Segment{Name: "s", Group: sandbox.Group{Conditions: []sandbox.Condition{{Property: "email", Operator: "is_set"}}}}, problem: "every Mailchimp contact"},
		{name: "empty", seg: sandbox.Segment{Name: "s"}, problem: "no conditions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := sandbox.Object{Kind: sandbox.KindSegment, Marker: "lm-seg_1", Segment: &tc.seg}
			req, tr := tg.segmentRequest(obj, &tc.seg, tc.incl, tc.excl)
			if tc.problem != "" {
				if !strings.Contains(strings.Join(tr.problems, " | "), tc.problem) {
					t.Fatalf("problems %q, want one with %q", tr.problems, tc.problem)
				}
				return
			}
			if len(tr.problems) > 0 {
				t.Fatalf("problems: %q", tr.problems)
			}
			b, _ := json.Marshal(req)
			if string(b) != tc.want {
				t.Errorf("\n got %s\nwant %s", b, tc.want)
			}
		})
	}
}

func TestAudienceCombinations(t *testing.T) {
	tg := &Target{name: "mc"}
	a := segRef{name: "A", liveID: 1, static: static(true)}
	b := segRef{name: "B", liveID: 2, static: static(true)}
	c := segRef{name: "C", liveID: 3, static: static(false)}
	tests := []struct {
		name    string
		in, out []segRef
		want    string
		problem string
	}{
		{name: "whole audience", want: "null"},
		{name: "one saved segment", in: []segRef{c}, want: `{"saved_segment_id":3}`},
		{name: "two static", in: []segRef{a, b}, want: `{"match":"any","conditions":[{"condition_type":"StaticSegment","field":"static_segment","op":"static_is","value":1},{"condition_type":"StaticSegment","field":"static_segment","op":"static_is","value":2}]}`},
		{name: "one minus another", in: []segRef{a}, out: []segRef{b}, want: `{"match":"all","conditions":[{"condition_type":"StaticSegment","field":"static_segment","op":"static_is","value":1},{"condition_type":"StaticSegment","field":"static_segment","op":"static_not","value":2}]}`},
		{name: "two minus one", in: []segRef{a, b}, out: []segRef{a}, problem: "single match"},
		{name: "saved in a combination", in: []segRef{a, c}, problem: "has conditions"},
		{name: "other platform", in: []segRef{{name: "H", otherTgt: "hubspot"}}, problem: `staged for target "hubspot"`},
	}
	for _, tc := range tests {
		opts, problems := tg.audience(tc.in, tc.out)
		if tc.problem != "" {
			if !strings.Contains(strings.Join(problems, " | "), tc.problem) {
				t.Errorf("%s: problems %q, want %q", tc.name, problems, tc.problem)
			}
			continue
		}
		b, _ := json.Marshal(opts)
		if len(problems) > 0 || string(b) != tc.want {
			t.Errorf("%s: got %s %q, want %s", tc.name, b, problems, tc.want)
		}
	}
}

func TestDCFromKey(t *testing.T) {
	for key, want := range map[string]string{"abc123-us21": "us21", "x-y-eu1": "eu1", "nodc": "", "abc-": "", "abc-US21": ""} {
		got, err := dcFromKey(key)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("dcFromKey(%q) = %q, %v", key, got, err)
		}
		if err != nil && strings.Contains(err.Error(), key) {
			t.Errorf("error quotes the key: %v", err)
		}
	}
}

func TestCredentialsNeverPrint(t *testing.T) {
	c := credentials{Kind: authAPIKey, APIKey: "supersecretkey-us21", DC: "us21"}
	for _, s := range []string{c.String(), c.GoString(), c.LogValue().String()} {
		if strings.Contains(s, "supersecret") {
			t.Errorf("secret printed: %s", s)
		}
	}
}

func TestMarkedName(t *testing.T) {
	long := strings.Repeat("é", 80)
	got := markedName(long, "lm-seg_01jx", 100)
	if len(got) > 100 || !strings.HasSuffix(got, " [lm-seg_01jx]") || !hasMarker(got, "lm-seg_01jx") {
		t.Errorf("markedName: %q (%d bytes)", got, len(got))
	}
	if !strings.HasPrefix(got, "é") || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("cut inside a rune: %q", got)
	}
}
