package content

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Golden files live in testdata/golden. Regenerate them with
//
//	UPDATE_GOLDEN=1 go test ./sandbox/content/
//
// and review the diff; a missing or different file is a failure otherwise.
var updateGolden = flag.Bool("update", os.Getenv("UPDATE_GOLDEN") == "1", "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v (run with UPDATE_GOLDEN=1 to create it)", path, err)
	}
	if !bytes.Equal(want, []byte(got)) {
		t.Errorf("%s differs from the output (run with UPDATE_GOLDEN=1 and review the diff):\n%s", path, firstDiff(string(want), got))
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return "(no line differs)"
}

var testForm = &Form{
	Fields: []FormField{
		{Name: "first_name", Label: "First name"},
		{Name: "email", Label: "Work email", Type: "email", Required: true},
		{Name: "phone", Label: "Phone", Type: "tel"},
		{Name: "seats", Label: "Seats", Type: "number"},
		{Name: "message", Label: "What do you need?", Type: "textarea"},
		{Name: "consent", Label: "Email me product news <no spam>", Type: "checkbox", Required: true},
	},
	SubmitLabel:    "Request a demo",
	SuccessMessage: "Thanks, {{ contact.firstname }}! We'll be in touch.",
}

func TestGolden(t *testing.T) {
	emailOpts := EmailOptions{Title: "AcmeCloud launch", PreviewText: `The dashboard you asked for, {{ contact.firstname | default: "friend" }}`, Footer: true}
	cases := []struct {
		name string
		run  func() (string, string) // html, text (text may be "")
	}{
		{"email_all_blocks", func() (string, string) { return RenderEmail(allBlocks(), brandTheme, emailOpts) }},
		{"email_default_theme", func() (string, string) {
			return RenderEmail(tenBlocks(), Theme{}, EmailOptions{Title: "Spring sale", PreviewText: "30% off, one week only", Footer: true, UnsubscribeURL: "*|UNSUB|*"})
		}},
		{"email_no_footer", func() (string, string) {
			return RenderEmail([]Block{{Cell: Cell{Type: "paragraph", Text: "Just text."}}}, Theme{}, EmailOptions{})
		}},
		{"page_all_blocks", func() (string, string) {
			return RenderPage(allBlocks(), brandTheme, PageOptions{Title: "AcmeCloud", MetaDescription: "The new dashboard", Form: testForm, Lang: "en-US"}), ""
		}},
		{"page_body", func() (string, string) {
			return RenderPageBody(tenBlocks(), Theme{}, PageOptions{Form: testForm, FormAction: "https://acme.example/forms/demo"}), ""
		}},
		{"form", func() (string, string) { return RenderForm(testForm, ""), "" }},
		{"html_to_text_email", func() (string, string) {
			h, _ := RenderEmail(allBlocks(), brandTheme, emailOpts)
			return "", HTMLToText(h)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, txt := c.run()
			h2, txt2 := c.run()
			if h != h2 || txt != txt2 {
				t.Fatal("output is not deterministic")
			}
			if h != "" {
				golden(t, c.name+".html", h)
			}
			if txt != "" {
				golden(t, c.name+".txt", txt)
			}
		})
	}
}
