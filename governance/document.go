package governance

import (
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// MaxFieldBytes bounds the input read from one field. Anything beyond is not
// checked (and reported as such); a legitimate email is a hundred times
// smaller, and the bound keeps time and memory linear in a known constant.
const MaxFieldBytes = 8 << 20

// Document is one staged artifact to check.
type Document struct {
	ArtifactID string            `json:"artifact_id"`
	Channel    string            `json:"channel"`            // email | page | segment | workflow
	Markets    []string          `json:"markets,omitempty"`  // ISO 3166-1 alpha-2, upper case
	Industry   string            `json:"industry,omitempty"` // e.g. finserv, health
	Recipients int               `json:"recipients"`         // audience size; -1 when unknown
	Platform   string            `json:"platform,omitempty"` // local | hubspot | mailchimp | wordpress
	Fields     []Field           `json:"fields,omitempty"`   // subject, preview_text, from_name, html, text, title, meta_description
	Headers    map[string]string `json:"headers,omitempty"`  // email headers the target will add
	// SegmentProperties lists every contact property the segment's
	// conditions filter on (channel segment).
	SegmentProperties []string `json:"segment_properties,omitempty"`
	// SetWith names the tool that sets the document's markets, industry
	// and UTM tagging where it is checked (the sandbox: "update_campaign"),
	// so a fix that asks for them names the call that applies it. Empty
	// (lastmile check over files, set by flags) keeps the plain wording.
	SetWith string `json:"set_with,omitempty"`
	// NotSentTo says the segment is checked where nothing is sent to it: a
	// workspace segment in the workspace. Rules about an audience
	// (consent) apply in each campaign that sends to it, under that
	// campaign's markets; a suppression list is only ever excluded.
	NotSentTo bool `json:"not_sent_to,omitempty"`
}

// Field is one named piece of a document. HTML fields are tokenized; other
// fields are plain text.
type Field struct {
	Name  string `json:"name"`
	HTML  bool   `json:"html,omitempty"`
	Value string `json:"value"`
}

// scope is a set of the places text can sit in; every byte of a field's text
// stream carries one.
type scope uint16

const (
	scHeading scope = 1 << iota
	scLinkText
	scAlt
	scSubject
	scPreview
	scFromName
	scTitle
	scMetaDesc
	scBody
	scRaw
	scName // internal names of segments and workflows: no reader sees them

	// scText is everything a reader sees.
	scText = scHeading | scLinkText | scAlt | scSubject | scPreview | scFromName | scTitle | scMetaDesc | scBody
)

var scopeNames = []struct {
	name string
	s    scope
}{
	{"heading", scHeading}, {"link_text", scLinkText}, {"alt", scAlt}, {"subject", scSubject},
	{"preview_text", scPreview}, {"from_name", scFromName}, {"title", scTitle},
	{"meta_description", scMetaDesc}, {"body", scBody}, {"text", scText}, {"raw", scRaw}, {"name", scName},
}

func scopeNamed(name string) (scope, bool) {
	for _, s := range scopeNames {
		if s.name == name {
			return s.s, true
		}
	}
	return 0, false
}

func scopeNameList() []string {
	out := make([]string, len(scopeNames))
	for i, s := range scopeNames {
		out[i] = s.name
	}
	return out
}

// fieldScope is the scope of a plain-text field, by name. Unknown names are
// body text: a checker that ignored an unexpected field would let banned
// words through.
func fieldScope(name string) scope {
	switch name {
	case "subject":
		return scSubject
	case "preview_text", "preheader":
		return scPreview
	case "from_name":
		return scFromName
	case "title":
		return scTitle
	case "meta_description":
		return scMetaDesc
	case "name":
		return scName
	}
	return scBody
}

type anchor struct{ at, src int32 }

type run struct {
	at   int32
	mask scope
}

// stream is a field's readable text, whitespace-collapsed and entity-decoded,
// with a case-folded twin of equal length and the maps back to source
// offsets and scopes. Block boundaries are '\n' (a word and sentence
// boundary no phrase can span).
type stream struct {
	text    []byte
	fold    []byte
	anchors []anchor // sorted by at; src offset of text[i] is a.src + (i - a.at)
	runs    []run    // sorted by at; mask of text[i] is the last run at or before i
	delta   int32
	pending bool // a collapsed whitespace run waits to be emitted
	pendSrc int32
	pendMsk scope
}

func (s *stream) reset() {
	s.text, s.fold, s.anchors, s.runs = s.text[:0], s.fold[:0], s.anchors[:0], s.runs[:0]
	s.delta, s.pending = -1, false
}

func (s *stream) put(b []byte, src int32, mask scope, fold []byte) {
	at := int32(len(s.text))
	if src-at != s.delta || len(s.anchors) == 0 {
		s.anchors = append(s.anchors, anchor{at, src})
		s.delta = src - at
	}
	if len(s.runs) == 0 || s.runs[len(s.runs)-1].mask != mask {
		s.runs = append(s.runs, run{at, mask})
	}
	s.text = append(s.text, b...)
	s.fold = append(s.fold, fold...)
}

func (s *stream) flushSpace() {
	if s.pending {
		s.pending = false
		s.put([]byte{' '}, s.pendSrc, s.pendMsk, []byte{' '})
	}
}

func (s *stream) space(src int, mask scope) {
	if s.pending || len(s.text) == 0 || s.text[len(s.text)-1] == '\n' {
		return
	}
	s.pending, s.pendSrc, s.pendMsk = true, int32(src), mask
}

// sep ends a block: sentences and phrases never continue across it.
func (s *stream) sep(src int) {
	s.pending = false
	if len(s.text) == 0 || s.text[len(s.text)-1] == '\n' {
		return
	}
	s.put([]byte{'\n'}, int32(src), 0, []byte{'\n'})
}

func (s *stream) emit(r rune, src int, mask scope) {
	n, sp, drop := normalizeRune(r)
	switch {
	case drop:
		return
	case sp:
		s.space(src, mask)
		return
	}
	s.flushSpace()
	if n < utf8.RuneSelf {
		b := byte(n)
		s.put([]byte{b}, int32(src), mask, []byte{byte(foldRune(n))})
		return
	}
	var buf, fb [utf8.UTFMax]byte
	k := utf8.EncodeRune(buf[:], n)
	utf8.EncodeRune(fb[:], foldRune(n))
	s.put(buf[:k], int32(src), mask, fb[:k])
}

// appendSource adds src[start:end] to the stream. decode turns character
// references into text (HTML); plain marks plain-text fields, where a blank
// line is a block boundary.
func (s *stream) appendSource(src string, start, end int, mask scope, decode, plain bool) {
	newlines := 0
	for i := start; i < end; {
		c := src[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '&' && decode:
				if r, multi, n := decodeEntity(src[i:end]); n > 0 {
					if multi != "" {
						for _, mr := range multi {
							s.emit(mr, i, mask)
						}
					} else {
						s.emit(r, i, mask)
					}
					i += n
					newlines = 0
					continue
				}
			case (c == '{' || c == '*') && i+1 < end:
				// Template tokens ({{ contact.firstname }}, {% if %},
				// *|FNAME|*) are not prose: "FNAME" is no acronym and no
				// shouting. The tokens rule reads them from the source.
				if n := templateTokenLen(src[i:end]); n > 0 {
					s.space(i, mask)
					i += n
					newlines = 0
					continue
				}
			case c == '\n' && plain:
				newlines++
				if newlines == 2 {
					s.sep(i)
				} else {
					s.space(i, mask)
				}
				i++
				continue
			case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f':
				s.space(i, mask)
				i++
				continue
			}
			newlines = 0
			// ASCII fast path: no normalization applies.
			s.flushSpace()
			at := int32(len(s.text))
			if int32(i)-at != s.delta || len(s.anchors) == 0 {
				s.anchors = append(s.anchors, anchor{at, int32(i)})
				s.delta = int32(i) - at
			}
			if len(s.runs) == 0 || s.runs[len(s.runs)-1].mask != mask {
				s.runs = append(s.runs, run{at, mask})
			}
			s.text = append(s.text, c)
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			s.fold = append(s.fold, c)
			i++
			continue
		}
		newlines = 0
		r, n := utf8.DecodeRuneInString(src[i:end])
		s.emit(r, i, mask)
		i += n
	}
}

