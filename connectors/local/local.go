// Package local is the embedded target: it needs no account and "goes live"
// into the data directory, so the whole stage → plan → approve → promote loop
// can be tried, tested and demonstrated safely.
//
//	outbox/<email id>/<prefix>-<key>.eml  one MIME message per recipient, named by a
//	                                      short readable prefix of the address and
//	                                      its sandbox.RecipientKey (hex SHA-256)
//	outbox/tests/<email id>/…             test sends (send_test), never counted
//	emails/<email id>.json                the email as promoted, with its send status
//	                                      and how many recipients the send dropped
//	segments/<segment id>.json            definition and the members when it went
//	                                      live (a record: sends resolve anew)
//	site/<slug>/index.html                published pages (drafts in pages/<id>.json)
//	workflows/<workflow id>.json          definition, on/off, enrolments
//	events.jsonl                          sent, open, click, … one JSON object per line
//
// A send never mails a suppressed contact: marketing_consent false in
// contacts.csv, or an unsubscribe, bounce or spam_report event for the
// address in events.jsonl.
package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/internal/osfile"
	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/liquid"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/content"
)

// Config is the local target's section of config.yaml.
type Config struct {
	// Contacts is the CSV of contacts, relative to the data directory.
	Contacts string `yaml:"contacts"`
	// SiteURL is the base URL pages are reported under (default file://…/site).
	SiteURL string `yaml:"site_url"`
	Type    string `yaml:"type"`
}

// Target writes promoted artifacts into a directory.
type Target struct {
	name string
	dir  string
	site string
	book *contactBook
	now  func() time.Time
	hook func(point string)
	evMu sync.Mutex
	// madeDirs remembers the directories under dir already made, saving a
	// MkdirAll's system calls on every file of a send.
	madeDirs sync.Map
}

// Option configures a Target.
type Option func(*Target)

// WithClock sets the clock events are stamped with.
func WithClock(now func() time.Time) Option { return func(t *Target) { t.now = now } }

// WithSiteURL says where the site is served (lastmile site), overriding
// site_url: the addresses of published pages and of unsubscribe links.
func WithSiteURL(u string) Option {
	return func(t *Target) {
		if u != "" {
			t.site = strings.TrimSuffix(u, "/")
		}
	}
}

// WithHook calls fn at named points inside long steps (between recipients of
// a send), so crash tests can stop the process mid-step.
func WithHook(fn func(point string)) Option { return func(t *Target) { t.hook = fn } }

