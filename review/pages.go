package review

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lastmile/lastmile/approvers"
	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/liquid"
	"github.com/lastmile/lastmile/report"
	"github.com/lastmile/lastmile/review/render"
	"github.com/lastmile/lastmile/sandbox"
)

//go:embed templates/*.html static/*
var assets embed.FS

func staticFS() fs.FS { sub, _ := fs.Sub(assets, "static"); return sub }

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"when":  when,
	"date":  func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 MST") },
	"count": countWords,
	"join":  strings.Join,
	"inc":   func(i int) int { return i + 1 },
	"iterate": func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	},
}).ParseFS(assets, "templates/*.html"))

// pageData is what every page template reads.
type pageData struct {
	Title   string
	Message string
	Email   string // the signed-in approver, or who enrols
	Roles   []string
	Token   string // enrolment
	Next    string // sign-in
	CSRF    string
	Preview string // the session's preview token, for the frames' addresses
	Plans   []sandbox.PlanSummary
	Invites []approvers.Invitation
	Plan    *planView
	Sample  int // which sample recipient the previews show
	// Inline, for the preview an MCP client shows, holds each email's and
	// page's HTML for frames' srcdoc, where the page has no server to
	// load them from.
	Inline    map[string]string
	ReviewURL string
}

func (s *Server) page(w http.ResponseWriter, r *http.Request, status int, name string, d pageData) {
	if ss := sessionOf(r); ss != nil {
		d.Email, d.CSRF, d.Preview = ss.email, ss.csrf, ss.preview
	}
	var page bytes.Buffer
	if err := templates.ExecuteTemplate(&page, name+".html", d); err != nil {
		s.log.Error("review: rendering a page", "page", name, "err", err)
		http.Error(w, "the page could not be rendered; the server's log says why", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(termsafe.Page(page.Bytes()))
}

func (s *Server) plansPage(w http.ResponseWriter, r *http.Request) {
	plans, err := s.sb.ListPlans(r.Context(), "", 200)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// Plans waiting for a person first, then the rest, newest first.
	slices.SortStableFunc(plans, func(a, b sandbox.PlanSummary) int { return statusRank(a.Status) - statusRank(b.Status) })
	all, err := s.appr.Invitations(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var invites []approvers.Invitation
	for _, inv := range all {
		if inv.Waiting {
			invites = append(invites, inv)
		}
	}
	s.page(w, r, http.StatusOK, "plans", pageData{Title: "Plans", Plans: plans, Invites: invites})
}

// reportPage is lastmile report's HTML page for ?period= (default this
// month), from the outcomes kept so far. Its charts are inline SVG and its
// styles inline, so it has a policy of its own: still no script.
func (s *Server) reportPage(w http.ResponseWriter, r *http.Request) {
	in, err := report.Gather(r.Context(), s.sb, r.URL.Query().Get("period"), time.Now(), "")
	if err != nil {
		s.page(w, r, http.StatusBadRequest, "message", pageData{Title: "Report", Message: err.Error()})
		return
	}
	var page bytes.Buffer
	if err := report.WriteHTML(&page, report.Build(in)); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.Write(page.Bytes())
}

func statusRank(st string) int {
	switch st {
	case sandbox.PlanPending:
		return 0
	case sandbox.PlanApproved:
		return 1
	}
	return 2
}

func (s *Server) planPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.planView(r.Context(), r.PathValue("id"))
	if err != nil {
		s.page(w, r, http.StatusNotFound, "message", pageData{Title: "No such plan", Message: err.Error()})
		return
	}
	sample, _ := strconv.Atoi(r.URL.Query().Get("r"))
	if sample < 0 || sample >= max(1, v.Samples) {
		sample = 0
	}
	s.page(w, r, http.StatusOK, "plan", pageData{Title: "Plan " + v.Plan.ID, Plan: v, Sample: sample})
}

// planView is a plan as its page shows it.
type planView struct {
	Plan      *sandbox.Plan
	Code      string
	Campaign  sandbox.Campaign
	Summary   []summaryLine
	Targets   []string
	Emails    []emailView
	Segments  []segmentView
	Workflows []workflowView
	Pages     []pageView
	Ads       []adView
	Findings  []governance.Finding
	Approvals []sandbox.Approval
	Missing   string
	Review    governance.ChannelVerdict
	Samples   int // sample recipients available to the previews
	Others    []sandbox.PlanStep
}

// summaryLine is one irreversible effect, said in words.
type summaryLine struct {
	What, Detail string
}

type emailView struct {
	Step     sandbox.PlanStep
	Email    *sandbox.Email
	Audience string
	Unsub    string
	Texts    []string // the plain-text part for each sample recipient
	Subjects []string
	Live     int            // the live revision, for an update
	Before   *sandbox.Email // that revision, as it went live
	Findings int            // findings on its HTML, marked in the preview
	// ABTest and Variants show an A/B test: its settings, and every
	// variant beyond a as its recipients get it.
	ABTest   *sandbox.ABTest
	Variants []variantView
}

// variantView is one A/B variant beyond a (the email itself).
type variantView struct {
	Name     string // b, c
	Key      string // its previews' key in pageData.Inline
	Field    string // its findings' field prefix
	Email    *sandbox.Email
	Subjects []string
	Texts    []string
	Findings int
}

type segmentView struct {
	Step    sandbox.PlanStep
	Name    string
	Words   []string
	Count   string
	Members []string
}

type workflowView struct {
	Step     sandbox.PlanStep
	Workflow *sandbox.Workflow
	SVG      template.HTML
	Words    []string
	Enrols   string
}

// adView is an ad campaign with what it may spend, and its ads as the
// platform shows them.
type adView struct {
	Step  sandbox.PlanStep
	Ad    *sandbox.AdCampaign
	Spend string
	// Pages names the lastmile pages its ads send clicks to, whose live
	// URLs the final URLs get at promotion.
	Pages map[string]string
}

type pageView struct {
	Step   sandbox.PlanStep
	Page   *sandbox.Page
	Before *sandbox.Page // the live revision, for an update
}

// planCache keeps a plan's view while the plan and the store are unchanged:
// the page is reloaded to switch sample recipients.
type planCache struct {
	gen  uint64
	hash string
	view *planView
	// samples are the contacts whose eyes the previews look through.
	samples []sandbox.Contact
}

func (s *Server) forget(planID string) {
	s.mu.Lock()
	delete(s.cache, planID)
	s.mu.Unlock()
}

func (s *Server) planView(ctx context.Context, id string) (*planView, error) {
	c, err := s.planData(ctx, id)
	if err != nil {
		return nil, err
	}
	return c.view, nil
}

func (s *Server) planData(ctx context.Context, id string) (*planCache, error) {
	gen, cacheable := s.sb.Generation(ctx)
	s.mu.Lock()
	c := s.cache[id]
	s.mu.Unlock()
	if c != nil && cacheable && c.gen == gen {
		return c, nil
	}
	c, err := s.buildPlan(ctx, id)
	if err != nil {
		return nil, err
	}
	c.gen = gen
	if cacheable {
		s.mu.Lock()
		if len(s.cache) > 64 {
			clear(s.cache)
		}
		s.cache[id] = c
		s.mu.Unlock()
	}
	return c, nil
}

// samplesPerPlan is how many sample recipients the previews offer.
const samplesPerPlan = 3

func (s *Server) buildPlan(ctx context.Context, id string) (*planCache, error) {
	p, err := s.sb.GetPlan(ctx, id)
	if err != nil {
		return nil, err
	}
	code, _ := s.sb.PlanCode(ctx, id)
	cv, err := s.sb.GetCampaign(ctx, p.CampaignID)
	if err != nil {
		return nil, err
	}
	segs, err := s.sb.SegmentSet(ctx, p.CampaignID)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, a := range cv.Artifacts {
		names[a.ID] = a.Name
	}
	v := &planView{Plan: p, Code: code, Campaign: cv.Campaign, Findings: p.Governance.Findings, Approvals: p.Approvals.Have, Missing: p.Missing(), Review: p.ChannelVerdict(sandbox.ChannelReview)}
	out := &planCache{hash: p.Hash, view: v}
	targets := map[string]bool{}
	seen := map[string]bool{}
	for _, st := range p.Steps {
		targets[st.Target] = true
		if st.Irreversible {
			v.Summary = append(v.Summary, s.summarize(ctx, st, segs, names))
		}
		if seen[st.ArtifactID] {
			continue
		}
		seen[st.ArtifactID] = true
		av, err := s.sb.GetArtifact(ctx, st.ArtifactID, st.Revision)
		if err != nil {
			v.Others = append(v.Others, st)
			continue
		}
		fr := sandbox.Final(&cv.Campaign, av.Revision)
		var before *sandbox.Revision
		if st.LiveRevision > 0 && st.LiveRevision != st.Revision {
			if lv, err := s.sb.GetArtifact(ctx, st.ArtifactID, st.LiveRevision); err == nil {
				before = sandbox.Final(&cv.Campaign, lv.Revision)
			}
		}
		switch {
		case fr.Email != nil:
			if out.samples == nil {
				out.samples = s.sample(ctx, st.Target, fr.Email.Audience.Include, fr.Email.Audience.Exclude, segs)
			}
			ev := emailView{Step: st, Email: fr.Email, Audience: audienceWords(fr.Email.Audience, names), Live: st.LiveRevision}
			if before != nil {
				ev.Before = before.Email
			}
			for _, f := range p.Governance.Findings {
				if f.ArtifactID == st.ArtifactID && f.Field == "html" {
					ev.Findings++
				}
			}
			ev.ABTest, ev.Variants = fr.Email.ABTest, variantViews(st.ArtifactID, fr.Email, p.Governance.Findings)
			v.Emails = append(v.Emails, ev)
		case fr.Segment != nil:
			sv := segmentView{Step: st, Name: fr.Segment.Name, Words: render.SegmentWords(fr.Segment, names), Count: "not counted: " + st.Target + " cannot count before anything is live"}
			if t, err := s.sb.Target(st.Target); err == nil {
				if cn, ok := t.(sandbox.Counter); ok {
					if n, err := cn.Count(ctx, []string{st.ArtifactID}, nil, segs); err == nil {
						sv.Count = countWords(n, "contact")
					}
				}
			}
			for _, m := range s.sample(ctx, st.Target, []string{st.ArtifactID}, nil, segs) {
				sv.Members = append(sv.Members, render.Mask(m.Email()))
			}
			v.Segments = append(v.Segments, sv)
		case fr.Workflow != nil:
			wv := workflowView{Step: st, Workflow: fr.Workflow, SVG: render.WorkflowSVG(fr.Workflow, names), Words: render.StepWords(fr.Workflow, names)}
			wv.Enrols = s.enrols(ctx, st.Target, fr.Workflow, segs)
			v.Workflows = append(v.Workflows, wv)
		case fr.Ad != nil:
			av := adView{Step: st, Ad: fr.Ad, Spend: fr.Ad.MaxSpend().Text, Pages: map[string]string{}}
			for _, g := range fr.Ad.Groups {
				for _, ad := range g.Ads {
					if ad.PageID != "" {
						av.Pages[ad.PageID] = names[ad.PageID]
					}
				}
			}
			v.Ads = append(v.Ads, av)
		case fr.Page != nil:
			pv := pageView{Step: st, Page: fr.Page}
			if before != nil {
				pv.Before = before.Page
			}
			v.Pages = append(v.Pages, pv)
		}
	}
	v.Samples = len(out.samples)
	for i := range v.Emails {
		e := &v.Emails[i]
		for _, c := range recipients(out.samples) {
			e.Texts = append(e.Texts, liquid.Render(e.Email.Text, c, unsubscribeNote, false))
			e.Subjects = append(e.Subjects, liquid.Render(e.Email.Subject, c, unsubscribeNote, false))
			for j := range e.Variants {
				vv := &e.Variants[j]
				vv.Texts = append(vv.Texts, liquid.Render(vv.Email.Text, c, unsubscribeNote, false))
				vv.Subjects = append(vv.Subjects, liquid.Render(vv.Email.Subject, c, unsubscribeNote, false))
			}
		}
	}
	for t := range targets {
		v.Targets = append(v.Targets, t)
	}
	slices.Sort(v.Targets)
	return out, nil
}

// unsubscribeNote stands in for the unsubscribe link, which each platform
// makes per recipient at send time.
const unsubscribeNote = "https://unsubscribe.example/added-at-send"

// recipients are the sample contacts, or one empty contact (every token
// takes its default) when the target names none.
func recipients(samples []sandbox.Contact) []sandbox.Contact {
	if len(samples) == 0 {
		return []sandbox.Contact{{}}
	}
	return samples
}

func (s *Server) sample(ctx context.Context, target string, include, exclude []string, segs map[string]*sandbox.Segment) []sandbox.Contact {
	t, err := s.sb.Target(target)
	if err != nil {
		return nil
	}
	sm, ok := t.(sandbox.Sampler)
	if !ok || len(include) == 0 {
		return nil
	}
	cs, err := sm.Sample(ctx, include, exclude, segs, samplesPerPlan)
	if err != nil {
		s.log.Warn("review: sampling an audience", "target", target, "err", err)
		return nil
	}
	return cs
}

func (s *Server) enrols(ctx context.Context, target string, wf *sandbox.Workflow, segs map[string]*sandbox.Segment) string {
	if !wf.Activate {
		return "created switched off: it enrols nobody until someone turns it on"
	}
	if wf.Trigger.Type != "segment_entry" {
		return "switched on at promotion: it enrols contacts as its trigger fires"
	}
	if t, err := s.sb.Target(target); err == nil {
		if cn, ok := t.(sandbox.Counter); ok {
			if n, err := cn.Count(ctx, []string{wf.Trigger.SegmentID}, nil, segs); err == nil {
				return "switched on at promotion: it enrols the " + countWords(n, "contact") + " in its segment now, and each who joins later"
			}
		}
	}
	return "switched on at promotion: it enrols every contact who enters its segment"
}

func (s *Server) summarize(ctx context.Context, st sandbox.PlanStep, segs map[string]*sandbox.Segment, names map[string]string) summaryLine {
	switch st.Op {
	case sandbox.OpSend, sandbox.OpSchedule:
		aud := "an audience of unknown size"
		if st.AudienceSize != nil {
			aud = countWords(*st.AudienceSize, "recipient")
		}
		return summaryLine{What: "Send “" + st.Name + "”", Detail: fmt.Sprintf("to %s on %s, %s", aud, st.Target, sendWhen(st))}
	case sandbox.OpPublish:
		where := "on " + st.Target
		if av, err := s.sb.GetArtifact(ctx, st.ArtifactID, st.Revision); err == nil && av.Revision.Page != nil {
			where = "at /" + av.Revision.Page.Slug + "/ on " + st.Target
		}
		return summaryLine{What: "Publish “" + st.Name + "”", Detail: fmt.Sprintf("%s, %s", where, when(st.At))}
	case sandbox.OpActivate:
		detail := "on " + st.Target
		if av, err := s.sb.GetArtifact(ctx, st.ArtifactID, st.Revision); err == nil && av.Revision.Workflow != nil {
			detail += ": " + s.enrols(ctx, st.Target, av.Revision.Workflow, segs)
		}
		return summaryLine{What: "Switch on workflow “" + st.Name + "”", Detail: detail}
	case sandbox.OpEnable:
		detail := "on " + st.Target
		if st.Spend != nil {
			detail = st.Spend.Text + ", on " + st.Target
		}
		return summaryLine{What: "Start spending on ad campaign “" + st.Name + "”", Detail: detail}
	case sandbox.OpUnschedule, sandbox.OpUnpublish, sandbox.OpDeactivate, sandbox.OpArchive, sandbox.OpPause, sandbox.OpResume, sandbox.OpRemove:
		// The step's description names the object and what the target
		// does then.
		return summaryLine{What: map[string]string{sandbox.OpUnschedule: "Unschedule", sandbox.OpUnpublish: "Unpublish", sandbox.OpDeactivate: "Switch off", sandbox.OpArchive: "Archive",
			sandbox.OpPause: "Pause", sandbox.OpResume: "Resume", sandbox.OpRemove: "Remove"}[st.Op] + " “" + st.Name + "”", Detail: st.Diff}
	}
	return summaryLine{What: st.Op + " " + st.Name, Detail: "on " + st.Target}
}

// sendWhen is when a send goes out: with recipients at different times
// (time zones, a window), from the first one's to the last one's.
func sendWhen(st sandbox.PlanStep) string {
	if st.FirstAt == nil || st.LastAt == nil || st.FirstAt.Equal(*st.LastAt) {
		return when(st.At)
	}
	return "from " + when(st.FirstAt) + " (the first recipient) to " + when(st.LastAt) + " (the last)"
}

// when is a send or publish time as the page says it.
func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "when the plan is confirmed"
	}
	return t.UTC().Format("Mon 2 Jan 2006 15:04 MST")
}

