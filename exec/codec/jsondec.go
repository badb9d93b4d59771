package codec

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
)

// jsonDecoder decodes JSON documents into Arrow builders with ksqlDB's
// coercions (see doc.go). Objects are read in two passes: the first finds
// where each declared field's value starts (applying the name-matching
// rules and Jackson's "last duplicate wins"), the second decodes the values
// in field order. That keeps every builder receiving exactly one value per
// object whatever order, duplicates or extra keys the record has, and a
// decode failure never leaves a column short.
type jsonDecoder struct {
	p    *plan
	s    scanner
	tok  token // the pre-scanned value the second pass is about to read
	hint batchHint
	// strLen is the length of the last string or binary value appended,
	// which top-level columns add to hint.bytes.
	strLen int
	buf    []byte // unescaped strings, base64 output
	kbuf   []byte // unescaped object keys
	ubuf   []byte // upper-cased object keys
	tbuf   []byte // STRING coercions of objects and arrays
	bbuf   []byte // decoded base64
}

// token is a string or number that the first pass over an object (which
// must find the end of every value anyway) has already scanned; the second
// pass uses it instead of scanning the bytes again. A token describes the
// bytes at off of the current document, so it stays true until the next
// document; Decode clears it.
type token struct {
	off, end int // the value's bytes are s.b[off:end]
	kind     tokKind
	flag     bool // a string with escapes; a number that is integral
}

type tokKind uint8

const (
	tokNone tokKind = iota
	tokStr
	tokNum
)

// batchHint sizes the builders of a new batch from the previous ones.
//
// Builders hand their buffers to the arrays a batch flush makes and start
// the next batch empty; growing from empty by doubling copies every value
// about once more and allocates about twice the final size (string data is
// most of it). The decoder cannot see the flush, but it sees its effect:
// its first builder is empty again. It then reserves about what recent
// batches used: the reservation decays by a quarter per batch rather than
// following a short batch (the tail of a poll) down, and string data gets
// an eighth of headroom, because a batch slightly larger than the last
// would otherwise regrow, and copy, its whole data buffer.
type batchHint struct {
	rows      int   // records decoded into the current batch
	bytes     []int // string/binary bytes appended per top-level column
	wantRows  int   // the reservation for the next batch
	wantBytes []int
}

func newJSONDecoder(p *plan) *jsonDecoder {
	n := len(p.row.fields)
	return &jsonDecoder{p: p, hint: batchHint{bytes: make([]int, n), wantBytes: make([]int, n)}}
}

// reserve prepares bs for a new batch when bs[0] shows that the previous
// one was flushed.
func (d *jsonDecoder) reserve(bs []array.Builder) {
	h := &d.hint
	if len(bs) == 0 {
		return
	}
	if bs[0].Len() != 0 || h.rows == 0 {
		h.rows++
		return
	}
	h.wantRows = max(h.rows, h.wantRows-h.wantRows/4)
	for i, b := range bs {
		b.Reserve(h.wantRows)
		want := max(h.bytes[i]+h.bytes[i]/8, h.wantBytes[i]-h.wantBytes[i]/4)
		h.wantBytes[i] = want
		h.bytes[i] = 0
		if want == 0 {
			continue
		}
		switch b := b.(type) {
		case *array.StringBuilder:
			b.ReserveData(want)
		case *array.BinaryBuilder:
			b.ReserveData(want)
		}
	}
	h.rows = 1
}

func (d *jsonDecoder) Decode(data []byte, bs []array.Builder) error {
	row := d.p.row
	checkBuilders(bs, len(row.fields))
	d.reserve(bs)
	d.tok = token{}
	if data == nil {
		appendNulls(bs)
		return nil
	}
	d.s = scanner{b: data}
	c := d.s.next()
	if c == 0 {
		appendNulls(bs)
		return &RecordError{Format: JSON, Err: malformed("empty JSON document")}
	}
	if d.p.spec.Unwrapped {
		d.strLen = 0
		err := d.value(row.fields[0], bs[0], 0)
		d.hint.bytes[0] += d.strLen
		if err != nil {
			return recordErr(JSON, row.fields[0].name, err)
		}
		return nil
	}
	switch c {
	case 'n':
		// A JSON null document is a null record (see IsNullRecord).
		appendNulls(bs)
		if err := d.s.lit("null"); err != nil {
			return &RecordError{Format: JSON, Err: err}
		}
		return nil
	case '{':
		if err := d.object(row, bs, nil, 0); err != nil {
			if pe, ok := err.(*pathErr); ok && pe.field != "" {
				return &RecordError{Format: JSON, Column: quoteIdent(pe.field) + pe.path, Err: pe.err}
			}
			return &RecordError{Format: JSON, Err: unpath(err)}
		}
		return nil
	default:
		appendNulls(bs)
		return &RecordError{Format: JSON, Err: convertErr("Can't convert type. sourceType: " + sourceType(c, nil, true) +
			", requiredType: " + row.sqlRow() + " (a wrapped value must be a JSON object)")}
	}
}