// New returns the local target named name, writing into dataDir.
func New(name, dataDir string, cfg Config, opts ...Option) (*Target, error) {
	if cfg.Contacts == "" {
		cfg.Contacts = "contacts.csv"
	}
	contacts := cfg.Contacts
	if !filepath.IsAbs(contacts) {
		contacts = filepath.Join(dataDir, contacts)
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	t := &Target{name: name, dir: abs, book: &contactBook{path: contacts, forms: filepath.Join(abs, "contact-updates.csv")}, now: time.Now, hook: func(string) {}}
	t.site = strings.TrimSuffix(cfg.SiteURL, "/")
	if t.site == "" {
		t.site = "file://" + filepath.ToSlash(filepath.Join(abs, "site"))
	}
	for _, o := range opts {
		o(t)
	}
	return t, nil
}

func (t *Target) Name() string     { return t.name }
func (t *Target) Platform() string { return "local" }
func (t *Target) Capabilities() sandbox.Capabilities {
	return sandbox.Capabilities{Emails: true, Segments: true, Workflows: true, Pages: true, Metrics: true}
}

// Dir is the directory the target writes into.
func (t *Target) Dir() string { return t.dir }

func (t *Target) path(parts ...string) string {
	return filepath.Join(append([]string{t.dir}, parts...)...)
}

// writeFile replaces a file atomically and durably: a crash leaves the old
// or the new content, never half of it, and once it returns the new content
// and its name are on disk, so the journal can record the step done.
func (t *Target) writeFile(path string, data []byte) error {
	if err := t.writeSynced(path, data); err != nil {
		return err
	}
	return osfile.SyncDir(filepath.Dir(path))
}

// writeSynced is writeFile without the directory's sync, for many files in
// one directory synced once (a send's messages).
func (t *Target) writeSynced(path string, data []byte) error {
	dir := filepath.Dir(path)
	if _, ok := t.madeDirs.Load(dir); !ok {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		t.madeDirs.Store(dir, true)
	}
	tmp := path + ".tmp"
	err := writeAndSync(tmp, data)
	if errors.Is(err, fs.ErrNotExist) {
		// The directory went away (removed by hand): make it again.
		t.madeDirs.Delete(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		err = writeAndSync(tmp, data)
	}
	if err != nil {
		return err
	}
	// A kill here leaves the new content beside the old, under .tmp: the
	// crash tests stop here too, and a resumed step writes it again.
	t.hook("write:" + filepath.Base(path))
	return os.Rename(tmp, path)
}

func writeAndSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = osfile.DataSync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeJSON writes a record and returns the bytes written.
func (t *Target) writeJSON(path string, v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	data = append(data, '\n')
	return data, t.writeFile(path, data)
}

func readJSON(path string, v any) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(data, v)
}

func hashOf(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Live records, as written to the data directory.
type liveEmail struct {
	ID          string           `json:"id"`
	Revision    int              `json:"revision"`
	Campaign    string           `json:"campaign_id"`
	Email       sandbox.Email    `json:"email"`
	Audience    sandbox.Audience `json:"audience"`
	Status      string           `json:"status"` // draft | scheduled | sent
	SentAt      *time.Time       `json:"sent_at,omitempty"`
	ScheduledAt *time.Time       `json:"scheduled_for,omitempty"`
	Recipients  int              `json:"recipients,omitempty"` // messages in the outbox
	// Resolved at the send but not mailed: outside the audience the human
	// approved (added to contacts.csv since), or suppressed (consent
	// withdrawn, unsubscribed, bounced, reported spam).
	DroppedUnapproved int `json:"dropped_unapproved,omitempty"`
	DroppedSuppressed int `json:"dropped_suppressed,omitempty"`
	// A scheduled send keeps what its delivery needs: the approved
	// audience (nil Allowed with AllowAll: the plan could not list it) and
	// the segment definitions it was planned with.
	Allowed  []string                    `json:"allowed,omitempty"`
	AllowAll bool                        `json:"allow_all,omitempty"`
	Segments map[string]*sandbox.Segment `json:"segments,omitempty"`
	// PerRecipient: each recipient has their own time, in
	// schedules/<id>.json (spread.go).
	PerRecipient bool `json:"per_recipient,omitempty"`
	// AB is an A/B test's progress (abtest.go).
	AB *abState `json:"ab,omitempty"`
}

type liveSegment struct {
	ID         string          `json:"id"`
	Revision   int             `json:"revision"`
	Campaign   string          `json:"campaign_id"`
	Name       string          `json:"name"`
	Definition sandbox.Segment `json:"definition"`
	Members    []string        `json:"members"`
	ResolvedAt time.Time       `json:"resolved_at"`
}

type livePage struct {
	ID          string        `json:"id"`
	Revision    int           `json:"revision"`
	Campaign    string        `json:"campaign_id"`
	Title       string        `json:"title"`
	Slug        string        `json:"slug"`
	HTML        string        `json:"html"`
	Status      string        `json:"status"` // draft | published | scheduled
	PublishedAt *time.Time    `json:"published_at,omitempty"`
	PublishAt   *time.Time    `json:"publish_at,omitempty"`
	Form        *content.Form `json:"form,omitempty"` // what submit checks a submission against
}

type liveWorkflow struct {
	ID         string            `json:"id"`
	Revision   int               `json:"revision"`
	Campaign   string            `json:"campaign_id"`
	Workflow   sandbox.Workflow  `json:"workflow"`
	Refs       map[string]string `json:"refs,omitempty"`
	Enabled    bool              `json:"enabled"`
	EnabledAt  *time.Time        `json:"enabled_at,omitempty"`
	DisabledAt *time.Time        `json:"disabled_at,omitempty"`
	Enrolled   []enrolment       `json:"enrolled,omitempty"`
}

var kindDir = map[sandbox.Kind]string{
	sandbox.KindEmail: "emails", sandbox.KindSegment: "segments", sandbox.KindPage: "pages", sandbox.KindWorkflow: "workflows",
}

func (t *Target) recordPath(k sandbox.Kind, id string) string {
	return t.path(kindDir[k], id+".json")
}

var safeID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]+_[0-9a-z]+$`) })

// Live reads what is live for an artifact. Its Version is a hash of the
// record (and, for pages, of the published file), so edits made outside
// lastmile show up as drift.
func (t *Target) Live(_ context.Context, k sandbox.Kind, id string) (sandbox.LiveState, bool, error) {
	if !safeID().MatchString(id) || kindDir[k] == "" {
		return sandbox.LiveState{}, false, nil
	}
	data, err := os.ReadFile(t.recordPath(k, id))
	if errors.Is(err, fs.ErrNotExist) {
		return sandbox.LiveState{}, false, nil
	}
	if err != nil {
		return sandbox.LiveState{}, false, err
	}
	return t.stateOf(k, id, data, nil), true, nil
}

// stateOf describes a live record from its bytes; site is the published
// page file when the caller just wrote it (else it is read).
func (t *Target) stateOf(k sandbox.Kind, id string, data, site []byte) sandbox.LiveState {
	st := sandbox.LiveState{ID: id, Version: hashOf(data)}
	var head struct {
		Status  string `json:"status"`
		Slug    string `json:"slug"`
		Enabled bool   `json:"enabled"`
	}
	json.Unmarshal(data, &head)
	st.Status = head.Status
	switch k {
	case sandbox.KindPage:
		st.URL = t.pageURL(head.Slug)
		if site == nil {
			site, _ = os.ReadFile(t.pagePath(head.Slug))
		}
		if site != nil {
			st.Version = hashOf(data, site)
		}
	case sandbox.KindWorkflow:
		st.Status = map[bool]string{true: "enabled", false: "disabled"}[head.Enabled]
		st.URL = "file://" + filepath.ToSlash(t.recordPath(k, id))
	default:
		st.URL = "file://" + filepath.ToSlash(t.recordPath(k, id))
	}
	return st
}

// Find: on local the live id is the artifact id, so an interrupted create
// is simply a record that already exists.
func (t *Target) Find(ctx context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	return t.Live(ctx, obj.Kind, obj.ArtifactID)
}

func (t *Target) pagePath(slug string) string {
	return t.path("site", filepath.FromSlash(slug), "index.html")
}

func (t *Target) pageURL(slug string) string { return t.site + "/" + slug + "/" }

// Assess: local can do everything. For an email it lists whom a send would
// mail now, resolved as Send resolves them, so the plan can bind the human's
// approval to exactly those addresses.
func (t *Target) Assess(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	a := sandbox.Assessment{AudienceSize: -1}
	if obj.Kind == sandbox.KindAd {
		a.Problems = append(a.Problems, sandbox.NoAds("The local target"))
		return a, nil
	}
	a.Problems = unrenderable(obj)
	if obj.Email != nil {
		a.Problems = append(a.Problems, abUnrenderable(obj.Email)...)
	}
	if obj.Workflow != nil {
		a.Notes = append(a.Notes, unrunnable(obj.Workflow)...)
		ps, err := t.unstatic(obj)
		if err != nil {
			return a, fmt.Errorf("local: assess %s: %w", obj.ArtifactID, err)
		}
		a.Problems = append(a.Problems, ps...)
	}
	switch obj.Kind {
	case sandbox.KindEmail:
		if len(obj.Email.Audience.Include) > 0 {
			idx, err := t.readIndex(obj.ArtifactID)
			if err != nil {
				return a, fmt.Errorf("local: assess %s: %w", obj.ArtifactID, err)
			}
			rs, err := t.audience(obj.Email.Audience, obj.Segments, idx)
			if err != nil {
				return a, fmt.Errorf("local: assess %s: %w", obj.ArtifactID, err)
			}
			// Not nil when nobody is left: an empty approved audience must
			// stay empty, not turn into "unknown, allow everyone".
			a.Recipients = []string{}
			suppressed := map[string]int{}
			for r := range rs.all() {
				if r.suppressed == "" {
					a.Recipients = append(a.Recipients, r.addr)
				} else {
					suppressed[r.suppressed]++
				}
			}
			a.AudienceSize = len(a.Recipients)
			if note := suppressionNote(suppressed); note != "" {
				a.Notes = append(a.Notes, note)
			}
			if obj.Email.Spread() {
				t.assessSpread(obj.Email, rs, &a)
			}
		}
		if obj.Email.SendAt != nil && !obj.Email.Spread() {
			a.Notes = append(a.Notes, "local sends it at "+obj.Email.SendAt.Format(time.RFC3339)+" by lastmile's clock, to the audience as it is then: lastmile serve or lastmile run must be running")
		}
		if ab := obj.Email.ABTest; ab != nil {
			a.Notes = append(a.Notes, abNote(ab))
		}
	case sandbox.KindSegment:
		// Members, suppressed ones included: a segment is who matches its
		// definition, and stays the faithful record of that; suppression is
		// a rule of sending, applied to each email's audience (as platforms
		// keep unsubscribed contacts in their lists but skip them at a send).
		n, err := t.Count(ctx, []string{obj.ArtifactID}, nil, obj.Segments)
		if err != nil {
			return a, err
		}
		a.AudienceSize = n
	case sandbox.KindPage:
		if obj.Page.PublishAt != nil {
			a.Notes = append(a.Notes, "local publishes it at "+obj.Page.PublishAt.Format(time.RFC3339)+" by lastmile's clock: lastmile serve or lastmile run must be running")
		}
	}
	return a, nil
}

// members resolves the contacts in include minus exclude. Static addresses
// of the segments count even when contacts.csv lacks them.
func (t *Target) members(include, exclude []string, segs map[string]*sandbox.Segment) (*selection, error) {
	segs, err := t.withMembership(segs)
	if err != nil {
		return nil, err
	}
	tab, err := t.book.load()
	if err != nil {
		return nil, err
	}
	return selectRows(tab, include, exclude, segs), nil
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Count implements sandbox.Counter over contacts.csv.
func (t *Target) Count(_ context.Context, include, exclude []string, segs map[string]*sandbox.Segment) (int, error) {
	m, err := t.members(include, exclude, segs)
	if err != nil {
		return 0, err
	}
	return m.Len(), nil
}

// Sample implements sandbox.Sampler over contacts.csv: the first n members
// in the file's order.
func (t *Target) Sample(_ context.Context, include, exclude []string, segs map[string]*sandbox.Segment, n int) ([]sandbox.Contact, error) {
	m, err := t.members(include, exclude, segs)
	if err != nil {
		return nil, err
	}
	return m.sample(n), nil
}

// Put writes the artifact's live record (create and update are the same on
// local: the id is the artifact's own).
func (t *Target) Put(_ context.Context, obj sandbox.Object, _ string) (sandbox.LiveState, error) {
	var data, site []byte
	var err error
	switch obj.Kind {
	case sandbox.KindSegment:
		m, err := t.members([]string{obj.ArtifactID}, nil, obj.Segments)
		if err != nil {
			return sandbox.LiveState{}, err
		}
		rec := liveSegment{ID: obj.ArtifactID, Revision: obj.Revision, Campaign: obj.Campaign.ID, Name: obj.Segment.Name, Definition: *obj.Segment, Members: m.emails(), ResolvedAt: t.now().UTC()}
		if data, err = t.writeJSON(t.recordPath(obj.Kind, obj.ArtifactID), rec); err != nil {
			return sandbox.LiveState{}, fmt.Errorf("local: write segment %s: %w", obj.ArtifactID, err)
		}
	case sandbox.KindEmail:
		var rec liveEmail
		if _, err := readJSON(t.recordPath(obj.Kind, obj.ArtifactID), &rec); err != nil {
			return sandbox.LiveState{}, err
		}
		prev := rec
		if prev.Status == "" {
			prev.Status = "draft"
		}
		rec = liveEmail{ID: obj.ArtifactID, Revision: obj.Revision, Campaign: obj.Campaign.ID, Email: *obj.Email, Audience: obj.Email.Audience, Status: prev.Status, SentAt: prev.SentAt, ScheduledAt: prev.ScheduledAt,
			Recipients: prev.Recipients, DroppedUnapproved: prev.DroppedUnapproved, DroppedSuppressed: prev.DroppedSuppressed,
			// A scheduled send keeps what its delivery was approved with.
			Allowed: prev.Allowed, AllowAll: prev.AllowAll, Segments: prev.Segments, PerRecipient: prev.PerRecipient, AB: prev.AB}
		if data, err = t.writeJSON(t.recordPath(obj.Kind, obj.ArtifactID), rec); err != nil {
			return sandbox.LiveState{}, fmt.Errorf("local: write email %s: %w", obj.ArtifactID, err)
		}
	case sandbox.KindPage:
		var rec livePage
		if _, err := readJSON(t.recordPath(obj.Kind, obj.ArtifactID), &rec); err != nil {
			return sandbox.LiveState{}, err
		}
		published := rec.Status == "published"
		if published && rec.Slug != obj.Page.Slug {
			// Only this page's own file: whatever else is in its folder
			// is not this page's to remove.
			old := t.pagePath(rec.Slug)
			if err := os.Remove(old); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return sandbox.LiveState{}, fmt.Errorf("local: move page %s: %w", obj.ArtifactID, err)
			}
			os.Remove(filepath.Dir(old)) // when it is empty now
			osfile.SyncDir(filepath.Dir(filepath.Dir(old)))
		}
		status := rec.Status
		if status == "" {
			status = "draft"
		}
		rec = livePage{ID: obj.ArtifactID, Revision: obj.Revision, Campaign: obj.Campaign.ID, Title: obj.Page.Title, Slug: obj.Page.Slug, HTML: obj.Page.HTML, Status: status, PublishedAt: rec.PublishedAt, PublishAt: obj.Page.PublishAt, Form: obj.Page.Form}
		if published { // an update of a live page is live at once
			site = []byte(t.sitePage(rec))
			if err := t.writeFile(t.pagePath(rec.Slug), site); err != nil {
				return sandbox.LiveState{}, err
			}
		}
		if data, err = t.writeJSON(t.recordPath(obj.Kind, obj.ArtifactID), rec); err != nil {
			return sandbox.LiveState{}, fmt.Errorf("local: write page %s: %w", obj.ArtifactID, err)
		}
	case sandbox.KindWorkflow:
		var rec liveWorkflow
		if _, err := readJSON(t.recordPath(obj.Kind, obj.ArtifactID), &rec); err != nil {
			return sandbox.LiveState{}, err
		}
		rec = liveWorkflow{ID: obj.ArtifactID, Revision: obj.Revision, Campaign: obj.Campaign.ID, Workflow: *obj.Workflow, Refs: obj.Refs, Enabled: rec.Enabled, EnabledAt: rec.EnabledAt, DisabledAt: rec.DisabledAt, Enrolled: rec.Enrolled}
		// A revision with activate false turns a live workflow off, as
		// its plan says: it enrols nobody new from then on.
		if rec.Enabled && !obj.Workflow.Activate {
			now := t.now().UTC()
			rec.Enabled, rec.DisabledAt = false, &now
		}
		if data, err = t.writeJSON(t.recordPath(obj.Kind, obj.ArtifactID), rec); err != nil {
			return sandbox.LiveState{}, fmt.Errorf("local: write workflow %s: %w", obj.ArtifactID, err)
		}
	default:
		return sandbox.LiveState{}, fmt.Errorf("local: %w: %s", sandbox.ErrNotSupported, obj.Kind)
	}
	return t.stateOf(obj.Kind, obj.ArtifactID, data, site), nil
}

// Send writes one message per recipient into the outbox and a sent event
// for each. Recipients are resolved now, from the segment definitions and
// the current contacts.csv, then narrowed: suppressed addresses and those
// outside the approved audience are dropped, so an audience can shrink
// after approval but never grow.
//
// A recipient with a message file or a sent event for this email is never
// mailed again, so a send resumed after a crash mails nobody twice; a
// message without its event (the crash fell between the two) gets the
// event on resume. Someone mailed by the interrupted attempt counts as a
// recipient even if they were suppressed since: the message is out.
func (t *Target) Send(ctx context.Context, obj sandbox.Object, _ sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	recPath := t.recordPath(sandbox.KindEmail, obj.ArtifactID)
	var rec liveEmail
	found, err := readJSON(recPath, &rec)
	if err != nil {
		return sandbox.LiveState{}, fmt.Errorf("local: send %s: %w", obj.ArtifactID, err)
	}
	if !found {
		return sandbox.LiveState{}, fmt.Errorf("local: send %s: the email is not live yet", obj.ArtifactID)
	}
	if rec.Status == "sent" || rec.Status == "scheduled" || rec.Status == "testing" {
		st, _, err := t.Live(ctx, sandbox.KindEmail, obj.ArtifactID)
		return st, err
	}
	for _, id := range slices.Concat(rec.Audience.Include, rec.Audience.Exclude) {
		_, live, err := t.Live(ctx, sandbox.KindSegment, id)
		if err != nil {
			return sandbox.LiveState{}, fmt.Errorf("local: send %s: read segment %s: %w", obj.ArtifactID, id, err)
		}
		if !live {
			return sandbox.LiveState{}, fmt.Errorf("local: send %s: segment %s is not live", obj.ArtifactID, id)
		}
	}
	if rec.Email.Spread() {
		return t.scheduleSpread(ctx, obj, &rec, at)
	}
	now := t.now().UTC()
	if at.After(now) {
		// Sent at its time, by the clock (Tick): the messages are written
		// then, to the audience as it is then, within the approved one.
		rec.Status, rec.ScheduledAt = "scheduled", &at
		rec.Allowed, rec.AllowAll, rec.Segments = obj.Recipients.Keys(), obj.Recipients == nil, obj.Segments
		data, err := t.writeJSON(recPath, rec)
		if err != nil {
			return sandbox.LiveState{}, fmt.Errorf("local: schedule %s: %w", obj.ArtifactID, err)
		}
		return t.stateOf(sandbox.KindEmail, obj.ArtifactID, data, nil), nil
	}
	date := now
	if !at.IsZero() {
		date = at.UTC()
	}
	data, err := t.deliver(ctx, obj.ArtifactID, &rec, obj.Segments, obj.Recipients, date)
	if err != nil {
		return sandbox.LiveState{}, err
	}
	return t.stateOf(sandbox.KindEmail, obj.ArtifactID, data, nil), nil
}

var _ sandbox.TestSender = (*Target)(nil)

// SendTest writes a proof of the email for each address into
// outbox/tests/<email id>/, named by the time and the address, with
// "[Test] " before the subject and an X-Lastmile-Test header. It records no
// event: a test is never a send, an open or a recipient. The email need
// not be live.
func (t *Target) SendTest(_ context.Context, obj sandbox.Object, to []string) (sandbox.TestSend, error) {
	if obj.Email == nil {
		return sandbox.TestSend{}, fmt.Errorf("local: test send of %s: not an email", obj.ArtifactID)
	}
	e := *obj.Email
	e.Subject = "[Test] " + e.Subject
	box := t.path("outbox", "tests", obj.ArtifactID)
	if err := os.MkdirAll(box, 0o755); err != nil {
		return sandbox.TestSend{}, fmt.Errorf("local: test send of %s: %w", obj.ArtifactID, err)
	}
	now := t.now().UTC()
	domain := domainOf(e.FromEmail)
	for _, addr := range to {
		msg := variantMessage(obj.Variant, message(&e, obj.ArtifactID, sandbox.Contact{"email": addr}, now, domain, "", "revision "+strconv.Itoa(obj.Revision)))
		name := now.Format("20060102T150405.000000000Z") + "-" + fileName(addr)
		if obj.Variant != "" {
			// One proof per A/B variant, at the same instant.
			name = now.Format("20060102T150405.000000000Z") + "-" + obj.Variant + "-" + fileName(addr)
		}
		if err := t.writeSynced(filepath.Join(box, name), msg); err != nil {
			return sandbox.TestSend{}, fmt.Errorf("local: test send of %s: %w", obj.ArtifactID, err)
		}
	}
	return sandbox.TestSend{Where: box}, nil
}

// deliver writes an email's messages, dated date, to its audience as it
// stands now within the approved one (allow), and records it sent.
func (t *Target) deliver(ctx context.Context, id string, rec *liveEmail, segs map[string]*sandbox.Segment, allow *sandbox.RecipientSet, date time.Time) ([]byte, error) {
	recPath := t.recordPath(sandbox.KindEmail, id)
	idx, err := t.readIndex(id)
	if err != nil {
		return nil, fmt.Errorf("local: send %s: %w", id, err)
	}
	audience, err := t.audience(rec.Audience, segs, idx)
	if err != nil {
		return nil, fmt.Errorf("local: send %s: %w", id, err)
	}
	now := t.now().UTC()
	box := t.path("outbox", id)
	if err := os.MkdirAll(box, 0o755); err != nil {
		return nil, fmt.Errorf("local: send %s: %w", id, err)
	}
	// What an earlier attempt left, for messages named the old way.
	entries, err := os.ReadDir(box)
	if err != nil {
		return nil, fmt.Errorf("local: send %s: %w", id, err)
	}
	existing := make(map[string]bool, len(entries))
	for _, e := range entries {
		existing[e.Name()] = true
	}
	domain := domainOf(rec.Email.FromEmail)
	ab := abPlanOf(id, rec)
	var events []Event
	mailed, unapproved, suppressed := 0, 0, 0
	i := -1
	for r := range audience.all() {
		i++
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t.hook(fmt.Sprintf("send:%s:%d", id, i))
		file := filepath.Join(box, fileName(r.addr))
		_, err := os.Stat(file)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("local: send %s: %w", id, err)
		}
		if err != nil && !idx.sent[r.addr] && !(len(existing) > 0 && legacyMailed(box, r.addr, existing)) {
			switch {
			case r.suppressed != "":
				suppressed++
				continue
			case !allow.Allows(r.addr):
				unapproved++
				continue
			}
			em, variant := &rec.Email, ""
			if ab != nil {
				v, hold := ab.pick(r.addr)
				if hold {
					continue // in the rest: the winner comes later
				}
				em, variant = ab.variants[v], sandbox.VariantName(v)
			}
			if err := t.writeSynced(file, variantMessage(variant, message(em, id, audience.contact(r), date, domain, t.oneClick(id, r.addr), ""))); err != nil {
				return nil, fmt.Errorf("local: send %s: %w", id, err)
			}
		}
		mailed++
		if !idx.sent[r.addr] {
			// Mailed now, or by an attempt cut short before its event:
			// the variant is the one pick gives (deterministic).
			variant := ""
			if ab != nil {
				v, _ := ab.pick(r.addr)
				variant = sandbox.VariantName(v)
			}
			events = append(events, Event{Type: "sent", Artifact: id, Email: r.addr, At: date, Variant: variant})
			// Flush in batches, one fsync each: one append per message
			// would be slow, one at the end would leave more to recover.
			if len(events) == sentBatch {
				if err := t.flushSent(box, events); err != nil {
					return nil, fmt.Errorf("local: send %s: %w", id, err)
				}
				events = events[:0]
				t.hook(fmt.Sprintf("sent-batch:%s:%d", id, i))
			}
		}
	}
	if err := t.flushSent(box, events); err != nil {
		return nil, fmt.Errorf("local: send %s: %w", id, err)
	}
	rec.Status, rec.Recipients = "sent", mailed
	rec.DroppedUnapproved, rec.DroppedSuppressed = unapproved, suppressed
	rec.SentAt = &now
	rec.Allowed, rec.AllowAll, rec.Segments = nil, false, nil
	if ab.testing() {
		// The rest wait for the winner, within the same approved
		// audience, by the segments the plan had.
		rec.Status = "testing"
		rec.AB = &abState{DecideAt: date.Add(rec.Email.ABTest.Wait()), Tested: mailed}
		rec.Allowed, rec.AllowAll, rec.Segments = allow.Keys(), allow == nil, segs
	}
	data, err := t.writeJSON(recPath, rec)
	if err != nil {
		return nil, fmt.Errorf("local: send %s: %w", id, err)
	}
	return data, nil
}

// sentBatch is how many sent events a send appends (and syncs) at once.
const sentBatch = 256

// flushSent records a batch of messages sent: the names of the messages
// are made durable before the events that say they went out, so after a
// crash an event never names a message that is not there (and a message
// without its event gets it on resume).
func (t *Target) flushSent(box string, events []Event) error {
	if err := osfile.SyncDir(box); err != nil {
		return err
	}
	return t.appendEvents(events)
}

// File names must differ for different addresses on every file system
// lastmile runs on: case-insensitive ones (macOS, Windows), Windows' reserved
// characters and device names, and a 255-byte name limit. So a name is a
// readable prefix of the address, cut short and reduced to characters safe
// everywhere, then the address's RecipientKey, which alone tells addresses
// apart and matches the key the plan records for the approved audience.
var unsafeFile = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^a-z0-9@_+-]+`) })

