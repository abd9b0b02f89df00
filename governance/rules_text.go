package governance

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// documentRules are the checks on a document's metadata rather than its
// text: consent on segments, email headers, presence of subject and preview.
func (c *checker) documentRules(d *Document) {
	for i, r := range c.p.rules {
		if !c.active[i] {
			continue
		}
		switch r.cfg.Kind {
		case "consent":
			c.consent(r, d)
		case "footer":
			c.footerHeaders(r, d)
		case "subject", "preview_text":
			c.lineFieldPresence(r, d)
		}
	}
}

func (c *checker) consent(r *rule, d *Document) {
	if d.NotSentTo {
		return
	}
	for _, p := range d.SegmentProperties {
		if strings.EqualFold(strings.TrimSpace(p), r.cfg.Property) {
			return
		}
	}
	markets := strings.Join(d.Markets, ", ")
	if markets == "" {
		markets = "unstated markets"
	}
	c.docFinding(r, fieldSegment, strings.Join(d.SegmentProperties, ", "),
		r.message(r.cfg.Property, fmt.Sprintf("the segment is sent to %s, where marketing needs recorded consent, but it does not filter on the consent property %q", markets, r.cfg.Property)),
		r.fix(r.cfg.Property, fmt.Sprintf("Add a condition on the contact property %q (for example %s is true) to the segment.", r.cfg.Property, r.cfg.Property)))
}

// lineFieldName is the document field a subject / preview_text rule reads.
func lineFieldName(kind string) []string {
	if kind == "subject" {
		return []string{"subject"}
	}
	return []string{"preview_text", "preheader"}
}

func (c *checker) lineFieldPresence(r *rule, d *Document) {
	if r.cfg.Required == nil || !*r.cfg.Required {
		return
	}
	names := lineFieldName(r.cfg.Kind)
	for _, fd := range d.Fields {
		if slices.Contains(names, fd.Name) {
			if strings.TrimSpace(fd.Value) != "" {
				return
			}
			break
		}
	}
	what := strings.ReplaceAll(names[0], "_", " ")
	c.docFinding(r, names[0], "", r.message("", "the "+what+" is missing"),
		r.fix("", "Write a "+what+": inbox previews show it next to the sender name."))
}

// lineField checks the length, capitals and (through the automaton) spam
// words of a subject or preview text.
func (c *checker) lineField(r *rule, f *fieldScan) {
	if !slices.Contains(lineFieldName(r.cfg.Kind), f.field.Name) {
		return
	}
	text := string(f.st.text)
	n := utf8.RuneCountInString(text)
	what := strings.ReplaceAll(r.cfg.Kind, "_", " ")
	if n == 0 {
		return // presence is lineFieldPresence's concern
	}
	if r.cfg.MinLength > 0 && n < r.cfg.MinLength {
		c.add(r, f, 0, text, r.message(text, fmt.Sprintf("the %s is %d characters; at least %d", what, n, r.cfg.MinLength)),
			r.fix(text, fmt.Sprintf("Write a %s of %d to %d characters.", what, r.cfg.MinLength, max(r.cfg.MaxLength, r.cfg.MinLength))))
	}
	if r.cfg.MaxLength > 0 && n > r.cfg.MaxLength {
		cut := 0
		for i := range text {
			if cut == r.cfg.MaxLength {
				cut = i
				break
			}
			cut++
		}
		c.add(r, f, f.st.srcOf(cut), text, r.message(text, fmt.Sprintf("the %s is %d characters; at most %d (inboxes cut it here)", what, n, r.cfg.MaxLength)),
			r.fix(text, fmt.Sprintf("Shorten the %s by %d characters.", what, n-r.cfg.MaxLength)))
	}
	if isTrue(r.cfg.AllCaps) {
		eachWord(text, func(w string, at int) {
			letters, upper := 0, true
			for _, ch := range w {
				if unicode.IsLetter(ch) {
					letters++
					if !unicode.IsUpper(ch) {
						upper = false
					}
				}
			}
			if letters >= 4 && upper && !r.capsOK[w] {
				c.add(r, f, f.st.srcOf(at), w, r.message(w, fmt.Sprintf("%s is written in ALL CAPS", quote(w))),
					r.fix(w, "Write "+quote(titleWord(w))+" instead: capitals read as shouting and score as spam."))
			}
		})
	}
}

