package meta

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
)

// maxThrottleRetries bounds how often one call waits out a throttle.
const maxThrottleRetries = 3

// call sends one Graph request: GET and DELETE with the parameters in the
// query, POST form-encoded (lists and objects JSON-encoded by the caller).
// A throttle answer (HTTP 400 with a rate-limit code) was not applied, so
// it is waited out and sent again when Meta says access returns within
// maxThrottle; otherwise the error is a *throttled carrying the wait.
func (t *Target) call(ctx context.Context, method, path string, v url.Values) (*rest.Response, error) {
	req := rest.Request{Method: method, Path: path}
	if method == http.MethodPost {
		req.Body = []byte(v.Encode())
		req.ContentType = "application/x-www-form-urlencoded"
	} else if len(v) > 0 {
		req.Path += "?" + v.Encode()
	}
	for attempt := 0; ; attempt++ {
		resp, err := t.client.Do(ctx, req)
		if err == nil {
			return resp, nil
		}
		g, ok := graphErrorOf(err)
		if !ok || !isThrottle(g.Code) {
			return nil, err
		}
		var he *rest.HTTPError
		errors.As(err, &he)
		wait := regainIn(he.Header)
		if wait <= 0 {
			wait = defaultThrottleWait(g.Code, g.Subcode)
		}
		if wait > t.maxThrottle || attempt >= maxThrottleRetries {
			return nil, &throttled{code: g.Code, subcode: g.Subcode, wait: wait, cause: err}
		}
		t.log.Warn("meta: throttled; waiting as Meta asked", "target", t.name, "code", g.Code, "subcode", g.Subcode, "wait", wait.String())
		if err := t.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// defaultThrottleWait is the wait when the answer names none: an hour for
// the ad set budget rule (code 17 subcode 1885172), else five minutes.
func defaultThrottleWait(code, subcode int) time.Duration {
	if code == 17 && subcode == 1885172 {
		return time.Hour
	}
	return 5 * time.Minute
}

func (t *Target) get(ctx context.Context, path string, v url.Values, out any) error {
	resp, err := t.call(ctx, http.MethodGet, path, v)
	if err != nil {
		return err
	}
	return resp.Decode(out)
}

func (t *Target) post(ctx context.Context, path string, v url.Values, out any) error {
	resp, err := t.call(ctx, http.MethodPost, path, v)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return resp.Decode(out)
}

// node is a campaign, ad set, ad or creative as Graph reads it back.
type node struct {
	ID              string          `json:"id"`
	Name            string          `json:"name"`
	Status          string          `json:"status"`
	EffectiveStatus string          `json:"effective_status"`
	Objective       string          `json:"objective"`
	BidStrategy     string          `json:"bid_strategy"`
	DailyBudget     string          `json:"daily_budget"`
	LifetimeBudget  string          `json:"lifetime_budget"`
	CampaignID      string          `json:"campaign_id"`
	AdSetID         string          `json:"adset_id"`
	BidAmount       json.Number     `json:"bid_amount"`
	StartTime       string          `json:"start_time"`
	EndTime         string          `json:"end_time"`
	StopTime        string          `json:"stop_time"`
	Targeting       json.RawMessage `json:"targeting"`
	Creative        *struct {
		ID string `json:"id"`
	} `json:"creative"`
}

type listPage struct {
	Data   []node `json:"data"`
	Paging struct {
		Cursors struct {
			After string `json:"after"`
		} `json:"cursors"`
		Next string `json:"next"`
	} `json:"paging"`
}

// maxListPages bounds a listing: 100 pages of 100.
const maxListPages = 100

// list reads every page of a list edge.
func (t *Target) list(ctx context.Context, path, fields string) ([]node, error) {
	var out []node
	after := ""
	for range maxListPages {
		v := url.Values{"fields": {fields}, "limit": {strconv.Itoa(100)}}
		if after != "" {
			v.Set("after", after)
		}
		var p listPage
		if err := t.get(ctx, path, v, &p); err != nil {
			return nil, err
		}
		out = append(out, p.Data...)
		if p.Paging.Next == "" || p.Paging.Cursors.After == "" || len(p.Data) == 0 {
			return out, nil
		}
		after = p.Paging.Cursors.After
	}
	t.log.Warn("meta: a listing has more pages than lastmile reads; the rest were not looked at", "target", t.name, "path", path, "read", len(out))
	return out, nil
}

func jsonParam(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
