package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lastmile/lastmile/internal/osfile"
	"github.com/lastmile/lastmile/sandbox"
)

var _ sandbox.Retirer = (*Target)(nil)

// retireEffects says what each retirement does on local.
var retireEffects = map[sandbox.Kind]map[string]string{
	sandbox.KindEmail: {
		sandbox.OpUnschedule: "it stays in the data directory as a draft and the clock sends it to nobody",
		sandbox.OpArchive:    "its record moves to archive/emails/; messages already in the outbox stay",
	},
	sandbox.KindSegment:  {sandbox.OpArchive: "its record moves to archive/segments/"},
	sandbox.KindPage:     {sandbox.OpUnpublish: "its file leaves the site folder: visitors get 404 and its form takes no more submissions"},
	sandbox.KindWorkflow: {sandbox.OpDeactivate: "the clock enrols nobody more and takes no more steps; contacts in it stay where they are"},
}

// CanRetire: local takes every retirement lastmile knows.
func (t *Target) CanRetire(k sandbox.Kind, op string) (string, error) {
	if e, ok := retireEffects[k][op]; ok {
		return e, nil
	}
	return "", fmt.Errorf("local cannot %s a %s: %w", op, k, sandbox.ErrNotSupported)
}

// Retire takes op on the live record. Each op looks at the record first,
// so taking it again does nothing.
func (t *Target) Retire(ctx context.Context, obj sandbox.Object, op string, live sandbox.LiveState) (sandbox.LiveState, error) {
	id := obj.ArtifactID
	if _, err := t.CanRetire(obj.Kind, op); err != nil {
		return sandbox.LiveState{}, err
	}
	path := t.recordPath(obj.Kind, id)
	switch op {
	case sandbox.OpArchive:
		if err := t.archive(obj.Kind, id); err != nil {
			return sandbox.LiveState{}, fmt.Errorf("local: archive %s: %w", id, err)
		}
		return sandbox.LiveState{ID: id, Status: "archived"}, nil
	case sandbox.OpUnschedule:
		var rec liveEmail
		found, err := readJSON(path, &rec)
		switch {
		case err != nil:
			return sandbox.LiveState{}, err
		case !found:
			return sandbox.LiveState{}, fmt.Errorf("local: unschedule %s: the email is not live", id)
		case rec.Status == "sent":
			return sandbox.LiveState{}, fmt.Errorf("local: unschedule %s: it went out at %s already", id, rec.SentAt.Format("2006-01-02 15:04 MST"))
		case rec.Status == "testing":
			// The test went out; what is taken back is the winner's send
			// to the rest.
			rec.Status, rec.AB.Cancelled = "sent", true
			rec.Allowed, rec.AllowAll, rec.Segments = nil, false, nil
			if _, err := t.writeJSON(path, rec); err != nil {
				return sandbox.LiveState{}, fmt.Errorf("local: unschedule %s: %w", id, err)
			}
		case rec.Status == "scheduled":
			rec.Status, rec.ScheduledAt = "draft", nil
			rec.Allowed, rec.AllowAll, rec.Segments, rec.PerRecipient = nil, false, nil, false
			if _, err := t.writeJSON(path, rec); err != nil {
				return sandbox.LiveState{}, fmt.Errorf("local: unschedule %s: %w", id, err)
			}
			// The recipients' times go with it (those already mailed
			// keep their messages and sent events, so a later send
			// mails them nobody twice).
			os.Remove(t.schedulePath(id))
		}
	case sandbox.OpUnpublish:
		var rec livePage
		found, err := readJSON(path, &rec)
		switch {
		case err != nil:
			return sandbox.LiveState{}, err
		case !found:
			return sandbox.LiveState{}, fmt.Errorf("local: unpublish %s: the page is not live", id)
		case rec.Status == "published" || rec.Status == "scheduled":
			// The record first: a crash between the two leaves a draft
			// whose file a second call removes.
			rec.Status, rec.PublishedAt, rec.PublishAt = "draft", nil, nil
			if _, err := t.writeJSON(path, rec); err != nil {
				return sandbox.LiveState{}, fmt.Errorf("local: unpublish %s: %w", id, err)
			}
		}
		if rec.Status == "draft" {
			if err := t.removeSitePage(rec.Slug); err != nil {
				return sandbox.LiveState{}, fmt.Errorf("local: unpublish %s: %w", id, err)
			}
		}
	case sandbox.OpDeactivate:
		var rec liveWorkflow
		found, err := readJSON(path, &rec)
		switch {
		case err != nil:
			return sandbox.LiveState{}, err
		case !found:
			return sandbox.LiveState{}, fmt.Errorf("local: deactivate %s: the workflow is not live", id)
		case rec.Enabled:
			now := t.now().UTC()
			rec.Enabled, rec.DisabledAt = false, &now
			if _, err := t.writeJSON(path, rec); err != nil {
				return sandbox.LiveState{}, fmt.Errorf("local: deactivate %s: %w", id, err)
			}
		}
	}
	st, _, err := t.Live(ctx, obj.Kind, id)
	return st, err
}

// removeSitePage takes a page's file out of the site folder, and its
// folder when nothing else is in it.
func (t *Target) removeSitePage(slug string) error {
	p := t.pagePath(slug)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	os.Remove(filepath.Dir(p)) // only when it is empty now
	return osfile.SyncDir(filepath.Dir(filepath.Dir(p)))
}

// archive moves a record out of the folder the target reads live objects
// from, keeping it under archive/.
func (t *Target) archive(k sandbox.Kind, id string) error {
	dst := t.path("archive", kindDir[k], id+".json")
	err := os.MkdirAll(filepath.Dir(dst), 0o700)
	if err == nil {
		err = os.Rename(t.recordPath(k, id), dst)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil // archived before, or gone: nothing is left to take away
	}
	if err != nil {
		return err
	}
	if err := osfile.SyncDir(filepath.Dir(dst)); err != nil {
		return err
	}
	return osfile.SyncDir(filepath.Dir(t.recordPath(k, id)))
}
