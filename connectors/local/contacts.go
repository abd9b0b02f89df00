package local

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/lastmile/lastmile/sandbox"
)

// contactBook loads contacts.csv, and the contacts forms and workflows
// added beside it (contact-updates.csv), into a table, and keeps it until a
// file changes.
type contactBook struct {
	path  string
	forms string

	mu       sync.Mutex
	modTime  time.Time
	size     int64
	fModTime time.Time
	fSize    int64
	table    *table
}

// MaxContacts bounds contacts.csv; larger audiences belong on a real platform.
const MaxContacts = 1_000_000

func (b *contactBook) load() (*table, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := os.Stat(b.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("local: no contacts file at %s: run lastmile init, or set contacts in the local target's config", b.path)
	}
	if err != nil {
		return nil, err
	}
	var fst os.FileInfo
	if b.forms != "" {
		if fst, err = os.Stat(b.forms); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	var fMod time.Time
	var fSize int64 = -1
	if fst != nil {
		fMod, fSize = fst.ModTime(), fst.Size()
	}
	if b.table != nil && st.ModTime().Equal(b.modTime) && st.Size() == b.size && fMod.Equal(b.fModTime) && fSize == b.fSize {
		return b.table, nil
	}
	// The last table goes before the next is built: two of them at once
	// would double what a million contacts take.
	b.table = nil
	var over []sandbox.Contact
	if fst != nil {
		if over, err = readContactsFile(b.forms); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(b.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	plain, lines, err := survey(f)
	if err != nil {
		return nil, err
	}
	tab, err := readTable(f, b.path, plain, lines, over)
	if err != nil {
		return nil, err
	}
	b.table, b.modTime, b.size, b.fModTime, b.fSize = tab, st.ModTime(), st.Size(), fMod, fSize
	return tab, nil
}

func readContactsFile(path string) ([]sandbox.Contact, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readContacts(f, path)
}

// readTable reads a contacts CSV into a table, with over (the contacts of
// contact-updates.csv) laid on it: an address's non-empty values win, a
// new address is added at the end. plain says the file has no quotes;
// lines about how many lines it has.
func readTable(r io.Reader, name string, plain bool, lines int, over []sandbox.Contact) (*table, error) {
	var tab *table
	updates := make(map[string]sandbox.Contact, len(over))
	for _, c := range over {
		updates[c.Email()] = c
	}
	names := []string{"email"}
	addNames := func(ns []string) {
		for _, n := range ns {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	var at [][]int // per name, its fields in the header
	var vals []string
	var has []bool
	err := scanContacts(r, name, plain, func(header []string) {
		addNames(header)
		for _, c := range over {
			addNames(slices.Sorted(maps.Keys(c)))
		}
		at = make([][]int, len(names))
		for i, h := range header {
			j := slices.Index(names, h)
			at[j] = append(at[j], i)
		}
		vals, has = make([]string, len(names)), make([]bool, len(names))
		tab = newTable(names, min(lines, MaxContacts)+len(over))
	}, func(rec []string) error {
		for i, fields := range at {
			vals[i], has[i] = "", false
			// A name the header repeats takes its last field the row has.
			for j := len(fields) - 1; j >= 0; j-- {
				if fields[j] < len(rec) {
					vals[i], has[i] = trimSpace(rec[fields[j]]), true
					break
				}
			}
		}
		addr := strings.ToLower(vals[0])
		if addr == "" {
			return nil
		}
		if !tab.claim(addr) {
			return nil // a repeated address keeps its first row
		}
		if tab.rows == MaxContacts {
			return tooMany(name)
		}
		vals[0] = addr
		if len(updates) == 0 {
			return tab.addIndexed(vals, has)
		}
		if u, ok := updates[addr]; ok {
			delete(updates, addr)
			for i, n := range names {
				if v := u[n]; v != "" {
					vals[i], has[i] = v, true
				}
			}
		}
		return tab.addIndexed(vals, has)
	})
	if err != nil {
		return nil, err
	}
	if tab == nil { // an empty file
		for _, c := range over {
			addNames(slices.Sorted(maps.Keys(c)))
		}
		tab = newTable(names, len(over))
		vals, has = make([]string, len(names)), make([]bool, len(names))
	}
	for _, c := range over {
		if _, ok := updates[c.Email()]; !ok {
			continue // laid on its row of the file
		}
		for i, n := range names {
			vals[i], has[i] = c[n]
		}
		if err := tab.add(vals, has); err != nil {
			return nil, err
		}
	}
	tab.done()
	return tab, nil
}

// survey reads a file through: whether it has no double quote (so its
// records are its lines split at commas), and how many lines it has, to
// size the table once. It leaves f at its start.
func survey(f *os.File) (plain bool, lines int, err error) {
	buf := make([]byte, 256<<10)
	plain = true
	for {
		n, rerr := f.Read(buf)
		plain = plain && bytes.IndexByte(buf[:n], '"') < 0
		lines += bytes.Count(buf[:n], []byte{'\n'})
		if rerr == io.EOF {
			_, err = f.Seek(0, io.SeekStart)
			return plain, lines, err
		}
		if rerr != nil {
			return false, 0, rerr
		}
	}
}

// readContacts parses a CSV whose header row names the properties; an email
// column is required. Rows without an address are skipped; a repeated
// address keeps its first row. It suits small files (contact-updates.csv);
// contacts.csv is read into a table (readTable).
func readContacts(r io.Reader, name string) ([]sandbox.Contact, error) {
	out := []sandbox.Contact{}
	seen := map[string]bool{}
	var header []string
	err := scanContacts(r, name, false, func(h []string) { header = h }, func(rec []string) error {
		c := make(sandbox.Contact, len(header))
		for i, v := range rec {
			if i < len(header) {
				c[header[i]] = strings.TrimSpace(v)
			}
		}
		addr := c.Email()
		if addr == "" || seen[addr] {
			return nil
		}
		c["email"] = addr
		seen[addr] = true
		out = append(out, c)
		if len(out) > MaxContacts {
			return tooMany(name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func tooMany(name string) error {
	return fmt.Errorf("local: %s has more than %d contacts", name, MaxContacts)
}

// scanContacts reads a contacts CSV: header gets the header row (names
// lower case, BOM and spaces trimmed; it must have an email column), row
// each record after it. A record's slice, and in a plain file its
// strings, are reused for the next: row copies what it keeps. A plain
// file (no quotes) is split at commas and newlines, as encoding/csv would,
// at a fraction of its cost.
func scanContacts(r io.Reader, name string, plain bool, header func([]string), row func([]string) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	read := csvRecords(br)
	if plain {
		read = plainRecords(br)
	}
	h, err := read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return fmt.Errorf("local: %s: %w", name, err)
	}
	h = slices.Clone(h)
	for i := range h {
		h[i] = strings.Clone(strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h[i], "\ufeff"))))
	}
	if !slices.Contains(h, "email") {
		return fmt.Errorf("local: %s has no email column (header: %s)", name, strings.Join(h, ","))
	}
	header(h)
	for {
		rec, err := read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("local: %s: %w", name, err)
		}
		if err := row(rec); err != nil {
			return err
		}
	}
}

func csvRecords(r io.Reader) func() ([]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	return cr.Read
}

// plainRecords reads records without quotes as encoding/csv with
// TrimLeadingSpace reads them: empty lines skipped, \r\n a newline.
func plainRecords(br *bufio.Reader) func() ([]string, error) {
	var rec []string
	return func() ([]string, error) {
		for {
			b, err := br.ReadSlice('\n')
			if err == bufio.ErrBufferFull { // a line longer than the buffer
				long := slices.Clone(b)
				for err == bufio.ErrBufferFull {
					b, err = br.ReadSlice('\n')
					long = append(long, b...)
				}
				b = long
			}
			if err != nil && (err != io.EOF || len(b) == 0) {
				return nil, err
			}
			// The line is read in place, not copied: a million copies were
			// most of the garbage of a load, and the collector's headroom
			// for it most of its peak memory. The strings are valid until
			// the next record; row copies what it keeps.
			line := strings.TrimSuffix(strings.TrimSuffix(unsafe.String(unsafe.SliceData(b), len(b)), "\n"), "\r")
			if line == "" {
				continue
			}
			rec = rec[:0]
			for {
				i := strings.IndexByte(line, ',')
				if i < 0 {
					break
				}
				rec = append(rec, trimLeftSpace(line[:i]))
				line = line[i+1:]
			}
			rec = append(rec, trimLeftSpace(line))
			return rec, nil
		}
	}
}

// trimSpace is strings.TrimSpace, without its look at each end when
// neither is a space (an ASCII byte above ' ' is none): the common cell.
func trimSpace(s string) string {
	if s == "" || s[0] > ' ' && s[0] < utf8.RuneSelf && s[len(s)-1] > ' ' && s[len(s)-1] < utf8.RuneSelf {
		return s
	}
	return strings.TrimSpace(s)
}

// trimLeftSpace is strings.TrimLeftFunc(s, unicode.IsSpace), as trimSpace.
func trimLeftSpace(s string) string {
	if s == "" || s[0] > ' ' && s[0] < utf8.RuneSelf {
		return s
	}
	return strings.TrimLeftFunc(s, unicode.IsSpace)
}

// SampleContacts is the contacts.csv lastmile init writes: a small,
// varied audience to try segments and sends on.
const SampleContacts = `email,firstname,lastname,country,lifecycle_stage,plan,signup_date,marketing_consent,city
ada@example.com,Ada,Lovelace,GB,customer,pro,2025-11-02,true,London
grace@example.com,Grace,Hopper,US,customer,enterprise,2024-06-14,true,New York
alan@example.com,Alan,Turing,GB,lead,,2026-08-30,true,Manchester
katherine@example.com,Katherine,Johnson,US,customer,pro,2026-01-20,true,Hampton
linus@example.com,Linus,Torvalds,FI,lead,,2026-09-12,false,Helsinki
margaret@example.com,Margaret,Hamilton,US,customer,starter,2025-03-03,true,Boston
tim@example.com,Tim,Berners-Lee,GB,customer,enterprise,2023-10-10,true,Oxford
hedy@example.com,Hedy,Lamarr,AT,lead,,2026-10-01,true,Vienna
dennis@example.com,Dennis,Ritchie,US,churned,starter,2022-05-05,false,Berkeley
barbara@example.com,Barbara,Liskov,US,customer,pro,2026-04-18,true,Boston
ken@example.com,Ken,Thompson,US,lead,,2026-10-20,true,
frances@example.com,Frances,Allen,CA,customer,enterprise,2025-07-07,true,Toronto
edsger@example.com,Edsger,Dijkstra,NL,customer,starter,2024-02-29,true,Amsterdam
radia@example.com,Radia,Perlman,US,lead,,2026-11-01,true,Seattle
john@example.com,,McCarthy,US,customer,pro,2025-12-12,true,Stanford
sophie@example.com,Sophie,Wilson,DE,customer,pro,2026-02-14,true,Berlin
`
