package hubspot

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/connectors/internal/secret"
	"github.com/lastmile/lastmile/sandbox"
)

// Everything a person or an agent could see — the connect prompt, debug
// logs, every error of failing and faulty calls — is searched for every
// credential involved.
func TestNoSecretsAnywhere(t *testing.T) {
	srv := hubspottest.New(t, hubspottest.Options{Window: 50 * time.Millisecond})
	dir := t.TempDir()
	logs := &logBuffer{}
	var prompt bytes.Buffer
	t.Setenv("LASTMILE_TEST_HUBSPOT_SECRET", srv.ClientSecret())
	if _, err := ConnectOAuth(ctx(), dir, "hubspot", srv.ClientID(), "LASTMILE_TEST_HUBSPOT_SECRET", oauthOpts(t, srv, WithPrompt(&prompt))...); err != nil {
		t.Fatal(err)
	}
	var c credentials
	if err := secret.Load(dir, "hubspot", &c); err != nil {
		t.Fatal(err)
	}
	tgt, err := New("hubspot", dir, Config{},
		WithRetry(3, time.Millisecond, 5*time.Millisecond),
		WithHTTPClient(&http.Client{Timeout: 200 * time.Millisecond}),
		WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	keep := func(_ sandbox.LiveState, err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	seg := segmentObj("seg_1", "S", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("country", "eq", "DE")}}})
	// Faults of every kind, a validation error, a not-found, then a revoked token.
	for _, k := range []faketest.Kind{faketest.Fail, faketest.TimeoutAfterApply, faketest.DropAfterApply, faketest.RateLimit} {
		srv.Inject(faketest.Fault{Op: "lists.create", Kind: k, Times: 5})
		keep(tgt.Put(ctx(), seg, ""))
	}
	bad := segmentObj("seg_2", "Bad", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("x", "regex", "y")}}})
	keep(tgt.Put(ctx(), bad, ""))
	keep(tgt.Put(ctx(), emailObj("eml_1", "E", []string{"seg_1"}, map[string]string{"seg_1": "999"}), ""))
	keep(tgt.Send(ctx(), emailObj("eml_1", "E", nil, nil), sandbox.LiveState{ID: "424242"}, time.Time{}))
	srv.ExpireAccessTokens()
	srv.RevokeRefreshTokens()
	keep(tgt.Put(ctx(), seg, "1"))
	if len(errs) < 4 {
		t.Fatalf("only %d errors were produced", len(errs))
	}
	var sawAuth bool
	for _, err := range errs {
		sawAuth = sawAuth || errors.Is(err, sandbox.ErrAuth)
	}
	if !sawAuth {
		t.Error("the revoked token produced no auth error")
	}
	assertClean(t, logs.String()+prompt.String(), errs, c.AccessToken, c.RefreshToken, c.ClientSecret, srv.ClientSecret(), srv.PrivateAppToken())
	// And the credentials file is the only place they are, readable by the owner only.
	if strings.Contains(logs.String(), "Bearer") {
		t.Errorf("an Authorization header was logged:\n%s", logs.String())
	}
}

// Date-versioned paths (HubSpot's 2026-03 APIs) reach the same operations.
func TestDateVersionedPaths(t *testing.T) {
	cfg := Config{APIVersions: Versions{Emails: "2026-03", Lists: "2026-03", Pages: "2026-03"}}
	e := newEnv(t, hubspottest.Options{}, cfg)
	m := must[sandbox.LiveState](t, e)
	seg := m(e.target.Put(ctx(), segmentObj("seg_1", "S", sandbox.Segment{Group: sandbox.Group{Conditions: []sandbox.Condition{cond("country", "eq", "DE")}}}), ""))
	m(e.target.Put(ctx(), emailObj("eml_1", "E", []string{"seg_1"}, map[string]string{"seg_1": seg.ID}), ""))
	pg := m(e.target.Put(ctx(), pageObj("pg_1", "P", "p"), ""))
	if _, found, err := e.target.Live(ctx(), sandbox.KindPage, pg.ID); err != nil || !found {
		t.Fatalf("Live: %v %v", found, err)
	}
	if c := e.srv.Counts(); c["lists"] != 1 || c["emails"] != 1 || c["pages"] != 1 {
		t.Errorf("counts = %v", c)
	}
}
