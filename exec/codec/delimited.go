package codec

import (
	"encoding/base64"
	"strconv"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
)

// DELIMITED follows ksqlDB's KsqlDelimitedSerializer/Deserializer, which use
// Apache commons-csv 1.4 with CSVFormat.DEFAULT and the chosen delimiter.
// Only the first record of a value is read (later lines are ignored, as
// commons-csv's parser returns them and ksqlDB takes records.get(0)).

func delimiterOf(s Spec) byte {
	if s.Delimiter == 0 {
		return ','
	}
	return s.Delimiter
}

// csvField locates one field of the parsed record in the decoder's buffer.
type csvField struct{ start, end int }

type delimitedDecoder struct {
	p      *plan
	delim  byte
	fields []csvField
	buf    []byte // field contents, unquoted
	tmp    []byte // base64 output
}

func newDelimitedDecoder(p *plan) *delimitedDecoder {
	return &delimitedDecoder{p: p, delim: delimiterOf(p.spec)}
}

// parse splits the first record of data into d.fields. Field text is
// copied into d.buf, whose capacity is raised to len(data) first so that
// unquoting (which only shrinks text) never reallocates it mid-record.
func (d *delimitedDecoder) parse(data []byte) error {
	d.fields = d.fields[:0]
	if cap(d.buf) < len(data) {
		d.buf = make([]byte, 0, len(data))
	}
	buf := d.buf[:0]
	i := 0
	// commons-csv DEFAULT ignores empty lines before the first record.
	for i < len(data) && (data[i] == '\n' || data[i] == '\r') {
		i++
	}
	if i == len(data) {
		return malformed("No fields in record")
	}
	for {
		start := len(buf)
		if i < len(data) && data[i] == '"' {
			// Encapsulated token: "" is a literal quote.
			i++
			for {
				if i >= len(data) {
					return malformed("EOF reached before encapsulated token finished")
				}
				c := data[i]
				if c == '"' {
					if i+1 < len(data) && data[i+1] == '"' {
						buf = append(buf, '"')
						i += 2
						continue
					}
					i++
					break
				}
				buf = append(buf, c)
				i++
			}
			// Only whitespace may separate the closing quote from the
			// delimiter or the end of the line.
			for i < len(data) && data[i] != d.delim && data[i] != '\n' && data[i] != '\r' {
				if !isJavaSpace(data[i]) {
					return malformed("invalid char between encapsulated token and delimiter")
				}
				i++
			}
		} else {
			for i < len(data) && data[i] != d.delim && data[i] != '\n' && data[i] != '\r' {
				buf = append(buf, data[i])
				i++
			}
		}
		d.fields = append(d.fields, csvField{start, len(buf)})
		if i >= len(data) || data[i] != d.delim {
			break // end of line or input: the first record is complete
		}
		i++
	}
	d.buf = buf
	return nil
}

func isJavaSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\f' || (c >= 0x1c && c <= 0x1f) || c == 0x0b
}

func (d *delimitedDecoder) Decode(data []byte, bs []array.Builder) error {
	row := d.p.row
	checkBuilders(bs, len(row.fields))
	if data == nil {
		appendNulls(bs)
		return nil
	}
	if err := d.parse(data); err != nil {
		appendNulls(bs)
		return &RecordError{Format: Delimited, Err: err}
	}
	if len(d.fields) != len(row.fields) {
		appendNulls(bs)
		return &RecordError{Format: Delimited, Err: malformed("Column count mismatch on deserialization. expected: " +
			strconv.Itoa(len(row.fields)) + ", got: " + strconv.Itoa(len(d.fields)))}
	}
	var first error
	for i, f := range row.fields {
		t := d.buf[d.fields[i].start:d.fields[i].end]
		if err := d.field(f, bs[i], t); err != nil && first == nil {
			first = &RecordError{Format: Delimited, Column: quoteIdent(f.name), Err: err}
		}
	}
	return first
}

