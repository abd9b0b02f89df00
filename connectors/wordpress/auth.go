package wordpress

import (
	"context"
	"net/http"
)

// credentials is what lastmile connect stores for a target (0600, via secret).
type credentials struct {
	SiteURL  string `json:"site_url"`
	APIRoot  string `json:"api_root,omitempty"`
	User     string `json:"user"`
	Password string `json:"application_password"`
}

// authorize sends the user and application password over HTTP Basic, as
// WordPress's Application Passwords expect.
func (c credentials) authorize(_ context.Context, req *http.Request) error {
	req.SetBasicAuth(c.User, c.Password)
	return nil
}
