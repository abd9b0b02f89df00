package governance

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Policy is a loaded, validated and compiled policy. It is immutable and safe
// for concurrent use.
type Policy struct {
	file        string
	version     int
	name        string
	description string
	defaults    *Defaults // nil when the policy has no defaults section
	brand       Brand
	roles       map[string][]string
	channels    map[string]ChannelRule // approval channels that count
	testSends   *TestSends             // nil when the policy has no test_sends section
	// alwaysExclude names workspace segments (by id or name) every send
	// must exclude: suppression lists, competitors.
	alwaysExclude []string
	rules         []*rule
	words         *wordIndex // every word list of every rule, one automaton
	hash          string
}

// Brand holds the brand tokens the block renderer and the style/footer
// checks share.
type Brand struct {
	Colors Colors `json:"colors"`
	Fonts  Fonts  `json:"fonts"`
	Logo   Logo   `json:"logo"`
	Footer Footer `json:"footer"`
}

// Colors are lower-case #rrggbb values.
type Colors struct {
	Named      map[string]string `json:"named,omitempty"`
	Primary    string            `json:"primary,omitempty"`
	Text       string            `json:"text,omitempty"`
	Background string            `json:"background,omitempty"`
	Link       string            `json:"link,omitempty"`
	Button     string            `json:"button,omitempty"`
}

// Fonts are CSS font-family stacks, e.g. "Helvetica, Arial, sans-serif".
type Fonts struct {
	Body    string `json:"body,omitempty"`
	Heading string `json:"heading,omitempty"`
}

// Logo is the brand logo as the renderer places it.
type Logo struct {
	URL   string `json:"url,omitempty"`
	Alt   string `json:"alt,omitempty"`
	Width int    `json:"width,omitempty"`
	Link  string `json:"link,omitempty"`
}

// Footer is the sender identity every commercial email must carry
// (CAN-SPAM postal address, CASL identity and contact).
type Footer struct {
	Company       string `json:"company,omitempty"`
	PostalAddress string `json:"postal_address,omitempty"`
	ContactEmail  string `json:"contact_email,omitempty"`
	ContactURL    string `json:"contact_url,omitempty"`
}

// Defaults is campaign metadata a campaign inherits when it states none
// (the policy's defaults section): the company's industry and markets, so
// that industry and market selectors match what the company does rather
// than matching everything because nothing was said; and the default sender.
type Defaults struct {
	Industry  string   `json:"industry,omitempty"`
	Markets   []string `json:"markets,omitempty"`
	FromName  string   `json:"from_name,omitempty"`
	FromEmail string   `json:"from_email,omitempty"`
}

// TestSends says who may receive a test send (send_test): the addresses
// of the seed list and any address at an internal domain; and whether an
// email with governance errors may be sent as a test (a draft).
type TestSends struct {
	SeedList        []string `json:"seed_list,omitempty"`
	InternalDomains []string `json:"internal_domains,omitempty"`
	AllowDrafts     bool     `json:"allow_drafts,omitempty"`
}

// Allows reports whether addr may receive a test send.
func (t *TestSends) Allows(addr string) bool {
	if t == nil {
		return false
	}
	addr = strings.ToLower(strings.TrimSpace(addr))
	if slices.Contains(t.SeedList, addr) {
		return true
	}
	at := strings.LastIndexByte(addr, '@')
	return at > 0 && slices.Contains(t.InternalDomains, addr[at+1:])
}

// RuleInfo describes one rule for listings (CLI, MCP resources).
type RuleInfo struct {
	ID            string   `json:"id"`
	Kind          string   `json:"kind"`
	Level         string   `json:"level"`
	Message       string   `json:"message,omitempty"`
	Description   string   `json:"description,omitempty"`
	Link          string   `json:"link,omitempty"`
	Scope         []string `json:"scope,omitempty"`
	Markets       []string `json:"markets,omitempty"`
	Industries    []string `json:"industries,omitempty"`
	Channels      []string `json:"channels,omitempty"`
	MinRecipients int      `json:"min_recipients,omitempty"`
}

