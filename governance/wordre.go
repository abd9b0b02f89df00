package governance

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"slices"
	"unicode"
	"unicode/utf8"
)

// wordStart finds the matches of a regular expression whose every match
// begins at a word boundary with one of a few ASCII word characters (as in
// `\b([A-Z]{3,5})\b` or `(?:\b[A-Z][a-z]+ )+\(`): such a match can only start
// where a word starts. Go's regexp has no prefix to skip to for these, so it
// runs its matcher at every byte of the text; wordStart tries the expression,
// anchored, only at the starts of words that begin with a byte a match can
// begin with. The matches and their submatches are the regexp's own: the
// same expression, leftmost first, non-overlapping, in order.
//
// Each try reads as far as the expression can still match, so text made to
// make every try read to its end would cost the square of its length; past
// a few passes' worth of reading, wordStart hands the text to regexp, whose
// cost is linear.
type wordStart struct {
	re       *regexp.Regexp
	anchored *regexp.Regexp // ^(?:expr)
	first    [256]bool      // bytes a match can begin with
	// window, when the expression's matches are at most this many bytes
	// long and it asserts nothing about the end of the text: each try
	// then reads a slice that long, plus a rune for what follows, which
	// regexp matches faster than a reader.
	window int
}

// readBudget is how many times a text's length the tries may read before
// the text goes to regexp instead.
const readBudget = 4

// newWordStart returns nil when not every match of re begins that way; the
// caller then runs re itself.
func newWordStart(re *regexp.Regexp) *wordStart {
	tree, err := syntax.Parse(re.String(), syntax.Perl)
	// A line or text start, or \B, could hold at a word start seen alone
	// and not in the text.
	if err != nil || !leadsWithBoundary(tree) || has(tree, syntax.OpBeginLine, syntax.OpBeginText, syntax.OpNoWordBoundary) {
		return nil
	}
	set, nullable := firstBytes(tree)
	if nullable {
		return nil
	}
	any := false
	for b, on := range set {
		if on && !isWordByte(byte(b)) {
			return nil
		}
		any = any || on
	}
	anchored, err := regexp.Compile(`^(?:` + re.String() + `)`)
	if err != nil || !any || anchored.NumSubexp() != re.NumSubexp() {
		return nil
	}
	w := &wordStart{re: re, anchored: anchored, first: set}
	if n := maxBytes(tree); n >= 0 && !has(tree, syntax.OpEndLine, syntax.OpEndText) {
		w.window = n + utf8.UTFMax
	}
	return w
}

// findAll is re.FindAllSubmatchIndex(text, -1).
func (w *wordStart) findAll(text []byte) [][]int {
	m, _ := w.tries(text)
	return m
}

// tries finds the matches by trying word starts, or says it ran out of
// budget (ok false) and found them with regexp.
func (w *wordStart) tries(text []byte) (matches [][]int, ok bool) {
	var r bytes.Reader
	budget := readBudget*len(text) + 1024
	for p := 0; p < len(text); p++ {
		if !w.first[text[p]] || (p > 0 && isWordByte(text[p-1])) {
			continue
		}
		var m []int
		if w.window > 0 {
			m = w.anchored.FindSubmatchIndex(text[p:min(len(text), p+w.window)])
		} else {
			// A RuneReader keeps regexp to its automaton, whose cost is
			// the length of the match, not of the rest of the text.
			r.Reset(text[p:])
			m = w.anchored.FindReaderSubmatchIndex(&r)
			if budget -= len(text) - p - r.Len(); budget < 0 {
				return w.re.FindAllSubmatchIndex(text, -1), false
			}
		}
		if m == nil {
			continue
		}
		for k := range m {
			if m[k] >= 0 {
				m[k] += p
			}
		}
		matches = append(matches, m)
		p = m[1] - 1 // a match is never empty: it begins with a byte
	}
	return matches, true
}

