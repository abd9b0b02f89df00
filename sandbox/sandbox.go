package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/internal/lru"
	"github.com/lastmile/lastmile/store"
)

// Buckets of the store.
const (
	bCampaigns     = "campaigns"
	bCampaignsNew  = "campaigns_by_newest" // inverted time + id → id
	bCampaignIndex = "campaign_artifacts"  // campaign id/artifact id → kind
	bSlugs         = "slugs"               // target \x00 slug → page id
	bAudit         = "audit"
)

// PolicySource yields the policy in force. It may reload the policy file when
// it changes; an error means the file is broken, and planning refuses until
// it is fixed.
type PolicySource interface {
	Policy() (*governance.Policy, error)
}

// StaticPolicy is a PolicySource for a fixed policy.
type StaticPolicy struct{ P *governance.Policy }

func (s StaticPolicy) Policy() (*governance.Policy, error) {
	if s.P == nil {
		return defaultPolicy(), nil
	}
	return s.P, nil
}

// defaultPolicy is built once: every write tool asks for the policy, and
// building it hashes its canonical form.
var defaultPolicy = sync.OnceValue(governance.Default)

// Options configure a Sandbox.
type Options struct {
	Store   store.Store
	Config  Config
	Targets map[string]Target // by configured name
	Policy  PolicySource
	Now     func() time.Time
	Logger  *slog.Logger
	// DataDir holds the promotion journals, unless the store keeps them
	// (store.Journaler) or Journals is set.
	DataDir string
	// Journals keeps the promotion journals instead of DataDir (tests).
	Journals store.Journaler
	// Parallelism bounds promotion steps run at once (default 16); steps
	// still wait for what they depend on.
	Parallelism int
	// Hooks for tests of crash safety: called at named points of promotion.
	Hook func(point string)
	// Sleep waits d or until ctx is done (then it returns ctx's error). A
	// resumed promotion uses it to wait out writes of an earlier attempt
	// that may still land; tests replace it to move a fake clock instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// ApproveArgs follow "lastmile approve PLAN" in what the agent is told
	// the human runs (--data-dir DIR when the server's is not the default).
	ApproveArgs []string
	// ReviewURL, when set, is the address of a plan's page on the review
	// page, which what the agent is told names.
	ReviewURL func(planID string) string
	// Unavailable holds, by name, why configured targets that are not in
	// Targets could not be built (for list_targets; nothing secret).
	Unavailable map[string]error
}

// Sandbox stages artifacts, plans and promotes them.
type Sandbox struct {
	st      store.Store
	cfg     Config
	targets map[string]Target
	policy  PolicySource
	now     func() time.Time
	log     *slog.Logger
	hook    func(string)
	sleep   func(context.Context, time.Duration) error
	dataDir string
	// journals keeps the promotion journals; nil: files in dataDir.
	journals store.Journaler
	parallel int
	approve  []string
	// Caches of revisions and what is derived from them, get_campaign
	// views and plans being paged; their budgets are below.
	finals    *lru.Cache[string, *Revision]
	revs      *lru.Cache[string, *Revision]
	views     *lru.Cache[string, cachedView]
	checks    *lru.Cache[string, governance.Report]
	plans     *lru.Cache[string, decodedPlan]
	reviewURL func(string) string
	outcomes  outcomeAggregate
	catalog   cachedCatalog
	// health and unavailable are what list_targets reports of targets.
	health      health
	unavailable map[string]error
}

// The caches' budgets, in bytes as lru.SizeOf weighs them: 20.5 MiB
// together. Planning reads every artifact's revision and its final form
// (UTM applied, text derived); deriving them again costs about 1 ms per
// 10 KB email or page, so a plan of a campaign whose revisions and finals
// do not fit is several times slower, not wrong. The budgets hold both for
// the largest campaign of typical content: 500 artifacts, 300 of them
// emails and pages of about 10 KB, weigh 4.6 MiB as revisions and 8.4 MiB
// as finals. A governance report weighs about 1.5 KB (60 KB with findings
// on every line); a get_campaign view, about 500 bytes per artifact. A
// plan being paged through is kept with its stored bytes: the plan of such
// a campaign weighs about 2 MiB.
const (
	revsBudget   = 6 << 20
	finalsBudget = 9 << 20
	checksBudget = 1 << 20
	viewsBudget  = 512 << 10
	plansBudget  = 4 << 20
)

func weigh[V any](k string, v V) int64 { return int64(len(k)) + lru.SizeOf(v) }

