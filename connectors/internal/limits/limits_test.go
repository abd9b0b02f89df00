package limits

import (
	"sync"
	"testing"
)

func TestOneValuePerKey(t *testing.T) {
	var r Registry[*int]
	made := 0
	mk := func() *int { made++; n := made; return &n }
	var wg sync.WaitGroup
	got := make([]*int, 16)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = r.Get("a", mk) }()
	}
	wg.Wait()
	for _, p := range got {
		if p != got[0] {
			t.Fatal("two values for one key")
		}
	}
	if b := r.Get("b", mk); b == got[0] || made != 2 {
		t.Errorf("another key shares the value, or made %d", made)
	}
	r.Alias("a2", got[0])
	if r.Get("a2", mk) != got[0] {
		t.Error("the alias does not lead to the value")
	}
	r.Alias("a2", new(int))
	if r.Get("a2", mk) != got[0] {
		t.Error("an alias replaced a filed value")
	}
}
