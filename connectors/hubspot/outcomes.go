package hubspot

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.OutcomeReader = (*Target)(nil)

// Batch sizes HubSpot allows: 100 records per CRM object batch read, 1000
// ids per associations batch read (since 2025-02), 1000 email events a
// page.
const (
	objectBatch      = 100
	associationBatch = 1000
	eventPage        = 1000
)

// historyBatch is how many contacts one read with property history asks
// for. HubSpot documents 100 inputs per batch read, and pages of 50 for a
// list read that asks for history; whether a batch read with history
// takes fewer than 100 it does not say, so these go 50 at a time.
const historyBatch = 50

// defaultEventPages bounds how many pages of one email campaign's events
// one Outcomes call reads (10,000 events): a large send's history comes
// back over several calls, each continuing where the last stopped, rather
// than in one slice.
const defaultEventPages = 10

// eventOverlap is how far before a campaign's cursor its next read
// starts, so that events HubSpot indexes a little after they happened are
// not missed. Events keep their IDs: the sandbox keeps each once.
const eventOverlap = time.Hour

// dealProperties are read of every deal associated with a reached contact.
var dealProperties = []string{"dealname", "amount", "deal_currency_code", "dealstage", "createdate", "closedate", "hs_is_closed_won", "hs_lastmodifieddate"}

// Conversions are read from the contact record: lastmile makes no HubSpot
// forms (a page's form stays HTML, captured by collected forms, if at
// all), so there is no form of ours to list submissions of. Each
// conversion sets recent_conversion_date, so the versions in its history
// are the contact's conversions. recent_conversion_event_name's history
// would name the form or page, which an Event has no field for, so it is
// not asked for.
var (
	contactProperties = []string{"email", "recent_conversion_date"}
	contactHistory    = []string{"recent_conversion_date"}
)

// emailEventTypes are the email event types reported, as lastmile names
// them. The others are left out: DROPPED, PROCESSED, DEFERRED and
// SUPPRESSED are HubSpot's delivery steps, PRINT and FORWARD have no
// lastmile type, and a STATUSCHANGE may concern any subscription of the
// recipient's, not the email's, so it does not say reliably that the
// email made them unsubscribe (the email's statistics count that).
var emailEventTypes = map[string]string{
	"SENT": outcomes.Sent, "DELIVERED": outcomes.Delivered, "OPEN": outcomes.Open,
	"CLICK": outcomes.Click, "BOUNCE": outcomes.Bounce, "SPAMREPORT": outcomes.SpamReport,
}