// New returns a ready Sandbox.
func New(o Options) (*Sandbox, error) {
	if o.Store == nil {
		return nil, fmt.Errorf("sandbox: no store")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Policy == nil {
		o.Policy = StaticPolicy{}
	}
	if o.Hook == nil {
		o.Hook = func(string) {}
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Config.DefaultTarget == "" {
		o.Config = DefaultConfig()
	}
	if o.DataDir == "" {
		return nil, fmt.Errorf("sandbox: no data directory for promotion journals")
	}
	if j, ok := o.Store.(store.Journaler); ok && o.Journals == nil {
		o.Journals = j
	}
	if o.Parallelism <= 0 {
		o.Parallelism = 16
	}
	if err := o.Config.check(); err != nil {
		return nil, err
	}
	if err := store.Migrate(context.Background(), o.Store, Migrations); err != nil {
		return nil, err
	}
	if o.Config.Approval.Elicitation {
		o.Logger.Warn("config.yaml's approval.elicitation is ignored: the policy says which approval channels count (approval.channels in the policy file; see docs/policy.md)")
	}
	for name := range o.Config.Targets {
		if _, ok := o.Targets[name]; !ok {
			o.Logger.Warn("target configured but not available", "target", name)
		}
	}
	s := &Sandbox{st: o.Store, cfg: o.Config, targets: o.Targets, policy: o.Policy, now: o.Now, log: o.Logger, hook: o.Hook, sleep: o.Sleep, dataDir: o.DataDir, journals: o.Journals, parallel: o.Parallelism, approve: o.ApproveArgs, reviewURL: o.ReviewURL, unavailable: o.Unavailable,
		finals: lru.New(finalsBudget, weigh[*Revision]), revs: lru.New(revsBudget, weigh[*Revision]),
		views: lru.New(viewsBudget, weigh[cachedView]), checks: lru.New(checksBudget, weigh[governance.Report]),
		plans: lru.New(plansBudget, func(k string, p decodedPlan) int64 { return int64(len(k)+len(p.raw)) + lru.SizeOf(p.plan) })}
	if err := s.adoptSchema1Writes(context.Background()); err != nil {
		return nil, err
	}
	return s, nil
}

// Generation is the store's write generation, when the store can tell it
// cheaply: anything derived from the store alone can be reused while it
// stays the same.
func (s *Sandbox) Generation(ctx context.Context) (uint64, bool) {
	g, ok := s.st.(store.Generational)
	if !ok {
		return 0, false
	}
	n, err := g.Generation(ctx)
	return n, err == nil
}

// WaitChange waits until the store changes after generation since, for at
// most poll when the store cannot notify (then the caller looks again
// either way), or until ctx ends. A store that notifies (PostgreSQL,
// through LISTEN) wakes it as soon as any replica writes.
func (s *Sandbox) WaitChange(ctx context.Context, since uint64, poll time.Duration) error {
	n, ok := s.st.(store.Notifier)
	if !ok {
		t := time.NewTimer(poll)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	}
	_, err := n.WaitChange(ctx, since)
	return err
}

// Config returns the configuration in force.
func (s *Sandbox) Config() Config { return s.cfg }

// Policy returns the policy in force.
func (s *Sandbox) Policy() (*governance.Policy, error) { return s.policy.Policy() }

// TargetNames lists the targets this sandbox can reach.
func (s *Sandbox) TargetNames() []string {
	names := make([]string, 0, len(s.targets))
	for n := range s.targets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Target returns a configured target by name.
func (s *Sandbox) Target(name string) (Target, error) {
	t, ok := s.targets[name]
	if !ok {
		return nil, fmt.Errorf("no target %q is configured (configured: %v); add it with lastmile connect", name, s.TargetNames())
	}
	return t, nil
}

func (s *Sandbox) clock() time.Time { return s.now().UTC() }

// sleep is the real Options.Sleep.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// An artifact's head and its revisions are one bucket, "artifact/<id>"
// (a sub-bucket in bbolt): staging a new email writes one page run for the
// three of them, where separate buckets wrote a B+tree path each.
const (
	headKey = "head" // → Artifact
	// revisions are "%010d" → Revision
)

func artifactBucket(id string) string { return "artifact/" + id }

func revisionKey(n int) string { return fmt.Sprintf("%010d", n) }

func getArtifact(tx store.Tx, id string) (*Artifact, error) {
	return getJSON[Artifact](tx, artifactBucket(id), headKey)
}

func putArtifact(tx store.Tx, a *Artifact) error {
	return putJSON(tx, artifactBucket(a.ID), headKey, a)
}

func getJSON[T any](tx store.Tx, bucket, key string) (*T, error) {
	data, err := tx.Get(bucket, key)
	if err != nil || data == nil {
		return nil, err
	}
	v, err := getJSONBytes[T](data)
	if err != nil {
		return nil, fmt.Errorf("store: %s/%s: %w", bucket, key, err)
	}
	return v, nil
}

func getJSONBytes[T any](data []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, err
	}
	return v, nil
}

func putJSON(tx store.Tx, bucket, key string, v any) error {
	data, err := marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(bucket, key, data)
}

// marshal is json.Marshal without HTML escaping: stored emails and pages
// are HTML, and escaping every < > & as \u003c makes them half as large
// again on disk, in every page the write syncs.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// AuditEntry is one line of the audit log: every write, approval,
// rejection and promotion step.
type AuditEntry struct {
	Seq        uint64         `json:"seq"`
	At         time.Time      `json:"at"`
	Actor      string         `json:"actor"`
	Action     string         `json:"action"`
	Object     string         `json:"object,omitempty"`
	Revision   int            `json:"revision,omitempty"`
	CampaignID string         `json:"campaign_id,omitempty"`
	Detail     map[string]any `json:"detail,omitempty"`
}

// Record appends an entry to the audit log, for what happens outside the
// sandbox's own calls (the review page's sign-ins, enrolments, refusals).
func (s *Sandbox) Record(ctx context.Context, e AuditEntry) error {
	return s.st.Update(ctx, func(tx store.Tx) error { return s.audit(tx, e) })
}

func (s *Sandbox) audit(tx store.Tx, e AuditEntry) error {
	seq, err := tx.NextSeq(bAudit)
	if err != nil {
		return err
	}
	e.Seq = seq
	if e.At.IsZero() {
		e.At = s.clock()
	}
	return putJSON(tx, bAudit, fmt.Sprintf("%016x", seq), e)
}

// Audit returns audit entries after the given sequence number, oldest first.
func (s *Sandbox) Audit(ctx context.Context, after uint64, limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.st.View(ctx, func(tx store.Tx) error {
		start := ""
		if after > 0 {
			start = fmt.Sprintf("%016x", after)
		}
		kvs, err := tx.Scan(bAudit, "", start, limit)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			var e AuditEntry
			if err := json.Unmarshal(kv.Value, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}
