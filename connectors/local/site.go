package local

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/lastmile/lastmile/sandbox"
	"github.com/lastmile/lastmile/sandbox/content"
)

// The site the local target publishes to, served by lastmile site (and
// lastmile serve --site): the published pages, their forms' submissions,
// and the one-click unsubscribe links its messages carry (RFC 8058).

const (
	// honeypot is a form field people never see (hidden by style) and
	// bots fill in: a submission with it set is thanked and dropped.
	honeypot = "lm_website"
	// maxSubmission bounds a form post; maxFieldValue each value.
	maxSubmission = 32 << 10
	maxFieldValue = 2000
)

// ContactUpdatesFile holds the contacts forms added and the properties
// forms and workflows (set_property) changed, beside contacts.csv, which
// stays the person's own file: read after it, its non-empty values win.
func (t *Target) ContactUpdatesFile() string { return t.path("contact-updates.csv") }

// SiteHandler serves the site.
func (t *Target) SiteHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /forms/{page}", t.submit)
	mux.HandleFunc("GET /unsubscribe", t.unsubscribePage)
	mux.HandleFunc("POST /unsubscribe", t.unsubscribe)
	files := http.FileServer(http.Dir(t.path("site")))
	mux.Handle("GET /", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/.") {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		mux.ServeHTTP(w, r)
	})
}

// wireForm points a page's form at the site's handler and adds the
// honeypot field.
func wireForm(pageHTML, pageID string) string {
	return strings.Replace(pageHTML, `action="#" method="post" data-lastmile-form="not-wired">`,
		`action="/forms/`+url.PathEscape(pageID)+`" method="post">`+"\n"+
			`<div style="position:absolute;left:-10000px" aria-hidden="true"><label>Leave this empty <input name="`+honeypot+`" tabindex="-1" autocomplete="off"></label></div>`, 1)
}

func thanks(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>%s</title><p style=\"font:16px system-ui;margin:2rem\">%s</p>\n", html.EscapeString(msg), html.EscapeString(msg))
}

