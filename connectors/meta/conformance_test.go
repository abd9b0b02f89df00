package meta_test

import (
	"testing"

	"github.com/lastmile/lastmile/connectors/meta/metatest"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/targettest"
)

// TestConformance runs the Target port's conformance suite over the
// connector against the contract fake (with an app secret, so every call
// carries appsecret_proof).
func TestConformance(t *testing.T) {
	targettest.Run(t, func(t *testing.T) targettest.Fixture {
		srv := metatest.New(t, metatest.WithAppSecret("app-secret-7f3a"), metatest.WithQuota(100_000))
		return targettest.Fixture{
			Target:    newTarget(t, srv),
			Secrets:   []string{srv.Token, "app-secret-7f3a"},
			MissingID: func(sandbox.Kind) string { return "120339999999999999" },
			Publishes: func(_ testing.TB, _ sandbox.Kind, id string) int {
				o, _ := srv.Object(id)
				return o.Activations
			},
		}
	})
}