// eachWord calls fn with each word (letters, digits, apostrophes) of s and
// its byte offset.
func eachWord(s string, fn func(w string, at int)) {
	start := -1
	for i, ch := range s {
		if isWordRune(ch) || ch == '-' && start >= 0 {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			fn(strings.TrimRight(s[start:i], "-'"), start)
			start = -1
		}
	}
	if start >= 0 {
		fn(strings.TrimRight(s[start:], "-'"), start)
	}
}

func titleWord(w string) string {
	r, n := utf8.DecodeRuneInString(w)
	return string(unicode.ToUpper(r)) + strings.ToLower(w[n:])
}

// segments calls fn for each maximal stretch of the stream whose scope
// overlaps want (a heading, a link text, an alt text, ...), trimmed.
func (st *stream) segments(want scope, fn func(start, end int)) {
	start := -1
	for k, rn := range st.runs {
		end := len(st.text)
		if k+1 < len(st.runs) {
			end = int(st.runs[k+1].at)
		}
		if rn.mask&want != 0 {
			if start < 0 {
				start = int(rn.at)
			}
			if k+1 < len(st.runs) && st.runs[k+1].mask&want != 0 {
				continue
			}
			s, e := start, end
			for s < e && (st.text[s] == ' ' || st.text[s] == '\n') {
				s++
			}
			for e > s && (st.text[e-1] == ' ' || st.text[e-1] == '\n') {
				e--
			}
			if e > s {
				fn(s, e)
			}
			start = -1
		}
	}
}

// looseText is the field's text within want in looseForm, cached per
// field and scope (footer and required-text rules share it).
func (c *checker) looseText(f *fieldScan, want scope) string {
	if s, ok := c.loose[want]; ok {
		return s
	}
	buf := c.looseBuf[:0]
	if want&f.mask != 0 {
		f.st.segments(want, func(s, e int) {
			buf = appendLoose(buf, f.st.text[s:e])
		})
	}
	c.looseBuf = buf
	s := string(buf)
	c.loose[want] = s
	return s
}

// appendLoose appends looseForm(text) to dst, separated from what dst
// holds by a space; ASCII takes a fast path.
func appendLoose(dst, text []byte) []byte {
	gap := len(dst) > 0
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			case c == '\'':
				continue
			default:
				gap = true
				continue
			}
			if gap && len(dst) > 0 {
				dst = append(dst, ' ')
			}
			gap = false
			dst = append(dst, c)
			continue
		}
		r, n := utf8.DecodeRune(text[i:])
		i += n
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			gap = true
			continue
		}
		if gap && len(dst) > 0 {
			dst = append(dst, ' ')
		}
		gap = false
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
	}
	return dst
}

// requiredText: each text must appear (case, punctuation and line breaks
// aside) in every field of the scope.
func (c *checker) requiredText(r *rule, f *fieldScan) {
	if r.scopes&f.mask == 0 {
		return
	}
	loose := c.looseText(f, r.scopes)
	missingAt := f.bodyEnd
	if !f.html {
		missingAt = len(f.src)
	}
	for _, t := range r.cfg.Text {
		if lt := looseForm(t); lt != "" && strings.Contains(loose, lt) {
			continue
		}
		c.add(r, f, missingAt, t, r.message(t, fmt.Sprintf("the required text %s is missing from %s", quote(t), f.field.Name)),
			r.fix(t, fmt.Sprintf("Add this text verbatim (for example above the footer): %s", t)))
	}
	if r.patterns != nil {
		found := false
		for _, loc := range r.patterns.FindAllIndex(f.st.text, -1) {
			if f.st.spanMask(loc[0], loc[1])&r.scopes != 0 {
				found = true
				break
			}
		}
		if !found {
			what := strings.Join(r.cfg.Patterns, " | ")
			c.add(r, f, missingAt, what, r.message(what, fmt.Sprintf("no text in %s matches the required pattern %s", f.field.Name, quote(what))),
				r.fix(what, "Add the required statement to the body."))
		}
	}
}

