package mailchimp

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// lastmile's canonical personalization syntax, translated to Mailchimp
// merge tags:
//
//	{{ contact.first_name }}                     → *|FNAME|*
//	{{ contact.first_name | default: "there" }}  → *|IF:FNAME|**|FNAME|**|ELSE:|*there*|END:IF|*
//	{{ unsubscribe_url }}                        → *|UNSUB|*
//	{{ view_in_browser_url }}                    → *|ARCHIVE|*
//	{{ preferences_url }}                        → *|UPDATE_PROFILE|*
//	{% if contact.vip %} … {% else %} … {% endif %} → *|IF:VIP|* … *|ELSE:|* … *|END:IF|*
//
// Mailchimp's own *|TAGS|* pass through untouched.

var (
	outputRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{\{\s*([^{}\r\n]*?)\s*\}\}`) })
	contactRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^contact\.([A-Za-z][A-Za-z0-9_]*)\s*(?:\|\s*default\s*:\s*(?:"([^"]*)"|'([^']*)'|&quot;(.*?)&quot;|&#34;(.*?)&#34;|&#39;(.*?)&#39;))?$`)
	})
	tagRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\{%-?\s*([^{}\r\n]*?)\s*-?%\}`) })
	ifRE     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(if|unless)\s+contact\.([A-Za-z][A-Za-z0-9_]*)$`) })
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

// translate rewrites lastmile tokens in s into Mailchimp merge tags.
func (t *Target) translate(s string) translation {
	tr := translation{assumed: map[string]string{}}
	var ifStack []string
	s = tagRE().ReplaceAllStringFunc(s, func(m string) string {
		body := strings.TrimSpace(tagRE().FindStringSubmatch(m)[1])
		switch {
		case body == "else":
			return "*|ELSE:|*"
		case body == "endif" || body == "endunless":
			if len(ifStack) > 0 {
				ifStack = ifStack[:len(ifStack)-1]
			}
			return "*|END:IF|*"
		}
		if sm := ifRE().FindStringSubmatch(body); sm != nil {
			tag, assumed := t.mergeTag(sm[2])
			if assumed {
				tr.assumed[sm[2]] = tag
			}
			ifStack = append(ifStack, sm[1])
			if sm[1] == "unless" {
				return "*|IFNOT:" + tag + "|*"
			}
			return "*|IF:" + tag + "|*"
		}
		tr.problems = append(tr.problems, fmt.Sprintf("the tag %s has no Mailchimp equivalent (supported: {%% if contact.x %%}, {%% unless contact.x %%}, {%% else %%}, {%% endif %%}); rewrite it", m))
		return m
	})
	s = outputRE().ReplaceAllStringFunc(s, func(m string) string {
		body := strings.TrimSpace(outputRE().FindStringSubmatch(m)[1])
		if rep, ok := specialTokens[body]; ok {
			return rep
		}
		sm := contactRE().FindStringSubmatch(body)
		if sm == nil {
			tr.problems = append(tr.problems, fmt.Sprintf("the token %s has no Mailchimp equivalent (supported: {{ contact.<property> | default: \"…\" }}, {{ unsubscribe_url }}, {{ view_in_browser_url }}, {{ preferences_url }}); rewrite it", m))
			return m
		}
		tag, assumed := t.mergeTag(sm[1])
		if assumed {
			tr.assumed[sm[1]] = tag
		}
		fallback, hasDefault := "", false
		for _, g := range sm[2:] {
			if g != "" {
				fallback, hasDefault = g, true
			}
		}
		if !hasDefault && strings.Contains(body, "|") {
			// default: "" — an empty fallback is the same as none.
			hasDefault = false
		}
		if !hasDefault {
			return "*|" + tag + "|*"
		}
		return "*|IF:" + tag + "|**|" + tag + "|**|ELSE:|*" + fallback + "*|END:IF|*"
	})
	tr.out = s
	tr.unsub = strings.Contains(s, "*|UNSUB|*")
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
