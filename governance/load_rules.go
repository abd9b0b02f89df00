package governance

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// ruleKind is one kind of rule.
type ruleKind struct {
	name string
	// keys are the keys the kind accepts besides commonKeys. scope and
	// exceptions are listed per kind because they mean nothing to some
	// kinds, and a key that means nothing must not be accepted silently.
	keys []string
	// scope applies when a rule gives none ("": the kind decides, or reads
	// no text scope).
	scope string
	// channels apply when a rule names none: structural email checks do
	// not belong on segments, and a consent rule is about segments.
	channels []string
	// load reads and checks the kind's own keys.
	load func(*loader, *ruleLoad)
}

// ruleKinds is the one list of rule kinds, in the order error messages
// name them: the loader dispatches on it, and a test holds docs/policy.md
// to it.
var ruleKinds = []ruleKind{
	{name: "existence", keys: []string{"scope", "exceptions", "tokens", "patterns", "ignorecase"}, scope: "text", load: (*loader).existenceRule},
	{name: "substitution", keys: []string{"scope", "exceptions", "swap", "ignorecase"}, scope: "text", load: (*loader).substitutionRule},
	{name: "occurrence", keys: []string{"scope", "exceptions", "tokens", "patterns", "min", "max", "ignorecase"}, scope: "text", load: (*loader).occurrenceRule},
	{name: "consistency", keys: []string{"scope", "exceptions", "either", "ignorecase"}, scope: "text", load: (*loader).consistencyRule},
	{name: "conditional", keys: []string{"scope", "exceptions", "first", "second", "ignorecase"}, scope: "text", load: (*loader).conditionalRule},
	{name: "capitalization", keys: []string{"scope", "exceptions", "match", "products"}, load: (*loader).capitalizationRule},
	{name: "readability", keys: []string{"scope", "metric", "max", "min_words"}, scope: "body", load: (*loader).readabilityRule},
	{name: "required_text", keys: []string{"scope", "text", "patterns"}, scope: "body", load: (*loader).requiredTextRule},
	{name: "footer", keys: []string{"require", "unsubscribe_words"}, channels: []string{ChannelEmail}, load: (*loader).footerRule},
	{name: "link", keys: []string{"exceptions", "https", "domains", "utm", "placeholders"}, channels: []string{ChannelEmail, ChannelPage}, load: (*loader).linkRule},
	{name: "image", keys: []string{"exceptions", "alt", "https", "domains", "spacer_max_px"}, channels: []string{ChannelEmail, ChannelPage}, load: (*loader).imageRule},
	{name: "style", keys: []string{"colors", "fonts", "allow_colors", "allow_fonts"}, channels: []string{ChannelEmail, ChannelPage}, load: (*loader).styleRule},
	{name: "size", keys: []string{"warn_kb", "max_kb"}, channels: []string{ChannelEmail}, load: (*loader).sizeRule},
	{name: "subject", keys: inboxLineKeys, channels: []string{ChannelEmail}, load: (*loader).subjectRule},
	{name: "preview_text", keys: inboxLineKeys, channels: []string{ChannelEmail}, load: (*loader).previewTextRule},
	{name: "tokens", keys: []string{"exceptions", "syntax", "roots"}, channels: []string{ChannelEmail, ChannelPage}, load: (*loader).tokensRule},
	{name: "consent", keys: []string{"property"}, channels: []string{ChannelSegment}, load: (*loader).consentRule},
	{name: "approvals", keys: []string{"approvers", "roles", "min_daily_budget", "min_total_budget"}, load: (*loader).approvalsRule},
}

// validKinds are the names of ruleKinds, for messages and enum checks.
var validKinds = func() []string {
	names := make([]string, len(ruleKinds))
	for i, k := range ruleKinds {
		names[i] = k.name
	}
	return names
}()

func ruleKindNamed(name string) *ruleKind {
	for i := range ruleKinds {
		if ruleKinds[i].name == name {
			return &ruleKinds[i]
		}
	}
	return nil
}

var commonKeys = []string{"id", "kind", "level", "message", "description", "link", "fix", "markets", "industries", "channels", "min_recipients"}

var inboxLineKeys = []string{"exceptions", "required", "min_length", "max_length", "all_caps", "spam_words"}

