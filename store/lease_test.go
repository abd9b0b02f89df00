package store

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// A process killed while it waits for the lock leaves nothing behind that
// keeps others from leasing: the kernel drops its locks. (A count of
// waiters in shared memory stayed up when a waiter died, and every writer
// after it let go of the lock after each write, for good.)
func TestKilledWaiterLeavesTheLeaseWorking(t *testing.T) {
	if os.Getenv("LASTMILE_STORE_WAITER") != "" {
		return
	}
	dir := t.TempDir()
	a, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	var child *exec.Cmd
	err = a.Update(ctx, func(tx Tx) error {
		// Under the exclusive lock: a second process must wait.
		child = exec.Command(os.Args[0], "-test.run=^TestLeaseWaiterChild$", "-test.count=1")
		child.Env = append(os.Environ(), "LASTMILE_STORE_WAITER="+dir)
		if err := child.Start(); err != nil {
			return err
		}
		deadline := time.Now().Add(20 * time.Second)
		for !a.waiting() {
			if time.Now().After(deadline) {
				t.Fatal("the child never waited for the lock")
			}
			time.Sleep(time.Millisecond)
		}
		if err := child.Process.Kill(); err != nil {
			return err
		}
		child.Wait()
		return tx.Put("b", "k", []byte("v"))
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for a.waiting() {
		if time.Now().After(deadline) {
			t.Fatal("the killed process still counts as waiting")
		}
		time.Sleep(time.Millisecond)
	}
	// Writes keep the lease again: the next write finds the database open.
	leased := 0
	a.afterLock = func() {
		if a.held != nil {
			leased++
		}
	}
	for i := range 20 {
		if err := a.Update(ctx, func(tx Tx) error { return tx.Put("b", "k", []byte{byte(i)}) }); err != nil {
			t.Fatal(err)
		}
	}
	if leased == 0 {
		t.Fatal("no write found the lease of the write before it")
	}
}

// TestLeaseWaiterChild waits for the lock until killed.
func TestLeaseWaiterChild(t *testing.T) {
	dir := os.Getenv("LASTMILE_STORE_WAITER")
	if dir == "" {
		t.Skip("runs only as TestKilledWaiterLeavesTheLeaseWorking's child")
	}
	s, err := OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Update(context.Background(), func(tx Tx) error { return tx.Put("b", "child", []byte("1")) })
}
