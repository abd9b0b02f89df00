package outcomes

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The rates insights compare, per recipient of an email.
const (
	OpenRate       = "open"
	ClickRate      = "click"
	ConversionRate = "conversion"
)

var metrics = [...]string{OpenRate, ClickRate, ConversionRate}

// The features emails are grouped by, in the order claims with the same
// effect are listed.
const (
	FeatureSubjectLength       = "subject_length"
	FeatureSubjectQuestion     = "subject_question"
	FeatureSubjectNumber       = "subject_number"
	FeatureSubjectPersonalized = "subject_personalized"
	FeatureWeekday             = "weekday"
	FeatureHour                = "hour"
	FeatureSegment             = "segment"
	FeatureCTA                 = "cta"
	FeatureTemplate            = "template"
)

var features = []string{FeatureSubjectLength, FeatureSubjectQuestion, FeatureSubjectNumber, FeatureSubjectPersonalized, FeatureWeekday, FeatureHour, FeatureSegment, FeatureCTA, FeatureTemplate}

func isSubjectFeature(f string) bool { return strings.HasPrefix(f, "subject_") }

// Rate is successes among N recipients with its 95% Wilson score
// interval.
type Rate struct {
	Successes int64   `json:"successes"`
	N         int64   `json:"n"`
	Rate      float64 `json:"rate"`
	Low       float64 `json:"low"`
	High      float64 `json:"high"`
}

// z is the standard normal quantile of a two-sided 95% interval.
const z = 1.96

// NewRate returns s of n with its Wilson interval. The Wilson interval
// rather than the normal one because rates here are often near 0 (clicks,
// conversions) or on small n, where the normal interval leaves [0, 1]
// and is too narrow.
func NewRate(s, n int64) Rate {
	if n <= 0 {
		return Rate{}
	}
	// Explicit conversions keep the compiler from fusing multiply-adds,
	// so every platform gives the same bits.
	p, fn := float64(s)/float64(n), float64(n)
	z2 := float64(z * z)
	den := 1 + z2/fn
	center := float64(p+z2/(2*fn)) / den
	half := z * math.Sqrt(float64(float64(p*(1-p))/fn)+z2/float64(4*fn*fn)) / den
	return Rate{Successes: s, N: n, Rate: p, Low: math.Max(0, float64(center-half)), High: math.Min(1, float64(center+half))}
}

// Insights are what worked in a workspace's own history: each claim a
// group of emails whose rate differs from the rest of the workspace's.
type Insights struct {
	// Window is how long after an email a recipient's conversion counts
	// as the email's.
	Window    string `json:"window"`
	MinSample int    `json:"min_sample"`
	// Emails counts the emails with recipients; Baseline has the
	// workspace's rates over all of them, per metric.
	Emails   int             `json:"emails"`
	Baseline map[string]Rate `json:"baseline"`
	Claims   []Claim         `json:"claims"`
	Events   []TypeCount     `json:"events"`
	Unknown  []TypeCount     `json:"unknown"`
}

// Claim is one difference the history supports: emails with a feature
// against the rest of the workspace's emails, on one rate, made only when
// both have at least MinSample recipients and their intervals (as shown,
// to 0.1%) do not overlap.
//
// The comparison is against the rest rather than against the baseline
// because the baseline contains the group itself: the two are not
// independent, and a large group would be compared mostly with itself.
type Claim struct {
	Metric  string `json:"metric"`
	Feature string `json:"feature"`
	Bucket  string `json:"bucket"`
	In      Rate   `json:"in"`
	Rest    Rate   `json:"rest"`
	// Effect is In's rate less Rest's: claims are listed by its size.
	Effect float64 `json:"effect"`
	// Emails are the artifacts in the group, the figures' sources.
	Emails    []string `json:"emails"`
	Statement string   `json:"statement"`
}

// EmailInsights finds what worked among the catalog's emails in events.
func EmailInsights(cat Catalog, events []Event, opt Options) (Insights, error) {
	a := NewAggregate()
	a.Add(events...)
	return a.Insights(cat, opt)
}

