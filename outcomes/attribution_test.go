package outcomes

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// Set LASTMILE_UPDATE_GOLDEN=1 to rewrite the golden files after an
// intended change; review the diff like code.
const updateGoldenEnv = "LASTMILE_UPDATE_GOLDEN"

type historyFile struct {
	Description string  `json:"description"`
	Catalog     Catalog `json:"catalog"`
	Events      []Event `json:"events"`
}

func loadHistory(t *testing.T, path string) (Catalog, []Event) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var h historyFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return h.Catalog, h.Events
}

func golden(t *testing.T, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if os.Getenv(updateGoldenEnv) == "1" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with %s=1 to create it)", err, updateGoldenEnv)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the code gives now (run with %s=1 and review the diff):\n%s", path, updateGoldenEnv, got)
	}
}

// TestGoldenAttribution attributes a small hand-written history under
// each model.
func TestGoldenAttribution(t *testing.T) {
	cat, events := loadHistory(t, "../testdata/outcomes/attribution.json")
	for _, m := range Models {
		t.Run(string(m), func(t *testing.T) {
			res, err := Attribute(cat, events, Options{Model: m})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("../testdata/outcomes", "attribution."+string(m)+".golden.json"), res)
		})
	}
}

// TestAttributionCases spells out what the golden files hold, so that a
// careless update of them fails here.
func TestAttributionCases(t *testing.T) {
	cat, events := loadHistory(t, "../testdata/outcomes/attribution.json")
	credits := func(m Model) map[string][]Credit {
		res, err := Attribute(cat, events, Options{Model: m})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]Credit{}
		for _, c := range res.Conversions {
			out[c.EventID] = c.Credits
		}
		if len(res.Conversions) != 7 {
			t.Errorf("%s: %d conversions, want 7 (the repeated d4 once)", m, len(res.Conversions))
		}
		if !slices.Equal(res.Unknown, []TypeCount{{"survey_answered", 2}}) {
			t.Errorf("%s: unknown = %v", m, res.Unknown)
		}
		if got := res.Unattributed.EventIDs; !slices.Equal(got, []string{"f2", "e1"}) {
			t.Errorf("%s: unattributed = %v", m, got)
		}
		return out
	}
	who := func(cs []Credit) (ids []string) {
		for _, c := range cs {
			id := c.ArtifactID
			if id == "" {
				id = c.CampaignID
			}
			ids = append(ids, id+"="+c.Share.String())
		}
		return ids
	}
	for _, tc := range []struct {
		model Model
		conv  string
		want  []string
	}{
		// alice: the invite (Feb 25) is inside 30 days, her open of it
		// after the submission does not count; the page is the last touch
		// as the submission happened on it.
		{FirstTouch, "a6", []string{"eml_invite=1"}},
		{LastTouch, "a6", []string{"pg_offer=1"}},
		{Linear, "a6", []string{"eml_invite=0.334", "eml_launch=0.333", "pg_offer=0.333"}},
		// bob: the invite is 37 days old; the link names the launch email.
		{FirstTouch, "b3", []string{"eml_launch=1"}},
		{Linear, "b3", []string{"eml_launch=1"}},
		// carol: the launch email through its second target.
		{FirstTouch, "c3", []string{"eml_launch=1"}},
		{LastTouch, "c3", []string{"eml_invite=1"}},
		{Linear, "c3", []string{"eml_launch=0.5", "eml_invite=0.5"}},
		// dave: a page view tagged only with the campaign.
		{LastTouch, "d4", []string{"cmp_webinar=1"}},
		{Linear, "d4", []string{"eml_invite=0.5", "cmp_webinar=0.5"}},
		{Linear, "g4", []string{"eml_launch=0.334", "eml_invite=0.333", "pg_offer=0.333"}},
		{Linear, "e1", nil},
		{Linear, "f2", nil},
	} {
		if got := who(credits(tc.model)[tc.conv]); !slices.Equal(got, tc.want) {
			t.Errorf("%s %s: %v, want %v", tc.model, tc.conv, got, tc.want)
		}
	}
	lin := credits(Linear)
	var vals []int64
	for _, c := range lin["c3"] {
		vals = append(vals, c.Value.Minor)
	}
	if !slices.Equal(vals, []int64{5001, 5000}) {
		t.Errorf("carol's 100.01 EUR split as %v", vals)
	}
	if ids := lin["a6"][1].Touches; len(ids) != 3 || ids[0].EventID != "a2" || ids[2].EventID != "a4" {
		t.Errorf("alice's launch touches = %+v", ids)
	}
}