var (
	ruleIDRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`) })
	industryRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9_-]*$`) })
	domainRE   = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
	})
	utmParamRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9_]*$`) })
	rootRE     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z_][a-z0-9_]*$`) })

	footerParts      = []string{"postal_address", "unsubscribe", "sender_identity", "contact", "list_unsubscribe", "one_click_unsubscribe"}
	capStyles        = []string{"$title", "$sentence", "$lower", "$upper"}
	altModes         = []string{"required", "present", "nonempty"}
	tokenSyntaxModes = []string{"platform", "any"}
	utmKeys          = []string{"required", "values", "domains"}
)

// ruleLoad is one rule being loaded: what every kind's loader reads.
type ruleLoad struct {
	n          *yaml.Node    // the rule's mapping, where "needs ..." errors point
	f          map[string]kv // its keys
	r          *rule
	c          *ruleConfig // &r.cfg
	p          *Policy
	where      string // "rule <id>", for messages
	before     int    // len(l.errs) before the rule was read
	ignoreCase bool
}

// has reports whether the rule gives key.
func (rl *ruleLoad) has(key string) bool { return rl.f[key].v != nil }

// rule decodes, validates and compiles one rule. It returns nil when the
// rule has errors (already reported).
func (l *loader) rule(n *yaml.Node, p *Policy, ids map[string]int) *rule {
	before := len(l.errs)
	if !l.isMap(n, "a rule") {
		return nil
	}
	r := &rule{}
	where, kind := l.ruleIdentity(n, &r.cfg, ids)
	if kind == nil {
		return nil
	}
	rl := &ruleLoad{n: n, r: r, c: &r.cfg, p: p, where: where, before: before, ignoreCase: true}
	rl.f = l.fields(n, where, append(slices.Clone(commonKeys), kind.keys...))
	l.ruleText(rl)
	l.selectors(rl.f, r, where)
	l.ruleScopes(rl, kind)
	l.ruleMatching(rl)
	kind.load(l, rl)
	if rl.c.Channels == nil {
		rl.c.Channels = slices.Clone(kind.channels)
		r.sel.channels = rl.c.Channels
	}
	if len(l.errs) > before {
		return nil
	}
	return r
}

// ruleIdentity reads id and kind, which come first: which keys are valid
// depends on the kind. It returns how messages name the rule, and nil when
// the kind is missing or unknown.
func (l *loader) ruleIdentity(n *yaml.Node, c *ruleConfig, ids map[string]int) (string, *ruleKind) {
	// A first look for id and kind only; errors in other keys are
	// reported by the full pass.
	all := map[string]kv{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && (k.Value == "id" || k.Value == "kind") {
			if _, seen := all[k.Value]; !seen {
				all[k.Value] = kv{k, n.Content[i+1]}
			}
		}
	}
	where := fmt.Sprintf("rule at line %d", n.Line)
	if f, ok := all["id"]; ok {
		if id, ok := l.nonEmptyStr(f.v, "id"); ok {
			if !ruleIDRE().MatchString(id) {
				l.errAt(f.v, "rule id %q must be letters, digits, '.', '-' or '_' (at most 100)", id)
			} else if line, dup := ids[id]; dup {
				l.errAt(f.v, "rule id %q is used twice (first at line %d)", id, line)
			} else {
				ids[id] = f.v.Line
			}
			c.ID = id
			where = "rule " + id
		}
	} else {
		l.errAt(n, "%s has no id", where)
	}
	kindNode, ok := all["kind"]
	if !ok {
		l.errAt(n, "%s has no kind; valid kinds: %s", where, strings.Join(validKinds, ", "))
		return where, nil
	}
	if c.Kind, ok = l.enum(kindNode.v, "kind", validKinds); !ok {
		return where, nil
	}
	return where, ruleKindNamed(c.Kind)
}

