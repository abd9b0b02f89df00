// Package corpus generates a deterministic corpus of table-layout marketing
// emails (newsletters, promotions, financial services, health, events) with
// policy violations mixed in, for the governance benchmarks and tests.
// Generating it is cheaper than checking in megabytes of HTML.
package corpus

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Email is one generated campaign email and its metadata.
type Email struct {
	ID         string
	Kind       string // newsletter | promo | finserv | health | events
	Subject    string
	Preview    string
	HTML       string
	Markets    []string
	Industry   string
	Recipients int
	Platform   string
	Headers    map[string]string
}

// Seed is the seed of the standard corpus.
const Seed = 20260214

// Generate returns n emails from seed. The same arguments always give the
// same bytes. Sizes range over about 5–20 KB.
func Generate(n int, seed uint64) []Email {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]Email, n)
	for i := range out {
		out[i] = generate(rng, i)
	}
	return out
}

// One generates a single email of about size bytes.
func One(seed uint64, kind string, size int) Email {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	g := &gen{rng: rng, kind: kind, target: size}
	return g.email(0)
}

var kinds = []string{"newsletter", "promo", "finserv", "health", "events"}

func generate(rng *rand.Rand, i int) Email {
	g := &gen{rng: rng, kind: kinds[rng.IntN(len(kinds))], target: 5632 + rng.IntN(14*1024)}
	return g.email(i)
}

type gen struct {
	rng    *rand.Rand
	kind   string
	target int
	b      strings.Builder
}

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

func (g *gen) pick(s []string) string { return s[g.rng.IntN(len(s))] }

var sentences = map[string][]string{
	"newsletter": {
		"This month we shipped three updates that make reporting faster for every team.",
		"Dashboards now load in half the time, even with a year of data.",
		"You asked for scheduled exports, so we built them.",
		"Here is what our customers built with AcmeCloud in the last quarter.",
		"Our product team answers the five questions we hear most often.",
		"Read how a small bakery cut its invoicing time from hours to minutes.",
		"We are hiring engineers in Berlin, London and Toronto.",
		"The new mobile app lets you approve expenses from anywhere.",
		"Tips from our support team on keeping your workspace tidy.",
		"Join the community forum to share what works for you.",
	},
	"promo": {
		"Save 30% on every annual plan until the end of the month.",
		"Upgrade to AcmePay Pro and get two months on us.",
		"Our spring sale covers every add-on in the catalogue.",
		"Bring a friend and you both get a free month.",
		"The offer applies to new subscriptions and upgrades alike.",
		"Pick the plan that fits your team and switch at any time.",
		"Every plan includes support from real people, seven days a week.",
		"Use the code SPRING at checkout to claim your discount.",
	},
	"finserv": {
		"Our balanced portfolio aims for steady growth with moderate risk.",
		"Diversification spreads your investment across many asset classes.",
		"Rebalancing quarterly keeps your allocation close to its target.",
		"Fees are shown in full before you commit any money.",
		"Talk to an adviser before making changes to your retirement savings.",
		"Market conditions change, and the value of investments can fall as well as rise.",
		"Our quarterly outlook explains how interest rates affect bond prices.",
		"Automatic contributions make saving a habit rather than a decision.",
	},
	"health": {
		"Our nutrition coaches help you build habits that last.",
		"Book a free consultation with a registered dietitian.",
		"Sleep, movement and food work together, so we look at all three.",
		"Members report feeling more energetic within a few weeks.",
		"Our supplements are made in certified facilities and tested by third parties.",
		"Talk to your doctor before starting any new supplement.",
		"Track your progress in the app and share it with your coach.",
	},
	"events": {
		"Acme Summit returns to San Francisco on the 14th and 15th of May.",
		"Two days of talks, workshops and hallway conversations await you.",
		"Hear from the teams who run AcmeCloud at scale.",
		"Early registration closes on Friday, so save your seat now.",
		"Workshops are small and fill quickly, so pick yours early.",
		"The venue is a short walk from the Powell Street station.",
		"Every session is recorded and shared with attendees afterwards.",
	},
}

// Violations sprinkled into copy; each is something the sample policy flags.
var badPhrases = []string{
	"This is a revolutionary way to work.",
	"Results are guaranteed for every customer.",
	"Act now, this is your last chance!!",
	"Please utilize the new dashboard in order to save time.",
	"We whitelist trusted senders for you.",
	"Our world-class team is the #1 choice.",
	"Sign up for our e-mail digest on our web site.",
	"Try acmecloud today and see the difference.",
	"It's a game changer for your team!",
	"The Acme Net Promoter Score (NPS) rose again, and our CSAT too.",
	"Contact our KYC team for details.",
}

var finservBad = []string{
	"Our fund delivered a 12% return last year with guaranteed returns going forward.",
	"With no risk to your capital, you can't lose.",
	"Investors saw 8.5% growth in the first half.",
}

