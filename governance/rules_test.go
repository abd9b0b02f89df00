package governance_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/governance"
)

const rulesPrefix = `brand:
  colors:
    named: {acme-blue: "#0B5FFF", ink: "#1A1A1A", white: "#FFFFFF"}
    primary: acme-blue
  fonts: {body: "Helvetica, Arial, sans-serif", heading: "Georgia, serif"}
  footer:
    company: Acme Corp
    postal_address: "500 Market Street, San Francisco, CA 94105"
    contact_email: hello@acme.com
    contact_url: https://www.acme.com/contact
roles:
  legal: [dana@acme.com]
  compliance: [chris@acme.com]
rules:
`

func mustParse(t testing.TB, rules string) *governance.Policy {
	t.Helper()
	p, err := governance.Parse("test.yaml", []byte(rulesPrefix+rules))
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	return p
}

func htmlDoc(html string) governance.Document {
	return governance.Document{ArtifactID: "eml_1", Channel: "email", Markets: []string{"US"}, Industry: "retail", Recipients: 100, Platform: "local",
		Fields: []governance.Field{{Name: "html", HTML: true, Value: html}}}
}

// render is the compact form tests compare: level field:line:col excerpt.
func render(fs []governance.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = fmt.Sprintf("%s %s %s:%d:%d %s", f.Rule, f.Level, f.Field, f.Line, f.Col, f.Excerpt)
	}
	return out
}

// setWith is d checked where update_campaign sets its metadata.
func setWith(d governance.Document) governance.Document {
	d.SetWith = "update_campaign"
	return d
}

type ruleCase struct {
	name string
	doc  governance.Document
	want []string // rendered findings, in order; nil: no findings
	fix  string   // when set, the first finding's fix must contain it
	msg  string   // when set, the first finding's message must contain it
}

func runRuleCases(t *testing.T, rules string, cases []ruleCase) {
	t.Helper()
	p := mustParse(t, rules)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := p.Check([]governance.Document{tc.doc})
			got := render(rep.Findings)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("findings:\n got %q\nwant %q\n(%+v)", got, tc.want, rep.Findings)
			}
			if tc.fix != "" && !strings.Contains(rep.Findings[0].Fix, tc.fix) {
				t.Errorf("fix = %q, want it to contain %q", rep.Findings[0].Fix, tc.fix)
			}
			if tc.msg != "" && !strings.Contains(rep.Findings[0].Message, tc.msg) {
				t.Errorf("message = %q, want it to contain %q", rep.Findings[0].Message, tc.msg)
			}
			if rep.Passed != (rep.Errors == 0) {
				t.Errorf("Passed = %v with %d errors", rep.Passed, rep.Errors)
			}
		})
	}
}

func TestExistence(t *testing.T) {
	runRuleCases(t, `
  - id: claims
    kind: existence
    level: error
    message: "“%s” cannot be substantiated."
    tokens: [guaranteed, "risk-free", "#1", "!!!", "can't lose"]
    exceptions: ["satisfaction guaranteed"]
`, []ruleCase{
		{name: "word", doc: htmlDoc("<p>Returns are guaranteed.</p>"), want: []string{"claims error html:1:16 guaranteed"}, msg: "“guaranteed” cannot be substantiated."},
		{name: "case-insensitive", doc: htmlDoc("<p>GUARANTEED</p>"), want: []string{"claims error html:1:4 GUARANTEED"}},
		{name: "phrase across inline tags and whitespace", doc: htmlDoc("<p>totally risk-<b>free</b></p>"), want: []string{"claims error html:1:12 risk-free"}},
		{name: "curly apostrophe", doc: htmlDoc("<p>You can&rsquo;t lose</p>"), want: []string{"claims error html:1:8 can't lose"}},
		{name: "non-word token", doc: htmlDoc("<p>We are #1!!!</p>"), want: []string{"claims error html:1:11 #1", "claims error html:1:13 !!!"}},
		{name: "whole word only", doc: htmlDoc("<p>unguaranteedly #10</p>"), want: nil},
		{name: "exception phrase", doc: htmlDoc("<p>Satisfaction guaranteed or your money back</p>"), want: nil},
		{name: "alt text", doc: htmlDoc(`<img src="https://a/x.png" alt="Guaranteed winner">`), want: []string{"claims error html:1:33 Guaranteed"}},
		{name: "not in script or style or comments", doc: htmlDoc("<style>.guaranteed{}</style><script>guaranteed()</script><!-- guaranteed --><p>ok</p>"), want: nil},
		{name: "subject field", doc: governance.Document{ArtifactID: "eml_1", Channel: "email", Fields: []governance.Field{{Name: "subject", Value: "Guaranteed!"}}}, want: []string{"claims error subject:1:1 Guaranteed"}},
		{name: "clean", doc: htmlDoc("<p>Our plans start at $9.</p>"), want: nil},
	})
}

func TestExistencePatternsAndScopes(t *testing.T) {
	runRuleCases(t, `
  - id: percent-off
    kind: existence
    level: warning
    scope: heading
    patterns: ['\d{2,}% off']
  - id: raw-tracking
    kind: existence
    level: error
    scope: raw
    tokens: ["utm_source=test"]
`, []ruleCase{
		{name: "pattern in heading", doc: htmlDoc("<h1>Save 50% off</h1><p>50% off</p>"), want: []string{"percent-off warning html:1:10 50% off"}},
		{name: "raw markup", doc: htmlDoc(`<a href="https://acme.com/?utm_source=test">x</a>`), want: []string{"raw-tracking error html:1:28 utm_source=test"}},
	})
}

