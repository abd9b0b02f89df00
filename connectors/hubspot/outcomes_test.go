package hubspot

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
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
	if st.Calls["contacts.read"] != 5 || st.Calls["associations.read"] != 3 || st.Calls["deals.read"] != (wantDeals+99)/100 {
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

// withEventPages bounds the pages of one campaign's events a call reads.
func withEventPages(n int) Option { return func(o *options) { o.eventPages = n } }

// syncOutcomes calls Outcomes as the sandbox's sync does (sandbox.syncTarget):
// with the cursor it returned and the contacts of the touches kept, until
// a call returns no events or the same cursor, at most 20 calls. It
// returns the events kept (each ID once), the last cursor and the calls
// made.
func syncOutcomes(t *testing.T, e *env, items []sandbox.MetricsItem, cursor string) (map[string]outcomes.Event, string, int) {
	t.Helper()
	kept := map[string]outcomes.Event{}
	reached := map[string]bool{}
	for calls := 1; calls <= 20; calls++ {
		var contacts []string
		for c := range reached {
			contacts = append(contacts, c)
		}
		slices.Sort(contacts)
		evs, next, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Cursor: cursor, Items: items, Contacts: contacts})
		if err != nil {
			t.Fatal(e.note(err))
		}
		for _, ev := range evs {
			if _, ok := kept[ev.ID]; !ok {
				kept[ev.ID] = ev
			}
			if ev.Contact != "" && slices.Contains(outcomes.Touches, ev.Type) {
				reached[ev.Contact] = true
			}
		}
		if len(evs) == 0 || next == cursor {
			return kept, next, calls
		}
		cursor = next
	}
	t.Fatal("the sync did not end in 20 calls")
	return nil, "", 0
}