// Insights finds what worked among the catalog's emails.
//
// An email's conversion rate counts its recipients who converted within
// the window after it touched them, whatever opt's model: a rate counts
// people, not credit, and under last-touch an email whose link leads to a
// landing page would never convert, the page being the last touch.
func (a *Aggregate) Insights(cat Catalog, opt Options) (Insights, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return Insights{}, err
	}
	opt.Model = Linear
	ix := newIndex(cat)
	converted := make([]*contactSet, len(ix.artifacts))
	var artOf []int // per target, its artifact's index or -1
	a.attribute(ix, opt, false, nil, func(c *conv, credits []credit, tgts []target) {
		for len(artOf) < len(tgts) {
			i, ok := ix.artByID[tgts[len(artOf)].artifact]
			if !ok {
				i = -1
			}
			artOf = append(artOf, i)
		}
		if c.contact == noContact {
			return
		}
		for _, cr := range credits {
			if art := artOf[cr.target]; art >= 0 && cr.share > 0 {
				s := converted[art]
				if s == nil {
					s = &contactSet{}
					converted[art] = s
				}
				s.add(c.contact)
			}
		}
	})
	stats := a.emailStats(ix, converted)
	out := Insights{Window: windowString(opt.Window), MinSample: opt.MinSample, Emails: len(stats), Baseline: map[string]Rate{}}
	all := sum(stats)
	for m, name := range metrics {
		out.Baseline[name] = NewRate(all.s[m], all.n)
	}
	out.Claims = claims(stats, opt, metrics[:], func(string) bool { return true })
	out.Events, out.Unknown = a.Counts()
	out.Events, out.Unknown = nonNil(out.Events), nonNil(out.Unknown)
	return out, nil
}

// Note is the short "from your history" text for drafting an email to
// segment: its emails' open rate and the subject features that beat the
// rest of them. With too few recipients in the segment it speaks of the
// whole workspace, and with too few there it is empty.
func (a *Aggregate) Note(cat Catalog, opt Options, segment string) (string, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return "", err
	}
	stats := a.emailStats(newIndex(cat), nil)
	from, where := "From your history", "emails"
	if segment != "" {
		var in []emailStat
		for _, s := range stats {
			if slices.Contains(s.art.Segments, segment) {
				in = append(in, s)
			}
		}
		if sum(in).n >= int64(opt.MinSample) {
			stats, where = in, "emails to segment "+strconv.QuoteToASCII(segment)
		} else {
			from = "From your history (too few recipients yet in segment " + strconv.QuoteToASCII(segment) + ", so the whole workspace)"
		}
	}
	all := sum(stats)
	if all.n < int64(opt.MinSample) {
		return "", nil
	}
	base := NewRate(all.s[0], all.n)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s open at %s (n=%s, %d %s).", from, where, percent(base), thousands(base.N), len(stats), plural(len(stats), "email", "emails"))
	var better []string
	for _, c := range claims(stats, opt, []string{OpenRate}, isSubjectFeature) {
		if c.Effect > 0 && len(better) < 2 {
			better = append(better, fmt.Sprintf("%s, %s (n=%s)", label(c.Feature, c.Bucket), percent(c.In), thousands(c.In.N)))
		}
	}
	if len(better) > 0 {
		fmt.Fprintf(&b, " Beat the rest: %s.", strings.Join(better, "; "))
	}
	return b.String(), nil
}

// emailStat is one email's recipients and its opening, clicking and
// converting recipients.
type emailStat struct {
	art *Artifact
	n   int64
	s   [len(metrics)]int64
}

func sum(stats []emailStat) emailStat {
	var t emailStat
	for _, s := range stats {
		t.n += s.n
		for m := range t.s {
			t.s[m] += s.s[m]
		}
	}
	return t
}

