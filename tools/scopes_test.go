package tools_test

import (
	"slices"
	"testing"

	"github.com/lastmile/lastmile/internal/accesstoken"
	"github.com/lastmile/lastmile/tools"
)

// Every tool needs a scope: lastmile:read exactly for the tools that only
// read (readOnly hint; fetch_metrics too, which syncs metrics but stages
// nothing), lastmile:plan and lastmile:confirm for the two plan steps, and
// lastmile:stage for every other write.
func TestEveryToolHasAScope(t *testing.T) {
	h := newHarness(t, withMemoryStore())
	for _, tl := range tools.All(h.sb, tools.Options{}) {
		name := tl.Tool.Name
		got, ok := tools.RequiredScope(name)
		if !ok {
			t.Errorf("%s has no scope: add it to toolScopes in tools/scopes.go", name)
			continue
		}
		readOnly := tl.Tool.Annotations.ReadOnlyHint != nil && *tl.Tool.Annotations.ReadOnlyHint
		want := accesstoken.ScopeStage
		switch {
		case readOnly || name == "fetch_metrics":
			want = accesstoken.ScopeRead
		case name == "plan_promotion":
			want = accesstoken.ScopePlan
		case name == "confirm_promotion":
			want = accesstoken.ScopeConfirm
		}
		if got != want {
			t.Errorf("%s needs scope %s, want %s", name, got, want)
		}
		if !slices.Contains(accesstoken.Scopes, got) {
			t.Errorf("%s needs %q, which is not a scope", name, got)
		}
	}
	if _, ok := tools.RequiredScope("no_such_tool"); ok {
		t.Error("a name that is no tool has a scope")
	}
}
