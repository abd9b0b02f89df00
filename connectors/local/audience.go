package local

import (
	"encoding/csv"
	"fmt"
	"iter"
	"maps"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lastmile/lastmile/sandbox"
)

// suppressing are the event types after which an address is never mailed
// again, by any email: people who unsubscribed, complained, or whose mailbox
// does not exist. local knows one kind of bounce, the hard one (Simulate
// writes it in place of a delivery), so every bounce suppresses.
var suppressing = map[string]bool{"unsubscribe": true, "bounce": true, "spam_report": true}

// consentWithdrawn reports whether contacts.csv says no to marketing. A
// blank or missing marketing_consent is not a refusal: contacts files that
// never tracked consent would otherwise mail nobody.
func consentWithdrawn(c sandbox.Contact) bool { return withdrawn(c["marketing_consent"]) }

func withdrawn(consent string) bool {
	switch strings.ToLower(strings.TrimSpace(consent)) {
	case "false", "no", "0", "n":
		return true
	}
	return false
}

// eventIndex is what events.jsonl says about addresses, read in one pass.
type eventIndex struct {
	sent       map[string]bool   // has a sent event for the email at hand
	suppressed map[string]string // address → the event type that suppressed it
}

func (t *Target) readIndex(artifact string) (eventIndex, error) {
	idx := eventIndex{sent: map[string]bool{}, suppressed: map[string]string{}}
	err := t.ReadEvents(func(e Event) {
		addr := strings.ToLower(strings.TrimSpace(e.Email))
		switch {
		case addr == "":
		case e.Type == "sent" && e.Artifact == artifact:
			idx.sent[addr] = true
		case suppressing[e.Type]:
			if _, ok := idx.suppressed[addr]; !ok {
				idx.suppressed[addr] = e.Type
			}
		}
	})
	if err != nil {
		return idx, fmt.Errorf("read events: %w", err)
	}
	if err := t.readSuppressions(idx.suppressed); err != nil {
		return idx, err
	}
	return idx, nil
}

// SuppressionsFile is suppressions.csv in the data directory: addresses a
// person wants never mailed, one per line as "email,reason" (the reason may
// be left out; a header line "email,reason" and # comments are allowed).
func (t *Target) SuppressionsFile() string { return t.path("suppressions.csv") }

// readSuppressions adds suppressions.csv's addresses to into.
func (t *Target) readSuppressions(into map[string]string) error {
	data, err := os.ReadFile(t.SuppressionsFile())
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read suppressions.csv: %w", err)
	}
	r := csv.NewReader(strings.NewReader(string(data)))
	r.FieldsPerRecord, r.Comment, r.TrimLeadingSpace = -1, '#', true
	rows, err := r.ReadAll()
	if err != nil {
		return fmt.Errorf("suppressions.csv: %w", err)
	}
	for _, row := range rows {
		addr := strings.ToLower(strings.TrimSpace(row[0]))
		if addr == "" || addr == "email" {
			continue
		}
		why := "suppressions.csv"
		if len(row) > 1 && strings.TrimSpace(row[1]) != "" {
			why += ": " + strings.TrimSpace(row[1])
		}
		if _, ok := into[addr]; !ok {
			into[addr] = why
		}
	}
	return nil
}

// suppressionNote says, for an approver, how many of an audience will not
// be mailed and why (n counts recipient.suppressed); "" when nobody is
// suppressed.
func suppressionNote(n map[string]int) string {
	byWhy := map[string]int{}
	total := 0
	for why, k := range n {
		if strings.HasPrefix(why, "suppressions.csv") {
			why = "suppressions.csv"
		}
		byWhy[why] += k
		total += k
	}
	if total == 0 {
		return ""
	}
	words := map[string]string{"unsubscribe": "unsubscribed", "bounce": "hard bounce", "spam_report": "spam report", "consent": "no marketing consent in contacts.csv", "suppressions.csv": "listed in suppressions.csv"}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(byWhy)) {
		w := words[k]
		if w == "" {
			w = k
		}
		parts = append(parts, fmt.Sprintf("%d %s", byWhy[k], w))
	}
	return fmt.Sprintf("%d of the audience are suppressed and will not be mailed: %s", total, strings.Join(parts, ", "))
}

