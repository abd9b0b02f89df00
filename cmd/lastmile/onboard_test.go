package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/governance"
)

var northwindFlags = onboardOptions{
	Company: "Northwind Coffee Roasters", PostalAddress: "1 Bean Street, Portland, OR 97201, USA", Website: "northwind.coffee",
	FromName: "Northwind Coffee", FromEmail: "hello@northwind.coffee", Markets: []string{"US,CA"}, Industry: "food",
}

// lastmile init --company … without a terminal: the flags are the answers,
// and the policy they give is Northwind's, not the sample's.
func TestOnboardFlags(t *testing.T) {
	var out strings.Builder
	a, err := onboard(strings.NewReader(""), &out, northwindFlags)
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("non-interactive onboarding wrote %q", out.String())
	}
	if a.Website != "https://northwind.coffee" || !slices.Equal(a.Markets, []string{"US", "CA"}) || !slices.Equal(a.SendingDomains, []string{"northwind.coffee"}) {
		t.Errorf("answers = %+v", a)
	}
	src, _, err := onboardPolicy(strings.NewReader(""), &out, northwindFlags)
	if err != nil {
		t.Fatal(err)
	}
	p, err := governance.Parse("policy.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	if b := p.Brand(); b.Footer.PostalAddress != northwindFlags.PostalAddress || b.Footer.Company != northwindFlags.Company {
		t.Errorf("footer = %+v", b.Footer)
	}
	if strings.Contains(strings.ToLower(string(src)), "acme") {
		t.Error("Northwind's policy mentions Acme")
	}

	bad := northwindFlags
	bad.FromEmail, bad.Markets, bad.Website = "hello", []string{"USA"}, "http://northwind.coffee"
	_, err = onboard(strings.NewReader(""), &out, bad)
	if err == nil || !strings.Contains(err.Error(), "from_email") || !strings.Contains(err.Error(), `"USA"`) || !strings.Contains(err.Error(), "website") {
		t.Errorf("bad flags: %v", err)
	}
}

// The questionnaire driven by a script: bad answers are explained and asked
// again, Enter keeps the bracketed default, flags show as defaults.
func TestOnboardInteractive(t *testing.T) {
	script := strings.Join([]string{
		"Northwind Coffee Roasters",              // company
		"1 Bean Street, Portland, OR 97201, USA", // address
		"http://northwind.coffee",                // website: refused (http)
		"northwind.coffee",                       // website
		"",                                       // sending domains: [northwind.coffee]
		"",                                       // sender name: [company]
		"hello at northwind",                     // sender email: refused
		"",                                       // sender email: [hello@northwind.coffee]
		"US, Canada",                             // markets: refused
		"us ca",                                  // markets
		"food",                                   // industry
		"#6F4E37", "", "", "", "brown",           // primary, text, background, link, button: refused
		"#C8553D",                               // button
		"Georgia, serif",                        // body font
		"",                                      // heading font
		"https://cdn.northwind.coffee/logo.png", // logo
		"",                                      // logo alt: [company]
		"marketing=ana@northwind.coffee",        // approvers
	}, "\n") + "\n"
	var out strings.Builder
	a, err := onboard(strings.NewReader(script), &out, onboardOptions{Interactive: true, Industry: "retail"})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	want := governance.BrandAnswers{
		Company: "Northwind Coffee Roasters", PostalAddress: "1 Bean Street, Portland, OR 97201, USA", Website: "https://northwind.coffee",
		SendingDomains: []string{"northwind.coffee"}, FromName: "Northwind Coffee Roasters", FromEmail: "hello@northwind.coffee",
		Markets: []string{"US", "CA"}, Industry: "food", BodyFont: "Georgia, serif",
		LogoURL: "https://cdn.northwind.coffee/logo.png", LogoAlt: "Northwind Coffee Roasters",
	}
	if a.Company != want.Company || a.PostalAddress != want.PostalAddress || a.Website != want.Website || !slices.Equal(a.SendingDomains, want.SendingDomains) ||
		a.FromName != want.FromName || a.FromEmail != want.FromEmail || !slices.Equal(a.Markets, want.Markets) || a.Industry != want.Industry ||
		a.BodyFont != want.BodyFont || a.HeadingFont != "" || a.LogoURL != want.LogoURL || a.LogoAlt != want.LogoAlt {
		t.Errorf("answers = %+v\nwant      %+v", a, want)
	}
	if a.Colors["primary"] != "#6f4e37" || a.Colors["button"] != "#c8553d" || len(a.Colors) != 2 {
		t.Errorf("colours = %v", a.Colors)
	}
	if !slices.Equal(a.Approvers["marketing"], []string{"ana@northwind.coffee"}) {
		t.Errorf("approvers = %v", a.Approvers)
	}
	screen := out.String()
	for _, want := range []string{
		"Company name", `must start with https://`, "Sending domains (comma-separated) [northwind.coffee]: ",
		"Default sender name [Northwind Coffee Roasters]: ", "Default sender email [hello@northwind.coffee]: ", `"hello at northwind" is not an email address`,
		`"CANADA" is not an ISO 3166-1 alpha-2 country code`, "[retail]", `"brown" is not a #rgb or #rrggbb colour`,
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	if _, err := governance.BaselinePolicy(a); err != nil {
		t.Errorf("the answers do not make a policy: %v", err)
	}
}

// A script that ends early keeps the defaults for the rest; one that keeps
// answering badly ends with an error instead of asking forever.
func TestOnboardInteractiveEnds(t *testing.T) {
	var out strings.Builder
	a, err := onboard(strings.NewReader("Kite Supply\n"), &out, onboardOptions{Interactive: true, Markets: []string{"GB"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Company != "Kite Supply" || !slices.Equal(a.Markets, []string{"GB"}) || a.PostalAddress != "" {
		t.Errorf("answers = %+v", a)
	}
	_, err = onboard(strings.NewReader(strings.Repeat("x\n", 3)+strings.Repeat("not a url\n", 10)), &out, onboardOptions{Interactive: true})
	if err == nil || !strings.Contains(err.Error(), "website") {
		t.Errorf("endless bad answers: %v", err)
	}
}

func TestOnboardFromFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "brand.yaml")
	const file = `company: Northwind Coffee Roasters
postal_address: 1 Bean Street, Portland, OR 97201, USA
website: https://northwind.coffee
sending_domains: [northwind.coffee, mail.northwind.coffee]
from_name: Northwind Coffee
from_email: hello@northwind.coffee
markets: [US, CA]
industry: food
colors: {primary: "#6F4E37"}
body_font: Georgia, serif
logo_url: https://cdn.northwind.coffee/logo.png
logo_alt: Northwind
approvers:
  legal: [dana@northwind.coffee]
`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := onboard(strings.NewReader(""), &strings.Builder{}, onboardOptions{FromFile: path, Industry: "retail"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Industry != "retail" || a.LogoAlt != "Northwind" || !slices.Equal(a.SendingDomains, []string{"northwind.coffee", "mail.northwind.coffee"}) ||
		a.Colors["primary"] != "#6f4e37" || !slices.Equal(a.Approvers["legal"], []string{"dana@northwind.coffee"}) {
		t.Errorf("answers = %+v", a)
	}
	if err := os.WriteFile(path, []byte("company: X\ncolour: {primary: '#fff'}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := onboard(strings.NewReader(""), &strings.Builder{}, onboardOptions{FromFile: path}); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("unknown key in the answers file: %v", err)
	}
}
