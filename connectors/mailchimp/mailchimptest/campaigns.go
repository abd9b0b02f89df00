package mailchimptest

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

type campaignBody struct {
	Type       string          `json:"type"`
	Recipients json.RawMessage `json:"recipients"`
	Settings   json.RawMessage `json:"settings"`
	Variate    json.RawMessage `json:"variate_settings"`
}

type recipientsBody struct {
	ListID      string         `json:"list_id"`
	SegmentOpts map[string]any `json:"segment_opts"`
}

// advanceLocked moves a campaign along in time: a scheduled campaign whose
// time has come is sent; a sending one is sent after sendingFor.
func (s *Server) advanceLocked(c *Campaign) {
	now := s.opts.now()
	switch c.Status {
	case "schedule":
		if !now.Before(c.SendTime) {
			c.Recipients = s.recipientsLocked(c)
			c.Status = "sent"
		}
	case "sending":
		if !now.Before(c.SendTime.Add(s.opts.sendingFor)) {
			c.Status = "sent"
		}
	}
}

func (s *Server) recipientsLocked(c *Campaign) []string {
	l := s.lists[c.ListID]
	if l == nil {
		return nil
	}
	if c.SegmentOpts != nil {
		if id, ok := c.SegmentOpts["saved_segment_id"].(float64); ok && id != 0 {
			g := s.segments[int(id)]
			if g == nil {
				return nil
			}
			return s.segmentMembersLocked(g)
		}
		if conds, ok := c.SegmentOpts["conditions"].([]any); ok && len(conds) > 0 {
			match, _ := c.SegmentOpts["match"].(string)
			return s.evaluateLocked(l, match, conds)
		}
	}
	return s.evaluateLocked(l, "all", nil)
}

func (s *Server) segmentTextLocked(c *Campaign) string {
	if c.SegmentOpts == nil {
		return ""
	}
	if id, ok := c.SegmentOpts["saved_segment_id"].(float64); ok {
		if g := s.segments[int(id)]; g != nil {
			return fmt.Sprintf("Contacts in segment %q", g.Name)
		}
	}
	if conds, ok := c.SegmentOpts["conditions"].([]any); ok {
		return fmt.Sprintf("Contacts matching %v of %d conditions", c.SegmentOpts["match"], len(conds))
	}
	return ""
}

func (s *Server) campaignJSON(c *Campaign) map[string]any {
	s.advanceLocked(c)
	listName := ""
	if l := s.lists[c.ListID]; l != nil {
		listName = l.Name
	}
	count := len(s.recipientsLocked(c))
	if c.Status == "sent" || c.Status == "sending" {
		count = len(c.Recipients)
	}
	rec := map[string]any{
		"list_id":         c.ListID,
		"list_is_active":  true,
		"list_name":       listName,
		"segment_text":    s.segmentTextLocked(c),
		"recipient_count": count,
	}
	if c.SegmentOpts != nil {
		rec["segment_opts"] = c.SegmentOpts
	}
	archive := fmt.Sprintf("https://%s.campaign-archive.com/?u=fake%s&id=%s", s.opts.dc, s.seed, c.ID)
	emailsSent := 0
	if c.Status == "sent" || c.Status == "sending" {
		emailsSent = len(c.Recipients)
	}
	out := map[string]any{
		"id":               c.ID,
		"web_id":           c.WebID,
		"type":             c.Type,
		"create_time":      fmtTime(c.CreateTime),
		"archive_url":      archive,
		"long_archive_url": archive,
		"status":           c.Status,
		"emails_sent":      emailsSent,
		"send_time":        fmtTime(c.SendTime),
		"content_type":     "html",
		"recipients":       rec,
		"settings": map[string]any{
			"subject_line":  c.Settings.SubjectLine,
			"preview_text":  c.Settings.PreviewText,
			"title":         c.Settings.Title,
			"from_name":     c.Settings.FromName,
			"reply_to":      c.Settings.ReplyTo,
			"to_name":       c.Settings.ToName,
			"folder_id":     c.Settings.FolderID,
			"auto_footer":   c.Settings.AutoFooter,
			"inline_css":    c.Settings.InlineCSS,
			"authenticate":  true,
			"fb_comments":   true,
			"timewarp":      false,
			"template_id":   0,
			"drag_and_drop": false,
		},
		"tracking":        map[string]any{"opens": true, "html_clicks": true, "text_clicks": false},
		"delivery_status": map[string]any{"enabled": false},
		"ecommerce":       s.ecommerceReportLocked(c.ID),
	}
	if v := variateJSON(c); v != nil {
		out["variate_settings"] = v
	}
	return out
}

