package governance_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/governance"
)

func northwind() governance.BrandAnswers {
	return governance.BrandAnswers{
		Company:        "Northwind Coffee Roasters",
		PostalAddress:  "1 Bean Street, Portland, OR 97201, USA",
		Website:        "https://northwind.coffee",
		SendingDomains: []string{"northwind.coffee"},
		FromName:       "Northwind Coffee",
		FromEmail:      "hello@northwind.coffee",
		Markets:        []string{"US", "CA"},
		Industry:       "food",
		Colors:         map[string]string{"primary": "#6F4E37", "text": "#222222", "background": "#FFFDF8", "link": "#6F4E37", "button": "#C8553D"},
		BodyFont:       "Georgia, serif",
		HeadingFont:    "'Playfair Display', Georgia, serif",
		LogoURL:        "https://cdn.northwind.coffee/brand/logo.png",
		LogoAlt:        "Northwind Coffee Roasters",
		Approvers:      map[string][]string{"marketing": {"ana@northwind.coffee"}},
	}
}

func baseline(t *testing.T, a governance.BrandAnswers) (*governance.Policy, []byte) {
	t.Helper()
	src, err := governance.BaselinePolicy(a)
	if err != nil {
		t.Fatalf("BaselinePolicy: %v", err)
	}
	p, err := governance.Parse("policy.yaml", src)
	if err != nil {
		t.Fatalf("the baseline does not load: %v\n%s", err, src)
	}
	return p, src
}

const northwindFooter = `<p style="color:#222222;font-family:Georgia, serif;">Northwind Coffee Roasters<br>1 Bean Street, Portland, OR 97201, USA</p>` +
	`<p><a href="https://northwind.coffee/contact" style="color:#6F4E37;">Contact us</a> · <a href="{{ unsubscribe_url }}" style="color:#6F4E37;">Unsubscribe</a></p>`

func northwindEmail(footer string) governance.Document {
	html := `<!DOCTYPE html><html><head><title>Spring roasts</title></head><body style="background-color:#FFFDF8;">` +
		`<h1 style="font-family:'Playfair Display', Georgia, serif;color:#222222;">Our spring roasts are here</h1>` +
		`<img src="https://cdn.northwind.coffee/spring/beans.jpg" alt="A bag of spring roast beans" width="600">` +
		`<p style="font-family:Georgia, serif;color:#222222;">Hi {{ contact.firstname | default: "there" }}, three new single origins just left the roaster.</p>` +
		`<p><a href="https://northwind.coffee/shop/spring" style="background-color:#C8553D;color:#FFFFFF;">Shop the roasts</a></p>` +
		footer + `</body></html>`
	text := "Our spring roasts are here\n\nShop: https://northwind.coffee/shop/spring\n\nNorthwind Coffee Roasters\n1 Bean Street, Portland, OR 97201, USA\nContact: https://northwind.coffee/contact\nUnsubscribe: {{ unsubscribe_url }}\n"
	if footer == "" {
		text = "Our spring roasts are here\n\nShop: https://northwind.coffee/shop/spring\n\nNorthwind Coffee Roasters\nContact: https://northwind.coffee/contact\nUnsubscribe: {{ unsubscribe_url }}\n"
	}
	return governance.Document{
		ArtifactID: "eml_spring", Channel: governance.ChannelEmail, Markets: []string{"US", "CA"}, Industry: "food",
		Recipients: 1200, Platform: "local",
		Fields: []governance.Field{
			{Name: "subject", Value: "Three new spring roasts"},
			{Name: "from_name", Value: "Northwind Coffee"},
			{Name: "html", HTML: true, Value: html},
			{Name: "text", Value: text},
		},
		Headers: map[string]string{"List-Unsubscribe": "<https://northwind.coffee/u/abc>, <mailto:unsubscribe@northwind.coffee>"},
	}
}

