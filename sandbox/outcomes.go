package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/sandbox/content"
	"github.com/lastmile/lastmile/store"
)

// Buckets of the outcomes lastmile keeps.
const (
	bOutcomeLog     = "outcome_log"      // %016x sequence → outcomes.Event, in the order kept
	bOutcomes       = "outcomes"         // target \x00 event id → its sequence (each kept once)
	bOutcomeCursors = "outcome_cursors"  // target → the cursor its next read starts at
	bReached        = "outcome_contacts" // target \x00 contact → "" (a campaign touched them there)
)

// OutcomeSync is what one SyncOutcomes did on one target.
type OutcomeSync struct {
	Target string `json:"target"`
	Read   int    `json:"read"` // events the target returned
	New    int    `json:"new"`  // of those, not kept before
	// Unknown counts the new events of types lastmile gives no meaning to:
	// kept, and said here, never dropped.
	Unknown  map[string]int `json:"unknown,omitempty"`
	Problems int            `json:"problems,omitempty"` // new events with something unreadable (Event.Problem)
	Error    string         `json:"error,omitempty"`
}

// maxSyncRounds bounds how many reads one sync makes of one target: a
// backlog larger than that continues at the next sync, from its cursor.
const maxSyncRounds = 20

// SyncOutcomes reads, from every target that reports outcomes, the events
// after the last sync's cursor, and keeps each once. A target that fails
// keeps what it returned before failing and its cursor; the others go on.
// The clock calls it on a schedule; fetch_metrics and lastmile report on
// demand.
func (s *Sandbox) SyncOutcomes(ctx context.Context) ([]OutcomeSync, error) {
	items, err := s.liveItems(ctx)
	if err != nil {
		return nil, err
	}
	var out []OutcomeSync
	for _, name := range slices.Sorted(maps.Keys(s.targets)) {
		r, ok := s.targets[name].(OutcomeReader)
		if !ok {
			continue
		}
		rep := OutcomeSync{Target: name}
		err := s.syncTarget(ctx, name, r, items[name], &rep)
		s.noteTarget(ctx, name, "outcomes", err)
		if err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			rep.Error = err.Error()
			s.log.Warn("outcomes sync failed", "target", name, "err", err)
		}
		out = append(out, rep)
	}
	return out, nil
}

func (s *Sandbox) syncTarget(ctx context.Context, name string, r OutcomeReader, items []MetricsItem, rep *OutcomeSync) error {
	for range maxSyncRounds {
		var cursor string
		var contacts []string
		if err := s.st.View(ctx, func(tx store.Tx) error {
			c, err := tx.Get(bOutcomeCursors, name)
			cursor = string(c)
			if err != nil {
				return err
			}
			kvs, err := tx.Scan(bReached, name+"\x00", "", 0)
			for _, kv := range kvs {
				contacts = append(contacts, strings.TrimPrefix(kv.Key, name+"\x00"))
			}
			return err
		}); err != nil {
			return err
		}
		evs, next, readErr := r.Outcomes(ctx, OutcomesRequest{Cursor: cursor, Items: items, Contacts: contacts})
		rep.Read += len(evs)
		if err := s.keepOutcomes(ctx, name, evs, next, rep); err != nil {
			return err
		}
		if readErr != nil {
			return readErr
		}
		if len(evs) == 0 || next == cursor {
			return nil
		}
	}
	return nil
}

// keepOutcomes stores the events not kept before, the contacts they show a
// campaign reached, and the cursor, in one transaction: a crash between
// reads repeats none and loses none.
func (s *Sandbox) keepOutcomes(ctx context.Context, target string, evs []outcomes.Event, next string, rep *OutcomeSync) error {
	return s.st.Update(ctx, func(tx store.Tx) error {
		for _, e := range evs {
			if e.ID == "" {
				return fmt.Errorf("target %s reported an event without an id", target)
			}
			key := target + "\x00" + e.ID
			if old, err := tx.Get(bOutcomes, key); err != nil {
				return err
			} else if old != nil {
				continue
			}
			if e.Target == "" {
				e.Target = target
			}
			data, err := json.Marshal(e)
			if err != nil {
				return err
			}
			seq, err := tx.NextSeq(bOutcomeLog)
			if err != nil {
				return err
			}
			if err := tx.Put(bOutcomeLog, seqKey(seq), data); err != nil {
				return err
			}
			if err := tx.Put(bOutcomes, key, []byte(seqKey(seq))); err != nil {
				return err
			}
			rep.New++
			if !outcomes.IsKnown(e.Type) {
				if rep.Unknown == nil {
					rep.Unknown = map[string]int{}
				}
				rep.Unknown[e.Type]++
			}
			if e.Problem != "" {
				rep.Problems++
			}
			if e.Contact != "" && slices.Contains(outcomes.Touches, e.Type) {
				if err := tx.Put(bReached, target+"\x00"+e.Contact, []byte{}); err != nil {
					return err
				}
			}
		}
		return tx.Put(bOutcomeCursors, target, []byte(next))
	})
}

