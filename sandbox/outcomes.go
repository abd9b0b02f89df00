package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/store"
)

// Buckets of the outcomes lastmile keeps.
const (
	bOutcomes       = "outcomes"         // target \x00 event id → outcomes.Event
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
		if err := s.syncTarget(ctx, name, r, items[name], &rep); err != nil {
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
			data, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if err := tx.Put(bOutcomes, key, data); err != nil {
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

// liveItems lists, per target, the live objects of every campaign.
func (s *Sandbox) liveItems(ctx context.Context) (map[string][]MetricsItem, error) {
	out := map[string][]MetricsItem{}
	err := s.st.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan(bCampaignsNew, "", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			arts, err := s.campaignArtifacts(tx, string(kv.Value))
			if err != nil {
				return err
			}
			for _, a := range arts {
				if a.Live != nil {
					out[a.Live.Target] = append(out[a.Live.Target], MetricsItem{ArtifactID: a.ID, Kind: a.Kind, LiveID: a.Live.LiveID})
				}
			}
		}
		return nil
	})
	return out, err
}

// Outcomes calls fn for every kept event, in key order (by target, then
// by the source's id), stopping at fn's first error.
func (s *Sandbox) Outcomes(ctx context.Context, fn func(target string, e outcomes.Event) error) error {
	return s.st.View(ctx, func(tx store.Tx) error {
		after := ""
		for {
			kvs, err := tx.Scan(bOutcomes, "", after, 10_000)
			if err != nil || len(kvs) == 0 {
				return err
			}
			for _, kv := range kvs {
				var e outcomes.Event
				if err := json.Unmarshal(kv.Value, &e); err != nil {
					return fmt.Errorf("outcome %q: %w", kv.Key, err)
				}
				target, _, _ := strings.Cut(kv.Key, "\x00")
				if err := fn(target, e); err != nil {
					return err
				}
			}
			after = kvs[len(kvs)-1].Key
		}
	})
}
