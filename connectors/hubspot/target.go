package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// Assess checks an object at planning time: what HubSpot cannot express
// (Problems), what the approver must know (Notes), and the audience size
// when HubSpot can tell. It only reads.
func (t *Target) Assess(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	a := sandbox.Assessment{AudienceSize: -1}
	if !t.Capabilities().Supports(obj.Kind) {
		a.Problems = append(a.Problems, t.capabilityProblem(obj.Kind))
		return a, nil
	}
	var err error
	switch obj.Kind {
	case sandbox.KindEmail:
		err = t.assessEmail(ctx, obj, &a)
	case sandbox.KindSegment:
		err = t.assessSegment(ctx, obj, &a)
	case sandbox.KindWorkflow:
		err = t.assessFlow(ctx, obj, &a)
	case sandbox.KindPage:
		err = t.assessPage(ctx, obj, &a)
	default:
		a.Problems = append(a.Problems, fmt.Sprintf("HubSpot has nothing for artifacts of kind %q", obj.Kind))
	}
	return a, err
}

func (t *Target) capabilityProblem(k sandbox.Kind) string {
	key := map[sandbox.Kind]string{sandbox.KindEmail: "emails", sandbox.KindSegment: "segments", sandbox.KindWorkflow: "workflows", sandbox.KindPage: "pages"}[k]
	what := map[sandbox.Kind]string{sandbox.KindEmail: "marketing emails", sandbox.KindSegment: "contact lists", sandbox.KindWorkflow: "workflows", sandbox.KindPage: "landing pages"}[k]
	msg := fmt.Sprintf("this HubSpot connection cannot create %s", what)
	if m := t.portalInfo().MissingScopes[key]; len(m) > 0 {
		msg += fmt.Sprintf(": it lacks the scope(s) %s; reconnect with lastmile connect hubspot --name %s and grant them", strings.Join(m, ", "), t.name)
	} else if k == sandbox.KindWorkflow {
		msg += ": HubSpot's workflows API needs a Professional or Enterprise portal; use the local target for this workflow, or upgrade and run lastmile connect hubspot again"
	}
	return msg
}

func wrongKind(obj sandbox.Object) error {
	return fmt.Errorf("hubspot: %s %s has no %s content", obj.Kind, obj.ArtifactID, obj.Kind)
}

// Live reads the live object.
func (t *Target) Live(ctx context.Context, kind sandbox.Kind, liveID string) (sandbox.LiveState, bool, error) {
	if liveID == "" {
		return sandbox.LiveState{}, false, nil
	}
	switch kind {
	case sandbox.KindEmail:
		return t.liveEmail(ctx, liveID)
	case sandbox.KindSegment:
		return t.liveList(ctx, liveID)
	case sandbox.KindWorkflow:
		return t.liveFlow(ctx, liveID)
	case sandbox.KindPage:
		return t.livePage(ctx, liveID)
	}
	return sandbox.LiveState{}, false, fmt.Errorf("hubspot: no live objects of kind %q: %w", kind, sandbox.ErrNotSupported)
}

// Find looks for the object an interrupted attempt may have created.
func (t *Target) Find(ctx context.Context, obj sandbox.Object) (sandbox.LiveState, bool, error) {
	switch obj.Kind {
	case sandbox.KindEmail:
		return t.findEmail(ctx, obj)
	case sandbox.KindSegment:
		return t.findList(ctx, obj)
	case sandbox.KindWorkflow:
		return t.findFlow(ctx, obj)
	case sandbox.KindPage:
		return t.findPage(ctx, obj)
	}
	return sandbox.LiveState{}, false, fmt.Errorf("hubspot: cannot look for objects of kind %q: %w", obj.Kind, sandbox.ErrNotSupported)
}

// Put creates the object (liveID empty) or updates it.
func (t *Target) Put(ctx context.Context, obj sandbox.Object, liveID string) (sandbox.LiveState, error) {
	switch obj.Kind {
	case sandbox.KindEmail:
		return t.putEmail(ctx, obj, liveID)
	case sandbox.KindSegment:
		return t.putList(ctx, obj, liveID)
	case sandbox.KindWorkflow:
		return t.putFlow(ctx, obj, liveID)
	case sandbox.KindPage:
		return t.putPage(ctx, obj, liveID)
	}
	return sandbox.LiveState{}, fmt.Errorf("hubspot: cannot create objects of kind %q: %w", obj.Kind, sandbox.ErrNotSupported)
}

