package sandbox

import (
	"fmt"
	"slices"
	"testing"
)

// recipientKeys sorts keys as strings would sort, and stores them as
// json.Marshal would write them.
func TestRecipientKeys(t *testing.T) {
	for _, n := range []int{0, 1, 2, 1000} {
		var addrs []string
		for i := range n {
			addrs = append(addrs, fmt.Sprintf(" User%d@Example.com", i%700))
		}
		keys, _ := recipientKeys(addrs)
		var want []string
		for _, a := range addrs {
			want = append(want, RecipientKey(a))
		}
		slices.Sort(want)
		want = slices.Compact(want)
		if !slices.Equal(keys, want) {
			t.Fatalf("%d addresses: keys differ from the sorted distinct RecipientKeys", n)
		}
		data, err := marshal(keys)
		if err != nil {
			t.Fatal(err)
		}
		if got := keysJSON(keys); string(got) != string(data) {
			t.Fatalf("%d addresses: keysJSON = %.80s, json %.80s", n, got, data)
		}
	}
}