// readability computes the Flesch–Kincaid grade of the scoped text:
// 0.39 × words/sentence + 11.8 × syllables/word − 15.59. Block boundaries
// (table cells, paragraphs) end sentences, since email copy often omits the
// full stop in headlines and buttons.
func (c *checker) readability(r *rule, f *fieldScan) {
	if r.scopes&f.mask == 0 || r.cfg.MaxGrade == nil {
		return
	}
	st := &f.st
	var words, sentences, syll int
	inWord, sentWords := false, 0
	wordStart := 0
	longStart, longEnd, longWords, sentStart := -1, -1, 0, -1
	endSentence := func(at int) {
		if sentWords > 0 {
			sentences++
			if sentWords > longWords {
				longWords, longStart, longEnd = sentWords, sentStart, at
			}
		}
		sentWords, sentStart = 0, -1
	}
	st.segments(r.scopes, func(s, e int) {
		for i := s; i <= e; i++ {
			var ch byte = '\n'
			if i < e {
				ch = st.text[i]
			}
			isW := ch >= 0x80 || ch == '\'' || ('a' <= ch|0x20 && ch|0x20 <= 'z') || ('0' <= ch && ch <= '9')
			if isW {
				if !inWord {
					inWord, wordStart = true, i
					if sentStart < 0 {
						sentStart = i
					}
				}
				continue
			}
			if inWord {
				inWord = false
				words++
				sentWords++
				syll += syllables(st.text[wordStart:i])
			}
			switch ch {
			case '.', '!', '?':
				if i+1 >= e || st.text[i+1] == ' ' || st.text[i+1] == '\n' || st.text[i+1] == '"' {
					endSentence(i + 1)
				}
			case '\n':
				endSentence(i)
			}
		}
	})
	if words < r.cfg.MinWords || sentences == 0 {
		return
	}
	grade := 0.39*float64(words)/float64(sentences) + 11.8*float64(syll)/float64(words) - 15.59
	if grade <= *r.cfg.MaxGrade {
		return
	}
	g := fmt.Sprintf("%.1f", grade)
	longest := ""
	off := 0
	if longStart >= 0 {
		longest = string(st.text[longStart:longEnd])
		off = st.srcOf(longStart)
	}
	c.add(r, f, off, longest,
		r.message(g, fmt.Sprintf("reading grade %s is above the maximum %.1f (%d words in %d sentences, %.1f words per sentence)",
			g, *r.cfg.MaxGrade, words, sentences, float64(words)/float64(sentences))),
		r.fix(g, fmt.Sprintf("Shorten sentences and prefer shorter words; start with the longest sentence (%d words, here).", longWords)))
}

// syllables estimates the syllables of an English word: vowel groups, minus
// a silent final e. Good enough for a grade-level threshold.
func syllables(w []byte) int {
	n, prevVowel := 0, false
	for _, ch := range w {
		ch |= 0x20
		v := ch == 'a' || ch == 'e' || ch == 'i' || ch == 'o' || ch == 'u' || ch == 'y'
		if v && !prevVowel {
			n++
		}
		prevVowel = v
	}
	if l := len(w); l > 2 && w[l-1]|0x20 == 'e' && w[l-2]|0x20 != 'l' && n > 1 {
		n--
	}
	return max(n, 1)
}

var smallWords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "but": true, "or": true, "nor": true, "for": true, "so": true, "yet": true,
	"as": true, "at": true, "by": true, "in": true, "of": true, "off": true, "on": true, "per": true, "to": true, "up": true,
	"via": true, "vs": true,
}

// capitalization checks the case style of each heading (or other scoped
// segment); product names are handled by the automaton.
func (c *checker) capitalization(r *rule, f *fieldScan) {
	if r.cfg.Match == "" || r.scopes&f.mask == 0 {
		return
	}
	st := &f.st
	st.segments(r.scopes, func(s, e int) {
		if caseOK(st.text[s:e], r.cfg.Match, r.cfg.Exceptions) {
			return
		}
		text := string(st.text[s:e])
		want := recase(text, r.cfg.Match, r.cfg.Exceptions)
		if want == text {
			return
		}
		style := map[string]string{"$title": "title case", "$sentence": "sentence case", "$lower": "lower case", "$upper": "upper case"}[r.cfg.Match]
		what := "heading"
		if r.scopes&scHeading == 0 {
			what = "text"
		}
		c.add(r, f, st.srcOf(s), text, r.message(text, fmt.Sprintf("%s %s is not in %s", what, quote(text), style)), r.fix(text, want))
	})
}

