package mailchimp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.OutcomeReader = (*Target)(nil)

// OrderCancelled is the event type of an order its store cancelled after
// a purchase was reported: not one lastmile knows, so it is kept and
// reported as unknown, next to the purchase it takes back.
const OrderCancelled = "order_cancelled"

// ordersPage is the most orders Mailchimp answers per request.
const ordersPage = 1000

const orderFields = "total_items,orders.id,orders.store_id,orders.campaign_id,orders.customer.email_address," +
	"orders.currency_code,orders.order_total,orders.processed_at_foreign,orders.cancelled_at_foreign"

type orderDoc struct {
	ID         string `json:"id"`
	StoreID    string `json:"store_id"`
	CampaignID string `json:"campaign_id"`
	Customer   struct {
		Email string `json:"email_address"`
	} `json:"customer"`
	Currency  string  `json:"currency_code"`
	Total     float64 `json:"order_total"`
	Processed string  `json:"processed_at_foreign"`
	Cancelled string  `json:"cancelled_at_foreign"`
}

// Outcomes reports the e-commerce orders lastmile's campaigns brought: for
// every sent email (a campaign), the orders of the account's connected
// stores that name it (GET /ecommerce/orders?campaign_id=…, 1000 a page),
// each a purchase worth its order_total in its currency_code, at
// processed_at_foreign. An order cancelled since is also an
// order_cancelled event at cancelled_at_foreign. Campaigns are read
// several at a time within the account's connection bound.
//
// An order without a currency takes the campaign report's
// ecommerce.currency_code (GET /reports/{id}, read only then).
//
// Mailchimp cannot list orders by time, and stores sync orders late (an
// order processed last week may reach Mailchimp today), so no cursor could
// leave anything out safely: every read returns every order of the
// campaigns, and the cursor returned is always empty. Events keep their
// IDs ("mailchimp:order:<store>:<order>"), so lastmile keeps each once.
// A campaign whose orders could not be read is named in the error; the
// others' events are returned.
func (t *Target) Outcomes(ctx context.Context, req sandbox.OutcomesRequest) ([]outcomes.Event, string, error) {
	var ids []string
	seen := map[string]bool{}
	for _, it := range req.Items {
		if it.Kind == sandbox.KindEmail && it.LiveID != "" && !seen[it.LiveID] {
			seen[it.LiveID] = true
			ids = append(ids, it.LiveID)
		}
	}
	type result struct {
		events []outcomes.Event
		err    error
	}
	results := make([]result, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			evs, err := t.campaignOrders(ctx, id)
			results[i] = result{evs, err}
		})
	}
	wg.Wait()
	var out []outcomes.Event
	var errs []error
	for _, r := range results {
		out = append(out, r.events...)
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	return out, "", errors.Join(errs...)
}

// campaignOrders reads one campaign's orders and makes their events; on a
// failure it returns the events of the pages it read, with the error.
func (t *Target) campaignOrders(ctx context.Context, campaignID string) ([]outcomes.Event, error) {
	var out []outcomes.Event
	var problems []error
	seen := map[string]bool{}
	reportCurrency := ""
	for offset := 0; ; offset += ordersPage {
		q := url.Values{"campaign_id": {campaignID}, "count": {fmt.Sprint(ordersPage)}, "offset": {fmt.Sprint(offset)}, "fields": {orderFields}}
		resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/ecommerce/orders?" + q.Encode()})
		if err != nil {
			return out, fmt.Errorf("mailchimp: read the orders of campaign %s: %w", campaignID, mapErr(err, t.name))
		}
		var page struct {
			Orders     []orderDoc `json:"orders"`
			TotalItems int        `json:"total_items"`
		}
		if err := resp.Decode(&page); err != nil {
			return out, fmt.Errorf("mailchimp: decoding the orders of campaign %s: %w", campaignID, err)
		}
		for _, o := range page.Orders {
			id := "mailchimp:order:" + o.StoreID + ":" + o.ID
			if seen[id] {
				continue // an order added meanwhile shifted the pages
			}
			seen[id] = true
			cur := strings.TrimSpace(o.Currency)
			if cur == "" {
				if reportCurrency == "" {
					c, err := t.reportCurrency(ctx, campaignID)
					if err != nil {
						return out, err
					}
					reportCurrency = c
				}
				cur = reportCurrency
			}
			evs, err := t.orderEvents(id, campaignID, cur, o)
			out = append(out, evs...)
			if err != nil {
				problems = append(problems, err)
			}
		}
		if len(page.Orders) < ordersPage || offset+ordersPage >= page.TotalItems {
			return out, errors.Join(problems...)
		}
	}
}

// orderEvents is an order's purchase, and its cancellation when there was
// one. A value lastmile cannot read is said in the error, and the event is
// kept without it.
func (t *Target) orderEvents(id, campaignID, cur string, o orderDoc) ([]outcomes.Event, error) {
	var problems []error
	var value *outcomes.Money
	if m, err := outcomes.MoneyFromFloat(o.Total, cur); err != nil {
		problems = append(problems, fmt.Errorf("mailchimp: order %s of store %s: its total is reported without a value: %v", o.ID, o.StoreID, err))
	} else {
		value = &m
	}
	ev := func(typ, suffix, raw, field string) []outcomes.Event {
		at, err := time.Parse(time.RFC3339, strings.TrimSpace(raw))
		if err != nil {
			problems = append(problems, fmt.Errorf("mailchimp: order %s of store %s: %s %q is not a time lastmile can read, so its %s is not reported", o.ID, o.StoreID, field, raw, typ))
			return nil
		}
		return []outcomes.Event{{
			ID: id + suffix, Type: typ, Source: "mailchimp:ecommerce", Contact: strings.ToLower(strings.TrimSpace(o.Customer.Email)),
			Target: t.name, LiveID: campaignID, At: at.UTC(), Value: value,
		}}
	}
	out := ev(outcomes.Purchase, "", o.Processed, "processed_at_foreign")
	if strings.TrimSpace(o.Cancelled) != "" {
		out = append(out, ev(OrderCancelled, ":cancelled", o.Cancelled, "cancelled_at_foreign")...)
	}
	return out, errors.Join(problems...)
}

// reportCurrency is the currency of a campaign report's e-commerce figures.
func (t *Target) reportCurrency(ctx context.Context, campaignID string) (string, error) {
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/reports/" + url.PathEscape(campaignID) + "?fields=ecommerce.currency_code"})
	if err != nil {
		return "", fmt.Errorf("mailchimp: read the report of campaign %s (for the currency of orders without one): %w", campaignID, mapErr(err, t.name))
	}
	var r struct {
		Ecommerce struct {
			Currency string `json:"currency_code"`
		} `json:"ecommerce"`
	}
	if err := resp.Decode(&r); err != nil {
		return "", fmt.Errorf("mailchimp: decoding the report of campaign %s: %w", campaignID, err)
	}
	if r.Ecommerce.Currency == "" {
		return "", fmt.Errorf("mailchimp: campaign %s: an order names no currency and neither does the campaign's report", campaignID)
	}
	return r.Ecommerce.Currency, nil
}