// Outcomes reports what lastmile's emails did, per recipient, and what the
// contacts they reached did in the CRM:
//
//   - each email's events from the Email Events API (GET
//     /email/public/v1/events, per email campaign the email names in
//     allEmailCampaignIds and primaryEmailCampaignId): sent, delivered,
//     open, click (with its URL), bounce and spam_report, each under the
//     email's live id;
//   - each deal associated with a reached contact as an
//     opportunity_created (at its createdate, worth its amount) and, once
//     closed won, a deal_won (at its closedate);
//   - each of a reached contact's form conversions as a form_submission.
//
// The reached contacts are the recipients of the SENT events read, as
// HubSpot recorded them at the send (someone removed from a list since is
// still among them, someone added since is not), and req.Contacts: the
// sandbox passes back every contact it kept a touch of, so the sends read
// in earlier calls count too. A workflow's emails are lastmile emails as
// well: their sends are SENT events like a batch email's.
//
// The path: lastmile's emails (one read each, for their email campaigns),
// each campaign's events (1000 a page, at most defaultEventPages a call,
// filtered bot activity excluded), the reached contacts by email with the
// history of recent_conversion_date (CRM v3 batch read, 50 a request),
// their deals (Associations v4 batch read, 1000 a request, paged per
// contact), the deals (CRM v3 batch read, 100 a request). Every request
// goes through the portal's limiter.
//
// A deal's amount is in its deal_currency_code, else in the portal's
// company currency (account details, read once when a deal needs it).
// A deal associated with several reached contacts is reported once, under
// the first of their addresses in sorted order, so its amount counts once.
//
// The cursor (see cursor) holds, per email campaign, the newest event read
// (the next read starts eventOverlap before it) or, for a campaign whose
// read stopped at the page bound, where it stopped; and the latest
// hs_lastmodifieddate of a deal or conversion date seen: deals not
// modified since, and conversions before it, are left out. While a
// campaign's events are not all read, the CRM is not read at all, so that
// it is read once, with every send in; the next call goes on. A failed
// read returns what it has, the cursor it was given, and the error.
func (t *Target) Outcomes(ctx context.Context, req sandbox.OutcomesRequest) ([]outcomes.Event, string, error) {
	cur, since, err := parseCursor(req.Cursor)
	if err != nil {
		return nil, req.Cursor, err
	}
	o := &outcomeRead{t: t, since: since, latest: since}
	next := cursor{CRM: cur.CRM}
	sent, err := o.emailEvents(ctx, req.Items, cur, &next)
	if err != nil {
		return o.events, req.Cursor, err
	}
	if len(next.Behind) > 0 {
		return o.events, next.String(), nil
	}
	if reached := dedupeEmails(append(slices.Clone(req.Contacts), sent...)); len(reached) > 0 {
		contacts, err := o.contacts(ctx, reached)
		if err != nil {
			return o.events, req.Cursor, t.fail("read the reached contacts", err)
		}
		deals, err := o.dealIDs(ctx, contacts)
		if err != nil {
			return o.events, req.Cursor, t.fail("read the deals associated with the reached contacts", err)
		}
		if err := o.deals(ctx, deals); err != nil {
			return o.events, req.Cursor, err
		}
	}
	if o.latest.After(since) {
		next.CRM = o.latest.UTC().Format(time.RFC3339Nano)
	}
	return o.events, next.String(), errors.Join(o.problems...)
}

// cursor is where Outcomes goes on from, kept by the sandbox as an opaque
// string: {"crm":"<RFC 3339>","events":{"<campaign id>":<ms>},
// "behind":{"<campaign id>":{"before":<ms>,"top":<ms>}}}.
type cursor struct {
	// CRM is the latest hs_lastmodifieddate of a deal, or conversion date,
	// seen.
	CRM string `json:"crm,omitempty"`
	// Events holds, per email campaign whose events were all read, the
	// created (ms) of the newest event read.
	Events map[string]int64 `json:"events,omitempty"`
	// Behind holds the campaigns whose read stopped at the page bound.
	Behind map[string]behind `json:"behind,omitempty"`
}

// behind is a campaign read that stopped at the page bound. HubSpot lists
// events newest first, so what is left are the events from the campaign's
// start (Events, less the overlap) up to Before.
type behind struct {
	// Before is the created (ms) of the oldest event read; the next read
	// ends there (HubSpot's endTimestamp is inclusive: the events of that
	// millisecond are read again, and kept once).
	Before int64 `json:"before"`
	// Top is the created (ms) of the newest event read: the campaign's
	// Events once the rest is read.
	Top int64 `json:"top"`
}

// parseCursor reads a cursor Outcomes made, and the time of its CRM part.
// A plain RFC 3339 time is a cursor of before email events were read: the
// CRM part alone, every campaign read from the start.
func parseCursor(s string) (cursor, time.Time, error) {
	var c cursor
	shown := s
	if len(shown) > 80 {
		shown = shown[:80] + "…"
	}
	bad := fmt.Errorf("hubspot: outcomes cursor %q is not one this connector made (a JSON object, or an RFC 3339 time from before it read email events): pass it back as returned, or empty to read from the start", shown)
	switch {
	case s == "":
		return c, time.Time{}, nil
	case strings.HasPrefix(s, "{"):
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			return c, time.Time{}, bad
		}
	default:
		c.CRM = s
	}
	if c.CRM == "" {
		return c, time.Time{}, nil
	}
	since, err := time.Parse(time.RFC3339Nano, c.CRM)
	if err != nil {
		return c, time.Time{}, bad
	}
	return c, since, nil
}

// String is the cursor as the sandbox keeps it; maps marshal in key
// order, so the same cursor is the same string.
func (c cursor) String() string {
	if c.CRM == "" && len(c.Events) == 0 && len(c.Behind) == 0 {
		return ""
	}
	data, _ := json.Marshal(c)
	return string(data)
}

