package googleads_test

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/googleads"
	"github.com/lastmile/lastmile/connectors/googleads/googleadstest"
	"github.com/lastmile/lastmile/sandbox"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newTarget connects a target to the fake with the fake's credentials.
func newTarget(t testing.TB, srv *googleadstest.Server, opts ...googleads.Option) *googleads.Target {
	t.Helper()
	cfg := googleads.Config{CustomerID: "123-456-7890", BaseURL: srv.BaseURL(), TokenURL: srv.TokenURL(), Currency: "USD", TimeZone: "America/New_York",
		RequestsPerSecond: 1000}
	return newTargetCfg(t, srv, cfg, opts...)
}

func newTargetCfg(t testing.TB, srv *googleadstest.Server, cfg googleads.Config, opts ...googleads.Option) *googleads.Target {
	t.Helper()
	base := []googleads.Option{googleads.WithCredentials(googleadstest.DefaultClientID, googleadstest.DefaultClientSecret, googleadstest.DefaultRefreshToken, googleadstest.DefaultDeveloperToken),
		googleads.WithLogger(quiet()), googleads.WithRetry(3, time.Millisecond, 5*time.Millisecond)}
	tg, err := googleads.New("gads", t.TempDir(), cfg, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

var idSeq struct {
	sync.Mutex
	n int
}

func nextID() string {
	idSeq.Lock()
	defer idSeq.Unlock()
	idSeq.n++
	return "ad_01jtest" + string(rune('a'+idSeq.n%26)) + time.Now().Format("150405.000000000")[7:]
}

// adObj is a campaign with groups×ads ads (3 headlines, 2 descriptions, 2
// keywords a group), daily budget $25, a week ahead.
func adObj(name string, groups, ads int) sandbox.Object {
	id := nextID()
	start := time.Now().UTC().AddDate(0, 0, 7)
	a := &sandbox.AdCampaign{Name: name, Objective: sandbox.ObjectiveTraffic,
		Budget:    sandbox.AdBudget{Period: sandbox.BudgetDaily, Amount: "25.00", Currency: "USD", Micros: 25_000_000},
		StartDate: start.Format(time.DateOnly), EndDate: start.AddDate(0, 0, 20).Format(time.DateOnly),
		Locations: []string{"US", "GB"}, Languages: []string{"en"}, Enable: true}
	for g := range groups {
		grp := sandbox.AdGroup{Name: "Group " + string(rune('A'+g)), MaxCPC: "1.20", MaxCPCMicros: 1_200_000,
			Keywords: []sandbox.Keyword{{Text: "camping tents", Match: sandbox.MatchPhrase}, {Text: "hiking boots " + string(rune('a'+g)), Match: sandbox.MatchExact}}}
		for i := range ads {
			grp.Ads = append(grp.Ads, sandbox.Ad{
				Headlines:    []string{"Spring gear " + string(rune('a'+i)), "Tents, packs and boots", "Free returns on all gear"},
				Descriptions: []string{"Thirty percent off tents, packs and boots this week.", "Order by Friday for delivery before the weekend."},
				Path1:        "spring", Path2: "tents", FinalURL: "https://acme.example/spring?utm_source=google&utm_medium=cpc"})
		}
		a.Groups = append(a.Groups, grp)
	}
	return sandbox.Object{Kind: sandbox.KindAd, ArtifactID: id, Revision: 1, Marker: "lm-" + id, Ad: a, Refs: map[string]string{}}
}

// waitLate waits until the mutate the fake held after its client died
// is committed or refused, as want says.
func waitLate(t testing.TB, srv *googleadstest.Server, want string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		c, r := srv.Late()
		if (want == "committed" && c == 1) || (want == "refused" && r == 1) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the held mutate was not %s after its client died (committed %d, refused %d)", want, c, r)
		}
	}
}
