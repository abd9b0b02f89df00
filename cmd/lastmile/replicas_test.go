//go:build !windows

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/lastmile/lastmile/connectors/local"
	"github.com/lastmile/lastmile/store/pgtest"
)

// Several `lastmile serve --http` processes, each with a data directory of
// its own whose config.yaml names one PostgreSQL schema, serve one
// workspace (docs/deployment.md, "Several replicas on PostgreSQL").
//
// The local target keeps its live state in the data directory; here every
// replica's live-state entries are symbolic links into one directory, so
// that the replicas see one "platform", as they would HubSpot or Mailchimp.

// liveEntries are what the local target writes into a data directory
// (connectors/local: outbox, site, records, events); directories first.
var liveDirs = []string{"outbox", "site", "emails", "segments", "pages", "workflows", "archive", "segment-members", "schedules"}
var liveFiles = []string{"events.jsonl", "contact-updates.csv", "suppressions.csv", "contacts.csv"}

type replicas struct {
	url  string // the PostgreSQL store every replica names
	live string // the one live-state directory behind every replica
	dirs []string
	srv  []*serveProc
}

// launchHTTP serves dir over HTTP on loopback without a rate limit (all
// agents on loopback share one bucket otherwise).
func launchHTTP(tb testing.TB, dir string) *serveProc {
	tb.Helper()
	p, err := spawnServe(tb, "127.0.0.1:0", []string{"LASTMILE_LOG=warn"}, "--rate-limit", "0", "--data-dir", dir)
	if err != nil {
		tb.Error(err)
		return nil
	}
	return p
}

// startReplicas starts n replicas on url with contacts as the shared
// contacts.csv.
func startReplicas(t testing.TB, n int, url, contacts string) *replicas {
	t.Helper()
	r := &replicas{url: url, live: filepath.Join(t.TempDir(), "live")}
	for _, d := range liveDirs {
		if err := os.MkdirAll(filepath.Join(r.live, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(r.live, "contacts.csv"), []byte(contacts), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("replica-%c", 'a'+i))
		initSample(t, dir)
		if url != "" { // "": the default, bolt
			f, err := os.OpenFile(filepath.Join(dir, "config.yaml"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("\nstore: " + url + "\n")
			f.Close()
		}
		for _, e := range append(append([]string{}, liveDirs...), liveFiles...) {
			os.RemoveAll(filepath.Join(dir, e))
			if err := os.Symlink(filepath.Join(r.live, e), filepath.Join(dir, e)); err != nil {
				t.Fatal(err)
			}
		}
		r.dirs = append(r.dirs, dir)
	}
	var wg sync.WaitGroup
	r.srv = make([]*serveProc, n)
	for i, dir := range r.dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.srv[i] = launchHTTP(t, dir)
		}()
	}
	wg.Wait()
	for _, s := range r.srv {
		if s == nil {
			t.FailNow()
		}
	}
	return r
}

// agent is one MCP client over streamable HTTP with a session of its own.
type agent struct {
	c *client.Client
}

func connectAgent(ctx context.Context, url, name string) (*agent, error) {
	c, err := client.NewStreamableHttpClient(url)
	if err != nil {
		return nil, err
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	req := mcp.InitializeRequest{}
	req.Params.ClientInfo = mcp.Implementation{Name: name, Version: "0"}
	req.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	if _, err := c.Initialize(ctx, req); err != nil {
		c.Close()
		return nil, err
	}
	return &agent{c: c}, nil
}

func mustAgent(t testing.TB, ctx context.Context, url, name string) *agent {
	t.Helper()
	a, err := connectAgent(ctx, url, name)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { a.c.Close() })
	return a
}

// toolResult is a tool's answer: its structured content and text.
type toolResult struct {
	isError bool
	s       map[string]any
	text    string
}

func (a *agent) call(ctx context.Context, name string, args map[string]any) (toolResult, error) {
	res, err := a.c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: name, Arguments: args}})
	if err != nil {
		return toolResult{}, fmt.Errorf("%s: %w", name, err)
	}
	r := toolResult{isError: res.IsError, text: toolText(res)}
	if res.StructuredContent != nil {
		data, _ := json.Marshal(res.StructuredContent)
		json.Unmarshal(data, &r.s)
	}
	return r, nil
}

