package governance_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/governance"
)

func TestSamplePolicyLoads(t *testing.T) {
	p := loadSample(t)
	rules := p.Rules()
	if len(rules) < 30 {
		t.Fatalf("sample policy has %d rules, want at least 30", len(rules))
	}
	kinds := map[string]bool{}
	for _, r := range rules {
		kinds[r.Kind] = true
	}
	for _, k := range []string{"existence", "substitution", "occurrence", "consistency", "conditional", "capitalization",
		"readability", "required_text", "footer", "link", "image", "style", "size", "subject", "preview_text", "tokens", "consent", "approvals"} {
		if !kinds[k] {
			t.Errorf("sample policy has no %s rule", k)
		}
	}
	b := p.Brand()
	if b.Colors.Primary != "#0b5fff" || b.Footer.Company != "Acme Corp" || b.Fonts.Body == "" || b.Logo.Width != 140 {
		t.Errorf("brand not loaded as expected: %+v", b)
	}
	b.Colors.Named["acme-blue"] = "#000000"
	if p.Brand().Colors.Named["acme-blue"] != "#0b5fff" {
		t.Error("Brand() returned a shared map; callers could mutate the policy")
	}
	if got := p.RoleMembers("legal"); len(got) != 2 || got[0] != "dana.weiss@acme.com" {
		t.Errorf("RoleMembers(legal) = %v", got)
	}
	if p.RoleMembers("nobody") != nil {
		t.Error("unknown role has members")
	}
}

