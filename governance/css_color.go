package governance

import (
	"math"
	"strconv"
	"strings"
)

// parseHueColor parses hsl(), hsla() or hwb() at the start of s, in the
// syntax of CSS Color 4 (https://www.w3.org/TR/css-color-4/#the-hsl-notation
// and #the-hwb-notation), and returns the colour and the length consumed
// (0: not a colour). Anything a browser would reject is not a colour, so a
// typo is not reported as an off-brand value it does not render. Alpha is
// read and ignored, as for hex colours: transparency does not make an
// off-brand colour on-brand.
func parseHueColor(s string) (uint32, int) {
	open := strings.IndexByte(s, '(')
	if open < 0 {
		return 0, 0
	}
	name := s[:open]
	hwb := strings.EqualFold(name, "hwb")
	if !hwb && !strings.EqualFold(name, "hsl") && !strings.EqualFold(name, "hsla") {
		return 0, 0
	}
	end := strings.IndexByte(s[open:], ')')
	if end < 0 || end > 128 {
		return 0, 0
	}
	end += open
	args, legacy, ok := colorArgs(s[open+1 : end])
	if !ok || legacy && hwb {
		return 0, 0
	}
	hue, ok := cssHue(args[0], legacy)
	if !ok {
		return 0, 0
	}
	var pct [2]float64
	for i := range pct {
		if pct[i], ok = cssPercent(args[i+1], legacy); !ok {
			return 0, 0
		}
	}
	if args[3] != "" {
		if _, ok := cssAlpha(args[3], legacy); !ok {
			return 0, 0
		}
	}
	var r, g, b float64
	if hwb {
		r, g, b = hwbToRGB(hue, pct[0], pct[1])
	} else {
		r, g, b = hslToRGB(hue, pct[0], pct[1])
	}
	return channel(r)<<16 | channel(g)<<8 | channel(b), end + 1
}

// colorArgs splits the arguments of a colour function: the legacy form
// "h, s, l[, a]" or the modern "h s l[ / a]". args[3] is the alpha, "" when
// absent.
func colorArgs(inner string) (args [4]string, legacy, ok bool) {
	if strings.IndexByte(inner, ',') >= 0 {
		parts := strings.Split(inner, ",")
		if len(parts) != 3 && len(parts) != 4 {
			return args, true, false
		}
		for i, p := range parts {
			p = strings.TrimSpace(p)
			if p == "" || strings.ContainsAny(p, " \t\r\n\f/") {
				return args, true, false
			}
			args[i] = p
		}
		return args, true, true
	}
	f := strings.Fields(strings.ReplaceAll(inner, "/", " / "))
	switch {
	case len(f) == 3 && !strings.Contains(inner, "/"):
	case len(f) == 5 && f[3] == "/" && f[4] != "/":
		args[3] = f[4]
	default:
		return args, false, false
	}
	copy(args[:3], f[:3])
	for _, a := range args[:3] {
		if a == "/" {
			return args, false, false
		}
	}
	return args, false, true
}

// cssHue reads a hue in degrees: a number or an angle in deg, grad, rad or
// turn; "none" (0) in the modern syntax only.
func cssHue(s string, legacy bool) (float64, bool) {
	if !legacy && strings.EqualFold(s, "none") {
		return 0, true
	}
	// grad before rad: "grad" ends in "rad".
	for _, u := range [...]struct {
		unit string
		deg  float64
	}{{"deg", 1}, {"grad", 0.9}, {"rad", 180 / math.Pi}, {"turn", 360}} {
		if len(s) > len(u.unit) && strings.EqualFold(s[len(s)-len(u.unit):], u.unit) {
			f, ok := cssNumber(s[:len(s)-len(u.unit)])
			return f * u.deg, ok
		}
	}
	return cssNumber(s)
}

// cssPercent reads saturation, lightness, whiteness or blackness as a
// percentage. The modern syntax also takes a plain number (meaning the
// same) and "none" (0); the legacy one requires '%'.
func cssPercent(s string, legacy bool) (float64, bool) {
	if rest, ok := strings.CutSuffix(s, "%"); ok {
		return cssNumber(rest)
	}
	if legacy {
		return 0, false
	}
	if strings.EqualFold(s, "none") {
		return 0, true
	}
	return cssNumber(s)
}

// cssAlpha reads an alpha value: a number or a percentage, or "none" in the
// modern syntax.
func cssAlpha(s string, legacy bool) (float64, bool) {
	if rest, ok := strings.CutSuffix(s, "%"); ok {
		f, ok := cssNumber(rest)
		return f / 100, ok
	}
	if !legacy && strings.EqualFold(s, "none") {
		return 0, true
	}
	return cssNumber(s)
}

// cssNumber reads a CSS <number>: an optional sign, digits with an optional
// fraction, an optional exponent. strconv alone would also take "inf",
// "0x1p4" and "1_0", which CSS does not.
func cssNumber(s string) (float64, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := i
		for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		}
		if i == exp {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// hslToRGB converts per CSS Color 4 §7.1; s and l are percentages, clamped
// to [0, 100] as the specification says. Channels are in [0, 1].
func hslToRGB(hue, s, l float64) (r, g, b float64) {
	hue = math.Mod(hue, 360)
	if hue < 0 {
		hue += 360
	}
	s, l = clamp01(s/100), clamp01(l/100)
	f := func(n float64) float64 {
		k := math.Mod(n+hue/30, 12)
		a := s * min(l, 1-l)
		return l - a*max(-1, min(k-3, 9-k, 1))
	}
	return f(0), f(8), f(4)
}

// hwbToRGB converts per CSS Color 4 §8.1; w and b are percentages.
func hwbToRGB(hue, w, b float64) (float64, float64, float64) {
	w, b = clamp01(w/100), clamp01(b/100)
	if w+b >= 1 {
		gray := w / (w + b)
		return gray, gray, gray
	}
	r, g, bl := hslToRGB(hue, 100, 50)
	scale := func(c float64) float64 { return c*(1-w-b) + w }
	return scale(r), scale(g), scale(bl)
}

func clamp01(f float64) float64 { return min(max(f, 0), 1) }

// channel rounds a [0, 1] channel to a byte the way browsers serialize it
// (hsl(120 100% 25%) is rgb(0, 128, 0)).
func channel(c float64) uint32 { return uint32(math.Round(clamp01(c) * 255)) }
