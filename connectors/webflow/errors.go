package webflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// envelope is Webflow's error body:
// {"code","message","externalReference","details":[string | {field, message}]}.
type envelope struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details []json.RawMessage `json:"details"`
}

func parseEnvelope(body []byte) (envelope, bool) {
	var env envelope
	if json.Unmarshal(body, &env) != nil || env.Code == "" {
		return envelope{}, false
	}
	return env, true
}

// details puts the envelope's details in words: "slug: Unique value …; name: …".
func (env envelope) details() string {
	var parts []string
	for _, d := range env.Details {
		var fd struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(d, &fd) == nil && (fd.Field != "" || fd.Message != ""):
			parts = append(parts, strings.TrimPrefix(fd.Field+": "+rest.Clip(fd.Message, 200), ": "))
		case json.Unmarshal(d, &s) == nil && s != "":
			parts = append(parts, rest.Clip(s, 200))
		}
	}
	return strings.Join(parts, "; ")
}

// slugTaken reports whether a validation error says the slug is in use.
func (env envelope) slugTaken() bool {
	if env.Code != "validation_error" {
		return false
	}
	for _, d := range env.Details {
		var fd struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		}
		if json.Unmarshal(d, &fd) == nil && fd.Field == "slug" && strings.Contains(strings.ToLower(fd.Message), "unique") {
			return true
		}
	}
	return false
}

func envelopeOf(err error) (envelope, int) {
	var he *rest.HTTPError
	if !errors.As(err, &he) {
		return envelope{}, 0
	}
	env, _ := parseEnvelope(he.Body)
	return env, he.Status
}

// fail turns an error from a call into a *rest.Error that names the
// operation and the fix. It wraps sandbox.ErrAuth for a refused token or
// missing scope, sandbox.ErrConflict for a conflict, and unwraps to the
// *rest.HTTPError (status, Retry-After) or transport error.
func (t *Target) fail(op string, err error) error {
	if err == nil || rest.Explained(err) {
		return err
	}
	return failWith(op, err)
}

func failWith(op string, err error) error {
	e := &rest.Error{Platform: Platform, Op: op, Cause: err}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		e.Message = "interrupted: " + rest.TransportCause(err)
		if errors.Is(err, rest.ErrAmbiguous) {
			e.Message += "; Webflow may or may not have applied the request, so lastmile looks for the item by its slug and marker before trying again"
		}
		return e
	}
	var he *rest.HTTPError
	if !errors.As(err, &he) {
		if errors.Is(err, rest.ErrAmbiguous) {
			e.Message = fmt.Sprintf("the connection to Webflow failed after the request was sent, so Webflow may or may not have applied it (%s); lastmile looks for the item by its slug and marker before trying again", rest.TransportCause(err))
		} else {
			e.Message = fmt.Sprintf("cannot reach Webflow: %s; check the network (and base_url, if set)", rest.TransportCause(err))
		}
		return e
	}
	e.Status = he.Status
	env, isJSON := parseEnvelope(he.Body)
	e.Code = env.Code
	said := ""
	if isJSON && env.Message != "" {
		said = fmt.Sprintf(" (%s: %s)", env.Code, rest.Clip(env.Message, 200))
	}
	switch {
	case he.Status == http.StatusUnauthorized:
		e.Kinds = []error{sandbox.ErrAuth}
		e.Message = "Webflow refused the token" + said + ": it was revoked, expired after 365 days unused, or is not a token of this site; create a site token (Site settings → Apps & integrations → API access) and run lastmile connect webflow again"
	case he.Status == http.StatusForbidden && env.Code == "missing_scopes":
		e.Kinds = []error{sandbox.ErrAuth}
		e.Message = "the token lacks a scope this needs" + said + "; create a site token with " + strings.Join(requiredScopes, ", ") + " and forms:read, and run lastmile connect webflow again"
	case he.Status == http.StatusForbidden:
		e.Kinds = []error{sandbox.ErrAuth}
		e.Message = "Webflow forbids this" + said + "; check that the token belongs to this site and its plan allows the CMS API"
	case he.Status == http.StatusNotFound:
		e.Message = "Webflow has no such resource" + said + "; check site_id and collection_id in the target's config (lastmile connect webflow writes them)"
	case he.Status == http.StatusConflict:
		e.Kinds = []error{sandbox.ErrConflict}
		e.Message = "Webflow reports a conflict" + said
	case he.Status == http.StatusBadRequest && env.Code == "validation_error":
		e.Message = "Webflow refused the item: " + orText(env.details(), rest.Clip(env.Message, 200)) + "; fix the artifact (or the collection's fields) and re-plan"
	case he.Status == http.StatusTooManyRequests:
		e.Message = fmt.Sprintf("Webflow kept rate-limiting lastmile (HTTP 429, Retry-After %v)%s; try again after that", rest.RetryAfter(he.Header), said)
	case he.Status >= 500:
		e.Message = fmt.Sprintf("Webflow failed with HTTP %d%s; try again later", he.Status, said)
		if errors.Is(err, rest.ErrAmbiguous) {
			e.Message += "; Webflow may or may not have applied the request, so lastmile looks for the item by its slug and marker before trying again"
		}
	case isJSON:
		e.Message = fmt.Sprintf("Webflow refused the request with HTTP %d%s", he.Status, said)
	default:
		e.Message = fmt.Sprintf("unexpected HTTP %d from Webflow (%q)", he.Status, rest.Clip(rest.Collapse(string(he.Body)), 120))
	}
	return e
}

func orText(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// conflict is a failure of op in the class sandbox.ErrConflict.
func conflict(op, msg string) error { return rest.Conflict(Platform, op, msg) }

// failf is a failure of op that no Webflow answer explains.
func failf(op string, kinds []error, format string, args ...any) error {
	return rest.Failf(Platform, op, kinds, format, args...)
}
