package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// envelope is HubSpot's error body (and the 429 body's extra fields).
type envelope struct {
	Status        string              `json:"status"`
	Message       string              `json:"message"`
	CorrelationID string              `json:"correlationId"`
	Category      string              `json:"category"`
	SubCategory   string              `json:"subCategory"`
	Context       map[string][]string `json:"context"`
	Errors        []struct {
		Message string              `json:"message"`
		In      string              `json:"in"`
		Code    string              `json:"code"`
		Context map[string][]string `json:"context"`
	} `json:"errors"`
	PolicyName string `json:"policyName"`
	ErrorType  string `json:"errorType"`
}

func parseEnvelope(body []byte) envelope {
	var e envelope
	_ = json.Unmarshal(body, &e)
	return e
}

// missingScopes lists the scopes a MISSING_SCOPES answer names.
func (e envelope) missingScopes() []string {
	seen := map[string]bool{}
	var out []string
	addAll := func(ctx map[string][]string) {
		for _, k := range []string{"requiredGranularScopes", "requiredScopes"} {
			for _, s := range ctx[k] {
				if !seen[s] {
					seen[s] = true
					out = append(out, s)
				}
			}
		}
	}
	addAll(e.Context)
	for _, d := range e.Errors {
		addAll(d.Context)
	}
	sort.Strings(out)
	return out
}

// ErrDailyLimit is wrapped when HubSpot's daily request quota for the portal
// is spent; nothing more can be done until it resets.
var ErrDailyLimit = errors.New("HubSpot's daily API limit for this portal is used up; it resets at midnight in the portal's time zone")

// ErrTierCannotSend is wrapped when the portal's subscription cannot publish
// or send marketing email through the API.
var ErrTierCannotSend = errors.New("HubSpot will create this email as a draft; this portal's tier cannot send through the API")

// apiError is a HubSpot failure put in words: what failed, why, what to do.
type apiError struct {
	op       string // "create email \"Spring launch\""
	text     string
	sentinel error
	cause    error
}

func (e *apiError) Error() string { return "hubspot: " + e.op + ": " + e.text }

func (e *apiError) Unwrap() []error {
	var out []error
	if e.sentinel != nil {
		out = append(out, e.sentinel)
	}
	if e.cause != nil {
		out = append(out, e.cause)
	}
	return out
}

// fail explains err, which a call made for op returned. The message never
// carries a credential: rest errors hold method, path and HubSpot's body,
// none of which contains the token.
func (t *Target) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return err // already explained
	}
	reconnect := "reconnect with lastmile connect hubspot --name " + t.name
	e := &apiError{op: op, cause: err}
	var he *rest.Error
	switch {
	case errors.Is(err, ErrDailyLimit):
		e.text, e.sentinel = ErrDailyLimit.Error()+": confirm the promotion again after that", ErrDailyLimit
	case errors.Is(err, sandbox.ErrAuth):
		e.text = err.Error() // the authorizer's message already says how to reconnect
		e.cause = err
	case errors.Is(err, context.DeadlineExceeded):
		e.text = "HubSpot did not answer within the request timeout, so the write may still be applied: " + err.Error()
	case errors.Is(err, context.Canceled):
		e.text = "cancelled before HubSpot answered: " + err.Error()
	case errors.As(err, &he):
		env := parseEnvelope(he.Body)
		detail := env.Message
		if detail == "" {
			detail = strings.TrimSpace(http.StatusText(he.Status))
		}
		var extra []string
		for _, d := range env.Errors {
			if d.Message != "" && d.Message != env.Message {
				extra = append(extra, d.Message)
			}
		}
		if len(extra) > 0 {
			if len(extra) > 5 {
				extra = append(extra[:5], fmt.Sprintf("and %d more", len(extra)-5))
			}
			detail += " (" + strings.Join(extra, "; ") + ")"
		}
		corr := ""
		if env.CorrelationID != "" {
			corr = " [HubSpot correlation id " + env.CorrelationID + "]"
		}
		switch {
		case he.Status == http.StatusUnauthorized:
			e.text = fmt.Sprintf("HubSpot did not accept the stored credentials (%s): %s", firstNonEmpty(env.Category, "HTTP 401"), reconnect)
			e.sentinel = sandbox.ErrAuth
		case he.Status == http.StatusForbidden && env.Category == "MISSING_SCOPES":
			scopes := env.missingScopes()
			e.text = fmt.Sprintf("the HubSpot connection lacks the scope(s) %s: %s and grant them (for a private app, add them in HubSpot's private app settings and connect again)",
				strings.Join(scopes, ", "), reconnect)
			e.sentinel = sandbox.ErrAuth
		case he.Status == http.StatusForbidden:
			e.text = "HubSpot refused the request: " + detail + corr
			e.sentinel = sandbox.ErrNotSupported
		case he.Status == http.StatusNotFound:
			e.text = "HubSpot has no such object (was it deleted in HubSpot?): " + detail + corr
		case he.Status == http.StatusConflict:
			e.text = "HubSpot reports a conflict: " + detail + corr
			e.sentinel = sandbox.ErrConflict
		case he.Status == http.StatusTooManyRequests:
			if env.PolicyName == "DAILY" {
				e.text, e.sentinel = ErrDailyLimit.Error()+": confirm the promotion again after that", ErrDailyLimit
			} else {
				e.text = "HubSpot kept answering 429 (rate limit " + firstNonEmpty(env.PolicyName, "unknown policy") + ") after every retry: another app may be using this portal's quota; try again in a minute"
			}
		case he.Status >= 500:
			e.text = fmt.Sprintf("HubSpot had an internal error (HTTP %d)%s", he.Status, corr)
		default:
			e.text = fmt.Sprintf("HubSpot rejected the request (HTTP %d %s): %s%s", he.Status, firstNonEmpty(env.Category, "error"), detail, corr)
		}
	case errors.Is(err, rest.ErrAmbiguous):
		e.text = "HubSpot did not answer (timeout or dropped connection), so the change may or may not have been applied: " +
			"lastmile looks for it by its marker before trying again; confirm the promotion again to resume"
	default:
		e.text = fmt.Sprintf("could not reach HubSpot at %s: %v", t.baseURL, err)
	}
	return e
}

// status returns the HTTP status of a HubSpot error answer, or 0.
func status(err error) int {
	var he *rest.Error
	if errors.As(err, &he) {
		return he.Status
	}
	return 0
}

func envelopeOf(err error) envelope {
	var he *rest.Error
	if errors.As(err, &he) {
		return parseEnvelope(he.Body)
	}
	return envelope{}
}

func quote(s string) string { return fmt.Sprintf("%q", s) }
