package outcomes

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// snapshotMagic begins an aggregate written by WriteTo; the version after
// it changes with the layout, and ReadAggregate refuses any other.
const snapshotMagic = "lastmile-outcomes-aggregate\x00v1\n"

// WriteTo writes the aggregate in a compact binary form that
// ReadAggregate reads back, so that a process just started need not read
// every kept event again. It streams: nothing the size of the aggregate is
// built to write it, which would double what 10,000,000 events hold.
func (a *Aggregate) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	e := &encoder{w: bufio.NewWriterSize(cw, 256<<10)}
	e.w.WriteString(snapshotMagic)
	e.uint(uint64(len(a.names)))
	for _, n := range a.names {
		e.str(n)
	}
	e.uint(uint64(len(a.refs)))
	for i := range a.refs {
		r := &a.refs[i]
		e.str(r.key)
		e.str(r.target)
		e.str(r.liveID)
		e.str(r.utmCampaign)
		e.str(r.utmContent)
		for k := range r.sets {
			s := &r.sets[k]
			e.uint(uint64(s.n))
			e.uint(uint64(len(s.sorted)))
			for _, c := range s.sorted {
				e.uint(uint64(c))
			}
			e.uint(uint64(len(s.bits)))
			for _, x := range s.bits {
				e.fixed64(x)
			}
		}
	}
	e.uint(uint64(len(a.types)))
	for t, n := range a.types {
		e.str(t)
		e.int(n)
	}
	total := 0
	for _, c := range a.touches {
		total += len(c)
	}
	e.uint(uint64(total))
	for _, chunk := range a.touches {
		for _, t := range chunk {
			e.fixed32(t.at)
			e.fixed32(t.contact)
			e.fixed32(t.ref)
		}
	}
	e.uint(uint64(len(a.convs)))
	for i := range a.convs {
		c := &a.convs[i]
		e.str(c.id)
		e.str(c.source)
		e.str(c.typ)
		e.fixed32(c.contact)
		e.fixed32(c.ref)
		e.int(c.at.Unix())
		e.uint(uint64(c.at.Nanosecond()))
		if c.value == nil {
			e.uint(0)
		} else {
			e.uint(1)
			e.int(c.value.Minor)
			e.str(c.value.Currency)
		}
	}
	if err := e.w.Flush(); err != nil {
		return cw.n, err
	}
	return cw.n, e.err
}

// ReadAggregate reads an aggregate WriteTo wrote.
func ReadAggregate(r io.Reader) (*Aggregate, error) {
	d := &decoder{r: bufio.NewReaderSize(r, 256<<10)}
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(d.r, magic); err != nil || string(magic) != snapshotMagic {
		return nil, errors.New("not an outcomes aggregate of this version")
	}
	a := NewAggregate()
	// Slices are made to the counts read, up to a bound, and grow past it
	// as items are read: a count that is wrong runs into the end of the
	// file, not out of memory, and a right one leaves no slack.
	n := d.count()
	if n > 0 {
		a.names = make([]string, 0, min(n, 1<<20))
		a.contacts = make(map[string]uint32, min(n, 1<<20))
	}
	for ; n > 0 && d.err == nil; n-- {
		name := d.str()
		a.contacts[name] = uint32(len(a.names))
		a.names = append(a.names, name)
	}
	n = d.count()
	if n > 0 {
		a.refs = make([]ref, 0, min(n, 1<<16))
	}
	for ; n > 0 && d.err == nil; n-- {
		a.refs = append(a.refs, ref{})
		i := len(a.refs) - 1
		r := &a.refs[i]
		r.key, r.target, r.liveID, r.utmCampaign, r.utmContent = d.str(), d.str(), d.str(), d.str(), d.str()
		for k := range r.sets {
			s := &r.sets[k]
			s.n = int(d.uint())
			// A set holds at most one id a contact, a bit set a word per 64.
			if n := d.count(); n > 0 {
				s.sorted = make([]uint32, 0, min(n, len(a.names)))
				for ; n > 0 && d.err == nil; n-- {
					s.sorted = append(s.sorted, uint32(d.uint()))
				}
			}
			if n := d.count(); n > 0 {
				s.bits = make([]uint64, 0, min(n, len(a.names)/64+1))
				for ; n > 0 && d.err == nil; n-- {
					s.bits = append(s.bits, d.fixed64())
				}
			}
		}
		if r.liveID != "" {
			a.liveRefs[[2]string{r.target, r.liveID}] = uint32(i)
		} else {
			a.utmRefs[[2]string{r.utmCampaign, r.utmContent}] = uint32(i)
		}
	}
	for n := d.count(); n > 0 && d.err == nil; n-- {
		t := d.str()
		a.types[t] = d.int()
	}
	// Touches are most of the file: a chunk's records are read at once
	// and taken apart from one buffer, not 12 bytes at a time.
	var raw []byte
	for left := d.count(); left > 0 && d.err == nil; {
		chunk := make([]touch, min(left, touchChunk), touchChunk)
		if raw == nil {
			raw = make([]byte, touchSize*touchChunk)
		}
		b := d.bytes(raw[:touchSize*len(chunk)])
		for j := range chunk {
			r := b[touchSize*j : touchSize*(j+1)]
			chunk[j] = touch{at: binary.LittleEndian.Uint32(r), contact: binary.LittleEndian.Uint32(r[4:]), ref: binary.LittleEndian.Uint32(r[8:])}
		}
		a.touches = append(a.touches, chunk)
		left -= len(chunk)
	}
	n = d.count()
	if n > 0 {
		a.convs = make([]conv, 0, min(n, 1<<18))
	}
	for ; n > 0 && d.err == nil; n-- {
		a.convs = append(a.convs, conv{})
		c := &a.convs[len(a.convs)-1]
		c.id, c.source, c.typ = d.str(), d.str(), d.str()
		c.contact, c.ref = d.fixed32(), d.fixed32()
		sec, nsec := d.int(), d.uint()
		c.at = time.Unix(sec, int64(nsec)).UTC()
		if d.uint() == 1 {
			c.value = &Money{Minor: d.int(), Currency: d.str()}
		}
		a.convSeen[[2]string{c.source, c.id}] = struct{}{}
	}
	if d.err != nil {
		return nil, fmt.Errorf("outcomes aggregate: %w", d.err)
	}
	if _, err := d.r.ReadByte(); err != io.EOF {
		return nil, errors.New("outcomes aggregate: bytes after its end")
	}
	return a, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type encoder struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
	err error
}