// sqlRow renders a row's columns as a STRUCT type for messages.
func (n *node) sqlRow() string {
	s := "STRUCT<"
	for i, f := range n.fields {
		if i > 0 {
			s += ", "
		}
		s += quoteIdent(f.name) + " " + f.sql
	}
	return s + ">"
}

// pathErr locates a failure inside a value: field is the top-level column,
// path the way into it (.`F`, [3], ['key']).
type pathErr struct {
	field string
	path  string
	err   error
}

func (e *pathErr) Error() string { return e.path + ": " + e.err.Error() }
func (e *pathErr) Unwrap() error { return e.err }

func unpath(err error) error {
	if pe, ok := err.(*pathErr); ok {
		return pe.err
	}
	return err
}

// within prefixes a nested failure with one step of its path.
func within(step string, err error) error {
	if pe, ok := err.(*pathErr); ok {
		pe.path = step + pe.path
		return pe
	}
	return &pathErr{path: step, err: err}
}

func recordErr(format, column string, err error) error {
	pe, ok := err.(*pathErr)
	if !ok {
		return &RecordError{Format: format, Column: quoteIdent(column), Err: err}
	}
	return &RecordError{Format: format, Column: quoteIdent(column) + pe.path, Err: pe.err}
}

// checkBuilders guards the Decoder contract; a mismatch is a programming
// error in the caller, not bad data.
func checkBuilders(bs []array.Builder, n int) {
	if len(bs) != n {
		panic("codec: Decode got " + strconv.Itoa(len(bs)) + " builders for " + strconv.Itoa(n) + " columns")
	}
}

func appendNulls(bs []array.Builder) {
	for _, b := range bs {
		b.AppendNull()
	}
}

// object decodes the object at the cursor into the fields of n: into bs for
// a row, or into the children of sb for a STRUCT (whose own validity the
// caller has appended). Every field builder receives exactly one value.
func (d *jsonDecoder) object(n *node, bs []array.Builder, sb *array.StructBuilder, depth int) error {
	fieldB := func(i int) array.Builder {
		if sb != nil {
			return sb.FieldBuilder(i)
		}
		return bs[i]
	}
	if err := d.scanFields(n, depth); err != nil {
		for i := range n.fields {
			fieldB(i).AppendNull()
		}
		return err
	}
	end := d.s.i
	var first error
	for i, f := range n.fields {
		b := fieldB(i)
		if n.spans[i] < 0 || first != nil {
			b.AppendNull()
			continue
		}
		d.s.i = n.spans[i]
		d.tok = n.toks[i]
		d.strLen = 0
		err := d.value(f, b, depth+1)
		if sb == nil {
			d.hint.bytes[i] += d.strLen
		}
		if err != nil {
			if sb == nil {
				pe := &pathErr{field: f.name, err: err}
				if inner, ok := err.(*pathErr); ok {
					pe.path, pe.err = inner.path, inner.err
				}
				first = pe
			} else {
				first = within("."+quoteIdent(f.name), err)
			}
		}
	}
	d.s.i = end
	return first
}

