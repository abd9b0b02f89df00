package main

// The brand questionnaire of `lastmile init`: who sends, from where, to
// which markets, how the brand looks. It is CLI only; nothing here runs in
// a server path, and it writes only to the writer it is given.

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/lastmile/lastmile/governance"
)

// acmeSamplePolicy is the sample company's policy (testdata/policy/acme.yaml;
// a test keeps the two equal). It is for `lastmile demo`, never a new data
// directory's live policy: that is the baseline written from the answers.
//
//go:embed assets/acme.yaml
var acmeSamplePolicy []byte

// onboardOptions are the questionnaire's flags (lastmile init --company …).
type onboardOptions struct {
	Company, PostalAddress, Website, FromName, FromEmail, Industry, BodyFont, HeadingFont, LogoURL string
	SendingDomains, Markets                                                                        []string
	Colors                                                                                         map[string]string
	// FromFile is a YAML file of answers (the BrandAnswers fields in
	// snake_case); flags given as well override it.
	FromFile string
	// Interactive asks every question on out, showing the flag (or file)
	// value or a default in brackets; Enter keeps it.
	Interactive bool
}

// brandFile is the FromFile format.
type brandFile struct {
	Company        string              `yaml:"company"`
	PostalAddress  string              `yaml:"postal_address"`
	Website        string              `yaml:"website"`
	SendingDomains []string            `yaml:"sending_domains"`
	FromName       string              `yaml:"from_name"`
	FromEmail      string              `yaml:"from_email"`
	Markets        []string            `yaml:"markets"`
	Industry       string              `yaml:"industry"`
	Colors         map[string]string   `yaml:"colors"`
	BodyFont       string              `yaml:"body_font"`
	HeadingFont    string              `yaml:"heading_font"`
	LogoURL        string              `yaml:"logo_url"`
	LogoAlt        string              `yaml:"logo_alt"`
	Approvers      map[string][]string `yaml:"approvers"`
}

const maxBrandFile = 1 << 20

// maxAttempts bounds how often one question is asked again after bad
// answers, so a script that keeps sending garbage ends with an error.
const maxAttempts = 5

// onboard collects the brand answers: from FromFile, then the flags, then,
// with Interactive, a question for each on out. The answers returned are
// normalized and valid; invalid flag or file values are an error naming
// each (interactively, the question is asked again).
func onboard(in io.Reader, out io.Writer, o onboardOptions) (governance.BrandAnswers, error) {
	var a governance.BrandAnswers
	if o.FromFile != "" {
		var err error
		if a, err = readBrandFile(o.FromFile); err != nil {
			return governance.BrandAnswers{}, err
		}
	}
	set := func(dst *string, v string) {
		if strings.TrimSpace(v) != "" {
			*dst = v
		}
	}
	set(&a.Company, o.Company)
	set(&a.PostalAddress, o.PostalAddress)
	set(&a.Website, o.Website)
	set(&a.FromName, o.FromName)
	set(&a.FromEmail, o.FromEmail)
	set(&a.Industry, o.Industry)
	set(&a.BodyFont, o.BodyFont)
	set(&a.HeadingFont, o.HeadingFont)
	set(&a.LogoURL, o.LogoURL)
	if len(o.SendingDomains) > 0 {
		a.SendingDomains = splitList(o.SendingDomains)
	}
	if len(o.Markets) > 0 {
		a.Markets = splitList(o.Markets)
	}
	if len(o.Colors) > 0 {
		a.Colors = maps.Clone(a.Colors)
		if a.Colors == nil {
			a.Colors = map[string]string{}
		}
		maps.Copy(a.Colors, o.Colors)
	}
	if a.Website != "" {
		a.Website = websiteURL(a.Website)
	}
	if o.Interactive {
		q := &questionnaire{r: bufio.NewReader(in), w: out}
		if err := q.run(&a); err != nil {
			return governance.BrandAnswers{}, err
		}
	}
	if err := a.Validate(); err != nil {
		return governance.BrandAnswers{}, fmt.Errorf("brand answers:\n%w", err)
	}
	return a.Normalize(), nil
}

