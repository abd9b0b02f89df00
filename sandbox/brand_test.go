package sandbox_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/content"
)

func northwindPolicy(t *testing.T, a governance.BrandAnswers) *governance.Policy {
	t.Helper()
	src, err := governance.BaselinePolicy(a)
	if err != nil {
		t.Fatal(err)
	}
	p, err := governance.Parse("policy.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func northwindAnswers() governance.BrandAnswers {
	return governance.BrandAnswers{
		Company: "Northwind Coffee Roasters", PostalAddress: "1 Bean Street\nPortland, OR 97201, USA", Website: "https://northwind.coffee",
		FromName: "Northwind Coffee", FromEmail: "hello@northwind.coffee", Markets: []string{"US", "CA"}, Industry: "food",
		Colors:   map[string]string{"primary": "#6f4e37", "text": "#222222", "background": "#fffdf8", "button": "#c8553d"},
		BodyFont: "Georgia, serif", HeadingFont: "'Playfair Display', Georgia, serif",
		LogoURL: "https://cdn.northwind.coffee/logo.png", LogoAlt: "Northwind Coffee Roasters",
	}
}

var northwindBlocks = []content.Block{
	{Cell: content.Cell{Type: content.TypeHeading, Text: "Our spring roasts are here"}},
	{Cell: content.Cell{Type: content.TypeParagraph, Text: "Hi {{ contact.firstname | default: \"there\" }},\n\nThree single origins just left the roaster. [Read the tasting notes](https://northwind.coffee/notes)."}},
	{Cell: content.Cell{Type: content.TypeImage, Src: "https://cdn.northwind.coffee/spring.jpg", Alt: "Three bags of spring roast", Width: 552}},
	{Cell: content.Cell{Type: content.TypeButton, Text: "Shop the roasts", URL: "https://northwind.coffee/shop"}},
	{Cell: content.Cell{Type: content.TypeDivider}},
}

// An email built from blocks under a non-Acme brand carries that brand's
// logo and footer, nothing else, and the policy finds nothing wrong with
// what the renderer wrote.
func TestBlockEmailUnderOwnBrand(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{policy: northwindPolicy(t, northwindAnswers())})
	c, err := e.sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "Spring roasts", UTM: sandbox.UTM{Source: "newsletter", Medium: "email", Campaign: "spring"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.sb.StageEmail(ctx, "test", sandbox.EmailInput{
		CampaignID: c.ID, Name: "Spring", Subject: "Three new spring roasts", PreviewText: "Single origins, fresh from the roaster.",
		FromName: "Northwind Coffee", FromEmail: "hello@northwind.coffee", Blocks: northwindBlocks,
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := e.sb.Check(ctx, sandbox.CheckScope{ArtifactID: r.Artifact.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 0 {
		var lines []string
		for _, f := range rep.Findings {
			lines = append(lines, f.Rule+" "+f.Level+" "+f.Field+": "+f.Message)
		}
		t.Fatalf("the renderer's own output has findings:\n%s", strings.Join(lines, "\n"))
	}
	got, err := e.sb.GetArtifact(ctx, r.Artifact.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	html := got.Revision.Email.HTML
	for _, want := range []string{"https://cdn.northwind.coffee/logo.png", "Northwind Coffee Roasters", "1 Bean Street", "https://northwind.coffee", "#c8553d"} {
		if !strings.Contains(html, want) {
			t.Errorf("rendered email lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(html+got.Revision.Email.Text), "acme") {
		t.Errorf("rendered email mentions Acme:\n%s", html)
	}
}

// Under the unbranded baseline a block email has no logo and no footer
// identity, and the findings say what a human must set, not what to copy.
func TestBlockEmailUnbranded(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{policy: northwindPolicy(t, governance.BrandAnswers{})})
	c, err := e.sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "First", Markets: []string{"US"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.sb.StageEmail(ctx, "test", sandbox.EmailInput{CampaignID: c.ID, Name: "First", Subject: "Hello from us", FromName: "Us", FromEmail: "hi@us.example.org", Blocks: northwindBlocks})
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := e.sb.Check(ctx, sandbox.CheckScope{ArtifactID: r.Artifact.ID})
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]bool{}
	for _, f := range rep.Findings {
		rules[f.Rule] = true
		if !strings.Contains(f.Fix, "lastmile init") {
			t.Errorf("%s: fix %q does not send a human to lastmile init", f.Rule, f.Fix)
		}
		if strings.Contains(strings.ToLower(f.Message+f.Fix), "acme") {
			t.Errorf("finding mentions Acme: %s", f.Message)
		}
	}
	for _, want := range []string{"footer.can-spam", "footer.identity"} {
		if !rules[want] {
			t.Errorf("no %s finding; got %v", want, rules)
		}
	}
}

// Campaigns that state no industry or markets inherit the policy's
// defaults, and rules then select on the inherited values: a food
// company's campaign gets no finserv disclaimer.
func TestCampaignInheritsPolicyDefaults(t *testing.T) {
	ctx := context.Background()
	const rules = `
defaults:
  industry: food
  markets: [US, CA]
brand:
  footer: {company: Northwind Coffee Roasters, postal_address: "1 Bean Street, Portland, OR 97201, USA", contact_url: "https://northwind.coffee"}
rules:
  - id: legal.finserv-past-performance
    kind: required_text
    level: error
    industries: [finserv]
    text: Past performance is not indicative of future results.
`
	withDefaults, err := governance.Parse("policy.yaml", []byte(rules))
	if err != nil {
		t.Fatal(err)
	}
	withoutDefaults, err := governance.Parse("policy.yaml", []byte(strings.Replace(rules, "defaults:\n  industry: food\n  markets: [US, CA]\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	stage := func(p *governance.Policy, in sandbox.CampaignInput) (*sandbox.Campaign, *governance.Report) {
		e := newEnv(t, envOptions{policy: p})
		c, err := e.sb.CreateCampaign(ctx, "test", in)
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.sb.StageEmail(ctx, "test", sandbox.EmailInput{CampaignID: c.ID, Name: "Spring", Subject: "Spring roasts", FromName: "Northwind", FromEmail: "hello@northwind.coffee", Blocks: northwindBlocks})
		if err != nil {
			t.Fatal(err)
		}
		rep, _, err := e.sb.Check(ctx, sandbox.CheckScope{ArtifactID: r.Artifact.ID})
		if err != nil {
			t.Fatal(err)
		}
		return c, rep
	}
	has := func(rep *governance.Report, rule string) bool {
		return slices.ContainsFunc(rep.Findings, func(f governance.Finding) bool { return f.Rule == rule })
	}

	c, rep := stage(withDefaults, sandbox.CampaignInput{Name: "Spring"})
	if c.Industry != "food" || !slices.Equal(c.Markets, []string{"US", "CA"}) {
		t.Errorf("campaign = industry %q markets %v; want the policy's food, [US CA]", c.Industry, c.Markets)
	}
	if has(rep, "legal.finserv-past-performance") {
		t.Errorf("a food campaign needs the finserv legend: %+v", rep.Findings)
	}

	c, rep = stage(withDefaults, sandbox.CampaignInput{Name: "Fund launch", Industry: "finserv", Markets: []string{"GB"}})
	if c.Industry != "finserv" || !slices.Equal(c.Markets, []string{"GB"}) {
		t.Errorf("stated metadata was overridden: %q %v", c.Industry, c.Markets)
	}
	if !has(rep, "legal.finserv-past-performance") {
		t.Errorf("a finserv campaign misses the legend rule")
	}

	// Without defaults, a campaign that says nothing gets every rule.
	_, rep = stage(withoutDefaults, sandbox.CampaignInput{Name: "Spring"})
	if !has(rep, "legal.finserv-past-performance") {
		t.Errorf("without defaults, an unstated industry must still match the finserv rule")
	}
}
