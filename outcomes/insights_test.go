package outcomes

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestGoldenInsights finds what worked in a small generated history and
// what create_email would be told for each of its segments.
func TestGoldenInsights(t *testing.T) {
	cat, events := loadHistory(t, "../testdata/outcomes/history.json")
	in, err := EmailInsights(cat, events, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := NewAggregate()
	a.Add(events...)
	notes := map[string]string{}
	for _, s := range []string{"", "Customers", "Trial users", "Newsletter", "Nobody"} {
		if notes[s], err = a.Note(cat, Options{}, s); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, "../testdata/outcomes/insights.golden.json", map[string]any{"insights": in, "notes": notes})
	var statements []string
	for _, c := range in.Claims {
		statements = append(statements, c.Statement)
	}
	// The first claims, spelled out so that an update of the golden file
	// that changes them is noticed.
	want := []string{
		"Subjects with a question: open rate 48.5% [41.6–55.5%], n=198, above the rest's 18.7% [13.8–24.7%], n=198.",
	}
	if len(statements) < len(want) || !slices.Equal(statements[:len(want)], want) {
		t.Errorf("claims begin %q,\nwant %q", statements, want)
	}
}

func TestWilson(t *testing.T) {
	for _, tc := range []struct {
		s, n      int64
		low, high float64
	}{
		// Reference values from the closed form (Wilson 1927; e.g.
		// statsmodels proportion_confint(method="wilson")).
		{0, 10, 0, 0.2775},
		{5, 10, 0.2366, 0.7634},
		{10, 10, 0.7225, 1},
		{81, 263, 0.2553, 0.3662},
	} {
		r := NewRate(tc.s, tc.n)
		if math.Abs(r.Low-tc.low) > 5e-5 || math.Abs(r.High-tc.high) > 5e-5 {
			t.Errorf("Wilson(%d, %d) = [%.4f, %.4f], want [%.4f, %.4f]", tc.s, tc.n, r.Low, r.High, tc.low, tc.high)
		}
	}
	if r := NewRate(0, 0); r != (Rate{}) {
		t.Errorf("no recipients: %+v", r)
	}
}

// TestNoClaimWithoutSeparation generates random histories, some where
// features matter and some where they do not, and checks every claim: its
// intervals do not overlap, both sides have the minimum sample, and its
// figures are what a direct count of the events gives.
func TestNoClaimWithoutSeparation(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 42))
	claims := 0
	for i := range 60 {
		cfg := genConfig{
			seed: uint64(i), campaigns: 2 + rng.IntN(8), emailsPer: 1 + rng.IntN(3),
			recipients: 5 + rng.IntN(120), contacts: 50 + rng.IntN(500), lift: rng.Float64() * 2,
		}
		if i%4 == 0 {
			cfg.lift = 0
		}
		opt := Options{MinSample: 1 + rng.IntN(60)}
		cat, events := collect(cfg)
		in, err := EmailInsights(cat, events, opt)
		if err != nil {
			t.Fatal(err)
		}
		direct := countDirectly(cat, events)
		for _, c := range in.Claims {
			claims++
			if !(c.In.Low > c.Rest.High || c.In.High < c.Rest.Low) {
				t.Fatalf("%+v: a claim whose intervals overlap", c)
			}
			if c.In.N < int64(opt.MinSample) || c.Rest.N < int64(opt.MinSample) {
				t.Fatalf("%+v: below the minimum sample %d", c, opt.MinSample)
			}
			if c.Metric == ConversionRate {
				continue
			}
			var s, n int64
			for _, id := range c.Emails {
				d := direct[id]
				n += d.n
				s += d.s[slices.Index(metrics[:], c.Metric)]
			}
			if s != c.In.Successes || n != c.In.N {
				t.Fatalf("%s: %d of %d, counted directly %d of %d", c.Statement, c.In.Successes, c.In.N, s, n)
			}
			base := in.Baseline[c.Metric]
			if c.In.N+c.Rest.N != base.N || c.In.Successes+c.Rest.Successes != base.Successes {
				t.Fatalf("%s: in and rest do not make the baseline %+v", c.Statement, base)
			}
			if !strings.Contains(c.Statement, percent(c.In)) || !strings.Contains(c.Statement, percent(c.Rest)) {
				t.Fatalf("%q does not show its intervals", c.Statement)
			}
		}
	}
	if claims < 50 {
		t.Errorf("only %d claims over all histories: the test tests little", claims)
	}
}

// countDirectly counts each email's recipients, openers and clickers
// from the events, the slow obvious way.
func countDirectly(cat Catalog, events []Event) map[string]emailStat {
	byLive := map[[2]string]string{}
	for _, a := range cat.Artifacts {
		for tgt, live := range a.LiveIDs {
			byLive[[2]string{tgt, live}] = a.ID
		}
	}
	sets := map[string]map[string]map[string]bool{}
	for _, e := range events {
		id, ok := byLive[[2]string{e.Target, e.LiveID}]
		if !ok || e.Contact == "" {
			continue
		}
		if sets[id] == nil {
			sets[id] = map[string]map[string]bool{}
		}
		if sets[id][e.Type] == nil {
			sets[id][e.Type] = map[string]bool{}
		}
		sets[id][e.Type][e.Contact] = true
	}
	out := map[string]emailStat{}
	for id, s := range sets {
		n := int64(len(s[Delivered]))
		if n == 0 {
			n = int64(len(s[Sent]))
		}
		out[id] = emailStat{n: n, s: [3]int64{min(n, int64(len(s[Open]))), min(n, int64(len(s[Click])))}}
	}
	return out
}

func TestFeatures(t *testing.T) {
	opt, _ := Options{}.withDefaults()
	art := &Artifact{
		Subject:  `{{ contact.first_name | default: "Friend" }}, ready for 2027?`,
		SentAt:   genStart.Add(3*24*time.Hour + 14*time.Hour),
		Segments: []string{"B", "A", "B"},
		CTA:      "  Book   a Demo ",
		Template: "newsletter",
	}
	got := featuresOf(art, opt)
	want := [][2]string{
		{FeatureSubjectLength, "short"}, {FeatureSubjectQuestion, "yes"}, {FeatureSubjectNumber, "yes"},
		{FeatureSubjectPersonalized, "yes"}, {FeatureWeekday, "Thursday"}, {FeatureHour, "12-18"},
		{FeatureSegment, "A"}, {FeatureSegment, "B"}, {FeatureCTA, "book a demo"}, {FeatureTemplate, "newsletter"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("features\n%v\nwant\n%v", got, want)
	}
}

func TestNoteThinHistory(t *testing.T) {
	cat, events := collect(genConfig{seed: 1, campaigns: 1, emailsPer: 1, recipients: 10, contacts: 20})
	a := NewAggregate()
	a.Add(events...)
	if note, err := a.Note(cat, Options{}, "Customers"); err != nil || note != "" {
		t.Errorf("10 recipients: note %q, %v", note, err)
	}
	if note, _ := a.Note(cat, Options{MinSample: 5}, ""); !strings.HasPrefix(note, "From your history: emails open at ") {
		t.Errorf("note %q", note)
	}
}
