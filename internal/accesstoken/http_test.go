package accesstoken_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/internal/accesstoken"
	"github.com/lastmile/lastmile/store"
)

func TestRequireBearer(t *testing.T) {
	ctx := context.Background()
	ts := accesstoken.New(store.NewMemory(), nil)
	good, _, err := ts.Create(ctx, "ci", []string{accesstoken.ScopeRead, accesstoken.ScopeStage}, "ada")
	if err != nil {
		t.Fatal(err)
	}
	revoked, _, err := ts.Create(ctx, "old", []string{accesstoken.ScopeRead}, "ada")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Revoke(ctx, "old", "ada"); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var seen *accesstoken.Principal
	var seenAuth []string
	h := accesstoken.RequireBearer(ts, log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = accesstoken.FromContext(r.Context())
		seenAuth = r.Header.Values("Authorization")
		io.WriteString(w, "served")
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()

	for _, c := range []struct {
		name    string
		headers []string
		status  int
		invalid bool
	}{
		{"no header", nil, 401, false},
		{"basic", []string{"Basic " + good}, 401, false},
		{"empty bearer", []string{"Bearer "}, 401, false},
		{"two headers", []string{"Bearer " + good, "Bearer " + good}, 401, false},
		{"not ours", []string{"Bearer eyJhbGciOi.x.y"}, 401, true},
		{"altered", []string{"Bearer " + good[:len(good)-2] + "zz"}, 401, true},
		{"revoked", []string{"Bearer " + revoked}, 401, true},
		{"valid", []string{"Bearer " + good}, 200, false},
		{"valid, scheme in lower case", []string{"bearer " + good}, 200, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			seen, seenAuth = nil, nil
			req, _ := http.NewRequest("POST", srv.URL+"/mcp", strings.NewReader("{}"))
			for _, v := range c.headers {
				req.Header.Add("Authorization", v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.status, body)
			}
			if c.status == 401 {
				want := `Bearer realm="lastmile"`
				if c.invalid {
					want += `, error="invalid_token"`
				}
				if got := res.Header.Get("WWW-Authenticate"); got != want {
					t.Errorf("WWW-Authenticate %q, want %q", got, want)
				}
				if seen != nil || strings.Contains(string(body), "served") {
					t.Error("an unauthenticated request was served")
				}
				if strings.Contains(string(body), "lm_") && strings.Contains(string(body), good) {
					t.Error("the 401 body echoes the token")
				}
				return
			}
			if seen == nil || seen.Name != "ci" || !seen.Has(accesstoken.ScopeStage) {
				t.Fatalf("principal %+v", seen)
			}
			if len(seenAuth) != 0 {
				t.Errorf("the handler behind still sees Authorization: %q", seenAuth)
			}
		})
	}
	out := logs.String()
	if !strings.Contains(out, "invalid access token") || !strings.Contains(out, "actor=token:ci") {
		t.Fatalf("the log does not say what happened:\n%s", out)
	}
	for _, secret := range []string{good, revoked, "eyJhbGciOi.x.y"} {
		for _, part := range []string{secret, strings.TrimPrefix(secret, accesstoken.Prefix), secret[len(secret)-12:]} {
			if strings.Contains(out, part) {
				t.Fatalf("the log holds a token:\n%s", out)
			}
		}
	}
}
