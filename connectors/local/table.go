package local

import (
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strings"

	"github.com/lastmile/lastmile/sandbox"
)

// table holds contacts by column, a row per contact in the file's order. A
// map per contact costs about a kilobyte and a garbage collector's visit
// each; columns cost bytes: most properties repeat a few values (country,
// stage, plan), kept once each with a two-byte code per row, and a column of
// mostly distinct values (addresses, names) keeps them end to end in one
// string with an offset per row. A million contacts fit in tens of MB, and
// the collector sees a few dozen objects.
type table struct {
	rows    int
	names   []string // property names, in the order first seen
	order   []*column
	cols    map[string]*column
	email   *column
	emailAt int // email's place in names
	index   addrIndex
	expect  int // rows expected, to size columns once
}

// maxDict is how many distinct values a column may have before it keeps
// its values in full: the codes are uint16, and a dictionary as large as
// the column saves nothing.
const maxDict = 4096

type column struct {
	dict   []string // dictionary form: the distinct values, and a code per row
	codes  []uint16
	lookup dictIndex // while building
	last   uint16    // the code of the row before: columns often repeat it

	plain bool // plain form: values end to end, offs[r]..offs[r+1] is row r
	data  strings.Builder
	offs  []uint32

	absent rowSet // rows whose record had no field for it; nil when none
}

func (c *column) value(r int) string {
	if c.plain {
		return c.data.String()[c.offs[r]:c.offs[r+1]]
	}
	return c.dict[c.codes[r]]
}

// present: absent only grows as far as its last absent row.
func (c *column) present(r int) bool { return r/64 >= len(c.absent) || !c.absent.has(r) }

func (c *column) add(r int, v string, present bool) error {
	if !present {
		c.absent = c.absent.grow(r + 1)
		c.absent.set(r)
	}
	if c.plain {
		return c.addPlain(v)
	}
	code := c.last
	if int(code) >= len(c.dict) || c.dict[code] != v {
		slot, found := c.lookup.find(c.dict, v)
		if found {
			code = c.lookup.slots[slot] - 1
		} else {
			if len(c.dict) == maxDict {
				c.toPlain()
				return c.addPlain(v)
			}
			code = uint16(len(c.dict))
			c.dict = append(c.dict, strings.Clone(v)) // v may be the reader's buffer
			c.lookup.put(c.dict, slot)
		}
		c.last = code
	}
	c.codes = append(c.codes, code)
	return nil
}

// dictIndex finds a value's code in a column's dictionary while the column
// is built: open addressing over codes, as a map[string]uint16 would, at
// about half its cost a cell, which was a good part of a load.
type dictIndex struct {
	seed  maphash.Seed
	slots []uint16 // code+1; 0 is empty
}

// find is where v is in dict (found) or would go.
func (x *dictIndex) find(dict []string, v string) (slot uint64, found bool) {
	if x.slots == nil {
		x.seed, x.slots = maphash.MakeSeed(), make([]uint16, 64)
	}
	mask := uint64(len(x.slots) - 1)
	for i := maphash.String(x.seed, v) & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return i, false
		}
		if dict[s-1] == v {
			return i, true
		}
	}
}

// put records dict's last value at slot, where find did not find it.
func (x *dictIndex) put(dict []string, slot uint64) {
	x.slots[slot] = uint16(len(dict))
	if 2*len(dict) > len(x.slots) { // at most half full: probes stay short
		x.slots = make([]uint16, 2*len(x.slots))
		for code, v := range dict {
			i, _ := x.find(dict[:code], v)
			x.slots[i] = uint16(code + 1)
		}
	}
}

func (c *column) addPlain(v string) error {
	if c.data.Len()+len(v) > math.MaxUint32 {
		return fmt.Errorf("more than 4 GiB of values in one column")
	}
	c.data.WriteString(v)
	c.offs = append(c.offs, uint32(c.data.Len()))
	return nil
}

func (c *column) toPlain() {
	c.plain = true
	c.offs = make([]uint32, 1, cap(c.codes)+1)
	for _, code := range c.codes {
		c.data.WriteString(c.dict[code])
		c.offs = append(c.offs, uint32(c.data.Len()))
	}
	// Room for the rows expected at the length seen so far: growing a
	// buffer of a million addresses by doubling copies it and leaves up
	// to half of it unused.
	if n := len(c.codes); n > 0 {
		c.data.Grow(c.data.Len() / n * (cap(c.codes) - n) * 21 / 20)
	}
	c.dict, c.codes, c.lookup = nil, nil, dictIndex{}
}

// newTable makes a table for about rows rows (more may be added).
func newTable(names []string, rows int) *table {
	size := 1024
	for size < 2*rows {
		size *= 2
	}
	t := &table{cols: map[string]*column{}, index: newAddrIndex(size), expect: rows}
	for _, n := range names {
		t.column(n)
	}
	t.email, t.emailAt = t.cols["email"], slices.Index(t.names, "email")
	return t
}