func ofType(evs map[string]outcomes.Event, typ string) []outcomes.Event {
	var out []outcomes.Event
	for _, ev := range evs {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	slices.SortFunc(out, func(a, b outcomes.Event) int { return strings.Compare(a.Contact+a.LiveID, b.Contact+b.LiveID) })
	return out
}

// TestOutcomesReachedAtSend: who a send reached is who HubSpot sent it
// to, as the lists were then. A sent email reached its included lists
// less its excluded ones; someone removed from a list after the send is
// still reached (their deal is reported), someone added after is not; a
// draft reached nobody; a workflow's email reached whom it sent to. Every
// event is under the email's live id; a click carries its URL; no list is
// read; an email deleted since is skipped.
func TestOutcomesReachedAtSend(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	srv := e.srv
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	addrs := []string{"ada@example.com", "grace@example.com", "bob@example.com", "dan@example.com", "erin@example.com", "carol@example.com"}
	srv.AddContacts(addrs...)
	deal := map[string]string{}
	for _, a := range addrs {
		deal[a] = srv.AddDeal(hubspottest.Deal{Name: a, Amount: "10", Currency: "USD", Created: t0, Contacts: []string{a}})
	}
	m := must[sandbox.LiveState](t, e)
	prospectsSeg := segmentObj("seg_prospects", "Prospects", sandbox.Segment{StaticEmails: []string{"ada@example.com", "grace@example.com", "bob@example.com"}})
	prospects := m(e.target.Put(ctx(), prospectsSeg, ""))
	customers := m(e.target.Put(ctx(), segmentObj("seg_customers", "Customers", sandbox.Segment{StaticEmails: []string{"bob@example.com"}}), ""))
	draftOnly := m(e.target.Put(ctx(), segmentObj("seg_draft", "Later", sandbox.Segment{StaticEmails: []string{"erin@example.com"}}), ""))
	refs := map[string]string{"seg_prospects": prospects.ID, "seg_customers": customers.ID, "seg_draft": draftOnly.ID}

	promo := emailObj("eml_promo", "Promotion", []string{"seg_prospects"}, refs)
	promo.Email.Audience.Exclude = []string{"seg_customers"}
	promoLive := m(e.target.Put(ctx(), promo, ""))
	promoLive = m(e.target.Send(ctx(), promo, promoLive, time.Time{}))
	draft := m(e.target.Put(ctx(), emailObj("eml_draft", "Not yet", []string{"seg_draft"}, refs), ""))
	welcomeObj := emailObj("eml_welcome", "Welcome", nil, map[string]string{})
	welcome := m(e.target.Put(ctx(), welcomeObj, ""))
	welcome = m(e.target.Send(ctx(), welcomeObj, welcome, time.Time{}))
	// The workflow sends the welcome email to Carol.
	if srv.AddEmailEvent(welcome.ID, hubspottest.EmailEvent{Type: "SENT", Recipient: "carol@example.com"}) == "" {
		t.Fatal("the automated email has no campaign")
	}
	open := srv.AddEmailEvent(promoLive.ID, hubspottest.EmailEvent{Type: "OPEN", Recipient: "ada@example.com"})
	click := srv.AddEmailEvent(promoLive.ID, hubspottest.EmailEvent{Type: "CLICK", Recipient: "ada@example.com", URL: "https://acme.test/spring?utm_source=hubspot"})
	srv.AddEmailEvent(promoLive.ID, hubspottest.EmailEvent{Type: "CLICK", Recipient: "grace@example.com", URL: "https://acme.test/bot", Filtered: true})
	srv.AddEmailEvent(promoLive.ID, hubspottest.EmailEvent{Type: "STATUSCHANGE", Recipient: "grace@example.com"})
	// After the send Grace leaves the list and Dan joins it.
	prospectsSeg.Segment.StaticEmails = []string{"ada@example.com", "bob@example.com", "dan@example.com"}
	m(e.target.Put(ctx(), prospectsSeg, prospects.ID))

	items := []sandbox.MetricsItem{
		{ArtifactID: "eml_promo", Kind: sandbox.KindEmail, LiveID: promoLive.ID},
		{ArtifactID: "eml_draft", Kind: sandbox.KindEmail, LiveID: draft.ID},
		{ArtifactID: "eml_welcome", Kind: sandbox.KindEmail, LiveID: welcome.ID},
		{ArtifactID: "eml_gone", Kind: sandbox.KindEmail, LiveID: "555"},
	}
	for id, l := range map[string]sandbox.LiveState{"seg_prospects": prospects, "seg_customers": customers, "seg_draft": draftOnly} {
		items = append(items, sandbox.MetricsItem{ArtifactID: id, Kind: sandbox.KindSegment, LiveID: l.ID})
	}
	srv.ResetStats()
	evs, next, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Items: items})
	if err != nil {
		t.Fatal(e.note(err))
	}
	got := byID(evs)
	var sent []string
	for _, ev := range ofType(got, outcomes.Sent) {
		sent = append(sent, ev.Contact+" "+ev.LiveID)
		if ev.Source != "hubspot:email-events" || ev.Target != "hubspot" || !strings.HasPrefix(ev.ID, "hubspot:email-event:") {
			t.Errorf("sent event %+v", ev)
		}
	}
	if want := []string{"ada@example.com " + promoLive.ID, "carol@example.com " + welcome.ID, "grace@example.com " + promoLive.ID}; !slices.Equal(sent, want) {
		t.Errorf("sent: %v, want %v", sent, want)
	}
	if d := ofType(got, outcomes.Delivered); len(d) != 2 {
		t.Errorf("delivered: %+v", d)
	}
	clicks, opens := ofType(got, outcomes.Click), ofType(got, outcomes.Open)
	if len(clicks) != 1 || !strings.HasSuffix(clicks[0].ID, ":"+click) || clicks[0].URL != "https://acme.test/spring?utm_source=hubspot" ||
		clicks[0].LiveID != promoLive.ID || clicks[0].Contact != "ada@example.com" {
		t.Errorf("clicks (the filtered one left out): %+v", clicks)
	}
	if len(opens) != 1 || !strings.HasSuffix(opens[0].ID, ":"+open) || opens[0].LiveID != promoLive.ID {
		t.Errorf("opens: %+v", opens)
	}
	if n := len(ofType(got, "unsubscribe")); n != 0 {
		t.Errorf("a STATUSCHANGE became %d unsubscribe events", n)
	}
	for _, a := range []string{"ada@example.com", "grace@example.com", "carol@example.com"} {
		if got["hubspot:deal:"+deal[a]+":created"].Contact != a {
			t.Errorf("the deal of %s, reached, is not reported: %v", a, eventIDs(evs))
		}
	}
	for _, a := range []string{"bob@example.com", "dan@example.com", "erin@example.com"} {
		if _, ok := got["hubspot:deal:"+deal[a]+":created"]; ok {
			t.Errorf("the deal of %s, whom no send reached, is reported", a)
		}
	}
	if len(evs) != 3+2+2+3 {
		t.Errorf("got %d events: %v", len(evs), eventIDs(evs))
	}
	st := srv.Stats()
	if st.Calls["emails.get"] != 4 || st.Calls["email.events"] != 2 || st.Calls["lists.members"] != 0 {
		t.Errorf("calls: %v (want each email read once, one page of events for each of the two sent, no list read)", st.Calls)
	}
	if !strings.Contains(e.logs.String(), "555") {
		t.Errorf("the deleted email was skipped without a word:\n%s", e.logs.String())
	}
	if !strings.Contains(next, `"events":{`) || !strings.Contains(next, `"crm":"2027-03-01T09:00:00Z"`) {
		t.Errorf("cursor %s", next)
	}
}