// scanFields is the first pass over an object: it records in n.spans where
// the value of each declared field starts. A key matches a field when it
// equals the field's name, or when its upper-cased form does; an exact match
// beats an upper-cased one, and among equals the last occurrence wins (what
// ksqlDB's lookup in a Jackson ObjectNode gives).
func (d *jsonDecoder) scanFields(n *node, depth int) error {
	s := &d.s
	for i := range n.spans {
		n.spans[i] = -1
		n.exact[i] = false
		n.toks[i] = token{}
	}
	if depth > maxDepth {
		return malformed("JSON nesting too deep")
	}
	s.i++ // '{'
	if s.next() == '}' {
		s.i++
		return nil
	}
	guess := 0
	for {
		if s.next() != '"' {
			return malformed("expected a field name in JSON object")
		}
		key, esc, err := s.str()
		if err != nil {
			return err
		}
		if esc {
			d.kbuf = unescape(d.kbuf[:0], key)
			key = d.kbuf
		}
		if s.next() != ':' {
			return malformed("expected ':' in JSON object")
		}
		s.i++
		// Scan the value (as skip would) and keep strings and numbers as
		// tokens for the second pass.
		c := s.next()
		tok := token{off: s.i}
		switch {
		case c == '"':
			tok.kind = tokStr
			_, tok.flag, err = s.str()
		case isNumStart(c):
			tok.kind = tokNum
			_, tok.flag, err = s.num()
		default:
			err = s.skip(depth + 1)
		}
		if err != nil {
			return err
		}
		tok.end = s.i
		if idx, exact := d.match(n, key, guess); idx >= 0 {
			if exact || !n.exact[idx] {
				n.spans[idx] = tok.off
				n.exact[idx] = exact
				n.toks[idx] = tok
			}
			guess = idx + 1
		}
		switch s.next() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return malformed("expected ',' or '}' in JSON object")
		}
	}
}

// match finds the field a key names; see scanFields. guess is the field
// expected next (records usually list fields in declaration order): when
// the key names it, exactly or by ASCII upper-casing, no hashing is needed.
func (d *jsonDecoder) match(n *node, key []byte, guess int) (idx int, exact bool) {
	if guess < len(n.fields) {
		name := n.fields[guess].name
		if len(name) == len(key) {
			if string(key) == name {
				return guess, true
			}
			if e, ok := upperEqualASCII(key, name); ok {
				if e {
					return guess, false
				}
			}
		}
	}
	if i, ok := n.index[string(key)]; ok {
		return i, true
	}
	up, changed := appendUpper(d.ubuf[:0], key)
	d.ubuf = up
	if changed {
		if i, ok := n.index[string(up)]; ok {
			return i, false
		}
	}
	return -1, false
}

// upperEqualASCII reports whether the upper case of key equals name; ok is
// false when key is not ASCII and the caller must use the general path.
func upperEqualASCII(key []byte, name string) (equal, ok bool) {
	equal = true
	for i, c := range key {
		if c >= utf8.RuneSelf {
			return false, false
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != name[i] {
			equal = false
		}
	}
	return equal, true
}

// appendUpper appends the upper-case form of b (Java's toUpperCase for
// everything but the few characters whose upper case is longer) and reports
// whether it differs from b.
func appendUpper(dst, b []byte) ([]byte, bool) {
	changed := false
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
				changed = true
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		u := unicode.ToUpper(r)
		if u != r {
			changed = true
		}
		dst = utf8.AppendRune(dst, u)
		i += size
	}
	return dst, changed
}