// emailStats counts each email's recipients: those it was delivered to,
// or, where its target reports no deliveries, sent to. Each contact counts
// once per email, also across its targets; openers and clickers beyond the
// recipients (a target that reports opens but not deliveries for some)
// are capped at them, so a rate is never above one.
func (a *Aggregate) emailStats(ix *index, converted []*contactSet) []emailStat {
	refsOf := make([][]int, len(ix.artifacts))
	for i := range a.refs {
		if _, art, ok := ix.resolve(&a.refs[i]); ok && art >= 0 {
			refsOf[art] = append(refsOf[art], i)
		}
	}
	var scratch []uint64
	count := func(refs []int, set int) int64 {
		if len(refs) == 1 {
			return int64(a.refs[refs[0]].sets[set].len())
		}
		scratch = scratch[:0]
		for _, r := range refs {
			scratch = a.refs[r].sets[set].orInto(scratch)
		}
		n := popcount(scratch)
		clear(scratch)
		return int64(n)
	}
	var stats []emailStat
	for i := range ix.artifacts {
		art := &ix.artifacts[i]
		if art.Kind != "email" || len(refsOf[i]) == 0 || (i > 0 && ix.artifacts[i-1].ID == art.ID) {
			continue
		}
		st := emailStat{art: art, n: count(refsOf[i], setDelivered)}
		if st.n == 0 {
			st.n = count(refsOf[i], setSent)
		}
		if st.n == 0 {
			continue
		}
		st.s[0] = min(st.n, count(refsOf[i], setOpen))
		st.s[1] = min(st.n, count(refsOf[i], setClick))
		if converted != nil && converted[i] != nil {
			s := converted[i]
			st.s[2] = min(st.n, int64(s.len()))
		}
		stats = append(stats, st)
	}
	return stats
}

type bucket struct {
	feature, name string
	emailStat
	emails []string
}

