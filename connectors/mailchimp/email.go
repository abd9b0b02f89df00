package mailchimp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

type segmentOpts struct {
	SavedSegmentID int         `json:"saved_segment_id,omitempty"`
	Match          string      `json:"match,omitempty"`
	Conditions     []condition `json:"conditions,omitempty"`
}

type recipients struct {
	ListID      string       `json:"list_id"`
	SegmentOpts *segmentOpts `json:"segment_opts,omitempty"`
}

type campaignSettings struct {
	SubjectLine string `json:"subject_line"`
	PreviewText string `json:"preview_text"`
	Title       string `json:"title"`
	FromName    string `json:"from_name"`
	ReplyTo     string `json:"reply_to"`
	AutoFooter  bool   `json:"auto_footer"`
}

type campaignRequest struct {
	Type            string           `json:"type,omitempty"`
	Recipients      recipients       `json:"recipients"`
	Settings        campaignSettings `json:"settings"`
	VariateSettings *variateSettings `json:"variate_settings,omitempty"` // A/B tests (abtest.go)
}

// contentRequest is html (and plain_text), or, for a variate campaign
// testing content, variate_contents instead.
type contentRequest struct {
	HTML            string           `json:"html,omitempty"`
	PlainText       string           `json:"plain_text,omitempty"`
	VariateContents []variateContent `json:"variate_contents,omitempty"`
}

type campaignResponse struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	WebID      int    `json:"web_id"`
	Status     string `json:"status"`
	ArchiveURL string `json:"archive_url"`
	SendTime   string `json:"send_time"`
	Recipients struct {
		ListID         string          `json:"list_id"`
		SegmentOpts    json.RawMessage `json:"segment_opts"`
		RecipientCount int             `json:"recipient_count"`
	} `json:"recipients"`
	Settings        campaignSettings `json:"settings"`
	VariateSettings json.RawMessage  `json:"variate_settings,omitempty"`
}

type contentResponse struct {
	HTML            string          `json:"html"`
	PlainText       string          `json:"plain_text"`
	VariateContents json.RawMessage `json:"variate_contents,omitempty"`
}

const campaignFields = "id,type,variate_settings,web_id,status,archive_url,send_time,recipients.list_id,recipients.segment_opts,recipients.recipient_count," +
	"settings.subject_line,settings.preview_text,settings.title,settings.from_name,settings.reply_to,settings.auto_footer"

