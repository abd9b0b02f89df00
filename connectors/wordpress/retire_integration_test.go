package wordpress_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/wordpress"
	"github.com/lastmile/lastmile/sandbox"
)

// Unpublishing against the real WordPress: what visitors get, what stays
// in WordPress, and that the page can be published again.

func get(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// published puts obj and publishes it now.
func published(t *testing.T, tg *wordpress.Target, obj sandbox.Object) (sandbox.Object, sandbox.LiveState) {
	t.Helper()
	ctx := context.Background()
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := tg.Publish(ctx, obj, st, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return obj, pub
}

func TestContractUnpublish(t *testing.T) {
	e := setup(t)
	tg := e.target(t, wordpress.Config{})
	ctx := context.Background()
	obj, pub := published(t, tg, e.page("unpublish"))
	before, _ := e.srv.Page(t, id(t, pub))
	if code := get(t, pub.URL); code != http.StatusOK {
		t.Fatalf("GET %s before: %d", pub.URL, code)
	}

	un, err := tg.Retire(ctx, obj, sandbox.OpUnpublish, pub)
	if err != nil {
		t.Fatal(err)
	}
	if un.ID != pub.ID || un.Status != "draft" || un.URL != pub.URL || un.Version == pub.Version {
		t.Errorf("unpublished %+v, published %+v", un, pub)
	}
	if code := get(t, pub.URL); code != http.StatusNotFound {
		t.Errorf("GET %s after unpublishing: %d, want 404", pub.URL, code)
	}
	// Only the status changed: the content keeps its marker, the slug and
	// the date stay, so Find and a later publish still work.
	p, _ := e.srv.Page(t, id(t, un))
	if p.Status != "draft" || p.Slug != before.Slug || p.Content != before.Content || p.Title != before.Title || p.DateGMT != before.DateGMT ||
		!strings.Contains(p.Content, obj.Marker) {
		t.Errorf("page after unpublishing %+v\n before %+v", p, before)
	}
	if f, found, err := tg.Find(ctx, obj); err != nil || !found || f.ID != un.ID {
		t.Errorf("find after unpublishing: %+v %v %v", f, found, err)
	}
	// Again: nothing written.
	again, err := tg.Retire(ctx, obj, sandbox.OpUnpublish, pub)
	if err != nil || again != un {
		t.Errorf("second unpublish %+v, %v; first %+v", again, err, un)
	}
	// Publishing it again (a new revision's plan) puts it back at its URL.
	re, err := tg.Publish(ctx, obj, un, time.Time{})
	if err != nil || re.Status != "publish" || re.URL != pub.URL {
		t.Fatalf("publish again %+v %v", re, err)
	}
	if code := get(t, pub.URL); code != http.StatusOK {
		t.Errorf("GET %s after publishing again: %d", pub.URL, code)
	}
}

func TestContractUnpublishScheduled(t *testing.T) {
	e := setup(t)
	tg := e.target(t, wordpress.Config{})
	ctx := context.Background()
	obj := e.page("unschedule")
	at := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Second)
	st, err := tg.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	sch, err := tg.Publish(ctx, obj, st, at)
	if err != nil || sch.Status != "future" {
		t.Fatalf("schedule %+v %v", sch, err)
	}
	un, err := tg.Retire(ctx, obj, sandbox.OpUnpublish, sch)
	if err != nil || un.Status != "draft" {
		t.Fatalf("unpublish %+v %v", un, err)
	}
	if p, _ := e.srv.Page(t, id(t, un)); p.Status != "draft" {
		t.Errorf("page %+v", p)
	}
	// The draft keeps its future date; publishing now still publishes now.
	now, err := tg.Publish(ctx, obj, un, time.Time{})
	if err != nil || now.Status != "publish" {
		t.Errorf("publish now %+v %v", now, err)
	}
}

func TestContractUnpublishGone(t *testing.T) {
	e := setup(t)
	tg := e.target(t, wordpress.Config{})
	ctx := context.Background()
	obj, pub := published(t, tg, e.page("unpublish-gone"))
	// In the trash: nobody sees it; nothing to do.
	e.srv.Do(t, http.MethodDelete, "/wp/v2/pages/"+pub.ID, nil)
	tr, err := tg.Retire(ctx, obj, sandbox.OpUnpublish, pub)
	if err != nil || tr.Status != "trash" {
		t.Errorf("unpublish a trashed page: %+v %v", tr, err)
	}
	if p, _ := e.srv.Page(t, id(t, pub)); p.Status != "trash" {
		t.Errorf("trashed page %+v", p)
	}
	// Deleted for good: the error says so.
	e.srv.DeletePage(t, id(t, pub))
	_, err = tg.Retire(ctx, obj, sandbox.OpUnpublish, pub)
	if err == nil || !strings.Contains(err.Error(), "no longer exists") || errors.Is(err, sandbox.ErrAuth) {
		t.Errorf("unpublish a deleted page: %v", err)
	}
}

func TestContractUnpublishBadPassword(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	good := e.target(t, wordpress.Config{})
	obj := e.page("unpublish-badpw")
	st, err := good.Put(ctx, obj, "")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := good.Publish(ctx, obj, st, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	wrong := "wXyZ 0000 1111 2222 3333 4444"
	bad := e.target(t, wordpress.Config{}, wordpress.WithCredentials(e.srv.User, wrong))
	_, err = bad.Retire(ctx, obj, sandbox.OpUnpublish, pub)
	if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "WordPress rejected the application password for user "+e.srv.User) || strings.Contains(err.Error(), wrong) {
		t.Errorf("unpublish with a wrong password: %v", err)
	}
	if p, _ := e.srv.Page(t, id(t, pub)); p.Status != "publish" {
		t.Errorf("page %+v, want it still published", p)
	}
}
