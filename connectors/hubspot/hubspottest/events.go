package hubspottest

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The Email Events API (legacy v1, still documented; its OpenAPI file is
// not among the saved specs, so the shapes follow HubSpot's API reference,
// "Get email events" and the Email Events overview):
//
//   - GET /email/public/v1/events?campaignId&recipient&appId&eventType
//     &startTimestamp&endTimestamp (epoch ms, both inclusive)&offset&limit
//     (1 to 1000, default 10)&excludeFilteredEvents → {hasMore, offset,
//     events:[{id, created, type, recipient, portalId, appId, appName,
//     emailCampaignId, sentBy:{id, created}, filteredEvent, …}]}, newest
//     first. The offset is an opaque token for the next page of the same
//     query. Scope content.
//
// A batch email sends when it is published, or at its publishDate when
// scheduled: every member of its included lists less those of its
// excluded lists at that moment gets a SENT and a DELIVERED event, stamped
// with the send time. Tests record the other events, and the sends of
// automated emails, with AddEmailEvent.

// EventTypes are the email event types HubSpot documents.
var EventTypes = []string{"SENT", "DROPPED", "PROCESSED", "DELIVERED", "DEFERRED", "BOUNCE", "OPEN", "CLICK", "STATUSCHANGE", "SPAMREPORT", "SUPPRESSED", "PRINT", "FORWARD"}

type emailEvent struct {
	ID        string `json:"id"`
	Created   int64  `json:"created"` // ms since the epoch
	Type      string `json:"type"`
	Recipient string `json:"recipient"`
	Campaign  int64  `json:"campaign"`
	AppName   string `json:"app_name"`
	URL       string `json:"url,omitempty"`
	Filtered  bool   `json:"filtered,omitempty"`
	// SentBy is the SENT event of the message the event is about.
	SentBy *eventRef `json:"sent_by,omitempty"`
}

type eventRef struct {
	ID      string `json:"id"`
	Created int64  `json:"created"`
}

// EmailEvent is an email event as a test records it.
type EmailEvent struct {
	Type      string    // one of EventTypes
	Recipient string    // the address
	At        time.Time // when it happened (default: the fake's clock)
	URL       string    // a CLICK's link
	// Filtered marks an event HubSpot filtered out as bot or machine
	// activity: excludeFilteredEvents=true leaves it out.
	Filtered bool
}

// AddEmailEvent records an event of a published email's campaign and
// returns its id; "" when the email has no campaign yet (it was never
// published) or the type is not one of EventTypes.
func (s *Server) AddEmailEvent(emailID string, ev EmailEvent) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleEmails(s.opts.Now())
	e, ok := s.st.Emails[emailID]
	if !ok || campaignOf(e) == 0 || !slices.Contains(EventTypes, ev.Type) {
		return ""
	}
	if ev.At.IsZero() {
		ev.At = s.opts.Now()
	}
	rec := s.recordEvent(e, campaignOf(e), ev)
	s.persistLocked()
	return rec.ID
}

// campaignOf is the email's primary email campaign id, 0 before it was
// published.
func campaignOf(e *emailObj) int64 {
	n, _ := strconv.ParseInt(str(e.Doc["primaryEmailCampaignId"]), 10, 64)
	return n
}

func (s *Server) recordEvent(e *emailObj, campaign int64, ev EmailEvent) *emailEvent {
	app := "Batch"
	if e.Doc["type"] == "AUTOMATED_EMAIL" {
		app = "Automated"
	}
	rec := &emailEvent{ID: randUUID(), Created: ev.At.UnixMilli(), Type: ev.Type, Recipient: strings.ToLower(strings.TrimSpace(ev.Recipient)),
		Campaign: campaign, AppName: app, URL: ev.URL, Filtered: ev.Filtered}
	if ev.Type != "SENT" {
		// The message's SENT is the latest one to this recipient before the event.
		for _, x := range slices.Backward(s.st.EmailEvents) {
			if x.Type == "SENT" && x.Campaign == campaign && x.Recipient == rec.Recipient && x.Created <= rec.Created {
				rec.SentBy = &eventRef{ID: x.ID, Created: x.Created}
				break
			}
		}
	}
	s.st.EmailEvents = append(s.st.EmailEvents, rec)
	return rec
}

// giveCampaign gives a published email its email campaign, once.
func (s *Server) giveCampaign(e *emailObj) {
	if str(e.Doc["primaryEmailCampaignId"]) != "" {
		return
	}
	id := s.st.newID(baseCamp)
	e.Doc["primaryEmailCampaignId"] = id
	e.Doc["allEmailCampaignIds"] = []any{id}
}

