package governance

import (
	"unicode"
	"unicode/utf8"
)

// acMatcher is an Aho–Corasick automaton compiled to a dense DFA over byte
// classes: bytes that occur in no pattern share class 0, which keeps the
// transition table small enough to stay in cache while the scan does one
// table lookup per input byte, however many patterns there are.
type acMatcher struct {
	class  [256]uint16
	nclass int32
	delta  []int32 // state*nclass + class → next state
	outOff []int32 // outs[outOff[s]:outOff[s+1]] are the patterns ending in state s
	outs   []int32
	lens   []int32 // pattern id → length in bytes
}

func newAC(pats []string) *acMatcher {
	m := &acMatcher{lens: make([]int32, len(pats))}
	var n uint16 = 1
	for _, p := range pats {
		for i := 0; i < len(p); i++ {
			if m.class[p[i]] == 0 {
				m.class[p[i]] = n
				n++
			}
		}
	}
	m.nclass = int32(n)

	// Trie first, with sparse children; converted to the DFA below.
	type node struct {
		next map[uint16]int32
		out  []int32
	}
	nodes := []node{{next: map[uint16]int32{}}}
	for id, p := range pats {
		m.lens[id] = int32(len(p))
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := m.class[p[i]]
			t, ok := nodes[s].next[c]
			if !ok {
				t = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint16]int32{}})
				nodes[s].next[c] = t
			}
			s = t
		}
		nodes[s].out = append(nodes[s].out, int32(id))
	}

	nc := m.nclass
	m.delta = make([]int32, int32(len(nodes))*nc)
	fail := make([]int32, len(nodes))
	queue := make([]int32, 0, len(nodes))
	for c := int32(0); c < nc; c++ {
		if t, ok := nodes[0].next[uint16(c)]; ok {
			m.delta[c] = t
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		// A state's outputs include those of its failure chain, so the scan
		// never walks failure links.
		nodes[s].out = append(nodes[s].out, nodes[fail[s]].out...)
		for c := int32(0); c < nc; c++ {
			if t, ok := nodes[s].next[uint16(c)]; ok {
				fail[t] = m.delta[fail[s]*nc+c]
				m.delta[s*nc+c] = t
				queue = append(queue, t)
			} else {
				m.delta[s*nc+c] = m.delta[fail[s]*nc+c]
			}
		}
	}
	m.outOff = make([]int32, len(nodes)+1)
	for s := range nodes {
		m.outOff[s] = int32(len(m.outs))
		m.outs = append(m.outs, nodes[s].out...)
	}
	m.outOff[len(nodes)] = int32(len(m.outs))
	return m
}

// scan calls fn for every occurrence of every pattern in text, in order of
// end offset; end is exclusive.
func (m *acMatcher) scan(text []byte, fn func(pat int32, start, end int)) {
	if len(m.outs) == 0 {
		return
	}
	s := int32(0)
	delta, class, nc, outOff := m.delta, &m.class, m.nclass, m.outOff
	for i := 0; i < len(text); i++ {
		s = delta[s*nc+int32(class[text[i]])]
		if o, e := outOff[s], outOff[s+1]; o != e {
			for _, p := range m.outs[o:e] {
				fn(p, i+1-int(m.lens[p]), i+1)
			}
		}
	}
}

// Word entry roles: what a pattern means to the rule that contributed it.
const (
	roleToken   = iota // existence / occurrence token
	roleSwap           // substitution key; idx is the swap pair
	roleEither         // consistency variant; idx is the pair, side 0 or 1
	roleProduct        // capitalization product name
	roleSpam           // subject / preview_text spam word
)

type wordEntry struct {
	rule  int32
	role  uint8
	side  uint8
	idx   int32
	exact string // original spelling, checked when the rule is case-sensitive
}

// wordIndex is every word list of every rule of a policy behind one
// automaton. Matches are dispatched to rules afterwards by scope and
// selector, so adding rules does not add passes.
type wordIndex struct {
	ac      *acMatcher
	entries [][]wordEntry // pattern id → entries
	pats    []string      // folded patterns
}

func buildWordIndex(rules []*rule) *wordIndex {
	w := &wordIndex{}
	ids := map[string]int32{}
	add := func(text string, e wordEntry) {
		f := foldString(normalizeText(text))
		if f == "" {
			return
		}
		id, ok := ids[f]
		if !ok {
			id = int32(len(w.pats))
			ids[f] = id
			w.pats = append(w.pats, f)
			w.entries = append(w.entries, nil)
		}
		w.entries[id] = append(w.entries[id], e)
	}
	for ri, r := range rules {
		c := &r.cfg
		rid := int32(ri)
		exact := func(s string) string {
			if c.IgnoreCase != nil && !*c.IgnoreCase {
				return normalizeText(s)
			}
			return ""
		}
		switch c.Kind {
		case "existence", "occurrence":
			for _, t := range c.Tokens {
				add(t, wordEntry{rule: rid, role: roleToken, exact: exact(t)})
			}
		case "substitution":
			for i, p := range c.Swap {
				add(p.From, wordEntry{rule: rid, role: roleSwap, idx: int32(i), exact: exact(p.From)})
			}
		case "consistency":
			for i, p := range c.Either {
				add(p.From, wordEntry{rule: rid, role: roleEither, idx: int32(i), side: 0, exact: exact(p.From)})
				add(p.To, wordEntry{rule: rid, role: roleEither, idx: int32(i), side: 1, exact: exact(p.To)})
			}
		case "capitalization":
			for i, p := range c.Products {
				add(p, wordEntry{rule: rid, role: roleProduct, idx: int32(i)})
			}
		case "subject", "preview_text":
			for _, t := range c.SpamWords {
				add(t, wordEntry{rule: rid, role: roleSpam})
			}
		}
	}
	w.ac = newAC(w.pats)
	return w
}

// isWordByte reports whether the rune starting or ending at a boundary is a
// word character. Apostrophes count, so "don't" is one word.
func isWordRune(r rune) bool {
	return r == '_' || r == '\'' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// wholeWord reports whether text[start:end] is not glued to word characters
// on a side where the match itself begins or ends with a word character.
// Patterns like "!!!" or "$$$" therefore match anywhere.
func wholeWord(text []byte, start, end int) bool {
	if start > 0 {
		first, _ := utf8.DecodeRune(text[start:end])
		prev, _ := utf8.DecodeLastRune(text[:start])
		if isWordRune(first) && isWordRune(prev) {
			return false
		}
	}
	if end < len(text) {
		last, _ := utf8.DecodeLastRune(text[start:end])
		next, _ := utf8.DecodeRune(text[end:])
		if isWordRune(last) && isWordRune(next) {
			return false
		}
	}
	return true
}
