package main

import (
	"strings"
	"testing"
)

// lastmile enrol wants a workflow and an address, and refuses, naming why,
// a workflow that is not a live manual one on local; nothing is recorded.
func TestEnrolRefusals(t *testing.T) {
	dir := initDir(t)
	if _, errOut, code := runBin(t, "enrol", "wf_x", "--data-dir", dir); code != 2 || !strings.Contains(errOut, "at least one contact") {
		t.Fatalf("enrol without an address: exit %d, %s", code, errOut)
	}
	_, errOut, code := runBin(t, "enrol", "wf_01nothing", "ada@example.com", "--data-dir", dir)
	if code != 1 || !strings.Contains(errOut, "workflow wf_01nothing is not live on local") {
		t.Fatalf("enrol in a workflow that is not live: exit %d, %s", code, errOut)
	}
	if out, _, _ := runBin(t, "audit", "--json", "--data-dir", dir); strings.Contains(out, "workflow.enrol") {
		t.Fatalf("a refused enrolment is in the audit log:\n%s", out)
	}
}
