package local

import (
	"context"
	"os"
	"testing"

	"github.com/lastmile/lastmile/outcomes"
	"github.com/lastmile/lastmile/sandbox"
)

// Every line of events.jsonl is an outcome, of every type, once: read in
// two parts by the cursor, a line still being written waits for its
// newline, money is exact, and what cannot be read is kept and says why.
func TestOutcomesFromEventsFile(t *testing.T) {
	tg, err := New("local", t.TempDir(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	lines := `{"type":"open","artifact":"eml_1","email":"Ada@Example.com","at":"2027-03-01T10:00:00Z"}
{"type":"deal_won","email":"ada@example.com","amount":"1200.50","currency":"usd","at":"2027-03-04T10:00:00Z"}
not json
{"type":"purchase","email":"grace@example.com","revenue":49.9,"currency":"EUR","url":"https://acme.com/?utm_campaign=spring&utm_content=eml_1","at":"2027-03-05T10:00:00Z"}
{"type":"webinar_attended","email":"alan@example.com","at":"2027-03-06T10:00:00Z"}
{"type":"opportunity_created","email":"alan@example.com","amount":"ten","currency":"USD","at":"2027-03-06T11:00:00Z"}
{"type":"reply","email":"alan@exa`
	if err := os.WriteFile(tg.EventsFile(), []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, cur, err := tg.Outcomes(ctx, sandbox.OutcomesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		typ, contact, problem string
		value                 *outcomes.Money
	}{
		{"open", "ada@example.com", "", nil},
		{"deal_won", "ada@example.com", "", &outcomes.Money{Minor: 120050, Currency: "USD"}},
		{"unreadable", "", "the line is not an event: not json", nil},
		{"purchase", "grace@example.com", "", &outcomes.Money{Minor: 4990, Currency: "EUR"}},
		{"webinar_attended", "alan@example.com", "", nil},
		{"opportunity_created", "alan@example.com", `"ten" is not a decimal amount`, nil},
	}
	if len(first) != len(want) {
		t.Fatalf("%d outcomes, want %d: %+v", len(first), len(want), first)
	}
	ids := map[string]bool{}
	for i, w := range want {
		e := first[i]
		if e.Type != w.typ || e.Contact != w.contact || e.Problem != w.problem || (w.value == nil) != (e.Value == nil) || (w.value != nil && *w.value != *e.Value) {
			t.Errorf("outcome %d: %+v, want %+v", i, e, w)
		}
		if ids[e.ID] || e.ID == "" {
			t.Errorf("outcome %d: id %q not unique", i, e.ID)
		}
		ids[e.ID] = true
	}
	// The reply's line is finished later: the next read has it, only it.
	f, _ := os.OpenFile(tg.EventsFile(), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`mple.com","at":"2027-03-07T10:00:00Z"}` + "\n")
	f.Close()
	next, _, err := tg.Outcomes(ctx, sandbox.OutcomesRequest{Cursor: cur})
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != 1 || next[0].Type != "reply" || next[0].Contact != "alan@example.com" || ids[next[0].ID] {
		t.Fatalf("after the cursor: %+v", next)
	}
	// Read again from the start, the ids are the same.
	again, _, _ := tg.Outcomes(ctx, sandbox.OutcomesRequest{})
	for i := range first {
		if again[i].ID != first[i].ID {
			t.Fatalf("outcome %d: id %s then %s", i, first[i].ID, again[i].ID)
		}
	}
}

// AppendEvents takes conversions without an artifact, but not an amount
// without its currency, nor engagement without its artifact.
func TestAppendConversions(t *testing.T) {
	tg, err := New("local", t.TempDir(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.AppendEvents([]Event{{Type: "meeting_booked", Email: "ada@example.com"}, {Type: "purchase", Email: "ada@example.com", Revenue: "20", Currency: "GBP"}}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Event{{Type: "deal_won", Email: "a@b.c", Amount: "10"}, {Type: "open", Email: "a@b.c"}, {Type: "purchase", Revenue: "1.234", Currency: "USD"}} {
		if err := tg.AppendEvents([]Event{bad}); err == nil {
			t.Errorf("%+v was appended", bad)
		}
	}
}
