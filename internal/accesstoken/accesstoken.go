// Package accesstoken is lastmile's own bearer tokens, for small teams
// without an identity provider: each has a name and scopes, is shown once
// when it is made, and is kept only as its SHA-256, so a copy of the data
// directory holds no working token. A token is revoked, never deleted, so
// its name (the actor "token:NAME" in the audit log and on plans) always
// means the one token.
package accesstoken

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lastmile/lastmile/store"
)

// Prefix starts every token, so a leaked one is recognisable (by people
// and by secret scanners).
const Prefix = "lm_"

// The scopes. Each tool needs exactly one (tools.RequiredScope).
const (
	ScopeRead    = "lastmile:read"    // tools that only read
	ScopeStage   = "lastmile:stage"   // staging, test sends, retiring, archiving, updating
	ScopePlan    = "lastmile:plan"    // plan_promotion
	ScopeConfirm = "lastmile:confirm" // confirm_promotion
)

// Scopes are the valid scopes, in the order help lists them.
var Scopes = []string{ScopeRead, ScopeStage, ScopePlan, ScopeConfirm}

const (
	bTokens = "access_tokens"       // name → Token
	bHashes = "access_token_hashes" // hex sha256(token) → name
)

// secretLen is how many random bytes a token carries.
const secretLen = 32

// Token is what the store keeps of a token: never the token itself.
type Token struct {
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
	// SHA256 is the hex SHA-256 of the token.
	SHA256    string    `json:"sha256"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	RevokedBy string    `json:"revoked_by,omitempty"`
}

// Revoked reports whether the token no longer authenticates.
func (t *Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// Sentinel errors callers branch on.
var (
	ErrUnknown   = errors.New("no such access token")
	ErrNameTaken = errors.New("an access token has that name (names are never reused, so an audit entry's token:NAME names one token)")
	// ErrInvalid is a token that is malformed, unknown or revoked: one
	// error for all three, so a caller learns nothing about which.
	ErrInvalid = errors.New("invalid access token")
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidateName checks a token's name: lower-case letters, digits, '.', '_'
// and '-', up to 63 characters, so it is safe in the audit log and on a
// terminal.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("token name %q: use 1 to 63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// ParseScopes reads a comma-separated scope list; it returns the scopes
// sorted, each once, or an error naming every unknown one.
func ParseScopes(list string) ([]string, error) {
	var out, bad []string
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
		case !slices.Contains(Scopes, s):
			bad = append(bad, fmt.Sprintf("%q", s))
		default:
			out = append(out, s)
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("unknown scope %s; the scopes are %s", strings.Join(bad, ", "), strings.Join(Scopes, ", "))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("give at least one scope: %s", strings.Join(Scopes, ", "))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Store keeps access tokens in lastmile's store.
type Store struct {
	st  store.Store
	now func() time.Time
}

// New returns the access tokens kept in st; now is the clock (nil:
// time.Now).
func New(st store.Store, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{st: st, now: now}
}

// Create makes a token and returns it: the only time it is ever seen.
func (s *Store) Create(ctx context.Context, name string, scopes []string, by string) (string, *Token, error) {
	if err := ValidateName(name); err != nil {
		return "", nil, err
	}
	scopes, err := ParseScopes(strings.Join(scopes, ","))
	if err != nil {
		return "", nil, err
	}
	var raw [secretLen]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	secret := Prefix + base64.RawURLEncoding.EncodeToString(raw[:])
	t := &Token{Name: name, Scopes: scopes, CreatedAt: s.now().UTC(), CreatedBy: by, SHA256: digest(secret)}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		prev, err := tx.Get(bTokens, name)
		if err != nil {
			return err
		}
		if prev != nil {
			return fmt.Errorf("%q: %w", name, ErrNameTaken)
		}
		data, err := json.Marshal(t)
		if err != nil {
			return err
		}
		if err := tx.Put(bTokens, name, data); err != nil {
			return err
		}
		return tx.Put(bHashes, t.SHA256, []byte(name))
	})
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// List returns every token, revoked ones too, by name.
func (s *Store) List(ctx context.Context) ([]Token, error) {
	var out []Token
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = store.ListJSON[Token](tx, bTokens, "access token")
		return err
	})
	return out, err
}

// Revoke stops a token from authenticating, from the next request on. Its
// record stays, so the list and the audit log still say what it was.
// Revoking a revoked token is no error.
func (s *Store) Revoke(ctx context.Context, name, by string) error {
	return s.st.Update(ctx, func(tx store.Tx) error {
		t, err := get(tx, name)
		if err != nil {
			return err
		}
		if t == nil {
			return fmt.Errorf("%q: %w", name, ErrUnknown)
		}
		if t.Revoked() {
			return nil
		}
		t.RevokedAt, t.RevokedBy = s.now().UTC(), by
		data, err := json.Marshal(t)
		if err != nil {
			return err
		}
		if err := tx.Put(bTokens, name, data); err != nil {
			return err
		}
		return tx.Delete(bHashes, t.SHA256)
	})
}

// Authenticate returns the principal a token stands for, or ErrInvalid.
func (s *Store) Authenticate(ctx context.Context, secret string) (*Principal, error) {
	if !wellFormed(secret) {
		return nil, ErrInvalid
	}
	sum := digest(secret)
	var p *Principal
	err := s.st.View(ctx, func(tx store.Tx) error {
		name, err := tx.Get(bHashes, sum)
		if err != nil || name == nil {
			return err
		}
		t, err := get(tx, string(name))
		if err != nil || t == nil || t.Revoked() {
			return err
		}
		// The index found it by hash; compare the record's own hash too,
		// in constant time, so the index alone never vouches for a token.
		if subtle.ConstantTimeCompare([]byte(t.SHA256), []byte(sum)) != 1 {
			return nil
		}
		p = &Principal{Name: t.Name, Scopes: slices.Clone(t.Scopes)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("access tokens: %w", err)
	}
	if p == nil {
		return nil, ErrInvalid
	}
	return p, nil
}

// wellFormed reports whether s looks like a token this package made.
func wellFormed(s string) bool {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(secretLen) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}

func digest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func get(tx store.Tx, name string) (*Token, error) {
	data, err := tx.Get(bTokens, name)
	if err != nil || data == nil {
		return nil, err
	}
	var t Token
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("access token %s: %w", name, err)
	}
	return &t, nil
}

// AnyActive reports whether at least one token is not revoked.
func (s *Store) AnyActive(ctx context.Context) (bool, error) {
	var n int
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.Count(bHashes, "", 1)
		return err
	})
	return n > 0, err
}