// onboardPolicy is onboard followed by the baseline policy it gives.
func onboardPolicy(in io.Reader, out io.Writer, o onboardOptions) ([]byte, governance.BrandAnswers, error) {
	a, err := onboard(in, out, o)
	if err != nil {
		return nil, a, err
	}
	p, err := governance.BaselinePolicy(a)
	return p, a, err
}

func readBrandFile(path string) (governance.BrandAnswers, error) {
	f, err := os.Open(path)
	if err != nil {
		return governance.BrandAnswers{}, fmt.Errorf("brand answers: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxBrandFile+1))
	if err != nil {
		return governance.BrandAnswers{}, fmt.Errorf("brand answers: %s: %w", path, err)
	}
	if len(data) > maxBrandFile {
		return governance.BrandAnswers{}, fmt.Errorf("brand answers: %s is larger than %d bytes", path, maxBrandFile)
	}
	var bf brandFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&bf); err != nil && !errors.Is(err, io.EOF) {
		return governance.BrandAnswers{}, fmt.Errorf("brand answers: %s: %w (keys: company, postal_address, website, sending_domains, from_name, from_email, markets, industry, colors, body_font, heading_font, logo_url, logo_alt, approvers)", path, err)
	}
	return governance.BrandAnswers{
		Company: bf.Company, PostalAddress: bf.PostalAddress, Website: bf.Website, SendingDomains: bf.SendingDomains,
		FromName: bf.FromName, FromEmail: bf.FromEmail, Markets: bf.Markets, Industry: bf.Industry, Colors: bf.Colors,
		BodyFont: bf.BodyFont, HeadingFont: bf.HeadingFont, LogoURL: bf.LogoURL, LogoAlt: bf.LogoAlt, Approvers: bf.Approvers,
	}, nil
}

// websiteURL accepts a bare domain for the website: "northwind.coffee" is
// https://northwind.coffee.
func websiteURL(s string) string {
	s = strings.TrimSpace(s)
	if s != "" && !strings.Contains(s, "://") {
		return "https://" + s
	}
	return s
}

// splitList reads "US, CA" or "US CA" (also across several flag values).
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		out = append(out, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == ';' || r == '\t' })...)
	}
	return out
}

type questionnaire struct {
	r   *bufio.Reader
	w   io.Writer
	eof bool
}

