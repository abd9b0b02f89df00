package hubspot

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/sandbox"
)

func eventIDs(evs []outcomes.Event) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	slices.Sort(ids)
	return ids
}

func byID(evs []outcomes.Event) map[string]outcomes.Event {
	m := map[string]outcomes.Event{}
	for _, e := range evs {
		m[e.ID] = e
	}
	return m
}

// TestOutcomesDeals: deals associated with reached contacts become
// opportunity_created and deal_won events with exact money, the same IDs
// on every read; a deal of a contact lastmile did not reach is not
// reported; a contact's latest conversion is a form_submission.
func TestOutcomesDeals(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	srv := e.srv
	srv.SetCompanyCurrency("EUR")
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	open := srv.AddDeal(hubspottest.Deal{Name: "Ada's pilot", Amount: "1200.50", Currency: "USD", Created: t0, Contacts: []string{"ada@example.com"}})
	won := srv.AddDeal(hubspottest.Deal{Name: "Grace's plan", Amount: "5000", Created: t0.Add(time.Hour),
		Closed: t0.Add(48 * time.Hour), Won: true, Contacts: []string{"Grace@Example.com"}})
	shared := srv.AddDeal(hubspottest.Deal{Name: "Shared", Amount: "99.999", Currency: "USD", Created: t0.Add(2 * time.Hour),
		Contacts: []string{"grace@example.com", "ada@example.com"}})
	yen := srv.AddDeal(hubspottest.Deal{Name: "Tokyo", Amount: "150000", Currency: "JPY", Created: t0, Contacts: []string{"ada@example.com"}})
	none := srv.AddDeal(hubspottest.Deal{Name: "No amount", Created: t0, Contacts: []string{"ada@example.com"}})
	srv.AddDeal(hubspottest.Deal{Name: "Not ours", Amount: "777", Created: t0, Contacts: []string{"alan@example.com"}})
	srv.SetContactProperties("grace@example.com", map[string]string{"recent_conversion_date": "2027-03-02T10:00:00.000Z", "recent_conversion_event_name": "Demo request"})

	req := sandbox.OutcomesRequest{Contacts: []string{"ada@example.com", "GRACE@example.com", "nobody@example.com"}}
	evs, next, err := e.target.Outcomes(ctx(), req)
	if err != nil {
		t.Fatal(e.note(err))
	}
	id := func(deal, what string) string { return "hubspot:deal:" + deal + ":" + what }
	conv := "hubspot:contact:" + srv.AddContacts("grace@example.com")[0] + ":conversion:" + fmt.Sprint(time.Date(2027, 3, 2, 10, 0, 0, 0, time.UTC).UnixMilli())
	want := map[string]struct {
		typ, contact string
		at           time.Time
		value        *outcomes.Money
	}{
		id(open, "created"):   {outcomes.OpportunityCreated, "ada@example.com", t0, &outcomes.Money{Minor: 120050, Currency: "USD"}},
		id(won, "created"):    {outcomes.OpportunityCreated, "grace@example.com", t0.Add(time.Hour), &outcomes.Money{Minor: 500000, Currency: "EUR"}},
		id(won, "won"):        {outcomes.DealWon, "grace@example.com", t0.Add(48 * time.Hour), &outcomes.Money{Minor: 500000, Currency: "EUR"}},
		id(shared, "created"): {outcomes.OpportunityCreated, "ada@example.com", t0.Add(2 * time.Hour), &outcomes.Money{Minor: 10000, Currency: "USD"}},
		id(yen, "created"):    {outcomes.OpportunityCreated, "ada@example.com", t0, &outcomes.Money{Minor: 150000, Currency: "JPY"}},
		id(none, "created"):   {outcomes.OpportunityCreated, "ada@example.com", t0, nil},
		conv:                  {outcomes.FormSubmission, "grace@example.com", time.Date(2027, 3, 2, 10, 0, 0, 0, time.UTC), nil},
	}
	got := byID(evs)
	if len(evs) != len(want) || len(got) != len(want) {
		t.Fatalf("got %d events %v, want %d", len(evs), eventIDs(evs), len(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("missing event %s; got %v", k, eventIDs(evs))
			continue
		}
		if g.Type != w.typ || g.Contact != w.contact || !g.At.Equal(w.at) || g.Target != "hubspot" {
			t.Errorf("%s = %+v, want type %s contact %s at %s", k, g, w.typ, w.contact, w.at)
		}
		switch {
		case w.value == nil && g.Value != nil:
			t.Errorf("%s has value %v, want none", k, g.Value)
		case w.value != nil && (g.Value == nil || *g.Value != *w.value):
			t.Errorf("%s value = %v, want %v", k, g.Value, w.value)
		}
	}
	if next == "" {
		t.Error("no cursor after a read that saw deals")
	}

	again, _, err := e.target.Outcomes(ctx(), req)
	if err != nil {
		t.Fatal(e.note(err))
	}
	if !slices.Equal(eventIDs(again), eventIDs(evs)) {
		t.Errorf("a second read has other IDs:\n%v\n%v", eventIDs(again), eventIDs(evs))
	}

	// The cursor leaves out what did not change; a deal won since comes back.
	if later, _, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Contacts: req.Contacts, Cursor: next}); err != nil || len(later) != 0 {
		t.Fatalf("read after the cursor: %v, %v; want nothing", eventIDs(later), err)
	}
	srv.UpdateDeal(open, hubspottest.Deal{Name: "Ada's pilot", Amount: "1200.50", Currency: "USD", Created: t0,
		Closed: t0.Add(72 * time.Hour), Won: true, Contacts: []string{"ada@example.com"}})
	later, next2, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Contacts: req.Contacts, Cursor: next})
	if err != nil {
		t.Fatal(e.note(err))
	}
	if ids := eventIDs(later); !slices.Equal(ids, []string{id(open, "created"), id(open, "won")}) {
		t.Errorf("after the deal was won: %v", ids)
	}
	if next2 <= next {
		t.Errorf("cursor did not move: %q then %q", next, next2)
	}
	if _, _, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Contacts: req.Contacts, Cursor: "yesterday"}); err == nil {
		t.Error("a cursor this connector did not make was accepted")
	}
}