// field parses one field's text with Java's parsers (no trimming except
// where Double.parseDouble trims) and appends it; an empty field is NULL.
func (d *delimitedDecoder) field(n *node, b array.Builder, t []byte) error {
	if len(t) == 0 {
		b.AppendNull()
		return nil
	}
	var err error
	switch n.kind {
	case kBool:
		// Boolean.parseBoolean: "true" in any case, anything else false.
		b.(*array.BooleanBuilder).Append(len(t) == 4 && (t[0]|0x20) == 't' && (t[1]|0x20) == 'r' && (t[2]|0x20) == 'u' && (t[3]|0x20) == 'e')
		return nil
	case kInt32, kDate, kTime:
		var v int64
		if v, err = parseJavaInt(t, 32, n); err == nil {
			switch n.kind {
			case kInt32:
				b.(*array.Int32Builder).Append(int32(v))
			case kDate:
				b.(*array.Date32Builder).Append(arrow.Date32(v))
			default:
				b.(*array.Time32Builder).Append(arrow.Time32(v))
			}
			return nil
		}
	case kInt64, kTimestamp:
		var v int64
		if v, err = parseJavaInt(t, 64, n); err == nil {
			if n.kind == kInt64 {
				b.(*array.Int64Builder).Append(v)
			} else {
				b.(*array.TimestampBuilder).Append(arrow.Timestamp(v))
			}
			return nil
		}
	case kFloat64:
		var f float64
		if f, err = parseJavaDouble(t); err == nil {
			b.(*array.Float64Builder).Append(f)
			return nil
		}
	case kDecimal:
		var v decimal128.Num
		if v, err = parseDecimal(t, n.prec, n.scale); err == nil {
			b.(*array.Decimal128Builder).Append(v)
			return nil
		}
	case kString:
		b.(*array.StringBuilder).BinaryBuilder.Append(t)
		return nil
	case kBinary:
		var out []byte
		if out, err = decodeBase64(d.tmp[:0], t); err == nil {
			d.tmp = out
			b.(*array.BinaryBuilder).Append(out)
			return nil
		}
	default:
		err = convertErr("The 'DELIMITED' format does not support type '" + n.baseName() + "'")
	}
	b.AppendNull()
	return err
}

// parseJavaInt parses [+-]digits into a value of the given width, as
// Integer.parseInt / Long.parseLong do.
func parseJavaInt(t []byte, bits int, n *node) (int64, error) {
	v, err := strconv.ParseInt(str2(t), 10, bits)
	if err != nil || !plainInt(t) {
		return 0, convertErr("For input string: \"" + string(t) + "\" (" + n.sql + ")")
	}
	return v, nil
}

type delimitedEncoder struct {
	p     *plan
	delim byte
	tmp   []byte
}

func newDelimitedEncoder(p *plan) *delimitedEncoder {
	return &delimitedEncoder{p: p, delim: delimiterOf(p.spec)}
}

func (e *delimitedEncoder) Encode(dst []byte, cols []arrow.Array, row int) ([]byte, error) {
	fs := e.p.row.fields
	if len(fs) == 1 && cols[0].IsNull(row) {
		// DELIMITED is always unwrapped: a single NULL column is a Kafka
		// null, so that a NULL key reads back as NULL.
		return nil, nil
	}
	if dst == nil {
		dst = []byte{} // non-NULL output is never nil, even when empty
	}
	for i, f := range fs {
		if i > 0 {
			dst = append(dst, e.delim)
		}
		a := cols[i]
		if a.IsNull(row) {
			continue // NULL is an empty, unquoted field
		}
		e.tmp = appendDelimitedText(e.tmp[:0], f, a, row)
		dst = appendCSVField(dst, e.tmp, i == 0, e.delim)
	}
	return dst, nil
}

// appendDelimitedText appends the text of a non-null value as ksqlDB's
// delimited serializer renders it.
func appendDelimitedText(dst []byte, n *node, a arrow.Array, i int) []byte {
	switch n.kind {
	case kBool:
		return strconv.AppendBool(dst, a.(*array.Boolean).Value(i))
	case kInt32:
		return strconv.AppendInt(dst, int64(a.(*array.Int32).Value(i)), 10)
	case kInt64:
		return strconv.AppendInt(dst, a.(*array.Int64).Value(i), 10)
	case kFloat64:
		return appendJavaDouble(dst, a.(*array.Float64).Value(i))
	case kDecimal:
		return appendDecimalPlain(dst, a.(*array.Decimal128).Value(i), n.scale)
	case kString:
		return append(dst, a.(*array.String).Value(i)...)
	case kBinary:
		return base64.StdEncoding.AppendEncode(dst, a.(*array.Binary).Value(i))
	case kDate:
		return strconv.AppendInt(dst, int64(a.(*array.Date32).Value(i)), 10)
	case kTime:
		return strconv.AppendInt(dst, int64(a.(*array.Time32).Value(i)), 10)
	case kTimestamp:
		return strconv.AppendInt(dst, int64(a.(*array.Timestamp).Value(i)), 10)
	}
	return dst // nested types are rejected by newPlan
}

// appendCSVField appends v with commons-csv 1.4's minimal quoting (see
// doc.go): quoted when it holds the delimiter, a quote, CR or LF; when it
// starts with a character <= '#' or ends with one <= ' '; when it is the
// record's first field and starts with anything but [0-9A-Za-z]; or when it
// is an empty first field.
func appendCSVField(dst, v []byte, first bool, delim byte) []byte {
	quote := false
	if len(v) == 0 {
		quote = first
	} else {
		c := v[0]
		switch {
		case first && !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'):
			quote = true
		case c <= '#':
			quote = true
		default:
			for _, c := range v {
				if c == '\n' || c == '\r' || c == '"' || c == delim {
					quote = true
					break
				}
			}
			if !quote && v[len(v)-1] <= ' ' {
				quote = true
			}
		}
	}
	if !quote {
		return append(dst, v...)
	}
	dst = append(dst, '"')
	for _, c := range v {
		if c == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}
