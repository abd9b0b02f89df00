package mailchimp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Credential kinds.
const (
	authAPIKey = "api_key"
	authOAuth  = "oauth"
)

// credentials is what secret stores for a Mailchimp target (0600 file). Its
// String, GoString and LogValue never show the secret.
type credentials struct {
	Kind        string    `json:"kind"`
	APIKey      string    `json:"api_key,omitempty"`
	AccessToken string    `json:"access_token,omitempty"`
	DC          string    `json:"dc"`
	APIEndpoint string    `json:"api_endpoint"` // e.g. https://us21.api.mailchimp.com, without /3.0
	AccountName string    `json:"account_name,omitempty"`
	ConnectedAt time.Time `json:"connected_at"`
}

func (c credentials) String() string {
	return fmt.Sprintf("mailchimp credentials (%s, dc %s, secret redacted)", c.Kind, c.DC)
}

func (c credentials) GoString() string { return c.String() }

func (c credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", c.Kind), slog.String("dc", c.DC))
}

func (c credentials) valid() error {
	switch c.Kind {
	case authAPIKey:
		if c.APIKey == "" {
			return errors.New("no API key")
		}
	case authOAuth:
		if c.AccessToken == "" {
			return errors.New("no access token")
		}
	default:
		return fmt.Errorf("unknown kind %q", c.Kind)
	}
	if c.APIEndpoint == "" && c.DC == "" {
		return errors.New("no data centre")
	}
	return nil
}

func (c credentials) secretValue() string {
	if c.Kind == authOAuth {
		return c.AccessToken
	}
	return c.APIKey
}

func (c credentials) apiBase() string {
	if c.APIEndpoint != "" {
		return strings.TrimRight(c.APIEndpoint, "/") + "/3.0"
	}
	return "https://" + c.DC + ".api.mailchimp.com/3.0"
}

// authorize adds the credential: HTTP Basic with any user name and the API
// key as password, or Bearer with the OAuth token.
func (c credentials) authorize(_ context.Context, req *http.Request) error {
	switch c.Kind {
	case authAPIKey:
		req.SetBasicAuth("lastmile", c.APIKey)
	case authOAuth:
		req.Header.Set("Authorization", "Bearer "+c.AccessToken)
	}
	return nil
}
