package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// One email, two HubSpot emails. HubSpot sends a broadcast (an audience,
// perhaps a send time) only from a regular email (type BATCH_EMAIL), and a
// workflow's send step (action 0-4) only names an automated one
// (AUTOMATED_EMAIL); an email's type is derived from the subcategory it
// was created with, and lastmile never changes it afterwards. So an email
// with an audience that a
// workflow also sends (Object.SentByWorkflows) becomes two: the regular
// email, which the artifact is bound to and which Send publishes, and an
// automated copy of the same content, which the workflow names and its
// Publish turns on.
//
// The sandbox binds one live id per artifact, so the copy is found the way
// an interrupted create is: by a marker of its own (the artifact's marker
// plus copySuffix) in its name. Both names also say which form they are,
// which people reading HubSpot's email list need (the two would otherwise
// share a name). A workflow's Live reads the copies it sends, so an edit
// of a copy in HubSpot makes a plan stale.

const (
	// copySuffix ends the marker of an email's automated copy. The sweep's
	// marker pattern reads "[lm-eml_…-automated]" as an artifact id no
	// artifact has, so the copy is never taken for a stray of the email.
	copySuffix = "-automated"
	// broadcastLabel and automatedLabel end the two forms' names, before
	// the marker.
	broadcastLabel = " (broadcast)"
	automatedLabel = " (automated)"
)

// dualNote is what the approver reads on such an email's plan step.
const dualNote = "HubSpot needs two emails for this: a regular one for the broadcast and an automated copy the workflow sends; both are created and kept in step"

// dual reports whether obj is an email HubSpot needs in both forms: one
// with an audience (or a send time) that a workflow sends too. An email
// without either is only automated (see automated), and needs one form.
func dual(obj sandbox.Object) bool {
	return obj.Kind == sandbox.KindEmail && obj.Email != nil && !automated(obj.Email) && len(obj.SentByWorkflows) > 0
}

func copyMarker(marker string) string { return marker + copySuffix }

// regularForm is obj as the broadcast's regular email.
func regularForm(obj sandbox.Object) sandbox.Object {
	e := *obj.Email
	e.Name += broadcastLabel
	obj.Email = &e
	return obj
}

// automatedForm is obj as its automated copy: the same content without an
// audience or a send time (which makes emailBody create it automated) and
// under the copy's marker.
func automatedForm(obj sandbox.Object) sandbox.Object {
	e := *obj.Email
	e.Name += automatedLabel
	e.Audience = sandbox.Audience{}
	e.SendAt = nil
	obj.Email = &e
	obj.Marker = copyMarker(obj.Marker)
	return obj
}

// dualVersion adds an automated copy to a Version: a change to the copy is
// a change to the object that version is of.
func dualVersion(regular string, cp hsEmail) string {
	return regular + " + automated " + cp.ID + "@" + cp.UpdatedAt
}

// putEmailForms is Put for an email: one HubSpot email, or, for a dual
// one, the regular email and then its automated copy. liveID is the
// regular email's.
func (t *Target) putEmailForms(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	if !dual(obj) {
		return t.putABEmail(ctx, obj, liveID) // an A/B email no workflow sends (planning refuses one)
	}
	reg, err := t.putEmail(ctx, regularForm(obj), liveID)
	if err != nil {
		return reg, err
	}
	cp, err := t.putCopy(ctx, obj)
	if err != nil {
		// The regular email is there; the step fails, and confirming again
		// finds it (Find) and comes back here to make the copy.
		return sandbox.LiveState{}, err
	}
	reg.Version = dualVersion(reg.Version, cp)
	return reg, nil
}