// TestOutcomesPaging: more than 100 reached contacts and deals, and a
// contact with more deals than one page of associations, are read in
// HubSpot's batches, within the portal's rate limit.
func TestOutcomesPaging(t *testing.T) {
	e := newEnv(t, hubspottest.Options{RateLimit: 4, Window: 200 * time.Millisecond}, Config{}, WithRateWindow(200*time.Millisecond))
	srv := e.srv
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	var reached []string
	for i := range 230 {
		addr := fmt.Sprintf("c%03d@example.com", i)
		reached = append(reached, addr)
		srv.AddDeal(hubspottest.Deal{Name: addr, Amount: "10", Currency: "USD", Created: t0, Contacts: []string{addr}})
	}
	for i := range 2*hubspottest.AssociationPage + 5 {
		srv.AddDeal(hubspottest.Deal{Name: fmt.Sprintf("big %d", i), Amount: "1.25", Currency: "GBP", Created: t0, Contacts: []string{"c000@example.com"}})
	}
	srv.ResetStats()
	evs, _, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Contacts: reached})
	if err != nil {
		t.Fatal(e.note(err))
	}
	wantDeals := 230 + 2*hubspottest.AssociationPage + 5
	if len(evs) != wantDeals {
		t.Fatalf("got %d events, want %d", len(evs), wantDeals)
	}
	var usd, gbp int64
	for _, ev := range evs {
		switch ev.Value.Currency {
		case "USD":
			usd += ev.Value.Minor
		case "GBP":
			gbp += ev.Value.Minor
		}
	}
	if usd != 230*1000 || gbp != int64(2*hubspottest.AssociationPage+5)*125 {
		t.Errorf("sums: %d USD cents, %d GBP pence", usd, gbp)
	}
	st := srv.Stats()
	if st.Calls["contacts.read"] != 3 || st.Calls["associations.read"] != 3 || st.Calls["deals.read"] != (wantDeals+99)/100 {
		t.Errorf("calls: %v", st.Calls)
	}
	if st.Served429 != 0 {
		t.Errorf("the fake answered %d 429s: the limiter let requests over the portal's limit", st.Served429)
	}
}

