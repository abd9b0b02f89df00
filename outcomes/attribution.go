package outcomes

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Campaign is what attribution needs to know of a campaign.
type Campaign struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// UTMCampaign is the utm_campaign its links carry.
	UTMCampaign string `json:"utm_campaign,omitempty"`
}

// Artifact is a live email or page as attribution and insights see it.
type Artifact struct {
	ID         string `json:"id"`
	CampaignID string `json:"campaign_id"`
	Kind       string `json:"kind"` // "email" or "page"; insights are about emails
	// LiveIDs maps a target to the artifact's live id there.
	LiveIDs map[string]string `json:"live_ids,omitempty"`
	Subject string            `json:"subject,omitempty"`
	// SentAt is when the email went out; zero when it has not, or is
	// sent by a workflow over time.
	SentAt time.Time `json:"sent_at,omitzero"`
	// Segments are the names of the segments of its audience.
	Segments []string `json:"segments,omitempty"`
	// CTA is the text of the email's main link.
	CTA string `json:"cta,omitempty"`
	// Template is the block template it was made from, or "html".
	Template string `json:"template,omitempty"`
}

// Catalog is what lastmile made: the campaigns and their live artifacts.
type Catalog struct {
	Campaigns []Campaign `json:"campaigns"`
	Artifacts []Artifact `json:"artifacts"`
}

// Model is how a conversion's credit is shared among its touches.
type Model string

const (
	// FirstTouch credits the artifact that touched the contact first
	// within the window.
	FirstTouch Model = "first_touch"
	// LastTouch credits the last one before the conversion.
	LastTouch Model = "last_touch"
	// Linear shares the credit equally among every artifact that touched
	// the contact within the window, each artifact once however many
	// times it touched them (a sent, opened and clicked email is one
	// touch, not three).
	Linear Model = "linear"
)

// Models lists the models in the order reports show them.
var Models = []Model{FirstTouch, LastTouch, Linear}

// DefaultWindow is how far before a conversion a touch still counts.
const DefaultWindow = 30 * 24 * time.Hour

// DefaultMinSample is the fewest recipients a rate is compared on.
const DefaultMinSample = 30

// Options say how to attribute and what to claim. The zero value is
// last-touch over 30 days, at least 30 recipients, weekdays and hours in
// UTC.
type Options struct {
	Model     Model
	Window    time.Duration
	MinSample int
	// Location is where send weekdays and hours are read.
	Location *time.Location
	// Campaign, when set, limits Attribution.Conversions, and the event
	// ids of the totals, to the conversions that credit it.
	Campaign string
}

