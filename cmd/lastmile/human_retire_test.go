package main

import (
	"strings"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
)

// What a plan takes back is shown apart from what reaches people, with the
// step's description (the target's effect) and in the totals; the agent's
// text in it reaches the terminal inert.
func TestPrintTakesBack(t *testing.T) {
	n := 120
	p := &sandbox.Plan{Steps: []sandbox.PlanStep{
		{N: 1, ArtifactID: "pg_1", Kind: sandbox.KindPage, Name: "Winter\x1b[2J", Op: sandbox.OpUnpublish, Target: "local", Irreversible: true,
			Diff: "unpublish page /winter/ \"Winter\x1b[2J\" (http://127.0.0.1/winter/) — visitors get 404"},
		{N: 2, ArtifactID: "wf_1", Kind: sandbox.KindWorkflow, Name: "Nurture", Op: sandbox.OpDeactivate, Target: "hubspot", Irreversible: true, Diff: "switch off workflow \"Nurture\""},
		{N: 3, ArtifactID: "eml_1", Kind: sandbox.KindEmail, Name: "News", Op: sandbox.OpSend, Target: "local", Irreversible: true, AudienceSize: &n},
	}}
	var b strings.Builder
	printIrreversible(&b, p)
	out := b.String()
	for _, want := range []string{"TAKES BACK", "unpublish", "visitors get 404", "deactivate", "IRREVERSIBLE — these reach people", "send", "120 recipients",
		"This plan sends 1 email to 120 recipients, unpublishes 1 page, switches off 1 workflow."} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("an escape sequence reached the terminal:\n%q", out)
	}
	if i, j := strings.Index(out, "TAKES BACK"), strings.Index(out, "IRREVERSIBLE"); i > j {
		t.Errorf("what is taken back is listed after what reaches people:\n%s", out)
	}
}
