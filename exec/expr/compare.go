package expr

import (
	"bytes"
	"cmp"
	"math/big"
	"strconv"

	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"unicode/utf16"
)

// valuesEqual is Java's equals on ksqlDB values: DECIMAL equality includes
// the scale (1.0 != 1.00), collections compare element-wise with
// NULL == NULL. It is used by NULLIF, IN lists, ARRAY_CONTAINS, map keys and
// the ARRAY_* set functions.
func valuesEqual(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	switch x := a.(type) {
	case Decimal:
		y, ok := b.(Decimal)
		return ok && x.Scale == y.Scale && x.V == y.V
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valuesEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case *Map:
		y, ok := b.(*Map)
		if !ok || len(x.Keys) != len(y.Keys) {
			return false
		}
		for i, k := range x.Keys {
			v, found := y.get(k)
			if !found || !valuesEqual(x.Values[i], v) {
				return false
			}
		}
		return true
	case *Struct:
		y, ok := b.(*Struct)
		if !ok || len(x.Values) != len(y.Values) {
			return false
		}
		for i := range x.Values {
			if x.Names[i] != y.Names[i] || !valuesEqual(x.Values[i], y.Values[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// compareValues orders two non-NULL values of the same SQL family: numbers
// by value across types (DECIMAL by compareTo), strings by UTF-16 code unit
// (Java's String.compareTo), BYTES as signed bytes (ByteBuffer.compareTo),
// booleans false < true. ok is false for incomparable values.
func compareValues(a, b any) (int, bool) {
	switch x := a.(type) {
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return compareUTF16(x, y), true
	case []byte:
		y, ok := b.([]byte)
		if !ok {
			return 0, false
		}
		n := min(len(x), len(y))
		for i := 0; i < n; i++ {
			if c := cmp.Compare(int8(x[i]), int8(y[i])); c != 0 {
				return c, true
			}
		}
		return cmp.Compare(len(x), len(y)), true
	case Date:
		y, ok := b.(Date)
		return cmp.Compare(x, y), ok
	case Time:
		y, ok := b.(Time)
		return cmp.Compare(x, y), ok
	case Timestamp:
		y, ok := b.(Timestamp)
		return cmp.Compare(x, y), ok
	}
	return compareNumbers(a, b)
}

func compareNumbers(a, b any) (int, bool) {
	switch x := a.(type) {
	case int32:
		switch y := b.(type) {
		case int32:
			return cmp.Compare(x, y), true
		case int64:
			return cmp.Compare(int64(x), y), true
		}
	case int64:
		switch y := b.(type) {
		case int32:
			return cmp.Compare(x, int64(y)), true
		case int64:
			return cmp.Compare(x, y), true
		}
	case float64:
		switch y := b.(type) {
		case float64:
			return cmp.Compare(x, y), true
		case int32:
			return cmp.Compare(x, float64(y)), true
		case int64:
			return cmp.Compare(x, float64(y)), true
		}
	}
	fa, aIsF := a.(float64)
	fb, bIsF := b.(float64)
	switch {
	case aIsF && !bIsF:
		if d, ok := toDecimalValue(b); ok {
			return cmpFloatDec(fa, d), true
		}
	case bIsF && !aIsF:
		if d, ok := toDecimalValue(a); ok {
			return -cmpFloatDec(fb, d), true
		}
	default:
		da, ok1 := toDecimalValue(a)
		db, ok2 := toDecimalValue(b)
		if ok1 && ok2 {
			return decCmp(da, db), true
		}
	}
	return 0, false
}

func toDecimalValue(v any) (Decimal, bool) {
	switch v.(type) {
	case int32, int64, Decimal:
		return asDecimal(v), true
	}
	return Decimal{}, false
}

// cmpFloatDec compares a double with a decimal via BigDecimal.valueOf(f).
func cmpFloatDec(f float64, d Decimal) int {
	fd, err := decFromFloatExact(f)
	if err != nil { // NaN/Inf
		if f > 0 || f != f {
			return 1
		}
		return -1
	}
	s := max(fd.Scale, d.Scale)
	return toBigScaled(fd, s).Cmp(toBigScaled(d, s))
}

func decFromFloatExact(f float64) (Decimal, error) {
	bd, err := parseDecimalText(formatShortest(f))
	if err != nil {
		return Decimal{}, err
	}
	// Unbounded precision: the value is only compared, never stored.
	v := new(big.Int).Set(bd.unscaled)
	if v.BitLen() > 126 {
		// Beyond Decimal128: compare as floats, which is exact enough here.
		q := new(big.Float).SetInt(v)
		q.Quo(q, new(big.Float).SetInt(pow10Big(bd.scale)))
		g, _ := q.Float64()
		return decFromFloat(g, MaxDecimalPrecision, 0)
	}
	return Decimal{V: fromBig(v), Precision: MaxDecimalPrecision, Scale: bd.scale}, nil
}

// compareUTF16 compares strings by UTF-16 code units like Java. For BMP text
// this equals byte order of UTF-8 except around surrogates, so the slow path
// only runs when a supplementary character is present.
func compareUTF16(a, b string) int {
	if isBMPOnly(a) && isBMPOnly(b) {
		return cmp.Compare(a, b)
	}
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	n := min(len(ua), len(ub))
	for i := 0; i < n; i++ {
		if ua[i] != ub[i] {
			return cmp.Compare(ua[i], ub[i])
		}
	}
	return cmp.Compare(len(ua), len(ub))
}

func isBMPOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xF0 {
			return false
		}
	}
	return true
}

func formatShortest(f float64) string { return strconv.FormatFloat(f, 'e', -1, 64) }

func fromBig(v *big.Int) decimal128.Num { return decimal128.FromBigInt(v) }
