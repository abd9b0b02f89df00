package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/content"
)

// hsEmail is the part of HubSpot's PublicEmail lastmile reads.
type hsEmail struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	State       string `json:"state"`
	Type        string `json:"type"`
	IsPublished bool   `json:"isPublished"`
	IsAb        bool   `json:"isAb"`
	PublishDate string `json:"publishDate"`
	UpdatedAt   string `json:"updatedAt"`
	Stats       *struct {
		Counters map[string]int64   `json:"counters"`
		Ratios   map[string]float64 `json:"ratios"`
	} `json:"stats"`
}

func (e hsEmail) state() sandbox.LiveState {
	return sandbox.LiveState{ID: e.ID, Version: e.UpdatedAt, Status: strings.ToLower(e.State)}
}

// sent reports whether the email was sent, scheduled or (automated) turned on.
func (e hsEmail) sent() bool {
	if e.IsPublished {
		return true
	}
	switch e.State {
	case "PUBLISHED", "SCHEDULED", "PROCESSING", "PRE_PROCESSING", "AUTOMATED", "AUTOMATED_SENDING", "PUBLISHED_OR_SCHEDULED":
		return true
	}
	return false
}

func (e hsEmail) scheduled() bool {
	return e.State == "SCHEDULED" || e.State == "SCHEDULED_AB"
}

// automated reports whether an email is meant for workflows: without an
// audience and a send time it cannot be sent on its own, so lastmile creates
// it as an automated email, the only kind HubSpot workflows can send.
func automated(e *sandbox.Email) bool {
	return len(e.Audience.Include) == 0 && e.SendAt == nil
}

