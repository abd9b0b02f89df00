// Package promotetest holds the scaffolding the connectors' exactly-once
// tests share: a sandbox over a data directory with one target, approving a
// plan, re-running the test binary as a promoting child to SIGKILL it, and
// the "interrupt a confirmation, then confirm again" driver. What a
// platform must end up holding is checked by each connector's own tests.
package promotetest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
)

// Timeout and LandingLag are what the slow-create tests give their targets:
// requests time out after Timeout and a write may land up to LandingLag
// after that, so LandWithin is 1.3 s, longer than any slow create they
// inject takes to commit.
const (
	Timeout    = time.Second
	LandingLag = 300 * time.Millisecond
)

// Open opens dir's store and a sandbox whose only target, name of type typ,
// newTarget makes; a nil log discards. The returned func closes the store.
func Open(t testing.TB, dir, name, typ string, log *slog.Logger, newTarget func() (sandbox.Target, error)) (*sandbox.Sandbox, func()) {
	t.Helper()
	st, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := newTarget()
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	cfg := sandbox.DefaultConfig()
	cfg.Targets[name] = sandbox.TargetConfig{Type: typ}
	sb, err := sandbox.New(sandbox.Options{Store: st, Config: cfg, Targets: map[string]sandbox.Target{name: tgt}, DataDir: dir, Logger: log})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	return sb, func() { st.Close() }
}

// Approve plans the promotion of campaign and approves the plan the way a
// user at the CLI does, with its code; it returns the plan's id.
func Approve(t testing.TB, sb *sandbox.Sandbox, campaign string) string {
	t.Helper()
	ctx := context.Background()
	p, err := sb.PlanPromotion(ctx, "agent", campaign)
	if err != nil {
		t.Fatal(err)
	}
	code, err := sb.PlanCode(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: code}); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// WaitFor polls cond for up to 20 s and fails the test if it never holds.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// Buffer is a goroutine-safe buffer for a child's output or a log.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The parent passes a child its arguments in the environment, each under
// argPrefix; envChild names the test the child runs.
const (
	argPrefix = "LASTMILE_PROMOTETEST_"
	envChild  = argPrefix + "CHILD"
)

// InChild reports whether this process is a child StartChild started, so a
// parent test can skip itself there.
func InChild() bool { return os.Getenv(envChild) != "" }

