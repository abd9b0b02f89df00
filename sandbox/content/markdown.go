package content

import (
	"regexp"
	"strings"
	"sync"
)

// The paragraph Markdown subset: **bold**, *italic* (also _italic_),
// [label](url), a single newline as a line break, a blank line as a new
// paragraph, and backslash escapes. Nothing else; in particular raw HTML in
// the text is escaped, never passed through.
//
// The parser is linear in the input: a delimiter stack for emphasis, a
// bracket stack for links, and a precomputed "next stop" table for link
// destinations, so no input makes it rescan.

// inline is one node of a parsed paragraph line.
type inline struct {
	kind     inlineKind
	text     string // text, token
	url      string // link
	children []inline
}

type inlineKind int

const (
	inText inlineKind = iota
	inToken
	inBreak
	inStrong
	inEm
	inLink
)

// mdParagraphs splits Markdown text into paragraphs (at blank lines) of
// parsed inline content.
func mdParagraphs(s string) [][]inline {
	s = cleanText(s)
	var out [][]inline
	for _, para := range blankLine().Split(s, -1) {
		para = strings.Trim(para, " \t\n")
		if para == "" {
			continue
		}
		out = append(out, parseInline(para))
	}
	return out
}

var blankLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\n[ \t]*\n`) })

// atom kinds of the lexer.
type atomKind int

const (
	aText atomKind = iota
	aToken
	aSpace   // run of spaces/tabs
	aNewline // a single '\n' (line break)
	aStar    // run of '*'
	aUnder   // run of '_'
	aOpenBracket
	aCloseBracket
	aOpenParen
	aCloseParen
)

type atom struct {
	kind atomKind
	text string
}

func lex(s string) []atom {
	var atoms []atom
	textStart := -1
	var esc strings.Builder // pending text that came from escapes, merged into text atoms
	flush := func(i int) {
		if textStart >= 0 {
			esc.WriteString(s[textStart:i])
			textStart = -1
		}
		if esc.Len() > 0 {
			atoms = append(atoms, atom{aText, esc.String()})
			esc.Reset()
		}
	}
	for i := 0; i < len(s); {
		if end, ok := tokenEnd(s, i); ok {
			flush(i)
			atoms = append(atoms, atom{aToken, s[i:end]})
			i = end
			continue
		}
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && strings.IndexByte("\\*_[]()`#!-+.{}|", s[i+1]) >= 0 {
				if textStart >= 0 {
					esc.WriteString(s[textStart:i])
					textStart = -1
				}
				esc.WriteByte(s[i+1])
				i += 2
				continue
			}
		case ' ', '\t':
			flush(i)
			j := i
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			// Trailing spaces before a newline are not content.
			if j < len(s) && s[j] == '\n' {
				i = j
				continue
			}
			atoms = append(atoms, atom{aSpace, " "})
			i = j
			continue
		case '\n':
			flush(i)
			atoms = append(atoms, atom{aNewline, "\n"})
			i++
			// Leading spaces of the next line are not content.
			for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
				i++
			}
			continue
		case '*', '_':
			flush(i)
			j := i
			for j < len(s) && s[j] == c {
				j++
			}
			k := aStar
			if c == '_' {
				k = aUnder
			}
			atoms = append(atoms, atom{k, s[i:j]})
			i = j
			continue
		case '[', ']', '(', ')':
			flush(i)
			k := aOpenBracket
			switch c {
			case ']':
				k = aCloseBracket
			case '(':
				k = aOpenParen
			case ')':
				k = aCloseParen
			}
			atoms = append(atoms, atom{k, s[i : i+1]})
			i++
			continue
		}
		if textStart < 0 {
			textStart = i
		}
		i++
	}
	flush(len(s))
	return atoms
}

// node in the flat output list; emphasis and links become open/close
// markers, which are properly nested by construction.
type flatNode struct {
	kind  flatKind
	text  string
	url   string
	delim atomKind // for delimiters: aStar or aUnder
	n     int      // delimiter run length
}

type flatKind int

// maxEmphasisDepth bounds how deeply emphasis can nest (and so the depth of
// the tree and of the recursion that builds and renders it).
const maxEmphasisDepth = 8

const (
	fText flatKind = iota
	fToken
	fBreak
	fDelim // unresolved emphasis delimiter; becomes text if unmatched
	fStrongOpen
	fStrongClose
	fEmOpen
	fEmClose
	fLinkOpen
	fLinkClose
	fBracket // unresolved '['; becomes text if unmatched
)