func (a *agent) must(t testing.TB, ctx context.Context, name string, args map[string]any) map[string]any {
	t.Helper()
	r, err := a.call(ctx, name, args)
	if err != nil {
		t.Fatal(err)
	}
	if r.isError || r.s == nil {
		t.Fatalf("%s: want success, got %s", name, r.text)
	}
	return r.s
}

// stageCampaign stages what stageForPromotion does, over a.
func stageCampaign(t testing.TB, ctx context.Context, a *agent, slug string) (campaign, segment, email string) {
	t.Helper()
	campaign = a.must(t, ctx, "create_campaign", map[string]any{"name": "Replicas " + slug, "markets": []string{"US"}, "industry": "retail",
		"utm": map[string]any{"source": "newsletter", "medium": "email", "campaign": "replicas_" + slug}})["id"].(string)
	segment = a.must(t, ctx, "build_segment", map[string]any{"campaign_id": campaign, "name": "Customers",
		"conditions": []map[string]any{{"property": "lifecycle_stage", "operator": "eq", "value": "customer"}}})["id"].(string)
	email = a.must(t, ctx, "create_email", map[string]any{"campaign_id": campaign, "name": "Hello", "subject": "News from Acme",
		"preview_text": "What is new this month.", "from_name": "Acme", "from_email": "news@acme.com", "audience": map[string]any{"include": []string{segment}},
		"blocks": []map[string]any{{"type": "heading", "text": "What is new"}, {"type": "paragraph", "text": "Hi {{ contact.firstname | default: \"there\" }}, see [the news](https://www.acme.com/news)."}}})["id"].(string)
	a.must(t, ctx, "publish_page", map[string]any{"campaign_id": campaign, "title": "News", "slug": "replicas-" + slug,
		"blocks": []map[string]any{{"type": "heading", "text": "News"}}})
	return
}