// mergeSettings applies a settings object from a request onto st: only the
// fields present change.
func mergeSettings(st *Settings, raw json.RawMessage) {
	if len(raw) == 0 {
		return
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return
	}
	set := func(key string, dst any) {
		if v, ok := m[key]; ok {
			_ = json.Unmarshal(v, dst)
		}
	}
	set("subject_line", &st.SubjectLine)
	set("preview_text", &st.PreviewText)
	set("title", &st.Title)
	set("from_name", &st.FromName)
	set("reply_to", &st.ReplyTo)
	set("to_name", &st.ToName)
	set("auto_footer", &st.AutoFooter)
	set("inline_css", &st.InlineCSS)
	set("folder_id", &st.FolderID)
}

func (s *Server) checkRecipientsLocked(raw json.RawMessage) (recipientsBody, reply, bool) {
	var rb recipientsBody
	if err := json.Unmarshal(raw, &rb); err != nil {
		return rb, invalidResource(FieldError{Field: "recipients", Message: "recipients must be an object"}), false
	}
	if s.lists[rb.ListID] == nil {
		return rb, invalidResource(FieldError{Field: "recipients.list_id", Message: "The requested list (audience) does not exist."}), false
	}
	if so := rb.SegmentOpts; so != nil {
		id, hasID := so["saved_segment_id"].(float64)
		conds, hasConds := so["conditions"].([]any)
		switch {
		case hasID:
			g := s.segments[int(id)]
			if g == nil || g.ListID != rb.ListID {
				return rb, invalidResource(FieldError{Field: "recipients.segment_opts.saved_segment_id",
					Message: fmt.Sprintf("Segment %v does not exist on this list.", so["saved_segment_id"])}), false
			}
		case hasConds:
			if m, _ := so["match"].(string); m == "" {
				return rb, invalidResource(FieldError{Field: "recipients.segment_opts.match", Message: "This value should not be blank."}), false
			}
			if rep, good := s.checkConditionsLocked(rb.ListID, "recipients.segment_opts.conditions", conds); !good {
				return rb, rep, false
			}
		}
	}
	return rb, reply{}, true
}

