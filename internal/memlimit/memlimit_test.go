package memlimit

import (
	"context"
	"math"
	"runtime/debug"
	"testing"
	"time"
)

// The long-running commands set their soft memory limit unless GOMEMLIMIT
// is the user's, and raise it above a live heap larger than the floor.
func TestKeep(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	debug.SetMemoryLimit(math.MaxInt64)
	Keep(ctx, func(k string) string { return map[string]string{"GOMEMLIMIT": "1GiB"}[k] }, time.Hour)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set, the limit became %d", got)
	}
	Keep(ctx, func(string) string { return "" }, time.Hour)
	if got := debug.SetMemoryLimit(-1); got != Floor {
		t.Errorf("the limit is %d, want %d", got, Floor)
	}
	for _, c := range []struct{ live, want int64 }{{0, Floor}, {Floor, Floor + Floor/4}, {128 << 20, 160 << 20}} {
		if got := For(c.live); got != c.want {
			t.Errorf("For(%d) = %d, want %d", c.live, got, c.want)
		}
	}
}
