package sandbox

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox/content"
	"github.com/lastmile/lastmile/store"
)

// theme maps the policy's brand tokens onto the block renderer, so rendered
// content and the checks share one source. A broken policy renders with the
// neutral default theme (planning will refuse until it is fixed anyway).
func (s *Sandbox) theme() content.Theme {
	p, err := s.policy.Policy()
	if err != nil || p == nil {
		return content.Theme{}
	}
	b := p.Brand()
	return content.Theme{
		PrimaryColor: b.Colors.Primary, TextColor: b.Colors.Text, BackgroundColor: b.Colors.Background,
		LinkColor: b.Colors.Link, ButtonTextColor: b.Colors.Button,
		FontFamily: b.Fonts.Body, HeadingFontFamily: b.Fonts.Heading,
		LogoURL: b.Logo.URL, LogoAlt: b.Logo.Alt, LogoLink: b.Logo.Link, LogoWidth: b.Logo.Width,
		Company: b.Footer.Company, PostalAddress: b.Footer.PostalAddress, ContactEmail: b.Footer.ContactEmail,
	}
}

// utmOf is the campaign's UTM tagging as the renderer applies it.
func utmOf(c *Campaign) content.UTM {
	return content.UTM{Source: c.UTM.Source, Medium: c.UTM.Medium, Campaign: c.UTM.Campaign}
}

// Final returns the revision's content as it goes live: UTM parameters from
// the campaign applied to every link. Plans, checks and connectors all use
// this, so governance sees the exact URLs recipients will click.
func Final(c *Campaign, r *Revision) *Revision {
	out := *r
	u := utmOf(c)
	switch {
	case r.Email != nil:
		e := *r.Email
		e.HTML = content.ApplyUTM(e.HTML, u)
		if e.TextDerived {
			e.Text = content.HTMLToText(e.HTML)
		}
		out.Email = &e
	case r.Page != nil:
		p := *r.Page
		p.HTML = content.ApplyUTM(p.HTML, u)
		p.Body = content.ApplyUTM(p.Body, u)
		out.Page = &p
	}
	return &out
}

