package expr

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
)

// String functions. Positions and lengths are Java UTF-16 code units, so
// functions that index into text convert to UTF-16 only when the string has
// a supplementary character (u16 below); ASCII and BMP text index by rune.

// u16 is a string as UTF-16 code units.
func u16(s string) []uint16 { return utf16.Encode([]rune(s)) }

func fromU16(u []uint16) string { return string(utf16.Decode(u)) }

// javaTrim strips chars <= U+0020 at both ends, like String.trim.
func javaTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
}

func str(v any) string { return v.(string) }

func init() {
	const cat = "STRING"
	upper := sig("STRING -> STRING", func(a []any) (any, error) { return strings.ToUpper(str(a[0])), nil })
	lower := sig("STRING -> STRING", func(a []any) (any, error) { return strings.ToLower(str(a[0])), nil })
	reg("UCASE", cat, "Converts a string to upper case.", upper)
	reg("UPPER", cat, "Converts a string to upper case.", upper)
	reg("LCASE", cat, "Converts a string to lower case.", lower)
	reg("LOWER", cat, "Converts a string to lower case.", lower)
	reg("TRIM", cat, "Removes leading and trailing whitespace.", sig("STRING -> STRING", func(a []any) (any, error) { return javaTrim(str(a[0])), nil }))
	reg("LTRIM", cat, "Removes leading whitespace.", sig("STRING -> STRING", func(a []any) (any, error) {
		return strings.TrimLeftFunc(str(a[0]), func(r rune) bool { return r <= ' ' }), nil
	}))
	reg("RTRIM", cat, "Removes trailing whitespace.", sig("STRING -> STRING", func(a []any) (any, error) {
		return strings.TrimRightFunc(str(a[0]), func(r rune) bool { return r <= ' ' }), nil
	}))
	lenStr := sig("STRING -> INT", func(a []any) (any, error) { return int32(len(u16(str(a[0])))), nil })
	lenBytes := sig("BYTES -> INT", func(a []any) (any, error) { return int32(len(a[0].([]byte))), nil })
	reg("LEN", cat, "Returns the length of a string (UTF-16 code units) or of bytes.", lenStr, lenBytes)
	reg("LENGTH", cat, "Returns the length of a string (UTF-16 code units) or of bytes.", lenStr, lenBytes)
	reg("SUBSTRING", cat, "Returns a substring; positions are 1-based, negative positions count from the end.",
		sig("STRING, INT -> STRING", func(a []any) (any, error) { return substrStr(str(a[0]), toInt64(a[1]), nil), nil }),
		sig("STRING, INT, INT -> STRING", func(a []any) (any, error) {
			l := toInt64(a[2])
			return substrStr(str(a[0]), toInt64(a[1]), &l), nil
		}),
		sig("BYTES, INT -> BYTES", func(a []any) (any, error) { return substrBytes(a[0].([]byte), toInt64(a[1]), nil), nil }),
		sig("BYTES, INT, INT -> BYTES", func(a []any) (any, error) {
			l := toInt64(a[2])
			return substrBytes(a[0].([]byte), toInt64(a[1]), &l), nil
		}))
	reg("CONCAT", cat, "Concatenates strings or bytes; NULL arguments are skipped.",
		sig("STRING... -> STRING", func(a []any) (any, error) {
			var b strings.Builder
			for _, x := range a {
				if x != nil {
					b.WriteString(str(x))
				}
			}
			return b.String(), nil
		}).nullable(),
		sig("BYTES... -> BYTES", func(a []any) (any, error) {
			out := []byte{}
			for _, x := range a {
				if x != nil {
					out = append(out, x.([]byte)...)
				}
			}
			return out, nil
		}).nullable())
	reg("CONCAT_WS", cat, "Concatenates with a separator, skipping NULL arguments.",
		sig("STRING, STRING... -> STRING", func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			var parts []string
			for _, x := range a[1:] {
				if x != nil {
					parts = append(parts, str(x))
				}
			}
			return strings.Join(parts, str(a[0])), nil
		}).nullable(),
		sig("BYTES, BYTES... -> BYTES", func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			var parts [][]byte
			for _, x := range a[1:] {
				if x != nil {
					parts = append(parts, x.([]byte))
				}
			}
			return bytes.Join(parts, a[0].([]byte)), nil
		}).nullable())
	reg("REPLACE", cat, "Replaces all occurrences of a substring.", sig("STRING, STRING, STRING -> STRING", func(a []any) (any, error) {
		return strings.ReplaceAll(str(a[0]), str(a[1]), str(a[2])), nil
	}))
	reg("INSTR", cat, "Returns the 1-based position of a substring, or 0.",
		sig("STRING, STRING -> INT", func(a []any) (any, error) { return instr(str(a[0]), str(a[1]), 1, 1), nil }),
		sig("STRING, STRING, INT -> INT", func(a []any) (any, error) {
			return instr(str(a[0]), str(a[1]), int(toInt64(a[2])), 1), nil
		}),
		sig("STRING, STRING, INT, INT -> INT", func(a []any) (any, error) {
			return instr(str(a[0]), str(a[1]), int(toInt64(a[2])), int(toInt64(a[3]))), nil
		}))
	reg("LPAD", cat, "Left-pads to a length with a pad string.",
		sig("STRING, INT, STRING -> STRING", func(a []any) (any, error) { return padStr(str(a[0]), toInt64(a[1]), str(a[2]), true), nil }),
		sig("BYTES, INT, BYTES -> BYTES", func(a []any) (any, error) { return padBytes(a[0].([]byte), toInt64(a[1]), a[2].([]byte), true), nil }))
	reg("RPAD", cat, "Right-pads to a length with a pad string.",
		sig("STRING, INT, STRING -> STRING", func(a []any) (any, error) { return padStr(str(a[0]), toInt64(a[1]), str(a[2]), false), nil }),
		sig("BYTES, INT, BYTES -> BYTES", func(a []any) (any, error) { return padBytes(a[0].([]byte), toInt64(a[1]), a[2].([]byte), false), nil }))
	reg("INITCAP", cat, "Capitalises the first letter of each word.", sig("STRING -> STRING", func(a []any) (any, error) {
		var b strings.Builder
		start := true
		for _, r := range str(a[0]) {
			if unicode.IsSpace(r) {
				start = true
				b.WriteRune(r)
				continue
			}
			if start {
				b.WriteRune(unicode.ToUpper(r))
			} else {
				b.WriteRune(unicode.ToLower(r))
			}
			start = false
		}
		return b.String(), nil
	}))
	reg("SPLIT", cat, "Splits on a literal delimiter.",
		sig("STRING, STRING -> ARRAY<STRING>", func(a []any) (any, error) {
			s, d := str(a[0]), str(a[1])
			var parts []string
			if d == "" {
				// Characters; an empty input is one empty piece, as
				// Java's split returns [""].
				parts = []string{""}
				if s != "" {
					parts = parts[:0]
				}
				for _, r := range s {
					parts = append(parts, string(r))
				}
			} else {
				parts = strings.Split(s, d)
			}
			out := make([]any, len(parts))
			for i, p := range parts {
				out[i] = p
			}
			return out, nil
		}),
		sig("BYTES, BYTES -> ARRAY<BYTES>", func(a []any) (any, error) {
			s, d := a[0].([]byte), a[1].([]byte)
			var parts [][]byte
			if len(d) == 0 {
				parts = [][]byte{{}}
				if len(s) > 0 {
					parts = parts[:0]
				}
				for _, c := range s {
					parts = append(parts, []byte{c})
				}
			} else {
				parts = bytes.Split(s, d)
			}
			out := make([]any, len(parts))
			for i, p := range parts {
				out[i] = append([]byte{}, p...)
			}
			return out, nil
		}))
	reg("SPLIT_TO_MAP", cat, "Splits entries and key/value pairs into a map.", sig("STRING, STRING, STRING -> MAP<STRING, STRING>", func(a []any) (any, error) {
		s, ed, kd := str(a[0]), str(a[1]), str(a[2])
		if ed == "" || kd == "" || ed == kd {
			return nil, nil
		}
		m := &Map{}
		for _, e := range strings.Split(s, ed) {
			if e == "" {
				continue
			}
			parts := strings.Split(e, kd)
			if len(parts) < 2 {
				continue
			}
			m.put(parts[0], parts[1])
		}
		return m, nil
	}))
	reg("REGEXP_REPLACE", cat, "Replaces every regular expression match.", sig("STRING, STRING, STRING -> STRING", func(a []any) (any, error) {
		re, err := cachedRegexp(str(a[1]))
		if err != nil {
			return nil, err
		}
		return re.ReplaceAllString(str(a[0]), javaReplacement(str(a[2]))), nil
	}))
	reg("REGEXP_EXTRACT", cat, "Returns the first match (or group) of a regular expression; the pattern comes first.",
		sig("STRING, STRING -> STRING", func(a []any) (any, error) { return regexpExtract(str(a[0]), str(a[1]), 0) }),
		sig("STRING, STRING, INT -> STRING", func(a []any) (any, error) {
			return regexpExtract(str(a[0]), str(a[1]), int(toInt64(a[2])))
		}))
	reg("REGEXP_EXTRACT_ALL", cat, "Returns all matches (or groups) of a regular expression.",
		sig("STRING, STRING -> ARRAY<STRING>", func(a []any) (any, error) { return regexpExtractAll(str(a[0]), str(a[1]), 0) }),
		sig("STRING, STRING, INT -> ARRAY<STRING>", func(a []any) (any, error) {
			return regexpExtractAll(str(a[0]), str(a[1]), int(toInt64(a[2])))
		}))
	reg("REGEXP_SPLIT_TO_ARRAY", cat, "Splits on a regular expression.", sig("STRING, STRING -> ARRAY<STRING>", func(a []any) (any, error) {
		re, err := cachedRegexp(str(a[1]))
		if err != nil {
			return nil, err
		}
		var parts []string
		if re.MatchString("") {
			for _, r := range str(a[0]) {
				parts = append(parts, string(r))
			}
		} else {
			parts = re.Split(str(a[0]), -1)
		}
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	}))
	maskImpl := func(sel func(i, n int, arg int) bool, hasN bool) ScalarImpl {
		return func(a []any) (any, error) {
			s := str(a[0])
			first := 1
			n := 0
			if hasN {
				if a[1] == nil {
					return nil, fmt.Errorf("mask length must not be NULL")
				}
				n = int(toInt64(a[1]))
				if n < 0 {
					return nil, fmt.Errorf("function input must be >= 0")
				}
				first = 2
			}
			masks := [4]rune{'X', 'x', 'n', '-'}
			if len(a) > first {
				for i := 0; i < 4; i++ {
					if a[first+i] == nil {
						masks[i] = -1
						continue
					}
					rs := []rune(str(a[first+i]))
					if len(rs) != 1 {
						return nil, fmt.Errorf("Invalid mask character: %q", str(a[first+i]))
					}
					masks[i] = rs[0]
				}
			}
			rs := []rune(s)
			for i, r := range rs {
				if !sel(i, len(rs), n) {
					continue
				}
				var m rune
				switch {
				case unicode.IsUpper(r):
					m = masks[0]
				case unicode.IsLower(r):
					m = masks[1]
				case unicode.IsDigit(r):
					m = masks[2]
				default:
					m = masks[3]
				}
				if m >= 0 {
					rs[i] = m
				}
			}
			return string(rs), nil
		}
	}
	maskSigs := func(name, desc string, sel func(i, n, k int) bool, hasN bool) {
		base := "STRING"
		if hasN {
			base = "STRING, INT"
		}
		mk := func(s string) *overload {
			o := sig(s, maskImpl(sel, hasN))
			o.nullOnNull = false
			inner := o.impl
			o.impl = func(a []any) (any, error) {
				if a[0] == nil {
					return nil, nil
				}
				return inner(a)
			}
			return o
		}
		reg(name, cat, desc, mk(base+" -> STRING"), mk(base+", STRING, STRING, STRING, STRING -> STRING"))
	}
	maskSigs("MASK", "Masks letters, digits and other characters.", func(int, int, int) bool { return true }, false)
	maskSigs("MASK_LEFT", "Masks the first n characters.", func(i, _, k int) bool { return i < k }, true)
	maskSigs("MASK_RIGHT", "Masks the last n characters.", func(i, n, k int) bool { return i >= n-k }, true)
	maskSigs("MASK_KEEP_LEFT", "Masks all but the first n characters.", func(i, _, k int) bool { return i >= k }, true)
	maskSigs("MASK_KEEP_RIGHT", "Masks all but the last n characters.", func(i, n, k int) bool { return i < n-k }, true)
	reg("CHR", cat, "Returns the character of a code point, or of a \\uXXXX escape.",
		sig("INT -> STRING", func(a []any) (any, error) {
			c := rune(a[0].(int32))
			if c < 0 || c > unicode.MaxRune || (c >= 0xD800 && c <= 0xDFFF) {
				return nil, nil
			}
			return string(c), nil
		}),
		sig("STRING -> STRING", func(a []any) (any, error) {
			s := str(a[0])
			if len(s) < 6 || !strings.HasPrefix(s, "\\u") {
				return nil, nil
			}
			var r rune
			if _, err := fmt.Sscanf(s[2:6], "%04x", &r); err != nil {
				return nil, nil
			}
			return string(utf16.Decode([]uint16{uint16(r)})) + s[6:], nil
		}))
	reg("ELT", cat, "Returns the n-th (1-based) of the remaining arguments.", sig("INT, STRING... -> STRING", func(a []any) (any, error) {
		if a[0] == nil {
			return nil, fmt.Errorf("ELT position must not be NULL")
		}
		n := int(a[0].(int32))
		if n < 1 || n >= len(a) {
			return nil, nil
		}
		return a[n], nil
	}).nullable())
	reg("FIELD", cat, "Returns the 1-based position of the first argument among the rest, or 0.", sig("STRING, STRING... -> INT", func(a []any) (any, error) {
		if a[0] == nil {
			return int32(0), nil
		}
		for i, x := range a[1:] {
			if x != nil && str(x) == str(a[0]) {
				return int32(i + 1), nil
			}
		}
		return int32(0), nil
	}).nullable())
	reg("MD5", cat, "Lower-case hex MD5 digest of the UTF-8 bytes.", sig("STRING -> STRING", func(a []any) (any, error) {
		sum := md5.Sum([]byte(str(a[0])))
		return hex.EncodeToString(sum[:]), nil
	}))
	reg("UUID", cat, "Returns a random version-4 UUID, or formats 16 bytes as a UUID.",
		sig(" -> STRING", func([]any) (any, error) {
			var b [16]byte
			if _, err := rand.Read(b[:]); err != nil {
				return nil, err
			}
			b[6] = b[6]&0x0f | 0x40
			b[8] = b[8]&0x3f | 0x80
			return formatUUID(b[:]), nil
		}),
		sig("BYTES -> STRING", func(a []any) (any, error) {
			b := a[0].([]byte)
			if len(b) != 16 {
				return nil, nil
			}
			return formatUUID(b), nil
		}))
	reg("TO_BYTES", cat, "Converts a string to bytes with an encoding (hex, utf8, ascii, base64).", sig("STRING, STRING -> BYTES", func(a []any) (any, error) {
		return decodeString(str(a[0]), str(a[1]), true)
	}))
	reg("FROM_BYTES", cat, "Converts bytes to a string with an encoding (hex, utf8, ascii, base64).", sig("BYTES, STRING -> STRING", func(a []any) (any, error) {
		return encodeBytes(a[0].([]byte), str(a[1]), true)
	}))
	fromBytes := func(name, ret string, n int, conv func(uint64) any) {
		impl := func(a []any) (any, error) {
			order := "BIG_ENDIAN"
			if len(a) > 1 {
				order = strings.ToUpper(str(a[1]))
			}
			u, err := fixedBytes(a[0].([]byte), n, order)
			if err != nil {
				return nil, err
			}
			return conv(u), nil
		}
		reg(name, cat, fmt.Sprintf("Reads %d bytes as %s, BIG_ENDIAN (default) or LITTLE_ENDIAN.", n, ret),
			sig("BYTES -> "+ret, impl), sig("BYTES, STRING -> "+ret, impl))
	}
	fromBytes("INT_FROM_BYTES", "INT", 4, func(u uint64) any { return int32(uint32(u)) })
	fromBytes("BIGINT_FROM_BYTES", "BIGINT", 8, func(u uint64) any { return int64(u) })
	fromBytes("DOUBLE_FROM_BYTES", "DOUBLE", 8, func(u uint64) any { return math.Float64frombits(u) })
	reg("ENCODE", cat, "Re-encodes a string from one encoding to another (hex, utf8, ascii, base64).", sig("STRING, STRING, STRING -> STRING", func(a []any) (any, error) {
		in, out := strings.ToLower(str(a[1])), strings.ToLower(str(a[2]))
		valid := map[string]bool{"hex": true, "utf8": true, "ascii": true, "base64": true}
		if !valid[in] || !valid[out] || in == out {
			return nil, fmt.Errorf("Supported input and output encodings are: hex, utf8, ascii and base64")
		}
		b, err := decodeString(str(a[0]), in, false)
		if err != nil {
			return nil, err
		}
		return encodeBytes(b.([]byte), out, false)
	}))
}

