package expr

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow/decimal128"
)

// Decimal arithmetic follows ksqlDB's BigDecimal code: results are exact and
// must fit the result type computed at resolution time; anything that would
// need rounding is a row error. It runs on math/big because Decimal128
// multiplication and division overflow silently.

var errDivZero = errors.New("/ by zero")

// decString renders d in plain notation with exactly Scale fraction digits,
// as Java's BigDecimal.toPlainString does ("1.50", "-0.05", "12").
func decString(d Decimal) string { return bigDecString(d.V.BigInt(), d.Scale) }

func bigDecString(v *big.Int, scale int32) string {
	s := new(big.Int).Abs(v).String()
	neg := v.Sign() < 0
	if scale > 0 {
		if int32(len(s)) <= scale {
			s = strings.Repeat("0", int(scale)-len(s)+1) + s
		}
		s = s[:len(s)-int(scale)] + "." + s[len(s)-int(scale):]
	} else if scale < 0 {
		s += strings.Repeat("0", int(-scale))
	}
	if neg {
		return "-" + s
	}
	return s
}

// decFromBig builds a Decimal from an unscaled big.Int checked against p.
func decFromBig(v *big.Int, p, s int32) (Decimal, error) {
	n, err := fitDecimal(v, p, s)
	if err != nil {
		return Decimal{}, err
	}
	return Decimal{V: n, Precision: p, Scale: s}, nil
}

// roundHalfUp divides v by 10^k (k > 0) rounding half away from zero, which
// is BigDecimal's HALF_UP.
func roundHalfUp(v *big.Int, k int32) *big.Int {
	if k <= 0 {
		return new(big.Int).Mul(v, pow10Big(-k))
	}
	d := pow10Big(k)
	q, r := new(big.Int).QuoRem(v, d, new(big.Int))
	r.Abs(r).Lsh(r, 1)
	if r.Cmp(d) >= 0 {
		if v.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// decRescaleHalfUp converts d to DECIMAL(p, s), rounding HALF_UP when the
// scale shrinks; overflow is an error.
func decRescaleHalfUp(d Decimal, p, s int32) (Decimal, error) {
	v := roundHalfUp(d.V.BigInt(), d.Scale-s)
	return decFromBig(v, p, s)
}

// toBigScaled returns d's unscaled value at scale s (s >= d.Scale).
func toBigScaled(d Decimal, s int32) *big.Int {
	v := d.V.BigInt()
	if s > d.Scale {
		v.Mul(v, pow10Big(s-d.Scale))
	}
	return v
}

// asDecimal converts an INT/BIGINT/DECIMAL value to a Decimal.
func asDecimal(v any) Decimal {
	switch x := v.(type) {
	case Decimal:
		return x
	case int32:
		return Decimal{V: decimal128.FromI64(int64(x)), Precision: 10}
	case int64:
		return Decimal{V: decimal128.FromI64(x), Precision: 19}
	}
	panic(fmt.Sprintf("asDecimal(%T)", v))
}

func decAdd(a, b Decimal, p, s int32, sub bool) (Decimal, error) {
	x, y := toBigScaled(a, s), toBigScaled(b, s)
	if sub {
		x.Sub(x, y)
	} else {
		x.Add(x, y)
	}
	return decFromBig(x, p, s)
}

func decMul(a, b Decimal, p, s int32) (Decimal, error) {
	if v, ok := mulSmall(a, b, p, s); ok {
		return Decimal{V: decimal128.FromI64(v), Precision: p, Scale: s}, nil
	}
	x := a.V.BigInt()
	x.Mul(x, b.V.BigInt())
	// x has scale a.Scale+b.Scale, which is s unless s was capped.
	return decFromBig(roundExact(x, a.Scale+b.Scale-s), p, s)
}

// mulSmall is decMul's fast path for the common case (prices times a
// rate): both operands fit in an int64, the product does not overflow one,
// the product's scale is already s and it fits precision p. big.Int
// arithmetic costs two allocations and a conversion each way, which made
// DECIMAL multiplication the largest single cost of Nexmark q1.
func mulSmall(a, b Decimal, p, s int32) (int64, bool) {
	if a.Scale+b.Scale != s || !fitsI64(a.V) || !fitsI64(b.V) {
		return 0, false
	}
	v, ok := mulI64(int64(a.V.LowBits()), int64(b.V.LowBits()))
	if !ok || !fitsPrecision(v, p) {
		return 0, false // let the exact path report the overflow
	}
	return v, true
}

// fitsI64 reports whether n is an int64 sign-extended to 128 bits.
func fitsI64(n decimal128.Num) bool {
	lo := int64(n.LowBits())
	return (lo >= 0 && n.HighBits() == 0) || (lo < 0 && n.HighBits() == -1)
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// pow10I64[i] is 10^i for the precisions an int64 can hold.
var pow10I64 = func() (t [19]int64) {
	t[0] = 1
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] * 10
	}
	return t
}()

// roundExact scales x down by 10^k; a nil-safe helper for exact paths where
// k is normally 0.
func roundExact(x *big.Int, k int32) *big.Int {
	if k <= 0 {
		return x.Mul(x, pow10Big(-k))
	}
	return roundHalfUp(x, k)
}

// decDiv is BigDecimal.divide(b, MathContext(p, UNNECESSARY)).setScale(s):
// the exact quotient must exist with at most s fraction digits.
func decDiv(a, b Decimal, p, s int32) (Decimal, error) {
	y := b.V.BigInt()
	if y.Sign() == 0 {
		return Decimal{}, errors.New("Division by zero")
	}
	// a/b at scale s: (a.V * 10^(s - a.Scale + b.Scale)) / b.V
	x := a.V.BigInt()
	shift := s - a.Scale + b.Scale
	if shift >= 0 {
		x.Mul(x, pow10Big(shift))
	} else {
		y = new(big.Int).Mul(y, pow10Big(-shift))
	}
	q, r := new(big.Int).QuoRem(x, y, new(big.Int))
	if r.Sign() != 0 {
		return Decimal{}, fmt.Errorf("Rounding necessary: %s / %s is not exact at scale %d", decString(a), decString(b), s)
	}
	return decFromBig(q, p, s)
}

func decRem(a, b Decimal, p, s int32) (Decimal, error) {
	x, y := toBigScaled(a, s), toBigScaled(b, s)
	if y.Sign() == 0 {
		return Decimal{}, errors.New("Division by zero")
	}
	x.Rem(x, y)
	return decFromBig(x, p, s)
}

// decCmp compares two decimals by value (BigDecimal.compareTo: 1.0 = 1.00).
func decCmp(a, b Decimal) int {
	if a.Scale == b.Scale {
		return a.V.Cmp(b.V)
	}
	s := max(a.Scale, b.Scale)
	return toBigScaled(a, s).Cmp(toBigScaled(b, s))
}

// decToFloat converts through the decimal text, which is exact to the
// nearest double (BigDecimal.doubleValue).
func decToFloat(d Decimal) float64 {
	f, _ := strconv.ParseFloat(decString(d), 64)
	return f
}

// decFromFloat is ksqlDB's DOUBLE -> DECIMAL(p, s): BigDecimal.valueOf(f)
// (the shortest repr), rounded HALF_UP to scale s, with an overflow check.
func decFromFloat(f float64, p, s int32) (Decimal, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Decimal{}, fmt.Errorf("cannot convert %s to DECIMAL", FormatDouble(f))
	}
	d, err := parseDecimalText(strconv.FormatFloat(f, 'g', -1, 64))
	if err != nil {
		return Decimal{}, err
	}
	v := roundHalfUp(d.unscaled, d.scale-s)
	return decFromBig(v, p, s)
}