// outcomeRead is one Outcomes call's progress.
type outcomeRead struct {
	t             *Target
	since, latest time.Time
	events        []outcomes.Event
	problems      []error // what could not be read, next to the events that could
	currency      string  // the portal's company currency, once read
}

// emailEvents reads the events of lastmile's emails (req.Items of kind
// email) into o.events, records in next how far each campaign's read got,
// and returns the recipients of the SENT events read. An email deleted in
// HubSpot since names no campaign any more: its events are not read.
func (o *outcomeRead) emailEvents(ctx context.Context, items []sandbox.MetricsItem, cur cursor, next *cursor) ([]string, error) {
	var emails []string
	for _, it := range items {
		if it.Kind == sandbox.KindEmail && it.LiveID != "" && !slices.Contains(emails, it.LiveID) {
			emails = append(emails, it.LiveID)
		}
	}
	slices.Sort(emails)
	campaignsOf, err := collect(ctx, emails, o.t.cfg.MaxConcurrency, func(ctx context.Context, id string) ([]string, bool, error) {
		var e struct {
			All     []string `json:"allEmailCampaignIds"`
			Primary string   `json:"primaryEmailCampaignId"`
		}
		_, err := o.t.do(ctx, call{method: http.MethodGet, path: o.t.paths.emails + "/" + id}, &e)
		if rest.StatusOf(err) == http.StatusNotFound {
			o.t.log.Warn("hubspot: an email lastmile sent is gone, so its events are not read for outcomes", "target", o.t.name, "email", id)
			return nil, false, nil
		}
		if e.Primary != "" && !slices.Contains(e.All, e.Primary) {
			e.All = append(e.All, e.Primary)
		}
		return e.All, err == nil, err
	})
	if err != nil {
		return nil, o.t.fail("read lastmile's emails (for their email campaigns)", err)
	}
	emailOf := map[string]string{}
	var campaigns []string
	for _, id := range emails {
		for _, c := range campaignsOf[id] {
			if _, ok := emailOf[c]; !ok {
				emailOf[c] = id
				campaigns = append(campaigns, c)
			}
		}
	}
	reads, err := collect(ctx, campaigns, o.t.cfg.MaxConcurrency, func(ctx context.Context, c string) (campaignRead, bool, error) {
		r, err := o.campaign(ctx, c, emailOf[c], cur)
		return r, err == nil, err
	})
	// What was read is kept even after a failure; the cursor only moves
	// when every campaign was read. A campaign no email names any more
	// drops out of it.
	var sent []string
	next.Events, next.Behind = map[string]int64{}, map[string]behind{}
	for _, c := range campaigns {
		r, ok := reads[c]
		if !ok {
			continue
		}
		o.events = append(o.events, r.events...)
		sent = append(sent, r.sent...)
		if r.read > 0 {
			next.Events[c] = r.read
		}
		if r.behind != nil {
			next.Behind[c] = *r.behind
		}
	}
	if err != nil {
		return nil, o.t.fail("read the email events of lastmile's emails", err)
	}
	return sent, nil
}

// campaignRead is what one campaign's read found.
type campaignRead struct {
	events []outcomes.Event
	sent   []string // the recipients of its SENT events
	read   int64    // the campaign's cursor (cursor.Events) after the read
	behind *behind  // where the read stopped, when it stopped at the page bound
}

// hsEmailEvent is an event of the Email Events API, as far as lastmile
// reads it.
type hsEmailEvent struct {
	ID        string `json:"id"`
	Created   int64  `json:"created"`
	Type      string `json:"type"`
	Recipient string `json:"recipient"`
	URL       string `json:"url"`
}

