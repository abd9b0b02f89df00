// Package liquidtest holds templates for the tests that a target's
// governance check and its connector's translation agree: each connector
// runs both over Corpus and expects a check error exactly where the
// translation reports a problem.
package liquidtest

// Corpus is every construct of lastmile's personalization language, alone
// and combined, and constructs outside it. Braces that are no part of the
// language ({{ site_url }}, a CSS rule) are the tokens rule's and each
// connector's own business, and are left out.
var Corpus = []string{
	`<p>Hello</p>`,
	`Hi {{ contact.firstname }}`,
	`Hi {{ contact.firstname | default: "there" }}`,
	`Hi {{contact.firstname|default:'there'}}`,
	`<a title="{{ contact.firstname | default: &quot;you&quot; }}">x</a>`,
	`<a href="{{ unsubscribe_url }}">Unsubscribe</a>`,
	`{% if contact.vip %}VIP{% endif %}`,
	`{% if contact.vip %}VIP{% else %}hi{% endif %}`,
	`{% if contact.plan == "pro" %}Pro{% elsif contact.plan != 'free' %}Paid{% else %}Free{% endif %}`,
	`{% if contact.seats > 10 %}big{% elsif contact.seats < 3 %}small{% endif %}`,
	`{% if contact.vip == true %}{% if contact.plan == "pro" %}x{% endif %}{% endif %}`,
	`{%- if contact.vip -%}x{%- endif -%}`,
	`<a href="https://acme.com/{% if contact.plan == &quot;pro&quot; %}pro{% endif %}">x</a>`,
	`{% if contact.city contains "port" %}x{% endif %}`,
	`{% if contact.plan == "a|b" %}x{% endif %}`,
	`{% if contact.first-name %}x{% endif %}`,
	`{% if contact.Plan == "pro" %}x{% endif %}`,
	`{% for p in products %}{{ p.name }}{% endfor %}`,
	`{% unless contact.vip %}x{% endunless %}`,
	`{% assign x = 1 %}`,
	`{% if contact.a and contact.b %}x{% endif %}`,
	`{% elif contact.a %}`,
	`{% if contact.plan == "pro" %}x`,
	`x{% endif %}`,
	`{% if contact.vip %}x{% else %}y{% endif %}{% endif %}`,
	`{% raw`,
	`{{ contact.firstname | upcase }}`,
	`{{ contact.firstname | default: "a" | upcase }}`,
	`{{ unsubscribe_url | escape }}`,
}
