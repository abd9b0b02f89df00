package mailchimp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

type reportResponse struct {
	ID           string `json:"id"`
	Type         string `json:"type"`
	EmailsSent   int64  `json:"emails_sent"`
	AbuseReports int64  `json:"abuse_reports"`
	Unsubscribed int64  `json:"unsubscribed"`
	Bounces      struct {
		Hard   int64 `json:"hard_bounces"`
		Soft   int64 `json:"soft_bounces"`
		Syntax int64 `json:"syntax_errors"`
	} `json:"bounces"`
	Forwards struct {
		Count int64 `json:"forwards_count"`
		Opens int64 `json:"forwards_opens"`
	} `json:"forwards"`
	Opens struct {
		Total    int64   `json:"opens_total"`
		Unique   int64   `json:"unique_opens"`
		OpenRate float64 `json:"open_rate"`
	} `json:"opens"`
	Clicks struct {
		Total            int64   `json:"clicks_total"`
		Unique           int64   `json:"unique_clicks"`
		UniqueSubscriber int64   `json:"unique_subscriber_clicks"`
		ClickRate        float64 `json:"click_rate"`
	} `json:"clicks"`
	FacebookLikes struct {
		Recipient int64 `json:"recipient_likes"`
		Unique    int64 `json:"unique_likes"`
		Total     int64 `json:"facebook_likes"`
	} `json:"facebook_likes"`
	Ecommerce *struct {
		TotalOrders  int64   `json:"total_orders"`
		TotalSpent   float64 `json:"total_spent"`
		TotalRevenue float64 `json:"total_revenue"`
	} `json:"ecommerce"`
}

const reportFields = "id,type,emails_sent,abuse_reports,unsubscribed,bounces,forwards,opens,clicks,facebook_likes,ecommerce"

// metricsFrom normalizes a campaign report. Figures without a lastmile name
// keep Mailchimp's (by their path in the report).
func metricsFrom(r reportResponse) (map[string]int64, map[string]float64) {
	bounces := r.Bounces.Hard + r.Bounces.Soft + r.Bounces.Syntax
	c := map[string]int64{
		sandbox.MetricSent:         r.EmailsSent,
		sandbox.MetricDelivered:    max(r.EmailsSent-bounces, 0),
		sandbox.MetricOpens:        r.Opens.Total,
		sandbox.MetricUniqueOpens:  r.Opens.Unique,
		sandbox.MetricClicks:       r.Clicks.Total,
		sandbox.MetricUniqueClicks: r.Clicks.UniqueSubscriber,
		sandbox.MetricBounces:      bounces,
		sandbox.MetricUnsubscribes: r.Unsubscribed,
		sandbox.MetricSpamReports:  r.AbuseReports,

		"bounces.hard_bounces":           r.Bounces.Hard,
		"bounces.soft_bounces":           r.Bounces.Soft,
		"bounces.syntax_errors":          r.Bounces.Syntax,
		"clicks.unique_clicks":           r.Clicks.Unique,
		"forwards.forwards_count":        r.Forwards.Count,
		"forwards.forwards_opens":        r.Forwards.Opens,
		"facebook_likes.recipient_likes": r.FacebookLikes.Recipient,
		"facebook_likes.unique_likes":    r.FacebookLikes.Unique,
		"facebook_likes.facebook_likes":  r.FacebookLikes.Total,
	}
	ratios := map[string]float64{
		"open_rate":  r.Opens.OpenRate,
		"click_rate": r.Clicks.ClickRate,
	}
	if r.EmailsSent > 0 {
		ratios["bounce_rate"] = float64(bounces) / float64(r.EmailsSent)
		ratios["unsubscribe_rate"] = float64(r.Unsubscribed) / float64(r.EmailsSent)
	}
	if r.Ecommerce != nil {
		c["ecommerce.total_orders"] = r.Ecommerce.TotalOrders
		ratios["ecommerce.total_spent"] = r.Ecommerce.TotalSpent
		ratios["ecommerce.total_revenue"] = r.Ecommerce.TotalRevenue
	}
	return c, ratios
}

// Metrics reads the campaign report of every email (GET /reports/{id}),
// several at a time within the account's connection bound. Mailchimp
// reports are cumulative, so Since is not applied; campaigns not sent yet
// (no report) are left out; segments have no metrics.
func (t *Target) Metrics(ctx context.Context, req sandbox.MetricsRequest) ([]sandbox.Metrics, error) {
	type result struct {
		m   sandbox.Metrics
		ok  bool
		err error
	}
	results := make([]result, len(req.Items))
	var wg sync.WaitGroup
	for i, it := range req.Items {
		if it.Kind != sandbox.KindEmail || it.LiveID == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet,
				Path: "/reports/" + url.PathEscape(it.LiveID) + "?fields=" + reportFields})
			if err != nil {
				if rest.StatusOf(err) == http.StatusNotFound {
					return // not sent yet, or deleted: no report
				}
				results[i].err = fmt.Errorf("mailchimp: read report of campaign %s: %w", it.LiveID, mapErr(err, t.name))
				return
			}
			var r reportResponse
			if err := resp.Decode(&r); err != nil {
				results[i].err = fmt.Errorf("mailchimp: decoding report of campaign %s: %w", it.LiveID, err)
				return
			}
			c, ratios := metricsFrom(r)
			m := sandbox.Metrics{ArtifactID: it.ArtifactID, LiveID: it.LiveID,
				Counters: c, Ratios: ratios, Source: Platform, FetchedAt: t.now().UTC()}
			if r.Type == "variate" {
				if m.Variants, m.Winner, err = t.variateMetrics(ctx, it.LiveID); err != nil {
					results[i].err = err
					return
				}
			}
			results[i] = result{ok: true, m: m}
		}()
	}
	wg.Wait()
	var out []sandbox.Metrics
	var errs []error
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
		}
		if r.ok {
			out = append(out, r.m)
		}
	}
	return out, errors.Join(errs...)
}