func audienceWords(a sandbox.Audience, names map[string]string) string {
	name := func(id string) string {
		if n := names[id]; n != "" {
			return "“" + n + "”"
		}
		return id
	}
	if len(a.Include) == 0 {
		return "no segment: sent only by a workflow"
	}
	var in, ex []string
	for _, id := range a.Include {
		in = append(in, name(id))
	}
	for _, id := range a.Exclude {
		ex = append(ex, name(id))
	}
	out := "members of " + strings.Join(in, ", ")
	if len(ex) > 0 {
		out += ", except members of " + strings.Join(ex, ", ")
	}
	return out
}

func countWords(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// preview serves one artifact's rendered HTML, for a frame on the plan page:
// an email as one sample recipient will see it, or a landing page. The
// answer's policy sandboxes it wherever it is opened — no script runs, no
// form posts, nothing loads but images and styles — so agent HTML never runs
// in the review page's origin, even opened on its own.
func (s *Server) preview(w http.ResponseWriter, r *http.Request) {
	if s.previewSession(r) == nil {
		http.Error(w, "This preview's address has expired: reload the plan's page.", http.StatusForbidden)
		return
	}
	c, err := s.planData(r.Context(), r.PathValue("id"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	artifact, live := r.PathValue("artifact"), r.URL.Query().Get("rev") == "live"
	v := c.view
	var doc string
	for _, e := range v.Emails {
		if e.Step.ArtifactID != artifact {
			continue
		}
		n, _ := strconv.Atoi(r.URL.Query().Get("r"))
		rs := recipients(c.samples)
		if n < 0 || n >= len(rs) {
			n = 0
		}
		switch variant := r.URL.Query().Get("v"); {
		case variant != "" && variant != "a":
			// An A/B variant beyond a: found by its letter, or nothing.
			for _, vv := range e.Variants {
				if vv.Name == variant && !live {
					doc = liquid.Render(highlight(vv.Email.HTML, v.Findings, artifact, vv.Field+".html"), rs[n], unsubscribeNote, true)
				}
			}
		case !live:
			doc = liquid.Render(highlight(e.Email.HTML, v.Findings, artifact, "html"), rs[n], unsubscribeNote, true)
		case e.Before != nil:
			doc = liquid.Render(e.Before.HTML, rs[n], unsubscribeNote, true)
		}
	}
	for _, p := range v.Pages {
		if p.Step.ArtifactID != artifact {
			continue
		}
		// A page shows every visitor its tokens' defaults.
		switch {
		case !live:
			doc = liquid.Render(highlight(p.Page.HTML, v.Findings, artifact, "html"), nil, "", true)
		case p.Before != nil:
			doc = liquid.Render(p.Before.HTML, nil, "", true)
		}
	}
	if doc == "" {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src https: data:; style-src 'unsafe-inline' https:; font-src https: data:; form-action 'none'; frame-ancestors 'self'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(doc))
}

// Preview renders a plan for an MCP client to show (the
// lastmile://plans/{id}/preview resource): the finished campaign as the
// review page shows it, for the first sample recipient, as one inert HTML
// document — agent HTML only in sandboxed frames, no script, and no plan
// code (the agent reads this). Approving stays on the review page.
func Preview(ctx context.Context, sb *sandbox.Sandbox, planID string) (string, error) {
	b := &Server{sb: sb, log: slog.New(slog.DiscardHandler)}
	c, err := b.buildPlan(ctx, planID)
	if err != nil {
		return "", err
	}
	c.view.Code = ""
	inline := map[string]string{}
	rs := recipients(c.samples)
	for _, e := range c.view.Emails {
		inline[e.Step.ArtifactID] = liquid.Render(highlight(e.Email.HTML, c.view.Findings, e.Step.ArtifactID, "html"), rs[0], unsubscribeNote, true)
		for _, vv := range e.Variants {
			inline[vv.Key] = liquid.Render(highlight(vv.Email.HTML, c.view.Findings, e.Step.ArtifactID, vv.Field+".html"), rs[0], unsubscribeNote, true)
		}
	}
	for _, pg := range c.view.Pages {
		inline[pg.Step.ArtifactID] = liquid.Render(highlight(pg.Page.HTML, c.view.Findings, pg.Step.ArtifactID, "html"), nil, "", true)
	}
	var out strings.Builder
	err = templates.ExecuteTemplate(&out, "preview.html", pageData{Plan: c.view, Inline: inline, ReviewURL: sb.ReviewURL(c.view.Plan)})
	return out.String(), err
}

// variantViews lists an A/B email's variants beyond a, each a whole email.
func variantViews(artifactID string, e *sandbox.Email, findings []governance.Finding) []variantView {
	all := e.Variants()
	if len(all) < 2 {
		return nil
	}
	out := make([]variantView, 0, len(all)-1)
	for i, ve := range all[1:] {
		name := sandbox.VariantName(i + 1)
		vv := variantView{Name: name, Key: artifactID + "#" + name, Field: fmt.Sprintf("ab_test.variants[%d]", i), Email: ve}
		for _, f := range findings {
			if f.ArtifactID == artifactID && f.Field == vv.Field+".html" {
				vv.Findings++
			}
		}
		out = append(out, vv)
	}
	return out
}