// templateTokenLen returns the length of the template token s starts with,
// or 0.
func templateTokenLen(s string) int {
	var closer string
	switch {
	case strings.HasPrefix(s, "{{"):
		closer = "}}"
	case strings.HasPrefix(s, "{%"):
		closer = "%}"
	case strings.HasPrefix(s, "*|"):
		closer = "|*"
	default:
		return 0
	}
	limit := min(len(s), 2+maxTokenIn)
	if closer == "|*" {
		limit = min(len(s), 2+64)
	}
	if k := strings.Index(s[2:limit], closer); k >= 0 {
		return 2 + k + 2
	}
	return 0
}

func (s *stream) srcOf(i int) int {
	a := sort.Search(len(s.anchors), func(k int) bool { return int(s.anchors[k].at) > i }) - 1
	if a < 0 {
		return 0
	}
	return int(s.anchors[a].src) + i - int(s.anchors[a].at)
}

func (s *stream) maskAt(i int) scope {
	k := sort.Search(len(s.runs), func(k int) bool { return int(s.runs[k].at) > i }) - 1
	if k < 0 {
		return 0
	}
	return s.runs[k].mask
}

// spanMask is the scope a match [start,end) sits in: what both ends share.
func (s *stream) spanMask(start, end int) scope {
	if end <= start {
		return 0
	}
	return s.maskAt(start) & s.maskAt(end-1)
}

