package googleads

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// restFailure is Google's REST error body: google.rpc.Status wrapped in
// "error", with GoogleAdsFailure in details.
type restFailure struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type      string     `json:"@type"`
			Errors    []adsError `json:"errors"`
			RequestID string     `json:"requestId"`
		} `json:"details"`
	} `json:"error"`
}

// adsError is one GoogleAdsError.
type adsError struct {
	ErrorCode map[string]string `json:"errorCode"`
	Message   string            `json:"message"`
	Location  struct {
		FieldPathElements []pathElement `json:"fieldPathElements"`
	} `json:"location"`
	Details struct {
		QuotaErrorDetails struct {
			RateScope  string `json:"rateScope"`
			RateName   string `json:"rateName"`
			RetryDelay string `json:"retryDelay"`
		} `json:"quotaErrorDetails"`
	} `json:"details"`
}

type pathElement struct {
	FieldName string `json:"fieldName"`
	Index     *int   `json:"index"`
}

// code is "campaignError DUPLICATE_CAMPAIGN_NAME".
func (e adsError) code() string {
	keys := make([]string, 0, len(e.ErrorCode))
	for k := range e.ErrorCode {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+" "+e.ErrorCode[k])
	}
	return strings.Join(parts, ", ")
}

func (e adsError) is(family, code string) bool { return e.ErrorCode[family] == code }

func parseFailure(body []byte) (restFailure, bool) {
	var f restFailure
	if json.Unmarshal(body, &f) != nil || (f.Error.Code == 0 && f.Error.Status == "") {
		return restFailure{}, false
	}
	return f, true
}

func (f restFailure) errors() []adsError {
	var out []adsError
	for _, d := range f.Error.Details {
		out = append(out, d.Errors...)
	}
	return out
}

func (f restFailure) requestID() string {
	for _, d := range f.Error.Details {
		if d.RequestID != "" {
			return d.RequestID
		}
	}
	return ""
}

// adsErrors are the GoogleAdsErrors behind err, if Google answered with any.
func adsErrors(err error) []adsError {
	f, ok := parseFailure(rest.BodyOf(err))
	if !ok {
		return nil
	}
	return f.errors()
}

func hasCode(err error, family, code string) bool {
	for _, e := range adsErrors(err) {
		if e.is(family, code) {
			return true
		}
	}
	return false
}

// retryLater carries the wait Google asked for, for the sandbox
// (sandbox.RetryAfterer).
type retryLater time.Duration

func (r retryLater) Error() string             { return fmt.Sprintf("retry after %s", time.Duration(r)) }
func (r retryLater) RetryAfter() time.Duration { return time.Duration(r) }

// fail turns an error from a call into a *rest.Error that names the
// operation, what Google said and what to do.
func (t *Target) fail(op string, err error) error {
	if err == nil || rest.Explained(err) {
		return err
	}
	e := &rest.Error{Platform: Platform, Op: op, Cause: err}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		e.Message = "interrupted: " + rest.Clip(err.Error(), 200)
		return e
	}
	var he *rest.HTTPError
	if !errors.As(err, &he) {
		if errors.Is(err, rest.ErrAmbiguous) {
			e.Message = "the connection to Google Ads failed after the request was sent, so Google may or may not have applied it; lastmile looks for the campaign by its marker before trying again"
		} else {
			e.Message = "cannot reach the Google Ads API (" + rest.Clip(err.Error(), 200) + "); check the network and base_url"
		}
		return e
	}
	e.Status = he.Status
	f, isJSON := parseFailure(he.Body)
	errs := f.errors()
	said := ""
	if len(errs) > 0 {
		e.Code = errs[0].code()
		var parts []string
		for i, ae := range errs {
			if i == 5 {
				parts = append(parts, fmt.Sprintf("and %d more", len(errs)-5))
				break
			}
			parts = append(parts, fmt.Sprintf("%s (%s)", strings.TrimRight(rest.Clip(ae.Message, 200), "."), ae.code()))
		}
		said = "; Google said: " + strings.Join(parts, "; ")
		if id := f.requestID(); id != "" {
			said += " [request " + id + "]"
		}
	} else if isJSON {
		e.Code = f.Error.Status
		said = fmt.Sprintf("; Google said: %s (%s)", rest.Clip(f.Error.Message, 300), f.Error.Status)
	}
	reconnect := fmt.Sprintf("run lastmile connect google-ads --name %s again", t.name)
	switch {
	case he.Status == http.StatusUnauthorized || hasFamily(errs, "authenticationError"):
		e.Kinds = []error{sandbox.ErrAuth}
		e.Message = "Google Ads refused the credentials" + said + "; " + reconnect + " (with a valid refresh token and developer token)"
	case he.Status == http.StatusForbidden || hasFamily(errs, "authorizationError"):
		e.Kinds = []error{sandbox.ErrAuth}
		e.Message = fmt.Sprintf("the signed-in Google user may not use customer %s%s; sign in with a user who has access (or set login_customer_id to the manager account) and %s", t.customer, said, reconnect)
	case hasFamily(errs, "headerError"):
		e.Kinds = []error{sandbox.ErrAuth}
		e.Message = "Google Ads refused the login-customer-id header" + said + "; set login_customer_id to the manager account the user signs in through, or leave it empty, and " + reconnect
	case he.Status == http.StatusTooManyRequests:
		d, _ := retryDelay(he.Body)
		if d > 0 {
			e.Kinds = []error{retryLater(d)}
			e.Message = fmt.Sprintf("Google Ads is throttling this developer token%s; try again in %s", said, d.Round(time.Second))
		} else {
			e.Message = "Google Ads refused the request for quota" + said + "; the daily operations quota of the developer token may be spent: try again tomorrow or apply for a higher access level"
		}
	case he.Status >= 500:
		e.Message = fmt.Sprintf("Google Ads failed with HTTP %d%s; try again later", he.Status, said)
		if errors.Is(err, rest.ErrAmbiguous) {
			e.Message += "; Google may or may not have applied the request, so lastmile looks for the campaign by its marker before trying again"
		}
	default:
		e.Message = fmt.Sprintf("Google Ads refused the request with HTTP %d%s", he.Status, said)
	}
	return e
}

func hasFamily(errs []adsError, family string) bool {
	for _, e := range errs {
		if _, ok := e.ErrorCode[family]; ok {
			return true
		}
	}
	return false
}

// failf is a failure of op that no Google answer explains.
func failf(op string, kinds []error, format string, args ...any) error {
	return rest.Failf(Platform, op, kinds, format, args...)
}
