package main

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/pprof"

	"github.com/lastmile/lastmile/tools"
)

func cmdServe(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlags(e, "serve", "serve [--data-dir DIR]")
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := ensureInitialized(e, c); err != nil {
		return err
	}
	// A server's live heap is a few MB: collecting at 3× it instead of 2×
	// cuts GC work per request; the soft limit keeps a long session's
	// resident memory under 40 MB whatever the collector would like.
	if e.getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if e.getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(40 << 20)
	}
	// LASTMILE_CPUPROFILE=file writes a CPU profile of the whole session
	// (how docs/benchmarks.md's figures were investigated).
	if path := e.getenv("LASTMILE_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	a, err := openApp(e, c, openOptions{})
	if err != nil {
		return err
	}
	defer a.Close()
	a.log.Info("lastmile serving MCP on stdio", "version", buildVersion(), "data_dir", a.dir, "targets", a.sb.TargetNames())
	delivery := tools.NewDelivery()
	s := tools.New(a.sb, tools.Options{Version: buildVersion(), Logger: a.log, Delivery: delivery})
	done := make(chan error, 1)
	go func() { done <- tools.ServeStdio(ctx, s, e.stdin, delivery.Writer(e.stdout), a.log) }()
	select {
	case err := <-done:
		return err // nil when the client closed stdin
	case <-ctx.Done():
		// A signal: a promotion cut short here resumes on the next confirm.
		a.log.Info("lastmile stopping", "reason", context.Cause(ctx))
		return nil
	}
}
