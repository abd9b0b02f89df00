package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/lastmile/lastmile/governance"
)

// lastmile init writes the unbranded baseline when no brand is given; the
// embedded copy is what governance.BaselinePolicy writes for empty answers.
// UPDATE_ASSETS=1 go test ./cmd/lastmile -run TestInitPolicyIsTheBaseline
// rewrites it.
func TestInitPolicyIsTheBaseline(t *testing.T) {
	want, err := governance.BaselinePolicy(governance.BrandAnswers{})
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("UPDATE_ASSETS") != "" {
		if err := os.WriteFile("assets/policy.yaml", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(baselinePolicy, want) {
		t.Fatal("cmd/lastmile/assets/policy.yaml is not the unbranded baseline: UPDATE_ASSETS=1 go test ./cmd/lastmile -run TestInitPolicyIsTheBaseline")
	}
	p, err := governance.Parse("policy.yaml", baselinePolicy)
	if err != nil {
		t.Fatalf("the baseline does not load: %v", err)
	}
	if len(p.Unset()) == 0 {
		t.Error("the unbranded baseline sets brand values")
	}
	if bytes.Contains(bytes.ToLower(baselinePolicy), []byte("acme")) {
		t.Error("the policy init writes mentions Acme")
	}
}

// The demo's sample policy is an embedded copy of testdata/policy/acme.yaml
// (go:embed cannot reach testdata/); the two must not drift apart, and the
// copy must load.
func TestSamplePolicyIsTheTestdataOne(t *testing.T) {
	want, err := os.ReadFile("../../testdata/policy/acme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(acmeSamplePolicy, want) {
		t.Fatal("cmd/lastmile/assets/acme.yaml differs from testdata/policy/acme.yaml: cp testdata/policy/acme.yaml cmd/lastmile/assets/acme.yaml")
	}
	if _, err := governance.Parse("acme.yaml", acmeSamplePolicy); err != nil {
		t.Fatalf("the sample policy does not load: %v", err)
	}
}