func TestHash(t *testing.T) {
	data := readFile(t, samplePolicy)
	p1, err := governance.Parse("a.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := governance.Parse("b.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if p1.Hash() != p2.Hash() || !strings.HasPrefix(p1.Hash(), "sha256:") || len(p1.Hash()) != len("sha256:")+64 {
		t.Fatalf("hash not stable across loads of the same bytes: %s vs %s", p1.Hash(), p2.Hash())
	}
	changed := strings.Replace(string(data), "max_kb: 102", "max_kb: 100", 1)
	p3, err := governance.Parse("c.yaml", []byte(changed))
	if err != nil {
		t.Fatal(err)
	}
	if p3.Hash() == p1.Hash() {
		t.Error("changing a rule did not change the hash")
	}
	if d1, d2 := governance.Default(), governance.Default(); d1.Hash() != d2.Hash() || d1.Hash() == p1.Hash() {
		t.Error("Default() hash must be stable and distinct")
	}
	if r := governance.Default().Check([]governance.Document{{ArtifactID: "eml_1", Channel: "email", Fields: []governance.Field{{Name: "html", HTML: true, Value: "<p>guaranteed!!!</p>"}}}}); !r.Passed || len(r.Findings) != 0 {
		t.Errorf("Default() policy produced findings: %+v", r)
	}
	if req := governance.Default().Approvals(governance.ApprovalInput{MaxRecipients: 1 << 30}); req.Count != 1 {
		t.Errorf("Default() approvals = %+v, want 1", req)
	}
}

const loadPrefix = `brand:
  colors: {primary: "#0B5FFF"}
  fonts: {body: "Helvetica, Arial, sans-serif"}
roles:
  legal: [dana@acme.com]
rules:
`

// TestLoadErrors: every way a policy can be wrong is a load error with
// the position of the offending key or value.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string // appended to loadPrefix unless it starts with "!"
		pos  string // "line:col"
		msg  string
	}{
		{"unknown top-level key", "!brand: {}\nrulez: []\n", "2:1", `unknown key "rulez" in the policy (did you mean "rules"?)`},
		{"unknown rule key", "  - id: a\n    kind: existence\n    level: error\n    tokens: [x]\n    scopes: body\n", "11:5", `unknown key "scopes" in rule a (did you mean "scope"?)`},
		{"key not valid for kind", "  - id: a\n    kind: footer\n    level: error\n    require: [unsubscribe]\n    scope: body\n", "11:5", `unknown key "scope" in rule a`},
		{"unknown kind", "  - id: a\n    kind: existance\n    level: error\n", "8:11", `unknown kind "existance" (did you mean "existence"?)`},
		{"unknown level", "  - id: a\n    kind: existence\n    level: warn\n    tokens: [x]\n", "9:12", `unknown level "warn" (did you mean "warning"?)`},
		{"unknown scope", "  - id: a\n    kind: existence\n    level: error\n    tokens: [x]\n    scope: headings\n", "11:12", `unknown scope "headings" (did you mean "heading"?)`},
		{"unknown scope in list", "  - id: a\n    kind: existence\n    level: error\n    tokens: [x]\n    scope: [body, footer]\n", "11:19", `unknown scope "footer"`},
		{"bad regex", "  - id: a\n    kind: existence\n    level: error\n    patterns: ['\\d+(']\n", "10:16", "bad regular expression"},
		{"regex matches empty", "  - id: a\n    kind: existence\n    level: error\n    patterns: ['x*']\n", "10:16", "matches empty text"},
		{"bad conditional regex", "  - id: a\n    kind: conditional\n    level: error\n    first: '[A-Z'\n    second: x\n", "10:12", "bad regular expression"},
		{"wrong type int", "  - id: a\n    kind: existence\n    level: error\n    tokens: [x]\n    min_recipients: lots\n", "11:21", "min_recipients must be a whole number"},
		{"wrong type string", "  - id: a\n    kind: existence\n    level: error\n    tokens: [x]\n    message: 5\n", "11:14", "message must be a string"},
		{"wrong type list", "  - id: a\n    kind: existence\n    level: error\n    tokens: guaranteed\n", "10:13", "tokens must be a list"},
		{"wrong type bool", "  - id: a\n    kind: link\n    level: error\n    https: yes please\n", "10:12", "https must be true or false"},
		{"rules not a list", "!rules: {a: 1}\n", "1:8", "rules must be a list"},
		{"duplicate id", "  - id: a\n    kind: existence\n    level: error\n    tokens: [x]\n  - id: a\n    kind: existence\n    level: error\n    tokens: [y]\n", "11:9", `rule id "a" is used twice (first at line 7)`},
		{"duplicate key", "  - id: a\n    kind: existence\n    level: error\n    level: warning\n    tokens: [x]\n", "10:5", `key "level" is repeated`},
		{"missing id", "  - kind: existence\n    level: error\n    tokens: [x]\n", "7:5", "has no id"},
		{"missing kind", "  - id: a\n    level: error\n", "7:5", "rule a has no kind"},
		{"missing level", "  - id: a\n    kind: existence\n    tokens: [x]\n", "7:5", "rule a has no level"},
		{"nothing to check", "  - id: a\n    kind: existence\n    level: error\n", "7:5", "existence needs tokens"},
		{"lower-case market", "  - id: a\n    kind: existence\n    level: error\n    tokens: [x]\n    markets: [de]\n", "11:15", `market "de" must be upper case`},
		{"unknown market", "  - id: a\n    kind: existence\n    level: error\n    tokens: [x]\n    markets: [US, EN]\n", "11:19", `unknown market "EN"`},
		{"unknown channel", "  - id: a\n    kind: existence\n    level: error\n    tokens: [x]\n    channels: [sms]\n", "11:16", `unknown channel "sms"`},
		{"bad industry", "  - id: a\n    kind: existence\n    level: error\n    tokens: [x]\n    industries: [Fin Serv]\n", "11:18", `industry "Fin Serv"`},
		{"defaults market group", "!defaults:\n  markets: [US, EU]\n", "2:17", `"EU" is not an ISO 3166-1 alpha-2 country code`},
		{"defaults lower-case market", "!defaults:\n  markets: [us]\n", "2:13", `market "us" must be upper case`},
		{"test_sends bad address", "!test_sends:\n  seed_list: [qa@acme.com, nobody]\n", "2:28", `test_sends.seed_list: "nobody" is not an email address`},
		{"test_sends twice", "!test_sends:\n  seed_list: [qa@acme.com, QA@acme.com]\n", "2:28", `test_sends.seed_list: qa@acme.com is listed twice`},
		{"test_sends domain with @", "!test_sends:\n  internal_domains: ['@acme.com']\n", "2:22", `test_sends.internal_domains: "@acme.com" is not a lower-case domain`},
		{"test_sends wildcard", "!test_sends:\n  internal_domains: ['*.acme.com']\n", "2:22", `is not a lower-case domain`},
		{"always_exclude twice", "!always_exclude: [Suppression, Suppression]\n", "1:31", `always_exclude: "Suppression" is listed twice`},
		{"always_exclude not a list", "!always_exclude: {a: 1}\n", "1:17", `always_exclude`},
		{"test_sends unknown key", "!test_sends:\n  seeds: [qa@acme.com]\n", "2:3", `unknown key "seeds" in test_sends`},
		{"defaults bad industry", "!defaults:\n  industry: Food & Drink\n", "2:13", `defaults.industry "Food & Drink"`},
		{"defaults unknown key", "!defaults:\n  market: [US]\n", "2:3", `unknown key "market" in defaults (did you mean "markets"?)`},
		{"defaults bad sender", "!defaults:\n  from_email: hello at example\n", "2:15", "is not an email address"},
		{"unknown footer part", "  - id: a\n    kind: footer\n    level: error\n    require: [unsubscribe_link]\n", "10:15", `unknown footer part "unsubscribe_link"`},
		{"approvals unknown role", "  - id: a\n    kind: approvals\n    roles: [lawyer]\n", "9:13", `role "lawyer" is not defined`},
		{"occurrence min > max", "  - id: a\n    kind: occurrence\n    level: error\n    tokens: [x]\n    min: 3\n    max: 1\n", "11:10", "min (3) is greater than max (1)"},
		{"size warn >= max", "  - id: a\n    kind: size\n    level: error\n    warn_kb: 110\n    max_kb: 102\n", "10:14", "warn_kb (110) must be below max_kb (102)"},
		{"style without colours", "!rules:\n  - id: a\n    kind: style\n    level: error\n    colors: true\n", "2:5", "no colours are allowed"},
		{"bad brand colour", "!brand:\n  colors:\n    primary: blue-ish\n", "3:14", `"blue-ish" is not a #rgb`},
		{"unknown brand key", "!brand:\n  colours: {}\n", "2:3", `unknown key "colours" in brand (did you mean "colors"?)`},
		{"non-https logo", "!brand:\n  logo:\n    url: http://acme.com/logo.png\n", "3:10", "must be an https:// URL"},
		{"too many placeholders", "  - id: a\n    kind: existence\n    level: error\n    tokens: [x]\n    message: '%s and %s'\n", "11:14", "2 %s placeholders"},
		{"readability scope", "  - id: a\n    kind: readability\n    level: error\n    max: 8\n    scope: subject\n", "11:12", "scope must be body"},
		{"raw scope on required_text", "  - id: a\n    kind: required_text\n    level: error\n    text: x\n    scope: raw\n", "11:12", "scope raw (markup) is only for"},
		{"consent on email", "  - id: a\n    kind: consent\n    level: error\n    property: consent\n    channels: [email]\n", "11:15", "consent applies to segment and workflow"},
		{"link checks nothing", "  - id: a\n    kind: link\n    level: error\n    https: false\n", "7:5", "link checks nothing"},
		{"utm unknown key", "  - id: a\n    kind: link\n    level: error\n    utm: {require: [utm_source]}\n", "10:11", `unknown key "require"`},
		{"bad domain", "  - id: a\n    kind: link\n    level: error\n    domains: [https://acme.com]\n", "10:15", "is a URL"},
		{"yaml syntax", "  - id: a\n    kind: [existence\n", "7:1", "YAML syntax"},
		{"tab indentation", "!rules:\n\t- id: a\n", "2:1", "YAML syntax"},
		{"alias", "!x: &anchor 1\n", "1:4", "anchors (&anchor) are not supported"},
		{"two documents", "!rules: []\n---\nrules: []\n", "2:1", "only one YAML document"},
		{"empty", "!", "1:1", "policy is empty"},
		{"only comments", "!# nothing here\n", "1:1", "policy is empty"},
		{"not a mapping", "!- a\n- b\n", "1:1", "the policy must be a mapping"},
		{"version", "!version: 2\n", "1:10", "unsupported policy version 2"},
		{"bad rule id", "  - id: 'a b'\n    kind: existence\n    level: error\n    tokens: [x]\n", "7:9", `rule id "a b"`},
		{"empty token", "  - id: a\n    kind: existence\n    level: error\n    tokens: ['  ']\n", "10:14", "must not be empty"},
		{"capitalization style", "  - id: a\n    kind: capitalization\n    level: error\n    match: $camel\n", "10:12", "match must be one of"},
		{"image alt mode", "  - id: a\n    kind: image\n    level: error\n    alt: yes\n", "10:10", `rule a: alt must be one of required, present, nonempty; got "yes"`},
		{"substitution empty swap", "  - id: a\n    kind: substitution\n    level: error\n    swap: {}\n", "10:11", "swap must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := loadPrefix + tt.yaml
			if strings.HasPrefix(tt.yaml, "!") {
				src = tt.yaml[1:]
			}
			p, err := governance.Parse("policy.yaml", []byte(src))
			if err == nil {
				t.Fatalf("no error; policy has %d rules", len(p.Rules()))
			}
			if !errors.Is(err, governance.ErrPolicy) {
				t.Errorf("error does not match ErrPolicy: %v", err)
			}
			want := "policy.yaml:" + tt.pos + ": "
			found := false
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.HasPrefix(line, want) && strings.Contains(line, tt.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("want an error %q…%q, got:\n%v", want, tt.msg, err)
			}
			var le *governance.LoadError
			if !errors.As(err, &le) || le.File != "policy.yaml" || le.Line < 1 || le.Col < 1 {
				t.Errorf("error is not a positioned *LoadError: %#v", le)
			}
		})
	}
}

