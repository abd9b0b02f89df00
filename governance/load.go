package governance

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// MaxPolicyBytes bounds a policy file; real policies are a few kilobytes.
const MaxPolicyBytes = 4 << 20

// maxLoadErrors stops error collection on garbage input.
const maxLoadErrors = 50

// LoadError is one problem in a policy file, at a 1-based position.
type LoadError struct {
	File string
	Line int
	Col  int
	Msg  string
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// ErrPolicy is matched by every load error (errors.Is), for callers that
// only need to know the policy is broken.
var ErrPolicy = errors.New("invalid policy")

func (e *LoadError) Is(target error) bool { return target == ErrPolicy }

// Load reads and parses a policy file.
func Load(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &LoadError{File: path, Line: 1, Col: 1, Msg: "cannot read policy: " + err.Error()}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPolicyBytes+1))
	if err != nil {
		return nil, &LoadError{File: path, Line: 1, Col: 1, Msg: "cannot read policy: " + err.Error()}
	}
	return Parse(path, data)
}

// Parse validates and compiles a policy. All problems found are returned
// together: a single *LoadError, or several joined with errors.Join (each
// reachable with errors.As).
func Parse(filename string, data []byte) (p *Policy, err error) {
	// The YAML library is third-party code fed user input; a panic in it
	// must surface as a load error, not take the server down.
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, &LoadError{File: filename, Line: 1, Col: 1, Msg: fmt.Sprintf("cannot parse policy: %v", r)}
		}
	}()
	if len(data) > MaxPolicyBytes {
		return nil, &LoadError{File: filename, Line: 1, Col: 1, Msg: fmt.Sprintf("policy is larger than %d bytes", MaxPolicyBytes)}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &LoadError{File: filename, Line: 1, Col: 1, Msg: "policy is empty"}
		}
		return nil, yamlError(filename, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &LoadError{File: filename, Line: extra.Line, Col: extra.Column, Msg: "only one YAML document is allowed in a policy (remove the second '---')"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(filename, err)
	}

	l := &loader{file: filename}
	p = l.policy(&doc)
	if len(l.errs) == 1 {
		return nil, l.errs[0]
	}
	if len(l.errs) > 1 {
		return nil, errors.Join(l.errs...)
	}
	return p, nil
}

var yamlLineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })

func yamlError(file string, err error) error {
	msg := err.Error()
	if m := yamlLineRE().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &LoadError{File: file, Line: line, Col: 1, Msg: "YAML syntax: " + m[2]}
	}
	return &LoadError{File: file, Line: 1, Col: 1, Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}

type loader struct {
	file string
	errs []error
}

func (l *loader) errAt(n *yaml.Node, format string, args ...any) {
	if len(l.errs) >= maxLoadErrors {
		return
	}
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	l.errs = append(l.errs, &LoadError{File: l.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

type kv struct{ k, v *yaml.Node }

// fields reads a mapping, rejecting duplicate keys and keys not in allowed
// (with a "did you mean" hint). It never stops early: every bad key is
// reported.
func (l *loader) fields(n *yaml.Node, what string, allowed []string) map[string]kv {
	out := map[string]kv{}
	if !l.isMap(n, what) {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			l.errAt(k, "%s: keys must be plain names", what)
			continue
		}
		if prev, dup := out[k.Value]; dup {
			l.errAt(k, "%s: key %q is repeated (first at line %d)", what, k.Value, prev.k.Line)
			continue
		}
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			hint := ""
			if c := closest(k.Value, allowed); c != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", c)
			}
			l.errAt(k, "unknown key %q in %s%s; valid keys: %s", k.Value, what, hint, strings.Join(allowed, ", "))
			continue
		}
		out[k.Value] = kv{k, v}
	}
	return out
}

func (l *loader) isMap(n *yaml.Node, what string) bool {
	if n.Kind != yaml.MappingNode {
		l.errAt(n, "%s must be a mapping (key: value), got %s", what, describe(n))
		return false
	}
	return true
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!str":
			return fmt.Sprintf("the string %q", truncateRunes(n.Value, 40))
		case "!!int":
			return "the number " + n.Value
		case "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		return "the value " + truncateRunes(n.Value, 40)
	}
	return "something else"
}

