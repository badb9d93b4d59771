package codec

import (
	"strconv"

	"github.com/apache/arrow/go/v17/arrow/decimal128"
)

// parseDecimal parses text with Java's BigDecimal syntax ([+-] digits
// [. digits] [e[+-]digits], or .digits) into the unscaled value of a
// DECIMAL(prec, scale). Like ksqlDB's DecimalUtil.ensureFit it pads a value
// with fewer fractional digits, drops extra fractional digits only when they
// are zeros (setScale with RoundingMode.UNNECESSARY), and rejects values
// whose magnitude reaches 10^(prec-scale). It does not allocate.
func parseDecimal(text []byte, prec, scale int32) (decimal128.Num, error) {
	var zero decimal128.Num
	i, n := 0, len(text)
	neg := false
	if i < n && (text[i] == '+' || text[i] == '-') {
		neg = text[i] == '-'
		i++
	}
	intStart := i
	for i < n && text[i] >= '0' && text[i] <= '9' {
		i++
	}
	intEnd := i
	fracStart, fracEnd := i, i
	if i < n && text[i] == '.' {
		i++
		fracStart = i
		for i < n && text[i] >= '0' && text[i] <= '9' {
			i++
		}
		fracEnd = i
	}
	if intEnd == intStart && fracEnd == fracStart {
		return zero, convertErr("'" + string(text) + "' is not a decimal number")
	}
	exp := int64(0)
	if i < n && (text[i] == 'e' || text[i] == 'E') {
		i++
		eneg := false
		if i < n && (text[i] == '+' || text[i] == '-') {
			eneg = text[i] == '-'
			i++
		}
		d := i
		for i < n && text[i] >= '0' && text[i] <= '9' {
			if exp < 1<<40 { // saturate; such exponents fail below anyway
				exp = exp*10 + int64(text[i]-'0')
			}
			i++
		}
		if i == d {
			return zero, convertErr("'" + string(text) + "' is not a decimal number")
		}
		if eneg {
			exp = -exp
		}
	}
	if i != n {
		return zero, convertErr("'" + string(text) + "' is not a decimal number")
	}
	intLen, fracLen := intEnd-intStart, fracEnd-fracStart
	total := intLen + fracLen
	digit := func(k int) byte { // k-th digit of the coefficient
		if k < intLen {
			return text[intStart+k] - '0'
		}
		return text[fracStart+k-intLen] - '0'
	}
	litScale := int64(fracLen) - exp
	shift := int64(scale) - litScale // > 0: append zeros; < 0: drop digits
	keep := int64(total)
	if shift < 0 {
		keep += shift
		if keep < 0 {
			keep = 0
		}
		for k := int(keep); k < total; k++ {
			if digit(k) != 0 {
				return zero, fitErr(text, prec, scale, total, litScale, digit)
			}
		}
	}
	// Significant digits of the result: kept digits without leading zeros,
	// plus the appended zeros.
	first := 0
	for first < int(keep) && digit(first) == 0 {
		first++
	}
	sig := int64(int(keep) - first)
	if sig > 0 && shift > 0 {
		sig += shift
	}
	if sig > int64(prec) {
		return zero, convertErr("Numeric field overflow: A field with precision " + itoa(prec) + " and scale " + itoa(scale) +
			" must round to an absolute value less than 10^" + itoa(prec-scale) + ". Got " + string(text))
	}
	var v decimal128.Num
	var acc uint64
	accDigits := 0
	flush := func() {
		if accDigits == 0 {
			return
		}
		v = v.Mul(decimal128.GetScaleMultiplier(accDigits)).Add(decimal128.FromU64(acc))
		acc, accDigits = 0, 0
	}
	for k := first; k < int(keep); k++ {
		acc = acc*10 + uint64(digit(k))
		accDigits++
		if accDigits == 18 {
			flush()
		}
	}
	flush()
	if sig > 0 && shift > 0 {
		v = v.Mul(decimal128.GetScaleMultiplier(int(shift)))
	}
	if neg {
		v = v.Negate()
	}
	return v, nil
}

