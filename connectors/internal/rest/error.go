package rest

import (
	"errors"
	"strings"
)

// Error is a failed platform call put in words: which platform, what was
// being done, what the platform answered and what to do about it. Every
// connector reports its failures as an *Error; each connector's errors.go
// only reads its platform's error documents into one.
//
// It unwraps to Kinds, the error classes the failure belongs to
// (sandbox.ErrAuth, ErrConflict, ErrNotSupported, a connector's own
// sentinels), and to Cause, the error the call returned: an *HTTPError, a
// transport or context error, or one wrapping ErrAmbiguous. The sandbox
// reads the status and Retry-After through Cause. Error has no HTTPStatus
// method of its own, so a failure that got no answer never looks like one.
type Error struct {
	// Platform is the connector's platform name ("hubspot").
	Platform string
	// Op is what was being done ("create email \"Spring launch\""). It is
	// empty when the caller names the operation in its own wrapping.
	Op string
	// Status is the platform's HTTP status, 0 when no answer came.
	Status int
	// Code is the platform's own name for the failure, when it gives one
	// (HubSpot's category, Mailchimp's problem title, WordPress's code).
	Code string
	// Message says what failed, why, and what to do. It never carries a
	// credential.
	Message string
	// Kinds are the error classes the failure belongs to, for errors.Is.
	Kinds []error
	// Cause is the error behind this one, for errors.Is and errors.As.
	Cause error
}

// Error is "platform: op: message", or the message alone when Op is empty.
func (e *Error) Error() string {
	if e.Op == "" {
		return e.Message
	}
	var b strings.Builder
	if e.Platform != "" {
		b.WriteString(e.Platform)
		b.WriteString(": ")
	}
	b.WriteString(e.Op)
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap exposes Kinds and Cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	out := make([]error, 0, len(e.Kinds)+1)
	for _, k := range e.Kinds {
		if k != nil {
			out = append(out, k)
		}
	}
	if e.Cause != nil {
		out = append(out, e.Cause)
	}
	return out
}

// StatusOf is the HTTP status of the platform's answer behind err, or 0
// when none came.
func StatusOf(err error) int {
	if he, ok := errors.AsType[*HTTPError](err); ok {
		return he.Status
	}
	return 0
}

// BodyOf is the body of the platform's error answer behind err, or nil.
func BodyOf(err error) []byte {
	if he, ok := errors.AsType[*HTTPError](err); ok {
		return he.Body
	}
	return nil
}

// Explained reports whether err is already an *Error that names its
// operation: a connector passes such an error on as it is.
func Explained(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.Op != ""
}