// TestOutcomesAuth: a connection without the deals scope, and one whose
// token HubSpot no longer accepts, fail with errors that say how to fix it.
func TestOutcomesAuth(t *testing.T) {
	var scopes []string
	for _, s := range hubspottest.AllScopes {
		if s != "crm.objects.deals.read" {
			scopes = append(scopes, s)
		}
	}
	e := newEnv(t, hubspottest.Options{Scopes: scopes}, Config{})
	e.srv.AddDeal(hubspottest.Deal{Name: "d", Amount: "1", Contacts: []string{"ada@example.com"}})
	_, next, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Contacts: []string{"ada@example.com"}, Cursor: "2027-01-01T00:00:00Z"})
	e.note(err)
	if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "crm.objects.deals.read") || !strings.Contains(err.Error(), "lastmile connect hubspot") {
		t.Errorf("missing scope: %v", err)
	}
	if next != "2027-01-01T00:00:00Z" {
		t.Errorf("a failed read moved the cursor to %q", next)
	}

	e2 := newEnv(t, hubspottest.Options{}, Config{})
	e2.target.auth.c.AccessToken = "pat-na1-revoked"
	_, _, err = e2.target.Outcomes(ctx(), sandbox.OutcomesRequest{Contacts: []string{"ada@example.com"}})
	e2.note(err)
	if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "reconnect with lastmile connect hubspot") {
		t.Errorf("rejected token: %v", err)
	}
}

// TestOutcomesListMembers: with no reached contacts named, the members of
// the lists lastmile made are the reached contacts: their deals and
// conversions are reported, those of contacts in no lastmile list are
// not; named contacts are added to them, each contact read once; a list
// deleted in HubSpot since is skipped.
func TestOutcomesListMembers(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	srv := e.srv
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	srv.AddContacts("ada@example.com", "grace@example.com", "bob@example.com")
	m := must[sandbox.LiveState](t, e)
	ours := m(e.target.Put(ctx(), segmentObj("seg_beta", "Beta testers", sandbox.Segment{StaticEmails: []string{"ada@example.com", "Grace@example.com"}}), ""))
	// A list lastmile does not count as its own (not among req.Items).
	m(e.target.Put(ctx(), segmentObj("seg_other", "Someone else's", sandbox.Segment{StaticEmails: []string{"bob@example.com"}}), ""))
	ada := srv.AddDeal(hubspottest.Deal{Name: "Ada's pilot", Amount: "100", Currency: "USD", Created: t0, Contacts: []string{"ada@example.com"}})
	grace := srv.AddDeal(hubspottest.Deal{Name: "Grace's plan", Amount: "200", Currency: "USD", Created: t0, Closed: t0.Add(time.Hour), Won: true, Contacts: []string{"grace@example.com"}})
	srv.AddDeal(hubspottest.Deal{Name: "Bob's", Amount: "300", Currency: "USD", Created: t0, Contacts: []string{"bob@example.com"}})
	srv.AddDeal(hubspottest.Deal{Name: "Alan's", Amount: "400", Currency: "USD", Created: t0, Contacts: []string{"alan@example.com"}})
	carol := srv.AddDeal(hubspottest.Deal{Name: "Carol's", Amount: "500", Currency: "USD", Created: t0, Contacts: []string{"carol@example.com"}})
	srv.SetContactProperties("grace@example.com", map[string]string{"recent_conversion_date": "2027-03-02T10:00:00.000Z"})

	items := []sandbox.MetricsItem{
		{ArtifactID: "seg_beta", Kind: sandbox.KindSegment, LiveID: ours.ID},
		{ArtifactID: "seg_gone", Kind: sandbox.KindSegment, LiveID: "987654"},
		{ArtifactID: "em_1", Kind: sandbox.KindEmail, LiveID: "555"},
	}
	evs, _, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Items: items})
	if err != nil {
		t.Fatal(e.note(err))
	}
	got := byID(evs)
	conv := "hubspot:contact:" + srv.AddContacts("grace@example.com")[0] + ":conversion:" + fmt.Sprint(time.Date(2027, 3, 2, 10, 0, 0, 0, time.UTC).UnixMilli())
	want := map[string]string{
		"hubspot:deal:" + ada + ":created":   "ada@example.com",
		"hubspot:deal:" + grace + ":created": "grace@example.com",
		"hubspot:deal:" + grace + ":won":     "grace@example.com",
		conv:                                 "grace@example.com",
	}
	if len(evs) != len(want) {
		t.Fatalf("got %v, want %d events: only the deals and conversions of the list's members", eventIDs(evs), len(want))
	}
	for id, contact := range want {
		if got[id].Contact != contact {
			t.Errorf("event %s: contact %q, want %q (got %v)", id, got[id].Contact, contact, eventIDs(evs))
		}
	}
	if !strings.Contains(e.logs.String(), "987654") {
		t.Errorf("the deleted list was skipped without a word:\n%s", e.logs.String())
	}

	// Named contacts join the members; a member also named is read once.
	srv.ResetStats()
	evs, _, err = e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Items: items[:1], Contacts: []string{"carol@example.com", "ADA@example.com"}})
	if err != nil {
		t.Fatal(e.note(err))
	}
	got = byID(evs)
	if len(evs) != len(want)+1 || got["hubspot:deal:"+carol+":created"].Contact != "carol@example.com" {
		t.Errorf("with carol named: %v", eventIDs(evs))
	}
	if st := srv.Stats(); st.Calls["lists.members"] != 1 || st.Calls["contacts.read"] != 2 {
		t.Errorf("calls: %v (want one membership page, one read by id, one by email)", st.Calls)
	}
}

