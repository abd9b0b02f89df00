package mailchimp_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/mailchimp"
	"github.com/lastmile/lastmile/connectors/mailchimp/mailchimptest"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/targettest"
)

// TestConformance runs the Target port's conformance suite over the
// Mailchimp connector against a fresh fake account per case (its default
// audience of 50 subscribed members).
func TestConformance(t *testing.T) {
	targettest.Run(t, func(t *testing.T) targettest.Fixture {
		srv := mailchimptest.New(t)
		dir := t.TempDir()
		t.Setenv("LASTMILE_TEST_MC_KEY", srv.APIKey())
		if _, err := mailchimp.ConnectAPIKey(context.Background(), dir, "mc", "LASTMILE_TEST_MC_KEY", mailchimp.WithBaseURL(srv.BaseURL())); err != nil {
			t.Fatalf("connect: %v", err)
		}
		tg, err := mailchimp.New("mc", dir, mailchimp.Config{ListID: srv.ListID(), BaseURL: srv.BaseURL()},
			mailchimp.WithRetry(3, time.Millisecond, 0),
			mailchimp.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		if err != nil {
			t.Fatal(err)
		}
		return targettest.Fixture{
			Target:   tg,
			Secrets:  []string{srv.APIKey()},
			Contacts: []string{"member01@example.com", "member02@example.com", "member03@example.com"},
			Conditions: []sandbox.Condition{
				{Property: "plan", Operator: "eq", Value: "pro"},
				{Property: "plan", Operator: "eq", Value: "free"},
			},
			MissingID: func(k sandbox.Kind) string {
				if k == sandbox.KindSegment {
					return "999999"
				}
				return "0fedcba987" // campaign ids are 10 hex digits
			},
			// The send and schedule actions Mailchimp accepted, less the
			// schedules an unschedule took back: the sends that stand.
			Sends: func(t testing.TB, id string) int {
				c, ok := srv.Campaign(id)
				if !ok {
					t.Fatalf("campaign %s is not on the fake", id)
				}
				return c.SendActions - c.Unschedules
			},
		}
	})
}