// putCopy creates or updates the automated copy of obj.
func (t *Target) putCopy(ctx context.Context, obj sandbox.Object) (hsEmail, error) {
	form := automatedForm(obj)
	op := "create the automated copy of email " + quote(obj.Email.Name)
	cp, found, err := t.findCopy(ctx, obj.Marker)
	if err != nil {
		return hsEmail{}, t.fail(op, err)
	}
	if !found && obj.Resumed {
		// The interrupted attempt may have sent the copy's create just
		// before it died, and what the sandbox waited for on resuming
		// (if anything: an update step waits for nothing) runs from the
		// step's start, not from that second create. Sent before now, it
		// lands within a landing window from now: wait it out, then look
		// again.
		w := t.LandWithin(sandbox.KindEmail)
		t.log.Info("hubspot: resuming, and the email has no automated copy yet; waiting out the copy's landing window before creating it", "target", t.name, "email", obj.ArtifactID, "wait", w)
		if err := t.pause(ctx, w); err != nil {
			return hsEmail{}, t.fail(op, err)
		}
		if cp, found, err = t.findCopy(ctx, obj.Marker); err != nil {
			return hsEmail{}, t.fail(op, err)
		}
	}
	liveID := ""
	if found {
		liveID = cp.ID
		op = "update the automated copy of email " + quote(obj.Email.Name)
	}
	st, err := t.putEmail(ctx, form, liveID)
	if err != nil {
		return hsEmail{}, err
	}
	t.rememberCopy(obj.Marker, st.ID)
	// Read back for the id and time dualVersion takes, as Live reads them.
	e, err := t.getEmail(ctx, st.ID)
	if err != nil {
		return hsEmail{}, t.fail(op+" (reading it back)", err)
	}
	return e, nil
}

