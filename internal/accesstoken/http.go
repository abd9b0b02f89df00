package accesstoken

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// challenge is the WWW-Authenticate value of a 401 (RFC 6750 §3). It gains
// resource_metadata once lastmile serves Protected Resource Metadata.
const challenge = `Bearer realm="lastmile"`

// RequireBearer serves next only to requests with a valid access token in
// Authorization: Bearer; the token's principal is in the request's
// context (mcp-go hands that context to tool handlers), and the
// Authorization header is taken off the request, so nothing downstream can
// echo or log it. Anything else gets 401 with WWW-Authenticate. Log lines
// name the token's name at most, never the token.
func RequireBearer(tokens *Store, log *slog.Logger, next http.Handler) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := bearer(r.Header.Values("Authorization"))
		if !ok {
			log.InfoContext(r.Context(), "http request without an access token", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
			unauthorized(w, challenge, "this server needs an access token: send Authorization: Bearer lm_… (a person creates one with lastmile tokens create)")
			return
		}
		p, err := tokens.Authenticate(r.Context(), secret)
		if errors.Is(err, ErrInvalid) {
			log.WarnContext(r.Context(), "http request with an invalid access token", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
			unauthorized(w, challenge+`, error="invalid_token"`, "the access token is not valid: it is malformed, unknown or revoked")
			return
		}
		if err != nil {
			log.ErrorContext(r.Context(), "checking an access token", "err", err)
			http.Error(w, "could not check the access token; the server logged why", http.StatusInternalServerError)
			return
		}
		log.DebugContext(r.Context(), "http request authenticated", "token", p.Name, "method", r.Method, "path", r.URL.Path)
		r = r.Clone(WithPrincipal(r.Context(), p))
		r.Header.Del("Authorization")
		next.ServeHTTP(w, r)
	})
}

// bearer returns the token of the one Authorization: Bearer header. The
// scheme is case-insensitive (RFC 9110 §11.1); two Authorization headers
// are refused rather than guessed between.
func bearer(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

func unauthorized(w http.ResponseWriter, challenge, msg string) {
	w.Header().Set("WWW-Authenticate", challenge)
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, msg, http.StatusUnauthorized)
}
