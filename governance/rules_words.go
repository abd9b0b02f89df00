package governance

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// words runs the policy's one automaton over a stream and dispatches each
// whole-word match to the active rules whose scope it sits in.
func (c *checker) words(f *fieldScan, st *stream) {
	w := c.p.words
	if len(w.pats) == 0 || len(st.fold) == 0 {
		return
	}
	w.ac.scan(st.fold, func(pat int32, start, end int) {
		var m scope
		checked := false
		for _, e := range w.entries[pat] {
			if !c.active[e.rule] {
				continue
			}
			r := c.p.rules[e.rule]
			if !checked {
				if !wholeWord(st.text, start, end) {
					return
				}
				m, checked = st.spanMask(start, end), true
			}
			if m&r.scopes == 0 {
				continue
			}
			text := st.text[start:end]
			if e.exact != "" && string(text) != e.exact {
				continue
			}
			if excepted(r, st, start, end) {
				continue
			}
			c.wordMatch(r, e, f, st, start, end)
		}
	})
}

// excepted reports whether the match lies inside an occurrence of one of the
// rule's exception phrases ("free" inside "gluten-free"). Only the few bytes
// around the match are searched.
func excepted(r *rule, st *stream, start, end int) bool {
	for _, e := range r.excFold {
		lo, hi := max(0, end-len(e)), min(len(st.fold), start+len(e))
		for k := lo; hi-k >= len(e); {
			i := bytes.Index(st.fold[k:hi], e)
			if i < 0 {
				break
			}
			s := k + i
			if s <= start && s+len(e) >= end && wholeWord(st.text, s, s+len(e)) {
				return true
			}
			k = s + 1
		}
	}
	return false
}

func (c *checker) wordMatch(r *rule, e wordEntry, f *fieldScan, st *stream, start, end int) {
	switch {
	case e.role == roleToken && r.cfg.Kind == "occurrence", e.role == roleEither:
	case e.role == roleSwap && string(st.text[start:end]) == r.cfg.Swap[e.idx].To:
		return
	case !c.room(r):
		return
	}
	match := string(st.text[start:end])
	off := st.srcOf(start)
	cfg := &r.cfg
	switch e.role {
	case roleToken:
		if cfg.Kind == "occurrence" {
			c.countOccurrence(r, off)
			return
		}
		c.add(r, f, off, match, r.wordMessage(match, quote(match)+" is not allowed"), r.fix(match, "Remove or rephrase "+quote(match)+"."))
	case roleSwap:
		repl := cfg.Swap[e.idx].To
		if match == repl {
			return // already the preferred spelling (case-insensitive key)
		}
		repl = matchCase(match, repl)
		msg := cfg.Message
		switch strings.Count(msg, "%s") {
		case 0:
			if msg == "" {
				msg = fmt.Sprintf("Use %s instead of %s.", quote(repl), quote(match))
			}
		case 1:
			msg = strings.Replace(msg, "%s", truncateRunes(match, 80), 1)
		default: // Vale's order: replacement, then match
			msg = strings.Replace(strings.Replace(msg, "%s", truncateRunes(repl, 80), 1), "%s", truncateRunes(match, 80), 1)
		}
		fix := repl
		if cfg.Fix != "" {
			fix = r.fix(match, repl)
		}
		c.add(r, f, off, match, msg, fix)
	case roleEither:
		first := c.either[r.idx][e.idx]
		switch {
		case first < 0:
			c.either[r.idx][e.idx] = int8(e.side)
		case first != int8(e.side):
			p := cfg.Either[e.idx]
			want := p.From
			if first == 1 {
				want = p.To
			}
			c.add(r, f, off, match, r.wordMessage(match, fmt.Sprintf("%s is used, but this document already uses %s; use one spelling throughout", quote(match), quote(want))),
				r.fix(match, matchCase(match, want)))
		}
	case roleProduct:
		canon := r.products[string(st.fold[start:end])]
		if canon == "" || match == canon {
			return
		}
		c.add(r, f, off, match, r.wordMessage(match, fmt.Sprintf("the product name is written %s", quote(canon))), r.fix(match, canon))
	case roleSpam:
		what := "subject"
		if cfg.Kind == "preview_text" {
			what = "preview text"
		}
		c.add(r, f, off, match, r.wordMessage(match, fmt.Sprintf("the %s contains the spam-trigger phrase %s", what, quote(match))),
			r.fix(match, "Rephrase without "+quote(match)+": spam filters score it."))
	}
}

// matchCase gives a replacement the capitalization of the text it replaces
// when the replacement is plain lower case ("Utilize" → "Use"); a
// replacement with its own capitals (a product name) is kept as written.
func matchCase(match, repl string) string {
	if repl == "" || strings.ToLower(repl) != repl {
		return repl
	}
	m, _ := utf8.DecodeRuneInString(match)
	if !unicode.IsUpper(m) {
		return repl
	}
	if strings.ToUpper(match) == match && utf8.RuneCountInString(match) > 1 {
		return strings.ToUpper(repl)
	}
	r, n := utf8.DecodeRuneInString(repl)
	return string(unicode.ToUpper(r)) + repl[n:]
}

