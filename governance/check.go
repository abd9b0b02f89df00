package governance

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lastmile/lastmile/liquid"
)

// maxFindingsPerRule caps the findings one rule reports in one field; the
// rest are summarized in one "and N more" finding, so adversarial input
// cannot produce an unbounded report.
const maxFindingsPerRule = 50

const (
	ruleTruncated = "lastmile.input-truncated"
	// ruleUnrenderable is a construct the target would show recipients as
	// written: outside lastmile's personalization language, or a part of it
	// the target cannot express (liquid.Unrenderable, which the connectors'
	// translations also obey).
	ruleUnrenderable = "lastmile.target-cannot-render"
	fieldHeaders     = "headers"
	fieldSegment     = "segment_properties"
)

// checker holds the scratch state of one Check call. Buffers are reused
// from field to field, which keeps allocations per email roughly constant.
type checker struct {
	p       *Policy
	doc     *Document
	fs      fieldScan
	rawSt   stream
	out     []Finding
	active  []bool
	unknown [][]string
	// per field, per rule
	count    []int
	overflow []int
	occ      []int
	occAt    []int
	seen     []map[string]bool
	seenCol  []map[uint32]bool
	// per document, per rule: first spelling seen of each consistency pair
	either   [][]int8
	loose    map[scope]string // per field: loose form of scoped text
	looseBuf []byte
}

// Check runs every applicable rule over the documents. It is pure and
// deterministic: findings are sorted by artifact, field, line, column, rule.
func (p *Policy) Check(docs []Document) Report {
	n := len(p.rules)
	c := &checker{
		p: p, active: make([]bool, n), unknown: make([][]string, n),
		count: make([]int, n), overflow: make([]int, n), occ: make([]int, n), occAt: make([]int, n),
		seen: make([]map[string]bool, n), seenCol: make([]map[uint32]bool, n), either: make([][]int8, n), loose: map[scope]string{},
	}
	for i := range docs {
		c.document(&docs[i])
	}
	return newReport(c.out)
}

func (c *checker) document(d *Document) {
	c.doc = d
	anyActive := false
	channel := []string{d.Channel}
	for i, r := range c.p.rules {
		ok, unknown := r.sel.match(d.Markets, d.Industry, channel, d.Recipients)
		c.active[i], c.unknown[i] = ok && r.cfg.Kind != "approvals", unknown
		anyActive = anyActive || c.active[i]
		if r.cfg.Kind == "consistency" {
			c.either[i] = c.either[i][:0]
			for range r.cfg.Either {
				c.either[i] = append(c.either[i], -1)
			}
		}
	}
	// What the target cannot render is checked whatever the policy says.
	renders := liquid.Knows(d.Platform)
	if !anyActive && !renders {
		return
	}
	if anyActive {
		c.documentRules(d)
	}
	for fi := range d.Fields {
		fd := &d.Fields[fi]
		// An empty field is an absent one (the sandbox passes every field
		// of an email, text part included); presence is checked per
		// document by the subject and preview_text rules.
		switch {
		case strings.TrimSpace(fd.Value) == "":
		case c.needsField(fd):
			c.field(fd)
		case renders && hasTemplate(fd.Value):
			c.fs.reset(fd)
			c.unrenderable(&c.fs)
		}
	}
}

func hasTemplate(s string) bool { return strings.Contains(s, "{%") || strings.Contains(s, "{{") }

// unrenderable reports what the document's target cannot render in the
// field: the same list the connector's translation refuses at promotion.
func (c *checker) unrenderable(f *fieldScan) {
	platform := c.doc.Platform
	if !liquid.Knows(platform) || !hasTemplate(f.src) {
		return
	}
	who := "recipient"
	if c.doc.Channel == "page" {
		who = "visitor"
	}
	for _, u := range liquid.Unrenderable(platform, f.src) {
		c.emit(nil, f, u.Off, LevelError, ruleUnrenderable, truncateRunes(u.Text, 60),
			platform+" cannot render "+truncateRunes(u.Text, 60)+": "+u.Why+"; every "+who+" would see it as written",
			"Rewrite it with what "+platform+" renders: "+liquid.Renders(platform)+".", "")
	}
}

