package oauthrs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lastmile/lastmile/internal/accesstoken"
)

// introspection is what lastmile reads of an RFC 7662 answer.
type introspection struct {
	Active   bool            `json:"active"`
	Scope    string          `json:"scope"`
	ClientID string          `json:"client_id"`
	Sub      string          `json:"sub"`
	Exp      int64           `json:"exp"`
	Nbf      int64           `json:"nbf"`
	Iss      string          `json:"iss"`
	Aud      json.RawMessage `json:"aud"`
}

// introspect asks the authorization server about the token (RFC 7662),
// authenticating as the resource server with HTTP Basic.
func (v *Validator) introspect(ctx context.Context, token string) (*accesstoken.Principal, error) {
	m, err := v.Metadata(ctx)
	if err != nil {
		return nil, err
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.IntrospectionEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(v.cfg.Introspection.ClientID), url.QueryEscape(v.cfg.Introspection.ClientSecret))
	resp, err := v.cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("introspecting a token: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("introspecting a token: %s from %s", resp.Status, m.IntrospectionEndpoint)
	}
	var in introspection
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&in); err != nil {
		return nil, fmt.Errorf("introspecting a token: %w", err)
	}
	if !in.Active {
		return nil, invalid("the authorization server says it is not active")
	}
	now := v.cfg.Now()
	if in.Exp != 0 && now.After(time.Unix(in.Exp, 0).Add(v.cfg.Leeway)) {
		return nil, invalid("expired")
	}
	if in.Nbf != 0 && now.Add(v.cfg.Leeway).Before(time.Unix(in.Nbf, 0)) {
		return nil, invalid("not valid yet")
	}
	if in.Iss != "" && in.Iss != v.cfg.Issuer {
		return nil, invalid("issued by %q, not %q", clean(in.Iss), v.cfg.Issuer)
	}
	aud := audience(in.Aud)
	if !slices.Contains(aud, v.cfg.Resource) {
		return nil, invalid("its audience %q does not include %s", clean(strings.Join(aud, " ")), v.cfg.Resource)
	}
	return principal(in.Sub, in.ClientID, strings.Fields(in.Scope))
}

// audience reads aud, a string or an array of them.
func audience(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	json.Unmarshal(raw, &many)
	return many
}
