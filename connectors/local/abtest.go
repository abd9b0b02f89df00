package local

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/liquid"
	"github.com/lastmile/lastmile/sandbox"
)

// An A/B test on local runs in two sends of one email. The first (at the
// send, or at send_at) splits the approved audience by recipient key:
// test_percent of it gets the variants, evenly; the rest waits, and the
// record says "testing". At decide_after the clock (Tick) counts unique
// opens or clicks per variant from events.jsonl, records the winner, then
// sends it to everyone not mailed yet. Both sends are deliver: a recipient
// with a message file or a sent event is never mailed again, and the
// winner is written to the record before any of its messages, so a crash
// at any point resumes without a second message or a second decision.

// abState is an A/B test's progress in the live record.
type abState struct {
	// DecideAt is when the winner is picked: the test send's time plus
	// decide_after.
	DecideAt time.Time `json:"decide_at"`
	Tested   int       `json:"tested"` // messages of the test send
	// Winner is the variant picked, set before the rest are mailed.
	Winner  string              `json:"winner,omitempty"`
	Results map[string]abResult `json:"results,omitempty"` // by variant, at the decision
	// Cancelled: the rest's send was taken back (retire_artifact).
	Cancelled bool `json:"cancelled,omitempty"`
}

// abResult is one variant's test figures at the decision.
type abResult struct {
	Sent   int `json:"sent"`
	Opened int `json:"opened"` // unique recipients
	Click  int `json:"clicked"`
}

// abPlan is what one deliver sends each recipient of an A/B email.
type abPlan struct {
	id       string
	variants []*sandbox.Email
	percent  int
	winner   int // -1 in the test send
}

// abPlanOf returns the A/B plan of a send of rec, or nil for a plain email.
func abPlanOf(id string, rec *liveEmail) *abPlan {
	vs := rec.Email.Variants()
	if vs == nil {
		return nil
	}
	p := &abPlan{id: id, variants: vs, percent: rec.Email.ABTest.TestPercent, winner: -1}
	if rec.AB != nil && rec.AB.Winner != "" {
		p.winner = int(rec.AB.Winner[0] - 'a')
	}
	return p
}

// testing reports whether this send is the test's.
func (p *abPlan) testing() bool { return p != nil && p.winner < 0 }

// pick says which variant addr gets in this send: in the test send, its
// variant when addr is in the test group, else hold (it waits for the
// winner); in the winner's send, the winner.
func (p *abPlan) pick(addr string) (variant int, hold bool) {
	if p.winner >= 0 {
		return p.winner, false
	}
	return testGroup(p.id, addr, p.percent, len(p.variants))
}

// testGroup places a recipient deterministically, by its recipient key
// and the email's id (so the same people are not the testers of every
// email): in the test group with probability percent/100, then in one of n
// variants evenly.
func testGroup(emailID, addr string, percent, n int) (variant int, hold bool) {
	sum := sha256.Sum256([]byte(emailID + "\x00" + sandbox.RecipientKey(addr)))
	x := binary.BigEndian.Uint64(sum[:8]) % 10000
	if x >= uint64(percent)*100 {
		return 0, true
	}
	return int(x % uint64(n)), false
}

// variantMessage is message with the variant recorded in a header.
func variantMessage(variant string, msg []byte) []byte {
	if variant == "" {
		return msg
	}
	return append([]byte("X-Lastmile-Variant: "+variant+"\r\n"), msg...)
}

// decide picks the winner of rec's test from events.jsonl: the variant
// with the highest share of its test recipients who opened (or clicked),
// compared exactly (cross-multiplied counts). A tie goes to the earlier
// variant, so a test nobody engaged with sends variant a, the email as
// written.
func (t *Target) decide(id string, rec *liveEmail) (string, map[string]abResult, error) {
	n := len(rec.Email.ABTest.Variants) + 1
	variantOf := map[string]string{}
	engaged := map[string]bool{}
	want := "open"
	if rec.Email.ABTest.Winner == sandbox.WinnerClicks {
		want = "click"
	}
	err := t.ReadEvents(func(e Event) {
		if e.Artifact != id {
			return
		}
		switch {
		case e.Type == "sent" && e.Variant != "":
			variantOf[e.Email] = e.Variant
		case e.Type == want:
			engaged[e.Email] = true
		}
	})
	if err != nil {
		return "", nil, err
	}
	res := map[string]abResult{}
	for addr, v := range variantOf {
		r := res[v]
		r.Sent++
		if engaged[addr] {
			if want == "open" {
				r.Opened++
			} else {
				r.Click++
			}
		}
		res[v] = r
	}
	score := func(r abResult) int { return r.Opened + r.Click }
	best := "a"
	for i := 1; i < n; i++ {
		v, b := sandbox.VariantName(i), res[best]
		r := res[v]
		// r beats b when score(r)/r.Sent > score(b)/b.Sent; a variant
		// nobody got scores nothing.
		if r.Sent > 0 && (b.Sent == 0 || score(r)*b.Sent > score(b)*r.Sent) {
			best = v
		}
	}
	return best, res, nil
}

