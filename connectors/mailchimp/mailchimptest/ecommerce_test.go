package mailchimptest

import (
	"fmt"
	"testing"
	"time"
)

func TestOrders(t *testing.T) {
	s := New(t)
	t0 := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	s.AddStore(Store{ID: "shop", Currency: "EUR"})
	for i := range 15 {
		s.AddOrders(Order{ID: fmt.Sprint(i), StoreID: "shop", CampaignID: "c1", Email: "A@Example.com", Total: 2.5, Processed: t0.Add(time.Duration(i) * time.Minute)})
	}
	s.AddOrders(Order{ID: "other", StoreID: "shop", CampaignID: "c2", Email: "b@example.com", Total: 1, Processed: t0})

	st, _, body := do(t, s, call{method: "GET", path: "/ecommerce/orders?campaign_id=c1&offset=10&fields=total_items,orders.id,orders.customer.email_address,orders.currency_code", auth: "basic"})
	orders, _ := body["orders"].([]any)
	if st != 200 || body["total_items"] != float64(15) || len(orders) != 5 {
		t.Fatalf("page: %d %v", st, body)
	}
	o := orders[0].(map[string]any)
	if o["id"] != "10" || o["currency_code"] != "EUR" || o["customer"].(map[string]any)["email_address"] != "a@example.com" || o["order_total"] != nil {
		t.Errorf("projected order: %v", o)
	}
	// A count alone: total_items and nothing else.
	if st, _, body := do(t, s, call{method: "GET", path: "/ecommerce/orders?campaign_id=c1&count=1&fields=total_items", auth: "basic"}); st != 200 ||
		len(body) != 1 || body["total_items"] != float64(15) {
		t.Errorf("count: %d %v", st, body)
	}
	if st, _, body := do(t, s, call{method: "GET", path: "/ecommerce/orders?count=1001", auth: "basic"}); st != 400 || body["title"] != "Invalid Resource" {
		t.Errorf("count over 1000: %d %v", st, body)
	}
	if st, _, body := do(t, s, call{method: "GET", path: "/ecommerce/orders"}); st != 401 || body["title"] != "API Key Missing" {
		t.Errorf("no key: %d %v", st, body)
	}
	if got := s.ecommerceReportLocked("c1"); got["total_orders"] != int64(15) || got["total_spent"] != 37.5 || got["currency_code"] != "EUR" {
		t.Errorf("report ecommerce: %v", got)
	}
}
