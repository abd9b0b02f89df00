package mailchimp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

var (
	problemWorkflow = "Mailchimp cannot create Customer Journeys (automations) through its API, so lastmile cannot promote this workflow there; target this workflow at local or hubspot instead"
	problemPage     = "lastmile's Mailchimp connector does not publish landing pages (Mailchimp landing pages are out of scope); target this page at wordpress, local or hubspot instead"
)

func notSupported(kind sandbox.Kind) error {
	switch kind {
	case sandbox.KindWorkflow:
		return fmt.Errorf("mailchimp: %s: %w", problemWorkflow, sandbox.ErrNotSupported)
	case sandbox.KindPage:
		return fmt.Errorf("mailchimp: %s: %w", problemPage, sandbox.ErrNotSupported)
	}
	return fmt.Errorf("mailchimp: artifacts of kind %q: %w", kind, sandbox.ErrNotSupported)
}

// Assess checks an object at planning time, before anything is written:
// what Mailchimp cannot express becomes a Problem, what the approver should
// know a Note. It reads (never writes) the audience to size it.
func (t *Target) Assess(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	a := sandbox.Assessment{AudienceSize: -1}
	switch obj.Kind {
	case sandbox.KindWorkflow:
		a.Problems = append(a.Problems, problemWorkflow)
		return a, nil
	case sandbox.KindPage:
		a.Problems = append(a.Problems, problemPage)
		return a, nil
	case sandbox.KindEmail:
		if obj.Email == nil {
			return a, fmt.Errorf("mailchimp: assess %s: the object has no email", obj.ArtifactID)
		}
		return t.assessEmail(ctx, obj)
	case sandbox.KindSegment:
		if obj.Segment == nil {
			return a, fmt.Errorf("mailchimp: assess %s: the object has no segment", obj.ArtifactID)
		}
		return t.assessSegment(ctx, obj)
	}
	a.Problems = append(a.Problems, fmt.Sprintf("Mailchimp cannot take artifacts of kind %q", obj.Kind))
	return a, nil
}

// audienceInfo reads the target's audience: its name and subscribed count,
// or found=false.
func (t *Target) audienceInfo(ctx context.Context) (name string, members int, found bool, err error) {
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet,
		Path: "/lists/" + url.PathEscape(t.cfg.ListID) + "?fields=id,name,stats.member_count"})
	if err != nil {
		if httpStatus(err) == http.StatusNotFound {
			return "", 0, false, nil
		}
		return "", 0, false, fmt.Errorf("mailchimp: reading audience %s: %w", t.cfg.ListID, mapErr(err, t.name))
	}
	var l struct {
		Name  string `json:"name"`
		Stats struct {
			MemberCount int `json:"member_count"`
		} `json:"stats"`
	}
	if err := resp.Decode(&l); err != nil {
		return "", 0, false, fmt.Errorf("mailchimp: reading audience %s: %w", t.cfg.ListID, err)
	}
	return l.Name, l.Stats.MemberCount, true, nil
}

func (t *Target) missingAudience() string {
	return fmt.Sprintf("the audience %q (list_id in target %q's config) does not exist in this Mailchimp account; run lastmile connect mailchimp --name %s to list the audiences and fix list_id", t.cfg.ListID, t.name, t.name)
}

