package governance

import (
	"fmt"
	"slices"
	"strings"
)

// Personalization syntaxes.
const (
	synLiquid  = "liquid" // {{ contact.firstname | default: "there" }} (local target)
	synHubL    = "hubl"   // {{ personalization_token('contact.firstname', 'there') }} or |default('there')
	synMerge   = "merge"  // *|FNAME|* (Mailchimp)
	maxTokenIn = 512      // longest token body looked at; beyond it "{{" is unterminated
)

// platformSyntaxes says which syntaxes a target renders. A token in any
// other syntax reaches recipients literally. lastmile's own syntax,
// {{ contact.x | default: "y" }} (Liquid-style), is rendered everywhere
// email goes: the HubSpot and Mailchimp connectors translate it into the
// platform's syntax. WordPress and Webflow pages are public, so no token
// belongs there.
var platformSyntaxes = map[string][]string{
	"local":     {synLiquid},
	"hubspot":   {synHubL, synLiquid},
	"mailchimp": {synMerge, synLiquid},
	"wordpress": {},
	"webflow":   {},
}

// public reports whether the platform's pages are the same for every
// visitor: no token is filled in there.
func public(platform string) bool { return platform == "wordpress" || platform == "webflow" }

// mailchimpSystemTags are merge tags Mailchimp fills itself; they need no
// fallback.
var mailchimpSystemTags = map[string]bool{
	"UNSUB": true, "UPDATE_PROFILE": true, "FORWARD": true, "ARCHIVE": true, "ARCHIVE_LINK_SHORT": true,
	"EMAIL": true, "CURRENT_YEAR": true, "REWARDS": true, "REWARDS_TEXT": true, "ABOUT_LIST": true,
	"MC_PREVIEW_TEXT": true, "UNIQID": true, "CAMPAIGN_UID": true, "LIST_NAME": true, "END:IF": true, "ELSE:": true,
}

type token struct {
	syntax   string
	path     string // contact.firstname, or the merge tag name
	fallback string
	hasFB    bool
	off, end int
}

// scanTokens finds personalization tokens in raw field text, in every
// syntax, including inside attributes (links carry tokens too).
func scanTokens(src string, fn func(t token), unterminated func(off int)) {
	for i := 0; ; {
		k := strings.Index(src[i:], "{{")
		if k < 0 {
			break
		}
		start := i + k
		limit := min(len(src), start+2+maxTokenIn)
		e := strings.Index(src[start+2:limit], "}}")
		if e < 0 {
			unterminated(start)
			i = start + 2
			continue
		}
		body := src[start+2 : start+2+e]
		i = start + 2 + e + 2
		if t, ok := parseCurly(body); ok {
			t.off, t.end = start, i
			fn(t)
		}
	}
	for i := 0; ; {
		k := strings.Index(src[i:], "*|")
		if k < 0 {
			break
		}
		start := i + k
		limit := min(len(src), start+2+64)
		e := strings.Index(src[start+2:limit], "|*")
		if e < 0 {
			i = start + 2
			continue
		}
		name := src[start+2 : start+2+e]
		i = start + 2 + e + 2
		if name == "" || strings.ContainsAny(name, " <>\"'{}") {
			continue
		}
		fn(token{syntax: synMerge, path: name, off: start, end: i})
	}
}

// parseCurly reads a {{ ... }} body: a path with an optional default filter,
// or HubSpot's personalization_token(path, default). Anything else (a
// function, a system variable) is not a personalization token.
func parseCurly(body string) (token, bool) {
	s := strings.TrimSpace(strings.Trim(strings.TrimSpace(body), "-"))
	if rest, ok := strings.CutPrefix(s, "personalization_token("); ok {
		args := quotedArgs(strings.TrimSuffix(strings.TrimSpace(rest), ")"))
		if len(args) == 0 {
			return token{}, false
		}
		t := token{syntax: synHubL, path: args[0]}
		if len(args) > 1 {
			t.fallback, t.hasFB = args[1], true
		}
		return t, true
	}
	n := 0
	for n < len(s) && (s[n] == '_' || s[n] == '.' || 'a' <= s[n]|0x20 && s[n]|0x20 <= 'z' || '0' <= s[n] && s[n] <= '9') {
		n++
	}
	if n == 0 {
		return token{}, false
	}
	// A bare {{ contact.firstname }} is valid in both Liquid and HubL; only
	// the filter form tells them apart.
	t := token{path: s[:n]}
	rest := strings.TrimSpace(s[n:])
	if rest != "" && rest[0] != '|' {
		return token{}, false // an expression, not a plain token
	}
	for _, filter := range strings.Split(rest, "|")[1:] {
		filter = strings.TrimSpace(filter)
		name, arg := filter, ""
		if i := strings.IndexAny(filter, ":("); i >= 0 {
			name, arg = strings.TrimSpace(filter[:i]), filter[i:]
		}
		if name != "default" {
			continue
		}
		if strings.HasPrefix(arg, "(") {
			t.syntax = synHubL // Jinja call form
		} else {
			t.syntax = synLiquid
		}
		if a := quotedArgs(strings.Trim(strings.TrimPrefix(arg, ":"), "() ")); len(a) > 0 {
			t.fallback, t.hasFB = a[0], true
		} else if v := strings.TrimSpace(strings.Trim(strings.TrimPrefix(arg, ":"), "() ")); v != "" {
			t.fallback, t.hasFB = v, true // a variable as fallback
		}
	}
	return t, true
}

