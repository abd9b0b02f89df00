package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"golang.org/x/time/rate"

	"github.com/lastmile/lastmile/internal/accesstoken"
)

// mcpPath is the one path that serves MCP over HTTP; every other is 404.
const mcpPath = "/mcp"

// maxHTTPBody bounds a POST to /mcp. The largest honest message is a
// staged email or page, far below it (Gmail clips mail at 102 KB).
const maxHTTPBody = 4 << 20

// checkHTTPAddr checks --http's host:port and reports whether it is a
// loopback address; any other is served only with authentication
// (checkAuthForAddr).
func checkHTTPAddr(addr string) (loopback bool, err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, usagef("--http %q: %v (write host:port, e.g. 127.0.0.1:8765)", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// parseOrigins normalizes the --allow-origin URLs to what browsers send in
// an Origin header: scheme://host[:port], nothing else.
func parseOrigins(raw []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, s := range raw {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return nil, usagef("--allow-origin %q: write an origin, scheme://host[:port] (e.g. https://agent.example.com), with no path", s)
		}
		out[strings.ToLower(u.Scheme+"://"+u.Host)] = true
	}
	return out, nil
}

// ownOrigins are the origins of pages served from the listener itself,
// under each loopback name it answers to.
func ownOrigins(ln net.Addr) []string {
	_, port, err := net.SplitHostPort(ln.String())
	if err != nil {
		return nil
	}
	return []string{"http://127.0.0.1:" + port, "http://localhost:" + port, "http://[::1]:" + port}
}

// httpGuard is what stands between the network and mcp-go's streamable
// HTTP handler: the path, the Origin (the MCP transport spec requires
// servers to validate it, against DNS rebinding), the body size, and the
// session rules mcp-go leaves to the server, and (auth) bearer tokens. The
// Host header of a loopback connection is checked by mcp-go itself (its
// localhost protection).
type httpGuard struct {
	next     http.Handler
	origins  map[string]bool
	sessions server.SessionIdManagerResolver
	// streams ends when the server shuts down, and with it every GET stream.
	streams context.Context
	// limits is nil when there is no rate limit.
	limits *clientLimits
	// auth checks bearer tokens; nil: none (tests of the guard alone).
	auth *httpAuth
}

func (g *httpGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" && !g.origins[strings.ToLower(o)] {
		http.Error(w, fmt.Sprintf("Forbidden: origin %q is not allowed (lastmile serve --allow-origin)", o), http.StatusForbidden)
		return
	}
	if g.auth.servesMetadata(r.URL.Path) {
		if !g.limited(w, r) {
			g.auth.prm.ServeHTTP(w, r)
		}
		return
	}
	if r.URL.Path != mcpPath {
		http.NotFound(w, r)
		return
	}
	// Authentication comes after the Origin and path (a foreign page is
	// 403, not 401), and a CORS preflight carries no credentials.
	if g.auth != nil && r.Method != http.MethodOptions {
		var ok bool
		if r, ok = g.auth.authenticate(w, r); !ok {
			return
		}
	}
	if g.limited(w, r) {
		return
	}
	if r.Method == http.MethodPost {
		if r.ContentLength > maxHTTPBody {
			http.Error(w, fmt.Sprintf("Request Entity Too Large: the limit is %d bytes", maxHTTPBody), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxHTTPBody)
	}
	// Sessions belong to the protocol versions before 2026-07-28, which
	// has none (mcp-go ignores the header for it).
	if mcp.IsModernProtocol(r.Header.Get(mcp.HeaderProtocolVersion)) {
		g.next.ServeHTTP(w, r)
		return
	}
	sid := r.Header.Get(server.HeaderKeySessionID)
	switch r.Method {
	case http.MethodGet, http.MethodDelete:
		if r.Method == http.MethodGet && g.streams != nil {
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			defer context.AfterFunc(g.streams, cancel)()
			r = r.WithContext(ctx)
		}
		// mcp-go opens a stream for any GET, and answers any DELETE with
		// 200: only a session the server issued and has not ended is one.
		if sid == "" {
			http.Error(w, "Bad Request: Mcp-Session-Id header is required", http.StatusBadRequest)
			return
		}
		if ended, err := g.sessions.ResolveSessionIdManager(r).Validate(sid); err != nil || ended {
			http.Error(w, "Not Found: no such session (initialize a new one)", http.StatusNotFound)
			return
		}
	case http.MethodPost:
		if v := r.Header.Get(mcp.HeaderProtocolVersion); v == "" || v == batchVersion {
			body, err := io.ReadAll(r.Body)
			var tooLarge *http.MaxBytesError
			switch {
			case errors.As(err, &tooLarge):
				http.Error(w, fmt.Sprintf("Request Entity Too Large: the limit is %d bytes", maxHTTPBody), http.StatusRequestEntityTooLarge)
				return
			case err != nil:
				http.Error(w, "Bad Request: the body could not be read", http.StatusBadRequest)
				return
			}
			if isBatch(body) {
				g.serveBatch(w, r, body)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		if sid == "" {
			// Only initialize may come without a session; mcp-go answers
			// anything else 404, which the spec makes 400.
			w = &missingSession{ResponseWriter: w}
		}
	}
	g.next.ServeHTTP(w, r)
}

// limited answers 429 when r's client has spent its requests.
func (g *httpGuard) limited(w http.ResponseWriter, r *http.Request) bool {
	if g.limits == nil {
		return false
	}
	d := g.limits.wait(r)
	if d <= 0 {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	http.Error(w, "Too Many Requests: slow down and retry after the seconds in Retry-After", http.StatusTooManyRequests)
	return true
}

// missingSession turns mcp-go's 404 for a request that carries no session
// id into the 400 Bad Request the transport spec asks for. A POST without
// a session reaches mcp-go's 404 only through its session check: the path
// is already known to be /mcp, and legacy requests report errors in 200.
type missingSession struct {
	http.ResponseWriter
	rewrote, wrote bool
}

func (m *missingSession) WriteHeader(code int) {
	if m.wrote {
		return
	}
	m.wrote = true
	if code == http.StatusNotFound {
		m.rewrote = true
		http.Error(m.ResponseWriter, "Bad Request: Mcp-Session-Id header is required after initialize", http.StatusBadRequest)
		return
	}
	m.ResponseWriter.WriteHeader(code)
}

func (m *missingSession) Write(b []byte) (int, error) {
	if !m.wrote {
		m.WriteHeader(http.StatusOK)
	}
	if m.rewrote {
		return len(b), nil
	}
	return m.ResponseWriter.Write(b)
}

// Flush keeps server-sent events streaming through the wrapper.
func (m *missingSession) Flush() {
	if f, ok := m.ResponseWriter.(http.Flusher); ok && !m.rewrote {
		f.Flush()
	}
}

func (m *missingSession) Unwrap() http.ResponseWriter { return m.ResponseWriter }

// clientLimits is a token bucket per client: every request spends one,
// and an empty bucket is 429 with the seconds until the next token. An
// authenticated request's client is its principal (token:NAME,
// oauth:…); any other's is its address, and all loopback addresses are
// one client, since they cannot be told apart: the limit then bounds what
// the agent's machine can make the server do, not one client's share.
type clientLimits struct {
	every   rate.Limit
	burst   int
	mu      sync.Mutex
	clients map[string]*rate.Limiter
}

// maxClients bounds the table; a full bucket is as good as no entry.
const maxClients = 1024

func newClientLimits(perSecond float64) *clientLimits {
	return &clientLimits{every: rate.Limit(perSecond), burst: max(1, int(4*perSecond)), clients: map[string]*rate.Limiter{}}
}

// wait is zero when r may go ahead, else how long its client must wait.
func (c *clientLimits) wait(r *http.Request) time.Duration {
	key, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		key = r.RemoteAddr
	}
	if ip := net.ParseIP(key); ip != nil && ip.IsLoopback() {
		key = "loopback"
	}
	if p := accesstoken.FromContext(r.Context()); p != nil {
		key = p.Actor()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	lim, ok := c.clients[key]
	if !ok {
		if len(c.clients) >= maxClients {
			for k, l := range c.clients {
				if l.Tokens() >= float64(c.burst) {
					delete(c.clients, k)
				}
			}
		}
		lim = rate.NewLimiter(c.every, c.burst)
		c.clients[key] = lim
	}
	res := lim.Reserve()
	d := res.Delay()
	if d > 0 {
		res.Cancel()
	}
	return d
}