func (t *Target) assessEmail(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	e := obj.Email
	a := sandbox.Assessment{AudienceSize: -1}
	listName, listSize, found, err := t.audienceInfo(ctx)
	if err != nil {
		return a, err
	}
	if !found {
		a.Problems = append(a.Problems, t.missingAudience())
	}
	in, err := t.resolveRefs(ctx, obj, e.Audience.Include, false, false)
	if err != nil {
		a.Problems = append(a.Problems, err.Error())
	}
	out, err := t.resolveRefs(ctx, obj, e.Audience.Exclude, false, false)
	if err != nil {
		a.Problems = append(a.Problems, err.Error())
	}
	opts, problems := t.audience(in, out)
	a.Problems = append(a.Problems, problems...)
	b := t.buildEmail(obj, opts)
	a.Problems = append(a.Problems, b.problems...)

	// What the send checklist would refuse, said before anything is written.
	if strings.TrimSpace(e.Subject) == "" {
		a.Problems = append(a.Problems, "the email has no subject line, which Mailchimp requires to send")
	}
	if strings.TrimSpace(e.FromName) == "" {
		a.Problems = append(a.Problems, "the email has no from name, which Mailchimp requires to send")
	}
	if replyTo(e) == "" {
		a.Problems = append(a.Problems, "the email has neither reply_to nor from_email; Mailchimp needs a reply-to address to send")
	}
	if strings.TrimSpace(e.HTML) == "" {
		a.Problems = append(a.Problems, "the email has no HTML content")
	}

	if r := strings.TrimSpace(e.ReplyTo); r != "" && e.FromEmail != "" && !strings.EqualFold(r, strings.TrimSpace(e.FromEmail)) {
		a.Notes = append(a.Notes, fmt.Sprintf("Mailchimp sends from the reply-to address: %s is used as both from and reply-to; from_email %s is not used", r, e.FromEmail))
	}
	if b.campaign.Settings.AutoFooter {
		a.Notes = append(a.Notes, "the email has no {{ unsubscribe_url }} link: Mailchimp will append its standard footer with an unsubscribe link and the audience's postal address")
	}
	if e.SendAt != nil {
		if n := quarterNote(*e.SendAt); n != "" {
			a.Notes = append(a.Notes, n)
		}
		switch when, now := QuarterHour(*e.SendAt), t.now(); {
		case !when.After(now):
			a.Problems = append(a.Problems, fmt.Sprintf("the send time %s UTC has passed; set a later send_at, or none to send at promotion", when.Format("2006-01-02 15:04")))
		case when.After(now.AddDate(1, 0, 0)):
			a.Problems = append(a.Problems, fmt.Sprintf("the send time %s UTC is more than a year ahead; Mailchimp schedules at most one year in advance", when.Format("2006-01-02")))
		}
	}
	a.Notes = append(a.Notes, b.notes...)

	// The email's own campaign, when it is live (the planner passes the
	// campaign's live ids): Mailchimp cannot edit a scheduled or sent one.
	if id := obj.Refs[obj.ArtifactID]; id != "" {
		c, found, err := t.getCampaign(ctx, id)
		switch {
		case err != nil:
			return a, fmt.Errorf("mailchimp: assess email %q: %w", e.Name, err)
		case found && campaignSent(c.Status):
			a.Notes = append(a.Notes, fmt.Sprintf("Mailchimp has sent this email (campaign %s); a sent campaign cannot change, so the new revision is not applied there and nothing is sent again", id))
		case found && campaignScheduled(c.Status):
			a.Problems = append(a.Problems, fmt.Sprintf("Mailchimp has this email scheduled (campaign %s), and a scheduled campaign cannot be edited: unschedule it in Mailchimp and plan again, or stage the change as a new email", id))
		}
	}

	switch {
	case len(e.Audience.Include) == 0 && len(e.Audience.Exclude) == 0:
		if found {
			a.AudienceSize = listSize
			a.Notes = append(a.Notes, fmt.Sprintf("the email goes to the whole Mailchimp audience %q (%d subscribed contacts)", listName, listSize))
		}
	case len(in) == 1 && len(out) == 0 && in[0].liveID != 0:
		if seg, ok, err := t.getSegment(ctx, strconv.Itoa(in[0].liveID)); err != nil {
			return a, fmt.Errorf("mailchimp: assess email %q: %w", e.Name, err)
		} else if ok {
			a.AudienceSize = seg.MemberCount
		} else {
			a.Problems = append(a.Problems, fmt.Sprintf("audience segment %q is recorded as live (Mailchimp id %d) but no longer exists; re-plan after promoting it again", in[0].name, in[0].liveID))
		}
	}
	return a, nil
}

func (t *Target) assessSegment(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	s := obj.Segment
	a := sandbox.Assessment{AudienceSize: -1}
	_, _, found, err := t.audienceInfo(ctx)
	if err != nil {
		return a, err
	}
	if !found {
		a.Problems = append(a.Problems, t.missingAudience())
	}
	var problems []string
	in, err := t.resolveRefs(ctx, obj, s.IncludeSegments, false, false)
	if err != nil {
		problems = append(problems, err.Error())
	}
	out, err := t.resolveRefs(ctx, obj, s.ExcludeSegments, false, false)
	if err != nil {
		problems = append(problems, err.Error())
	}
	_, tr := t.segmentRequest(obj, s, in, out)
	a.Problems = append(a.Problems, problems...)
	a.Problems = append(a.Problems, tr.problems...)
	a.Notes = append(a.Notes, tr.notes...)
	a.Notes = append(a.Notes, assumedNotes(tr.assumed)...)
	return a, nil
}

