package main

import (
	"strings"
	"testing"
)

// lastmile cost takes an amount in a currency's decimals and refuses the
// rest with what to give instead.
func TestCostArguments(t *testing.T) {
	dir := initDir(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"cost", "cmp_x"}, 2, "the amount and its currency"},
		{[]string{"cost", "cmp_x", "12.345", "USD"}, 2, "more decimals than USD's 2"},
		{[]string{"cost", "cmp_x", "12", "dollars"}, 2, "not an ISO 4217 currency"},
		{[]string{"cost", "--", "cmp_x", "-5", "USD"}, 2, "cannot be negative"},
		{[]string{"cost", "cmp_x", "12", "USD", "--clear"}, 2, "only the campaign"},
		{[]string{"cost", "cmp_01nope", "12", "USD"}, 2, "no campaign cmp_01nope"},
	} {
		_, errOut, code := runBin(t, append([]string{tc.args[0], "--data-dir", dir}, tc.args[1:]...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %s", tc.args, code, errOut)
		}
	}
}
