package meta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// graphError is the inner object of Graph's error envelope.
type graphError struct {
	Message        string `json:"message"`
	Type           string `json:"type"`
	Code           int    `json:"code"`
	Subcode        int    `json:"error_subcode"`
	UserTitle      string `json:"error_user_title"`
	UserMsg        string `json:"error_user_msg"`
	FBTraceID      string `json:"fbtrace_id"`
	IsTransient    bool   `json:"is_transient"`
	ErrorData      any    `json:"error_data"`
	blameFieldSpec []string
}

// graphErrorOf reads the envelope behind err, if there is one.
func graphErrorOf(err error) (graphError, bool) {
	body := rest.BodyOf(err)
	if body == nil {
		return graphError{}, false
	}
	var env struct {
		Error *graphError `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || env.Error == nil || env.Error.Code == 0 {
		return graphError{}, false
	}
	g := *env.Error
	// error_data is an object, or a JSON string holding one.
	data := g.ErrorData
	if s, ok := data.(string); ok {
		var m any
		if json.Unmarshal([]byte(s), &m) == nil {
			data = m
		}
	}
	if m, ok := data.(map[string]any); ok {
		if specs, ok := m["blame_field_specs"].([]any); ok && len(specs) > 0 {
			if first, ok := specs[0].([]any); ok {
				for _, f := range first {
					g.blameFieldSpec = append(g.blameFieldSpec, fmt.Sprint(f))
				}
			}
		}
	}
	return g, true
}

// field is the parameter Meta blamed, dotted ("object_story_spec.link_data.name").
func (g graphError) field() string { return strings.Join(g.blameFieldSpec, ".") }

// said is Meta's own words: the user message when there is one.
func (g graphError) said() string {
	msg := g.Message
	if g.UserMsg != "" && g.UserMsg != g.Message {
		msg = g.UserTitle + ": " + g.UserMsg
	}
	code := fmt.Sprintf("code %d", g.Code)
	if g.Subcode != 0 {
		code += fmt.Sprintf(", subcode %d", g.Subcode)
	}
	return fmt.Sprintf("%q (%s)", rest.Clip(msg, 300), code)
}

// notFound: code 100 subcode 33, Graph's answer for an id it does not know.
func notFound(err error) bool {
	g, ok := graphErrorOf(err)
	return ok && g.Code == 100 && g.Subcode == 33
}

// throttled is a rate-limit answer lastmile did not wait out. Its status
// reads as 429 and it carries the wait, so the sandbox classifies the step
// as rate_limited and says when to try again.
type throttled struct {
	code, subcode int
	wait          time.Duration
	cause         error
}

func (e *throttled) Error() string {
	return fmt.Sprintf("Meta throttled the ad account (code %d, subcode %d); it lifts in about %s", e.code, e.subcode, e.wait.Round(time.Second))
}
func (e *throttled) HTTPStatus() int           { return http.StatusTooManyRequests }
func (e *throttled) RetryAfter() time.Duration { return e.wait }
func (e *throttled) Unwrap() error             { return e.cause }

// fail turns an error from a call into a *rest.Error that says what
// failed, why and what to do, in the sandbox's class (ErrAuth for a token
// Meta refused). Nothing secret is in it: Graph's messages are scrubbed of
// the token and the appsecret_proof.
func (t *Target) fail(op string, err error) error {
	if err == nil || rest.Explained(err) {
		return err
	}
	e := &rest.Error{Platform: Platform, Op: op, Cause: err}
	secrets := []string{t.cred.Token, t.cred.AppSecret}
	if t.cred.AppSecret != "" {
		secrets = append(secrets, appSecretProof(t.cred.AppSecret, t.cred.Token))
	}
	defer func() { e.Message = redact(e.Message, secrets...) }()
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		e.Message = "interrupted: " + err.Error()
		return e
	}
	var th *throttled
	if errors.As(err, &th) {
		e.Status = http.StatusTooManyRequests
		e.Code = fmt.Sprint(th.code)
		why := fmt.Sprintf("longer than lastmile waits (max_throttle_wait %s)", t.maxThrottle)
		if th.wait <= t.maxThrottle {
			why = fmt.Sprintf("and kept throttling after lastmile waited %d times", maxThrottleRetries)
		}
		e.Message = fmt.Sprintf("Meta is rate-limiting ad account %s (code %d, subcode %d) and says access returns in about %s, %s; confirm again after that",
			t.account, th.code, th.subcode, th.wait.Round(time.Second), why)
		return e
	}
	var he *rest.HTTPError
	if !errors.As(err, &he) {
		if errors.Is(err, rest.ErrAmbiguous) {
			e.Message = fmt.Sprintf("the connection to Meta failed after the request was sent, so it may or may not have been applied (%v); lastmile looks for the objects by their markers before trying again", stripPath(err))
		} else {
			e.Message = fmt.Sprintf("cannot reach Meta at %s: %v; check the network (and base_url)", t.base, stripPath(err))
		}
		return e
	}
	e.Status = he.Status
	g, ok := graphErrorOf(err)
	if !ok {
		e.Message = fmt.Sprintf("Meta answered HTTP %d with something that is not a Graph error (%q); try again later", he.Status, rest.Clip(rest.Collapse(string(he.Body)), 120))
		return e
	}
	e.Code = fmt.Sprint(g.Code)
	switch {
	case g.Code == 190 || g.Code == 102 || g.Code == 104:
		e.Kinds = []error{sandbox.ErrAuth}
		e.Message = fmt.Sprintf("Meta refused the access token %s: it expired, was revoked, or its user lost access; make a new token (Business Settings → Users → System users → Generate new token, with ads_management and ads_read) and run lastmile connect meta --name %s --token-env VAR again",
			g.said(), t.name)
	case g.Code == 10 || (g.Code >= 200 && g.Code <= 299):
		e.Kinds = []error{sandbox.ErrAuth}
		e.Message = fmt.Sprintf("the token may not do this on ad account %s %s: give its user (or system user) the ads_management and ads_read permissions and access to the ad account and page %s in Business Settings, then run lastmile connect meta --name %s again",
			t.account, g.said(), t.pageID, t.name)
	case g.Code == 100 && strings.Contains(g.Message, "appsecret_proof"):
		e.Kinds = []error{sandbox.ErrAuth}
		e.Message = fmt.Sprintf("Meta wants a valid appsecret_proof %s: the app requires the app secret; run lastmile connect meta --name %s --app-secret-env VAR with the app's secret", g.said(), t.name)
	case g.Code == 100 && g.Subcode == 33:
		e.Message = fmt.Sprintf("Meta knows no such object %s: it was deleted, or the token cannot see it", g.said())
	case g.Code == 100:
		where := ""
		if f := g.field(); f != "" {
			where = " in " + f
		}
		e.Message = fmt.Sprintf("Meta refused a parameter%s %s; fix the artifact and re-plan", where, g.said())
	case g.Code == 368:
		e.Message = fmt.Sprintf("Meta has temporarily blocked this account or page for policy reasons %s; see Account Quality in Business Settings", g.said())
	case isThrottle(g.Code):
		e.Message = fmt.Sprintf("Meta kept rate-limiting lastmile %s; try again later", g.said())
	case he.Status >= 500 || g.Code == 1 || g.Code == 2 || g.IsTransient:
		e.Message = fmt.Sprintf("Meta failed %s; try again later", g.said())
		if errors.Is(err, rest.ErrAmbiguous) {
			e.Message += "; the write may or may not have been applied, so lastmile looks for the objects by their markers before trying again"
		}
	default:
		e.Message = fmt.Sprintf("Meta refused the request with HTTP %d %s", he.Status, g.said())
	}
	return e
}

// failf is a failure of op that no Meta answer explains.
func failf(op string, kinds []error, format string, args ...any) error {
	return rest.Failf(Platform, op, kinds, format, args...)
}

// stripPath drops the method and path rest puts before a transport error.
func stripPath(err error) string {
	msg := strings.TrimPrefix(err.Error(), rest.ErrAmbiguous.Error()+": ")
	if i := strings.Index(msg, ": "); i > 0 && strings.Count(msg[:i], " ") == 1 {
		msg = msg[i+2:]
	}
	return msg
}
