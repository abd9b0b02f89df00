package hubspottest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// authorize is the consent screen, approved at once: it redirects to the
// loopback redirect_uri with a code (or an error), as app.hubspot.com does
// after the user clicks "Connect app".
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	if err != nil || ru.Scheme != "http" || (ru.Hostname() != "127.0.0.1" && ru.Hostname() != "localhost" && ru.Hostname() != "::1") {
		http.Error(w, "redirect_uri must be a loopback http URL registered for the app", http.StatusBadRequest)
		return
	}
	if q.Get("client_id") != s.opts.ClientID {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	back := func(v url.Values) {
		if st := q.Get("state"); st != "" {
			v.Set("state", st)
		}
		ru.RawQuery = v.Encode()
		http.Redirect(w, r, ru.String(), http.StatusFound)
	}
	if m := q.Get("code_challenge_method"); q.Get("code_challenge") != "" && m != "S256" {
		back(url.Values{"error": {"invalid_request"}, "error_description": {"code_challenge_method must be S256"}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	available := map[string]bool{}
	for _, sc := range s.opts.Scopes {
		available[sc] = true
	}
	var granted []string
	for _, sc := range strings.Fields(q.Get("scope")) {
		if !available[sc] {
			back(url.Values{"error": {"invalid_scope"}, "error_description": {"The portal cannot grant scope " + sc}})
			return
		}
		granted = append(granted, sc)
	}
	for _, sc := range strings.Fields(q.Get("optional_scope")) {
		if available[sc] {
			granted = append(granted, sc)
		}
	}
	code := "code-" + randHex(16)
	s.st.Codes[code] = &authCode{RedirectURI: redirect, Scopes: granted, Challenge: q.Get("code_challenge"), Expiry: s.opts.Now().Add(10 * time.Minute)}
	back(url.Values{"code": {code}})
}

func oauthError(w http.ResponseWriter, status int, errCode, hsStatus, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": errCode, "error_description": msg, "status": hsStatus, "message": msg, "correlationId": randUUID(),
	})
}

// token is POST /oauth/v1/token (and its v3 and 2026-03 twins).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if _, _, basic := r.BasicAuth(); basic {
		oauthError(w, http.StatusBadRequest, "invalid_client", "BAD_CLIENT_ID",
			"client_id and client_secret must be sent in the form body")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "BAD_REQUEST", "the body must be application/x-www-form-urlencoded")
		return
	}
	f := r.PostForm
	if f.Get("client_id") != s.opts.ClientID {
		oauthError(w, http.StatusBadRequest, "invalid_client", "BAD_CLIENT_ID", "missing or unknown client id")
		return
	}
	if f.Get("client_secret") != s.opts.ClientSecret {
		oauthError(w, http.StatusBadRequest, "invalid_client", "BAD_CLIENT_SECRET", "missing or invalid client secret")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	var scopes []string
	var refresh string
	switch f.Get("grant_type") {
	case "authorization_code":
		s.exchanges++
		c, ok := s.st.Codes[f.Get("code")]
		if !ok || now.After(c.Expiry) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "BAD_AUTH_CODE", "missing or unknown auth code")
			return
		}
		delete(s.st.Codes, f.Get("code")) // single use
		if f.Get("redirect_uri") != c.RedirectURI {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "BAD_REDIRECT_URI", "redirect_uri does not match the authorization")
			return
		}
		if c.Challenge != "" {
			sum := sha256.Sum256([]byte(f.Get("code_verifier")))
			if base64.RawURLEncoding.EncodeToString(sum[:]) != c.Challenge {
				oauthError(w, http.StatusBadRequest, "invalid_grant", "BAD_CODE_VERIFIER", "code_verifier does not match the code_challenge")
				return
			}
		}
		scopes = c.Scopes
		refresh = "na1-" + randUUID()
		s.st.RefreshTokens[refresh] = &refreshToken{Scopes: scopes}
	case "refresh_token":
		s.refreshes++
		refresh = f.Get("refresh_token")
		rt, ok := s.st.RefreshTokens[refresh]
		if !ok || rt.Revoked {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "BAD_REFRESH_TOKEN", "refresh token is invalid, expired or revoked")
			return
		}
		scopes = rt.Scopes
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "BAD_GRANT_TYPE", "grant_type must be authorization_code or refresh_token")
		return
	}
	access := "CO" + randHex(24)
	s.st.AccessTokens[access] = &accessToken{Scopes: scopes, Expiry: now.Add(s.opts.AccessTokenTTL)}
	s.persistLocked()
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": access, "refresh_token": refresh, "expires_in": int64(s.opts.AccessTokenTTL / time.Second),
		"token_type": "bearer", "token_use": "access_token", "hub_id": s.opts.HubID, "user_id": 1, "scopes": scopes,
	})
}

// privateAppInfo is POST /oauth/v2/private-apps/get/access-token-info: the
// portal and scopes of a private-app token given in the body. (Not among the
// saved specs; the shape follows HubSpot's private-app documentation.)
func (s *Server) privateAppInfo(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TokenKey string `json:"tokenKey"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.TokenKey == "" {
		writeEnvelope(w, http.StatusBadRequest, nil, validationErr("tokenKey is required").env)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if body.TokenKey != s.st.PrivateAppToken {
		writeEnvelope(w, http.StatusNotFound, nil, notFound("Private app token", "").env)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"userId": 1, "hubId": s.opts.HubID, "appId": 4242, "scopes": s.opts.Scopes})
}
