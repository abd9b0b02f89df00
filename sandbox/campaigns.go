package sandbox

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/store"
)

// CampaignInput is what create_campaign takes.
type CampaignInput struct {
	Name     string
	Brief    string
	Goal     string
	Markets  []string
	Industry string
	Target   string
	UTM      UTM
}

var (
	utmValue  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._~+-]{1,100}$`) })
	slugLike  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]+(?:[-_][a-z0-9]+)*$`) })
	maxName   = 200
	maxBrief  = 10000
	maxPageSz = 100
	// cursorPattern matches newestKey's keys.
	cursorPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{16}/cmp_[0-9a-z]{26}$`) })
)

func (s *Sandbox) validateCampaign(in *CampaignInput) error {
	ps := validateCampaignFields(in)
	if in.Target == "" {
		in.Target = s.cfg.DefaultTarget
	}
	if _, ok := s.cfg.Targets[in.Target]; !ok {
		ps.add("target", fmt.Sprintf("no target named %q is configured", in.Target), fmt.Sprintf("use one of %v, or leave it empty for %q", s.cfg.TargetNames(), s.cfg.DefaultTarget))
	}
	return ps.err("campaign")
}

// validateCampaignFields checks and normalizes what create_campaign and
// update_campaign both take: everything but the target.
func validateCampaignFields(in *CampaignInput) problems {
	var ps problems
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		ps.add("name", "is required", "give the campaign a short name, e.g. \"Spring launch 2027\"")
	case len(in.Name) > maxName:
		ps.add("name", fmt.Sprintf("is %d characters long; the limit is %d", len(in.Name), maxName), "shorten it")
	}
	if len(in.Brief) > maxBrief {
		ps.add("brief", fmt.Sprintf("is %d characters long; the limit is %d", len(in.Brief), maxBrief), "summarize it")
	}
	if len(in.Goal) > maxBrief {
		ps.add("goal", fmt.Sprintf("is %d characters long; the limit is %d", len(in.Goal), maxBrief), "summarize it")
	}
	seen := map[string]bool{}
	for i, m := range in.Markets {
		up := strings.ToUpper(strings.TrimSpace(m))
		field := fmt.Sprintf("markets[%d]", i)
		switch {
		case marketHints[up] != "":
			ps.add(field, fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 country code", m), marketHints[up])
		case !iso3166[up]:
			ps.add(field, fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 country code", m), "use two letters such as US, GB, DE, CA")
		case seen[up]:
			ps.add(field, fmt.Sprintf("%s is listed twice", up), "list each market once")
		}
		seen[up] = true
		in.Markets[i] = up
	}
	in.Industry = strings.ToLower(strings.TrimSpace(in.Industry))
	if in.Industry != "" && !slugLike().MatchString(in.Industry) {
		ps.add("industry", fmt.Sprintf("%q is not a simple identifier", in.Industry), "use lower-case words joined by - or _, e.g. finserv, health, retail")
	}
	u := in.UTM
	for _, f := range []struct{ field, v string }{{"utm.source", u.Source}, {"utm.medium", u.Medium}, {"utm.campaign", u.Campaign},
		{"utm.content", u.Content}, {"utm.term", u.Term}, {"utm.page_medium", u.PageMedium}} {
		if f.v != "" && !utmValue().MatchString(f.v) {
			ps.add(f.field, fmt.Sprintf("%q has characters that do not belong in a URL parameter", f.v), "use letters, digits and . _ ~ + - only, e.g. spring_launch")
		}
	}
	return ps
}

// CreateCampaign stages a new campaign.
func (s *Sandbox) CreateCampaign(ctx context.Context, actor string, in CampaignInput) (*Campaign, error) {
	if err := s.validateCampaign(&in); err != nil {
		return nil, err
	}
	s.inheritDefaults(&in)
	now := s.clock()
	c := &Campaign{
		ID: newID(PrefixCampaign, now), Name: in.Name, Brief: in.Brief, Goal: in.Goal,
		Markets: in.Markets, Industry: in.Industry, Target: in.Target, UTM: in.UTM, CreatedAt: now, Revision: 1,
	}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		if err := putJSON(tx, bCampaigns, c.ID, c); err != nil {
			return err
		}
		if err := tx.Put(bCampaignsNew, newestKey(now, c.ID), []byte(c.ID)); err != nil {
			return err
		}
		return s.audit(tx, AuditEntry{Actor: actor, Action: "create_campaign", Object: c.ID, CampaignID: c.ID, Detail: map[string]any{"name": c.Name, "target": c.Target}})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// inheritDefaults fills the industry and markets a campaign does not state
// from the policy's defaults, so rules select on what the company does
// instead of matching everything because nothing was said. The values are
// stored on the campaign: a later policy edit does not move a campaign.
func (s *Sandbox) inheritDefaults(in *CampaignInput) {
	p, err := s.policy.Policy()
	if err != nil || p == nil {
		return // a broken policy blocks planning anyway
	}
	industry, markets := p.Defaults()
	if in.Industry == "" {
		in.Industry = industry
	}
	if len(in.Markets) == 0 {
		in.Markets = markets
	}
}

// newestKey sorts newer campaigns first.
func newestKey(t time.Time, id string) string {
	return fmt.Sprintf("%016x/%s", uint64(1<<62)-uint64(t.UnixMilli()), id)
}

func campaignNotFound(id string) error {
	return &NotFoundError{What: "campaign", ID: id, Hint: "list_campaigns shows the campaigns"}
}

func (s *Sandbox) campaign(tx store.Tx, id string) (*Campaign, error) {
	if !strings.HasPrefix(id, PrefixCampaign) {
		return nil, &NotFoundError{What: "campaign", ID: fmt.Sprintf("%q", id), Hint: "campaign ids start with cmp_; list_campaigns shows the campaigns"}
	}
	c, err := getJSON[Campaign](tx, bCampaigns, id)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, campaignNotFound(id)
	}
	if c.Revision == 0 {
		c.Revision = 1 // stored before campaigns had revisions
	}
	return c, nil
}

// CampaignView is a campaign with every artifact in it.
type CampaignView struct {
	Campaign  Campaign    `json:"campaign"`
	Artifacts []*Artifact `json:"artifacts"`
	// Archived are the artifacts archive_artifact took out of the
	// campaign: listed apart, never planned or checked.
	Archived []*Artifact `json:"archived,omitempty"`
}

// GetCampaign returns a campaign and its artifacts. The view is kept until
// the store's next write (by any process), since agents read campaigns far
// more often than they change them. Callers must not modify it.
func (s *Sandbox) GetCampaign(ctx context.Context, id string) (*CampaignView, error) {
	gs, cacheable := s.st.(store.Generational)
	var gen uint64
	if cacheable {
		var err error
		if gen, err = gs.Generation(ctx); err != nil {
			return nil, err
		}
		if v, ok := s.views.Get(id); ok && v.gen == gen {
			return v.view, nil
		}
	}
	var v *CampaignView
	err := s.st.View(ctx, func(tx store.Tx) error {
		c, err := s.campaign(tx, id)
		if err != nil {
			return err
		}
		arts, err := s.campaignArtifacts(tx, id)
		if err != nil {
			return err
		}
		v = &CampaignView{Campaign: *c, Artifacts: arts}
		v.Archived, err = s.archivedArtifacts(tx, id)
		return err
	})
	if err == nil && cacheable {
		s.views.Put(id, cachedView{gen: gen, view: v})
	}
	return v, err
}

type cachedView struct {
	gen  uint64
	view *CampaignView
}

// campaignArtifacts returns the campaign's artifacts in promotion order
// (segments, emails, pages, workflows), then by creation.
func (s *Sandbox) campaignArtifacts(tx store.Tx, campaignID string) ([]*Artifact, error) {
	kvs, err := tx.Scan(bCampaignIndex, campaignID+"/", "", 0)
	if err != nil {
		return nil, err
	}
	byKind := map[Kind][]*Artifact{}
	for _, kv := range kvs {
		id := strings.TrimPrefix(kv.Key, campaignID+"/")
		a, err := getArtifact(tx, id)
		if err != nil {
			return nil, err
		}
		if a != nil {
			byKind[a.Kind] = append(byKind[a.Kind], a)
		}
	}
	out := make([]*Artifact, 0, len(kvs))
	for _, k := range Kinds {
		out = append(out, byKind[k]...)
	}
	return out, nil
}

// CampaignPage is one page of list_campaigns.
type CampaignPage struct {
	Campaigns  []CampaignSummary `json:"campaigns"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

