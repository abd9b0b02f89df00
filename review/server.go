// Package review is the review page: the web app where an enrolled approver
// sees the finished campaign a plan would make live — every email rendered
// as its recipients will see it, segments with counts and sample members,
// workflow diagrams, landing pages, diffs and findings — and approves or
// rejects it with a passkey. It is the one approval channel an agent with a
// shell on the approver's machine cannot drive: an approval needs a fresh
// WebAuthn assertion, with user verification, over a challenge derived from
// the plan's hash.
//
// Everything an agent wrote is shown inert: escaped in the page, and agent
// HTML only inside sandboxed frames served with a sandboxing
// Content-Security-Policy, so it can never run in the page's origin.
package review

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/lastmile/lastmile/approvers"
	"github.com/lastmile/lastmile/sandbox"
)

// DefaultAddr is where lastmile review listens unless told otherwise.
const DefaultAddr = "localhost:8766"

// SessionTTL is how long a sign-in lasts.
const SessionTTL = 30 * time.Minute

// ceremonyTTL is how long a passkey prompt may stay open.
const ceremonyTTL = 5 * time.Minute

// Options configures the review app.
type Options struct {
	Sandbox   *sandbox.Sandbox
	Approvers *approvers.Store
	// Origin is the origin people open, e.g. http://localhost:8766, or the
	// https origin of a TLS proxy in front of it. Its host is the WebAuthn
	// relying-party id, so it must be a domain name, not an IP address.
	Origin string
	Log    *slog.Logger
	Now    func() time.Time
}

// Server is the review app.
type Server struct {
	sb     *sandbox.Sandbox
	appr   *approvers.Store
	origin *url.URL
	wa     *webauthn.WebAuthn
	log    *slog.Logger
	now    func() time.Time

	mu         sync.Mutex
	sessions   map[string]*session   // by session id (the cookie)
	ceremonies map[string]*ceremony  // by ceremony id
	enrolling  map[string]*ceremony  // by enrolment token
	cache      map[string]*planCache // rendered plan data, by plan id
}

// session is a signed-in approver.
type session struct {
	email   string
	csrf    string
	preview string // what the session's preview frames carry instead of its cookie
	expires time.Time
}

// New returns the review app.
func New(o Options) (*Server, error) {
	u, err := url.Parse(o.Origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("the review origin %q must be an http or https origin such as http://localhost:8766", o.Origin)
	}
	host := u.Hostname()
	if net.ParseIP(host) != nil {
		return nil, fmt.Errorf("the review origin %q names an IP address; passkeys need a domain name as their relying party: use http://localhost:%s", o.Origin, u.Port())
	}
	if u.Scheme == "http" && host != "localhost" {
		return nil, fmt.Errorf("the review origin %q is plain http on a host other than localhost; browsers allow passkeys only on https or localhost: serve it behind TLS and give the https origin", o.Origin)
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          host,
		RPDisplayName: "lastmile review",
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
	})
	if err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Server{sb: o.Sandbox, appr: o.Approvers, origin: u, wa: wa, log: o.Log, now: o.Now,
		sessions: map[string]*session{}, ceremonies: map[string]*ceremony{}, enrolling: map[string]*ceremony{}, cache: map[string]*planCache{}}, nil
}

// Origin is the origin the app is served at.
func (s *Server) Origin() string { return s.origin.Scheme + "://" + s.origin.Host }

// PlanURL is the stable address of a plan's page.
func (s *Server) PlanURL(planID string) string {
	return s.Origin() + "/plans/" + url.PathEscape(planID)
}

// EnrolURL is the address of an enrolment link.
func (s *Server) EnrolURL(token string) string { return s.Origin() + "/enrol/" + url.PathEscape(token) }

// Handler serves the app.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.signedIn(s.plansPage))
	mux.HandleFunc("GET /plans/{id}", s.signedIn(s.planPage))
	mux.HandleFunc("GET /report", s.signedIn(s.reportPage))
	// Previews carry their own token: a sandboxed frame has an opaque
	// origin, so the browser sends it no SameSite=Strict cookie.
	mux.HandleFunc("GET /plans/{id}/preview/{artifact}", s.preview)
	mux.HandleFunc("POST /plans/{id}/{action}/begin", s.signedInPost(s.decisionBegin))
	mux.HandleFunc("POST /plans/{id}/{action}/finish", s.signedInPost(s.decisionFinish))
	mux.HandleFunc("POST /invitations/{key}/confirm/begin", s.signedInPost(s.confirmBegin))
	mux.HandleFunc("POST /invitations/{key}/confirm/finish", s.signedInPost(s.confirmFinish))
	mux.HandleFunc("GET /signin", s.signinPage)
	mux.HandleFunc("POST /signin/begin", s.post(s.signinBegin))
	mux.HandleFunc("POST /signin/finish", s.post(s.signinFinish))
	mux.HandleFunc("POST /signout", s.signedInPost(s.signout))
	mux.HandleFunc("GET /enrol/{token}", s.enrolPage)
	mux.HandleFunc("POST /enrol/{token}/begin", s.post(s.enrolBegin))
	mux.HandleFunc("POST /enrol/{token}/finish", s.post(s.enrolFinish))
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(staticFS())))
	return s.guard(mux)
}

