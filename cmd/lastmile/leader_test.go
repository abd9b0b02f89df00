package main

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lastmile/lastmile/store"
)

// sharedStore is a store several hosts share: it has locks.
type sharedStore struct {
	*store.Memory
	*store.MemoryLocks
}

// TestSchedulerRunsInOneReplica: of three replicas on one shared store,
// one runs the scheduler; when it loses its lock (it died, or stalled past
// its lease) its work is stopped and another takes over.
func TestSchedulerRunsInOneReplica(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := sharedStore{store.NewMemory(), store.NewMemoryLocks()}
	log := slog.New(slog.DiscardHandler)
	var running atomic.Int32
	started := make(chan int, 10)
	for i := range 3 {
		go whileLeading(ctx, st, log, schedulerLock, 10*time.Millisecond, func(ctx context.Context) {
			if n := running.Add(1); n != 1 {
				t.Errorf("%d replicas run the scheduler at once", n)
			}
			started <- i
			<-ctx.Done()
			running.Add(-1)
		})
	}
	first := waitStart(t, started)
	select {
	case i := <-started:
		t.Fatalf("replica %d started the scheduler while replica %d runs it", i, first)
	case <-time.After(100 * time.Millisecond):
	}
	st.Break(schedulerLock)
	if next := waitStart(t, started); running.Load() != 1 {
		t.Fatalf("replica %d took over, but %d run", next, running.Load())
	}
}

func waitStart(t *testing.T, started chan int) int {
	t.Helper()
	select {
	case i := <-started:
		return i
	case <-time.After(10 * time.Second):
		t.Fatal("no replica runs the scheduler")
		return -1
	}
}

// TestSchedulerWithoutSharedStore: over a store of one host every process
// runs the scheduler (file locks take turns), and whileLeading returns
// when the work does.
func TestSchedulerWithoutSharedStore(t *testing.T) {
	ran := false
	whileLeading(context.Background(), store.NewMemory(), slog.New(slog.DiscardHandler), schedulerLock, time.Millisecond, func(context.Context) { ran = true })
	if !ran {
		t.Fatal("the scheduler did not run")
	}
	st := sharedStore{store.NewMemory(), store.NewMemoryLocks()}
	done := make(chan struct{})
	go func() {
		whileLeading(context.Background(), st, slog.New(slog.DiscardHandler), schedulerLock, time.Millisecond, func(context.Context) {})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("whileLeading kept going after its work ended")
	}
	if l, err := st.TryLock(context.Background(), schedulerLock); err != nil {
		t.Fatalf("the lock was kept after the work ended: %v", err)
	} else {
		l.Unlock()
	}
}