func (s *Server) postCampaign(r *http.Request, body []byte) reply {
	var b campaignBody
	if rep, good := decode("POST /campaigns", body, &b); !good {
		return rep
	}
	if len(b.Recipients) == 0 {
		// Mailchimp accepts a campaign without an audience, but a regular
		// campaign cannot be sent without one; the checklist says so.
		b.Recipients = json.RawMessage(`null`)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &Campaign{Type: b.Type, Status: "save", CreateTime: s.opts.now().UTC()}
	v, rep, good := checkVariate(b.Type, b.Variate, nil)
	if !good {
		return rep
	}
	c.Variate = v
	if string(b.Recipients) != "null" {
		rb, rep, good := s.checkRecipientsLocked(b.Recipients)
		if !good {
			return rep
		}
		c.ListID, c.SegmentOpts = rb.ListID, rb.SegmentOpts
	}
	mergeSettings(&c.Settings, b.Settings)
	c.ID = fmt.Sprintf("%010x", uint64(0x5ca1ab1e00)+uint64(s.nextCampaign))
	c.WebID = 100000 + s.nextCampaign
	s.nextCampaign++
	s.campaigns[c.ID] = c
	s.order = append(s.order, c.ID)
	return ok(s.campaignJSON(c))
}

func (s *Server) getCampaigns(r *http.Request, _ []byte) reply {
	count, offset, rep, good := paging(r)
	if !good {
		return rep
	}
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	var sel []*Campaign
	for _, id := range s.order {
		c := s.campaigns[id]
		s.advanceLocked(c)
		if v := q.Get("status"); v != "" && c.Status != v {
			continue
		}
		if v := q.Get("type"); v != "" && c.Type != v {
			continue
		}
		if v := q.Get("list_id"); v != "" && c.ListID != v {
			continue
		}
		sel = append(sel, c)
	}
	switch q.Get("sort_field") {
	case "", "create_time":
		sort.SliceStable(sel, func(i, j int) bool { return sel[i].CreateTime.Before(sel[j].CreateTime) })
	case "send_time":
		sort.SliceStable(sel, func(i, j int) bool { return sel[i].SendTime.Before(sel[j].SendTime) })
	default:
		return invalidResource(FieldError{Field: "sort_field", Message: "sort_field must be create_time or send_time"})
	}
	if strings.EqualFold(q.Get("sort_dir"), "DESC") {
		for i, j := 0, len(sel)-1; i < j; i, j = i+1, j-1 {
			sel[i], sel[j] = sel[j], sel[i]
		}
	}
	all := make([]map[string]any, 0, len(sel))
	for _, c := range page(sel, count, offset) {
		all = append(all, s.campaignJSON(c))
	}
	return ok(project(map[string]any{"campaigns": all, "total_items": len(sel)}, q.Get("fields"), q.Get("exclude_fields")))
}

func (s *Server) campaignFromPath(r *http.Request) *Campaign {
	c := s.campaigns[r.PathValue("campaign_id")]
	if c != nil {
		s.advanceLocked(c)
	}
	return c
}

func (s *Server) getCampaign(r *http.Request, _ []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.campaignFromPath(r)
	if c == nil {
		return notFound()
	}
	q := r.URL.Query()
	return ok(project(s.campaignJSON(c), q.Get("fields"), q.Get("exclude_fields")))
}

// editable says whether a campaign can still be changed.
func editable(c *Campaign) (reply, bool) {
	switch c.Status {
	case "save", "paused":
		return reply{}, true
	case "schedule":
		return fail(http.StatusBadRequest, "Bad Request", "This campaign is scheduled and cannot be edited. Unschedule it first."), false
	}
	return fail(http.StatusBadRequest, "Bad Request", fmt.Sprintf("This campaign cannot be edited: its status is %q.", c.Status)), false
}

func (s *Server) patchCampaign(r *http.Request, body []byte) reply {
	var b campaignBody
	if rep, good := decode("PATCH /campaigns/{campaign_id}", body, &b); !good {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.campaignFromPath(r)
	if c == nil {
		return notFound()
	}
	if rep, good := editable(c); !good {
		return rep
	}
	if len(b.Recipients) > 0 && string(b.Recipients) != "null" {
		rb, rep, good := s.checkRecipientsLocked(b.Recipients)
		if !good {
			return rep
		}
		c.ListID, c.SegmentOpts = rb.ListID, rb.SegmentOpts
	}
	v, rep, good := checkVariate(c.Type, b.Variate, c.Variate)
	if !good {
		return rep
	}
	c.Variate = v
	mergeSettings(&c.Settings, b.Settings)
	return ok(s.campaignJSON(c))
}

func (s *Server) deleteCampaign(r *http.Request, _ []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.campaignFromPath(r)
	if c == nil {
		return notFound()
	}
	if c.Status == "sending" || c.Status == "schedule" {
		return fail(http.StatusBadRequest, "Bad Request", "A scheduled or sending campaign cannot be deleted.")
	}
	delete(s.campaigns, c.ID)
	for i, id := range s.order {
		if id == c.ID {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	return noContent()
}

func contentJSON(c *Campaign) map[string]any {
	out := map[string]any{"html": c.HTML, "plain_text": c.PlainText, "archive_html": c.HTML}
	if len(c.VariateContents) > 0 {
		out["variate_contents"] = c.VariateContents
	}
	return out
}

func (s *Server) getContent(r *http.Request, _ []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.campaignFromPath(r)
	if c == nil {
		return notFound()
	}
	q := r.URL.Query()
	return ok(project(contentJSON(c), q.Get("fields"), q.Get("exclude_fields")))
}

var tagRE = regexp.MustCompile(`(?s)<[^>]*>`)

func (s *Server) putContent(r *http.Request, body []byte) reply {
	var b struct {
		HTML      *string         `json:"html"`
		PlainText *string         `json:"plain_text"`
		URL       *string         `json:"url"`
		Template  any             `json:"template"`
		Variate   json.RawMessage `json:"variate_contents"`
	}
	if rep, good := decode("PUT /campaigns/{campaign_id}/content", body, &b); !good {
		return rep
	}
	if b.URL != nil || b.Template != nil {
		return fail(http.StatusBadRequest, "Bad Request", "This fake supports html and plain_text content only.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.campaignFromPath(r)
	if c == nil {
		return notFound()
	}
	if rep, good := editable(c); !good {
		return rep
	}
	if len(b.Variate) > 0 {
		if rep, good := putVariateContents(c, b.Variate); !good {
			return rep
		}
		return ok(contentJSON(c))
	}
	if b.HTML != nil {
		c.HTML = *b.HTML
		if b.PlainText == nil {
			c.PlainText = strings.TrimSpace(tagRE.ReplaceAllString(c.HTML, " "))
		}
	}
	if b.PlainText != nil {
		c.PlainText = *b.PlainText
	}
	return ok(contentJSON(c))
}

// ChecklistItem is one entry of the send checklist.
type ChecklistItem struct {
	Type    string `json:"type"` // success | warning | error
	ID      int    `json:"id"`
	Heading string `json:"heading"`
	Details string `json:"details"`
}

func (s *Server) checklistLocked(c *Campaign) (bool, []ChecklistItem) {
	var items []ChecklistItem
	add := func(ok bool, id int, heading, good, bad string, warn bool) {
		switch {
		case ok:
			items = append(items, ChecklistItem{Type: "success", ID: id, Heading: heading, Details: good})
		case warn:
			items = append(items, ChecklistItem{Type: "warning", ID: id, Heading: heading, Details: bad})
		default:
			items = append(items, ChecklistItem{Type: "error", ID: id, Heading: heading, Details: bad})
		}
	}
	l := s.lists[c.ListID]
	if l == nil {
		add(false, 1, "Audience", "", "Choose an audience to send this campaign to.", false)
	} else {
		n := len(s.recipientsLocked(c))
		add(n > 0, 1, "Audience", fmt.Sprintf("%d recipients in %q.", n, l.Name),
			"Your campaign has no recipients: the audience or segment is empty.", false)
	}
	add(strings.TrimSpace(c.Settings.SubjectLine) != "", 2, "Subject line", "The subject line is set.", "Add a subject line.", false)
	add(strings.TrimSpace(c.Settings.FromName) != "", 3, "From name", "The from name is set.", "Add a from name.", false)
	add(validEmail(c.Settings.ReplyTo), 4, "From email address", "The from email address is set.",
		"Add a valid from (reply-to) email address.", false)
	add(strings.TrimSpace(c.HTML) != "", 5, "Content", "The campaign has content.", "Add content to your campaign.", false)
	if strings.TrimSpace(c.HTML) != "" {
		add((c.Settings.AutoFooter || strings.Contains(c.HTML, "*|UNSUB|*")) && variateUnsub(c), 6, "Unsubscribe link",
			"The campaign includes an unsubscribe link.",
			"Your campaign is missing the *|UNSUB|* merge tag, which anti-spam laws require. Add an unsubscribe link or turn on auto_footer.", false)
	}
	add(strings.TrimSpace(c.Settings.PreviewText) != "", 7, "Preview text", "The preview text is set.",
		"Add preview text to stand out in the inbox.", true)
	ready := true
	for _, it := range items {
		if it.Type == "error" {
			ready = false
		}
	}
	return ready, items
}

var emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

func validEmail(s string) bool { return emailRE.MatchString(s) }

func (s *Server) getChecklist(r *http.Request, _ []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.campaignFromPath(r)
	if c == nil {
		return notFound()
	}
	ready, items := s.checklistLocked(c)
	return ok(map[string]any{"is_ready": ready, "items": items})
}

func (s *Server) canSendLocked(c *Campaign, action string) (reply, bool) {
	switch c.Status {
	case "save", "paused":
	case "schedule":
		return fail(http.StatusBadRequest, "Invalid Action", "This campaign is already scheduled."), false
	case "sending", "sent":
		return fail(http.StatusBadRequest, "Invalid Action", "This campaign has already been sent."), false
	default:
		return fail(http.StatusBadRequest, "Invalid Action", fmt.Sprintf("This campaign cannot be %s: its status is %q.", action, c.Status)), false
	}
	if ready, _ := s.checklistLocked(c); !ready {
		return fail(http.StatusBadRequest, "Bad Request",
			fmt.Sprintf("This campaign cannot be %s: Your Campaign is not ready to send. Review the send checklist.", action)), false
	}
	return reply{}, true
}

func (s *Server) postSchedule(r *http.Request, body []byte) reply {
	var b struct {
		ScheduleTime string `json:"schedule_time"`
		Timewarp     bool   `json:"timewarp"`
		Batch        any    `json:"batch_delivery"`
	}
	if rep, good := decode("POST /campaigns/{campaign_id}/actions/schedule", body, &b); !good {
		return rep
	}
	t, err := time.Parse(time.RFC3339, b.ScheduleTime)
	if err != nil {
		return invalidResource(FieldError{Field: "schedule_time", Message: "schedule_time must be an ISO 8601 date-time."})
	}
	if b.Timewarp && b.Batch != nil {
		return fail(http.StatusBadRequest, "Bad Request", "Timewarp cannot be used with batch delivery.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.campaignFromPath(r)
	if c == nil {
		return notFound()
	}
	t = t.UTC()
	if t.Minute()%15 != 0 || t.Second() != 0 || t.Nanosecond() != 0 {
		return fail(http.StatusBadRequest, "Bad Request",
			"This campaign cannot be scheduled: Campaigns may only be scheduled to send on the quarter-hour (:00, :15, :30, :45).")
	}
	now := s.opts.now()
	if !t.After(now) {
		return fail(http.StatusBadRequest, "Bad Request", "This campaign cannot be scheduled: the schedule time must be in the future.")
	}
	if t.After(now.AddDate(1, 0, 0)) {
		return fail(http.StatusBadRequest, "Bad Request", "This campaign cannot be scheduled: campaigns can be scheduled up to one year ahead.")
	}
	// Mailchimp's help: a Timewarp campaign is scheduled more than 24
	// hours ahead, so its earliest zone's time has not passed.
	if b.Timewarp && !t.After(now.Add(24*time.Hour)) {
		return fail(http.StatusBadRequest, "Bad Request", "This campaign cannot be scheduled: Timewarp campaigns must be scheduled more than 24 hours in advance.")
	}
	if rep, good := s.canSendLocked(c, "scheduled"); !good {
		return rep
	}
	c.Status, c.SendTime, c.Timewarp = "schedule", t, b.Timewarp
	c.SendActions++
	return noContent()
}

// postUnschedule is POST /campaigns/{campaign_id}/actions/unschedule:
// "Unschedule a scheduled campaign that hasn't started sending" (the
// spec). It takes no body; the campaign goes back to save. Anything not
// in schedule status is refused as the send actions refuse theirs: a 400
// Invalid Action that says why.
func (s *Server) postUnschedule(r *http.Request, _ []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.campaignFromPath(r)
	if c == nil {
		return notFound()
	}
	switch c.Status {
	case "schedule":
	case "sending", "sent":
		return fail(http.StatusBadRequest, "Invalid Action", "This campaign cannot be unscheduled: it has already been sent.")
	default:
		return fail(http.StatusBadRequest, "Invalid Action", fmt.Sprintf("This campaign cannot be unscheduled: it is not scheduled (its status is %q).", c.Status))
	}
	c.Status, c.SendTime, c.Timewarp = "save", time.Time{}, false
	c.Unschedules++
	return noContent()
}

func (s *Server) postSend(r *http.Request, _ []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.campaignFromPath(r)
	if c == nil {
		return notFound()
	}
	if rep, good := s.canSendLocked(c, "sent"); !good {
		return rep
	}
	c.Recipients = s.recipientsLocked(c)
	c.Status, c.SendTime = "sending", s.opts.now().UTC()
	c.SendActions++
	s.advanceLocked(c)
	return noContent()
}

// maxTestEmails is how many addresses one test send takes. Mailchimp's
// reference gives no number; its app allows a handful at a time, and this
// keeps a client from treating the test send as a mailing.
const maxTestEmails = 10

// postTest is POST /campaigns/{campaign_id}/actions/test: the campaign as
// it stands, to test_emails, without sending it.
func (s *Server) postTest(r *http.Request, body []byte) reply {
	var b struct {
		TestEmails []string `json:"test_emails"`
		SendType   string   `json:"send_type"`
	}
	if rep, good := decode("POST /campaigns/{campaign_id}/actions/test", body, &b); !good {
		return rep
	}
	var errs []FieldError
	if len(b.TestEmails) == 0 || len(b.TestEmails) > maxTestEmails {
		errs = append(errs, FieldError{Field: "test_emails", Message: fmt.Sprintf("Provide between 1 and %d test email addresses.", maxTestEmails)})
	}
	for _, e := range b.TestEmails {
		if !validEmail(e) {
			errs = append(errs, FieldError{Field: "test_emails", Message: fmt.Sprintf("%q is not a valid email address.", e)})
		}
	}
	if len(errs) > 0 {
		return invalidResource(errs...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.campaignFromPath(r)
	if c == nil {
		return notFound()
	}
	if strings.TrimSpace(c.HTML) == "" || strings.TrimSpace(c.Settings.SubjectLine) == "" || strings.TrimSpace(c.Settings.FromName) == "" || !validEmail(c.Settings.ReplyTo) {
		return fail(http.StatusBadRequest, "Bad Request", "This campaign cannot be tested: it needs content, a subject line, a from name and a from email address.")
	}
	s.tests = append(s.tests, TestEmail{CampaignID: c.ID, Subject: c.Settings.SubjectLine, HTML: c.HTML, To: slices.Clone(b.TestEmails), SendType: b.SendType, At: s.opts.now().UTC()})
	return noContent()
}

// ---- reports ----

// engagement is a member's deterministic fate for a campaign: a number in
// [0,100) from the campaign id and the address.
func engagement(campaignID, email string) int {
	h := fnv.New32a()
	h.Write([]byte(campaignID + "|" + email))
	return int(h.Sum32() % 100)
}

// Report is the figures the fake reports for a sent campaign.
type Report struct {
	EmailsSent, HardBounces, SoftBounces, UniqueOpens, OpensTotal int
	UniqueClicks, ClicksTotal, Unsubscribed, AbuseReports         int
}

// ReportFor computes the report of a sent campaign from its recipients:
// per recipient, engagement(id, email) < 2 is a hard bounce, 2 a soft
// bounce, 3–46 an open (1–3 opens), 3–14 also a click (1–2 clicks), 98 an
// abuse report, 99 an unsubscribe.
func ReportFor(c Campaign) Report {
	var r Report
	r.EmailsSent = len(c.Recipients)
	for _, e := range c.Recipients {
		n := engagement(c.ID, e)
		switch {
		case n < 2:
			r.HardBounces++
			continue
		case n == 2:
			r.SoftBounces++
			continue
		}
		if n < 47 {
			r.UniqueOpens++
			r.OpensTotal += 1 + n%3
		}
		if n < 15 {
			r.UniqueClicks++
			r.ClicksTotal += 1 + n%2
		}
		if n == 98 {
			r.AbuseReports++
		}
		if n == 99 {
			r.Unsubscribed++
		}
	}
	return r
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (s *Server) getReport(r *http.Request, _ []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.campaignFromPath(r)
	if c == nil || (c.Status != "sent" && c.Status != "sending") {
		return notFound()
	}
	rep := ReportFor(*c)
	delivered := rep.EmailsSent - rep.HardBounces - rep.SoftBounces
	listName := ""
	if l := s.lists[c.ListID]; l != nil {
		listName = l.Name
	}
	body := map[string]any{
		"id":             c.ID,
		"campaign_title": c.Settings.Title,
		"type":           c.Type,
		"list_id":        c.ListID,
		"list_is_active": true,
		"list_name":      listName,
		"subject_line":   c.Settings.SubjectLine,
		"preview_text":   c.Settings.PreviewText,
		"emails_sent":    rep.EmailsSent,
		"abuse_reports":  rep.AbuseReports,
		"unsubscribed":   rep.Unsubscribed,
		"send_time":      fmtTime(c.SendTime),
		"bounces":        map[string]any{"hard_bounces": rep.HardBounces, "soft_bounces": rep.SoftBounces, "syntax_errors": 0},
		"forwards":       map[string]any{"forwards_count": 0, "forwards_opens": 0},
		"opens": map[string]any{"opens_total": rep.OpensTotal, "unique_opens": rep.UniqueOpens,
			"open_rate": ratio(rep.UniqueOpens, delivered), "last_open": fmtTime(c.SendTime)},
		"clicks": map[string]any{"clicks_total": rep.ClicksTotal, "unique_clicks": rep.UniqueClicks,
			"unique_subscriber_clicks": rep.UniqueClicks, "click_rate": ratio(rep.UniqueClicks, delivered),
			"last_click": fmtTime(c.SendTime)},
		"facebook_likes": map[string]any{"recipient_likes": 0, "unique_likes": 0, "facebook_likes": 0},
		"list_stats":     map[string]any{"sub_rate": 0, "unsub_rate": 0, "open_rate": 0.4, "click_rate": 0.1},
		"industry_stats": map[string]any{"type": "Marketing", "open_rate": 0.21, "click_rate": 0.026, "bounce_rate": 0.01,
			"unopen_rate": 0.79, "unsub_rate": 0.002, "abuse_rate": 0.0001},
		"delivery_status": map[string]any{"enabled": false},
		"ecommerce":       s.ecommerceReportLocked(c.ID),
	}
	q := r.URL.Query()
	return ok(project(body, q.Get("fields"), q.Get("exclude_fields")))
}