// submit takes a form submission: it checks it against the form's fields,
// records a form_submission event (which a form_submission workflow enrols
// from), and adds or updates the contact, with the consent the form asked.
func (t *Target) submit(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("page")
	var rec livePage
	found, err := readJSON(t.recordPath(sandbox.KindPage, id), &rec)
	if err != nil || !found || rec.Status != "published" || rec.Form == nil {
		thanks(w, http.StatusNotFound, "This form is not published.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSubmission)
	if err := r.ParseForm(); err != nil {
		thanks(w, http.StatusBadRequest, "The submission could not be read.")
		return
	}
	success := rec.Form.SuccessMessage
	if success == "" {
		success = content.DefaultSuccessMessage
	}
	if r.PostForm.Get(honeypot) != "" {
		thanks(w, http.StatusOK, success) // a bot: thanked, not recorded
		return
	}
	values := map[string]string{}
	var problems []string
	email := ""
	for _, f := range rec.Form.Fields {
		v := strings.TrimSpace(r.PostForm.Get(f.Name))
		if len(v) > maxFieldValue {
			problems = append(problems, f.Label+" is too long")
			continue
		}
		switch {
		case f.Required && v == "":
			problems = append(problems, f.Label+" is required")
		case f.Type == "email" && v != "":
			a, err := mail.ParseAddress(v)
			if err != nil || a.Name != "" {
				problems = append(problems, f.Label+" is not an email address")
				continue
			}
			email = strings.ToLower(a.Address)
		case f.Type == "checkbox":
			v = fmt.Sprint(v != "")
		}
		values[strings.ToLower(f.Name)] = v
	}
	if len(problems) > 0 {
		thanks(w, http.StatusBadRequest, "Please go back and fix this: "+strings.Join(problems, "; ")+".")
		return
	}
	if email == "" {
		email = strings.ToLower(values["email"])
	}
	if email != "" {
		if consent, ok := consentOf(rec.Form, values); ok {
			values["marketing_consent"] = consent
		}
		if err := t.upsertContact(email, values); err != nil {
			thanks(w, http.StatusInternalServerError, "The submission could not be saved; try again.")
			return
		}
	}
	if err := t.appendEvents([]Event{{Type: "form_submission", Artifact: id, Email: email, At: t.now().UTC()}}); err != nil {
		thanks(w, http.StatusInternalServerError, "The submission could not be saved; try again.")
		return
	}
	thanks(w, http.StatusOK, success)
}

// consentOf is the form's answer to its consent checkbox (a checkbox field
// whose name says consent or opt-in), when it has one.
func consentOf(f *content.Form, values map[string]string) (string, bool) {
	for _, fl := range f.Fields {
		n := strings.ToLower(fl.Name)
		if fl.Type == "checkbox" && (strings.Contains(n, "consent") || strings.Contains(n, "opt") || strings.Contains(n, "news")) {
			return values[n], true
		}
	}
	return "", false
}

// upsertContact adds or updates an address in contact-updates.csv.
func (t *Target) upsertContact(email string, values map[string]string) error {
	t.evMu.Lock()
	defer t.evMu.Unlock()
	rows := map[string]map[string]string{}
	var order []string
	if f, err := os.Open(t.ContactUpdatesFile()); err == nil {
		cs, rerr := readContacts(f, t.ContactUpdatesFile())
		f.Close()
		if rerr != nil {
			return rerr
		}
		for _, c := range cs {
			rows[c.Email()] = c
			order = append(order, c.Email())
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	row, ok := rows[email]
	if !ok {
		row = map[string]string{}
		rows[email] = row
		order = append(order, email)
	}
	for k, v := range values {
		if v != "" {
			row[k] = v
		}
	}
	row["email"] = email
	cols := []string{"email"}
	for _, r := range rows {
		for k := range r {
			if !slices.Contains(cols, k) {
				cols = append(cols, k)
			}
		}
	}
	slices.Sort(cols[1:])
	var b strings.Builder
	cw := csv.NewWriter(&b)
	cw.Write(cols)
	for _, e := range order {
		line := make([]string, len(cols))
		for i, c := range cols {
			line[i] = rows[e][c]
		}
		cw.Write(line)
	}
	cw.Flush()
	return t.writeFile(t.ContactUpdatesFile(), []byte(b.String()))
}

// oneClick is the https unsubscribe address for a recipient of an email,
// signed so that nobody can unsubscribe someone else; "" when the site has
// no http(s) address (site_url) to serve it from.
func (t *Target) oneClick(emailID, addr string) string {
	if !strings.HasPrefix(t.site, "http://") && !strings.HasPrefix(t.site, "https://") {
		return ""
	}
	key, err := t.siteKey()
	if err != nil {
		return ""
	}
	q := url.Values{"e": {emailID}, "a": {strings.ToLower(addr)}, "s": {sign(key, emailID, addr)}}
	return t.site + "/unsubscribe?" + q.Encode()
}

func sign(key []byte, emailID, addr string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(emailID + "\x00" + strings.ToLower(addr)))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// siteKey is the data directory's secret for unsubscribe links, made on
// first use.
func (t *Target) siteKey() ([]byte, error) {
	path := t.path("site.key")
	if data, err := os.ReadFile(path); err == nil && len(data) == 64 {
		return hex.DecodeString(string(data))
	}
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		data, err := os.ReadFile(path) // another process made it first
		if err != nil {
			return nil, err
		}
		return hex.DecodeString(strings.TrimSpace(string(data)))
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(k[:])); err != nil {
		return nil, err
	}
	return k[:], f.Sync()
}

func (t *Target) checkUnsubscribe(r *http.Request) (emailID, addr string, ok bool) {
	q := r.URL.Query()
	emailID, addr = q.Get("e"), strings.ToLower(q.Get("a"))
	key, err := t.siteKey()
	if err != nil || emailID == "" || addr == "" {
		return "", "", false
	}
	return emailID, addr, hmac.Equal([]byte(sign(key, emailID, addr)), []byte(q.Get("s")))
}

// unsubscribePage asks before unsubscribing: a link followed by a mail
// scanner must not unsubscribe anyone (RFC 8058 one-click is a POST).
func (t *Target) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	if _, addr, ok := t.checkUnsubscribe(r); !ok {
		thanks(w, http.StatusForbidden, "This unsubscribe link is not valid.")
	} else {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
		fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>Unsubscribe</title><form method=post style=\"font:16px system-ui;margin:2rem\"><p>Stop emails to %s?</p><button>Unsubscribe</button></form>\n", html.EscapeString(addr))
	}
}

// unsubscribe records the unsubscribe (RFC 8058 one-click, or the page's
// button): the address is never mailed again by any send.
func (t *Target) unsubscribe(w http.ResponseWriter, r *http.Request) {
	emailID, addr, ok := t.checkUnsubscribe(r)
	if !ok {
		thanks(w, http.StatusForbidden, "This unsubscribe link is not valid.")
		return
	}
	if err := t.appendEvents([]Event{{Type: "unsubscribe", Artifact: emailID, Email: addr, At: t.now().UTC()}}); err != nil {
		thanks(w, http.StatusInternalServerError, "The unsubscribe could not be saved; try again.")
		return
	}
	thanks(w, http.StatusOK, "You are unsubscribed: "+addr+" gets no more emails from us.")
}
