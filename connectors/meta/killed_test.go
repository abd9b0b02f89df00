package meta_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/faketest"
	"github.com/lastmile/lastmile/connectors/internal/promotetest"
	"github.com/lastmile/lastmile/connectors/meta"
	"github.com/lastmile/lastmile/connectors/meta/metatest"
)

// TestHelperMetaPromoter is the child of TestKilledDuringPromotion: it
// puts a 2×2 campaign into the fake named by the environment.
func TestHelperMetaPromoter(t *testing.T) {
	base := promotetest.Arg("url")
	if base == "" {
		t.Skip("helper process only")
	}
	tg, err := meta.New("fb", promotetest.Arg("dir"), meta.Config{AdAccount: metatest.DefaultAccountID, PageID: metatest.DefaultPageID, BaseURL: base},
		meta.WithCredentials(metatest.DefaultToken, ""), meta.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.Put(context.Background(), adObj("ad_kill", 2, 2), "")
	t.Fatalf("the helper should have been killed during the third ad create; Put returned %v", err)
}

// A promoting process is SIGKILLed while Meta is still applying its third
// ad create; the create commits after the process is gone. The resumed
// promotion waits out LandWithin (here: until the write committed), finds
// the campaign by its marker and puts it again with Resumed: it ends with
// exactly one campaign, two ad sets, four creatives and four ads.
func TestKilledDuringPromotion(t *testing.T) {
	promotetest.Parent(t)
	srv := metatest.New(t)
	srv.Inject(faketest.Fault{Op: "POST /act_{id}/ads", Skip: 2, Kind: faketest.SlowApply, Delay: 300 * time.Millisecond})
	promotetest.StartChild(t, "TestHelperMetaPromoter", "url", srv.URL, "dir", t.TempDir()).
		KillWhen(t, "the slow create", func() bool { return srv.Applying() > 0 })
	if srv.Applied() != 0 {
		t.Fatal("the slow create committed before the child was killed; the test proves nothing")
	}
	// The sandbox waits LandWithin before it reconciles an interrupted
	// step; here the fake tells when the write has landed.
	promotetest.WaitFor(t, "the slow create to commit", func() bool { return srv.Applying() == 0 })
	tg := newTarget(t, srv)
	obj := adObj("ad_kill", 2, 2)
	obj.Resumed = true
	st, found, err := tg.Find(context.Background(), obj)
	if err != nil || !found {
		t.Fatalf("Find after the kill: %v %v", found, err)
	}
	put(t, tg, obj, st.ID)
	if c := counts(srv); c != [4]int{1, 2, 4, 4} {
		t.Fatalf("campaigns, ad sets, creatives, ads = %v, want 1 2 4 4", c)
	}
	seen := map[string]int{}
	for _, typ := range []string{"adset", "adcreative", "ad"} {
		for _, o := range live(srv, typ) {
			seen[typ+" "+o.Name[strings.LastIndex(o.Name, "["):]]++
		}
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s exists %d times", k, n)
		}
	}
}