// send sends a batch email at: statistics and a SENT and DELIVERED event
// per recipient, the members of its included lists less those of its
// excluded lists as they are now.
func (s *Server) send(e *emailObj, at time.Time) {
	include, exclude := audienceOf(e.Doc)
	e.Sent++
	if !e.StatsSet {
		sent := s.audience(include, exclude)
		e.Counters = map[string]int64{"sent": sent, "delivered": sent, "open": 0, "click": 0, "bounce": 0, "unsubscribed": 0}
		e.Ratios = map[string]float64{"openratio": 0, "clickratio": 0}
	}
	campaign := campaignOf(e)
	for _, addr := range s.recipients(include, exclude) {
		s.recordEvent(e, campaign, EmailEvent{Type: "SENT", Recipient: addr, At: at})
		s.recordEvent(e, campaign, EmailEvent{Type: "DELIVERED", Recipient: addr, At: at})
	}
}

func audienceOf(doc map[string]any) (include, exclude []string) {
	if to, ok := doc["to"].(map[string]any); ok {
		if l, ok := to["contactIlsLists"].(map[string]any); ok {
			return strs(l["include"]), strs(l["exclude"])
		}
	}
	return nil, nil
}

// recipients are the addresses of the members of the include lists not in
// an exclude list, sorted. A dynamic list sized by SetListSize has no
// members to send to.
func (s *Server) recipients(include, exclude []string) []string {
	out := map[string]bool{}
	for _, id := range include {
		if l, ok := s.st.Lists[id]; ok {
			for _, m := range l.Members {
				out[s.st.Contacts[m]] = true
			}
		}
	}
	for _, id := range exclude {
		if l, ok := s.st.Lists[id]; ok {
			for _, m := range l.Members {
				delete(out, s.st.Contacts[m])
			}
		}
	}
	delete(out, "")
	addrs := make([]string, 0, len(out))
	for a := range out {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	return addrs
}

// settleEmails sends the scheduled emails whose publishDate has come. It
// runs before every request (and test helper that reads or adds events),
// so a send sees the lists as they were at its publishDate: nothing
// changes them between that moment and the next request. Caller holds
// s.mu.
func (s *Server) settleEmails(now time.Time) {
	settled := false
	for _, id := range sortedIDs(s.st.Emails) {
		e := s.st.Emails[id]
		if e.Doc["state"] != "SCHEDULED" {
			continue
		}
		at, err := time.Parse(time.RFC3339, str(e.Doc["publishDate"]))
		if err != nil || at.After(now) {
			continue
		}
		e.Doc["state"] = "PUBLISHED"
		settled = true
		if e.ABVariation {
			continue // B goes out with its master A, counted there
		}
		s.send(e, at)
	}
	if settled {
		s.persistLocked()
	}
}

// emailEvents is GET /email/public/v1/events.
func (s *Server) emailEvents(q *request) (int, any, *httpError) {
	v := q.r.URL.Query()
	ints := map[string]int64{}
	for _, name := range []string{"campaignId", "appId", "startTimestamp", "endTimestamp", "limit"} {
		raw := v.Get(name)
		if raw == "" {
			continue
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return 0, nil, validationErr(fmt.Sprintf("%s: %q is not an integer", name, raw), ErrorDetail{Message: name + " must be an integer", In: name, Code: "INVALID_INTEGER"})
		}
		ints[name] = n
	}
	limit, ok := ints["limit"]
	if !ok {
		limit = 10
	}
	if limit < 1 || limit > 1000 {
		return 0, nil, validationErr(fmt.Sprintf("limit must be between 1 and 1000, got %d", limit), ErrorDetail{Message: "limit must be between 1 and 1000", In: "limit", Code: "OUT_OF_RANGE"})
	}
	typ := v.Get("eventType")
	if typ != "" && !slices.Contains(EventTypes, typ) {
		return 0, nil, validationErr(fmt.Sprintf("eventType %q is not one of %s (case-sensitive)", typ, strings.Join(EventTypes, ", ")), ErrorDetail{Message: "unknown eventType", In: "eventType", Code: "INVALID_ENUM"})
	}
	excludeFiltered := false
	switch raw := v.Get("excludeFilteredEvents"); raw {
	case "", "false":
	case "true":
		excludeFiltered = true
	default:
		return 0, nil, validationErr(fmt.Sprintf("excludeFilteredEvents: %q is not a boolean", raw), ErrorDetail{Message: "excludeFilteredEvents must be true or false", In: "excludeFilteredEvents", Code: "INVALID_BOOLEAN"})
	}
	var after *eventRef
	if raw := v.Get("offset"); raw != "" {
		ref, ok := parseOffset(raw)
		if !ok {
			return 0, nil, validationErr(fmt.Sprintf("offset %q is not a token this endpoint returned", raw), ErrorDetail{Message: "invalid offset", In: "offset", Code: "INVALID_OFFSET"})
		}
		after = &ref
	}
	recipient := strings.ToLower(strings.TrimSpace(v.Get("recipient")))
	_, hasStart := ints["startTimestamp"]
	_, hasEnd := ints["endTimestamp"]
	var match []*emailEvent
	for _, e := range s.st.EmailEvents {
		switch {
		case ints["campaignId"] != 0 && e.Campaign != ints["campaignId"],
			recipient != "" && e.Recipient != recipient,
			typ != "" && e.Type != typ,
			hasStart && e.Created < ints["startTimestamp"],
			hasEnd && e.Created > ints["endTimestamp"],
			excludeFiltered && e.Filtered,
			ints["appId"] != 0 && ints["appId"] != appID:
			continue
		}
		match = append(match, e)
	}
	// Newest first; events of one millisecond in id order, so that an
	// offset names a place in the listing.
	slices.SortFunc(match, func(a, b *emailEvent) int { return cmp.Or(cmp.Compare(b.Created, a.Created), cmp.Compare(a.ID, b.ID)) })
	start := 0
	if after != nil {
		start, _ = slices.BinarySearchFunc(match, *after, func(e *emailEvent, r eventRef) int {
			return cmp.Or(cmp.Compare(r.Created, e.Created), cmp.Compare(e.ID, r.ID))
		})
		if start < len(match) && match[start].ID == after.ID && match[start].Created == after.Created {
			start++
		}
	}
	page := match[start:min(start+int(limit), len(match))]
	events := make([]any, 0, len(page))
	for _, e := range page {
		events = append(events, s.eventView(e))
	}
	out := map[string]any{"hasMore": start+len(page) < len(match), "events": events}
	if len(page) > 0 {
		last := page[len(page)-1]
		out["offset"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last.Created, 10) + ":" + last.ID))
	}
	return http.StatusOK, out, nil
}

