package hubspot

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
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
// ids per associations batch read (since 2025-02).
const (
	objectBatch      = 100
	associationBatch = 1000
)

// dealProperties are read of every deal associated with a reached contact.
var dealProperties = []string{"dealname", "amount", "deal_currency_code", "dealstage", "createdate", "closedate", "hs_is_closed_won", "hs_lastmodifieddate"}

// contactProperties carry the contact's latest conversion: lastmile makes
// no HubSpot forms (a page's form stays HTML, captured by collected forms,
// if at all), so there is no form of ours to list submissions of; the
// contact record is where HubSpot says a reached contact converted.
// HubSpot keeps only the latest conversion's date there (and the form's
// name, which an Event has no field for), so earlier ones are not seen.
var contactProperties = []string{"email", "recent_conversion_date"}

// Outcomes reports what the contacts lastmile's campaigns reached did in
// the CRM: each deal associated with one of them as an opportunity_created
// (at its createdate, worth its amount) and, once closed won, a deal_won
// (at its closedate); and each contact's latest form conversion as a
// form_submission.
//
// The reached contacts are req.Contacts and the members of the lists
// lastmile made (req.Items of kind segment) that its sent emails included
// less those they excluded (see audiences), as the lists are now: someone
// removed from a list since a send is not among them, someone added since
// is.
//
// The path: lastmile's emails (one read each, for their lists), the
// lists' members (Lists v3 memberships, 250 a page), those
// contacts by id and the rest of req.Contacts by email (CRM v3 batch
// read, 100 a request), their deals (Associations v4 batch read, 1000 a
// request, paged per contact), the deals (CRM v3 batch read, 100 a
// request). Every request goes through the portal's limiter.
//
// A deal's amount is in its deal_currency_code, else in the portal's
// company currency (account details, read once when a deal needs it).
// A deal associated with several reached contacts is reported once, under
// the first of their addresses in sorted order, so its amount counts once.
//
// The cursor is the latest hs_lastmodifieddate seen: events of deals (and
// conversions) not modified since are left out. It saves no request, as
// HubSpot cannot list associations by time, and a deal associated with a
// reached contact later without otherwise changing stays left out until it
// changes; an empty cursor reads everything again (events keep their IDs).
// A failed read returns what it has, the cursor it was given, and the error.
func (t *Target) Outcomes(ctx context.Context, req sandbox.OutcomesRequest) ([]outcomes.Event, string, error) {
	var since time.Time
	if req.Cursor != "" {
		c, err := time.Parse(time.RFC3339Nano, req.Cursor)
		if err != nil {
			return nil, req.Cursor, fmt.Errorf("hubspot: outcomes cursor %q is not one this connector made (an RFC 3339 time): pass it back as returned, or empty to read from the start", req.Cursor)
		}
		since = c
	}
	emails := dedupeEmails(req.Contacts)
	if len(emails) == 0 && len(listIDs(req.Items)) == 0 {
		return nil, req.Cursor, nil
	}
	o := &outcomeRead{t: t, since: since, latest: since}
	members, err := o.members(ctx, req.Items)
	if err != nil {
		return nil, req.Cursor, err
	}
	contacts, err := o.contacts(ctx, "", members)
	if err != nil {
		return o.events, req.Cursor, t.fail("read the contacts of lastmile's lists", err)
	}
	known := map[string]bool{}
	for _, addr := range contacts {
		known[addr] = true
	}
	var rest []string
	for _, e := range emails {
		if !known[e] {
			rest = append(rest, e)
		}
	}
	byEmail, err := o.contacts(ctx, "email", rest)
	if err != nil {
		return o.events, req.Cursor, t.fail("read the reached contacts", err)
	}
	maps.Copy(contacts, byEmail)
	deals, err := o.dealIDs(ctx, contacts)
	if err != nil {
		return o.events, req.Cursor, t.fail("read the deals associated with the reached contacts", err)
	}
	if err := o.deals(ctx, deals); err != nil {
		return o.events, req.Cursor, err
	}
	next := req.Cursor
	if o.latest.After(since) {
		next = o.latest.UTC().Format(time.RFC3339Nano)
	}
	return o.events, next, errors.Join(o.problems...)
}

// outcomeRead is one Outcomes call's progress.
type outcomeRead struct {
	t             *Target
	since, latest time.Time
	events        []outcomes.Event
	problems      []error // what could not be read, next to the events that could
	currency      string  // the portal's company currency, once read
}

// listIDs are the HubSpot lists of the segments lastmile promoted there:
// the audiences its emails and workflows were sent to.
func listIDs(items []sandbox.MetricsItem) []string {
	var ids []string
	for _, it := range items {
		if it.Kind == sandbox.KindSegment && it.LiveID != "" && !slices.Contains(ids, it.LiveID) {
			ids = append(ids, it.LiveID)
		}
	}
	slices.Sort(ids)
	return ids
}

// audience is who one send reached: the members of include less those
// of exclude.
type audience struct{ include, exclude []string }