func (l *loader) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		l.errAt(n, "%s must be a string, got %s (quote it if it is meant as text)", what, describe(n))
		return "", false
	}
	return n.Value, true
}

func (l *loader) nonEmptyStr(n *yaml.Node, what string) (string, bool) {
	s, ok := l.str(n, what)
	if ok && strings.TrimSpace(s) == "" {
		l.errAt(n, "%s must not be empty", what)
		return "", false
	}
	return s, ok
}

func (l *loader) boolean(n *yaml.Node, what string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		l.errAt(n, "%s must be true or false, got %s", what, describe(n))
		return false, false
	}
	return n.Value == "true" || n.Value == "True" || n.Value == "TRUE", true
}

func (l *loader) integer(n *yaml.Node, what string, lo, hi int) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		l.errAt(n, "%s must be a whole number, got %s", what, describe(n))
		return 0, false
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil || v < int64(lo) || v > int64(hi) {
		l.errAt(n, "%s must be between %d and %d, got %s", what, lo, hi, n.Value)
		return 0, false
	}
	return int(v), true
}

func (l *loader) number(n *yaml.Node, what string, lo, hi float64) (float64, bool) {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
		l.errAt(n, "%s must be a number, got %s", what, describe(n))
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || v < lo || v > hi {
		l.errAt(n, "%s must be between %g and %g, got %s", what, lo, hi, n.Value)
		return 0, false
	}
	return v, true
}

// strList reads a list of non-empty strings. With single, a lone string is
// accepted as a one-element list.
func (l *loader) strList(n *yaml.Node, what string, single bool) ([]string, []*yaml.Node) {
	if single && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		if s, ok := l.nonEmptyStr(n, what); ok {
			return []string{s}, []*yaml.Node{n}
		}
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		l.errAt(n, "%s must be a list, got %s", what, describe(n))
		return nil, nil
	}
	var out []string
	var nodes []*yaml.Node
	for _, item := range n.Content {
		if s, ok := l.nonEmptyStr(item, what+" item"); ok {
			out = append(out, s)
			nodes = append(nodes, item)
		}
	}
	if len(n.Content) == 0 {
		l.errAt(n, "%s must not be an empty list (leave the key out instead)", what)
	}
	return out, nodes
}

// pairs reads an ordered string → string mapping.
func (l *loader) pairs(n *yaml.Node, what string) ([]pair, []*yaml.Node) {
	if !l.isMap(n, what) {
		return nil, nil
	}
	var out []pair
	var nodes []*yaml.Node
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		from, ok1 := l.nonEmptyStr(k, what+" key")
		to, ok2 := l.nonEmptyStr(v, fmt.Sprintf("%s value for %q", what, k.Value))
		if !ok1 || !ok2 {
			continue
		}
		if line, dup := seen[from]; dup {
			l.errAt(k, "%s: %q is repeated (first at line %d)", what, from, line)
			continue
		}
		seen[from] = k.Line
		out = append(out, pair{from, to})
		nodes = append(nodes, k)
	}
	if len(n.Content) == 0 {
		l.errAt(n, "%s must not be empty", what)
	}
	return out, nodes
}

func (l *loader) enum(n *yaml.Node, what string, valid []string) (string, bool) {
	s, ok := l.str(n, what)
	if !ok {
		return "", false
	}
	if !slices.Contains(valid, s) {
		hint := ""
		if c := closest(s, valid); c != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", c)
		}
		if strings.Contains(what, ": ") { // a rule's option, not a vocabulary word
			l.errAt(n, "%s must be one of %s; got %q%s", what, strings.Join(valid, ", "), s, hint)
		} else {
			l.errAt(n, "unknown %s %q%s; valid: %s", what, s, hint, strings.Join(valid, ", "))
		}
		return "", false
	}
	return s, true
}

// noAliases rejects anchors, aliases and merge keys before anything else
// reads the tree: they make positions ambiguous and can expand
// exponentially. The walk is iterative so deep nesting costs no stack.
func (l *loader) noAliases(root *yaml.Node) bool {
	ok := true
	stack := []*yaml.Node{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch {
		case n.Kind == yaml.AliasNode:
			l.errAt(n, "aliases (*%s) are not supported in policies: write the value out", n.Value)
			ok = false
			continue
		case n.Anchor != "":
			l.errAt(n, "anchors (&%s) are not supported in policies: write the value out", n.Anchor)
			ok = false
		case n.Kind == yaml.ScalarNode && n.Tag == "!!merge":
			l.errAt(n, "merge keys (<<) are not supported in policies")
			ok = false
		}
		stack = append(stack, n.Content...)
	}
	return ok
}

