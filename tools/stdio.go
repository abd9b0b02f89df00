package tools

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/lastmile/lastmile/tools/internal/jsonlift"
)

// ServeStdio serves one MCP client over a pair of streams: newline-delimited
// JSON-RPC, stdout carrying nothing but the protocol.
//
// It replaces mcp-go's StdioServer, which hands every line to a new
// goroutine, parses each message four to five times and queues tool calls
// to a worker pool: three cross-thread handoffs and a few hundred
// microseconds per call before any work is done. Here a line is parsed once
// for its envelope; requests that cannot wait on the client (reads, lists)
// are answered on the read loop itself, and everything else on a goroutine
// of its own, so a promotion that asks the user for approval never blocks
// the loop that must read the answer.
func ServeStdio(ctx context.Context, s *server.MCPServer, in io.Reader, out io.Writer, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &lineWriter{w: out}
	sess := newStdioSession(w)
	if err := s.RegisterSession(ctx, sess); err != nil {
		return fmt.Errorf("register session: %w", err)
	}
	defer s.UnregisterSession(ctx, sess.SessionID())
	ctx = s.WithContext(ctx, sess)

	notifyDone := make(chan struct{})
	go func() {
		defer close(notifyDone)
		for {
			select {
			case n := <-sess.notifications:
				if err := w.write(n); err != nil {
					log.Warn("writing a notification", "err", err)
				}
			case <-sess.closed:
				return
			}
		}
	}()

	calls := newPool()
	r := bufio.NewReaderSize(in, 1<<20)
	ended := make(chan error, 1)
	// read is the read loop. A message that must not be handled on it (a
	// write tool's call) is handled on the goroutine that read it, once
	// another has taken over reading: the call starts at once, and it is
	// the next read, which the client is not waiting for yet, that waits
	// for a goroutine to wake. (Over stdio to the binary, create_email is
	// 5–10% faster this way than when the call waits for a worker to wake.)
	var read func()
	read = func() {
		for {
			line, err := r.ReadBytes('\n')
			at := time.Now()
			var call func()
			if len(bytes.TrimSpace(line)) > 0 {
				call = serveLine(ctx, s, sess, w, line, at, log)
			}
			if err != nil {
				if call != nil {
					calls.run(call)
				}
				if errors.Is(err, io.EOF) {
					err = nil
				}
				ended <- err
				return
			}
			if call != nil {
				calls.run(read)
				call()
				return
			}
		}
	}
	calls.run(read)
	readErr := <-ended
	// The client is gone: requests in flight finish (a promotion completes
	// its step and journal), but nobody is left to answer a question.
	close(sess.closed)
	calls.wait()
	<-notifyDone
	return readErr
}

// TuneRuntime sets the collector up for a server, unless the environment
// (getenv) sets GOGC or GOMEMLIMIT. A server's live heap is a few MB:
// collecting at 3× it instead of 2× cuts GC work per request; the soft
// limit keeps a long session's resident memory under 40 MB whatever the
// collector would like. `lastmile serve` and the benchmarks call it.
func TuneRuntime(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(40 << 20)
	}
}

// envelope is what the read loop needs of a message to route it.
type envelope struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Params struct {
		Name      string                     `json:"name"`
		Arguments json.RawMessage            `json:"arguments"`
		Meta      map[string]json.RawMessage `json:"_meta"`
		RequestID json.RawMessage            `json:"requestId"` // notifications/cancelled
	} `json:"params"`
}

// inlineMethods never wait on the client, so they are answered on the read
// loop without a goroutine handoff.
var inlineMethods = map[string]bool{
	"initialize": true, "ping": true, "tools/list": true, "resources/list": true, "resources/templates/list": true,
	"resources/read": true, "prompts/list": true, "prompts/get": true, "logging/setLevel": true, "server/discover": true,
	"completion/complete": true,
}

// readOnlyTools are answered on the read loop too.
var readOnlyTools = map[string]bool{"get_campaign": true, "list_campaigns": true, "get_plan": true, "check_campaign": true}

