package rest

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/lastmile/lastmile/sandbox"
)

// Clip cuts s to at most n bytes, on a rune boundary, marking a cut with
// "…": platform messages and bodies quoted in an Error stay readable.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// Collapse puts s on one line, each run of white space made one space.
func Collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// Failf is a failure of op on platform that no platform answer explains,
// in the given classes (sandbox.ErrAuth, …; nil for none).
func Failf(platform, op string, kinds []error, format string, args ...any) error {
	return &Error{Platform: platform, Op: op, Message: fmt.Sprintf(format, args...), Kinds: kinds}
}

// Conflict is a failure of op on platform in the class sandbox.ErrConflict.
func Conflict(platform, op, msg string) error {
	return &Error{Platform: platform, Op: op, Message: msg, Kinds: []error{sandbox.ErrConflict}}
}

// methodPath matches what Do puts before a transport error: the attempts
// note and the method and path, which may carry a query (and so a secret).
var methodPath = regexp.MustCompile(`^(gave up after \d+ attempts: )?[A-Z]+ \S+: `)

// TransportCause is the message of an error from Do without the prefixes
// Do adds (the ambiguity note, the method and path), for a sentence that
// quotes it.
func TransportCause(err error) string {
	msg := strings.TrimPrefix(err.Error(), ErrAmbiguous.Error()+": ")
	return methodPath.ReplaceAllString(msg, "$1")
}