func TestHeadingInsideTableCell(t *testing.T) {
	// Vale maps <td> to a table-cell scope and never sees this heading.
	html := "<table><tr><td class=\"hero\">\n  <h1 style=\"margin:0\">Get Started With AcmeCloud Today</h1>\n</td></tr></table>"
	runRuleCases(t, `
  - id: heading-case
    kind: capitalization
    level: warning
    match: $sentence
  - id: heading-words
    kind: existence
    level: error
    scope: heading
    tokens: [today]
`, []ruleCase{
		{name: "table layout", doc: htmlDoc(html), want: []string{
			"heading-case warning html:2:24 Get Started With AcmeCloud Today",
			"heading-words error html:2:51 Today",
		}, fix: "Get started with AcmeCloud today"},
		{name: "nested tables", doc: htmlDoc("<table><tr><td><table><tr><td><h2>Big News Inside</h2></td></tr></table></td></tr></table>"),
			want: []string{"heading-case warning html:1:35 Big News Inside"}},
		{name: "unclosed heading ends at the cell", doc: htmlDoc("<table><tr><td><h3>Fine heading</td><td>Today Is Body Text</td></tr></table>"), want: nil},
		{name: "body text is not a heading", doc: htmlDoc("<td><p>Today We Talk</p></td>"), want: nil},
	})
}

func TestSubstitution(t *testing.T) {
	runRuleCases(t, `
  - id: terms
    kind: substitution
    level: warning
    swap:
      utilize: use
      e-mail: email
      acmecloud: AcmeCloud
`, []ruleCase{
		{name: "replacement is the fix", doc: htmlDoc("<p>Please utilize it</p>"), want: []string{"terms warning html:1:11 utilize"}, fix: "use", msg: "Use “use” instead of “utilize”."},
		{name: "keeps capital", doc: htmlDoc("<p>Utilize it</p>"), want: []string{"terms warning html:1:4 Utilize"}, fix: "Use"},
		{name: "product spelling", doc: htmlDoc("<p>Try Acmecloud</p>"), want: []string{"terms warning html:1:8 Acmecloud"}, fix: "AcmeCloud"},
		{name: "already preferred", doc: htmlDoc("<p>Try AcmeCloud by email</p>"), want: nil},
	})
}

func TestOccurrence(t *testing.T) {
	runRuleCases(t, `
  - id: bangs
    kind: occurrence
    level: suggestion
    scope: body
    tokens: ["!"]
    max: 2
  - id: cta
    kind: occurrence
    level: warning
    scope: link_text
    tokens: [book a demo]
    min: 1
`, []ruleCase{
		{name: "too many", doc: htmlDoc(`<p>Hi! Yes! Now! Go!</p><a href="https://a.com">Book a demo</a>`), want: []string{"bangs suggestion html:1:16 !"}, msg: "appears 4 times"},
		{name: "within limits", doc: htmlDoc(`<p>Hi! Yes!</p><a href="https://a.com">Book a demo</a>`), want: nil},
		{name: "below min points at end of body", doc: htmlDoc("<html><body><p>Hello</p></body></html>"), want: []string{"cta warning html:1:25 book a demo"}},
	})
}

func TestConsistency(t *testing.T) {
	runRuleCases(t, `
  - id: spelling
    kind: consistency
    level: suggestion
    either: {email: e-mail}
`, []ruleCase{
		{name: "second variant flagged", doc: htmlDoc("<p>Email us. Our e-mail is short. Email again.</p>"), want: []string{"spelling suggestion html:1:18 e-mail"}, fix: "email"},
		{name: "across fields", doc: governance.Document{ArtifactID: "eml_1", Channel: "email", Fields: []governance.Field{{Name: "subject", Value: "E-mail news"}, {Name: "html", HTML: true, Value: "<p>email</p>"}}},
			want: []string{"spelling suggestion html:1:4 email"}},
		{name: "one spelling", doc: htmlDoc("<p>email email</p>"), want: nil},
	})
}

func TestConditional(t *testing.T) {
	runRuleCases(t, `
  - id: acronyms
    kind: conditional
    level: suggestion
    ignorecase: false
    first: '\b([A-Z]{3,5})\b'
    second: '(?:\b[A-Z][a-z]+ )+\(([A-Z]{3,5})\)'
    exceptions: [USA]
  - id: claim-needs-disclaimer
    kind: conditional
    level: error
    first: 'clinically proven'
    second: 'results may vary'
`, []ruleCase{
		{name: "undefined acronym", doc: htmlDoc("<p>Our NPS rose in the USA.</p>"), want: []string{"acronyms suggestion html:1:8 NPS"}},
		{name: "defined acronym", doc: htmlDoc("<p>Net Promoter Score (NPS) rose. NPS matters.</p>"), want: nil},
		{name: "claim without disclaimer", doc: htmlDoc("<p>Clinically proven.</p>"), want: []string{"claim-needs-disclaimer error html:1:4 Clinically proven"}},
		{name: "claim with disclaimer", doc: htmlDoc("<p>Clinically proven.</p><p>Results may vary.</p>"), want: nil},
	})
}

