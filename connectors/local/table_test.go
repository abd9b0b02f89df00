package local

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
)

// mergeContacts is the model readTable's overlay follows: an address's
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

// randomCSV is a contacts file with what real ones hold: a BOM, header case
// and spaces, a repeated column, short and long rows, blank and repeated
// addresses in several spellings, columns of few and of many values, CRLF
// and empty lines.
func randomCSV(rng *rand.Rand, rows int, extra string) string {
	var b strings.Builder
	b.WriteString("\ufeffEmail , Stage,city,score,joined,Stage" + extra + "\n")
	stages := []string{"customer", "lead", "Customer", " churned", ""}
	for range rows {
		addr := fmt.Sprintf("u%d@x.com", rng.IntN(rows))
		switch rng.IntN(10) {
		case 0:
			addr = strings.ToUpper(addr)
		case 1:
			addr = ""
		}
		fields := []string{addr, stages[rng.IntN(len(stages))], fmt.Sprint("city", rng.IntN(maxDict+500)), fmt.Sprint(rng.IntN(100)),
			fmt.Sprintf("2026-%02d-%02d", 1+rng.IntN(12), 1+rng.IntN(28)), stages[rng.IntN(len(stages))], "v"}
		n := 1 + rng.IntN(len(fields))
		end := []string{"\n", "\r\n", "\n\n", "\n"}[rng.IntN(4)]
		b.WriteString(strings.Join(fields[:n], ",") + end)
	}
	return b.String()
}

var modelSegments = map[string]*sandbox.Segment{
	"seg_a": {Group: sandbox.Group{Match: "all", Conditions: []sandbox.Condition{{Property: "stage", Operator: "eq", Value: "customer"}, {Property: "score", Operator: "gte", Value: 30}}}},
	"seg_b": {Group: sandbox.Group{Match: "any", Conditions: []sandbox.Condition{{Property: "City", Operator: "starts_with", Value: "city1"}, {Property: "nope", Operator: "not_exists"}},
		Groups: []sandbox.Group{{Conditions: []sandbox.Condition{{Property: "joined", Operator: "after", Value: "2026-06-01"}}}}},
		IncludeSegments: []string{"seg_c"}, ExcludeSegments: []string{"seg_a"}, StaticEmails: []string{"u3@x.com", "static@y.com", "Upper@Y.com"}},
	"seg_c": {Group: sandbox.Group{Conditions: []sandbox.Condition{{Property: "email", Operator: "contains", Value: "7@"}, {Property: "plan", Operator: "exists"}}, Match: "any"},
		IncludeSegments: []string{"seg_b"}}, // a loop: members of neither through it
	"seg_d": {Group: sandbox.Group{Match: "all"}, StaticEmails: []string{"u5@x.com"}},
	"seg_e": {Group: sandbox.Group{Conditions: []sandbox.Condition{{Property: "stage", Operator: "in", Value: []any{"lead", "churned"}}, {Property: "city", Operator: "neq", Value: "city4"}}}},
}

// The table and its selections give what the contacts as maps, merged and
// evaluated one by one, give: the same contacts in the same order, the same
// members, the same samples.
func TestTableMatchesContacts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 8 {
		base := randomCSV(rng, 300+rng.IntN(3*maxDict), "") // some past maxDict: plain columns too
		upd := randomCSV(rng, rng.IntN(40), ",plan")
		want, err := readContacts(strings.NewReader(base), "contacts.csv")
		if err != nil {
			t.Fatal(err)
		}
		over, err := readContacts(strings.NewReader(upd), "contact-updates.csv")
		if err != nil {
			t.Fatal(err)
		}
		if round%2 == 0 {
			want = mergeContacts(want, over)
		} else {
			over = nil
		}
		tab, err := readTable(strings.NewReader(base), "contacts.csv", round%4 < 2, round, over)
		if err != nil {
			t.Fatal(err)
		}
		if tab.rows != len(want) {
			t.Fatalf("round %d: %d rows, want %d", round, tab.rows, len(want))
		}
		for r, c := range want {
			if got := tab.contact(r); !reflect.DeepEqual(got, c) {
				t.Fatalf("round %d, row %d: %v, want %v", round, r, got, c)
			}
			if got, ok := tab.row(c.Email()); !ok || got != r {
				t.Fatalf("round %d: row of %s = %d, %v; want %d", round, c.Email(), got, ok, r)
			}
		}
		all := slices.Concat(want, statics(want))
		ev := sandbox.Evaluator{Segments: modelSegments}
		for _, q := range [][2][]string{{{"seg_a"}, nil}, {{"seg_b"}, nil}, {{"seg_c"}, {"seg_e"}}, {{"seg_d", "seg_e"}, {"seg_a"}}, {{"seg_missing"}, nil}} {
			var wantM []sandbox.Contact
			for _, c := range all {
				if ev.Audience(c, q[0], q[1]) {
					wantM = append(wantM, c)
				}
			}
			sel := selectRows(tab, q[0], q[1], modelSegments)
			if sel.Len() != len(wantM) {
				t.Fatalf("round %d, %v: %d members, want %d", round, q, sel.Len(), len(wantM))
			}
			if got := sel.sample(len(wantM) + 1); !reflect.DeepEqual(got, wantM) {
				t.Fatalf("round %d, %v: members %v, want %v", round, q, got, wantM)
			}
		}
	}
}

// statics are the static addresses of modelSegments that contacts lack,
// as contacts, in the order members adds them.
func statics(cs []sandbox.Contact) []sandbox.Contact {
	known := map[string]bool{}
	for _, c := range cs {
		known[c.Email()] = true
	}
	var out []sandbox.Contact
	for _, id := range slices.Sorted(maps.Keys(modelSegments)) {
		for _, a := range modelSegments[id].StaticEmails {
			if !known[a] {
				known[a] = true
				out = append(out, sandbox.Contact{"email": a})
			}
		}
	}
	return out
}
