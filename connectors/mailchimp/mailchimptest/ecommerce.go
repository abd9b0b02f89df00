package mailchimptest

import (
	"crypto/md5"
	"encoding/hex"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"
)

// E-commerce as the spec (3.0.55) has it: GET /ecommerce/orders lists the
// account's orders across its stores (E_commerce_Order: id, customer
// {id, email_address}, store_id, campaign_id, financial_status,
// currency_code, order_total, tax_total, shipping_total,
// processed_at_foreign, cancelled_at_foreign, updated_at_foreign, …),
// filtered by campaign_id, outreach_id, customer_id or has_outreach, paged
// with count (at most 1000) and offset, projected with fields and
// exclude_fields. A campaign's report carries E_Commerce_Report_1
// {total_orders, total_spent (the sum of order totals), total_revenue
// (order totals less shipping and tax), currency_code}, computed here from
// the orders that name the campaign.

// Store is an e-commerce store connected to the account.
type Store struct {
	ID       string
	ListID   string
	Currency string // ISO 4217, the store's currency_code
}

// Order is an order of a store, as tests give it to the fake.
type Order struct {
	ID         string
	StoreID    string
	CampaignID string // "" for an order no campaign brought
	Email      string
	Total      float64 // order_total
	Tax        float64
	Shipping   float64
	Currency   string // "" for the store's
	Status     string // financial_status (default "paid")
	Processed  time.Time
	Cancelled  time.Time // zero unless cancelled
}

// AddStore connects a store to the account (ListID defaults to the
// default list, Currency to USD).
func (s *Server) AddStore(st Store) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addStoreLocked(st)
}

func (s *Server) addStoreLocked(st Store) {
	if st.ListID == "" {
		st.ListID = DefaultListID
	}
	if st.Currency == "" {
		st.Currency = "USD"
	}
	if s.stores == nil {
		s.stores = map[string]*Store{}
	}
	s.stores[st.ID] = &st
}

// AddOrders adds orders (or replaces those with the same store and id); an
// order of an unknown store connects that store first.
func (s *Server) AddOrders(orders ...Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range orders {
		st := s.stores[o.StoreID]
		if st == nil {
			s.addStoreLocked(Store{ID: o.StoreID, Currency: o.Currency})
			st = s.stores[o.StoreID]
		}
		if o.Currency == "" {
			o.Currency = st.Currency
		}
		if o.Status == "" {
			o.Status = "paid"
			if !o.Cancelled.IsZero() {
				o.Status = "cancelled"
			}
		}
		o.Email = strings.ToLower(o.Email)
		replaced := false
		for i := range s.orders {
			if s.orders[i].StoreID == o.StoreID && s.orders[i].ID == o.ID {
				s.orders[i], replaced = o, true
			}
		}
		if !replaced {
			s.orders = append(s.orders, o)
		}
	}
}

func customerID(email string) string {
	sum := md5.Sum([]byte(email))
	return hex.EncodeToString(sum[:8])
}

func (s *Server) orderJSON(o Order) map[string]any {
	updated := o.Processed
	if o.Cancelled.After(updated) {
		updated = o.Cancelled
	}
	doc := map[string]any{
		"id": o.ID, "store_id": o.StoreID, "campaign_id": o.CampaignID,
		"customer":         map[string]any{"id": customerID(o.Email), "email_address": o.Email, "opt_in_status": false},
		"financial_status": o.Status, "fulfillment_status": "", "currency_code": o.Currency,
		"order_total": o.Total, "tax_total": o.Tax, "shipping_total": o.Shipping, "discount_total": 0,
		"processed_at_foreign": fmtTime(o.Processed), "cancelled_at_foreign": fmtTime(o.Cancelled),
		"updated_at_foreign": fmtTime(updated), "lines": []any{}, "promos": []any{},
	}
	if o.CampaignID != "" {
		doc["outreach"] = map[string]any{"id": o.CampaignID, "type": "regular"}
	}
	return doc
}

// getOrders is GET /ecommerce/orders.
func (s *Server) getOrders(r *http.Request, _ []byte) reply {
	count, offset, rep, good := paging(r)
	if !good {
		return rep
	}
	q := r.URL.Query()
	if v := q.Get("has_outreach"); v != "" && v != "true" && v != "false" {
		return invalidResource(FieldError{Field: "has_outreach", Message: "has_outreach must be true or false"})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var sel []Order
	for _, o := range s.orders {
		if v := q.Get("campaign_id"); v != "" && o.CampaignID != v {
			continue
		}
		if v := q.Get("outreach_id"); v != "" && o.CampaignID != v {
			continue
		}
		if v := q.Get("customer_id"); v != "" && customerID(o.Email) != v {
			continue
		}
		if v := q.Get("has_outreach"); v != "" && (o.CampaignID != "") != (v == "true") {
			continue
		}
		sel = append(sel, o)
	}
	sort.SliceStable(sel, func(i, j int) bool { return sel[i].Processed.Before(sel[j].Processed) })
	docs := make([]map[string]any, 0, len(sel))
	for _, o := range page(sel, count, offset) {
		docs = append(docs, s.orderJSON(o))
	}
	return ok(project(map[string]any{"orders": docs, "total_items": len(sel)}, q.Get("fields"), q.Get("exclude_fields")))
}

// ecommerceReportLocked is a campaign report's ecommerce block. Amounts are
// summed in hundredths, so the totals are the orders' to the cent.
func (s *Server) ecommerceReportLocked(campaignID string) map[string]any {
	var n, spent, revenue int64
	currency := ""
	for _, o := range s.orders {
		if o.CampaignID != campaignID {
			continue
		}
		n++
		total := int64(math.Round(o.Total * 100))
		spent += total
		revenue += total - int64(math.Round(o.Tax*100)) - int64(math.Round(o.Shipping*100))
		if currency == "" {
			currency = o.Currency
		}
	}
	if currency == "" {
		currency = "USD"
	}
	return map[string]any{"total_orders": n, "total_spent": float64(spent) / 100, "total_revenue": float64(revenue) / 100, "currency_code": currency}
}
