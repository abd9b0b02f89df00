package outcomes

import (
	"slices"
	"testing"
	"time"
)

// Engagement counts each contact once per campaign and kind of touch, in
// the period only, across a campaign's artifacts and targets.
func TestEngagement(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	cat := Catalog{
		Campaigns: []Campaign{{ID: "cmp_a"}, {ID: "cmp_b"}},
		Artifacts: []Artifact{
			{ID: "eml_1", CampaignID: "cmp_a", Kind: "email", LiveIDs: map[string]string{"local": "eml_1"}},
			{ID: "eml_2", CampaignID: "cmp_a", Kind: "email", LiveIDs: map[string]string{"hubspot": "77"}},
			{ID: "eml_3", CampaignID: "cmp_b", Kind: "email", LiveIDs: map[string]string{"local": "eml_3"}},
		},
	}
	ev := func(id, typ, target, live, contact string, d time.Duration) Event {
		return Event{ID: id, Type: typ, Target: target, LiveID: live, Contact: contact, At: at.Add(d)}
	}
	a := NewAggregate()
	a.Add(
		ev("1", Sent, "local", "eml_1", "x@e.com", 0),
		ev("2", Sent, "hubspot", "77", "x@e.com", time.Hour), // same contact, same campaign
		ev("3", Sent, "local", "eml_1", "y@e.com", 0),
		ev("4", Open, "local", "eml_1", "x@e.com", 2*time.Hour),
		ev("5", Open, "local", "eml_1", "x@e.com", 3*time.Hour), // twice
		ev("6", Click, "hubspot", "77", "y@e.com", 2*time.Hour),
		ev("7", Sent, "local", "eml_3", "x@e.com", 0),
		ev("8", Sent, "local", "eml_3", "z@e.com", 40*24*time.Hour), // after the period
		ev("9", Sent, "local", "eml_9", "z@e.com", 0),               // not lastmile's
	)
	got := a.Engagement(cat, at, at.Add(30*24*time.Hour))
	want := map[string]Engagement{"cmp_a": {Sent: 2, Opened: 1, Clicked: 1}, "cmp_b": {Sent: 1}}
	if len(got) != len(want) || got["cmp_a"] != want["cmp_a"] || got["cmp_b"] != want["cmp_b"] {
		t.Fatalf("Engagement = %+v, want %+v", got, want)
	}
}

// Engagement's counts do not depend on how many touches are grouped at
// once: runs of one group, of a few, and all of them at once agree with
// counting each campaign's contacts in a map.
func TestEngagementInRuns(t *testing.T) {
	cat, events := collect(genConfig{seed: 5, campaigns: 12, emailsPer: 2, recipients: 200, contacts: 900, lift: 1})
	a := NewAggregate()
	a.Add(events...)
	ix := newIndex(cat)
	from, to := genStart.AddDate(0, 0, 20), genStart.AddDate(0, 0, 60)
	lo, hi := seconds(from), seconds(to)
	var names []string
	number := map[string]int{}
	for _, c := range cat.Campaigns {
		number[c.ID] = len(names)
		names = append(names, c.ID)
	}
	slot := func(t touch) int {
		k := t.kind()
		if k > 2 || t.at < lo || t.at >= hi {
			return -1
		}
		tg, _, ok := ix.resolve(&a.refs[t.refID()])
		if !ok {
			return -1
		}
		return number[tg.campaign]*3 + k
	}
	want := make([]int64, 3*len(names))
	seen := map[[2]int]bool{}
	for _, chunk := range a.touches {
		for _, tc := range chunk {
			if g := slot(tc); g >= 0 && !seen[[2]int{g, int(tc.contact)}] {
				seen[[2]int{g, int(tc.contact)}] = true
				want[g]++
			}
		}
	}
	if slices.Max(want) == 0 {
		t.Fatal("no touches in the period: the test counts nothing")
	}
	group := make([]int32, len(a.refs)<<kindBits)
	for r := range a.refs {
		for k := range 1 << kindBits {
			group[r<<kindBits|k] = int32(slot(touch{at: lo, ref: uint32(r<<kindBits | k)}))
		}
	}
	for _, batch := range []int{1, 37, 500, 1 << 30} {
		if got := distinctContacts(a, len(want), batch, group, lo, hi); !slices.Equal(got, want) {
			t.Errorf("in runs of %d touches: %v, want %v", batch, got, want)
		}
	}
}

// PeriodResults credits only the period's conversions, splitting pipeline
// (opportunities) from revenue (deals won, purchases), and agrees with
// Attribute's totals when the period holds everything.
func TestPeriodResults(t *testing.T) {
	cat, events := loadHistory(t, "../testdata/outcomes/attribution.json")
	a := NewAggregate()
	a.Add(events...)
	for _, m := range Models {
		all, err := a.PeriodResults(cat, Options{Model: m}, time.Time{}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		att, err := a.Attribute(cat, Options{Model: m})
		if err != nil {
			t.Fatal(err)
		}
		for _, tot := range att.Campaigns {
			r := all[tot.CampaignID]
			if r.Conversions != tot.Conversions {
				t.Errorf("%s %s: %v conversions, Attribute says %v", m, tot.CampaignID, r.Conversions, tot.Conversions)
			}
			var sum []Money
			for _, v := range append(append([]Money{}, r.Pipeline...), r.Revenue...) {
				found := false
				for i := range sum {
					if sum[i].Currency == v.Currency {
						sum[i].Minor += v.Minor
						found = true
					}
				}
				if !found {
					sum = append(sum, v)
				}
			}
			for _, v := range tot.Value {
				ok := false
				for _, s := range sum {
					ok = ok || s == v
				}
				if !ok {
					t.Errorf("%s %s: value %v, Attribute says %v", m, tot.CampaignID, sum, tot.Value)
				}
			}
		}
		none, _ := a.PeriodResults(cat, Options{Model: m}, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2000, 2, 1, 0, 0, 0, 0, time.UTC))
		if len(none) != 0 {
			t.Errorf("%s: results in an empty period: %v", m, none)
		}
	}
}

// A period's conversions are credited as they are in a longer one: the
// results of two halves add up to those of the whole, under every model
// (touches before the period still earn credit for conversions in it).
func TestPeriodResultsSplit(t *testing.T) {
	cat, events := loadHistory(t, "../testdata/outcomes/attribution.json")
	a := NewAggregate()
	a.Add(events...)
	var times []time.Time
	for _, c := range a.convs {
		times = append(times, c.at)
	}
	slices.SortFunc(times, time.Time.Compare)
	from, mid, to := time.Time{}, times[len(times)/2], time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, m := range Models {
		all, _ := a.PeriodResults(cat, Options{Model: m}, from, to)
		first, _ := a.PeriodResults(cat, Options{Model: m}, from, mid)
		second, _ := a.PeriodResults(cat, Options{Model: m}, mid, to)
		if len(first) == 0 || len(second) == 0 {
			t.Fatalf("%s: a half without results (%d, %d): the split tests nothing", m, len(first), len(second))
		}
		for id, r := range all {
			if got := first[id].Conversions + second[id].Conversions; got != r.Conversions {
				t.Errorf("%s %s: halves credit %v conversions, the whole %v", m, id, got, r.Conversions)
			}
		}
	}
}