// campaignVersion hashes what lastmile controls of a campaign — settings,
// audience and content — and not its status, so that a scheduled campaign
// going out is not mistaken for someone editing it.
func campaignVersion(c campaignResponse, content contentResponse) string {
	h := sha256.New()
	s := c.Settings
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%t\x00%s\x00",
		c.Recipients.ListID, s.SubjectLine, s.PreviewText, s.Title, s.FromName, s.ReplyTo, s.AutoFooter, c.Recipients.SegmentOpts)
	fmt.Fprintf(h, "%s\x00%s", content.HTML, content.PlainText)
	if len(c.VariateSettings) > 0 || len(content.VariateContents) > 0 {
		// Only A/B campaigns hash these, so other versions stay as they were.
		fmt.Fprintf(h, "\x00%s\x00%s", c.VariateSettings, content.VariateContents)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// campaignSent reports a campaign that went out or is going out.
func campaignSent(status string) bool { return status == "sent" || status == "sending" }

// campaignScheduled reports a campaign waiting to go out.
func campaignScheduled(status string) bool { return status == "schedule" }

func (t *Target) campaignState(c campaignResponse, version string) sandbox.LiveState {
	return sandbox.LiveState{ID: c.ID, URL: c.ArchiveURL, Version: version, Status: c.Status}
}

// replyTo is the address Mailchimp sends from and replies go to: the
// email's reply_to, else its from_email.
func replyTo(e *sandbox.Email) string {
	if r := strings.TrimSpace(e.ReplyTo); r != "" {
		return r
	}
	return strings.TrimSpace(e.FromEmail)
}

// builtEmail is an email translated for Mailchimp.
type builtEmail struct {
	campaign campaignRequest
	content  contentRequest
	problems []string
	notes    []string
}

// buildEmail translates an email. audience is nil at planning time when a
// referenced segment is not live yet.
func (t *Target) buildEmail(obj sandbox.Object, audience *segmentOpts) builtEmail {
	e := obj.Email
	var b builtEmail
	assumed := map[string]string{}
	tx := func(field, s string) string {
		tr := t.translate(field, s)
		b.problems = append(b.problems, tr.problems...)
		for k, v := range tr.assumed {
			assumed[k] = v
		}
		return tr.out
	}
	html := t.translate("html", e.HTML)
	b.problems = append(b.problems, html.problems...)
	for k, v := range html.assumed {
		assumed[k] = v
	}
	text := tx("text", e.Text)
	b.campaign = campaignRequest{
		Type:       "regular",
		Recipients: recipients{ListID: t.cfg.ListID, SegmentOpts: audience},
		Settings: campaignSettings{
			SubjectLine: tx("subject", e.Subject),
			PreviewText: tx("preview_text", e.PreviewText),
			Title:       markedName(e.Name, obj.Marker, 100),
			FromName:    e.FromName,
			ReplyTo:     replyTo(e),
			// Without an unsubscribe link of its own the email gets
			// Mailchimp's standard footer, which has one (and the postal
			// address the law asks for).
			AutoFooter: !html.unsub,
		},
	}
	b.content = contentRequest{HTML: html.out, PlainText: text}
	t.buildVariate(e, &b, tx)
	b.notes = append(b.notes, assumedNotes(assumed)...)
	return b
}

// audience turns the email's audience into segment_opts. It returns the
// problems when Mailchimp cannot express the combination; opts is nil for
// the whole audience (or, at planning time, when ids are not known yet).
func (t *Target) audience(refsIn, refsOut []segRef) (opts *segmentOpts, problems []string) {
	for _, r := range append(append([]segRef(nil), refsIn...), refsOut...) {
		if r.otherTgt != "" {
			problems = append(problems, fmt.Sprintf("audience segment %q is staged for target %q; a Mailchimp campaign can only go to segments of its own audience — target the segment at %q too", r.name, r.otherTgt, t.name))
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	switch {
	case len(refsIn) == 0 && len(refsOut) == 0:
		return nil, nil
	case len(refsIn) == 1 && len(refsOut) == 0:
		if refsIn[0].liveID == 0 {
			return nil, nil
		}
		return &segmentOpts{SavedSegmentID: refsIn[0].liveID}, nil
	}
	for _, r := range append(append([]segRef(nil), refsIn...), refsOut...) {
		if r.static != nil && !*r.static {
			problems = append(problems, fmt.Sprintf("audience segment %q has conditions; a Mailchimp campaign can go to one such segment, or combine static segments (lists of addresses) only — make one segment that includes and excludes what you need and send to it", r.name))
		}
	}
	if len(refsIn) > 1 && len(refsOut) > 0 {
		problems = append(problems, "the audience includes several segments and excludes others; Mailchimp campaigns combine segments with a single match (any or all), which cannot express this — make one segment that includes and excludes what you need and send to it")
	}
	if len(problems) > 0 {
		return nil, problems
	}
	o := &segmentOpts{Match: "all"}
	if len(refsOut) == 0 {
		o.Match = "any"
	}
	for _, r := range refsIn {
		o.Conditions = append(o.Conditions, condition{ConditionType: "StaticSegment", Field: "static_segment", Op: "static_is", Value: r.liveID})
	}
	for _, r := range refsOut {
		o.Conditions = append(o.Conditions, condition{ConditionType: "StaticSegment", Field: "static_segment", Op: "static_not", Value: r.liveID})
	}
	return o, nil
}

func (t *Target) campaignPath(id string) string { return "/campaigns/" + url.PathEscape(id) }

func (t *Target) getCampaign(ctx context.Context, id string) (campaignResponse, bool, error) {
	return getOne[campaignResponse](ctx, t, t.campaignPath(id)+"?fields="+campaignFields, "campaign")
}

func (t *Target) getContent(ctx context.Context, id string) (contentResponse, error) {
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet, Path: t.campaignPath(id) + "/content?fields=html,plain_text"})
	if err != nil {
		return contentResponse{}, mapErr(err, t.name)
	}
	var c contentResponse
	if err := resp.Decode(&c); err != nil {
		return contentResponse{}, fmt.Errorf("decoding the campaign content: %w", err)
	}
	return c, nil
}

// liveCampaign reads a campaign and its content.
func (t *Target) liveCampaign(ctx context.Context, id string) (sandbox.LiveState, bool, error) {
	c, found, err := t.getCampaign(ctx, id)
	if err != nil || !found {
		return sandbox.LiveState{}, found, err
	}
	content, err := t.getContent(ctx, id)
	if err != nil {
		if rest.StatusOf(err) == http.StatusNotFound {
			return sandbox.LiveState{}, false, nil
		}
		return sandbox.LiveState{}, false, err
	}
	return t.campaignState(c, campaignVersion(c, content)), true, nil
}

// findCampaignID pages through the account's campaigns, newest first, for
// the marker in the title.
func (t *Target) findCampaignID(ctx context.Context, marker string) (string, bool, error) {
	const count = 1000
	for offset := 0; ; offset += count {
		resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet,
			Path: fmt.Sprintf("/campaigns?count=%d&offset=%d&sort_field=create_time&sort_dir=DESC&fields=total_items,campaigns.id,campaigns.settings.title", count, offset)})
		if err != nil {
			return "", false, mapErr(err, t.name)
		}
		var page struct {
			Campaigns []struct {
				ID       string `json:"id"`
				Settings struct {
					Title string `json:"title"`
				} `json:"settings"`
			} `json:"campaigns"`
			TotalItems int `json:"total_items"`
		}
		if err := resp.Decode(&page); err != nil {
			return "", false, fmt.Errorf("decoding campaigns: %w", err)
		}
		for _, c := range page.Campaigns {
			if hasMarker(c.Settings.Title, marker) {
				return c.ID, true, nil
			}
		}
		if len(page.Campaigns) < count || offset+count >= page.TotalItems {
			return "", false, nil
		}
	}
}