func (e *encoder) write(p []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
	}
}

func (e *encoder) uint(x uint64) { e.write(binary.AppendUvarint(e.buf[:0], x)) }
func (e *encoder) int(x int64)   { e.write(binary.AppendVarint(e.buf[:0], x)) }
func (e *encoder) fixed32(x uint32) {
	e.write(binary.LittleEndian.AppendUint32(e.buf[:0], x))
}
func (e *encoder) fixed64(x uint64) {
	e.write(binary.LittleEndian.AppendUint64(e.buf[:0], x))
}
func (e *encoder) str(s string) {
	e.uint(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

// decoder reads what encoder wrote; the first error sticks, and reads
// after it return zeros.
// touchSize is a touch in the file: its at, contact and ref, each a
// little-endian uint32.
const touchSize = 12

type decoder struct {
	r   *bufio.Reader
	buf [8]byte
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
	}
}

func (d *decoder) uint() uint64 {
	if d.err != nil {
		return 0
	}
	x, err := binary.ReadUvarint(d.r)
	d.fail(err)
	return x
}

// int undoes binary.AppendVarint's zig-zag form.
func (d *decoder) int() int64 {
	u := d.uint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// count reads a number of items, at most what a 32-bit id can name.
func (d *decoder) count() int {
	n := d.uint()
	if n > math.MaxUint32 {
		d.fail(fmt.Errorf("a count of %d", n))
		return 0
	}
	return int(n)
}

// fixed reads n ≤ 8 bytes into the decoder's buffer; zeros after an error.
func (d *decoder) fixed(n int) []byte { return d.bytes(d.buf[:n]) }

// bytes fills b from the file; zeros after an error.
func (d *decoder) bytes(b []byte) []byte {
	if d.err == nil {
		if _, err := io.ReadFull(d.r, b); err != nil {
			d.fail(err)
		}
	}
	if d.err != nil {
		clear(b)
	}
	return b
}

func (d *decoder) fixed32() uint32 { return binary.LittleEndian.Uint32(d.fixed(4)) }
func (d *decoder) fixed64() uint64 { return binary.LittleEndian.Uint64(d.fixed(8)) }

func (d *decoder) str() string {
	n := d.count()
	if d.err != nil || n == 0 {
		return ""
	}
	if n > 1<<20 {
		d.fail(fmt.Errorf("a string of %d bytes", n))
		return ""
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail(err)
		return ""
	}
	return string(b)
}
