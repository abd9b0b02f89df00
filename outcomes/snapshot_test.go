package outcomes

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

// An aggregate written and read back is the same aggregate, answers the
// same, and takes later events as the one it was written from does; a
// snapshot cut short or of another version is refused.
func TestSnapshot(t *testing.T) {
	cat, events := loadHistory(t, "../testdata/outcomes/attribution.json")
	_, gen := collect(genConfig{seed: 3, campaigns: 6, emailsPer: 2, recipients: 300, contacts: 2000, lift: 1})
	// Negative numbers: a refund, and a time before 1970.
	odd := []Event{
		{ID: "r1", Type: Purchase, Source: "shop", Contact: "a@example.com", At: time.Date(1960, 5, 1, 0, 0, 0, 7, time.UTC), Value: &Money{Minor: -250, Currency: "EUR"}},
		{ID: "r2", Type: Open, Source: "local", Contact: "a@example.com", Target: "local", LiveID: "L1", At: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)},
	}
	for name, evs := range map[string][]Event{"golden history": events, "generated": gen, "negative numbers": odd} {
		half := len(evs) / 2
		a := NewAggregate()
		a.Add(evs[:half]...)
		var buf bytes.Buffer
		n, err := a.WriteTo(&buf)
		if err != nil || n != int64(buf.Len()) {
			t.Fatalf("%s: WriteTo = %d, %v (wrote %d)", name, n, err, buf.Len())
		}
		data := buf.Bytes()
		b, err := ReadAggregate(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: the aggregate read back differs from the one written", name)
		}
		a.Add(evs[half:]...)
		b.Add(evs[half:]...)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: after the same later events, the aggregates differ", name)
		}
		for _, m := range Models {
			x, errA := a.Attribute(cat, Options{Model: m})
			y, errB := b.Attribute(cat, Options{Model: m})
			if errA != nil || errB != nil || !reflect.DeepEqual(x, y) {
				t.Fatalf("%s %s: attribution differs (%v, %v)", name, m, errA, errB)
			}
		}
		for _, cut := range []int{0, 10, len(data) / 2, len(data) - 1} {
			if _, err := ReadAggregate(bytes.NewReader(data[:cut])); err == nil {
				t.Errorf("%s: a snapshot cut to %d of %d bytes was read", name, cut, len(data))
			}
		}
		if _, err := ReadAggregate(bytes.NewReader(append(bytes.Clone(data), 0))); err == nil {
			t.Errorf("%s: a snapshot with a byte after its end was read", name)
		}
		other := bytes.Replace(bytes.Clone(data), []byte("\x00v1\n"), []byte("\x00v0\n"), 1)
		if _, err := ReadAggregate(bytes.NewReader(other)); err == nil {
			t.Errorf("%s: a snapshot of another version was read", name)
		}
	}
}
