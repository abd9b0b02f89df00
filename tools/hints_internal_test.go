package tools

import "testing"

// An annotation read with MCP's defaults for absent hints says what the
// hints do, for every combination; destructive and idempotent are left to
// their defaults only where MCP says they mean nothing (a read-only tool).
func TestAnnotationReadsAsItsHints(t *testing.T) {
	read := func(p *bool, def bool) bool {
		if p == nil {
			return def
		}
		return *p
	}
	for i := range 16 {
		h := hints{readOnly: i&1 != 0, destructive: i&2 != 0, idempotent: i&4 != 0, openWorld: i&8 != 0}
		a := h.annotation("T")
		if a.Title != "T" {
			t.Errorf("%+v: title %q", h, a.Title)
		}
		if read(a.ReadOnlyHint, false) != h.readOnly || read(a.OpenWorldHint, true) != h.openWorld {
			t.Errorf("%+v: read as %+v", h, a)
		}
		if !h.readOnly && (read(a.DestructiveHint, true) != h.destructive || read(a.IdempotentHint, false) != h.idempotent) {
			t.Errorf("%+v: read as %+v", h, a)
		}
	}
}
