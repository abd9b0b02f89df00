package hubspottest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The CRM deals, associations and account-details routes. Their OpenAPI
// files are not among the saved specs; the shapes follow HubSpot's API
// reference (developers.hubspot.com, CRM deals batch read, Associations
// v4 batch read, Account information details):
//
//   - POST /crm/v3/objects/deals/batch/read {inputs:[{id}] (at most 100),
//     properties[], idProperty?} → {status, results:[{id, properties,
//     createdAt, updatedAt, archived}], startedAt, completedAt}; ids that
//     name no deal make it a 207 with errors[] (OBJECT_NOT_FOUND).
//   - POST /crm/v4/associations/contacts/deals/batch/read {inputs:[{id,
//     after?}] (at most 1000, HubSpot's limit since 2025-02)} → {status,
//     results:[{from:{id}, to:[{toObjectId, associationTypes:[{category,
//     typeId, label}]}], paging?}]}; paging is present only when the
//     contact has more deals than one page holds (the fake's page is
//     AssociationPage). A contact without deals is a 207 error entry.
//   - GET /account-info/v3/details → {portalId, companyCurrency, …}.
//
// Both batch reads need the read scope of every object type they touch.

// AssociationPage is how many associations of one object the fake answers
// per page of a batch read; HubSpot does not document its page size.
const AssociationPage = 100

// Deal is a deal as tests give it to the fake.
type Deal struct {
	Name     string
	Amount   string // a decimal, as HubSpot keeps it; "" for none
	Currency string // deal_currency_code; "" for the portal's currency
	Stage    string // default "appointmentscheduled", "closedwon" when Won
	Created  time.Time
	Closed   time.Time // closedate; zero for none
	Won      bool      // hs_is_closed_won
	// Modified is hs_lastmodifieddate (default: Created, or Closed when later).
	Modified time.Time
	// Contacts are the addresses of the contacts the deal is associated
	// with; missing contacts are created.
	Contacts []string
}

type dealObj struct {
	Props    map[string]string `json:"props"`
	Created  time.Time         `json:"created"`
	Modified time.Time         `json:"modified"`
	Contacts []string          `json:"contacts,omitempty"` // contact ids
}

// AddDeal creates a deal, associates it with its contacts and returns its id.
func (s *Server) AddDeal(d Deal) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.st.newID(baseDeal)
	o := &dealObj{Created: d.Created.UTC()}
	s.setDealLocked(id, o, d)
	s.st.Deals[id] = o
	s.persistLocked()
	return id
}

// UpdateDeal replaces a deal's properties and associations.
func (s *Server) UpdateDeal(id string, d Deal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.st.Deals[id]
	if !ok {
		return
	}
	s.setDealLocked(id, o, d)
	s.persistLocked()
}

func (s *Server) setDealLocked(id string, o *dealObj, d Deal) {
	if d.Created.IsZero() {
		d.Created = s.opts.Now()
	}
	stage := d.Stage
	if stage == "" {
		stage = "appointmentscheduled"
		if d.Won {
			stage = "closedwon"
		}
	}
	mod := d.Modified
	if mod.IsZero() {
		mod = d.Created
		if d.Closed.After(mod) {
			mod = d.Closed
		}
	}
	o.Created, o.Modified = d.Created.UTC(), mod.UTC()
	o.Props = map[string]string{
		"hs_object_id": id, "dealname": d.Name, "amount": d.Amount, "deal_currency_code": d.Currency,
		"dealstage": stage, "createdate": ts(d.Created), "hs_lastmodifieddate": ts(mod),
		"hs_is_closed_won": strconv.FormatBool(d.Won), "hs_is_closed": strconv.FormatBool(d.Won || !d.Closed.IsZero()),
		"closedate": "",
	}
	if !d.Closed.IsZero() {
		o.Props["closedate"] = ts(d.Closed)
	}
	o.Contacts = nil
	for _, e := range d.Contacts {
		cid := s.contactByEmail(e)
		if cid == "" {
			cid = s.st.newID(baseContact)
			s.st.Contacts[cid] = strings.ToLower(strings.TrimSpace(e))
		}
		if !slices.Contains(o.Contacts, cid) {
			o.Contacts = append(o.Contacts, cid)
		}
	}
}