// Send sends or schedules an email. See sendEmail.
func (t *Target) Send(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	if obj.Kind != sandbox.KindEmail {
		return live, fmt.Errorf("hubspot: only emails are sent, not a %s: %w", obj.Kind, sandbox.ErrNotSupported)
	}
	return t.sendEmail(ctx, obj, live, at)
}

// Publish publishes a page (now or at a time) or turns a workflow on.
func (t *Target) Publish(ctx context.Context, obj sandbox.Object, live sandbox.LiveState, at time.Time) (sandbox.LiveState, error) {
	switch obj.Kind {
	case sandbox.KindPage:
		return t.publishPage(ctx, obj, live, at)
	case sandbox.KindWorkflow:
		return t.enableFlow(ctx, obj, live)
	}
	return live, fmt.Errorf("hubspot: a %s is not published: %w", obj.Kind, sandbox.ErrNotSupported)
}

// maxCreates bounds how often an ambiguous create is looked up and tried again.
const maxCreates = 5

// create performs a create that HubSpot cannot make idempotent. When it
// fails ambiguously (timeout, dropped connection, 5xx) the object is looked
// up by its marker first and only created again when it is not there; when
// HubSpot answers that the name or slug exists (conflict), the lookup tells
// whether it is ours from an earlier attempt.
//
// An ambiguous create may still be applied after HubSpot failed to answer
// it, and a lookup before then finds nothing: the lookup waits until kind's
// landing window (LandWithin) since the request was sent has passed.
func (t *Target) create(ctx context.Context, op string, kind sandbox.Kind,
	post func() (sandbox.LiveState, error),
	find func() (sandbox.LiveState, bool, error),
	exists func(error) bool,
) (sandbox.LiveState, error) {
	for attempt := 1; ; attempt++ {
		sent := t.now()
		st, err := post()
		if err == nil {
			return st, nil
		}
		ambiguous := errors.Is(err, rest.ErrAmbiguous)
		clash := exists != nil && exists(err)
		if !ambiguous && !clash {
			return sandbox.LiveState{}, t.fail(op, err)
		}
		if ambiguous {
			if wait := sent.Add(t.LandWithin(kind)).Sub(t.now()); wait > 0 {
				t.log.Info("hubspot: a create failed ambiguously; waiting out its landing window before looking it up", "target", t.name, "op", op, "wait", wait)
				if err := t.pause(ctx, wait); err != nil {
					return sandbox.LiveState{}, t.fail(op, err)
				}
			}
		}
		found, ok, ferr := find()
		if ferr != nil {
			return sandbox.LiveState{}, t.fail(op+" (looking for an earlier attempt's object)", ferr)
		}
		if ok {
			t.log.Info("hubspot: found the object an earlier attempt created", "target", t.name, "op", op, "id", found.ID)
			return found, nil
		}
		if !ambiguous || attempt >= maxCreates {
			return sandbox.LiveState{}, t.fail(op, err)
		}
		t.log.Warn("hubspot: create failed ambiguously and nothing was created; trying again", "target", t.name, "op", op, "attempt", attempt)
		if err := t.backoff(ctx, attempt); err != nil {
			return sandbox.LiveState{}, t.fail(op, err)
		}
	}
}

func (t *Target) backoff(ctx context.Context, attempt int) error {
	d := t.o.baseDelay
	if d <= 0 {
		d = 250 * time.Millisecond
	}
	d <<= attempt - 1
	if limit := max(t.o.maxDelay, 10*time.Second); d > limit {
		d = limit
	}
	return t.pause(ctx, d)
}

func (t *Target) pause(ctx context.Context, d time.Duration) error {
	if t.o.sleep != nil {
		return t.o.sleep(ctx, d)
	}
	return sleepCtx(ctx, d)
}

// pageThrough reads every page of a cursor-paged listing until visit says
// stop. basePath may already carry a query string.
func (t *Target) pageThrough(ctx context.Context, basePath string, visit func(raw []byte) (next string, stop bool, err error)) error {
	after := ""
	for range 10000 {
		p := basePath
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		if after != "" {
			p += sep + "after=" + url.QueryEscape(after)
		}
		resp, err := t.do(ctx, call{method: "GET", path: p}, nil)
		if err != nil {
			return err
		}
		next, stop, err := visit(resp.Body)
		if err != nil || stop || next == "" {
			return err
		}
		after = next
	}
	return errors.New("HubSpot's listing did not end after 10000 pages")
}

type paging struct {
	Next *struct {
		After string `json:"after"`
	} `json:"next"`
}

func (p *paging) after() string {
	if p == nil || p.Next == nil {
		return ""
	}
	return p.Next.After
}
