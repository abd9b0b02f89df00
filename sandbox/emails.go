package sandbox

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lastmile/lastmile/sandbox/content"
	"github.com/lastmile/lastmile/store"
)

// EmailInput is what create_email takes.
type EmailInput struct {
	CampaignID        string
	EmailID           string // set: a new revision of this email
	Name              string
	Subject           string
	PreviewText       string
	FromName          string
	FromEmail         string
	ReplyTo           string
	HTML              string
	Blocks            []content.Block
	Text              string
	Audience          Audience
	SendAt            string // RFC 3339
	Target            string
	SendWindow        *SendWindow
	RecipientTimeZone bool
	ABTest            *ABTest // as given: TestPercent 0 means the default
}

// checkAddress reports what is wrong with an email address, or "".
func checkAddress(addr string) string {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != strings.TrimSpace(addr) {
		return fmt.Sprintf("%q is not a valid email address (RFC 5322)", addr)
	}
	at := strings.LastIndexByte(a.Address, '@')
	if !strings.Contains(a.Address[at+1:], ".") {
		return fmt.Sprintf("%q has no domain a message can be delivered to", addr)
	}
	return ""
}

// checkFuture parses an RFC 3339 time that must lie ahead.
func (s *Sandbox) checkFuture(field, v string, ps *problems) *time.Time {
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		ps.add(field, fmt.Sprintf("%q is not an RFC 3339 time", v), "write it like 2027-03-01T09:00:00Z or 2027-03-01T10:00:00+01:00")
		return nil
	}
	if now := s.clock(); !t.After(now) {
		ps.add(field, fmt.Sprintf("%s is not in the future (it is now %s)", t.UTC().Format(time.RFC3339), now.Format(time.RFC3339)), "pick a later time, or leave it empty")
		return nil
	}
	t = t.UTC()
	return &t
}

func checkLen(ps *problems, field, v string, max int, required bool, example string) {
	n := utf8.RuneCountInString(v)
	switch {
	case required && strings.TrimSpace(v) == "":
		ps.add(field, "is required", example)
	case n > max:
		ps.add(field, fmt.Sprintf("is %d characters long; the limit is %d", n, max), "shorten it")
	}
}

func (s *Sandbox) checkTargetOverride(field, name string, k Kind, ps *problems) {
	if name == "" {
		return
	}
	if _, ok := s.cfg.Targets[name]; !ok {
		ps.add(field, fmt.Sprintf("no target named %q is configured", name), fmt.Sprintf("use one of %v, or leave it empty to use the campaign's", s.cfg.TargetNames()))
		return
	}
	if t, ok := s.targets[name]; ok && !t.Capabilities().Supports(k) {
		ps.add(field, fmt.Sprintf("target %q (%s) cannot hold %ss", name, t.Platform(), k), "pick a target that can, or leave it empty to use the campaign's")
	}
}

// checkHTMLOrBlocks validates the content source of an email or page and
// reports whether blocks were given.
func checkHTMLOrBlocks(ps *problems, html string, blocks []content.Block) {
	switch {
	case html == "" && len(blocks) == 0:
		ps.add("html", "the content is missing", "give either html (a full HTML document) or blocks (heading, paragraph, button, image, divider, spacer, columns)")
	case html != "" && len(blocks) > 0:
		ps.add("blocks", "both html and blocks were given", "give exactly one of them")
	case len(html) > MaxHTMLBytes:
		ps.add("html", fmt.Sprintf("is %d bytes; the limit is %d bytes (1 MB)", len(html), MaxHTMLBytes), "trim it (Gmail clips emails above 102 KB anyway) or host large content on a page")
	}
	if len(blocks) > 0 {
		for _, p := range content.Validate(blocks) {
			ps.add("blocks"+strings.TrimPrefix(p.Path, "blocks"), p.Message, p.Fix)
		}
	}
}

// StageEmail validates an email and stages it as a new revision.
func (s *Sandbox) StageEmail(ctx context.Context, actor string, in EmailInput) (*StageResult, error) {
	return s.stageEmail(ctx, actor, in, false)
}

// CheckEmail reports every problem StageEmail would, and writes
// nothing: nil means StageEmail would stage the email. Tools use it to
// report a request's other problems along with its schema errors, in one
// round.
func (s *Sandbox) CheckEmail(ctx context.Context, in EmailInput) error {
	return checked(s.stageEmail(ctx, "", in, true))
}