// ruleConfig is a rule as written in the policy file, after defaults. It is
// what the hash covers and what Summary presents; the compiled forms live in
// rule.
type ruleConfig struct {
	ID            string   `json:"id"`
	Kind          string   `json:"kind"`
	Level         string   `json:"level,omitempty"`
	Message       string   `json:"message,omitempty"`
	Description   string   `json:"description,omitempty"`
	Link          string   `json:"link,omitempty"`
	Fix           string   `json:"fix,omitempty"`
	Scope         []string `json:"scope,omitempty"`
	Exceptions    []string `json:"exceptions,omitempty"`
	Markets       []string `json:"markets,omitempty"`
	Industries    []string `json:"industries,omitempty"`
	Channels      []string `json:"channels,omitempty"`
	MinRecipients int      `json:"min_recipients,omitempty"`

	IgnoreCase *bool    `json:"ignorecase,omitempty"`
	Tokens     []string `json:"tokens,omitempty"`
	Patterns   []string `json:"patterns,omitempty"`
	Swap       []pair   `json:"swap,omitempty"`
	Min        *int     `json:"min,omitempty"`
	Max        *int     `json:"max,omitempty"`
	Either     []pair   `json:"either,omitempty"`
	First      string   `json:"first,omitempty"`
	Second     string   `json:"second,omitempty"`

	Match    string   `json:"match,omitempty"`
	Products []string `json:"products,omitempty"`

	Metric   string   `json:"metric,omitempty"`
	MaxGrade *float64 `json:"max_grade,omitempty"`
	MinWords int      `json:"min_words,omitempty"`

	Text []string `json:"text,omitempty"`

	Require          []string `json:"require,omitempty"`
	UnsubscribeWords []string `json:"unsubscribe_words,omitempty"`

	HTTPS        *bool      `json:"https,omitempty"`
	Domains      []string   `json:"domains,omitempty"`
	UTM          *utmConfig `json:"utm,omitempty"`
	Placeholders *bool      `json:"placeholders,omitempty"`

	Alt         string `json:"alt,omitempty"`
	SpacerMaxPx int    `json:"spacer_max_px,omitempty"`

	Colors      *bool    `json:"colors,omitempty"`
	Fonts       *bool    `json:"fonts,omitempty"`
	AllowColors []string `json:"allow_colors,omitempty"`
	AllowFonts  []string `json:"allow_fonts,omitempty"`

	WarnKB int `json:"warn_kb,omitempty"`
	MaxKB  int `json:"max_kb,omitempty"`

	Required  *bool    `json:"required,omitempty"`
	MinLength int      `json:"min_length,omitempty"`
	MaxLength int      `json:"max_length,omitempty"`
	AllCaps   *bool    `json:"all_caps,omitempty"`
	SpamWords []string `json:"spam_words,omitempty"`

	Syntax string   `json:"syntax,omitempty"`
	Roots  []string `json:"roots,omitempty"`

	Property string `json:"property,omitempty"`

	Approvers int      `json:"approvers,omitempty"`
	Roles     []string `json:"roles,omitempty"`
	// MinDailyBudget and MinTotalBudget select plans whose ad campaigns
	// may spend that much a day, or in all.
	MinDailyBudget *Money `json:"min_daily_budget,omitempty"`
	MinTotalBudget *Money `json:"min_total_budget,omitempty"`
}

type pair struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type utmConfig struct {
	Required []string            `json:"required,omitempty"`
	Values   []utmValues         `json:"values,omitempty"`
	Domains  []string            `json:"domains,omitempty"`
	values   map[string][]string // lookup form of Values
}

type utmValues struct {
	Param   string   `json:"param"`
	Allowed []string `json:"allowed"`
}

// rule is a ruleConfig plus everything compiled from it.
type rule struct {
	cfg      ruleConfig
	idx      int // position in Policy.rules
	sel      selector
	scopes   scope          // text scopes the rule reads
	patterns *regexp.Regexp // existence/occurrence/required_text patterns, one alternation
	first    *regexp.Regexp // conditional
	second   *regexp.Regexp
	// first and second, tried only where words start, when their every
	// match begins a word (nil otherwise)
	firstAt, secondAt *wordStart
	secondCap         bool              // second has a capture group: Vale set semantics
	excFold           [][]byte          // folded exception phrases
	products          map[string]string // folded product name → canonical spelling
	allowCol          map[uint32]bool   // style: allowed colours as 0xRRGGBB
	allowFont         map[string]bool   // style: lower-case allowed families
	brandFont         string            // style: the stack to suggest
	tokenRoot         map[string]bool   // tokens: personalization roots
	capsOK            map[string]bool   // subject/preview: upper-case words allowed (acronyms)
}

func (r *rule) level() string { return r.cfg.Level }

// Default is the policy in force when none is configured: no rules, a neutral
// brand. Its hash is stable, so plans made without a policy still bind to
// "no policy".
func Default() *Policy {
	p := &Policy{version: 1, name: "no policy configured", roles: map[string][]string{}, channels: defaultApprovalChannels()}
	p.words = buildWordIndex(nil)
	p.hash = p.computeHash()
	return p
}

// Hash is "sha256:<hex>" of the canonical form of the policy: stable across
// loads of the same bytes, changed by any change to brand, roles or rules.
// Plans include it so an approval binds to the policy it was checked under.
func (p *Policy) Hash() string { return p.hash }

// File is the path the policy was loaded from ("" for Default).
func (p *Policy) File() string { return p.file }

// Name is the policy's display name.
func (p *Policy) Name() string { return p.name }

