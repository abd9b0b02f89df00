package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lastmile/lastmile/outcomes"
)

// ConfigFile is the name of the configuration file in the data directory.
const ConfigFile = "config.yaml"

// Config is the data directory's configuration.
type Config struct {
	// DefaultTarget is where a campaign goes when it names no target.
	DefaultTarget string `yaml:"default_target"`
	// Targets maps a target name to its settings; `type` picks the connector
	// and the rest is the connector's own.
	Targets map[string]TargetConfig `yaml:"targets"`
	// Policy is the brand and compliance policy file, relative to the data
	// directory; empty means no policy is configured.
	Policy string     `yaml:"policy"`
	Plans  PlanConfig `yaml:"plans"`
	// Approval is read from configuration files written by older versions
	// and ignored: which approval channels count is the policy's to say
	// (approval.channels), not a file the server writes.
	Approval ApprovalConfig `yaml:"approval"`
	// Attribution says how conversions are credited to campaigns in
	// reports and insights.
	Attribution AttributionConfig `yaml:"attribution"`
	// Auth configures serve --http as an OAuth resource server.
	Auth AuthConfig `yaml:"auth"`
	// Store is where the data lives: empty or "bolt" for the bbolt file in
	// the data directory, or a postgres:// URL for a PostgreSQL database
	// that several replicas share (leave the password out and set
	// PGPASSWORD, or use ~/.pgpass).
	Store string `yaml:"store"`
}

// AuthConfig names the OAuth authorization server whose access tokens
// serve --http accepts. Secrets are never in the file: only the names of
// the environment variables holding them.
type AuthConfig struct {
	// Issuer is the authorization server's issuer URL; empty: no OAuth.
	Issuer string `yaml:"issuer"`
	// Resource is this server's canonical URI (…/mcp), the audience every
	// token must name and the resource of its Protected Resource Metadata.
	Resource string `yaml:"resource"`
	// Introspection, when set, checks tokens at the authorization server's
	// introspection endpoint (RFC 7662) instead of as JWTs.
	Introspection *IntrospectionConfig `yaml:"introspection"`
}

// IntrospectionConfig is lastmile's client at the introspection endpoint.
type IntrospectionConfig struct {
	ClientID        string `yaml:"client_id"`
	ClientSecretEnv string `yaml:"client_secret_env"`
}

// Enabled reports whether an authorization server is configured.
func (a AuthConfig) Enabled() bool { return a.Issuer != "" }

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (a AuthConfig) check() error {
	if a.Issuer == "" {
		if a.Resource != "" || a.Introspection != nil {
			return fmt.Errorf("auth: give the authorization server's issuer too")
		}
		return nil
	}
	if a.Resource == "" {
		return fmt.Errorf("auth.resource: give this server's public URL, e.g. https://lastmile.example.com/mcp (the audience tokens must name)")
	}
	if in := a.Introspection; in != nil {
		if in.ClientID == "" {
			return fmt.Errorf("auth.introspection.client_id is missing")
		}
		if !envNameRE.MatchString(in.ClientSecretEnv) {
			return fmt.Errorf("auth.introspection.client_secret_env %q: name the environment variable that holds the secret (the secret itself never goes in this file)", in.ClientSecretEnv)
		}
	}
	return nil
}

// PostgresStore reports whether the configured store is PostgreSQL.
func (c Config) PostgresStore() bool {
	return strings.HasPrefix(c.Store, "postgres://") || strings.HasPrefix(c.Store, "postgresql://")
}

// AttributionConfig picks the attribution model and window.
type AttributionConfig struct {
	Model  string   `yaml:"model"`  // first_touch, last_touch (default) or linear
	Window Duration `yaml:"window"` // how long before a conversion a touch counts (default 720h)
}

// Options are the attribution settings as outcomes takes them.
func (a AttributionConfig) Options() outcomes.Options {
	return outcomes.Options{Model: outcomes.Model(a.Model), Window: time.Duration(a.Window)}
}

// TargetConfig is one configured target.
type TargetConfig struct {
	Type     string    `yaml:"type"`
	Settings yaml.Node `yaml:"-"` // the whole mapping, decoded by the connector
}

// UnmarshalYAML keeps the raw node for the connector.
func (t *TargetConfig) UnmarshalYAML(n *yaml.Node) error {
	var head struct {
		Type string `yaml:"type"`
	}
	if err := n.Decode(&head); err != nil {
		return err
	}
	t.Type, t.Settings = head.Type, *n
	return nil
}

// PlanConfig sets plan defaults.
type PlanConfig struct {
	Expiry    Duration `yaml:"expiry"`
	Approvals int      `yaml:"approvals"`
}

// ApprovalConfig is the approval section older versions wrote.
type ApprovalConfig struct {
	Elicitation bool `yaml:"elicitation"`
}

// Duration is a time.Duration written like "24h" or "30m".
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (write e.g. 24h or 90m)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// DefaultConfig is what a fresh data directory uses.
func DefaultConfig() Config {
	var c Config
	if err := yaml.Unmarshal([]byte(DefaultConfigText), &c); err != nil {
		panic(err) // the embedded text is tested
	}
	return c
}