// SetContactProperties sets properties of the contact with this address
// (recent_conversion_date, recent_conversion_event_name, …); a missing
// contact is created. A property whose value changes gets a version in
// its history, stamped with the fake's clock.
func (s *Server) SetContactProperties(email string, props map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setContactProps(email, props, s.opts.Now(), "API")
	s.persistLocked()
}

// AddFormConversion records that the contact with this address (created
// if missing) submitted a form at that time, as HubSpot does on the
// contact: recent_conversion_date and recent_conversion_event_name set,
// a version of each in their history.
func (s *Server) AddFormConversion(email string, at time.Time, formName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setContactProps(email, map[string]string{"recent_conversion_date": ts(at), "recent_conversion_event_name": formName}, at, "FORM")
	s.persistLocked()
}

// propertyVersion is one version of a property, as propertiesWithHistory
// answers it.
type propertyVersion struct {
	Value      string `json:"value"`
	Timestamp  string `json:"timestamp"`
	SourceType string `json:"sourceType"`
	SourceID   string `json:"sourceId,omitempty"`
}

func (s *Server) setContactProps(email string, props map[string]string, at time.Time, source string) {
	id := s.contactByEmail(email)
	if id == "" {
		id = s.st.newID(baseContact)
		s.st.Contacts[id] = strings.ToLower(strings.TrimSpace(email))
	}
	if s.st.ContactProps[id] == nil {
		s.st.ContactProps[id] = map[string]string{}
	}
	if s.st.ContactHistory == nil {
		s.st.ContactHistory = map[string]map[string][]propertyVersion{}
	}
	if s.st.ContactHistory[id] == nil {
		s.st.ContactHistory[id] = map[string][]propertyVersion{}
	}
	for k, v := range props {
		if old, ok := s.st.ContactProps[id][k]; ok && old == v {
			continue
		}
		s.st.ContactProps[id][k] = v
		h := s.st.ContactHistory[id][k]
		s.st.ContactHistory[id][k] = append([]propertyVersion{{Value: v, Timestamp: ts(at), SourceType: source}}, h...)
	}
}

// SetCompanyCurrency sets the portal's company currency (default USD).
func (s *Server) SetCompanyCurrency(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.CompanyCurrency = code
	s.persistLocked()
}

// readDeals is POST /crm/v3/objects/deals/batch/read.
func (s *Server) readDeals(q *request) (int, any, *httpError) {
	body, herr := batchReadBody(q, "hs_object_id")
	if herr != nil {
		return 0, nil, herr
	}
	results := []any{}
	var missing []string
	for _, in := range body.Inputs {
		d, ok := s.st.Deals[in.ID]
		if !ok {
			missing = append(missing, in.ID)
			continue
		}
		// HubSpot answers the properties asked for (a few defaults when
		// none are), each present even when empty (null).
		names := body.Properties
		if len(names) == 0 {
			names = []string{"dealname", "amount", "closedate", "createdate", "dealstage", "hs_lastmodifieddate", "hs_object_id", "pipeline"}
		}
		props := map[string]any{}
		for _, n := range names {
			if v := d.Props[n]; v != "" {
				props[n] = v
			} else {
				props[n] = nil
			}
		}
		props["hs_object_id"] = in.ID
		results = append(results, map[string]any{
			"id": in.ID, "archived": false, "createdAt": ts(d.Created), "updatedAt": ts(d.Modified), "properties": props,
		})
	}
	out := map[string]any{"status": "COMPLETE", "results": results, "startedAt": ts(q.now), "completedAt": ts(q.now)}
	if len(missing) > 0 {
		out["numErrors"] = 1
		out["errors"] = []any{map[string]any{
			"status": "error", "category": "OBJECT_NOT_FOUND",
			"message": "Could not get some DEAL objects, they may be deleted or not exist. Check that ids are valid.",
			"context": map[string]any{"ids": missing},
		}}
		return http.StatusMultiStatus, out, nil
	}
	return http.StatusOK, out, nil
}

