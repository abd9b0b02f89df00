package targettest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/sandbox"
)

// ad is a small ad campaign in the target's platform's terms: a search
// campaign with keywords and a responsive search ad on Google Ads, a link
// ad on Meta (both sets of fields otherwise). Revision 2 raises the daily
// budget and changes the first ad's copy.
func (s *suite) ad(id string, rev int, name string) sandbox.Object {
	start := time.Now().UTC().AddDate(0, 0, 7)
	amount, micros := "25.00", int64(25_000_000)
	headline := "Spring gear, 30% off"
	if rev > 1 {
		amount, micros = "40.00", 40_000_000
		headline = "Last days: 30% off"
		name += revised(rev)
	}
	url := "https://acme.example/spring?utm_source=" + sandbox.AdSource(s.tg.Platform()) + "&utm_medium=" + sandbox.AdMedium(s.tg.Platform()) + "&utm_campaign=" + s.campaign.UTM.Campaign
	ad := sandbox.Ad{FinalURL: url}
	group := sandbox.AdGroup{Name: "Tents " + s.u, MaxCPC: "1.20", MaxCPCMicros: 1_200_000}
	if s.tg.Platform() == sandbox.PlatformMeta {
		ad.PrimaryText = "Thirty percent off tents, packs and boots this week."
		ad.Headline = headline
		ad.Description = "Free returns"
		ad.ImageURL = "https://acme.example/img/spring.jpg"
		ad.CallToAction = "SHOP_NOW"
	} else {
		ad.Headlines = []string{headline, "Tents, packs and boots", "Free returns on all gear"}
		ad.Descriptions = []string{"Thirty percent off tents, packs and boots this week.", "Order by Friday for delivery before the weekend."}
		ad.Path1, ad.Path2 = "spring", "tents"
		group.Keywords = []sandbox.Keyword{{Text: "camping tents", Match: sandbox.MatchPhrase}, {Text: "hiking boots sale", Match: sandbox.MatchExact}}
	}
	group.Ads = []sandbox.Ad{ad}
	a := &sandbox.AdCampaign{
		Name: name, Platform: s.tg.Platform(), Objective: sandbox.ObjectiveTraffic,
		Budget:    sandbox.AdBudget{Period: sandbox.BudgetDaily, Amount: amount, Currency: "USD", Micros: micros},
		StartDate: start.Format(time.DateOnly), EndDate: start.AddDate(0, 0, 20).Format(time.DateOnly),
		Locations: []string{"US", "GB"}, Languages: []string{"en"},
		Groups: []sandbox.AdGroup{group}, Enable: true,
	}
	obj := s.object(sandbox.KindAd, id, rev, nil)
	obj.Ad, obj.Hash = a, hashOf(a)
	return obj
}

// ads runs the ad campaign cases:
//
//   - the lifecycle (assess with the platform's dry run, find-before-put,
//     create, update of the budget and copy, live-missing);
//   - created-paused: what Put made is not spending (Status "paused");
//   - enable-twice: Publish enables it once (Status "enabled"), a second
//     Publish does nothing;
//   - update-after-enable: the next revision is put and the campaign
//     stays enabled;
//   - dry-run-rejects: a revision the platform refuses (Google: a
//     headline of 95 characters; Meta: a call to action not in its enum)
//     is a Problem of Assess that names where, and nothing is created
//     (Find still answers not found);
//   - retire (pause, resume, remove), in retire.go.
func (s *suite) ads(t *testing.T) {
	id := NewID(sandbox.PrefixAd)
	name := s.name("Spring search")
	live, _ := s.lifecycle(t, s.ad(id, 1, name), s.ad(id, 2, name))
	if live.ID == "" {
		return
	}
	s.run(t, "created-paused", func(t *testing.T, c *check) {
		st, found, err := s.tg.Live(ctx(t), sandbox.KindAd, live.ID)
		if err != nil || !found {
			c.Fatalf("Live(ad %q): found=%v err=%v", live.ID, found, err)
		}
		if st.Status != "paused" {
			c.Errorf("Live(ad %q).Status = %q after Put, want \"paused\": nothing may spend before the plan's enable step", live.ID, st.Status)
		}
		live = st
	})
	rev2 := s.ad(id, 2, name)
	rev2.Refs[id] = live.ID
	s.twice(t, "enable-twice", rev2, live, false, time.Time{})
	s.run(t, "enabled", func(t *testing.T, c *check) {
		st, found, err := s.tg.Live(ctx(t), sandbox.KindAd, live.ID)
		if err != nil || !found || st.Status != "enabled" {
			c.Errorf("Live(ad %q) after Publish: %+v found=%v err=%v, want Status \"enabled\"", live.ID, st, found, err)
		}
		live = st
	})
	next := s.ad(id, 3, name)
	s.updateAfter(t, "update-after-enable", next, live)
	s.run(t, "still-enabled", func(t *testing.T, c *check) {
		st, found, err := s.tg.Live(ctx(t), sandbox.KindAd, live.ID)
		if err != nil || !found || st.Status != "enabled" {
			c.Errorf("Live(ad %q) after an update of an enabled campaign: %+v found=%v err=%v, want it still \"enabled\"", live.ID, st, found, err)
		}
	})
	s.run(t, "dry-run-rejects", func(t *testing.T, c *check) {
		cx := ctx(t)
		bad := s.ad(NewID(sandbox.PrefixAd), 1, s.name("Refused"))
		ad := &bad.Ad.Groups[0].Ads[0]
		what := "a 95-character headline"
		if len(ad.Headlines) > 0 {
			ad.Headlines[0] = strings.Repeat("Tents ", 16)[:95]
		} else {
			ad.CallToAction, what = "SHOP_TODAY_PLEASE", "the call to action SHOP_TODAY_PLEASE"
		}
		bad.Hash = hashOf(bad.Ad)
		a, err := s.tg.Assess(cx, bad)
		if err != nil {
			c.Fatalf("Assess(ad with %s): %v, want Problems (not an error)", what, err)
		}
		if len(a.Problems) == 0 {
			c.Fatalf("Assess(ad with %s): no Problems; the platform would refuse it at promotion", what)
		}
		if text := strings.Join(a.Problems, "\n"); !strings.Contains(text, "ad_groups[0].ads[0]") {
			c.Errorf("Assess's Problems %q do not say where (ad_groups[0].ads[0]…)", a.Problems)
		}
		if st, found, err := s.tg.Find(cx, bad); err != nil || found {
			c.Errorf("Find after a rejected dry run: %+v found=%v err=%v, want nothing created", st, found, err)
		}
	})
	s.run(t, "spend-stated", func(t *testing.T, c *check) {
		// Not the target's doing, but what every plan of this object states.
		sp := s.ad(id, 1, name).Ad.MaxSpend()
		if want := fmt.Sprintf("≤ %s total", sandbox.FormatMoney(25_000_000*21, "USD")); !strings.Contains(sp.Text, want) {
			c.Errorf("MaxSpend().Text = %q, want it to contain %q", sp.Text, want)
		}
	})
}