// putEmail creates or updates the campaign, then sets its content.
func (t *Target) putEmail(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	e := obj.Email
	op := "create email"
	if liveID != "" {
		op = "update email"
	}
	fail := func(err error) (sandbox.LiveState, error) {
		return sandbox.LiveState{}, fmt.Errorf("mailchimp: %s %q: %w", op, e.Name, err)
	}
	// One segment is sent to as it is; combinations need to know which
	// segments are static.
	needKind := len(e.Audience.Include)+len(e.Audience.Exclude) > 1
	in, err := t.resolveRefs(ctx, obj, e.Audience.Include, true, needKind)
	if err != nil {
		return fail(err)
	}
	out, err := t.resolveRefs(ctx, obj, e.Audience.Exclude, true, needKind)
	if err != nil {
		return fail(err)
	}
	opts, problems := t.audience(in, out)
	b := t.buildEmail(obj, opts)
	problems = append(problems, b.problems...)
	if len(problems) > 0 {
		return fail(fmt.Errorf("%s: %w", strings.Join(problems, "; "), sandbox.ErrNotSupported))
	}

	var c campaignResponse
	if liveID != "" {
		cur, found, err := t.getCampaign(ctx, liveID)
		if err != nil {
			return fail(err)
		}
		if found && campaignSent(cur.Status) {
			// Mailchimp cannot change a sent campaign; the plan said so
			// (Assess). The promotion goes on and the email stays as sent.
			t.log.Warn("mailchimp: the campaign was already sent; Mailchimp cannot change it, the new revision is not applied there", "target", t.name, "campaign", liveID)
			content, err := t.getContent(ctx, liveID)
			if err != nil {
				return fail(err)
			}
			return t.campaignState(cur, campaignVersion(cur, content)), nil
		}
	}
	if liveID == "" {
		c, err = t.createCampaign(ctx, obj, b.campaign)
		if err != nil {
			return fail(err)
		}
	} else {
		// PATCH takes no type; settings and recipients replace what is there.
		body := b.campaign
		body.Type = ""
		resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodPatch, Idempotent: true, Path: t.campaignPath(liveID), Body: body})
		if err != nil {
			return fail(t.editError(err, liveID))
		}
		if err := resp.Decode(&c); err != nil {
			return fail(err)
		}
	}
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodPut, Path: t.campaignPath(c.ID) + "/content", Body: b.content})
	if err != nil {
		return fail(fmt.Errorf("setting the content of campaign %s: %w", c.ID, t.editError(err, c.ID)))
	}
	var content contentResponse
	if err := resp.Decode(&content); err != nil {
		return fail(err)
	}
	return t.campaignState(c, campaignVersion(c, content)), nil
}

func (t *Target) editError(err error, id string) error {
	switch rest.StatusOf(err) {
	case http.StatusNotFound:
		return fmt.Errorf("campaign %s no longer exists in Mailchimp: re-plan to create it again", id)
	case http.StatusBadRequest:
		p, _ := problemOf(err)
		if strings.Contains(p.Detail, "scheduled") || strings.Contains(p.Detail, "status") || strings.Contains(p.Detail, "sent") {
			return fmt.Errorf("%w: the campaign is already scheduled or sent, so it cannot change (unschedule it in Mailchimp to edit it): %w", mapErr(err, t.name), sandbox.ErrConflict)
		}
	}
	return mapErr(err, t.name)
}

