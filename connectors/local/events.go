package local

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/lastmile/lastmile/internal/osfile"
	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/sandbox"
)

// Event is one line of events.jsonl.
type Event struct {
	Type     string    `json:"type"` // EventTypes; other types are kept and reported as they are
	Artifact string    `json:"artifact,omitempty"`
	Email    string    `json:"email,omitempty"`
	URL      string    `json:"url,omitempty"`
	At       time.Time `json:"at"`
	// Amount is an opportunity's or a won deal's value, Revenue a
	// purchase's, as decimals in Currency (ISO 4217).
	Amount   Decimal `json:"amount,omitempty"`
	Revenue  Decimal `json:"revenue,omitempty"`
	Currency string  `json:"currency,omitempty"`
	// Variant is the A/B variant a sent message was (a, b, c).
	Variant string `json:"variant,omitempty"`
}

// EventTypes are the event types lastmile gives meaning to in events.jsonl:
// outcomes' known types and the clock's manual_enrolment.
var EventTypes = append(slices.Clone(outcomes.Known), "manual_enrolment")

// needsArtifact are the types that are about a live email or page; the
// conversions (a reply, a deal, a purchase) may name none and are then
// attributed by the contact's touches or the URL's UTM.
var needsArtifact = []string{"sent", "delivered", "open", "click", "bounce", "spam_report", "page_view", "manual_enrolment"}

// EventsFile is where the local target keeps events.
func (t *Target) EventsFile() string { return t.path("events.jsonl") }

// appendEvents appends lines in one write. If an earlier writer died in the
// middle of a line, a newline first keeps the next record whole.
func (t *Target) appendEvents(evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	for _, e := range evs {
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		buf.Write(data)
		buf.WriteByte('\n')
	}
	t.evMu.Lock()
	defer t.evMu.Unlock()
	f, err := os.OpenFile(t.EventsFile(), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	data := buf.Bytes()
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], st.Size()-1); err == nil && last[0] != '\n' {
			data = append([]byte{'\n'}, data...)
		}
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	// The events say who was mailed: a resumed send trusts them, so they
	// are on disk before the send reports done.
	return osfile.DataSync(f)
}

// AppendEvents adds events (from a test, a demo, or a tracking pixel
// collector) after checking their types.
func (t *Target) AppendEvents(evs []Event) error {
	for _, e := range evs {
		if !slices.Contains(EventTypes, e.Type) {
			return fmt.Errorf("local: unknown event type %q (known: %v)", e.Type, EventTypes)
		}
		if e.Artifact == "" && slices.Contains(needsArtifact, e.Type) {
			return fmt.Errorf("local: a %s event needs the artifact it is about", e.Type)
		}
		if _, err := e.value(); err != nil {
			return fmt.Errorf("local: %s event: %w", e.Type, err)
		}
	}
	return t.appendEvents(evs)
}