// str2 views bytes as a string for a call that copies or only reads them.
func str2(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// text reads the string at the cursor and returns its unescaped bytes
// (valid until the next call that uses d.buf).
func (d *jsonDecoder) text() ([]byte, error) {
	raw, esc, err := d.str()
	if err != nil || !esc {
		return raw, err
	}
	d.buf = unescape(d.buf[:0], raw)
	return d.buf, nil
}

// str reads the string at the cursor like scanner.str, from the
// pre-scanned token when it is the one at the cursor.
func (d *jsonDecoder) str() (raw []byte, esc bool, err error) {
	if t := d.tok; t.kind == tokStr && t.off == d.s.i {
		d.s.i = t.end
		return d.s.b[t.off+1 : t.end-1], t.flag, nil
	}
	return d.s.str()
}

// num reads the number at the cursor like scanner.num, from the
// pre-scanned token when it is the one at the cursor.
func (d *jsonDecoder) num() (raw []byte, integral bool, err error) {
	if t := d.tok; t.kind == tokNum && t.off == d.s.i {
		d.s.i = t.end
		return d.s.b[t.off:t.end], t.flag, nil
	}
	return d.s.num()
}

// mismatch consumes a value of the wrong JSON type for n and reports it.
func (d *jsonDecoder) mismatch(n *node, b array.Builder, c byte, depth int) error {
	b.AppendNull()
	var raw []byte
	integral := true
	if c == '-' || (c >= '0' && c <= '9') {
		var err error
		if raw, integral, err = d.num(); err != nil {
			return err
		}
	} else if err := d.s.skip(depth); err != nil {
		return err
	}
	return convertErr("Can't convert type. sourceType: " + sourceType(c, raw, integral) + ", requiredType: " + n.sql)
}

func isNumStart(c byte) bool { return c == '-' || (c >= '0' && c <= '9') }

// value decodes the value at the cursor as type n and appends exactly one
// entry to b, NULL when it fails.
func (d *jsonDecoder) value(n *node, b array.Builder, depth int) error {
	s := &d.s
	c := s.next()
	if c == 'n' {
		b.AppendNull()
		return s.lit("null")
	}
	if c == 0 {
		b.AppendNull()
		return malformed("unexpected end of JSON input")
	}
	switch n.kind {
	case kBool:
		// ksqlDB accepts only JSON booleans here; the string "true" fails.
		var err error
		switch c {
		case 't':
			if err = s.lit("true"); err == nil {
				b.(*array.BooleanBuilder).Append(true)
			}
		case 'f':
			if err = s.lit("false"); err == nil {
				b.(*array.BooleanBuilder).Append(false)
			}
		default:
			return d.mismatch(n, b, c, depth)
		}
		if err != nil {
			b.AppendNull()
		}
		return err
	case kInt32, kDate, kTime, kInt64, kTimestamp:
		if c != '"' && !isNumStart(c) {
			return d.mismatch(n, b, c, depth)
		}
		v, err := d.integer(n, c)
		if err != nil {
			b.AppendNull()
			return err
		}
		switch n.kind {
		case kInt32:
			b.(*array.Int32Builder).Append(int32(v))
		case kDate:
			b.(*array.Date32Builder).Append(arrow.Date32(int32(v)))
		case kTime:
			if v < 0 || v > 86_400_000 {
				b.AppendNull()
				return convertErr("TIME value " + strconv.FormatInt(v, 10) + " is outside 0..86400000 ms")
			}
			b.(*array.Time32Builder).Append(arrow.Time32(v))
		case kInt64:
			b.(*array.Int64Builder).Append(v)
		case kTimestamp:
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(v))
		}
		return nil
	case kFloat64:
		var f float64
		var err error
		switch {
		case c == '"':
			var t []byte
			if t, err = d.text(); err == nil {
				f, err = parseJavaDouble(t)
			}
		case isNumStart(c):
			var raw []byte
			if raw, _, err = d.num(); err == nil {
				f, err = strconv.ParseFloat(str2(raw), 64)
				if err != nil && math.IsInf(f, 0) {
					err = nil // Java's doubleValue() gives Infinity too
				}
			}
		default:
			return d.mismatch(n, b, c, depth)
		}
		if err != nil {
			b.AppendNull()
			return err
		}
		b.(*array.Float64Builder).Append(f)
		return nil
	case kDecimal:
		var t []byte
		var err error
		switch {
		case c == '"':
			t, err = d.text()
		case isNumStart(c):
			t, _, err = d.num()
		default:
			return d.mismatch(n, b, c, depth)
		}
		if err == nil {
			var v decimal128.Num
			if v, err = parseDecimal(t, n.prec, n.scale); err == nil {
				b.(*array.Decimal128Builder).Append(v)
				return nil
			}
		}
		b.AppendNull()
		return err
	case kString:
		sb := b.(*array.StringBuilder)
		switch {
		case c == '"':
			t, err := d.text()
			if err != nil {
				b.AppendNull()
				return err
			}
			sb.BinaryBuilder.Append(t)
			d.strLen = len(t)
		case isNumStart(c):
			// The number's text as written (Jackson's asText()).
			raw, _, err := d.num()
			if err != nil {
				b.AppendNull()
				return err
			}
			sb.BinaryBuilder.Append(raw)
			d.strLen = len(raw)
		case c == 't' || c == 'f':
			word := "true"
			if c == 'f' {
				word = "false"
			}
			if err := s.lit(word); err != nil {
				b.AppendNull()
				return err
			}
			sb.BinaryBuilder.AppendString(word)
		default: // object or array: its text
			var err error
			d.tbuf, err = d.stringify(d.tbuf[:0], depth)
			if err != nil {
				b.AppendNull()
				return err
			}
			sb.BinaryBuilder.Append(d.tbuf)
			d.strLen = len(d.tbuf)
		}
		return nil
	case kBinary:
		if c != '"' {
			return d.mismatch(n, b, c, depth)
		}
		t, err := d.text()
		if err == nil {
			var out []byte
			if out, err = decodeBase64(d.bbuf[:0], t); err == nil {
				d.bbuf = out
				b.(*array.BinaryBuilder).Append(out)
				d.strLen = len(out)
				return nil
			}
		}
		b.AppendNull()
		return err
	case kList:
		if c != '[' {
			return d.mismatch(n, b, c, depth)
		}
		if depth > maxDepth {
			b.AppendNull()
			return malformed("JSON nesting too deep")
		}
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		vb := lb.ValueBuilder()
		s.i++
		if s.next() == ']' {
			s.i++
			return nil
		}
		for k := 0; ; k++ {
			if err := d.value(n.elem, vb, depth+1); err != nil {
				return within("["+strconv.Itoa(k)+"]", err)
			}
			switch s.next() {
			case ',':
				s.i++
			case ']':
				s.i++
				return nil
			default:
				return malformed("expected ',' or ']' in JSON array")
			}
		}
	case kMap:
		if c != '{' {
			return d.mismatch(n, b, c, depth)
		}
		return d.mapValue(n, b.(*array.MapBuilder), depth)
	case kStruct:
		if c != '{' {
			return d.mismatch(n, b, c, depth)
		}
		sb := b.(*array.StructBuilder)
		sb.Append(true)
		return d.object(n, nil, sb, depth)
	}
	b.AppendNull()
	return convertErr("unsupported type " + n.sql)
}

