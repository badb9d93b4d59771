package expr

import (
	"math"
	"strconv"
	"strings"
)

// FormatDouble renders f exactly as Java's Double.toString does (shortest
// digits that round-trip, except for the whole numbers of javaLongDigits,
// where ksqlDB's JDK prints more): "1.0", "0.30000000000000004", "1.0E7",
// "1.0E-4", "1.7976931348623157E308", "4.9E-324", "NaN", "Infinity".
// ksqlDB renders DOUBLE this way in DELIMITED output and CAST(... AS STRING),
// and ksqlDB's tests compare that text.
func FormatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	// Shortest round-trip digits and decimal exponent: d.ddd x 10^exp.
	s := strconv.FormatFloat(f, 'e', -1, 64) // e.g. "-1.2345e+06"
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	if len(digits) == 1 {
		// Java prints at least two significant digits and picks the two
		// closest to the exact value (4.9E-324, not 5.0E-324).
		s = strconv.FormatFloat(math.Abs(f), 'e', 1, 64)
		mant, expStr, _ = strings.Cut(s, "e")
		exp, _ = strconv.Atoi(expStr)
		digits = strings.TrimRight(strings.Replace(mant, ".", "", 1), "0")
		if digits == "" {
			digits = "0"
		}
	}
	abs := math.Abs(f)
	if d, e, ok := javaLongDigits(abs); ok {
		digits, exp = strings.TrimRight(d, "0"), e
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if abs >= 1e-3 && abs < 1e7 {
		// Plain notation with at least one digit after the point.
		if exp >= 0 {
			intLen := exp + 1
			if len(digits) <= intLen {
				b.WriteString(digits)
				b.WriteString(strings.Repeat("0", intLen-len(digits)))
				b.WriteString(".0")
			} else {
				b.WriteString(digits[:intLen])
				b.WriteByte('.')
				b.WriteString(digits[intLen:])
			}
		} else {
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", -exp-1))
			b.WriteString(digits)
		}
		return b.String()
	}
	// Computerized scientific notation: d.dddE[-]n, at least one fraction digit.
	b.WriteByte(digits[0])
	b.WriteByte('.')
	if len(digits) > 1 {
		b.WriteString(digits[1:])
	} else {
		b.WriteByte('0')
	}
	b.WriteByte('E')
	b.WriteString(strconv.Itoa(exp))
	return b.String()
}

// javaLongDigits gives the decimal digits and exponent that the JDK
// before 19 prints for a whole number of at least 2^54 and below 2^63,
// where its FloatingDecimal takes an integer path instead of the shortest
// round-trip digits: the exact value with as many low digits dropped
// (rounding half up) as the bits beyond the 53-bit mantissa make
// insignificant. ksqlDB runs on such a JDK, so 2^62 prints as
// 4.6116860184273879E18, not 4.611686018427388E18. Below 2^54 the exact
// digits are the shortest ones anyway.
func javaLongDigits(abs float64) (digits string, exp int, ok bool) {
	if abs < 1<<54 || abs >= 1<<63 || abs != math.Trunc(abs) {
		return "", 0, false
	}
	v := uint64(abs)
	_, binExp := math.Frexp(abs) // abs = frac * 2^binExp, frac in [0.5, 1)
	// The JDK's insignificantDigitsNumber table at (binExp-1)-53-1.
	insignificant := [...]int{0, 0, 0, 0, 1, 1, 1, 2, 2}[binExp-1-54]
	if insignificant > 0 {
		pow10 := uint64(math.Pow10(insignificant))
		residue := v % pow10
		v /= pow10
		if residue >= pow10/2 {
			v++
		}
	}
	digits = strconv.FormatUint(v, 10)
	return digits, len(digits) - 1 + insignificant, true
}
