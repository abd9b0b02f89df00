package mailchimp

import (
	"context"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// LandingLag is how long after lastmile's request timeout a create may
// still take effect on Mailchimp. Mailchimp documents no commit or search
// lag, and no server-side limit on how long it works on a request after the
// client has gone. Its own SDK waits 120 s for an answer (ApiClient.js of
// mailchimp-marketing; see docs/connectors/mailchimp.md), so 120 s is the
// longest Mailchimp expects a request to take, and the bound used here.
const LandingLag = 120 * time.Second

var _ sandbox.Landing = (*Target)(nil)

// LandWithin is how long after a create was sent it may still appear: the
// request timeout plus LandingLag, for campaigns and segments alike. Neither
// has a uniqueness Mailchimp enforces that could stop a second create
// (campaign titles and segment names may repeat), so a resumed promotion
// waits this out before it looks for the marker.
func (t *Target) LandWithin(kind sandbox.Kind) time.Duration {
	return t.timeout + t.lag
}

// awaitLanding looks for a create that failed ambiguously until it turns up
// or its landing window (LandWithin since sent) has passed. Only then may
// the create be tried again without risking a second object. Time waited is
// counted by the sleeps as well as by the clock, so a test's clock that
// stands still (and a sleep that returns at once) still ends the wait.
func (t *Target) awaitLanding(ctx context.Context, kind sandbox.Kind, sent time.Time, look func(context.Context) (bool, error)) (bool, error) {
	window := t.LandWithin(kind)
	poll := min(max(window/30, 50*time.Millisecond), 5*time.Second)
	var slept time.Duration
	for {
		found, err := look(ctx)
		if err != nil || found {
			return found, err
		}
		waited := max(t.now().Sub(sent), slept)
		if waited >= window {
			return false, nil
		}
		d := min(poll, window-waited)
		if err := t.wait(ctx, d); err != nil {
			return false, err
		}
		slept += d
	}
}

func (t *Target) wait(ctx context.Context, d time.Duration) error {
	if t.sleep != nil {
		return t.sleep(ctx, d)
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}