// TestLinearSplitsExactly checks on random conversions that a linear
// model's shares add up to one conversion and its money to the value, to
// the minor unit, negative amounts (refunds) included.
func TestLinearSplitsExactly(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for range 200 {
		var cat Catalog
		var events []Event
		n := 1 + rng.IntN(9)
		for i := range n {
			id := "eml_" + string(rune('a'+i))
			cat.Artifacts = append(cat.Artifacts, Artifact{ID: id, CampaignID: "cmp_x", Kind: "email", LiveIDs: map[string]string{"local": id}})
			events = append(events, Event{ID: "t" + id, Type: Sent, Contact: "x@example.com", Target: "local", LiveID: id, At: at.Add(time.Duration(i) * time.Hour)})
		}
		value := Money{Minor: rng.Int64N(2_000_001) - 1_000_000, Currency: "USD"}
		events = append(events, Event{ID: "conv", Type: Purchase, Contact: "x@example.com", At: at.Add(24 * time.Hour), Value: &value})
		res, err := Attribute(cat, events, Options{Model: Linear})
		if err != nil {
			t.Fatal(err)
		}
		var shares Share
		var minor int64
		for _, c := range res.Conversions[0].Credits {
			shares += c.Share
			minor += c.Value.Minor
		}
		if len(res.Conversions[0].Credits) != n || shares != 1000 || minor != value.Minor {
			t.Fatalf("%d touches, %v: %d credits, shares %v, money %d", n, value, len(res.Conversions[0].Credits), shares, minor)
		}
		if tot := res.Campaigns[0]; tot.Conversions != 1000 || tot.Value[0] != value {
			t.Fatalf("campaign total %+v, want 1 and %v", tot, value)
		}
	}
}

// TestOrderDoesNotMatter gives the same events and catalog in other
// orders, also through separate Add calls, and wants the same answers.
func TestOrderDoesNotMatter(t *testing.T) {
	cat, events := collect(genConfig{seed: 3, campaigns: 4, emailsPer: 2, recipients: 60, contacts: 150, lift: 1})
	cat2, events2 := loadHistory(t, "../testdata/outcomes/attribution.json")
	cat.Campaigns = append(cat.Campaigns, cat2.Campaigns...)
	cat.Artifacts = append(cat.Artifacts, cat2.Artifacts...)
	events = append(events, events2...)
	answers := func(cat Catalog, events []Event) string {
		a := NewAggregate()
		for len(events) > 0 {
			k := min(len(events), 37)
			a.Add(events[:k]...)
			events = events[k:]
		}
		var out []any
		for _, m := range Models {
			at, err := a.Attribute(cat, Options{Model: m})
			if err != nil {
				t.Fatal(err)
			}
			in, err := a.Insights(cat, Options{Model: m})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, at, in)
		}
		for _, s := range append(genSegments, "") {
			note, err := a.Note(cat, Options{}, s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, note)
		}
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	want := answers(cat, events)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3 {
		rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
		rng.Shuffle(len(cat.Artifacts), func(i, j int) { cat.Artifacts[i], cat.Artifacts[j] = cat.Artifacts[j], cat.Artifacts[i] })
		rng.Shuffle(len(cat.Campaigns), func(i, j int) { cat.Campaigns[i], cat.Campaigns[j] = cat.Campaigns[j], cat.Campaigns[i] })
		if got := answers(cat, events); got != want {
			t.Fatal("another order of the same events gives other answers")
		}
	}
}

func TestOptions(t *testing.T) {
	if _, err := NewAggregate().Attribute(Catalog{}, Options{Model: "time_decay"}); err == nil {
		t.Error("an unknown model is accepted")
	}
	res, err := NewAggregate().Attribute(Catalog{}, Options{})
	if err != nil || res.Model != LastTouch || res.Window != "30 days" {
		t.Errorf("defaults: %v %q, %v", res.Model, res.Window, err)
	}
	for s, want := range map[Share]string{1000: "1", 500: "0.5", 12333: "12.333", 0: "0", -250: "-0.25", 10: "0.01"} {
		if s.String() != want {
			t.Errorf("Share(%d) = %q, want %q", s, s.String(), want)
		}
	}
}

