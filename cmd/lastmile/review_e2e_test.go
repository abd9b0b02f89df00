package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/lastmile/lastmile/internal/passkeytest"
)

// freeReviewAddr is a loopback port nobody listens on, as localhost:PORT.
func freeReviewAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
}

var enrolLink = regexp.MustCompile(`http://localhost:\d+/enrol/\S+`)

// sdkSession connects the official Go SDK to lastmile serve --review, with
// the elicitation handler given (nil: a client without elicitation).
func sdkSession(t *testing.T, ctx context.Context, dir, reviewAddr string, elicit func(context.Context, *sdk.ElicitRequest) (*sdk.ElicitResult, error)) *sdk.ClientSession {
	cmd := exec.Command(bin, "serve", "--data-dir", dir, "--review", reviewAddr)
	cmd.Env = childEnv(t)
	var opts *sdk.ClientOptions
	if elicit != nil {
		opts = &sdk.ClientOptions{ElicitationHandler: elicit,
			Capabilities: &sdk.ClientCapabilities{Elicitation: &sdk.ElicitationCapabilities{URL: &sdk.URLElicitationCapabilities{}}}}
	}
	sess, err := sdk.NewClient(&sdk.Implementation{Name: "url-elicitation-test", Version: "0"}, opts).Connect(ctx, &sdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return sess
}

// stageAndPlan stages a campaign the sample policy passes and plans it.
func stageAndPlan(t *testing.T, ctx context.Context, sess *sdk.ClientSession) (planID string) {
	call := func(name string, args map[string]any) map[string]any {
		t.Helper()
		res, err := sess.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
		if err != nil || res.IsError {
			t.Fatalf("%s: %v %+v", name, err, res)
		}
		data, _ := json.Marshal(res.StructuredContent)
		var sc map[string]any
		json.Unmarshal(data, &sc)
		return sc
	}
	cmp := call("create_campaign", map[string]any{"name": "Review", "markets": []any{"US"}, "industry": "retail", "utm": map[string]any{"source": "newsletter", "medium": "email", "campaign": "review"}})["id"].(string)
	seg := call("build_segment", map[string]any{"campaign_id": cmp, "name": "Two people", "static_emails": []any{"grace@example.com", "barbara@example.com"}})["id"].(string)
	call("create_email", map[string]any{"campaign_id": cmp, "name": "Hello", "subject": "News from Acme", "preview_text": "What is new this month.",
		"from_name": "Acme", "from_email": "news@acme.com", "audience": map[string]any{"include": []any{seg}},
		"blocks": []any{map[string]any{"type": "heading", "text": "What is new"}, map[string]any{"type": "paragraph", "text": "Hi {{ contact.firstname | default: \"there\" }}, see [the news](https://www.acme.com/news)."}}})
	return call("plan_promotion", map[string]any{"campaign_id": cmp})["id"].(string)
}

// A client that supports URL-mode elicitation is sent to the plan's review
// page; the person enrols, approves there with a passkey, and the same
// confirm_promotion call completes: the official Go SDK as the client.
func TestURLModeElicitationToTheReviewPage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	initSample(t, dir)
	addr := freeReviewAddr(t)
	out, errOut, status := runBin(t, "approvers", "add", "maria.lopez@acme.com", "--role", "marketing", "--addr", addr, "--data-dir", dir)
	link := enrolLink.FindString(out)
	if status != 0 || link == "" {
		t.Fatalf("approvers add: %d\n%s\n%s", status, out, errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	origin := "http://" + addr
	var asked *sdk.ElicitParams
	sess := sdkSession(t, ctx, dir, addr, func(ctx context.Context, req *sdk.ElicitRequest) (*sdk.ElicitResult, error) {
		asked = req.Params
		// The person opens the link, registers a passkey, opens the plan
		// and approves it there.
		r := passkeytest.NewReviewer(t, origin)
		if err := r.Enrol(link); err != nil {
			t.Error(err)
			return &sdk.ElicitResult{Action: "cancel"}, nil
		}
		msg, err := r.Approve(req.Params.URL)
		if err != nil {
			t.Error(err)
		} else if !strings.Contains(msg, "every approval") {
			t.Errorf("the review page said %q", msg)
		}
		return &sdk.ElicitResult{Action: "accept"}, nil
	})
	planID := stageAndPlan(t, ctx, sess)
	res, err := sess.CallTool(ctx, &sdk.CallToolParams{Name: "confirm_promotion", Arguments: map[string]any{"plan_id": planID}})
	if err != nil {
		t.Fatal(err)
	}
	if asked == nil || asked.Mode != "url" || asked.URL != origin+"/plans/"+planID {
		t.Fatalf("the client was asked %+v", asked)
	}
	if res.IsError {
		t.Fatalf("confirm_promotion after the review approval: %+v", res.Content)
	}
	if files, _ := os.ReadDir(filepath.Join(dir, "outbox")); len(files) == 0 {
		t.Fatal("nothing was sent")
	}
	audit, _, _ := runBin(t, "audit", "--json", "--data-dir", dir)
	if !strings.Contains(audit, `"channel":"review"`) || !strings.Contains(audit, `"approver_enrolled"`) {
		t.Fatal("the review approval and the enrolment are not in the audit log")
	}
}

// A client without elicitation is told where the human approves: the
// plan's review page and the terminal command.
func TestWithoutElicitationTheErrorNamesTheReviewPage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	initSample(t, dir)
	addr := freeReviewAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sess := sdkSession(t, ctx, dir, addr, nil)
	planID := stageAndPlan(t, ctx, sess)
	res, err := sess.CallTool(ctx, &sdk.CallToolParams{Name: "confirm_promotion", Arguments: map[string]any{"plan_id": planID}})
	if err != nil {
		t.Fatal(err)
	}
	text := ""
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			text += tc.Text
		}
	}
	if !res.IsError || !strings.Contains(text, "http://"+addr+"/plans/"+planID) || !strings.Contains(text, "lastmile approve "+planID) {
		t.Fatalf("confirm_promotion without approval said: %s", text)
	}
}

