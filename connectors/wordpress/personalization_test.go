package wordpress

import (
	"strings"
	"testing"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/liquid/liquidtest"
	"github.com/lastmile/lastmile/sandbox"
)

// TestPersonalization: WordPress renders none of lastmile's language, so
// the page is published filled for a visitor nobody knows, as local's site
// and the review page show it; what cannot be filled is a problem naming
// wordpress.
func TestPersonalization(t *testing.T) {
	tests := []struct {
		in, want      string
		tokens, conds int
		problem       string
	}{
		{`<p>Hi {{ contact.firstname | default: "there" }}</p>`, `<p>Hi there</p>`, 1, 0, ""},
		{`<p>Hi {{ contact.firstname | default: 'you' }}{{ contact.lastname }}</p>`, `<p>Hi you</p>`, 2, 0, ""},
		{`<p>{{ contact.company | default: "Tom &amp; Jerry" }}</p>`, `<p>Tom &amp; Jerry</p>`, 1, 0, ""},
		{`<a title="{{ contact.firstname | default: &quot;<you>&quot; }}">x</a>`, `<a title="&lt;you&gt;">x</a>`, 1, 0, ""},
		{`<a href="{{ unsubscribe_url }}">x</a>`, `<a href="">x</a>`, 1, 0, ""},
		{`<p>{% if contact.vip %}VIP{% else %}Welcome{% endif %}</p>`, `<p>Welcome</p>`, 0, 1, ""},
		{`<p>{% if contact.plan == "pro" %}Pro{% elsif contact.plan != "pro" %}Not pro{% endif %}</p>`, `<p>Not pro</p>`, 0, 1, ""},
		{`<p>{% if contact.city contains "port" %}x{% elsif contact.seats > 1 %}y{% else %}z{% endif %}</p>`, `<p>z</p>`, 0, 1, ""},
		{`<p>{% for p in products %}{{ p.name }}{% endfor %}</p>`, `<p>{% for p in products %}{{ p.name }}{% endfor %}</p>`, 0, 0, "wordpress cannot render {% for p in products %} in html"},
		{`<p>{% assign x = 1 %}</p>`, `<p>{% assign x = 1 %}</p>`, 0, 0, "every visitor would see it as written"},
		{`<p>{{ contact.firstname | upcase }}</p>`, `<p>{{ contact.firstname | upcase }}</p>`, 0, 0, "wordpress cannot render {{ contact.firstname | upcase }}"},
		{`<p>{% if contact.vip %}x</p>`, `<p>{% if contact.vip %}x</p>`, 0, 0, "without its {% endif %}"},
	}
	for _, tc := range tests {
		pc := buildContent(&sandbox.Page{Body: tc.in}, "lm-pg_1", "")
		if want := blockOpen + "\n" + markerComment("lm-pg_1") + "\n" + tc.want + "\n" + blockClose; pc.Raw != want {
			t.Errorf("%s\n got %s\nwant %s", tc.in, pc.Raw, want)
		}
		if tc.problem == "" && (pc.Tokens != tc.tokens || pc.Conditions != tc.conds) {
			t.Errorf("%s: %d tokens and %d conditions, want %d and %d", tc.in, pc.Tokens, pc.Conditions, tc.tokens, tc.conds)
		}
		if got := strings.Join(pc.Problems, " | "); tc.problem == "" && got != "" || !strings.Contains(got, tc.problem) {
			t.Errorf("%s: problems %q, want one with %q", tc.in, got, tc.problem)
		}
	}
}

// TestCheckAgreesWithTranslation: the governance check has no
// target-cannot-render error for a page exactly when WordPress's content
// reports no problem with it, so what a human approves is what is
// published.
func TestCheckAgreesWithTranslation(t *testing.T) {
	policy, err := governance.Parse("p.yaml", []byte("rules: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range liquidtest.Corpus {
		rep := policy.Check([]governance.Document{{ArtifactID: "pg_1", Channel: "page", Platform: Platform, Fields: []governance.Field{{Name: "html", HTML: true, Value: in}}}})
		var errs []string
		for _, f := range rep.Findings {
			if f.Rule == "lastmile.target-cannot-render" {
				errs = append(errs, f.Message)
				if !strings.HasPrefix(f.Message, "wordpress cannot render") || !strings.Contains(f.Message, "every visitor") {
					t.Errorf("%s: message %q does not name wordpress and its visitors", in, f.Message)
				}
			}
		}
		if pc := buildContent(&sandbox.Page{Body: in}, "lm-pg_1", ""); (len(errs) == 0) != (len(pc.Problems) == 0) {
			t.Errorf("%s: check %q, content %q", in, errs, pc.Problems)
		}
	}
}
