package meta

import (
	"context"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// Metrics reads each ad campaign's insights: impressions, clicks, spend
// (major units, → cost_micros) and website conversions (actions whose type
// starts with "offsite_conversion.", × 1000), since req.Since (zero: all
// time, date_preset=maximum), in the account's time zone.
func (t *Target) Metrics(ctx context.Context, req sandbox.MetricsRequest) ([]sandbox.Metrics, error) {
	acct, err := t.accountOf(ctx)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(acct.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	var out []sandbox.Metrics
	for _, it := range req.Items {
		if it.Kind != sandbox.KindAd || it.LiveID == "" {
			continue
		}
		v := url.Values{"fields": {"impressions,clicks,spend,actions"}, "level": {"campaign"}}
		if req.Since.IsZero() {
			v.Set("date_preset", "maximum")
		} else {
			v.Set("time_range", jsonParam(map[string]string{"since": req.Since.In(loc).Format(time.DateOnly), "until": t.now().In(loc).Format(time.DateOnly)}))
		}
		var res struct {
			Data []struct {
				Impressions string `json:"impressions"`
				Clicks      string `json:"clicks"`
				Spend       string `json:"spend"`
				Actions     []struct {
					Type  string `json:"action_type"`
					Value string `json:"value"`
				} `json:"actions"`
			} `json:"data"`
		}
		if err := t.get(ctx, "/"+it.LiveID+"/insights", v, &res); err != nil {
			if notFound(err) {
				continue
			}
			return out, t.fail("read the insights of campaign "+it.LiveID, err)
		}
		c := map[string]int64{sandbox.MetricImpressions: 0, sandbox.MetricClicks: 0, sandbox.MetricCostMicros: 0, sandbox.MetricConversionsMilli: 0}
		for _, row := range res.Data {
			c[sandbox.MetricImpressions] += parseInt(row.Impressions)
			c[sandbox.MetricClicks] += parseInt(row.Clicks)
			c[sandbox.MetricCostMicros] += scaled(row.Spend, 1e6)
			for _, a := range row.Actions {
				if strings.HasPrefix(a.Type, "offsite_conversion.") {
					c[sandbox.MetricConversionsMilli] += scaled(a.Value, 1e3)
				}
			}
		}
		out = append(out, sandbox.Metrics{ArtifactID: it.ArtifactID, LiveID: it.LiveID, Counters: c, Source: Platform, FetchedAt: t.now().UTC()})
	}
	return out, nil
}

func parseInt(s string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n
}

// scaled reads a decimal string ("5339.5") times unit, rounded.
func scaled(s string, unit float64) int64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0
	}
	return int64(math.Round(f * unit))
}
