package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/clock"
	"github.com/lastmile/lastmile/internal/memlimit"
)

// clockFlags are how a command tells time: the wall clock, or a simulated
// one (for rehearsals and the demo) that starts at --clock-start and runs
// --clock-rate times faster.
type clockFlags struct {
	start string
	rate  float64
	every time.Duration
	sync  time.Duration
}

func (f *clockFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.start, "clock-start", "", "run a simulated clock from `TIME` (RFC 3339), for rehearsals: scheduled sends and workflow waits follow it")
	cmd.Flags().Float64Var(&f.rate, "clock-rate", 1, "how many simulated seconds pass each second (with --clock-start), e.g. 3600")
	cmd.Flags().DurationVar(&f.every, "tick", 30*time.Second, "how often the clock does due work (scheduled sends, workflow steps)")
	cmd.Flags().DurationVar(&f.sync, "sync", 15*time.Minute, "how often outcomes (engagement, deals, purchases) are read from the targets; 0 turns it off")
}

// now is the clock the flags ask for; nil for the wall clock.
func (f *clockFlags) now() (func() time.Time, error) {
	if f.every <= 0 {
		return nil, usagef("--tick must be positive")
	}
	if f.sync < 0 || (f.sync > 0 && f.sync < time.Minute) {
		return nil, usagef("--sync must be at least 1m (platforms' rate limits), or 0 for off")
	}
	if f.start == "" {
		if f.rate != 1 {
			return nil, usagef("--clock-rate needs --clock-start")
		}
		return nil, nil
	}
	at, err := time.Parse(time.RFC3339, f.start)
	if err != nil {
		return nil, usagef("--clock-start %q is not an RFC 3339 time, e.g. 2027-03-01T09:00:00Z", f.start)
	}
	if f.rate <= 0 {
		return nil, usagef("--clock-rate must be positive")
	}
	return clock.NewSimulated(at, f.rate).Now, nil
}

func runCommand(e *env) *cobra.Command {
	var c common
	var cf clockFlags
	cmd := &cobra.Command{
		Use:   "run [--tick D] [--clock-start TIME --clock-rate N]",
		Short: "run lastmile's clock without an MCP client: scheduled sends and workflows on the local target",
		Long: "Run the clock that lastmile serve also runs: the local target's scheduled sends go out at their time\n" +
			"and its switched-on workflows enrol contacts and take their steps (waits, branches, emails). Each\n" +
			"piece of work happens once, however often the clock is stopped and started. Stop it with Ctrl-C.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			memlimit.Keep(cmd.Context(), e.getenv, 10*time.Second)
			now, err := cf.now()
			if err != nil {
				return err
			}
			a, err := openApp(e, c, openOptions{now: now})
			if err != nil {
				return err
			}
			defer a.Close()
			return runClock(cmd.Context(), e, a, now, cf)
		},
	}
	c.register(cmd, dataDirHelp)
	cf.register(cmd)
	return cmd
}

// runClock ticks the app's targets until ctx ends.
func runClock(ctx context.Context, e *env, a *app, now func() time.Time, cf clockFlags) error {
	if len(clock.Tickers(a.targets)) == 0 {
		return fmt.Errorf("no configured target does scheduled work itself (only local does)")
	}
	clockNow := now
	if clockNow == nil {
		clockNow = time.Now
	}
	fmt.Fprintf(e.stderr, "lastmile: clock running at %s, every %s\n", clockNow().Format(time.RFC3339), cf.every)
	whileLeading(ctx, a.st, a.log, schedulerLock, schedulerRetry, func(ctx context.Context) {
		runScheduler(ctx, a, now, cf)
	})
	return nil
}

// syncOutcomes reads the targets' outcomes and keeps a metrics snapshot
// of every live artifact every interval (of wall time: the platforms'
// rate limits are), until ctx ends; fetch_metrics and lastmile report read
// them on demand besides. A zero interval does nothing.
func syncOutcomes(ctx context.Context, a *app, every time.Duration) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		reps, err := a.sb.SyncOutcomes(ctx)
		if err != nil && ctx.Err() == nil {
			a.log.Warn("outcomes sync failed", "err", err)
		}
		for _, r := range reps {
			if r.New > 0 || len(r.Unknown) > 0 {
				a.log.Info("outcomes synced", "target", r.Target, "new", r.New, "unknown_types", len(r.Unknown), "problems", r.Problems)
			}
		}
		if _, err := a.sb.SnapshotMetrics(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("metrics snapshot incomplete", "err", err)
		}
	}
}