// objectType names a CRM object type as HubSpot's paths accept it.
func objectType(s string) string {
	switch strings.ToLower(s) {
	case "contacts", "contact", "0-1":
		return "contacts"
	case "deals", "deal", "0-3":
		return "deals"
	}
	return s
}

// readAssociations is POST /crm/v4/associations/{from}/{to}/batch/read, for
// contacts to deals (the only pair the fake holds).
func (s *Server) readAssociations(q *request) (int, any, *httpError) {
	from, to := objectType(q.path("fromObjectType")), objectType(q.path("toObjectType"))
	if from != "contacts" || to != "deals" {
		return 0, nil, validationErr(fmt.Sprintf("the fake holds associations from contacts to deals only, not %s to %s", q.path("fromObjectType"), q.path("toObjectType")))
	}
	var body struct {
		Inputs []struct {
			ID    string `json:"id"`
			After string `json:"after"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal(q.body, &body); err != nil {
		return 0, nil, validationErr("Invalid input JSON: " + err.Error())
	}
	if body.Inputs == nil {
		return 0, nil, validationErr("inputs is required", ErrorDetail{Message: "inputs is required", In: "inputs", Code: "REQUIRED"})
	}
	if len(body.Inputs) > 1000 {
		return 0, nil, validationErr(fmt.Sprintf("Batch input has %d inputs; the limit is 1000", len(body.Inputs)))
	}
	byContact := map[string][]string{}
	for _, id := range sortedIDs(s.st.Deals) {
		for _, c := range s.st.Deals[id].Contacts {
			byContact[c] = append(byContact[c], id)
		}
	}
	results := []any{}
	var errs []any
	for _, in := range body.Inputs {
		deals := byContact[in.ID]
		if _, ok := s.st.Contacts[in.ID]; !ok || len(deals) == 0 {
			errs = append(errs, map[string]any{
				"status": "error", "category": "OBJECT_NOT_FOUND", "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
				"message": fmt.Sprintf("No deals are associated with contact %s.", in.ID),
				"context": map[string]any{"fromObjectId": []string{in.ID}},
			})
			continue
		}
		start := 0
		if in.After != "" {
			n, err := strconv.Atoi(in.After)
			if err != nil || n < 0 || n > len(deals) {
				return 0, nil, validationErr(fmt.Sprintf("after %q is not a paging token of this listing", in.After))
			}
			start = n
		}
		end := min(start+AssociationPage, len(deals))
		tos := []any{}
		for _, d := range deals[start:end] {
			n, _ := strconv.ParseInt(d, 10, 64)
			tos = append(tos, map[string]any{"toObjectId": n, "associationTypes": []any{
				map[string]any{"category": "HUBSPOT_DEFINED", "typeId": 4, "label": nil},
			}})
		}
		r := map[string]any{"from": map[string]any{"id": in.ID}, "to": tos}
		if end < len(deals) {
			r["paging"] = map[string]any{"next": map[string]any{"after": strconv.Itoa(end)}}
		}
		results = append(results, r)
	}
	out := map[string]any{"status": "COMPLETE", "results": results, "startedAt": ts(q.now), "completedAt": ts(q.now)}
	if len(errs) > 0 {
		out["numErrors"] = len(errs)
		out["errors"] = errs
		return http.StatusMultiStatus, out, nil
	}
	return http.StatusOK, out, nil
}

// accountDetails is GET /account-info/v3/details.
func (s *Server) accountDetails(q *request) (int, any, *httpError) {
	cur := s.st.CompanyCurrency
	if cur == "" {
		cur = "USD"
	}
	return http.StatusOK, map[string]any{
		"portalId": s.opts.HubID, "accountType": "STANDARD", "timeZone": "US/Eastern", "companyCurrency": cur,
		"additionalCurrencies": []string{}, "utcOffset": "-05:00", "utcOffsetMilliseconds": -18000000,
		"uiDomain": "app.hubspot.com", "dataHostingLocation": "na1",
	}, nil
}