// eachCampaign calls fn with every campaign and its artifacts, newest
// campaign first.
func (s *Sandbox) eachCampaign(tx store.Tx, fn func(c *Campaign, arts []*Artifact) error) error {
	kvs, err := tx.Scan(bCampaignsNew, "", "", 0)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		c, err := s.campaign(tx, string(kv.Value))
		if err != nil {
			return err
		}
		arts, err := s.campaignArtifacts(tx, c.ID)
		if err != nil {
			return err
		}
		if err := fn(c, arts); err != nil {
			return err
		}
	}
	return nil
}

// liveItems lists, per target, the live objects of every campaign.
func (s *Sandbox) liveItems(ctx context.Context) (map[string][]MetricsItem, error) {
	out := map[string][]MetricsItem{}
	err := s.st.View(ctx, func(tx store.Tx) error {
		return s.eachCampaign(tx, func(_ *Campaign, arts []*Artifact) error {
			for _, a := range arts {
				if a.Live != nil && !offPlatform(a) {
					out[a.Live.Target] = append(out[a.Live.Target], MetricsItem{ArtifactID: a.ID, Kind: a.Kind, LiveID: a.Live.LiveID})
				}
			}
			return nil
		})
	})
	return out, err
}

// Outcomes calls fn for every kept event after the sequence number after
// (0: from the first), in the order they were kept, stopping at fn's first
// error. It returns the last sequence number it passed.
func (s *Sandbox) Outcomes(ctx context.Context, after uint64, fn func(e outcomes.Event) error) (uint64, error) {
	last := after
	err := s.st.View(ctx, func(tx store.Tx) error {
		from := ""
		if after > 0 {
			from = seqKey(after)
		}
		for {
			kvs, err := tx.Scan(bOutcomeLog, "", from, 10_000)
			if err != nil || len(kvs) == 0 {
				return err
			}
			for _, kv := range kvs {
				var e outcomes.Event
				if err := json.Unmarshal(kv.Value, &e); err != nil {
					return fmt.Errorf("outcome %s: %w", kv.Key, err)
				}
				if err := fn(e); err != nil {
					return err
				}
				if n, err := strconv.ParseUint(kv.Key, 16, 64); err == nil {
					last = n
				}
			}
			from = kvs[len(kvs)-1].Key
		}
	})
	return last, err
}

func seqKey(n uint64) string { return fmt.Sprintf("%016x", n) }

// outcomeAggregate is every kept outcome, aggregated: built from the store
// on first use, then brought up to date from where it stopped each time it
// is asked, so events another process kept are in it too.
type outcomeAggregate struct {
	mu   sync.Mutex
	agg  *outcomes.Aggregate
	last uint64 // the sequence of the last kept event agg holds
	// saved is the sequence the aggregate file covers (aggsnapshot.go).
	saved uint64
	// notes are HistoryNote's answers by segment, good while no outcome
	// has been kept since (last): a new live artifact changes nothing
	// until its events arrive.
	notes     map[string]string
	notesLast uint64
}

// aggregate returns the up-to-date aggregate, locked: the caller unlocks.
func (s *Sandbox) aggregate(ctx context.Context) (*outcomes.Aggregate, func(), error) {
	a := &s.outcomes
	a.mu.Lock()
	if a.agg == nil {
		a.agg, a.last = s.loadAggregate(ctx)
		if a.agg == nil {
			a.agg = outcomes.NewAggregate()
		}
		a.saved = a.last
	}
	last, err := s.Outcomes(ctx, a.last, func(e outcomes.Event) error {
		a.agg.Add(e)
		return nil
	})
	a.last = last
	if err != nil {
		a.mu.Unlock()
		return nil, nil, err
	}
	if a.last-a.saved >= saveAggregateEvery {
		if err := s.saveAggregate(ctx, a.agg, a.last); err != nil {
			// The next process builds it from the events, as before; this
			// one tries again after as many new events, not at every
			// question.
			s.log.Warn("outcomes aggregate not written", "err", err)
		}
		a.saved = a.last
	}
	return a.agg, a.mu.Unlock, nil
}