// ruleText reads level and the texts shown with findings.
func (l *loader) ruleText(rl *ruleLoad) {
	c, f, where := rl.c, rl.f, rl.where
	if v, ok := f["level"]; ok {
		c.Level, _ = l.enum(v.v, "level", validLevels)
	} else if c.Kind != "approvals" {
		l.errAt(rl.n, "%s has no level (error, warning or suggestion)", where)
	}
	if v, ok := f["message"]; ok {
		if c.Message, ok = l.nonEmptyStr(v.v, where+": message"); ok {
			maxS := 1
			if c.Kind == "substitution" {
				maxS = 2
			}
			if k := strings.Count(c.Message, "%s"); k > maxS {
				l.errAt(v.v, "%s: message has %d %%s placeholders; at most %d", where, k, maxS)
			}
		}
	}
	if v, ok := f["description"]; ok {
		c.Description, _ = l.str(v.v, where+": description")
	}
	if v, ok := f["link"]; ok {
		if s, ok := l.nonEmptyStr(v.v, where+": link"); ok {
			if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
				l.errAt(v.v, "%s: link must be an http(s) URL to the policy page, got %q", where, s)
			}
			c.Link = s
		}
	}
	if v, ok := f["fix"]; ok {
		c.Fix, _ = l.nonEmptyStr(v.v, where+": fix")
	}
}

// ruleScopes reads scope, or applies the kind's default.
func (l *loader) ruleScopes(rl *ruleLoad, kind *ruleKind) {
	c, r, where := rl.c, rl.r, rl.where
	v, ok := rl.f["scope"]
	if !ok {
		if kind.scope != "" {
			c.Scope = []string{kind.scope}
			r.scopes, _ = scopeNamed(kind.scope)
		}
		return
	}
	names, nodes := l.strList(v.v, where+": scope", true)
	for i, s := range names {
		sc, ok := scopeNamed(s)
		if !ok {
			hint := ""
			if h := closest(s, scopeNameList()); h != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", h)
			}
			l.errAt(nodes[i], "unknown scope %q%s; valid: %s", s, hint, strings.Join(scopeNameList(), ", "))
			continue
		}
		if c.Kind == "readability" && sc != scBody && sc != scText {
			l.errAt(nodes[i], "%s: readability reads body text; scope must be body", where)
			continue
		}
		if sc == scRaw && !slices.Contains([]string{"existence", "substitution", "occurrence", "consistency"}, c.Kind) {
			l.errAt(nodes[i], "%s: scope raw (markup) is only for existence, substitution, occurrence and consistency rules", where)
			continue
		}
		r.scopes |= sc
		c.Scope = append(c.Scope, s)
	}
}

// ruleMatching reads ignorecase and exceptions, which several kinds share.
func (l *loader) ruleMatching(rl *ruleLoad) {
	c, r := rl.c, rl.r
	if b := l.optBool(rl, "ignorecase"); b != nil {
		rl.ignoreCase = *b
		c.IgnoreCase = b
	}
	if v, ok := rl.f["exceptions"]; ok {
		c.Exceptions, _ = l.strList(v.v, rl.where+": exceptions", false)
		for _, e := range c.Exceptions {
			r.excFold = append(r.excFold, []byte(foldString(normalizeText(e))))
		}
	}
}

// optBool reads an optional boolean key; nil when absent or invalid.
func (l *loader) optBool(rl *ruleLoad, key string) *bool {
	v, ok := rl.f[key]
	if !ok {
		return nil
	}
	b, ok := l.boolean(v.v, rl.where+": "+key)
	if !ok {
		return nil
	}
	return &b
}

// optInt reads an optional whole number in [lo, hi]; ok is false when it
// is absent or invalid.
func (l *loader) optInt(rl *ruleLoad, key string, lo, hi int) (int, bool) {
	v, ok := rl.f[key]
	if !ok {
		return 0, false
	}
	return l.integer(v.v, rl.where+": "+key, lo, hi)
}

// optStrList reads an optional list of strings (or, with single, one
// string); nil when absent.
func (l *loader) optStrList(rl *ruleLoad, key string, single bool) ([]string, []*yaml.Node) {
	v, ok := rl.f[key]
	if !ok {
		return nil, nil
	}
	return l.strList(v.v, rl.where+": "+key, single)
}

// tokensOrPatterns reads the word list and patterns of existence and
// occurrence rules, one of which is required.
func (l *loader) tokensOrPatterns(rl *ruleLoad) {
	c := rl.c
	c.Tokens, _ = l.optStrList(rl, "tokens", false)
	if v, ok := rl.f["patterns"]; ok {
		rl.r.patterns = l.patternList(v.v, rl.where+": patterns", rl.ignoreCase, &c.Patterns)
	}
	if !rl.has("tokens") && !rl.has("patterns") {
		l.errAt(rl.n, "%s: %s needs tokens (words or phrases) or patterns (regular expressions)", rl.where, c.Kind)
	}
}