// needsField skips the scan of fields no active rule reads.
func (c *checker) needsField(fd *Field) bool {
	mask := fieldScope(fd.Name)
	if fd.HTML {
		mask = scBody | scHeading | scLinkText | scAlt | scTitle
	}
	for i, r := range c.p.rules {
		if !c.active[i] {
			continue
		}
		switch r.cfg.Kind {
		case "link", "image", "style", "size":
			if fd.HTML {
				return true
			}
		case "footer", "required_text":
			if mask&scBody != 0 || r.scopes&mask != 0 {
				return true
			}
		case "tokens":
			return true
		default:
			if r.scopes&(mask|scRaw) != 0 {
				return true
			}
		}
	}
	return false
}

func (c *checker) field(fd *Field) {
	for i := range c.count {
		c.count[i], c.overflow[i], c.occ[i], c.occAt[i] = 0, 0, 0, -1
		c.seen[i], c.seenCol[i] = nil, nil
	}
	clear(c.loose)
	f := &c.fs
	f.reset(fd)
	if len(fd.Value) > MaxFieldBytes {
		c.emit(nil, f, MaxFieldBytes, LevelWarning, ruleTruncated, truncateRunes(f.src[len(f.src)-min(len(f.src), 40):], 40),
			fmt.Sprintf("field is %d bytes; only the first %d were checked", len(fd.Value), MaxFieldBytes),
			"Shorten the field: nothing this large can be sent or published as is.", "")
	}

	c.unrenderable(f)
	c.words(f, &f.st)
	if c.needsRaw(f) {
		c.rawSt.reset()
		c.rawSt.appendRaw(f.src)
		c.words(f, &c.rawSt)
	}
	for i, r := range c.p.rules {
		if !c.active[i] {
			continue
		}
		switch r.cfg.Kind {
		case "existence", "occurrence":
			c.patterns(r, f)
		case "conditional":
			c.conditional(r, f)
		case "readability":
			c.readability(r, f)
		case "capitalization":
			c.capitalization(r, f)
		case "required_text":
			c.requiredText(r, f)
		case "footer":
			c.footerBody(r, f)
		case "link":
			c.linkRule(r, f)
		case "image":
			c.imageRule(r, f)
		case "style":
			c.styleRule(r, f)
		case "size":
			c.sizeRule(r, f)
		case "subject", "preview_text":
			c.lineField(r, f)
		case "tokens":
			c.tokensRule(r, f)
		}
		if r.cfg.Kind == "occurrence" {
			c.occurrenceDone(r, i, f)
		}
	}
	for i, r := range c.p.rules {
		if c.overflow[i] > 0 {
			c.out = append(c.out, Finding{
				Rule: r.cfg.ID, Level: r.level(), ArtifactID: c.doc.ArtifactID, Field: fd.Name,
				Line: 0, Col: 0, Excerpt: "",
				Message: fmt.Sprintf("and %d more findings of %s in this field (only the first %d are listed)", c.overflow[i], r.cfg.ID, maxFindingsPerRule),
				Fix:     "Fix the findings above, then check again.", Link: r.cfg.Link,
			})
		}
	}
}

// needsRaw reports whether an active word rule reads raw markup of this field.
func (c *checker) needsRaw(f *fieldScan) bool {
	for i, r := range c.p.rules {
		if c.active[i] && r.scopes&scRaw != 0 {
			switch r.cfg.Kind {
			case "existence", "occurrence", "substitution", "consistency":
				return true
			}
		}
	}
	return false
}