// attrSpan locates an attribute value in the source.
type attrSpan struct {
	off, end int32
	present  bool
}

func (a attrSpan) value(src string) string {
	if !a.present {
		return ""
	}
	return html.UnescapeString(src[a.off:a.end])
}

type linkInfo struct {
	tagOff             int32
	href               attrSpan
	textStart, textEnd int32 // stream span of the link text
	hasImg             bool
	hrefDecoded        string // href value, entity-decoded on first use
	decoded            bool
}

// hrefOf returns the decoded href of link k, decoding once: several rules
// read every link and "&amp;" in query strings would otherwise allocate
// for each.
func (f *fieldScan) hrefOf(k int) string {
	l := &f.links[k]
	if !l.decoded {
		l.hrefDecoded, l.decoded = strings.TrimSpace(l.href.value(f.src)), true
	}
	return l.hrefDecoded
}

type imageInfo struct {
	tagOff                   int32
	src, alt, width, height  attrSpan
	style, class, role, aria attrSpan
}

// cssSource is a place colours and fonts can be set.
type cssSource struct {
	off, end int32
	kind     uint8
}

const (
	cssDecls     = iota // style="..." attribute: declarations
	cssSheet            // <style> block: rules
	cssAttrColor        // bgcolor=, color=, text=, link=
	cssAttrFont         // <font face=>
)

type headingInfo struct {
	start, end int32 // stream span
	level      int8
	tagOff     int32
}

// fieldScan is everything the rules need from one field, built in one pass.
type fieldScan struct {
	field    *Field
	src      string // the (possibly truncated) value
	html     bool
	mask     scope // scopes this field can contain
	st       stream
	links    []linkInfo
	images   []imageInfo
	css      []cssSource
	headings []headingInfo
	bodyEnd  int        // where missing footer content belongs
	lines    []int32    // line start offsets, built on the first pos() call
	runesAt  []runeMark // rune counts at rune-aligned offsets about posBlock apart
	ascii    bool
}