func (l *loader) existenceRule(rl *ruleLoad) { l.tokensOrPatterns(rl) }

func (l *loader) occurrenceRule(rl *ruleLoad) {
	c, where := rl.c, rl.where
	l.tokensOrPatterns(rl)
	if m, ok := l.optInt(rl, "min", 0, 1<<20); ok {
		c.Min = &m
	}
	if m, ok := l.optInt(rl, "max", 0, 1<<20); ok {
		c.Max = &m
	}
	switch {
	case !rl.has("min") && !rl.has("max"):
		l.errAt(rl.n, "%s: occurrence needs min, max or both", where)
	case c.Min != nil && c.Max != nil && *c.Min > *c.Max:
		l.errAt(rl.f["min"].v, "%s: min (%d) is greater than max (%d)", where, *c.Min, *c.Max)
	}
}

func (l *loader) substitutionRule(rl *ruleLoad) {
	if v, ok := rl.f["swap"]; ok {
		rl.c.Swap, _ = l.pairs(v.v, rl.where+": swap")
	} else {
		l.errAt(rl.n, "%s: substitution needs swap (a mapping from the word to avoid to its replacement)", rl.where)
	}
}

func (l *loader) consistencyRule(rl *ruleLoad) {
	if v, ok := rl.f["either"]; ok {
		rl.c.Either, _ = l.pairs(v.v, rl.where+": either")
	} else {
		l.errAt(rl.n, "%s: consistency needs either (a mapping of pairs of spellings)", rl.where)
	}
}

func (l *loader) conditionalRule(rl *ruleLoad) {
	c, r, where := rl.c, rl.r, rl.where
	for _, k := range []string{"first", "second"} {
		v, ok := rl.f[k]
		if !ok {
			l.errAt(rl.n, "%s: conditional needs %s", where, k)
			continue
		}
		s, ok := l.nonEmptyStr(v.v, where+": "+k)
		if !ok {
			continue
		}
		re := l.regex(v.v, where+": "+k, s, rl.ignoreCase)
		if k == "first" {
			c.First, r.first = s, re
			if re != nil {
				r.firstAt = newWordStart(re)
			}
		} else {
			c.Second, r.second = s, re
			if re != nil {
				r.secondAt = newWordStart(re)
			}
			r.secondCap = re != nil && re.NumSubexp() > 0
		}
	}
}

func (l *loader) capitalizationRule(rl *ruleLoad) {
	c, r, where := rl.c, rl.r, rl.where
	if v, ok := rl.f["match"]; ok {
		if s, ok := l.str(v.v, where+": match"); ok {
			if !strings.HasPrefix(s, "$") {
				s = "$" + s
			}
			if !slices.Contains(capStyles, s) {
				l.errAt(v.v, "%s: match must be one of %s", where, strings.Join(capStyles, ", "))
			}
			c.Match = s
		}
	}
	if rl.has("products") {
		c.Products, _ = l.optStrList(rl, "products", false)
		r.products = map[string]string{}
		for _, p := range c.Products {
			r.products[foldString(normalizeText(p))] = normalizeText(p)
		}
	}
	if !rl.has("match") && !rl.has("products") {
		l.errAt(rl.n, "%s: capitalization needs match ($title, $sentence, $lower, $upper) or products", where)
	}
	if !rl.has("scope") {
		// Heading case is about headings; product names are about all text.
		if c.Match != "" {
			c.Scope, r.scopes = []string{"heading"}, scHeading
		} else {
			c.Scope, r.scopes = []string{"text"}, scText
		}
	}
}

func (l *loader) readabilityRule(rl *ruleLoad) {
	c, where := rl.c, rl.where
	c.Metric = "flesch_kincaid"
	if v, ok := rl.f["metric"]; ok {
		c.Metric, _ = l.enum(v.v, where+": metric", []string{"flesch_kincaid"})
	}
	if v, ok := rl.f["max"]; ok {
		if g, ok := l.number(v.v, where+": max", 0, 30); ok {
			c.MaxGrade = &g
		}
	} else {
		l.errAt(rl.n, "%s: readability needs max (the highest grade level allowed)", where)
	}
	c.MinWords = 30
	if rl.has("min_words") {
		c.MinWords, _ = l.optInt(rl, "min_words", 1, 1<<20)
	}
}

