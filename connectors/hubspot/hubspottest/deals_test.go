package hubspottest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDealsAndAssociations(t *testing.T) {
	s := New(t)
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range AssociationPage + 1 {
		s.AddDeal(Deal{Name: fmt.Sprint(i), Amount: "10", Created: t0, Contacts: []string{"ada@example.com"}})
	}
	won := s.AddDeal(Deal{Name: "won", Amount: "99.5", Currency: "EUR", Created: t0, Closed: t0.Add(time.Hour), Won: true, Contacts: []string{"grace@example.com"}})
	ids := s.AddContacts("ada@example.com", "grace@example.com", "alan@example.com")
	c := &client{t: t, s: s, token: s.PrivateAppToken()}

	st, _, body := c.do("POST", "/crm/v4/associations/contacts/deals/batch/read", map[string]any{"inputs": []map[string]string{{"id": ids[0]}, {"id": ids[2]}}})
	var r struct {
		Results []struct {
			From   struct{ ID string }                    `json:"from"`
			To     []struct{ ToObjectID json.Number }     `json:"to"`
			Paging *struct{ Next struct{ After string } } `json:"paging"`
		} `json:"results"`
		Errors []struct{ Category, SubCategory string } `json:"errors"`
	}
	if err := json.Unmarshal(body, &r); err != nil || st != 207 || len(r.Results) != 1 || len(r.Results[0].To) != AssociationPage || r.Results[0].Paging == nil || len(r.Errors) != 1 {
		t.Fatalf("associations: %d %s", st, body)
	}
	st, _, body = c.do("POST", "/crm/v4/associations/contacts/deals/batch/read", map[string]any{"inputs": []map[string]string{{"id": ids[0], "after": r.Results[0].Paging.Next.After}}})
	if st != 200 || !strings.Contains(string(body), `"to":[{`) || strings.Contains(string(body), `"paging"`) {
		t.Fatalf("second page: %d %s", st, body)
	}

	st, _, body = c.do("POST", "/crm/v3/objects/deals/batch/read", map[string]any{"inputs": []map[string]string{{"id": won}, {"id": "1"}}, "properties": []string{"amount", "deal_currency_code", "hs_is_closed_won", "closedate"}})
	if st != 207 || !strings.Contains(string(body), `"amount":"99.5"`) || !strings.Contains(string(body), `"hs_is_closed_won":"true"`) ||
		!strings.Contains(string(body), `"closedate":"2027-03-01T10:00:00.000Z"`) || !strings.Contains(string(body), "OBJECT_NOT_FOUND") {
		t.Fatalf("deals: %d %s", st, body)
	}

	many := make([]map[string]string, 101)
	for i := range many {
		many[i] = map[string]string{"id": won}
	}
	if st, _, body := c.do("POST", "/crm/v3/objects/deals/batch/read", map[string]any{"inputs": many}); st != 400 || !strings.Contains(string(body), "limit is 100") {
		t.Errorf("101 deals: %d %s", st, body)
	}
	many = make([]map[string]string, 1001)
	for i := range many {
		many[i] = map[string]string{"id": ids[0]}
	}
	if st, _, body := c.do("POST", "/crm/v4/associations/contacts/deals/batch/read", map[string]any{"inputs": many}); st != 400 || !strings.Contains(string(body), "limit is 1000") {
		t.Errorf("1001 associations: %d %s", st, body)
	}

	noDeals := New(t, Options{Scopes: []string{"crm.objects.contacts.read"}})
	c = &client{t: t, s: noDeals, token: noDeals.PrivateAppToken()}
	for _, p := range []string{"/crm/v3/objects/deals/batch/read", "/crm/v4/associations/contacts/deals/batch/read"} {
		st, _, body := c.do("POST", p, map[string]any{"inputs": []map[string]string{{"id": "1"}}})
		if st != 403 || !strings.Contains(string(body), "crm.objects.deals.read") {
			t.Errorf("%s without the deals scope: %d %s", p, st, body)
		}
	}
	c.token = ""
	if st, _, _ := c.do("POST", "/crm/v3/objects/deals/batch/read", map[string]any{"inputs": []map[string]string{}}); st != 401 {
		t.Errorf("no token: %d", st)
	}
}