// TestOutcomesListPaging: a list larger than one page of memberships is
// read page by page (250 a page, HubSpot's maximum) and its contacts 100
// at a time, within the portal's rate limit.
func TestOutcomesListPaging(t *testing.T) {
	e := newEnv(t, hubspottest.Options{RateLimit: 4, Window: 200 * time.Millisecond}, Config{}, WithRateWindow(200*time.Millisecond))
	srv := e.srv
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	var addrs []string
	for i := range 610 {
		addrs = append(addrs, fmt.Sprintf("m%03d@example.com", i))
	}
	srv.AddContacts(addrs...)
	live := must[sandbox.LiveState](t, e)(e.target.Put(ctx(), segmentObj("seg_big", "Everyone", sandbox.Segment{StaticEmails: addrs}), ""))
	// Deals of members on the first, middle and last page.
	deals := map[string]string{}
	for _, i := range []int{0, 300, 609} {
		deals[srv.AddDeal(hubspottest.Deal{Name: addrs[i], Amount: "1", Currency: "USD", Created: t0, Contacts: []string{addrs[i]}})] = addrs[i]
	}
	srv.ResetStats()
	evs, _, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Items: []sandbox.MetricsItem{{ArtifactID: "seg_big", Kind: sandbox.KindSegment, LiveID: live.ID}}})
	if err != nil {
		t.Fatal(e.note(err))
	}
	got := byID(evs)
	if len(evs) != len(deals) {
		t.Errorf("got %v, want the %d deals", eventIDs(evs), len(deals))
	}
	for id, addr := range deals {
		if got["hubspot:deal:"+id+":created"].Contact != addr {
			t.Errorf("deal %s of %s not reported: %v", id, addr, eventIDs(evs))
		}
	}
	st := srv.Stats()
	if st.Calls["lists.members"] != 3 || st.Calls["contacts.read"] != 7 {
		t.Errorf("calls: %v (want 3 membership pages, 7 contact reads)", st.Calls)
	}
	if st.Served429 != 0 {
		t.Errorf("the fake answered %d 429s: the limiter let requests over the portal's limit", st.Served429)
	}
}

