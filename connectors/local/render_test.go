package local

import (
	"strings"
	"testing"

	"github.com/lastmile/lastmile/governance"
	"github.com/lastmile/lastmile/liquid/liquidtest"
	"github.com/lastmile/lastmile/sandbox"
)

// TestCheckAgreesWithUnrenderable: the governance check has no
// target-cannot-render error for a text exactly when the plan lists no
// problem with it.
func TestCheckAgreesWithUnrenderable(t *testing.T) {
	policy, err := governance.Parse("p.yaml", []byte("rules: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range liquidtest.Corpus {
		rep := policy.Check([]governance.Document{{ArtifactID: "eml_1", Channel: "email", Platform: "local", Fields: []governance.Field{{Name: "html", HTML: true, Value: in}}}})
		var errs []string
		for _, f := range rep.Findings {
			if f.Rule == "lastmile.target-cannot-render" {
				errs = append(errs, f.Message)
				if !strings.HasPrefix(f.Message, "local cannot render") {
					t.Errorf("%s: message %q does not name local", in, f.Message)
				}
			}
		}
		problems := unrenderable(sandbox.Object{Email: &sandbox.Email{HTML: in}})
		if (len(errs) == 0) != (len(problems) == 0) {
			t.Errorf("%s: check %q, plan %q", in, errs, problems)
		}
	}
}