func TestCapitalization(t *testing.T) {
	runRuleCases(t, `
  - id: products
    kind: capitalization
    level: error
    products: [AcmeCloud, Acme Insights]
  - id: title
    kind: capitalization
    level: suggestion
    match: $title
    scope: link_text
`, []ruleCase{
		{name: "product miscased", doc: htmlDoc("<p>Try ACMECLOUD and acme insights</p>"), want: []string{"products error html:1:8 ACMECLOUD", "products error html:1:22 acme insights"}, fix: "AcmeCloud"},
		{name: "product correct", doc: htmlDoc("<p>Try AcmeCloud and Acme Insights</p>"), want: nil},
		{name: "title case link", doc: htmlDoc(`<a href="https://a.com">read the guide to pricing</a>`), want: []string{"title suggestion html:1:25 read the guide to pricing"}, fix: "Read the Guide to Pricing"},
		{name: "title case ok", doc: htmlDoc(`<a href="https://a.com">Read the Guide to Pricing</a>`), want: nil},
	})
}

func TestSentenceCase(t *testing.T) {
	runRuleCases(t, `
  - id: sentence
    kind: capitalization
    level: warning
    match: $sentence
    exceptions: [Berlin]
`, []ruleCase{
		{name: "ok with acronyms, names, digits, colon", doc: htmlDoc("<h2>Webinar: How SaaS teams in Berlin use AI in Q3</h2>"), want: nil},
		{name: "lower first word", doc: htmlDoc("<h2>our plans</h2>"), want: []string{"sentence warning html:1:5 our plans"}, fix: "Our plans"},
		{name: "non-ASCII", doc: htmlDoc("<h2>Über Unsere Pläne</h2>"), want: []string{"sentence warning html:1:5 Über Unsere Pläne"}, fix: "Über unsere pläne"},
	})
}

func TestReadability(t *testing.T) {
	simple := strings.Repeat("<p>We make it easy. You get help fast. It is a good deal.</p>", 5)
	dense := strings.Repeat("<p>Organizational interoperability considerations necessitate comprehensive evaluation of institutional infrastructure modernization alternatives, particularly regarding administrative responsibilities.</p>", 3)
	runRuleCases(t, `
  - id: grade
    kind: readability
    level: warning
    max: 8
    min_words: 20
    industries: [retail]
`, []ruleCase{
		{name: "simple copy", doc: htmlDoc(simple), want: nil},
		{name: "dense copy", doc: htmlDoc(dense), want: []string{"grade warning html:1:4 Organizational interoperability considerations necessitate comprehensive evaluation of institutional infrastructure mode…"}, msg: "reading grade"},
		{name: "other audience", doc: func() governance.Document { d := htmlDoc(dense); d.Industry = "finserv"; return d }(), want: nil},
		{name: "too short to judge", doc: htmlDoc("<p>Organizational interoperability considerations.</p>"), want: nil},
	})
}

func TestRequiredText(t *testing.T) {
	runRuleCases(t, `
  - id: past-performance
    kind: required_text
    level: error
    industries: [finserv]
    text: Past performance is not indicative of future results.
`, []ruleCase{
		{name: "missing points at </body>", doc: func() governance.Document {
			d := htmlDoc("<html><body>\n<p>Returns were strong.</p>\n</body></html>")
			d.Industry = "finserv"
			return d
		}(), want: []string{"past-performance error html:3:1 Past performance is not indicative of future results."}},
		{name: "present across line breaks and case", doc: func() governance.Document {
			d := htmlDoc("<td>PAST PERFORMANCE is not<br>indicative of future results</td>")
			d.Industry = "finserv"
			return d
		}(), want: nil},
		{name: "plain-text part checked too", doc: governance.Document{ArtifactID: "eml_1", Channel: "email", Industry: "finserv", Fields: []governance.Field{
			{Name: "html", HTML: true, Value: "<p>Past performance is not indicative of future results.</p>"}, {Name: "text", Value: "Returns were strong."}}},
			want: []string{"past-performance error text:1:21 Past performance is not indicative of future results."}},
		{name: "other industry", doc: htmlDoc("<p>nothing</p>"), want: nil},
		{name: "unknown industry applies and says why", doc: func() governance.Document { d := htmlDoc("<p>x</p>"); d.Industry = ""; return d }(),
			want: []string{"past-performance error html:1:9 Past performance is not indicative of future results."}, fix: "does not state its industry"},
		{name: "unknown industry names the call that states it", doc: func() governance.Document { d := setWith(htmlDoc("<p>x</p>")); d.Industry = ""; return d }(),
			want: []string{"past-performance error html:1:9 Past performance is not indicative of future results."}, fix: "does not state its industry; if the rule does not apply, state it: update_campaign {industry: …}.)"},
	})
}