// integer reads an INT/BIGINT/DATE/TIME/TIMESTAMP at the cursor (c is its
// first byte: a quote or a number). Like Jackson's intValue()/longValue(),
// a fraction is truncated and an INT keeps the low 32 bits of a larger
// integer; a string must hold a plain integer in the column's range
// (Integer.parseInt / Long.parseLong).
func (d *jsonDecoder) integer(n *node, c byte) (int64, error) {
	wide := n.kind == kInt64 || n.kind == kTimestamp
	if c == '"' {
		t, err := d.text()
		if err != nil {
			return 0, err
		}
		bits := 32
		if wide {
			bits = 64
		}
		v, err := strconv.ParseInt(str2(t), 10, bits)
		if err != nil || !plainInt(t) {
			return 0, convertErr("Can't coerce string to type. targetType: " + n.sql + ", value: '" + string(t) + "'")
		}
		return v, nil
	}
	raw, integral, err := d.num()
	if err != nil {
		return 0, err
	}
	var v int64
	if integral {
		v, err = parseInt64(raw)
		if err != nil {
			return 0, convertErr("number " + string(raw) + " is out of range for " + n.sql)
		}
	} else {
		f, _ := strconv.ParseFloat(str2(raw), 64)
		f = math.Trunc(f)
		if f >= 1<<63 || f < -(1<<63) || math.IsNaN(f) {
			return 0, convertErr("number " + string(raw) + " is out of range for " + n.sql)
		}
		v = int64(f)
	}
	if !wide {
		v = int64(int32(v))
	}
	return v, nil
}

// parseInt64 is strconv.ParseInt(raw, 10, 64) for the integral JSON
// numbers num returns ([-]digits, no leading zeros). Up to 18 digits cannot
// overflow, so they are summed directly; longer ones go to strconv, which
// also reports the range error.
func parseInt64(raw []byte) (int64, error) {
	digits := raw
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return strconv.ParseInt(str2(raw), 10, 64)
	}
	var v int64
	for _, c := range digits {
		v = v*10 + int64(c-'0')
	}
	if len(digits) < len(raw) {
		v = -v
	}
	return v, nil
}

