package wordpress

import "testing"

// Targets of one site share the bound on requests in flight exactly when
// they are built with the same Limits.
func TestLimitsAreSharedThroughWithLimits(t *testing.T) {
	newTarget := func(site string, opts ...Option) *Target {
		t.Helper()
		opts = append(opts, WithCredentials("lastmile", testPassword))
		tg, err := New("blog", t.TempDir(), Config{BaseURL: site, MaxConcurrency: 2}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return tg
	}
	shared := NewLimits()
	a := newTarget("https://blog.example.com", WithLimits(shared))
	b := newTarget("https://Blog.example.com/", WithLimits(shared))
	alone := newTarget("https://blog.example.com")
	other := newTarget("https://shop.example.com", WithLimits(shared))
	if a.client.Sem != b.client.Sem || cap(a.client.Sem) != 2 {
		t.Error("two targets of one site with the same Limits do not share one bound of 2")
	}
	if alone.client.Sem == a.client.Sem || other.client.Sem == a.client.Sem {
		t.Error("targets of another site, or built without the Limits, share the bound")
	}
}
