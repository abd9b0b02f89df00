package outcomes

import "testing"

func TestParseMoney(t *testing.T) {
	for _, tc := range []struct {
		amount, cur string
		want        Money
		err         bool
	}{
		{"1200", "usd", Money{120000, "USD"}, false},
		{"49.90", "EUR", Money{4990, "EUR"}, false},
		{"-3.5", "GBP", Money{-350, "GBP"}, false},
		{"5000", "JPY", Money{5000, "JPY"}, false},
		{"1.5", "JPY", Money{}, true},
		{"1.001", "USD", Money{}, true},
		{"1e3", "USD", Money{}, true},
		{"ten", "USD", Money{}, true},
		{"10", "XYZ", Money{}, true},
		{"99999999999999999999", "USD", Money{}, true},
	} {
		got, err := ParseMoney(tc.amount, tc.cur)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseMoney(%q, %q) = %v, %v", tc.amount, tc.cur, got, err)
		}
	}
	if s := (Money{120000, "USD"}).String(); s != "1200.00 USD" {
		t.Errorf("String = %q", s)
	}
	if m, err := MoneyFromFloat(49.899999, "EUR"); err != nil || m != (Money{4990, "EUR"}) {
		t.Errorf("MoneyFromFloat = %v, %v", m, err)
	}
}
