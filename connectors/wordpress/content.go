package wordpress

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"sync"

	nethtml "golang.org/x/net/html"

	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/liquid"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/content"
)

// How a page is stored in WordPress.
//
// The body HTML (blocks already rendered by lastmile) goes into one Custom
// HTML block, <!-- wp:html -->…<!-- /wp:html -->. Block markup rather than
// Classic content because WordPress runs wpautop over Classic content at
// display time, adding <p> and <br> wherever the HTML has line breaks; content
// with blocks is left alone, and the block editor shows a Custom HTML block
// verbatim instead of re-parsing it.
//
// The marker goes in an HTML comment at the top of that block. WordPress
// silently drops unregistered meta keys, and the slug is the user's, so the
// content is the only durable place core offers: the block editor keeps a
// Custom HTML block byte for byte, kses keeps comments, and the comment is
// invisible on the page. Find looks pages up by slug (status=any,
// context=edit) and adopts only one whose raw content carries the marker, so
// a page someone else made with the same slug is never taken for ours; when
// the slug changed, WordPress's search (which covers the content) finds it.

const (
	blockOpen  = "<!-- wp:html -->"
	blockClose = "<!-- /wp:html -->"
)

func markerComment(marker string) string { return "<!-- lastmile:marker " + marker + " -->" }

// hasMarker reports whether raw page content carries the marker.
func hasMarker(raw, marker string) bool {
	return marker != "" && strings.Contains(raw, markerComment(marker))
}

