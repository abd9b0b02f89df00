// Package oauthflow is the OAuth 2 authorization-code sign-in the platform
// connectors share: a person approves lastmile in their browser, the
// platform redirects to a listener on the loopback interface (RFC 8252
// §7.3), and the code is exchanged for a token. The state parameter ties the
// redirect to this sign-in, and PKCE (RFC 7636, S256) can bind the code to
// this process as well.
package oauthflow

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// Flow is one sign-in. Platform, Config (client and endpoints), ListenAddr
// and CallbackPath are required; the rest have defaults.
type Flow struct {
	// Platform names the service in what the person reads ("HubSpot").
	Platform string
	// Config holds the client credentials, endpoints and scopes. Run sets
	// its RedirectURL.
	Config oauth2.Config
	// ListenAddr is the loopback host:port the redirect comes back to.
	// "localhost" listens on 127.0.0.1 and keeps the name in the redirect
	// URL (some platforms register redirect URLs by name); port 0 picks a
	// free port.
	ListenAddr string
	// CallbackPath is the path of the redirect URL ("/oauth-callback").
	CallbackPath string
	// PKCE sends an S256 code challenge and, with the exchange, its verifier.
	PKCE bool
	// AuthParams are extra parameters of the authorization URL.
	AuthParams []oauth2.AuthCodeOption
	// Prompt receives the lines the person reads: the address to open and
	// what happens next. Never the protocol's stdout. Default: nowhere.
	Prompt io.Writer
	// OpenBrowser opens the authorization URL; nil only prints it.
	OpenBrowser func(url string) error
	// Wait bounds how long Run waits for the person (default 5 minutes).
	Wait time.Duration
	// HTTPClient makes the code exchange (default: a 30-second timeout).
	HTTPClient *http.Client
}

// DefaultWait is how long a sign-in waits for the person by default.
const DefaultWait = 5 * time.Minute

var (
	// ErrStateMismatch: the redirect carried another sign-in's state (or a
	// forged one), so its code is not used.
	ErrStateMismatch = errors.New("the authorization answer does not belong to this sign-in (state mismatch)")
	// ErrNoCode: the redirect carried neither a code nor an error.
	ErrNoCode = errors.New("the redirect carried no authorization code")
	// ErrTimeout: nobody approved within Flow.Wait.
	ErrTimeout = errors.New("no authorization arrived in time")
)

// DeniedError is the platform's refusal, sent back on the redirect
// (RFC 6749 §4.1.2.1): the person declined, or the request was invalid.
type DeniedError struct {
	Platform    string
	Code        string // error: access_denied, invalid_scope, …
	Description string // error_description, when given
}

func (e *DeniedError) Error() string {
	msg := e.Platform + " did not authorize lastmile: " + e.Code
	if e.Description != "" {
		msg += " " + e.Description
	}
	return msg
}

// ExchangeError is a failed exchange of the code for a token. Err is the
// oauth2 package's error (an *oauth2.RetrieveError when the token endpoint
// answered), for the connector to explain in its platform's terms.
type ExchangeError struct{ Err error }

func (e *ExchangeError) Error() string { return e.Err.Error() }
func (e *ExchangeError) Unwrap() error { return e.Err }

// Run listens for the redirect, shows the authorization URL (and opens it),
// waits for the person, checks the state and exchanges the code. Nothing
// secret is printed: the URL carries the client id, the state and the
// challenge only.
func (f Flow) Run(ctx context.Context) (*oauth2.Token, error) {
	ln, redirect, err := f.listen()
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	cfg := f.Config
	cfg.RedirectURL = redirect
	state := rand.Text()
	opts := append([]oauth2.AuthCodeOption(nil), f.AuthParams...)
	var verifier string
	if f.PKCE {
		verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	authURL := cfg.AuthCodeURL(state, opts...)

	got := make(chan result, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+f.CallbackPath, f.callback(state, got))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	// The handler hands over the result before its page is sent: let the
	// browser's page finish (Close would cut it off), but not for long.
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()

	prompt := f.Prompt
	if prompt == nil {
		prompt = io.Discard
	}
	fmt.Fprintf(prompt, "Open this address in your browser to connect %s to lastmile, and approve it there:\n\n  %s\n\nWaiting for %s to send you back to %s …\n", f.Platform, authURL, f.Platform, redirect)
	if f.OpenBrowser != nil {
		if err := f.OpenBrowser(authURL); err != nil {
			fmt.Fprintf(prompt, "(could not open a browser: %v; open the address yourself)\n", err)
		}
	}
	wait := f.Wait
	if wait <= 0 {
		wait = DefaultWait
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var res result
	select {
	case res = <-got:
	case <-timer.C:
		return nil, fmt.Errorf("%w: %s did not send you back within %s", ErrTimeout, f.Platform, wait)
	case <-ctx.Done():
		return nil, fmt.Errorf("no authorization arrived: %w", ctx.Err())
	}
	if res.err != nil {
		return nil, res.err
	}
	hc := f.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	var xopts []oauth2.AuthCodeOption
	if f.PKCE {
		xopts = append(xopts, oauth2.VerifierOption(verifier))
	}
	tok, err := cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, hc), res.code, xopts...)
	if err != nil {
		return nil, &ExchangeError{Err: err}
	}
	return tok, nil
}

type result struct {
	code string
	err  error
}

// listen opens the loopback listener and returns the redirect URL that
// leads to it.
func (f Flow) listen() (net.Listener, string, error) {
	host, port, err := net.SplitHostPort(f.ListenAddr)
	if err != nil {
		return nil, "", fmt.Errorf("the redirect address %q is not host:port: %w", f.ListenAddr, err)
	}
	addr := f.ListenAddr
	if host == "localhost" {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("cannot listen for the redirect on %s (is another connect running?): %w", addr, err)
	}
	tcp, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !tcp.IP.IsLoopback() {
		ln.Close()
		return nil, "", fmt.Errorf("the redirect must listen on the loopback interface, not %s", ln.Addr())
	}
	return ln, "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port)) + f.CallbackPath, nil
}

// callback takes the first redirect that arrives and shows the person how
// it went.
func (f Flow) callback(state string, got chan<- result) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var res result
		switch {
		case q.Get("state") != state:
			res.err = ErrStateMismatch
		case q.Get("error") != "":
			res.err = &DeniedError{Platform: f.Platform, Code: q.Get("error"), Description: q.Get("error_description")}
		case q.Get("code") == "":
			res.err = ErrNoCode
		default:
			res.code = q.Get("code")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if res.err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<!doctype html><title>lastmile</title><p>Connecting %s failed: %s</p>", html.EscapeString(f.Platform), html.EscapeString(res.err.Error()))
		} else {
			fmt.Fprintf(w, "<!doctype html><title>lastmile</title><p>%s is connected to lastmile. You can close this window.</p>", html.EscapeString(f.Platform))
		}
		select {
		case got <- res:
		default: // a later redirect: the first one decided
		}
	}
}
