package outcomes

import (
	"math"
	"math/bits"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Aggregate is what attribution and insights need from a history of
// events, kept compactly and updated as events arrive, so that both
// answer from it without rereading the events: per live object the
// contacts that were sent, delivered, opened and clicked (each contact
// once), every touch as 12 bytes, and the conversions in full.
//
// It holds no catalog: which campaign or artifact a live object or a UTM
// tag belongs to is resolved when a question is asked, so an artifact
// bound after its events arrived is still credited.
//
// Add expects each event once (the store keeps events once by Source and
// ID); conversions are also kept once by Source and ID here, because they
// are what money is counted from. An Aggregate is not safe for concurrent
// use.
type Aggregate struct {
	contacts map[string]uint32
	names    []string // contact id → address

	liveRefs map[[2]string]uint32 // (target, live id)
	utmRefs  map[[2]string]uint32 // (utm_campaign, utm_content)
	refs     []ref

	types map[string]int64 // every type seen, known or not

	touches [][]touch // fixed-size chunks: no doubling slack at 10M events

	convs    []conv
	convSeen map[[2]string]struct{}
}

// ref is a live object (Target, LiveID) or, for events without one, the
// UTM tags of their URL.
type ref struct {
	key                     string // sorts refs independently of arrival order
	target, liveID          string
	utmCampaign, utmContent string
	sets                    [numSets]contactSet
}

// The per-contact sets kept for every ref.
const (
	setSent = iota
	setDelivered
	setOpen
	setClick
	numSets
)

// touch is one Touches event: when, whose, and on what, in 12 bytes, as
// most of 10,000,000 events are touches. Its time is kept to the second;
// the kind (an index into touchTypes) is packed into the low bits of ref.
type touch struct {
	at      uint32 // Unix seconds
	contact uint32
	ref     uint32
}

// seconds is t as a touch keeps it, clamped to what 32 bits hold (1970
// to 2106).
func seconds(t time.Time) uint32 {
	return uint32(min(max(t.Unix(), 0), math.MaxUint32))
}

// touchTypes are the kinds of touch. A form submission is a conversion,
// and also a touch of its page for what the contact does later (a
// purchase days after signing up on the landing page).
var touchTypes = [...]string{Sent, Open, Click, PageView, FormSubmission}

const (
	kindBits   = 3
	kindMask   = 1<<kindBits - 1
	touchChunk = 1 << 16
	noContact  = math.MaxUint32
	noRef      = math.MaxUint32
)

func (t touch) kind() int     { return int(t.ref & kindMask) }
func (t touch) refID() uint32 { return t.ref >> kindBits }

// conv is one conversion event.
type conv struct {
	id, source, typ string
	contact         uint32
	ref             uint32
	at              time.Time
	value           *Money
}

// NewAggregate returns an empty aggregate.
func NewAggregate() *Aggregate {
	return &Aggregate{
		contacts: map[string]uint32{},
		liveRefs: map[[2]string]uint32{},
		utmRefs:  map[[2]string]uint32{},
		types:    map[string]int64{},
		convSeen: map[[2]string]struct{}{},
	}
}

// Add takes events into the aggregate, in any order.
func (a *Aggregate) Add(events ...Event) {
	for i := range events {
		a.add(&events[i])
	}
}

func (a *Aggregate) add(e *Event) {
	a.types[e.Type]++
	if !IsKnown(e.Type) {
		return
	}
	contact := uint32(noContact)
	if e.Contact != "" {
		contact = a.contact(e.Contact)
	}
	r := a.refOf(e)
	if slices.Contains(Conversions, e.Type) {
		k := [2]string{e.Source, e.ID}
		if _, dup := a.convSeen[k]; dup {
			a.types[e.Type]--
			return
		}
		a.convSeen[k] = struct{}{}
		c := conv{id: e.ID, source: e.Source, typ: e.Type, contact: contact, ref: r, at: e.At.UTC()}
		if e.Value != nil {
			v := *e.Value
			c.value = &v
		}
		a.convs = append(a.convs, c)
		if e.Type == FormSubmission && r != noRef && contact != noContact {
			a.addTouch(e, contact, r)
		}
		return
	}
	if r == noRef || contact == noContact {
		return // counted by type; nothing to attribute or count per contact
	}
	set := -1
	switch e.Type {
	case Sent:
		set = setSent
	case Delivered:
		set = setDelivered
	case Open:
		set = setOpen
	case Click:
		set = setClick
	}
	sets := &a.refs[r].sets
	switch {
	case set == setDelivered && sets[setDelivered].len() == 0:
		// Rates count deliveries where the target reports them, so the
		// sent set is no longer needed.
		sets[setSent] = contactSet{}
		sets[setDelivered].add(contact)
	case set == setSent && sets[setDelivered].len() > 0:
	case set >= 0:
		sets[set].add(contact)
	}
	a.addTouch(e, contact, r)
}

func (a *Aggregate) addTouch(e *Event, contact, r uint32) {
	if k := slices.Index(touchTypes[:], e.Type); k >= 0 {
		last := len(a.touches) - 1
		if last < 0 || len(a.touches[last]) == touchChunk {
			a.touches = append(a.touches, make([]touch, 0, touchChunk))
			last++
		}
		a.touches[last] = append(a.touches[last], touch{at: seconds(e.At), contact: contact, ref: r<<kindBits | uint32(k)})
	}
}

func (a *Aggregate) contact(s string) uint32 {
	if id, ok := a.contacts[s]; ok {
		return id
	}
	id := uint32(len(a.names))
	a.contacts[s] = id
	a.names = append(a.names, s)
	return id
}

// refOf interns what the event is about: its live object, else its URL's
// utm_campaign and utm_content.
func (a *Aggregate) refOf(e *Event) uint32 {
	index, k := a.liveRefs, [2]string{e.Target, e.LiveID}
	if e.LiveID == "" {
		if e.URL == "" {
			return noRef
		}
		cmp, content := utmOf(e.URL)
		if cmp == "" && content == "" {
			return noRef
		}
		index, k = a.utmRefs, [2]string{cmp, content}
	}
	if id, ok := index[k]; ok {
		return id
	}
	r := ref{key: "live\x00" + k[0] + "\x00" + k[1], target: k[0], liveID: k[1]}
	if e.LiveID == "" {
		r = ref{key: "utm\x00" + k[0] + "\x00" + k[1], utmCampaign: k[0], utmContent: k[1]}
	}
	id := uint32(len(a.refs))
	index[k] = id
	a.refs = append(a.refs, r)
	return id
}

func utmOf(raw string) (campaign, content string) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", ""
	}
	q := u.Query()
	return strings.TrimSpace(q.Get("utm_campaign")), strings.TrimSpace(q.Get("utm_content"))
}

