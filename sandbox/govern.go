package sandbox

import (
	"context"
	"fmt"
	"slices"
	"strconv"
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
	// The renderer's primary colour fills buttons; the policy may name a
	// separate button colour. Button text picks its own contrast.
	primary := b.Colors.Primary
	if b.Colors.Button != "" {
		primary = b.Colors.Button
	}
	return content.Theme{
		PrimaryColor: primary, TextColor: b.Colors.Text, BackgroundColor: b.Colors.Background,
		LinkColor:  b.Colors.Link,
		FontFamily: b.Fonts.Body, HeadingFontFamily: b.Fonts.Heading,
		LogoURL: b.Logo.URL, LogoAlt: b.Logo.Alt, LogoLink: b.Logo.Link, LogoWidth: b.Logo.Width,
		Company: b.Footer.Company, PostalAddress: b.Footer.PostalAddress, ContactEmail: b.Footer.ContactEmail,
		ContactURL: b.Footer.ContactURL,
	}
}

// utmOf is the campaign's UTM tagging as the renderer applies it to one
// artifact's links.
func utmOf(c *Campaign, r *Revision) content.UTM {
	u := content.UTM{Source: c.UTM.Source, Medium: c.UTM.Medium, Campaign: c.UTM.Campaign, Content: c.UTM.Content, Term: c.UTM.Term}
	if r.Page != nil {
		u.Medium = c.UTM.PageMediumOf()
	}
	if r.Ad != nil {
		// An ad click comes from the platform, paid: analytics that group
		// by source and medium must not count it as the email's.
		u.Source, u.Medium = AdSource(r.Ad.Platform), AdMedium(r.Ad.Platform)
	}
	if u.Campaign != "" {
		// utm_content names the artifact, so a conversion that arrives
		// through a link is credited to the email or page it was in; the
		// campaign's own content follows it (outcomes reads the id back).
		u.Content = r.ArtifactID
		if c.UTM.Content != "" {
			u.Content += "." + c.UTM.Content
		}
	}
	return u
}

// utmKey is everything of the campaign's tagging that changes a final
// revision, for the keys of what is derived from one.
func utmKey(c *Campaign) string {
	u := c.UTM
	return strings.Join([]string{u.Source, u.Medium, u.Campaign, u.Content, u.Term, u.PageMedium}, "|")
}

