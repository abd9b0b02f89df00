package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/store"
)

// Crash safety: the promoting process is killed with SIGKILL at every step
// boundary (after the intent, after the call, after the result) and in the
// middle of sends (between recipients), then a new process confirms again.
// Afterwards every artifact is live exactly once, nobody was mailed twice,
// and the journal is complete.

const (
	envCrashDir  = "LASTMILE_CRASH_DIR"
	envCrashPlan = "LASTMILE_CRASH_PLAN"
	envCrashAt   = "LASTMILE_CRASH_AT"
	envCrashPar  = "LASTMILE_CRASH_PARALLEL"
	// envCrashStore, when set, is the PostgreSQL URL every process uses
	// (replicas sharing one database) instead of the data directory's bbolt.
	envCrashStore = "LASTMILE_CRASH_STORE"
)

// TestCrashChild is the promoting process. It counts hook calls and kills
// itself at the chosen one.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		t.Skip("runs only as TestCrashSafety's child")
	}
	at, _ := strconv.Atoi(os.Getenv(envCrashAt))
	par, _ := strconv.Atoi(os.Getenv(envCrashPar))
	var n atomic.Int64
	hook := func(point string) {
		if n.Add(1) == int64(at) {
			killSelf()
			select {} // the kill is on its way
		}
	}
	e := openEnv(t, dir, envOptions{hook: hook, parallelism: par, storeURL: os.Getenv(envCrashStore)})
	if _, err := e.sb.Confirm(context.Background(), "agent", os.Getenv(envCrashPlan), nil); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("HOOKS %d\n", n.Load())
}

// prepared is a data directory with a staged, approved campaign, copied for
// each kill point.
type prepared struct {
	dir  string
	plan *sandbox.Plan
	c    campaign
}

func prepare(t *testing.T) prepared {
	dir := t.TempDir()
	e := openEnv(t, dir, envOptions{})
	c := stageCampaign(t, e, "Crash")
	p := planAndApprove(t, e, c.id)
	e.st.Close()
	return prepared{dir: dir, plan: p, c: c}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(dst)
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// child runs TestCrashChild; it reports whether the process was killed and
// how many hook points it passed when it was not.
func child(t *testing.T, dir, plan string, at, par int) (killed bool, hooks int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envCrashDir+"="+dir, envCrashPlan+"="+plan, envCrashAt+"="+strconv.Itoa(at), envCrashPar+"="+strconv.Itoa(par))
	out, err := cmd.CombinedOutput()
	if killedItself(err) {
		return true, 0
	}
	if err != nil {
		t.Fatalf("child (kill at %d): %v\n%s", at, err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "HOOKS "); ok {
			hooks, _ = strconv.Atoi(v)
		}
	}
	return false, hooks
}

func TestCrashSafety(t *testing.T) {
	if os.Getenv(envCrashDir) != "" {
		t.Skip("child")
	}
	if os.Getenv("LASTMILE_TEST_SANDBOX_STORE") == "postgres" {
		t.Skip("copies data directories, and a PostgreSQL store's data is not in them")
	}
	base := prepare(t)
	// How many hook points does a clean run pass?
	probe := t.TempDir()
	copyDir(t, base.dir, probe)
	killed, total := child(t, probe, base.plan.ID, 0, 1)
	if killed || total < 50 {
		t.Fatalf("a clean promotion passed %d hook points; the campaign must give at least 50 kill points", total)
	}
	verifyPromoted(t, probe, base)
	points := total
	if testing.Short() {
		points = 12
	}
	for at := 1; at <= points; at++ {
		for _, par := range []int{1, 4} {
			if par == 4 && at%3 != 0 {
				continue // a sample of kill points with parallel steps too
			}
			t.Run(fmt.Sprintf("kill-at-%02d-par-%d", at, par), func(t *testing.T) {
				dir := t.TempDir()
				copyDir(t, base.dir, dir)
				if killed, _ := child(t, dir, base.plan.ID, at, par); !killed {
					t.Fatalf("the child was not killed at hook point %d of %d", at, total)
				}
				if killed, _ := child(t, dir, base.plan.ID, 0, par); killed {
					t.Fatal("the resuming child died")
				}
				verifyPromoted(t, dir, base)
			})
		}
	}
}

