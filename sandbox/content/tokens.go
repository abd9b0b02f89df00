package content

import (
	"html"
	"regexp"
	"strings"
	"sync"
)

// token matches lastmile's personalization syntax,
// {{ contact.firstname | default: "there" }}, also with HTML-escaped quotes,
// and {{ unsubscribe_url }}.
var token = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\{\{\s*(?:contact\.([A-Za-z0-9_.:-]+)\s*(?:\|\s*default:\s*(?:"([^"]*)"|'([^']*)'|&quot;(.*?)&quot;|&#34;(.*?)&#34;))?|(unsubscribe_url))\s*\}\}`)
})

// FillTokens substitutes personalization tokens for one recipient, whose
// properties fields holds by lower-case name: what the recipient sees. An
// empty property takes the token's default. escape says the text is HTML,
// so values are escaped: a contact's name is data, never markup.
func FillTokens(s string, fields map[string]string, unsubscribe string, escape bool) string {
	return token().ReplaceAllStringFunc(s, func(m string) string {
		sm := token().FindStringSubmatch(m)
		var v string
		switch {
		case sm[6] != "":
			v = unsubscribe
		default:
			v = fields[strings.ToLower(sm[1])]
			if strings.TrimSpace(v) == "" {
				v = sm[2] + sm[3] + html.UnescapeString(sm[4]+sm[5])
			}
		}
		if escape {
			return html.EscapeString(v)
		}
		return v
	})
}