// TestOutcomesListScope: a connection without crm.lists.read cannot read
// who lastmile's lists reached, and says which scope to grant.
func TestOutcomesListScope(t *testing.T) {
	var scopes []string
	for _, s := range hubspottest.AllScopes {
		if s != "crm.lists.read" {
			scopes = append(scopes, s)
		}
	}
	e := newEnv(t, hubspottest.Options{Scopes: scopes}, Config{})
	items := []sandbox.MetricsItem{{ArtifactID: "seg_beta", Kind: sandbox.KindSegment, LiveID: "123"}}
	evs, next, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Items: items, Cursor: "2027-01-01T00:00:00Z"})
	e.note(err)
	if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "crm.lists.read") || !strings.Contains(err.Error(), "lastmile connect hubspot") || !strings.Contains(err.Error(), "list 123") {
		t.Errorf("missing scope: %v", err)
	}
	if len(evs) != 0 || next != "2027-01-01T00:00:00Z" {
		t.Errorf("a failed read returned %d events and cursor %q", len(evs), next)
	}
}

// TestOutcomesAudiences: lastmile's emails say which of its lists they
// reached. A sent email reached its included lists less its excluded
// ones; a draft reached nobody; a list no email names (a workflow's
// trigger) reached all its members.
func TestOutcomesAudiences(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	srv := e.srv
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	addrs := []string{"ada@example.com", "grace@example.com", "bob@example.com", "dan@example.com", "erin@example.com"}
	srv.AddContacts(addrs...)
	deal := map[string]string{}
	for _, a := range addrs {
		deal[a] = srv.AddDeal(hubspottest.Deal{Name: a, Amount: "10", Currency: "USD", Created: t0, Contacts: []string{a}})
	}
	m := must[sandbox.LiveState](t, e)
	seg := func(id string, emails ...string) sandbox.LiveState {
		return m(e.target.Put(ctx(), segmentObj(id, id, sandbox.Segment{StaticEmails: emails}), ""))
	}
	prospects := seg("seg_prospects", "ada@example.com", "grace@example.com", "bob@example.com")
	customers := seg("seg_customers", "bob@example.com")
	trigger := seg("seg_trigger", "dan@example.com")
	draftOnly := seg("seg_draft", "erin@example.com")
	refs := map[string]string{"seg_prospects": prospects.ID, "seg_customers": customers.ID, "seg_draft": draftOnly.ID}

	promo := emailObj("eml_promo", "Promotion", []string{"seg_prospects"}, refs)
	promo.Email.Audience.Exclude = []string{"seg_customers"}
	promoLive := m(e.target.Put(ctx(), promo, ""))
	promoLive = m(e.target.Send(ctx(), promo, promoLive, time.Time{}))
	draft := m(e.target.Put(ctx(), emailObj("eml_draft", "Not yet", []string{"seg_draft"}, refs), ""))

	items := []sandbox.MetricsItem{{ArtifactID: "eml_promo", Kind: sandbox.KindEmail, LiveID: promoLive.ID}, {ArtifactID: "eml_draft", Kind: sandbox.KindEmail, LiveID: draft.ID}}
	for id, l := range map[string]sandbox.LiveState{"seg_prospects": prospects, "seg_customers": customers, "seg_trigger": trigger, "seg_draft": draftOnly} {
		items = append(items, sandbox.MetricsItem{ArtifactID: id, Kind: sandbox.KindSegment, LiveID: l.ID})
	}
	srv.ResetStats()
	evs, _, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Items: items})
	if err != nil {
		t.Fatal(e.note(err))
	}
	got := byID(evs)
	for _, a := range []string{"ada@example.com", "grace@example.com", "dan@example.com"} {
		if got["hubspot:deal:"+deal[a]+":created"].Contact != a {
			t.Errorf("the deal of %s, reached, is not reported: %v", a, eventIDs(evs))
		}
	}
	for _, a := range []string{"bob@example.com", "erin@example.com"} {
		if _, ok := got["hubspot:deal:"+deal[a]+":created"]; ok {
			t.Errorf("the deal of %s, whom no send reached, is reported", a)
		}
	}
	if len(evs) != 3 {
		t.Errorf("got %v, want 3 deals", eventIDs(evs))
	}
	if st := srv.Stats(); st.Calls["emails.get"] != 2 || st.Calls["lists.members"] != 3 {
		t.Errorf("calls: %v (want each email read once; the lists of the sent email and the trigger, each once)", st.Calls)
	}
}