func (c *checker) countOccurrence(r *rule, off int) {
	i := r.idx
	c.occ[i]++
	if r.cfg.Max != nil && c.occ[i] == *r.cfg.Max+1 {
		c.occAt[i] = off
	}
}

// patterns runs a rule's regular expressions (one alternation) over the
// field's text.
func (c *checker) patterns(r *rule, f *fieldScan) {
	if r.patterns == nil {
		return
	}
	st := &f.st
	if r.scopes&scRaw != 0 {
		c.patternsIn(r, f, &c.rawSt.text, c.rawSt.srcOf)
	}
	if r.scopes&f.mask != 0 {
		c.patternsIn(r, f, &st.text, st.srcOf)
	}
}

func (c *checker) patternsIn(r *rule, f *fieldScan, text *[]byte, srcOf func(int) int) {
	st := &f.st
	raw := text != &st.text
	for _, loc := range r.patterns.FindAllIndex(*text, -1) {
		start, end := loc[0], loc[1]
		if !raw && st.spanMask(start, end)&r.scopes == 0 {
			continue
		}
		if !raw && excepted(r, st, start, end) {
			continue
		}
		if r.cfg.Kind == "occurrence" {
			c.countOccurrence(r, srcOf(start))
			continue
		}
		if !c.room(r) {
			continue
		}
		match := string((*text)[start:end])
		off := srcOf(start)
		c.add(r, f, off, match, r.wordMessage(match, fmt.Sprintf("%s matches a pattern this policy does not allow", quote(match))),
			r.fix(match, "Remove or rephrase "+quote(match)+"."))
	}
}

// occurrenceDone reports an occurrence rule's verdict for the field once
// all its matches are counted.
func (c *checker) occurrenceDone(r *rule, i int, f *fieldScan) {
	if r.scopes&(f.mask|scRaw) == 0 {
		return
	}
	n := c.occ[i]
	what := strings.Join(append(append([]string{}, r.cfg.Tokens...), r.cfg.Patterns...), ", ")
	if r.cfg.Max != nil && n > *r.cfg.Max {
		c.add(r, f, c.occAt[i], what, r.message(what, fmt.Sprintf("%s appears %d times in %s; at most %d allowed", what, n, f.field.Name, *r.cfg.Max)),
			r.fix(what, fmt.Sprintf("Remove %d of them (the first extra one is here).", n-*r.cfg.Max)))
	}
	if r.cfg.Min != nil && n < *r.cfg.Min {
		off := f.bodyEnd
		if !f.html {
			off = 0
		}
		c.add(r, f, off, what, r.message(what, fmt.Sprintf("%s appears %d times in %s; at least %d required", what, n, f.field.Name, *r.cfg.Min)),
			r.fix(what, fmt.Sprintf("Add %s (%d more).", what, *r.cfg.Min-n)))
	}
}

// conditional: every match of first needs second. With a capture group in
// second (Vale's form), first's match (its first group, if any) must be
// among second's captures, as with "an acronym must be defined"; without
// one, second must simply appear ("a claim needs its disclaimer").
func (c *checker) conditional(r *rule, f *fieldScan) {
	if r.first == nil || r.second == nil || r.scopes&f.mask == 0 {
		return
	}
	st := &f.st
	// Candidates first: second is only evaluated when something needs it,
	// which for most documents is never.
	var cand [][]int
	for _, m := range findAll(r.first, r.firstAt, st.text) {
		if st.spanMask(m[0], m[1])&r.scopes == 0 || excepted(r, st, m[0], m[1]) {
			continue
		}
		cand = append(cand, m)
	}
	if len(cand) == 0 {
		return
	}
	defined := map[string]bool{}
	for _, m := range findAll(r.second, r.secondAt, st.text) {
		if st.spanMask(m[0], m[1])&r.scopes == 0 {
			continue
		}
		if !r.secondCap {
			return
		}
		if m[2] >= 0 {
			defined[string(st.text[m[2]:m[3]])] = true
		}
	}
	for _, m := range cand {
		if !c.room(r) {
			continue
		}
		key := string(st.text[m[0]:m[1]])
		if len(m) >= 4 && m[2] >= 0 {
			key = string(st.text[m[2]:m[3]])
		}
		if r.secondCap && defined[key] {
			continue
		}
		match := string(st.text[m[0]:m[1]])
		detail := fmt.Sprintf("%s is used without the text that must accompany it", quote(match))
		if r.secondCap {
			detail = fmt.Sprintf("%s is not defined in this text", quote(match))
		}
		c.add(r, f, st.srcOf(m[0]), match, r.wordMessage(match, detail), r.fix(match, "Add the required text for "+quote(match)+", or remove it."))
	}
}
