package mailchimp

import (
	"context"
	"encoding/json"
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

// recheckEvery is how long a campaign's orders are trusted without being
// read in full again. A count that has not changed hides a cancellation
// (it sets cancelled_at_foreign on an order already counted) and an order
// that replaced one deleted meanwhile, so every campaign is read in full at
// least this often.
const recheckEvery = 24 * time.Hour

// quietAfter is how long a campaign's order count must have stayed the same
// before it is no longer counted at every read: such a campaign is only
// read in full, every recheckEvery, which also catches an order that
// arrives late.
const quietAfter = 90 * 24 * time.Hour

// recountAfter is how long no campaign is counted after a read that read
// one in full. The sandbox reads again at once whenever events came back
// with a new cursor: within this time that round asks nothing and the sync
// ends. Counting again would cost a request per campaign, and orders
// arriving meanwhile would make the sync go on, round after round, up to
// the sandbox's round limit.
const recountAfter = time.Minute

// ordersCursor is the outcomes cursor: per campaign id what its orders were
// at its last full read, and when the last read that read any in full
// ended.
type ordersCursor struct {
	Campaigns map[string]ordersSeen `json:"campaigns"`
	Read      time.Time             `json:"read,omitzero"`
}

// ordersSeen is one campaign in the cursor: its order count (total_items)
// when it was last read in full, when that was, and when the count last
// changed (or the campaign was first read).
type ordersSeen struct {
	N       int       `json:"n"`
	Full    time.Time `json:"full"`
	Changed time.Time `json:"changed"`
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
// order processed last week may reach Mailchimp today), so the cursor
// cannot be a time: it keeps each campaign's order count and when its
// orders were last read in full. A campaign is read in full (its events
// returned) when it is new to the cursor, recheckEvery after its last full
// read, or when its count (one request for total_items only) differs;
// otherwise nothing of it is returned. A campaign whose count has not
// changed for quietAfter is not counted, only read in full every
// recheckEvery; none is counted within recountAfter of a read that read
// some campaign in full. An empty cursor reads every campaign in full. Events
// keep their IDs ("mailchimp:order:<store>:<order>"), so lastmile keeps
// each once however often it is read. Campaigns not asked about leave the
// cursor; a read that changes nothing returns the cursor it was given.
//
// A campaign whose orders could not be read is named in the error and
// keeps its entry, so it is read again next time; the others' events are
// returned, with their entries updated.
func (t *Target) Outcomes(ctx context.Context, req sandbox.OutcomesRequest) ([]outcomes.Event, string, error) {
	var prev ordersCursor
	if req.Cursor != "" {
		if err := json.Unmarshal([]byte(req.Cursor), &prev); err != nil {
			return nil, req.Cursor, fmt.Errorf("mailchimp: outcomes cursor is not one this connector made (%v): pass it back as returned, or empty to read every order again", err)
		}
	}
	var ids []string
	seen := map[string]bool{}
	for _, it := range req.Items {
		if it.Kind == sandbox.KindEmail && it.LiveID != "" && !seen[it.LiveID] {
			seen[it.LiveID] = true
			ids = append(ids, it.LiveID)
		}
	}
	// Seconds are enough, and keep the cursor short.
	now := t.now().UTC().Truncate(time.Second)
	counting := now.Sub(prev.Read) >= recountAfter
	type result struct {
		events  []outcomes.Event
		entry   ordersSeen
		keep    bool // entry is the campaign's cursor entry
		updated bool // entry was made by this read
		err     error
	}
	results := make([]result, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			old, had := prev.Campaigns[id]
			r := &results[i]
			r.entry, r.keep = old, had
			due := !had || now.Sub(old.Full) >= recheckEvery
			if !due && counting && now.Sub(old.Changed) < quietAfter {
				n, err := t.orderCount(ctx, id)
				if err != nil {
					r.err = err
					return
				}
				due = n != old.N
			}
			if !due {
				return
			}
			evs, n, problems, err := t.campaignOrders(ctx, id)
			r.events, r.err = evs, errors.Join(err, problems)
			if err != nil {
				return // the old entry stays, so it is read again next time
			}
			changed := old.Changed
			if !had || n != old.N {
				changed = now
			}
			r.entry, r.keep, r.updated = ordersSeen{N: n, Full: now, Changed: changed}, true, true
		})
	}
	wg.Wait()
	var out []outcomes.Event
	var errs []error
	next := ordersCursor{Campaigns: make(map[string]ordersSeen, len(ids)), Read: prev.Read}
	updated := false
	for i, r := range results {
		out = append(out, r.events...)
		if r.err != nil {
			errs = append(errs, r.err)
		}
		if r.keep {
			next.Campaigns[ids[i]] = r.entry
		}
		updated = updated || r.updated
	}
	// next holds only entries of prev and entries this read made: with none
	// made and as many entries, it is prev, and the cursor given is handed
	// back as it came, so that the sandbox's sync ends.
	if !updated && len(next.Campaigns) == len(prev.Campaigns) {
		return out, req.Cursor, errors.Join(errs...)
	}
	if updated {
		// From the end of this read: the sandbox's next round starts then.
		next.Read = t.now().UTC().Truncate(time.Second)
	}
	b, err := json.Marshal(next) // map keys sorted: the same entries, the same cursor
	if err != nil {
		return out, req.Cursor, errors.Join(append(errs, fmt.Errorf("mailchimp: writing the outcomes cursor: %w", err))...)
	}
	return out, string(b), errors.Join(errs...)
}