// tickABTest picks the winner of a test whose time came and sends it to
// the rest.
func (t *Target) tickABTest(ctx context.Context, id string, rec *liveEmail, now time.Time) (bool, error) {
	if rec.Status != "testing" || rec.AB == nil || rec.AB.Cancelled || rec.AB.DecideAt.After(now) {
		return false, nil
	}
	if rec.AB.Winner == "" {
		w, res, err := t.decide(id, rec)
		if err != nil {
			return false, fmt.Errorf("local: decide the A/B test of %s: %w", id, err)
		}
		rec.AB.Winner, rec.AB.Results = w, res
		// Recorded before the first message to the rest: a resumed send
		// sends the same winner, whatever events arrive meanwhile.
		if _, err := t.writeJSON(t.recordPath(sandbox.KindEmail, id), rec); err != nil {
			return false, fmt.Errorf("local: decide the A/B test of %s: %w", id, err)
		}
		t.hook("ab-decided:" + id)
	}
	return true, ctx.Err()
}

// abUnrenderable is unrenderable for the variants beyond a.
func abUnrenderable(e *sandbox.Email) []string {
	var out []string
	for i, v := range e.Variants() {
		if i == 0 {
			continue
		}
		fields := map[string]string{"subject": v.Subject, "preview_text": v.PreviewText, "html": v.HTML, "text": v.Text}
		for _, name := range slices.Sorted(maps.Keys(fields)) {
			for _, u := range liquid.Unrenderable("local", fields[name]) {
				out = append(out, fmt.Sprintf("local cannot render %s in variant %s's %s: %s; recipients would see it as written", termsafe.Text(u.Text, 60), sandbox.VariantName(i), name, u.Why))
			}
		}
	}
	return out
}

// sendWinner mails the decided winner to everyone of the approved audience
// not mailed yet, dated at the decision.
func (t *Target) sendWinner(ctx context.Context, id string, rec *liveEmail, rep *sandbox.TickReport) error {
	var allow *sandbox.RecipientSet
	if !rec.AllowAll {
		allow = sandbox.NewRecipientSet(rec.Allowed)
	}
	before := rec.Recipients
	if _, err := t.deliver(ctx, id, rec, rec.Segments, allow, rec.AB.DecideAt.UTC()); err != nil {
		return err
	}
	rep.Sent += rec.Recipients - before
	return nil
}

// abAgg counts an A/B email's events per variant: each recipient's sent
// event says its variant, and what they did after counts for it.
type abAgg struct {
	n         int
	winner    string
	variantOf map[string]string
	byAddr    map[string]map[string]int64 // address → counter → n
}

// abAggOf returns an aggregator for a live A/B email, nil for any other.
func (t *Target) abAggOf(id string) (*abAgg, error) {
	var rec liveEmail
	if found, err := readJSON(t.recordPath(sandbox.KindEmail, id), &rec); err != nil || !found || rec.Email.ABTest == nil {
		return nil, err
	}
	a := &abAgg{n: len(rec.Email.ABTest.Variants) + 1, variantOf: map[string]string{}, byAddr: map[string]map[string]int64{}}
	if rec.AB != nil {
		a.winner = rec.AB.Winner
	}
	return a, nil
}

var abCounter = map[string]string{
	"sent": sandbox.MetricSent, "delivered": sandbox.MetricDelivered, "open": sandbox.MetricOpens, "click": sandbox.MetricClicks,
	"bounce": sandbox.MetricBounces, "unsubscribe": sandbox.MetricUnsubscribes, "spam_report": sandbox.MetricSpamReports,
}

func (a *abAgg) add(e Event) {
	if a == nil {
		return
	}
	k, ok := abCounter[e.Type]
	if !ok || e.Email == "" {
		return
	}
	if e.Type == "sent" && e.Variant != "" {
		a.variantOf[e.Email] = e.Variant
	}
	c := a.byAddr[e.Email]
	if c == nil {
		c = map[string]int64{}
		a.byAddr[e.Email] = c
	}
	c[k]++
}

// counters groups the recipients' counts by their variant; every variant
// is listed, those nobody got with zeros.
func (a *abAgg) counters() map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	for i := 0; i < a.n; i++ {
		out[sandbox.VariantName(i)] = map[string]int64{}
	}
	for addr, c := range a.byAddr {
		v, ok := a.variantOf[addr]
		if !ok || out[v] == nil {
			continue // a recipient without a variant: counted for the email only
		}
		for k, n := range c {
			out[v][k] += n
		}
		if c[sandbox.MetricOpens] > 0 {
			out[v][sandbox.MetricUniqueOpens]++
		}
		if c[sandbox.MetricClicks] > 0 {
			out[v][sandbox.MetricUniqueClicks]++
		}
	}
	return out
}

// abNote tells the approver how local runs the test, and what it needs.
func abNote(ab *sandbox.ABTest) string {
	return fmt.Sprintf("local mails the test to the recipients its split (by recipient key) puts in the %d%%, then, %s later by lastmile's clock, the winner by unique %s to the rest: lastmile serve or lastmile run must be running", ab.TestPercent, ab.Wait(), ab.Winner)
}
