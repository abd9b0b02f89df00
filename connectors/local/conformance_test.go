package local_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/targettest"
)

// TestConformance runs the Target port's conformance suite over the local
// target, in a fresh data directory with the sample contacts.
func TestConformance(t *testing.T) {
	targettest.Run(t, func(t *testing.T) targettest.Fixture {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte(local.SampleContacts), 0o600); err != nil {
			t.Fatal(err)
		}
		tg, err := local.New("local", dir, local.Config{})
		if err != nil {
			t.Fatal(err)
		}
		return targettest.Fixture{
			Target:   tg,
			Contacts: []string{"ada@example.com", "grace@example.com", "alan@example.com"},
			Conditions: []sandbox.Condition{
				{Property: "country", Operator: "eq", Value: "GB"},
				{Property: "country", Operator: "eq", Value: "US"},
			},
			// On local the live id is the artifact id.
			MissingID: func(k sandbox.Kind) string {
				return map[sandbox.Kind]string{sandbox.KindEmail: sandbox.PrefixEmail, sandbox.KindSegment: sandbox.PrefixSegment,
					sandbox.KindPage: sandbox.PrefixPage, sandbox.KindWorkflow: sandbox.PrefixWorkflow}[k] + "00000000000000000000000000"
			},
			// A send writes one sent event per recipient: the most events
			// any one recipient has is how often the email went out.
			Sends: func(t testing.TB, id string) int {
				per := map[string]int{}
				if err := tg.ReadEvents(func(e local.Event) {
					if e.Type == "sent" && e.Artifact == id {
						per[e.Email]++
					}
				}); err != nil {
					t.Fatalf("read events: %v", err)
				}
				n := 0
				for _, c := range per {
					n = max(n, c)
				}
				// A send scheduled for later is one send, not yet made.
				if st, _, err := tg.Live(context.Background(), sandbox.KindEmail, id); err == nil && st.Status == "scheduled" {
					n = max(n, 1)
				}
				return n
			},
		}
	})
}
