package sandbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
)

const testSendPolicy = `test_sends:
  seed_list: [qa@acme.com]
  internal_domains: [team.acme.com]
rules:
  - id: no-guarantees
    kind: existence
    level: error
    tokens: [guaranteed]
`

// A test send goes only to the policy's seed list and internal domains,
// of an email without governance errors (unless the policy allows
// drafts), without approval: the proof is written apart from the outbox,
// marked as a test, and nothing is counted as sent. Each is audited.
func TestSendTest(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, envOptions{policy: mustPolicy(t, testSendPolicy)})
	c := stageCampaign(t, e, "Proof")
	email := c.emails[0]
	events := func() string {
		data, _ := os.ReadFile(filepath.Join(e.dir, "events.jsonl"))
		return string(data)
	}
	before := events()
	proofs := func() []string {
		entries, _ := os.ReadDir(filepath.Join(e.dir, "outbox", "tests", email))
		var names []string
		for _, en := range entries {
			names = append(names, en.Name())
		}
		return names
	}

	for _, tc := range []struct {
		name string
		to   []string
		want string
	}{
		{"a customer", []string{"qa@acme.com", "ada@example.com"}, "ada@example.com is not on the policy's seed list"},
		{"a look-alike domain", []string{"dana@team.acme.com.evil.io"}, "not on the policy's seed list"},
		{"a display name", []string{"QA <qa@acme.com>"}, "is not a plain email address"},
		{"nobody", nil, "name at least one address"},
		{"too many", strings.Split(strings.Repeat("qa@acme.com,", 11), ",")[:11], "at most 10"},
	} {
		_, err := e.sb.SendTest(ctx, "agent", email, tc.to)
		var ve *sandbox.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a validation error saying %q", tc.name, err, tc.want)
		}
	}
	if got := proofs(); len(got) != 0 {
		t.Fatalf("refused test sends wrote %v", got)
	}
	if _, err := e.sb.SendTest(ctx, "agent", c.segments[0], []string{"qa@acme.com"}); err == nil || !strings.Contains(err.Error(), "only emails have test sends") {
		t.Errorf("a segment's test send: %v", err)
	}

	res, err := e.sb.SendTest(ctx, "agent", email, []string{"QA@acme.com", "dana@team.acme.com"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Target != "local" || len(res.To) != 2 || res.To[0] != "qa@acme.com" || res.Errors != 0 {
		t.Errorf("result %+v", res)
	}
	got := proofs()
	if len(got) != 2 {
		t.Fatalf("proofs %v, want one per address", got)
	}
	msg, err := os.ReadFile(filepath.Join(e.dir, "outbox", "tests", email, got[0]))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"X-Lastmile-Test: revision 1", "Subject: [Test] News", ".test."} {
		if !strings.Contains(string(msg), want) {
			t.Errorf("the proof has no %q:\n%s", want, msg[:min(len(msg), 600)])
		}
	}
	if events() != before {
		t.Error("a test send recorded events: it must never count as a send")
	}
	if _, err := os.Stat(filepath.Join(e.dir, "outbox", email)); err == nil {
		t.Error("a test send wrote into the email's outbox")
	}
	if a := auditEntry(t, e, "send_test"); a == nil || a.Object != email || a.Actor != "agent" {
		t.Errorf("audit entry %+v", a)
	}

	// Governance errors block a test unless the policy allows drafts.
	bad, err := e.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: c.id, Name: "Bold", Subject: "Guaranteed results",
		FromName: "Acme", FromEmail: "news@acme.com", HTML: "<html><body><p>Guaranteed results.</p></body></html>"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.SendTest(ctx, "agent", bad.Artifact.ID, []string{"qa@acme.com"}); refusalCode(err) != sandbox.RefusedGovernance {
		t.Errorf("a test of an email with errors: %v, want a governance refusal", err)
	}
	drafts := newEnv(t, envOptions{policy: mustPolicy(t, strings.Replace(testSendPolicy, "  internal_domains", "  allow_drafts: true\n  internal_domains", 1))})
	dc := stageCampaign(t, drafts, "Drafts")
	bad, err = drafts.sb.StageEmail(ctx, "agent", sandbox.EmailInput{CampaignID: dc.id, Name: "Bold", Subject: "Guaranteed results",
		FromName: "Acme", FromEmail: "news@acme.com", HTML: "<html><body><p>Guaranteed results.</p></body></html>"})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := drafts.sb.SendTest(ctx, "agent", bad.Artifact.ID, []string{"qa@acme.com"}); err != nil || res.Errors == 0 {
		t.Errorf("a draft's test with allow_drafts: %+v, %v", res, err)
	}

	// A policy without test_sends names nobody.
	none := newEnv(t, envOptions{})
	nc := stageCampaign(t, none, "None")
	if _, err := none.sb.SendTest(ctx, "agent", nc.emails[0], []string{"qa@acme.com"}); err == nil || !strings.Contains(err.Error(), "names nobody who may receive test sends") {
		t.Errorf("without test_sends: %v", err)
	}
}
