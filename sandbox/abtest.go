package sandbox

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox/content"
)

// ABTest sends variants of a broadcast email to a share of its audience,
// waits, and sends the variant that did best to everyone else. The email
// itself is variant "a"; Variants are "b" and, when given, "c".
type ABTest struct {
	Variants []Variant `json:"variants" jsonschema:"minItems=1,maxItems=2" jsonschema_description:"1-2 variants beside the email itself (variant a); each changes at least one of subject, preview_text, from_name, html or blocks."`
	// TestPercent is the share of the audience that gets the test, split
	// evenly between all variants (a included); the rest get the winner.
	TestPercent int    `json:"test_percent,omitempty" jsonschema:"minimum=10,maximum=50" jsonschema_description:"Percent of the audience in the test, split evenly between the variants (10-50, default 20); the rest get the winner."`
	Winner      string `json:"winner" jsonschema:"enum=opens,enum=clicks" jsonschema_description:"How the winner is picked: unique opens or unique clicks per recipient."`
	DecideAfter string `json:"decide_after" jsonschema:"minLength=2" jsonschema_description:"How long the test runs before the winner goes to the rest, e.g. 4h, 90m, 1d (1h to 7d)."`
}

// Variant is what one A/B variant changes; empty fields are the email's.
type Variant struct {
	Subject     string `json:"subject,omitempty" jsonschema:"maxLength=250" jsonschema_description:"Subject line of this variant."`
	PreviewText string `json:"preview_text,omitempty" jsonschema:"maxLength=250" jsonschema_description:"Preheader of this variant."`
	FromName    string `json:"from_name,omitempty" jsonschema:"maxLength=100" jsonschema_description:"Sender name of this variant."`
	// HTML is as given, or rendered at staging from Blocks, or from the
	// email's blocks with this variant's preview text.
	HTML   string          `json:"html,omitempty" jsonschema_description:"Full HTML of this variant (at most 1 MB); give html or blocks, or neither to keep the email's."`
	Blocks []content.Block `json:"blocks,omitempty" jsonschema_description:"Content blocks of this variant, rendered like the email's."`
}

// Default and bounds of an A/B test's settings.
const (
	DefaultTestPercent = 20
	MinTestPercent     = 10
	MaxTestPercent     = 50
	MinDecideAfter     = time.Hour
	MaxDecideAfter     = 7 * 24 * time.Hour
	maxVariants        = 2 // beside the email itself: HubSpot takes two in all, Mailchimp three
)

// Winner metrics.
const (
	WinnerOpens  = "opens"
	WinnerClicks = "clicks"
)

// VariantName is the letter of the i-th variant: the email itself is "a".
func VariantName(i int) string { return string(rune('a' + i)) }

// Wait is how long the test runs. Staging checked it parses.
func (ab *ABTest) Wait() time.Duration {
	d, _ := parseDecideAfter(ab.DecideAfter)
	return d
}

// parseDecideAfter reads a Go duration ("4h", "90m") or a wait ("1d").
func parseDecideAfter(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(strings.TrimSpace(s)); err == nil {
		return d, nil
	}
	return ParseWait(s)
}

// Variants returns every variant of an A/B test as a whole email, "a" (the
// email itself) first; nil when the email has no test. A variant's empty
// fields are the email's; one with its own HTML has its text part derived
// from that HTML.
func (e *Email) Variants() []*Email {
	if e.ABTest == nil {
		return nil
	}
	a := *e
	a.ABTest = nil
	out := []*Email{&a}
	for _, v := range e.ABTest.Variants {
		x := a
		if v.Subject != "" {
			x.Subject = v.Subject
		}
		if v.PreviewText != "" {
			x.PreviewText = v.PreviewText
		}
		if v.FromName != "" {
			x.FromName = v.FromName
		}
		if v.HTML != "" && v.HTML != a.HTML {
			x.HTML = v.HTML
			if len(v.Blocks) > 0 {
				x.Blocks = v.Blocks
			}
			x.Text, x.TextDerived = content.HTMLToText(v.HTML), true
		}
		out = append(out, &x)
	}
	return out
}

