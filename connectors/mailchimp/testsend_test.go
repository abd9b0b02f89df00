package mailchimp_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/connectors/faketest"
)

// A test send goes through Mailchimp's own test send, on a draft made for
// it and deleted after: the addresses get the content, and nothing is left
// in the account, sent or counted.
func TestSendTest(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	obj := emailObj("eml_proof", nil)
	before := len(e.srv.Campaigns())
	res, err := e.tgt.SendTest(ctx, obj, []string{"qa@acme.com", "dana@team.acme.com"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Where == "" || strings.Contains(res.Where, "left") {
		t.Errorf("where %q", res.Where)
	}
	tests := e.srv.TestEmails()
	if len(tests) != 1 || !slices.Equal(tests[0].To, []string{"qa@acme.com", "dana@team.acme.com"}) || tests[0].SendType != "html" || tests[0].HTML == "" {
		t.Fatalf("test sends %+v", tests)
	}
	if got := e.srv.Campaigns(); len(got) != before {
		t.Errorf("%d campaigns after the test, %d before: the draft was left", len(got), before)
	}
	for _, c := range e.srv.Campaigns() {
		if c.SendActions > 0 {
			t.Errorf("campaign %s was sent", c.ID)
		}
	}

	// A failed test send still deletes its draft; a draft that cannot be
	// deleted is named, to be deleted by hand.
	e.srv.Inject(faketest.Fault{Op: "POST /campaigns/{campaign_id}/actions/test", Kind: faketest.Fail})
	if _, err := e.tgt.SendTest(ctx, obj, []string{"qa@acme.com"}); err == nil {
		t.Error("a failed test send reported success")
	}
	if got := e.srv.Campaigns(); len(got) != before {
		t.Errorf("a failed test send left its draft: %d campaigns, %d before", len(got), before)
	}
	e.srv.Inject(faketest.Fault{Op: "DELETE /campaigns/{campaign_id}", Kind: faketest.Fail, Times: 20})
	res, err = e.tgt.SendTest(ctx, obj, []string{"qa@acme.com"})
	if err != nil || !strings.Contains(res.Where, "was left in Mailchimp; delete it there") {
		t.Errorf("an undeletable draft: %+v, %v", res, err)
	}
}