// findAll is re.FindAllSubmatchIndex(text, -1), through at when re has one.
func findAll(re *regexp.Regexp, at *wordStart, text []byte) [][]int {
	if at != nil {
		return at.findAll(text)
	}
	return re.FindAllSubmatchIndex(text, -1)
}

func isWordByte(b byte) bool { return b < utf8.RuneSelf && syntax.IsWordChar(rune(b)) }

// leadsWithBoundary reports whether every match of re begins with \b.
func leadsWithBoundary(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpWordBoundary:
		return true
	case syntax.OpConcat:
		return len(re.Sub) > 0 && leadsWithBoundary(re.Sub[0])
	case syntax.OpCapture, syntax.OpPlus:
		return leadsWithBoundary(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min > 0 && leadsWithBoundary(re.Sub[0])
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if !leadsWithBoundary(s) {
				return false
			}
		}
		return len(re.Sub) > 0
	}
	return false
}

// firstBytes returns the bytes a match of re can begin with (a superset:
// every lead byte for a rune outside ASCII) and whether it can match empty
// text.
func firstBytes(re *syntax.Regexp) (set [256]bool, nullable bool) {
	all := func() {
		for b := range set {
			set[b] = true
		}
	}
	addRune := func(r rune) {
		if r < utf8.RuneSelf {
			set[r] = true
			return
		}
		var buf [utf8.UTFMax]byte
		utf8.EncodeRune(buf[:], r)
		set[buf[0]] = true
	}
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return set, true
		}
		r := re.Rune[0]
		addRune(r)
		if re.Flags&syntax.FoldCase != 0 {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				addRune(f)
			}
		}
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
				set[r] = true
			}
			if hi >= utf8.RuneSelf {
				for b := 0xC0; b < 0x100; b++ {
					set[b] = true
				}
			}
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		all()
	case syntax.OpCapture, syntax.OpPlus:
		return firstBytes(re.Sub[0])
	case syntax.OpStar, syntax.OpQuest:
		set, _ = firstBytes(re.Sub[0])
		return set, true
	case syntax.OpRepeat:
		set, nullable = firstBytes(re.Sub[0])
		return set, nullable || re.Min == 0
	case syntax.OpConcat:
		nullable = true
		for _, s := range re.Sub {
			sub, n := firstBytes(s)
			for b, on := range sub {
				set[b] = set[b] || on
			}
			if !n {
				return set, false
			}
		}
		return set, true
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			sub, n := firstBytes(s)
			for b, on := range sub {
				set[b] = set[b] || on
			}
			nullable = nullable || n
		}
	default: // empty matches and assertions
		return set, true
	}
	return set, nullable
}

// has reports whether re holds any of ops.
func has(re *syntax.Regexp, ops ...syntax.Op) bool {
	if slices.Contains(ops, re.Op) {
		return true
	}
	for _, s := range re.Sub {
		if has(s, ops...) {
			return true
		}
	}
	return false
}

// maxBytes is the most bytes a match of re can be, or -1 when unbounded.
func maxBytes(re *syntax.Regexp) int {
	runeLen := func(r rune) int { return max(1, utf8.RuneLen(r)) }
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			l := runeLen(r)
			if re.Flags&syntax.FoldCase != 0 {
				for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
					l = max(l, runeLen(f))
				}
			}
			n += l
		}
		return n
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return 0
		}
		return runeLen(re.Rune[len(re.Rune)-1])
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return utf8.UTFMax
	case syntax.OpCapture:
		return maxBytes(re.Sub[0])
	case syntax.OpQuest:
		return maxBytes(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		return -1
	case syntax.OpRepeat:
		n := maxBytes(re.Sub[0])
		if n < 0 || re.Max < 0 {
			return -1
		}
		return n * re.Max
	case syntax.OpConcat, syntax.OpAlternate:
		total := 0
		for _, s := range re.Sub {
			n := maxBytes(s)
			if n < 0 {
				return -1
			}
			if re.Op == syntax.OpConcat {
				total += n
			} else {
				total = max(total, n)
			}
		}
		return total
	}
	return 0 // empty matches and assertions
}
