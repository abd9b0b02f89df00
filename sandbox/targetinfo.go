package sandbox

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lastmile/lastmile/store"
)

// Describer is a target that can say what it was connected with and check
// its credentials. Every connector implements it, so list_targets shows each
// target alike.
type Describer interface {
	// Describe says, without calling the platform, what the target was
	// connected with: account, how it authenticates, tier and scopes as
	// recorded at connect. Nothing in it is secret.
	Describe() Description
	// CheckAuth makes one cheap authenticated read (no write) and returns
	// nil when the platform accepted the credentials, an error wrapping
	// ErrAuth when it refused them, or another error when it could not be
	// asked. A target without credentials returns nil at once.
	CheckAuth(ctx context.Context) error
}

// Auth values of a Description.
const (
	AuthNone                = "none" // local: nothing to authenticate
	AuthOAuth               = "oauth"
	AuthPrivateApp          = "private_app"
	AuthAPIKey              = "api_key"
	AuthApplicationPassword = "application_password"
)

// Description is what a target was connected with.
type Description struct {
	// Account names the account without any secret: a portal id, an
	// account name and data centre, a site and user, a data directory.
	Account string `json:"account,omitempty"`
	// Auth is how lastmile authenticates: none, oauth, private_app,
	// api_key or application_password.
	Auth string `json:"auth"`
	// Tier is what lastmile knows of the platform's plan or tier, as
	// recorded at connect; empty when it could not tell.
	Tier string `json:"tier,omitempty"`
	// Scopes the platform granted, where it says.
	Scopes []string `json:"scopes,omitempty"`
	// MissingScopes, per capability, that the platform said were missing.
	MissingScopes map[string][]string `json:"missing_scopes,omitempty"`
	// Limits are what the connection cannot do and why, in sentences.
	Limits []string `json:"limits,omitempty"`
	// ConnectedAt and ProbedAt are when the connection was made and when
	// its capabilities were last asked of the platform, where recorded.
	ConnectedAt time.Time `json:"connected_at,omitzero"`
	ProbedAt    time.Time `json:"probed_at,omitzero"`
}

// TargetCapabilities is everything list_targets says a target can do.
type TargetCapabilities struct {
	Capabilities
	// TestSends: the target implements TestSender (send_test works).
	TestSends bool `json:"test_sends"`
	// The scheduling a target takes (Scheduling): A/B tests, sending at
	// each recipient's local time, send windows.
	ABTests     bool `json:"ab_tests"`
	TimeZones   bool `json:"time_zones"`
	SendWindows bool `json:"send_windows"`
	// Retire lists, per kind the target holds, the retirements it can
	// take (retire_artifact): what CanRetire allows.
	Retire map[Kind][]string `json:"retire,omitempty"`
}

// Scheduler is implemented by targets that take more of an email's
// scheduling than a send time; what a target does not say it takes, its
// Assess refuses at planning.
type Scheduler interface {
	Scheduling() Scheduling
}

// Scheduling is what of an email's scheduling a target takes.
type Scheduling struct {
	ABTests     bool // create_email's ab_test
	TimeZones   bool // recipient_time_zone
	SendWindows bool // send_window
}

// retirable is what t can take back, per kind it holds.
func retirable(t Target) map[Kind][]string {
	r, ok := t.(Retirer)
	if !ok {
		return nil
	}
	out := map[Kind][]string{}
	for _, k := range Kinds {
		if !t.Capabilities().Supports(k) {
			continue
		}
		for _, op := range retireOps[k] {
			if _, err := r.CanRetire(k, op); err == nil {
				out[k] = append(out[k], op)
			}
		}
	}
	return out
}

// Token states of a TargetHealth.
const (
	TokenValid     = "valid"
	TokenInvalid   = "invalid"
	TokenUnknown   = "unknown"
	TokenNotNeeded = "not_needed"
)

// How a TargetHealth's token state was found.
const (
	TokenCheckedNow = "checked_now" // one authenticated read just now
	TokenLastCall   = "last_call"   // the outcome of the last call this server made
	TokenNotChecked = "not_checked" // no call made since the server started, and not checked now
)

// TargetHealth is how a target is doing.
type TargetHealth struct {
	// Token is valid, invalid, unknown, or not_needed (no credentials).
	Token string `json:"token"`
	// TokenSource says how Token was found: checked_now, last_call or
	// not_checked.
	TokenSource string `json:"token_source,omitempty"`
	// CheckedAt is when the outcome Token reports happened.
	CheckedAt *time.Time `json:"checked_at,omitempty"`
	// Available is false when the target could not be built (missing or
	// unreadable credentials, a bad setting): nothing can use it.
	Available bool `json:"available"`
	// Problem says why an unavailable target is, or why the check could
	// not tell.
	Problem string `json:"problem,omitempty"`
	// LastError is the last error the target returned to lastmile.
	LastError *TargetError `json:"last_error,omitempty"`
}

// TargetError is an error a target returned, as kept for list_targets.
type TargetError struct {
	At      time.Time `json:"at"`
	Op      string    `json:"op"`
	Message string    `json:"message"`
	Auth    bool      `json:"auth"`
}

// TargetInfo is one configured target as list_targets shows it.
type TargetInfo struct {
	Name         string             `json:"name"`
	Platform     string             `json:"platform"`
	Default      bool               `json:"default"`
	Capabilities TargetCapabilities `json:"capabilities"`
	Connection   *Description       `json:"connection,omitempty"`
	Health       TargetHealth       `json:"health"`
}

// bTargetErrors keeps each target's last error: target name → TargetError.
const bTargetErrors = "target_errors"

