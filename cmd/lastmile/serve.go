package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/spf13/cobra"

	"github.com/lastmile/lastmile/internal/mcpsession"
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
	var allowOrigins []string
	var rateLimit float64
	cmd := &cobra.Command{
		Use:   "serve [--http ADDR] [--review ADDR] [--read-only] [--toolsets LIST]",
		Short: "run the MCP server (stdio; streamable HTTP with --http)",
		Long: "Run the MCP server. Over stdio (what Claude and other clients start) stdout carries only the\n" +
			"protocol and logs go to stderr. A data directory without a config is initialized first.\n\n" +
			"With --http ADDR it serves streamable HTTP at http://ADDR/mcp instead. Every request to /mcp needs\n" +
			"Authorization: Bearer TOKEN (else 401) once the data directory has an access token that is not revoked\n" +
			"(lastmile tokens create) or config.yaml configures an OAuth authorization server (auth: issuer, resource);\n" +
			"a CORS preflight needs none. With OAuth, the Protected Resource Metadata is served at\n" +
			"/.well-known/oauth-protected-resource[/mcp]. With neither, only a loopback ADDR (127.0.0.1, [::1],\n" +
			"localhost) is served, without authentication; any other ADDR is refused until authentication is configured.\n" +
			"Revoking the last token does not open a running server: authentication stays on until it stops.\n" +
			"Paths other than /mcp are 404. A request whose Host is not a loopback name, or whose Origin header is\n" +
			"not the server's own or one given with --allow-origin, is 403 (against DNS rebinding); clients\n" +
			"that send no Origin are served. Sessions are issued by the server: a request with an unknown or\n" +
			"ended Mcp-Session-Id is 404, one without it after initialize is 400, and DELETE ends a session.\n" +
			"Sessions are kept in the store (every replica knows them) and belong to the token that began them.\n" +
			"In 2025-03-26 sessions (no MCP-Protocol-Version header) JSON-RPC batches are answered; later versions have none.\n" +
			"A request body over 4 MiB is 413. Over --rate-limit requests a second (per token; without one, all\n" +
			"loopback clients together) a request is 429 with Retry-After. On SIGTERM or Ctrl-C it stops taking requests and finishes\n" +
			"those under way (for up to 10 s).",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			modes, err := mf.options()
			if err != nil {
				return err
			}
			var hf httpFlags
			if httpAddr != "" {
				if hf.loopback, err = checkHTTPAddr(httpAddr); err != nil {
					return err
				}
				if hf.origins, err = parseOrigins(allowOrigins); err != nil {
					return err
				}
				if rateLimit < 0 {
					return usagef("--rate-limit %v: write requests per second, or 0 for no limit", rateLimit)
				}
				hf.addr, hf.rate = httpAddr, rateLimit
			} else if len(allowOrigins) > 0 || cmd.Flags().Changed("rate-limit") {
				return usagef("--allow-origin and --rate-limit apply to --http only")
			}
			return runServe(cmd.Context(), e, c, hf, rf, cf, siteAddr, modes)
		},
	}
	c.register(cmd, dataDirHelp)
	cmd.Flags().StringVar(&rf.addr, "review", "", "also serve the review page on `ADDR`, e.g. "+review.DefaultAddr)
	cmd.Flags().StringVar(&rf.origin, "review-origin", "", "the review page's public `URL`, behind a TLS proxy")
	cf.register(cmd)
	cmd.Flags().StringVar(&siteAddr, "site", "", "also serve the local target's site (pages, forms, unsubscribe) on `ADDR`, e.g. "+defaultSiteAddr)
	cmd.Flags().StringVar(&httpAddr, "http", "", "serve streamable HTTP on `ADDR` (path /mcp) instead of stdio, e.g. 127.0.0.1:8765")
	cmd.Flags().StringArrayVar(&allowOrigins, "allow-origin", nil, "with --http, also serve browser pages from origin `URL` (CORS too), e.g. https://agent.example.com (repeat for several)")
	cmd.Flags().Float64Var(&rateLimit, "rate-limit", defaultRateLimit, "with --http, answer at most `N` requests a second (bursts of 4N; 0: no limit), then 429 with Retry-After")
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

// httpFlags are serve's --http and --allow-origin, checked.
type httpFlags struct {
	addr     string
	loopback bool // addr is a loopback address
	origins  map[string]bool
	rate     float64 // requests a second; 0: no limit
}

// defaultRateLimit is far above what an agent's calls need, and low enough
// that a flood cannot keep the store busy for the people approving plans.
const defaultRateLimit = 50

