package webflow_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/webflow"
	"github.com/lastmile/lastmile/connectors/webflow/webflowtest"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/content"
)

func pageObj(id, title, slug, body string) sandbox.Object {
	return sandbox.Object{Kind: sandbox.KindPage, ArtifactID: id, Revision: 1, Marker: sandbox.MarkerPrefix + id,
		Page: &sandbox.Page{Title: title, Slug: slug, Body: body, MetaDescription: "Spring sale"}, Refs: map[string]string{}}
}

func joined(s []string) string { return strings.Join(s, "\n") }

// What the connector writes is what the live site shows, and only after
// the publish step.
func TestCreatePublishUpdateLiveSite(t *testing.T) {
	srv := webflowtest.New(t, withMarker)
	tg := newTarget(t, srv, config(srv))
	ctx := context.Background()
	obj := pageObj("pg_1", "Spring launch", "spring-launch", `<h2>Spring</h2><p><a href="https://acme.example/?utm_source=x">Shop</a></p>`)
	a, err := tg.Assess(ctx, obj)
	if err != nil || len(a.Problems) > 0 {
		t.Fatalf("assess: %+v %v", a, err)
	}
	if !strings.Contains(joined(a.Notes), "never been published") {
		t.Errorf("the plan does not say the site is published too: %q", a.Notes)
	}
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "draft" || st.URL != "https://www.acme.example/lp/spring-launch" {
		t.Errorf("created %+v", st)
	}
	it := srv.Items(webflowtest.DefaultCollectionID)[0]
	if !it.IsDraft || it.FieldData[webflow.DefaultMarkerField] != "lm-pg_1" || it.FieldData["meta-description"] != "Spring sale" {
		t.Errorf("item %+v", it)
	}
	if _, ok := srv.LivePage(webflowtest.DefaultCollectionID, "spring-launch"); ok {
		t.Fatal("live before the publish step")
	}
	st, err = tg.Publish(ctx, obj, st, time.Time{})
	if err != nil || st.Status != "published" {
		t.Fatalf("publish: %+v %v", st, err)
	}
	if srv.SitePublishes() != 1 {
		t.Errorf("%d site publishes, want 1 (the site was never published)", srv.SitePublishes())
	}
	page, ok := srv.LivePage(webflowtest.DefaultCollectionID, "spring-launch")
	if !ok || !strings.Contains(page, "utm_source=x") {
		t.Fatalf("live page %q %v", page, ok)
	}
	// An update of the live page is published with it: the live page is
	// the approved revision, and the plan said so.
	rev2 := pageObj("pg_1", "Spring launch", "spring-launch", "<p>Last days</p>")
	rev2.Refs["pg_1"] = st.ID
	a, err = tg.Assess(ctx, rev2)
	if err != nil || len(a.Problems) > 0 || !strings.Contains(joined(a.Notes), "publishes the update at once") {
		t.Fatalf("assess update: %+v %v", a, err)
	}
	if _, err := tg.Put(ctx, rev2, st.ID); err != nil {
		t.Fatal(err)
	}
	if page, _ := srv.LivePage(webflowtest.DefaultCollectionID, "spring-launch"); !strings.Contains(page, "Last days") {
		t.Errorf("the live page is not the update: %q", page)
	}
	if srv.SitePublishes() != 1 {
		t.Errorf("the update published the site again")
	}
}

