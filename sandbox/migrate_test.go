package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
)

// A data directory written in schema 1 (heads in "artifacts", revisions in
// "revisions/<id>/<n>") reads the same after the migration to schema 2:
// every artifact, every revision, what is live, the audit log.
func TestMigrateSchema1(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	c := stageCampaign(t, e, "Spring")
	p := planAndApprove(t, e, c.id)
	if _, err := e.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		t.Fatal(err)
	}
	// A second revision, so one artifact is changed since live.
	em, err := e.sb.GetArtifact(ctx, c.emails[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	in := *em.Revision.Email
	if _, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.id, EmailID: c.emails[0], Name: in.Name, Subject: in.Subject + " (again)",
		FromName: in.FromName, FromEmail: in.FromEmail, HTML: in.HTML, Audience: in.Audience}); err != nil {
		t.Fatal(err)
	}

	snapshot := func(sb *sandbox.Sandbox) string {
		t.Helper()
		view, err := sb.GetCampaign(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		all := []any{view}
		for _, a := range view.Artifacts {
			for n := 1; n <= a.Revision; n++ {
				r, err := sb.GetArtifact(ctx, a.ID, n)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, r)
			}
		}
		audit, err := sb.Audit(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(append(all, audit))
		return string(b)
	}
	before := snapshot(e.sb)

	// Rewrite the data as schema 1 had it.
	view, _ := e.sb.GetCampaign(ctx, c.id)
	err = e.st.Update(ctx, func(tx store.Tx) error {
		for _, a := range view.Artifacts {
			kvs, err := tx.Scan("artifact/"+a.ID, "", "", 0)
			if err != nil {
				return err
			}
			for _, kv := range kvs {
				if kv.Key == "head" {
					tx.Put("artifacts", a.ID, kv.Value)
				} else {
					tx.Put("revisions", a.ID+"/"+kv.Key, kv.Value)
				}
				tx.Delete("artifact/"+a.ID, kv.Key)
			}
		}
		return tx.Put("__meta", "schema_version", []byte("1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	e.st.Close()

	e = openEnv(t, e.dir, envOptions{clock: e.clock})
	if after := snapshot(e.sb); after != before {
		t.Fatalf("after migration:\n%s\nbefore:\n%s", after, before)
	}
	e.st.View(ctx, func(tx store.Tx) error {
		if v, _ := tx.Get("__meta", "schema_version"); string(v) != strconv.Itoa(store.SchemaVersion) {
			t.Errorf("schema version %q after migration", v)
		}
		for _, b := range []string{"artifacts", "revisions"} {
			if n, _ := tx.Count(b, "", 0); n != 0 {
				t.Errorf("%d entries left in schema 1's %q", n, b)
			}
		}
		return nil
	})
	// And the migrated campaign plans: the changed email is an update.
	p2, err := e.sb.PlanPromotion(ctx, "agent", c.id)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, st := range p2.Steps {
		found = found || st.ArtifactID == c.emails[0] && st.Op == sandbox.OpUpdate
	}
	if !found {
		t.Errorf("the plan after migration does not update %s: %+v", c.emails[0], p2.Steps)
	}
}

// A server of schema 1 that was running when the data was migrated keeps
// writing the old layout. The next start moves what it wrote; an entry that
// conflicts with a newer one is left where it is, and said.
func TestSchema1WritesAfterUpgrade(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{})
	c := stageCampaign(t, e, "Spring")
	em, err := e.sb.GetArtifact(ctx, c.emails[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	// The old server stages a new email (head, revision, index entry), and
	// a revision 1 of an email that already has one.
	newID := "eml_01oldserverwrotethis000000"
	head := *em.Artifact
	head.ID = newID
	rev := *em.Revision
	rev.ArtifactID = newID
	headJSON, _ := json.Marshal(head)
	revJSON, _ := json.Marshal(rev)
	conflict := []byte(`{"different":"revision 1"}`)
	err = e.st.Update(ctx, func(tx store.Tx) error {
		tx.Put("artifacts", newID, headJSON)
		tx.Put("revisions", newID+"/0000000001", revJSON)
		tx.Put("campaign_artifacts", c.id+"/"+newID, []byte("email"))
		return tx.Put("revisions", c.emails[1]+"/0000000001", conflict)
	})
	if err != nil {
		t.Fatal(err)
	}
	e.st.Close()

	var logs bytes.Buffer
	e = openEnv(t, e.dir, envOptions{clock: e.clock, logger: slog.New(slog.NewTextHandler(&logs, nil))})
	got, err := e.sb.GetArtifact(ctx, newID, 1)
	if err != nil {
		t.Fatalf("what the old server staged is not visible: %v", err)
	}
	if got.Revision.Email.Subject != em.Revision.Email.Subject {
		t.Errorf("moved revision: %+v", got.Revision.Email)
	}
	view, _ := e.sb.GetCampaign(ctx, c.id)
	listed := false
	for _, a := range view.Artifacts {
		listed = listed || a.ID == newID
	}
	if !listed {
		t.Error("get_campaign does not list what the old server staged")
	}
	kept, _ := e.sb.GetArtifact(ctx, c.emails[1], 1)
	if kept == nil || kept.Revision.Email == nil {
		t.Fatalf("the newer revision 1 of %s was replaced: %+v", c.emails[1], kept)
	}
	e.st.View(ctx, func(tx store.Tx) error {
		if v, _ := tx.Get("revisions", c.emails[1]+"/0000000001"); string(v) != string(conflict) {
			t.Errorf("the conflicting schema 1 entry was not kept: %q", v)
		}
		if n, _ := tx.Count("artifacts", "", 0); n != 0 {
			t.Errorf("%d schema 1 heads left", n)
		}
		return nil
	})
	if !strings.Contains(logs.String(), "conflict") || !strings.Contains(logs.String(), "entries=1") {
		t.Errorf("the conflict was not logged:\n%s", logs.String())
	}
}
