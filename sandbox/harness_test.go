package sandbox_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
	"github.com/lastmile/lastmile/store/pgtest"

	"github.com/jackc/pgx/v5"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var epoch = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)

// env is one data directory with a sandbox over bbolt and the local target.
type env struct {
	dir   string
	st    store.Store // nil with envOptions.memory
	sb    *sandbox.Sandbox
	local *local.Target
	clock *clock
}

type envOptions struct {
	logger      *slog.Logger
	policy      *governance.Policy
	hook        func(string)
	parallelism int
	clock       *clock
	// wrap, when set, stands between the sandbox and the local target
	// (fault injection).
	wrap func(sandbox.Target) sandbox.Target
	// sleep replaces the sandbox's wait (sandbox.Options.Sleep).
	sleep func(context.Context, time.Duration) error
	// memory puts the sandbox over store.Memory instead of bbolt (env.st
	// is then nil): benchmarks of what the sandbox does, without the disk.
	memory bool
	// siteURL is where the local target's site is served.
	siteURL string
	// journals keeps the promotion journals instead of the data directory.
	journals store.Journaler
	// storeURL, when set, is a PostgreSQL store to use (replicas sharing
	// one database) instead of the data directory's bbolt.
	storeURL string
	// targets are more targets beside local, configured with their
	// platform as type.
	targets map[string]sandbox.Target
}

