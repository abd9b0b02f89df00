package sandbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// spreadCampaign stages, on local, an email to three contacts sent at
// 09:00 in each one's time zone within a weekday window.
func spreadCampaign(t *testing.T, e *env) (cid, eid string) {
	t.Helper()
	ctx := context.Background()
	c, err := e.sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "Zones", Markets: []string{"US"}})
	if err != nil {
		t.Fatal(err)
	}
	seg, err := e.sb.StageSegment(ctx, "test", sandbox.SegmentInput{CampaignID: c.ID, Name: "Everyone", StaticEmails: []string{"ada@x.com", "bob@x.com", "cy@x.com"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.sb.StageEmail(ctx, "test", sandbox.EmailInput{CampaignID: c.ID, Name: "Hi", Subject: "Hi", FromName: "Acme", FromEmail: "news@acme.com",
		HTML: "<html><body><p>Hi</p></body></html>", Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}},
		SendAt: "2027-03-02T09:00:00+01:00", RecipientTimeZone: true, // a Tuesday
		SendWindow: &sandbox.SendWindow{Start: "09:00", End: "17:00", Days: []string{"mon", "tue", "wed", "thu", "fri"}}})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID, r.Artifact.ID
}

func spreadEnv(t *testing.T) *env {
	dir := t.TempDir()
	contacts := "email,firstname,timezone\nada@x.com,Ada,Europe/Berlin\nbob@x.com,Bob,Asia/Tokyo\ncy@x.com,Cy,America/Los_Angeles\n"
	if err := os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte(contacts), 0o600); err != nil {
		t.Fatal(err)
	}
	return openEnv(t, dir, envOptions{})
}

func sendStep(t *testing.T, p *sandbox.Plan) sandbox.PlanStep {
	t.Helper()
	for _, st := range p.Steps {
		if st.Op == sandbox.OpSchedule {
			return st
		}
	}
	t.Fatalf("no schedule step in %+v", p.Steps)
	return sandbox.PlanStep{}
}

// The plan shows the first and last recipient's time; they are part of
// what is approved; a first time already passed is refused, not sent late.
func TestSpreadSendPlan(t *testing.T) {
	ctx := context.Background()
	t.Run("first and last, promoted and sent each at their time", func(t *testing.T) {
		e := spreadEnv(t)
		cid, eid := spreadCampaign(t, e)
		p := planAndApprove(t, e, cid)
		st := sendStep(t, p)
		first, last := time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 2, 17, 0, 0, 0, time.UTC)
		if st.FirstAt == nil || !st.FirstAt.Equal(first) || !st.LastAt.Equal(last) || !st.At.Equal(first) {
			t.Fatalf("at %v, first %v, last %v; want Tokyo's 09:00 %v and Los Angeles' %v", st.At, st.FirstAt, st.LastAt, first, last)
		}
		if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			at   time.Time
			want int
		}{{first.Add(-time.Minute), 0}, {first, 1}, {time.Date(2027, 3, 2, 8, 0, 0, 0, time.UTC), 1}, {last, 1}, {last.Add(time.Hour), 0}} {
			rep, err := e.local.Tick(ctx, c.at)
			if err != nil || rep.Sent != c.want {
				t.Fatalf("tick at %s: %+v %v, want %d sent", c.at, rep, err, c.want)
			}
		}
		if files, _ := os.ReadDir(filepath.Join(e.dir, "outbox", eid)); len(files) != 3 {
			t.Fatalf("%d messages, want 3", len(files))
		}
	})
	t.Run("a recipient's zone changed after approval makes the plan stale", func(t *testing.T) {
		e := spreadEnv(t)
		cid, _ := spreadCampaign(t, e)
		p := planAndApprove(t, e, cid)
		editContacts(t, e, func(s string) string { return strings.Replace(s, "America/Los_Angeles", "Pacific/Honolulu", 1) })
		_, err := e.sb.Confirm(ctx, "agent", p.ID, nil)
		if refusalCode(err) != sandbox.RefusedStale || !strings.Contains(err.Error(), "first or last send time") {
			t.Fatalf("err = %v, want stale: the last send time changed", err)
		}
	})
	t.Run("a first send time passed by confirmation is refused", func(t *testing.T) {
		e := spreadEnv(t)
		cid, _ := spreadCampaign(t, e)
		p := planAndApprove(t, e, cid)
		e.clock.Add(15 * time.Hour) // 2027-03-02 00:00 UTC: Tokyo's 09:00
		_, err := e.sb.Confirm(ctx, "agent", p.ID, nil)
		if err == nil || !strings.Contains(err.Error(), "first send time 2027-03-02T00:00:00Z has passed") {
			t.Fatalf("err = %v, want the passed first send named", err)
		}
		if files := liveFiles(t, e.dir); len(files) != 0 {
			t.Fatalf("live files written: %v", files)
		}
		_, err = e.sb.PlanPromotion(ctx, "agent", cid)
		var pe *sandbox.PlanError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "stage a new revision with a later send_at") {
			t.Fatalf("re-plan: %v, want a plan problem", err)
		}
	})
}

func TestStageSendWindowProblems(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	c, err := e.sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "W"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.sb.StageEmail(ctx, "test", sandbox.EmailInput{CampaignID: c.ID, Name: "Hi", Subject: "Hi", FromName: "Acme", FromEmail: "news@acme.com", HTML: "<p>x</p>",
		SendWindow: &sandbox.SendWindow{Start: "9am", End: "17:00", Days: []string{"monday"}}})
	var ve *sandbox.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a ValidationError", err)
	}
	for _, want := range []string{"send_window: is set but send_at is not", "send_window.start", "send_window.days[0]", "send_window.time_zone: is required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v: want %q", err, want)
		}
	}
}