// caseOK is the allocation-free common case of recase(text) == text for
// ASCII text; anything it cannot decide goes to recase.
func caseOK(text []byte, style string, exceptions []string) bool {
	first := true
	for i := 0; i < len(text); {
		for i < len(text) && text[i] == ' ' {
			i++
		}
		s := i
		for i < len(text) && text[i] != ' ' {
			if text[i] >= utf8.RuneSelf {
				return false
			}
			i++
		}
		w := text[s:i]
		// The word's letters and digits, as recase sees them.
		a, b := 0, len(w)
		for a < b && !isAlnum(w[a]) {
			a++
		}
		for b > a && !isAlnum(w[b-1]) {
			b--
		}
		if a == b {
			continue
		}
		core := w[a:b]
		isFirst, afterColon := first && s == skipLead(text), first && s != skipLead(text)
		first = w[len(w)-1] == ':'
		if keepWordBytes(core, exceptions, style) || afterColon && style == "$sentence" {
			continue
		}
		if afterColon {
			isFirst = true
		}
		lower, upperFirst := true, core[0] >= 'A' && core[0] <= 'Z'
		for _, ch := range core[1:] {
			if ch >= 'A' && ch <= 'Z' {
				lower = false
			}
		}
		switch style {
		case "$sentence":
			if !lower || upperFirst != isFirst {
				return false
			}
		case "$title":
			last := i >= len(text)
			small := !isFirst && !last && smallWords[string(core)]
			if small == upperFirst {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func skipLead(text []byte) int {
	i := 0
	for i < len(text) && text[i] == ' ' {
		i++
	}
	return i
}

func isAlnum(c byte) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9'
}

func keepWordBytes(core []byte, exceptions []string, style string) bool {
	for _, e := range exceptions {
		if string(core) == e {
			return true
		}
	}
	if style == "$upper" || style == "$lower" {
		return false
	}
	upper, inner := 0, false
	for i, c := range core {
		switch {
		case '0' <= c && c <= '9':
			return true
		case 'A' <= c && c <= 'Z':
			upper++
			inner = inner || i > 0
		}
	}
	return string(core) == "I" || (upper == len(core) && len(core) >= 2) || inner || bytes.ContainsAny(core, "@./")
}

// recase returns text in the wanted style. Words that are exceptions,
// acronyms (ALL CAPS), contain digits or have inner capitals (AcmeCloud,
// iPhone) are kept as written.
func recase(text, style string, exceptions []string) string {
	var b strings.Builder
	words := strings.Split(text, " ")
	first, afterColon := true, false
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		core := strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if core == "" {
			b.WriteString(w)
			continue
		}
		isFirst, colon := first, afterColon
		first, afterColon = false, false
		last := i == len(words)-1
		if keepWord(core, exceptions, style) || colon && style == "$sentence" {
			b.WriteString(w)
			if strings.HasSuffix(w, ":") {
				first, afterColon = true, true
			}
			continue
		}
		var out string
		switch style {
		case "$upper":
			out = strings.ToUpper(w)
		case "$lower":
			out = strings.ToLower(w)
		case "$sentence":
			if isFirst {
				out = capFirst(strings.ToLower(w))
			} else {
				out = strings.ToLower(w)
			}
		case "$title":
			if !isFirst && !last && smallWords[strings.ToLower(core)] {
				out = strings.ToLower(w)
			} else {
				out = capFirst(w)
			}
		}
		b.WriteString(out)
		if strings.HasSuffix(w, ":") {
			// "Webinar: how to ..." may start a new sentence; sentence case
			// accepts either case there, title case capitalizes.
			first, afterColon = true, true
		}
	}
	return b.String()
}

func keepWord(core string, exceptions []string, style string) bool {
	if slices.Contains(exceptions, core) {
		return true
	}
	if style == "$upper" || style == "$lower" {
		return false
	}
	upper, inner := 0, false
	for i, r := range core {
		if unicode.IsDigit(r) {
			return true
		}
		if unicode.IsUpper(r) {
			upper++
			if i > 0 {
				inner = true
			}
		}
	}
	letters := utf8.RuneCountInString(core)
	return core == "I" || (upper == letters && letters >= 2) || inner || strings.ContainsAny(core, "@./")
}

func capFirst(w string) string {
	for i, r := range w {
		if unicode.IsLetter(r) {
			return w[:i] + string(unicode.ToUpper(r)) + w[i+utf8.RuneLen(r):]
		}
	}
	return w
}
