package googleads_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/connectors/googleads"
	"github.com/lastmile/lastmile/connectors/googleads/googleadstest"
	"github.com/lastmile/lastmile/connectors/internal/promotetest"
	"github.com/lastmile/lastmile/sandbox"
)

// The browser sign-in: the fake approves at once and redirects to the
// loopback listener; the code is exchanged (PKCE) for a refresh token,
// the account probed and the credentials stored, so New finds them.
func TestConnectBrowserSignIn(t *testing.T) {
	srv := googleadstest.New(t, googleadstest.WithCurrency("GBP", "Europe/London"))
	dir := t.TempDir()
	vars := map[string]string{"DEV": googleadstest.DefaultDeveloperToken, "SECRET": googleadstest.DefaultClientSecret}
	prompt := &promotetest.Buffer{}
	conn, err := googleads.Connect(context.Background(), dir, googleads.ConnectInput{Name: "gads", CustomerID: "123-456-7890",
		DeveloperTokenEnv: "DEV", ClientID: googleadstest.DefaultClientID, ClientSecretEnv: "SECRET",
		BaseURL: srv.BaseURL(), TokenURL: srv.TokenURL(), AuthURL: srv.AuthURL(), ListenAddr: "127.0.0.1:0",
		Prompt: prompt, Getenv: func(k string) string { return vars[k] },
		OpenBrowser: func(u string) error {
			go func() {
				if resp, err := http.Get(u); err == nil {
					resp.Body.Close()
				}
			}()
			return nil
		}})
	if err != nil {
		t.Fatalf("Connect: %v\n%s", err, prompt.String())
	}
	if conn.Account.Currency != "GBP" || conn.Config.TimeZone != "Europe/London" || conn.Config.CustomerID != "1234567890" || conn.Description.Auth != sandbox.AuthOAuth {
		t.Errorf("connection %+v", conn)
	}
	tg, err := googleads.New("gads", dir, conn.Config, googleads.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.CheckAuth(context.Background()); err != nil {
		t.Errorf("CheckAuth with the stored refresh token: %v", err)
	}
	for _, s := range []string{googleadstest.DefaultRefreshToken, googleadstest.DefaultClientSecret, googleadstest.DefaultDeveloperToken} {
		if strings.Contains(prompt.String(), s) {
			t.Errorf("the prompt shows a secret")
		}
	}
	// A target never connected says how to connect it.
	if _, err := googleads.New("other", dir, conn.Config); !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "lastmile connect google-ads --name other") {
		t.Errorf("New(not connected): %v", err)
	}
	// A customer id that is not ten digits is refused before anything is asked.
	if _, err := googleads.Connect(context.Background(), dir, googleads.ConnectInput{Name: "gads", CustomerID: "12345", DeveloperTokenEnv: "DEV",
		ClientID: googleadstest.DefaultClientID, ClientSecretEnv: "SECRET", Getenv: func(k string) string { return vars[k] }}); err == nil || !strings.Contains(err.Error(), "ten digits") {
		t.Errorf("Connect with a short customer id: %v", err)
	}
}