// auditActions counts the audit log's entries for object by action.
func auditActions(t *testing.T, dir, object string) map[string]int {
	t.Helper()
	out, errOut, code := runBin(t, "audit", "--json", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("audit: exit %d %s", code, errOut)
	}
	n := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		var e struct {
			Action string `json:"action"`
			Object string `json:"object"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Object == object {
			n[e.Action]++
		}
	}
	return n
}

// sentEvents counts the local target's sent events for email by address.
func sentEvents(t *testing.T, live, email string) map[string]int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(live, "events.jsonl"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, line := range strings.Split(string(data), "\n") {
		var e struct {
			Type, Artifact, Email string
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Type == "sent" && e.Artifact == email {
			n[e.Email]++
		}
	}
	return n
}

// checkOnce asserts that plan was promoted once: one promotion_finished,
// each step applied once, every recipient mailed once.
func checkOnce(t *testing.T, r *replicas, plan, email string, recipients int) {
	t.Helper()
	acts := auditActions(t, r.dirs[len(r.dirs)-1], plan)
	if acts["promotion_finished"] != 1 || acts["promotion_started"] != 1 {
		t.Errorf("plan %s: audit %v, want one promotion_started and one promotion_finished", plan, acts)
	}
	checkMailedOnce(t, r, email, recipients)
}

// checkMailedOnce: every recipient of email has one sent event and one
// message in the shared outbox.
func checkMailedOnce(t *testing.T, r *replicas, email string, recipients int) {
	t.Helper()
	sent := sentEvents(t, r.live, email)
	for addr, n := range sent {
		if n != 1 {
			t.Errorf("%s was mailed %d times", addr, n)
		}
	}
	if len(sent) != recipients {
		t.Errorf("%d recipients mailed, want %d", len(sent), recipients)
	}
	files, _ := os.ReadDir(filepath.Join(r.live, "outbox", email))
	eml := 0
	for _, f := range files {
		if strings.HasSuffix(f.Name(), ".eml") {
			eml++
		}
	}
	if eml != recipients {
		t.Errorf("%d messages in the outbox, want %d", eml, recipients)
	}
}

// sampleCustomers is how many contacts of the sample are customers who
// may be mailed (the segment stageCampaign builds).
func sampleCustomers(t *testing.T, ctx context.Context, a *agent, plan string) int {
	t.Helper()
	p := a.must(t, ctx, "get_plan", map[string]any{"plan_id": plan})
	data, _ := json.Marshal(p)
	var v struct {
		Steps []struct {
			Op           string `json:"op"`
			AudienceSize *int   `json:"audience_size"`
		} `json:"steps"`
	}
	json.Unmarshal(data, &v)
	for _, st := range v.Steps {
		if st.Op == "send" && st.AudienceSize != nil {
			return *st.AudienceSize
		}
	}
	t.Fatalf("plan %s has no send step with an audience size: %s", plan, data)
	return 0
}

// 3 replicas × 20 agents, each with a session of its own, stage 1,000
// segments together; each is then there exactly once, read through another
// replica than the one that wrote it.
func TestReplicasStageConcurrently(t *testing.T) {
	url := pgtest.Schema(t)
	r := startReplicas(t, 3, url, local.SampleContacts)
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	const perReplica, total = 20, 1000
	clients := 3 * perReplica
	type written struct {
		replica  int
		campaign string
		names    []string
	}
	out := make([]written, clients)
	errs := make(chan error, clients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for k := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep := k % 3
			a, err := connectAgent(ctx, r.srv[rep].url, fmt.Sprintf("agent-%d", k))
			if err != nil {
				errs <- err
				return
			}
			defer a.c.Close()
			<-start
			res, err := a.call(ctx, "create_campaign", map[string]any{"name": fmt.Sprintf("Agent %d", k)})
			if err != nil || res.isError {
				errs <- fmt.Errorf("agent %d create_campaign: %v %s", k, err, res.text)
				return
			}
			w := written{replica: rep, campaign: res.s["id"].(string)}
			n := total / clients
			if k < total%clients {
				n++
			}
			for i := range n {
				name := fmt.Sprintf("Segment %d-%d", k, i)
				res, err := a.call(ctx, "build_segment", map[string]any{"campaign_id": w.campaign, "name": name,
					"conditions": []map[string]any{{"property": "lifecycle_stage", "operator": "eq", "value": "customer"}}})
				if err != nil || res.isError {
					errs <- fmt.Errorf("agent %d build_segment %d: %v %s", k, i, err, res.text)
					return
				}
				w.names = append(w.names, name)
			}
			out[k] = w
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	readers := make([]*agent, 3)
	for i := range readers {
		readers[i] = mustAgent(t, ctx, r.srv[i].url, "reader")
	}
	seen := map[string]int{}
	staged := 0
	for _, w := range out {
		staged += len(w.names)
		a := readers[(w.replica+1)%3]
		c := a.must(t, ctx, "get_campaign", map[string]any{"campaign_id": w.campaign})
		arts, _ := c["artifacts"].([]any)
		for _, x := range arts {
			m := x.(map[string]any)
			if m["kind"] == "segment" {
				seen[m["name"].(string)]++
			}
		}
		for _, name := range w.names {
			if seen[name] != 1 {
				t.Errorf("%s (campaign %s, written through replica %d) is there %d times through replica %d", name, w.campaign, w.replica, seen[name], (w.replica+1)%3)
			}
		}
	}
	if staged != total || len(seen) != total {
		t.Errorf("staged %d writes, %d distinct segments read back, want %d", staged, len(seen), total)
	}
	list := readers[0].must(t, ctx, "list_campaigns", map[string]any{"limit": 100})
	data, _ := json.Marshal(list)
	for _, w := range out {
		if !strings.Contains(string(data), w.campaign) {
			t.Errorf("list_campaigns through replica 0 lacks %s", w.campaign)
		}
	}
}

// A plan made through replica A, approved with the CLI on replica B's data
// directory and confirmed through replica C is promoted; A says so.
func TestReplicasPlanApproveConfirm(t *testing.T) {
	url := pgtest.Schema(t)
	r := startReplicas(t, 3, url, local.SampleContacts)
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	a := mustAgent(t, ctx, r.srv[0].url, "agent-a")
	c := mustAgent(t, ctx, r.srv[2].url, "agent-c")
	_, _, email := stageCampaign(t, ctx, a, "pac")
	plan := a.must(t, ctx, "plan_promotion", map[string]any{"campaign_id": mustCampaign(t, ctx, a, email)})["id"].(string)
	if res, err := c.call(ctx, "confirm_promotion", map[string]any{"plan_id": plan}); err != nil || !res.isError {
		t.Fatalf("confirm through C before approval: %v %s", err, res.text)
	}
	approveAtTerminal(t, r.dirs[1], plan)
	res := c.must(t, ctx, "confirm_promotion", map[string]any{"plan_id": plan})
	if res["status"] != "promoted" {
		t.Fatalf("confirm through C: %v", res)
	}
	if got := a.must(t, ctx, "get_plan", map[string]any{"plan_id": plan}); got["status"] != "promoted" {
		t.Errorf("get_plan through A: status %v", got["status"])
	}
	checkOnce(t, r, plan, email, sampleCustomers(t, ctx, a, plan))
	if acts := auditActions(t, r.dirs[0], plan); acts["approve_plan"] != 1 {
		t.Errorf("audit through A: %v, want one approve_plan", acts)
	}
}

// mustCampaign returns the campaign the artifact id belongs to.
func mustCampaign(t testing.TB, ctx context.Context, a *agent, artifact string) string {
	t.Helper()
	res, err := a.c.ReadResource(ctx, mcp.ReadResourceRequest{Params: mcp.ReadResourceParams{URI: "lastmile://artifacts/" + artifact}})
	if err != nil || len(res.Contents) == 0 {
		t.Fatalf("read %s: %v", artifact, err)
	}
	tc, _ := res.Contents[0].(mcp.TextResourceContents)
	var v struct {
		Artifact struct {
			CampaignID string `json:"campaign_id"`
		} `json:"artifact"`
	}
	json.Unmarshal([]byte(tc.Text), &v)
	if v.Artifact.CampaignID == "" {
		t.Fatalf("artifact %s names no campaign: %s", artifact, tc.Text)
	}
	return v.Artifact.CampaignID
}

// busy says whether a confirm was refused because another session (here:
// another replica) is promoting the plan.
func busy(res toolResult) bool {
	return res.isError && strings.Contains(res.text, "being promoted by another session")
}

// Two replicas confirm one approved plan at the same moment: one promotes,
// the other is told another session is promoting it or gets the earlier
// result; everything is live once and nobody is mailed twice.
func TestReplicasConfirmOnce(t *testing.T) {
	url := pgtest.Schema(t)
	r := startReplicas(t, 2, url, local.SampleContacts)
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	agents := []*agent{mustAgent(t, ctx, r.srv[0].url, "agent-a"), mustAgent(t, ctx, r.srv[1].url, "agent-b")}
	_, _, email := stageCampaign(t, ctx, agents[0], "once")
	plan := agents[0].must(t, ctx, "plan_promotion", map[string]any{"campaign_id": mustCampaign(t, ctx, agents[0], email)})["id"].(string)
	approveAtTerminal(t, r.dirs[0], plan)
	results := make([]toolResult, 2)
	errs := make([]error, 2)
	var ready, wg sync.WaitGroup
	ready.Add(2)
	start := make(chan struct{})
	for i, a := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ready.Done()
			<-start
			results[i], errs[i] = a.call(ctx, "confirm_promotion", map[string]any{"plan_id": plan})
		}()
	}
	ready.Wait()
	close(start)
	wg.Wait()
	promoted, other := 0, 0
	for i, res := range results {
		switch {
		case errs[i] != nil:
			t.Errorf("replica %d: %v", i, errs[i])
		case !res.isError && res.s["status"] == "promoted" && res.s["already_promoted"] != true:
			promoted++
		case busy(res) || (!res.isError && res.s["already_promoted"] == true):
			t.Logf("replica %d: busy %v, already promoted %v", i, busy(res), res.s["already_promoted"] == true)
			other++
		default:
			t.Errorf("replica %d: %s", i, res.text)
		}
	}
	if promoted != 1 || other != 1 {
		t.Errorf("%d replicas promoted, %d were told busy or already promoted; want 1 and 1\nA: %s\nB: %s", promoted, other, results[0].text, results[1].text)
	}
	for i, a := range agents {
		if got := a.must(t, ctx, "get_plan", map[string]any{"plan_id": plan}); got["status"] != "promoted" {
			t.Errorf("get_plan through replica %d: %v", i, got["status"])
		}
	}
	checkOnce(t, r, plan, email, sampleCustomers(t, ctx, agents[0], plan))
}

// manyCustomers is a contacts.csv of n US customers who consented.
func manyCustomers(n int) string {
	var b strings.Builder
	b.WriteString("email,firstname,lastname,country,lifecycle_stage,plan,signup_date,marketing_consent,city\n")
	for i := range n {
		fmt.Fprintf(&b, "c%05d@example.com,C%d,Customer,US,customer,pro,2025-11-02,true,Boston\n", i, i)
	}
	return b.String()
}

// The replica promoting a plan is SIGKILLed while it sends; another
// replica's confirm is told the plan is busy while the dead one's lease
// runs, then finishes the promotion: every message is sent once.
func TestReplicaKilledMidPromotion(t *testing.T) {
	const recipients = 8000 // under the sample policy's two-approver threshold
	url := pgtest.Schema(t) + "&lastmile_lease=2s"
	r := startReplicas(t, 2, url, manyCustomers(recipients))
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	a := mustAgent(t, ctx, r.srv[0].url, "agent-a")
	b := mustAgent(t, ctx, r.srv[1].url, "agent-b")
	_, _, email := stageCampaign(t, ctx, a, "kill")
	plan := a.must(t, ctx, "plan_promotion", map[string]any{"campaign_id": mustCampaign(t, ctx, a, email)})["id"].(string)
	approveAtTerminal(t, r.dirs[0], plan)
	go a.call(ctx, "confirm_promotion", map[string]any{"plan_id": plan}) // dies with A

	// Kill A once the send is under way: some messages are in the outbox
	// (the steps before it are journaled done).
	box := filepath.Join(r.live, "outbox", email)
	deadline := time.Now().Add(safety)
	for {
		files, _ := os.ReadDir(box)
		if len(files) >= 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the send never started")
		}
		time.Sleep(time.Millisecond)
	}
	if err := r.srv[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-r.srv[0].exited
	files, _ := os.ReadDir(box)
	if len(files) >= recipients {
		t.Fatalf("the send finished before the kill (%d messages): make it larger", len(files))
	}
	t.Logf("killed A after %d of %d messages", len(files), recipients)
	if got := b.must(t, ctx, "get_plan", map[string]any{"plan_id": plan}); got["status"] != "promoting" {
		t.Errorf("get_plan through B after the kill: %v, want promoting", got["status"])
	}
	// A's lease is still running: B is told another session is promoting.
	res, err := b.call(ctx, "confirm_promotion", map[string]any{"plan_id": plan})
	if err != nil {
		t.Fatal(err)
	}
	if !busy(res) {
		t.Errorf("confirm through B while A's lease runs: want busy, got %s", res.text)
	}
	// Once it has ended, B takes over and finishes.
	for !(!res.isError && res.s["status"] == "promoted") {
		if time.Now().After(deadline) {
			t.Fatalf("B never finished the promotion: %s", res.text)
		}
		if !busy(res) {
			t.Fatalf("confirm through B: %s", res.text)
		}
		time.Sleep(250 * time.Millisecond)
		if res, err = b.call(ctx, "confirm_promotion", map[string]any{"plan_id": plan}); err != nil {
			t.Fatal(err)
		}
	}
	if res.s["resumed"] != true && res.s["already_promoted"] != true {
		t.Errorf("B's promotion is neither resumed nor the earlier result: %v", res.s)
	}
	acts := auditActions(t, r.dirs[1], plan)
	if acts["promotion_started"] != 1 || acts["promotion_resumed"] != 1 || acts["promotion_finished"] != 1 {
		t.Errorf("audit: %v, want one promotion_started, one promotion_resumed, one promotion_finished", acts)
	}
	checkMailedOnce(t, r, email, recipients)
}