type runeMark struct{ off, runes int32 }

// posBlock is the granularity of the rune-count checkpoints pos() uses, so
// a column on a 5 MB single-line document costs at most one block of
// counting.
const posBlock = 1024

func (f *fieldScan) reset(fd *Field) {
	f.field = fd
	f.src = fd.Value
	if len(f.src) > MaxFieldBytes {
		f.src = f.src[:MaxFieldBytes]
	}
	f.html = fd.HTML
	f.st.reset()
	if cap(f.st.text) < len(f.src) {
		// The stream is never longer than its source; one allocation
		// instead of repeated growth, reused for the next field.
		f.st.text, f.st.fold = make([]byte, 0, len(f.src)), make([]byte, 0, len(f.src))
	}
	f.links, f.images, f.css, f.headings, f.lines, f.runesAt = f.links[:0], f.images[:0], f.css[:0], f.headings[:0], f.lines[:0], f.runesAt[:0]
	f.bodyEnd = len(f.src)
	if fd.HTML {
		f.mask = scBody | scHeading | scLinkText | scAlt | scTitle
		f.scanHTML()
	} else {
		f.mask = fieldScope(fd.Name)
		f.st.appendSource(f.src, 0, len(f.src), f.mask, false, true)
	}
	f.st.flushSpace()
}

// tagID is an HTML tag name the scanner cares about; others are 0.
type tagID uint8

const (
	tOther tagID = iota
	tA
	tImg
	tH
	tBlock
	tBr
	tStyle
	tSkip // raw-text elements whose content is never shown
	tTitle
	tCell // td, th, tr, table, tbody: close unterminated headings and links
	tBody
	tFont
)