func TestFooter(t *testing.T) {
	good := `<html><body><p>Acme Corp<br>500 Market Street<br>San Francisco, CA 94105</p><p>Questions? <a href="mailto:hello@acme.com">hello@acme.com</a></p><p><a href="{{ unsubscribe_link }}">Unsubscribe</a></p></body></html>`
	withHeaders := func(d governance.Document, h map[string]string) governance.Document { d.Headers = h; return d }
	hdr := map[string]string{"List-Unsubscribe": "<https://acme.com/u/1>, <mailto:u@acme.com>", "list-unsubscribe-post": "List-Unsubscribe=One-Click"}
	runRuleCases(t, `
  - id: can-spam
    kind: footer
    level: error
    require: [postal_address, unsubscribe, sender_identity, contact]
  - id: headers
    kind: footer
    level: error
    require: [list_unsubscribe, one_click_unsubscribe]
`, []ruleCase{
		{name: "complete", doc: withHeaders(htmlDoc(good), hdr), want: nil},
		{name: "nothing", doc: htmlDoc("<html><body><p>Hello</p></body></html>"), want: []string{
			"headers error headers:0:0 ", "headers error headers:0:0 ",
			"can-spam error html:1:25 Acme Corp", "can-spam error html:1:25 500 Market Street, San Francisco, CA 94105", "can-spam error html:1:25 hello@acme.com or https://www.acme.com/contact", "can-spam error html:1:25 ",
		}},
		{name: "unsubscribe by text", doc: withHeaders(htmlDoc(strings.Replace(good, "{{ unsubscribe_link }}", "https://acme.com/prefs", 1)), hdr), want: nil},
		{name: "malformed header", doc: withHeaders(htmlDoc(good), map[string]string{"List-Unsubscribe": "https://acme.com/u", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}),
			want: []string{"headers error headers:0:0 List-Unsubscribe=One-Click", "headers error headers:0:0 https://acme.com/u"}},
	})
}

func TestLink(t *testing.T) {
	runRuleCases(t, `
  - id: secure
    kind: link
    level: error
    https: true
    placeholders: true
  - id: domains
    kind: link
    level: warning
    domains: [acme.com]
  - id: utm
    kind: link
    level: error
    utm:
      required: [utm_source, utm_medium]
      values: {utm_medium: [email]}
      domains: [acme.com]
`, []ruleCase{
		{name: "good", doc: htmlDoc(`<a href="https://www.acme.com/p?utm_source=news&amp;utm_medium=email">x</a> <a href="mailto:a@acme.com">m</a> <a href="*|UNSUB|*">u</a>`), want: nil},
		{name: "http", doc: htmlDoc(`<a href="http://acme.com/?utm_source=a&utm_medium=email">x</a>`), want: []string{"secure error html:1:10 http://acme.com/?utm_source=a&utm_medium=email"}, fix: "https://acme.com/"},
		{name: "placeholders", doc: htmlDoc(`<a href="#">a</a><a href="">b</a><a href="https://example.com/x">c</a><a>d</a>`), want: []string{
			"secure error html:1:10 #", "secure error html:1:27 ", "domains warning html:1:43 https://example.com/x", "secure error html:1:43 https://example.com/x", "secure error html:1:71 d"}},
		{name: "foreign domain", doc: htmlDoc(`<a href="https://evil.io/x">x</a>`), want: []string{"domains warning html:1:10 https://evil.io/x"}},
		{name: "utm missing", doc: htmlDoc(`<a href="https://shop.acme.com/x#top">x</a>`), want: []string{"utm error html:1:10 https://shop.acme.com/x#top"}, fix: "https://shop.acme.com/x?utm_source=…&utm_medium=email#top"},
		{name: "utm bad value", doc: htmlDoc(`<a href="https://acme.com/?utm_source=x&utm_medium=social">x</a>`), want: []string{"utm error html:1:10 https://acme.com/?utm_source=x&utm_medium=social"}, msg: "utm_medium=social"},
		// Where a tool sets the campaign's tagging, the fix names the call.
		{name: "utm missing, campaign setting", doc: setWith(htmlDoc(`<a href="https://shop.acme.com/x#top">x</a>`)), want: []string{"utm error html:1:10 https://shop.acme.com/x#top"},
			fix: `update_campaign {utm: {source: …, medium: "email"}} tags every link of the campaign; or tag this one: https://shop.acme.com/x?utm_source=…&utm_medium=email#top`},
		{name: "utm missing on a page, campaign setting", doc: func() governance.Document {
			d := setWith(htmlDoc(`<a href="https://acme.com/x?utm_source=a">x</a>`))
			d.Channel = governance.ChannelPage
			return d
		}(), want: []string{"utm error html:1:10 https://acme.com/x?utm_source=a"}, fix: `update_campaign {utm: {page_medium: "email"}}`},
		{name: "utm bad value, campaign setting", doc: setWith(htmlDoc(`<a href="https://acme.com/?utm_source=x&utm_medium=social">x</a>`)), want: []string{"utm error html:1:10 https://acme.com/?utm_source=x&utm_medium=social"},
			fix: `update_campaign {utm: {medium: "email"}} where the campaign's tagging set it`},
		{name: "unsubscribe links need no utm", doc: htmlDoc(`<a href="https://acme.com/unsubscribe">Unsubscribe</a>`), want: nil},
		{name: "malformed", doc: htmlDoc(`<a href="https://ac me.com/?utm_source=a&utm_medium=email">x</a>`), want: []string{"secure error html:1:10 https://ac me.com/?utm_source=a&utm_medium=email"}, msg: "malformed URL"},
		{name: "port, user info and upper case host", doc: htmlDoc(`<a href="HTTPS://user@WWW.Acme.com:443/x?utm_source=a&utm_medium=email">x</a>`), want: nil},
		{name: "relative link in email", doc: htmlDoc(`<a href="/pricing?utm_source=a&utm_medium=email">x</a>`), want: []string{"secure error html:1:10 /pricing?utm_source=a&utm_medium=email"}},
	})
}

