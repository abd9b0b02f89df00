package content

// Fixtures shared by the golden, benchmark and property tests.

var brandTheme = Theme{
	PrimaryColor:      "#0F766E",
	TextColor:         "#111827",
	BackgroundColor:   "#FFFFFF",
	LinkColor:         "#0f766e",
	FontFamily:        `"Helvetica Neue", Arial, sans-serif`,
	HeadingFontFamily: "Georgia, serif",
	LogoURL:           "https://cdn.acme.example/logo.png",
	LogoAlt:           "Acme",
	LogoLink:          "https://acme.example/",
	LogoWidth:         140,
	Company:           "Acme Cloud Inc.",
	PostalAddress:     "100 Main Street, Suite 5\nSpringfield, OR 97477\nUSA",
	ContactEmail:      "hello@acme.example",
}

// allBlocks uses every block type once, plus a two-column row.
func allBlocks() []Block {
	return []Block{
		{Cell: Cell{Type: "heading", Text: `Hi {{ contact.firstname | default: "there" }}, meet AcmeCloud`}},
		{Cell: Cell{Type: "paragraph", Text: "Our **new dashboard** is *finally* here. Read the [launch notes](https://acme.example/blog/launch?ref=mail).\nIt ships today.\n\nSecond paragraph with a `<script>alert(1)</script>` & more."}},
		{Cell: Cell{Type: "button", Text: "Start your trial", URL: "https://acme.example/trial"}},
		{Cell: Cell{Type: "image", Src: "https://cdn.acme.example/hero.png", Alt: "The new dashboard", Width: 600, Height: 300, URL: "https://acme.example/dashboard"}},
		{Cell: Cell{Type: "divider"}},
		{Cell: Cell{Type: "heading", Level: 2, Text: "What's inside"}},
		{Cell: Cell{Type: "columns"}, Columns: [][]Cell{
			{
				{Type: "image", Src: "https://cdn.acme.example/a.png", Alt: "Reports", Width: 264, Height: 132},
				{Type: "heading", Level: 3, Text: "Reports"},
				{Type: "paragraph", Text: "Weekly reports, *automatically*."},
			},
			{
				{Type: "image", Src: "https://cdn.acme.example/b.png", Alt: "Alerts", Width: 264, Height: 132},
				{Type: "heading", Level: 3, Text: "Alerts"},
				{Type: "paragraph", Text: "Know first when something breaks."},
				{Type: "button", Text: "See alerts", URL: "https://acme.example/alerts", Align: "left"},
			},
		}},
		{Cell: Cell{Type: "spacer", Height: 16}},
		{Cell: Cell{Type: "html", Text: `<ul><li>No setup</li><li>Cancel <b>anytime</b></li></ul><script>x()</script>`}},
		{Cell: Cell{Type: "paragraph", Text: "Questions? Write to [support](mailto:support@acme.example).", Align: "center"}},
	}
}

// tenBlocks is a typical campaign email.
func tenBlocks() []Block {
	return []Block{
		{Cell: Cell{Type: "image", Src: "https://cdn.acme.example/hero.png", Alt: "Spring sale", Width: 600, Height: 280}},
		{Cell: Cell{Type: "heading", Text: "Spring sale: 30% off all plans"}},
		{Cell: Cell{Type: "paragraph", Text: `Hi {{ contact.firstname | default: "there" }}, for one week only every plan is **30% off** when you pay yearly.`}},
		{Cell: Cell{Type: "paragraph", Text: "Teams that switched to yearly billing saved an average of *four hours a month* on invoicing. See [how they did it](https://acme.example/stories)."}},
		{Cell: Cell{Type: "button", Text: "Claim 30% off", URL: "https://acme.example/pricing?plan=yearly"}},
		{Cell: Cell{Type: "divider"}},
		{Cell: Cell{Type: "heading", Level: 2, Text: "Why teams choose Acme"}},
		{Cell: Cell{Type: "columns"}, Columns: [][]Cell{
			{{Type: "heading", Level: 3, Text: "Fast"}, {Type: "paragraph", Text: "Set up in minutes, not weeks."}},
			{{Type: "heading", Level: 3, Text: "Secure"}, {Type: "paragraph", Text: "SOC 2 Type II and SSO on every plan."}},
		}},
		{Cell: Cell{Type: "spacer"}},
		{Cell: Cell{Type: "paragraph", Text: "Offer ends Sunday at midnight.", Align: "center"}},
	}
}