// emailBody is the create/update body. Audience lists must be live unless
// planning (then pending references are left out).
func (t *Target) emailBody(obj sandbox.Object, create bool) (map[string]any, error) {
	e := obj.Email
	body := map[string]any{
		"name":    markedName(e.Name, obj.Marker),
		"subject": toHubL(e.Subject),
	}
	from := map[string]any{"fromName": e.FromName, "replyTo": e.FromEmail}
	if e.ReplyTo != "" && !strings.EqualFold(e.ReplyTo, e.FromEmail) {
		from["customReplyTo"] = e.ReplyTo
	}
	body["from"] = from
	if create {
		if automated(e) {
			body["subcategory"] = "automated"
		} else {
			body["subcategory"] = "batch"
		}
	}
	var include, exclude []string
	for _, id := range e.Audience.Include {
		live, ok := obj.Refs[id]
		if !ok || live == "" {
			return nil, fmt.Errorf("audience segment %s has no HubSpot list yet: promote it first", id)
		}
		include = append(include, live)
	}
	for _, id := range e.Audience.Exclude {
		live, ok := obj.Refs[id]
		if !ok || live == "" {
			return nil, fmt.Errorf("excluded segment %s has no HubSpot list yet: promote it first", id)
		}
		exclude = append(exclude, live)
	}
	body["to"] = map[string]any{"contactIlsLists": map[string]any{"include": nonNil(include), "exclude": nonNil(exclude)}}
	widgets := map[string]any{
		"preview_text": map[string]any{
			"id": "preview_text", "name": "preview_text", "type": "text", "order": 0,
			"label": "Preview Text", "body": map[string]any{"value": toHubL(e.PreviewText)},
			"css": map[string]any{}, "child_css": map[string]any{}, "styles": map[string]any{},
		},
		"lastmile_body": map[string]any{
			"id": "lastmile_body", "name": "lastmile_body", "type": "module", "order": 1,
			"body": map[string]any{"html": toHubL(strings.TrimSpace(content.BodyOf(e.HTML))), "path": "@hubspot/rich_text", "schema_version": 2, "css_class": "dnd-module"},
			"css":  map[string]any{}, "child_css": map[string]any{}, "styles": map[string]any{},
		},
	}
	emailContent := map[string]any{"widgets": widgets, "plainTextVersion": toHubL(e.Text)}
	if t.cfg.EmailTemplatePath != "" {
		emailContent["templatePath"] = t.cfg.EmailTemplatePath
	}
	body["content"] = emailContent
	if e.ABTest != nil {
		body["testing"] = abTesting(e.ABTest)
	}
	if t.cfg.OfficeLocationID != "" || t.cfg.SubscriptionID != "" {
		sd := map[string]any{}
		if t.cfg.OfficeLocationID != "" {
			sd["officeLocationId"] = t.cfg.OfficeLocationID
		}
		if t.cfg.SubscriptionID != "" {
			sd["subscriptionId"] = t.cfg.SubscriptionID
		}
		body["subscriptionDetails"] = sd
	}
	return body, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (t *Target) getEmail(ctx context.Context, id string) (hsEmail, error) {
	var e hsEmail
	_, err := t.do(ctx, call{method: http.MethodGet, path: t.paths.emails + "/" + id}, &e)
	return e, err
}

func (t *Target) liveEmail(ctx context.Context, id string) (sandbox.LiveState, bool, error) {
	e, err := t.getEmail(ctx, id)
	if rest.StatusOf(err) == http.StatusNotFound {
		return sandbox.LiveState{}, false, nil
	}
	if err != nil {
		return sandbox.LiveState{}, false, t.fail("read email "+id, err)
	}
	return e.state(), true, nil
}

// findEmail pages through the portal's emails for the one whose name
// carries the marker (the API has no name filter).
func (t *Target) findEmail(ctx context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	var found *hsEmail
	err := t.pageThrough(ctx, t.paths.emails+"?limit=100", func(raw []byte) (string, bool, error) {
		var page struct {
			Results []hsEmail `json:"results"`
			Paging  *paging   `json:"paging"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return "", true, err
		}
		for i := range page.Results {
			if hasMarker(page.Results[i].Name, obj.Marker) {
				found = &page.Results[i]
				return "", true, nil
			}
		}
		return page.Paging.after(), false, nil
	})
	if err != nil {
		return sandbox.LiveState{}, false, t.fail("look for email "+quote(obj.Email.Name)+" by its marker", err)
	}
	if found == nil {
		return sandbox.LiveState{}, false, nil
	}
	return found.state(), true, nil
}

func (t *Target) putEmail(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	if obj.Email == nil {
		return sandbox.LiveState{}, wrongKind(obj)
	}
	verb := "create"
	if liveID != "" {
		verb = "update"
	}
	op := verb + " email " + quote(obj.Email.Name)
	body, err := t.emailBody(obj, liveID == "")
	if err != nil {
		return sandbox.LiveState{}, fmt.Errorf("hubspot: %s: %w", op, err)
	}
	if liveID == "" {
		return t.create(ctx, op, sandbox.KindEmail, func() (sandbox.LiveState, error) {
			var e hsEmail
			_, err := t.do(ctx, call{method: http.MethodPost, path: t.paths.emails, body: body}, &e)
			return e.state(), err
		}, func() (sandbox.LiveState, bool, error) { return t.findEmail(ctx, obj) }, nil)
	}
	cur, err := t.getEmail(ctx, liveID)
	if err != nil {
		return sandbox.LiveState{}, t.fail(op, err)
	}
	switch {
	case cur.scheduled():
		return sandbox.LiveState{}, failure(op, "HubSpot has this email scheduled, and a scheduled email cannot be edited: unschedule it in HubSpot (it becomes a draft) and confirm the promotion again, or stage the change as a new email", nil, sandbox.ErrConflict)
	case cur.sent():
		// HubSpot cannot edit a sent email; the plan said so (Assess). The
		// promotion goes on: the sent email stays as it was sent.
		t.log.Warn("hubspot: the email was already sent; HubSpot cannot change it, the new revision is not applied there", "target", t.name, "email", liveID)
		return cur.state(), nil
	}
	var e hsEmail
	// The PATCH sets every field absolutely: repeating it is harmless.
	if _, err := t.do(ctx, call{method: http.MethodPatch, path: t.paths.emails + "/" + liveID, body: body, idempotent: true}, &e); err != nil {
		return sandbox.LiveState{}, t.fail(op, err)
	}
	return e.state(), nil
}

// tierBlocked is HubSpot refusing to publish for the portal's tier or a
// missing publishing scope.
type tierBlocked struct{ scopes []string }

func (e *tierBlocked) Error() string { return ErrTierCannotSend.Error() }
func (e *tierBlocked) Unwrap() error { return ErrTierCannotSend }

// tierError is the answer when the portal cannot send through the API: the
// message approvers saw at planning time, and what to do.
func (t *Target) tierError(op string, live sandbox.LiveState, scopes []string) (sandbox.LiveState, error) {
	text := ErrTierCannotSend.Error()
	if len(scopes) > 0 {
		text += " (the connection lacks the scope " + strings.Join(scopes, ", ") + ", which HubSpot grants to Marketing Hub Enterprise portals)"
	}
	text += "; send it from HubSpot, or upgrade to Marketing Hub Enterprise and run lastmile connect hubspot --name " + t.name + " again"
	if live.Status == "" {
		live.Status = "draft"
	}
	return live, failure(op, text, nil, ErrTierCannotSend, sandbox.ErrNotSupported)
}

// sendEmail publishes the email: at a time (publishDate) or now. It reads
// the email first and does nothing when it was already sent or scheduled;
// when the publish call fails ambiguously it reads again before retrying.
// On a portal whose tier cannot send through the API it returns the draft's
// state and an error wrapping ErrTierCannotSend and sandbox.ErrNotSupported.
func (t *Target) sendEmail(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	name := live.ID
	if obj.Email != nil {
		name = obj.Email.Name
	}
	op := "send email " + quote(name)
	if !at.IsZero() && at.After(t.now()) {
		op = "schedule email " + quote(name)
	}
	if live.ID == "" {
		return live, fmt.Errorf("hubspot: %s: the email has no HubSpot id; create it first", op)
	}
	cur, err := t.getEmail(ctx, live.ID)
	if err != nil {
		return live, t.fail(op, err)
	}
	if cur.sent() {
		return cur.state(), nil
	}
	if p := t.portalInfo(); !p.ProbedAt.IsZero() && !p.CanPublishEmail {
		return t.tierError(op, cur.state(), p.MissingScopes["publish"])
	}
	// A scheduled send sets publishDate; a send now clears a future one an
	// earlier, unfinished schedule may have left.
	pending, _ := time.Parse(time.RFC3339, cur.PublishDate)
	if cur.Type != "AUTOMATED_EMAIL" && (at.After(t.now()) || pending.After(t.now())) {
		when := t.now()
		if !at.IsZero() && at.After(when) {
			when = at
		}
		patch := map[string]any{"publishDate": when.UTC().Format(time.RFC3339), "sendOnPublish": true}
		if _, err := t.do(ctx, call{method: http.MethodPatch, path: t.paths.emails + "/" + live.ID, body: patch, idempotent: true}, nil); err != nil {
			return cur.state(), t.fail(op, err)
		}
	}
	if err := t.publishEmailOnce(ctx, op, live.ID); err != nil {
		var tb *tierBlocked
		if errors.As(err, &tb) {
			return t.tierError(op, cur.state(), tb.scopes)
		}
		return cur.state(), err
	}
	after, err := t.getEmail(ctx, live.ID)
	if err != nil {
		return sandbox.LiveState{ID: live.ID, Status: "published"}, t.fail(op+" (reading it back)", err)
	}
	return after.state(), nil
}

// publishEmailOnce calls publish, reconciling ambiguous failures by reading
// the email: a publish that landed is never repeated.
func (t *Target) publishEmailOnce(ctx context.Context, op, id string) error {
	for attempt := 1; ; attempt++ {
		_, err := t.do(ctx, call{method: http.MethodPost, path: t.paths.emails + "/" + id + "/publish"}, nil)
		if err == nil {
			return nil
		}
		if rest.StatusOf(err) == http.StatusForbidden {
			env := envelopeOf(err)
			if env.Category == "MISSING_SCOPES" {
				t.notePublishBlocked("the connection lacks the scope "+strings.Join(env.missingScopes(), ", "), env.missingScopes())
				return &tierBlocked{scopes: env.missingScopes()}
			}
			t.notePublishBlocked(env.Message, nil)
			return &tierBlocked{}
		}
		// A 400 may mean someone (another workflow's step) published it meanwhile.
		racing := rest.StatusOf(err) == http.StatusBadRequest && attempt == 1
		if !errors.Is(err, rest.ErrAmbiguous) && !racing || attempt >= maxCreates {
			return t.fail(op, err)
		}
		cur, gerr := t.getEmail(ctx, id)
		if gerr != nil {
			return t.fail(op, gerr)
		}
		if cur.sent() {
			return nil
		}
		if racing {
			return t.fail(op, err)
		}
		if err := t.backoff(ctx, attempt); err != nil {
			return t.fail(op, err)
		}
	}
}

// notePublishBlocked remembers, for this process, that the portal cannot
// publish (so later assessments say so even if the probe said otherwise).
func (t *Target) notePublishBlocked(why string, scopes []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.portal.CanPublishEmail = false
	t.portal.PublishBlocked = firstNonEmpty(why, "HubSpot refused to publish")
	if len(scopes) > 0 {
		m := map[string][]string{} // copied: earlier copies of the portal share the old map
		for k, v := range t.portal.MissingScopes {
			m[k] = v
		}
		m["publish"] = scopes
		t.portal.MissingScopes = m
	}
	if t.portal.ProbedAt.IsZero() {
		t.portal.ProbedAt = t.now().UTC()
		t.portal.Capabilities = sandbox.Capabilities{Emails: true, Segments: true, Workflows: true, Pages: true, Metrics: true}
	}
}

func (t *Target) assessEmail(ctx context.Context, obj sandbox.Object, a *sandbox.Assessment) error {
	e := obj.Email
	if e == nil {
		return wrongKind(obj)
	}
	a.Problems = append(a.Problems, unrenderable("recipients", map[string]string{"subject": e.Subject, "preview_text": e.PreviewText, "html": e.HTML, "text": e.Text})...)
	if strings.Contains(toHubL(e.HTML), "{% if ") {
		// HubSpot's HubL reference: personalization in a conditional of an
		// email module needs programmable email on for that module.
		a.Notes = append(a.Notes, "HubSpot decides {% if %} on contact properties only in email modules with programmable email on; the body goes into the rich-text module lastmile_body: send yourself a test email from HubSpot before it goes out")
	}
	a.Problems = append(a.Problems, abProblems(e)...)
	ps, err := t.abLiveProblems(ctx, obj)
	if err != nil {
		return err
	}
	a.Problems = append(a.Problems, ps...)
	sendable := len(e.Audience.Include) > 0
	if e.SendAt != nil && !sendable {
		a.Problems = append(a.Problems, "HubSpot cannot send an email without an audience: add audience segments, or remove the send time and let a workflow send it")
	}
	if automated(e) {
		a.Notes = append(a.Notes, "The email has no audience or send time: HubSpot gets it as an automated email, which workflows can send; it is not sent on its own")
	}
	for _, id := range append(append([]string{}, e.Audience.Include...), e.Audience.Exclude...) {
		if _, live := obj.Refs[id]; live {
			continue
		}
		seg, inCampaign := obj.Segments[id]
		switch {
		case obj.Segments != nil && !inCampaign:
			a.Problems = append(a.Problems, fmt.Sprintf("audience segment %s is neither in this campaign nor live in HubSpot", id))
		case inCampaign && seg != nil && seg.Target != "" && seg.Target != t.name:
			a.Problems = append(a.Problems, fmt.Sprintf("audience segment %s goes to target %q; a HubSpot email can only use HubSpot lists: target the segment at %q too", id, seg.Target, t.name))
		}
	}
	p := t.portalInfo()
	if (sendable || e.SendAt != nil) && !p.ProbedAt.IsZero() && !p.CanPublishEmail {
		a.Notes = append(a.Notes, ErrTierCannotSend.Error())
	}
	if e.SendAt != nil && !assessSendTiming(e, a) {
		a.Notes = append(a.Notes, "HubSpot sends the email at "+e.SendAt.UTC().Format("2006-01-02 15:04 MST")+" (publishDate)")
	}
	// The email's own HubSpot id, when it is live (the planner passes the
	// campaign's live ids): a sent or scheduled email cannot be edited.
	if id := obj.Refs[obj.ArtifactID]; id != "" {
		cur, err := t.getEmail(ctx, id)
		switch {
		case err == nil && cur.scheduled():
			a.Problems = append(a.Problems, "HubSpot has this email scheduled, and HubSpot cannot edit a scheduled email: unschedule it first (retire_artifact with action unschedule, promoted through its own plan; it becomes a draft) and plan again, or stage the change as a new email")
		case err == nil && cur.sent():
			a.Notes = append(a.Notes, "HubSpot has sent this email; HubSpot cannot change a sent email, so a new revision of it is not applied there (it is not sent again)")
		case err != nil && rest.StatusOf(err) != http.StatusNotFound:
			return t.fail("read email "+quote(e.Name), err)
		}
	}
	if ft := foreignTokens(e.Subject + "\n" + e.PreviewText + "\n" + e.HTML + "\n" + e.Text); len(ft) > 0 {
		a.Notes = append(a.Notes, fmt.Sprintf("HubSpot renders these tokens as HubL as they stand (unknown variables come out empty): %s", strings.Join(limitList(ft, 5), ", ")))
	}
	// Audience size: exact for a single live include list without exclusions.
	if len(e.Audience.Include) == 1 && len(e.Audience.Exclude) == 0 {
		if id, ok := obj.Refs[e.Audience.Include[0]]; ok && id != "" {
			l, err := t.getList(ctx, id, false)
			if err != nil && rest.StatusOf(err) != http.StatusNotFound {
				return t.fail("read the audience list of "+quote(e.Name), err)
			}
			if err == nil {
				a.AudienceSize = int(l.Size)
			}
		}
	}
	return nil
}

func limitList(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
}

// unscheduleEmail cancels a scheduled send: POST …/unpublish, which the
// spec says cancels a regular email; HubSpot keeps it as a draft. A draft
// is left alone (nothing is scheduled, or an earlier try landed). A sent
// email, one HubSpot is sending and an automated one are refused with what
// to do instead.
func (t *Target) unscheduleEmail(ctx context.Context, name string, live sandbox.LiveState) (sandbox.LiveState, error) {
	op := "unschedule email " + name
	cur, err := t.getEmail(ctx, live.ID)
	if rest.StatusOf(err) == http.StatusNotFound {
		return sandbox.LiveState{}, failure(op, fmt.Sprintf("HubSpot has no email %s any more (was it deleted or archived in HubSpot?): there is no send to cancel", live.ID), err)
	}
	if err != nil {
		return sandbox.LiveState{}, t.fail(op, err)
	}
	switch {
	case cur.scheduled():
	case cur.Type == "AUTOMATED_EMAIL" && cur.sent():
		return cur.state(), failure(op, "HubSpot has it as an automated email that workflows send, not a scheduled send: deactivate the workflows that send it", nil, sandbox.ErrConflict)
	case cur.State == "PROCESSING" || cur.State == "PRE_PROCESSING":
		return cur.state(), failure(op, fmt.Sprintf("HubSpot is sending it (state %s): a send under way cannot be cancelled", cur.State), nil, sandbox.ErrConflict)
	case cur.sent():
		return cur.state(), failure(op, fmt.Sprintf("HubSpot sent it already (state %s, publishDate %s): a sent email cannot be unsent; archive it to take it off HubSpot (the people it reached keep it)", cur.State, firstNonEmpty(cur.PublishDate, "unknown")), nil, sandbox.ErrConflict)
	default:
		return cur.state(), nil
	}
	if err := t.unpublishEmailOnce(ctx, op, live.ID, cur.PublishDate); err != nil {
		return cur.state(), err
	}
	after, err := t.getEmail(ctx, live.ID)
	if err != nil {
		return sandbox.LiveState{ID: live.ID, Status: "draft"}, t.fail(op+" (reading it back)", err)
	}
	return after.state(), nil
}

// unpublishEmailOnce cancels a scheduled send, reconciling an ambiguous
// failure, or a 400 on the first try (the send went out, or someone
// cancelled it, meanwhile), by reading the email: a cancel that landed is
// not repeated. Every error says the email may still go out at due.
func (t *Target) unpublishEmailOnce(ctx context.Context, op, id, due string) error {
	still := func(err error) error {
		var re *rest.Error
		if errors.As(err, &re) {
			re.Message += fmt.Sprintf("; unless this call landed, HubSpot still sends the email at %s: cancel it in HubSpot if it must not go out", firstNonEmpty(due, "its publishDate"))
		}
		return err
	}
	for attempt := 1; ; attempt++ {
		_, err := t.do(ctx, call{method: http.MethodPost, path: t.paths.emails + "/" + id + "/unpublish"}, nil)
		if err == nil {
			return nil
		}
		if rest.StatusOf(err) == http.StatusForbidden {
			env := envelopeOf(err)
			if env.Category == "MISSING_SCOPES" {
				return still(t.fail(op, err))
			}
			t.notePublishBlocked(env.Message, nil)
			return still(failure(op, "HubSpot refused to cancel the send: it cancels sends through the API only for Marketing Hub Enterprise portals or with the transactional email add-on ("+firstNonEmpty(env.Message, "HTTP 403")+")", err, ErrTierCannotSend, sandbox.ErrNotSupported))
		}
		racing := rest.StatusOf(err) == http.StatusBadRequest && attempt == 1
		if !errors.Is(err, rest.ErrAmbiguous) && !racing || attempt >= maxCreates {
			return still(t.fail(op, err))
		}
		cur, gerr := t.getEmail(ctx, id)
		if gerr != nil {
			return still(t.fail(op, gerr))
		}
		switch {
		case cur.scheduled():
		case cur.sent():
			return failure(op, fmt.Sprintf("HubSpot sent it before the cancel took (state %s): a sent email cannot be unsent", cur.State), err, sandbox.ErrConflict)
		default:
			return nil // cancelled: an earlier try, or someone in HubSpot
		}
		if racing {
			return still(t.fail(op, err))
		}
		if err := t.backoff(ctx, attempt); err != nil {
			return still(t.fail(op, err))
		}
	}
}

// archiveEmail archives the email (DELETE …/{emailId}, the spec's
// archive). A send still scheduled is cancelled first, so that nothing goes
// out of an archived email. An email already gone is archived.
func (t *Target) archiveEmail(ctx context.Context, name string, live sandbox.LiveState) (sandbox.LiveState, error) {
	op := "archive email " + name
	archived := sandbox.LiveState{ID: live.ID, Status: "archived"}
	cur, err := t.getEmail(ctx, live.ID)
	if rest.StatusOf(err) == http.StatusNotFound {
		return archived, nil
	}
	if err != nil {
		return sandbox.LiveState{}, t.fail(op, err)
	}
	if cur.scheduled() {
		if err := t.unpublishEmailOnce(ctx, op+" (cancelling its scheduled send first)", live.ID, cur.PublishDate); err != nil {
			return cur.state(), err
		}
	}
	_, err = t.do(ctx, call{method: http.MethodDelete, path: t.paths.emails + "/" + live.ID, idempotent: true}, nil)
	if err != nil && rest.StatusOf(err) != http.StatusNotFound {
		return cur.state(), t.fail(op, err)
	}
	return archived, nil
}