func (t *table) column(name string) *column {
	c, ok := t.cols[name]
	if !ok {
		c = &column{codes: make([]uint16, 0, t.expect)}
		// A column seen after the first rows lacks a value for them.
		for r := range t.rows {
			c.add(r, "", false)
		}
		t.cols[name] = c
		t.names = append(t.names, name)
		t.order = append(t.order, c)
	}
	return c
}

// add appends a row: vals[i] is the value of names[i], has[i] whether the
// row has it. The address (vals[emailAt]) must be new to the table.
func (t *table) add(vals []string, has []bool) error {
	t.index.put(t, vals[t.emailAt], t.rows)
	return t.addIndexed(vals, has)
}

// addIndexed appends a row whose address the index already holds at row
// t.rows (claim put it there).
func (t *table) addIndexed(vals []string, has []bool) error {
	r := t.rows
	for i, c := range t.order {
		if err := c.add(r, vals[i], has[i]); err != nil {
			return err
		}
	}
	t.rows++
	return nil
}

// claim puts addr in the index at the next row, t.rows, unless the table
// has it: one probe where a look-up and then an insertion took two. The
// caller adds the row next (addIndexed), or drops the table.
func (t *table) claim(addr string) bool {
	return t.index.putNew(t, addr, t.rows)
}

// done drops what only building needed.
func (t *table) done() {
	for _, c := range t.cols {
		c.lookup = dictIndex{}
	}
}

func (t *table) addr(r int) string { return t.email.value(r) }

// row finds an address's row.
func (t *table) row(addr string) (int, bool) { return t.index.get(t, addr) }

// get is a property of a row, "" when it lacks it.
func (t *table) get(r int, name string) string {
	if c := t.cols[name]; c != nil {
		return c.value(r)
	}
	return ""
}

// contact makes a row's Contact, for what needs a single contact whole
// (rendering its message, a sample): the properties its record had.
func (t *table) contact(r int) sandbox.Contact {
	c := make(sandbox.Contact, len(t.names))
	for i, col := range t.order {
		if col.present(r) {
			c[t.names[i]] = col.value(r)
		}
	}
	return c
}

// addrIndex maps addresses to rows: open addressing over row numbers, a
// few bytes a contact where a map[string]int would hold a string header,
// a hash and an int per entry beside its buckets. A byte of each hash
// beside its slot spares comparing addresses that only share a slot.
type addrIndex struct {
	seed  maphash.Seed
	slots []uint32 // row+1; 0 is empty
	tags  []uint8
	n     int
}

func newAddrIndex(size int) addrIndex {
	return addrIndex{seed: maphash.MakeSeed(), slots: make([]uint32, size), tags: make([]uint8, size)}
}

// find is where addr is (found) or would go.
func (x *addrIndex) find(t *table, addr string) (slot uint64, row int, found bool) {
	return x.probe(t, addr, maphash.String(x.seed, addr))
}

// probe is find with addr's hash h.
func (x *addrIndex) probe(t *table, addr string, h uint64) (slot uint64, row int, found bool) {
	mask, tag := uint64(len(x.slots)-1), uint8(h>>56)
	for i := h & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return i, 0, false
		}
		if x.tags[i] == tag && t.addr(int(s-1)) == addr {
			return i, int(s - 1), true
		}
	}
}

func (x *addrIndex) get(t *table, addr string) (int, bool) {
	_, r, ok := x.find(t, addr)
	return r, ok
}

// put adds addr, new to the index, at row r.
func (x *addrIndex) put(t *table, addr string, r int) { x.putNew(t, addr, r) }

// putNew adds addr at row r unless the index has it (false).
func (x *addrIndex) putNew(t *table, addr string, r int) bool {
	if 2*(x.n+1) > len(x.slots) {
		old := x.slots
		x.slots, x.tags = make([]uint32, 2*len(old)), make([]uint8, 2*len(old))
		x.n = 0
		for _, s := range old {
			if s != 0 {
				x.put(t, t.addr(int(s-1)), int(s-1))
			}
		}
	}
	h := maphash.String(x.seed, addr)
	i, _, found := x.probe(t, addr, h)
	if found {
		return false
	}
	x.slots[i], x.tags[i] = uint32(r+1), uint8(h>>56)
	x.n++
	return true
}

// rowSet is a set of rows.
type rowSet []uint64

func newRowSet(n int) rowSet { return make(rowSet, (n+63)/64) }

func (b rowSet) has(r int) bool { return b[r/64]&(1<<(r%64)) != 0 }
func (b rowSet) set(r int)      { b[r/64] |= 1 << (r % 64) }

func (b rowSet) grow(n int) rowSet {
	for len(b)*64 < n {
		b = append(b, 0)
	}
	return b
}