// appendRaw makes the raw source a stream of its own: identity offsets, one
// scope.
func (s *stream) appendRaw(src string) {
	s.anchors = append(s.anchors, anchor{0, 0})
	s.runs = append(s.runs, run{0, scRaw})
	s.text = append(s.text, src...)
	for i := 0; i < len(src); i++ {
		b := src[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		s.fold = append(s.fold, b)
	}
	s.delta = 0
}

// emit records a finding at a source offset of the current field (off < 0:
// no position), honouring the per-rule cap.
func (c *checker) emit(r *rule, f *fieldScan, off int, level, ruleID, excerpt, msg, fix, link string) {
	if r != nil {
		i := r.idx
		c.count[i]++
		if c.count[i] > maxFindingsPerRule {
			c.overflow[i]++
			return
		}
		fix = c.withUnknownNote(i, fix)
	}
	line, col := 0, 0
	name := ""
	if f != nil {
		name = f.field.Name
		if off >= 0 {
			line, col = f.pos(off)
		}
	}
	c.out = append(c.out, Finding{
		Rule: ruleID, Level: level, ArtifactID: c.doc.ArtifactID, Field: name, Line: line, Col: col,
		Excerpt: truncateRunes(excerpt, 120), Message: msg, Fix: fix, Link: link,
	})
}

// room reports whether rule r may still report in this field. Call it
// before building a message: past the cap only the count is kept, which
// keeps adversarial input (100,000 bad links) from costing 100,000
// formatted messages.
func (c *checker) room(r *rule) bool {
	if c.count[r.idx] < maxFindingsPerRule {
		return true
	}
	c.count[r.idx]++
	c.overflow[r.idx]++
	return false
}

// docFinding records a finding that has no field text to point into.
func (c *checker) docFinding(r *rule, field, excerpt, msg, fix string) {
	c.out = append(c.out, Finding{
		Rule: r.cfg.ID, Level: r.level(), ArtifactID: c.doc.ArtifactID, Field: field,
		Excerpt: truncateRunes(excerpt, 120), Message: msg, Fix: c.withUnknownNote(r.idx, fix), Link: r.cfg.Link,
	})
}

// add is emit for the common case: the rule's own id, level and link.
func (c *checker) add(r *rule, f *fieldScan, off int, excerpt, msg, fix string) {
	c.emit(r, f, off, r.level(), r.cfg.ID, excerpt, msg, fix, r.cfg.Link)
}

func (c *checker) withUnknownNote(i int, fix string) string {
	u := c.unknown[i]
	if len(u) == 0 {
		return fix
	}
	note := fix + " (This rule applied because the document does not state its " + strings.Join(u, " or ")
	var args []string
	for _, what := range u {
		switch what {
		case "markets":
			args = append(args, "markets: […]")
		case "industry":
			args = append(args, "industry: …")
		}
	}
	if c.doc.SetWith == "" || len(args) == 0 {
		return note + "; set that metadata if the rule does not apply.)"
	}
	return note + "; if the rule does not apply, state it: " + c.doc.SetWith + " {" + strings.Join(args, ", ") + "}.)"
}

// utmArg is how update_campaign's utm takes a link parameter: its key
// (pages' medium is page_medium), or "" for one it does not set.
func utmArg(param, channel string) string {
	switch param {
	case "utm_medium":
		if channel == ChannelPage {
			return "page_medium"
		}
		return "medium"
	case "utm_source", "utm_campaign", "utm_content", "utm_term":
		return strings.TrimPrefix(param, "utm_")
	}
	return ""
}

// utmSetting is the call that tags every link of the document's campaign
// with the parameters given (name → value, "" for an example to choose),
// or "" when the document says no tool sets its tagging or a parameter is
// not one the tool sets.
func (c *checker) utmSetting(params []string, values map[string]string) string {
	if c.doc.SetWith == "" {
		return ""
	}
	args := make([]string, 0, len(params))
	for _, p := range params {
		k := utmArg(p, c.doc.Channel)
		if k == "" {
			return ""
		}
		v := "…"
		if values[p] != "" {
			v = strconv.Quote(values[p])
		}
		args = append(args, k+": "+v)
	}
	return c.doc.SetWith + " {utm: {" + strings.Join(args, ", ") + "}}"
}

// message builds a finding message: the policy's own message with the
// match substituted, followed by the engine's precise detail when there is
// one; or the detail alone.
func (r *rule) message(match, detail string) string {
	m := r.cfg.Message
	if m == "" {
		return detail
	}
	m = strings.Replace(m, "%s", truncateRunes(match, 80), 1)
	if detail != "" {
		m = strings.TrimRight(m, ". ") + ": " + detail
	}
	return m
}

// wordMessage is for word matches, where the policy's message says it all
// once the match is substituted; the engine's detail is the default.
func (r *rule) wordMessage(match, detail string) string {
	if r.cfg.Message == "" {
		return detail
	}
	return strings.Replace(r.cfg.Message, "%s", truncateRunes(match, 80), 1)
}

// fix returns the policy's fix (with %s) or the engine's default.
func (r *rule) fix(match, def string) string {
	if r.cfg.Fix != "" {
		return strings.ReplaceAll(r.cfg.Fix, "%s", truncateRunes(match, 80))
	}
	return def
}

func quote(s string) string { return "“" + truncateRunes(s, 80) + "”" }