// quotedArgs splits "'a', 'b'" into its quoted strings.
func quotedArgs(s string) []string {
	var out []string
	for {
		i := strings.IndexAny(s, `"'`)
		if i < 0 {
			return out
		}
		q := s[i]
		j := strings.IndexByte(s[i+1:], q)
		if j < 0 {
			return out
		}
		out = append(out, s[i+1:i+1+j])
		s = s[i+1+j+1:]
	}
}

// guard is a template conditional on a value: {% if contact.firstname %}
// … {% endif %} or *|IF:FNAME|* … *|END:IF|*. A token inside a guard on its
// own value needs no fallback.
type guard struct {
	path       string
	start, end int
}

// maxGuards bounds the conditionals tracked per field (and so the cost of
// looking tokens up in them).
const maxGuards = 200

func scanGuards(src string) []guard {
	var out, open []guard
	push := func(path string, at int) {
		if len(open) < maxGuards {
			open = append(open, guard{path: path, start: at})
		}
	}
	pop := func(at int) {
		if n := len(open); n > 0 {
			g := open[n-1]
			open = open[:n-1]
			if len(out) < maxGuards && g.path != "" {
				g.end = at
				out = append(out, g)
			}
		}
	}
	for i := 0; ; {
		k := strings.Index(src[i:], "{%")
		if k < 0 {
			break
		}
		start := i + k
		e := strings.Index(src[start+2:min(len(src), start+2+maxTokenIn)], "%}")
		if e < 0 {
			i = start + 2
			continue
		}
		body := strings.TrimSpace(strings.Trim(strings.TrimSpace(src[start+2:start+2+e]), "-"))
		i = start + 2 + e + 2
		switch {
		case strings.HasPrefix(body, "if "):
			cond := strings.TrimSpace(body[3:])
			n := 0
			for n < len(cond) && (cond[n] == '_' || cond[n] == '.' || isAlnum(cond[n])) {
				n++
			}
			push(cond[:n], start)
		case strings.HasPrefix(body, "unless ") || strings.HasPrefix(body, "for "):
			push("", start)
		case body == "endif" || body == "endunless" || body == "endfor":
			pop(i)
		}
	}
	for i := 0; ; {
		k := strings.Index(src[i:], "*|")
		if k < 0 {
			break
		}
		start := i + k
		e := strings.Index(src[start+2:min(len(src), start+2+64)], "|*")
		if e < 0 {
			i = start + 2
			continue
		}
		name := src[start+2 : start+2+e]
		i = start + 2 + e + 2
		switch {
		case strings.HasPrefix(name, "IF:"):
			push(strings.TrimSpace(name[3:]), start)
		case strings.HasPrefix(name, "IFNOT:"):
			push("", start)
		case name == "END:IF":
			pop(i)
		}
	}
	return out
}

func guarded(gs []guard, path string, off int) bool {
	for _, g := range gs {
		if g.start <= off && off < g.end && strings.EqualFold(g.path, path) {
			return true
		}
	}
	return false
}

