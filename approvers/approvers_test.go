package approvers

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/lastmile/lastmile/store"
)

func TestInvitations(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	s := New(store.NewMemory(), func() time.Time { return now })

	if _, _, _, err := s.Invite(ctx, "Maria <maria@acme.com>", nil, "ops"); err == nil {
		t.Fatal("a display name was taken for an address")
	}
	first, _, needs, err := s.Invite(ctx, "Maria@Acme.com", []string{"legal", "legal"}, "ops")
	if err != nil || needs {
		t.Fatalf("first invitation: needs confirmation %v, %v", needs, err)
	}
	a, err := s.Enrolling(ctx, first)
	if err != nil || a.Email != "maria@acme.com" || len(a.Roles) != 1 {
		t.Fatalf("enrolling: %+v %v", a, err)
	}
	// The link expires.
	now = now.Add(EnrolmentTTL + time.Second)
	if _, err := s.Enrolling(ctx, first); !errors.Is(err, ErrLinkInvalid) {
		t.Fatalf("an expired link: %v", err)
	}
	first, _, _, _ = s.Invite(ctx, "maria@acme.com", []string{"legal"}, "ops")
	if _, err := s.Enrol(ctx, first, webauthn.Credential{ID: []byte("cred-1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enrol(ctx, first, webauthn.Credential{ID: []byte("cred-2")}); !errors.Is(err, ErrLinkInvalid) {
		t.Fatalf("a used link enrolled again: %v", err)
	}

	// After that, invitations wait for an enrolled approver.
	second, _, needs, err := s.Invite(ctx, "sam@acme.com", nil, "someone")
	if err != nil || !needs {
		t.Fatalf("second invitation: needs confirmation %v, %v", needs, err)
	}
	if _, err := s.Enrolling(ctx, second); !errors.Is(err, ErrNeedsEndorsement) {
		t.Fatalf("an unconfirmed link: %v", err)
	}
	invs, _ := s.Invitations(ctx)
	if len(invs) != 1 || !invs[0].Waiting || invs[0].Email != "sam@acme.com" {
		t.Fatalf("invitations: %+v", invs)
	}
	if err := s.Endorse(ctx, invs[0].Key, "sam@acme.com"); err == nil {
		t.Fatal("an invitee confirmed their own invitation")
	}
	if err := s.Endorse(ctx, invs[0].Key, "nobody@acme.com"); err == nil {
		t.Fatal("someone not enrolled confirmed an invitation")
	}
	if err := s.Endorse(ctx, invs[0].Key, "maria@acme.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enrolling(ctx, second); err != nil {
		t.Fatalf("a confirmed link: %v", err)
	}
	// Removing sam cancels the link; removing maria removes her passkeys.
	if err := s.Remove(ctx, "sam@acme.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enrolling(ctx, second); !errors.Is(err, ErrLinkInvalid) {
		t.Fatalf("a removed invitee's link: %v", err)
	}
	if err := s.Remove(ctx, "maria@acme.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "maria@acme.com"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("a removed approver: %v", err)
	}
	if err := s.Remove(ctx, "maria@acme.com"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("removing twice: %v", err)
	}
}