func (o Options) withDefaults() (Options, error) {
	if o.Model == "" {
		o.Model = LastTouch
	}
	if !slices.Contains(Models, o.Model) {
		return o, fmt.Errorf("outcomes: attribution model %q is not one of first_touch, last_touch, linear", o.Model)
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MinSample <= 0 {
		o.MinSample = DefaultMinSample
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	return o, nil
}

// Share is an exact number of conversions in thousandths: a linear
// model's thirds are 0.334, 0.333 and 0.333, so that a conversion's shares
// always add up to exactly one and totals are exact sums.
type Share int64

// String writes the share as a decimal: "1", "0.5", "12.333".
func (s Share) String() string {
	sign := ""
	if s < 0 {
		sign, s = "-", -s
	}
	whole, frac := int64(s)/1000, int64(s)%1000
	if frac == 0 {
		return sign + strconv.FormatInt(whole, 10)
	}
	return sign + strings.TrimRight(fmt.Sprintf("%d.%03d", whole, frac), "0")
}

// MarshalJSON writes the share as the exact decimal number String gives.
func (s Share) MarshalJSON() ([]byte, error) { return []byte(s.String()), nil }

// Attribution is which campaigns and artifacts the conversions are owed
// to, under one model, with the events behind every figure.
type Attribution struct {
	Model  Model  `json:"model"`
	Window string `json:"window"`
	// Conversions are each conversion with its credits, by time.
	Conversions []Conversion `json:"conversions"`
	// Campaigns and Artifacts total the credits, by id.
	Campaigns []Total `json:"campaigns"`
	Artifacts []Total `json:"artifacts"`
	// Unattributed are the conversions nothing lastmile made touched.
	Unattributed Total `json:"unattributed"`
	// Events counts every event by type; Unknown lists the types lastmile
	// does not know, kept and counted but attributed to nothing.
	Events  []TypeCount `json:"events"`
	Unknown []TypeCount `json:"unknown"`
}

// Conversion is one conversion event and who is credited for it.
type Conversion struct {
	EventID string    `json:"event_id"`
	Source  string    `json:"source"`
	Type    string    `json:"type"`
	Contact string    `json:"contact,omitempty"`
	At      time.Time `json:"at"`
	Value   *Money    `json:"value,omitempty"`
	Credits []Credit  `json:"credits"`
}

// Credit is a campaign's (and, when known, an artifact's) share of a
// conversion and the touches that earned it.
type Credit struct {
	CampaignID string `json:"campaign_id"`
	// ArtifactID is empty when only the campaign is known (a link tagged
	// with its utm_campaign and no utm_content lastmile made).
	ArtifactID string  `json:"artifact_id,omitempty"`
	Share      Share   `json:"share"`
	Value      *Money  `json:"value,omitempty"`
	Touches    []Touch `json:"touches"`
}

// Touch is an event by which an artifact reached the contact, or the
// conversion itself when it names what it came from (a form on a page, a
// purchase through a tagged link). The event is named by its EventID when
// the events were at hand; from an Aggregate, which keeps touches as
// numbers, by its type, time (to the second) and live object or UTM tags,
// which with the contact find it in the store.
type Touch struct {
	Type        string    `json:"type"`
	At          time.Time `json:"at"`
	EventID     string    `json:"event_id,omitempty"`
	Target      string    `json:"target,omitempty"`
	LiveID      string    `json:"live_id,omitempty"`
	UTMCampaign string    `json:"utm_campaign,omitempty"`
	UTMContent  string    `json:"utm_content,omitempty"`
}

// Total is a campaign's or an artifact's conversions under the model.
type Total struct {
	CampaignID  string           `json:"campaign_id,omitempty"`
	ArtifactID  string           `json:"artifact_id,omitempty"`
	Conversions Share            `json:"conversions"`
	ByType      map[string]Share `json:"by_type"`
	// Value is the credited money per currency: amounts in different
	// currencies are never added.
	Value []Money `json:"value"`
	// EventIDs are the conversions behind these figures; with
	// Options.Campaign set, only in that campaign's totals (and the
	// unattributed), so that a campaign's report does not carry every
	// campaign's lists.
	EventIDs []string `json:"event_ids"`

	traced bool
	last   *conv    // the conversion counted last
	byType [6]Share // ByType until finish, by index in Conversions
}

// Attribute attributes events' conversions to the catalog's campaigns
// and artifacts, naming every touch by its event id.
func Attribute(cat Catalog, events []Event, opt Options) (Attribution, error) {
	a := NewAggregate()
	a.Add(events...)
	res, err := a.Attribute(cat, opt)
	if err != nil {
		return res, err
	}
	a.nameTouches(&res, events)
	return res, nil
}

// Attribute attributes the aggregate's conversions to the catalog's
// campaigns and artifacts. Totals cover every conversion; Conversions
// lists each with its credits and touches, only those crediting
// opt.Campaign when it is set, so that a campaign's report traces its own
// figures without listing the workspace's.
func (a *Aggregate) Attribute(cat Catalog, opt Options) (Attribution, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return Attribution{}, err
	}
	ix := newIndex(cat)
	out := Attribution{Model: opt.Model, Window: windowString(opt.Window), Conversions: []Conversion{}}
	campaigns := map[string]*Total{}
	artifacts := map[string]*Total{}
	unattributed := &Total{ByType: map[string]Share{}, traced: true}
	// Per target: its campaign's total and its artifact's, found once.
	var campTotal, artTotal []*Total
	a.attribute(ix, opt, true, nil, func(c *conv, credits []credit, tgts []target) {
		if campTotal == nil {
			campTotal, artTotal = make([]*Total, len(tgts)), make([]*Total, len(tgts))
		}
		if len(credits) == 0 {
			unattributed.add(c, 1000, valueMinor(c))
		}
		listed := opt.Campaign == ""
		for _, cr := range credits {
			t := tgts[cr.target]
			if campTotal[cr.target] == nil {
				traced := opt.Campaign == "" || opt.Campaign == t.campaign
				campTotal[cr.target] = total(campaigns, t.campaign, "", traced)
				if t.artifact != "" {
					artTotal[cr.target] = total(artifacts, t.artifact, t.campaign, traced)
				}
			}
			campTotal[cr.target].add(c, cr.share, cr.minor)
			if t := artTotal[cr.target]; t != nil {
				t.add(c, cr.share, cr.minor)
			}
			listed = listed || tgts[cr.target].campaign == opt.Campaign
		}
		if !listed {
			return
		}
		oc := Conversion{EventID: c.id, Source: c.source, Type: c.typ, At: c.at, Value: c.value, Credits: []Credit{}}
		if c.contact != noContact {
			oc.Contact = a.names[c.contact]
		}
		for _, cr := range credits {
			t := tgts[cr.target]
			credit := Credit{CampaignID: t.campaign, ArtifactID: t.artifact, Share: cr.share, Value: cr.value(c)}
			for _, tc := range cr.touches {
				credit.Touches = append(credit.Touches, a.touchOut(tc, c))
			}
			oc.Credits = append(oc.Credits, credit)
		}
		out.Conversions = append(out.Conversions, oc)
	})
	out.Campaigns = sortedTotals(campaigns)
	out.Artifacts = sortedTotals(artifacts)
	out.Unattributed = *unattributed.finish()
	out.Events, out.Unknown = a.Counts()
	out.Events, out.Unknown = nonNil(out.Events), nonNil(out.Unknown)
	return out, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func windowString(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		if n := d / (24 * time.Hour); n != 1 {
			return fmt.Sprintf("%d days", n)
		}
		return "1 day"
	}
	return d.String()
}

func total(m map[string]*Total, id, campaign string, traced bool) *Total {
	t := m[id]
	if t == nil {
		t = &Total{ByType: map[string]Share{}, traced: traced}
		if campaign == "" {
			t.CampaignID = id
		} else {
			t.CampaignID, t.ArtifactID = campaign, id
		}
		m[id] = t
	}
	return t
}

// add counts a share of c. A conversion's credits come one after the
// other, so a repeat of the last is the same conversion crediting a
// second artifact of the same campaign.
// minor is the share of c's value, if it has one.
func (t *Total) add(c *conv, s Share, minor int64) {
	t.Conversions += s
	t.byType[slices.Index(Conversions, c.typ)] += s
	if v := c.value; v != nil {
		i := slices.IndexFunc(t.Value, func(m Money) bool { return m.Currency == v.Currency })
		if i < 0 {
			t.Value = append(t.Value, Money{Currency: v.Currency})
			i = len(t.Value) - 1
		}
		t.Value[i].Minor += minor
	}
	if t.traced && t.last != c {
		t.EventIDs = append(t.EventIDs, c.id)
		t.last = c
	}
}

func (t *Total) finish() *Total {
	for i, s := range t.byType {
		if s != 0 {
			t.ByType[Conversions[i]] = s
		}
	}
	slices.SortFunc(t.Value, func(x, y Money) int { return strings.Compare(x.Currency, y.Currency) })
	t.Value, t.EventIDs = nonNil(t.Value), nonNil(t.EventIDs)
	return t
}

func sortedTotals(m map[string]*Total) []Total {
	out := make([]Total, 0, len(m))
	for _, t := range m {
		out = append(out, *t.finish())
	}
	slices.SortFunc(out, func(x, y Total) int {
		return cmp.Or(strings.Compare(x.CampaignID, y.CampaignID), strings.Compare(x.ArtifactID, y.ArtifactID))
	})
	return out
}

// index resolves live objects and UTM tags to the catalog.
type index struct {
	artifacts []Artifact // by ID
	artByID   map[string]int
	artByLive map[[2]string]int
	campByUTM map[string]string
	campByID  map[string]bool
}

// target is who a touch credits: an artifact of a campaign, or a campaign
// alone.
type target struct{ campaign, artifact string }

func newIndex(cat Catalog) *index {
	ix := &index{artByID: map[string]int{}, artByLive: map[[2]string]int{}, campByUTM: map[string]string{}, campByID: map[string]bool{}}
	// Sorted by id, so that with duplicates the same one wins whatever
	// order the catalog came in.
	camps := slices.Clone(cat.Campaigns)
	slices.SortStableFunc(camps, func(x, y Campaign) int { return strings.Compare(x.ID, y.ID) })
	for _, c := range camps {
		ix.campByID[c.ID] = true
		if u := strings.TrimSpace(c.UTMCampaign); u != "" {
			if _, dup := ix.campByUTM[u]; !dup {
				ix.campByUTM[u] = c.ID
			}
		}
	}
	ix.artifacts = slices.Clone(cat.Artifacts)
	slices.SortStableFunc(ix.artifacts, func(x, y Artifact) int { return strings.Compare(x.ID, y.ID) })
	for i, art := range ix.artifacts {
		if _, dup := ix.artByID[art.ID]; !dup {
			ix.artByID[art.ID] = i
		}
		for tgt, live := range art.LiveIDs {
			if _, dup := ix.artByLive[[2]string{tgt, live}]; !dup {
				ix.artByLive[[2]string{tgt, live}] = i
			}
		}
	}
	return ix
}

// resolve finds whom r credits: its live object's artifact; else the
// artifact its utm_content names; else the campaign its utm_campaign
// names, or, for a utm_campaign that is a campaign's id, that one.
func (ix *index) resolve(r *ref) (target, int, bool) {
	if r.liveID != "" {
		if i, ok := ix.artByLive[[2]string{r.target, r.liveID}]; ok {
			return target{ix.artifacts[i].CampaignID, ix.artifacts[i].ID}, i, true
		}
		return target{}, -1, false
	}
	// lastmile writes utm_content as the artifact's id, followed by
	// ".content" when the campaign sets one (artifact ids hold no dot).
	artID, _, _ := strings.Cut(r.utmContent, ".")
	if i, ok := ix.artByID[artID]; ok && artID != "" {
		return target{ix.artifacts[i].CampaignID, ix.artifacts[i].ID}, i, true
	}
	if id, ok := ix.campByUTM[r.utmCampaign]; ok {
		return target{id, ""}, -1, true
	}
	if ix.campByID[r.utmCampaign] {
		return target{r.utmCampaign, ""}, -1, true
	}
	return target{}, -1, false
}

// credit is a target's share of a conversion, as attribute passes it.
type credit struct {
	target  int // index into the targets attribute passes
	share   Share
	minor   int64 // the share of the conversion's value, if it has one
	touches []touch
}

func valueMinor(c *conv) int64 {
	if c.value == nil {
		return 0
	}
	return c.value.Minor
}

func (cr credit) value(c *conv) *Money {
	if c.value == nil {
		return nil
	}
	return &Money{Minor: cr.minor, Currency: c.value.Currency}
}

// attribute is the model at work, shared by Attribute, Insights and
// PeriodResults: it passes visit each conversion (of those only keeps, or
// all when only is nil) with its credits and the targets they index (both
// valid only during the call), without the touches unless withTouches.
// Conversions are taken in (time, source, id) order and a contact's
// touches in (time, type, live object) order, so the result does not
// depend on the order events arrived in.
func (a *Aggregate) attribute(ix *index, opt Options, withTouches bool, only func(*conv) bool, visit func(c *conv, credits []credit, tgts []target)) {
	// Each ref's target, as an index, so that the loop below compares
	// integers; -1 for refs the catalog does not know.
	var tgts []target
	tgtIndex := map[target]int{}
	refTarget := make([]int, len(a.refs))
	ok := make([]bool, len(a.refs))
	for i := range a.refs {
		t, _, found := ix.resolve(&a.refs[i])
		refTarget[i], ok[i] = -1, found
		if !found {
			continue
		}
		j, seen := tgtIndex[t]
		if !seen {
			j = len(tgts)
			tgtIndex[t] = j
			tgts = append(tgts, t)
		}
		refTarget[i] = j
	}
	order := make([]int, 0, len(a.convs))
	for i := range a.convs {
		if only == nil || only(&a.convs[i]) {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(x, y int) int {
		cx, cy := &a.convs[x], &a.convs[y]
		if c := cx.at.Compare(cy.at); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(cx.source, cy.source), strings.Compare(cx.id, cy.id))
	})
	groups, start := a.converterTouches(ok, order)

	var cands []touch
	var credits []credit
	var touches []touch
	for _, ci := range order {
		c := &a.convs[ci]
		cands = cands[:0]
		if c.contact != noContact {
			g := groups[start[c.contact]:start[c.contact+1]]
			// To the second, as touches are kept.
			lo, at := seconds(c.at.Add(-opt.Window)), seconds(c.at)
			i, _ := slices.BinarySearchFunc(g, lo, func(t touch, lo uint32) int { return cmp.Compare(t.at, lo) })
			self := uint32(slices.Index(touchTypes[:], FormSubmission))
			for ; i < len(g) && g[i].at <= at; i++ {
				if c.typ == FormSubmission && g[i].at == at && g[i].kind() == int(self) && g[i].refID() == c.ref {
					continue // the submission itself, counted below as its own last touch
				}
				cands = append(cands, g[i])
			}
		}
		if c.ref != noRef && ok[c.ref] {
			// The conversion names what it came from: its last touch.
			cands = append(cands, touch{at: seconds(c.at), contact: c.contact, ref: noRef})
		}
		targetOf := func(t touch) int {
			if t.ref == noRef {
				return refTarget[c.ref]
			}
			return refTarget[t.refID()]
		}
		// The targets in the order they first touched the contact.
		credits = credits[:0]
		for _, t := range cands {
			tg := targetOf(t)
			if !slices.ContainsFunc(credits, func(cr credit) bool { return cr.target == tg }) {
				credits = append(credits, credit{target: tg})
			}
		}
		switch {
		case len(credits) == 0:
		case opt.Model == FirstTouch:
			credits = credits[:1]
		case opt.Model == LastTouch:
			credits[0] = credit{target: targetOf(cands[len(cands)-1])}
			credits = credits[:1]
		}
		touches = touches[:0]
		for j := range credits {
			credits[j].share = Share(evenPart(1000, len(credits), j))
			if c.value != nil {
				credits[j].minor = evenPart(c.value.Minor, len(credits), j)
			}
			if withTouches {
				from := len(touches)
				for _, t := range cands {
					if targetOf(t) == credits[j].target {
						touches = append(touches, t)
					}
				}
				credits[j].touches = touches[from:len(touches):len(touches)]
			}
		}
		visit(c, credits, tgts)
	}
}

// evenPart is part i of total split into n parts that add up to it
// exactly: equal parts, and the remainder's units one each to the first
// parts, the earliest touches, since every part's remainder is the same.
func evenPart(total int64, n, i int) int64 {
	q, r := total/int64(n), total%int64(n)
	switch {
	case r > 0 && int64(i) < r:
		return q + 1
	case r < 0 && int64(i) < -r:
		return q - 1
	}
	return q
}

// converterTouches returns the touches of the contacts of the conversions
// in order, on objects the catalog knows, grouped by contact (contact c's
// are groups[start[c]:start[c+1]]) and ordered within each group.
func (a *Aggregate) converterTouches(ok []bool, order []int) (groups []touch, start []int) {
	converted := make([]bool, len(a.names))
	for _, i := range order {
		if c := a.convs[i].contact; c != noContact {
			converted[c] = true
		}
	}
	groups, start = groupTouches(a, len(a.names), func(t touch) int {
		if converted[t.contact] && ok[t.refID()] {
			return int(t.contact)
		}
		return -1
	}, func(t touch) touch { return t })
	// Ties in time are broken by the refs' keys, not their indexes, which
	// depend on the order events arrived in.
	byKey := make([]int, len(a.refs))
	for i := range byKey {
		byKey[i] = i
	}
	slices.SortFunc(byKey, func(x, y int) int { return strings.Compare(a.refs[x].key, a.refs[y].key) })
	rank := make([]int, len(a.refs))
	for r, i := range byKey {
		rank[i] = r
	}
	for c := range a.names {
		g := groups[start[c]:start[c+1]]
		if len(g) > 1 {
			slices.SortFunc(g, func(x, y touch) int {
				if x.at != y.at {
					return cmp.Compare(x.at, y.at)
				}
				if x.kind() != y.kind() {
					return cmp.Compare(x.kind(), y.kind())
				}
				return cmp.Compare(rank[x.refID()], rank[y.refID()])
			})
		}
	}
	return groups, start
}

// groupTouches gathers what of each of the aggregate's touches the groups
// it falls in need (val; slot is its group in [0, n), or -1 for none), in
// one array sized by a first pass: group g's are out[start[g]:start[g+1]],
// in the order the touches were taken in. Millions of touches grouped by
// appending left the array with up to twice its size, growing.
func groupTouches[T any](a *Aggregate, n int, slot func(touch) int, val func(touch) T) (out []T, start []int) {
	start = make([]int, n+1)
	for _, chunk := range a.touches {
		for _, t := range chunk {
			if g := slot(t); g >= 0 {
				start[g+1]++
			}
		}
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	out = make([]T, start[n])
	next := slices.Clone(start[:n])
	for _, chunk := range a.touches {
		for _, t := range chunk {
			if g := slot(t); g >= 0 {
				out[next[g]] = val(t)
				next[g]++
			}
		}
	}
	return out, start
}

func (a *Aggregate) touchOut(t touch, c *conv) Touch {
	r, typ := c.ref, c.typ
	out := Touch{At: time.Unix(int64(t.at), 0).UTC()}
	if t.ref == noRef {
		out.EventID = c.id
		out.At = c.at
	} else {
		r, typ = t.refID(), touchTypes[t.kind()]
	}
	out.Type = typ
	rf := &a.refs[r]
	out.Target, out.LiveID, out.UTMCampaign, out.UTMContent = rf.target, rf.liveID, rf.utmCampaign, rf.utmContent
	return out
}

// nameTouches fills in the event id and exact time of every touch in res
// from events: of the events that are the same touch (to the second), the
// one with the smallest id, so that a duplicate reported under two ids
// names the same one every time.
func (a *Aggregate) nameTouches(res *Attribution, events []Event) {
	type key struct {
		typ, contact, ref string
		at                int64
	}
	need := map[key]*Event{}
	keyOf := func(c *Conversion, t Touch) key { return key{t.Type, c.Contact, touchRefKey(t), t.At.Unix()} }
	for i := range res.Conversions {
		c := &res.Conversions[i]
		for j := range c.Credits {
			for _, t := range c.Credits[j].Touches {
				if t.EventID == "" {
					need[keyOf(c, t)] = nil
				}
			}
		}
	}
	if len(need) == 0 {
		return
	}
	for i := range events {
		e := &events[i]
		r := a.refOf(e)
		if r == noRef {
			continue
		}
		k := key{e.Type, e.Contact, a.refs[r].key, int64(seconds(e.At))}
		if found, ok := need[k]; ok && (found == nil || e.ID < found.ID) {
			need[k] = e
		}
	}
	for i := range res.Conversions {
		c := &res.Conversions[i]
		for j := range c.Credits {
			for k, t := range c.Credits[j].Touches {
				if e := need[keyOf(c, t)]; t.EventID == "" && e != nil {
					c.Credits[j].Touches[k].EventID, c.Credits[j].Touches[k].At = e.ID, e.At.UTC()
				}
			}
		}
	}
}

func touchRefKey(t Touch) string {
	if t.LiveID != "" {
		return "live\x00" + t.Target + "\x00" + t.LiveID
	}
	return "utm\x00" + t.UTMCampaign + "\x00" + t.UTMContent
}
