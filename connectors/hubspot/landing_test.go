package hubspot

import (
	"net/http"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/hubspot/hubspottest"
	"github.com/lastmile/lastmile/sandbox"
)

func TestLandWithin(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		opts []Option
		want map[sandbox.Kind]time.Duration
	}{
		{"defaults: 30s timeout and 30s lag", Config{}, []Option{WithHTTPClient(&http.Client{})},
			map[sandbox.Kind]time.Duration{sandbox.KindEmail: time.Minute, sandbox.KindWorkflow: time.Minute, sandbox.KindPage: time.Minute, sandbox.KindSegment: 0}},
		{"configured", Config{Timeout: 10 * time.Second, CommitLag: 5 * time.Second}, []Option{WithHTTPClient(&http.Client{})},
			map[sandbox.Kind]time.Duration{sandbox.KindEmail: 15 * time.Second, sandbox.KindSegment: 0}},
		{"the HTTP client's timeout is the request's", Config{CommitLag: time.Second}, nil, // fastOpts: a 2s client
			map[sandbox.Kind]time.Duration{sandbox.KindWorkflow: 3 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, hubspottest.Options{}, tt.cfg, tt.opts...)
			for k, want := range tt.want {
				if got := e.target.LandWithin(k); got != want {
					t.Errorf("LandWithin(%s) = %v, want %v", k, got, want)
				}
			}
		})
	}
}
