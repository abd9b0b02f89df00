package local

import (
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

	"github.com/lastmile/lastmile/sandbox"
)

// contactBook loads contacts.csv, and the contacts forms added beside it
// (contact-updates.csv), and keeps them until a file changes.
type contactBook struct {
	path  string
	forms string

	mu       sync.Mutex
	modTime  time.Time
	size     int64
	fModTime time.Time
	fSize    int64
	contacts []sandbox.Contact
}

// MaxContacts bounds contacts.csv; larger audiences belong on a real platform.
const MaxContacts = 1_000_000

func (b *contactBook) load() ([]sandbox.Contact, error) {
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
	if b.contacts != nil && st.ModTime().Equal(b.modTime) && st.Size() == b.size && fMod.Equal(b.fModTime) && fSize == b.fSize {
		return b.contacts, nil
	}
	cs, err := readContactsFile(b.path)
	if err != nil {
		return nil, err
	}
	if fst != nil {
		fs, err := readContactsFile(b.forms)
		if err != nil {
			return nil, err
		}
		cs = mergeContacts(cs, fs)
	}
	b.contacts, b.modTime, b.size, b.fModTime, b.fSize = cs, st.ModTime(), st.Size(), fMod, fSize
	return cs, nil
}

func readContactsFile(path string) ([]sandbox.Contact, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readContacts(f, path)
}

// mergeContacts lays later contacts over earlier ones: an address's
// non-empty values win, a new address is added at the end.
func mergeContacts(base, over []sandbox.Contact) []sandbox.Contact {
	at := make(map[string]int, len(base))
	for i, c := range base {
		at[c.Email()] = i
	}
	out := slices.Clone(base)
	for _, c := range over {
		i, ok := at[c.Email()]
		if !ok {
			at[c.Email()] = len(out)
			out = append(out, c)
			continue
		}
		merged := maps.Clone(out[i])
		for k, v := range c {
			if v != "" {
				merged[k] = v
			}
		}
		out[i] = merged
	}
	return out
}

// readContacts parses a CSV whose header row names the properties; an email
// column is required. Rows without an address are skipped; a repeated
// address keeps its first row.
func readContacts(r io.Reader, name string) ([]sandbox.Contact, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return []sandbox.Contact{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("local: %s: %w", name, err)
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff")))
	}
	if !slices.Contains(header, "email") {
		return nil, fmt.Errorf("local: %s has no email column (header: %s)", name, strings.Join(header, ","))
	}
	var out []sandbox.Contact
	seen := map[string]bool{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("local: %s: %w", name, err)
		}
		c := make(sandbox.Contact, len(header))
		for i, v := range rec {
			if i < len(header) {
				c[header[i]] = strings.TrimSpace(v)
			}
		}
		addr := c.Email()
		if addr == "" || seen[addr] {
			continue
		}
		c["email"] = addr
		seen[addr] = true
		out = append(out, c)
		if len(out) > MaxContacts {
			return nil, fmt.Errorf("local: %s has more than %d contacts", name, MaxContacts)
		}
	}
	return out, nil
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