// Final returns the revision's content as it goes live: UTM parameters from
// the campaign applied to every link, utm_content naming the artifact. Plans, checks and connectors all use
// this, so governance sees the exact URLs recipients will click.
func Final(c *Campaign, r *Revision) *Revision {
	out := *r
	u := utmOf(c, r)
	switch {
	case r.Email != nil:
		e := *r.Email
		e.HTML = content.ApplyUTM(e.HTML, u)
		if e.TextDerived {
			e.Text = content.HTMLToText(e.HTML)
		} else {
			e.Text = content.ApplyUTMText(e.Text, u)
		}
		e.ABTest = finalABTest(e.ABTest, u)
		out.Email = &e
	case r.Page != nil:
		p := *r.Page
		p.HTML = content.ApplyUTM(p.HTML, u)
		p.Body = content.ApplyUTM(p.Body, u)
		out.Page = &p
	case r.Ad != nil:
		out.Ad = finalAd(r.Ad, u)
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

// document turns a final revision into what the governance engine checks.
func (s *Sandbox) document(c *Campaign, a *Artifact, fr *Revision, audience int) governance.Document {
	d := governance.Document{
		ArtifactID: a.ID, Channel: string(a.Kind), Markets: c.Markets, Industry: c.Industry,
		Recipients: audience, Platform: s.platformOf(a.Target),
		// Fixes that ask for a campaign setting name the tool that applies it.
		SetWith: "update_campaign",
	}
	switch {
	case fr.Email != nil:
		e := fr.Email
		d.Fields = []governance.Field{
			{Name: "subject", Value: e.Subject}, {Name: "preview_text", Value: e.PreviewText},
			{Name: "from_name", Value: e.FromName}, {Name: "html", HTML: true, Value: e.HTML}, {Name: "text", Value: e.Text},
		}
		// Every supported target adds a List-Unsubscribe header to bulk mail:
		// local writes a mailto: one; HubSpot and Mailchimp add one-click
		// https and mailto: ones (RFC 8058).
		d.Headers = map[string]string{"List-Unsubscribe": "<mailto:unsubscribe@" + domainOf(e.FromEmail) + ">"}
		if d.Platform == "hubspot" || d.Platform == "mailchimp" {
			d.Headers["List-Unsubscribe"] = "<https://unsubscribe." + d.Platform + ".com/one-click>, " + d.Headers["List-Unsubscribe"]
			d.Headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
		}
	case fr.Page != nil:
		p := fr.Page
		d.Fields = []governance.Field{{Name: "title", Value: p.Title}, {Name: "meta_description", Value: p.MetaDescription}, {Name: "html", HTML: true, Value: p.HTML}}
	case fr.Segment != nil:
		d.Fields = []governance.Field{{Name: "name", Value: fr.Segment.Name}}
		d.SegmentProperties = segmentProperties(&fr.Segment.Group, nil)
		d.NotSentTo = c.ID == WorkspaceID && a.CampaignID == WorkspaceID
	case fr.Workflow != nil:
		d.Fields = []governance.Field{{Name: "name", Value: fr.Workflow.Name}}
	case fr.Ad != nil:
		d.Fields = adFields(fr.Ad)
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

// CheckScope selects what Check checks: a campaign or one artifact.
type CheckScope struct {
	CampaignID string
	ArtifactID string
}

// Check runs the policy over a campaign's current revisions (or one
// artifact's) and returns the report.
func (s *Sandbox) Check(ctx context.Context, scope CheckScope) (*governance.Report, *governance.Policy, error) {
	p, err := s.policy.Policy()
	if err != nil {
		return nil, nil, &RefusedError{Code: RefusedGovernance, Reason: "the policy file has errors: " + err.Error(), Action: "A human must fix the policy file; nothing can be promoted until then"}
	}
	var in *planInput
	only := scope.ArtifactID
	if err := s.st.View(ctx, func(tx store.Tx) error {
		if only != "" {
			in, err = s.loadArtifactInput(tx, scope.CampaignID, only)
		} else {
			in, err = s.loadPlanInput(tx, scope.CampaignID)
		}
		return err
	}); err != nil {
		return nil, nil, err
	}
	var items []checkItem
	for _, a := range in.artifacts {
		if only == "" || a.ID == only {
			r := in.revs[a.ID]
			audience := s.audienceSize(ctx, a, r, in.segments)
			items = append(items, checkItem{key: docKey(in.campaign, a, r, s.platformOf(a.Target), audience), doc: func() governance.Document {
				return s.document(in.campaign, a, s.final(in.campaign, r), audience)
			}, variants: s.variantsOf(in.campaign, a, r, audience), limits: limitsOf(a, r)})
		}
	}
	if only == "" {
		items = append(items, s.sharedChecks(in)...)
	}
	rep := s.checkDocs(p, items)
	return &rep, p, nil
}

// sharedChecks are the checks of the workspace segments the campaign sends
// to (an email's or workflow's included segments, and what they include),
// as audiences of this campaign: under its markets and industry.
func (s *Sandbox) sharedChecks(in *planInput) []checkItem {
	if len(in.shared) == 0 {
		return nil
	}
	sentTo := map[string]bool{}
	var todo []string
	for _, a := range in.artifacts {
		r := in.revs[a.ID]
		switch {
		case r.Email != nil:
			todo = append(todo, r.Email.Audience.Include...)
		case r.Workflow != nil:
			todo = append(todo, r.Workflow.Trigger.SegmentID)
		case r.Segment != nil:
			todo = append(todo, r.Segment.IncludeSegments...)
		}
	}
	for len(todo) > 0 {
		id := todo[0]
		todo = todo[1:]
		if sentTo[id] {
			continue
		}
		sentTo[id] = true
		if sr := in.sharedRevs[id]; sr != nil && sr.Segment != nil {
			todo = append(todo, sr.Segment.IncludeSegments...)
		}
	}
	var items []checkItem
	for _, a := range in.shared {
		if !sentTo[a.ID] {
			continue
		}
		r := in.sharedRevs[a.ID]
		items = append(items, checkItem{key: docKey(in.campaign, a, r, s.platformOf(a.Target), -1), doc: func() governance.Document {
			return s.document(in.campaign, a, s.final(in.campaign, r), -1)
		}})
	}
	return items
}

// loadArtifactInput is loadPlanInput for checking one artifact: its
// campaign, the artifact at its current revision, and the segments its
// audience is counted through. Every write tool checks what it staged, so
// nothing here may grow with the campaign. campaignID, when given, must be
// the artifact's.
func (s *Sandbox) loadArtifactInput(tx store.Tx, campaignID, id string) (*planInput, error) {
	a, err := getArtifact(tx, id)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, &NotFoundError{What: "artifact", ID: id, Hint: "get_campaign lists a campaign's artifacts"}
	}
	if campaignID != "" && a.CampaignID != campaignID {
		return nil, &NotFoundError{What: "artifact", ID: id + " in campaign " + campaignID, Hint: "it belongs to " + a.CampaignID}
	}
	if a.ArchivedAt != nil {
		// Out of its campaign: not checked, and so not sent as a test.
		return nil, &ValidationError{What: "request", Outcome: "was not run", Problems: []Problem{{Field: "artifact_id", Message: fmt.Sprintf("%s was archived (archive_artifact): it is out of campaign %s", id, a.CampaignID), Fix: "pick an artifact get_campaign lists"}}}
	}
	c, err := s.campaign(tx, a.CampaignID)
	if err != nil {
		return nil, err
	}
	r, err := s.revision(tx, a.ID, a.Revision)
	if err != nil {
		return nil, err
	}
	segs, err := s.segmentsOf(tx, c.ID, a.ID, r)
	if err != nil {
		return nil, err
	}
	return &planInput{campaign: c, artifacts: []*Artifact{a}, revs: map[string]*Revision{a.ID: r}, live: map[string]*Revision{}, segments: segs}, nil
}

// checkItem is a document to check, under the key its report is kept by.
// doc builds the document only when no report is kept.
type checkItem struct {
	key string
	doc func() governance.Document
	// variants, for an A/B test, builds its other variants' documents.
	variants func() []variantDoc
	// limits, for an ad campaign, checks its platform's limits, which
	// hold whatever the policy says.
	limits func() []governance.Finding
}

// limitsOf is the platform-limit check of an ad revision, nil for others.
func limitsOf(a *Artifact, r *Revision) func() []governance.Finding {
	if r.Ad == nil {
		return nil
	}
	return func() []governance.Finding { return adLimitFindings(a.ID, r.Ad) }
}

// docKey names a document by what document makes it from: the artifact,
// its kind and content (the revision's hash), the campaign's UTM tagging
// (which rewrites every link), markets and industry, the platform and the
// audience. Equal keys are equal documents, so a kept report is found
// without building the document, let alone encoding it.
func docKey(c *Campaign, a *Artifact, r *Revision, platform string, audience int) string {
	return strings.Join([]string{a.ID, string(a.Kind), r.Hash, utmKey(c),
		strings.Join(c.Markets, ","), c.Industry, platform, strconv.Itoa(audience), strconv.FormatBool(c.ID == WorkspaceID)}, "|")
}

// checkDocs checks documents one by one, reusing earlier results for
// documents checked before under the same policy: the write tools check
// each artifact as it is staged, so planning finds most results ready.
func (s *Sandbox) checkDocs(p *governance.Policy, items []checkItem) governance.Report {
	reps := make([]governance.Report, len(items))
	for i, it := range items {
		key := p.Hash() + "|" + it.key
		if r, ok := s.checks.Get(key); ok {
			reps[i] = r
			continue
		}
		reps[i] = p.Check([]governance.Document{it.doc()})
		if it.variants != nil {
			reps[i] = checkVariants(p, reps[i], it.variants())
		}
		if it.limits != nil {
			reps[i] = governance.Merge(reps[i], governance.Report{Findings: it.limits()})
		}
		s.checks.Put(key, reps[i])
	}
	return governance.Merge(reps...)
}

// final is Final, remembered per revision and UTM tagging.
func (s *Sandbox) final(c *Campaign, r *Revision) *Revision {
	key := r.ArtifactID + "|" + r.Hash + "|" + utmKey(c)
	if f, ok := s.finals.Get(key); ok {
		return f
	}
	f := Final(c, r)
	s.finals.Put(key, f)
	return f
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
	n, err := counter.Count(ctx, include, exclude, reach(segs, include, exclude))
	if err != nil {
		return -1
	}
	return n
}

// warmCheck is the policy check of a revision being staged. It runs on
// its own goroutine while the commit waits for the disk, so the summary a
// write tool returns costs the check's time only where it is longer than
// the commit's.
type warmCheck struct {
	done chan struct{}
	rep  governance.Report
}

// warm starts checking a revision inside the transaction that stages it,
// with the segments its audience is counted through (see segmentsOf). It
// checks exactly what Check would read back after the commit. The final
// revision it derives is kept in s.finals, keyed by the revision's content
// hash and the campaign's UTM, so the first plan after staging finds it;
// if the commit fails, the entry is never asked for.
func (s *Sandbox) warm(ctx context.Context, c *Campaign, a *Artifact, r *Revision, segs map[string]*Segment) *warmCheck {
	p, err := s.policy.Policy()
	if err != nil || len(p.Rules()) == 0 {
		return nil // GovernanceLine says why there is nothing to check
	}
	w := &warmCheck{done: make(chan struct{})}
	go func() {
		defer close(w.done)
		audience := s.audienceSize(ctx, a, r, segs)
		w.rep = s.checkDocs(p, []checkItem{{key: docKey(c, a, r, s.platformOf(a.Target), audience), doc: func() governance.Document {
			return s.document(c, a, s.final(c, r), audience)
		}, variants: s.variantsOf(c, a, r, audience), limits: limitsOf(a, r)}})
	}()
	return w
}

// segmentsOf returns the segments an audience of artifact id (at revision
// r) is counted through: those r includes or excludes, and those they
// refer to in turn, at their current revisions as tx sees them; for a
// segment, r itself too. It reads only what the references reach, never
// the rest of the campaign. nil when r has no audience.
func (s *Sandbox) segmentsOf(tx store.Tx, campaignID, id string, r *Revision) (map[string]*Segment, error) {
	var include, exclude []string
	switch {
	case r.Segment != nil:
		include = []string{id}
	case r.Email != nil && len(r.Email.Audience.Include) > 0:
		include, exclude = r.Email.Audience.Include, r.Email.Audience.Exclude
	default:
		return nil, nil
	}
	out := map[string]*Segment{}
	seen := map[string]bool{}
	todo := append(slices.Clone(include), exclude...)
	for len(todo) > 0 {
		ref := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[ref] {
			continue
		}
		seen[ref] = true
		seg := r.Segment
		if ref != id {
			a, err := getArtifact(tx, ref)
			if err != nil {
				return nil, err
			}
			if a == nil || a.Kind != KindSegment || (a.CampaignID != campaignID && a.CampaignID != WorkspaceID) {
				continue // staging refuses such references; counting skips them
			}
			rev, err := s.revision(tx, ref, a.Revision)
			if err != nil {
				return nil, err
			}
			seg = rev.Segment
		}
		if seg == nil {
			continue
		}
		out[ref] = seg
		todo = append(append(todo, seg.IncludeSegments...), seg.ExcludeSegments...)
	}
	return out, nil
}

// reach is the part of segs that counting include minus exclude needs: the
// segments named and those they include or exclude, transitively. Counting
// through these only keeps a count's cost apart from the campaign's size,
// and keeps it the same wherever it is made (staging, one artifact's check,
// the campaign's): a target may count the static addresses of every
// segment it is given as contacts, as local does.
func reach(segs map[string]*Segment, include, exclude []string) map[string]*Segment {
	out := map[string]*Segment{}
	todo := append(slices.Clone(include), exclude...)
	for len(todo) > 0 {
		id := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		seg, ok := segs[id]
		if _, done := out[id]; done || !ok || seg == nil {
			continue
		}
		out[id] = seg
		todo = append(append(todo, seg.IncludeSegments...), seg.ExcludeSegments...)
	}
	return out
}

// StagedGovernanceLine is GovernanceLine for what a Stage method returned:
// the report of the check started before the commit, when there is one.
func (s *Sandbox) StagedGovernanceLine(ctx context.Context, res *StageResult) string {
	if w := res.warm; w != nil {
		select {
		case <-w.done:
			return summaryLine(&w.rep)
		case <-ctx.Done():
		}
	}
	return s.GovernanceLine(ctx, res.Artifact.ID)
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
	return summaryLine(rep)
}

func summaryLine(rep *governance.Report) string {
	return "governance: " + Summarize(rep) + " (check_campaign lists the findings)"
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
	return fmt.Sprintf("%s — %d errors, %d warnings, %d suggestions", verdict, r.Errors, r.Warnings, r.Suggestions)
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}
