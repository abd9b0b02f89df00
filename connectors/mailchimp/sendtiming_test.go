package mailchimp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/mailchimp"
	"github.com/lastmile/lastmile/connectors/mailchimp/mailchimptest"
	"github.com/lastmile/lastmile/sandbox"
)

// recipient_time_zone is a Timewarp send at send_at's clock time as
// written; a window is the schedule_time moved into it; the 24-hour rule
// and a window the quarter hour leaves are plan-time problems.
func TestTimewarpAndWindows(t *testing.T) {
	now := time.Date(2030, 5, 1, 8, 0, 0, 0, time.UTC) // a Wednesday
	e := newEnv(t, []mailchimptest.Option{mailchimptest.WithClock(func() time.Time { return now })},
		mailchimp.WithClock(func() time.Time { return now }))
	ctx := context.Background()

	at, _ := time.Parse(time.RFC3339, "2030-05-03T09:00:00+02:00")
	obj := emailObj("eml_1", func(m *sandbox.Email) { m.SendAt, m.RecipientTimeZone = &at, true })
	a, err := e.tgt.Assess(ctx, obj)
	if e.record(err) != nil || len(a.Problems) != 0 {
		t.Fatalf("assess: %+v %v", a, err)
	}
	if a.FirstSend == nil || !a.FirstSend.Equal(time.Date(2030, 5, 2, 19, 0, 0, 0, time.UTC)) || !a.LastSend.Equal(time.Date(2030, 5, 3, 21, 0, 0, 0, time.UTC)) || !contains(a.Notes, "Timewarp") {
		t.Errorf("first/last %v/%v, notes %q", a.FirstSend, a.LastSend, a.Notes)
	}
	st := e.put(obj, "")
	if sched, err := e.tgt.Send(ctx, obj, st, *a.FirstSend); e.record(err) != nil || sched.Status != "schedule" {
		t.Fatalf("schedule: %+v %v", sched, err)
	}
	c, _ := e.srv.Campaign(st.ID)
	if !c.Timewarp || !c.SendTime.Equal(time.Date(2030, 5, 3, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("scheduled timewarp=%v for %v, want Timewarp at 09:00 (written as UTC)", c.Timewarp, c.SendTime)
	}

	soon := now.Add(20 * time.Hour)
	a, err = e.tgt.Assess(ctx, emailObj("eml_2", func(m *sandbox.Email) { m.SendAt, m.RecipientTimeZone = &soon, true }))
	if err != nil || !contains(a.Problems, "more than 24 hours ahead") {
		t.Errorf("Timewarp under 24 hours: %+v %v", a, err)
	}

	// Friday 18:00 Berlin, outside a 09:00–17:00 weekday window: Monday 09:00.
	fri := time.Date(2030, 5, 3, 16, 0, 0, 0, time.UTC)
	win := emailObj("eml_3", func(m *sandbox.Email) {
		m.SendAt = &fri
		m.SendWindow = &sandbox.SendWindow{Start: "09:00", End: "17:00", Days: []string{"mon", "tue", "wed", "thu", "fri"}, TimeZone: "Europe/Berlin"}
	})
	a, err = e.tgt.Assess(ctx, win)
	mon := time.Date(2030, 5, 6, 7, 0, 0, 0, time.UTC)
	if e.record(err) != nil || len(a.Problems) != 0 || a.FirstSend == nil || !a.FirstSend.Equal(mon) {
		t.Fatalf("window: %+v %v", a, err)
	}
	st = e.put(win, "")
	if _, err := e.tgt.Send(ctx, win, st, mon); e.record(err) != nil {
		t.Fatal(err)
	}
	if c, _ := e.srv.Campaign(st.ID); c.Timewarp || !c.SendTime.Equal(mon) {
		t.Errorf("window: timewarp=%v at %v, want %v", c.Timewarp, c.SendTime, mon)
	}

	odd := emailObj("eml_4", func(m *sandbox.Email) {
		m.SendAt = &fri
		m.SendWindow = &sandbox.SendWindow{Start: "09:00", End: "16:10", TimeZone: "UTC"}
	})
	fri16 := time.Date(2030, 5, 3, 16, 5, 0, 0, time.UTC)
	odd.Email.SendAt = &fri16
	if a, err := e.tgt.Assess(ctx, odd); err != nil || !contains(a.Problems, "outside it") {
		t.Errorf("a window the quarter hour leaves: %+v %v", a, err)
	}
}

func TestFakeRefusesTimewarpUnder24Hours(t *testing.T) {
	now := time.Date(2030, 5, 1, 8, 0, 0, 0, time.UTC)
	e := newEnv(t, []mailchimptest.Option{mailchimptest.WithClock(func() time.Time { return now })},
		mailchimp.WithClock(func() time.Time { return now.Add(-48 * time.Hour) })) // a connector whose clock lags
	ctx := context.Background()
	at := now.Add(10 * time.Hour)
	obj := emailObj("eml_1", func(m *sandbox.Email) { m.SendAt, m.RecipientTimeZone = &at, true })
	st := e.put(obj, "")
	_, err := e.tgt.Send(ctx, obj, st, at.Add(-14*time.Hour))
	if err == nil || !strings.Contains(err.Error(), "24 hours") {
		t.Fatalf("err = %v, want the fake's 24-hour refusal", err)
	}
}