func TestAssessProblemsAndNotes(t *testing.T) {
	srv := webflowtest.New(t, withMarker, func(o *webflowtest.Options) { o.SitePublished = true })
	other := srv.AddItem(webflowtest.DefaultCollectionID, map[string]any{"name": "Someone's", "slug": "taken"}, true)
	tg := newTarget(t, srv, config(srv))
	ctx := context.Background()
	n := len(srv.Items(webflowtest.DefaultCollectionID))

	obj := pageObj("pg_2", "Taken", "taken", "<p>x</p>")
	a, err := tg.Assess(ctx, obj)
	if err != nil || !strings.Contains(joined(a.Problems), other) {
		t.Fatalf("an item lastmile did not make holds the slug: %+v %v", a, err)
	}
	_, err = tg.Put(ctx, obj, "")
	if !errors.Is(err, sandbox.ErrConflict) {
		t.Errorf("create at a taken slug: %v, want ErrConflict", err)
	}

	at := time.Now().Add(48 * time.Hour)
	sched := pageObj("pg_3", "Later", "later", "<p>x</p>")
	sched.Page.PublishAt = &at
	a, _ = tg.Assess(ctx, sched)
	if !strings.Contains(joined(a.Problems), "cannot schedule") {
		t.Errorf("publish_at: %+v", a)
	}

	form := pageObj("pg_4", "With form", "with-form", `<p>x</p><section class="lm-form-section"><form action="#"><input name="email"></form></section>`)
	form.Page.Form = &content.Form{Fields: []content.FormField{{Name: "email", Label: "Email", Type: "email"}}}
	a, _ = tg.Assess(ctx, form)
	if len(a.Problems) > 0 || !strings.Contains(joined(a.Notes), "form is left out") || strings.Contains(joined(a.Notes), "never been published") {
		t.Errorf("form: %+v", a)
	}
	st, err := tg.Put(ctx, form, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range srv.Items(webflowtest.DefaultCollectionID) {
		if it.ID == st.ID && strings.Contains(it.FieldData["body"].(string), "<form") {
			t.Errorf("the form went into the rich-text field: %v", it.FieldData["body"])
		}
	}
	if got := len(srv.Items(webflowtest.DefaultCollectionID)); got != n+1 {
		t.Errorf("%d items, want %d: the conflicting create wrote something", got, n+1)
	}
	if _, err := tg.Publish(ctx, sched, st, at); !errors.Is(err, sandbox.ErrNotSupported) {
		t.Errorf("Publish with a time: %v", err)
	}
}

// A create whose answer is lost after Webflow applied it is adopted, not
// repeated.
func TestLostCreateAnswerIsAdopted(t *testing.T) {
	srv := webflowtest.New(t, withMarker)
	tg := newTarget(t, srv, config(srv))
	srv.Inject(faketest.Fault{Op: "create-item", Kind: faketest.DropAfterApply})
	st, err := tg.Put(context.Background(), pageObj("pg_5", "Dropped", "dropped", "<p>x</p>"), "")
	if err != nil {
		t.Fatal(err)
	}
	items := srv.Items(webflowtest.DefaultCollectionID)
	if len(items) != 1 || items[0].ID != st.ID {
		t.Fatalf("items %+v, want exactly the adopted one %s", items, st.ID)
	}
	// And a retry of the create (the promoter's, after a crash) adopts it too.
	st2, err := tg.Put(context.Background(), pageObj("pg_5", "Dropped", "dropped", "<p>x</p>"), "")
	if err != nil || st2.ID != st.ID || len(srv.Items(webflowtest.DefaultCollectionID)) != 1 {
		t.Fatalf("retried create: %+v %v", st2, err)
	}
}

func TestSweep(t *testing.T) {
	srv := webflowtest.New(t, withMarker, func(o *webflowtest.Options) { o.SitePublished = true })
	tg := newTarget(t, srv, config(srv))
	ctx := context.Background()
	srv.AddItem(webflowtest.DefaultCollectionID, map[string]any{"name": "Not ours", "slug": "not-ours"}, false)
	draft, _ := tg.Put(ctx, pageObj("pg_6", "Draft", "draft", "<p>x</p>"), "")
	pub, _ := tg.Put(ctx, pageObj("pg_7", "Pub", "pub", "<p>x</p>"), "")
	if _, err := tg.Publish(ctx, pageObj("pg_7", "Pub", "pub", "<p>x</p>"), pub, time.Time{}); err != nil {
		t.Fatal(err)
	}
	marked, err := tg.Marked(ctx, sandbox.KindPage)
	if err != nil || len(marked) != 2 {
		t.Fatalf("marked %+v %v", marked, err)
	}
	for _, m := range marked {
		err := tg.Discard(ctx, m)
		switch m.LiveID {
		case draft.ID:
			if err != nil || m.Reached {
				t.Errorf("discard draft: %v (%+v)", err, m)
			}
		case pub.ID:
			if !errors.Is(err, sandbox.ErrReachedPeople) || !m.Reached {
				t.Errorf("discard published: %v (%+v)", err, m)
			}
		}
	}
	if n := len(srv.Items(webflowtest.DefaultCollectionID)); n != 2 {
		t.Errorf("%d items left, want 2", n)
	}
}

// Without a marker field an item is known by its slug alone: one already at
// the slug when planning is a conflict (it cannot be told from someone
// else's), and after a crash the promoter's Find takes the item at the slug.
func TestNoMarkerField(t *testing.T) {
	srv := webflowtest.New(t, func(o *webflowtest.Options) { o.SitePublished = true })
	cfg := config(srv)
	cfg.MarkerField = ""
	tg := newTarget(t, srv, cfg)
	ctx := context.Background()
	obj := pageObj("pg_n", "No marker", "no-marker", "<p>x</p>")
	a, err := tg.Assess(ctx, obj)
	if err != nil || len(a.Problems) > 0 || !strings.Contains(joined(a.Notes), "no marker field") {
		t.Fatalf("assess: %+v %v", a, err)
	}
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	if fd, found, err := tg.Find(ctx, obj); err != nil || !found || fd.ID != st.ID {
		t.Errorf("find by slug: %+v %v %v", fd, found, err)
	}
	other := pageObj("pg_m", "Other", "no-marker", "<p>y</p>")
	if a, _ := tg.Assess(ctx, other); len(a.Problems) == 0 {
		t.Error("another artifact at a slug already in use: no Problem")
	}
	obj.Refs["pg_n"] = st.ID
	if a, _ := tg.Assess(ctx, obj); len(a.Problems) > 0 {
		t.Errorf("the bound item at its own slug: %q", a.Problems)
	}
}

// A draft's update stays a draft; a slug another item holds is a conflict.
func TestUpdateDraftAndSlugConflict(t *testing.T) {
	srv := webflowtest.New(t, withMarker, func(o *webflowtest.Options) { o.SitePublished = true })
	tg := newTarget(t, srv, config(srv))
	ctx := context.Background()
	srv.AddItem(webflowtest.DefaultCollectionID, map[string]any{"name": "Theirs", "slug": "theirs"}, false)
	st, err := tg.Put(ctx, pageObj("pg_u", "Mine", "mine", "<p>1</p>"), "")
	if err != nil {
		t.Fatal(err)
	}
	st2, err := tg.Put(ctx, pageObj("pg_u", "Mine", "mine", "<p>2</p>"), st.ID)
	if err != nil || st2.Status != "draft" || st2.Version == st.Version || srv.Publishes(st.ID) != 0 {
		t.Errorf("draft update: %+v %v (publishes %d)", st2, err, srv.Publishes(st.ID))
	}
	if _, err := tg.Put(ctx, pageObj("pg_u", "Mine", "theirs", "<p>3</p>"), st.ID); !errors.Is(err, sandbox.ErrConflict) {
		t.Errorf("update to a taken slug: %v, want ErrConflict", err)
	}
}
