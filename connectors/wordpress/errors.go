package wordpress

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

// envelope is WordPress's error body: {code, message, data: {status, params}}.
type envelope struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Data    struct {
		Status  int               `json:"status"`
		Params  map[string]string `json:"params"`
		Details map[string]struct {
			Code string `json:"code"`
			Data struct {
				Status int `json:"status"`
			} `json:"data"`
		} `json:"details"`
	} `json:"data"`
}

// forbiddenParam is the status (401 or 403) hidden in a 400: WordPress
// answers a list with status=any from someone it does not recognise with
// rest_invalid_param whose detail is rest_forbidden_status, status 401.
func (env envelope) forbiddenParam() int {
	if env.Code != "rest_invalid_param" {
		return 0
	}
	for _, d := range env.Data.Details {
		if strings.HasPrefix(d.Code, "rest_forbidden") && (d.Data.Status == 401 || d.Data.Status == 403) {
			return d.Data.Status
		}
	}
	return 0
}

func parseEnvelope(body []byte) (envelope, bool) {
	var env envelope
	if json.Unmarshal(body, &env) != nil || env.Code == "" {
		return envelope{}, false
	}
	return env, true
}

// fail turns an error from a call into a *rest.Error with a sentence that
// names the operation and the fix. It belongs to the sandbox class that
// applies (ErrAuth for a refused password or role) and unwraps to the
// *rest.HTTPError or transport error, and to rest.ErrAmbiguous when a write
// may have landed.
func (t *Target) fail(op string, err error) error {
	if err == nil || rest.Explained(err) {
		return err
	}
	e := &rest.Error{Platform: Platform, Op: op, Cause: err}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		e.Message = "interrupted: " + err.Error()
		return e
	}
	var he *rest.HTTPError
	if !errors.As(err, &he) {
		if errors.Is(err, rest.ErrAmbiguous) {
			e.Message = fmt.Sprintf("the connection to %s failed after the request was sent, so WordPress may or may not have applied it (%s); lastmile looks for the page by its marker before trying again", t.site, rest.TransportCause(err))
		} else {
			e.Message = fmt.Sprintf("cannot reach %s: %s; check that base_url is right and the site is up", t.site, rest.TransportCause(err))
		}
		return e
	}
	e.Status = he.Status
	env, isJSON := parseEnvelope(he.Body)
	e.Code = env.Code
	said := ""
	if isJSON && env.Message != "" {
		said = fmt.Sprintf(" (WordPress said %q, code %s)", rest.Clip(env.Message, 200), env.Code)
	}
	status := he.Status
	if st := env.forbiddenParam(); st != 0 {
		status = st
	}
	switch {
	case status == http.StatusUnauthorized:
		// WordPress treats a wrong application password as an anonymous
		// request and answers with the endpoint's generic 401.
		e.Message = fmt.Sprintf("WordPress rejected the application password for user %s: create a new one under Users → Profile → Application Passwords and run lastmile connect wordpress --name %s again", t.user, t.name)
		e.Kinds = []error{sandbox.ErrAuth}
	case status == http.StatusForbidden:
		e.Message = fmt.Sprintf("user %s is not allowed to do this%s: give the user the Editor or Administrator role, or run lastmile connect wordpress --name %s with a user who has it", t.user, said, t.name)
		e.Kinds = []error{sandbox.ErrAuth}
	case he.Status == http.StatusNotFound && env.Code == "rest_post_invalid_id":
		e.Message = fmt.Sprintf("the page does not exist on %s (it was deleted, or trashed and emptied); re-plan to create it again", t.site)
	case he.Status == http.StatusNotFound && env.Code == "rest_no_route":
		e.Message = fmt.Sprintf("the REST route was not found under %s: check base_url, and that the REST API is not disabled by a plugin", t.apiRoot)
	case he.Status == http.StatusNotFound && !isJSON:
		e.Message = fmt.Sprintf("%s answered HTTP 404 with a page that is not the WordPress REST API: check base_url; on a site with plain permalinks set api_root to %s/?rest_route=", t.apiRoot, t.site)
	case he.Status == http.StatusBadRequest && env.Code == "rest_invalid_param":
		e.Message = "WordPress refused the request: " + describeParams(env) + "; fix the artifact and re-plan"
	case he.Status == http.StatusBadRequest && env.Code == "rest_invalid_json":
		e.Message = "WordPress could not parse the request body as JSON; this is a lastmile bug, please report it"
	case he.Status == http.StatusTooManyRequests:
		e.Message = fmt.Sprintf("the site's host kept rate-limiting lastmile (HTTP 429)%s; try again later", said)
	case he.Status >= 500:
		e.Message = fmt.Sprintf("the site failed with HTTP %d%s%s; try again later, and check the site's PHP error log if it persists", he.Status, said, notJSON(isJSON, he.Body))
		if errors.Is(err, rest.ErrAmbiguous) {
			e.Message += "; WordPress may or may not have applied the request, so lastmile looks for the page by its marker before trying again"
		}
	case isJSON:
		e.Message = fmt.Sprintf("WordPress refused the request with HTTP %d: %s (code %s)", he.Status, rest.Clip(env.Message, 300), env.Code)
	default:
		e.Message = fmt.Sprintf("unexpected HTTP %d%s; a security plugin, a proxy or maintenance mode may be in the way", he.Status, notJSON(isJSON, he.Body))
	}
	return e
}

// conflict is a failure of op in the class sandbox.ErrConflict.
func conflict(op, msg string) error { return rest.Conflict(Platform, op, msg) }

// failf is a failure of op that no WordPress answer explains, in the
// given classes (sandbox.ErrAuth, …; nil for none).
func failf(op string, kinds []error, format string, args ...any) error {
	return rest.Failf(Platform, op, kinds, format, args...)
}

func describeParams(env envelope) string {
	if len(env.Data.Params) == 0 {
		return rest.Clip(env.Message, 300)
	}
	keys := make([]string, 0, len(env.Data.Params))
	for k := range env.Data.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+rest.Clip(env.Data.Params[k], 200))
	}
	return "invalid " + strings.Join(parts, "; ")
}

func notJSON(isJSON bool, body []byte) string {
	if isJSON || len(body) == 0 {
		return ""
	}
	return fmt.Sprintf(" and a non-JSON answer (%q)", rest.Clip(rest.Collapse(string(body)), 120))
}
