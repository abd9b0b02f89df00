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
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// ServeStdio serves one MCP client over a pair of streams: newline-delimited
// JSON-RPC, stdout carrying nothing but the protocol.
//
// It is a transport and nothing more: it frames messages, carries the
// session (so the server can ask the client something), and hands every
// message to mcp-go's HandleMessage, where the hooks, middleware and tools
// run exactly as they do over HTTP. It replaces mcp-go's StdioServer, whose
// session is one package-level value (two servers in a process share it),
// whose questions to the client are written beside its responses without
// its write lock, which answers requests the client cancelled, and which
// cancels a promotion in flight when the client closes stdin.
func ServeStdio(ctx context.Context, s *server.MCPServer, in io.Reader, out io.Writer, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sess := newStdioSession()
	if err := s.RegisterSession(ctx, sess); err != nil {
		return fmt.Errorf("register session: %w", err)
	}
	defer s.UnregisterSession(ctx, sess.SessionID())
	ctx = s.WithContext(ctx, sess)

	w := newOutbox(out, sess.notifications, log)
	sess.out = w.send
	go w.run()

	var inFlight sync.WaitGroup
	// Requests run concurrently: a promotion waiting for the user's answer
	// must not stop the loop that reads it. A request past the bound is
	// answered at once with an error, never waited for: the loop must stay
	// free to read the answers the requests in flight may be waiting on.
	slots := make(chan struct{}, maxConcurrentRequests)
	r := bufio.NewReaderSize(in, 64<<10)
	var readErr error
	for {
		line, err := readLine(r)
		at := time.Now()
		if errors.Is(err, errLineTooLong) {
			w.send(errorMessage(nil, mcp.INVALID_REQUEST, "Invalid request: "+err.Error()))
			continue
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if call := route(ctx, s, sess, w, line, at, slots, log); call != nil {
				inFlight.Go(func() {
					defer func() { <-slots }()
					call()
				})
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
	}
	// The client is gone: requests in flight finish (a promotion completes
	// its step and journal), but nobody is left to answer a question.
	close(sess.closed)
	inFlight.Wait()
	w.close()
	return readErr
}

// maxConcurrentRequests bounds the requests one client has in flight.
const maxConcurrentRequests = 64

// maxLine bounds one message. A 20 KB email is a tiny part of it.
const maxLine = 16 << 20

var errLineTooLong = fmt.Errorf("a message is longer than %d MB", maxLine>>20)

// readLine reads one line. Of a line longer than maxLine it keeps nothing,
// reads to its end and returns errLineTooLong.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	tooLong := false
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong && len(line)+len(chunk) > maxLine {
			tooLong, line = true, nil
		}
		if !tooLong {
			line = append(line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong && err == nil {
			return nil, errLineTooLong
		}
		return line, err
	}
}

// route handles one message read at the given time. A request is returned
// as a func to run concurrently; notifications and answers to the server's
// own questions are handled here, in order.
// A request it returns holds one of slots, which the caller frees when the
// request is answered.
func route(ctx context.Context, s *server.MCPServer, sess *stdioSession, w *outbox, line []byte, at time.Time, slots chan struct{}, log *slog.Logger) func() {
	env, bad := readEnvelope(line)
	if bad != nil {
		w.send(bad)
		return nil
	}
	if env.isResponse() {
		sess.answer(env) // to a question the server asked (elicitation)
		return nil
	}
	if env.Method == string(mcp.MethodNotificationCancelled) {
		sess.cancel(env.Params.RequestID)
	}
	if len(env.ID) == 0 {
		s.HandleMessage(ctx, line) // a notification: no answer
		return nil
	}
	refusal := refuse(s, env, line)
	if refusal == nil {
		refusal = handshake(sess, env)
	}
	if refusal != nil {
		w.send(refusal)
		return nil
	}
	select {
	case slots <- struct{}{}:
	default:
		w.send(errorMessage(env.ID, errBusy, fmt.Sprintf("%d requests are already in flight; wait for their answers and send this again", maxConcurrentRequests)))
		return nil
	}
	// Tracked now, on the read loop, so that a cancellation read next finds
	// the request even before it starts.
	cctx, done := sess.track(ctx, env.ID)
	call := func() {
		resp := handle(cctx, s, env, line, log)
		if done() {
			// notifications/cancelled: the client wants no answer.
			log.Info("request cancelled by the client", "method", env.Method, "tool", env.Params.Name, "id", string(env.ID))
			return
		}
		if resp != nil {
			// Logged before it is sent: once the client has the answer,
			// the line is in the log.
			log.Debug("answered", "method", env.Method, "tool", env.Params.Name, "id", string(env.ID), "duration_us", time.Since(at).Microseconds())
			w.send(resp)
		}
	}
	if env.Method == string(mcp.MethodInitialize) {
		// The handshake completes before the next message is read: a
		// client that sends requests right behind it finds the session
		// initialized.
		call()
		<-slots
		return nil
	}
	return call
}

// errBusy is the JSON-RPC error (in the implementation-defined range) for a
// request past maxConcurrentRequests.
const errBusy = -32000

// handle dispatches a request, turning a panic into an internal error with
// the request's id.
func handle(ctx context.Context, s *server.MCPServer, env envelope, line []byte, log *slog.Logger) (resp mcp.JSONRPCMessage) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("panic handling a message", "method", env.Method, "panic", fmt.Sprint(r))
			resp = errorMessage(env.ID, mcp.INTERNAL_ERROR, "internal error")
		}
	}()
	return s.HandleMessage(ctx, line)
}