func TestImage(t *testing.T) {
	runRuleCases(t, `
  - id: alt
    kind: image
    level: error
    alt: present
  - id: alt-text
    kind: image
    level: warning
    alt: nonempty
  - id: hosting
    kind: image
    level: error
    https: true
    domains: [assets.acme.com]
`, []ruleCase{
		{name: "good", doc: htmlDoc(`<img src="https://assets.acme.com/a.png" alt="Team photo"><img src="https://assets.acme.com/spacer.gif" alt="" width="1" height="1">`), want: nil},
		{name: "missing alt", doc: htmlDoc(`<img src="https://assets.acme.com/a.png">`), want: []string{"alt error html:1:1 https://assets.acme.com/a.png"}},
		{name: "empty alt on content image", doc: htmlDoc(`<img src="https://assets.acme.com/a.png" alt="" width="600">`), want: []string{"alt-text warning html:1:47 https://assets.acme.com/a.png"}},
		{name: "decorative by role", doc: htmlDoc(`<img src="https://assets.acme.com/a.png" alt="" role="presentation">`), want: nil},
		{name: "http and foreign host", doc: htmlDoc(`<img src="http://cdn.other.com/a.png" alt="x">`), want: []string{"hosting error html:1:11 http://cdn.other.com/a.png", "hosting error html:1:11 http://cdn.other.com/a.png"}},
		{name: "data uri", doc: htmlDoc(`<img src="data:image/png;base64,AAAA" alt="x">`), want: []string{"hosting error html:1:11 data:image/png;base64,AAAA"}},
	})
}

func TestStyle(t *testing.T) {
	runRuleCases(t, `
  - id: brand
    kind: style
    level: warning
    allow_colors: ["#333"]
    allow_fonts: [Roboto]
`, []ruleCase{
		{name: "brand values in every spelling", doc: htmlDoc(`<style>a{color:#0b5fff} @media (max-width:600px){ .x{ background:#FFF url(x.png) } }</style>` +
			`<td style="color: RGB(26, 26, 26); font-family: 'Helvetica', Arial, sans-serif" bgcolor="white"><font face="Georgia" color="#333333">x</font><p style="font:bold 14px/1.4 Roboto, serif;border:1px solid #0B5FFF">y</p></td>`), want: nil},
		{name: "off-brand inline colour", doc: htmlDoc(`<p style="color:#E91E63;background-color:#e91e63">x</p>`), want: []string{"brand warning html:1:17 #E91E63"}, fix: "primary #0b5fff"},
		{name: "off-brand in style block", doc: htmlDoc("<style>\n.promo { font-family: 'Comic Sans MS', cursive; }\n</style>"), want: []string{"brand warning html:2:24 Comic Sans MS"}},
		{name: "legacy attributes", doc: htmlDoc(`<td bgcolor="ff0000"><font face="Papyrus">x</font></td>`), want: []string{"brand warning html:1:14 ff0000", "brand warning html:1:34 Papyrus"}},
		{name: "every named colour", doc: htmlDoc(`<p style="color:lightblue;border:1px solid RebeccaPurple">x</p><td bgcolor="LightGoldenRodYellow">y</td>`),
			want: []string{"brand warning html:1:17 lightblue", "brand warning html:1:44 RebeccaPurple", "brand warning html:1:77 LightGoldenRodYellow"}},
		{name: "hsl and hwb", doc: htmlDoc(`<p style="color:hsl(120deg,100%,25%);background:hwb(30 0% 0% / .5)">x</p><td bgcolor="hsla(0 0% 0%)">y</td>`),
			want: []string{"brand warning html:1:17 hsl(120deg,100%,25%)", "brand warning html:1:49 hwb(30 0% 0% / .5)", "brand warning html:1:87 hsla(0 0% 0%)"}},
		{name: "hsl red is red, reported once", doc: htmlDoc(`<p style="color:red;background:hsl(0 100% 50%)">x</p>`), want: []string{"brand warning html:1:17 red"}},
		{name: "brand colours in hsl and hwb", doc: htmlDoc(`<p style="color:hsl(0 0% 100%);background:hwb(0 100% 0%);border-color:hsl(0,0%,20%)">x</p>`), want: nil},
		{name: "keywords that name no colour", doc: htmlDoc(`<p style="color:currentColor;background:transparent;border-color:inherit;outline-color:initial">x</p>`), want: nil},
		{name: "malformed values are not colours", doc: htmlDoc(`<p style="color:hsl(0 100%);background:hsl(0, 100% 50%);border-color:hwb(0, 0%, 0%);outline-color:hsl(1x 0% 0%);fill:navyblue">x</p>`), want: nil},
	})
}

func TestSize(t *testing.T) {
	big := "<html><body>" + strings.Repeat("<p>padding text</p>\n", 6000) + "</body></html>"
	mid := "<p>" + strings.Repeat("a", 95*1024) + "</p>"
	runRuleCases(t, `
  - id: gmail
    kind: size
    level: error
    warn_kb: 90
    max_kb: 102
`, []ruleCase{
		{name: "small", doc: htmlDoc("<p>hi</p>"), want: nil},
		{name: "near the limit is a warning", doc: htmlDoc(mid), want: []string{"gmail warning html:1:1 95.0 KB"}},
		{name: "clipped", doc: htmlDoc(big), want: []string{"gmail error html:5222:17 117.2 KB"}, msg: "Gmail clips"},
	})
}

