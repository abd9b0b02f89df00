package mailchimp

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.TestSender = (*Target)(nil)

// SendTest sends the email through Mailchimp's own test send, which needs
// a campaign: a draft is made for it (to the whole audience, never sent,
// titled without lastmile's marker so that neither a promotion nor a
// sweep takes it for the email), given the content, tested
// (POST /campaigns/{id}/actions/test, send_type html) and deleted. Mailchimp
// counts no test in a campaign's reports. A draft that cannot be deleted is
// named in the error, to be deleted in Mailchimp.
func (t *Target) SendTest(ctx context.Context, obj sandbox.Object, to []string) (sandbox.TestSend, error) {
	if obj.Email == nil {
		return sandbox.TestSend{}, fmt.Errorf("mailchimp: test send of %s: not an email", obj.ArtifactID)
	}
	b := t.buildEmail(obj, nil)
	if len(b.problems) > 0 {
		return sandbox.TestSend{}, fmt.Errorf("mailchimp: test send of %s: %s: %w", obj.ArtifactID, strings.Join(b.problems, "; "), sandbox.ErrNotSupported)
	}
	b.campaign.Settings.Title = truncateUTF8("lastmile test send: "+strings.TrimSpace(obj.Email.Name), 100)
	resp, err := t.client.Do(ctx, rest.Request{Method: http.MethodPost, Path: "/campaigns", Body: b.campaign})
	if err != nil {
		return sandbox.TestSend{}, fmt.Errorf("mailchimp: test send of %s: making its draft: %w", obj.ArtifactID, mapErr(err, t.name))
	}
	var c campaignResponse
	if err := resp.Decode(&c); err != nil {
		return sandbox.TestSend{}, fmt.Errorf("mailchimp: test send of %s: decoding its draft: %w", obj.ArtifactID, err)
	}
	testErr := t.testDraft(ctx, c.ID, b.content, to)
	_, delErr := t.client.Do(ctx, rest.Request{Method: http.MethodDelete, Idempotent: true, Path: t.campaignPath(c.ID)})
	if delErr != nil && rest.StatusOf(delErr) != http.StatusNotFound {
		delErr = fmt.Errorf("the test's draft campaign %s (%q) was left in Mailchimp; delete it there: %w", c.ID, b.campaign.Settings.Title, mapErr(delErr, t.name))
	} else {
		delErr = nil
	}
	if testErr != nil {
		if delErr != nil {
			return sandbox.TestSend{}, fmt.Errorf("mailchimp: test send of %s: %w; and %w", obj.ArtifactID, testErr, delErr)
		}
		return sandbox.TestSend{}, fmt.Errorf("mailchimp: test send of %s: %w", obj.ArtifactID, testErr)
	}
	where := "Mailchimp's test send"
	if delErr != nil {
		where += "; " + delErr.Error()
	}
	return sandbox.TestSend{Where: where}, nil
}

func (t *Target) testDraft(ctx context.Context, id string, content contentRequest, to []string) error {
	if _, err := t.client.Do(ctx, rest.Request{Method: http.MethodPut, Idempotent: true, Path: t.campaignPath(id) + "/content", Body: content}); err != nil {
		return fmt.Errorf("setting the draft's content: %w", mapErr(err, t.name))
	}
	body := map[string]any{"test_emails": to, "send_type": "html"}
	if _, err := t.client.Do(ctx, rest.Request{Method: http.MethodPost, Path: t.campaignPath(id) + "/actions/test", Body: body}); err != nil {
		return mapErr(err, t.name)
	}
	return nil
}