func openEnv(t testing.TB, dir string, o envOptions) *env {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "contacts.csv")); err != nil {
		if err := os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte(local.SampleContacts), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var st store.Store
	var backing store.Store = store.NewMemory()
	if !o.memory {
		var err error
		if o.storeURL != "" {
			st, err = store.OpenPostgres(context.Background(), o.storeURL)
		} else if pgSandbox() {
			// The whole suite over PostgreSQL: one schema per data directory.
			st, err = store.OpenPostgres(context.Background(), pgtest.SchemaFor(t, dir))
		} else {
			st, err = store.OpenBolt(dir)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		backing = st
	}
	if o.clock == nil {
		o.clock = &clock{t: epoch}
	}
	var lopts []local.Option
	lopts = append(lopts, local.WithClock(o.clock.Now))
	if o.hook != nil {
		lopts = append(lopts, local.WithHook(o.hook))
	}
	if o.siteURL != "" {
		lopts = append(lopts, local.WithSiteURL(o.siteURL))
	}
	lt, err := local.New("local", dir, local.Config{}, lopts...)
	if err != nil {
		t.Fatal(err)
	}
	var target sandbox.Target = lt
	if o.wrap != nil {
		target = o.wrap(lt)
	}
	cfg := sandbox.DefaultConfig()
	targets := map[string]sandbox.Target{"local": target}
	for name, tg := range o.targets {
		targets[name] = tg
		cfg.Targets[name] = sandbox.TargetConfig{Type: tg.Platform()}
	}
	sb, err := sandbox.New(sandbox.Options{
		Store: backing, Config: cfg, Targets: targets,
		Policy: sandbox.StaticPolicy{P: o.policy}, Now: o.clock.Now, DataDir: dir, Hook: o.hook, Parallelism: o.parallelism, Logger: o.logger, Sleep: o.sleep, Journals: o.journals,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{dir: dir, st: st, sb: sb, local: lt, clock: o.clock}
}

func newEnv(t testing.TB, o envOptions) *env { return openEnv(t, t.TempDir(), o) }

// campaign is what stageCampaign made.
type campaign struct {
	id       string
	segments []string
	emails   []string // sent to their audience
	followUp string   // only a workflow sends it
	page     string
	workflow string
}

// stageCampaign stages a campaign big enough to exercise every kind of
// step: two segments, three broadcast emails, a follow-up email, a page with
// a form and an activated workflow.
func stageCampaign(t testing.TB, e *env, name string) campaign {
	t.Helper()
	ctx := context.Background()
	c, err := e.sb.CreateCampaign(ctx, "test", sandbox.CampaignInput{Name: name, Markets: []string{"US"}, UTM: sandbox.UTM{Source: "test", Medium: "email", Campaign: "crash"}})
	if err != nil {
		t.Fatal(err)
	}
	out := campaign{id: c.ID}
	seg := func(name string, conds ...sandbox.Condition) string {
		r, err := e.sb.StageSegment(ctx, "test", sandbox.SegmentInput{CampaignID: c.ID, Name: name, Match: "all", Conditions: conds})
		if err != nil {
			t.Fatal(err)
		}
		return r.Artifact.ID
	}
	customers := seg(name+" customers", sandbox.Condition{Property: "lifecycle_stage", Operator: "eq", Value: "customer"})
	leads := seg(name+" leads", sandbox.Condition{Property: "lifecycle_stage", Operator: "eq", Value: "lead"})
	out.segments = []string{customers, leads}
	email := func(name string, include ...string) string {
		r, err := e.sb.StageEmail(ctx, "test", sandbox.EmailInput{
			CampaignID: c.ID, Name: name, Subject: name + " for {{ contact.firstname | default: \"you\" }}", FromName: "Acme", FromEmail: "news@acme.com",
			HTML:     "<html><body><h1>" + name + "</h1><p>Hi {{ contact.firstname | default: \"there\" }}, <a href=\"https://www.acme.com/\">read more</a>.</p></body></html>",
			Audience: sandbox.Audience{Include: include},
		})
		if err != nil {
			t.Fatal(err)
		}
		return r.Artifact.ID
	}
	out.emails = []string{email("News", customers), email("Invite", leads), email("Everyone", customers, leads)}
	out.followUp = email("Follow-up")
	p, err := e.sb.StagePage(ctx, "test", sandbox.PageInput{CampaignID: c.ID, Title: name + " page", Slug: slugFor(name), HTML: "<html><body><h1>Hello</h1></body></html>",
		Form: formOf("email")})
	if err != nil {
		t.Fatal(err)
	}
	out.page = p.Artifact.ID
	w, err := e.sb.StageWorkflow(ctx, "test", sandbox.WorkflowInput{CampaignID: c.ID, Name: "Nurture", Activate: true,
		Trigger: sandbox.Trigger{Type: "segment_entry", SegmentID: leads},
		Steps:   []sandbox.Step{{ID: "wait", Type: "wait", Duration: "1d", Next: "send"}, {ID: "send", Type: "send_email", EmailID: out.followUp}}})
	if err != nil {
		t.Fatal(err)
	}
	out.workflow = w.Artifact.ID
	return out
}

// planAndApprove plans the campaign and approves it through the CLI channel.
func planAndApprove(t testing.TB, e *env, campaignID string) *sandbox.Plan {
	t.Helper()
	ctx := context.Background()
	p, err := e.sb.PlanPromotion(ctx, "agent", campaignID)
	if err != nil {
		t.Fatal(err)
	}
	p, err = e.sb.Approve(ctx, sandbox.ApproveInput{PlanID: p.ID, Approver: "dana", Channel: sandbox.ChannelCLI, Code: planCode(t, e.sb, p.ID)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func slugFor(name string) string { return "p-" + strings.ToLower(name) }

// planCode reads the code a human would be shown with the plan.
func planCode(t testing.TB, sb *sandbox.Sandbox, planID string) string {
	t.Helper()
	code, err := sb.PlanCode(context.Background(), planID)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// pgSandbox says the suite runs over PostgreSQL
// (LASTMILE_TEST_SANDBOX_STORE=postgres): stores, and promotion journals,
// are in a schema per data directory.
func pgSandbox() bool { return os.Getenv("LASTMILE_TEST_SANDBOX_STORE") == "postgres" }

// pgExec runs a statement in the schema of the data directory dir, as a
// test that plays a crash edits a journal file.
func pgExec(t *testing.T, dir, sql string, args ...any) {
	t.Helper()
	conn := pgConn(t, dir)
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

func pgQueryRow(t *testing.T, dir, sql string, args ...any) pgx.Row {
	t.Helper()
	return pgConn(t, dir).QueryRow(context.Background(), sql, args...)
}

func pgConn(t *testing.T, dir string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), pgtest.SchemaFor(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