// plainInt reports whether t is [+-]digits, the syntax Java's parseInt
// accepts (strconv also accepts underscores and base prefixes with base 0,
// but base 10 rejects them; this guards the sign-only and empty cases).
func plainInt(t []byte) bool {
	i := 0
	if len(t) > 0 && (t[0] == '+' || t[0] == '-') {
		i = 1
	}
	if i == len(t) {
		return false
	}
	for ; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return false
		}
	}
	return true
}

// parseJavaDouble parses text as Java's Double.parseDouble does for the
// forms that occur in data: surrounding whitespace is trimmed, a trailing
// d/D/f/F type suffix is allowed, and NaN / [+-]Infinity are spelled out.
func parseJavaDouble(t []byte) (float64, error) {
	for len(t) > 0 && t[0] <= ' ' {
		t = t[1:]
	}
	for len(t) > 0 && t[len(t)-1] <= ' ' {
		t = t[:len(t)-1]
	}
	s := str2(t)
	switch s {
	case "NaN", "+NaN", "-NaN":
		return math.NaN(), nil
	case "Infinity", "+Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	if n := len(s); n > 1 {
		switch s[n-1] {
		case 'd', 'D', 'f', 'F':
			s = s[:n-1]
		}
	}
	// Reject what Go parses but Java does not (inf, nan, underscores, hex
	// without the p exponent is rejected by both).
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return 0, convertErr("Can't coerce string to type. targetType: DOUBLE, value: '" + string(t) + "'")
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, convertErr("Can't coerce string to type. targetType: DOUBLE, value: '" + string(t) + "'")
	}
	return f, nil
}

// decodeBase64 decodes standard base64, with or without padding (Java's
// basic decoder and Jackson both accept either), appending to dst.
func decodeBase64(dst, t []byte) ([]byte, error) {
	enc := base64.StdEncoding
	if len(t)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	out, err := enc.AppendDecode(dst, t)
	if err != nil {
		return dst, convertErr("invalid base64 for BYTES: " + err.Error())
	}
	return out, nil
}

// mapEntry is one key of a JSON object read as a MAP.
type mapEntry struct {
	key []byte // raw, still escaped when esc
	esc bool
	off int // where the value starts
}

// mapValue decodes a JSON object as a MAP<STRING, V>. A repeated key keeps
// its first position and its last value, as a Jackson ObjectNode does.
func (d *jsonDecoder) mapValue(n *node, mb *array.MapBuilder, depth int) error {
	s := &d.s
	if depth > maxDepth {
		mb.AppendNull()
		return malformed("JSON nesting too deep")
	}
	ents := n.ents[:0]
	s.i++
	if s.next() == '}' {
		s.i++
	} else {
		for {
			if s.next() != '"' {
				mb.AppendNull()
				return malformed("expected a field name in JSON object")
			}
			key, esc, err := s.str()
			if err == nil && s.next() != ':' {
				err = malformed("expected ':' in JSON object")
			}
			if err == nil {
				s.i++
				s.next()
				off := s.i
				if err = s.skip(depth + 1); err == nil {
					ents = n.addEntry(ents, mapEntry{key: key, esc: esc, off: off})
				}
			}
			if err != nil {
				n.ents = ents
				mb.AppendNull()
				return err
			}
			c := s.next()
			s.i++
			if c == '}' {
				break
			}
			if c != ',' {
				n.ents = ents
				mb.AppendNull()
				return malformed("expected ',' or '}' in JSON object")
			}
		}
	}
	n.ents = ents
	end := s.i
	mb.Append(true)
	kb := mb.KeyBuilder().(*array.StringBuilder)
	ib := mb.ItemBuilder()
	for _, e := range ents {
		k := e.key
		if e.esc {
			d.kbuf = unescape(d.kbuf[:0], k)
			k = d.kbuf
		}
		kb.BinaryBuilder.Append(k)
		s.i = e.off
		if err := d.value(n.elem, ib, depth+1); err != nil {
			s.i = end
			return within("['"+string(k)+"']", err)
		}
	}
	s.i = end
	return nil
}