// verifyPromoted checks the exactly-once invariants on a data directory.
func verifyPromoted(t *testing.T, dir string, base prepared) {
	t.Helper()
	ctx := context.Background()
	e := openEnv(t, dir, envOptions{storeURL: os.Getenv(envCrashStore)})
	p, err := e.sb.GetPlan(ctx, base.plan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != sandbox.PlanPromoted {
		t.Fatalf("plan status = %s, want promoted", p.Status)
	}
	// Every recipient of every broadcast got exactly one message and one
	// sent event.
	sent := map[string]int{}
	err = e.local.ReadEvents(func(ev local.Event) {
		if ev.Type == "sent" {
			sent[ev.Artifact+" "+ev.Email]++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for key, n := range sent {
		if n != 1 {
			t.Errorf("%s: %d sent events, want 1", key, n)
		}
	}
	for _, st := range p.Steps {
		if st.Op != sandbox.OpSend {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(dir, "outbox", st.ArtifactID))
		if st.AudienceSize == nil || len(files) != *st.AudienceSize {
			t.Errorf("%s: %d messages in the outbox, want %v", st.ArtifactID, len(files), *st.AudienceSize)
		}
		events := 0
		for key := range sent {
			if strings.HasPrefix(key, st.ArtifactID+" ") {
				events++
			}
		}
		if events != len(files) {
			t.Errorf("%s: %d sent events for %d messages", st.ArtifactID, events, len(files))
		}
		for _, f := range files {
			if strings.HasSuffix(f.Name(), ".tmp") {
				t.Errorf("a half-written message was left: %s", f.Name())
			}
		}
	}
	// Every artifact live once, bound to its own live record.
	v, err := e.sb.GetCampaign(ctx, base.c.id)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range v.Artifacts {
		if a.Status() != sandbox.StatusLive {
			t.Errorf("%s is %s, want live", a.ID, a.Status())
		}
		if _, found, _ := e.local.Live(ctx, a.Kind, a.ID); !found {
			t.Errorf("%s has no live record", a.ID)
		}
	}
	// The journal: one intent-result pair or more per step, ending in a
	// result, never two results.
	results := map[int]int{}
	last := map[int]string{}
	for _, line := range journalOf(t, e, dir, base.plan.ID) {
		var r struct {
			Step int    `json:"step"`
			Type string `json:"type"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Errorf("journal line %q: %v", line, err)
			continue
		}
		last[r.Step] = r.Type
		if r.Type == "result" {
			results[r.Step]++
		}
	}
	for _, st := range p.Steps {
		if st.Op == sandbox.OpUnchanged {
			continue
		}
		if results[st.N] != 1 || last[st.N] != "result" {
			t.Errorf("journal: step %d has %d results and ends with %q", st.N, results[st.N], last[st.N])
		}
	}
	// Each step is in the audit log exactly once.
	entries, _ := e.sb.Audit(ctx, 0, 0)
	audited := map[string]int{}
	for _, en := range entries {
		if en.Action == "promote_step" {
			audited[fmt.Sprint(en.Detail["step"])]++
		}
	}
	for _, st := range p.Steps {
		if audited[strconv.Itoa(st.N)] != 1 {
			t.Errorf("audit: step %d appears %d times", st.N, audited[strconv.Itoa(st.N)])
		}
	}
	// Confirming again changes nothing.
	before := len(sent)
	res, err := e.sb.Confirm(ctx, "agent", base.plan.ID, nil)
	if err != nil || !res.AlreadyPromoted {
		t.Fatalf("confirming again: %+v, %v", res, err)
	}
	again := 0
	e.local.ReadEvents(func(ev local.Event) {
		if ev.Type == "sent" {
			again++
		}
	})
	if again != before {
		t.Errorf("confirming a promoted plan again sent %d more messages", again-before)
	}
}

// journalOf returns the lines of a plan's journal: the file of the data
// directory, or the records the store keeps.
func journalOf(t *testing.T, e *env, dir, planID string) [][]byte {
	t.Helper()
	if j, ok := e.st.(store.Journaler); ok {
		recs, err := j.ReadJournal(context.Background(), planID)
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	data, err := os.ReadFile(filepath.Join(dir, "journal", planID+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for l := range bytes.SplitSeq(data, []byte("\n")) {
		if len(l) > 0 {
			out = append(out, l)
		}
	}
	return out
}
