package wordpresstest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
)

// Proxy stands between lastmile and a WordPress and injects faults
// (faketest.Fault) into the calls that pass, with the fault vocabulary the
// platform fakes share. There is no fake WordPress: "applied" means passed
// on to the real one. Calls are named pages.create, pages.update,
// pages.get, pages.list, pages.delete, users.me and index (the REST API
// root); anything else by its method and route ("GET /wp/v2/types").
type Proxy struct {
	*httptest.Server
	site    string
	faults  faketest.Queue
	closing chan struct{}
	once    sync.Once

	mu                sync.Mutex
	applying, applied int
}

// NewProxy starts a proxy in front of the site (its address, as Server.URL)
// and stops it when the test ends. Point a target's api_root at
// proxy.URL + "/wp-json".
func NewProxy(t testing.TB, site string) *Proxy {
	t.Helper()
	p := &Proxy{site: strings.TrimRight(site, "/"), closing: make(chan struct{})}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

// Close stops the proxy; calls it holds are let go.
func (p *Proxy) Close() {
	p.once.Do(func() { close(p.closing) })
	p.Server.Close()
}

// Inject queues a fault. RateLimit answers what a host's rate limiter in
// front of WordPress sends (a 429 page); Fail answers WordPress's error
// document with the code Code (default lastmile_injected).
func (p *Proxy) Inject(f faketest.Fault) { p.faults.Inject(f) }

// PendingFaults is the number of injected faults not yet used up.
func (p *Proxy) PendingFaults() int { return p.faults.Pending() }

// Applying is the number of writes held by a SlowApply or LateApply fault
// that have not reached WordPress yet.
func (p *Proxy) Applying() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applying
}

// Applied is the number of held writes that WordPress has since answered.
func (p *Proxy) Applied() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.applied
}

var pageID = regexp.MustCompile(`^/wp/v2/pages/[0-9]+$`)

// name is the call's operation name, from its REST route (after /wp-json,
// or in rest_route for sites with plain permalinks).
func name(r *http.Request) string {
	route := r.URL.Query().Get("rest_route")
	if route == "" {
		route = r.URL.Path
		if i := strings.Index(route, "/wp-json"); i >= 0 {
			route = route[i+len("/wp-json"):]
		}
	}
	route = strings.TrimRight(route, "/")
	switch {
	case route == "":
		return "index"
	case route == "/wp/v2/pages" && r.Method == http.MethodPost:
		return "pages.create"
	case route == "/wp/v2/pages" && r.Method == http.MethodGet:
		return "pages.list"
	case pageID.MatchString(route) && r.Method == http.MethodPost:
		return "pages.update"
	case pageID.MatchString(route) && r.Method == http.MethodGet:
		return "pages.get"
	case pageID.MatchString(route) && r.Method == http.MethodDelete:
		return "pages.delete"
	case route == "/wp/v2/users/me":
		return "users.me"
	}
	return r.Method + " " + route
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	f, faulty := p.faults.Take(name(r), r.Method != http.MethodGet && r.Method != http.MethodHead)
	if !faulty {
		p.pass(r.Context(), w, r, body)
		return
	}
	switch f.Kind {
	case faketest.RateLimit, faketest.Fail:
		writeFault(w, f)
	case faketest.DropBeforeApply:
		drop(w)
	case faketest.SlowApply:
		// WordPress goes on with a request whose client gave up or died.
		p.hold(+1)
		select {
		case <-time.After(f.Wait()):
		case <-p.closing:
		}
		rec := httptest.NewRecorder()
		p.pass(context.WithoutCancel(r.Context()), rec, r, body)
		p.hold(-1)
		if r.Context().Err() == nil {
			copyResponse(w, rec.Result())
		}
	case faketest.LateApply:
		p.hold(+1)
		select {
		case <-r.Context().Done():
		case <-p.closing:
		}
		go func() {
			select {
			case <-time.After(f.Wait()):
			case <-p.closing:
			}
			p.pass(context.WithoutCancel(r.Context()), httptest.NewRecorder(), r, body)
			p.hold(-1)
		}()
		drop(w)
	default: // the kinds that apply first
		rec := httptest.NewRecorder()
		p.pass(r.Context(), rec, r, body)
		switch f.Kind {
		case faketest.FailAfterApply:
			writeFault(w, f)
		case faketest.DropAfterApply:
			drop(w)
		case faketest.TimeoutAfterApply:
			select {
			case <-r.Context().Done():
			case <-p.closing:
			}
			drop(w)
		case faketest.Latency:
			select {
			case <-time.After(f.Wait()):
				copyResponse(w, rec.Result())
			case <-r.Context().Done():
			}
		}
	}
}

// hold counts a held write in (+1) or, once WordPress answered it, out.
func (p *Proxy) hold(d int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.applying += d
	if d < 0 {
		p.applied++
	}
}

// pass sends the call on to WordPress under ctx and writes its answer to w.
func (p *Proxy) pass(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte) {
	req, err := http.NewRequestWithContext(ctx, r.Method, p.site+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	copyResponse(w, resp)
}

func copyResponse(w http.ResponseWriter, resp *http.Response) {
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func writeFault(w http.ResponseWriter, f faketest.Fault) {
	if ra := f.RetryAfterSeconds(); ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	if f.Kind == faketest.RateLimit {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, "<html><body><h1>429 Too Many Requests</h1></body></html>\n")
		return
	}
	status := f.StatusOr(http.StatusInternalServerError)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	if f.Body != nil {
		_, _ = w.Write(f.Body)
		return
	}
	code := f.Code
	if code == "" {
		code = "lastmile_injected"
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": "The request failed (injected fault).", "data": map[string]int{"status": status}})
}

// drop closes the connection without an answer.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	if conn, _, err := hj.Hijack(); err == nil {
		conn.Close()
	}
}
