package local

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/sandbox"
)

// Decimal is an amount as events.jsonl has it: a JSON number or a string
// ("1200.50"). It is kept as written, so an amount that is not a number
// is still read, and reported, rather than failing the whole line.
type Decimal string

func (d *Decimal) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*d = Decimal(s)
		return nil
	}
	*d = Decimal(bytes.TrimSpace(data))
	return nil
}

func (d Decimal) MarshalJSON() ([]byte, error) {
	if json.Valid([]byte(d)) && !strings.ContainsAny(string(d), `"{[tfn`) {
		return []byte(d), nil
	}
	return json.Marshal(string(d))
}

// value is the money an event carries: a deal's amount or a purchase's
// revenue, nil when it has none.
func (e Event) value() (*outcomes.Money, error) {
	amount := e.Amount
	if amount == "" {
		amount = e.Revenue
	}
	if amount == "" {
		return nil, nil
	}
	if e.Currency == "" {
		return nil, fmt.Errorf("an amount of %s needs its currency (ISO 4217, e.g. USD)", amount)
	}
	m, err := outcomes.ParseMoney(string(amount), e.Currency)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// maxOutcomesRead bounds one Outcomes call; the cursor carries on.
const maxOutcomesRead = 100_000

// Outcomes implements sandbox.OutcomeReader over events.jsonl: every
// event, of every type, from the byte offset the cursor holds. An event's
// ID is its line's offset, which stays put because the file is only
// appended to. A line still being written (no newline yet) is left for
// the next read; a line that does not parse is kept as an "unreadable"
// event saying so, never dropped silently.
func (t *Target) Outcomes(ctx context.Context, req sandbox.OutcomesRequest) ([]outcomes.Event, string, error) {
	var from int64
	if req.Cursor != "" {
		n, err := strconv.ParseInt(req.Cursor, 10, 64)
		if err != nil || n < 0 {
			return nil, req.Cursor, fmt.Errorf("local: %q is not an events.jsonl cursor", req.Cursor)
		}
		from = n
	}
	f, err := os.Open(t.EventsFile())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, req.Cursor, nil
	}
	if err != nil {
		return nil, req.Cursor, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() < from {
		// Shorter than where the last read stopped: the file was replaced
		// by hand. Its events are read again from the start.
		from = 0
	}
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return nil, req.Cursor, err
	}
	source := "local:events.jsonl"
	r := bufio.NewReaderSize(f, 64<<10)
	var out []outcomes.Event
	at := from
	for len(out) < maxOutcomesRead {
		if err := ctx.Err(); err != nil {
			return out, strconv.FormatInt(at, 10), err
		}
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			break // a partial last line waits for its newline
		}
		if err != nil {
			return out, strconv.FormatInt(at, 10), err
		}
		id := source + ":" + strconv.FormatInt(at, 10)
		at += int64(len(line))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e Event
		if json.Unmarshal(line, &e) != nil || e.Type == "" {
			out = append(out, outcomes.Event{ID: id, Type: "unreadable", Source: source, Target: t.name, Problem: "the line is not an event: " + termsafe.Text(string(bytes.TrimSpace(line)), 80)})
			continue
		}
		ev := outcomes.Event{ID: id, Type: e.Type, Source: source, Contact: strings.ToLower(strings.TrimSpace(e.Email)),
			Target: t.name, LiveID: e.Artifact, At: e.At.UTC(), URL: e.URL}
		if v, err := e.value(); err != nil {
			ev.Problem = err.Error()
		} else {
			ev.Value = v
		}
		out = append(out, ev)
	}
	return out, strconv.FormatInt(at, 10), nil
}