func TestSubjectAndPreview(t *testing.T) {
	doc := func(subject, preview string) governance.Document {
		d := governance.Document{ArtifactID: "eml_1", Channel: "email"}
		if subject != "-" {
			d.Fields = append(d.Fields, governance.Field{Name: "subject", Value: subject})
		}
		if preview != "-" {
			d.Fields = append(d.Fields, governance.Field{Name: "preview_text", Value: preview})
		}
		return d
	}
	runRuleCases(t, `
  - id: subject
    kind: subject
    level: error
    required: true
    max_length: 30
    all_caps: true
    exceptions: [ACME]
    spam_words: ["100% free", winner]
  - id: preview
    kind: preview_text
    level: warning
    required: true
    min_length: 20
`, []ruleCase{
		{name: "good", doc: doc("ACME news for March", "A short look at what changed"), want: nil},
		{name: "missing both", doc: doc("-", ""), want: []string{"preview warning preview_text:0:0 ", "subject error subject:0:0 "}},
		{name: "too long, caps, spam", doc: doc("Winner! FREE upgrade, 100% free for you today", "A short look at what changed"), want: []string{
			"subject error subject:1:1 Winner", "subject error subject:1:9 FREE", "subject error subject:1:23 100% free", "subject error subject:1:31 Winner! FREE upgrade, 100% free for you today"}},
		{name: "preview too short", doc: doc("Hello", "Hi there"), want: []string{"preview warning preview_text:1:1 Hi there"}},
	})
}

func TestTokens(t *testing.T) {
	on := func(platform, html string) governance.Document {
		d := htmlDoc(html)
		d.Platform = platform
		return d
	}
	runRuleCases(t, `
  - id: tokens
    kind: tokens
    level: error
    exceptions: [contact.email]
`, []ruleCase{
		{name: "liquid with fallback", doc: on("local", `<p>Hi {{ contact.firstname | default: "there" }}, {{ unsubscribe_link }} {{ contact.email }}</p>`), want: nil},
		{name: "liquid without fallback", doc: on("local", `<p>Hi {{ contact.firstname }},</p>`), want: []string{"tokens error html:1:7 {{ contact.firstname }}"}, fix: `{{ contact.firstname | default: "there" }}`},
		{name: "empty fallback", doc: on("local", `<p>Hi {{contact.firstname|default:""}}</p>`), want: []string{`tokens error html:1:7 {{contact.firstname|default:""}}`}, msg: "empty fallback"},
		{name: "hubspot token with default", doc: on("hubspot", `<p>Hi {{ personalization_token('contact.firstname', 'there') }}</p>`), want: nil},
		{name: "hubspot token without default", doc: on("hubspot", `<p>Hi {{ personalization_token('contact.firstname') }}</p>`), want: []string{"tokens error html:1:7 {{ personalization_token('contact.firstname') }}"}, fix: "personalization_token('contact.firstname', 'there')"},
		// lastmile's own syntax is translated by the HubSpot connector.
		{name: "lastmile syntax on hubspot", doc: on("hubspot", `<p>Hi {{ contact.firstname | default: "there" }}</p>`), want: nil},
		{name: "hubspot syntax on local", doc: on("local", `<p>Hi {{ personalization_token('contact.firstname', 'there') }}</p>`), want: []string{
			`lastmile.target-cannot-render error html:1:7 {{ personalization_token('contact.firstname', 'there') }}`,
			`tokens error html:1:7 {{ personalization_token('contact.firstname', 'there') }}`}, msg: "local cannot render"},
		{name: "mailchimp merge tag is a warning naming the merge field", doc: on("mailchimp", `<p>Hi *|FNAME|*, *|UNSUB|* *|IF:FNAME|* *|LIST:ADDRESS|*</p>`), want: []string{"tokens warning html:1:7 *|FNAME|*"}, fix: "default value for the FNAME merge field"},
		{name: "merge tag on local", doc: on("local", `<p>Hi *|FNAME|*</p>`), want: []string{"tokens error html:1:7 *|FNAME|*"}},
		{name: "token in href", doc: on("local", `<a href="https://acme.com/?id={{ contact.id }}">x</a>`), want: []string{"tokens error html:1:31 {{ contact.id }}"}},
		{name: "unterminated", doc: on("local", `<p>Hi {{ contact.firstname</p>`), want: []string{"tokens error html:1:7 {{ contact.firstname</p>"}},
		{name: "subject too", doc: governance.Document{ArtifactID: "eml_1", Channel: "email", Platform: "local", Fields: []governance.Field{{Name: "subject", Value: "{{ contact.firstname }}, news"}}},
			want: []string{"tokens error subject:1:1 {{ contact.firstname }}"}},
	})
}

func TestConsent(t *testing.T) {
	seg := func(markets []string, props ...string) governance.Document {
		return governance.Document{ArtifactID: "seg_1", Channel: "segment", Markets: markets, Recipients: 1000, SegmentProperties: props}
	}
	runRuleCases(t, `
  - id: consent
    kind: consent
    level: error
    markets: [EU, UK, CA]
    property: marketing_consent
`, []ruleCase{
		{name: "EU without consent filter", doc: seg([]string{"DE"}, "lifecyclestage"), want: []string{"consent error segment_properties:0:0 lifecyclestage"}, fix: `"marketing_consent"`},
		{name: "UK alias", doc: seg([]string{"GB"}), want: []string{"consent error segment_properties:0:0 "}},
		{name: "with consent filter", doc: seg([]string{"CA", "US"}, "Marketing_Consent"), want: nil},
		{name: "US only", doc: seg([]string{"US"}), want: nil},
		{name: "emails are not segments", doc: func() governance.Document { d := htmlDoc("<p>x</p>"); d.Markets = []string{"DE"}; return d }(), want: nil},
	})
}