var topKeys = []string{"version", "name", "description", "defaults", "brand", "roles", "approval", "test_sends", "always_exclude", "rules"}

func (l *loader) policy(doc *yaml.Node) *Policy {
	p := &Policy{file: l.file, version: 1, roles: map[string][]string{}, channels: defaultApprovalChannels()}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		l.errAt(doc, "policy is empty")
		return nil
	}
	if !l.noAliases(doc) {
		return nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		l.errAt(root, "policy is empty")
		return nil
	}
	top := l.fields(root, "the policy", topKeys)
	if f, ok := top["version"]; ok {
		if v, ok := l.integer(f.v, "version", 1, 1000); ok && v != 1 {
			l.errAt(f.v, "unsupported policy version %d: this lastmile reads version 1", v)
		}
	}
	if f, ok := top["name"]; ok {
		p.name, _ = l.str(f.v, "name")
	}
	if f, ok := top["description"]; ok {
		p.description, _ = l.str(f.v, "description")
	}
	if f, ok := top["defaults"]; ok {
		p.defaults = l.defaults(f.v)
	}
	if f, ok := top["brand"]; ok {
		p.brand = l.brand(f.v)
	}
	if f, ok := top["roles"]; ok {
		p.roles = l.roles(f.v)
	}
	if f, ok := top["approval"]; ok {
		p.channels = l.approval(f.v)
	}
	if f, ok := top["test_sends"]; ok {
		p.testSends = l.testSends(f.v)
	}
	if f, ok := top["always_exclude"]; ok {
		segs, nodes := l.strList(f.v, "always_exclude", false)
		for i, seg := range segs {
			if slices.Contains(p.alwaysExclude, seg) {
				l.errAt(nodes[i], "always_exclude: %q is listed twice", seg)
				continue
			}
			p.alwaysExclude = append(p.alwaysExclude, seg)
		}
	}
	if f, ok := top["rules"]; ok {
		if f.v.Kind != yaml.SequenceNode {
			l.errAt(f.v, "rules must be a list of rules, got %s", describe(f.v))
		} else {
			ids := map[string]int{}
			for _, rn := range f.v.Content {
				if r := l.rule(rn, p, ids); r != nil {
					p.rules = append(p.rules, r)
				}
			}
		}
	}
	if len(l.errs) > 0 {
		return nil
	}
	for i, r := range p.rules {
		r.idx = i
	}
	p.words = buildWordIndex(p.rules)
	p.hash = p.computeHash()
	return p
}

var defaultsKeys = []string{"industry", "markets", "from_name", "from_email"}

// defaults reads the campaign metadata campaigns inherit when they state
// none. Markets are countries only: a group such as EU would be a guess
// about where the campaign goes.
func (l *loader) defaults(n *yaml.Node) *Defaults {
	d := &Defaults{}
	f := l.fields(n, "defaults", defaultsKeys)
	if v, ok := f["industry"]; ok {
		if s, ok := l.nonEmptyStr(v.v, "defaults.industry"); ok {
			if !industryRE().MatchString(s) {
				l.errAt(v.v, "defaults.industry %q must be lower case letters, digits, '-' or '_' (e.g. retail)", s)
			}
			d.Industry = s
		}
	}
	if v, ok := f["markets"]; ok {
		names, nodes := l.strList(v.v, "defaults.markets", false)
		for i, m := range names {
			switch {
			case isCountry(m):
				if slices.Contains(d.Markets, m) {
					l.errAt(nodes[i], "defaults.markets: %s is listed twice", m)
					continue
				}
				d.Markets = append(d.Markets, m)
			case isCountry(strings.ToUpper(m)):
				l.errAt(nodes[i], "defaults.markets: market %q must be upper case: %q", m, strings.ToUpper(m))
			default:
				l.errAt(nodes[i], "defaults.markets: %q is not an ISO 3166-1 alpha-2 country code (US, DE, GB, CA); groups such as EU are for rules, not campaigns", m)
			}
		}
	}
	if v, ok := f["from_name"]; ok {
		if s, ok := l.nonEmptyStr(v.v, "defaults.from_name"); ok {
			if strings.ContainsAny(s, "\r\n\"<>") {
				l.errAt(v.v, "defaults.from_name %q must be plain words (no line breaks, quotes or angle brackets)", s)
			}
			d.FromName = s
		}
	}
	if v, ok := f["from_email"]; ok {
		if s, ok := l.nonEmptyStr(v.v, "defaults.from_email"); ok {
			if !plainEmail(s) {
				l.errAt(v.v, "defaults.from_email %q is not an email address", s)
			}
			d.FromEmail = s
		}
	}
	return d
}