// appID is the application id the fake's events carry (HubSpot's own
// email tools; the value is the fake's choice).
const appID = 113

func (s *Server) eventView(e *emailEvent) map[string]any {
	out := map[string]any{
		"id": e.ID, "created": e.Created, "type": e.Type, "recipient": e.Recipient, "portalId": s.opts.HubID,
		"appId": appID, "appName": e.AppName, "emailCampaignId": e.Campaign, "filteredEvent": e.Filtered,
	}
	if e.SentBy != nil {
		out["sentBy"] = map[string]any{"id": e.SentBy.ID, "created": e.SentBy.Created}
	}
	switch e.Type {
	case "OPEN", "CLICK":
		out["userAgent"] = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)"
		out["browser"] = map[string]any{"name": "Chrome", "family": "Chrome", "type": "Browser"}
		out["location"] = map[string]any{"country": "Germany", "state": "Berlin", "city": "Berlin"}
		if e.Type == "CLICK" {
			out["url"] = e.URL
		}
	case "BOUNCE":
		out["category"] = "HARD_BOUNCE"
		out["status"] = "5.1.1"
		out["response"] = "550 5.1.1 The email account that you tried to reach does not exist."
	case "STATUSCHANGE":
		// An unsubscribe from all email by the recipient.
		out["source"] = "SOURCE_RECIPIENT"
		out["portalSubscriptionStatus"] = "UNSUBSCRIBED"
		out["subscriptions"] = []any{}
	}
	return out
}

func parseOffset(raw string) (eventRef, bool) {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return eventRef{}, false
	}
	ms, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || id == "" {
		return eventRef{}, false
	}
	return eventRef{ID: id, Created: n}, true
}

// EmailEvents lists the events recorded, oldest first, for tests.
func (s *Server) EmailEvents() []EmailEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleEmails(s.opts.Now())
	out := make([]EmailEvent, 0, len(s.st.EmailEvents))
	for _, e := range s.st.EmailEvents {
		out = append(out, EmailEvent{Type: e.Type, Recipient: e.Recipient, At: time.UnixMilli(e.Created).UTC(), URL: e.URL, Filtered: e.Filtered})
	}
	return out
}
