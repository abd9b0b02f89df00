package review_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/approvers"
	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/internal/passkeytest"
	"github.com/lastmile/lastmile/review"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
)

// testPolicy: one approval; Germany needs Legal; the review page carries
// roles; dana and erin are Legal in the policy.
const testPolicy = `version: 1
name: Review test policy
roles:
  legal: [dana@acme.com, erin@acme.com]
approval:
  channels:
    review: {roles: true}
    cli: {}
rules:
  - id: approvals.germany-legal
    kind: approvals
    roles: [legal]
    markets: [DE]
    message: Campaigns to Germany need sign-off from Legal.
`

type fixture struct {
	t testing.TB
	// first is the first approver enrolled: the one who confirms the
	// others' invitations in tests of other things.
	first  string
	sb     *sandbox.Sandbox
	ap     *approvers.Store
	srv    *httptest.Server
	origin string
}

func newFixture(t testing.TB) *fixture { return newFixtureWith(t, nil) }

// newFixtureWith is newFixture with more targets beside local.
func newFixtureWith(t testing.TB, more map[string]sandbox.Target) *fixture {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte(local.SampleContacts), 0o600); err != nil {
		t.Fatal(err)
	}
	pol, err := governance.Parse("policy.yaml", []byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenBolt(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	lt, err := local.New("local", dir, local.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, targets := sandbox.DefaultConfig(), map[string]sandbox.Target{"local": lt}
	for name, tg := range more {
		targets[name], cfg.Targets[name] = tg, sandbox.TargetConfig{Type: tg.Platform()}
	}
	sb, err := sandbox.New(sandbox.Options{Store: st, Config: cfg, Targets: targets, Policy: sandbox.StaticPolicy{P: pol}, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, sb: sb, ap: approvers.New(st, nil)}
	// The app checks the Host it is reached at, so it is told its origin
	// before it listens: the listener's port is known first.
	srv := httptest.NewUnstartedServer(nil)
	f.origin = "http://localhost:" + portOf(srv.Listener.Addr().String())
	rs, err := review.New(review.Options{Sandbox: sb, Approvers: f.ap, Origin: f.origin})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = rs.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	f.srv = srv
	return f
}

func portOf(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }

// plan stages a campaign (a segment of customers, an email to it whose
// HTML tries every way to run script) and plans it.
func (f *fixture) plan(markets ...string) *sandbox.Plan {
	f.t.Helper()
	ctx := context.Background()
	if len(markets) == 0 {
		markets = []string{"US"}
	}
	c, err := f.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Spring", Markets: markets})
	if err != nil {
		f.t.Fatal(err)
	}
	seg, err := f.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: "Customers", Match: "all",
		Conditions: []sandbox.Condition{{Property: "lifecycle_stage", Operator: "eq", Value: "customer"}}})
	if err != nil {
		f.t.Fatal(err)
	}
	_, err = f.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "Spring news", Subject: "Spring for {{ contact.firstname | default: \"you\" }}",
		FromName: "Acme", FromEmail: "news@acme.com", Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}},
		HTML: `<html><head><meta http-equiv="refresh" content="0;url=https://evil.example/"></head><body onload="parent.document.title='PWNED'">` +
			`<h1>Hello {{ contact.firstname | default: "there" }}</h1><script>parent.document.body.dataset.pwned='1'</script>` +
			`<img src="x" onerror="top.location='https://evil.example/'"><p>Unsubscribe: <a href="{{ unsubscribe_url }}">here</a>. Acme, 1 Main St.</p></body></html>`})
	if err != nil {
		f.t.Fatal(err)
	}
	p, err := f.sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// promote approves p at the terminal and promotes it.
func (f *fixture) promote(p *sandbox.Plan) {
	f.t.Helper()
	ctx := context.Background()
	code, err := f.sb.PlanCode(ctx, p.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "ops", Channel: sandbox.ChannelCLI, Code: code}); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.sb.Confirm(ctx, "agent", p.ID, nil); err != nil {
		f.t.Fatal(err)
	}
}

