package rest

import (
	"errors"
	"net/http"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
)

func TestErrorWording(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{Platform: "hubspot", Op: "create list \"VIP\"", Message: "HubSpot reports a conflict"}, `hubspot: create list "VIP": HubSpot reports a conflict`},
		{Error{Op: "connect", Message: "no such site"}, "connect: no such site"},
		// A caller that names the operation in its own sentence leaves Op empty.
		{Error{Platform: "mailchimp", Message: "Resource Not Found"}, "Resource Not Found"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

// The sandbox classifies a step by its kinds and by the status and wait of
// the answer behind it, through the Error a connector wraps it in.
func TestErrorUnwrapsToKindsAndCause(t *testing.T) {
	answer := &HTTPError{Method: "POST", Path: "/x", Status: 429, Header: http.Header{"Retry-After": {"4"}}}
	err := error(&Error{Platform: "p", Op: "op", Status: 429, Message: "slow down", Kinds: []error{sandbox.ErrConflict}, Cause: answer})
	if !errors.Is(err, sandbox.ErrConflict) {
		t.Error("the kind is not found")
	}
	if he, ok := errors.AsType[*HTTPError](err); !ok || he != answer {
		t.Error("the cause is not found")
	}
	var hs sandbox.HTTPStatuser
	if !errors.As(err, &hs) || hs.HTTPStatus() != 429 {
		t.Errorf("status through the error: %v", hs)
	}
	var ra sandbox.RetryAfterer
	if !errors.As(err, &ra) || ra.RetryAfter().Seconds() != 4 {
		t.Errorf("retry-after through the error: %v", ra)
	}
	if StatusOf(err) != 429 || StatusOf(errors.New("x")) != 0 {
		t.Error("StatusOf")
	}
	// Without an answer behind it, an Error has no status to offer: it must
	// not look like an answer with status 0.
	bare := &Error{Platform: "p", Op: "op", Message: "refused before asking", Kinds: []error{sandbox.ErrNotSupported}}
	if errors.As(bare, &hs) {
		t.Error("an Error without an answer offers an HTTP status")
	}
}

func TestExplained(t *testing.T) {
	if !Explained(&Error{Op: "op", Message: "m"}) {
		t.Error("an Error with an Op is explained")
	}
	if Explained(&Error{Message: "m"}) || Explained(&HTTPError{Status: 500}) || Explained(errors.New("x")) {
		t.Error("only an Error that names its operation is explained")
	}
}
