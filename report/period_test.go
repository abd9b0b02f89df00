package report

import (
	"testing"
	"time"
)

func TestParsePeriod(t *testing.T) {
	now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	d := func(y, m, day int) time.Time { return time.Date(y, time.Month(m), day, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		in       string
		name     string
		from, to time.Time
	}{
		{"", "2026-12", d(2026, 12, 1), d(2027, 1, 1)},
		{"2026-11", "2026-11", d(2026, 11, 1), d(2026, 12, 1)},
		{"2026-q4", "2026-Q4", d(2026, 10, 1), d(2027, 1, 1)},
		{"2026", "2026", d(2026, 1, 1), d(2027, 1, 1)},
		{"2026-11-01..2026-11-15", "2026-11-01..2026-11-15", d(2026, 11, 1), d(2026, 11, 16)},
	} {
		name, from, to, err := ParsePeriod(tc.in, now)
		if err != nil || name != tc.name || !from.Equal(tc.from) || !to.Equal(tc.to) {
			t.Errorf("ParsePeriod(%q) = %q %v %v %v", tc.in, name, from, to, err)
		}
	}
	for _, bad := range []string{"November", "2026-13", "2026-Q5", "2026-11-15..2026-11-01", "26"} {
		if _, _, _, err := ParsePeriod(bad, now); err == nil {
			t.Errorf("ParsePeriod(%q) took it", bad)
		}
	}
}