// serveLine handles one message, read at the given time, or returns a func
// that handles it off the read loop.
func serveLine(ctx context.Context, s *server.MCPServer, sess *stdioSession, w *lineWriter, line []byte, at time.Time, log *slog.Logger) func() {
	// A tool call's long strings (an email's HTML) are decoded once here
	// and left out of the text the envelope, the schema check and the
	// typed arguments decode (see jsonlift).
	short, lifted := jsonlift.Lift(line)
	var env envelope
	if err := json.Unmarshal(short, &env); err != nil {
		if lifted != nil { // report the error as the original text has it
			err = json.Unmarshal(line, &envelope{})
		}
		w.write(mcp.JSONRPCError{JSONRPC: mcp.JSONRPC_VERSION, Error: mcp.NewJSONRPCErrorDetails(mcp.PARSE_ERROR, "Parse error: "+fmt.Sprint(err), nil)})
		return nil
	}
	var direct func(context.Context, *slog.Logger) mcp.JSONRPCMessage
	if env.Method == string(mcp.MethodToolsCall) && len(env.ID) > 0 {
		direct = directTool(s, env, lifted)
	}
	if direct == nil && lifted != nil {
		// Everything else reads the message as it came.
		env = envelope{}
		json.Unmarshal(line, &env)
	}
	if env.Method == "" && len(env.ID) > 0 {
		sess.answer(env) // a response to a request we sent (elicitation)
		return nil
	}
	if env.Method == string(mcp.MethodNotificationCancelled) {
		// Calls answered here are cancelled here; mcp-go cancels its own.
		sess.cancel(env.Params.RequestID)
	}
	// answered logs how long the server took to produce the answer to a
	// request, from reading it to handing the answer to the transport
	// (LASTMILE_LOG=debug): what a slow call cost here, as against on the
	// wire or in the client.
	var ready time.Time
	reply := func(resp mcp.JSONRPCMessage) {
		ready = time.Now()
		if err := w.write(resp); err != nil {
			log.Warn("writing a response", "err", err)
		}
	}
	answered := func() {
		if len(env.ID) > 0 && !ready.IsZero() {
			log.Debug("answered", "method", env.Method, "tool", env.Params.Name, "id", string(env.ID), "duration_us", ready.Sub(at).Microseconds())
		}
	}
	handle := func() {
		defer answered()
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic handling a message", "method", env.Method, "panic", fmt.Sprint(r))
				if len(env.ID) > 0 {
					var id any
					json.Unmarshal(env.ID, &id)
					w.write(mcp.JSONRPCError{JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(id), Error: mcp.NewJSONRPCErrorDetails(mcp.INTERNAL_ERROR, "internal error", nil)})
				}
			}
		}()
		if resp := s.HandleMessage(ctx, line); resp != nil {
			reply(resp)
		}
	}
	if direct != nil {
		if readOnlyTools[env.Params.Name] {
			// Answered on the read loop: nothing can cancel it meanwhile.
			defer answered()
			if resp := direct(ctx, log); resp != nil {
				reply(resp)
			}
			return nil
		}
		// Tracked now, on the read loop, so that a cancellation read next
		// finds the call even if it has not started yet.
		cctx, done := sess.track(ctx, env.ID)
		return func() {
			defer answered()
			resp := direct(cctx, log)
			if done() {
				// notifications/cancelled: the client wants no answer.
				log.Info("call cancelled by the client", "tool", env.Params.Name, "id", string(env.ID))
				return
			}
			if resp != nil {
				reply(resp)
			}
		}
	}
	if len(env.ID) == 0 || inlineMethods[env.Method] || env.Method == string(mcp.MethodToolsCall) && readOnlyTools[env.Params.Name] {
		handle()
		return nil
	}
	return handle
}

// pool runs the read loop and calls on goroutines it keeps. A goroutine
// that ran a call keeps the stack it grew (decoding and encoding a 20 KB
// email needs a deep one); a fresh goroutine per call grew it again every
// time, about 50 µs of a create_email.
type pool struct {
	inFlight sync.WaitGroup
	work     chan func()
	quit     chan struct{}
}

func newPool() *pool { return &pool{work: make(chan func()), quit: make(chan struct{})} }

// run starts f on an idle worker, or on a new one when all are busy.
func (p *pool) run(f func()) {
	p.inFlight.Add(1)
	select {
	case p.work <- f:
	default:
		go p.worker(f)
	}
}

func (p *pool) worker(f func()) {
	var floor [stackFloor]byte
	keep(&floor)
	for {
		f()
		p.inFlight.Done()
		select {
		case f = <-p.work:
		case <-p.quit:
			return
		}
	}
}

// stackFloor keeps a worker's stack from shrinking. The collector halves
// the stack of a goroutine that uses less than a quarter of it, and a
// worker waiting for work (or reading stdin) uses little: every call after
// a collection grew the stack again, copying it each time (about 40 µs of
// a create_email). With this much of the stack always in use below the
// call, the stack a call grew stays.
const stackFloor = 16 << 10

//go:noinline
func keep(*[stackFloor]byte) {}

// wait waits for the calls in flight, then stops the workers. run must not
// be called after.
func (p *pool) wait() {
	p.inFlight.Wait()
	close(p.quit)
}

// lineWriter writes one JSON message per line, each with a single Write,
// never interleaving two.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (lw *lineWriter) write(v any) error {
	data, err := encode(v)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	lw.mu.Lock()
	defer lw.mu.Unlock()
	_, err = lw.w.Write(data)
	return err
}