// CampaignSummary is a campaign in a list.
type CampaignSummary struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Target    string    `json:"target"`
	Markets   []string  `json:"markets,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Artifacts int       `json:"artifacts"`
}

// ListCampaigns returns campaigns newest first, a page at a time. The cursor
// is the next_cursor of the previous page.
func (s *Sandbox) ListCampaigns(ctx context.Context, cursor string, limit int) (*CampaignPage, error) {
	if limit <= 0 {
		limit = 20
	}
	if limit > maxPageSz {
		limit = maxPageSz
	}
	if cursor != "" && !cursorPattern().MatchString(cursor) {
		return nil, &ValidationError{What: "request", Outcome: "was not run", Problems: []Problem{{Field: "cursor", Message: fmt.Sprintf("%q is not a cursor list_campaigns gave", cursor), Fix: "pass next_cursor from the previous page, or leave it empty for the first page"}}}
	}
	page := &CampaignPage{Campaigns: []CampaignSummary{}}
	err := s.st.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan(bCampaignsNew, "", cursor, limit+1)
		if err != nil {
			return err
		}
		if len(kvs) > limit {
			kvs = kvs[:limit]
			page.NextCursor = kvs[limit-1].Key
		}
		for _, kv := range kvs {
			c, err := s.campaign(tx, string(kv.Value))
			if err != nil {
				return err
			}
			n, err := tx.Count(bCampaignIndex, c.ID+"/", 0)
			if err != nil {
				return err
			}
			page.Campaigns = append(page.Campaigns, CampaignSummary{ID: c.ID, Name: c.Name, Target: c.Target, Markets: c.Markets, CreatedAt: c.CreatedAt, Artifacts: n})
		}
		return nil
	})
	return page, err
}

// Campaigns returns every campaign, newest first, in one read: the
// report's list, with each campaign's cost.
func (s *Sandbox) Campaigns(ctx context.Context) ([]Campaign, error) {
	var out []Campaign
	err := s.st.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan(bCampaignsNew, "", "", 0)
		if err != nil {
			return err
		}
		out = make([]Campaign, 0, len(kvs))
		for _, kv := range kvs {
			c, err := s.campaign(tx, string(kv.Value))
			if err != nil {
				return err
			}
			out = append(out, *c)
		}
		return nil
	})
	return out, err
}

// SetCampaignCost records what a campaign cost (nil clears it), for the
// report's return on it. A person says it (lastmile cost), not the agent:
// the figure decides the ROI a team reports.
func (s *Sandbox) SetCampaignCost(ctx context.Context, actor, id string, cost *outcomes.Money) (*Campaign, error) {
	var out *Campaign
	err := s.st.Update(ctx, func(tx store.Tx) error {
		c, err := s.campaign(tx, id)
		if err != nil {
			return err
		}
		c.Cost = cost
		if err := putJSON(tx, bCampaigns, c.ID, c); err != nil {
			return err
		}
		out = c
		detail := map[string]any{"cost": nil}
		if cost != nil {
			detail["cost"] = cost.String()
		}
		return s.audit(tx, AuditEntry{Actor: actor, Action: "set_cost", Object: c.ID, CampaignID: c.ID, Detail: detail})
	})
	return out, err
}