// addEntry appends e, or replaces the value of an earlier entry with the
// same key. Small maps, the common case, use a linear scan; past
// dedupIndexAt entries a hash index (reused across records) takes over.
func (n *node) addEntry(ents []mapEntry, e mapEntry) []mapEntry {
	if len(ents) < dedupIndexAt {
		for i := range ents {
			if ents[i].esc == e.esc && string(ents[i].key) == string(e.key) {
				ents[i].off = e.off
				return ents
			}
		}
		ents = append(ents, e)
		if len(ents) == dedupIndexAt {
			if n.dedup == nil {
				n.dedup = make(map[string]int, 2*dedupIndexAt)
			}
			clear(n.dedup)
			for i, x := range ents {
				n.dedup[dedupKey(x)] = i
			}
		}
		return ents
	}
	k := dedupKey(e)
	if i, ok := n.dedup[k]; ok {
		ents[i].off = e.off
		return ents
	}
	n.dedup[k] = len(ents)
	return append(ents, e)
}

const dedupIndexAt = 32

// dedupKey tells escaped and plain raw keys apart, since only equal raw
// forms are compared.
func dedupKey(e mapEntry) string {
	if e.esc {
		return "\\" + string(e.key)
	}
	return string(e.key)
}

// stringify renders the object or array at the cursor as ksqlDB's STRING
// coercion does: an object as compact JSON text, an array as "[a, b]" with
// each element coerced to a string.
func (d *jsonDecoder) stringify(dst []byte, depth int) ([]byte, error) {
	if d.s.next() == '[' {
		return d.arrayText(dst, depth)
	}
	return d.compact(dst, depth)
}

// compact appends the value at the cursor as compact JSON, strings escaped
// the way Jackson writes them.
func (d *jsonDecoder) compact(dst []byte, depth int) ([]byte, error) {
	s := &d.s
	if depth > maxDepth {
		return dst, malformed("JSON nesting too deep")
	}
	switch c := s.next(); c {
	case '{', '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		dst = append(dst, c)
		s.i++
		if s.next() == closer {
			s.i++
			return append(dst, closer), nil
		}
		for {
			if c == '{' {
				if s.next() != '"' {
					return dst, malformed("expected a field name in JSON object")
				}
				var err error
				if dst, err = d.compact(dst, depth+1); err != nil {
					return dst, err
				}
				if s.next() != ':' {
					return dst, malformed("expected ':' in JSON object")
				}
				s.i++
				dst = append(dst, ':')
			}
			var err error
			if dst, err = d.compact(dst, depth+1); err != nil {
				return dst, err
			}
			switch s.next() {
			case ',':
				s.i++
				dst = append(dst, ',')
			case closer:
				s.i++
				return append(dst, closer), nil
			default:
				return dst, malformed("expected ',' or '" + string(closer) + "' in JSON")
			}
		}
	case '"':
		raw, esc, err := s.str()
		if err != nil {
			return dst, err
		}
		if esc {
			d.buf = unescape(d.buf[:0], raw)
			raw = d.buf
		}
		return appendJSONString(dst, raw), nil
	case 't':
		return append(dst, "true"...), s.lit("true")
	case 'f':
		return append(dst, "false"...), s.lit("false")
	case 'n':
		return append(dst, "null"...), s.lit("null")
	default:
		raw, _, err := s.num()
		return append(dst, raw...), err
	}
}

// arrayText appends the array at the cursor as Java's List.toString of its
// elements coerced to strings: "[a, b, null]".
func (d *jsonDecoder) arrayText(dst []byte, depth int) ([]byte, error) {
	s := &d.s
	if depth > maxDepth {
		return dst, malformed("JSON nesting too deep")
	}
	s.i++
	dst = append(dst, '[')
	if s.next() == ']' {
		s.i++
		return append(dst, ']'), nil
	}
	for {
		var err error
		switch c := s.next(); c {
		case '"':
			var t []byte
			if t, err = d.text(); err == nil {
				dst = append(dst, t...)
			}
		case '[':
			dst, err = d.arrayText(dst, depth+1)
		default:
			dst, err = d.compact(dst, depth+1)
		}
		if err != nil {
			return dst, err
		}
		switch s.next() {
		case ',':
			s.i++
			dst = append(dst, ',', ' ')
		case ']':
			s.i++
			return append(dst, ']'), nil
		default:
			return dst, malformed("expected ',' or ']' in JSON array")
		}
	}
}