// Parent skips a test that starts child processes: in a child, where only
// the child's own test is to run, and with -short.
func Parent(t testing.TB) {
	t.Helper()
	if InChild() {
		t.Skip("child")
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
}

// Arg is the argument key StartChild passed this process, "" in a parent.
func Arg(key string) string { return os.Getenv(argPrefix + key) }

// Child is the test binary re-run to execute one test.
type Child struct {
	cmd    *exec.Cmd
	out    Buffer
	exited chan error
}

// StartChild re-runs the test binary to execute only the test named test,
// with args (key, value, key, value …) for Arg.
func StartChild(t testing.TB, test string, args ...string) *Child {
	t.Helper()
	if len(args)%2 != 0 {
		t.Fatalf("child args %q: want key, value pairs", args)
	}
	c := &Child{cmd: exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1"), exited: make(chan error, 1)}
	c.cmd.Env = append(os.Environ(), envChild+"="+test)
	for i := 0; i < len(args); i += 2 {
		c.cmd.Env = append(c.cmd.Env, argPrefix+args[i]+"="+args[i+1])
	}
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.exited <- c.cmd.Wait() }()
	return c
}

// KillWhen SIGKILLs the child as soon as reached holds and waits for it to
// be gone. The test fails if the child ends first: it never got to the
// point, described by at, where it was to die.
func (c *Child) KillWhen(t testing.TB, at string, reached func() bool) {
	t.Helper()
	for !reached() {
		select {
		case err := <-c.exited:
			t.Fatalf("the child ended before %s (%v):\n%s", at, err, c.out.String())
		case <-time.After(2 * time.Millisecond):
		}
	}
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-c.exited
}

// Opener opens a sandbox over dir whose target talks to the fake at base.
type Opener func(t testing.TB, dir, base string) (*sandbox.Sandbox, func())

// Promotion is an approved plan in a data directory, promoted into a fake.
type Promotion struct {
	Open            Opener
	Dir, Base, Plan string
	// Child names the test that runs ConfirmChild with Open.
	Child string
}

// ConfirmChild is the body of the child test Kill starts: it confirms the
// parent's plan and fails if that returns, since the parent kills it first.
func ConfirmChild(t *testing.T, open Opener) {
	dir := Arg("dir")
	if dir == "" {
		t.Skip("runs only as a killed promotion's child")
	}
	sb, done := open(t, dir, Arg("url"))
	defer done()
	_, err := sb.Confirm(context.Background(), "agent", Arg("plan"), nil)
	t.Fatalf("the child should have been killed during the promotion; confirm returned %v", err)
}

// Kill confirms the plan in a child process and SIGKILLs it once reached
// holds; at says what that point is.
func (p Promotion) Kill(t testing.TB, at string, reached func() bool) {
	t.Helper()
	StartChild(t, p.Child, "dir", p.Dir, "url", p.Base, "plan", p.Plan).KillWhen(t, at, reached)
}

// Cancel confirms the plan here and cancels the confirmation once reached
// holds; the confirmation must fail.
func (p Promotion) Cancel(t testing.TB, reached func() bool) {
	t.Helper()
	sb, done := p.Open(t, p.Dir, p.Base)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for !reached() && ctx.Err() == nil {
			time.Sleep(2 * time.Millisecond)
		}
		cancel()
	}()
	_, err := sb.Confirm(ctx, "agent", p.Plan, nil)
	cancel()
	done()
	if err == nil {
		t.Fatal("the cancelled confirmation succeeded")
	}
}

// ConfirmAgain confirms the plan at once, as a user would after the
// interruption, and fails the test if that fails.
//
// A refusal as busy is retried for a while: the journal's lock is an
// flock, held by every process sharing the open file, and a child another
// parallel case is starting shares it from fork until exec closes it; a
// person would simply confirm again.
func (p Promotion) ConfirmAgain(t testing.TB) {
	t.Helper()
	sb, done := p.Open(t, p.Dir, p.Base)
	defer done()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, err := sb.Confirm(context.Background(), "agent", p.Plan, nil)
		var re *sandbox.RefusedError
		if errors.As(err, &re) && re.Code == sandbox.RefusedBusy && time.Now().Before(deadline) {
			continue
		}
		if err != nil {
			t.Fatalf("confirming again: %v", err)
		}
		return
	}
}

// SlowFake is a fake that can hold a write: it is applying while a slow
// create is in flight and has applied once that create has committed.
type SlowFake interface {
	Applying() int
	Applied() int
}

// KillOrCancelSlowCreate interrupts the confirmation (how is "kill" or
// "cancel") while fake's one slow create is in flight, checks the create
// had not committed by then, confirms again and waits for the create to
// commit. The caller then checks the platform holds exactly the plan.
func (p Promotion) KillOrCancelSlowCreate(t testing.TB, how string, fake SlowFake) {
	t.Helper()
	inFlight := func() bool { return fake.Applying() > 0 }
	switch how {
	case "kill":
		p.Kill(t, "the slow create", inFlight)
	case "cancel":
		p.Cancel(t, inFlight)
	default:
		t.Fatalf("interrupt by %q: want kill or cancel", how)
	}
	if fake.Applied() != 0 {
		t.Fatal("the slow create committed before the promoter was gone; the test proves nothing")
	}
	p.ConfirmAgain(t)
	WaitFor(t, "the slow create to commit", func() bool { return fake.Applying() == 0 && fake.Applied() == 1 })
}
