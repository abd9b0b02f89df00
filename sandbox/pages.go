package sandbox

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/lastmile/lastmile/sandbox/content"
	"github.com/lastmile/lastmile/store"
)

var slugPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)*$`)
})

// PageInput is what publish_page takes.
type PageInput struct {
	CampaignID      string
	PageID          string
	Title           string
	Slug            string
	HTML            string
	Blocks          []content.Block
	MetaDescription string
	Form            *content.Form
	PublishAt       string
	Target          string
}

func slugKey(target, slug string) string { return target + "\x00" + slug }

// liveSlug is the slug key a page's live revision stands on, or "".
func (s *Sandbox) liveSlug(tx store.Tx, id string) (string, error) {
	a, err := getArtifact(tx, id)
	if err != nil || a == nil || a.Live == nil {
		return "", err
	}
	r, err := s.revision(tx, id, a.Live.Revision)
	if err != nil || r == nil || r.Page == nil {
		return "", err
	}
	return slugKey(a.Live.Target, r.Page.Slug), nil
}

// releaseSlug frees the slug a page stood on before a promotion moved it,
// unless its current revision uses it again.
func (s *Sandbox) releaseSlug(tx store.Tx, id, oldKey string) error {
	if oldKey == "" {
		return nil
	}
	a, err := getArtifact(tx, id)
	if err != nil || a == nil {
		return err
	}
	if r, err := s.revision(tx, id, a.Revision); err != nil {
		return err
	} else if r != nil && r.Page != nil && slugKey(cmp.Or(r.Page.Target, a.Live.Target), r.Page.Slug) == oldKey {
		return nil
	}
	owner, err := tx.Get(bSlugs, oldKey)
	if err != nil || string(owner) != id {
		return err
	}
	return tx.Delete(bSlugs, oldKey)
}

// suggestSlug turns a title or bad slug into a URL-safe one.
func suggestSlug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// StagePage validates a landing page and stages it as a new revision. The
// page goes live only through an approved plan.
func (s *Sandbox) StagePage(ctx context.Context, actor string, in PageInput) (*StageResult, error) {
	return s.stagePage(ctx, actor, in, false)
}

// CheckPage reports every problem StagePage would, and writes
// nothing: nil means StagePage would stage the page. Tools use it to
// report a request's other problems along with its schema errors, in one
// round.
func (s *Sandbox) CheckPage(ctx context.Context, in PageInput) error {
	return checked(s.stagePage(ctx, "", in, true))
}

func (s *Sandbox) stagePage(ctx context.Context, actor string, in PageInput, checkOnly bool) (*StageResult, error) {
	var ps problems
	p := &Page{
		Title: strings.TrimSpace(in.Title), Slug: strings.TrimSpace(in.Slug), Blocks: in.Blocks, HTML: in.HTML,
		MetaDescription: strings.TrimSpace(in.MetaDescription), Form: in.Form, Target: in.Target,
	}
	checkLen(&ps, "title", p.Title, 200, true, "give the page title, e.g. \"Spring launch\"")
	switch {
	case p.Slug == "":
		ps.add("slug", "is required", fmt.Sprintf("give the URL path, e.g. %q", suggestSlug(p.Title)))
	case len(p.Slug) > 100:
		ps.add("slug", fmt.Sprintf("is %d characters long; the limit is 100", len(p.Slug)), "shorten it")
	case !slugPattern().MatchString(p.Slug):
		ps.add("slug", fmt.Sprintf("%q is not URL-safe", p.Slug), fmt.Sprintf("use lower-case letters, digits and single hyphens, e.g. %q", suggestSlug(p.Slug)))
	}
	checkLen(&ps, "meta_description", p.MetaDescription, 300, false, "")
	checkHTMLOrBlocks(&ps, in.HTML, in.Blocks)
	if p.Form != nil {
		for _, pr := range content.ValidateForm(p.Form) {
			ps.add("form."+strings.TrimPrefix(pr.Path, "form."), pr.Message, pr.Fix)
		}
	}
	p.PublishAt = s.checkFuture("publish_at", in.PublishAt, &ps)
	s.checkTargetOverride("target", p.Target, KindPage, &ps)
	if len(ps) == 0 {
		s.renderPage(p)
	}
	var target string
	return s.stage(ctx, actor, staging{
		kind: KindPage, campaignID: in.CampaignID, artifactID: in.PageID, rev: &Revision{Page: p}, pre: ps, checkOnly: checkOnly,
		check: func(tx store.Tx, c *Campaign, self string, ps *problems) error {
			target = p.Target
			if target == "" {
				target = c.Target
			}
			owner, err := tx.Get(bSlugs, slugKey(target, p.Slug))
			if err != nil {
				return err
			}
			if owner != nil && string(owner) != self {
				who := "page " + string(owner)
				if a, err := getArtifact(tx, string(owner)); err == nil && a != nil {
					who = fmt.Sprintf("page %s (%q, campaign %s)", a.ID, a.Name, a.CampaignID)
				}
				ps.add("slug", fmt.Sprintf("%q is already used on target %s by %s", p.Slug, target, who), "pick another slug, or update that page with its page_id")
			}
			return nil
		},
		index: func(tx store.Tx, self string, prev *Revision, prevTarget string) error {
			if prev != nil && (prevTarget != target || prev.Page.Slug != p.Slug) {
				// A slug a live page stands on stays its page's until a
				// plan moves the page off it: nobody else may take it.
				live, err := s.liveSlug(tx, self)
				if err != nil {
					return err
				}
				if live != slugKey(prevTarget, prev.Page.Slug) {
					if err := tx.Delete(bSlugs, slugKey(prevTarget, prev.Page.Slug)); err != nil {
						return err
					}
				}
			}
			return tx.Put(bSlugs, slugKey(target, p.Slug), []byte(self))
		},
	})
}

// renderPage fills HTML and Body from blocks, or Body from a given document.
func (s *Sandbox) renderPage(p *Page) {
	opts := content.PageOptions{Title: p.Title, MetaDescription: p.MetaDescription, Form: p.Form}
	if len(p.Blocks) > 0 {
		p.HTML = content.RenderPage(p.Blocks, s.theme(), opts)
		p.Body = content.RenderPageBody(p.Blocks, s.theme(), opts)
		return
	}
	if p.Form != nil {
		// A form given beside raw HTML goes at the end of the body.
		form := content.RenderForm(p.Form, "")
		if _, i, _ := content.BodyBounds(p.HTML); i < len(p.HTML) {
			p.HTML = p.HTML[:i] + form + "\n" + p.HTML[i:]
		} else {
			p.HTML += "\n" + form
		}
	}
	p.Body = strings.TrimSpace(content.BodyOf(p.HTML))
}