// TestOutcomesEventCursor: a read with the cursor returned reads each
// campaign again from an hour before the newest event it read, so an
// event HubSpot indexed late is found; the events of that hour come back
// with the IDs they had (the sandbox keeps them once). An old cursor (an
// RFC 3339 time) is the CRM part: the events are read from the start.
func TestOutcomesEventCursor(t *testing.T) {
	var clock atomic.Int64
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	clock.Store(t0.UnixMilli())
	e := newEnv(t, hubspottest.Options{Now: func() time.Time { return time.UnixMilli(clock.Load()).UTC() }}, Config{})
	srv := e.srv
	srv.AddContacts("ada@example.com", "grace@example.com")
	m := must[sandbox.LiveState](t, e)
	seg := m(e.target.Put(ctx(), segmentObj("seg_1", "Beta", sandbox.Segment{StaticEmails: []string{"ada@example.com", "grace@example.com"}}), ""))
	obj := emailObj("eml_1", "Launch", []string{"seg_1"}, map[string]string{"seg_1": seg.ID})
	live := m(e.target.Put(ctx(), obj, ""))
	live = m(e.target.Send(ctx(), obj, live, time.Time{}))
	adaOpen := srv.AddEmailEvent(live.ID, hubspottest.EmailEvent{Type: "OPEN", Recipient: "ada@example.com", At: t0.Add(2 * time.Hour)})
	items := []sandbox.MetricsItem{{ArtifactID: "eml_1", Kind: sandbox.KindEmail, LiveID: live.ID}}

	first, next, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Items: items})
	if err != nil {
		t.Fatal(e.note(err))
	}
	if len(first) != 5 {
		t.Fatalf("first read: %v", eventIDs(first))
	}
	// Indexed after the first read: a click of 90 minutes after the send,
	// within the hour before the newest event read, and a later open.
	late := srv.AddEmailEvent(live.ID, hubspottest.EmailEvent{Type: "CLICK", Recipient: "grace@example.com", URL: "https://acme.test/", At: t0.Add(90 * time.Minute)})
	newer := srv.AddEmailEvent(live.ID, hubspottest.EmailEvent{Type: "OPEN", Recipient: "grace@example.com", At: t0.Add(3 * time.Hour)})
	again, next2, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Items: items, Contacts: []string{"ada@example.com", "grace@example.com"}, Cursor: next})
	if err != nil {
		t.Fatal(e.note(err))
	}
	evID := func(at time.Time, id string) string {
		return fmt.Sprintf("hubspot:email-event:%d:%s", at.UnixMilli(), id)
	}
	want := []string{evID(t0.Add(2*time.Hour), adaOpen), evID(t0.Add(90*time.Minute), late), evID(t0.Add(3*time.Hour), newer)}
	slices.Sort(want)
	if ids := eventIDs(again); !slices.Equal(ids, want) {
		t.Errorf("read with the cursor: %v, want the overlap's open again, the late click and the new open %v", ids, want)
	}
	if !slices.Contains(eventIDs(first), want[slices.Index(want, evID(t0.Add(2*time.Hour), adaOpen))]) {
		t.Errorf("the open read again has another ID than the first time")
	}
	if next2 == next {
		t.Errorf("the cursor did not move: %s", next2)
	}

	// A cursor from before email events: the CRM part, every event read.
	old, next3, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Items: items, Cursor: "2027-01-01T00:00:00Z"})
	if err != nil || len(old) != 7 || !strings.HasPrefix(next3, "{") {
		t.Errorf("old cursor: %v, %q, %v", eventIDs(old), next3, e.note(err))
	}
	for _, bad := range []string{"yesterday", `{"crm":"soon"}`, "{"} {
		if _, c, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Items: items, Cursor: bad}); err == nil || c != bad {
			t.Errorf("cursor %q was accepted (next %q)", bad, c)
		}
	}
}

