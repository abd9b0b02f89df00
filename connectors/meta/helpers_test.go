package meta_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/meta"
	"github.com/lastmile/lastmile/connectors/meta/metatest"
	"github.com/lastmile/lastmile/sandbox"
)

func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newTarget is a Target on the fake with its default token.
func newTarget(t testing.TB, srv *metatest.Server, opts ...meta.Option) *meta.Target {
	t.Helper()
	opts = append([]meta.Option{meta.WithCredentials(srv.Token, srv.AppSecret), meta.WithSleep(noSleep), meta.WithLogger(quiet())}, opts...)
	tg, err := meta.New("fb", t.TempDir(), meta.Config{AdAccount: "act_" + srv.AccountID, PageID: srv.PageID, BaseURL: srv.URL}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// adObj is a link-ad campaign with groups × ads, named after id.
func adObj(id string, groups, ads int) sandbox.Object {
	a := &sandbox.AdCampaign{
		Name: "Spring sale", Objective: sandbox.ObjectiveTraffic,
		Budget:    sandbox.AdBudget{Period: sandbox.BudgetDaily, Amount: "25.00", Currency: "USD", Micros: 25_000_000},
		StartDate: time.Now().AddDate(0, 0, 7).Format(time.DateOnly), EndDate: time.Now().AddDate(0, 0, 27).Format(time.DateOnly),
		Locations: []string{"US", "GB"},
	}
	for g := range groups {
		grp := sandbox.AdGroup{Name: "Group " + string(rune('A'+g)), MaxCPC: "1.20", MaxCPCMicros: 1_200_000}
		for j := range ads {
			grp.Ads = append(grp.Ads, sandbox.Ad{PrimaryText: "Thirty percent off tents this week.", Headline: "Tents 30% off " + string(rune('a'+j)),
				Description: "Free returns", ImageURL: "https://acme.example/img/spring.jpg", CallToAction: "SHOP_NOW",
				FinalURL: "https://acme.example/spring?utm_source=facebook&utm_medium=paid_social"})
		}
		a.Groups = append(a.Groups, grp)
	}
	return sandbox.Object{Kind: sandbox.KindAd, ArtifactID: id, Revision: 1, Marker: sandbox.MarkerPrefix + id, Ad: a, Refs: map[string]string{}}
}

func proofOf(secret, token string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}