func parseInline(s string) []inline {
	atoms := lex(s)
	// nextStop[i]: index of the first atom at or after i that ends a link
	// destination (')' or whitespace), len(atoms) if none.
	nextStop := make([]int, len(atoms)+1)
	nextStop[len(atoms)] = len(atoms)
	for i := len(atoms) - 1; i >= 0; i-- {
		switch atoms[i].kind {
		case aCloseParen, aSpace, aNewline:
			nextStop[i] = i
		default:
			nextStop[i] = nextStop[i+1]
		}
	}

	nodes := make([]flatNode, 0, len(atoms)+1)
	type bracket struct {
		node     int // index in nodes
		emphBase int // emphasis stack height when it was opened
	}
	var brackets []bracket
	var emph []int // indices of open delimiter nodes
	emphFloor := func() int {
		if len(brackets) == 0 {
			return 0
		}
		return brackets[len(brackets)-1].emphBase
	}

	for i := 0; i < len(atoms); i++ {
		a := atoms[i]
		switch a.kind {
		case aText, aSpace, aOpenParen, aCloseParen:
			nodes = append(nodes, flatNode{kind: fText, text: a.text})
		case aToken:
			nodes = append(nodes, flatNode{kind: fToken, text: a.text})
		case aNewline:
			nodes = append(nodes, flatNode{kind: fBreak})
		case aStar, aUnder:
			prevSpace := i == 0 || atoms[i-1].kind == aSpace || atoms[i-1].kind == aNewline
			nextSpace := i+1 >= len(atoms) || atoms[i+1].kind == aSpace || atoms[i+1].kind == aNewline
			canOpen, canClose := !nextSpace, !prevSpace
			if a.kind == aUnder {
				// intra-word underscores (snake_case) are literal
				prevWord := i > 0 && atoms[i-1].kind == aText
				nextWord := i+1 < len(atoms) && atoms[i+1].kind == aText
				if prevWord && nextWord {
					canOpen, canClose = false, false
				}
			}
			n := len(a.text)
			if n > 2 || (!canOpen && !canClose) {
				nodes = append(nodes, flatNode{kind: fText, text: a.text})
				continue
			}
			if canClose {
				// Find the nearest opener of the same kind and length above
				// the floor; openers above it are unmatched and become text.
				match := -1
				for j := len(emph) - 1; j >= emphFloor(); j-- {
					o := nodes[emph[j]]
					if o.delim == a.kind && o.n == n {
						match = j
						break
					}
				}
				if match >= 0 {
					for _, idx := range emph[match+1:] {
						nodes[idx].kind = fText
					}
					open := emph[match]
					emph = emph[:match]
					if n == 2 {
						nodes[open].kind = fStrongOpen
						nodes = append(nodes, flatNode{kind: fStrongClose})
					} else {
						nodes[open].kind = fEmOpen
						nodes = append(nodes, flatNode{kind: fEmClose})
					}
					continue
				}
			}
			if canOpen && len(emph) < maxEmphasisDepth {
				emph = append(emph, len(nodes))
				nodes = append(nodes, flatNode{kind: fDelim, text: a.text, delim: a.kind, n: n})
				continue
			}
			nodes = append(nodes, flatNode{kind: fText, text: a.text})
		case aOpenBracket:
			brackets = append(brackets, bracket{node: len(nodes), emphBase: len(emph)})
			nodes = append(nodes, flatNode{kind: fBracket, text: "["})
		case aCloseBracket:
			if len(brackets) == 0 {
				nodes = append(nodes, flatNode{kind: fText, text: "]"})
				continue
			}
			br := brackets[len(brackets)-1]
			brackets = brackets[:len(brackets)-1]
			// A link needs "(" right after "]", then a destination with no
			// whitespace up to ")".
			if i+1 < len(atoms) && atoms[i+1].kind == aOpenParen {
				stop := nextStop[i+2]
				if stop < len(atoms) && atoms[stop].kind == aCloseParen && stop > i+2 {
					var u strings.Builder
					for _, d := range atoms[i+2 : stop] {
						u.WriteString(d.text)
					}
					// Emphasis opened inside the label and still open is text.
					for _, idx := range emph[br.emphBase:] {
						nodes[idx].kind = fText
					}
					emph = emph[:br.emphBase]
					nodes[br.node].kind = fLinkOpen
					nodes[br.node].url = u.String()
					nodes = append(nodes, flatNode{kind: fLinkClose})
					// No links inside links: outer brackets become text.
					for _, ob := range brackets {
						nodes[ob.node].kind = fText
					}
					brackets = brackets[:0]
					i = stop
					continue
				}
			}
			nodes[br.node].kind = fText
			nodes = append(nodes, flatNode{kind: fText, text: "]"})
		}
	}
	for _, idx := range emph {
		nodes[idx].kind = fText
	}
	for _, b := range brackets {
		nodes[b.node].kind = fText
	}
	tree, _ := buildTree(nodes, 0)
	return tree
}

// buildTree turns the flat, properly nested node list into a tree.
func buildTree(nodes []flatNode, i int) ([]inline, int) {
	var out []inline
	var text strings.Builder // pending run of text, merged into one node
	flushText := func() {
		if text.Len() > 0 {
			out = append(out, inline{kind: inText, text: text.String()})
			text.Reset()
		}
	}
	for i < len(nodes) {
		n := nodes[i]
		switch n.kind {
		case fText, fDelim, fBracket:
			text.WriteString(n.text)
			i++
			continue
		}
		flushText()
		switch n.kind {
		case fToken:
			out = append(out, inline{kind: inToken, text: n.text})
			i++
		case fBreak:
			out = append(out, inline{kind: inBreak})
			i++
		case fStrongOpen, fEmOpen, fLinkOpen:
			kids, next := buildTree(nodes, i+1)
			k := inLink
			switch n.kind {
			case fStrongOpen:
				k = inStrong
			case fEmOpen:
				k = inEm
			}
			out = append(out, inline{kind: k, url: n.url, children: kids})
			i = next
		default: // a close marker ends this level
			return out, i + 1
		}
	}
	flushText()
	return out, i
}

// mdLinks returns the destinations of every link in the Markdown text, for
// validation.
func mdLinks(s string) []string {
	var urls []string
	var walk func([]inline)
	walk = func(ns []inline) {
		for _, n := range ns {
			if n.kind == inLink {
				urls = append(urls, n.url)
			}
			walk(n.children)
		}
	}
	for _, p := range mdParagraphs(s) {
		walk(p)
	}
	return urls
}
