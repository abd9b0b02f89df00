package sandbox_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store/pgtest"
)

// Replicas on one PostgreSQL database: each process has its own
// connection to the store (and here one local target directory, so that
// "live" is one place to count).

// TestReplicasConfirmOnce: two replicas confirm one approved plan at the
// same moment: one promotes it, the other is refused as busy or finds it
// promoted; every artifact is live once and nobody is mailed twice.
func TestReplicasConfirmOnce(t *testing.T) {
	u := pgtest.Schema(t) + "&lastmile_lease=2s"
	t.Setenv(envCrashStore, u) // verifyPromoted opens the same store
	dir := t.TempDir()
	a := openEnv(t, dir, envOptions{storeURL: u})
	c := stageCampaign(t, a, "Twice")
	p := planAndApprove(t, a, c.id)
	b := openEnv(t, dir, envOptions{storeURL: u})

	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]*sandbox.PromotionResult, 2)
	errs := make([]error, 2)
	for i, e := range []*env{a, b} {
		wg.Go(func() {
			<-start
			results[i], errs[i] = e.sb.Confirm(context.Background(), "agent", p.ID, nil)
		})
	}
	close(start)
	wg.Wait()
	promoted := 0
	for i := range 2 {
		var re *sandbox.RefusedError
		switch {
		case errs[i] == nil && !results[i].AlreadyPromoted:
			promoted++
		case errs[i] == nil && results[i].AlreadyPromoted:
		case errors.As(errs[i], &re) && re.Code == sandbox.RefusedBusy:
		default:
			t.Fatalf("replica %d: %+v, %v", i, results[i], errs[i])
		}
	}
	if promoted != 1 {
		t.Fatalf("%d replicas promoted the plan, want exactly 1", promoted)
	}
	noJournalFiles(t, dir)
	verifyPromoted(t, dir, prepared{dir: dir, plan: p, c: c})
}

// TestReplicaKilledMidPromotion: the promoting replica is SIGKILLed in the
// middle of promotion. Another replica is refused while the dead one's
// lease runs, then takes the promotion over and finishes it exactly once.
func TestReplicaKilledMidPromotion(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes")
	}
	for _, at := range []int{3, 17, 40} {
		t.Run("", func(t *testing.T) {
			u := pgtest.Schema(t) + "&lastmile_lease=1s"
			t.Setenv(envCrashStore, u)
			dir := t.TempDir()
			e := openEnv(t, dir, envOptions{storeURL: u})
			c := stageCampaign(t, e, "Killed")
			p := planAndApprove(t, e, c.id)
			if killed, _ := child(t, dir, p.ID, at, 1); !killed {
				t.Fatalf("the promoting replica was not killed at hook point %d", at)
			}
			other := openEnv(t, dir, envOptions{storeURL: u})
			busy := 0
			deadline := time.Now().Add(20 * time.Second)
			for {
				res, err := other.sb.Confirm(context.Background(), "agent", p.ID, nil)
				var re *sandbox.RefusedError
				if errors.As(err, &re) && re.Code == sandbox.RefusedBusy && time.Now().Before(deadline) {
					busy++
					time.Sleep(100 * time.Millisecond)
					continue
				}
				if err != nil {
					t.Fatalf("the other replica's confirm: %v", err)
				}
				if !res.Resumed || res.Status != sandbox.PlanPromoted {
					t.Fatalf("the other replica's confirm: resumed=%v status=%s, want a resumed promotion", res.Resumed, res.Status)
				}
				break
			}
			t.Logf("refused as busy %d times while the dead replica's lease ran", busy)
			noJournalFiles(t, dir)
			verifyPromoted(t, dir, prepared{dir: dir, plan: p, c: c})
		})
	}
}

// noJournalFiles: the replicas took turns through the database's leases,
// not through a lock file that replicas on other hosts would not share.
func noJournalFiles(t *testing.T, dir string) {
	t.Helper()
	if files, _ := filepath.Glob(filepath.Join(dir, "journal", "*")); len(files) > 0 {
		t.Fatalf("promotion journals were written as files beside a PostgreSQL store: %v", files)
	}
}