var healthBad = []string{
	"Our clinically proven formula is a miracle for joint pain.",
	"This supplement cures fatigue with no side effects.",
}

var headings = map[string][]string{
	"newsletter": {"What's new this month", "Customer story: Fresh Loaf Bakery", "From the product team", "Tips and tricks", "Join the community"},
	"promo":      {"Spring sale: save 30% on annual plans", "Two months of AcmePay Pro on us", "Bring a friend", "Pick your plan"},
	"finserv":    {"Your quarterly outlook", "How rebalancing works", "Fees, explained", "Plan for retirement"},
	"health":     {"Build habits that last", "Meet your coach", "Sleep better this spring", "Your progress, in the app"},
	"events":     {"Acme Summit 2026", "Workshops", "Speakers", "Plan your trip"},
}

var badHeadings = []string{"Get Started With AcmeCloud Today", "Our Biggest Sale Of The Year", "Meet The Team Behind Acme Insights", "WHY WAIT"}

func (g *gen) w(s ...string) {
	for _, x := range s {
		g.b.WriteString(x)
	}
}

func (g *gen) email(i int) Email {
	g.b.Reset()
	e := Email{ID: fmt.Sprintf("eml_%s_%03d", g.kind, i), Kind: g.kind, Recipients: 500 + g.rng.IntN(40000)}
	e.Markets = [][]string{{"US"}, {"US", "CA"}, {"CA"}, {"DE"}, {"GB"}, {"US"}, {"FR", "DE"}}[g.rng.IntN(7)]
	e.Industry = map[string]string{"newsletter": "saas", "promo": "retail", "finserv": "finserv", "health": "health", "events": "events"}[g.kind]
	e.Platform = []string{"local", "local", "hubspot", "mailchimp"}[g.rng.IntN(4)]
	e.Subject = g.pick([]string{"Your March update from Acme", "Three new ways to save time", "Spring sale: 30% off annual plans", "Your quarterly outlook is here", "Save your seat at Acme Summit", "Build habits that last"})
	if g.chance(0.15) {
		e.Subject = "FREE upgrade inside, act now"
	}
	e.Preview = "A short look at what changed this month and what comes next for your team."
	if g.chance(0.1) {
		e.Preview = "Hi there"
	}
	e.Headers = map[string]string{"List-Unsubscribe": "<https://www.acme.com/u/abc123>, <mailto:unsubscribe@acme.com>"}
	if g.chance(0.8) {
		e.Headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
	}
	if g.chance(0.05) {
		delete(e.Headers, "List-Unsubscribe")
	}

	campaign := strings.ReplaceAll(strings.ToLower(e.Subject[:min(12, len(e.Subject))]), " ", "-")
	source := map[string]string{"newsletter": "newsletter", "promo": "promo", "finserv": "newsletter", "health": "lifecycle", "events": "events"}[g.kind]
	g.head(e.Subject)
	g.w(`<body style="margin:0;padding:0;background-color:#F4F6FA;">`)
	g.w(`<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;">`, e.Preview, strings.Repeat("&zwnj;&nbsp;", 20), `</div>`)
	g.w(`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="#F4F6FA"><tr><td align="center" style="padding:24px 12px;">`)
	g.w(`<table role="presentation" class="container" width="600" cellpadding="0" cellspacing="0" border="0" style="width:600px;max-width:600px;background-color:#FFFFFF;border:1px solid #E3E8EF;">`)
	g.w(`<tr><td style="padding:24px 32px;border-bottom:1px solid #E3E8EF;"><a href="https://www.acme.com/?utm_source=`, source, `&utm_medium=email&utm_campaign=`, campaign, `"><img src="https://assets.acme.com/brand/acme-logo-2x.png" width="140" height="32" alt="Acme" style="display:block;border:0;"></a></td></tr>`)

	greeting := map[string]string{
		"local":     `{{ contact.firstname | default: "there" }}`,
		"hubspot":   `{{ personalization_token('contact.firstname', 'there') }}`,
		"mailchimp": `*|FNAME|*`,
	}[e.Platform]
	if g.chance(0.15) {
		greeting = `{{ contact.firstname }}`
	}
	g.w(`<tr><td class="hero" style="padding:32px 32px 8px 32px;font-family:Georgia, 'Times New Roman', serif;">`)
	h1 := g.pick(headings[g.kind])
	if g.chance(0.2) {
		h1 = g.pick(badHeadings)
	}
	g.w(`<h1 style="margin:0 0 16px 0;font-size:28px;line-height:34px;color:#0A2540;font-family:Georgia, 'Times New Roman', serif;">`, h1, `</h1>`)
	g.w(`<p style="margin:0;font-size:16px;line-height:24px;color:#1A1A1A;font-family:Helvetica, Arial, sans-serif;">Hi `, greeting, `,</p></td></tr>`)

	footerLen := 1800
	for s := 0; g.b.Len() < g.target-footerLen || s < 1; s++ {
		g.section(e, source, campaign, s)
	}
	g.footer(e, source, campaign)
	g.w(`</table></td></tr></table></body></html>`)
	e.HTML = g.b.String()
	return e
}

