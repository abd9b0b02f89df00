package sandbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// An A/B test decides at one moment for the whole audience: an email whose
// send is spread over a window or recipients' zones cannot have one.
func TestABTestWithSpreadSendIsRefused(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	c := stageCampaign(t, e, "Spread")
	at := epoch.Add(72 * time.Hour).Format(time.RFC3339)
	for name, in := range map[string]sandbox.EmailInput{
		"window":    {SendWindow: &sandbox.SendWindow{Start: "09:00", End: "17:00", TimeZone: "Europe/Berlin"}},
		"time zone": {RecipientTimeZone: true},
	} {
		in.CampaignID, in.Name, in.Subject, in.FromName, in.FromEmail, in.HTML = c.id, "Test "+name, "Hello", "Acme", "news@acme.com", "<p>Hello.</p>"
		in.Audience, in.SendAt = sandbox.Audience{Include: []string{c.segments[0]}}, at
		in.ABTest = &sandbox.ABTest{Winner: sandbox.WinnerOpens, DecideAfter: "4h", Variants: []sandbox.Variant{{Subject: "Hi"}}}
		if _, err := e.sb.StageEmail(ctx, "agent", in); err == nil || !strings.Contains(err.Error(), "cannot go with send_window or recipient_time_zone") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
