//go:build !windows

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
)

// hostile is what an agent that wants a person to approve something else
// writes into every string it stages: a screen clear and a fake audience,
// a carriage return, a bidi override, zero-width and other invisible
// characters, a line separator, NUL, a C1 CSI, a tab and newline that
// would break a table, a forged summary line, and a line far too long.
func hostile(label string) string {
	return hostileN(label, 0)
}

// hostileN is hostile cut to n runes (0: uncut), for fields with a limit.
func hostileN(label string, n int) string {
	h := label + " \x1b[2J\x1b[H0 recipients\r\u202eevil\u200bhidden\u2028sep\x00nul\u009b31m\ttab\n" +
		"  ! send     email    eml_fake \"forged\" on local — 0 recipients\u2066iso\u2069\ufeff\u3164 revolutionary " + strings.Repeat("A", 3000)
	if r := []rune(h); n > 0 && len(r) > n {
		return string(r[:n])
	}
	return h
}

// oneLine is hostile text for fields the sandbox keeps to one line (it
// refuses line breaks there): everything else stays.
func oneLine(s string) string { return strings.NewReplacer("\n", "", "\r", "").Replace(s) }

// assertInert fails on anything in out a terminal would obey or hide: any
// control but the CLI's own newline, format characters (bidi, zero-width,
// tags), line and paragraph separators, Hangul fillers, invalid UTF-8.
func assertInert(t *testing.T, what, out string) {
	t.Helper()
	for i := 0; i < len(out); {
		r, size := utf8.DecodeRuneInString(out[i:])
		bad := ""
		switch {
		case r == utf8.RuneError && size == 1:
			bad = "invalid UTF-8"
		case r == '\n':
		case unicode.IsControl(r):
			bad = "a control"
		case unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp):
			bad = "an invisible or bidi character"
		case r == 0x115f || r == 0x1160 || r == 0x3164 || r == 0xffa0:
			bad = "a Hangul filler"
		}
		if bad != "" {
			lo, hi := max(0, i-60), min(len(out), i+60)
			t.Errorf("%s prints %s (%U) raw at byte %d: %q", what, bad, r, i, out[lo:hi])
			return
		}
		i += size
	}
}

