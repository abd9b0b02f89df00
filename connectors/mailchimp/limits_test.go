package mailchimp

import (
	"testing"

	"github.com/lastmile/lastmile/connectors/internal/secret"
)

// Targets of one account share the connection semaphore exactly when they
// are built with the same Limits: nothing at package level joins them.
func TestLimitsAreSharedThroughWithLimits(t *testing.T) {
	dir := t.TempDir()
	cr := credentials{Kind: authAPIKey, APIKey: "0123456789abcdef0123456789abcdef-us21", DC: "us21", APIEndpoint: "http://127.0.0.1:9"}
	for _, name := range []string{"a", "b"} {
		if err := secret.Save(dir, name, cr); err != nil {
			t.Fatal(err)
		}
	}
	newTarget := func(name string, opts ...Option) *Target {
		t.Helper()
		tg, err := New(name, dir, Config{ListID: "l1", MaxConnections: 3}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return tg
	}
	shared := NewLimits()
	a, b := newTarget("a", WithLimits(shared)), newTarget("b", WithLimits(shared))
	alone := newTarget("a")
	if a.client.Sem != b.client.Sem || cap(a.client.Sem) != 3 {
		t.Error("two targets of one account with the same Limits do not share one semaphore of 3")
	}
	if alone.client.Sem == a.client.Sem {
		t.Error("a target built without the Limits shares their semaphore")
	}
	other := credentials{Kind: authAPIKey, APIKey: "fedcba9876543210fedcba9876543210-us21", DC: "us21", APIEndpoint: "http://127.0.0.1:9"}
	if err := secret.Save(dir, "c", other); err != nil {
		t.Fatal(err)
	}
	if c := newTarget("c", WithLimits(shared)); c.client.Sem == a.client.Sem {
		t.Error("another account shares the semaphore")
	}
}