// createCampaign posts the campaign; after an ambiguous failure it looks
// for the marker until the create's landing window has passed before trying
// again, so a create that landed, or is still landing, is never repeated.
func (t *Target) createCampaign(ctx context.Context, obj sandbox.Object, body campaignRequest) (campaignResponse, error) {
	for attempt := 1; ; attempt++ {
		sent := t.now()
		resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodPost, Path: "/campaigns", Body: body})
		if err == nil {
			var c campaignResponse
			if err := resp.Decode(&c); err != nil {
				return c, fmt.Errorf("decoding the new campaign: %w", err)
			}
			return c, nil
		}
		if !errors.Is(err, rest.ErrAmbiguous) || attempt >= 3 {
			return campaignResponse{}, mapErr(err, t.name)
		}
		// Mailchimp may still be working on it: look for the marker until
		// the create can no longer land, and only then send it again.
		var id string
		found, ferr := t.awaitLanding(ctx, sandbox.KindEmail, sent, func(ctx context.Context) (bool, error) {
			var ok bool
			var err error
			id, ok, err = t.findCampaignID(ctx, obj.Marker)
			return ok, err
		})
		if ferr != nil {
			return campaignResponse{}, fmt.Errorf("%w (and looking it up by its marker failed: %v)", mapErr(err, t.name), ferr)
		}
		if found {
			t.log.Info("mailchimp: campaign create was applied despite the failure; using it",
				"target", t.name, "marker", obj.Marker, "campaign_id", id)
			c, ok, gerr := t.getCampaign(ctx, id)
			if gerr != nil {
				return campaignResponse{}, gerr
			}
			if ok {
				return c, nil
			}
		}
		t.log.Info("mailchimp: campaign create failed before being applied; retrying", "target", t.name, "marker", obj.Marker, "attempt", attempt)
	}
}

// QuarterHour rounds t up to Mailchimp's next quarter hour in UTC (:00,
// :15, :30, :45); a time already on one is kept.
func QuarterHour(t time.Time) time.Time {
	t = t.UTC()
	q := t.Truncate(15 * time.Minute)
	if q.Equal(t) {
		return t
	}
	return q.Add(15 * time.Minute)
}

// quarterNote tells the approver how a send time moves, or "" if it does not.
func quarterNote(at time.Time) string {
	r := QuarterHour(at)
	at = at.UTC()
	if r.Equal(at) {
		return ""
	}
	from := at.Format("15:04")
	if at.Second() != 0 || at.Nanosecond() != 0 {
		from = at.Format("15:04:05")
	}
	if r.YearDay() != at.YearDay() || r.Year() != at.Year() {
		return fmt.Sprintf("Mailchimp schedules on the quarter hour: %s on %s becomes %s UTC on %s",
			from, at.Format("2006-01-02"), r.Format("15:04"), r.Format("2006-01-02"))
	}
	return fmt.Sprintf("Mailchimp schedules on the quarter hour: %s becomes %s UTC", from, r.Format("15:04"))
}

