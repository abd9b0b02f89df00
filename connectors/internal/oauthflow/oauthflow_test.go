package oauthflow

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// authServer is an authorization server: /authorize approves at once (or
// refuses with deny) and redirects; /token checks the code, the redirect
// URI and, when a challenge was sent, the PKCE verifier.
type authServer struct {
	*httptest.Server
	deny string // error= on the redirect instead of a code

	mu        sync.Mutex
	challenge string
	redirect  string
	exchanges int
}

func newAuthServer(t *testing.T) *authServer {
	s := &authServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s.mu.Lock()
		s.challenge, s.redirect = q.Get("code_challenge"), q.Get("redirect_uri")
		s.mu.Unlock()
		back := url.Values{"state": {q.Get("state")}}
		if s.deny != "" {
			back.Set("error", s.deny)
			back.Set("error_description", "the person said no")
		} else {
			back.Set("code", "the-code")
		}
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.exchanges++
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case r.PostForm.Get("client_secret") != "secret":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
			return
		case r.PostForm.Get("code") != "the-code", r.PostForm.Get("redirect_uri") != s.redirect,
			s.challenge != "" && base64.RawURLEncoding.EncodeToString(sum[:]) != s.challenge:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "tok", "token_type": "bearer", "expires_in": 1800, "refresh_token": "ref"})
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *authServer) flow(prompt io.Writer) Flow {
	return Flow{
		Platform: "Example",
		Config: oauth2.Config{ClientID: "client", ClientSecret: "secret", Scopes: []string{"read"},
			Endpoint: oauth2.Endpoint{AuthURL: s.URL + "/authorize", TokenURL: s.URL + "/token", AuthStyle: oauth2.AuthStyleInParams}},
		ListenAddr:   "127.0.0.1:0",
		CallbackPath: "/callback",
		Prompt:       prompt,
		OpenBrowser:  follow,
		Wait:         10 * time.Second,
	}
}

// follow is the person's browser: it opens the address and follows the
// redirect back to the loopback listener.
func follow(u string) error {
	go func() {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
		}
	}()
	return nil
}

func TestSignInWithPKCE(t *testing.T) {
	srv := newAuthServer(t)
	var prompt bytes.Buffer
	f := srv.flow(&prompt)
	f.PKCE = true
	f.ListenAddr = "localhost:0"
	f.AuthParams = []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("optional_scope", "write")}
	tok, err := f.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "tok" || tok.RefreshToken != "ref" {
		t.Errorf("token %+v", tok)
	}
	out := prompt.String()
	for _, want := range []string{"code_challenge_method=S256", "optional_scope=write", "redirect_uri=http%3A%2F%2Flocalhost%3A", "Waiting for Example"} {
		if !strings.Contains(out, want) {
			t.Errorf("the prompt lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret") {
		t.Errorf("the client secret is in the prompt:\n%s", out)
	}
	if srv.challenge == "" || !strings.HasPrefix(srv.redirect, "http://localhost:") {
		t.Errorf("challenge %q, redirect %q", srv.challenge, srv.redirect)
	}
}

func TestSignInWithoutPKCE(t *testing.T) {
	srv := newAuthServer(t)
	tok, err := srv.flow(nil).Run(context.Background())
	if err != nil || tok.AccessToken != "tok" {
		t.Fatalf("%v %v", tok, err)
	}
	if srv.challenge != "" || !strings.HasPrefix(srv.redirect, "http://127.0.0.1:") {
		t.Errorf("challenge %q, redirect %q", srv.challenge, srv.redirect)
	}
}

func TestRefusals(t *testing.T) {
	t.Run("denied", func(t *testing.T) {
		srv := newAuthServer(t)
		srv.deny = "access_denied"
		_, err := srv.flow(nil).Run(context.Background())
		var de *DeniedError
		if !errors.As(err, &de) || de.Code != "access_denied" || !strings.Contains(err.Error(), "the person said no") {
			t.Errorf("err %v", err)
		}
		if srv.exchanges != 0 {
			t.Error("a refused sign-in exchanged a code")
		}
	})
	t.Run("wrong state", func(t *testing.T) {
		srv := newAuthServer(t)
		f := srv.flow(nil)
		status := make(chan int, 1)
		// A redirect that did not come from this sign-in's authorization URL.
		f.OpenBrowser = func(u string) error {
			au, _ := url.Parse(u)
			redirect := au.Query().Get("redirect_uri")
			go func() {
				resp, err := http.Get(redirect + "?code=the-code&state=forged")
				if err == nil {
					resp.Body.Close()
					status <- resp.StatusCode
				}
			}()
			return nil
		}
		_, err := f.Run(context.Background())
		if !errors.Is(err, ErrStateMismatch) {
			t.Errorf("err %v", err)
		}
		if st := <-status; st != http.StatusBadRequest {
			t.Errorf("the browser saw HTTP %d", st)
		}
		if srv.exchanges != 0 {
			t.Error("a forged redirect's code was exchanged")
		}
	})
	t.Run("exchange refused", func(t *testing.T) {
		srv := newAuthServer(t)
		f := srv.flow(nil)
		f.Config.ClientSecret = "wrong"
		_, err := f.Run(context.Background())
		var xe *ExchangeError
		var re *oauth2.RetrieveError
		if !errors.As(err, &xe) || !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
			t.Errorf("err %v", err)
		}
	})
}

func TestWaits(t *testing.T) {
	srv := newAuthServer(t)
	f := srv.flow(nil)
	f.OpenBrowser = nil
	f.Wait = 50 * time.Millisecond
	if _, err := f.Run(context.Background()); !errors.Is(err, ErrTimeout) {
		t.Errorf("nobody approved: %v", err)
	}
	f.Wait = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := f.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the caller gave up: %v", err)
	}
}

func TestLoopbackOnly(t *testing.T) {
	srv := newAuthServer(t)
	f := srv.flow(nil)
	f.ListenAddr = "0.0.0.0:0"
	if _, err := f.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("listening on every interface: %v", err)
	}
	f.ListenAddr = "8977"
	if _, err := f.Run(context.Background()); err == nil {
		t.Error("an address without a host was accepted")
	}
}

func TestBrowserThatCannotOpen(t *testing.T) {
	srv := newAuthServer(t)
	var prompt bytes.Buffer
	f := srv.flow(&prompt)
	f.OpenBrowser = func(u string) error {
		_ = follow(u) // the person opens it by hand
		return errors.New("no display")
	}
	if _, err := f.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(prompt.String(), "could not open a browser: no display") {
		t.Errorf("prompt:\n%s", prompt.String())
	}
}
