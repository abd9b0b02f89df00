package render

import (
	"html/template"

	"github.com/lastmile/lastmile/sandbox"
)

// Temporary: replaced by the real package.
func SegmentWords(s *sandbox.Segment, names map[string]string) []string { return []string{s.Name} }
func Mask(addr string) string                                           { return "•••" }
func WorkflowSVG(w *sandbox.Workflow, names map[string]string) template.HTML {
	return template.HTML(`<svg xmlns="http://www.w3.org/2000/svg" role="img"><title>workflow</title></svg>`)
}
func StepWords(w *sandbox.Workflow, names map[string]string) []string { return nil }