// sendEmail sends or schedules the campaign once.
func (t *Target) sendEmail(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	name := obj.Email.Name
	op := "send email"
	if !at.IsZero() {
		op = "schedule email"
	}
	fail := func(err error) (sandbox.LiveState, error) {
		return sandbox.LiveState{}, fmt.Errorf("mailchimp: %s %q: %w", op, name, err)
	}
	if live.ID == "" {
		return fail(errors.New("no live campaign id: the email must be created before it is sent"))
	}
	c, found, err := t.getCampaign(ctx, live.ID)
	if err != nil {
		return fail(err)
	}
	if !found {
		return fail(fmt.Errorf("campaign %s no longer exists in Mailchimp: re-plan to create it again", live.ID))
	}
	state := func(c campaignResponse) sandbox.LiveState {
		s := t.campaignState(c, live.Version)
		if s.URL == "" {
			s.URL = live.URL
		}
		return s
	}
	switch c.Status {
	case "sent", "sending", "schedule":
		// Already done (by an earlier attempt, or by someone in Mailchimp):
		// never a second send.
		return state(c), nil
	case "save", "paused":
	default:
		return fail(fmt.Errorf("the campaign's status in Mailchimp is %q, so lastmile will not send it; look at it in Mailchimp", c.Status))
	}
	var when time.Time
	if !at.IsZero() {
		when = QuarterHour(at)
		if timewarp(obj.Email) {
			when = timewarpTime(obj.Email)
		}
		if !when.After(t.now()) {
			return fail(fmt.Errorf("the send time %s UTC has passed; re-plan with a later send time, or none to send now", when.Format("2006-01-02 15:04")))
		}
	}
	if err := t.checklist(ctx, live.ID); err != nil {
		return fail(err)
	}
	req := rest.Request{Method: http.MethodPost, Path: t.campaignPath(live.ID) + "/actions/send"}
	want := map[string]bool{"sending": true, "sent": true}
	if !at.IsZero() {
		req = rest.Request{Method: http.MethodPost, Path: t.campaignPath(live.ID) + "/actions/schedule",
			Body: map[string]any{"schedule_time": when.Format(time.RFC3339)}}
		if timewarp(obj.Email) {
			req.Body = map[string]any{"schedule_time": when.Format(time.RFC3339), "timewarp": true}
		}
		want = map[string]bool{"schedule": true, "sending": true, "sent": true}
	}
	for attempt := 1; ; attempt++ {
		_, err := t.client.Do(ctx, req)
		if err == nil {
			break
		}
		ambiguous := errors.Is(err, rest.ErrAmbiguous)
		if !ambiguous && rest.StatusOf(err) != http.StatusBadRequest {
			return fail(mapErr(err, t.name))
		}
		// Ambiguous, or refused: either way the live status says whether
		// the campaign went (or is going) out.
		c2, found, gerr := t.getCampaign(ctx, live.ID)
		if gerr != nil {
			return fail(fmt.Errorf("%w (and reading its status failed: %v)", mapErr(err, t.name), gerr))
		}
		if found && want[c2.Status] {
			return state(c2), nil
		}
		if !ambiguous || attempt >= 3 {
			return fail(mapErr(err, t.name))
		}
		t.log.Info("mailchimp: send action failed before being applied; retrying", "target", t.name, "campaign_id", live.ID, "attempt", attempt)
	}
	// Accepted: the campaign is going out (or scheduled). No need to read it
	// back — Mailchimp answered 204 and the status is known.
	s := state(c)
	s.Status = "sending"
	if !at.IsZero() {
		s.Status = "schedule"
	}
	return s, nil
}

// checklist asks Mailchimp whether the campaign is ready; when it is not,
// the error lists every failing item.
func (t *Target) checklist(ctx context.Context, id string) error {
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodGet, Path: t.campaignPath(id) + "/send-checklist"})
	if err != nil {
		return fmt.Errorf("reading the send checklist: %w", mapErr(err, t.name))
	}
	var cl struct {
		IsReady bool            `json:"is_ready"`
		Items   []checklistItem `json:"items"`
	}
	if err := resp.Decode(&cl); err != nil {
		return fmt.Errorf("decoding the send checklist: %w", err)
	}
	for _, it := range cl.Items {
		if it.Type == "warning" {
			t.log.Warn("mailchimp: send checklist warning", "target", t.name, "campaign_id", id, "heading", it.Heading, "details", it.Details)
		}
	}
	if cl.IsReady {
		return nil
	}
	ce := &ChecklistError{}
	for _, it := range cl.Items {
		if it.Type == "error" {
			ce.Items = append(ce.Items, ChecklistItem{Heading: it.Heading, Details: it.Details})
		}
	}
	if len(ce.Items) == 0 {
		ce.Items = append(ce.Items, ChecklistItem{Heading: "Checklist", Details: "Mailchimp says the campaign is not ready but named no item; open it in Mailchimp"})
	}
	return ce
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
	if e.SendAt != nil && !t.assessSendTiming(e, &a) {
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
		case found && !campaignSent(c.Status) && (c.Type == "variate") != (e.ABTest != nil):
			a.Problems = append(a.Problems, fmt.Sprintf("Mailchimp cannot change a campaign's type, and this revision %s an A/B test (campaign %s is %s): stage the change as a new email, and archive this one with retire_artifact", map[bool]string{true: "adds", false: "drops"}[e.ABTest != nil], id, c.Type))
		case found && campaignScheduled(c.Status):
			a.Problems = append(a.Problems, fmt.Sprintf("Mailchimp has this email scheduled (campaign %s), and a scheduled campaign cannot be edited: unschedule it first (retire_artifact with action unschedule, promoted through its own plan) and plan again, or stage the change as a new email", id))
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
