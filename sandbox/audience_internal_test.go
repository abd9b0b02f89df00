package sandbox

import (
	"fmt"
	"slices"
	"testing"
)

// An audience's keys sort as their hex strings would, and read back as the
// same set from the form the store keeps and from the JSON array of keys
// plans stored before it.
func TestRecipientKeys(t *testing.T) {
	for _, n := range []int{0, 1, 2, 1000} {
		var addrs []string
		for i := range n {
			addrs = append(addrs, fmt.Sprintf(" User%d@Example.com", i%700))
		}
		sums, _ := recipientKeys(addrs)
		var want []string
		for _, a := range addrs {
			want = append(want, RecipientKey(a))
		}
		slices.Sort(want)
		want = slices.Compact(want)
		keys := (&RecipientSet{sums: sums}).Keys()
		if !slices.Equal(keys, want) {
			t.Fatalf("%d addresses: keys differ from the sorted distinct RecipientKeys", n)
		}
		data, err := marshal(keys)
		if err != nil {
			t.Fatal(err)
		}
		if raw := audienceBytes(sums); len(raw) != 1+32*len(want) {
			t.Fatalf("%d addresses: stored in %d bytes, want %d", n, len(raw), 1+32*len(want))
		}
		for _, form := range [][]byte{audienceBytes(sums), data, []byte(" " + string(data))} { // the last through encoding/json
			set, err := readAudience(form)
			if err != nil || !slices.Equal(set.Keys(), want) {
				t.Fatalf("%d addresses: read back %v, %v", n, set.Len(), err)
			}
		}
		if n > 0 && (!NewRecipientSet(want).Allows(addrs[0]) || NewRecipientSet(want).Allows("nobody@example.com")) {
			t.Fatalf("%d addresses: Allows is wrong", n)
		}
	}
}

// A stored audience cut short is an error, never a smaller audience read
// as if whole.
func TestReadAudienceTruncated(t *testing.T) {
	sums, _ := recipientKeys([]string{"a@example.com", "b@example.com"})
	raw := audienceBytes(sums)
	if _, err := readAudience(raw[:len(raw)-1]); err == nil {
		t.Fatal("an audience one byte short was read")
	}
}
