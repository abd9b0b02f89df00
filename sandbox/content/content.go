// Package content is the block model for campaign emails and landing pages,
// and its renderers: table-based email HTML with inlined styles plus a
// plain-text part, semantic page HTML, forms, and the HTML utilities the
// sandbox, governance and the connectors need (HTMLToText, ApplyUTM, Links,
// BodyOf).
//
// The package is pure: no I/O, no global state, no other project package.
// Every renderer escapes all text it is given, keeps personalization tokens
// such as {{ contact.firstname | default: "there" }} byte-identical, and is
// deterministic, so its output can be golden-tested and hashed into plans.
//
// Renderers never fail: input that Validate would reject is rendered as
// safely as possible (unknown blocks are skipped, unsafe URLs are dropped).
// Callers validate first and show the problems to the agent.
package content

// Block types.
const (
	TypeHeading   = "heading"
	TypeParagraph = "paragraph"
	TypeButton    = "button"
	TypeImage     = "image"
	TypeDivider   = "divider"
	TypeSpacer    = "spacer"
	TypeHTML      = "html"
	TypeColumns   = "columns"
)

// Cell is one block that can sit inside a column. Block = Cell + the
// two-column row.
//
// Two types rather than one recursive type: the JSON-schema generator used
// for MCP tool schemas (invopop/jsonschema with DoNotReference) overflows the
// stack on recursive types. It also makes nested columns impossible by type.
type Cell struct {
	// Type is heading | paragraph | button | image | divider | spacer | html.
	Type string `json:"type" jsonschema:"enum=heading,enum=paragraph,enum=button,enum=image,enum=divider,enum=spacer,enum=html,enum=columns" jsonschema_description:"Block type; columns only at the top level."`
	// Text is the heading text; the paragraph's Markdown (**bold**, *italic*,
	// [label](url), line breaks, blank line = new paragraph); the button
	// label; the raw HTML fragment of an html block.
	Text string `json:"text,omitempty" jsonschema_description:"Heading/button text; paragraph Markdown (**b**, *i*, [label](https://…)); html block's HTML. {{ tokens }} kept."`
	// Level is the heading level, 1..3 (default 1).
	Level int `json:"level,omitempty"`
	// URL is the button target, or the link of an image (optional).
	URL string `json:"url,omitempty"`
	// Src is the image source; https only.
	Src string `json:"src,omitempty" jsonschema_description:"Image URL (https)."`
	// Alt is the image's alternative text (required for images).
	Alt string `json:"alt,omitempty" jsonschema_description:"Alt text; required for images."`
	// Width is the image width in px (<= 600; default: the full content width).
	Width int `json:"width,omitempty"`
	// Height is the spacer height in px (default 24), or the image's height
	// in px at Width (optional; emitted as the height attribute).
	Height int `json:"height,omitempty"`
	// Align is left | center | right. Default: left for text, center for
	// buttons and images.
	Align string `json:"align,omitempty" jsonschema:"enum=left,enum=center,enum=right"`
}

// Block is a top-level block: any Cell, or a two-column row (type
// "columns") whose Columns hold exactly two columns of cells. Two columns
// stack on narrow screens.
type Block struct {
	Cell
	Columns [][]Cell `json:"columns,omitempty"`
}

// Form is a landing-page form.
type Form struct {
	Fields         []FormField `json:"fields"`
	SubmitLabel    string      `json:"submit_label,omitempty"`
	SuccessMessage string      `json:"success_message,omitempty"`
}

// FormField is one form control. Type is text | email | tel | number |
// textarea | checkbox (default text). Checkboxes are never pre-checked:
// consent must be an affirmative act (GDPR, CASL).
type FormField struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Type     string `json:"type,omitempty" jsonschema:"enum=text,enum=email,enum=tel,enum=number,enum=textarea,enum=checkbox"`
	Required bool   `json:"required,omitempty"`
}

// Form field types.
const (
	FieldText     = "text"
	FieldEmail    = "email"
	FieldTel      = "tel"
	FieldNumber   = "number"
	FieldTextarea = "textarea"
	FieldCheckbox = "checkbox"
)

// Limits enforced by Validate and ValidateForm.
const (
	MaxBlocks        = 200
	MaxColumnCells   = 20
	MaxFormFields    = 30
	MaxImageWidth    = 600
	MaxSpacerHeight  = 200
	MaxImageHeight   = 4000
	MaxHeadingLen    = 300
	MaxButtonLabel   = 100
	MaxParagraphLen  = 20000
	MaxHTMLBlockLen  = 50000
	MaxURLLen        = 2048
	MaxAltLen        = 500
	DefaultSpacer    = 24
	emailWidth       = 600
	emailPadX        = 24
	emailContent     = emailWidth - 2*emailPadX   // 552
	emailColOuter    = emailWidth/2 - emailPadX/2 // 288: each column incl. its 12px side paddings
	emailColumnWidth = emailColOuter - emailPadX  // 264
)

// Problem is one thing wrong with the input, with the path of the field
// ("blocks[2].alt", "blocks[4].columns[1][0].src", "form.fields[0].name")
// and how to fix it.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

func (p Problem) String() string {
	s := p.Path + ": " + p.Message
	if p.Fix != "" {
		s += " (fix: " + p.Fix + ")"
	}
	return s
}

// EmailOptions are the per-email settings of RenderEmail.
type EmailOptions struct {
	Title       string `json:"title,omitempty"`
	PreviewText string `json:"preview_text,omitempty"`
	// UnsubscribeURL is the placeholder or token put in the footer's
	// unsubscribe link; default "{{ unsubscribe_url }}".
	UnsubscribeURL string `json:"unsubscribe_url,omitempty"`
	// Footer adds the footer (company, postal address, contact, unsubscribe
	// link) from the theme.
	Footer bool `json:"footer,omitempty"`
	// Lang is the document language (default "en").
	Lang string `json:"lang,omitempty"`
}

// DefaultUnsubscribeURL is the footer's unsubscribe link when
// EmailOptions.UnsubscribeURL is empty; the connector substitutes it.
const DefaultUnsubscribeURL = "{{ unsubscribe_url }}"

// PageOptions are the per-page settings of RenderPage and RenderPageBody.
type PageOptions struct {
	Title           string `json:"title,omitempty"`
	MetaDescription string `json:"meta_description,omitempty"`
	Form            *Form  `json:"form,omitempty"`
	// FormAction is where the form posts. Empty: "#", with
	// data-lastmile-form="not-wired" so the target can wire it.
	FormAction string `json:"form_action,omitempty"`
	// Lang is the document language (default "en").
	Lang string `json:"lang,omitempty"`
}

// UTM holds the utm_* parameters ApplyUTM adds; empty fields are not added.
type UTM struct {
	Source   string `json:"source,omitempty"`
	Medium   string `json:"medium,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Content  string `json:"content,omitempty"`
	Term     string `json:"term,omitempty"`
}

// Link is one <a href> of a document with its text (collapsed whitespace,
// images contribute their alt).
type Link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}