func TestApprovals(t *testing.T) {
	p := loadSample(t)
	tests := []struct {
		in    governance.ApprovalInput
		count int
		roles []string
	}{
		{governance.ApprovalInput{Markets: []string{"US"}, Industry: "retail", MaxRecipients: 500, Channels: []string{"email"}}, 1, nil},
		{governance.ApprovalInput{Markets: []string{"US"}, Industry: "retail", MaxRecipients: 10001}, 2, nil},
		{governance.ApprovalInput{Markets: []string{"US"}, Industry: "retail", MaxRecipients: 10000}, 1, nil},
		{governance.ApprovalInput{Markets: []string{"DE"}, Industry: "retail", MaxRecipients: 100}, 1, []string{"legal"}},
		{governance.ApprovalInput{Markets: []string{"DE"}, Industry: "finserv", MaxRecipients: 50000}, 2, []string{"compliance", "legal"}},
		{governance.ApprovalInput{Markets: []string{"US"}, Industry: "retail", MaxRecipients: -1}, 2, nil},
	}
	for _, tt := range tests {
		got := p.Approvals(tt.in)
		if got.Count != tt.count || !slices.Equal(got.Roles, tt.roles) || (tt.count > 1 || len(tt.roles) > 0) != (len(got.Reasons) > 0) {
			t.Errorf("Approvals(%+v) = %+v, want count %d roles %v", tt.in, got, tt.count, tt.roles)
		}
	}
}

func TestFindingCapAndOrder(t *testing.T) {
	p := mustParse(t, `
  - id: w
    kind: existence
    level: warning
    tokens: [spam]
  - id: e
    kind: existence
    level: error
    tokens: [eggs]
`)
	html := "<p>eggs " + strings.Repeat("spam ", 80) + "</p>"
	d2 := htmlDoc("<p>eggs</p>")
	d2.ArtifactID = "eml_0"
	rep := p.Check([]governance.Document{htmlDoc(html), d2})
	if len(rep.Findings) != 53 || rep.Errors != 2 || rep.Warnings != 51 || rep.Passed {
		t.Fatalf("got %d findings (%d errors, %d warnings), want 2 + 50 + 1 summary", len(rep.Findings), rep.Errors, rep.Warnings)
	}
	if f := rep.Findings[0]; f.ArtifactID != "eml_0" {
		t.Errorf("findings not sorted by artifact: first is %+v", f)
	}
	sum := rep.Findings[1]
	if sum.Rule != "w" || !strings.Contains(sum.Message, "and 30 more") || sum.Line != 0 {
		t.Errorf("summary finding = %+v", sum)
	}
	again := p.Check([]governance.Document{htmlDoc(html), d2})
	if !slices.Equal(render(rep.Findings), render(again.Findings)) {
		t.Error("Check is not deterministic")
	}
	acked := []string{rep.Findings[3].Fingerprint()}
	if n := len(rep.ToAcknowledge(acked)); n != rep.Warnings-1 {
		t.Errorf("ToAcknowledge left %d warnings, want %d", n, rep.Warnings-1)
	}
	if len(rep.Blocking()) != 2 {
		t.Errorf("Blocking() = %d, want 2", len(rep.Blocking()))
	}
}

func TestSelectors(t *testing.T) {
	p := mustParse(t, `
  - id: de-only
    kind: existence
    level: error
    tokens: [x]
    markets: [DE]
    channels: [page]
  - id: big
    kind: existence
    level: warning
    tokens: [x]
    min_recipients: 5000
`)
	doc := func(ch string, markets []string, n int) governance.Document {
		return governance.Document{ArtifactID: "a", Channel: ch, Markets: markets, Recipients: n, Fields: []governance.Field{{Name: "title", Value: "x"}}}
	}
	tests := []struct {
		d    governance.Document
		want []string
	}{
		{doc("page", []string{"DE"}, 10), []string{"de-only"}},
		{doc("email", []string{"DE"}, 10), nil},
		{doc("page", []string{"FR"}, 10), nil},
		{doc("email", []string{"FR"}, 5000), []string{"big"}},
		{doc("email", []string{"FR"}, -1), []string{"big"}},
		{doc("page", nil, 10), []string{"de-only"}},
	}
	for _, tt := range tests {
		var got []string
		for _, f := range p.Check([]governance.Document{tt.d}).Findings {
			got = append(got, f.Rule)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%+v: rules %v, want %v", tt.d, got, tt.want)
		}
	}
}

