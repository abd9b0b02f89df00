// Package approvers keeps the people who may approve plans on the review
// page: each an email address, the roles they were enrolled with, and the
// passkeys (WebAuthn credentials) they registered through a one-time
// enrolment link. It holds no private key: a credential is a public key and
// its counters.
package approvers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/lastmile/lastmile/store"
)

// EnrolmentTTL is how long an enrolment link works once it can be used.
const EnrolmentTTL = 15 * time.Minute

// EndorsementTTL is how long an invitation waits for an enrolled approver
// to confirm it.
const EndorsementTTL = 24 * time.Hour

const (
	bApprovers  = "approvers"  // lower-case email → Approver
	bEnrolments = "enrolments" // sha256(token) hex → enrolment
)

// Approver is an enrolled person. It is a webauthn.User.
type Approver struct {
	Email   string    `json:"email"`
	Roles   []string  `json:"roles,omitempty"`
	AddedAt time.Time `json:"added_at"`
	AddedBy string    `json:"added_by"`
	// Handle is the WebAuthn user handle: random, so it says nothing about
	// the person to whoever reads an authenticator.
	Handle      []byte                `json:"handle"`
	Credentials []webauthn.Credential `json:"credentials,omitempty"`
}

func (a *Approver) WebAuthnID() []byte                         { return a.Handle }
func (a *Approver) WebAuthnName() string                       { return a.Email }
func (a *Approver) WebAuthnDisplayName() string                { return a.Email }
func (a *Approver) WebAuthnCredentials() []webauthn.Credential { return a.Credentials }

// Enrolled reports whether the approver has registered a passkey.
func (a *Approver) Enrolled() bool { return len(a.Credentials) > 0 }

// CredentialID is the text form of a credential id, as approvals record it.
func CredentialID(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }

