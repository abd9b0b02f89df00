package webflow

import (
	"context"
	"net/http"
	"time"
)

// credentials is what lastmile connect stores for a target (0600, via secret).
type credentials struct {
	Token       string    `json:"token"`
	SiteID      string    `json:"site_id"`
	Scopes      []string  `json:"scopes,omitempty"`
	ConnectedAt time.Time `json:"connected_at,omitzero"`
}

// authorize sends the site token as a Bearer token.
func (c credentials) authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+c.Token)
	return nil
}