var validMarker = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`) })

// pageContent is what lastmile writes as a page's content, and what it had to
// leave out or change.
type pageContent struct {
	Raw        string
	Forms      int      // forms found that needed an action
	FormsWired int      // of those, pointed at form_action
	Tokens     int      // personalization tokens, filled with their fallback
	Conditions int      // {% if %}s, decided for a visitor nobody knows
	Problems   []string // what WordPress cannot render (left as written)
}

// buildContent renders the stored content of a page: its body, with forms
// wired to formAction (or left out), personalization filled as for an
// anonymous visitor (WordPress pages are the same for every visitor), wrapped
// in a Custom HTML block with the marker.
func buildContent(p *sandbox.Page, marker, formAction string) pageContent {
	body := p.Body
	if strings.TrimSpace(body) == "" {
		body = content.BodyOf(p.HTML)
	}
	var pc pageContent
	body, pc.Forms, pc.FormsWired = rewriteForms(body, formAction)
	if p.Form != nil && pc.Forms == 0 && !strings.Contains(strings.ToLower(body), "<form") {
		// The form was staged but not rendered into the body: render it here.
		pc.Forms = 1
		if formAction != "" {
			body += "\n<section class=\"lm-form-section\">\n" + content.RenderForm(p.Form, formAction) + "</section>\n"
			pc.FormsWired = 1
		}
	}
	pc.Tokens, pc.Conditions, pc.Problems = personalization("html", body)
	if len(pc.Problems) == 0 { // never half filled: the plan fails on them
		body = anonymous(body)
	}
	// A block delimiter inside the body would end the Custom HTML block early.
	body = strings.ReplaceAll(body, "<!-- wp:", "<!-- lm-wp:")
	body = strings.ReplaceAll(body, "<!-- /wp:", "<!-- /lm-wp:")
	pc.Raw = blockOpen + "\n" + markerComment(marker) + "\n" + strings.TrimSpace(body) + "\n" + blockClose
	return pc
}

// rewriteForms points every form that has no real action (lastmile renders
// them with action="#" and data-lastmile-form="not-wired") at formAction, or
// removes it when formAction is empty. Everything else is copied byte for
// byte. Forms that already post somewhere are left alone.
func rewriteForms(body, formAction string) (out string, forms, wired int) {
	if !strings.Contains(strings.ToLower(body), "<form") {
		return body, 0, 0
	}
	z := nethtml.NewTokenizer(strings.NewReader(body))
	var b strings.Builder
	b.Grow(len(body) + 64)
	skipping := false
	for {
		tt := z.Next()
		if tt == nethtml.ErrorToken {
			break
		}
		raw := z.Raw()
		if skipping {
			if tt == nethtml.EndTagToken {
				if name, _ := z.TagName(); string(name) == "form" {
					skipping = false
				}
			}
			continue
		}
		if tt != nethtml.StartTagToken {
			b.Write(raw)
			continue
		}
		name, hasAttr := z.TagName()
		if string(name) != "form" {
			b.Write(raw)
			continue
		}
		rawCopy := string(raw)
		var attrs []nethtml.Attribute
		for hasAttr {
			var k, v []byte
			k, v, hasAttr = z.TagAttr()
			attrs = append(attrs, nethtml.Attribute{Key: string(k), Val: string(v)})
		}
		if !needsAction(attrs) {
			b.WriteString(rawCopy)
			continue
		}
		forms++
		if formAction == "" {
			skipping = true
			continue
		}
		wired++
		b.WriteString(formTag(attrs, formAction))
	}
	out = b.String()
	if formAction == "" {
		out = emptyFormSection().ReplaceAllString(out, "")
	}
	return out, forms, wired
}

var emptyFormSection = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`<section class="lm-form-section">\s*</section>\n?`) })

func needsAction(attrs []nethtml.Attribute) bool {
	action, hasAction := "", false
	for _, a := range attrs {
		switch a.Key {
		case "data-lastmile-form":
			if a.Val == "not-wired" {
				return true
			}
		case "action":
			action, hasAction = strings.TrimSpace(a.Val), true
		}
	}
	return !hasAction || action == "" || action == "#"
}

func formTag(attrs []nethtml.Attribute, action string) string {
	var b strings.Builder
	b.WriteString("<form")
	hasMethod := false
	for _, a := range attrs {
		switch a.Key {
		case "action", "data-lastmile-form":
			continue
		case "method":
			hasMethod = true
		}
		fmt.Fprintf(&b, ` %s="%s"`, a.Key, html.EscapeString(a.Val))
	}
	fmt.Fprintf(&b, ` action="%s"`, html.EscapeString(action))
	if !hasMethod {
		b.WriteString(` method="post"`)
	}
	b.WriteString(">")
	return b.String()
}

// anonymous fills lastmile's personalization language (package liquid)
// for a visitor of whom nothing is known, as local's site and the review
// page show a page: tokens take their default, and each {% if %} on a
// contact property decides as for an empty one (usually its {% else %}).
// WordPress itself renders none of it.
func anonymous(s string) string { return liquid.Render(s, nil, "", true) }

// personalization counts the tokens and conditions anonymous fills in a
// field's text s, and lists as plan problems what it cannot fill: the
// constructs liquid.Unrenderable("wordpress", …) lists, the same list the
// governance check reports.
func personalization(field, s string) (tokens, conditions int, problems []string) {
	_, bad := liquid.Translate(Platform, s, func(n liquid.Node) string {
		switch n.Kind {
		case "output":
			tokens++
		case "if":
			conditions++
		}
		return ""
	})
	for _, u := range bad {
		problems = append(problems, fmt.Sprintf("%s cannot render %s in %s: %s; every visitor would see it as written", Platform, termsafe.Text(u.Text, 60), field, u.Why))
	}
	return tokens, conditions, problems
}

// Slugs.

// validSlug is the form WordPress's sanitize_title keeps unchanged: lower-case
// ASCII letters, digits, _ and single dashes between them. Anything else would
// come back rewritten, and the page would not be where the plan says.
var validSlug = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9_]+(?:-[a-z0-9_]+)*$`) })

// reservedSlug is what WordPress suffixes on pages even when nothing else
// holds the slug: numbers and page2-style slugs (they clash with pagination),
// feed names and "embed".
var reservedSlug = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:page)?[0-9]+$|^(?:feed|rdf|rss|rss2|atom|embed)$`)
})

// slugProblem explains why WordPress would not keep slug as it is, or "".
func slugProblem(slug string) string {
	switch {
	case slug == "":
		return "a WordPress page needs a slug (its URL path): set slug on the page"
	case len(slug) > 200:
		return fmt.Sprintf("the slug is %d characters long; WordPress keeps at most 200", len(slug))
	case !validSlug().MatchString(slug):
		return fmt.Sprintf("WordPress would rewrite the slug %q (it keeps lower-case letters, digits, _ and single dashes): use %q", slug, suggestSlug(slug))
	case reservedSlug().MatchString(slug):
		return fmt.Sprintf("WordPress never gives a page the slug %q (numbers, page<N>, feed names and embed clash with its own URLs; it would publish at %q-2): choose another slug", slug, slug)
	}
	return ""
}

var nonSlug = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^a-z0-9_]+`) })

func suggestSlug(s string) string {
	s = nonSlug().ReplaceAllString(strings.ToLower(s), "-")
	s = strings.Trim(s, "-")
	if s == "" {
		return "landing-page"
	}
	return s
}
