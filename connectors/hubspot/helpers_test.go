package hubspot

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/sandbox"
)

// logBuffer captures slog output so tests can search it for secrets.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type env struct {
	srv    *hubspottest.Server
	target *Target
	dir    string
	logs   *logBuffer
	errs   []error // every error a test saw, for the secret search
}

// fastOpts keep tests quick: short backoff, a short rate window matching
// the fake's, request timeouts short enough for timeout faults.
func fastOpts(logs *logBuffer) []Option {
	return []Option{
		WithRetry(5, time.Millisecond, 20*time.Millisecond),
		WithHTTPClient(&http.Client{Timeout: 2 * time.Second}),
		WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}
}

// newEnv starts a fake and a target connected to it with a private-app
// token (through ConnectPrivateApp, so the probe runs).
func newEnv(t *testing.T, o hubspottest.Options, cfg Config, opts ...Option) *env {
	t.Helper()
	if o.Window == 0 {
		o.Window = time.Second
	}
	srv := hubspottest.New(t, o)
	e := &env{srv: srv, dir: t.TempDir(), logs: &logBuffer{}}
	envVar := "LASTMILE_TEST_HUBSPOT_TOKEN"
	t.Setenv(envVar, srv.PrivateAppToken())
	// One process, one portal: the probe and the target share its limits.
	limits := NewLimits()
	if _, err := ConnectPrivateApp(context.Background(), e.dir, "hubspot", envVar, WithBaseURL(srv.URL), WithConfig(cfg), WithLimits(limits)); err != nil {
		t.Fatalf("connect: %v", err)
	}
	cfg.BaseURL = ""
	tgt, err := New("hubspot", e.dir, cfg, append(append(fastOpts(e.logs), WithLimits(limits)), opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.target = tgt
	t.Cleanup(func() { e.assertNoSecrets(t) })
	return e
}

// note records an error for the secret search and returns it.
func (e *env) note(err error) error {
	if err != nil {
		e.errs = append(e.errs, err)
	}
	return err
}

func (e *env) assertNoSecrets(t *testing.T) {
	t.Helper()
	secrets := []string{e.srv.PrivateAppToken(), e.srv.ClientSecret()}
	hay := e.logs.String()
	for _, err := range e.errs {
		hay += "\n" + err.Error()
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(hay, s) {
			t.Errorf("a secret appears in the logs or errors:\n%s", hay)
		}
	}
}

func ctx() context.Context { return context.Background() }

func segmentObj(id, name string, seg sandbox.Segment) sandbox.Object {
	seg.Name = name
	return sandbox.Object{Kind: sandbox.KindSegment, ArtifactID: id, Revision: 1, Marker: "lm-" + id, Segment: &seg, Refs: map[string]string{}}
}

func emailObj(id, name string, include []string, refs map[string]string) sandbox.Object {
	return sandbox.Object{Kind: sandbox.KindEmail, ArtifactID: id, Revision: 1, Marker: "lm-" + id, Refs: refs,
		Email: &sandbox.Email{
			Name: name, Subject: "Hello {{ contact.firstname | default: \"there\" }}", PreviewText: "Spring is here",
			FromName: "Acme", FromEmail: "news@acme.test", ReplyTo: "help@acme.test",
			HTML:     `<html><body><p>Hi {{ contact.firstname | default: "friend" }}</p><a href="{{ unsubscribe_url }}">Unsubscribe</a></body></html>`,
			Text:     "Hi {{ contact.firstname }}\nUnsubscribe: {{ unsubscribe_url }}",
			Audience: sandbox.Audience{Include: include},
		}}
}

func pageObj(id, title, slug string) sandbox.Object {
	return sandbox.Object{Kind: sandbox.KindPage, ArtifactID: id, Revision: 1, Marker: "lm-" + id,
		Page: &sandbox.Page{Title: title, Slug: slug, HTML: "<html><body><h1>" + title + "</h1></body></html>", Body: "<h1>" + title + "</h1>", MetaDescription: "About " + title}}
}

func flowObj(id, name string, wf sandbox.Workflow, refs map[string]string, segments map[string]*sandbox.Segment) sandbox.Object {
	wf.Name = name
	return sandbox.Object{Kind: sandbox.KindWorkflow, ArtifactID: id, Revision: 1, Marker: "lm-" + id, Workflow: &wf, Refs: refs, Segments: segments}
}

func must[T any](t *testing.T, e *env) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			e.note(err)
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}