// ABSummary says in one line how the test runs, for plans and reviews.
func (ab *ABTest) Summary() string {
	n := len(ab.Variants) + 1
	return fmt.Sprintf("%d%% of the audience split evenly between %d variants (about %.3g%% each); after %s the variant with the most unique %s per recipient goes to the other %d%% (a tie goes to the earlier variant)",
		ab.TestPercent, n, float64(ab.TestPercent)/float64(n), ab.Wait(), ab.Winner, 100-ab.TestPercent)
}

// checkABTest validates an A/B test against the email and returns it with
// defaults filled, or nil when none was given.
func checkABTest(ps *problems, e *Email, in *ABTest) *ABTest {
	if in == nil {
		return nil
	}
	ab := &ABTest{TestPercent: in.TestPercent, Winner: strings.TrimSpace(in.Winner), DecideAfter: strings.TrimSpace(in.DecideAfter)}
	if len(e.Audience.Include) == 0 {
		ps.add("ab_test", "is set but the email has no audience", "an A/B test is for a broadcast: add audience.include segment ids, or drop ab_test for an email a workflow sends")
	}
	if e.SendWindow != nil || e.RecipientTimeZone {
		// The test's decision time and the winner's send are one moment
		// for the whole audience; a send spread over windows or zones has
		// none, and no target runs both as approved.
		ps.add("ab_test", "cannot go with send_window or recipient_time_zone", "test on a send at one time (send_at alone), or drop ab_test")
	}
	switch n := len(in.Variants); {
	case n == 0:
		ps.add("ab_test.variants", "is empty", "give 1 or 2 variants beside the email itself (which is variant a), each changing subject, preview_text, from_name, html or blocks")
	case n > maxVariants:
		ps.add("ab_test.variants", fmt.Sprintf("has %d variants; at most %d are allowed beside the email itself", n, maxVariants), "test at most three versions in all (a, b, c)")
	}
	if ab.TestPercent == 0 {
		ab.TestPercent = DefaultTestPercent
	}
	if ab.TestPercent < MinTestPercent || ab.TestPercent > MaxTestPercent {
		ps.add("ab_test.test_percent", fmt.Sprintf("is %d; it must be between %d and %d", ab.TestPercent, MinTestPercent, MaxTestPercent), "give the percent of the audience in the test, e.g. 20 (the default)")
	}
	switch ab.Winner {
	case WinnerOpens, WinnerClicks:
	case "":
		ps.add("ab_test.winner", "is required", "give opens or clicks")
	default:
		ps.add("ab_test.winner", fmt.Sprintf("%q is not a winner metric", ab.Winner), "give opens or clicks")
	}
	if ab.DecideAfter == "" {
		ps.add("ab_test.decide_after", "is required", "say how long the test runs, e.g. 4h")
	} else if d, err := parseDecideAfter(ab.DecideAfter); err != nil {
		ps.add("ab_test.decide_after", fmt.Sprintf("%q is not a duration", ab.DecideAfter), "write it like 4h, 90m or 1d")
	} else if d < MinDecideAfter || d > MaxDecideAfter {
		ps.add("ab_test.decide_after", fmt.Sprintf("is %s; it must be between 1h and 7d", d), "pick a time in that range, e.g. 4h")
	}
	seen := []Variant{{Subject: e.Subject, PreviewText: e.PreviewText, FromName: e.FromName, HTML: e.HTML, Blocks: e.Blocks}}
	for i, v := range in.Variants {
		if i >= maxVariants {
			break
		}
		f := fmt.Sprintf("ab_test.variants[%d]", i)
		v = Variant{Subject: strings.TrimSpace(v.Subject), PreviewText: strings.TrimSpace(v.PreviewText), FromName: strings.TrimSpace(v.FromName), HTML: v.HTML, Blocks: v.Blocks}
		checkLen(ps, f+".subject", v.Subject, 250, false, "")
		if strings.ContainsAny(v.Subject, "\r\n") {
			ps.add(f+".subject", "contains a line break", "write the subject on one line")
		}
		checkLen(ps, f+".preview_text", v.PreviewText, 250, false, "")
		checkLen(ps, f+".from_name", v.FromName, 100, false, "")
		if strings.ContainsAny(v.FromName, "\r\n<>\"") {
			ps.add(f+".from_name", "contains a line break, quote or angle bracket", "use plain words, e.g. \"Jane at Example Shop\"")
		}
		switch {
		case v.HTML != "" && len(v.Blocks) > 0:
			ps.add(f+".blocks", "both html and blocks were given", "give at most one of them")
		case len(v.HTML) > MaxHTMLBytes:
			ps.add(f+".html", fmt.Sprintf("is %d bytes; the limit is %d bytes (1 MB)", len(v.HTML), MaxHTMLBytes), "trim it")
		}
		if len(v.Blocks) > 0 {
			for _, p := range content.Validate(v.Blocks) {
				ps.add(f+".blocks"+strings.TrimPrefix(p.Path, "blocks"), p.Message, p.Fix)
			}
		}
		if v.Subject == "" && v.PreviewText == "" && v.FromName == "" && v.HTML == "" && len(v.Blocks) == 0 {
			ps.add(f, "changes nothing", "give at least one of subject, preview_text, from_name, html or blocks")
		} else {
			for j, o := range seen {
				if sameVariant(o, v) {
					ps.add(f, fmt.Sprintf("is the same as variant %s", VariantName(j)), "make each variant differ in at least one field")
					break
				}
			}
		}
		seen = append(seen, v)
		ab.Variants = append(ab.Variants, v)
	}
	return ab
}