func (p *Policy) computeHash() string {
	canon := struct {
		Format      string                 `json:"format"`
		Version     int                    `json:"version"`
		Name        string                 `json:"name"`
		Description string                 `json:"description"`
		Defaults    *Defaults              `json:"defaults,omitempty"` // absent: hashes as before defaults existed
		Brand       Brand                  `json:"brand"`
		Roles       map[string][]string    `json:"roles"`
		Channels    map[string]ChannelRule `json:"approval_channels"`
		TestSends   *TestSends             `json:"test_sends,omitempty"` // absent: hashes as before test sends existed
		Exclude     []string               `json:"always_exclude,omitempty"`
		Rules       []ruleConfig           `json:"rules"`
	}{"lastmile-policy/1", p.version, p.name, p.description, p.defaults, p.brand, p.roles, p.channels, p.testSends, p.alwaysExclude, nil}
	for _, r := range p.rules {
		canon.Rules = append(canon.Rules, r.cfg)
	}
	// json.Marshal sorts map keys, which makes the encoding canonical.
	b, err := json.Marshal(canon)
	if err != nil {
		panic("governance: policy not serializable: " + err.Error()) // all fields are plain data
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Brand returns a copy of the brand tokens.
func (p *Policy) Brand() Brand {
	b := p.brand
	b.Colors.Named = maps.Clone(p.brand.Colors.Named)
	return b
}

// RoleMembers lists the approvers (names or emails) the policy gives a role.
func (p *Policy) RoleMembers(role string) []string {
	return slices.Clone(p.roles[role])
}

// Roles lists the role names the policy defines, sorted.
func (p *Policy) Roles() []string {
	return slices.Sorted(maps.Keys(p.roles))
}

// Rules describes every rule in policy order.
func (p *Policy) Rules() []RuleInfo {
	out := make([]RuleInfo, 0, len(p.rules))
	for _, r := range p.rules {
		c := r.cfg
		out = append(out, RuleInfo{
			ID: c.ID, Kind: c.Kind, Level: c.Level, Message: c.Message, Description: c.Description,
			Link: c.Link, Scope: slices.Clone(c.Scope), Markets: slices.Clone(c.Markets),
			Industries: slices.Clone(c.Industries), Channels: slices.Clone(c.Channels),
			MinRecipients: c.MinRecipients,
		})
	}
	return out
}

// Defaults returns the industry and markets campaigns inherit when they
// state none ("" and nil when the policy sets none).
func (p *Policy) Defaults() (industry string, markets []string) {
	if p.defaults == nil {
		return "", nil
	}
	return p.defaults.Industry, slices.Clone(p.defaults.Markets)
}

// TestSends returns who may receive test sends; nil when the policy names
// nobody, so every test send is refused.
func (p *Policy) TestSends() *TestSends {
	if p.testSends == nil {
		return nil
	}
	t := *p.testSends
	t.SeedList, t.InternalDomains = slices.Clone(t.SeedList), slices.Clone(t.InternalDomains)
	return &t
}

// AlwaysExclude names the workspace segments (ids or names) every send
// must exclude.
func (p *Policy) AlwaysExclude() []string { return slices.Clone(p.alwaysExclude) }

// Sender returns the policy's default sender name and address ("" when not
// set), for agents writing emails.
func (p *Policy) Sender() (name, email string) {
	if p.defaults == nil {
		return "", ""
	}
	return p.defaults.FromName, p.defaults.FromEmail
}

// Brand values every commercial email needs (sender identity, CAN-SPAM's
// postal address, CASL's contact), as Unset names them.
const (
	UnsetCompany       = "brand.footer.company"
	UnsetPostalAddress = "brand.footer.postal_address"
	UnsetContact       = "brand.footer.contact_url" // the website; contact_email also satisfies it
)

// unsetWhat says what each Unset value is, for people.
var unsetWhat = map[string]string{
	UnsetCompany:       "the company name",
	UnsetPostalAddress: "the company's postal address",
	UnsetContact:       "the website (or a contact email)",
}

// Unset lists the brand values a human still has to set before emails can
// carry the sender's identity: brand.footer.company, postal_address and
// contact_url (satisfied by contact_email too), in that order. Footer rules
// that need one of them report it as not set wherever they apply.
func (p *Policy) Unset() []string {
	var out []string
	ft := p.brand.Footer
	if ft.Company == "" {
		out = append(out, UnsetCompany)
	}
	if ft.PostalAddress == "" {
		out = append(out, UnsetPostalAddress)
	}
	if ft.ContactURL == "" && ft.ContactEmail == "" {
		out = append(out, UnsetContact)
	}
	return out
}

// UnsetNote is one paragraph for agents telling what the human must set
// with lastmile init, or "" when nothing is unset.
func (p *Policy) UnsetNote() string {
	u := p.Unset()
	if len(u) == 0 {
		return ""
	}
	parts := make([]string, len(u))
	for i, k := range u {
		parts[i] = unsetWhat[k] + " (" + k + ")"
	}
	return "The brand is not fully set: " + strings.Join(parts, ", ") + " is not set. " +
		"Emails cannot carry the sender's identity until it is, and footer rules that need it report it as not set. " +
		"You cannot set it: ask a human to run `lastmile init` (it asks for the company, postal address, website and sender) " +
		"or to edit the brand section of policy.yaml. Do not invent these values."
}
