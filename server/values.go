package server

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sluicedb/sluice"
)

// The engine hands out values as documented on sluice.Row: nil, bool,
// int32, int64, float64, string, []byte, []any and the named types
// sluice.Decimal, Date, Time, Timestamp, *Map and *Struct. The catalog
// relations of the Postgres-compatibility layer add int16 and uint32 (oid).

// appendText appends v in Postgres' text format to dst. NULL is the caller's
// business: DataRow encodes it as a nil field, so v must not be nil here.
func appendText(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case bool:
		if v {
			return append(dst, 't'), nil
		}
		return append(dst, 'f'), nil
	case int32:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case int:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case float64:
		return appendFloat8(dst, v), nil
	case string:
		return append(dst, v...), nil
	case []byte:
		// bytea's hex output format, Postgres' default since 9.0.
		dst = append(dst, '\\', 'x')
		return hex.AppendEncode(dst, v), nil
	case int16:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case []any, *sluice.Map, *sluice.Struct:
		return appendJSON(dst, v)
	case sluice.Decimal:
		return appendDecimal(dst, v), nil
	case sluice.Date:
		return appendDate(dst, int64(v)), nil
	case sluice.Time:
		return appendTime(dst, int64(v)), nil
	case sluice.Timestamp:
		return appendTimestamp(dst, int64(v)), nil
	}
	return dst, fmt.Errorf("server: no text rendering for Go type %T", v)
}

// appendFloat8 renders f like Postgres 12 and later render float8 with the
// default extra_float_digits: the shortest digits that round-trip, in plain
// notation when the decimal exponent is in [-4, 15) and in C's %e style
// ("1e+15", "1.5e-05") otherwise.
func appendFloat8(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	exp := int(math.Floor(math.Log10(math.Abs(f))))
	// Log10 can be off by one near powers of ten; the formatted shortest
	// digits are authoritative.
	e := strconv.AppendFloat(nil, f, 'e', -1, 64)
	if i := indexByte(e, 'e'); i >= 0 {
		if x, err := strconv.Atoi(string(e[i+1:])); err == nil {
			exp = x
		}
	}
	if exp >= -4 && exp < 15 {
		return strconv.AppendFloat(dst, f, 'f', -1, 64)
	}
	return append(dst, e...)
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// appendDecimal renders a DECIMAL exactly, with as many fraction digits as
// its scale (Postgres prints numeric(5,2) 1.5 as "1.50"). It works on the
// integer digits rather than through big.Float, which rounds beyond about 38
// significant digits.
func appendDecimal(dst []byte, d sluice.Decimal) []byte {
	return appendScaled(dst, d.V.BigInt(), int(d.Scale))
}

func appendScaled(dst []byte, unscaled *big.Int, scale int) []byte {
	if unscaled.Sign() < 0 {
		dst = append(dst, '-')
		unscaled = new(big.Int).Neg(unscaled)
	}
	digits := unscaled.Text(10)
	if scale <= 0 {
		dst = append(dst, digits...)
		for range -scale {
			dst = append(dst, '0')
		}
		return dst
	}
	if len(digits) <= scale {
		dst = append(dst, '0', '.')
		for range scale - len(digits) {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-scale]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-scale:]...)
}

// appendDate renders days since 1970-01-01 as ISO YYYY-MM-DD (DateStyle ISO).
func appendDate(dst []byte, days int64) []byte {
	return time.Unix(days*86400, 0).UTC().AppendFormat(dst, "2006-01-02")
}

// appendTime renders milliseconds since midnight as HH:MM:SS.mmm.
func appendTime(dst []byte, ms int64) []byte {
	return time.UnixMilli(ms).UTC().AppendFormat(dst, "15:04:05.000")
}

// appendTimestamp renders milliseconds since the epoch, UTC, as
// YYYY-MM-DD HH:MM:SS.mmm: Postgres' ISO style for timestamp without time
// zone, always with the milliseconds sluice keeps.
func appendTimestamp(dst []byte, ms int64) []byte {
	return time.UnixMilli(ms).UTC().AppendFormat(dst, "2006-01-02 15:04:05.000")
}

// appendJSON renders a value as JSON, for ARRAY, MAP and STRUCT columns.
// Inside JSON, numbers stay numbers (DECIMAL keeps its scale, non-finite
// doubles become strings since JSON has no NaN), BYTES become base64 as in
// ksqlDB's JSON format, temporal values become their Postgres text in a
// string, and map keys become their text.
func appendJSON(dst []byte, v any) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool, int16, int32, int64, int, uint32:
		return appendText(dst, v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return appendJSONString(dst, string(appendFloat8(nil, v))), nil
		}
		return appendFloat8(dst, v), nil
	case string:
		return appendJSONString(dst, v), nil
	case []byte:
		return appendJSONString(dst, base64.StdEncoding.EncodeToString(v)), nil
	case []any:
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendJSON(dst, e); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case sluice.Decimal:
		return appendDecimal(dst, v), nil
	case sluice.Date:
		return appendQuoted(dst, func(b []byte) []byte { return appendDate(b, int64(v)) }), nil
	case sluice.Time:
		return appendQuoted(dst, func(b []byte) []byte { return appendTime(b, int64(v)) }), nil
	case sluice.Timestamp:
		return appendQuoted(dst, func(b []byte) []byte { return appendTimestamp(b, int64(v)) }), nil
	case *sluice.Map:
		if v == nil {
			return append(dst, "null"...), nil
		}
		keys, vals := v.Keys, v.Values
		if len(keys) != len(vals) {
			return dst, fmt.Errorf("server: map with %d keys and %d values", len(keys), len(vals))
		}
		dst = append(dst, '{')
		for i := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			var key []byte
			switch k := keys[i].(type) {
			case nil:
				key = []byte("null")
			case string:
				key = []byte(k)
			default:
				if key, err = appendText(nil, k); err != nil {
					return dst, err
				}
			}
			dst = appendJSONString(dst, string(key))
			dst = append(dst, ':')
			if dst, err = appendJSON(dst, vals[i]); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case *sluice.Struct:
		if v == nil {
			return append(dst, "null"...), nil
		}
		names, vals := v.Names, v.Values
		if len(names) != len(vals) {
			return dst, fmt.Errorf("server: struct with %d names and %d values", len(names), len(vals))
		}
		dst = append(dst, '{')
		for i := range names {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, names[i])
			dst = append(dst, ':')
			if dst, err = appendJSON(dst, vals[i]); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	}
	return dst, fmt.Errorf("server: no JSON rendering for Go type %T", v)
}

func appendQuoted(dst []byte, f func([]byte) []byte) []byte {
	dst = append(dst, '"')
	return append(f(dst), '"')
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD
// so the output is always valid JSON; HTML characters are left alone since
// the output is never embedded in HTML by the server.
func appendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
