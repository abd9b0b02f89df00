package mailchimp

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/lastmile/lastmile/internal/termsafe"
	"github.com/lastmile/lastmile/liquid"
)

// lastmile's personalization language (package liquid), translated to
// Mailchimp merge tags:
//
//	{{ contact.first_name }}                     → *|FNAME|*
//	{{ contact.first_name | default: "there" }}  → *|IF:FNAME|**|FNAME|**|ELSE:|*there*|END:IF|*
//	{{ unsubscribe_url }}                        → *|UNSUB|*
//	{% if contact.vip %}                         → *|IF:VIP|*
//	{% if contact.plan == "pro" %}               → *|IF:PLAN=pro|*   (!=, >, < alike)
//	{% elsif contact.seats > 10 %}               → *|ELSEIF:SEATS>10|*
//	{% else %} / {% endif %}                     → *|ELSE:|* / *|END:IF|*
//
// Mailchimp cannot test contains; that and everything outside the language
// is what liquid.Unrenderable("mailchimp", …) lists, the same list the
// governance check reports. Besides the language, the links Mailchimp
// fills itself have tokens: {{ view_in_browser_url }} → *|ARCHIVE|*,
// {{ preferences_url }} → *|UPDATE_PROFILE|*. Mailchimp's own *|TAGS|*
// pass through untouched.

var (
	outputRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{\{\s*([^{}\r\n]*?)\s*\}\}`) })
	nonTagRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Z0-9_]`) })
)

var builtinMerge = map[string]string{
	"email": "EMAIL", "email_address": "EMAIL",
	"first_name": "FNAME", "firstname": "FNAME", "fname": "FNAME",
	"last_name": "LNAME", "lastname": "LNAME", "lname": "LNAME",
	"phone": "PHONE", "phone_number": "PHONE",
	"address":  "ADDRESS",
	"birthday": "BIRTHDAY",
}

var specialTokens = map[string]string{
	"unsubscribe_url":     "*|UNSUB|*",
	"view_in_browser_url": "*|ARCHIVE|*",
	"web_version_url":     "*|ARCHIVE|*",
	"archive_url":         "*|ARCHIVE|*",
	"preferences_url":     "*|UPDATE_PROFILE|*",
	"update_profile_url":  "*|UPDATE_PROFILE|*",
}

// mergeTag maps a contact property to the audience's merge tag; assumed is
// true when neither the defaults nor the target's merge_fields name it.
func (t *Target) mergeTag(property string) (tag string, assumed bool) {
	p := strings.ToLower(property)
	if tag, ok := t.merge[p]; ok {
		return tag, false
	}
	if tag, ok := builtinMerge[p]; ok {
		return tag, false
	}
	tag = nonTagRE().ReplaceAllString(strings.ToUpper(p), "")
	if len(tag) > 10 {
		tag = tag[:10]
	}
	return tag, true
}

// translation is the result of translating one text.
type translation struct {
	out      string
	problems []string
	assumed  map[string]string // property → merge tag guessed
	unsub    bool              // holds *|UNSUB|*
}

// conditionOps are lastmile's comparisons as Mailchimp writes them.
var conditionOps = map[string]string{"": "", "==": "=", "!=": "!=", ">": ">", "<": "<"}

// translate rewrites lastmile tokens in the field's text s into Mailchimp
// merge tags.
func (t *Target) translate(field, s string) translation {
	tr := translation{assumed: map[string]string{}}
	tag := func(prop string) string {
		tag, assumed := t.mergeTag(prop)
		if assumed {
			tr.assumed[prop] = tag
		}
		return tag
	}
	out, bad := liquid.Translate(Platform, s, func(n liquid.Node) string {
		switch n.Kind {
		case "output":
			if n.Prop == "" {
				return "*|UNSUB|*"
			}
			tg := tag(n.Prop)
			if n.Value == "" { // default: "" is the same as none
				return "*|" + tg + "|*"
			}
			return "*|IF:" + tg + "|**|" + tg + "|**|ELSE:|*" + n.Value + "*|END:IF|*"
		case "if":
			return "*|IF:" + tag(n.Prop) + conditionOps[n.Op] + n.Value + "|*"
		case "elsif":
			return "*|ELSEIF:" + tag(n.Prop) + conditionOps[n.Op] + n.Value + "|*"
		case "else":
			return "*|ELSE:|*"
		}
		return "*|END:IF|*"
	})
	for _, u := range bad {
		tr.problems = append(tr.problems, fmt.Sprintf("%s cannot render %s in %s: %s; recipients would see it as written", Platform, termsafe.Text(u.Text, 60), field, u.Why))
	}
	out = outputRE().ReplaceAllStringFunc(out, func(m string) string {
		body := strings.TrimSpace(outputRE().FindStringSubmatch(m)[1])
		if rep, ok := specialTokens[body]; ok {
			return rep
		}
		if !strings.Contains(body, "contact.") && !strings.Contains(body, "unsubscribe_url") { // else liquid listed it
			tr.problems = append(tr.problems, fmt.Sprintf("the token %s in %s has no Mailchimp equivalent (supported: %s, {{ view_in_browser_url }}, {{ preferences_url }}); rewrite it", termsafe.Text(m, 60), field, liquid.Renders(Platform)))
		}
		return m
	})
	tr.out = out
	tr.unsub = strings.Contains(out, "*|UNSUB|*")
	return tr
}

// assumedNotes explains merge tags guessed from property names.
func assumedNotes(assumed map[string]string) []string {
	props := make([]string, 0, len(assumed))
	for p := range assumed {
		props = append(props, p)
	}
	sort.Strings(props)
	var notes []string
	for _, p := range props {
		notes = append(notes, fmt.Sprintf("contact.%s becomes the merge tag *|%s|*: Mailchimp fills it only if the audience has a %s field; if it is named differently, map it under merge_fields in the target's config",
			p, assumed[p], assumed[p]))
	}
	return notes
}