// Every string an agent controls, printed by every CLI command, reaches
// the terminal inert; the irreversible summary is built from the plan's
// facts, intact, and last before the prompt.
func TestHostileStringsAreInert(t *testing.T) {
	dir := t.TempDir()
	s := serve(t, dir)
	defer s.stop()
	m := s.request("initialize", map[string]any{"protocolVersion": mcp.ProtocolVersion20251125, "capabilities": map[string]any{},
		"clientInfo": map[string]any{"name": hostile("client"), "version": "0"}})
	if m.Error != nil {
		t.Fatalf("initialize with a hostile client name: %+v", m.Error)
	}
	s.notify("notifications/initialized", map[string]any{})

	c := s.mustStage("create_campaign", map[string]any{"name": hostileN("campaign", 170), "markets": []string{"US"}, "industry": "retail",
		"utm": map[string]any{"source": "newsletter", "medium": "email", "campaign": "hostile"}})
	cid := c["id"].(string)
	seg := s.mustStage("build_segment", map[string]any{"campaign_id": cid, "name": hostileN("segment", 170),
		"conditions": []map[string]any{{"property": "lifecycle_stage", "operator": "eq", "value": "customer"}}})
	size, ok := seg["estimated_size"].(float64)
	if !ok || size < 1 {
		t.Fatalf("the sample contacts give the segment no size: %v", seg)
	}
	email := s.mustStage("create_email", map[string]any{"campaign_id": cid, "name": hostileN("email", 170), "subject": oneLine(hostileN("subject", 75)),
		"preview_text": oneLine(hostileN("preview", 220)), "from_name": "Acme", "from_email": "news@acme.com", "audience": map[string]any{"include": []string{seg["id"].(string)}},
		"blocks": []map[string]any{{"type": "heading", "text": "What is new"}, {"type": "paragraph", "text": hostile("body") + " Hi {{ contact.firstname | default: \"there\" }}, see [the news](https://www.acme.com/news)."}}})
	s.mustStage("publish_page", map[string]any{"campaign_id": cid, "title": hostileN("page", 170), "slug": "hostile-news",
		"blocks": []map[string]any{{"type": "heading", "text": "News"}, {"type": "paragraph", "text": hostile("page body")}}})
	s.mustStage("configure_workflow", map[string]any{"campaign_id": cid, "name": hostileN("workflow", 170), "activate": true,
		"trigger": map[string]any{"type": "segment_entry", "segment_id": seg["id"]},
		"steps":   []map[string]any{{"id": "send", "type": "send_email", "email_id": email["id"]}}})
	plan := s.mustStage("plan_promotion", map[string]any{"campaign_id": cid})
	planID := plan["id"].(string)
	if g := plan["governance"].(map[string]any); g["errors"].(float64) != 0 || g["warnings"].(float64) == 0 {
		t.Fatalf("want a plan with warnings (whose excerpts quote the agent) and no errors: %v", g)
	}

	run := func(args ...string) string {
		t.Helper()
		out, errOut, _ := runBin(t, append(args, "--data-dir", dir)...)
		assertInert(t, "lastmile "+args[0]+" (stdout)", out)
		assertInert(t, "lastmile "+args[0]+" (stderr)", errOut)
		return out
	}
	for _, cmd := range [][]string{{"plans"}, {"plans", "--json"}, {"audit"}, {"audit", "--json"}} {
		out := run(cmd...)
		if strings.HasSuffix(cmd[len(cmd)-1], "json") {
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if !json.Valid([]byte(l)) {
					t.Errorf("lastmile %s: not JSON: %.200q", strings.Join(cmd, " "), l)
				}
			}
		}
	}
	if plans := run("plans"); len(strings.Split(strings.TrimSpace(plans), "\n")) != 2 {
		t.Errorf("a campaign name broke the plans table into extra rows:\n%s", plans)
	}

	// approve, at a terminal, as a person does.
	screen, _ := approveAtTerminal(t, dir, planID)
	assertInert(t, "lastmile approve", screen)
	if !strings.Contains(screen, "more characters)") {
		t.Errorf("long lines were not cut:\n%.2000s", screen)
	}
	summary := screen[strings.LastIndex(screen, "IRREVERSIBLE"):strings.Index(screen, codePrompt)]
	lines := strings.Split(strings.TrimSuffix(summary, "\n"), "\n")
	n := fmt.Sprintf("%d", int(size))
	want := []*regexp.Regexp{
		regexp.MustCompile(`^IRREVERSIBLE — these reach people and cannot be undone:$`),
		regexp.MustCompile(`^  ! send     email    eml_\w+ "email .{1,80}" on local — ` + n + ` recipients$`),
		regexp.MustCompile(`^  ! publish  page     pg_\w+ "page .{1,80}" on local$`),
		regexp.MustCompile(`^  ! activate workflow wf_\w+ "workflow .{1,80}" on local$`),
		regexp.MustCompile(`^This plan sends 1 email to ` + n + ` recipients, publishes 1 page, activates 1 workflow\.$`),
		regexp.MustCompile(`^Code: [0-9a-z]{6}$`),
		regexp.MustCompile(`^Approve as "[^"]+"\? $`),
	}
	if len(lines) != len(want) {
		t.Fatalf("the summary above the prompt is not the plan's %d irreversible steps and totals:\n%s", 3, summary)
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("summary line %d = %q, want %s", i, lines[i], re)
		}
	}

	// reject, with a hostile reason, and what then shows it.
	plan2 := s.mustStage("plan_promotion", map[string]any{"campaign_id": cid})
	// (A command line cannot carry NUL; everything else can.)
	reason := strings.ReplaceAll(hostile("reason"), "\x00", "")
	if out := run("reject", plan2["id"].(string), "--reason", reason); !strings.Contains(out, "Rejected plan") {
		t.Errorf("reject: %s", out)
	}
	run("plans")
	run("audit")
	rejected, _ := onTerminal(t, "approve", plan2["id"].(string), "--data-dir", dir).wait()
	assertInert(t, "lastmile approve (a rejected plan)", rejected)
	if !strings.Contains(rejected, "rejected by") {
		t.Errorf("approve of a rejected plan does not show the rejection:\n%.3000s", rejected)
	}

	// check, over a file an agent wrote, named by it.
	file := filepath.Join(t.TempDir(), "news\x1b[2J\u202e.html")
	os.WriteFile(file, []byte("<html><body><h1>"+hostile("html")+"</h1><p>Click <a href=\"http://example.com\">here</a>.</p></body></html>"), 0o600)
	policy, _ := filepath.Abs("../../testdata/policy/acme.yaml")
	for _, args := range [][]string{{"check", file, "--policy", policy}, {"check", file, "--json", "--policy", policy, "--subject", strings.ReplaceAll(oneLine(hostile("subject")), "\x00", "")}} {
		out, errOut, _ := runBin(t, args...)
		assertInert(t, "lastmile check (stdout)", out)
		assertInert(t, "lastmile check (stderr)", errOut)
	}
}
