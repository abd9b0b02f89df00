package hubspot_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/hubspot"
	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/targettest"
)

// tickingClock is the fake's clock: real time, but never the same
// millisecond twice. HubSpot's versions are updatedAt stamps with
// millisecond resolution; on loopback a create and the update after it can
// land in the same millisecond, which real HubSpot (a network away) never
// sees.
type tickingClock struct {
	mu   sync.Mutex
	last time.Time
}

func (c *tickingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := time.Now()
	if !n.After(c.last.Add(time.Millisecond)) {
		n = c.last.Add(time.Millisecond)
	}
	c.last = n
	return n
}

// TestConformance runs the Target port's conformance suite over the HubSpot
// connector against a fresh fake Enterprise portal per case.
func TestConformance(t *testing.T) {
	contacts := []string{"ada@example.com", "grace@example.com", "alan@example.com"}
	targettest.Run(t, func(t *testing.T) targettest.Fixture {
		clock := &tickingClock{}
		srv := hubspottest.New(t, hubspottest.Options{RateLimit: 1000, Window: time.Second, Now: clock.now})
		srv.AddContacts(contacts...)
		dir := t.TempDir()
		t.Setenv("LASTMILE_TEST_HUBSPOT_TOKEN", srv.PrivateAppToken())
		if _, err := hubspot.ConnectPrivateApp(context.Background(), dir, "hubspot", "LASTMILE_TEST_HUBSPOT_TOKEN", hubspot.WithBaseURL(srv.URL)); err != nil {
			t.Fatalf("connect: %v", err)
		}
		tg, err := hubspot.New("hubspot", dir, hubspot.Config{RateLimit: 1000},
			hubspot.WithRetry(3, time.Millisecond, 10*time.Millisecond),
			hubspot.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}),
			hubspot.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		if err != nil {
			t.Fatal(err)
		}
		calls := func(ops ...string) int {
			st := srv.Stats()
			n := 0
			for _, op := range ops {
				n += st.Calls[op]
			}
			return n
		}
		return targettest.Fixture{
			Target:   tg,
			Secrets:  []string{srv.PrivateAppToken()},
			Contacts: contacts,
			Conditions: []sandbox.Condition{
				{Property: "country", Operator: "eq", Value: "GB"},
				{Property: "country", Operator: "eq", Value: "US"},
			},
			MissingID: func(k sandbox.Kind) string {
				return map[sandbox.Kind]string{sandbox.KindEmail: "38175999999", sandbox.KindSegment: "999999",
					sandbox.KindPage: "170999999999", sandbox.KindWorkflow: "585999999"}[k]
			},
			// The fake counts the times an email went out, and one more
			// while a send is scheduled.
			Sends: func(t testing.TB, id string) int {
				for _, e := range srv.Emails() {
					if e.ID == id {
						return e.Sends
					}
				}
				t.Fatalf("email %s is not on the fake", id)
				return 0
			},
			// Pages go public by schedule or push-live; a workflow is turned
			// on by a PUT, after its emails are published.
			Publishes: func(_ testing.TB, k sandbox.Kind, _ string) int {
				if k == sandbox.KindPage {
					return calls("pages.schedule", "pages.pushlive")
				}
				return calls("flows.update", "emails.publish")
			},
		}
	})
}