// tagOf reads the tag name from a raw tag without allocating (Tokenizer's
// TagName copies on every call).
func tagOf(raw []byte) (tagID, int8) {
	i := 1
	if i < len(raw) && raw[i] == '/' {
		i++
	}
	var buf [12]byte
	n := 0
	for ; i < len(raw) && n < len(buf); i++ {
		c := raw[i]
		if c == ' ' || c == '/' || c == '>' || c == '\t' || c == '\n' || c == '\r' || c == '\f' {
			break
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	switch string(buf[:n]) {
	case "a":
		return tA, 0
	case "img":
		return tImg, 0
	case "h1", "h2", "h3", "h4", "h5", "h6":
		return tH, int8(buf[1] - '0')
	case "br", "hr":
		return tBr, 0
	case "style":
		return tStyle, 0
	case "script", "noscript", "iframe", "noembed", "noframes":
		// Only raw-text elements: the Tokenizer ends them at their own end
		// tag or EOF, so an unclosed one cannot hide the rest of the body
		// behind a skip flag.
		return tSkip, 0
	case "title":
		return tTitle, 0
	case "td", "th", "tr", "table", "tbody", "thead", "tfoot":
		return tCell, 0
	case "body":
		return tBody, 0
	case "font":
		return tFont, 0
	case "p", "div", "li", "ul", "ol", "center", "blockquote", "section", "article", "header", "footer",
		"nav", "main", "aside", "address", "figure", "figcaption", "dl", "dt", "dd", "pre", "form",
		"button", "caption", "html", "option", "select", "textarea", "label", "fieldset", "legend":
		return tBlock, 0
	}
	return tOther, 0
}

// scanHTML tokenizes the field once. All state is flat (open heading, open
// link, skip depth): nesting depth never costs stack or memory.
func (f *fieldScan) scanHTML() {
	src := f.src
	z := html.NewTokenizer(strings.NewReader(src))
	off := 0
	skip := tagID(0) // the raw-text element whose content is being skipped
	inStyle, inTitle := false, false
	heading := -1 // index into f.headings of the open heading
	link := -1    // index into f.links of the open link
	bodyEnd := -1

	closeHeading := func(at int) {
		if heading >= 0 {
			f.headings[heading].end = int32(len(f.st.text))
			f.st.sep(at)
			heading = -1
		}
	}
	closeLink := func() {
		if link >= 0 {
			f.st.flushSpace()
			f.links[link].textEnd = int32(len(f.st.text))
			link = -1
		}
	}
	mask := func() scope {
		m := scBody
		if heading >= 0 {
			m |= scHeading
		}
		if link >= 0 {
			m |= scLinkText
		}
		return m
	}

	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		raw := z.Raw()
		tok := off
		off += len(raw)
		switch tt {
		case html.TextToken:
			switch {
			case inStyle:
				f.css = append(f.css, cssSource{int32(tok), int32(off), cssSheet})
			case inTitle:
				f.st.appendSource(src, tok, off, scTitle, true, false)
			case skip != 0:
			default:
				f.st.appendSource(src, tok, off, mask(), true, false)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			id, level := tagOf(raw)
			self := tt == html.SelfClosingTagToken
			f.attrs(tok, off, id)
			switch id {
			case tA:
				closeLink()
				f.st.flushSpace()
				if !self {
					link = len(f.links) - 1
					f.links[link].textStart = int32(len(f.st.text))
				}
			case tImg:
				if link >= 0 {
					f.links[link].hasImg = true
				}
				img := &f.images[len(f.images)-1]
				if img.alt.present && img.alt.end > img.alt.off {
					f.st.sep(tok)
					f.st.appendSource(src, int(img.alt.off), int(img.alt.end), scAlt, true, false)
					f.st.sep(tok)
				}
			case tH:
				closeHeading(tok)
				f.st.sep(tok)
				if !self {
					f.headings = append(f.headings, headingInfo{start: int32(len(f.st.text)), level: level, tagOff: int32(tok)})
					heading = len(f.headings) - 1
				}
			case tBlock, tBr, tCell, tBody:
				f.st.sep(tok)
			case tStyle:
				inStyle = !self
			case tSkip:
				if !self && skip == 0 {
					skip = id
				}
			case tTitle:
				f.st.sep(tok)
				inTitle = !self
			}
		case html.EndTagToken:
			id, _ := tagOf(raw)
			switch id {
			case tA:
				closeLink()
			case tH:
				closeHeading(tok)
			case tCell, tBody:
				closeLink()
				closeHeading(tok)
				f.st.sep(tok)
				if id == tBody {
					bodyEnd = tok
				}
			case tBlock, tBr:
				f.st.sep(tok)
			case tStyle:
				inStyle = false
			case tSkip:
				skip = 0
			case tTitle:
				inTitle = false
				f.st.sep(tok)
			}
		}
	}
	closeLink()
	closeHeading(off)
	if bodyEnd >= 0 {
		f.bodyEnd = bodyEnd
	}
}

// attrs parses the attributes of the start tag at src[tok:end] in place,
// recording the ones rules look at with their source offsets (the Tokenizer
// unescapes values but does not say where they are).
func (f *fieldScan) attrs(tok, end int, id tagID) {
	src := f.src[tok:end]
	var link linkInfo
	var img imageInfo
	link.tagOff, img.tagOff = int32(tok), int32(tok)
	i := 1
	for i < len(src) && !isHTMLSpace(src[i]) && src[i] != '>' && src[i] != '/' {
		i++
	}
	for i < len(src) {
		for i < len(src) && (isHTMLSpace(src[i]) || src[i] == '/') {
			i++
		}
		if i >= len(src) || src[i] == '>' {
			break
		}
		ns := i
		i++ // the first character may be '='
		for i < len(src) && !isHTMLSpace(src[i]) && src[i] != '/' && src[i] != '>' && src[i] != '=' {
			i++
		}
		name := src[ns:i]
		for i < len(src) && isHTMLSpace(src[i]) {
			i++
		}
		var val attrSpan
		val.present = true
		val.off, val.end = int32(tok+i), int32(tok+i)
		if i < len(src) && src[i] == '=' {
			i++
			for i < len(src) && isHTMLSpace(src[i]) {
				i++
			}
			if i < len(src) && (src[i] == '"' || src[i] == '\'') {
				q := src[i]
				i++
				vs := i
				if k := strings.IndexByte(src[i:], q); k >= 0 {
					i += k
				} else {
					i = len(src)
				}
				val.off, val.end = int32(tok+vs), int32(tok+i)
				if i < len(src) {
					i++
				}
			} else {
				vs := i
				for i < len(src) && !isHTMLSpace(src[i]) && src[i] != '>' {
					i++
				}
				val.off, val.end = int32(tok+vs), int32(tok+i)
			}
		}
		switch {
		case strings.EqualFold(name, "style"):
			f.css = append(f.css, cssSource{val.off, val.end, cssDecls})
			img.style = val
		case strings.EqualFold(name, "bgcolor"), id == tFont && strings.EqualFold(name, "color"),
			id == tBody && (strings.EqualFold(name, "text") || strings.EqualFold(name, "link") || strings.EqualFold(name, "vlink") || strings.EqualFold(name, "alink")):
			f.css = append(f.css, cssSource{val.off, val.end, cssAttrColor})
		case id == tFont && strings.EqualFold(name, "face"):
			f.css = append(f.css, cssSource{val.off, val.end, cssAttrFont})
		case id == tA && strings.EqualFold(name, "href"):
			if !link.href.present {
				link.href = val
			}
		case id == tImg:
			switch {
			case strings.EqualFold(name, "src") && !img.src.present:
				img.src = val
			case strings.EqualFold(name, "alt") && !img.alt.present:
				img.alt = val
			case strings.EqualFold(name, "width"):
				img.width = val
			case strings.EqualFold(name, "height"):
				img.height = val
			case strings.EqualFold(name, "class"):
				img.class = val
			case strings.EqualFold(name, "role"):
				img.role = val
			case strings.EqualFold(name, "aria-hidden"):
				img.aria = val
			}
		}
	}
	switch id {
	case tA:
		f.links = append(f.links, link)
	case tImg:
		f.images = append(f.images, img)
	}
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// pos converts a source offset to a 1-based line and column (in characters).
func (f *fieldScan) pos(off int) (line, col int) {
	off = min(max(off, 0), len(f.src))
	if len(f.lines) == 0 {
		f.lines = append(f.lines, 0)
		for i := 0; i < len(f.src); {
			k := strings.IndexByte(f.src[i:], '\n')
			if k < 0 {
				break
			}
			i += k + 1
			f.lines = append(f.lines, int32(i))
		}
		f.ascii = true
		for i := 0; i < len(f.src); i++ {
			if f.src[i] >= utf8.RuneSelf {
				f.ascii = false
				break
			}
		}
		if !f.ascii {
			f.runesAt = append(f.runesAt, runeMark{0, 0})
			n, prev := int32(0), 0
			for b := posBlock; b < len(f.src); b += posBlock {
				for b < len(f.src) && !utf8.RuneStart(f.src[b]) {
					b++
				}
				n += int32(utf8.RuneCountInString(f.src[prev:b]))
				f.runesAt = append(f.runesAt, runeMark{int32(b), n})
				prev = b
			}
		}
	}
	l := sort.Search(len(f.lines), func(k int) bool { return int(f.lines[k]) > off }) - 1
	start := int(f.lines[l])
	if f.ascii {
		return l + 1, off - start + 1
	}
	return l + 1, f.runesBefore(off) - f.runesBefore(start) + 1
}

func (f *fieldScan) runesBefore(off int) int {
	b := min(off/posBlock, len(f.runesAt)-1)
	for b > 0 && int(f.runesAt[b].off) > off {
		b--
	}
	m := f.runesAt[b]
	return int(m.runes) + utf8.RuneCountInString(f.src[m.off:off])
}
