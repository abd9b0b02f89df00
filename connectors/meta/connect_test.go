package meta_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/meta"
	"github.com/lastmile/lastmile/connectors/meta/metatest"
	"github.com/lastmile/lastmile/sandbox"
)

func TestConnectStoresAndDescribes(t *testing.T) {
	srv := metatest.New(t)
	dir := t.TempDir()
	got, err := meta.Connect(context.Background(), dir, meta.ConnectInput{Name: "fb", Token: srv.Token, AdAccount: srv.AccountID, PageID: srv.PageID, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if got.Currency != "USD" || got.TimeZone != "America/Los_Angeles" || got.Tier != "development_access" || len(got.Permissions) != 2 {
		t.Errorf("connected %+v", got)
	}
	st, err := os.Stat(filepath.Join(dir, "credentials", "fb.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials: %v %v", st, err)
	}
	tg, err := meta.New("fb", dir, meta.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if tg.Currency() != "USD" || tg.AdAccount() != "act_"+srv.AccountID {
		t.Errorf("target: %s %s", tg.Currency(), tg.AdAccount())
	}
	d := tg.Describe()
	if d.Tier != "development_access" || !strings.Contains(d.Account, srv.PageID) || strings.Contains(strings.Join(d.Limits, " "), srv.Token) {
		t.Errorf("describe %+v", d)
	}
	if w := tg.LandWithin(sandbox.KindAd); w != 60*time.Second+meta.LandingLag {
		t.Errorf("LandWithin %v", w)
	}
}

func TestConnectRefuses(t *testing.T) {
	srv := metatest.New(t)
	srv.Permissions = []string{"ads_read"}
	ctx := context.Background()
	_, err := meta.Connect(ctx, t.TempDir(), meta.ConnectInput{Name: "fb", Token: srv.Token, AdAccount: srv.AccountID, PageID: srv.PageID, BaseURL: srv.URL})
	if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "ads_management") {
		t.Errorf("without ads_management: %v", err)
	}
	for _, in := range []meta.ConnectInput{
		{Name: "fb", Token: srv.Token, AdAccount: "12ab", PageID: srv.PageID, BaseURL: srv.URL},
		{Name: "fb", Token: srv.Token, AdAccount: srv.AccountID, PageID: "", BaseURL: srv.URL},
		{Name: "FB!", Token: srv.Token, AdAccount: srv.AccountID, PageID: srv.PageID, BaseURL: srv.URL},
		{Name: "fb", Token: "", AdAccount: srv.AccountID, PageID: srv.PageID, BaseURL: srv.URL},
	} {
		if _, err := meta.Connect(ctx, t.TempDir(), in); err == nil {
			t.Errorf("Connect(%+v) succeeded", in)
		}
	}
	// Another ad account than the token may use.
	_, err = meta.Connect(ctx, t.TempDir(), meta.ConnectInput{Name: "fb", Token: srv.Token, AdAccount: "act_999", PageID: srv.PageID, BaseURL: srv.URL})
	if err == nil || !strings.Contains(err.Error(), "act_999") {
		t.Errorf("unknown account: %v", err)
	}
	// Not connected: an ErrAuth naming the command.
	if _, err := meta.New("nope", t.TempDir(), meta.Config{}); !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "lastmile connect meta") {
		t.Errorf("New without credentials: %v", err)
	}
}
