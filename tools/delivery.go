package tools

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// Delivery keeps progress notifications ahead of the result they belong to
// on a stream transport. mcp-go queues notifications and writes them from
// another goroutine, while results are written directly; a fast promotion
// would otherwise have its result on the wire before its progress, and
// clients drop progress for finished requests.
type Delivery struct {
	mu      sync.Mutex
	cond    *sync.Cond
	sent    int64
	written int64
}

// NewDelivery returns a Delivery; pass its Writer to the transport and the
// Delivery to New.
func NewDelivery() *Delivery {
	d := &Delivery{}
	d.cond = sync.NewCond(&d.mu)
	return d
}

var notificationMark = []byte(`"method":"notifications/`)

// Writer wraps the transport's output and counts notifications written.
// mcp-go writes each message with a single Write.
func (d *Delivery) Writer(w io.Writer) io.Writer { return deliveryWriter{d: d, w: w} }

type deliveryWriter struct {
	d *Delivery
	w io.Writer
}

func (dw deliveryWriter) Write(p []byte) (int, error) {
	n, err := dw.w.Write(p)
	if bytes.Contains(p, notificationMark) {
		dw.d.mu.Lock()
		dw.d.written++
		dw.d.cond.Broadcast()
		dw.d.mu.Unlock()
	}
	return n, err
}

func (d *Delivery) queued() {
	if d == nil {
		return
	}
	d.mu.Lock()
	d.sent++
	d.mu.Unlock()
}

// flush waits until every notification queued so far is written, or the
// timeout passes (a transport that drops one must not hang the tool).
func (d *Delivery) flush(timeout time.Duration) {
	if d == nil {
		return
	}
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		d.mu.Lock()
		d.cond.Broadcast()
		d.mu.Unlock()
	})
	defer timer.Stop()
	d.mu.Lock()
	defer d.mu.Unlock()
	for d.written < d.sent && time.Now().Before(deadline) {
		d.cond.Wait()
	}
}
