package rest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// The sandbox classifies a failed promotion step by the status and wait
// this package's errors carry, found through the wrapping connectors add.
func TestErrorsCarryStatusAndRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		status int
		header string
		want   time.Duration
	}{
		{http.StatusTooManyRequests, "7", 7 * time.Second},
		{http.StatusServiceUnavailable, "3", 3 * time.Second},
		{http.StatusBadRequest, "", 0},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tc.header != "" {
				w.Header().Set("Retry-After", tc.header)
			}
			w.WriteHeader(tc.status)
		}))
		c := &Client{BaseURL: srv.URL, MaxAttempts: 2, Sleep: func(context.Context, time.Duration) error { return nil }}
		_, err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/x", Body: map[string]string{}})
		srv.Close()
		var hs sandbox.HTTPStatuser
		var ra sandbox.RetryAfterer
		if !errors.As(err, &hs) || hs.HTTPStatus() != tc.status {
			t.Errorf("HTTP %d: no status in %v", tc.status, err)
		}
		if !errors.As(err, &ra) || ra.RetryAfter() != tc.want {
			t.Errorf("HTTP %d: retry after %v, want %v (%v)", tc.status, ra, tc.want, err)
		}
	}
}