func TestSummary(t *testing.T) {
	s := loadSample(t).Summary()
	for _, want := range []string{"# Acme Corp brand & compliance policy", "primary `#0b5fff`", "Helvetica, Arial, sans-serif", "500 Market Street",
		"### `legal.finserv-past-performance` (error, required_text)", "must contain: \"Past performance is not indicative of future results.\"",
		"industries finserv", "**legal**: dana.weiss@acme.com", "2 approver(s) for an audience of 10001 or more", "### `tokens.fallbacks`", "sha256:"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	if !strings.Contains(governance.Default().Summary(), "No rules are configured") {
		t.Error("Default summary does not say there are no rules")
	}
}

func TestTokenGuards(t *testing.T) {
	on := func(platform, html string) governance.Document {
		d := htmlDoc(html)
		d.Platform = platform
		return d
	}
	runRuleCases(t, `
  - id: tokens
    kind: tokens
    level: error
`, []ruleCase{
		{name: "liquid if guard", doc: on("local", `<p>Hi{% if contact.firstname %} {{ contact.firstname }}{% endif %},</p>`), want: nil},
		{name: "guard on another value", doc: on("local", `<p>{% if contact.company %}{{ contact.firstname }}{% endif %}</p>`), want: []string{"tokens error html:1:28 {{ contact.firstname }}"}},
		{name: "after the guard", doc: on("local", `<p>{% if contact.firstname %}x{% endif %} {{ contact.firstname }}</p>`), want: []string{"tokens error html:1:43 {{ contact.firstname }}"}},
		{name: "mailchimp IF block", doc: on("mailchimp", `<p>Hi*|IF:FNAME|* *|FNAME|**|END:IF|*,</p>`), want: nil},
	})
}

func TestMerge(t *testing.T) {
	p := loadSample(t)
	docs := loadCampaign(t, "../testdata/governance/campaigns/finserv-quarterly.json")
	docs = append(docs, loadCampaign(t, "../testdata/governance/campaigns/health-de.json")...)
	whole := p.Check(docs)
	var parts []governance.Report
	for i := len(docs) - 1; i >= 0; i-- {
		parts = append(parts, p.Check(docs[i:i+1]))
	}
	merged := governance.Merge(parts...)
	if !slices.Equal(render(whole.Findings), render(merged.Findings)) || whole.Errors != merged.Errors || whole.Warnings != merged.Warnings || whole.Passed != merged.Passed {
		t.Errorf("Merge of per-document reports differs from one Check:\n%v\n%v", render(whole.Findings), render(merged.Findings))
	}
	if m := governance.Merge(); !m.Passed || m.Findings == nil {
		t.Errorf("Merge() = %+v, want an empty passing report", m)
	}
}

// TestConcurrentCheck: a Policy is shared by every tool call; Check must
// not write to it (run with -race).
func TestConcurrentCheck(t *testing.T) {
	p := loadSample(t)
	docs := loadCampaign(t, "../testdata/governance/campaigns/finserv-quarterly.json")
	want := render(p.Check(docs).Findings)
	done := make(chan []string)
	for range 4 {
		go func() { done <- render(p.Check(docs).Findings) }()
	}
	for range 4 {
		if got := <-done; !slices.Equal(got, want) {
			t.Error("concurrent Check differs")
		}
	}
}

// TestTargetCannotRender: what a target cannot render of lastmile's
// personalization language is an error naming the target, whatever the
// policy (here: none); what it can render passes.
func TestTargetCannotRender(t *testing.T) {
	p, err := governance.Parse("p.yaml", []byte("rules: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"local", "hubspot", "mailchimp", "wordpress"}
	tests := []struct {
		in      string
		fails   []string // the targets it fails on
		because string
	}{
		{`Hi {{ contact.firstname | default: "there" }} <a href="{{ unsubscribe_url }}">x</a>`, nil, ""},
		{`{% if contact.plan == "pro" %}a{% elsif contact.seats > 3 %}b{% elsif contact.seats < 2 %}c{% elsif contact.plan != "x" %}d{% else %}e{% endif %}`, nil, ""},
		{`{% if contact.city contains "port" %}x{% endif %}`, []string{"mailchimp"}, "cannot test contains"},
		{`{% if contact.plan == "a*b" %}x{% endif %}`, []string{"mailchimp"}, "cannot hold | or *"},
		{`{% if contact.first-name %}x{% endif %}`, []string{"hubspot"}, "letters, digits and _"},
		{`{% for p in products %}x{% endfor %}`, all, "{% for %} is not rendered"},
		{`{% assign x = 1 %}`, all, "{% assign %} is not rendered"},
		{`{% unless contact.vip %}x{% endunless %}`, all, "{% unless %} is not rendered"},
		{`{% if contact.a %}x{% elif contact.b %}y{% endif %}`, all, "{% elif %} is not rendered"},
		{`{% if contact.a %}x`, all, "without its {% endif %}"},
		// A filter other than default: HubSpot renders {{ }} HubL as it stands.
		{`{{ contact.firstname | upcase }}`, []string{"local", "mailchimp", "wordpress"}, "only {{ contact.property }}"},
	}
	for _, tc := range tests {
		for _, platform := range all {
			d := htmlDoc(tc.in)
			d.Platform = platform
			var got []governance.Finding
			for _, f := range p.Check([]governance.Document{d}).Findings {
				if f.Rule == "lastmile.target-cannot-render" {
					got = append(got, f)
				}
			}
			if want := slices.Contains(tc.fails, platform); want != (len(got) > 0) {
				t.Errorf("%s on %s: %+v, want an error: %v", tc.in, platform, got, want)
				continue
			}
			if len(got) > 0 && (got[0].Level != governance.LevelError || !strings.HasPrefix(got[0].Message, platform+" cannot render ") || !strings.Contains(got[0].Message, tc.because)) {
				t.Errorf("%s on %s: %+v, want an error naming %s because %q", tc.in, platform, got[0], platform, tc.because)
			}
		}
	}
}
