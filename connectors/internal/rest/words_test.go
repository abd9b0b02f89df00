package rest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
)

func TestClipCutsOnARuneBoundary(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{{"short", 10, "short"}, {"abcdef", 3, "abc…"}, {"aé", 2, "a…"}} {
		if got := Clip(tc.s, tc.n); got != tc.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

// A sentence quoting a transport error must not carry the path, whose
// query may hold a secret.
func TestTransportCauseDropsMethodAndPath(t *testing.T) {
	base := errors.New("dial tcp: connection refused")
	for _, err := range []error{
		fmt.Errorf("GET /v1/x?key=secret: %w", base),
		fmt.Errorf("%w: POST /v1/x?key=secret: %w", ErrAmbiguous, base),
		fmt.Errorf("gave up after 3 attempts: GET /v1/x?key=secret: %w", base),
	} {
		got := TransportCause(err)
		if want := base.Error(); got != want && got != "gave up after 3 attempts: "+want {
			t.Errorf("TransportCause(%q) = %q", err, got)
		}
	}
}

func TestFailfAndConflictAreClassified(t *testing.T) {
	err := Conflict("webflow", "update item", "changed since the plan")
	if !errors.Is(err, sandbox.ErrConflict) || err.Error() != "webflow: update item: changed since the plan" {
		t.Errorf("Conflict = %v", err)
	}
	err = Failf("meta", "create ad", []error{sandbox.ErrAuth}, "no %s", "token")
	if !errors.Is(err, sandbox.ErrAuth) || err.Error() != "meta: create ad: no token" {
		t.Errorf("Failf = %v", err)
	}
}