func (s *Sandbox) stageEmail(ctx context.Context, actor string, in EmailInput, checkOnly bool) (*StageResult, error) {
	var ps problems
	e := &Email{
		Name: strings.TrimSpace(in.Name), Subject: strings.TrimSpace(in.Subject), PreviewText: strings.TrimSpace(in.PreviewText),
		FromName: strings.TrimSpace(in.FromName), FromEmail: strings.TrimSpace(in.FromEmail), ReplyTo: strings.TrimSpace(in.ReplyTo),
		Blocks: in.Blocks, HTML: in.HTML, Text: in.Text, Audience: in.Audience, Target: in.Target,
	}
	checkLen(&ps, "name", e.Name, maxName, true, "name the email, e.g. \"Launch announcement\"")
	checkLen(&ps, "subject", e.Subject, 250, true, "give the subject line recipients will see")
	if strings.ContainsAny(e.Subject, "\r\n") {
		ps.add("subject", "contains a line break", "write the subject on one line")
	}
	checkLen(&ps, "preview_text", e.PreviewText, 250, false, "")
	checkLen(&ps, "from_name", e.FromName, 100, true, "give the sender name recipients will see: the policy's default sender (lastmile://policy) when it has one")
	if strings.ContainsAny(e.FromName, "\r\n<>\"") {
		ps.add("from_name", "contains a line break, quote or angle bracket", "use plain words, e.g. \"Jane at Example Shop\"")
	}
	if e.FromEmail == "" {
		ps.add("from_email", "is required", "give the sender address: the policy's default sender (lastmile://policy) when it has one, e.g. news@example.com")
	} else if msg := checkAddress(e.FromEmail); msg != "" {
		ps.add("from_email", msg, "use a plain address like news@example.com")
	}
	if e.ReplyTo != "" {
		if msg := checkAddress(e.ReplyTo); msg != "" {
			ps.add("reply_to", msg, "use a plain address like support@example.com, or leave it empty")
		}
	}
	checkHTMLOrBlocks(&ps, in.HTML, in.Blocks)
	if len(e.Text) > MaxHTMLBytes {
		ps.add("text", fmt.Sprintf("is %d bytes; the limit is %d bytes (1 MB)", len(e.Text), MaxHTMLBytes), "shorten it, or leave it empty to derive it from the HTML")
	}
	e.SendAt = s.checkFuture("send_at", in.SendAt, &ps)
	e.SendWindow, e.RecipientTimeZone = clone(in.SendWindow), in.RecipientTimeZone
	checkSendTiming(&ps, e.SendWindow, e.RecipientTimeZone, in.SendAt)
	if e.SendAt != nil && e.RecipientTimeZone {
		// The clock time as written is each recipient's: keep its offset.
		t, _ := time.Parse(time.RFC3339, in.SendAt)
		e.SendAt = &t
	}
	if in.SendAt != "" && len(e.Audience.Include) == 0 {
		ps.add("send_at", "is set but the email has no audience", "add audience.include segment ids, or leave send_at empty for an email a workflow sends")
	}
	for i, id := range e.Audience.Exclude {
		for _, inc := range e.Audience.Include {
			if id == inc {
				ps.add(fmt.Sprintf("audience.exclude[%d]", i), fmt.Sprintf("%s is both included and excluded", id), "keep it in one list")
			}
		}
	}
	s.checkTargetOverride("target", e.Target, KindEmail, &ps)
	e.ABTest = checkABTest(&ps, e, in.ABTest)

	if len(ps) == 0 {
		s.renderEmail(e)
		s.renderVariants(e)
	}
	return s.stage(ctx, actor, staging{
		kind: KindEmail, campaignID: in.CampaignID, artifactID: in.EmailID, rev: &Revision{Email: e}, pre: ps, checkOnly: checkOnly,
		check: func(tx store.Tx, c *Campaign, _ string, ps *problems) error {
			if err := checkRefs(tx, c, "audience.include", e.Audience.Include, KindSegment, ps); err != nil {
				return err
			}
			return checkRefs(tx, c, "audience.exclude", e.Audience.Exclude, KindSegment, ps)
		},
	})
}

// renderEmail fills HTML (and the text part) from blocks, so the revision
// holds exactly what goes live before UTM tagging. A text part the agent did
// not give is derived from the HTML when the email is rendered for a plan
// or a target (Final), after the links are tagged: deriving it here too
// would only be thrown away.
func (s *Sandbox) renderEmail(e *Email) {
	if len(e.Blocks) > 0 {
		html, text := content.RenderEmail(e.Blocks, s.theme(), content.EmailOptions{Title: e.Subject, PreviewText: e.PreviewText, Footer: true})
		e.HTML = html
		if e.Text == "" {
			e.Text = text
		}
	}
	if e.Text == "" {
		e.TextDerived = true
	}
}