func (l *loader) requiredTextRule(rl *ruleLoad) {
	c := rl.c
	c.Text, _ = l.optStrList(rl, "text", true)
	if v, ok := rl.f["patterns"]; ok {
		rl.r.patterns = l.patternList(v.v, rl.where+": patterns", true, &c.Patterns)
	}
	if !rl.has("text") && !rl.has("patterns") {
		l.errAt(rl.n, "%s: required_text needs text (the exact wording) or patterns", rl.where)
	}
}

func (l *loader) imageRule(rl *ruleLoad) {
	c, where := rl.c, rl.where
	c.SpacerMaxPx = 3
	if v, ok := rl.f["alt"]; ok {
		c.Alt, _ = l.enum(v.v, where+": alt", altModes)
	}
	c.HTTPS = l.optBool(rl, "https")
	if v, ok := rl.f["domains"]; ok {
		c.Domains = l.domains(v.v, where+": domains")
	}
	if rl.has("spacer_max_px") {
		c.SpacerMaxPx, _ = l.optInt(rl, "spacer_max_px", 0, 100)
	}
	if c.Alt == "" && !isTrue(c.HTTPS) && c.Domains == nil && len(l.errs) == rl.before {
		l.errAt(rl.n, "%s: image checks nothing: set alt, https: true or domains", where)
	}
}

func (l *loader) sizeRule(rl *ruleLoad) {
	c, where := rl.c, rl.where
	c.WarnKB, _ = l.optInt(rl, "warn_kb", 1, 100000)
	c.MaxKB, _ = l.optInt(rl, "max_kb", 1, 100000)
	switch {
	case !rl.has("warn_kb") && !rl.has("max_kb"):
		l.errAt(rl.n, "%s: size needs warn_kb, max_kb or both (Gmail clips above 102)", where)
	case c.WarnKB > 0 && c.MaxKB > 0 && c.WarnKB >= c.MaxKB:
		l.errAt(rl.f["warn_kb"].v, "%s: warn_kb (%d) must be below max_kb (%d)", where, c.WarnKB, c.MaxKB)
	}
}

func (l *loader) subjectRule(rl *ruleLoad) { l.inboxLineRule(rl, scSubject) }

func (l *loader) previewTextRule(rl *ruleLoad) { l.inboxLineRule(rl, scPreview) }

// inboxLineRule reads a subject or preview_text rule: the two lines an
// inbox shows before the email is opened.
func (l *loader) inboxLineRule(rl *ruleLoad, sc scope) {
	c, r, where := rl.c, rl.r, rl.where
	c.Required = l.optBool(rl, "required")
	c.MinLength, _ = l.optInt(rl, "min_length", 1, 10000)
	c.MaxLength, _ = l.optInt(rl, "max_length", 1, 10000)
	c.AllCaps = l.optBool(rl, "all_caps")
	c.SpamWords, _ = l.optStrList(rl, "spam_words", false)
	if c.MinLength > 0 && c.MaxLength > 0 && c.MinLength > c.MaxLength {
		l.errAt(rl.f["min_length"].v, "%s: min_length (%d) is greater than max_length (%d)", where, c.MinLength, c.MaxLength)
	}
	if c.Required == nil && c.MinLength == 0 && c.MaxLength == 0 && c.AllCaps == nil && c.SpamWords == nil && len(l.errs) == rl.before {
		l.errAt(rl.n, "%s: %s checks nothing: set required, min_length, max_length, all_caps or spam_words", where, c.Kind)
	}
	r.capsOK = map[string]bool{}
	for _, e := range c.Exceptions {
		r.capsOK[e] = true
	}
	r.scopes = sc
}

