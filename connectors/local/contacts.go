package local

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// contactBook loads contacts.csv and keeps it until the file changes.
type contactBook struct {
	path string

	mu       sync.Mutex
	modTime  time.Time
	size     int64
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
	if b.contacts != nil && st.ModTime().Equal(b.modTime) && st.Size() == b.size {
		return b.contacts, nil
	}
	f, err := os.Open(b.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cs, err := readContacts(f, b.path)
	if err != nil {
		return nil, err
	}
	b.contacts, b.modTime, b.size = cs, st.ModTime(), st.Size()
	return cs, nil
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
