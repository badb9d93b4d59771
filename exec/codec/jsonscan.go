package codec

import (
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds JSON nesting, as Jackson's StreamReadConstraints do
// (default 1000), so a hostile record cannot exhaust the task's stack.
const maxDepth = 1000

// scanner is a cursor over one JSON document. It never allocates: strings
// and numbers are returned as sub-slices of the input, and callers that need
// unescaped text pass their own buffer to unescape.
type scanner struct {
	b []byte
	i int
}

// next skips whitespace and returns the first byte of the next token, or 0
// at the end of the input.
func (s *scanner) next() byte {
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return c
		}
	}
	return 0
}

// str reads the string that starts at s.i (a '"'). It returns the raw bytes
// between the quotes and whether they contain escapes, which it validates so
// that unescape cannot fail later.
func (s *scanner) str() (raw []byte, esc bool, err error) {
	start := s.i + 1
	b := s.b
	// Skip plain ASCII eight bytes at a time; the byte loop below takes
	// over at the first word holding a quote, a backslash, a control
	// character or a non-ASCII byte. Strings are most of a typical
	// record's bytes, and this makes their scan several times cheaper.
	j := start
	for j+8 <= len(b) && !specialInWord(load64(b, j)) {
		j += 8
	}
	var hi byte // OR of the bytes after j: >= 0x80 when the string is not ASCII
	for ; j < len(b); j++ {
		c := b[j]
		hi |= c
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		switch {
		case c == '"':
			s.i = j + 1
			if hi >= utf8.RuneSelf && !utf8.Valid(b[start:j]) {
				// Jackson rejects invalid UTF-8 in a document.
				return nil, false, malformed("invalid UTF-8 in JSON string")
			}
			return b[start:j], esc, nil
		case c == '\\':
			esc = true
			j++
			if j >= len(b) {
				return nil, false, malformed("unterminated JSON string")
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(b) || hex4(b[j+1:j+5]) < 0 {
					return nil, false, malformed(`invalid \u escape in JSON string`)
				}
				j += 4
			default:
				return nil, false, malformed("invalid escape in JSON string")
			}
		default:
			return nil, false, malformed("unescaped control character in JSON string")
		}
	}
	return nil, false, malformed("unterminated JSON string")
}

// specialInWord reports whether one of the eight bytes of w (a
// little-endian load) is '"', '\\', below 0x20 or at least 0x80: the bytes
// after which a string scan must look closer.
func specialInWord(w uint64) bool {
	return (escapeBits(w)|w)&highBits != 0
}

// escapeInWord reports whether one of the eight bytes of w is '"', '\\' or
// below 0x20: the bytes a JSON string writer must escape.
func escapeInWord(w uint64) bool { return escapeBits(w)&highBits != 0 }

const (
	oneBytes = 0x0101010101010101
	highBits = 0x8080808080808080
)

// escapeBits sets the high bit of (at least) the lowest byte of w that is
// '"', '\\' or below 0x20, and of none when there is no such byte. It uses
// the classic SWAR tests, which hold for any w: (x - 0x01..01) & ^x has a
// high bit set exactly when x has a zero byte, here x being w with each
// byte XORed with the quote or the backslash; (w - 0x20..20) & ^w has one
// exactly when w has a byte below 0x20.
func escapeBits(w uint64) uint64 {
	q := w ^ (oneBytes * '"')
	bs := w ^ (oneBytes * '\\')
	return (w-oneBytes*0x20)&^w | (q-oneBytes)&^q | (bs-oneBytes)&^bs
}

// load64 reads eight bytes of s at i, little-endian (the compiler merges
// the byte loads into one).
func load64[T string | []byte](s T, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// hex4 decodes four hex digits, or returns -1.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return -1
		}
	}
	return r
}

// unescape appends the text of a string's raw bytes (validated by str) to
// dst. Surrogate pairs combine; a lone surrogate becomes U+FFFD, as Java's
// UTF-8 encoder writes it.
func unescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[i+1:])
			i += 4
			if utf16.IsSurrogate(r) && i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				if r2 := hex4(raw[i+3:]); r2 >= 0 {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					}
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, raw[i])
		}
	}
	return dst
}

// num reads a number at s.i with JSON's grammar (Jackson's defaults: no
// leading zeros, no NaN, no leading '+'). integral is false when the literal
// has a fraction or an exponent.
func (s *scanner) num() (raw []byte, integral bool, err error) {
	b := s.b
	start, j := s.i, s.i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
	default:
		return nil, false, malformed("invalid JSON number")
	}
	integral = true
	if j < len(b) && b[j] == '.' {
		integral = false
		j++
		d := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == d {
			return nil, false, malformed("invalid JSON number: no digits after '.'")
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		integral = false
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		d := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == d {
			return nil, false, malformed("invalid JSON number: no digits in exponent")
		}
	}
	s.i = j
	return b[start:j], integral, nil
}

// lit consumes the literal word (true, false, null) at s.i.
func (s *scanner) lit(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return malformed("invalid JSON literal")
	}
	s.i += len(word)
	return nil
}

// skip consumes one value of any type, validating it.
func (s *scanner) skip(depth int) error {
	if depth > maxDepth {
		return malformed("JSON nesting too deep")
	}
	switch c := s.next(); c {
	case '"':
		_, _, err := s.str()
		return err
	case '{':
		s.i++
		if s.next() == '}' {
			s.i++
			return nil
		}
		for {
			if s.next() != '"' {
				return malformed("expected a field name in JSON object")
			}
			if _, _, err := s.str(); err != nil {
				return err
			}
			if s.next() != ':' {
				return malformed("expected ':' in JSON object")
			}
			s.i++
			if err := s.skip(depth + 1); err != nil {
				return err
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
	case '[':
		s.i++
		if s.next() == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
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
	case 't':
		return s.lit("true")
	case 'f':
		return s.lit("false")
	case 'n':
		return s.lit("null")
	case 0:
		return malformed("unexpected end of JSON input")
	default:
		_, _, err := s.num()
		return err
	}
}

// sourceType names the JSON value starting with c the way ksqlDB's messages
// do (Jackson node class names).
func sourceType(c byte, raw []byte, integral bool) string {
	switch c {
	case '"':
		return "TextNode"
	case '{':
		return "ObjectNode"
	case '[':
		return "ArrayNode"
	case 't', 'f':
		return "BooleanNode"
	}
	if !integral {
		return "DecimalNode"
	}
	if len(raw) < 10 {
		return "IntNode"
	}
	return "LongNode"
}
