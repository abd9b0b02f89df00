package tools_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// FuzzToolArguments sends arbitrary JSON arguments to every tool through the
// in-process client and server. Whatever the input, a tool answers with a
// result (isError allowed), never a JSON-RPC error, a panic (the recovery
// middleware turns one into "internal error", which fails here too), or an
// unexplained "<tool> failed:" error.
//
// The seed corpus is testdata/fuzz/FuzzToolArguments (realistic calls and
// hostile ones); `go test` runs it on every CI run. To fuzz:
//
//	go test ./tools -run '^$' -fuzz FuzzToolArguments -fuzztime 60s
//
// Arguments may name ids as $CMP, $SEG, $EML, $PG and $WF: they are replaced
// by the ids of a fixture campaign and its artifacts, so mutations reach
// the checks that need existing artifacts.
func FuzzToolArguments(f *testing.F) {
	f.Add("create_campaign", []byte(`{"name":"Spring","markets":["US","UK"]}`))
	f.Add("build_segment", []byte(`{"campaign_id":"$CMP","name":"S","conditions":[{"property":"country","operator":"in","value":["US"]}]}`))
	f.Add("get_campaign", []byte(`{"campaign_id":"$CMP"}`))

	// The harness is built once per fuzzing process (it is the expensive
	// part) with the in-memory store; the fixtures are renewed now and then
	// so the fixture campaign never fills up.
	h := newHarness(f, withMemoryStore())
	names := toolNames(f, h)
	var ids map[string]string
	runs := 0
	fixtures := func(t testing.TB) {
		cmp := h.newCampaign(t, "Fuzz fixture")
		seg := str(t, h.stage(t, "build_segment", segmentArgs(cmp)), "id")
		eml := str(t, h.stage(t, "create_email", blocksEmailArgs(cmp)), "id")
		pg := str(t, h.stage(t, "publish_page", pageArgs(cmp, "fuzz-"+cmp[len(cmp)-8:])), "id")
		wf := str(t, h.stage(t, "configure_workflow", workflowArgs(cmp, seg, eml)), "id")
		ids = map[string]string{"$CMP": cmp, "$SEG": seg, "$EML": eml, "$PG": pg, "$WF": wf}
	}
	fixtures(f)

	f.Fuzz(func(t *testing.T, tool string, args []byte) {
		if runs++; runs%400 == 0 {
			fixtures(t)
		}
		if !slices.Contains(names, tool) {
			// Keep mutated names useful: map them onto a real tool.
			tool = names[int(crc(tool))%len(names)]
		}
		var probe any
		if json.Unmarshal(args, &probe) != nil {
			// Not JSON, or JSON Go cannot hold (1e400): the client cannot
			// send it, or mcp-go rejects the whole request as unparsable
			// before any tool runs, which is a protocol error by right.
			return
		}
		for k, v := range ids {
			args = bytes.ReplaceAll(args, []byte(k), []byte(v))
		}

		res, err := h.callRaw(tool, json.RawMessage(args))
		if err != nil {
			t.Fatalf("%s(%s): protocol error: %v", tool, short(args), err)
		}
		if res == nil {
			t.Fatalf("%s(%s): nil result", tool, short(args))
		}
		msg := text(res)
		if !res.IsError {
			if res.StructuredContent == nil {
				t.Fatalf("%s(%s): success without structuredContent: %s", tool, short(args), msg)
			}
			return
		}
		for _, bad := range []string{"internal error", "panic", "runtime error", tool + " failed:", "&{"} {
			if strings.Contains(msg, bad) {
				t.Fatalf("%s(%s): tool error reads like a bug (%q):\n%s", tool, short(args), bad, msg)
			}
		}
		if strings.TrimSpace(msg) == "" {
			t.Fatalf("%s(%s): tool error without a message", tool, short(args))
		}
	})
}

func crc(s string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

func short(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
