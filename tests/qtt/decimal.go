package qtt

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// decimal is an exact decimal number with Java BigDecimal semantics: the
// value is unscaled * 10^-scale, and two decimals are equal (as by
// BigDecimal.equals) only when both parts are equal, so 1.0 != 1.00.
type decimal struct {
	unscaled *big.Int
	scale    int32
}

// parseDecimal parses a number the way new BigDecimal(String) does:
// "1.50" has scale 2, "1.0E10" is unscaled 10 with scale -9.
func parseDecimal(s string) (decimal, error) {
	t := s
	exp := int64(0)
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		e, err := strconv.ParseInt(strings.TrimPrefix(t[i+1:], "+"), 10, 32)
		if err != nil {
			return decimal{}, fmt.Errorf("bad decimal %q", s)
		}
		exp = e
		t = t[:i]
	}
	scale := int64(0)
	if i := strings.IndexByte(t, '.'); i >= 0 {
		scale = int64(len(t) - i - 1)
		t = t[:i] + t[i+1:]
	}
	if t == "" || t == "-" || t == "+" {
		return decimal{}, fmt.Errorf("bad decimal %q", s)
	}
	u, ok := new(big.Int).SetString(t, 10)
	if !ok {
		return decimal{}, fmt.Errorf("bad decimal %q", s)
	}
	return decimal{unscaled: u, scale: int32(scale - exp)}, nil
}

// equals is BigDecimal.equals: same value and same scale.
func (d decimal) equals(o decimal) bool {
	return d.scale == o.scale && d.unscaled.Cmp(o.unscaled) == 0
}

// cmp compares the values, ignoring scale (BigDecimal.compareTo).
func (d decimal) cmp(o decimal) int {
	a, b := new(big.Int).Set(d.unscaled), new(big.Int).Set(o.unscaled)
	switch {
	case d.scale < o.scale:
		a.Mul(a, pow10(int64(o.scale)-int64(d.scale)))
	case d.scale > o.scale:
		b.Mul(b, pow10(int64(d.scale)-int64(o.scale)))
	}
	return a.Cmp(b)
}

// truncated returns the integer part, rounding toward zero
// (BigDecimal.toBigInteger).
func (d decimal) truncated() *big.Int {
	if d.scale <= 0 {
		return new(big.Int).Mul(d.unscaled, pow10(-int64(d.scale)))
	}
	return new(big.Int).Quo(d.unscaled, pow10(int64(d.scale)))
}

// longValue is BigDecimal.longValue: the truncated value's low 64 bits.
func (d decimal) longValue() int64 {
	return lowBits(d.truncated())
}

// intValue is BigDecimal.intValue: the truncated value's low 32 bits.
func (d decimal) intValue() int32 {
	return int32(lowBits(d.truncated()))
}

// float64 is BigDecimal.doubleValue (nearest double).
func (d decimal) float64() float64 {
	f, _ := strconv.ParseFloat(d.String(), 64)
	return f
}

// String renders d as plain digits with the scale kept, or with an exponent
// for a negative scale (close to BigDecimal.toString).
func (d decimal) String() string {
	if d.scale < 0 {
		return d.unscaled.String() + "E+" + strconv.Itoa(int(-d.scale))
	}
	s := new(big.Int).Abs(d.unscaled).String()
	sign := ""
	if d.unscaled.Sign() < 0 {
		sign = "-"
	}
	if d.scale == 0 {
		return sign + s
	}
	for len(s) <= int(d.scale) {
		s = "0" + s
	}
	return sign + s[:len(s)-int(d.scale)] + "." + s[len(s)-int(d.scale):]
}

func lowBits(v *big.Int) int64 {
	m := new(big.Int).And(v, new(big.Int).SetUint64(^uint64(0))) // two's complement low 64 bits
	return int64(m.Uint64())
}

func pow10(n int64) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(n), nil)
}

// isIntegralLiteral reports a JSON number literal that Jackson reads as an
// integer node (no fraction, no exponent).
func isIntegralLiteral(s string) bool {
	return !strings.ContainsAny(s, ".eE")
}