func (c *checker) tokensRule(r *rule, f *fieldScan) {
	platform := strings.ToLower(c.doc.Platform)
	expected, known := platformSyntaxes[platform]
	strict := r.cfg.Syntax == "platform" && known
	var guards []guard
	if strings.Contains(f.src, "{%") || strings.Contains(f.src, "*|IF") {
		guards = scanGuards(f.src)
	}
	scanTokens(f.src, func(t token) {
		if guarded(guards, t.path, t.off) && !(strict && public(platform)) {
			return
		}
		if c.count[r.idx] >= maxFindingsPerRule {
			// Past the cap: count what would be reported, format nothing.
			root, _, _ := strings.Cut(t.path, ".")
			if t.syntax == synMerge || r.tokenRoot[root] && (!t.hasFB || strings.TrimSpace(t.fallback) == "") {
				c.room(r)
			}
			return
		}
		text := f.src[t.off:t.end]
		if t.syntax == synMerge {
			c.mergeTag(r, f, t, text, platform, strict, expected)
			return
		}
		root, _, _ := strings.Cut(t.path, ".")
		if !r.tokenRoot[root] || slices.Contains(r.cfg.Exceptions, t.path) {
			return
		}
		if strict && t.syntax != "" && !slices.Contains(expected, t.syntax) || strict && public(platform) {
			c.add(r, f, t.off, text, r.message(text, fmt.Sprintf("%s is %s syntax, which %s does not render: recipients would see it literally", quote(text), syntaxName(t.syntax), platformName(platform))),
				r.fix(text, suggestToken(platform, t.path, t.fallback)))
			return
		}
		if !t.hasFB || strings.TrimSpace(t.fallback) == "" {
			what := "has no fallback"
			if t.hasFB {
				what = "has an empty fallback"
			}
			c.add(r, f, t.off, text, r.message(text, fmt.Sprintf("personalization token %s %s: recipients without %s see a gap", quote(text), what, t.path)),
				r.fix(text, suggestToken(platformFor(platform, t.syntax), t.path, "")))
		}
	}, func(off int) {
		if !c.room(r) {
			return
		}
		text := f.src[off:min(len(f.src), off+40)]
		c.add(r, f, off, text, r.message(text, "“{{” is never closed with “}}”: the token would show literally"), r.fix(text, "Close the token with }}."))
	})
}

func (c *checker) mergeTag(r *rule, f *fieldScan, t token, text, platform string, strict bool, expected []string) {
	name := strings.ToUpper(t.path)
	if strings.Contains(name, ":") || mailchimpSystemTags[name] || slices.Contains(r.cfg.Exceptions, t.path) {
		return // conditionals (IF:, END:IF), namespaced (LIST:, DATE:) and system tags
	}
	if strict && !slices.Contains(expected, synMerge) {
		c.add(r, f, t.off, text, r.message(text, fmt.Sprintf("%s is Mailchimp merge-tag syntax, which %s does not render: recipients would see it literally", quote(text), platformName(platform))),
			r.fix(text, suggestToken(platform, "contact."+strings.ToLower(name), "")))
		return
	}
	// Mailchimp keeps the fallback on the audience's merge field, outside
	// the email, so the engine cannot see it: a warning names where to look.
	c.emit(r, f, t.off, lowerLevel(r.level(), LevelWarning), r.cfg.ID, text,
		r.message(text, fmt.Sprintf("merge tag %s takes its fallback from the audience's %s merge field, which this check cannot see", quote(text), name)),
		r.fix(text, fmt.Sprintf("In Mailchimp, set a default value for the %s merge field (Audience → Settings → Audience fields and *|MERGE|* tags), or wrap it in *|IF:%s|*…*|END:IF|*.", name, name)),
		r.cfg.Link)
}

func platformFor(platform, syntax string) string {
	if _, ok := platformSyntaxes[platform]; ok && !public(platform) {
		return platform
	}
	if syntax == synHubL {
		return "hubspot"
	}
	return "local"
}

func suggestToken(platform, path, fallback string) string {
	if fallback == "" {
		fallback = "there"
	}
	switch platform {
	case "hubspot":
		return fmt.Sprintf("{{ personalization_token('%s', '%s') }}", path, fallback)
	case "mailchimp":
		tag := strings.ToUpper(path[strings.LastIndexByte(path, '.')+1:])
		return fmt.Sprintf("*|%s|* with a default value set on the %s merge field", tag, tag)
	case "wordpress", "webflow":
		return "Remove the token: " + platformName(platform) + " pages are not personalized."
	}
	return fmt.Sprintf(`{{ %s | default: "%s" }}`, path, fallback)
}

func syntaxName(s string) string {
	switch s {
	case synHubL:
		return "HubSpot HubL"
	case synMerge:
		return "Mailchimp merge-tag"
	}
	return "Liquid-style"
}

func platformName(p string) string {
	switch p {
	case "hubspot":
		return "HubSpot"
	case "mailchimp":
		return "Mailchimp"
	case "wordpress":
		return "WordPress"
	case "webflow":
		return "Webflow"
	case "local":
		return "the local target"
	}
	return p
}