// fitErr is ksqlDB's message for a value that would need rounding.
func fitErr(text []byte, prec, scale int32, total int, litScale int64, digit func(int) byte) error {
	// BigDecimal precision: digits of the coefficient without leading zeros (at least 1).
	first := 0
	for first < total-1 && digit(first) == 0 {
		first++
	}
	return convertErr("Cannot fit decimal '" + string(text) + "' into DECIMAL(" + itoa(prec) + ", " + itoa(scale) +
		") without rounding. (Requires " + strconv.Itoa(total-first) + "," + strconv.FormatInt(litScale, 10) + ")")
}

func itoa(v int32) string { return strconv.Itoa(int(v)) }

// appendUnscaled appends the decimal digits of |v| and reports whether v is
// negative. Values below 2^64 in magnitude, which are nearly all, take the
// allocation-free path.
func appendUnscaled(dst []byte, v decimal128.Num) ([]byte, bool) {
	neg := v.Sign() < 0
	a := v
	if neg {
		a = v.Negate()
	}
	if a.HighBits() == 0 {
		return strconv.AppendUint(dst, a.LowBits(), 10), neg
	}
	return a.BigInt().Append(dst, 10), neg
}

// appendDecimalPlain appends v/10^scale in plain notation with exactly scale
// fractional digits (Java's BigDecimal.toPlainString): 1.10, 0.0000, -0.5.
func appendDecimalPlain(dst []byte, v decimal128.Num, scale int32) []byte {
	var tmp [48]byte
	digits, neg := appendUnscaled(tmp[:0], v)
	if neg {
		dst = append(dst, '-')
	}
	return placePoint(dst, digits, int(scale))
}

// placePoint writes digits with a decimal point before the last scale of
// them, padding with leading zeros so there is one integer digit.
func placePoint(dst, digits []byte, scale int) []byte {
	if scale <= 0 {
		return append(dst, digits...)
	}
	if len(digits) <= scale {
		dst = append(dst, '0', '.')
		for k := len(digits); k < scale; k++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-scale]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-scale:]...)
}

// appendDecimalJava appends v/10^scale as Java's BigDecimal.toString does,
// which is what ksqlDB's JSON serializer writes: plain notation unless the
// adjusted exponent is below -6, then scientific (1E-7, 1.23E-8, 0E-16).
func appendDecimalJava(dst []byte, v decimal128.Num, scale int32) []byte {
	var tmp [48]byte
	digits, neg := appendUnscaled(tmp[:0], v)
	adjusted := -int(scale) + len(digits) - 1
	if neg {
		dst = append(dst, '-')
	}
	if scale >= 0 && adjusted >= -6 {
		return placePoint(dst, digits, int(scale))
	}
	dst = append(dst, digits[0])
	if len(digits) > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'E')
	if adjusted >= 0 {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, int64(adjusted), 10)
}

// rescale converts an unscaled value from scale `from` to scale `to`,
// failing when that would lose digits or overflow precision prec.
func rescale(v decimal128.Num, from, to, prec int32) (decimal128.Num, error) {
	out := v
	if from != to {
		var err error
		out, err = v.Rescale(from, to)
		if err != nil {
			b := appendDecimalPlain(nil, v, from)
			return v, convertErr("Cannot fit decimal '" + string(b) + "' into DECIMAL(" + itoa(prec) + ", " + itoa(to) + ") without rounding")
		}
	}
	if !out.FitsInPrecision(prec) {
		b := appendDecimalPlain(nil, v, from)
		return v, convertErr("Numeric field overflow: A field with precision " + itoa(prec) + " and scale " + itoa(to) +
			" must round to an absolute value less than 10^" + itoa(prec-to) + ". Got " + string(b))
	}
	return out, nil
}