// fixedBytes reads b, which must hold exactly n bytes, as an unsigned
// integer in the byte order named by order (BIG_ENDIAN or LITTLE_ENDIAN).
func fixedBytes(b []byte, n int, order string) (uint64, error) {
	if len(b) != n {
		return 0, fmt.Errorf("Number of bytes must be equal to %d, but found %d", n, len(b))
	}
	var bo binary.ByteOrder
	switch order {
	case "BIG_ENDIAN":
		bo = binary.BigEndian
	case "LITTLE_ENDIAN":
		bo = binary.LittleEndian
	default:
		return 0, fmt.Errorf("Byte order must be BIG_ENDIAN or LITTLE_ENDIAN, not '%s'", order)
	}
	if n == 4 {
		return uint64(bo.Uint32(b)), nil
	}
	return bo.Uint64(b), nil
}

func formatUUID(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// substrStr implements ksqlDB's SUBSTRING on UTF-16 units.
func substrStr(s string, pos int64, length *int64) string {
	u := u16(s)
	start, end, ok := substrRange(len(u), pos, length)
	if !ok {
		return ""
	}
	return fromU16(u[start:end])
}

func substrBytes(b []byte, pos int64, length *int64) []byte {
	start, end, ok := substrRange(len(b), pos, length)
	if !ok {
		return []byte{}
	}
	return append([]byte{}, b[start:end]...)
}

// substrRange: 1-based pos; negative counts from the end; 0 or < -len clamps
// to the start; len < 0 yields empty; the end is clamped.
func substrRange(n int, pos int64, length *int64) (int, int, bool) {
	var start int64
	switch {
	case pos > 0:
		start = pos - 1
	case pos < 0:
		start = int64(n) + pos
		if start < 0 {
			start = 0
		}
	default:
		start = 0
	}
	if start >= int64(n) {
		return 0, 0, false
	}
	end := int64(n)
	if length != nil {
		if *length < 0 {
			return 0, 0, false
		}
		if start+*length < end {
			end = start + *length
		}
	}
	return int(start), int(end), true
}

// instr mirrors ksqlDB's Instr UDF.
func instr(s, sub string, pos, occ int) int32 {
	u, su := u16(s), u16(sub)
	n := len(u)
	if pos == 0 || pos > n || -pos > n || occ <= 0 {
		if pos == 0 || occ <= 0 {
			return 0
		}
		if pos > n || -pos > n {
			return 0
		}
	}
	idxAt := func(from int) int {
		for i := from; i+len(su) <= n; i++ {
			if equalU16(u[i:i+len(su)], su) {
				return i
			}
		}
		return -1
	}
	lastIdxAt := func(from int) int {
		if from > n-len(su) {
			from = n - len(su)
		}
		for i := from; i >= 0; i-- {
			if equalU16(u[i:i+len(su)], su) {
				return i
			}
		}
		return -1
	}
	if pos > 0 {
		i := pos - 1
		for k := 0; k < occ; k++ {
			if k > 0 {
				i++
			}
			i = idxAt(i)
			if i < 0 {
				return 0
			}
		}
		return int32(i + 1)
	}
	i := n + pos
	for k := 0; k < occ; k++ {
		if k > 0 {
			i--
		}
		if i < 0 {
			return 0
		}
		i = lastIdxAt(i)
		if i < 0 {
			return 0
		}
	}
	return int32(i + 1)
}

func equalU16(a, b []uint16) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func padStr(s string, n int64, pad string, left bool) any {
	if n < 0 || pad == "" {
		return nil
	}
	u, p := u16(s), u16(pad)
	if int64(len(u)) >= n {
		return fromU16(u[:n])
	}
	need := int(n) - len(u)
	fill := make([]uint16, 0, need)
	for len(fill) < need {
		fill = append(fill, p[:min(len(p), need-len(fill))]...)
	}
	if left {
		return fromU16(append(fill, u...))
	}
	return fromU16(append(u, fill...))
}

func padBytes(s []byte, n int64, pad []byte, left bool) any {
	if n < 0 || len(pad) == 0 {
		return nil
	}
	if int64(len(s)) >= n {
		return append([]byte{}, s[:n]...)
	}
	need := int(n) - len(s)
	fill := make([]byte, 0, n)
	for len(fill) < need {
		fill = append(fill, pad[:min(len(pad), need-len(fill))]...)
	}
	if left {
		return append(fill, s...)
	}
	return append(append([]byte{}, s...), fill...)
}

var regexpCache sync.Map // pattern -> *regexp.Regexp

// cachedRegexp compiles Java-style patterns with Go's RE2. RE2 lacks
// backreferences and lookaround; such patterns fail to compile and the row
// errors, as an invalid pattern does in ksqlDB.
func cachedRegexp(p string) (*regexp.Regexp, error) {
	if re, ok := regexpCache.Load(p); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %q: %w", p, err)
	}
	regexpCache.Store(p, re)
	return re, nil
}