var testSendsKeys = []string{"seed_list", "internal_domains", "allow_drafts"}

// testSends reads who may receive test sends (send_test) and whether a
// draft with errors may be sent as a test.
func (l *loader) testSends(n *yaml.Node) *TestSends {
	t := &TestSends{}
	f := l.fields(n, "test_sends", testSendsKeys)
	if v, ok := f["seed_list"]; ok {
		addrs, nodes := l.strList(v.v, "test_sends.seed_list", false)
		for i, a := range addrs {
			a = strings.ToLower(strings.TrimSpace(a))
			switch {
			case !plainEmail(a):
				l.errAt(nodes[i], "test_sends.seed_list: %q is not an email address", addrs[i])
			case slices.Contains(t.SeedList, a):
				l.errAt(nodes[i], "test_sends.seed_list: %s is listed twice", a)
			default:
				t.SeedList = append(t.SeedList, a)
			}
		}
	}
	if v, ok := f["internal_domains"]; ok {
		domains, nodes := l.strList(v.v, "test_sends.internal_domains", false)
		for i, d := range domains {
			d = strings.TrimSpace(d)
			switch {
			case d != strings.ToLower(d) || strings.HasPrefix(d, "*") || !domainRE().MatchString(d):
				l.errAt(nodes[i], "test_sends.internal_domains: %q is not a lower-case domain such as acme.com (no @, no scheme)", domains[i])
			case slices.Contains(t.InternalDomains, d):
				l.errAt(nodes[i], "test_sends.internal_domains: %s is listed twice", d)
			default:
				t.InternalDomains = append(t.InternalDomains, d)
			}
		}
	}
	if v, ok := f["allow_drafts"]; ok {
		t.AllowDrafts, _ = l.boolean(v.v, "test_sends.allow_drafts")
	}
	return t
}

// plainEmail is a light check for an address like news@example.com.
func plainEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n<>\",;()") && strings.Contains(s[at+1:], ".")
}

var roleNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9_-]*$`) })

func (l *loader) roles(n *yaml.Node) map[string][]string {
	out := map[string][]string{}
	if !l.isMap(n, "roles") {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name, ok := l.nonEmptyStr(k, "role name")
		if !ok {
			continue
		}
		if !roleNameRE().MatchString(name) {
			l.errAt(k, "role name %q must be lower case letters, digits, '-' or '_'", name)
			continue
		}
		if _, dup := out[name]; dup {
			l.errAt(k, "role %q is defined twice", name)
			continue
		}
		members, _ := l.strList(v, "members of role "+name, false)
		out[name] = members
	}
	return out
}

var (
	colorNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9_-]*$`) })
	brandKeys   = []string{"colors", "fonts", "logo", "footer"}
	colorKeys   = []string{"named", "primary", "text", "background", "link", "button"}
	fontKeys    = []string{"body", "heading"}
	logoKeys    = []string{"url", "alt", "width", "link"}
	footerKeys  = []string{"company", "postal_address", "contact_email", "contact_url"}
)

