package codec

import (
	"encoding/base64"
	"math"
	"strconv"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/sluicedb/sluice/exec/expr"
)

// jsonEncoder writes rows as ksqlDB's JSON serializer (Kafka Connect's
// JsonConverter, schemas disabled, decimals as numbers) does: compact, keys
// in column order, no whitespace.
type jsonEncoder struct {
	p *plan
}

func newJSONEncoder(p *plan) *jsonEncoder {
	for _, f := range p.row.fields {
		f.walk(func(n *node) bool {
			if n.name != "" {
				n.jsonKey = append(appendJSONString(nil, n.name), ':')
			}
			return true
		})
	}
	return &jsonEncoder{p: p}
}

func (e *jsonEncoder) Encode(dst []byte, cols []arrow.Array, row int) ([]byte, error) {
	fs := e.p.row.fields
	if e.p.spec.Unwrapped {
		if cols[0].IsNull(row) {
			return nil, nil // a NULL unwrapped value is a Kafka null
		}
		out, err := appendJSONValue(dst, fs[0], cols[0], row)
		if err != nil {
			return nil, encodeErr(JSON, fs[0].name, err)
		}
		return out, nil
	}
	dst = append(dst, '{')
	for i, f := range fs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, f.jsonKey...)
		var err error
		if dst, err = appendJSONValue(dst, f, cols[i], row); err != nil {
			return nil, encodeErr(JSON, f.name, err)
		}
	}
	return append(dst, '}'), nil
}

func encodeErr(format, column string, err error) error {
	if pe, ok := err.(*pathErr); ok {
		return &EncodeError{Format: format, Column: quoteIdent(column) + pe.path, Err: pe.err}
	}
	return &EncodeError{Format: format, Column: quoteIdent(column), Err: err}
}

// appendJSONValue appends element i of a (of type n) as JSON.
func appendJSONValue(dst []byte, n *node, a arrow.Array, i int) ([]byte, error) {
	if a.IsNull(i) {
		return append(dst, "null"...), nil
	}
	switch n.kind {
	case kBool:
		return strconv.AppendBool(dst, a.(*array.Boolean).Value(i)), nil
	case kInt32:
		return strconv.AppendInt(dst, int64(a.(*array.Int32).Value(i)), 10), nil
	case kInt64:
		return strconv.AppendInt(dst, a.(*array.Int64).Value(i), 10), nil
	case kFloat64:
		f := a.(*array.Float64).Value(i)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			// Jackson quotes non-finite numbers (WRITE_NAN_AS_STRINGS).
			dst = append(dst, '"')
			dst = appendJavaDouble(dst, f)
			return append(dst, '"'), nil
		}
		return appendJavaDouble(dst, f), nil
	case kDecimal:
		return appendDecimalJava(dst, a.(*array.Decimal128).Value(i), n.scale), nil
	case kString:
		return appendJSONString(dst, a.(*array.String).Value(i)), nil
	case kBinary:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, a.(*array.Binary).Value(i))
		return append(dst, '"'), nil
	case kDate:
		return strconv.AppendInt(dst, int64(a.(*array.Date32).Value(i)), 10), nil
	case kTime:
		return strconv.AppendInt(dst, int64(a.(*array.Time32).Value(i)), 10), nil
	case kTimestamp:
		return strconv.AppendInt(dst, int64(a.(*array.Timestamp).Value(i)), 10), nil
	case kList:
		l := a.(*array.List)
		start, end := l.ValueOffsets(i)
		vals := l.ListValues()
		dst = append(dst, '[')
		for k := start; k < end; k++ {
			if k > start {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSONValue(dst, n.elem, vals, int(k)); err != nil {
				return dst, within("["+strconv.Itoa(int(k-start))+"]", err)
			}
		}
		return append(dst, ']'), nil
	case kMap:
		m := a.(*array.Map)
		start, end := m.ValueOffsets(i)
		keys := m.Keys().(*array.String)
		items := m.Items()
		dst = append(dst, '{')
		for k := start; k < end; k++ {
			if k > start {
				dst = append(dst, ',')
			}
			key := keys.Value(int(k))
			dst = appendJSONString(dst, key)
			dst = append(dst, ':')
			var err error
			if dst, err = appendJSONValue(dst, n.elem, items, int(k)); err != nil {
				return dst, within("['"+key+"']", err)
			}
		}
		return append(dst, '}'), nil
	case kStruct:
		st := a.(*array.Struct)
		dst = append(dst, '{')
		for k, f := range n.fields {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, f.jsonKey...)
			var err error
			if dst, err = appendJSONValue(dst, f, st.Field(k), i); err != nil {
				return dst, within("."+quoteIdent(f.name), err)
			}
		}
		return append(dst, '}'), nil
	}
	return dst, convertErr("unsupported type " + n.sql)
}

// appendJavaDouble appends f as Java's Double.toString. The common range,
// plain notation, is produced without allocating (Go's shortest digits are
// Java's there, with ".0" for whole numbers); the rest goes through
// expr.FormatDouble, the one implementation of the full rules.
func appendJavaDouble(dst []byte, f float64) []byte {
	if abs := math.Abs(f); abs >= 1e-3 && abs < 1e7 {
		start := len(dst)
		dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
		for _, c := range dst[start:] {
			if c == '.' {
				return dst
			}
		}
		return append(dst, '.', '0')
	}
	return append(dst, expr.FormatDouble(f)...)
}

// appendJSONString appends s as a JSON string escaped as Jackson does: the
// two-character escapes for '"', '\\', \b \t \n \f \r, \u00XX (upper-case
// hex) for other control characters, everything else as is.
func appendJSONString[T string | []byte](dst []byte, s T) []byte {
	const hex = "0123456789ABCDEF"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		// Most text needs no escapes: step over it a word at a time.
		for i+8 <= len(s) && !escapeInWord(load64(s, i)) {
			i += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
