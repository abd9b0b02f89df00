// Package clock is lastmile's clock: it says what time it is (the wall
// clock, or a simulated one that starts where it is told and runs faster)
// and, in lastmile serve and lastmile run, drives the targets that do
// time-based work themselves (local's scheduled sends and workflows).
package clock

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// Simulated is a clock that starts at Start and runs Rate times faster
// than the wall clock (Rate 3600: an hour a second).
type Simulated struct {
	mu    sync.Mutex
	start time.Time
	rate  float64
	began time.Time
	wall  func() time.Time
}

// NewSimulated starts a simulated clock now.
func NewSimulated(start time.Time, rate float64) *Simulated {
	if rate <= 0 {
		rate = 1
	}
	return &Simulated{start: start, rate: rate, began: time.Now(), wall: time.Now}
}

// Now is the simulated time.
func (s *Simulated) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.start.Add(time.Duration(float64(s.wall().Sub(s.began)) * s.rate))
}

// Tickers are the targets that do time-based work, by name.
func Tickers(targets map[string]sandbox.Target) map[string]sandbox.Ticker {
	out := map[string]sandbox.Ticker{}
	for name, t := range targets {
		if tk, ok := t.(sandbox.Ticker); ok {
			out[name] = tk
		}
	}
	return out
}

// Run ticks the targets every interval (of wall time) with now until ctx
// ends, logging what each tick did and every error; a failed tick is
// tried again at the next one.
func Run(ctx context.Context, tickers map[string]sandbox.Ticker, now func() time.Time, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		TickAll(ctx, tickers, now(), log)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// TickAll ticks every target once at now.
func TickAll(ctx context.Context, tickers map[string]sandbox.Ticker, now time.Time, log *slog.Logger) sandbox.TickReport {
	var total sandbox.TickReport
	for _, name := range slices.Sorted(maps.Keys(tickers)) {
		rep, err := tickers[name].Tick(ctx, now)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("clock: a target's scheduled work failed; it is tried again at the next tick", "target", name, "err", err)
			}
			continue
		}
		if rep != (sandbox.TickReport{}) {
			log.Info("clock: scheduled work done", "target", name, "at", now.Format(time.RFC3339), "sent", rep.Sent, "enrolled", rep.Enrolled, "steps", rep.Steps)
		}
		total.Sent += rep.Sent
		total.Enrolled += rep.Enrolled
		total.Steps += rep.Steps
	}
	return total
}