func runServe(ctx context.Context, e *env, c common, hf httpFlags, rf reviewFlags, cf clockFlags, siteAddr string, modes tools.Options) error {
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
	var auth *httpAuth
	if hf.addr != "" {
		if auth, err = newHTTPAuth(ctx, e, a); err != nil {
			return err
		}
		if !hf.loopback {
			if err := checkAuthForAddr(hf.addr, auth); err != nil {
				return err
			}
		}
	}
	// The scheduler: the clock does the local target's scheduled sends and
	// workflow steps while the server runs, and outcomes are read from
	// every target that reports them, local or not. Among replicas on one
	// shared store, one runs it at a time.
	schedCtx, stopSched := context.WithCancel(ctx)
	defer stopSched()
	go whileLeading(schedCtx, a.st, a.log, schedulerLock, schedulerRetry, func(ctx context.Context) {
		runScheduler(ctx, a, now, cf)
	})
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
	if hf.addr != "" {
		return serveHTTP(ctx, e, a, hf, auth, rf.addr != "", modes)
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
// spawn processes. httpGuard does the transport's rules and, with auth,
// authentication (httpAuth says when it is needed).
func serveHTTP(ctx context.Context, e *env, a *app, hf httpFlags, auth *httpAuth, reviewServed bool, modes tools.Options) error {
	s := tools.New(a.sb, tools.Options{Version: versionString(), Logger: a.log, ReviewServed: reviewServed, ReadOnly: modes.ReadOnly, Toolsets: modes.Toolsets})
	// Sessions are kept in the store: ids a replica issued, and ended by
	// DELETE, are known to every replica, so an unknown or ended id is
	// refused wherever it arrives. mcp-go's localhost protection (on by
	// default) refuses a non-loopback Host.
	sessions := mcpsession.New(a.st, a.log, nil)
	ln, err := net.Listen("tcp", hf.addr)
	if err != nil {
		return err
	}
	origins := maps.Clone(hf.origins)
	for _, o := range ownOrigins(ln.Addr()) {
		origins[o] = true
	}
	if auth.oauth {
		// Pages served from the public URL's own origin.
		if u, err := url.Parse(auth.resource); err == nil {
			origins[strings.ToLower(u.Scheme+"://"+u.Host)] = true
		}
	}
	allowed := slices.Sorted(maps.Keys(origins))
	// A page from an allowed origin elsewhere needs CORS to read the
	// answers; the headers are the ones the transport's requests carry.
	cors := server.WithStreamableHTTPCORS(server.WithCORSAllowedOrigins(allowed...),
		server.WithCORSAllowedHeaders("Content-Type", server.HeaderKeySessionID, mcp.HeaderProtocolVersion, mcp.HeaderMethod, mcp.HeaderName, "Last-Event-ID"))
	h := server.NewStreamableHTTPServer(s, server.WithEndpointPath(mcpPath), server.WithSessionIdManagerResolver(sessions), cors)
	// Shutdown waits for handlers, and a GET stream never ends by itself;
	// ending the sessions instead would fail the requests still under way.
	streams, endStreams := context.WithCancel(context.Background())
	defer endStreams()
	g := &httpGuard{next: tools.Checked(s, h), origins: origins, sessions: sessions, streams: streams, auth: auth}
	if hf.rate > 0 {
		g.limits = newClientLimits(hf.rate)
	}
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(endStreams)
	a.log.Info("lastmile serving MCP over streamable HTTP", "read_only", modes.ReadOnly, "toolsets", toolsetsLog(modes), "version", versionString(), "url", "http://"+ln.Addr().String()+mcpPath, "data_dir", a.dir, "targets", a.sb.TargetNames(), "allowed_origins", strings.Join(allowed, ","), "auth", auth.describe())
	fmt.Fprintf(e.stderr, "lastmile: MCP endpoint http://%s%s\n", ln.Addr(), mcpPath)
	return serveUntil(ctx, a.log, srv, ln, 10*time.Second)
}

// serveUntil serves ln until ctx ends (SIGTERM, Ctrl-C), then stops taking
// requests and lets those under way finish for at most grace. A stop asked
// for is a clean exit even when grace runs out: a promotion cut short
// resumes on the next confirm.
func serveUntil(ctx context.Context, log *slog.Logger, srv *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		log.Info("lastmile stopping: finishing requests under way", "listen", ln.Addr().String(), "reason", context.Cause(ctx), "grace", grace)
		shut, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if err := srv.Shutdown(shut); err != nil {
			log.Warn("lastmile stopped before requests under way finished", "listen", ln.Addr().String(), "err", err)
			srv.Close()
		}
		return nil
	}
}

func toolsetsLog(o tools.Options) string {
	if o.Toolsets == nil {
		return tools.ToolsetAll
	}
	return strings.Join(o.Toolsets, ",")
}
