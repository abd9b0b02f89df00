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

// failure is a failure of op in words of its own: kinds are its classes
// (sandbox.ErrConflict, …), cause what lay behind it (nil when lastmile
// refused before asking HubSpot).
func failure(op, text string, cause error, kinds ...error) *rest.Error {
	return &rest.Error{Platform: Platform, Op: op, Status: rest.StatusOf(cause), Message: text, Kinds: kinds, Cause: cause}
}

// fail explains err, which a call made for op returned. The message never
// carries a credential: rest errors hold method, path and HubSpot's body,
// none of which contains the token.
func (t *Target) fail(op string, err error) error {
	if err == nil || rest.Explained(err) {
		return err
	}
	reconnect := "reconnect with lastmile connect hubspot --name " + t.name
	e := &rest.Error{Platform: Platform, Op: op, Cause: err}
	var he *rest.HTTPError
	switch {
	case errors.Is(err, ErrDailyLimit):
		e.Message, e.Kinds = ErrDailyLimit.Error()+": confirm the promotion again after that", []error{ErrDailyLimit}
	case errors.Is(err, sandbox.ErrAuth):
		e.Message = err.Error() // the authorizer's message already says how to reconnect
	case errors.Is(err, context.DeadlineExceeded):
		e.Message = "HubSpot did not answer within the request timeout, so the write may still be applied: " + err.Error()
	case errors.Is(err, context.Canceled):
		e.Message = "cancelled before HubSpot answered: " + err.Error()
	case errors.As(err, &he):
		env := parseEnvelope(he.Body)
		e.Status, e.Code = he.Status, env.Category
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
			e.Message = fmt.Sprintf("HubSpot did not accept the stored credentials (%s): %s", firstNonEmpty(env.Category, "HTTP 401"), reconnect)
			e.Kinds = []error{sandbox.ErrAuth}
		case he.Status == http.StatusForbidden && env.Category == "MISSING_SCOPES":
			scopes := env.missingScopes()
			e.Message = fmt.Sprintf("the HubSpot connection lacks the scope(s) %s: %s and grant them (for a private app, add them in HubSpot's private app settings and connect again)",
				strings.Join(scopes, ", "), reconnect)
			e.Kinds = []error{sandbox.ErrAuth}
		case he.Status == http.StatusForbidden:
			e.Message = "HubSpot refused the request: " + detail + corr
			e.Kinds = []error{sandbox.ErrNotSupported}
		case he.Status == http.StatusNotFound:
			e.Message = "HubSpot has no such object (was it deleted in HubSpot?): " + detail + corr
		case he.Status == http.StatusConflict:
			e.Message = "HubSpot reports a conflict: " + detail + corr
			e.Kinds = []error{sandbox.ErrConflict}
		case he.Status == http.StatusTooManyRequests:
			if env.PolicyName == "DAILY" {
				e.Message, e.Kinds = ErrDailyLimit.Error()+": confirm the promotion again after that", []error{ErrDailyLimit}
			} else {
				e.Message = "HubSpot kept answering 429 (rate limit " + firstNonEmpty(env.PolicyName, "unknown policy") + ") after every retry: another app may be using this portal's quota; try again in a minute"
			}
		case he.Status >= 500:
			e.Message = fmt.Sprintf("HubSpot had an internal error (HTTP %d)%s", he.Status, corr)
		default:
			e.Message = fmt.Sprintf("HubSpot rejected the request (HTTP %d %s): %s%s", he.Status, firstNonEmpty(env.Category, "error"), detail, corr)
		}
	case errors.Is(err, rest.ErrAmbiguous):
		e.Message = "HubSpot did not answer (timeout or dropped connection), so the change may or may not have been applied: " +
			"lastmile looks for it by its marker before trying again; confirm the promotion again to resume"
	default:
		e.Message = fmt.Sprintf("could not reach HubSpot at %s: %v", t.baseURL, err)
	}
	return e
}

// envelopeOf is HubSpot's error document behind err (empty when none came).
func envelopeOf(err error) envelope { return parseEnvelope(rest.BodyOf(err)) }

func quote(s string) string { return fmt.Sprintf("%q", s) }
