package googleads_test

import (
	"testing"

	"github.com/lastmile/lastmile/connectors/googleads/googleadstest"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/targettest"
)

// TestConformance runs the Target port's conformance suite over the
// Google Ads connector against a fresh fake account per case.
func TestConformance(t *testing.T) {
	targettest.Run(t, func(t *testing.T) targettest.Fixture {
		srv := googleadstest.New(t, googleadstest.WithRate(1000, 100))
		tg := newTarget(t, srv)
		return targettest.Fixture{
			Target:    tg,
			Secrets:   []string{googleadstest.DefaultRefreshToken, googleadstest.DefaultDeveloperToken, googleadstest.DefaultClientSecret, srv.AccessToken()},
			MissingID: func(sandbox.Kind) string { return "987654321" },
			// A publish that changes a status counts once.
			Publishes: func(t testing.TB, _ sandbox.Kind, id string) int {
				c, ok := srv.Campaign(id)
				if !ok {
					t.Fatalf("campaign %s is not on the fake", id)
				}
				return c.StatusUpdates
			},
		}
	})
}
