package governance

import (
	"fmt"
	"testing"
)

func TestColorRGB(t *testing.T) {
	tests := []struct {
		in   string
		want uint32 // 0xRRGGBB
		ok   bool
	}{
		{"#fff", 0xffffff, true},
		{"RGB(26, 26, 26)", 0x1a1a1a, true},
		{"red", 0xff0000, true},
		{"lightblue", 0xadd8e6, true},
		{"LightGoldenRodYellow", 0xfafad2, true},
		{"rebeccapurple", 0x663399, true},
		{"hsl(0 100% 50%)", 0xff0000, true},
		{"hsl(120deg,100%,25%)", 0x008000, true},
		{"hsla(120, 100%, 25%, 0.5)", 0x008000, true},
		{"HSL(240deg 100% 50% / 50%)", 0x0000ff, true},
		{"hsl(240 100 50)", 0x0000ff, true},
		{"hsl(0.5turn 100% 50%)", 0x00ffff, true},
		{"hsl(200grad 100% 50%)", 0x00ffff, true},
		{"hsl(3.14159265rad 100% 50%)", 0x00ffff, true},
		{"hsl(-120 100% 50%)", 0x0000ff, true},
		{"hsl(480 100% 50%)", 0x00ff00, true},
		{"hsl(none 0% 100%)", 0xffffff, true},
		{"hsl(0 150% 120%)", 0xffffff, true},
		{"hsl(30 100% 50%/.25)", 0xff8000, true},
		{"hwb(0 0% 0%)", 0xff0000, true},
		{"hwb(120 0% 49.8%)", 0x008000, true},
		{"hwb(0 100% 0%)", 0xffffff, true},
		{"hwb(0 60% 60%)", 0x808080, true},
		{"hwb(90deg 20% 20% / 0.5)", 0x80cc33, true},
		{"hwb(none none none)", 0xff0000, true},

		// Not colours.
		{"transparent", 0, false},
		{"currentcolor", 0, false},
		{"currentColor", 0, false},
		{"inherit", 0, false},
		{"navyblue", 0, false},
		{"hsl(0 100%)", 0, false},
		{"hsl(0 100% 50% 1)", 0, false},
		{"hsl(0, 100% 50%)", 0, false},
		{"hsl(0, 100, 50)", 0, false},
		{"hsl(0, 100%, 50% / 1)", 0, false},
		{"hsl(none, 100%, 50%)", 0, false},
		{"hsl(0 100% 50% /)", 0, false},
		{"hsl(0 100% 50% / 1 / 1)", 0, false},
		{"hsl(1x 100% 50%)", 0, false},
		{"hsl(0 100% 50%", 0, false},
		{"hsl(0 100% 50%) x", 0, false},
		{"hsl(0 50px 50%)", 0, false},
		{"hsl(inf 100% 50%)", 0, false},
		{"hsl(0x10 100% 50%)", 0, false},
		{"hsl(1e999 100% 50%)", 0, false},
		{"hsl()", 0, false},
		{"hsl", 0, false},
		{"hwb(0, 0%, 0%)", 0, false},
		{"hwb(0deg 0%)", 0, false},
		{"hwb(0 0 0 0)", 0, false},
	}
	for _, tc := range tests {
		got, ok := colorRGB(tc.in)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("colorRGB(%q) = %06x, %v; want %06x, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestColorsIn(t *testing.T) {
	var got []string
	colorsIn("1px solid LightBlue, hsl(0 100% 50%) hsla(0,0%,0%,.5) hwb(120 0% 0%) transparent currentColor hsl(0 100%) rebeccapurple", func(rgb uint32, text string, off int) {
		got = append(got, fmt.Sprintf("%06x %q@%d", rgb, text, off))
	})
	want := fmt.Sprint([]string{`add8e6 "LightBlue"@10`, `ff0000 "hsl(0 100% 50%)"@21`, `000000 "hsla(0,0%,0%,.5)"@37`, `00ff00 "hwb(120 0% 0%)"@54`, `663399 "rebeccapurple"@106`})
	if fmt.Sprint(got) != want {
		t.Errorf("colorsIn:\n got %s\nwant %s", got, want)
	}
}

func TestEveryCSSNamedColor(t *testing.T) {
	if len(cssNamedColors) != 148 {
		t.Errorf("%d named colours; CSS Color 4 has 148", len(cssNamedColors))
	}
	for name := range cssNamedColors {
		if len(name) > maxColorName {
			t.Errorf("%s is longer than maxColorName", name)
		}
	}
}