// campaign reads an email campaign's events, newest first, from its
// cursor less the overlap (or where its last read stopped) to now, at most
// eventPages pages.
func (o *outcomeRead) campaign(ctx context.Context, campaign, emailID string, cur cursor) (campaignRead, error) {
	r := campaignRead{read: cur.Events[campaign]}
	q := url.Values{"campaignId": {campaign}, "limit": {strconv.Itoa(eventPage)}, "excludeFilteredEvents": {"true"}}
	if r.read > 0 {
		q.Set("startTimestamp", strconv.FormatInt(max(0, r.read-eventOverlap.Milliseconds()), 10))
	}
	top, end := r.read, int64(0)
	if b, ok := cur.Behind[campaign]; ok {
		top, end = max(top, b.Top), b.Before
		q.Set("endTimestamp", strconv.FormatInt(end, 10))
	}
	var oldest int64
	for page := 1; ; page++ {
		var p struct {
			HasMore bool           `json:"hasMore"`
			Offset  string         `json:"offset"`
			Events  []hsEmailEvent `json:"events"`
		}
		if _, err := o.t.do(ctx, call{method: http.MethodGet, path: "/email/public/v1/events?" + q.Encode()}, &p); err != nil {
			return r, err
		}
		for _, ev := range p.Events {
			top = max(top, ev.Created)
			if oldest == 0 || ev.Created < oldest {
				oldest = ev.Created
			}
			typ, ok := emailEventTypes[ev.Type]
			addr := strings.ToLower(strings.TrimSpace(ev.Recipient))
			if !ok || addr == "" {
				continue
			}
			if typ == outcomes.Sent {
				r.sent = append(r.sent, addr)
			}
			r.events = append(r.events, outcomes.Event{
				ID:   "hubspot:email-event:" + strconv.FormatInt(ev.Created, 10) + ":" + ev.ID,
				Type: typ, Source: "hubspot:email-events", Contact: addr, Target: o.t.name, LiveID: emailID,
				At: time.UnixMilli(ev.Created).UTC(), URL: ev.URL,
			})
		}
		if !p.HasMore {
			r.read = top
			return r, nil
		}
		if p.Offset == "" || p.Offset == q.Get("offset") {
			return r, errors.New("HubSpot's email event listing did not end (hasMore without a new offset)")
		}
		// Stop at the bound while what is left holds events never read
		// (newer than the campaign's cursor), and unless every event read
		// is of the millisecond the read ends at (the next read would
		// begin where this one did). The overlap is read to its end: cut
		// there, each sync would cut it and read it again, round after
		// round, its cursor never the same twice.
		if page >= o.t.o.eventPages && oldest > cur.Events[campaign] && (end == 0 || oldest < end) {
			r.behind = &behind{Before: oldest, Top: top}
			return r, nil
		}
		q.Set("offset", p.Offset)
	}
}

// contacts reads the contacts with these addresses and returns their
// addresses by record id; it records their conversions on the way.
// Addresses HubSpot has no contact for are not an error: nobody there to
// have converted or to have deals.
func (o *outcomeRead) contacts(ctx context.Context, emails []string) (map[string]string, error) {
	byID := map[string]string{}
	for start := 0; start < len(emails); start += historyBatch {
		chunk := emails[start:min(start+historyBatch, len(emails))]
		inputs := make([]map[string]string, len(chunk))
		for i, e := range chunk {
			inputs[i] = map[string]string{"id": e}
		}
		var r struct {
			Results []struct {
				ID         string                       `json:"id"`
				Properties map[string]string            `json:"properties"`
				History    map[string][]propertyVersion `json:"propertiesWithHistory"`
			} `json:"results"`
		}
		body := map[string]any{"inputs": inputs, "idProperty": "email", "properties": contactProperties, "propertiesWithHistory": contactHistory}
		if _, err := o.t.do(ctx, call{method: http.MethodPost, path: o.t.paths.contacts + "/batch/read", body: body, idempotent: true}, &r); err != nil {
			return nil, err
		}
		for _, c := range r.Results {
			addr := strings.ToLower(strings.TrimSpace(c.Properties["email"]))
			if addr == "" {
				continue
			}
			byID[c.ID] = addr
			versions := c.History["recent_conversion_date"]
			// The current value is the newest version; said again in case
			// HubSpot answers no history.
			if v := c.Properties["recent_conversion_date"]; v != "" {
				versions = append(versions, propertyVersion{Value: v})
			}
			o.conversions(c.ID, addr, versions)
		}
	}
	return byID, nil
}

// propertyVersion is one version of a property's history.
type propertyVersion struct {
	Value     string `json:"value"`
	Timestamp string `json:"timestamp"`
}