// ask shows the question with its current value (or a default) in
// brackets and reads an answer: Enter keeps the value, "-" clears an
// optional one. check validates a candidate (nil: any); a bad answer is
// explained and the question asked again.
func (q *questionnaire) ask(question, current, def string, check func(string) error) (string, error) {
	shown := current
	if shown == "" {
		shown = def
	}
	for attempt := 1; ; attempt++ {
		if shown != "" {
			fmt.Fprintf(q.w, "%s [%s]: ", question, shown)
		} else {
			fmt.Fprintf(q.w, "%s: ", question)
		}
		answer := shown
		if !q.eof {
			line, err := q.r.ReadString('\n')
			if err != nil {
				if !errors.Is(err, io.EOF) {
					return "", err
				}
				q.eof = true
			}
			if line = strings.TrimSpace(line); line == "-" {
				answer = ""
			} else if line != "" {
				answer = line
			}
		}
		if q.eof {
			fmt.Fprintln(q.w)
		}
		if answer == "" || check == nil {
			return answer, nil
		}
		err := check(answer)
		if err == nil {
			return answer, nil
		}
		fmt.Fprintf(q.w, "  %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
		if q.eof || attempt >= maxAttempts {
			return "", fmt.Errorf("brand answers: %s: %w", strings.ToLower(question), err)
		}
	}
}

// field validates one answer by validating answers holding only it, so the
// questionnaire and BaselinePolicy agree on what is valid.
func field(fill func(*governance.BrandAnswers, string)) func(string) error {
	return func(s string) error {
		var a governance.BrandAnswers
		fill(&a, s)
		return a.Validate()
	}
}

func (q *questionnaire) run(a *governance.BrandAnswers) error {
	fmt.Fprintln(q.w, "Your brand. lastmile writes a policy with a legal and deliverability baseline and these values;")
	fmt.Fprintln(q.w, "press Enter to keep the value in brackets, or type - to leave an optional one empty.")
	var err error
	str := func(dst *string, question, def string, check func(string) error) {
		if err == nil {
			*dst, err = q.ask(question, *dst, def, check)
		}
	}
	list := func(dst *[]string, question, def string, check func(string) error) {
		if err != nil {
			return
		}
		var s string
		s, err = q.ask(question, strings.Join(*dst, ", "), def, check)
		*dst = splitList([]string{s})
	}

	str(&a.Company, "Company name (the sender recipients see in the footer)", "", field(func(a *governance.BrandAnswers, s string) { a.Company = s }))
	str(&a.PostalAddress, "Postal address (CAN-SPAM requires it in every US email)", "", nil)
	str(&a.Website, "Website", "", func(s string) error {
		return (&governance.BrandAnswers{Website: websiteURL(s)}).Validate()
	})
	a.Website = websiteURL(a.Website)
	host := ""
	if u, perr := url.Parse(a.Website); perr == nil {
		host = strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	}
	list(&a.SendingDomains, "Sending domains (comma-separated)", host, field(func(a *governance.BrandAnswers, s string) { a.SendingDomains = splitList([]string{s}) }))
	str(&a.FromName, "Default sender name", a.Company, field(func(a *governance.BrandAnswers, s string) { a.FromName = s }))
	defFrom := ""
	if len(a.SendingDomains) > 0 {
		defFrom = "hello@" + a.SendingDomains[0]
	}
	str(&a.FromEmail, "Default sender email", defFrom, field(func(a *governance.BrandAnswers, s string) { a.FromEmail = s }))
	list(&a.Markets, "Markets (ISO country codes, comma-separated, e.g. US, CA, GB)", "US", field(func(a *governance.BrandAnswers, s string) { a.Markets = splitList([]string{s}) }))
	str(&a.Industry, "Industry (e.g. retail, food, saas, finserv, health; optional)", "", field(func(a *governance.BrandAnswers, s string) { a.Industry = s }))
	if err != nil {
		return err
	}
	fmt.Fprintln(q.w, "Brand colours and fonts are optional (#rrggbb colours, CSS font stacks).")
	colors := maps.Clone(a.Colors)
	if colors == nil {
		colors = map[string]string{}
	}
	for _, k := range governance.BrandColorKeys {
		v := colors[k]
		str(&v, "  "+k+" colour", "", field(func(a *governance.BrandAnswers, s string) { a.Colors = map[string]string{k: s} }))
		if v == "" {
			delete(colors, k)
		} else {
			colors[k] = v
		}
	}
	a.Colors = colors
	if len(a.Colors) == 0 {
		a.Colors = nil
	}
	str(&a.BodyFont, "  body font", "", field(func(a *governance.BrandAnswers, s string) { a.BodyFont = s }))
	str(&a.HeadingFont, "  heading font", "", field(func(a *governance.BrandAnswers, s string) { a.HeadingFont = s }))
	str(&a.LogoURL, "  logo URL (https)", "", field(func(a *governance.BrandAnswers, s string) { a.LogoURL = s }))
	if a.LogoURL != "" {
		str(&a.LogoAlt, "  logo alt text", a.Company, nil)
	}
	approvers := formatApprovers(a.Approvers)
	str(&approvers, "Approvers, optional (role=member,member; role=member)", "", func(s string) error {
		_, perr := parseApprovers(s)
		return perr
	})
	if err != nil {
		return err
	}
	a.Approvers, _ = parseApprovers(approvers)
	return nil
}

// parseApprovers reads "legal=dana@x.com, lee@x.com; marketing=ana@x.com".
func parseApprovers(s string) (map[string][]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string][]string{}
	for part := range strings.SplitSeq(s, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		role, members, ok := strings.Cut(part, "=")
		role = strings.ToLower(strings.TrimSpace(role))
		ms := splitList([]string{members})
		if !ok || role == "" || len(ms) == 0 {
			return nil, fmt.Errorf("%q is not role=member,member (e.g. legal=dana@example.com)", strings.TrimSpace(part))
		}
		out[role] = append(out[role], ms...)
	}
	if err := (&governance.BrandAnswers{Approvers: out}).Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

func formatApprovers(m map[string][]string) string {
	var parts []string
	for _, role := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, role+"="+strings.Join(m[role], ","))
	}
	return strings.Join(parts, "; ")
}