// maxErrorText bounds a kept error message.
const maxErrorText = 500

// secretish matches what could be a credential in an error message, in
// case a platform echoed one: connectors keep secrets out of their errors,
// and this is a second line.
var secretish = regexp.MustCompile(`(?i)(bearer\s+|basic\s+|(?:access_token|refresh_token|api_?key|apikey|password|client_secret|token)["']?\s*[=:]\s*["']?)[^\s"'&,;]+`)

// scrub makes an error message safe to keep and show.
func scrub(msg string) string {
	msg = secretish.ReplaceAllString(msg, "${1}[redacted]")
	if len(msg) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

// health is what this process saw of each target's calls.
type health struct {
	mu     sync.Mutex
	lastOK map[string]time.Time
}

// noteTarget records the outcome of a call to a target: a success in
// memory (for "last call" health), a failure in the store, so that
// list_targets shows it after a restart too. A call the caller cancelled
// says nothing about the target and is not kept.
func (s *Sandbox) noteTarget(ctx context.Context, name, op string, err error) {
	if err == nil {
		s.health.mu.Lock()
		if s.health.lastOK == nil {
			s.health.lastOK = map[string]time.Time{}
		}
		s.health.lastOK[name] = s.clock()
		s.health.mu.Unlock()
		return
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, ErrNotSupported) {
		return
	}
	te := TargetError{At: s.clock(), Op: op, Message: scrub(err.Error()), Auth: errors.Is(err, ErrAuth)}
	// Kept even when the request's context ends right after.
	if werr := s.st.Update(context.WithoutCancel(ctx), func(tx store.Tx) error { return putJSON(tx, bTargetErrors, name, te) }); werr != nil {
		s.log.Warn("could not record a target's error", "target", name, "err", werr)
	}
}

// authCheckTimeout bounds list_targets' check of one target.
const authCheckTimeout = 5 * time.Second

// ListTargets describes every configured target: capabilities, what it was
// connected with, and health. With check, each available target makes one
// cheap authenticated read (in parallel, 5 s each) and the token state is
// that read's outcome; without it, the token state is the outcome of the
// last call this server made to it.
func (s *Sandbox) ListTargets(ctx context.Context, check bool) ([]TargetInfo, error) {
	names := s.cfg.TargetNames()
	for n := range s.targets {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	out := make([]TargetInfo, len(names))
	checked := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		info := &out[i]
		info.Name, info.Default = name, name == s.cfg.DefaultTarget
		t, ok := s.targets[name]
		if !ok {
			info.Platform = s.cfg.Targets[name].Type
			info.Health = TargetHealth{Token: TokenUnknown, TokenSource: TokenNotChecked, Problem: "the target could not be set up, so nothing can use it: a human runs lastmile status to see why, and lastmile connect to fix it"}
			if err := s.unavailable[name]; err != nil {
				info.Health.Problem = scrub(err.Error())
			}
			continue
		}
		info.Platform = t.Platform()
		info.Capabilities = TargetCapabilities{Capabilities: t.Capabilities()}
		_, info.Capabilities.TestSends = t.(TestSender)
		info.Capabilities.Retire = retirable(t)
		if sc, ok := t.(Scheduler); ok {
			x := sc.Scheduling()
			info.Capabilities.ABTests, info.Capabilities.TimeZones, info.Capabilities.SendWindows = x.ABTests, x.TimeZones, x.SendWindows
		}
		info.Health = TargetHealth{Available: true, Token: TokenUnknown, TokenSource: TokenNotChecked}
		d, ok := t.(Describer)
		if !ok {
			continue
		}
		desc := d.Describe()
		info.Connection = &desc
		if desc.Auth == AuthNone {
			info.Health.Token, info.Health.TokenSource = TokenNotNeeded, ""
			continue
		}
		if check {
			wg.Go(func() {
				cctx, cancel := context.WithTimeout(ctx, authCheckTimeout)
				defer cancel()
				checked[i] = d.CheckAuth(cctx)
			})
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, name := range names {
		info := &out[i]
		if !info.Health.Available || info.Health.Token == TokenNotNeeded || info.Connection == nil {
			continue
		}
		if check {
			err := checked[i]
			s.noteTarget(ctx, name, "check credentials", err)
			now := s.clock()
			info.Health.TokenSource, info.Health.CheckedAt = TokenCheckedNow, &now
			switch {
			case err == nil:
				info.Health.Token = TokenValid
			case errors.Is(err, ErrAuth):
				info.Health.Token = TokenInvalid
			default:
				info.Health.Problem = "the check could not reach the platform: " + scrub(err.Error())
			}
		}
	}
	errs := map[string]TargetError{}
	if err := s.st.View(ctx, func(tx store.Tx) error {
		for _, name := range names {
			te, err := getJSON[TargetError](tx, bTargetErrors, name)
			if err != nil {
				return err
			}
			if te != nil {
				errs[name] = *te
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list targets: %w", err)
	}
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	for i, name := range names {
		info := &out[i]
		if te, ok := errs[name]; ok {
			info.Health.LastError = &te
		}
		if check || !info.Health.Available || info.Health.Token == TokenNotNeeded || info.Connection == nil {
			continue
		}
		ok, okFound := s.health.lastOK[name]
		te, errFound := errs[name]
		switch {
		case okFound && (!errFound || !te.At.After(ok)):
			info.Health.Token, info.Health.TokenSource, info.Health.CheckedAt = TokenValid, TokenLastCall, &ok
		case errFound && te.Auth:
			at := te.At
			info.Health.Token, info.Health.TokenSource, info.Health.CheckedAt = TokenInvalid, TokenLastCall, &at
		}
	}
	return out, nil
}
