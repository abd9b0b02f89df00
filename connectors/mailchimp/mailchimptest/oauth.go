package mailchimptest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// The OAuth 2 endpoints of login.mailchimp.com: authorization code grant,
// tokens that never expire and no refresh token, and the metadata endpoint
// that tells a token's data centre and API endpoint.

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// oauthAuthorize plays the user who logs in and allows access: it redirects
// straight back to redirect_uri with a code.
func (s *Server) oauthAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" {
		oauthError(w, http.StatusBadRequest, "unsupported_response_type", "response_type must be code")
		return
	}
	if q.Get("client_id") != s.opts.clientID {
		oauthError(w, http.StatusBadRequest, "invalid_client", "unknown client_id")
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "redirect_uri is required")
		return
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	code := hex.EncodeToString(b[:])
	s.mu.Lock()
	s.codes[code] = q.Get("redirect_uri")
	s.mu.Unlock()
	rq := redirect.Query()
	rq.Set("code", code)
	if st := q.Get("state"); st != "" {
		rq.Set("state", st)
	}
	redirect.RawQuery = rq.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code is supported")
		return
	}
	// Mailchimp reads the client credentials from the form body.
	if f.Get("client_id") != s.opts.clientID || f.Get("client_secret") != s.opts.clientSecret {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "invalid client credentials")
		return
	}
	s.mu.Lock()
	redirect, found := s.codes[f.Get("code")]
	if found {
		delete(s.codes, f.Get("code"))
	}
	var tok string
	if found && redirect == f.Get("redirect_uri") {
		tok = s.issueTokenLocked()
	}
	s.mu.Unlock()
	if tok == "" {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "invalid authorization code or redirect_uri")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": 0, "scope": nil})
}

func (s *Server) oauthMetadata(w http.ResponseWriter, r *http.Request) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.mu.Lock()
	valid := strings.EqualFold(scheme, "OAuth") && s.tokens[strings.TrimSpace(tok)]
	s.mu.Unlock()
	if !valid {
		oauthError(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"dc":           s.opts.dc,
		"role":         "owner",
		"accountname":  "Fake Chimp Co",
		"user_id":      1001,
		"login_url":    "https://login.mailchimp.com",
		"api_endpoint": s.hs.URL,
		"login":        map[string]any{"email": "owner@example.com", "login_id": 1001, "login_name": "fakechimp"},
	})
}