// javaReplacement turns Java's $n group references into Go's ${n} so that
// "$1x" keeps meaning group 1 followed by x.
func javaReplacement(r string) string {
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '\\' && i+1 < len(r):
			i++
			if r[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(r[i])
			}
		case c == '$' && i+1 < len(r) && r[i+1] >= '0' && r[i+1] <= '9':
			j := i + 1
			for j < len(r) && r[j] >= '0' && r[j] <= '9' {
				j++
			}
			b.WriteString("${" + r[i+1:j] + "}")
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func regexpExtract(p, s string, group int) (any, error) {
	re, err := cachedRegexp(p)
	if err != nil {
		return nil, err
	}
	m := re.FindStringSubmatchIndex(s)
	if m == nil || group < 0 || group > re.NumSubexp() || m[2*group] < 0 {
		return nil, nil
	}
	return s[m[2*group]:m[2*group+1]], nil
}

func regexpExtractAll(p, s string, group int) (any, error) {
	re, err := cachedRegexp(p)
	if err != nil {
		return nil, err
	}
	if group < 0 || group > re.NumSubexp() {
		return nil, nil
	}
	out := []any{}
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		if m[2*group] < 0 {
			out = append(out, nil)
			continue
		}
		out = append(out, s[m[2*group]:m[2*group+1]])
	}
	return out, nil
}

