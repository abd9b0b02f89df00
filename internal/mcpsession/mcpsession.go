// Package mcpsession keeps the sessions of streamable HTTP (protocol
// versions before 2026-07-28) in the store, so that every replica of a
// deployment knows the sessions any of them issued, a session ended by
// DELETE stays ended everywhere, and what is remembered is bounded.
//
// A session is bound to the principal that began it: another principal
// presenting its id is told there is no such session, so a leaked session
// id is worth nothing without the token that made it.
package mcpsession

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/lastmile/lastmile/internal/accesstoken"
	"github.com/lastmile/lastmile/store"
)

const (
	bucket = "mcp_sessions"
	prefix = "lms_"
	// MaxAge is how long a session lasts from its start; after it the
	// client is told to initialize a new one (404, as for any unknown
	// session), which the transport spec has clients do.
	MaxAge = 7 * 24 * time.Hour
	// endedKept is how long an ended session is remembered as ended
	// rather than unknown; both answer 404.
	endedKept = time.Hour
	// pruneEvery bounds how often one process looks for sessions to forget.
	pruneEvery = 10 * time.Minute
	timeout    = 5 * time.Second
)

// errUnknown is what Validate says of an id it did not issue (or forgot).
var errUnknown = errors.New("no such session")

type record struct {
	// Principal is the actor that began the session ("" without
	// authentication).
	Principal string    `json:"principal,omitempty"`
	Started   time.Time `json:"started"`
	Ended     time.Time `json:"ended,omitzero"`
}

// Sessions issues and checks session ids; it is a server.SessionIdManagerResolver.
type Sessions struct {
	st  store.Store
	log *slog.Logger
	now func() time.Time

	mu         sync.Mutex
	lastPruned time.Time
}

// New keeps sessions in st; now is nil for the wall clock.
func New(st store.Store, log *slog.Logger, now func() time.Time) *Sessions {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sessions{st: st, log: log, now: now}
}

// ResolveSessionIdManager returns the manager for r's principal.
func (s *Sessions) ResolveSessionIdManager(r *http.Request) server.SessionIdManager {
	return manager{s: s, principal: principalOf(r.Context())}
}

// For returns the manager of a principal's sessions ("" without
// authentication).
func (s *Sessions) For(principal string) server.SessionIdManager {
	return manager{s: s, principal: principal}
}

func principalOf(ctx context.Context) string {
	if p := accesstoken.FromContext(ctx); p != nil {
		return p.Actor()
	}
	return ""
}

type manager struct {
	s         *Sessions
	principal string
}

func (m manager) Generate() string {
	var b [16]byte
	rand.Read(b[:])
	id := prefix + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rec, _ := json.Marshal(record{Principal: m.principal, Started: m.s.now().UTC()})
	if err := m.s.st.Update(ctx, func(tx store.Tx) error { return tx.Put(bucket, id, rec) }); err != nil {
		// mcp-go's Generate cannot fail: the id is unknown, so the
		// client's next request is 404 and it initializes again.
		m.s.log.Error("recording a new MCP session", "err", err)
	}
	m.s.prune()
	return id
}

func (m manager) Validate(id string) (isTerminated bool, err error) {
	rec, err := m.s.get(id)
	if err != nil {
		return false, err
	}
	if rec == nil || rec.Principal != m.principal || m.s.now().Sub(rec.Started) > MaxAge {
		return false, errUnknown
	}
	return !rec.Ended.IsZero(), nil
}

func (m manager) Terminate(id string) (isNotAllowed bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return false, m.s.st.Update(ctx, func(tx store.Tx) error {
		rec, err := decode(tx, id)
		if err != nil || rec == nil || rec.Principal != m.principal || !rec.Ended.IsZero() {
			return err
		}
		rec.Ended = m.s.now().UTC()
		data, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return tx.Put(bucket, id, data)
	})
}

func (s *Sessions) get(id string) (*record, error) {
	if !strings.HasPrefix(id, prefix) || len(id) != len(prefix)+32 {
		return nil, errUnknown
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var rec *record
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		rec, err = decode(tx, id)
		return err
	})
	return rec, err
}

func decode(tx store.Tx, id string) (*record, error) {
	data, err := tx.Get(bucket, id)
	if err != nil || data == nil {
		return nil, err
	}
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("mcp session %s: %w", id, err)
	}
	return &rec, nil
}

// prune forgets sessions past MaxAge and those ended over endedKept ago,
// at most every pruneEvery per process, a page at a time.
func (s *Sessions) prune() {
	s.mu.Lock()
	now := s.now()
	if now.Sub(s.lastPruned) < pruneEvery {
		s.mu.Unlock()
		return
	}
	s.lastPruned = now
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 4*timeout)
	defer cancel()
	n, err := s.Prune(ctx)
	if err != nil {
		s.log.Warn("forgetting old MCP sessions", "err", err)
		return
	}
	if n > 0 {
		s.log.Debug("forgot old MCP sessions", "count", n)
	}
}

// Prune forgets sessions past MaxAge and those ended over an hour ago,
// and says how many.
func (s *Sessions) Prune(ctx context.Context) (int, error) {
	now, n := s.now(), 0
	for after := ""; ; {
		var kvs []store.KV
		if err := s.st.View(ctx, func(tx store.Tx) error {
			var err error
			kvs, err = tx.Scan(bucket, "", after, 500)
			return err
		}); err != nil {
			return n, err
		}
		var old []string
		for _, kv := range kvs {
			var rec record
			if json.Unmarshal(kv.Value, &rec) != nil || now.Sub(rec.Started) > MaxAge || (!rec.Ended.IsZero() && now.Sub(rec.Ended) > endedKept) {
				old = append(old, kv.Key)
			}
		}
		if len(old) > 0 {
			if err := s.st.Update(ctx, func(tx store.Tx) error {
				for _, k := range old {
					if err := tx.Delete(bucket, k); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				return n, err
			}
			n += len(old)
		}
		if len(kvs) < 500 {
			return n, nil
		}
		after = kvs[len(kvs)-1].Key
	}
}