// bigDec is an arbitrary-precision decimal used while parsing.
type bigDec struct {
	unscaled *big.Int
	scale    int32
}

// parseDecimalText parses Java BigDecimal syntax: [+-]digits[.digits][e[+-]n].
func parseDecimalText(s string) (bigDec, error) {
	orig := s
	exp := int64(0)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.ParseInt(s[i+1:], 10, 32)
		if err != nil {
			return bigDec{}, fmt.Errorf("invalid decimal %q", orig)
		}
		exp = e
		s = s[:i]
	}
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	digits := intPart + frac
	if digits == "" {
		return bigDec{}, fmt.Errorf("invalid decimal %q", orig)
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return bigDec{}, fmt.Errorf("invalid decimal %q", orig)
		}
	}
	v, _ := new(big.Int).SetString(digits, 10)
	if neg {
		v.Neg(v)
	}
	scale := int64(len(frac)) - exp
	if scale < 0 {
		v.Mul(v, pow10Big(int32(-scale)))
		scale = 0
	}
	return bigDec{unscaled: v, scale: int32(scale)}, nil
}

// ParseDecimal parses text into DECIMAL(p, s), rounding HALF_UP to s and
// failing on overflow (ksqlDB's CAST(string AS DECIMAL)).
func ParseDecimal(text string, p, s int) (Decimal, error) {
	d, err := parseDecimalText(strings.TrimSpace(text))
	if err != nil {
		return Decimal{}, err
	}
	return decFromBig(roundHalfUp(d.unscaled, d.scale-int32(s)), int32(p), int32(s))
}

// FormatDecimal renders d as ksqlDB does (plain notation, scale digits kept).
func FormatDecimal(d Decimal) string { return decString(d) }

// decTrunc drops fraction digits below scale k toward zero, keeping d's
// scale (used by TRUNC/FLOOR/CEIL); mode: 0 trunc, -1 floor, +1 ceil.
func decRoundTo(d Decimal, k int32, mode int) *big.Int {
	v := d.V.BigInt()
	drop := d.Scale - k
	if drop <= 0 {
		return v
	}
	div := pow10Big(drop)
	q, r := new(big.Int).QuoRem(v, div, new(big.Int))
	if r.Sign() != 0 {
		if mode < 0 && v.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else if mode > 0 && v.Sign() > 0 {
			q.Add(q, big.NewInt(1))
		}
	}
	return q.Mul(q, div)
}
