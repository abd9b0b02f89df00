// Package governance is lastmile's brand and compliance engine: a YAML policy
// file (brand tokens, approver roles, rules) and a pure checker that turns
// staged campaign documents into precise, fixable findings.
//
// The package imports no other project package and keeps no global mutable
// state: a *Policy is immutable after Parse and safe for concurrent use.
//
// Design choices that matter to callers:
//
//   - A policy that would silently never fire is a load error: unknown keys,
//     kinds, levels, scopes, markets and channels, bad regular expressions,
//     wrong value types and rules that reference missing brand tokens or roles
//     are all reported with file:line:col.
//   - Each HTML field is tokenized once (golang.org/x/net/html.Tokenizer, not
//     the tree builder, so 10,000 nested tables stay linear) into one text
//     stream whose bytes carry scope bits (heading, link_text, alt, body, ...).
//     Headings are found by tag, not by ancestry, so an <h2> inside a <td>
//     is a heading.
//   - Every word list of every rule is compiled into one Aho–Corasick
//     automaton; a field's text is scanned once for all of them.
//   - Input is bounded: fields are truncated at MaxFieldBytes, findings are
//     capped per rule and field, nothing recurses on nesting depth.
package governance