func (g *gen) head(title string) {
	g.w(`<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">`,
		"\n", `<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">`,
		`<meta name="viewport" content="width=device-width, initial-scale=1.0"><title>`, title, `</title>`, "\n",
		`<style type="text/css">`, "\n",
		"  body { margin:0; padding:0; -webkit-text-size-adjust:100%; }\n",
		"  table, td { border-collapse:collapse; mso-table-lspace:0pt; mso-table-rspace:0pt; }\n",
		"  img { border:0; outline:none; text-decoration:none; }\n",
		"  a { color:#0B5FFF; }\n",
		"  @media only screen and (max-width: 620px) {\n    .container { width:100% !important; }\n    .stack { display:block !important; width:100% !important; }\n    .hero h1 { font-size:24px !important; line-height:30px !important; }\n  }\n")
	if g.chance(0.1) {
		g.w("  .promo-banner { background-color:#E91E63; font-family:'Comic Sans MS', cursive; }\n")
	}
	g.w("</style>\n<!--[if mso]><xml><o:OfficeDocumentSettings><o:PixelsPerInch>96</o:PixelsPerInch></o:OfficeDocumentSettings></xml><![endif]-->\n</head>\n")
}

func (g *gen) para(kind string) string {
	var sb strings.Builder
	n := 2 + g.rng.IntN(3)
	for k := 0; k < n; k++ {
		if k > 0 {
			sb.WriteByte(' ')
		}
		switch {
		case g.chance(0.06):
			sb.WriteString(g.pick(badPhrases))
		case kind == "finserv" && g.chance(0.08):
			sb.WriteString(g.pick(finservBad))
		case kind == "health" && g.chance(0.08):
			sb.WriteString(g.pick(healthBad))
		default:
			sb.WriteString(g.pick(sentences[kind]))
		}
	}
	return sb.String()
}

func (g *gen) link(source, campaign, path string) string {
	switch {
	case g.chance(0.03):
		return "#"
	case g.chance(0.03):
		return "http://www.acme.com/" + path
	case g.chance(0.05):
		return "https://www.acme.com/" + path
	case g.chance(0.02):
		return "https://example.com/" + path
	case g.chance(0.03):
		return "https://www.acme.com/" + path + "?utm_source=" + source + "&utm_medium=social&utm_campaign=" + campaign
	}
	return "https://www.acme.com/" + path + "?utm_source=" + source + "&amp;utm_medium=email&amp;utm_campaign=" + campaign
}

