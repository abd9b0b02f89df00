package main

import (
	"context"
	"math"
	"runtime/debug"
	"testing"
)

// The long-running commands set their soft memory limit unless GOMEMLIMIT
// is the user's.
func TestLimitMemory(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	debug.SetMemoryLimit(math.MaxInt64)
	limitMemory(ctx, func(k string) string { return map[string]string{"GOMEMLIMIT": "1GiB"}[k] })
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set, the limit became %d", got)
	}
	limitMemory(ctx, func(string) string { return "" })
	if got := debug.SetMemoryLimit(-1); got != serverMemoryLimit {
		t.Errorf("the limit is %d, want %d", got, serverMemoryLimit)
	}
}