func (l *loader) brand(n *yaml.Node) Brand {
	var b Brand
	f := l.fields(n, "brand", brandKeys)
	if c, ok := f["colors"]; ok {
		cf := l.fields(c.v, "brand.colors", colorKeys)
		if nm, ok := cf["named"]; ok && l.isMap(nm.v, "brand.colors.named") {
			b.Colors.Named = map[string]string{}
			for i := 0; i+1 < len(nm.v.Content); i += 2 {
				k, v := nm.v.Content[i], nm.v.Content[i+1]
				name, ok := l.nonEmptyStr(k, "colour name")
				if !ok {
					continue
				}
				if !colorNameRE().MatchString(name) {
					l.errAt(k, "colour name %q must be lower case letters, digits, '-' or '_'", name)
					continue
				}
				if _, dup := b.Colors.Named[name]; dup {
					l.errAt(k, "colour %q is defined twice", name)
					continue
				}
				if hex := l.color(v, "brand.colors.named."+name, nil); hex != "" {
					b.Colors.Named[name] = hex
				}
			}
		}
		for _, k := range colorKeys[1:] {
			if fv, ok := cf[k]; ok {
				hex := l.color(fv.v, "brand.colors."+k, b.Colors.Named)
				switch k {
				case "primary":
					b.Colors.Primary = hex
				case "text":
					b.Colors.Text = hex
				case "background":
					b.Colors.Background = hex
				case "link":
					b.Colors.Link = hex
				case "button":
					b.Colors.Button = hex
				}
			}
		}
	}
	if c, ok := f["fonts"]; ok {
		ff := l.fields(c.v, "brand.fonts", fontKeys)
		if v, ok := ff["body"]; ok {
			b.Fonts.Body, _ = l.nonEmptyStr(v.v, "brand.fonts.body")
		}
		if v, ok := ff["heading"]; ok {
			b.Fonts.Heading, _ = l.nonEmptyStr(v.v, "brand.fonts.heading")
		}
	}
	if c, ok := f["logo"]; ok {
		lf := l.fields(c.v, "brand.logo", logoKeys)
		if v, ok := lf["url"]; ok {
			b.Logo.URL = l.httpsURL(v.v, "brand.logo.url")
		}
		if v, ok := lf["alt"]; ok {
			b.Logo.Alt, _ = l.nonEmptyStr(v.v, "brand.logo.alt")
		}
		if v, ok := lf["width"]; ok {
			b.Logo.Width, _ = l.integer(v.v, "brand.logo.width", 1, 2000)
		}
		if v, ok := lf["link"]; ok {
			b.Logo.Link = l.httpsURL(v.v, "brand.logo.link")
		}
	}
	if c, ok := f["footer"]; ok {
		ff := l.fields(c.v, "brand.footer", footerKeys)
		if v, ok := ff["company"]; ok {
			b.Footer.Company, _ = l.nonEmptyStr(v.v, "brand.footer.company")
		}
		if v, ok := ff["postal_address"]; ok {
			b.Footer.PostalAddress, _ = l.nonEmptyStr(v.v, "brand.footer.postal_address")
		}
		if v, ok := ff["contact_email"]; ok {
			if s, ok := l.nonEmptyStr(v.v, "brand.footer.contact_email"); ok {
				if !strings.Contains(s, "@") || strings.ContainsAny(s, " <>") {
					l.errAt(v.v, "brand.footer.contact_email %q is not an email address", s)
				}
				b.Footer.ContactEmail = s
			}
		}
		if v, ok := ff["contact_url"]; ok {
			b.Footer.ContactURL = l.httpsURL(v.v, "brand.footer.contact_url")
		}
	}
	return b
}

// color reads a hex colour, or the name of a colour in named.
func (l *loader) color(n *yaml.Node, what string, named map[string]string) string {
	s, ok := l.nonEmptyStr(n, what)
	if !ok {
		return ""
	}
	if hex := normalizeHex(s); hex != "" && (len(s) == 4 || len(s) == 7) {
		return hex
	}
	if hex, ok := named[s]; ok {
		return hex
	}
	if named != nil {
		l.errAt(n, "%s: %q is neither a #rgb / #rrggbb colour nor a name from brand.colors.named", what, s)
	} else {
		l.errAt(n, "%s: %q is not a #rgb / #rrggbb colour", what, s)
	}
	return ""
}

func (l *loader) httpsURL(n *yaml.Node, what string) string {
	s, ok := l.nonEmptyStr(n, what)
	if !ok {
		return ""
	}
	if !strings.HasPrefix(s, "https://") || len(s) <= len("https://") {
		l.errAt(n, "%s must be an https:// URL, got %q", what, s)
	}
	return s
}