func (l *loader) tokensRule(rl *ruleLoad) {
	c, r, where := rl.c, rl.r, rl.where
	c.Syntax = "platform"
	if v, ok := rl.f["syntax"]; ok {
		c.Syntax, _ = l.enum(v.v, where+": syntax", tokenSyntaxModes)
	}
	c.Roots = []string{"contact", "company", "owner", "subscriber", "recipient"}
	if rl.has("roots") {
		var nodes []*yaml.Node
		c.Roots, nodes = l.optStrList(rl, "roots", false)
		for i, s := range c.Roots {
			if !rootRE().MatchString(s) {
				l.errAt(nodes[i], "%s: root %q must be an identifier such as contact", where, s)
			}
		}
	}
	r.tokenRoot = map[string]bool{}
	for _, s := range c.Roots {
		r.tokenRoot[s] = true
	}
}

func (l *loader) consentRule(rl *ruleLoad) {
	c, where := rl.c, rl.where
	if v, ok := rl.f["property"]; ok {
		c.Property, _ = l.nonEmptyStr(v.v, where+": property")
	} else {
		l.errAt(rl.n, "%s: consent needs property (the contact property that records marketing consent)", where)
	}
	for _, ch := range c.Channels {
		if ch != ChannelSegment && ch != ChannelWorkflow {
			l.errAt(rl.f["channels"].v, "%s: consent applies to segment and workflow audiences, not %s", where, ch)
		}
	}
}

func (l *loader) approvalsRule(rl *ruleLoad) {
	c, where := rl.c, rl.where
	c.Approvers, _ = l.optInt(rl, "approvers", 1, 20)
	if rl.has("roles") {
		var nodes []*yaml.Node
		c.Roles, nodes = l.optStrList(rl, "roles", false)
		for i, role := range c.Roles {
			if _, ok := rl.p.roles[role]; !ok {
				l.errAt(nodes[i], "%s: role %q is not defined in the roles section (defined: %s)", where, role, strings.Join(rl.p.Roles(), ", "))
			}
		}
	}
	for _, key := range []string{"min_daily_budget", "min_total_budget"} {
		v, ok := rl.f[key]
		if !ok {
			continue
		}
		var text string
		if v.v.Kind == yaml.ScalarNode {
			text = v.v.Value
		}
		m, err := ParseMoney(text)
		if err != nil {
			l.errAt(v.v, "%s: %s: %v", where, key, err)
			continue
		}
		if key == "min_daily_budget" {
			c.MinDailyBudget = &m
		} else {
			c.MinTotalBudget = &m
		}
	}
	if c.Approvers == 0 && len(c.Roles) == 0 {
		l.errAt(rl.n, "%s: approvals needs approvers (a count), roles, or both", where)
	}
	if c.Approvers == 0 {
		c.Approvers = 1
	}
}

func (l *loader) selectors(f map[string]kv, r *rule, where string) {
	c := &r.cfg
	if v, ok := f["markets"]; ok {
		names, nodes := l.strList(v.v, where+": markets", false)
		for i, m := range names {
			switch {
			case marketGroups[m] != nil:
				r.sel.markets = append(r.sel.markets, marketGroups[m]...)
			case isCountry(m):
				r.sel.markets = append(r.sel.markets, m)
			case isCountry(strings.ToUpper(m)) || marketGroups[strings.ToUpper(m)] != nil:
				l.errAt(nodes[i], "%s: market %q must be upper case: %q", where, m, strings.ToUpper(m))
				continue
			default:
				l.errAt(nodes[i], "%s: unknown market %q: use an ISO 3166-1 alpha-2 country code (DE, US, CA, GB) or a group (EU, EEA, UK)", where, m)
				continue
			}
			c.Markets = append(c.Markets, m)
		}
		slices.Sort(r.sel.markets)
		r.sel.markets = slices.Compact(r.sel.markets)
	}
	if v, ok := f["industries"]; ok {
		names, nodes := l.strList(v.v, where+": industries", false)
		for i, s := range names {
			if !industryRE().MatchString(s) {
				l.errAt(nodes[i], "%s: industry %q must be lower case letters, digits, '-' or '_' (e.g. finserv)", where, s)
				continue
			}
			c.Industries = append(c.Industries, s)
		}
		r.sel.industries = c.Industries
	}
	if v, ok := f["channels"]; ok {
		if v.v.Kind != yaml.SequenceNode {
			l.errAt(v.v, "%s: channels must be a list, got %s", where, describe(v.v))
		} else {
			for _, item := range v.v.Content {
				if ch, ok := l.enum(item, "channel", validChannels); ok {
					c.Channels = append(c.Channels, ch)
				}
			}
			if len(v.v.Content) == 0 {
				l.errAt(v.v, "%s: channels must not be an empty list (leave the key out instead)", where)
			}
		}
		r.sel.channels = c.Channels
	}
	if v, ok := f["min_recipients"]; ok {
		c.MinRecipients, _ = l.integer(v.v, where+": min_recipients", 0, 1<<40)
		r.sel.minRecipients = c.MinRecipients
	}
}