// lastmile init with flags for a coffee roaster: a compliant email of
// theirs passes, and the same email without their postal address is
// blocked by an error that names the address.
func TestBaselineNorthwind(t *testing.T) {
	p, src := baseline(t, northwind())
	if bytes.Contains(bytes.ToLower(src), []byte("acme")) {
		t.Errorf("the baseline mentions Acme:\n%s", src)
	}
	if ind, mk := p.Defaults(); ind != "food" || !slices.Equal(mk, []string{"US", "CA"}) {
		t.Errorf("Defaults() = %q, %v; want food, [US CA]", ind, mk)
	}
	if n, e := p.Sender(); n != "Northwind Coffee" || e != "hello@northwind.coffee" {
		t.Errorf("Sender() = %q, %q", n, e)
	}
	if u := p.Unset(); len(u) != 0 || p.UnsetNote() != "" {
		t.Errorf("Unset() = %v; want nothing", u)
	}
	if s := p.Summary(); !strings.Contains(s, "- Industry: food") || !strings.Contains(s, "Northwind Coffee <hello@northwind.coffee>") || strings.Contains(s, "Brand not set") {
		t.Errorf("Summary does not show the defaults:\n%s", s)
	}
	if got := p.RoleMembers("marketing"); !slices.Equal(got, []string{"ana@northwind.coffee"}) {
		t.Errorf("marketing role = %v", got)
	}

	rep := p.Check([]governance.Document{northwindEmail(northwindFooter)})
	if rep.Errors != 0 || rep.Warnings != 0 {
		t.Fatalf("a compliant Northwind email has findings:\n%s", strings.Join(render(rep.Findings), "\n"))
	}

	noAddress := strings.Replace(northwindFooter, "<br>1 Bean Street, Portland, OR 97201, USA", "", 1)
	rep = p.Check([]governance.Document{northwindEmail(noAddress)})
	var got []governance.Finding
	for _, f := range rep.Findings {
		if f.Level == governance.LevelError {
			got = append(got, f)
		}
	}
	if len(got) == 0 {
		t.Fatalf("the email without the postal address passes: %v", render(rep.Findings))
	}
	for _, f := range got {
		if f.Rule != "footer.can-spam" || !strings.Contains(f.Message, "1 Bean Street, Portland, OR 97201, USA") {
			t.Errorf("want only footer.can-spam errors naming the address; got %s: %s", f.Rule, f.Message)
		}
		if strings.Contains(strings.ToLower(f.Message+f.Fix), "acme") {
			t.Errorf("finding mentions Acme: %+v", f)
		}
	}
}

// Empty answers give the unbranded baseline: it loads, names no company,
// and the rules that need a company value say it is not set and that a
// human sets it with lastmile init.
func TestBaselineUnbranded(t *testing.T) {
	p, src := baseline(t, governance.BrandAnswers{})
	if bytes.Contains(bytes.ToLower(src), []byte("acme")) {
		t.Errorf("the unbranded baseline mentions Acme")
	}
	want := []string{governance.UnsetCompany, governance.UnsetPostalAddress, governance.UnsetContact}
	if got := p.Unset(); !slices.Equal(got, want) {
		t.Errorf("Unset() = %v; want %v", got, want)
	}
	if note := p.UnsetNote(); !strings.Contains(note, "lastmile init") || !strings.Contains(note, "postal address") {
		t.Errorf("UnsetNote() = %q", note)
	}
	if s := p.Summary(); !strings.Contains(s, "**Brand not set.**") || !strings.Contains(s, "`lastmile init`") {
		t.Errorf("Summary does not say the brand is not set:\n%s", s)
	}
	if ind, mk := p.Defaults(); ind != "" || mk != nil {
		t.Errorf("Defaults() = %q, %v; want none", ind, mk)
	}
	for _, r := range p.Rules() {
		if slices.Contains(r.Industries, "finserv") || slices.Contains(r.Industries, "health") {
			t.Errorf("rule %s requires industry disclaimers although no industry was given", r.ID)
		}
	}

	doc := northwindEmail(northwindFooter)
	doc.Markets = []string{"US", "CA"}
	rep := p.Check([]governance.Document{doc})
	byRule := map[string]governance.Finding{}
	for _, f := range rep.Findings {
		if f.Field == "html" {
			byRule[f.Rule] = f
		}
	}
	for rule, key := range map[string]string{"footer.can-spam": governance.UnsetPostalAddress, "footer.identity": governance.UnsetCompany, "footer.casl": governance.UnsetContact} {
		f, ok := byRule[rule]
		if !ok {
			t.Errorf("%s reports nothing although %s is not set: %v", rule, key, render(rep.Findings))
			continue
		}
		if f.Level != governance.LevelError || !strings.Contains(f.Message, key+" is not set") || !strings.Contains(f.Fix, "A human runs `lastmile init`") {
			t.Errorf("%s: %s %q fix %q", rule, f.Level, f.Message, f.Fix)
		}
	}
	// Markets outside the US do not need the CAN-SPAM address.
	doc.Markets = []string{"JP"}
	rep = p.Check([]governance.Document{doc})
	for _, f := range rep.Findings {
		if f.Rule == "footer.can-spam" {
			t.Errorf("CAN-SPAM applied to a JP email: %+v", f)
		}
	}
}

