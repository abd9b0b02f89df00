package hubspottest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type eventsPage struct {
	HasMore bool   `json:"hasMore"`
	Offset  string `json:"offset"`
	Events  []struct {
		ID              string `json:"id"`
		Created         int64  `json:"created"`
		Type            string `json:"type"`
		Recipient       string `json:"recipient"`
		EmailCampaignID int64  `json:"emailCampaignId"`
		URL             string `json:"url"`
		SentBy          *struct {
			ID string `json:"id"`
		} `json:"sentBy"`
	} `json:"events"`
}

// listOf makes a MANUAL list of these addresses and returns its id.
func listOf(c *client, name string, addrs ...string) string {
	c.t.Helper()
	st, _, body := c.do("POST", "/crm/v3/lists", map[string]any{"name": name, "objectTypeId": "0-1", "processingType": "MANUAL"})
	if st != 200 {
		c.t.Fatalf("create list: %d %s", st, body)
	}
	var lc struct{ List struct{ ListID string } }
	_ = json.Unmarshal(body, &lc)
	if st, _, body := c.do("PUT", "/crm/v3/lists/"+lc.List.ListID+"/memberships/add", c.s.AddContacts(addrs...)); st != 200 {
		c.t.Fatalf("add members: %d %s", st, body)
	}
	return lc.List.ListID
}

// batchEmail makes a batch email to include less exclude and returns its id.
func batchEmail(c *client, name string, include, exclude []string, publishDate string) string {
	c.t.Helper()
	if exclude == nil {
		exclude = []string{}
	}
	body := map[string]any{"name": name, "subject": "Hi", "from": map[string]any{"fromName": "A", "replyTo": "a@x.test"},
		"to": map[string]any{"contactIlsLists": map[string]any{"include": include, "exclude": exclude}}}
	if publishDate != "" {
		body["publishDate"] = publishDate
	}
	st, _, out := c.do("POST", "/marketing/v3/emails", body)
	if st != 201 {
		c.t.Fatalf("create email: %d %s", st, out)
	}
	var em struct{ ID string }
	_ = json.Unmarshal(out, &em)
	return em.ID
}