// stdioSession is the one client of a stdio server.
type stdioSession struct {
	w             *lineWriter
	notifications chan mcp.JSONRPCNotification
	closed        chan struct{}
	initialized   atomic.Bool
	level         atomic.Value // mcp.LoggingLevel
	info          atomic.Value // mcp.Implementation
	caps          atomic.Value // mcp.ClientCapabilities
	protocol      atomic.Value // string
	nextID        atomic.Int64
	mu            sync.Mutex
	pending       map[string]chan envelope
	calls         map[string]*trackedCall // direct calls in flight, by request id
}

func newStdioSession(w *lineWriter) *stdioSession {
	return &stdioSession{w: w, notifications: make(chan mcp.JSONRPCNotification, 256), closed: make(chan struct{}), pending: map[string]chan envelope{}, calls: map[string]*trackedCall{}}
}

// trackedCall is a call in flight that notifications/cancelled can stop.
type trackedCall struct {
	cancel    context.CancelFunc
	cancelled bool
}

// track registers a call by its request id and returns its context and a
// func to call when it returns, which reports whether the client cancelled
// it.
func (s *stdioSession) track(ctx context.Context, id json.RawMessage) (context.Context, func() bool) {
	ctx, cancel := context.WithCancel(ctx)
	key := string(bytes.TrimSpace(id))
	c := &trackedCall{cancel: cancel}
	s.mu.Lock()
	s.calls[key] = c
	s.mu.Unlock()
	return ctx, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.calls[key] == c {
			delete(s.calls, key)
		}
		cancel()
		return c.cancelled
	}
}

// cancel stops the call with this request id, if one is in flight.
func (s *stdioSession) cancel(id json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.calls[string(bytes.TrimSpace(id))]; c != nil {
		c.cancelled = true
		c.cancel()
	}
}

func (s *stdioSession) SessionID() string { return "stdio" }
func (s *stdioSession) NotificationChannel() chan<- mcp.JSONRPCNotification {
	return s.notifications
}
func (s *stdioSession) Initialize()       { s.initialized.Store(true) }
func (s *stdioSession) Initialized() bool { return s.initialized.Load() }

func (s *stdioSession) SetLogLevel(l mcp.LoggingLevel) { s.level.Store(l) }
func (s *stdioSession) GetLogLevel() mcp.LoggingLevel {
	if l, ok := s.level.Load().(mcp.LoggingLevel); ok {
		return l
	}
	return mcp.LoggingLevelError
}

func (s *stdioSession) GetClientInfo() mcp.Implementation {
	v, _ := s.info.Load().(mcp.Implementation)
	return v
}
func (s *stdioSession) SetClientInfo(v mcp.Implementation) { s.info.Store(v) }
func (s *stdioSession) GetClientCapabilities() mcp.ClientCapabilities {
	v, _ := s.caps.Load().(mcp.ClientCapabilities)
	return v
}
func (s *stdioSession) SetClientCapabilities(v mcp.ClientCapabilities) { s.caps.Store(v) }
func (s *stdioSession) ProtocolVersion() string {
	v, _ := s.protocol.Load().(string)
	return v
}
func (s *stdioSession) SetProtocolVersion(v string) { s.protocol.Store(v) }

// elicitationTimeout bounds how long a question to the user may stay open.
var elicitationTimeout = 10 * time.Minute

// RequestElicitation asks the client's user a question and waits for the
// answer, the request's end, or the client going away.
func (s *stdioSession) RequestElicitation(ctx context.Context, req mcp.ElicitationRequest) (*mcp.ElicitationResult, error) {
	id := strconv.FormatInt(s.nextID.Add(1), 10)
	ch := make(chan envelope, 1)
	s.mu.Lock()
	s.pending[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
	}()
	msg := map[string]any{"jsonrpc": mcp.JSONRPC_VERSION, "id": json.RawMessage(id), "method": string(mcp.MethodElicitationCreate), "params": req.Params}
	if err := s.w.write(msg); err != nil {
		return nil, fmt.Errorf("sending the elicitation request: %w", err)
	}
	// A person answers this; give them time, but not forever: a client that
	// declared the capability and never shows the question must not hold a
	// promotion open for good.
	timer := time.NewTimer(elicitationTimeout)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil, fmt.Errorf("nobody answered the approval question within %s", elicitationTimeout)
	case env := <-ch:
		if env.Error != nil {
			return nil, fmt.Errorf("the client refused the elicitation request: %s (code %d)", env.Error.Message, env.Error.Code)
		}
		var res mcp.ElicitationResult
		if err := json.Unmarshal(env.Result, &res); err != nil {
			return nil, fmt.Errorf("the client's elicitation answer is malformed: %w", err)
		}
		return &res, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.closed:
		return nil, errors.New("the client went away before answering")
	}
}

