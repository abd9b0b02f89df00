package mailchimp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/sandbox"
)

// problemDoc is Mailchimp's application/problem+json error body.
type problemDoc struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
	Errors   []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// problemOf decodes the problem document behind err, if any.
func problemOf(err error) (problemDoc, bool) {
	he, ok := errors.AsType[*rest.HTTPError](err)
	if !ok {
		return problemDoc{}, false
	}
	var p problemDoc
	if json.Unmarshal(he.Body, &p) != nil || (p.Title == "" && p.Detail == "") {
		return problemDoc{Status: he.Status}, false
	}
	return p, true
}

// mapErr puts a failed call in words that name the fix, as a *rest.Error
// without an Op: callers name the operation in their own wrapping. The
// original stays reachable through errors.As / errors.Is.
func mapErr(err error, target string) error {
	if err == nil {
		return nil
	}
	he, ok := errors.AsType[*rest.HTTPError](err)
	if !ok {
		if errors.Is(err, rest.ErrAmbiguous) {
			return &rest.Error{Platform: Platform, Message: "the request failed before Mailchimp answered, so it may or may not have been applied: " + err.Error(), Cause: err}
		}
		return err
	}
	p, _ := problemOf(err)
	var b strings.Builder
	switch {
	case p.Title != "" && p.Detail != "":
		fmt.Fprintf(&b, "%s: %s", p.Title, p.Detail)
	case p.Title != "":
		b.WriteString(p.Title)
	case p.Detail != "":
		b.WriteString(p.Detail)
	default:
		fmt.Fprintf(&b, "HTTP %d %s", he.Status, http.StatusText(he.Status))
	}
	if len(p.Errors) > 0 {
		b.WriteString(" (")
		for i, fe := range p.Errors {
			if i > 0 {
				b.WriteString("; ")
			}
			if fe.Field != "" {
				fmt.Fprintf(&b, "%s: ", fe.Field)
			}
			b.WriteString(fe.Message)
		}
		b.WriteString(")")
	}
	e := &rest.Error{Platform: Platform, Status: he.Status, Code: p.Title, Cause: err}
	switch {
	case he.Status == http.StatusUnauthorized:
		fmt.Fprintf(&b, " — reconnect with lastmile connect mailchimp --name %s", target)
		e.Kinds = []error{sandbox.ErrAuth}
	case he.Status == http.StatusForbidden && (p.Title == "User Disabled" || p.Title == "Wrong Datacenter" || p.Title == "API Key Invalid"):
		fmt.Fprintf(&b, " — reconnect with lastmile connect mailchimp --name %s", target)
		e.Kinds = []error{sandbox.ErrAuth}
	case he.Status == http.StatusForbidden:
		b.WriteString(" — the Mailchimp user lacks the permission, or Mailchimp is throttling this account; check the user's role, then try again")
	case he.Status == http.StatusTooManyRequests:
		b.WriteString(" — Mailchimp allows 10 simultaneous connections per account and kept refusing; another integration may be using the account: try again shortly")
	case he.Status >= 500:
		b.WriteString(" — Mailchimp failed; try again later")
	}
	e.Message = b.String()
	return e
}

// Problems reported by the send checklist.
type checklistItem struct {
	Type    string `json:"type"`
	ID      int    `json:"id"`
	Heading string `json:"heading"`
	Details string `json:"details"`
}

// ChecklistError is returned by Send when Mailchimp's send checklist is not
// ready: every failing item, in Mailchimp's words.
type ChecklistError struct {
	Items []ChecklistItem
}

// ChecklistItem is one failing entry of the send checklist.
type ChecklistItem struct {
	Heading string
	Details string
}

func (e *ChecklistError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Mailchimp's send checklist failed on %d item", len(e.Items))
	if len(e.Items) != 1 {
		b.WriteString("s")
	}
	b.WriteString(": ")
	for i, it := range e.Items {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%d. %s: %s", i+1, it.Heading, strings.TrimRight(strings.TrimSpace(it.Details), "."))
	}
	b.WriteString(" — fix the email and re-plan; nothing was sent")
	return b.String()
}
