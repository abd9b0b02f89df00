package governance

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docsRuleKinds returns the kinds docs/policy.md documents: the
// backquoted names in the headings of its "Rule kinds" section, and the
// YAML examples there.
func docsRuleKinds(t *testing.T) (kinds []string, examples []string) {
	t.Helper()
	b, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Rule kinds\n")
	if !ok {
		t.Fatal(`docs/policy.md has no "## Rule kinds" section`)
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	name := regexp.MustCompile("`([a-z_]+)`")
	for _, line := range strings.Split(section, "\n") {
		if h, ok := strings.CutPrefix(line, "### "); ok {
			// "### `subject` and `preview_text`", "### `footer` — CAN-SPAM, ..."
			h, _, _ = strings.Cut(h, " — ")
			for _, m := range name.FindAllStringSubmatch(h, -1) {
				kinds = append(kinds, m[1])
			}
		}
	}
	for _, block := range strings.Split(section, "```yaml\n")[1:] {
		yaml, _, ok := strings.Cut(block, "```")
		if !ok {
			t.Fatal("unterminated YAML example in docs/policy.md")
		}
		examples = append(examples, yaml)
	}
	return kinds, examples
}

// TestDocsListEveryRuleKind holds docs/policy.md to ruleKinds, the list the
// loader dispatches on: a kind the loader accepts is documented, and a
// documented kind loads.
func TestDocsListEveryRuleKind(t *testing.T) {
	documented, examples := docsRuleKinds(t)
	for _, k := range ruleKinds {
		if !slices.Contains(documented, k.name) {
			t.Errorf("rule kind %q is accepted by the loader but not documented under \"Rule kinds\" in docs/policy.md", k.name)
		}
	}
	for _, k := range documented {
		if ruleKindNamed(k) == nil {
			t.Errorf("docs/policy.md documents rule kind %q, which the loader does not accept", k)
		}
	}
	if len(documented) != len(ruleKinds) {
		t.Errorf("docs/policy.md has %d rule kind headings for %d kinds: %q", len(documented), len(ruleKinds), documented)
	}

	// Every example loads, so the keys the docs show are keys the kinds
	// take.
	const prefix = "brand:\n  colors: {primary: \"#0B5FFF\"}\n  fonts: {body: \"Helvetica, Arial, sans-serif\"}\n" +
		"  footer: {company: Acme, postal_address: \"1 Main St\"}\nroles:\n  legal: [dana@acme.com]\nrules:\n"
	for _, ex := range examples {
		if _, err := Parse("policy.md", []byte(prefix+ex)); err != nil {
			t.Errorf("example in docs/policy.md does not load:\n%s\n%v", ex, err)
		}
	}
}
