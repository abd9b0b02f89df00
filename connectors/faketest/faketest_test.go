package faketest

import (
	"testing"
	"time"
)

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"", "emails.create", true},
		{"*", "POST /campaigns", true},
		{"emails.create", "emails.create", true},
		{"emails.create", "emails.update", false},
		{"lists.*", "lists.members.add", true},
		{"lists.*", "flows.create", false},
		{"POST *", "POST /campaigns/{campaign_id}/actions/send", true},
		{"POST *", "GET /campaigns", false},
	} {
		if got := Match(tc.pattern, tc.name); got != tc.want {
			t.Errorf("Match(%q, %q) = %v", tc.pattern, tc.name, got)
		}
	}
}

func TestQueue(t *testing.T) {
	var q Queue
	q.Inject(Fault{Op: "emails.create", Kind: Fail, Skip: 1, Times: 2})
	q.Inject(Fault{Op: "*", Kind: RateLimit})
	// The first matching call passes the skipping fault by, and the next
	// fault in the queue hits it.
	if f, ok := q.Take("emails.create", true); !ok || f.Kind != RateLimit {
		t.Fatalf("first call: %v %v", f, ok)
	}
	if q.Pending() != 2 {
		t.Errorf("pending %d, want 2", q.Pending())
	}
	for i := range 2 {
		if f, ok := q.Take("emails.create", true); !ok || f.Kind != Fail {
			t.Fatalf("call %d: %v %v", i+2, f, ok)
		}
	}
	if _, ok := q.Take("emails.create", true); ok || q.Pending() != 0 {
		t.Errorf("the faults were not used up: pending %d", q.Pending())
	}
}

func TestDeferredHitsWritesOnly(t *testing.T) {
	var q Queue
	q.Inject(Fault{Op: "lists.*", Kind: LateApply, Skip: 1})
	if _, ok := q.Take("lists.get", false); ok {
		t.Error("a late apply hit a read")
	}
	if _, ok := q.Take("lists.create", true); ok {
		t.Error("the read was counted against Skip")
	}
	if f, ok := q.Take("lists.create", true); !ok || f.Wait() != DefaultDelay {
		t.Errorf("the second write: %v %v", f, ok)
	}
}

func TestStanding(t *testing.T) {
	var q Queue
	q.Inject(Fault{Op: "pages.list", Kind: DropBeforeApply, Times: -1})
	for range 5 {
		if _, ok := q.Take("pages.list", false); !ok {
			t.Fatal("a fault that is never used up was used up")
		}
	}
	if q.Pending() != 1 {
		t.Errorf("pending %d", q.Pending())
	}
}

func TestFieldDefaults(t *testing.T) {
	f := Fault{Kind: Fail}
	if f.StatusOr(500) != 500 || (Fault{Status: 503}).StatusOr(500) != 503 {
		t.Error("StatusOr")
	}
	if f.RetryAfterSeconds() != "" || (Fault{RetryAfter: 1500 * time.Millisecond}).RetryAfterSeconds() != "2" {
		t.Error("RetryAfterSeconds")
	}
	if !(Fault{Kind: SlowApply}).Deferred() || (Fault{Kind: Latency}).Deferred() {
		t.Error("Deferred")
	}
}