// lastmile approvers: roles come from the policy; add prints a one-time
// link; list shows who is enrolled; remove takes them away.
func TestApproversCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	initSample(t, dir)
	for _, c := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"approvers", "add", "not an address"}, exitError, "is not an email address"},
		{[]string{"approvers", "add", "dana.weiss@acme.com", "--role", "cfo"}, exitError, `the policy defines no role "cfo"`},
		{[]string{"approvers", "add", "maria.lopez@acme.com", "--role", "legal"}, exitError, "roles.legal does not list maria.lopez@acme.com"},
		{[]string{"approvers", "remove", "nobody@acme.com"}, exitError, "is not an approver"},
	} {
		_, errOut, code := runBin(t, append(c.args, "--data-dir", dir)...)
		if code != c.code || !strings.Contains(errOut, c.err) {
			t.Errorf("%v: %d %s", c.args, code, errOut)
		}
	}
	out, errOut, code := runBin(t, "approvers", "add", "Dana.Weiss@acme.com", "--role", "legal", "--data-dir", dir)
	if code != 0 || !enrolLink.MatchString(out) || !strings.Contains(out, "works once") {
		t.Fatalf("add: %d\n%s%s", code, out, errOut)
	}
	out, _, _ = runBin(t, "approvers", "list", "--data-dir", dir)
	if !strings.Contains(out, "dana.weiss@acme.com  invited by") || !strings.Contains(out, "not enrolled yet; the link works until") {
		t.Fatalf("list: %s", out)
	}
	if out, errOut, code := runBin(t, "approvers", "remove", "dana.weiss@acme.com", "--data-dir", dir); code != 0 || !strings.Contains(out, "Removed dana.weiss@acme.com") {
		t.Fatalf("remove: %d %s %s", code, out, errOut)
	}
	if out, _, _ := runBin(t, "approvers", "list", "--data-dir", dir); !strings.Contains(out, "No approvers") {
		t.Fatalf("list after remove: %s", out)
	}
}