// segmentProperties lists every property a segment's conditions test.
func segmentProperties(g *Group, out []string) []string {
	for _, c := range g.Conditions {
		p := strings.ToLower(c.Property)
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for i := range g.Groups {
		out = segmentProperties(&g.Groups[i], out)
	}
	return out
}

// document turns a revision into what the governance engine checks.
func (s *Sandbox) document(c *Campaign, a *Artifact, r *Revision, audience int) governance.Document {
	fr := Final(c, r)
	d := governance.Document{
		ArtifactID: a.ID, Channel: string(a.Kind), Markets: c.Markets, Industry: c.Industry,
		Recipients: audience, Platform: s.platformOf(a.Target),
	}
	switch {
	case fr.Email != nil:
		e := fr.Email
		d.Fields = []governance.Field{
			{Name: "subject", Value: e.Subject}, {Name: "preview_text", Value: e.PreviewText},
			{Name: "from_name", Value: e.FromName}, {Name: "html", HTML: true, Value: e.HTML}, {Name: "text", Value: e.Text},
		}
		// Every supported target adds a List-Unsubscribe header to bulk mail
		// (local writes a mailto: one; HubSpot and Mailchimp add theirs).
		d.Headers = map[string]string{"List-Unsubscribe": "<mailto:unsubscribe@" + domainOf(e.FromEmail) + ">"}
	case fr.Page != nil:
		p := fr.Page
		d.Fields = []governance.Field{{Name: "title", Value: p.Title}, {Name: "meta_description", Value: p.MetaDescription}, {Name: "html", HTML: true, Value: p.HTML}}
	case fr.Segment != nil:
		d.Fields = []governance.Field{{Name: "name", Value: fr.Segment.Name}}
		d.SegmentProperties = segmentProperties(&fr.Segment.Group, nil)
	case fr.Workflow != nil:
		d.Fields = []governance.Field{{Name: "name", Value: fr.Workflow.Name}}
	}
	return d
}

func (s *Sandbox) platformOf(target string) string {
	if t, ok := s.targets[target]; ok {
		return t.Platform()
	}
	if tc, ok := s.cfg.Targets[target]; ok {
		return tc.Type
	}
	return ""
}

// CheckScope selects what CheckCampaign checks: a campaign or one artifact.
type CheckScope struct {
	CampaignID string
	ArtifactID string
}

// Check runs the policy over a campaign's current revisions (or one
// artifact's) and returns the report.
func (s *Sandbox) Check(ctx context.Context, scope CheckScope) (*governance.Report, *governance.Policy, error) {
	p, err := s.policy.Policy()
	if err != nil {
		return nil, nil, &RefusedError{Reason: "the policy file has errors: " + err.Error(), Action: "A human must fix the policy file; nothing can be promoted until then"}
	}
	var docs []governance.Document
	err = s.st.View(ctx, func(tx store.Tx) error {
		var err error
		docs, err = s.documents(ctx, tx, scope)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	rep := p.Check(docs)
	return &rep, p, nil
}

func (s *Sandbox) documents(ctx context.Context, tx store.Tx, scope CheckScope) ([]governance.Document, error) {
	campaignID := scope.CampaignID
	var only *Artifact
	if scope.ArtifactID != "" {
		a, err := getJSON[Artifact](tx, bArtifacts, scope.ArtifactID)
		if err != nil {
			return nil, err
		}
		if a == nil {
			return nil, &NotFoundError{What: "artifact", ID: scope.ArtifactID, Hint: "get_campaign lists a campaign's artifacts"}
		}
		if campaignID != "" && a.CampaignID != campaignID {
			return nil, &NotFoundError{What: "artifact", ID: scope.ArtifactID + " in campaign " + campaignID, Hint: "it belongs to " + a.CampaignID}
		}
		campaignID, only = a.CampaignID, a
	}
	c, err := s.campaign(tx, campaignID)
	if err != nil {
		return nil, err
	}
	arts := []*Artifact{only}
	if only == nil {
		if arts, err = s.campaignArtifacts(tx, c.ID); err != nil {
			return nil, err
		}
	}
	segs := map[string]*Segment{}
	revs := map[string]*Revision{}
	all, err := s.campaignArtifacts(tx, c.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range all {
		r, err := s.revision(tx, a.ID, a.Revision)
		if err != nil {
			return nil, err
		}
		revs[a.ID] = r
		if r.Segment != nil {
			segs[a.ID] = r.Segment
		}
	}
	docs := make([]governance.Document, 0, len(arts))
	for _, a := range arts {
		r := revs[a.ID]
		docs = append(docs, s.document(c, a, r, s.audienceSize(ctx, a, r, segs)))
	}
	return docs, nil
}

// audienceSize counts an email's recipients or a segment's members when the
// target can count; -1 when unknown.
func (s *Sandbox) audienceSize(ctx context.Context, a *Artifact, r *Revision, segs map[string]*Segment) int {
	counter, ok := s.targets[a.Target].(Counter)
	if !ok {
		return -1
	}
	var include, exclude []string
	switch {
	case r.Email != nil:
		include, exclude = r.Email.Audience.Include, r.Email.Audience.Exclude
	case r.Segment != nil:
		include = []string{a.ID}
	default:
		return -1
	}
	if len(include) == 0 {
		return 0
	}
	n, err := counter.Count(ctx, include, exclude, segs)
	if err != nil {
		return -1
	}
	return n
}

// GovernanceLine is the one-line check summary write tools return.
func (s *Sandbox) GovernanceLine(ctx context.Context, artifactID string) string {
	p, err := s.policy.Policy()
	if err != nil {
		return "policy file has errors; a human must fix it before anything can be promoted"
	}
	if len(p.Rules()) == 0 {
		return "no policy configured"
	}
	rep, _, err := s.Check(ctx, CheckScope{ArtifactID: artifactID})
	if err != nil {
		return "checks could not run: " + err.Error()
	}
	return "governance: " + Summarize(rep)
}

// Summarize renders a report's counts in one line.
func Summarize(r *governance.Report) string {
	if r.Errors+r.Warnings+r.Suggestions == 0 {
		return "passed, no findings"
	}
	verdict := "passed"
	if r.Errors > 0 {
		verdict = "BLOCKED"
	}
	return fmt.Sprintf("%s — %d errors, %d warnings, %d suggestions (check_campaign lists them)", verdict, r.Errors, r.Warnings, r.Suggestions)
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}
