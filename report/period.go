package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParsePeriod reads a period as a person writes it, in UTC: a month
// ("2026-11"), a quarter ("2026-Q4"), a year ("2026"), or two days
// ("2026-11-01..2026-11-15", both included). Empty is the month of now.
func ParsePeriod(s string, now time.Time) (name string, from, to time.Time, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = now.UTC().Format("2006-01")
	}
	if a, b, ok := strings.Cut(s, ".."); ok {
		from, err1 := time.Parse(time.DateOnly, strings.TrimSpace(a))
		last, err2 := time.Parse(time.DateOnly, strings.TrimSpace(b))
		if err1 != nil || err2 != nil || last.Before(from) {
			return "", time.Time{}, time.Time{}, periodError(s)
		}
		return s, from, last.AddDate(0, 0, 1), nil
	}
	if t, err := time.Parse("2006-01", s); err == nil {
		return s, t, t.AddDate(0, 1, 0), nil
	}
	if y, q, ok := strings.Cut(strings.ToUpper(s), "-Q"); ok {
		year, err1 := strconv.Atoi(y)
		n, err2 := strconv.Atoi(q)
		if err1 == nil && err2 == nil && n >= 1 && n <= 4 && len(y) == 4 {
			from := time.Date(year, time.Month(3*n-2), 1, 0, 0, 0, 0, time.UTC)
			return strings.ToUpper(s), from, from.AddDate(0, 3, 0), nil
		}
	}
	if t, err := time.Parse("2006", s); err == nil {
		return s, t, t.AddDate(1, 0, 0), nil
	}
	return "", time.Time{}, time.Time{}, periodError(s)
}

func periodError(s string) error {
	return fmt.Errorf("%q is not a period: give a month (2026-11), a quarter (2026-Q4), a year (2026) or two days (2026-11-01..2026-11-15)", s)
}
