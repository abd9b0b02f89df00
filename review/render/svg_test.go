package render

import (
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lastmile/lastmile/sandbox"
)

// UPDATE_GOLDEN=1 go test ./review/render rewrites the golden files.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (UPDATE_GOLDEN=1 writes it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from what was rendered (UPDATE_GOLDEN=1 rewrites it); got:\n%s", path, got)
	}
}

func TestWorkflowSVGGolden(t *testing.T) {
	svg := WorkflowSVG(welcome(), names)
	golden(t, "welcome.svg", []byte(svg))
	golden(t, "welcome.txt", []byte(strings.Join(StepWords(welcome(), names), "\n")+"\n"))
	if again := WorkflowSVG(welcome(), names); again != svg {
		t.Error("two renderings of one workflow differ")
	}
}

// What the diagram may contain: the elements and attributes it draws with.
// Anything else (script, foreignObject, image, use, a, style, on*, href)
// fails the test.
var (
	allowedElements = map[string]bool{"svg": true, "title": true, "defs": true, "marker": true, "path": true, "g": true, "rect": true, "text": true}
	allowedAttrs    = map[string]bool{
		"xmlns": true, "width": true, "height": true, "viewBox": true, "role": true, "aria-label": true,
		"font-family": true, "font-size": true, "font-weight": true, "fill": true, "id": true, "refX": true, "refY": true,
		"markerWidth": true, "markerHeight": true, "orient": true, "d": true, "stroke": true, "stroke-width": true,
		"stroke-dasharray": true, "marker-end": true, "x": true, "y": true, "rx": true, "text-anchor": true,
	}
)

// checkSVG parses svg as XML and fails on anything outside the allowed
// vocabulary. It returns the character data and the aria-label.
func checkSVG(t *testing.T, svg string) (chardata []string, label string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	d.Strict = true
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg" {
					t.Errorf("root is %v", tok.Name)
				}
			}
			depth++
			if !allowedElements[tok.Name.Local] {
				t.Errorf("element <%s>", tok.Name.Local)
			}
			for _, a := range tok.Attr {
				name := a.Name.Local
				if a.Name.Space != "" && a.Name.Space != "xmlns" {
					name = a.Name.Space + ":" + name
				}
				if !allowedAttrs[name] {
					t.Errorf("attribute %s=%q on <%s>", name, a.Value, tok.Name.Local)
				}
				if strings.Contains(a.Value, "url(") && a.Value != "url(#lastmile-arrow)" {
					t.Errorf("reference %s=%q", name, a.Value)
				}
				if name == "aria-label" {
					label = a.Value
				}
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if s := strings.TrimSpace(string(tok)); s != "" {
				chardata = append(chardata, s)
			}
		case xml.ProcInst, xml.Directive, xml.Comment:
			t.Errorf("unexpected %T in the SVG", tok)
		}
	}
	if roots != 1 {
		t.Errorf("%d root elements", roots)
	}
	if !strings.Contains(svg, `role="img"`) || label == "" {
		t.Error("no role=img or aria-label")
	}
	return chardata, label
}

func TestWorkflowSVGShapes(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    *sandbox.Workflow
		want []string // character data the diagram must show
	}{
		{"everything", welcome(), []string{
			`When a contact enters segment "New signups"`, `1. Send "Welcome"`, "2. Wait 2d", "yes", "no",
			`missing step "nowhere"`, "Not reachable from the first step:", "unreachable", "10. Exit the workflow",
			`Workflow "Welcome series": When a contact enters segment "New signups", then 11 steps; 1 loop; 1 step unreachable; 1 missing step.`,
		}},
		{"no steps", &sandbox.Workflow{Name: "Empty", Trigger: sandbox.Trigger{Type: "manual"}}, []string{"Started by hand"}},
		{"self loop", &sandbox.Workflow{Trigger: sandbox.Trigger{Type: "manual"}, Steps: []sandbox.Step{{ID: "w", Type: "wait", Duration: "1d", Next: "w"}}}, []string{"1. Wait 1d"}},
		{"all unreachable but one", &sandbox.Workflow{Trigger: sandbox.Trigger{Type: "manual"}, Steps: []sandbox.Step{
			{ID: "a", Type: "exit"}, {ID: "b", Type: "exit"}, {ID: "c", Type: "exit"}, {ID: "d", Type: "exit"},
		}}, []string{"4. Exit the workflow"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svg := string(WorkflowSVG(tc.w, names))
			text, _ := checkSVG(t, svg)
			for _, want := range tc.want {
				found := false
				for _, s := range text {
					found = found || s == want
				}
				if !found {
					t.Errorf("no text %q in\n%q", want, text)
				}
			}
		})
	}
	if got := WorkflowSVG(nil, nil); got != "" {
		t.Errorf("nil workflow: %q", got)
	}
}

// A box's label is cut to fit, whole in its tooltip; wide characters count
// double.
func TestFit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		cols int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven cols", 10, "eleven co…"},
		{"山田太郎山田", 10, "山田太郎…"},
		{"", 10, ""},
	} {
		if got := fit(tc.in, tc.cols); got != tc.want {
			t.Errorf("fit(%q, %d) = %q, want %q", tc.in, tc.cols, got, tc.want)
		}
	}
}
