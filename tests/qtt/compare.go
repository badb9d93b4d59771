package qtt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// Actual values, as decoded from Kafka records or engine rows, use these Go
// types (mirroring what Jackson and ksqlDB's deserializers produce):
//
//	nil             null
//	bool            boolean
//	int32, int64    Integer, Long
//	*big.Int        BigInteger (an integer literal beyond int64)
//	float64         Double
//	decimal         BigDecimal
//	string          String
//	[]byte          BYTES
//	[]any           list
//	map[string]any  map or struct
//
// Expected values are decoded from the test file with json.Number.

// parseActualJSON decodes JSON text written by the engine. With exact set,
// fractional numbers become decimals (Jackson's USE_BIG_DECIMAL_FOR_FLOATS);
// otherwise doubles.
func parseActualJSON(data []byte, exact bool) (any, error) {
	var v any
	if err := decodeExact(data, &v); err != nil {
		return nil, err
	}
	return convertNumbers(v, exact)
}

func convertNumbers(v any, exact bool) (any, error) {
	switch x := v.(type) {
	case json.Number:
		s := x.String()
		if isIntegralLiteral(s) {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				if i >= math.MinInt32 && i <= math.MaxInt32 {
					return int32(i), nil
				}
				return i, nil
			}
			b, ok := new(big.Int).SetString(s, 10)
			if !ok {
				return nil, fmt.Errorf("bad number %s", s)
			}
			return b, nil
		}
		if !exact {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("bad number %s", s)
			}
			return f, nil
		}
		return parseDecimal(s)
	case []any:
		for i := range x {
			c, err := convertNumbers(x[i], exact)
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
		return x, nil
	case map[string]any:
		for k := range x {
			c, err := convertNumbers(x[k], exact)
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
		return x, nil
	}
	return v, nil
}

// parseExpected decodes a JSON value of the test file (nil text = null).
func parseExpected(raw json.RawMessage) (any, error) {
	if raw == nil {
		return nil, nil
	}
	var v any
	if err := decodeExact(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// compareValue matches an actual value against an expected one by the rules
// of ksqlDB's ExpectedRecordComparator (SPEC 3.7): the expected node decides
// the rule. It returns "" on a match, otherwise what differs, prefixed by
// path.
func compareValue(expected, actual any, path string) string {
	mismatch := func() string {
		return fmt.Sprintf("%s: expected %s, got %s", pathOr(path), renderValue(expected), renderValue(actual))
	}
	switch e := expected.(type) {
	case nil:
		if actual != nil {
			return mismatch()
		}
		return ""
	case map[string]any:
		a, ok := actual.(map[string]any)
		if !ok {
			return mismatch()
		}
		if len(a) != len(e) {
			return fmt.Sprintf("%s: expected %d fields %s, got %d fields %s", pathOr(path), len(e), renderValue(expected), len(a), renderValue(actual))
		}
		for _, k := range sortedMapKeys(e) {
			av, ok := a[k]
			if !ok {
				av, ok = a[strings.ToUpper(k)]
			}
			if !ok {
				return fmt.Sprintf("%s: missing field %s in %s", pathOr(path), k, renderValue(actual))
			}
			if d := compareValue(e[k], av, path+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		a, ok := actual.([]any)
		if !ok || len(a) != len(e) {
			return mismatch()
		}
		for i := range e {
			if d := compareValue(e[i], a[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	case json.Number:
		if !numberMatches(e.String(), actual) {
			return mismatch()
		}
		return ""
	case string:
		switch a := actual.(type) {
		case string:
			if a == e {
				return ""
			}
		case decimal:
			if d, err := parseDecimal(e); err == nil && d.equals(a) {
				return ""
			}
		case []byte:
			if base64.StdEncoding.EncodeToString(a) == e {
				return ""
			}
		}
		return mismatch()
	case bool:
		if a, ok := actual.(bool); !ok || a != e {
			return mismatch()
		}
		return ""
	}
	return fmt.Sprintf("%s: unsupported expected value %T", pathOr(path), expected)
}

// numberMatches applies the number rule of SPEC 3.7 to an expected literal.
func numberMatches(lit string, actual any) bool {
	exp, err := parseDecimal(lit)
	if err != nil {
		return false
	}
	switch a := actual.(type) {
	case int32:
		return exp.intValue() == a
	case int64:
		return exp.longValue() == a
	case *big.Int:
		return isIntegralLiteral(lit) && exp.truncated().Cmp(a) == 0
	case float64:
		return math.Abs(exp.float64()-a) < 1e-6
	case decimal:
		if isIntegralLiteral(lit) {
			return a.scale <= 0 && a.cmp(exp) == 0
		}
		return a.equals(exp)
	}
	return false
}

func pathOr(p string) string {
	if p == "" {
		return "value"
	}
	return strings.TrimPrefix(p, ".")
}

func sortedMapKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// renderValue prints an expected or actual value compactly, JSON-like, for
// diffs. Bytes print as base64 with a "bytes:" prefix, doubles with a "d"
// suffix when they could be confused with decimals.
func renderValue(v any) string {
	var b bytes.Buffer
	writeValue(&b, v)
	return b.String()
}

func writeValue(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case *big.Int:
		b.WriteString(x.String())
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64) + "(double)")
	case decimal:
		b.WriteString(x.String())
	case json.Number:
		b.WriteString(x.String())
	case string:
		q, _ := json.Marshal(x)
		b.Write(q)
	case []byte:
		b.WriteString("bytes:" + base64.StdEncoding.EncodeToString(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeValue(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range sortedMapKeys(x) {
			if i > 0 {
				b.WriteByte(',')
			}
			q, _ := json.Marshal(k)
			b.Write(q)
			b.WriteByte(':')
			writeValue(b, x[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "%v", x)
	}
}