// conversions reports a contact's form conversions: each version of its
// recent_conversion_date, at the date it holds (or, unreadable, when it
// was set). A version without a value cleared the property: no
// conversion. The IDs are those the latest conversion alone had before, so
// a conversion kept then is not kept twice.
func (o *outcomeRead) conversions(id, addr string, versions []propertyVersion) {
	seen := map[int64]bool{}
	for _, v := range versions {
		if strings.TrimSpace(v.Value) == "" {
			continue
		}
		at, err := hubTime(v.Value)
		if err != nil {
			if at, err = hubTime(v.Timestamp); err != nil {
				o.problems = append(o.problems, fmt.Errorf("hubspot: contact %s: recent_conversion_date %q is not a time lastmile can read", id, v.Value))
				continue
			}
		}
		ms := at.UnixMilli()
		if seen[ms] || !at.After(o.since) {
			continue
		}
		seen[ms] = true
		if at.After(o.latest) {
			o.latest = at
		}
		o.events = append(o.events, outcomes.Event{
			ID:      "hubspot:contact:" + id + ":conversion:" + strconv.FormatInt(ms, 10),
			Type:    outcomes.FormSubmission,
			Source:  "hubspot:contacts",
			Contact: addr,
			Target:  o.t.name,
			At:      at,
		})
	}
}

func numeric(a, b string) int {
	x, _ := strconv.ParseInt(a, 10, 64)
	y, _ := strconv.ParseInt(b, 10, 64)
	return cmp.Or(cmp.Compare(x, y), cmp.Compare(a, b))
}

// dealIDs reads the deals associated with the contacts and returns, per
// deal, the reached contact it is reported under.
func (o *outcomeRead) dealIDs(ctx context.Context, contacts map[string]string) (map[string]string, error) {
	ids := make([]string, 0, len(contacts))
	for id := range contacts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	under := map[string]string{}
	add := func(deal, contact string) {
		if cur, ok := under[deal]; !ok || contacts[contact] < cur {
			under[deal] = contacts[contact]
		}
	}
	type input struct {
		ID    string `json:"id"`
		After string `json:"after,omitempty"`
	}
	var pending []input
	for _, id := range ids {
		pending = append(pending, input{ID: id})
	}
	for guard := 0; len(pending) > 0; guard++ {
		if guard > 100000 {
			return nil, errors.New("HubSpot's association listing did not end")
		}
		chunk := pending[:min(associationBatch, len(pending))]
		pending = pending[len(chunk):]
		var r struct {
			Results []struct {
				From struct {
					ID string `json:"id"`
				} `json:"from"`
				To []struct {
					ToObjectID json.Number `json:"toObjectId"`
				} `json:"to"`
				Paging *paging `json:"paging"`
			} `json:"results"`
			Errors []struct {
				Category    string `json:"category"`
				SubCategory string `json:"subCategory"`
				Message     string `json:"message"`
			} `json:"errors"`
		}
		body := map[string]any{"inputs": chunk}
		if _, err := o.t.do(ctx, call{method: http.MethodPost, path: "/crm/v4/associations/contacts/deals/batch/read", body: body, idempotent: true}, &r); err != nil {
			return nil, err
		}
		for _, res := range r.Results {
			for _, to := range res.To {
				add(to.ToObjectID.String(), res.From.ID)
			}
			if a := res.Paging.after(); a != "" {
				pending = append(pending, input{ID: res.From.ID, After: a})
			}
		}
		// A contact without deals is an error entry of a 207; anything else
		// there is a contact whose deals were not read, which must be said.
		for _, e := range r.Errors {
			if e.Category == "OBJECT_NOT_FOUND" {
				continue
			}
			o.problems = append(o.problems, fmt.Errorf("hubspot: reading deal associations: %s (%s)", e.Message, firstNonEmpty(e.SubCategory, e.Category)))
		}
	}
	return under, nil
}

