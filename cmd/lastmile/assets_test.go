package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/lastmile/lastmile/governance"
)

// lastmile init copies the sample policy from an embedded copy (go:embed
// cannot reach testdata/); the two must not drift apart, and the copy must load.
func TestSamplePolicyIsTheTestdataOne(t *testing.T) {
	want, err := os.ReadFile("../../testdata/policy/acme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(samplePolicy, want) {
		t.Fatal("cmd/lastmile/assets/policy.yaml differs from testdata/policy/acme.yaml: cp testdata/policy/acme.yaml cmd/lastmile/assets/policy.yaml")
	}
	if _, err := governance.Parse("policy.yaml", samplePolicy); err != nil {
		t.Fatalf("the sample policy does not load: %v", err)
	}
}