// audiences are the sends lastmile's lists took part in. A sent email of
// lastmile's reached its included lists less its excluded ones, so the
// members of a list it only excludes (customers left out of a promotion,
// say) are not counted as reached; an unsent one reached nobody. A list
// no email of lastmile's names (a workflow's trigger, a list a workflow
// adds to) reached all its members. An email deleted in HubSpot since
// names nothing any more.
func (o *outcomeRead) audiences(ctx context.Context, items []sandbox.MetricsItem) ([]audience, error) {
	lists := listIDs(items)
	var ids []string
	for _, it := range items {
		if it.Kind == sandbox.KindEmail && it.LiveID != "" && !slices.Contains(ids, it.LiveID) {
			ids = append(ids, it.LiveID)
		}
	}
	type sendTo struct {
		sent             bool
		include, exclude []string
	}
	got, err := collect(ctx, ids, o.t.cfg.MaxConcurrency, func(ctx context.Context, id string) (sendTo, bool, error) {
		var e struct {
			hsEmail
			To struct {
				ContactIlsLists struct {
					Include []string `json:"include"`
					Exclude []string `json:"exclude"`
				} `json:"contactIlsLists"`
			} `json:"to"`
		}
		_, err := o.t.do(ctx, call{method: http.MethodGet, path: o.t.paths.emails + "/" + id}, &e)
		if rest.StatusOf(err) == http.StatusNotFound {
			return sendTo{}, false, nil
		}
		return sendTo{e.hsEmail.sent(), e.To.ContactIlsLists.Include, e.To.ContactIlsLists.Exclude}, err == nil, err
	})
	if err != nil {
		return nil, o.t.fail("read the audiences of lastmile's emails", err)
	}
	var out []audience
	named := map[string]bool{}
	for _, id := range ids {
		st, ok := got[id]
		if !ok {
			continue
		}
		var a audience
		for _, l := range st.include {
			named[l] = true
			// Only lastmile's lists: another list someone added in HubSpot
			// is not an audience lastmile chose.
			if slices.Contains(lists, l) {
				a.include = append(a.include, l)
			}
		}
		for _, l := range st.exclude {
			named[l] = true
			a.exclude = append(a.exclude, l)
		}
		if st.sent && len(a.include) > 0 {
			out = append(out, a)
		}
	}
	for _, l := range lists {
		if !named[l] {
			out = append(out, audience{include: []string{l}})
		}
	}
	return out, nil
}

// members reads the record ids of the contacts lastmile's sends reached
// (see audiences), in numeric order, reading each list once. HubSpot
// reports no touches, so the sandbox may know no contact a campaign
// reached there; the lists lastmile sent to say who they were. A list
// deleted in HubSpot since has no members left to read.
func (o *outcomeRead) members(ctx context.Context, items []sandbox.MetricsItem) ([]string, error) {
	auds, err := o.audiences(ctx, items)
	if err != nil {
		return nil, err
	}
	read := map[string]map[string]bool{}
	of := func(id string) (map[string]bool, error) {
		if m, ok := read[id]; ok {
			return m, nil
		}
		m, err := o.t.listMembers(ctx, id)
		if rest.StatusOf(err) == http.StatusNotFound {
			o.t.log.Warn("hubspot: a list lastmile made or excluded is gone, so its members are not looked up for outcomes", "target", o.t.name, "list", id)
			m, err = map[string]bool{}, nil
		}
		if err != nil {
			return nil, o.t.fail("read the members of list "+id+" (the contacts lastmile's campaigns reached)", err)
		}
		read[id] = m
		return m, nil
	}
	reached := map[string]bool{}
	for _, a := range auds {
		in := map[string]bool{}
		for _, l := range a.include {
			m, err := of(l)
			if err != nil {
				return nil, err
			}
			maps.Copy(in, m)
		}
		for _, l := range a.exclude {
			m, err := of(l)
			if err != nil {
				return nil, err
			}
			for id := range m {
				delete(in, id)
			}
		}
		maps.Copy(reached, in)
	}
	ids := slices.Collect(maps.Keys(reached))
	slices.SortFunc(ids, numeric)
	return ids, nil
}

func numeric(a, b string) int {
	x, _ := strconv.ParseInt(a, 10, 64)
	y, _ := strconv.ParseInt(b, 10, 64)
	return cmp.Or(cmp.Compare(x, y), cmp.Compare(a, b))
}

// contacts reads contacts by idProperty (email; "" for record ids) and
// returns their addresses by record id; it records their latest
// conversions on the way. Ids HubSpot has no contact for are not an
// error: nobody there to have converted. A contact without an address is
// left out, as lastmile reaches contacts by address.
func (o *outcomeRead) contacts(ctx context.Context, idProperty string, ids []string) (map[string]string, error) {
	byID := map[string]string{}
	err := o.t.readContacts(ctx, idProperty, ids, contactProperties, func(id string, p map[string]string) {
		addr := strings.ToLower(strings.TrimSpace(p["email"]))
		if addr == "" {
			return
		}
		byID[id] = addr
		o.conversion(id, addr, p)
	})
	if err != nil {
		return nil, err
	}
	return byID, nil
}

// conversion reports a contact's latest form conversion.
func (o *outcomeRead) conversion(id, addr string, p map[string]string) {
	raw := p["recent_conversion_date"]
	if raw == "" {
		return
	}
	at, err := hubTime(raw)
	if err != nil {
		o.problems = append(o.problems, fmt.Errorf("hubspot: contact %s: recent_conversion_date %q is not a time lastmile can read", id, raw))
		return
	}
	if !at.After(o.since) {
		return
	}
	if at.After(o.latest) {
		o.latest = at
	}
	o.events = append(o.events, outcomes.Event{
		ID:      "hubspot:contact:" + id + ":conversion:" + strconv.FormatInt(at.UnixMilli(), 10),
		Type:    outcomes.FormSubmission,
		Source:  "hubspot:contacts",
		Contact: addr,
		Target:  o.t.name,
		At:      at,
	})
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