// guard refuses requests for any other host (DNS rebinding: a page on
// another site resolving its name to 127.0.0.1) and sets the headers every
// answer carries.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if s.origin.Scheme == "https" {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		// The app's pages: its own script and style, frames only from
		// itself (the previews), and no site may frame it.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		if !strings.EqualFold(r.Host, s.origin.Host) {
			http.Error(w, "This is the lastmile review page; open it at "+s.Origin()+".", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// post refuses a POST from anywhere but the app's own pages.
func (s *Server) post(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != s.Origin() {
			s.refuse(w, r, http.StatusForbidden, "refused: this request did not come from the review page ("+s.Origin()+")")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		fn(w, r)
	}
}

type sessionKey struct{}

// signedIn sends a visitor without a session to sign in.
func (s *Server) signedIn(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss := s.session(r)
		if ss == nil {
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
			return
		}
		fn(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, ss)))
	}
}

// signedInPost also needs the session's CSRF token.
func (s *Server) signedInPost(fn http.HandlerFunc) http.HandlerFunc {
	return s.post(func(w http.ResponseWriter, r *http.Request) {
		ss := s.session(r)
		if ss == nil {
			s.refuse(w, r, http.StatusUnauthorized, "refused: sign in with your passkey first")
			return
		}
		tok := r.Header.Get("X-CSRF-Token")
		if tok == "" {
			tok = r.PostFormValue("csrf")
		}
		if subtle.ConstantTimeCompare([]byte(tok), []byte(ss.csrf)) != 1 {
			s.refuse(w, r, http.StatusForbidden, "refused: the request carries no valid CSRF token; reload the page")
			return
		}
		fn(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, ss)))
	})
}

// previewSession is the live session whose preview token the request
// carries.
func (s *Server) previewSession(r *http.Request) *session {
	tok := r.URL.Query().Get("p")
	if tok == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.sessions {
		if subtle.ConstantTimeCompare([]byte(ss.preview), []byte(tok)) == 1 && s.now().Before(ss.expires) {
			return ss
		}
	}
	return nil
}

func sessionOf(r *http.Request) *session {
	ss, _ := r.Context().Value(sessionKey{}).(*session)
	return ss
}

const sessionCookie = "lm_session"

func (s *Server) session(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[c.Value]
	if ss == nil || !s.now().Before(ss.expires) {
		delete(s.sessions, c.Value)
		return nil
	}
	return ss
}

// startSession signs an approver in.
func (s *Server) startSession(w http.ResponseWriter, email string) {
	id, csrf := randomToken(), randomToken()
	s.mu.Lock()
	for k, v := range s.sessions {
		if !s.now().Before(v.expires) {
			delete(s.sessions, k)
		}
	}
	s.sessions[id] = &session{email: email, csrf: csrf, preview: randomToken(), expires: s.now().Add(SessionTTL)}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.origin.Scheme == "https", MaxAge: int(SessionTTL / time.Second)})
}

func (s *Server) signout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.mu.Lock()
		delete(s.sessions, c.Value)
		s.mu.Unlock()
	}
	s.audit(r.Context(), sessionOf(r).email, "review_signout", sessionOf(r).email, nil)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// refuse answers a refused request in plain text and audits it.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	actor := "review page visitor"
	if ss := s.session(r); ss != nil {
		actor = ss.email
	}
	s.audit(r.Context(), actor, "review_refused", r.URL.Path, map[string]any{"method": r.Method, "status": status, "reason": msg, "origin": r.Header.Get("Origin")})
	http.Error(w, msg, status)
}

func (s *Server) audit(ctx context.Context, actor, action, object string, detail map[string]any) {
	if err := s.sb.Record(ctx, sandbox.AuditEntry{Actor: actor, Action: action, Object: object, Detail: detail}); err != nil {
		s.log.Error("review: recording an audit entry", "action", action, "err", err)
	}
}

func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