// TypeCount is how many events of a type the aggregate holds.
type TypeCount struct {
	Type  string `json:"type"`
	Count int64  `json:"count"`
}

// Counts returns every event type seen with its count, by type, and the
// types lastmile does not know among them: kept and reported, so a source
// that renames its events is noticed rather than silently ignored.
func (a *Aggregate) Counts() (all, unknown []TypeCount) {
	for t, n := range a.types {
		if n == 0 {
			continue
		}
		all = append(all, TypeCount{t, n})
		if !IsKnown(t) {
			unknown = append(unknown, TypeCount{t, n})
		}
	}
	byType := func(x, y TypeCount) int { return strings.Compare(x.Type, y.Type) }
	slices.SortFunc(all, byType)
	slices.SortFunc(unknown, byType)
	return all, unknown
}

// contactSet is a set of interned contacts: a sorted slice while small,
// a bitset once the slice would take more memory than one, so memory stays
// near the smaller of the two for both a 50-recipient test send and a
// 100,000-recipient newsletter.
type contactSet struct {
	sorted []uint32
	bits   []uint64
	n      int
}

func (s *contactSet) add(c uint32) {
	if s.bits != nil {
		w := int(c >> 6)
		if w >= len(s.bits) {
			s.bits = append(s.bits, make([]uint64, w+1-len(s.bits))...)
		}
		if m := uint64(1) << (c & 63); s.bits[w]&m == 0 {
			s.bits[w] |= m
			s.n++
		}
		return
	}
	i, found := slices.BinarySearch(s.sorted, c)
	if found {
		return
	}
	s.sorted = slices.Insert(s.sorted, i, c)
	s.n++
	// 4 bytes an element against 1 bit per possible contact.
	if top := s.sorted[len(s.sorted)-1]; len(s.sorted) >= 64 && uint64(len(s.sorted))*32 > uint64(top)+1 {
		s.bits = make([]uint64, top/64+1)
		for _, x := range s.sorted {
			s.bits[x>>6] |= 1 << (x & 63)
		}
		s.sorted = nil
	}
}

func (s *contactSet) len() int { return s.n }

// orInto sets s's members in dst, grown as needed.
func (s *contactSet) orInto(dst []uint64) []uint64 {
	for w, x := range s.bits {
		if w >= len(dst) {
			dst = append(dst, make([]uint64, w+1-len(dst))...)
		}
		dst[w] |= x
	}
	for _, c := range s.sorted {
		w := int(c >> 6)
		if w >= len(dst) {
			dst = append(dst, make([]uint64, w+1-len(dst))...)
		}
		dst[w] |= 1 << (c & 63)
	}
	return dst
}

func popcount(b []uint64) int {
	n := 0
	for _, x := range b {
		n += bits.OnesCount64(x)
	}
	return n
}
