package main

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/clock"
	"github.com/lastmile/lastmile/internal/memlimit"
	"github.com/lastmile/lastmile/review"
	"github.com/lastmile/lastmile/tools"
)

func serveCommand(e *env) *cobra.Command {
	var c common
	var httpAddr string
	var rf reviewFlags
	var cf clockFlags
	var siteAddr string
	var mf modeFlags
	cmd := &cobra.Command{
		Use:   "serve [--http ADDR] [--review ADDR] [--read-only] [--toolsets LIST]",
		Short: "run the MCP server (stdio; streamable HTTP with --http)",
		Long: "Run the MCP server. Over stdio (what Claude and other clients start) stdout carries only the\n" +
			"protocol and logs go to stderr. A data directory without a config is initialized first.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			modes, err := mf.options()
			if err != nil {
				return err
			}
			return runServe(cmd.Context(), e, c, httpAddr, rf, cf, siteAddr, modes)
		},
	}
	c.register(cmd, dataDirHelp)
	cmd.Flags().StringVar(&rf.addr, "review", "", "also serve the review page on `ADDR`, e.g. "+review.DefaultAddr)
	cmd.Flags().StringVar(&rf.origin, "review-origin", "", "the review page's public `URL`, behind a TLS proxy")
	cf.register(cmd)
	cmd.Flags().StringVar(&siteAddr, "site", "", "also serve the local target's site (pages, forms, unsubscribe) on `ADDR`, e.g. "+defaultSiteAddr)
	cmd.Flags().StringVar(&httpAddr, "http", "", "serve streamable HTTP on `ADDR` (path /mcp) instead of stdio, e.g. 127.0.0.1:8765")
	cmd.Flags().BoolVar(&mf.readOnly, "read-only", false, "serve only the tools that read (nothing can be staged, planned or promoted)")
	cmd.Flags().StringVar(&mf.toolsets, "toolsets", tools.ToolsetAll, "serve only these comma-separated toolsets: `LIST` of "+strings.Join(tools.ToolsetNames(), ", "))
	return cmd
}

// modeFlags are serve's safe modes: --read-only and --toolsets.
type modeFlags struct {
	readOnly bool
	toolsets string
}

// options checks the flags before anything starts: an unknown toolset is
// a usage error that lists the valid ones.
func (m modeFlags) options() (tools.Options, error) {
	ts, err := tools.ParseToolsets(m.toolsets)
	if err != nil {
		return tools.Options{}, usagef("%v", err)
	}
	return tools.Options{ReadOnly: m.readOnly, Toolsets: ts}, nil
}

func runServe(ctx context.Context, e *env, c common, httpAddr string, rf reviewFlags, cf clockFlags, siteAddr string, modes tools.Options) error {
	memlimit.Keep(ctx, e.getenv, 10*time.Second)
	now, err := cf.now()
	if err != nil {
		return err
	}
	if err := ensureInitialized(e, c); err != nil {
		return err
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
	o, err := serveOptions(e, c)
	if err != nil {
		return err
	}
	o.now = now
	if siteAddr != "" {
		o.siteURL = siteOrigin(siteAddr)
	}
	reviewOrigin := rf.originFor(cmp.Or(rf.addr, review.DefaultAddr))
	o.reviewURL = func(id string) string { return reviewOrigin + "/plans/" + url.PathEscape(id) }
	a, err := openApp(e, c, o)
	if err != nil {
		return err
	}
	defer a.Close()
	// The clock does the local target's scheduled sends and workflow steps
	// while the server runs.
	if tickers := clock.Tickers(a.targets); len(tickers) > 0 {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		clockNow := now
		if clockNow == nil {
			clockNow = time.Now
		}
		go clock.Run(ctx, tickers, clockNow, cf.every, a.log)
	}
	// Outcomes are read from every target that reports them, local or not.
	syncCtx, stopSync := context.WithCancel(ctx)
	defer stopSync()
	go syncOutcomes(syncCtx, a, cf.sync)
	if siteAddr != "" {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			if err := serveSite(ctx, e, a, siteAddr); err != nil {
				a.log.Error("the site stopped", "err", err)
			}
		}()
	}
	if rf.addr != "" {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			if err := serveReview(ctx, e, a, rf.addr, rf.originFor(rf.addr)); err != nil {
				a.log.Error("the review page stopped", "err", err)
			}
		}()
	}
	if httpAddr != "" {
		return serveHTTP(ctx, e, a, httpAddr, rf.addr != "", modes)
	}
	a.log.Info("lastmile serving MCP on stdio", "version", versionString(), "data_dir", a.dir, "targets", a.sb.TargetNames(), "read_only", modes.ReadOnly, "toolsets", toolsetsLog(modes))
	s := tools.New(a.sb, tools.Options{Version: versionString(), Logger: a.log, ReviewServed: rf.addr != "", ReadOnly: modes.ReadOnly, Toolsets: modes.Toolsets})
	done := make(chan error, 1)
	go func() { done <- tools.ServeStdio(ctx, s, e.stdin, e.stdout, a.log) }()
	select {
	case err := <-done:
		return err // nil when the client closed stdin
	case <-ctx.Done():
		// A signal: a promotion cut short here resumes on the next confirm.
		a.log.Info("lastmile stopping", "reason", context.Cause(ctx))
		return nil
	}
}

// serveOptions: when the server's data directory is not the one a person's
// terminal finds by default, the approve command relayed to them names it.
func serveOptions(e *env, c common) (openOptions, error) {
	dir, err := resolveDataDir(c.dataDir, e.getenv)
	if err != nil {
		return openOptions{}, err
	}
	if def, err := defaultDataDir(e.getenv); err != nil || def != dir {
		return openOptions{approveArgs: []string{"--data-dir", dir}}, nil
	}
	return openOptions{}, nil
}

// serveHTTP serves streamable HTTP at /mcp, for agent frameworks that do not
// spawn processes. It has no authentication of its own: bind it to loopback,
// or put it behind a proxy that authenticates. (mcp-go refuses requests to a
// loopback listener that name another Host, against DNS rebinding.)
func serveHTTP(ctx context.Context, e *env, a *app, addr string, reviewServed bool, modes tools.Options) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--http %q: %w (write host:port, e.g. 127.0.0.1:8765)", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		a.log.Warn("serving MCP over HTTP on a non-loopback address without authentication; put an authenticating proxy in front", "addr", addr)
	}
	s := tools.New(a.sb, tools.Options{Version: versionString(), Logger: a.log, ReviewServed: reviewServed, ReadOnly: modes.ReadOnly, Toolsets: modes.Toolsets})
	h := server.NewStreamableHTTPServer(s, server.WithEndpointPath("/mcp"))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: tools.Checked(s, h), ReadHeaderTimeout: 10 * time.Second}
	a.log.Info("lastmile serving MCP over streamable HTTP", "read_only", modes.ReadOnly, "toolsets", toolsetsLog(modes), "version", versionString(), "url", "http://"+ln.Addr().String()+"/mcp", "data_dir", a.dir, "targets", a.sb.TargetNames())
	fmt.Fprintf(e.stderr, "lastmile: MCP endpoint http://%s/mcp\n", ln.Addr())
	return serveUntil(ctx, srv, ln, 10*time.Second)
}

// serveUntil serves ln until ctx ends, then shuts srv down, letting
// requests under way finish for at most grace.
func serveUntil(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		return srv.Shutdown(shut)
	}
}

func toolsetsLog(o tools.Options) string {
	if o.Toolsets == nil {
		return tools.ToolsetAll
	}
	return strings.Join(o.Toolsets, ",")
}
