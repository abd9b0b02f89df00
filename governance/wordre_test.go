package governance

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// Expressions whose every match begins a word, among them the sample
// policy's.
var wordStartPatterns = []string{
	`\b([A-Z]{3,5})\b`, `(?:\b[A-Z][a-z]+ )+\(([A-Z]{3,5})\)`,
	`\b\d{1,3}(?:\.\d+)?% (?:return|returns|growth|gain|gains|yield)\b`,
	`\b[A-Z][a-z]+\b`, `\b(?:free|FREE|gratis)\b`, `\b(a|bc)(d*)\b`, `\bA\bB`, `\b(?:ab|cd)+ ?é?`,
	`\b\d{3,}\b`, `\b[a-z_]+[0-9]?\b`, `(?i)\bfree\b`, `\b(x)?(yz)+\b`, `\b\w{2}`, `\b[A-Z]\S*$`, `(?m)\b[A-Z]\w*$`, `\b[A-Z]\w?$`, `(?m)\b[A-Z]{2}$`, `\b[a-z]é?.\b`, `\b[a-z]é{1,3}\b`,
}

// Expressions with a match that need not begin a word are left to regexp.
func TestWordStartRefuses(t *testing.T) {
	for _, expr := range []string{
		`[A-Z]{3,5}`, `\b\b`, `\b(?:a|\.)`, `(?i)\bkiss\b`, `\bé`, `\b.`, `\b[A-Z]*`, `\b?[A-Z]`, `(?:\bA|B)`, `(?:\bA)*B`, `\B[A-Z]`, `^\bA`, `\b(?m:^)A`, `\bA\B`, `\b\AA`,
	} {
		if newWordStart(regexp.MustCompile(expr)) != nil {
			t.Errorf("%s: taken as beginning a word", expr)
		}
	}
	for _, expr := range wordStartPatterns {
		if newWordStart(regexp.MustCompile(expr)) == nil {
			t.Errorf("%s: not taken as beginning a word", expr)
		}
	}
}

func FuzzWordStart(f *testing.F) {
	for _, s := range []string{
		"Use the API and the FAQ (FAQ). Annual Percentage Rate (APR) and Tax Free Savings (TFSA)",
		"ABCDEF ABC abc ABC_ ÉTAT ÉTATS _ABC_ 1234 a1 bcd", "free FREE Free fr\u212Aee", "xyzyz yz xyz x",
		"", "ab\xffCDE\xffFGH", "Returns of 12.5% returns and 7% growth, 100% yield", "AB ab ABcd é\nAb\nAbc x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, expr := range wordStartPatterns {
			re := regexp.MustCompile(expr)
			want := re.FindAllSubmatchIndex([]byte(text), -1)
			if got := newWordStart(re).findAll([]byte(text)); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s on %q: at word starts %v, regexp %v", expr, text, got, want)
			}
		}
	})
}

// Text built so that every try reads to its end goes to regexp before the
// reading grows with the square of its length.
func TestWordStartStaysLinear(t *testing.T) {
	re := regexp.MustCompile(`(?:\b[A-Z][a-z]+ )+\(([A-Z]{3,5})\)`)
	w := newWordStart(re)
	text := []byte(strings.Repeat("Ab ", 100_000))
	got, ok := w.tries(text)
	if ok || got != nil {
		t.Fatalf("tries read within budget (%v) or matched: %v", ok, got)
	}
	// Ordinary text stays within budget.
	if _, ok := w.tries([]byte(strings.Repeat("The Annual Percentage Rate (APR) is fixed. ", 2000))); !ok {
		t.Fatal("ordinary text ran out of budget")
	}
}
