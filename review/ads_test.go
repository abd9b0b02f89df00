package review_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/googleads"
	"github.com/lastmile/lastmile/connectors/googleads/googleadstest"
	"github.com/lastmile/lastmile/internal/passkeytest"
	"github.com/lastmile/lastmile/sandbox"
)

// The plan page shows an ad campaign as the platform gets it — what it
// may spend, where it runs, its keywords and every ad — with the agent's
// text inert: a headline of markup is shown as text.
func TestPlanPageShowsAdCampaigns(t *testing.T) {
	srv := googleadstest.New(t)
	ga, err := googleads.New("gads", t.TempDir(), googleads.Config{CustomerID: srv.CustomerID(), BaseURL: srv.BaseURL(), TokenURL: srv.TokenURL(), Currency: "USD", TimeZone: "America/New_York", RequestsPerSecond: 1000},
		googleads.WithCredentials(googleadstest.DefaultClientID, googleadstest.DefaultClientSecret, googleadstest.DefaultRefreshToken, googleadstest.DefaultDeveloperToken),
		googleads.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, map[string]sandbox.Target{"gads": ga})
	ctx := context.Background()
	c, err := f.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Spring", Markets: []string{"US"}, UTM: sandbox.UTM{Campaign: "spring"}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)
	_, err = f.sb.StageAdCampaign(ctx, "agent", sandbox.AdCampaignInput{CampaignID: c.ID, Target: "gads", Name: "Spring search", Objective: "traffic",
		Budget: sandbox.AdBudget{Period: "daily", Amount: "40.00", Currency: "USD"}, StartDate: start, Locations: []string{"US"}, Enable: true,
		Groups: []sandbox.AdGroup{{Name: "Tents", Keywords: []sandbox.Keyword{{Text: "camping tents", Match: "phrase"}},
			Ads: []sandbox.Ad{{Headlines: []string{"<b>Sale</b>", "Tents, packs, boots", "Free returns"}, Descriptions: []string{"Thirty percent off this week.", "Order by Friday."},
				FinalURL: "https://www.acme.com/spring"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	b.enrol("maria@acme.com", nil, passkeytest.New(t, f.origin, "localhost"))
	st, page := b.do("GET", "/plans/"+p.ID, nil, "")
	if st != 200 {
		t.Fatalf("%d", st)
	}
	for _, want := range []string{"Ad campaigns", "Start spending on ad campaign “Spring search”", "up to $40.00/day from " + start + " with no end date, ≤ $1,216.00 a month",
		"camping tents (phrase)", "&lt;b&gt;Sale&lt;/b&gt; | Tents, packs, boots", "utm_medium=cpc"} {
		if !strings.Contains(page, want) {
			t.Errorf("the plan page lacks %q", want)
		}
	}
	if strings.Contains(page, "<b>Sale</b>") {
		t.Error("the agent's headline markup is live in the page")
	}
}