// browser is one person's browser: a cookie jar, and requests that carry
// the page's origin as a browser's do.
type browser struct {
	f      *fixture
	c      *http.Client
	origin string
}

func (f *fixture) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{f: f, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, origin: f.origin}
}

func (b *browser) do(method, path string, body []byte, csrf string) (int, string) {
	b.f.t.Helper()
	req, err := http.NewRequest(method, b.f.origin+path, bytes.NewReader(body))
	if err != nil {
		b.f.t.Fatal(err)
	}
	if method == http.MethodPost && b.origin != "" {
		req.Header.Set("Origin", b.origin)
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := b.c.Do(req)
	if err != nil {
		b.f.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(data)
}

// enrol invites an approver and registers key for them through the link,
// which also signs this browser in.
func (b *browser) enrol(email string, roles []string, key *passkeytest.Key) {
	b.f.t.Helper()
	token := b.f.invite(email, roles)
	st, opts := b.do("POST", "/enrol/"+token+"/begin", nil, "")
	if st != 200 {
		b.f.t.Fatalf("enrol begin: %d %s", st, opts)
	}
	if st, body := b.do("POST", "/enrol/"+token+"/finish", key.Create([]byte(opts)), ""); st != 200 {
		b.f.t.Fatalf("enrol finish: %d %s", st, body)
	}
}

// invite invites an approver and, when an approver is enrolled already,
// has the first one confirm the invitation (through the store: the page's
// confirmation has its own test).
func (f *fixture) invite(email string, roles []string) string {
	f.t.Helper()
	ctx := context.Background()
	token, _, needs, err := f.ap.Invite(ctx, email, roles, "admin")
	if err != nil {
		f.t.Fatal(err)
	}
	if needs {
		invs, _ := f.ap.Invitations(ctx)
		for _, inv := range invs {
			if inv.Email == email && inv.Waiting {
				if err := f.ap.Endorse(ctx, inv.Key, f.first); err != nil {
					f.t.Fatal(err)
				}
			}
		}
	}
	if f.first == "" {
		f.first = email
	}
	return token
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

// csrf loads a page and returns its CSRF token.
func (b *browser) csrf(path string) string {
	b.f.t.Helper()
	st, page := b.do("GET", path, nil, "")
	m := csrfMeta.FindStringSubmatch(page)
	if st != 200 || m == nil {
		b.f.t.Fatalf("GET %s: %d, no CSRF token: %.300s", path, st, page)
	}
	return m[1]
}

// begin opens a decision's passkey prompt and returns the ceremony id and
// the options the authenticator is asked to answer.
func (b *browser) begin(planID, action, hash, csrf string) (string, []byte) {
	b.f.t.Helper()
	st, body := b.do("POST", "/plans/"+planID+"/"+action+"/begin", []byte(`{"hash":"`+hash+`","reason":"not this week"}`), csrf)
	if st != 200 {
		b.f.t.Fatalf("%s begin: %d %s", action, st, body)
	}
	var out struct {
		Ceremony string          `json:"ceremony"`
		Options  json.RawMessage `json:"options"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		b.f.t.Fatal(err)
	}
	return out.Ceremony, out.Options
}

func (b *browser) finish(planID, action, ceremony string, assertion []byte, csrf string) (int, string) {
	return b.do("POST", "/plans/"+planID+"/"+action+"/finish?ceremony="+ceremony, assertion, csrf)
}

func (f *fixture) status(planID string) *sandbox.Plan {
	p, err := f.sb.GetPlan(context.Background(), planID)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// nothingLive: the plan is not approved, and confirm_promotion refuses it.
func (f *fixture) nothingLive(planID string) {
	f.t.Helper()
	p := f.status(planID)
	if p.Status == sandbox.PlanApproved || len(p.Approvals.Have) > 0 {
		f.t.Fatalf("plan %s: status %s, approvals %+v", planID, p.Status, p.Approvals.Have)
	}
	if _, err := f.sb.Confirm(context.Background(), "agent", planID, nil); err == nil {
		f.t.Fatalf("plan %s was promoted", planID)
	}
}

func TestApproveWithAPasskey(t *testing.T) {
	f := newFixture(t)
	p := f.plan()
	b := f.browser()
	key := passkeytest.New(t, f.origin, "localhost")
	b.enrol("maria@acme.com", nil, key)
	csrf := b.csrf("/plans/" + p.ID)
	cer, opts := b.begin(p.ID, "approve", p.Hash, csrf)
	st, body := b.finish(p.ID, "approve", cer, key.Get(opts), csrf)
	if st != 200 || !strings.Contains(body, "every approval it needs") {
		t.Fatalf("approve: %d %s", st, body)
	}
	got := f.status(p.ID)
	if got.Status != sandbox.PlanApproved || len(got.Approvals.Have) != 1 {
		t.Fatalf("after approving: %s %+v", got.Status, got.Approvals.Have)
	}
	a := got.Approvals.Have[0]
	if a.Approver != "maria@acme.com" || a.Channel != sandbox.ChannelReview || a.PlanHash != p.Hash || a.Credential != approvers.CredentialID(key.ID()) {
		t.Fatalf("the approval records %+v", a)
	}
	if _, err := f.sb.Confirm(context.Background(), "agent", p.ID, nil); err != nil {
		t.Fatalf("confirm after a review approval: %v", err)
	}
}

func TestRefusedDecisions(t *testing.T) {
	f := newFixture(t)
	maria, other := passkeytest.New(t, f.origin, "localhost"), passkeytest.New(t, f.origin, "localhost")
	b := f.browser()
	b.enrol("maria@acme.com", nil, maria)
	ob := f.browser()
	ob.enrol("omar@acme.com", nil, other)

	t.Run("no assertion", func(t *testing.T) {
		p := f.plan()
		csrf := b.csrf("/plans/" + p.ID)
		cer, _ := b.begin(p.ID, "approve", p.Hash, csrf)
		if st, body := b.finish(p.ID, "approve", cer, []byte(`{}`), csrf); st != http.StatusForbidden {
			t.Fatalf("%d %s", st, body)
		}
		f.nothingLive(p.ID)
	})
	t.Run("another approver's passkey", func(t *testing.T) {
		p := f.plan()
		csrf := b.csrf("/plans/" + p.ID)
		cer, opts := b.begin(p.ID, "approve", p.Hash, csrf)
		if st, body := b.finish(p.ID, "approve", cer, other.Get(opts), csrf); st != http.StatusForbidden {
			t.Fatalf("%d %s", st, body)
		}
		f.nothingLive(p.ID)
	})
	t.Run("an assertion for another plan", func(t *testing.T) {
		p1, p2 := f.plan(), f.plan()
		csrf := b.csrf("/plans/" + p1.ID)
		cer, opts := b.begin(p1.ID, "approve", p1.Hash, csrf)
		if st, body := b.finish(p2.ID, "approve", cer, maria.Get(opts), csrf); st != http.StatusForbidden {
			t.Fatalf("%d %s", st, body)
		}
		// A signature over a challenge the server never issued for p2.
		cer2, _ := b.begin(p2.ID, "approve", p2.Hash, csrf)
		if st, body := b.finish(p2.ID, "approve", cer2, maria.Get(opts), csrf); st != http.StatusForbidden {
			t.Fatalf("%d %s", st, body)
		}
		f.nothingLive(p1.ID)
		f.nothingLive(p2.ID)
	})
	t.Run("a replayed assertion", func(t *testing.T) {
		p := f.plan()
		csrf := b.csrf("/plans/" + p.ID)
		cer, opts := b.begin(p.ID, "reject", p.Hash, csrf)
		assertion := maria.Get(opts)
		if st, body := b.finish(p.ID, "reject", cer, assertion, csrf); st != 200 {
			t.Fatalf("reject: %d %s", st, body)
		}
		if st, body := b.finish(p.ID, "reject", cer, assertion, csrf); st != http.StatusBadRequest {
			t.Fatalf("replay: %d %s", st, body)
		}
		if f.status(p.ID).Status != sandbox.PlanRejected {
			t.Fatal("not rejected")
		}
	})
	t.Run("no CSRF token", func(t *testing.T) {
		p := f.plan()
		if st, body := b.do("POST", "/plans/"+p.ID+"/approve/begin", []byte(`{"hash":"`+p.Hash+`"}`), ""); st != http.StatusForbidden {
			t.Fatalf("%d %s", st, body)
		}
		f.nothingLive(p.ID)
	})
	t.Run("a foreign origin", func(t *testing.T) {
		p := f.plan()
		csrf := b.csrf("/plans/" + p.ID)
		evil := *b
		evil.origin = "https://evil.example"
		if st, body := evil.do("POST", "/plans/"+p.ID+"/approve/begin", []byte(`{"hash":"`+p.Hash+`"}`), csrf); st != http.StatusForbidden {
			t.Fatalf("%d %s", st, body)
		}
		evil.origin = ""
		if st, body := evil.do("POST", "/plans/"+p.ID+"/approve/begin", []byte(`{"hash":"`+p.Hash+`"}`), csrf); st != http.StatusForbidden {
			t.Fatalf("no Origin: %d %s", st, body)
		}
		f.nothingLive(p.ID)
	})
	t.Run("a changed plan", func(t *testing.T) {
		p := f.plan()
		csrf := b.csrf("/plans/" + p.ID)
		if st, body := b.do("POST", "/plans/"+p.ID+"/approve/begin", []byte(`{"hash":"sha256:0000"}`), csrf); st != http.StatusConflict {
			t.Fatalf("%d %s", st, body)
		}
		f.nothingLive(p.ID)
	})
	t.Run("the same person twice", func(t *testing.T) {
		f2 := f
		p := f2.plan("DE") // needs Legal too, so the first approval leaves it pending
		csrf := b.csrf("/plans/" + p.ID)
		cer, opts := b.begin(p.ID, "approve", p.Hash, csrf)
		if st, body := b.finish(p.ID, "approve", cer, maria.Get(opts), csrf); st != 200 {
			t.Fatalf("first: %d %s", st, body)
		}
		cer, opts = b.begin(p.ID, "approve", p.Hash, csrf)
		if st, body := b.finish(p.ID, "approve", cer, maria.Get(opts), csrf); st != http.StatusConflict || !strings.Contains(body, "already approved") {
			t.Fatalf("second: %d %s", st, body)
		}
		if got := f.status(p.ID); len(got.Approvals.Have) != 1 || got.Status == sandbox.PlanApproved {
			t.Fatalf("%s %+v", got.Status, got.Approvals.Have)
		}
	})
	t.Run("without the role a rule needs", func(t *testing.T) {
		p := f.plan("DE")
		// dana is Legal in the policy but was not enrolled as Legal;
		// omar is enrolled as nothing: neither approval carries the role.
		db := f.browser()
		dana := passkeytest.New(t, f.origin, "localhost")
		db.enrol("dana@acme.com", nil, dana)
		csrf := db.csrf("/plans/" + p.ID)
		cer, opts := db.begin(p.ID, "approve", p.Hash, csrf)
		if st, body := db.finish(p.ID, "approve", cer, dana.Get(opts), csrf); st != 200 || !strings.Contains(body, "role legal") {
			t.Fatalf("%d %s", st, body)
		}
		got := f.status(p.ID)
		if got.Status == sandbox.PlanApproved || len(got.Approvals.Have[0].Roles) != 0 {
			t.Fatalf("%s %+v", got.Status, got.Approvals.Have)
		}
		if _, err := f.sb.Confirm(context.Background(), "agent", p.ID, nil); err == nil {
			t.Fatal("promoted without Legal")
		}
		// erin, enrolled as Legal (which the policy gives her), completes it.
		eb := f.browser()
		erin := passkeytest.New(t, f.origin, "localhost")
		eb.enrol("erin@acme.com", []string{"legal"}, erin)
		csrf = eb.csrf("/plans/" + p.ID)
		cer, opts = eb.begin(p.ID, "approve", p.Hash, csrf)
		if st, body := eb.finish(p.ID, "approve", cer, erin.Get(opts), csrf); st != 200 || !strings.Contains(body, "every approval") {
			t.Fatalf("%d %s", st, body)
		}
	})
	t.Run("no user verification", func(t *testing.T) {
		p := f.plan()
		csrf := b.csrf("/plans/" + p.ID)
		cer, opts := b.begin(p.ID, "approve", p.Hash, csrf)
		maria.UV = false
		defer func() { maria.UV = true }()
		if st, body := b.finish(p.ID, "approve", cer, maria.Get(opts), csrf); st != http.StatusForbidden {
			t.Fatalf("%d %s", st, body)
		}
		f.nothingLive(p.ID)
	})
}

func TestPagesNeedASignedInApprover(t *testing.T) {
	f := newFixture(t)
	p := f.plan()
	anon := f.browser()
	for _, path := range []string{"/", "/plans/" + p.ID} {
		if st, _ := anon.do("GET", path, nil, ""); st != http.StatusSeeOther {
			t.Errorf("GET %s without signing in: %d", path, st)
		}
	}
	for _, path := range []string{"/plans/" + p.ID + "/preview/x", "/plans/" + p.ID + "/preview/x?p=guess"} {
		if st, _ := anon.do("GET", path, nil, ""); st != http.StatusForbidden {
			t.Errorf("GET %s without a session's preview token: %d", path, st)
		}
	}
	// An unknown passkey does not sign in.
	st, body := anon.do("POST", "/signin/begin", nil, "")
	if st != 200 {
		t.Fatalf("signin begin: %d %s", st, body)
	}
	var out struct {
		Ceremony string          `json:"ceremony"`
		Options  json.RawMessage `json:"options"`
	}
	json.Unmarshal([]byte(body), &out)
	stranger := passkeytest.New(t, f.origin, "localhost")
	stranger.Handle = []byte("nobody")
	if st, body := anon.do("POST", "/signin/finish?ceremony="+out.Ceremony, stranger.Get(out.Options), ""); st != http.StatusForbidden {
		t.Fatalf("a stranger's passkey: %d %s", st, body)
	}
	// A request for another host is refused (DNS rebinding).
	req, _ := http.NewRequest("GET", f.srv.URL+"/signin", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("Host %s: %d", req.Host, res.StatusCode)
	}
}

func TestSignInWithAnEnrolledPasskey(t *testing.T) {
	f := newFixture(t)
	key := passkeytest.New(t, f.origin, "localhost")
	f.browser().enrol("maria@acme.com", nil, key)
	b := f.browser()
	_, body := b.do("POST", "/signin/begin", nil, "")
	var out struct {
		Ceremony string          `json:"ceremony"`
		Options  json.RawMessage `json:"options"`
	}
	json.Unmarshal([]byte(body), &out)
	if st, body := b.do("POST", "/signin/finish?ceremony="+out.Ceremony, key.Get(out.Options), ""); st != 200 {
		t.Fatalf("sign in: %d %s", st, body)
	}
	if st, page := b.do("GET", "/", nil, ""); st != 200 || !strings.Contains(page, "maria@acme.com") {
		t.Fatalf("plans page: %d %.200s", st, page)
	}
}

// An enrolment link works once.
func TestEnrolmentLinkWorksOnce(t *testing.T) {
	f := newFixture(t)
	token := f.invite("maria@acme.com", nil)
	b := f.browser()
	_, opts := b.do("POST", "/enrol/"+token+"/begin", nil, "")
	key := passkeytest.New(t, f.origin, "localhost")
	if st, body := b.do("POST", "/enrol/"+token+"/finish", key.Create([]byte(opts)), ""); st != 200 {
		t.Fatalf("%d %s", st, body)
	}
	if st, _ := b.do("GET", "/enrol/"+token, nil, ""); st != http.StatusGone {
		t.Fatalf("the used link still answers %d", st)
	}
	if st, _ := b.do("POST", "/enrol/"+token+"/begin", nil, ""); st != http.StatusGone {
		t.Fatalf("the used link still opens a registration: %d", st)
	}
}

// The page shows the finished campaign: the email's filled-in subject for
// a sample recipient, both preview frames sandboxed, the segment's count
// and masked members; agent HTML is only ever served to a sandboxed frame.
func TestPlanPageShowsTheFinishedCampaign(t *testing.T) {
	f := newFixture(t)
	p := f.plan()
	b := f.browser()
	b.enrol("maria@acme.com", nil, passkeytest.New(t, f.origin, "localhost"))
	st, page := b.do("GET", "/plans/"+p.ID, nil, "")
	if st != 200 {
		t.Fatalf("%d", st)
	}
	for _, want := range []string{"Spring for Ada", `class="desktop" sandbox`, `class="mobile" sandbox`, "contacts", "Customers", "Send “Spring news”", p.Hash} {
		if !strings.Contains(page, want) {
			t.Errorf("the plan page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>parent") || strings.Contains(page, "onload=\"parent") {
		t.Error("agent HTML is in the page itself")
	}
	m := regexp.MustCompile(`src="(/plans/[^"]+/preview/[^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no preview frame")
	}
	req, _ := http.NewRequest("GET", f.origin+strings.ReplaceAll(m[1], "&amp;", "&"), nil)
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.HasPrefix(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Fatalf("the preview's policy is %q", csp)
	}
	body, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(body), "Hello Ada") {
		t.Fatalf("the preview is not filled for a sample recipient: %.300s", body)
	}
}

// An update shows the email as it is live beside the new revision, and the
// diff between them.
func TestUpdateShowsBeforeAndAfter(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.plan()
	f.promote(p)
	email := f.emailID(p)
	av, err := f.sb.GetArtifact(ctx, email, 0)
	if err != nil {
		t.Fatal(err)
	}
	e := av.Revision.Email
	if _, err := f.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: p.CampaignID, EmailID: email, Name: e.Name, Subject: "Summer for {{ contact.firstname | default: \"you\" }}",
		FromName: e.FromName, FromEmail: e.FromEmail, Audience: e.Audience, HTML: "<html><body><h1>Summer is here</h1><p>Acme, 1 Main St. <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>"}); err != nil {
		t.Fatal(err)
	}
	p2, err := f.sb.PlanPromotion(ctx, "agent", p.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	b.enrol("maria@acme.com", nil, passkeytest.New(t, f.origin, "localhost"))
	st, page := b.do("GET", "/plans/"+p2.ID, nil, "")
	if st != 200 || !strings.Contains(page, `class="before"`) || !strings.Contains(page, "What changes from the live revision 1") || !strings.Contains(page, "Summer for Ada") {
		t.Fatalf("the update's page: %d\n%s", st, page)
	}
	src := regexp.MustCompile(`class="before"[^>]*src="([^"]+)"`).FindStringSubmatch(page)
	if src == nil {
		t.Fatal("no frame for the live revision")
	}
	st, before := b.do("GET", strings.ReplaceAll(src[1], "&amp;", "&"), nil, "")
	if st != 200 || !strings.Contains(before, "Hello Ada") || strings.Contains(before, "Summer") {
		t.Fatalf("the live revision's preview: %d %.300s", st, before)
	}
}

// Whoever can run lastmile approvers add cannot make themselves an
// approver: once someone is enrolled, a new invitation's link works only
// after an enrolled approver confirms it with their passkey on the page.
func TestANewApproverNeedsAnEnrolledApproversConfirmation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Two first invitations while nobody is enrolled: the first to enrol
	// takes the only unconfirmed place.
	mariaLink, _, needs, err := f.ap.Invite(ctx, "maria@acme.com", nil, "admin")
	if err != nil || needs {
		t.Fatalf("the first invitation needs confirmation (%v) or failed: %v", needs, err)
	}
	agentLink, _, _, err := f.ap.Invite(ctx, "agent@evil.example", nil, "agent")
	if err != nil {
		t.Fatal(err)
	}
	maria := passkeytest.New(t, f.origin, "localhost")
	mb := f.browser()
	if st, opts := mb.do("POST", "/enrol/"+mariaLink+"/begin", nil, ""); st != 200 {
		t.Fatal(st)
	} else if st, body := mb.do("POST", "/enrol/"+mariaLink+"/finish", maria.Create([]byte(opts)), ""); st != 200 {
		t.Fatalf("%d %s", st, body)
	}
	ab := f.browser()
	for _, link := range []string{agentLink, func() string { l, _, _, _ := f.ap.Invite(ctx, "agent2@evil.example", nil, "agent"); return l }()} {
		if st, body := ab.do("GET", "/enrol/"+link, nil, ""); st != http.StatusForbidden || !strings.Contains(body, "waits for an enrolled approver") {
			t.Fatalf("an unconfirmed link's page: %d %.200s", st, body)
		}
		if st, body := ab.do("POST", "/enrol/"+link+"/begin", nil, ""); st != http.StatusGone {
			t.Fatalf("an unconfirmed link opened a registration: %d %s", st, body)
		}
	}
	// Maria sees the invitations and confirms the second one with her
	// passkey; a passkey nobody enrolled cannot.
	st, page := mb.do("GET", "/", nil, "")
	if st != 200 || !strings.Contains(page, "agent2@evil.example") {
		t.Fatalf("the plans page lists no invitation: %d", st)
	}
	keyOf := regexp.MustCompile(`data-key="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(keyOf) != 2 {
		t.Fatalf("%d invitations listed", len(keyOf))
	}
	csrf := csrfMeta.FindStringSubmatch(page)[1]
	invs, _ := f.ap.Invitations(ctx)
	var key string
	for _, inv := range invs {
		if inv.Email == "agent2@evil.example" {
			key = inv.Key
		}
	}
	begin := func() (string, []byte) {
		st, body := mb.do("POST", "/invitations/"+key+"/confirm/begin", nil, csrf)
		if st != 200 {
			t.Fatalf("confirm begin: %d %s", st, body)
		}
		var out struct {
			Ceremony string          `json:"ceremony"`
			Options  json.RawMessage `json:"options"`
		}
		json.Unmarshal([]byte(body), &out)
		return out.Ceremony, out.Options
	}
	cer, opts := begin()
	stranger := passkeytest.New(t, f.origin, "localhost")
	if st, body := mb.do("POST", "/invitations/"+key+"/confirm/finish?ceremony="+cer, stranger.Get(opts), csrf); st != http.StatusForbidden {
		t.Fatalf("a stranger's passkey confirmed an invitation: %d %s", st, body)
	}
	cer, opts = begin()
	if st, body := mb.do("POST", "/invitations/"+key+"/confirm/finish?ceremony="+cer, maria.Get(opts), csrf); st != 200 || !strings.Contains(body, "Confirmed") {
		t.Fatalf("maria's confirmation: %d %s", st, body)
	}
	if st, _ := ab.do("GET", "/enrol/"+agentLink, nil, ""); st != http.StatusForbidden {
		t.Fatal("confirming one invitation opened another")
	}
	audit, _ := f.sb.Audit(ctx, 0, 100)
	confirmed := false
	for _, e := range audit {
		confirmed = confirmed || e.Action == "invitation_confirmed" && e.Actor == "maria@acme.com" && e.Object == "agent2@evil.example"
	}
	if !confirmed {
		t.Fatal("the confirmation is not in the audit log")
	}
}

// What an agent writes cannot reorder or hide what the approver reads: a
// bidi override or a zero-width character in a name is shown escaped.
func TestAgentTextOnThePageIsInert(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, _ := f.sb.CreateCampaign(ctx, "agent", sandbox.CampaignInput{Name: "Spring\u202e0 recipients", Markets: []string{"US"}})
	seg, err := f.sb.StageSegment(ctx, "agent", sandbox.SegmentInput{CampaignID: c.ID, Name: "All\u200b", StaticEmails: []string{"ada@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.ID, Name: "News\u2066hidden\u2069", Subject: "Hi\u202e", FromName: "Acme", FromEmail: "news@acme.com",
		Audience: sandbox.Audience{Include: []string{seg.Artifact.ID}}, HTML: "<html><body><p>Acme, 1 Main St. <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>"}); err != nil {
		t.Fatal(err)
	}
	p, err := f.sb.PlanPromotion(ctx, "agent", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	b.enrol("maria@acme.com", nil, passkeytest.New(t, f.origin, "localhost"))
	for _, path := range []string{"/", "/plans/" + p.ID} {
		_, page := b.do("GET", path, nil, "")
		for _, r := range []string{"\u202e", "\u200b", "\u2066", "\u2069"} {
			if strings.Contains(page, r) {
				t.Errorf("%s shows %U as is", path, []rune(r)[0])
			}
		}
		if !strings.Contains(page, `Spring\u202e0 recipients`) {
			t.Errorf("%s does not show the campaign's name escaped", path)
		}
	}
}

// The plans page links to the report; the report page is the HTML report
// for ?period=, for a signed-in approver only; a period it cannot read is
// said on a page of its own.
func TestReportPage(t *testing.T) {
	f := newFixture(t)
	f.plan()
	if st, _ := f.browser().do("GET", "/report", nil, ""); st != http.StatusSeeOther {
		t.Errorf("GET /report without signing in: %d", st)
	}
	b := f.browser()
	b.enrol("maria@acme.com", nil, passkeytest.New(t, f.origin, "localhost"))
	if _, page := b.do("GET", "/", nil, ""); !strings.Contains(page, `href="/report"`) {
		t.Errorf("the plans page does not link to the report")
	}
	st, page := b.do("GET", "/report?period=2026-Q4", nil, "")
	if st != 200 || !strings.Contains(page, `id="chart-funnel"`) || !strings.Contains(page, "Campaigns, 2026-Q4") || strings.Contains(page, "<script") {
		t.Fatalf("report page: %d %.300s", st, page)
	}
	if st, page := b.do("GET", "/report?period=soon", nil, ""); st != http.StatusBadRequest || !strings.Contains(page, "is not a period") {
		t.Fatalf("a bad period: %d %.300s", st, page)
	}
}

// What a plan takes back is at the top of its page with what the target
// does then, and the agent's name for it is inert there.
func TestPlanPageShowsWhatIsTakenBack(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.plan()
	f.promote(p)
	email := f.emailID(p)
	if _, err := f.sb.StageRetire(ctx, "agent", email, sandbox.OpArchive); err != nil {
		t.Fatal(err)
	}
	p2, err := f.sb.PlanPromotion(ctx, "agent", p.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	b.enrol("maria@acme.com", nil, passkeytest.New(t, f.origin, "localhost"))
	st, page := b.do("GET", "/plans/"+p2.ID, nil, "")
	if st != 200 {
		t.Fatalf("%d", st)
	}
	i := strings.Index(page, `class="irreversible"`)
	if i < 0 || !strings.Contains(page[i:], "Archive “Spring news”") || !strings.Contains(page[i:], "archive/emails/") {
		t.Fatalf("the plan page does not show the archive with the target's effect:\n%s", page)
	}
}
