package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/lastmile/lastmile/clock"
	"github.com/lastmile/lastmile/store"
)

// schedulerLock names the lock the scheduler runs under; schedulerRetry
// is how often a replica without it tries to take it.
const (
	schedulerLock  = "scheduler"
	schedulerRetry = 2 * time.Second
)

// runScheduler is serve's scheduled work, until ctx ends: the clock's
// ticks of the targets that do time-based work, and outcome syncs.
func runScheduler(ctx context.Context, a *app, now func() time.Time, cf clockFlags) {
	var wg sync.WaitGroup
	if tickers := clock.Tickers(a.targets); len(tickers) > 0 {
		clockNow := now
		if clockNow == nil {
			clockNow = time.Now
		}
		wg.Go(func() { clock.Run(ctx, tickers, clockNow, cf.every, a.log) })
	}
	wg.Go(func() { syncOutcomes(ctx, a, cf.sync) })
	wg.Wait()
}

// whileLeading runs work (the scheduler: the clock's ticks and outcome
// syncs) in one process of all those sharing a store that several hosts
// share: the one holding the store's lock called name. The others try
// for it every retry and take over once its holder dies or loses it; work
// is cancelled as soon as the lock is lost. Every piece of scheduled work
// is idempotent (each send and step is recorded as done, each event is
// keyed), so the moment a stalled holder and its successor overlap does
// nothing twice. Over a store of one host (bbolt), every process runs work
// and file locks take turns.
func whileLeading(ctx context.Context, st store.Store, log *slog.Logger, name string, retry time.Duration, work func(context.Context)) {
	locker, ok := st.(store.Locker)
	if !ok {
		work(ctx)
		return
	}
	waiting := false
	for ctx.Err() == nil {
		lock, err := locker.TryLock(ctx, name)
		switch {
		case err == nil:
			waiting = false
			log.Info("this replica runs the scheduler", "lock", name)
			if !lead(ctx, lock, log, name, work) {
				return // the work is done, or ctx ended
			}
			continue
		case errors.Is(err, store.ErrLocked):
			if !waiting {
				log.Info("another replica runs the scheduler; this one takes over if it stops", "lock", name)
				waiting = true
			}
		case ctx.Err() == nil:
			log.Warn("could not take the scheduler's lock; trying again", "lock", name, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}

// lead runs work until it returns, ctx ends or the lock is lost, then
// lets go of the lock; lost says it was lost.
func lead(ctx context.Context, lock store.Lock, log *slog.Logger, name string, work func(context.Context)) (lost bool) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); work(wctx) }()
	select {
	case <-done:
	case <-lock.Lost():
		log.Warn("this replica lost the scheduler's lock; stopping its scheduled work", "lock", name)
		cancel()
		<-done
		lost = true
	case <-ctx.Done():
		<-done
	}
	if err := lock.Unlock(); err != nil {
		log.Warn("letting go of the scheduler's lock", "lock", name, "err", err)
	}
	return lost
}