// deals reads the deals and makes their events.
func (o *outcomeRead) deals(ctx context.Context, under map[string]string) error {
	ids := make([]string, 0, len(under))
	for id := range under {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, numeric)
	for start := 0; start < len(ids); start += objectBatch {
		chunk := ids[start:min(start+objectBatch, len(ids))]
		inputs := make([]map[string]string, len(chunk))
		for i, id := range chunk {
			inputs[i] = map[string]string{"id": id}
		}
		var r struct {
			Results []struct {
				ID         string            `json:"id"`
				Properties map[string]string `json:"properties"`
			} `json:"results"`
		}
		body := map[string]any{"inputs": inputs, "properties": dealProperties}
		if _, err := o.t.do(ctx, call{method: http.MethodPost, path: "/crm/v3/objects/deals/batch/read", body: body, idempotent: true}, &r); err != nil {
			return o.t.fail("read the deals associated with the reached contacts", err)
		}
		// Deals deleted since their association was read are absent (a 207
		// naming them): there is nothing left to report of them.
		for _, d := range r.Results {
			if err := o.deal(ctx, d.ID, under[d.ID], d.Properties); err != nil {
				return err
			}
		}
	}
	return nil
}

// deal makes a deal's events. Only a failure to ask HubSpot is returned;
// a value lastmile cannot read is a problem reported beside the events.
func (o *outcomeRead) deal(ctx context.Context, id, contact string, p map[string]string) error {
	if raw := p["hs_lastmodifieddate"]; raw != "" {
		mod, err := hubTime(raw)
		if err == nil {
			if !mod.After(o.since) {
				return nil
			}
			if mod.After(o.latest) {
				o.latest = mod
			}
		}
	}
	var value *outcomes.Money
	if amt := strings.TrimSpace(p["amount"]); amt != "" {
		cur := strings.TrimSpace(p["deal_currency_code"])
		if cur == "" {
			c, err := o.companyCurrency(ctx)
			if err != nil {
				return err
			}
			cur = c
		}
		m, err := dealMoney(amt, cur)
		if err != nil {
			o.problems = append(o.problems, fmt.Errorf("hubspot: deal %s (%s): its amount is reported without a value: %v", id, p["dealname"], err))
		} else {
			value = &m
		}
	}
	ev := func(kind, suffix, field string) {
		raw := p[field]
		at, err := hubTime(raw)
		if err != nil {
			o.problems = append(o.problems, fmt.Errorf("hubspot: deal %s (%s): %s %q is not a time lastmile can read, so its %s is not reported", id, p["dealname"], field, raw, kind))
			return
		}
		o.events = append(o.events, outcomes.Event{
			ID: "hubspot:deal:" + id + ":" + suffix, Type: kind, Source: "hubspot:deals",
			Contact: contact, Target: o.t.name, At: at, Value: value,
		})
	}
	ev(outcomes.OpportunityCreated, "created", "createdate")
	if p["hs_is_closed_won"] == "true" {
		field := "closedate"
		if p[field] == "" {
			field = "hs_lastmodifieddate" // won without a close date: the change that won it
		}
		ev(outcomes.DealWon, "won", field)
	}
	return nil
}

// companyCurrency is the portal's currency, for deals without their own.
func (o *outcomeRead) companyCurrency(ctx context.Context) (string, error) {
	if o.currency != "" {
		return o.currency, nil
	}
	var r struct {
		CompanyCurrency string `json:"companyCurrency"`
	}
	if _, err := o.t.do(ctx, call{method: http.MethodGet, path: "/account-info/v3/details"}, &r); err != nil {
		return "", o.t.fail("read the portal's company currency (for deals without a currency)", err)
	}
	if r.CompanyCurrency == "" {
		return "", o.t.fail("read the portal's company currency", errors.New("HubSpot's account details name no companyCurrency"))
	}
	o.currency = r.CompanyCurrency
	return o.currency, nil
}

// dealMoney reads a deal amount. HubSpot keeps amounts as decimals, and
// one computed in HubSpot may carry more decimals than the currency has;
// such an amount is rounded to the currency's minor unit.
func dealMoney(amount, cur string) (outcomes.Money, error) {
	m, err := outcomes.ParseMoney(amount, cur)
	if err == nil {
		return m, nil
	}
	f, ferr := strconv.ParseFloat(amount, 64)
	if ferr != nil {
		return outcomes.Money{}, err
	}
	return outcomes.MoneyFromFloat(f, cur)
}

// hubTime reads a CRM datetime property: ISO 8601 in v3 answers, or epoch
// milliseconds as older records and some portals still hold them.
func hubTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time", s)
}