func TestLoadErrorsAreCollected(t *testing.T) {
	src := loadPrefix + "  - id: a\n    kind: existence\n    level: fatal\n    tokens: [x]\n  - id: b\n    kind: nope\n"
	_, err := governance.Parse("p.yaml", []byte(src))
	if err == nil {
		t.Fatal("no error")
	}
	if n := len(strings.Split(err.Error(), "\n")); n != 2 {
		t.Errorf("want both errors reported, got %d:\n%v", n, err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(path, []byte("rules: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := governance.Load(path)
	if err != nil || p.File() != path {
		t.Fatalf("Load: %v %v", p, err)
	}
	_, err = governance.Load(filepath.Join(dir, "missing.yaml"))
	var le *governance.LoadError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "missing.yaml:1:1: cannot read policy") {
		t.Errorf("missing file: %v", err)
	}
	big := make([]byte, governance.MaxPolicyBytes+1)
	if _, err := governance.Parse("big.yaml", big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized policy: %v", err)
	}
}

// test_sends names the seed list and internal domains a test send may go
// to; anything else is refused, nothing is allowed without the section,
// and the section is part of the hash.
func TestTestSends(t *testing.T) {
	base, err := governance.Parse("a.yaml", []byte(loadPrefix+"  []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if base.TestSends() != nil || base.TestSends().Allows("qa@acme.com") {
		t.Fatal("a policy without test_sends allows test sends")
	}
	p, err := governance.Parse("b.yaml", []byte("test_sends:\n  seed_list: [QA@Acme.com]\n  internal_domains: [team.acme.com]\n  allow_drafts: true\n"+loadPrefix+"  []\n"))
	if err != nil {
		t.Fatal(err)
	}
	ts := p.TestSends()
	if ts == nil || !ts.AllowDrafts {
		t.Fatalf("test_sends = %+v", ts)
	}
	for addr, want := range map[string]bool{
		"qa@acme.com": true, " QA@ACME.COM ": true, "dana@team.acme.com": true,
		"dana@acme.com": false, "dana@evil-team.acme.com": false, "dana@team.acme.com.evil.io": false, "team.acme.com": false, "": false,
	} {
		if got := ts.Allows(addr); got != want {
			t.Errorf("Allows(%q) = %v, want %v", addr, got, want)
		}
	}
	if p.Hash() == base.Hash() {
		t.Error("test_sends did not change the policy hash")
	}
}