// Live reads a campaign (with its content) or a segment; found is false
// when it no longer exists.
func (t *Target) Live(ctx context.Context, kind sandbox.Kind, liveID string) (sandbox.LiveState, bool, error) {
	switch kind {
	case sandbox.KindEmail:
		st, found, err := t.liveCampaign(ctx, liveID)
		if err != nil {
			return st, false, fmt.Errorf("mailchimp: read campaign %s: %w", liveID, err)
		}
		return st, found, nil
	case sandbox.KindSegment:
		s, found, err := t.getSegment(ctx, liveID)
		if err != nil {
			return sandbox.LiveState{}, false, fmt.Errorf("mailchimp: read segment %s: %w", liveID, err)
		}
		if !found {
			return sandbox.LiveState{}, false, nil
		}
		return t.segmentState(s), true, nil
	}
	return sandbox.LiveState{}, false, notSupported(kind)
}

// Find looks for the object an interrupted attempt may have created: a
// campaign whose title carries the marker, a segment whose name does.
func (t *Target) Find(ctx context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	if obj.Marker == "" {
		return sandbox.LiveState{}, false, fmt.Errorf("mailchimp: find %s: the object has no marker", obj.ArtifactID)
	}
	switch obj.Kind {
	case sandbox.KindEmail:
		id, found, err := t.findCampaignID(ctx, obj.Marker)
		if err != nil {
			return sandbox.LiveState{}, false, fmt.Errorf("mailchimp: find campaign %s: %w", obj.Marker, err)
		}
		if !found {
			return sandbox.LiveState{}, false, nil
		}
		st, found, err := t.liveCampaign(ctx, id)
		if err != nil {
			return st, false, fmt.Errorf("mailchimp: find campaign %s: %w", obj.Marker, err)
		}
		return st, found, nil
	case sandbox.KindSegment:
		s, found, err := t.findSegment(ctx, obj.Marker)
		if err != nil {
			return sandbox.LiveState{}, false, fmt.Errorf("mailchimp: find segment %s: %w", obj.Marker, err)
		}
		if !found {
			return sandbox.LiveState{}, false, nil
		}
		return t.segmentState(s), true, nil
	}
	return sandbox.LiveState{}, false, notSupported(obj.Kind)
}

// Put creates the campaign or segment when liveID is empty, else updates it.
// A create that fails ambiguously (timeout, dropped connection, 5xx) is
// reconciled by marker before it is tried again.
func (t *Target) Put(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	switch obj.Kind {
	case sandbox.KindEmail:
		if obj.Email == nil {
			return sandbox.LiveState{}, fmt.Errorf("mailchimp: put %s: the object has no email", obj.ArtifactID)
		}
		return t.putEmail(ctx, obj, liveID)
	case sandbox.KindSegment:
		if obj.Segment == nil {
			return sandbox.LiveState{}, fmt.Errorf("mailchimp: put %s: the object has no segment", obj.ArtifactID)
		}
		return t.putSegment(ctx, obj, liveID)
	}
	return sandbox.LiveState{}, notSupported(obj.Kind)
}

// Send sends the campaign now (at zero) or schedules it at the next quarter
// hour at or after at, once the send checklist passes. A campaign already
// sending, sent or scheduled is left alone.
func (t *Target) Send(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	if obj.Kind != sandbox.KindEmail || obj.Email == nil {
		return sandbox.LiveState{}, notSupported(obj.Kind)
	}
	return t.sendEmail(ctx, obj, live, at)
}

// Publish is not supported: Mailchimp pages and journeys are out of reach.
func (t *Target) Publish(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	return sandbox.LiveState{}, notSupported(obj.Kind)
}

type reportResponse struct {
	ID           string `json:"id"`
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

const reportFields = "id,emails_sent,abuse_reports,unsubscribed,bounces,forwards,opens,clicks,facebook_likes,ecommerce"

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
				if httpStatus(err) == http.StatusNotFound {
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
			results[i] = result{ok: true, m: sandbox.Metrics{ArtifactID: it.ArtifactID, LiveID: it.LiveID,
				Counters: c, Ratios: ratios, Source: Platform, FetchedAt: t.now().UTC()}}
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
