package mailchimptest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
)

func post(ctx context.Context, s *Server, client *http.Client, path, body string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.BaseURL()+path, strings.NewReader(body))
	req.SetBasicAuth("x", s.APIKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return err
}

// A slow create commits after its delay although the client cancelled, and
// nothing sees it before; a late create commits only after the client's
// deadline and is never answered.
func TestSlowAndLateApply(t *testing.T) {
	for _, kind := range []faketest.Kind{faketest.SlowApply, faketest.LateApply} {
		t.Run(kind.String(), func(t *testing.T) {
			s := New(t, WithHangFor(5*time.Second))
			s.Inject(faketest.Fault{Op: "POST /campaigns", Kind: kind, Delay: 200 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			client := &http.Client{Timeout: 100 * time.Millisecond}
			go func() {
				for s.Applying() == 0 {
					time.Sleep(time.Millisecond)
				}
				if kind == faketest.SlowApply {
					cancel()
				}
			}()
			err := post(ctx, s, client, "/campaigns", `{"type":"regular","settings":{"title":"T [lm-eml_1]"}}`)
			cancel()
			if err == nil {
				t.Fatal("the client got an answer")
			}
			if s.Applying() != 1 || len(s.Campaigns()) != 0 {
				t.Fatalf("applying %d, %d campaigns: the create must not be visible before it commits", s.Applying(), len(s.Campaigns()))
			}
			status, _, body := do(t, s, call{method: "GET", path: "/campaigns", auth: "basic"})
			if status != 200 || body["total_items"].(float64) != 0 {
				t.Fatalf("list before the commit: %d %v", status, body)
			}
			for deadline := time.Now().Add(5 * time.Second); s.Applied() == 0; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the create never committed")
				}
			}
			if c := s.Campaigns(); len(c) != 1 || c[0].Settings.Title != "T [lm-eml_1]" || s.Applying() != 0 {
				t.Fatalf("after the commit: %+v", c)
			}
		})
	}
}
