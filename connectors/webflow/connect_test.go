package webflow_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/connectors/webflow"
	"github.com/lastmile/lastmile/connectors/webflow/webflowtest"
	"github.com/lastmile/lastmile/sandbox"
)

func TestConnectCreatesTheMarkerField(t *testing.T) {
	srv := webflowtest.New(t)
	t.Setenv("WF_TOKEN", webflowtest.DefaultToken)
	dir := t.TempDir()
	var out bytes.Buffer
	setup, err := webflow.Connect(context.Background(), dir, "wf", webflow.ConnectRequest{TokenEnv: "WF_TOKEN", CollectionName: "landing pages", BaseURL: srv.BaseURL()},
		webflow.WithPrompt(&out), webflow.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	c := setup.Config
	if !setup.CreatedMarker || c.MarkerField != webflow.DefaultMarkerField || c.BodyField != "body" || c.MetaField != "meta-description" ||
		c.SiteID != webflowtest.DefaultSiteID || c.CollectionID != webflowtest.DefaultCollectionID || c.URLPrefix != "https://"+webflowtest.DefaultDomain+"/lp" ||
		c.FormItemField != webflowtest.DefaultItemField || c.RateLimit != 60 {
		t.Errorf("setup %+v", setup)
	}
	text := out.String()
	for _, want := range []string{"Created the PlainText field", "can: create landing pages", "never been published", "cannot: schedule", "form submissions"} {
		if !strings.Contains(text, want) {
			t.Errorf("the connect output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, webflowtest.DefaultToken) {
		t.Error("the output shows the token")
	}
	// The stored token works for a Target built from the settings.
	tg, err := webflow.New("wf", dir, c, webflow.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.CheckAuth(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Connecting again finds the field and creates none.
	again, err := webflow.Connect(context.Background(), dir, "wf", webflow.ConnectRequest{TokenEnv: "WF_TOKEN", SiteID: webflowtest.DefaultSiteID,
		CollectionID: webflowtest.DefaultCollectionID, BaseURL: srv.BaseURL()})
	if err != nil || again.CreatedMarker || again.Config.MarkerField != webflow.DefaultMarkerField {
		t.Errorf("second connect: %+v %v", again, err)
	}
}

func TestConnectRefuses(t *testing.T) {
	ctx := context.Background()
	t.Run("missing scopes", func(t *testing.T) {
		srv := webflowtest.New(t, func(o *webflowtest.Options) { o.Scopes = []string{"cms:read", "sites:read"} })
		t.Setenv("WF_TOKEN", webflowtest.DefaultToken)
		_, err := webflow.Connect(ctx, t.TempDir(), "wf", webflow.ConnectRequest{TokenEnv: "WF_TOKEN", CollectionID: webflowtest.DefaultCollectionID, BaseURL: srv.BaseURL()})
		if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "cms:write") || !strings.Contains(err.Error(), "sites:write") {
			t.Errorf("%v", err)
		}
	})
	t.Run("no such collection", func(t *testing.T) {
		srv := webflowtest.New(t)
		t.Setenv("WF_TOKEN", webflowtest.DefaultToken)
		_, err := webflow.Connect(ctx, t.TempDir(), "wf", webflow.ConnectRequest{TokenEnv: "WF_TOKEN", CollectionName: "Blog", BaseURL: srv.BaseURL()})
		if err == nil || !strings.Contains(err.Error(), `"Landing Pages"`) {
			t.Errorf("%v, want the collections it has named", err)
		}
	})
	t.Run("empty env", func(t *testing.T) {
		t.Setenv("WF_TOKEN", "")
		_, err := webflow.Connect(ctx, t.TempDir(), "wf", webflow.ConnectRequest{TokenEnv: "WF_TOKEN", CollectionID: "x"})
		if !errors.Is(err, sandbox.ErrAuth) || !strings.Contains(err.Error(), "WF_TOKEN") {
			t.Errorf("%v", err)
		}
	})
	t.Run("no forms:read", func(t *testing.T) {
		srv := webflowtest.New(t, func(o *webflowtest.Options) {
			o.Scopes = []string{"cms:read", "cms:write", "sites:read", "sites:write"}
		})
		t.Setenv("WF_TOKEN", webflowtest.DefaultToken)
		var out bytes.Buffer
		setup, err := webflow.Connect(ctx, t.TempDir(), "wf", webflow.ConnectRequest{TokenEnv: "WF_TOKEN", CollectionID: webflowtest.DefaultCollectionID, BaseURL: srv.BaseURL()}, webflow.WithPrompt(&out))
		if err != nil || setup.Config.FormItemField != "" || !strings.Contains(out.String(), "lacks forms:read") {
			t.Errorf("%+v %v\n%s", setup, err, out.String())
		}
	})
}