// regex compiles one RE2 pattern. A pattern that matches the empty string
// would match everywhere (or, for required text, be satisfied by anything).
func (l *loader) regex(n *yaml.Node, what, s string, ignoreCase bool) *regexp.Regexp {
	expr := s
	if ignoreCase {
		expr = "(?i)" + s
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "error parsing regexp: ")
		l.errAt(n, "%s: bad regular expression %q: %s", what, s, msg)
		return nil
	}
	if re.MatchString("") {
		l.errAt(n, "%s: regular expression %q matches empty text, so it would match everywhere", what, s)
		return nil
	}
	return re
}

// patternList compiles a list of patterns into one alternation so a rule
// costs one regexp pass per field, however many patterns it has.
func (l *loader) patternList(n *yaml.Node, what string, ignoreCase bool, into *[]string) *regexp.Regexp {
	pats, nodes := l.strList(n, what, false)
	var parts []string
	for i, s := range pats {
		if l.regex(nodes[i], what, s, false) == nil {
			continue
		}
		parts = append(parts, "(?:"+s+")")
	}
	*into = pats
	if len(parts) == 0 || len(parts) != len(pats) {
		return nil
	}
	expr := strings.Join(parts, "|")
	if ignoreCase {
		expr = "(?i)" + expr
	}
	return regexp.MustCompile(expr) // each part compiled above
}

func (l *loader) domains(n *yaml.Node, what string) []string {
	names, nodes := l.strList(n, what, false)
	var out []string
	for i, d := range names {
		if strings.Contains(d, "/") {
			l.errAt(nodes[i], "%s: %q is a URL; give the domain only (e.g. acme.com)", what, d)
			continue
		}
		if !domainRE().MatchString(d) {
			l.errAt(nodes[i], "%s: %q is not a lower-case domain name (e.g. acme.com)", what, d)
			continue
		}
		out = append(out, strings.TrimPrefix(d, "*."))
	}
	return out
}

func (l *loader) footerRule(rl *ruleLoad) {
	c, f, n, where := rl.c, rl.f, rl.n, rl.where
	v, ok := f["require"]
	if !ok {
		l.errAt(n, "%s: footer needs require (any of %s)", where, strings.Join(footerParts, ", "))
		return
	}
	if v.v.Kind != yaml.SequenceNode {
		l.errAt(v.v, "%s: require must be a list, got %s", where, describe(v.v))
		return
	}
	// A part whose brand footer field is not set is not a load error: the
	// unbranded baseline (lastmile init with no answers) must load, and the
	// rule then reports, wherever it applies, that the value is not set and
	// that a human sets it with lastmile init. It never passes silently.
	for _, item := range v.v.Content {
		part, ok := l.enum(item, "footer part", footerParts)
		if !ok {
			continue
		}
		c.Require = append(c.Require, part)
	}
	c.UnsubscribeWords = []string{"unsubscribe", "opt out", "opt-out", "optout"}
	if v, ok := f["unsubscribe_words"]; ok {
		c.UnsubscribeWords, _ = l.strList(v.v, where+": unsubscribe_words", false)
	}
}