// TestCampaignTrace asks for one campaign's report: totals for all, the
// conversions and event ids of that campaign only.
func TestCampaignTrace(t *testing.T) {
	cat, events := loadHistory(t, "../testdata/outcomes/attribution.json")
	all, err := Attribute(cat, events, Options{Model: Linear})
	if err != nil {
		t.Fatal(err)
	}
	one, err := Attribute(cat, events, Options{Model: Linear, Campaign: "cmp_webinar"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range one.Conversions {
		ids = append(ids, c.EventID)
	}
	if !slices.Equal(ids, []string{"a6", "g4", "c3", "d4"}) {
		t.Errorf("conversions listed: %v", ids)
	}
	for i, tot := range one.Campaigns {
		want := all.Campaigns[i]
		if tot.CampaignID == "cmp_webinar" {
			if !slices.Equal(tot.EventIDs, want.EventIDs) {
				t.Errorf("cmp_webinar event ids %v, want %v", tot.EventIDs, want.EventIDs)
			}
		} else if len(tot.EventIDs) != 0 {
			t.Errorf("%s lists event ids in another campaign's report", tot.CampaignID)
		}
		if tot.Conversions != want.Conversions || !slices.Equal(tot.Value, want.Value) {
			t.Errorf("%s: %v %v, want %v %v", tot.CampaignID, tot.Conversions, tot.Value, want.Conversions, want.Value)
		}
	}
}

// A form submitted on a landing page is a touch of that page for what the
// contact does later: a purchase three days on is the page's under
// last-touch, and the submission itself is listed once among its touches.
func TestFormSubmissionTouchesLaterConversions(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	cat := Catalog{
		Campaigns: []Campaign{{ID: "cmp_x"}},
		Artifacts: []Artifact{{ID: "pg_signup", CampaignID: "cmp_x", Kind: "page", LiveIDs: map[string]string{"local": "pg_signup"}}},
	}
	v := Money{Minor: 4900, Currency: "USD"}
	events := []Event{
		{ID: "s1", Type: FormSubmission, Source: "local", Target: "local", LiveID: "pg_signup", Contact: "v@example.org", At: at},
		{ID: "p1", Type: Purchase, Source: "local", Contact: "v@example.org", At: at.Add(72 * time.Hour), Value: &v},
	}
	res, err := Attribute(cat, events, Options{Model: LastTouch})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Conversions) != 2 {
		t.Fatalf("%d conversions", len(res.Conversions))
	}
	for _, c := range res.Conversions {
		if len(c.Credits) != 1 || c.Credits[0].ArtifactID != "pg_signup" {
			t.Fatalf("%s credits %+v, want the page", c.EventID, c.Credits)
		}
		if c.EventID == "s1" && len(c.Credits[0].Touches) != 1 {
			t.Errorf("the submission's touches: %+v, want itself once", c.Credits[0].Touches)
		}
	}
	if res.Campaigns[0].Value[0] != v {
		t.Errorf("the campaign's value: %v", res.Campaigns[0].Value)
	}
}

// A campaign's own utm_content follows the artifact's id after a dot
// (sandbox.Final); the click is still the artifact's.
func TestResolveContentAfterArtifactID(t *testing.T) {
	ix := newIndex(Catalog{Campaigns: []Campaign{{ID: "cmp_a", UTMCampaign: "spring"}}, Artifacts: []Artifact{{ID: "eml_a", CampaignID: "cmp_a"}}})
	for content, want := range map[string]string{"eml_a": "eml_a", "eml_a.hero": "eml_a", "hero": "", "eml_b.hero": ""} {
		got, _, ok := ix.resolve(&ref{utmCampaign: "spring", utmContent: content})
		if !ok || got.campaign != "cmp_a" || got.artifact != want {
			t.Errorf("utm_content=%s: %+v, %v; want artifact %q of cmp_a", content, got, ok, want)
		}
	}
}