// TestOutcomesEventPaging: a campaign with more events than one call
// reads (here one page of 1000) comes back over several calls, each
// going on where the last stopped, down to the events of one millisecond
// more than a page holds; the CRM is read once, when every event is in,
// and finds the deals of every recipient; the requests stay within the
// portal's rate limit.
func TestOutcomesEventPaging(t *testing.T) {
	e := newEnv(t, hubspottest.Options{RateLimit: 20, Window: 200 * time.Millisecond}, Config{}, WithRateWindow(200*time.Millisecond), withEventPages(1))
	srv := e.srv
	m := must[sandbox.LiveState](t, e)
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	var liveIDs []string
	for i, name := range []string{"spread", "burst"} {
		obj := emailObj("eml_"+name, name, nil, map[string]string{})
		live := m(e.target.Put(ctx(), obj, ""))
		liveIDs = append(liveIDs, m(e.target.Send(ctx(), obj, live, time.Time{})).ID)
		for j := range 1500 {
			at := t0.Add(time.Duration(j) * time.Second) // the spread one: a second apart
			if i == 1 {
				at = t0 // the burst: 1500 in one millisecond
			}
			srv.AddEmailEvent(live.ID, hubspottest.EmailEvent{Type: "SENT", Recipient: fmt.Sprintf("%s%04d@example.com", name, j), At: at})
		}
	}
	deals := map[string]string{
		srv.AddDeal(hubspottest.Deal{Name: "first", Amount: "1", Currency: "USD", Created: t0, Contacts: []string{"spread0000@example.com"}}): "spread0000@example.com",
		srv.AddDeal(hubspottest.Deal{Name: "last", Amount: "1", Currency: "USD", Created: t0, Contacts: []string{"burst1499@example.com"}}):   "burst1499@example.com",
	}
	items := []sandbox.MetricsItem{{ArtifactID: "eml_spread", Kind: sandbox.KindEmail, LiveID: liveIDs[0]}, {ArtifactID: "eml_burst", Kind: sandbox.KindEmail, LiveID: liveIDs[1]}}

	srv.ResetStats()
	first, next, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Items: items})
	if err != nil {
		t.Fatal(e.note(err))
	}
	if len(first) != 2000 || !strings.Contains(next, `"behind"`) || srv.Stats().Calls["contacts.read"] != 0 {
		t.Fatalf("first call: %d events, cursor %s, calls %v (want a page of each, the CRM not read yet)", len(first), next, srv.Stats().Calls)
	}
	kept, last, calls := syncOutcomes(t, e, items, "")
	if calls > 4 {
		t.Errorf("%d calls", calls)
	}
	if n := len(ofType(kept, outcomes.Sent)); n != 3000 {
		t.Errorf("%d sent events kept, want 3000", n)
	}
	for id, addr := range deals {
		if kept["hubspot:deal:"+id+":created"].Contact != addr {
			t.Errorf("the deal of %s is not reported", addr)
		}
	}
	if strings.Contains(last, `"behind"`) {
		t.Errorf("the sync ended behind: %s", last)
	}
	if st := srv.Stats(); st.Served429 != 0 {
		t.Errorf("the fake answered %d 429s", st.Served429)
	}
}