func (g *gen) section(e Email, source, campaign string, s int) {
	color := "#1A1A1A"
	if g.chance(0.05) {
		color = "#E91E63"
	}
	font := "Helvetica, Arial, sans-serif"
	if g.chance(0.04) {
		font = "Verdana, Geneva, sans-serif"
	}
	heading := g.pick(headings[g.kind])
	if g.chance(0.08) {
		heading = g.pick(badHeadings)
	}
	path := fmt.Sprintf("%s/section-%d", g.kind, s)
	switch g.rng.IntN(3) {
	case 0: // heading + copy + button
		g.w(`<tr><td style="padding:24px 32px 0 32px;font-family:`, font, `;">`)
		g.w(`<h2 style="margin:0 0 12px 0;font-size:22px;line-height:28px;color:#0A2540;font-family:Georgia, 'Times New Roman', serif;">`, heading, `</h2>`)
		g.w(`<p style="margin:0 0 16px 0;font-size:16px;line-height:24px;color:`, color, `;">`, g.para(g.kind), `</p>`)
		g.w(`<p style="margin:0 0 16px 0;font-size:16px;line-height:24px;color:#1A1A1A;">`, g.para(g.kind), `</p>`)
		label := g.pick([]string{"Read the update", "See the details", "Save your seat", "Claim your discount", "Book a call"})
		if g.chance(0.1) {
			label = g.pick([]string{"Click Here", "Learn More", "GET STARTED"})
		}
		g.w(`<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr><td bgcolor="#FF6B00" style="border-radius:4px;">`)
		g.w(`<a href="`, g.link(source, campaign, path), `" target="_blank" style="display:inline-block;padding:12px 24px;font-family:Helvetica, Arial, sans-serif;font-size:16px;color:#FFFFFF;text-decoration:none;font-weight:bold;">`, label, `</a>`)
		g.w(`</td></tr></table></td></tr>`)
	case 1: // image + copy
		alt := ` alt="` + heading + `"`
		switch {
		case g.chance(0.06):
			alt = ""
		case g.chance(0.05):
			alt = ` alt=""`
		}
		src := fmt.Sprintf("https://assets.acme.com/campaigns/%s/img-%d.jpg", g.kind, s)
		if g.chance(0.04) {
			src = fmt.Sprintf("http://images.example-cdn.net/%s/img-%d.jpg", g.kind, s)
		}
		g.w(`<tr><td style="padding:24px 32px 0 32px;"><a href="`, g.link(source, campaign, path), `"><img src="`, src, `" width="536" height="240"`, alt, ` style="display:block;width:100%;max-width:536px;height:auto;border:0;"></a></td></tr>`)
		g.w(`<tr><td style="padding:16px 32px 0 32px;font-family:`, font, `;font-size:16px;line-height:24px;color:#1A1A1A;">`)
		g.w(`<h3 style="margin:0 0 8px 0;font-size:18px;color:#0A2540;">`, heading, `</h3>`)
		g.w(g.para(g.kind), `</td></tr>`)
	default: // two columns
		g.w(`<tr><td style="padding:24px 32px 0 32px;"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr>`)
		for col := 0; col < 2; col++ {
			g.w(`<td class="stack" width="50%" valign="top" style="padding:0 8px;font-family:Helvetica, Arial, sans-serif;font-size:15px;line-height:22px;color:#5B6472;">`)
			g.w(`<img src="https://assets.acme.com/icons/icon-`, fmt.Sprint(col), `.png" width="48" height="48" alt="" style="display:block;border:0;margin-bottom:8px;">`)
			g.w(`<h3 style="margin:0 0 8px 0;font-size:17px;color:#0A2540;">`, g.pick(headings[g.kind]), `</h3>`)
			g.w(g.para(g.kind), ` <a href="`, g.link(source, campaign, path), `" style="color:#0B5FFF;">`, g.pick([]string{"Read more", "See how", "Find out more"}), `</a></td>`)
		}
		g.w(`</tr></table></td></tr>`)
	}
	g.w(`<tr><td style="padding:24px 32px 0 32px;"><img src="https://assets.acme.com/spacer.gif" width="1" height="1" alt="" style="display:block;"></td></tr>`)
}

func (g *gen) footer(e Email, source, campaign string) {
	g.w(`<tr><td style="padding:32px;background-color:#F4F6FA;font-family:Helvetica, Arial, sans-serif;font-size:12px;line-height:18px;color:#5B6472;">`)
	switch {
	case g.kind == "finserv" && !g.chance(0.25):
		g.w(`<p style="margin:0 0 12px 0;">Investing involves risk, including loss of principal. Past performance is not indicative of future results. Shown are 1-, 5- and 10-year returns where available.</p>`)
	case g.kind == "health" && !g.chance(0.25):
		g.w(`<p style="margin:0 0 12px 0;">These statements have not been evaluated by the Food and Drug Administration. This product is not intended to diagnose, treat, cure, or prevent any disease.</p>`)
	}
	if contains(e.Markets, "DE") && !g.chance(0.3) {
		g.w(`<p style="margin:0 0 12px 0;">Impressum: Acme GmbH, Friedrichstraße 68, 10117 Berlin. Geschäftsführer: J. Schmidt. HRB 123456.</p>`)
	}
	g.w(`<p style="margin:0 0 12px 0;">You are receiving this email because you signed up at acme.com.</p>`)
	if !g.chance(0.1) {
		g.w(`<p style="margin:0 0 12px 0;">Acme Corp<br>500 Market Street, Suite 400<br>San Francisco, CA 94105, USA</p>`)
	}
	g.w(`<p style="margin:0 0 12px 0;">Questions? Write to <a href="mailto:hello@acme.com" style="color:#0B5FFF;">hello@acme.com</a> or visit <a href="https://www.acme.com/contact?utm_source=`, source, `&amp;utm_medium=email&amp;utm_campaign=`, campaign, `" style="color:#0B5FFF;">our contact page</a>.</p>`)
	unsub := map[string]string{"local": "{{ unsubscribe_link }}", "hubspot": "{{ unsubscribe_link_all }}", "mailchimp": "*|UNSUB|*"}[e.Platform]
	if !g.chance(0.08) {
		g.w(`<p style="margin:0;"><a href="`, unsub, `" style="color:#5B6472;text-decoration:underline;">Unsubscribe</a> &middot; <a href="https://www.acme.com/preferences?utm_source=`, source, `&amp;utm_medium=email&amp;utm_campaign=`, campaign, `" style="color:#5B6472;">Manage preferences</a></p>`)
	}
	g.w(`<p style="margin:12px 0 0 0;">&copy; 2026 Acme Corp. All rights reserved.</p></td></tr>`)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
