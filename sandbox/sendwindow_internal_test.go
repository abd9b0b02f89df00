package sandbox

import (
	"strings"
	"testing"
	"time"
)

func mustTime(t *testing.T, v string) *time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, v)
	if err != nil {
		t.Fatal(err)
	}
	return &at
}

// Send times for every combination of window and recipient time zone,
// 2027-03-01 being a Monday.
func TestSendTimes(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	weekdays := &SendWindow{Start: "09:00", End: "17:00", Days: []string{"mon", "tue", "wed", "thu", "fri"}, TimeZone: "Europe/Berlin"}
	cases := []struct {
		name  string
		e     Email
		loc   *time.Location
		want  string
		first string
		last  string
	}{
		{"inside the window", Email{SendAt: mustTime(t, "2027-03-01T10:00:00Z"), SendWindow: weekdays}, nil, "2027-03-01T10:00:00Z", "2027-03-01T10:00:00Z", "2027-03-01T10:00:00Z"},
		{"before it opens", Email{SendAt: mustTime(t, "2027-03-01T06:00:00Z"), SendWindow: weekdays}, nil, "2027-03-01T08:00:00Z", "2027-03-01T08:00:00Z", "2027-03-01T08:00:00Z"},
		{"after it shuts on a friday", Email{SendAt: mustTime(t, "2027-03-05T16:00:00Z"), SendWindow: weekdays}, nil, "2027-03-08T08:00:00Z", "2027-03-08T08:00:00Z", "2027-03-08T08:00:00Z"},
		{"end is excluded", Email{SendAt: mustTime(t, "2027-03-01T16:00:00Z"), SendWindow: weekdays}, nil, "2027-03-02T08:00:00Z", "2027-03-02T08:00:00Z", "2027-03-02T08:00:00Z"},
		{"recipient zone, as written", Email{SendAt: mustTime(t, "2027-03-01T09:00:00+01:00"), RecipientTimeZone: true}, tokyo, "2027-03-01T00:00:00Z", "2027-02-28T19:00:00Z", "2027-03-01T21:00:00Z"},
		{"recipient zone, moved into the window", Email{SendAt: mustTime(t, "2027-03-06T09:00:00Z"), RecipientTimeZone: true, SendWindow: &SendWindow{Start: "09:00", End: "17:00", Days: []string{"mon"}}}, berlin, "2027-03-08T08:00:00Z", "2027-03-07T19:00:00Z", "2027-03-08T21:00:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.e.SendTimeIn(c.loc).Format(time.RFC3339); got != c.want {
				t.Errorf("SendTimeIn = %s, want %s", got, c.want)
			}
			first, last := c.e.SendSpan()
			if f, l := first.Format(time.RFC3339), last.Format(time.RFC3339); f != c.first || l != c.last {
				t.Errorf("SendSpan = %s … %s, want %s … %s", f, l, c.first, c.last)
			}
		})
	}
}

func TestSendTimingProblems(t *testing.T) {
	cases := []struct {
		w    *SendWindow
		tz   bool
		at   string
		want string
	}{
		{&SendWindow{Start: "9:00", End: "17:00", TimeZone: "UTC"}, false, "x", "send_window.start"},
		{&SendWindow{Start: "17:00", End: "09:00", TimeZone: "UTC"}, false, "x", "is not after start"},
		{&SendWindow{Start: "09:00", End: "17:00", Days: []string{"Monday"}, TimeZone: "UTC"}, false, "x", "send_window.days[0]"},
		{&SendWindow{Start: "09:00", End: "17:00"}, false, "x", "send_window.time_zone: is required"},
		{&SendWindow{Start: "09:00", End: "17:00", TimeZone: "Mars/Olympus"}, false, "x", "not an IANA time zone"},
		{&SendWindow{Start: "09:00", End: "17:00", TimeZone: "Local"}, false, "x", "not an IANA time zone"},
		{nil, true, "", "recipient_time_zone: is set but send_at is not"},
	}
	for _, c := range cases {
		var ps problems
		checkSendTiming(&ps, c.w, c.tz, c.at)
		var all []string
		for _, p := range ps {
			all = append(all, p.String())
		}
		if got := strings.Join(all, "; "); !strings.Contains(got, c.want) {
			t.Errorf("%+v: problems %q, want %q", c.w, got, c.want)
		}
	}
	var ps problems
	checkSendTiming(&ps, &SendWindow{Start: "09:00", End: "17:00", Days: []string{"sat", "sun"}}, true, "x")
	if len(ps) != 0 {
		t.Errorf("a valid window: %v", ps)
	}
}

func TestWindowOpenAt(t *testing.T) {
	w := &SendWindow{Start: "09:00", End: "17:00", Days: []string{"mon"}}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for at, want := range map[string]bool{"2027-03-01T08:00:00Z": true, "2027-03-01T07:59:00Z": false, "2027-03-01T16:00:00Z": false, "2027-03-02T08:00:00Z": false} {
		if got := w.OpenAt(*mustTime(t, at), berlin); got != want {
			t.Errorf("OpenAt(%s) = %v, want %v", at, got, want)
		}
	}
}