func (s *stdioSession) answer(env envelope) {
	id := string(bytes.Trim(env.ID, `"`))
	s.mu.Lock()
	ch := s.pending[id]
	s.mu.Unlock()
	if ch != nil {
		ch <- env
	}
}

var (
	_ server.SessionWithClientInfo      = (*stdioSession)(nil)
	_ server.SessionWithLogging         = (*stdioSession)(nil)
	_ server.SessionWithElicitation     = (*stdioSession)(nil)
	_ server.SessionWithProtocolVersion = (*stdioSession)(nil)
)

// encode marshals a message. Tool results, the bulk of the traffic, are
// written directly: encoding/json would otherwise re-scan the structured
// content three times (once per json.Marshaler layer), which costs more
// than the tool itself.
func encode(v any) ([]byte, error) {
	var resp *mcp.JSONRPCResponse
	switch r := v.(type) {
	case mcp.JSONRPCResponse:
		resp = &r
	case *mcp.JSONRPCResponse:
		resp = r
	}
	if resp != nil {
		if tr, ok := resp.Result.(*mcp.CallToolResult); ok {
			if body, ok := encodeToolResult(tr); ok {
				id, err := json.Marshal(resp.ID)
				if err != nil {
					return nil, err
				}
				out := make([]byte, 0, len(body)+len(id)+40)
				out = append(out, `{"jsonrpc":"2.0","id":`...)
				out = append(out, id...)
				out = append(out, `,"result":`...)
				out = append(out, body...)
				return append(out, '}'), nil
			}
		}
	}
	return json.Marshal(v)
}

// encodeToolResult writes the common shape of a result — text content and
// structured content this package marshalled itself — and declines anything
// else (images, annotations, input requests), which goes through json.
func encodeToolResult(r *mcp.CallToolResult) ([]byte, bool) {
	if r.Meta != nil || r.ResultType != "" || len(r.InputRequests) > 0 || r.RequestState != "" {
		return nil, false
	}
	structured := r.RawStructuredContent
	if len(structured) == 0 {
		raw, ok := r.StructuredContent.(json.RawMessage)
		if !ok && r.StructuredContent != nil {
			return nil, false
		}
		structured = raw
	}
	out := []byte(`{"content":[`)
	for i, c := range r.Content {
		tc, ok := c.(mcp.TextContent)
		if !ok || tc.Annotations != nil || tc.Meta != nil {
			return nil, false
		}
		if i > 0 {
			out = append(out, ',')
		}
		text, err := json.Marshal(tc.Text)
		if err != nil {
			return nil, false
		}
		out = append(out, `{"type":"text","text":`...)
		out = append(out, text...)
		out = append(out, '}')
	}
	out = append(out, ']')
	if len(structured) > 0 {
		out = append(out, `,"structuredContent":`...)
		out = append(out, structured...)
	}
	if r.IsError {
		out = append(out, `,"isError":true`...)
	}
	return append(out, '}'), true
}

// directTool returns a function that serves a tools/call of one of our tools
// without mcp-go's HandleMessage, or nil when the request needs it.
//
// HandleMessage parses a request four or five times before a tool runs; for
// an email with 20 KB of HTML that costs more than staging it. A legacy-era
// request (the protocol versions Claude and the other clients speak today,
// whose session carries the handshake) to a tool that never asks the client
// anything needs none of what HandleMessage adds, so the envelope parsed
// once here is enough. Modern-era requests (protocol info in _meta) and
// confirm_promotion (which may ask the user, and reports progress) still go
// through HandleMessage.
func directTool(s *server.MCPServer, env envelope, lifted *jsonlift.Table) func(context.Context, *slog.Logger) mcp.JSONRPCMessage {
	if env.Params.Name == "confirm_promotion" || env.Params.Meta != nil {
		return nil
	}
	t := s.GetTool(env.Params.Name)
	if t == nil || t.Handler == nil {
		return nil
	}
	id := mcp.NewRequestId(env.ID) // echoes the client's id byte for byte
	return func(ctx context.Context, log *slog.Logger) mcp.JSONRPCMessage {
		req := mcp.CallToolRequest{}
		req.Method = string(mcp.MethodToolsCall)
		req.Params.Name = env.Params.Name
		req.Params.RawArguments = env.Params.Arguments
		res, err := recovery(log)(t.Handler)(jsonlift.NewContext(ctx, lifted), req)
		if err != nil {
			return mcp.JSONRPCError{JSONRPC: mcp.JSONRPC_VERSION, ID: id, Error: mcp.NewJSONRPCErrorDetails(mcp.INTERNAL_ERROR, err.Error(), nil)}
		}
		return mcp.NewJSONRPCResultResponse(id, res)
	}
}
