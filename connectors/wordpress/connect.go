package wordpress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/lastmile/lastmile/connectors/internal/rest"
	"github.com/lastmile/lastmile/connectors/internal/secret"
	"github.com/lastmile/lastmile/sandbox"
)

// validName is what the secret store accepts as a target name.
var validName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`) })

// The capabilities a user needs for lastmile to create, publish, schedule
// and update pages.
var requiredCaps = []string{"edit_pages", "publish_pages", "edit_published_pages"}

// WithPrompt sets where connecting writes what the person reads
// (instructions, what was connected). The CLI passes stderr, never the MCP
// protocol's stdout. Default: nowhere.
func WithPrompt(w io.Writer) Option { return func(o *options) { o.prompt = w } }

// Connect connects the target called name to the WordPress site at siteURL
// as user, with the application password held in the environment variable
// passwordEnv (its name, not the password: a password never goes on a
// command line, where other users could see it). It checks that the site
// serves the REST API with Application Passwords, that the credentials work
// and that the user may publish pages (GET /wp/v2/users/me?context=edit),
// then stores them under dataDir (0600).
//
// CLI: lastmile connect wordpress --name NAME --url URL --user USER --password-env VAR
func Connect(ctx context.Context, dataDir, name, siteURL, user, passwordEnv string, opts ...Option) error {
	w := optionsOf(opts).prompt
	if w == nil {
		w = io.Discard
	}
	op := "connect"
	if !validName().MatchString(name) {
		return failf(op, nil, "--name %q: use lower-case letters, digits, - and _ (it names the target in the config)", name)
	}
	site := strings.TrimRight(strings.TrimSpace(siteURL), "/")
	if err := checkSiteURL(site); err != nil {
		return failf(op, nil, "--url: %v: give the site's address, e.g. https://blog.example.com", err)
	}
	user = strings.TrimSpace(user)
	if user == "" {
		return failf(op, nil, "--user is empty: give the WordPress user name the application password belongs to")
	}
	if passwordEnv == "" {
		return failf(op, nil, "--password-env is empty: name the environment variable that holds the application password")
	}
	password := strings.TrimSpace(os.Getenv(passwordEnv))
	if password == "" {
		return failf(op, []error{sandbox.ErrAuth}, "the environment variable %s is empty or unset: create an application password under Users → Profile → Application Passwords in WordPress and put it in %s", passwordEnv, passwordEnv)
	}
	if u, _ := url.Parse(site); u.Scheme == "http" && !isLoopback(u.Hostname()) {
		fmt.Fprintf(w, "warning: %s uses plain http, so the application password crosses the network unencrypted; WordPress offers application passwords only over https (or when WP_ENVIRONMENT_TYPE is local)\n", site)
	}

	opts = append(slices.Clip(opts), WithCredentials(user, password))
	probe, err := New(name, dataDir, Config{BaseURL: site}, opts...)
	if err != nil {
		return err
	}
	api, err := discover(ctx, probe)
	if err != nil {
		return err
	}
	t, err := New(name, dataDir, Config{BaseURL: site, APIRoot: api}, opts...)
	if err != nil {
		return err
	}
	me, err := getMe(ctx, t.client, t.path("/wp/v2/users/me", url.Values{"context": {"edit"}, "_fields": {"id,name,roles,capabilities"}}))
	if err != nil {
		return t.fail("check the credentials", err)
	}
	var missing []string
	for _, c := range requiredCaps {
		if !me.Capabilities[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return failf(op, []error{sandbox.ErrAuth}, "user %s (role %s) lacks %s, so lastmile could not publish pages: give the user the Editor or Administrator role, or connect as one who has it",
			user, roles(me.Roles), strings.Join(missing, ", "))
	}
	stored := credentials{SiteURL: site, User: user, Password: password}
	if api != site+"/wp-json" {
		stored.APIRoot = api
	}
	if err := secret.Save(dataDir, name, stored); err != nil {
		return fmt.Errorf("wordpress: connect: store the credentials of target %q: %w", name, err)
	}
	fmt.Fprintf(w, "Connected target %q to %s as %s (%s, role %s); the credentials are stored for lastmile only.\n", name, site, user, me.Name, roles(me.Roles))
	if !me.Capabilities["unfiltered_html"] {
		fmt.Fprintf(w, "note: %s lacks unfiltered_html, so WordPress will strip <script>, <style>, <form> and similar tags from pages; connect as an Administrator to keep them\n", user)
	}
	return nil
}

// discover finds the REST API root (pretty /wp-json, else ?rest_route=) and
// checks that Application Passwords are available.
func discover(ctx context.Context, t *Target) (string, error) {
	op := "connect"
	anon := *t.client
	anon.Authorize = nil
	anon.MaxAttempts = 2
	candidates := []string{t.site + "/wp-json", t.site + "/?rest_route="}
	var lastErr error
	for _, api := range candidates {
		path := "/"
		anon.BaseURL = api
		if i := strings.Index(api, "?"); i >= 0 {
			anon.BaseURL, path = api[:i], api[i:]+"/"
		}
		resp, err := anon.Do(ctx, rest.Request{Method: http.MethodGet, Path: path + withQuery(path, "_fields=namespaces,authentication")})
		if err != nil {
			var he *rest.HTTPError
			if errors.As(err, &he) && (he.Status == http.StatusUnauthorized || he.Status == http.StatusForbidden) {
				// A plugin hides the index from anonymous visitors: go on
				// and let the authenticated check decide.
				return api, nil
			}
			lastErr = err
			continue
		}
		var idx struct {
			Namespaces     []string        `json:"namespaces"`
			Authentication json.RawMessage `json:"authentication"`
		}
		if resp.Decode(&idx) != nil || !slices.Contains(idx.Namespaces, "wp/v2") {
			lastErr = fmt.Errorf("%s/ is not a WordPress REST API index", api)
			continue
		}
		var auth map[string]json.RawMessage
		_ = json.Unmarshal(idx.Authentication, &auth)
		if _, ok := auth["application-passwords"]; !ok {
			return "", failf(op, []error{sandbox.ErrAuth}, "%s does not offer Application Passwords: WordPress enables them only over https (or when WP_ENVIRONMENT_TYPE is local), WordPress 5.6 or later is needed, and a security plugin may have turned them off", t.site)
		}
		return api, nil
	}
	return "", &rest.Error{Platform: Platform, Op: op, Status: rest.StatusOf(lastErr), Cause: lastErr,
		Message: fmt.Sprintf("found no WordPress REST API at %s/wp-json/ or %s/?rest_route=/ (%v): check --url", t.site, t.site, rest.TransportCause(lastErr))}
}

func withQuery(path, q string) string {
	if strings.Contains(path, "?") {
		return "&" + q
	}
	return "?" + q
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func roles(r []string) string {
	if len(r) == 0 {
		return "none"
	}
	return strings.Join(r, ", ")
}