// maxFilePrefix keeps names far below 255 bytes: prefix, '-', 64 hex, ".eml".
const maxFilePrefix = 64

func fileName(addr string) string {
	prefix := unsafeFile().ReplaceAllString(strings.ToLower(addr), "_")
	if len(prefix) > maxFilePrefix {
		prefix = prefix[:maxFilePrefix] // ASCII only, so no rune is cut
	}
	return prefix + "-" + sandbox.RecipientKey(addr) + ".eml"
}

// legacyFileName is the name a message had before names carried a hash.
// It mapped several addresses to one file, so a file by that name proves
// nothing until its To header is read.
func legacyFileName(addr string) string {
	return legacyUnsafe().ReplaceAllString(strings.ToLower(addr), "_") + ".eml"
}

var legacyUnsafe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^a-z0-9@._+-]`) })

// Publish puts a page into the site folder (a future publish_at is recorded,
// since local has no clock), or turns on a workflow the plan activates,
// enrolling the current members of a segment_entry trigger's segment.
func (t *Target) Publish(ctx context.Context, obj sandbox.Object, _ sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	now := t.now().UTC()
	switch obj.Kind {
	case sandbox.KindPage:
		var rec livePage
		found, err := readJSON(t.recordPath(obj.Kind, obj.ArtifactID), &rec)
		if err != nil {
			return sandbox.LiveState{}, err
		}
		if !found {
			return sandbox.LiveState{}, fmt.Errorf("local: publish %s: the page is not live yet", obj.ArtifactID)
		}
		switch {
		case rec.Status == "published" || rec.Status == "scheduled":
		case at.After(now):
			// Written to the site at its time, by the clock (Tick).
			rec.Status, rec.PublishAt = "scheduled", &at
			if _, err := t.writeJSON(t.recordPath(obj.Kind, obj.ArtifactID), rec); err != nil {
				return sandbox.LiveState{}, err
			}
		default:
			if err := t.writeFile(t.pagePath(rec.Slug), []byte(t.sitePage(rec))); err != nil {
				return sandbox.LiveState{}, err
			}
			rec.Status, rec.PublishedAt = "published", &now
			if _, err := t.writeJSON(t.recordPath(obj.Kind, obj.ArtifactID), rec); err != nil {
				return sandbox.LiveState{}, err
			}
		}
	case sandbox.KindWorkflow:
		var rec liveWorkflow
		found, err := readJSON(t.recordPath(obj.Kind, obj.ArtifactID), &rec)
		if err != nil {
			return sandbox.LiveState{}, err
		}
		if !found {
			return sandbox.LiveState{}, fmt.Errorf("local: activate %s: the workflow is not live yet", obj.ArtifactID)
		}
		// Only a workflow the plan activates is turned on (as on HubSpot).
		if !rec.Enabled && obj.Workflow != nil && obj.Workflow.Activate {
			rec.Enabled, rec.EnabledAt = true, &now
			if tr := rec.Workflow.Trigger; tr.Type == "segment_entry" {
				var seg liveSegment
				if _, err := readJSON(t.recordPath(sandbox.KindSegment, tr.SegmentID), &seg); err != nil {
					return sandbox.LiveState{}, err
				}
				for _, m := range seg.Members {
					rec.Enrolled = append(rec.Enrolled, enrolment{Email: m, At: now, Step: rec.Workflow.Steps[0].ID, Due: &now})
				}
			}
			if _, err := t.writeJSON(t.recordPath(obj.Kind, obj.ArtifactID), rec); err != nil {
				return sandbox.LiveState{}, err
			}
		}
	default:
		return sandbox.LiveState{}, fmt.Errorf("local: publish %s: %w", obj.Kind, sandbox.ErrNotSupported)
	}
	st, _, err := t.Live(ctx, obj.Kind, obj.ArtifactID)
	return st, err
}

var _ sandbox.Target = (*Target)(nil)
var _ sandbox.Counter = (*Target)(nil)

// sitePage is a page as the site serves it: its tokens filled as an
// anonymous visitor sees them (every one takes its default), and its form
// posting to the site's handler.
func (t *Target) sitePage(rec livePage) string {
	return wireForm(liquid.Render(rec.HTML, nil, "", true), rec.ID)
}

// unrenderable lists what in an email or page local would show its
// recipients literally: constructs outside lastmile's personalization
// language, the list the governance check reports for local.
func unrenderable(obj sandbox.Object) []string {
	var fields map[string]string
	switch {
	case obj.Email != nil:
		fields = map[string]string{"subject": obj.Email.Subject, "preview_text": obj.Email.PreviewText, "html": obj.Email.HTML, "text": obj.Email.Text}
	case obj.Page != nil:
		fields = map[string]string{"title": obj.Page.Title, "html": obj.Page.HTML}
	}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		for _, u := range liquid.Unrenderable("local", fields[name]) {
			out = append(out, fmt.Sprintf("local cannot render %s in %s: %s; recipients would see it as written", termsafe.Text(u.Text, 60), name, u.Why))
		}
	}
	return out
}

// unstatic lists the workflow's add_to_segment and remove_from_segment
// steps whose segment is not a static list: its members are whoever
// matches its conditions, so a step cannot change them.
func (t *Target) unstatic(obj sandbox.Object) ([]string, error) {
	var out []string
	for _, st := range obj.Workflow.Steps {
		if st.Type != "add_to_segment" && st.Type != "remove_from_segment" {
			continue
		}
		segs, err := t.withLiveDefinitions(obj.Segments, []string{st.SegmentID})
		if err != nil {
			return nil, err
		}
		if s := segs[st.SegmentID]; s != nil && !staticSegment(s) {
			out = append(out, fmt.Sprintf("step %s changes segment %s, which has conditions: local, like HubSpot, adds contacts to and removes them from static segments (a list of addresses) only; use build_segment with static_emails", st.ID, st.SegmentID))
		}
	}
	return out, nil
}

// unrunnable tells the approver how local's clock starts the workflow:
// it runs every trigger and step type.
func unrunnable(w *sandbox.Workflow) []string {
	once := ", once"
	if w.Reenrol {
		once = "; a contact who finished enters again when it fires anew for them"
	}
	switch w.Trigger.Type {
	case "form_submission":
		return []string{"local enrols from the form's submissions to lastmile site (or serve --site), from the time the workflow is switched on" + once}
	case "date_property":
		return []string{"local enrols a contact on the day their " + w.Trigger.Property + " says" + once}
	case "manual":
		return []string{"local enrols the contacts a person names with lastmile enrol WORKFLOW_ID EMAIL…" + once}
	case "segment_entry":
		if w.Reenrol {
			return []string{"local enrols the segment's members now and those who enter later; a contact who finished, left and came back enters again"}
		}
	}
	return nil
}