// DefaultConfigText is the commented file `lastmile init` writes.
const DefaultConfigText = `# lastmile configuration.
# Everything an agent stages stays in this data directory until a human
# approves a plan (lastmile approve PLAN) and the agent confirms it.

# The target a campaign goes to when it names none. "local" needs no account:
# it "goes live" into this directory (outbox/, site/, segments/, workflows/,
# events.jsonl), so you can try the whole loop safely.
default_target: local

# Configured targets. Add platforms with lastmile connect (hubspot, mailchimp,
# wordpress); it writes their section here and keeps their secrets in
# credentials/ (mode 0600), never in this file.
targets:
  local:
    type: local
    # contacts: contacts.csv   # header row = property names; an email column is required
    # from_domain: example.com # used for Message-ID when an email's sender has none

# The brand and compliance policy checked before anything is promoted
# (see docs/policy.md). Remove the line to run without a policy.
policy: policy.yaml

plans:
  # A plan not confirmed within this time must be planned again.
  expiry: 24h
  # Human approvals a plan needs unless the policy asks for more.
  approvals: 1

# How reports and insights credit a conversion (a form, a reply, a deal, a
# purchase) to the campaigns that touched the contact before it:
# first_touch, last_touch or linear, within the window.
attribution:
  model: last_touch
  window: 720h

# Which approval channels count (the terminal, the review page, a pipeline,
# the MCP client's own prompt) is set in the policy, under approval.channels.
`

// LoadConfig reads the data directory's config file, or the defaults when
// there is none.
func LoadConfig(dataDir string) (Config, error) {
	path := filepath.Join(dataDir, ConfigFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		c := DefaultConfig()
		// Without a config file there is no policy file either.
		c.Policy = ""
		return c, nil
	}
	if err != nil {
		return Config{}, err
	}
	c := Config{Plans: PlanConfig{Expiry: Duration(24 * time.Hour), Approvals: 1}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.check(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func (c *Config) check() error {
	if c.Targets == nil {
		c.Targets = map[string]TargetConfig{}
	}
	if _, ok := c.Targets["local"]; !ok {
		// local is always there: it needs nothing.
		c.Targets["local"] = TargetConfig{Type: "local"}
	}
	if c.DefaultTarget == "" {
		c.DefaultTarget = "local"
	}
	if _, ok := c.Targets[c.DefaultTarget]; !ok {
		return fmt.Errorf("default_target %q is not among the targets (%v)", c.DefaultTarget, c.TargetNames())
	}
	for name, t := range c.Targets {
		if t.Type == "" {
			return fmt.Errorf("target %q has no type (local, hubspot, mailchimp or wordpress)", name)
		}
	}
	if c.Plans.Expiry <= 0 {
		c.Plans.Expiry = Duration(24 * time.Hour)
	}
	if c.Plans.Approvals < 1 {
		c.Plans.Approvals = 1
	}
	if c.Store != "" && c.Store != "bolt" && !c.PostgresStore() {
		// The value is not repeated: it may hold a password.
		return fmt.Errorf("store must be bolt or a postgres://user@host/database URL")
	}
	if m := c.Attribution.Model; m != "" && !slices.Contains(outcomes.Models, outcomes.Model(m)) {
		return fmt.Errorf("attribution.model %q is not first_touch, last_touch or linear", m)
	}
	if err := c.Auth.check(); err != nil {
		return err
	}
	if c.Attribution.Window < 0 {
		return fmt.Errorf("attribution.window must be positive")
	}
	return nil
}

// TargetNames lists the configured target names, sorted.
func (c Config) TargetNames() []string {
	names := make([]string, 0, len(c.Targets))
	for n := range c.Targets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// SaveTarget adds or replaces a target's section in the data directory's
// config file, keeping the rest of the file (comments included). settings
// is any value that encodes to a YAML mapping; its type key is set.
func SaveTarget(dataDir, name, typ string, settings any, makeDefault bool) error {
	path := filepath.Join(dataDir, ConfigFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		data = []byte(DefaultConfigText)
	} else if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("%s is not a YAML mapping", path)
	}
	root := doc.Content[0]
	var section yaml.Node
	if err := section.Encode(settings); err != nil {
		return err
	}
	if section.Kind != yaml.MappingNode {
		return fmt.Errorf("target settings must be a mapping")
	}
	section.Style = 0 // block style, like the rest of the file
	setKey(&section, "type", &yaml.Node{Kind: yaml.ScalarNode, Value: typ})
	targets := getKey(root, "targets")
	if targets == nil || targets.Kind != yaml.MappingNode {
		targets = &yaml.Node{Kind: yaml.MappingNode}
		setKey(root, "targets", targets)
	}
	setKey(targets, name, &section)
	if makeDefault {
		setKey(root, "default_target", &yaml.Node{Kind: yaml.ScalarNode, Value: name})
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out.Bytes(), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func getKey(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func setKey(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v.HeadComment = m.Content[i+1].HeadComment
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
}