// recipient is one address an email's audience resolves to.
type recipient struct {
	row  int // as selection.all yields it
	addr string
	// suppressed says why the address must not be mailed; empty when it may.
	suppressed string
}

// recipients is an email's audience, yielded one recipient at a time: a
// send holds one message at once, however large the audience.
type recipients struct {
	sel     *selection
	idx     eventIndex
	consent *column
}

// audience resolves an email's audience as it stands now: the segment
// definitions evaluated against the current contacts.csv, so contacts
// deleted or changed since a segment went live are not mailed from a stale
// member list. Suppressed addresses are kept, marked, so a send can count
// them.
func (t *Target) audience(aud sandbox.Audience, segs map[string]*sandbox.Segment, idx eventIndex) (*recipients, error) {
	segs, err := t.withLiveDefinitions(segs, slices.Concat(aud.Include, aud.Exclude))
	if err != nil {
		return nil, err
	}
	sel, err := t.members(aud.Include, aud.Exclude, segs)
	if err != nil {
		return nil, err
	}
	return &recipients{sel: sel, idx: idx, consent: sel.tab.cols["marketing_consent"]}, nil
}

func (rs *recipients) all() iter.Seq[recipient] {
	return func(yield func(recipient) bool) {
		for row, addr := range rs.sel.all() {
			r := recipient{row: row, addr: addr}
			if row >= 0 && rs.consent != nil && withdrawn(rs.consent.value(row)) {
				r.suppressed = "consent"
			} else if why, ok := rs.idx.suppressed[addr]; ok {
				r.suppressed = why
			}
			if !yield(r) {
				return
			}
		}
	}
}

// contact is a recipient's properties, for rendering their message.
func (rs *recipients) contact(r recipient) sandbox.Contact { return rs.sel.contact(r.row) }

// withLiveDefinitions adds, for every segment referenced but missing from
// segs (a target not handed the campaign's segments, or a segment of
// another campaign), the definition recorded when it went live. Segments
// found nowhere stay missing and select nobody, as in Count.
func (t *Target) withLiveDefinitions(segs map[string]*sandbox.Segment, ids []string) (map[string]*sandbox.Segment, error) {
	out := make(map[string]*sandbox.Segment, len(segs))
	for k, v := range segs {
		out[k] = v
	}
	seen := map[string]bool{}
	for len(ids) > 0 {
		id := ids[len(ids)-1]
		ids = ids[:len(ids)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		s := out[id]
		if s == nil && safeID().MatchString(id) {
			var rec liveSegment
			found, err := readJSON(t.recordPath(sandbox.KindSegment, id), &rec)
			if err != nil {
				return nil, fmt.Errorf("read segment %s: %w", id, err)
			}
			if found {
				s = &rec.Definition
				out[id] = s
			}
		}
		if s != nil {
			ids = append(ids, s.IncludeSegments...)
			ids = append(ids, s.ExcludeSegments...)
		}
	}
	return out, nil
}

// legacyMailed reports whether a message from before file names carried a
// hash exists for addr. Such names were shared by several addresses, so
// the file counts only when its To header is addr. names lists the outbox
// as the send found it.
func legacyMailed(box, addr string, names map[string]bool) bool {
	name := legacyFileName(addr)
	if !names[name] {
		return false
	}
	f, err := os.Open(filepath.Join(box, name))
	if err != nil {
		return false
	}
	defer f.Close()
	msg, err := mail.ReadMessage(f)
	if err != nil {
		return false
	}
	to, err := mail.ParseAddress(msg.Header.Get("To"))
	return err == nil && strings.EqualFold(to.Address, addr)
}
