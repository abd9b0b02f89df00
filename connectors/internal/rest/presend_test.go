package rest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

type stopLimiter struct {
	waitErr error
	observe time.Duration
}

func (l *stopLimiter) Wait(ctx context.Context) error                         { return l.waitErr }
func (l *stopLimiter) Observe(resp *http.Response, body []byte) time.Duration { return l.observe }

// Errors raised before a request is sent (limiter, Authorize) and 429s the
// limiter marks final are returned as they are: not retried, not ambiguous.
func TestErrorsBeforeSendingAreFinal(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	sentinel := errors.New("quota spent")
	noSleep := func(context.Context, time.Duration) error { return nil }
	tests := []struct {
		name     string
		client   *Client
		wantHits int32
		wantIs   error
	}{
		{"limiter wait fails", &Client{BaseURL: srv.URL, Limiter: &stopLimiter{waitErr: sentinel}, Sleep: noSleep}, 0, sentinel},
		{"authorize fails", &Client{BaseURL: srv.URL, Authorize: func(context.Context, *http.Request) error { return sentinel }, Sleep: noSleep}, 0, sentinel},
		{"429 marked final", &Client{BaseURL: srv.URL, Limiter: &stopLimiter{observe: -1}, Sleep: noSleep}, 1, nil},
		{"429 retried by default", &Client{BaseURL: srv.URL, Limiter: &stopLimiter{}, MaxAttempts: 3, Sleep: noSleep}, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			_, err := tt.client.Do(context.Background(), Request{Method: http.MethodPost, Path: "/x", Body: map[string]string{"a": "b"}})
			if err == nil {
				t.Fatal("want an error")
			}
			if errors.Is(err, ErrAmbiguous) {
				t.Errorf("error marked ambiguous: %v", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v does not wrap %v", err, tt.wantIs)
			}
			if got := hits.Load(); got != tt.wantHits {
				t.Errorf("server hit %d times, want %d", got, tt.wantHits)
			}
			var he *HTTPError
			if tt.wantIs == nil && (!errors.As(err, &he) || he.Status != http.StatusTooManyRequests) {
				t.Errorf("want a *HTTPError with status 429, got %v", err)
			}
		})
	}
}