// outbox is the one writer of the stream: every message is a single line,
// never interleaved with another, and a request's progress notifications
// are written before its answer (clients drop progress for requests they
// consider finished).
type outbox struct {
	out           io.Writer
	notifications <-chan mcp.JSONRPCNotification
	messages      chan any
	done          chan struct{}
	log           *slog.Logger
}

func newOutbox(out io.Writer, n <-chan mcp.JSONRPCNotification, log *slog.Logger) *outbox {
	return &outbox{out: out, notifications: n, messages: make(chan any, 16), done: make(chan struct{}), log: log}
}

func (o *outbox) send(m any) { o.messages <- m }

// close writes what is queued and stops.
func (o *outbox) close() {
	close(o.messages)
	<-o.done
}

func (o *outbox) run() {
	defer close(o.done)
	for {
		select {
		case n := <-o.notifications:
			o.write(n)
		case m, ok := <-o.messages:
			// A handler queues its notifications before it returns, so
			// taking every one queued now keeps them ahead of its answer.
			o.drain()
			if !ok {
				return
			}
			o.write(m)
		}
	}
}

func (o *outbox) drain() {
	for {
		select {
		case n := <-o.notifications:
			o.write(n)
		default:
			return
		}
	}
}

func (o *outbox) write(m any) {
	data, err := json.Marshal(m)
	if err != nil {
		o.log.Error("encoding a message", "err", err)
		return
	}
	if _, err := o.out.Write(append(data, '\n')); err != nil {
		o.log.Warn("writing a message", "err", err)
	}
}

// stdioSession is the one client of a stdio server.
type stdioSession struct {
	notifications chan mcp.JSONRPCNotification
	out           func(any) // set by ServeStdio: questions go through the outbox
	closed        chan struct{}
	initialized   atomic.Bool
	level         atomic.Value // mcp.LoggingLevel
	info          atomic.Value // mcp.Implementation
	caps          atomic.Value // mcp.ClientCapabilities
	protocol      atomic.Value // string
	nextID        atomic.Int64
	mu            sync.Mutex
	questions     map[string]chan envelope // the server's questions awaiting answers, by id
	requests      map[string]*request      // the client's requests in flight, by id
}

func newStdioSession() *stdioSession {
	return &stdioSession{notifications: make(chan mcp.JSONRPCNotification, 256), closed: make(chan struct{}),
		questions: map[string]chan envelope{}, requests: map[string]*request{}}
}

// request is a client's request in flight, which notifications/cancelled
// can stop.
type request struct {
	cancel    context.CancelFunc
	cancelled bool
}

// track registers a request by its id and returns its context and a func to
// call when it is answered, which reports whether the client cancelled it.
func (s *stdioSession) track(ctx context.Context, id json.RawMessage) (context.Context, func() bool) {
	ctx, cancel := context.WithCancel(ctx)
	key := string(id)
	c := &request{cancel: cancel}
	s.mu.Lock()
	s.requests[key] = c
	s.mu.Unlock()
	return ctx, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.requests[key] == c {
			delete(s.requests, key)
		}
		cancel()
		return c.cancelled
	}
}

// cancel stops the request with this id, if one is in flight. (mcp-go
// cancels the handler's context too; this also covers a request that has
// not reached it yet, and keeps its answer off the wire.)
func (s *stdioSession) cancel(id json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.requests[string(bytes.TrimSpace(id))]; c != nil {
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
	s.questions[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.questions, id)
		s.mu.Unlock()
	}()
	select {
	case <-s.closed:
		return nil, errors.New("the client went away before the question could be asked")
	default:
	}
	s.out(map[string]any{"jsonrpc": mcp.JSONRPC_VERSION, "id": json.RawMessage(id), "method": string(mcp.MethodElicitationCreate), "params": req.Params})
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
	s.mu.Lock()
	ch := s.questions[string(bytes.Trim(env.ID, `"`))]
	s.mu.Unlock()
	if ch != nil {
		select {
		case ch <- env:
		default: // answered twice: the first answer stands
		}
	}
}

var (
	_ server.SessionWithClientInfo      = (*stdioSession)(nil)
	_ server.SessionWithLogging         = (*stdioSession)(nil)
	_ server.SessionWithElicitation     = (*stdioSession)(nil)
	_ server.SessionWithProtocolVersion = (*stdioSession)(nil)
)