// claims compares every feature bucket of stats with the rest of stats,
// on the given metrics, for the features keep admits.
func claims(stats []emailStat, opt Options, on []string, keep func(string) bool) []Claim {
	all := sum(stats)
	buckets := map[[2]string]*bucket{}
	for _, st := range stats {
		for _, fb := range featuresOf(st.art, opt) {
			if !keep(fb[0]) {
				continue
			}
			b := buckets[fb]
			if b == nil {
				b = &bucket{feature: fb[0], name: fb[1]}
				buckets[fb] = b
			}
			b.n += st.n
			for m := range b.s {
				b.s[m] += st.s[m]
			}
			b.emails = append(b.emails, st.art.ID)
		}
	}
	var out []Claim
	for _, b := range buckets {
		rest := all.n - b.n
		if b.n < int64(opt.MinSample) || rest < int64(opt.MinSample) {
			continue
		}
		for m, metric := range metrics {
			if !slices.Contains(on, metric) {
				continue
			}
			in, other := NewRate(b.s[m], b.n), NewRate(all.s[m]-b.s[m], rest)
			if !Separate(in, other) {
				continue
			}
			c := Claim{Metric: metric, Feature: b.feature, Bucket: b.name, In: in, Rest: other, Effect: in.Rate - other.Rate, Emails: b.emails}
			c.Statement = statement(c)
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(x, y Claim) int {
		return cmp.Or(cmp.Compare(math.Abs(y.Effect), math.Abs(x.Effect)),
			cmp.Compare(slices.Index(features, x.Feature), slices.Index(features, y.Feature)),
			strings.Compare(x.Bucket, y.Bucket),
			cmp.Compare(slices.Index(metrics[:], x.Metric), slices.Index(metrics[:], y.Metric)))
	})
	return out
}

// Separate reports whether two rates' intervals do not overlap, as shown:
// each rounded outwards to 0.1%, so that a claim never shows intervals
// that seem to touch.
func Separate(x, y Rate) bool {
	xl, xh := shown(x)
	yl, yh := shown(y)
	return xl > yh || yl > xh
}

// shown is a rate's interval in tenths of a percent, rounded outwards.
func shown(r Rate) (low, high int64) {
	return int64(math.Floor(r.Low*1000 + 1e-9)), int64(math.Ceil(r.High*1000 - 1e-9))
}

var (
	liquidTag    = regexp.MustCompile(`\{\{.*?\}\}|\{%.*?%\}`)
	personalized = regexp.MustCompile(`\{\{-?\s*contact\.`)
)

var hourBuckets = [...]string{"00-06", "06-12", "12-18", "18-24"}

// featuresOf lists an email's (feature, bucket) pairs. Subjects are
// measured as a reader sees them, without the personalization tags, whose
// digits and length are not the reader's.
func featuresOf(art *Artifact, opt Options) [][2]string {
	var fs [][2]string
	if subj := strings.TrimSpace(art.Subject); subj != "" {
		plain := strings.TrimSpace(liquidTag.ReplaceAllString(subj, ""))
		switch n := utf8.RuneCountInString(plain); {
		case n <= 30:
			fs = append(fs, [2]string{FeatureSubjectLength, "short"})
		case n <= 60:
			fs = append(fs, [2]string{FeatureSubjectLength, "medium"})
		default:
			fs = append(fs, [2]string{FeatureSubjectLength, "long"})
		}
		if strings.ContainsAny(plain, "?？") {
			fs = append(fs, [2]string{FeatureSubjectQuestion, "yes"})
		}
		if strings.IndexFunc(plain, unicode.IsDigit) >= 0 {
			fs = append(fs, [2]string{FeatureSubjectNumber, "yes"})
		}
		if personalized.MatchString(subj) {
			fs = append(fs, [2]string{FeatureSubjectPersonalized, "yes"})
		}
	}
	if !art.SentAt.IsZero() {
		t := art.SentAt.In(opt.Location)
		fs = append(fs, [2]string{FeatureWeekday, t.Weekday().String()}, [2]string{FeatureHour, hourBuckets[t.Hour()/6]})
	}
	segs := slices.Clone(art.Segments)
	slices.Sort(segs)
	for _, s := range slices.Compact(segs) {
		if s != "" {
			fs = append(fs, [2]string{FeatureSegment, s})
		}
	}
	if cta := strings.ToLower(strings.Join(strings.Fields(art.CTA), " ")); cta != "" {
		fs = append(fs, [2]string{FeatureCTA, cta})
	}
	if art.Template != "" {
		fs = append(fs, [2]string{FeatureTemplate, art.Template})
	}
	return fs
}

// label names a bucket in a sentence, lower-case; names that agents wrote
// are quoted with Go escapes, so no character of theirs hides or reorders
// the text.
func label(feature, name string) string {
	switch feature {
	case FeatureSubjectLength:
		return map[string]string{"short": "short subjects (30 characters or fewer)", "medium": "medium subjects (31–60 characters)", "long": "long subjects (over 60 characters)"}[name]
	case FeatureSubjectQuestion:
		return "subjects with a question"
	case FeatureSubjectNumber:
		return "subjects with a number"
	case FeatureSubjectPersonalized:
		return "personalized subjects"
	case FeatureWeekday:
		return "emails sent on " + name
	case FeatureHour:
		return "emails sent between " + name[:2] + ":00 and " + name[3:] + ":00"
	case FeatureSegment:
		return "emails to segment " + strconv.QuoteToASCII(name)
	case FeatureCTA:
		return "emails whose call to action is " + strconv.QuoteToASCII(name)
	case FeatureTemplate:
		return "emails from template " + strconv.QuoteToASCII(name)
	}
	return feature + " " + strconv.QuoteToASCII(name)
}

func statement(c Claim) string {
	l := label(c.Feature, c.Bucket)
	dir := "above"
	if c.Effect < 0 {
		dir = "below"
	}
	return fmt.Sprintf("%s: %s rate %s, n=%s, %s the rest's %s, n=%s.",
		strings.ToUpper(l[:1])+l[1:], c.Metric, percent(c.In), thousands(c.In.N), dir, percent(c.Rest), thousands(c.Rest.N))
}

// percent writes "31.2% [27.0–35.7%]", the interval rounded outwards.
func percent(r Rate) string {
	lo, hi := shown(r)
	return fmt.Sprintf("%.1f%% [%d.%d–%d.%d%%]", r.Rate*100, lo/10, lo%10, hi/10, hi%10)
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