// cachedCatalog is the last catalog built and the store generation it was
// built at: every question about outcomes needs it, and reading every
// campaign's artifacts and revisions for it is some 50 ms at 1,000
// campaigns.
type cachedCatalog struct {
	mu  sync.Mutex
	gen uint64
	cat *outcomes.Catalog
}

// Catalog is what lastmile made, as attribution and insights see it:
// every campaign, and its live emails and pages with what their results
// are compared by (subject, send time, audience segments, main link,
// template). It is kept until the store's next write; callers must not
// modify it.
func (s *Sandbox) Catalog(ctx context.Context) (outcomes.Catalog, error) {
	gs, cacheable := s.st.(store.Generational)
	if !cacheable {
		return s.readCatalog(ctx)
	}
	c := &s.catalog
	c.mu.Lock()
	defer c.mu.Unlock()
	// The generation read before the catalog: a write while it is read
	// makes the next question read it again.
	gen, err := gs.Generation(ctx)
	if err != nil {
		return outcomes.Catalog{}, err
	}
	if c.cat != nil && c.gen == gen {
		return *c.cat, nil
	}
	cat, err := s.readCatalog(ctx)
	if err != nil {
		return cat, err
	}
	c.gen, c.cat = gen, &cat
	return cat, nil
}

func (s *Sandbox) readCatalog(ctx context.Context) (outcomes.Catalog, error) {
	cat := outcomes.Catalog{Campaigns: []outcomes.Campaign{}, Artifacts: []outcomes.Artifact{}}
	err := s.st.View(ctx, func(tx store.Tx) error {
		return s.eachCampaign(tx, func(c *Campaign, arts []*Artifact) error {
			cat.Campaigns = append(cat.Campaigns, outcomes.Campaign{ID: c.ID, Name: c.Name, UTMCampaign: c.UTM.Campaign})
			for _, a := range arts {
				if a.Live == nil || (a.Kind != KindEmail && a.Kind != KindPage) {
					continue
				}
				r, err := s.revision(tx, a.ID, a.Live.Revision)
				if err != nil {
					return err
				}
				art, err := s.catalogArtifact(tx, c, a, Final(c, r))
				if err != nil {
					return err
				}
				cat.Artifacts = append(cat.Artifacts, art)
			}
			return nil
		})
	})
	return cat, err
}

func (s *Sandbox) catalogArtifact(tx store.Tx, c *Campaign, a *Artifact, r *Revision) (outcomes.Artifact, error) {
	out := outcomes.Artifact{ID: a.ID, CampaignID: c.ID, Kind: string(a.Kind), LiveIDs: map[string]string{a.Live.Target: a.Live.LiveID}}
	if r.Email == nil {
		return out, nil
	}
	e := r.Email
	out.Subject = e.Subject
	switch {
	case a.Live.SentAt != nil:
		out.SentAt = *a.Live.SentAt
	case a.Live.ScheduledFor != nil:
		out.SentAt = *a.Live.ScheduledFor
	}
	for _, id := range e.Audience.Include {
		seg, err := getArtifact(tx, id)
		if err != nil {
			return out, err
		}
		if seg != nil {
			out.Segments = append(out.Segments, seg.Name)
		}
	}
	out.Template = "html"
	if len(e.Blocks) > 0 {
		out.Template = "blocks"
	}
	// The main link: the first with words, not the unsubscribe or a
	// footer link, which every email has.
	for _, l := range content.Links(e.HTML) {
		if t := strings.TrimSpace(l.Text); t != "" && !strings.Contains(l.Href, "unsubscribe") && !strings.Contains(strings.ToLower(t), "unsubscribe") {
			out.CTA = t
			break
		}
	}
	return out, nil
}

// outcomeOptions are the configured attribution settings, with a model
// or window the caller asks for instead.
func (s *Sandbox) outcomeOptions(model string) outcomes.Options {
	opt := s.cfg.Attribution.Options()
	if model != "" {
		opt.Model = outcomes.Model(model)
	}
	return opt
}

