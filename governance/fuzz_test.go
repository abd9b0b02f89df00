package governance_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/governance/internal/corpus"
)

var loadErrorLine = regexp.MustCompile(`^fuzz\.yaml:[1-9][0-9]*:[1-9][0-9]*: .+`)

// FuzzParse: any bytes give a policy or positioned load errors, never a
// panic; a policy that loads hashes stably and can check documents.
func FuzzParse(f *testing.F) {
	f.Add(readFile(f, samplePolicy))
	if b, err := governance.BaselinePolicy(governance.BrandAnswers{}); err == nil {
		f.Add(b)
	}
	f.Add([]byte(loadPrefix + "  - id: a\n    kind: existence\n    level: error\n    tokens: [x]\n"))
	f.Add([]byte("rules:\n  - id: a\n    kind: link\n    level: error\n    utm: {required: [utm_source], values: {utm_medium: [email]}}\n"))
	f.Add([]byte("rules:\n  - id: a\n    kind: conditional\n    level: warning\n    first: '(a'\n    second: b\n"))
	f.Add([]byte("x: &a [*a, *a]\n"))
	f.Add([]byte("rules: [{id: a, kind: approvals, roles: [legal]}]\nroles: {legal: [x]}\n"))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("\t"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := governance.Parse("fuzz.yaml", data)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !loadErrorLine.MatchString(line) {
					t.Fatalf("load error without position: %q", line)
				}
			}
			return
		}
		p2, err := governance.Parse("fuzz.yaml", data)
		if err != nil || p2.Hash() != p.Hash() {
			t.Fatalf("second parse differs: %v", err)
		}
		_ = p.Summary()
		p.Approvals(governance.ApprovalInput{Markets: []string{"DE"}, MaxRecipients: -1})
		p.Check([]governance.Document{
			{ArtifactID: "eml_1", Channel: "email", Recipients: -1, Fields: []governance.Field{
				{Name: "subject", Value: "Hello {{ contact.firstname }}"},
				{Name: "html", HTML: true, Value: `<h1>Hi</h1><a href="http://x">y</a><img src="z"><p style="color:red">guaranteed</p>`}}},
			{ArtifactID: "seg_1", Channel: "segment", Markets: []string{"DE"}},
		})
	})
}

// FuzzCheck: any HTML and subject give a well-formed, deterministic report
// under the sample policy.
func FuzzCheck(f *testing.F) {
	p := loadSample(f)
	for i, e := range corpus.Generate(3, 1) {
		f.Add(e.HTML, e.Subject, []string{"local", "hubspot", "mailchimp"}[i])
	}
	f.Add(`<table><tr><td><h1>Get Started Today</h1><a href="#">x</a></td></tr></table>`, "FREE!!!", "local")
	f.Add(`<p>{{ contact.firstname }} *|FNAME|* {{ personalization_token('a.b') }} {{`, "", "mailchimp")
	f.Add("<style>a{color:#ff0000;font:12px/1 Comic Sans}</style><font face=x color=y>&#x110000;&zwnj;</font>", "\xff", "wordpress")
	f.Add(strings.Repeat("<table><tr><td>", 500), "x", "")
	f.Fuzz(func(t *testing.T, html, subject, platform string) {
		doc := governance.Document{ArtifactID: "eml_f", Channel: "email", Markets: []string{"US", "CA"}, Industry: "finserv", Recipients: -1, Platform: platform,
			Fields: []governance.Field{{Name: "subject", Value: subject}, {Name: "html", HTML: true, Value: html}, {Name: "text", Value: html}}}
		rep := p.Check([]governance.Document{doc})
		if rep.Passed != (rep.Errors == 0) || rep.Errors+rep.Warnings+rep.Suggestions != len(rep.Findings) {
			t.Fatalf("inconsistent counts: %+v", rep)
		}
		values := map[string]string{"subject": subject, "html": html, "text": html}
		for _, f := range rep.Findings {
			if f.Rule == "" || f.Message == "" || f.ArtifactID != "eml_f" {
				t.Fatalf("incomplete finding %+v", f)
			}
			if v, ok := values[f.Field]; ok && f.Line > 0 {
				if lines := strings.Count(v, "\n") + 1; f.Line > lines || f.Col < 1 {
					t.Fatalf("position %d:%d outside field %s (%d lines): %+v", f.Line, f.Col, f.Field, lines, f)
				}
			}
		}
		again := p.Check([]governance.Document{doc})
		if !slices.Equal(render(rep.Findings), render(again.Findings)) {
			t.Fatal("Check is not deterministic")
		}
	})
}

// FuzzBaselinePolicy: answers that validate always give a policy that loads
// and keeps them as given (the YAML quoting holds for any text).
func FuzzBaselinePolicy(f *testing.F) {
	f.Add("Northwind Coffee Roasters", "1 Bean Street, Portland, OR 97201, USA", "https://northwind.coffee", "Northwind", "food", "Georgia, serif")
	f.Add(`"Q" & #x: y`, "line 1\nline 2: 'x' # not a comment", "https://a.example.org/x?y=1#z", "A: B", "retail", "'Playfair Display', serif")
	f.Add("\u2028", "- [x]", "", "{}", "", "")
	f.Fuzz(func(t *testing.T, company, address, website, fromName, industry, font string) {
		a := governance.BrandAnswers{Company: company, PostalAddress: address, Website: website, FromName: fromName, Industry: industry, BodyFont: font}
		if a.Validate() != nil {
			return
		}
		src, err := governance.BaselinePolicy(a)
		if err != nil {
			t.Fatalf("valid answers give no policy: %v", err)
		}
		p, err := governance.Parse("policy.yaml", src)
		if err != nil {
			t.Fatalf("the baseline does not load: %v", err)
		}
		n := a.Normalize()
		if ft := p.Brand().Footer; ft.Company != n.Company || ft.PostalAddress != n.PostalAddress {
			t.Errorf("footer %+v; want %q, %q", ft, n.Company, n.PostalAddress)
		}
	})
}
