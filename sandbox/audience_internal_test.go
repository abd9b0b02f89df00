package sandbox

import (
	"fmt"
	"slices"
	"testing"
)

// An audience's keys sort as their hex strings would, are stored as
// json.Marshal would write them, and read back as the same set.
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
		if got := keysJSON(sums); string(got) != string(data) {
			t.Fatalf("%d addresses: keysJSON = %.80s, json %.80s", n, got, data)
		}
		for _, form := range [][]byte{data, []byte(" " + string(data))} { // the second through encoding/json
			set, err := recipientSetJSON(form)
			if err != nil || !slices.Equal(set.Keys(), want) {
				t.Fatalf("%d addresses: read back %v, %v", n, set.Len(), err)
			}
		}
		if n > 0 && (!NewRecipientSet(want).Allows(addrs[0]) || NewRecipientSet(want).Allows("nobody@example.com")) {
			t.Fatalf("%d addresses: Allows is wrong", n)
		}
	}
}