// ReadEvents calls fn for every well-formed event; lines that do not parse
// (a torn write) are skipped.
func (t *Target) ReadEvents(fn func(Event)) error {
	f, err := os.Open(t.EventsFile())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var e Event
			if json.Unmarshal(line, &e) == nil && e.Type != "" {
				fn(e)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Metrics aggregates events.jsonl per artifact.
func (t *Target) Metrics(_ context.Context, req sandbox.MetricsRequest) ([]sandbox.Metrics, error) {
	type agg struct {
		counts        map[string]int64
		opens, clicks map[string]bool
		ab            *abAgg // A/B emails only
	}
	want := map[string]*agg{}
	for _, it := range req.Items {
		a := &agg{counts: map[string]int64{}, opens: map[string]bool{}, clicks: map[string]bool{}}
		if it.Kind == sandbox.KindEmail {
			var err error
			if a.ab, err = t.abAggOf(it.LiveID); err != nil {
				return nil, fmt.Errorf("local: email %s: %w", it.LiveID, err)
			}
		}
		want[it.LiveID] = a
	}
	err := t.ReadEvents(func(e Event) {
		a := want[e.Artifact]
		if a == nil || (!req.Since.IsZero() && e.At.Before(req.Since)) {
			return
		}
		a.ab.add(e)
		switch e.Type {
		case "sent":
			a.counts[sandbox.MetricSent]++
		case "delivered":
			a.counts[sandbox.MetricDelivered]++
		case "open":
			a.counts[sandbox.MetricOpens]++
			a.opens[e.Email] = true
		case "click":
			a.counts[sandbox.MetricClicks]++
			a.clicks[e.Email] = true
		case "bounce":
			a.counts[sandbox.MetricBounces]++
		case "unsubscribe":
			a.counts[sandbox.MetricUnsubscribes]++
		case "spam_report":
			a.counts[sandbox.MetricSpamReports]++
		case "page_view":
			a.counts[sandbox.MetricPageViews]++
		case "form_submission":
			a.counts[sandbox.MetricFormSubmissions]++
		case "manual_enrolment":
		default:
			// Kept and reported under its own name, never dropped.
			a.counts[e.Type]++
		}
	})
	if err != nil {
		return nil, fmt.Errorf("local: read events: %w", err)
	}
	now := t.now().UTC()
	out := make([]sandbox.Metrics, 0, len(req.Items))
	for _, it := range req.Items {
		a := want[it.LiveID]
		a.counts[sandbox.MetricUniqueOpens] = int64(len(a.opens))
		a.counts[sandbox.MetricUniqueClicks] = int64(len(a.clicks))
		m := sandbox.Metrics{ArtifactID: it.ArtifactID, LiveID: it.LiveID, Counters: a.counts, Source: "local:" + filepath.Base(t.EventsFile()), FetchedAt: now}
		if a.ab != nil {
			m.Variants, m.Winner = a.ab.counters(), a.ab.winner
		}
		if it.Kind == sandbox.KindWorkflow {
			if m.Workflow, err = t.workflowState(it.LiveID); err != nil {
				return nil, fmt.Errorf("local: workflow %s: %w", it.LiveID, err)
			}
			m.Source = "local:workflows"
		}
		out = append(out, m)
	}
	return out, nil
}

// Simulate appends plausible engagement for what is live: deliveries,
// opens, clicks, a bounce and an unsubscribe for sent emails, with deals
// for some who click; views and submissions for published pages. Deterministic for a given seed, so the
// demo prints the same numbers every time.
func (t *Target) Simulate(seed string, emails, pages []string) (int, error) {
	var evs []Event
	at := t.now().UTC()
	roll := func(parts ...string) uint32 {
		h := fnv.New32a()
		h.Write([]byte(seed))
		for _, p := range parts {
			h.Write([]byte{0})
			h.Write([]byte(p))
		}
		return h.Sum32() % 100
	}
	for k, id := range emails {
		// Rolled by position, not id: ids differ on every run.
		pos := fmt.Sprint("email", k)
		var rec liveEmail
		if _, err := readJSON(t.recordPath(sandbox.KindEmail, id), &rec); err != nil {
			return 0, err
		}
		var sent []string
		t.ReadEvents(func(e Event) {
			if e.Type == "sent" && e.Artifact == id {
				sent = append(sent, e.Email)
			}
		})
		for i, addr := range sent {
			at := at.Add(time.Duration(i) * time.Second)
			if roll(pos, addr, "bounce") < 5 {
				evs = append(evs, Event{Type: "bounce", Artifact: id, Email: addr, At: at})
				continue
			}
			evs = append(evs, Event{Type: "delivered", Artifact: id, Email: addr, At: at})
			if roll(pos, addr, "open") < 55 {
				evs = append(evs, Event{Type: "open", Artifact: id, Email: addr, At: at.Add(time.Hour)})
				if roll(pos, addr, "open2") < 30 {
					evs = append(evs, Event{Type: "open", Artifact: id, Email: addr, At: at.Add(26 * time.Hour)})
				}
				if roll(pos, addr, "click") < 40 {
					evs = append(evs, Event{Type: "click", Artifact: id, Email: addr, URL: "https://example.com/", At: at.Add(time.Hour + time.Minute)})
					// Some who click talk to sales: an opportunity, and for
					// some of those a won deal, with amounts of their own.
					if r := roll(pos, addr, "deal"); r < 35 {
						amount := Decimal(fmt.Sprintf("%d.00", 1000+100*roll(pos, addr, "amount")))
						evs = append(evs, Event{Type: "opportunity_created", Email: addr, Amount: amount, Currency: "USD", At: at.Add(48 * time.Hour)})
						if r < 20 {
							evs = append(evs, Event{Type: "deal_won", Email: addr, Amount: amount, Currency: "USD", At: at.Add(120 * time.Hour)})
						}
					}
				}
			}
			if roll(pos, addr, "unsub") < 4 {
				evs = append(evs, Event{Type: "unsubscribe", Artifact: id, Email: addr, At: at.Add(2 * time.Hour)})
			}
		}
	}
	for k, id := range pages {
		pos := fmt.Sprint("page", k)
		for i := range 40 {
			v := fmt.Sprint(i)
			evs = append(evs, Event{Type: "page_view", Artifact: id, At: at.Add(time.Duration(i) * time.Minute)})
			if roll(pos, v, "submit") < 20 {
				addr := fmt.Sprintf("visitor%d@example.org", i)
				evs = append(evs, Event{Type: "form_submission", Artifact: id, Email: addr, At: at.Add(time.Duration(i)*time.Minute + 30*time.Second)})
				// Some who sign up buy, three days on.
				if roll(pos, v, "purchase") < 50 {
					revenue := Decimal(fmt.Sprintf("%d.00", 49+roll(pos, v, "revenue")))
					evs = append(evs, Event{Type: "purchase", Email: addr, Revenue: revenue, Currency: "USD", At: at.Add(72 * time.Hour)})
				}
			}
		}
	}
	return len(evs), t.appendEvents(evs)
}