func unknownEncoding(enc string) error {
	return fmt.Errorf("Unknown encoding type '%s'. Supported formats are 'hex', 'utf8', 'ascii', and 'base64'.", enc)
}

// decodeString turns text in an encoding into bytes. strict selects
// TO_BYTES' strict decoders over ENCODE's lenient ones.
func decodeString(s, enc string, strict bool) (any, error) {
	switch strings.ToLower(enc) {
	case "hex":
		t := s
		if !strict {
			if strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X") {
				t = t[2:]
			} else if (strings.HasPrefix(t, "X'") || strings.HasPrefix(t, "x'")) && strings.HasSuffix(t, "'") {
				t = t[2 : len(t)-1]
			}
			if len(t)%2 == 1 {
				t = "0" + t
			}
		}
		b, err := hex.DecodeString(t)
		if err != nil {
			return nil, fmt.Errorf("invalid hex string %q", s)
		}
		return b, nil
	case "utf8":
		return []byte(s), nil
	case "ascii":
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 127 {
				r = '?'
			}
			out = append(out, byte(r))
		}
		return out, nil
	case "base64":
		if strict {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("invalid base64 string %q", s)
			}
			return b, nil
		}
		t := strings.TrimRight(strings.Map(func(r rune) rune {
			if r == '-' {
				return '+'
			}
			if r == '_' {
				return '/'
			}
			if strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", r) {
				return r
			}
			return -1
		}, s), "=")
		b, err := base64.RawStdEncoding.DecodeString(t)
		if err != nil {
			return nil, fmt.Errorf("invalid base64 string %q", s)
		}
		return b, nil
	}
	return nil, unknownEncoding(enc)
}

func encodeBytes(b []byte, enc string, upperHex bool) (any, error) {
	switch strings.ToLower(enc) {
	case "hex":
		h := hex.EncodeToString(b)
		if upperHex {
			h = strings.ToUpper(h)
		}
		return h, nil
	case "utf8":
		if !utf8.Valid(b) {
			return strings.ToValidUTF8(string(b), "\uFFFD"), nil
		}
		return string(b), nil
	case "ascii":
		out := make([]rune, len(b))
		for i, c := range b {
			if c > 127 {
				out[i] = '\uFFFD'
			} else {
				out[i] = rune(c)
			}
		}
		return string(out), nil
	case "base64":
		return base64.StdEncoding.EncodeToString(b), nil
	}
	return nil, unknownEncoding(enc)
}

var _ arrow.DataType = StringType
