package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
)

// platformish is the local target dressed as a platform with credentials:
// Assess fails with failErr, and CheckAuth answers checkErr.
type platformish struct {
	*local.Target
	mu                sync.Mutex
	failErr, checkErr error
}

func (p *platformish) Name() string     { return "acme" }
func (p *platformish) Platform() string { return "hubspot" }

func (p *platformish) Assess(ctx context.Context, obj sandbox.Object) (sandbox.Assessment, error) {
	p.mu.Lock()
	err := p.failErr
	p.mu.Unlock()
	if err != nil {
		return sandbox.Assessment{}, err
	}
	return p.Target.Assess(ctx, obj)
}

func (p *platformish) Describe() sandbox.Description {
	return sandbox.Description{Account: "portal 1", Auth: sandbox.AuthPrivateApp}
}

func (p *platformish) CheckAuth(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.checkErr
}

func TestListTargets(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte(local.SampleContacts), 0o600); err != nil {
		t.Fatal(err)
	}
	lt, err := local.New("local", dir, local.Config{})
	if err != nil {
		t.Fatal(err)
	}
	acme := &platformish{Target: lt}
	cfg := sandbox.DefaultConfig()
	cfg.Targets["acme"] = sandbox.TargetConfig{Type: "hubspot"}
	cfg.Targets["blog"] = sandbox.TargetConfig{Type: "wordpress"}
	clk := &clock{t: epoch}
	sb, err := sandbox.New(sandbox.Options{
		Store: store.NewMemory(), Config: cfg, DataDir: dir, Now: clk.Now,
		Targets:     map[string]sandbox.Target{"local": lt, "acme": acme},
		Unavailable: map[string]error{"blog": errors.New(`wordpress: target "blog" is not connected: run lastmile connect wordpress`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	byName := func(check bool) map[string]sandbox.TargetInfo {
		t.Helper()
		infos, err := sb.ListTargets(ctx, check)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]sandbox.TargetInfo{}
		for _, i := range infos {
			out[i.Name] = i
		}
		if len(out) != 3 {
			t.Fatalf("ListTargets = %+v, want local, acme and blog", infos)
		}
		return out
	}

	got := byName(false)
	if l := got["local"]; !l.Default || l.Health.Token != sandbox.TokenNotNeeded || !l.Capabilities.TestSends || !l.Capabilities.ABTests || !l.Capabilities.TimeZones || !l.Capabilities.SendWindows || len(l.Capabilities.Retire) != 4 || l.Connection == nil || l.Connection.Auth != sandbox.AuthNone {
		t.Errorf("local = %+v", l)
	}
	if a := got["acme"]; a.Health.Token != sandbox.TokenUnknown || a.Health.TokenSource != sandbox.TokenNotChecked || a.Health.LastError != nil {
		t.Errorf("acme before any call = %+v, want unknown, not_checked", a.Health)
	}
	if b := got["blog"]; b.Health.Available || b.Platform != "wordpress" || !strings.Contains(b.Health.Problem, "lastmile connect wordpress") {
		t.Errorf("blog = %+v, want unavailable with the reason", b)
	}

	// A call that fails with an auth error is kept, scrubbed of anything
	// that looks like a credential.
	acme.failErr = fmt.Errorf("hubspot: 401 for Authorization: Bearer pat-na1-SECRET123 (token=abc&x=1): %w", sandbox.ErrAuth)
	c, err := sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: "Spring", Target: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.StageSegment(ctx, "test", sandbox.SegmentInput{CampaignID: c.ID, Name: "All", StaticEmails: []string{"ada@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.PlanPromotion(ctx, "test", c.ID); err == nil {
		t.Fatal("planning against a failing target succeeded")
	}
	got = byName(false)
	a := got["acme"]
	if a.Health.LastError == nil || !a.Health.LastError.Auth || a.Health.LastError.Op != "assess" {
		t.Fatalf("acme after a failed assess = %+v", a.Health)
	}
	if msg := a.Health.LastError.Message; strings.Contains(msg, "SECRET123") || strings.Contains(msg, "abc") || !strings.Contains(msg, "[redacted]") {
		t.Errorf("last error not scrubbed: %q", msg)
	}
	if a.Health.Token != sandbox.TokenInvalid || a.Health.TokenSource != sandbox.TokenLastCall {
		t.Errorf("acme token after a refused call = %s (%s), want invalid (last_call)", a.Health.Token, a.Health.TokenSource)
	}

	// A check now: the platform accepts the credentials.
	clk.Add(1)
	got = byName(true)
	if a := got["acme"]; a.Health.Token != sandbox.TokenValid || a.Health.TokenSource != sandbox.TokenCheckedNow || a.Health.LastError == nil {
		t.Errorf("acme checked = %+v, want valid (checked_now), the last error still shown", a.Health)
	}
	// and later, without a check, the last call (the check) says valid.
	if a := byName(false)["acme"]; a.Health.Token != sandbox.TokenValid || a.Health.TokenSource != sandbox.TokenLastCall {
		t.Errorf("acme after the check = %+v, want valid (last_call)", a.Health)
	}
	// A check the platform refuses.
	acme.checkErr = fmt.Errorf("hubspot: 401: %w", sandbox.ErrAuth)
	clk.Add(1)
	if a := byName(true)["acme"]; a.Health.Token != sandbox.TokenInvalid || a.Health.LastError == nil || a.Health.LastError.Op != "check credentials" {
		t.Errorf("acme refused = %+v", a.Health)
	}
}