// withHistory calls fn with the catalog and the up-to-date aggregate,
// the aggregate locked until fn returns.
func (s *Sandbox) withHistory(ctx context.Context, fn func(cat outcomes.Catalog, agg *outcomes.Aggregate) error) error {
	cat, err := s.Catalog(ctx)
	if err != nil {
		return err
	}
	agg, unlock, err := s.aggregate(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return fn(cat, agg)
}

// Attribution credits every kept conversion to the campaigns and
// artifacts that touched the contact, by the configured model or the one
// asked for; campaign, when set, limits the listed conversions to those
// crediting it (totals cover all).
func (s *Sandbox) Attribution(ctx context.Context, model, campaign string) (att outcomes.Attribution, err error) {
	err = s.withHistory(ctx, func(cat outcomes.Catalog, agg *outcomes.Aggregate) error {
		opt := s.outcomeOptions(model)
		opt.Campaign = campaign
		att, err = agg.Attribute(cat, opt)
		return err
	})
	return att, err
}

// Insights are what worked in this workspace's own emails.
func (s *Sandbox) Insights(ctx context.Context) (ins outcomes.Insights, err error) {
	err = s.withHistory(ctx, func(cat outcomes.Catalog, agg *outcomes.Aggregate) error {
		ins, err = agg.Insights(cat, s.outcomeOptions(""))
		return err
	})
	return ins, err
}

// HistoryNote is the short "from your history" text for drafting an email
// to a segment (its id; "" for anyone); empty while the history is too
// thin to say anything.
//
// create_email asks on every call, so the answer is kept until new
// outcomes arrive, and an empty history answers without reading anything
// more.
func (s *Sandbox) HistoryNote(ctx context.Context, segmentID string) (string, error) {
	agg, unlock, err := s.aggregate(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	a := &s.outcomes
	if a.last == 0 {
		return "", nil
	}
	segment := ""
	if segmentID != "" {
		if err := s.st.View(ctx, func(tx store.Tx) error {
			seg, err := getArtifact(tx, segmentID)
			if seg != nil {
				segment = seg.Name
			}
			return err
		}); err != nil {
			return "", err
		}
	}
	if a.notesLast != a.last {
		a.notes, a.notesLast = map[string]string{}, a.last
	}
	if note, ok := a.notes[segment]; ok {
		return note, nil
	}
	cat, err := s.Catalog(ctx)
	if err != nil {
		return "", err
	}
	note, err := agg.Note(cat, s.outcomeOptions(""), segment)
	if err != nil {
		return "", err
	}
	a.notes[segment] = note
	return note, nil
}

// SnapshotMetrics fetches and keeps the metrics of every campaign with a
// live artifact, as fetch_metrics does for one: the clock calls it with
// SyncOutcomes, so each artifact's figures become a time series without
// anyone asking. A campaign whose target fails is said in the error; the
// others are kept.
func (s *Sandbox) SnapshotMetrics(ctx context.Context) (int, error) {
	var campaigns []string
	err := s.st.View(ctx, func(tx store.Tx) error {
		return s.eachCampaign(tx, func(c *Campaign, arts []*Artifact) error {
			if slices.ContainsFunc(arts, func(a *Artifact) bool { return a.Live != nil }) {
				campaigns = append(campaigns, c.ID)
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, id := range campaigns {
		ms, err := s.FetchMetrics(ctx, MetricsScope{CampaignID: id})
		if err != nil {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("campaign %s: %w", id, err))
			continue
		}
		n += len(ms)
	}
	return n, errors.Join(errs...)
}

// Period is what a report needs of [from, to), from one catalog and one
// look at the aggregate: per campaign, the contacts its live artifacts'
// sends, opens and clicks reached (each once), and the period's
// conversions credited by the configured model (or the one asked for),
// with the model's name.
func (s *Sandbox) Period(ctx context.Context, model string, from, to time.Time) (eng map[string]outcomes.Engagement, res map[string]outcomes.Results, used string, err error) {
	opt := s.outcomeOptions(model)
	err = s.withHistory(ctx, func(cat outcomes.Catalog, agg *outcomes.Aggregate) error {
		eng = agg.Engagement(cat, from, to)
		res, err = agg.PeriodResults(cat, opt, from, to)
		return err
	})
	if opt.Model == "" {
		opt.Model = outcomes.LastTouch
	}
	return eng, res, string(opt.Model), err
}