// findCopy looks for the automated copy of the email whose marker is
// marker: the id remembered from an earlier call when HubSpot still holds
// it under the copy's marker, else by paging through the portal's
// automated emails (the API has no name filter; the type filter narrows
// the listing).
func (t *Target) findCopy(ctx context.Context, marker string) (hsEmail, bool, error) {
	cm := copyMarker(marker)
	if id := t.rememberedCopy(marker); id != "" {
		e, err := t.getEmail(ctx, id)
		switch {
		case err == nil && hasMarker(e.Name, cm):
			return e, true, nil
		case err != nil && rest.StatusOf(err) != http.StatusNotFound:
			return hsEmail{}, false, err
		}
		t.forgetCopy(marker) // archived, or renamed in HubSpot: look again
	}
	var found *hsEmail
	err := t.pageThrough(ctx, t.paths.emails+"?limit=100&type=AUTOMATED_EMAIL", func(raw []byte) (string, bool, error) {
		var page struct {
			Results []hsEmail `json:"results"`
			Paging  *paging   `json:"paging"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return "", true, err
		}
		for i := range page.Results {
			if hasMarker(page.Results[i].Name, cm) {
				found = &page.Results[i]
				return "", true, nil
			}
		}
		return page.Paging.after(), false, nil
	})
	if err != nil || found == nil {
		return hsEmail{}, false, err
	}
	t.rememberCopy(marker, found.ID)
	return *found, true, nil
}

// The copies found or made, by the email's marker: a hint that saves a
// listing, always checked against HubSpot before it is used.
func (t *Target) rememberedCopy(marker string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.copies[marker]
}

func (t *Target) rememberCopy(marker, id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.copies == nil {
		t.copies = map[string]string{}
	}
	t.copies[marker] = id
}

func (t *Target) forgetCopy(marker string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.copies, marker)
}

// liveFlowForms is Live for a workflow: its own state, with a Version
// that also changes when an automated copy it sends changes (someone
// editing the copy in HubSpot makes a plan stale). The copies are read by
// the ids the flow names, so no listing is needed: one read per send step.
func (t *Target) liveFlowForms(ctx context.Context, id string) (sandbox.LiveState, bool, error) {
	f, _, err := t.getFlow(ctx, id)
	if rest.StatusOf(err) == http.StatusNotFound {
		return sandbox.LiveState{}, false, nil
	}
	if err != nil {
		return sandbox.LiveState{}, false, t.fail("read workflow "+id, err)
	}
	st := f.state()
	for _, a := range f.Actions {
		if a["actionTypeId"] != actionSendEmail {
			continue
		}
		fields, _ := a["fields"].(map[string]any)
		eid, _ := fields["content_id"].(string)
		if eid == "" {
			continue
		}
		e, err := t.getEmail(ctx, eid)
		if rest.StatusOf(err) == http.StatusNotFound {
			st.Version += " + email " + eid + " gone"
			continue
		}
		if err != nil {
			return sandbox.LiveState{}, false, t.fail("read email "+eid+" of workflow "+id, err)
		}
		if art, ok := markedArtifact(e.Name); ok && strings.HasSuffix(art, copySuffix) {
			st.Version = dualVersion(st.Version, e)
		}
	}
	return st, true, nil
}

// assessEmailForms adds to an email's assessment what its two forms mean
// for the approver; and, when the email is live as a regular email only
// (a workflow that sends it is new), asks for it to be put again so the
// copy is made.
func (t *Target) assessEmailForms(ctx context.Context, obj sandbox.Object, a *sandbox.Assessment) error {
	if obj.Email != nil && automated(obj.Email) && len(obj.SentByWorkflows) > 0 {
		return t.assessNowAutomated(ctx, obj, a)
	}
	if !dual(obj) {
		return nil
	}
	a.Notes = append(a.Notes, dualNote+" (sent by "+strings.Join(obj.SentByWorkflows, ", ")+")")
	id := obj.Refs[obj.ArtifactID]
	if id == "" {
		return nil
	}
	cp, found, err := t.findCopy(ctx, obj.Marker)
	switch {
	case err != nil:
		return t.fail("look for the automated copy of email "+quote(obj.Email.Name), err)
	case !found:
		a.Refresh = append(a.Refresh, fmt.Sprintf("HubSpot has email %s as a regular email only; its automated copy for the workflow is created", id))
	case cp.sent():
		a.Notes = append(a.Notes, fmt.Sprintf("HubSpot has the automated copy %s turned on; HubSpot cannot change it, so a new revision is not applied to the copy", cp.ID))
	}
	return nil
}

// sendsAutomated rewrites the workflow's send steps to name each email's
// automated form: a step whose email is live as a regular email with a
// copy names the copy. A regular email without one is an error that says
// how to get it.
func (t *Target) sendsAutomated(ctx context.Context, obj sandbox.Object, plan *flowPlan) error {
	artifactOf := map[string]string{}
	for art, live := range obj.Refs {
		artifactOf[live] = art
	}
	actions, _ := plan.fields["actions"].([]any)
	for _, a := range actions {
		am, _ := a.(map[string]any)
		if am["actionTypeId"] != actionSendEmail {
			continue
		}
		fields, _ := am["fields"].(map[string]any)
		id, _ := fields["content_id"].(string)
		if id == "" || id == pendingRef {
			continue
		}
		auto, err := t.automatedFor(ctx, id, artifactOf[id])
		if err != nil {
			return err
		}
		fields["content_id"] = auto
		for i, e := range plan.emails {
			if e == id {
				plan.emails[i] = auto
			}
		}
	}
	return nil
}

// automatedFor is the automated email a workflow sends for the email live
// as id (lastmile's artifact art, when known): id itself when it is
// automated, else its copy.
func (t *Target) automatedFor(ctx context.Context, id, art string) (string, error) {
	e, err := t.getEmail(ctx, id)
	if err != nil {
		return "", fmt.Errorf("read email %s a workflow sends: %w", id, err)
	}
	if e.Type == "" || e.Type == "AUTOMATED_EMAIL" {
		return id, nil
	}
	if art == "" {
		art, _ = markedArtifact(e.Name)
	}
	if art != "" {
		marker := sandbox.MarkerPrefix + art
		cp, found, err := t.findCopy(ctx, marker)
		if err != nil {
			return "", fmt.Errorf("look for the automated copy of email %s: %w", id, err)
		}
		if found {
			return cp.ID, nil
		}
	}
	return "", fmt.Errorf("HubSpot email %s (%q) is a %s and has no automated copy, and workflows can only send automated emails: plan the campaign again so the email's step makes its copy", id, e.Name, strings.ToLower(e.Type))
}

// assessNowAutomated checks an email that is now only sent by workflows:
// if HubSpot has it as a regular email (it had an audience when it was
// promoted), HubSpot cannot turn it into an automated one.
func (t *Target) assessNowAutomated(ctx context.Context, obj sandbox.Object, a *sandbox.Assessment) error {
	id := obj.Refs[obj.ArtifactID]
	if id == "" {
		return nil
	}
	e, err := t.getEmail(ctx, id)
	switch {
	case rest.StatusOf(err) == http.StatusNotFound:
		return nil // created again, as an automated email
	case err != nil:
		return t.fail("read email "+quote(obj.Email.Name), err)
	case e.Type != "" && e.Type != "AUTOMATED_EMAIL":
		// Its automated copy, if it has one, would no longer be kept in
		// step (the email is one form now): refused either way.
		a.Problems = append(a.Problems, fmt.Sprintf("HubSpot has email %s as a regular email (it had an audience), which workflows cannot send, and HubSpot cannot change an email's type: give the email its audience back (it then has an automated copy for the workflow), or stage the workflow's email as a new email", id))
	}
	return nil
}