// sameVariant reports whether v changes nothing against o, o being the
// email (every field set) or an earlier variant (empty fields inherited).
func sameVariant(o, v Variant) bool {
	same := func(a, b string) bool { return b == "" || a == b }
	return same(o.Subject, v.Subject) && same(o.PreviewText, v.PreviewText) && same(o.FromName, v.FromName) &&
		same(o.HTML, v.HTML) && (len(v.Blocks) == 0 || blocksEqual(o.Blocks, v.Blocks))
}

func blocksEqual(a, b []content.Block) bool {
	x, err1 := marshal(a)
	y, err2 := marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// renderVariants fills each variant's HTML as it goes live: rendered from
// its blocks, or, when the email is built from blocks, from the email's
// blocks with the variant's subject and preview text (the renderer puts
// both into the document). A variant that gives HTML keeps it.
func (s *Sandbox) renderVariants(e *Email) {
	if e.ABTest == nil {
		return
	}
	for i := range e.ABTest.Variants {
		v := &e.ABTest.Variants[i]
		blocks := v.Blocks
		// The preheader is in the document, so a preview text of its own
		// needs the email's blocks rendered again; a subject alone does
		// not (only the invisible <title> would differ, and platforms
		// that test subject lines take one content for every subject).
		if len(blocks) == 0 && v.HTML == "" && len(e.Blocks) > 0 && v.PreviewText != "" {
			blocks = e.Blocks
		}
		if len(blocks) == 0 {
			continue
		}
		subject, preview := e.Subject, e.PreviewText
		if v.Subject != "" {
			subject = v.Subject
		}
		if v.PreviewText != "" {
			preview = v.PreviewText
		}
		v.HTML, _ = content.RenderEmail(blocks, s.theme(), content.EmailOptions{Title: subject, PreviewText: preview, Footer: true})
	}
}

// finalABTest applies the campaign's UTM tagging to every variant's HTML.
func finalABTest(ab *ABTest, u content.UTM) *ABTest {
	if ab == nil {
		return nil
	}
	out := *ab
	out.Variants = make([]Variant, len(ab.Variants))
	for i, v := range ab.Variants {
		if v.HTML != "" {
			v.HTML = content.ApplyUTM(v.HTML, u)
		}
		out.Variants[i] = v
	}
	return &out
}

// variantDoc is one A/B variant beyond the first as governance checks it:
// the whole email as that variant's recipients get it.
type variantDoc struct {
	index int // into ABTest.Variants
	doc   governance.Document
	// own are the fields the variant sets itself; findings elsewhere are
	// the email's own, reported once.
	own map[string]bool
}

// variantsOf returns what builds the documents of r's A/B variants b and
// c, or nil when r is not an A/B test. Each variant is checked as a whole
// email, like the email itself: a variant is content recipients get, and
// a hostile agent must not be able to hide what the policy forbids in one.
func (s *Sandbox) variantsOf(c *Campaign, a *Artifact, r *Revision, audience int) func() []variantDoc {
	if r.Email == nil || r.Email.ABTest == nil {
		return nil
	}
	return func() []variantDoc {
		fr := s.final(c, r)
		all := fr.Email.Variants()
		out := make([]variantDoc, 0, len(all)-1)
		for i, v := range fr.Email.ABTest.Variants {
			vr := *fr
			vr.Email = all[i+1]
			own := map[string]bool{"subject": v.Subject != "", "preview_text": v.PreviewText != "", "from_name": v.FromName != ""}
			if all[i+1].HTML != fr.Email.HTML {
				own["html"], own["text"] = true, true
			}
			out = append(out, variantDoc{index: i, doc: s.document(c, a, &vr, audience), own: own})
		}
		return out
	}
}

// checkVariants checks each variant document and adds its findings to the
// email's report, each naming its variant (field ab_test.variants[i]…, the
// message starting "variant b:"). A finding on a field the variant takes
// from the email, identical to one of the email's, is left out: it is the
// same text, already reported.
func checkVariants(p *governance.Policy, rep governance.Report, docs []variantDoc) governance.Report {
	if len(docs) == 0 {
		return rep
	}
	mine := map[string]bool{}
	for _, f := range rep.Findings {
		mine[f.Fingerprint()] = true
	}
	all := slices.Clone(rep.Findings)
	for _, vd := range docs {
		vr := p.Check([]governance.Document{vd.doc})
		for _, f := range vr.Findings {
			if !vd.own[f.Field] && mine[f.Fingerprint()] {
				continue
			}
			path := fmt.Sprintf("ab_test.variants[%d]", vd.index)
			if f.Field != "" {
				path += "." + f.Field
			}
			f.Field = path
			f.Message = "variant " + VariantName(vd.index+1) + ": " + f.Message
			all = append(all, f)
		}
	}
	return governance.Merge(governance.Report{Findings: all})
}

// abMetadata is an A/B test's part of a plan step's fields: the settings,
// then each variant beyond a, every field it could change (inherited ones
// say so), so the approver reads every version recipients can get.
func abMetadata(e *Email) []field {
	if e.ABTest == nil {
		return nil
	}
	ab := e.ABTest
	out := []field{{"ab_test", ab.Summary()}}
	own := func(v, inherited string) string {
		if v == "" {
			return "(as variant a) " + quote(inherited)
		}
		return quote(v)
	}
	for i, v := range ab.Variants {
		n := "variant " + VariantName(i+1)
		html := "(as variant a)"
		if v.HTML != "" && v.HTML != e.HTML {
			html = "its own, below"
		}
		out = append(out,
			field{n + " subject", own(v.Subject, e.Subject)},
			field{n + " preview_text", own(v.PreviewText, e.PreviewText)},
			field{n + " from", own(v.FromName, e.FromName) + " <" + e.FromEmail + ">"},
			field{n + " html", html})
	}
	return out
}

// abContents is each variant's own body, for the plan's line diff.
func abContents(e *Email) []field {
	if e.ABTest == nil {
		return nil
	}
	var out []field
	for i, v := range e.Variants()[1:] {
		if v.HTML != e.HTML {
			n := "variant " + VariantName(i+1)
			out = append(out, field{n + " html", v.HTML}, field{n + " text", v.Text})
		}
	}
	return out
}

func fieldNamed(fs []field, name string) (string, bool) {
	for _, f := range fs {
		if f.name == name {
			return f.value, true
		}
	}
	return "", false
}

// abNote tells the approver, in the plan's notes, that the step is an A/B
// test and how it runs; the variants themselves are in its diff.
func abNote(ab *ABTest) string {
	last := VariantName(len(ab.Variants))
	return "A/B test of variants a–" + last + ": " + ab.Summary() + "; every variant is in the diff"
}

// VariantMetrics is one A/B variant's figures, normalized like an email's.
type VariantMetrics struct {
	Variant      string  `json:"variant"`
	Sent         int64   `json:"sent"`
	Delivered    int64   `json:"delivered"`
	Opens        int64   `json:"opens"`
	UniqueOpens  int64   `json:"unique_opens"`
	Clicks       int64   `json:"clicks"`
	UniqueClicks int64   `json:"unique_clicks"`
	Bounces      int64   `json:"bounces"`
	Unsubscribes int64   `json:"unsubscribes"`
	OpenRate     float64 `json:"open_rate"`
	ClickRate    float64 `json:"click_rate"`
}

// variantMetrics normalizes a target's per-variant counters, in variant
// order.
func variantMetrics(m Metrics) []VariantMetrics {
	if len(m.Variants) == 0 {
		return nil
	}
	var out []VariantMetrics
	for _, name := range slices.Sorted(maps.Keys(m.Variants)) {
		c := m.Variants[name]
		v := VariantMetrics{Variant: name, Sent: c[MetricSent], Delivered: c[MetricDelivered], Opens: c[MetricOpens], UniqueOpens: c[MetricUniqueOpens],
			Clicks: c[MetricClicks], UniqueClicks: c[MetricUniqueClicks], Bounces: c[MetricBounces], Unsubscribes: c[MetricUnsubscribes]}
		base := v.Delivered
		if base == 0 {
			base = v.Sent - v.Bounces
		}
		v.OpenRate, v.ClickRate = ratio(v.UniqueOpens, base), ratio(v.UniqueClicks, base)
		out = append(out, v)
	}
	return out
}

// sendTestVariants sends a proof of every variant of an A/B email, each
// its own message with "[A] ", "[B] " or "[C] " before its subject (the
// target adds its own "[Test] "), so the team sees every version the
// audience can get; a plain email is sent as it is.
func sendTestVariants(ctx context.Context, ts TestSender, obj Object, to []string) (TestSend, []string, error) {
	vs := obj.Email.Variants()
	if vs == nil {
		sent, err := ts.SendTest(ctx, obj, to)
		return sent, nil, err
	}
	var wheres, names []string
	for i, v := range vs {
		e := *v
		name := VariantName(i)
		e.Subject = "[" + strings.ToUpper(name) + "] " + e.Subject
		o := obj
		o.Email, o.Variant = &e, name
		sent, err := ts.SendTest(ctx, o, to)
		if err != nil {
			return TestSend{}, names, fmt.Errorf("variant %s: %w", name, err)
		}
		if !slices.Contains(wheres, sent.Where) {
			wheres = append(wheres, sent.Where)
		}
		names = append(names, name)
	}
	return TestSend{Where: strings.Join(wheres, "; ")}, names, nil
}

// abSentByWorkflows refuses a workflow that sends an A/B email: a workflow
// mails each contact it enrols one email, when they reach the step, and
// no target would split that into a test and a winner; what the human
// approved as a test would go out as variant a alone.
func (in *planInput) abSentByWorkflows() []Problem {
	var out []Problem
	for _, a := range in.artifacts {
		r := in.revs[a.ID]
		if r == nil || r.Workflow == nil || a.Retire != nil {
			continue
		}
		for _, st := range r.Workflow.Steps {
			if st.Type != "send_email" {
				continue
			}
			if er := in.revs[st.EmailID]; er != nil && er.Email != nil && er.Email.ABTest != nil {
				out = append(out, Problem{Field: a.ID, Message: fmt.Sprintf("workflow %s step %s sends %s, which is an A/B test: a workflow sends each contact one email, never a test and its winner", a.ID, st.ID, st.EmailID),
					Fix: "give the workflow an email of its own without ab_test, or drop ab_test from " + st.EmailID})
			}
		}
	}
	return out
}