// The approval section is the sample's, word for word, comment included.
func TestBaselineApprovalSectionIsTheSample(t *testing.T) {
	sample := string(readFile(t, "../testdata/policy/acme.yaml"))
	start := strings.Index(sample, "# Which approval channels count")
	end := strings.Index(sample, "    cli: {}\n")
	if start < 0 || end < 0 {
		t.Fatal("the sample has no approval section")
	}
	section := sample[start : end+len("    cli: {}\n")]
	for _, a := range []governance.BrandAnswers{{}, northwind()} {
		_, src := baseline(t, a)
		if !strings.Contains(string(src), section) {
			t.Errorf("the baseline's approval section differs from the sample's:\n%s", src)
		}
	}
}

func TestBaselineVariants(t *testing.T) {
	// Only a primary colour: the palette is filled so the renderer's text
	// and background colours pass the style rule.
	a := governance.BrandAnswers{Company: "Kite & Co", Colors: map[string]string{"primary": "#0a7"}}
	p, _ := baseline(t, a)
	if b := p.Brand(); b.Colors.Primary != "#00aa77" || b.Colors.Text == "" || b.Colors.Background == "" {
		t.Errorf("colours = %+v", b.Colors)
	}
	// Industries with disclaimers get them.
	p, _ = baseline(t, governance.BrandAnswers{Industry: "finserv"})
	ids := []string{}
	for _, r := range p.Rules() {
		ids = append(ids, r.ID)
	}
	if !slices.Contains(ids, "legal.finserv-past-performance") {
		t.Errorf("finserv baseline lacks the past-performance legend: %v", ids)
	}
	// Values that need YAML quoting survive.
	p, _ = baseline(t, governance.BrandAnswers{Company: `"Quotes" & #hash: colon`, PostalAddress: "Line 1\nLine 2: 'x'"})
	if b := p.Brand(); b.Footer.Company != `"Quotes" & #hash: colon` || b.Footer.PostalAddress != "Line 1\nLine 2: 'x'" {
		t.Errorf("footer = %+v", b.Footer)
	}
}

func TestBaselineBadAnswers(t *testing.T) {
	_, err := governance.BaselinePolicy(governance.BrandAnswers{
		Website: "http://northwind.coffee", FromEmail: "hello at northwind", Markets: []string{"USA", "EU"},
		Industry: "Food & Drink", Colors: map[string]string{"primary": "brown", "accent": "#fff"}, LogoURL: "logo.png",
	})
	if err == nil {
		t.Fatal("bad answers accepted")
	}
	for _, want := range []string{"website:", "from_email:", `markets: "USA"`, `markets: "EU"`, "industry:", "colors.primary:", `unknown colour "accent"`, "logo_url:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if errors.Is(err, governance.ErrPolicy) {
		t.Errorf("bad answers are not a policy load error: %v", err)
	}
}

// A policy's hash changes with its defaults; a policy without them hashes
// as before they existed.
func TestDefaultsInHash(t *testing.T) {
	base := "rules:\n  - id: a\n    kind: existence\n    level: error\n    tokens: [x]\n"
	p1, err := governance.Parse("p.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := governance.Parse("p.yaml", []byte("defaults:\n  industry: food\n"+base))
	if err != nil {
		t.Fatal(err)
	}
	p3, err := governance.Parse("p.yaml", []byte("defaults:\n  industry: retail\n"+base))
	if err != nil {
		t.Fatal(err)
	}
	if p1.Hash() == p2.Hash() || p2.Hash() == p3.Hash() {
		t.Errorf("hashes do not cover defaults: %s %s %s", p1.Hash(), p2.Hash(), p3.Hash())
	}
}