// TestOutcomesConversions: every form conversion HubSpot kept in the
// history of recent_conversion_date is a form_submission, under the ID the
// latest one alone had before; the cursor leaves out those before it.
func TestOutcomesConversions(t *testing.T) {
	e := newEnv(t, hubspottest.Options{}, Config{})
	srv := e.srv
	t1 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, form := range []string{"Demo request", "Newsletter", "Pricing"} {
		srv.AddFormConversion("ada@example.com", t1.Add(time.Duration(i)*24*time.Hour), form)
	}
	id := srv.AddContacts("ada@example.com")[0]
	req := sandbox.OutcomesRequest{Contacts: []string{"ada@example.com"}}
	evs, next, err := e.target.Outcomes(ctx(), req)
	if err != nil {
		t.Fatal(e.note(err))
	}
	var want []string
	for i := range 3 {
		want = append(want, fmt.Sprintf("hubspot:contact:%s:conversion:%d", id, t1.Add(time.Duration(i)*24*time.Hour).UnixMilli()))
	}
	slices.Sort(want)
	if ids := eventIDs(evs); !slices.Equal(ids, want) {
		t.Errorf("conversions: %v, want %v", ids, want)
	}
	for _, ev := range evs {
		if ev.Type != outcomes.FormSubmission || ev.Contact != "ada@example.com" || ev.Source != "hubspot:contacts" {
			t.Errorf("%+v", ev)
		}
	}
	if next != `{"crm":"2027-03-03T09:00:00Z"}` {
		t.Errorf("cursor %s", next)
	}
	srv.AddFormConversion("ada@example.com", t1.Add(96*time.Hour), "Webinar")
	later, _, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Contacts: req.Contacts, Cursor: next})
	if err != nil || len(later) != 1 || !later[0].At.Equal(t1.Add(96*time.Hour)) {
		t.Errorf("after the cursor: %v %v", eventIDs(later), e.note(err))
	}
}

// TestOutcomesEventScope: a connection without content cannot read email
// events, and says which scope to grant and how.
func TestOutcomesEventScope(t *testing.T) {
	var scopes []string
	for _, s := range hubspottest.AllScopes {
		if s != "content" {
			scopes = append(scopes, s)
		}
	}
	e := newEnv(t, hubspottest.Options{Scopes: scopes}, Config{})
	m := must[sandbox.LiveState](t, e)
	obj := emailObj("eml_1", "Welcome", nil, map[string]string{})
	live := m(e.target.Put(ctx(), obj, ""))
	live = m(e.target.Send(ctx(), obj, live, time.Time{}))
	items := []sandbox.MetricsItem{{ArtifactID: "eml_1", Kind: sandbox.KindEmail, LiveID: live.ID}}
	evs, next, err := e.target.Outcomes(ctx(), sandbox.OutcomesRequest{Items: items, Cursor: "2027-01-01T00:00:00Z"})
	e.note(err)
	if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "content") || !strings.Contains(err.Error(), "lastmile connect hubspot") || !strings.Contains(err.Error(), "email events") {
		t.Errorf("missing scope: %v", err)
	}
	if len(evs) != 0 || next != "2027-01-01T00:00:00Z" {
		t.Errorf("a failed read returned %d events and cursor %q", len(evs), next)
	}
}