func (c *client) events(query url.Values) eventsPage {
	c.t.Helper()
	st, _, body := c.do("GET", "/email/public/v1/events?"+query.Encode(), nil)
	if st != 200 {
		c.t.Fatalf("events %s: %d %s", query.Encode(), st, body)
	}
	var p eventsPage
	if err := json.Unmarshal(body, &p); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// A batch email sends when published: a SENT and a DELIVERED per member
// of its included lists less its excluded ones at that moment, under the
// email campaign the email now names. A member removed later stays sent
// to. Events page newest first through offset.
func TestEmailEventsAtSend(t *testing.T) {
	var clock atomic.Int64
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	clock.Store(t0.UnixMilli())
	s := New(t, Options{Now: func() time.Time { return time.UnixMilli(clock.Load()).UTC() }})
	c := &client{t: t, s: s, token: s.PrivateAppToken()}
	prospects := listOf(c, "Prospects", "ada@x.test", "grace@x.test", "bob@x.test")
	customers := listOf(c, "Customers", "bob@x.test")
	id := batchEmail(c, "Promo", []string{prospects}, []string{customers}, "")
	if st, _, body := c.do("POST", "/marketing/v3/emails/"+id+"/publish", nil); st != 204 {
		t.Fatalf("publish: %d %s", st, body)
	}
	_, _, body := c.do("GET", "/marketing/v3/emails/"+id, nil)
	conform(t, schemaPublicEmail, body)
	var em struct {
		All     []string `json:"allEmailCampaignIds"`
		Primary string   `json:"primaryEmailCampaignId"`
	}
	_ = json.Unmarshal(body, &em)
	if em.Primary == "" || !slices.Equal(em.All, []string{em.Primary}) {
		t.Fatalf("published email's campaigns: %s", body)
	}
	// Grace leaves the list after the send; Dan joins it.
	st, _, body := c.do("PUT", "/crm/v3/lists/"+prospects+"/memberships/add-and-remove",
		map[string]any{"recordIdsToAdd": s.AddContacts("dan@x.test"), "recordIdsToRemove": s.AddContacts("grace@x.test")})
	if st != 200 {
		t.Fatalf("change members: %d %s", st, body)
	}
	clock.Add(time.Hour.Milliseconds())
	open := s.AddEmailEvent(id, EmailEvent{Type: "OPEN", Recipient: "Ada@x.test"})
	clock.Add(time.Minute.Milliseconds())
	click := s.AddEmailEvent(id, EmailEvent{Type: "CLICK", Recipient: "ada@x.test", URL: "https://acme.test/?utm_source=hubspot"})
	s.AddEmailEvent(id, EmailEvent{Type: "OPEN", Recipient: "grace@x.test", Filtered: true})
	if open == "" || click == "" || s.AddEmailEvent(id, EmailEvent{Type: "open"}) != "" {
		t.Fatal("AddEmailEvent")
	}

	p := c.events(url.Values{"campaignId": {em.Primary}, "eventType": {"SENT"}, "limit": {"1000"}})
	var sent []string
	for _, e := range p.Events {
		sent = append(sent, e.Recipient)
		if e.Created != t0.UnixMilli() || e.Type != "SENT" || fmt.Sprint(e.EmailCampaignID) != em.Primary {
			t.Errorf("SENT event %+v", e)
		}
	}
	slices.Sort(sent)
	if p.HasMore || !slices.Equal(sent, []string{"ada@x.test", "grace@x.test"}) {
		t.Errorf("sent to %v (hasMore %v), want ada and grace: the audience at the send", sent, p.HasMore)
	}

	// All events, newest first, one a page.
	q := url.Values{"campaignId": {em.Primary}, "limit": {"1"}, "excludeFilteredEvents": {"true"}}
	var types []string
	for range 10 {
		p := c.events(q)
		if len(p.Events) != 1 {
			t.Fatalf("page of %d events", len(p.Events))
		}
		e := p.Events[0]
		types = append(types, e.Type)
		if e.Type == "CLICK" && (e.URL != "https://acme.test/?utm_source=hubspot" || e.SentBy == nil || e.ID != click) {
			t.Errorf("click %+v", e)
		}
		if !p.HasMore {
			break
		}
		q.Set("offset", p.Offset)
	}
	if want := []string{"CLICK", "OPEN", "DELIVERED", "DELIVERED", "SENT", "SENT"}; !slices.Equal(slices.Sorted(slices.Values(types[2:])), slices.Sorted(slices.Values(want[2:]))) || types[0] != "CLICK" || types[1] != "OPEN" || len(types) != len(want) {
		t.Errorf("types newest first: %v, want %v", types, want)
	}
	if n := len(c.events(url.Values{"campaignId": {em.Primary}, "limit": {"1000"}}).Events); n != 7 {
		t.Errorf("with the filtered open: %d events, want 7", n)
	}
	// Timestamps are inclusive bounds.
	at := fmt.Sprint(t0.UnixMilli())
	if n := len(c.events(url.Values{"campaignId": {em.Primary}, "endTimestamp": {at}, "limit": {"100"}}).Events); n != 4 {
		t.Errorf("up to the send: %d events, want 4", n)
	}
	if n := len(c.events(url.Values{"campaignId": {em.Primary}, "startTimestamp": {fmt.Sprint(t0.UnixMilli() + 1)}, "limit": {"100"}}).Events); n != 3 {
		t.Errorf("after the send: %d events, want 3", n)
	}
	if n := len(c.events(url.Values{"campaignId": {em.Primary}}).Events); n != 7 {
		t.Errorf("the default limit (10) answered %d of 7", n)
	}
}

// A scheduled email sends at its publishDate, to the lists as they are
// then.
func TestEmailEventsScheduled(t *testing.T) {
	var clock atomic.Int64
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	clock.Store(t0.UnixMilli())
	s := New(t, Options{Now: func() time.Time { return time.UnixMilli(clock.Load()).UTC() }})
	c := &client{t: t, s: s, token: s.PrivateAppToken()}
	list := listOf(c, "Beta", "ada@x.test")
	sendAt := t0.Add(24 * time.Hour)
	id := batchEmail(c, "Later", []string{list}, nil, sendAt.Format(time.RFC3339))
	if st, _, body := c.do("POST", "/marketing/v3/emails/"+id+"/publish", nil); st != 204 {
		t.Fatalf("publish: %d %s", st, body)
	}
	if ev := s.EmailEvents(); len(ev) != 0 {
		t.Fatalf("a scheduled email sent at once: %+v", ev)
	}
	if st, _, body := c.do("PUT", "/crm/v3/lists/"+list+"/memberships/add", s.AddContacts("grace@x.test")); st != 200 {
		t.Fatalf("add: %d %s", st, body)
	}
	clock.Store(sendAt.Add(time.Minute).UnixMilli())
	var sent []string
	for _, e := range s.EmailEvents() {
		if e.Type == "SENT" {
			sent = append(sent, e.Recipient)
			if !e.At.Equal(sendAt) {
				t.Errorf("sent at %s, want the publishDate %s", e.At, sendAt)
			}
		}
	}
	if !slices.Equal(sent, []string{"ada@x.test", "grace@x.test"}) {
		t.Errorf("sent to %v", sent)
	}
	if em := s.Emails(); em[0].State != "PUBLISHED" {
		t.Errorf("state after the send: %s", em[0].State)
	}
}

// The events route checks its parameters, its scope and its token.
func TestEmailEventsValidation(t *testing.T) {
	s := New(t)
	c := &client{t: t, s: s, token: s.PrivateAppToken()}
	for _, q := range []string{"limit=0", "limit=1001", "limit=ten", "campaignId=x", "eventType=sent", "eventType=UNKNOWN",
		"startTimestamp=2027-03-01", "excludeFilteredEvents=yes", "offset=not-ours"} {
		st, _, body := c.do("GET", "/email/public/v1/events?"+q, nil)
		param, _, _ := strings.Cut(q, "=")
		if st != 400 || envelope(t, body).Category != "VALIDATION_ERROR" || !strings.Contains(string(body), param) {
			t.Errorf("%s: %d %s", q, st, body)
		}
	}
	if st, _, body := c.do("GET", "/email/public/v1/events?limit=1000&eventType=SPAMREPORT", nil); st != 200 || !strings.Contains(string(body), `"hasMore":false`) {
		t.Errorf("valid query: %d %s", st, body)
	}

	noContent := New(t, Options{Scopes: []string{"marketing.email.read"}})
	c = &client{t: t, s: noContent, token: noContent.PrivateAppToken()}
	st, _, body := c.do("GET", "/email/public/v1/events", nil)
	if st != 403 || envelope(t, body).Category != "MISSING_SCOPES" || !strings.Contains(string(body), `"content"`) {
		t.Errorf("without content: %d %s", st, body)
	}
	c.token = ""
	if st, _, body := c.do("GET", "/email/public/v1/events", nil); st != 401 || envelope(t, body).Category != "INVALID_AUTHENTICATION" {
		t.Errorf("no token: %d %s", st, body)
	}
}

// Contacts batch read answers the history of the properties asked with
// history, newest first; form conversions add versions. Events and
// history survive a restart.
func TestContactHistoryAndPersistence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	s := New(t, Options{StateFile: file})
	c := &client{t: t, s: s, token: s.PrivateAppToken()}
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	s.AddFormConversion("ada@x.test", t0, "Demo request")
	s.AddFormConversion("ada@x.test", t0.Add(time.Hour), "Newsletter")
	s.AddContacts("grace@x.test")
	list := listOf(c, "Beta", "ada@x.test")
	id := batchEmail(c, "Now", []string{list}, nil, "")
	if st, _, body := c.do("POST", "/marketing/v3/emails/"+id+"/publish", nil); st != 204 {
		t.Fatalf("publish: %d %s", st, body)
	}
	s.Close()
	s = New(t, Options{StateFile: file})
	c = &client{t: t, s: s, token: s.PrivateAppToken()}

	st, _, body := c.do("POST", "/crm/v3/objects/contacts/batch/read", map[string]any{"idProperty": "email",
		"inputs": []map[string]string{{"id": "ada@x.test"}, {"id": "grace@x.test"}}, "properties": []string{"email"},
		"propertiesWithHistory": []string{"recent_conversion_date", "recent_conversion_event_name"}})
	var r struct {
		Results []struct {
			Properties map[string]*string `json:"properties"`
			History    map[string][]struct {
				Value, Timestamp, SourceType string
			} `json:"propertiesWithHistory"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &r); err != nil || st != 200 || len(r.Results) != 2 {
		t.Fatalf("batch read: %d %s", st, body)
	}
	ada, grace := r.Results[0], r.Results[1]
	if *ada.Properties["email"] != "ada@x.test" {
		ada, grace = grace, ada
	}
	dates := ada.History["recent_conversion_date"]
	names := ada.History["recent_conversion_event_name"]
	if len(dates) != 2 || dates[0].Value != "2027-03-01T10:00:00.000Z" || dates[1].Timestamp != "2027-03-01T09:00:00.000Z" ||
		len(names) != 2 || names[0].Value != "Newsletter" || names[1].Value != "Demo request" || dates[0].SourceType != "FORM" {
		t.Errorf("ada's history: %s", body)
	}
	if h, ok := grace.History["recent_conversion_date"]; !ok || len(h) != 0 {
		t.Errorf("grace's history: %s", body)
	}
	if ev := s.EmailEvents(); len(ev) != 2 {
		t.Errorf("events after a restart: %+v", ev)
	}
}