// orderCount is how many orders name a campaign, in one request that
// returns no order.
func (t *Target) orderCount(ctx context.Context, campaignID string) (int, error) {
	q := url.Values{"campaign_id": {campaignID}, "count": {"1"}, "fields": {"total_items"}}
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/ecommerce/orders?" + q.Encode()})
	if err != nil {
		return 0, fmt.Errorf("mailchimp: count the orders of campaign %s: %w", campaignID, mapErr(err, t.name))
	}
	var page struct {
		TotalItems int `json:"total_items"`
	}
	if err := resp.Decode(&page); err != nil {
		return 0, fmt.Errorf("mailchimp: decoding the order count of campaign %s: %w", campaignID, err)
	}
	return page.TotalItems, nil
}

// campaignOrders reads one campaign's orders and makes their events. total
// is the count its first page gave: an order added while the pages are read
// may be missed, and then the next count differs and the campaign is read
// again. problems are orders whose values could not be read (their events
// are kept without them); err is a read that failed, returned with the
// events of the pages read before it.
func (t *Target) campaignOrders(ctx context.Context, campaignID string) (out []outcomes.Event, total int, problems, err error) {
	var bad []error
	seen := map[string]bool{}
	reportCurrency := ""
	for offset := 0; ; offset += ordersPage {
		q := url.Values{"campaign_id": {campaignID}, "count": {fmt.Sprint(ordersPage)}, "offset": {fmt.Sprint(offset)}, "fields": {orderFields}}
		resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet, Path: "/ecommerce/orders?" + q.Encode()})
		if err != nil {
			return out, 0, errors.Join(bad...), fmt.Errorf("mailchimp: read the orders of campaign %s: %w", campaignID, mapErr(err, t.name))
		}
		var page struct {
			Orders     []orderDoc `json:"orders"`
			TotalItems int        `json:"total_items"`
		}
		if err := resp.Decode(&page); err != nil {
			return out, 0, errors.Join(bad...), fmt.Errorf("mailchimp: decoding the orders of campaign %s: %w", campaignID, err)
		}
		if offset == 0 {
			total = page.TotalItems
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
						return out, 0, errors.Join(bad...), err
					}
					reportCurrency = c
				}
				cur = reportCurrency
			}
			evs, err := t.orderEvents(id, campaignID, cur, o)
			out = append(out, evs...)
			if err != nil {
				bad = append(bad, err)
			}
		}
		if len(page.Orders) < ordersPage || offset+ordersPage >= page.TotalItems {
			return out, total, errors.Join(bad...), nil
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