func (l *loader) linkRule(rl *ruleLoad) {
	c, f, n, where, before := rl.c, rl.f, rl.n, rl.where, rl.before
	c.HTTPS = l.optBool(rl, "https")
	c.Placeholders = l.optBool(rl, "placeholders")
	if v, ok := f["domains"]; ok {
		c.Domains = l.domains(v.v, where+": domains")
	}
	if v, ok := f["utm"]; ok {
		u := &utmConfig{values: map[string][]string{}}
		uf := l.fields(v.v, where+": utm", utmKeys)
		if rv, ok := uf["required"]; ok {
			var nodes []*yaml.Node
			u.Required, nodes = l.strList(rv.v, where+": utm.required", false)
			for i, s := range u.Required {
				if !utmParamRE().MatchString(s) {
					l.errAt(nodes[i], "%s: %q is not a query parameter name (e.g. utm_source)", where, s)
				}
			}
		}
		if vv, ok := uf["values"]; ok && l.isMap(vv.v, where+": utm.values") {
			for i := 0; i+1 < len(vv.v.Content); i += 2 {
				k, val := vv.v.Content[i], vv.v.Content[i+1]
				param, ok := l.nonEmptyStr(k, where+": utm.values key")
				if !ok {
					continue
				}
				if _, dup := u.values[param]; dup {
					l.errAt(k, "%s: utm.values: %q is repeated", where, param)
					continue
				}
				allowed, _ := l.strList(val, where+": utm.values."+param, false)
				u.values[param] = allowed
				u.Values = append(u.Values, utmValues{Param: param, Allowed: allowed})
			}
		}
		if dv, ok := uf["domains"]; ok {
			u.Domains = l.domains(dv.v, where+": utm.domains")
		}
		if u.Required == nil && u.Values == nil && len(l.errs) == before {
			l.errAt(v.v, "%s: utm needs required (parameter names) or values (allowed values per parameter)", where)
		}
		c.UTM = u
	}
	if !isTrue(c.HTTPS) && !isTrue(c.Placeholders) && c.Domains == nil && c.UTM == nil && len(l.errs) == before {
		l.errAt(n, "%s: link checks nothing: set https: true, placeholders: true, domains or utm", where)
	}
}

func (l *loader) styleRule(rl *ruleLoad) {
	c, r, f, n, p, where := rl.c, rl.r, rl.f, rl.n, rl.p, rl.where
	c.Colors = l.optBool(rl, "colors")
	c.Fonts = l.optBool(rl, "fonts")
	if c.Colors == nil && c.Fonts == nil {
		t := true
		c.Colors, c.Fonts = &t, &t
	}
	r.allowCol = map[uint32]bool{}
	bc := p.brand.Colors
	for _, h := range []string{bc.Primary, bc.Text, bc.Background, bc.Link, bc.Button} {
		if rgb, ok := colorRGB(h); ok {
			r.allowCol[rgb] = true
		}
	}
	for _, h := range bc.Named {
		if rgb, ok := colorRGB(h); ok {
			r.allowCol[rgb] = true
		}
	}
	if v, ok := f["allow_colors"]; ok {
		var nodes []*yaml.Node
		c.AllowColors, nodes = l.strList(v.v, where+": allow_colors", false)
		for i, s := range c.AllowColors {
			rgb, ok := colorRGB(s)
			if !ok {
				l.errAt(nodes[i], "%s: allow_colors: %q is not a colour (#rgb, #rrggbb, rgb(...), hsl(...), hwb(...) or a CSS colour name)", where, s)
				continue
			}
			r.allowCol[rgb] = true
		}
	}
	r.allowFont = map[string]bool{}
	for _, fam := range fontStack(p.brand.Fonts.Body) {
		r.allowFont[fam] = true
	}
	for _, fam := range fontStack(p.brand.Fonts.Heading) {
		r.allowFont[fam] = true
	}
	r.brandFont = p.brand.Fonts.Body
	if v, ok := f["allow_fonts"]; ok {
		c.AllowFonts, _ = l.strList(v.v, where+": allow_fonts", false)
		for _, s := range c.AllowFonts {
			r.allowFont[strings.ToLower(strings.Trim(strings.TrimSpace(s), `"'`))] = true
		}
	}
	if isTrue(c.Colors) && len(r.allowCol) == 0 {
		l.errAt(n, "%s: no colours are allowed: define brand.colors or allow_colors (every colour would be flagged)", where)
	}
	if isTrue(c.Fonts) && len(r.allowFont) == 0 {
		l.errAt(n, "%s: no fonts are allowed: define brand.fonts or allow_fonts (every font would be flagged)", where)
	}
}

// isTrue reads an optional boolean option; unset is false.
func isTrue(b *bool) bool { return b != nil && *b }
