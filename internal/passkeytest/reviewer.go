package passkeytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Reviewer is a person on the review page, without a browser: a cookie
// jar, requests that carry the page's origin, and a Key.
type Reviewer struct {
	t      testing.TB
	origin string
	client *http.Client
	Key    *Key
}

// NewReviewer returns a reviewer with a new key, for the review page at
// origin (its host is the relying party).
func NewReviewer(t testing.TB, origin string) *Reviewer {
	u, err := url.Parse(origin)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	return &Reviewer{t: t, origin: origin, Key: New(t, origin, u.Hostname()),
		client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (r *Reviewer) do(method, path string, body []byte, csrf string) (int, []byte, error) {
	req, err := http.NewRequest(method, r.origin+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if method == http.MethodPost {
		req.Header.Set("Origin", r.origin)
		req.Header.Set("Content-Type", "application/json")
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	res, err := r.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res.StatusCode, data, err
}

// Get fetches a page of the review page, signed in as the reviewer.
func (r *Reviewer) Get(path string) (int, []byte, error) { return r.do("GET", path, nil, "") }

// Enrol registers the key through an enrolment link, which signs the
// reviewer in.
func (r *Reviewer) Enrol(link string) error {
	path := strings.TrimPrefix(link, r.origin)
	st, opts, err := r.do("POST", path+"/begin", nil, "")
	if err != nil || st != 200 {
		return fmt.Errorf("enrol: %d %s %v", st, opts, err)
	}
	st, body, err := r.do("POST", path+"/finish", r.Key.Create(opts), "")
	if err != nil || st != 200 {
		return fmt.Errorf("enrol: %d %s %v", st, body, err)
	}
	return nil
}

var (
	csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)
	planHash = regexp.MustCompile(`id="approve" data-plan="[^"]*" data-hash="([^"]+)"`)
)

// Approve opens a plan's page and approves it with the key, as the page's
// button does; it returns what the page then says.
func (r *Reviewer) Approve(planURL string) (string, error) {
	path := strings.TrimPrefix(planURL, r.origin)
	st, page, err := r.do("GET", path, nil, "")
	if err != nil || st != 200 {
		return "", fmt.Errorf("open %s: %d %v", planURL, st, err)
	}
	csrf, hash := csrfMeta.FindSubmatch(page), planHash.FindSubmatch(page)
	if csrf == nil || hash == nil {
		return "", fmt.Errorf("the plan page has no approve button: %.400s", page)
	}
	body, _ := json.Marshal(map[string]string{"hash": string(hash[1])})
	st, data, err := r.do("POST", path+"/approve/begin", body, string(csrf[1]))
	if err != nil || st != 200 {
		return "", fmt.Errorf("approve: %d %s %v", st, data, err)
	}
	var begun struct {
		Ceremony string          `json:"ceremony"`
		Options  json.RawMessage `json:"options"`
	}
	if err := json.Unmarshal(data, &begun); err != nil {
		return "", err
	}
	st, data, err = r.do("POST", path+"/approve/finish?ceremony="+url.QueryEscape(begun.Ceremony), r.Key.Get(begun.Options), string(csrf[1]))
	if err != nil || st != 200 {
		return "", fmt.Errorf("approve: %d %s %v", st, data, err)
	}
	var done struct {
		Message string `json:"message"`
	}
	json.Unmarshal(data, &done)
	return done.Message, nil
}