// enrolment is an invitation. The first approver's works at once (there is
// nobody to ask); every later one only after an enrolled approver confirms
// it with their passkey on the review page, so whoever can run
// lastmile approvers add (an agent with a shell, say) cannot make itself an
// approver.
type enrolment struct {
	Email     string    `json:"email"`
	Roles     []string  `json:"roles,omitempty"`
	InvitedBy string    `json:"invited_by"`
	InvitedAt time.Time `json:"invited_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// EndorsedBy is the approver who confirmed the invitation; empty
	// while it waits.
	EndorsedBy string `json:"endorsed_by,omitempty"`
	Bootstrap  bool   `json:"bootstrap,omitempty"` // the first approver's
}

// Invitation is an enrolment link as an approver sees it, waiting for
// their confirmation: never the link itself.
type Invitation struct {
	Key       string // identifies it; not the link
	Email     string
	Roles     []string
	InvitedBy string
	InvitedAt time.Time
	ExpiresAt time.Time
	// Waiting is true until an enrolled approver confirms it.
	Waiting bool
}

// ErrNeedsEndorsement is an enrolment link nobody confirmed yet.
var ErrNeedsEndorsement = errors.New("this invitation waits for an enrolled approver to confirm it on the review page; open the link again once they have")

// Store keeps approvers in lastmile's store.
type Store struct {
	st  store.Store
	now func() time.Time
}

// New returns approvers kept in st; now is the clock (nil: time.Now).
func New(st store.Store, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{st: st, now: now}
}

// ErrUnknown is an email address nobody enrolled.
var ErrUnknown = errors.New("no such approver")

// ErrLinkInvalid is an enrolment link that does not exist, was used, or
// expired.
var ErrLinkInvalid = errors.New("this enrolment link is not valid: it was used, it expired, or it never existed; ask for a new one (lastmile approvers add EMAIL)")

// Invite adds an approver, or invites an enrolled one to register another
// passkey, and returns a one-time enrolment token. When nobody is enrolled
// yet it works at once, for EnrolmentTTL; otherwise an enrolled approver
// must confirm it first (Endorse), within EndorsementTTL. Roles are the
// approver's once they enrol. Only the token's hash is kept, so the store
// never holds a working link. needsEndorsement says which.
func (s *Store) Invite(ctx context.Context, email string, roles []string, by string) (token string, expires time.Time, needsEndorsement bool, err error) {
	addr, err := normalize(email)
	if err != nil {
		return "", time.Time{}, false, err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", time.Time{}, false, err
	}
	token = base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.now()
	err = s.st.Update(ctx, func(tx store.Tx) error {
		enrolled, err := anyEnrolled(tx)
		if err != nil {
			return err
		}
		e := enrolment{Email: addr, Roles: slices.Compact(slices.Sorted(slices.Values(roles))), InvitedBy: by, InvitedAt: now, Bootstrap: !enrolled}
		needsEndorsement = enrolled
		e.ExpiresAt = now.Add(EnrolmentTTL)
		if needsEndorsement {
			e.ExpiresAt = now.Add(EndorsementTTL)
		}
		expires = e.ExpiresAt
		data, _ := json.Marshal(e)
		return tx.Put(bEnrolments, tokenKey(token), data)
	})
	return token, expires, needsEndorsement, err
}

func anyEnrolled(tx store.Tx) (bool, error) {
	for after := ""; ; {
		kvs, err := tx.Scan(bApprovers, "", after, 100)
		if err != nil {
			return false, err
		}
		for _, kv := range kvs {
			var a Approver
			if json.Unmarshal(kv.Value, &a) == nil && a.Enrolled() {
				return true, nil
			}
		}
		if len(kvs) < 100 {
			return false, nil
		}
		after = kvs[len(kvs)-1].Key
	}
}

// Invitations lists the enrolment links not used yet and not expired.
func (s *Store) Invitations(ctx context.Context) ([]Invitation, error) {
	var out []Invitation
	err := s.st.View(ctx, func(tx store.Tx) error {
		enrolled, err := anyEnrolled(tx)
		if err != nil {
			return err
		}
		kvs, err := tx.Scan(bEnrolments, "", "", 10_000)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			var e enrolment
			if json.Unmarshal(kv.Value, &e) != nil || !s.now().Before(e.ExpiresAt) {
				continue
			}
			out = append(out, Invitation{Key: kv.Key, Email: e.Email, Roles: e.Roles, InvitedBy: e.InvitedBy, InvitedAt: e.InvitedAt, ExpiresAt: e.ExpiresAt,
				Waiting: e.EndorsedBy == "" && (!e.Bootstrap || enrolled)})
		}
		return nil
	})
	return out, err
}

// Invitation returns one invitation waiting for confirmation, by its key.
func (s *Store) Invitation(ctx context.Context, key string) (*Invitation, error) {
	all, err := s.Invitations(ctx)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Key == key && all[i].Waiting {
			return &all[i], nil
		}
	}
	return nil, ErrLinkInvalid
}

// Endorse records that an enrolled approver confirmed an invitation (with
// their passkey: the caller checked it). The link then works for
// EnrolmentTTL.
func (s *Store) Endorse(ctx context.Context, key, by string) error {
	return s.st.Update(ctx, func(tx store.Tx) error {
		data, err := tx.Get(bEnrolments, key)
		if err != nil {
			return err
		}
		var e enrolment
		if data == nil || json.Unmarshal(data, &e) != nil || !s.now().Before(e.ExpiresAt) || e.EndorsedBy != "" {
			return ErrLinkInvalid
		}
		if a, err := get(tx, strings.ToLower(by)); err != nil || a == nil || !a.Enrolled() {
			return errors.New(by + " is not an enrolled approver")
		}
		if strings.EqualFold(e.Email, by) {
			return errors.New("an approver cannot confirm their own invitation")
		}
		e.EndorsedBy, e.ExpiresAt = by, s.now().Add(EnrolmentTTL)
		data, _ = json.Marshal(e)
		return tx.Put(bEnrolments, key, data)
	})
}

// Enrolling returns who an enrolment token is for (as the approver they
// become, with the roles they are invited with), without using the token
// up.
func (s *Store) Enrolling(ctx context.Context, token string) (*Approver, error) {
	var out *Approver
	err := s.st.View(ctx, func(tx store.Tx) error {
		e, err := s.liveEnrolment(tx, token)
		if err != nil {
			return err
		}
		out, err = s.invitee(tx, e)
		return err
	})
	return out, err
}

// invitee is the approver an enrolment makes: the enrolled one, or a new
// one, with the invitation's roles. Its handle is random and kept with the
// enrolment until the passkey is registered.
func (s *Store) invitee(tx store.Tx, e *enrolment) (*Approver, error) {
	a, err := get(tx, e.Email)
	if err != nil {
		return nil, err
	}
	if a == nil {
		a = &Approver{Email: e.Email, AddedAt: s.now(), AddedBy: e.InvitedBy, Handle: handleFor(e)}
	}
	a.Roles = e.Roles
	return a, nil
}

// handleFor derives a new approver's user handle from their invitation,
// so the registration ceremony and its completion agree on it.
func handleFor(e *enrolment) []byte {
	sum := sha256.Sum256([]byte("lastmile approver handle\x00" + e.Email + "\x00" + e.InvitedAt.UTC().Format(time.RFC3339Nano) + "\x00" + e.InvitedBy))
	return sum[:]
}

// Enrol registers a passkey with the enrolment token, which is used up in
// the same transaction: one link, one passkey.
func (s *Store) Enrol(ctx context.Context, token string, cred webauthn.Credential) (*Approver, error) {
	var out *Approver
	err := s.st.Update(ctx, func(tx store.Tx) error {
		e, err := s.liveEnrolment(tx, token)
		if err != nil {
			return err
		}
		if err := tx.Delete(bEnrolments, tokenKey(token)); err != nil {
			return err
		}
		a, err := s.invitee(tx, e)
		if err != nil {
			return err
		}
		if _, ok := findCredential(a, cred.ID); ok {
			return fmt.Errorf("this passkey is already registered for %s", a.Email)
		}
		a.Credentials = append(a.Credentials, cred)
		out = a
		return put(tx, a)
	})
	return out, err
}

func (s *Store) liveEnrolment(tx store.Tx, token string) (*enrolment, error) {
	data, err := tx.Get(bEnrolments, tokenKey(token))
	if err != nil {
		return nil, err
	}
	var e enrolment
	if data == nil || json.Unmarshal(data, &e) != nil || !s.now().Before(e.ExpiresAt) {
		return nil, ErrLinkInvalid
	}
	if e.EndorsedBy == "" {
		// The first approver's link works while nobody is enrolled:
		// once someone is, it needs their confirmation like any other.
		enrolled, err := anyEnrolled(tx)
		if err != nil {
			return nil, err
		}
		if !e.Bootstrap || enrolled {
			return nil, ErrNeedsEndorsement
		}
	}
	return &e, nil
}

// ByHandle returns the approver with a WebAuthn user handle, or ErrUnknown.
func (s *Store) ByHandle(ctx context.Context, handle []byte) (*Approver, error) {
	all, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if string(all[i].Handle) == string(handle) {
			return &all[i], nil
		}
	}
	return nil, ErrUnknown
}

// Get returns one approver, or ErrUnknown.
func (s *Store) Get(ctx context.Context, email string) (*Approver, error) {
	addr, err := normalize(email)
	if err != nil {
		return nil, err
	}
	var out *Approver
	err = s.st.View(ctx, func(tx store.Tx) error {
		out, err = get(tx, addr)
		return err
	})
	if err == nil && out == nil {
		err = ErrUnknown
	}
	return out, err
}

// Used records a credential's use (its signature counter and flags), so a
// cloned authenticator shows up as a counter that went back.
func (s *Store) Used(ctx context.Context, email string, cred webauthn.Credential) error {
	return s.st.Update(ctx, func(tx store.Tx) error {
		a, err := get(tx, strings.ToLower(email))
		if err != nil || a == nil {
			return err
		}
		i, ok := findCredential(a, cred.ID)
		if !ok {
			return nil
		}
		a.Credentials[i] = cred
		return put(tx, a)
	})
}

// List returns every approver, by email.
func (s *Store) List(ctx context.Context) ([]Approver, error) {
	var out []Approver
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = store.ListJSON[Approver](tx, bApprovers, "approver")
		return err
	})
	return out, err
}

// Remove deletes an approver and their passkeys, and any enrolment link
// still open for them. Approvals they gave stay in the plans and the audit
// log.
func (s *Store) Remove(ctx context.Context, email string) error {
	addr, err := normalize(email)
	if err != nil {
		return err
	}
	return s.st.Update(ctx, func(tx store.Tx) error {
		a, err := get(tx, addr)
		if err != nil {
			return err
		}
		found := a != nil
		kvs, err := tx.Scan(bEnrolments, "", "", 10_000)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			var e enrolment
			if json.Unmarshal(kv.Value, &e) == nil && e.Email == addr {
				found = true
				if err := tx.Delete(bEnrolments, kv.Key); err != nil {
					return err
				}
			}
		}
		if !found {
			return ErrUnknown
		}
		return tx.Delete(bApprovers, addr)
	})
}

func normalize(email string) (string, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(email))
	if err != nil || addr.Name != "" || !strings.Contains(addr.Address, "@") {
		return "", fmt.Errorf("%q is not an email address", email)
	}
	return strings.ToLower(addr.Address), nil
}

func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func get(tx store.Tx, addr string) (*Approver, error) {
	data, err := tx.Get(bApprovers, addr)
	if err != nil || data == nil {
		return nil, err
	}
	var a Approver
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("approver %s: %w", addr, err)
	}
	return &a, nil
}

func put(tx store.Tx, a *Approver) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return tx.Put(bApprovers, a.Email, data)
}

func findCredential(a *Approver, id []byte) (int, bool) {
	for i, c := range a.Credentials {
		if string(c.ID) == string(id) {
			return i, true
		}
	}
	return 0, false
}
