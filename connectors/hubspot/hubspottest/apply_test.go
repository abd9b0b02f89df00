package hubspottest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
)

// post sends a create with a client deadline and reports whether an answer
// came back before it.
func post(t *testing.T, s *Server, path string, body any, deadline time.Duration) (int, bool) {
	t.Helper()
	data, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+path, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+s.PrivateAppToken())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false
	}
	resp.Body.Close()
	return resp.StatusCode, true
}

// waitHeld waits for the fake to hold a write of op (Options.OnPending):
// the client may give up before the fake has even read its request, and
// Pending and Settle see only the writes held.
func waitHeld(t *testing.T, held <-chan string, op string) {
	t.Helper()
	select {
	case got := <-held:
		if got != op {
			t.Fatalf("OnPending saw %s, want %s", got, op)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s was held", op)
	}
}

func manualList(name string) map[string]any {
	return map[string]any{"name": name, "objectTypeId": "0-1", "processingType": "MANUAL"}
}

// visible reports what the read endpoints show of a list name: by name,
// search, and the fake's own view.
func visible(t *testing.T, s *Server, name string) (byName, searched bool) {
	t.Helper()
	c := &client{t: t, s: s, token: s.PrivateAppToken()}
	st, _, _ := c.do("GET", "/crm/v3/lists/object-type-id/0-1/name/"+name, nil)
	_, _, body := c.do("POST", "/crm/v3/lists/search", map[string]any{"query": name, "offset": 0, "count": 100, "additionalProperties": []string{}, "processingTypes": []string{"MANUAL", "DYNAMIC"}})
	var res struct {
		Total int `json:"total"`
	}
	_ = json.Unmarshal(body, &res)
	return st == http.StatusOK, res.Total > 0
}

func TestSlowApplyLandsAfterTheClientLeft(t *testing.T) {
	held := make(chan string, 4)
	s := New(t, Options{SlowApply: Apply{Delay: 150 * time.Millisecond}, OnPending: func(op string) { held <- op }})
	if _, answered := post(t, s, "/crm/v3/lists", manualList("Beta"), 20*time.Millisecond); answered {
		t.Fatal("the slow create answered before its commit")
	}
	waitHeld(t, held, "lists.create")
	if s.Pending() != 1 {
		t.Fatalf("Pending = %d, want 1", s.Pending())
	}
	if byName, searched := visible(t, s, "Beta"); byName || searched || len(s.Lists()) != 0 {
		t.Fatalf("the list is seen before it commits (by name %v, search %v)", byName, searched)
	}
	s.Settle()
	if byName, searched := visible(t, s, "Beta"); !byName || !searched {
		t.Fatalf("the list did not land after its client left (by name %v, search %v)", byName, searched)
	}
	// A client that waits gets the answer once the write commits.
	if st, answered := post(t, s, "/crm/v3/lists", manualList("Gamma"), 5*time.Second); !answered || st != http.StatusOK {
		t.Fatalf("a waiting client got %d (answered %v)", st, answered)
	}
}

// Two creates of one list name in flight: the uniqueness rule is checked
// when each commits, so the second to commit fails and one list lands.
func TestSlowApplyKeepsListNamesUnique(t *testing.T) {
	s := New(t, Options{SlowApply: Apply{Delay: 100 * time.Millisecond}})
	post(t, s, "/crm/v3/lists", manualList("Beta [lm-seg_1]"), 10*time.Millisecond) // abandoned, still landing
	st, answered := post(t, s, "/crm/v3/lists", manualList("Beta [lm-seg_1]"), 5*time.Second)
	s.Settle()
	if !answered || st != http.StatusBadRequest {
		t.Errorf("the second create got %d (answered %v), want 400 duplicate name", st, answered)
	}
	if n := len(s.Lists()); n != 1 {
		t.Errorf("%d lists, want 1", n)
	}
}

func TestLateApplyLandsAfterTheDeadline(t *testing.T) {
	held := make(chan string, 1)
	s := New(t, Options{LateApply: Apply{Delay: 50 * time.Millisecond, Ops: []string{"emails.create"}}, OnPending: func(op string) { held <- op }})
	body := map[string]any{"name": "Launch [lm-eml_1]", "subject": "Hi"}
	if _, answered := post(t, s, "/marketing/v3/emails", body, 30*time.Millisecond); answered {
		t.Fatal("a late-applying create answered")
	}
	waitHeld(t, held, "emails.create")
	if n := len(s.Emails()); n != 0 {
		t.Fatalf("%d emails right after the deadline, want 0", n)
	}
	c := &client{t: t, s: s, token: s.PrivateAppToken()}
	if _, _, body := c.do("GET", "/marketing/v3/emails", nil); bytes.Contains(body, []byte("lm-eml_1")) {
		t.Fatal("the listing shows the email before it commits")
	}
	s.Settle()
	if n := len(s.Emails()); n != 1 {
		t.Fatalf("%d emails after the late commit, want 1", n)
	}
	// Other operations are not held.
	if st, answered := post(t, s, "/crm/v3/lists", manualList("Beta"), time.Second); !answered || st != http.StatusOK {
		t.Errorf("a list create got %d (answered %v)", st, answered)
	}
}

func TestInjectedLateApplyIsUsedUp(t *testing.T) {
	s := New(t)
	s.Inject(faketest.Fault{Op: "flows.*", Kind: faketest.LateApply, Delay: 10 * time.Millisecond})
	c := &client{t: t, s: s, token: s.PrivateAppToken()}
	if st, _, _ := c.do("GET", "/automation/v4/flows", nil); st != http.StatusOK {
		t.Fatalf("a read under a late-apply fault got %d", st)
	}
	if s.PendingFaults() != 1 {
		t.Fatalf("a read used up the write fault")
	}
	post(t, s, "/crm/v3/lists", manualList("Beta"), time.Second)
	if s.PendingFaults() != 1 {
		t.Fatalf("another operation used up the fault")
	}
}
