package codec

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// The JSON decoder's fast paths (the word-at-a-time string scan, the
// pre-scanned tokens of the first pass, the direct integer parse and the
// builder reserve) must not change a result. These tests compare them with
// the plain byte-at-a-time forms on inputs placed around their edges.

// strSlow is scanner.str without the word-at-a-time skip.
func strSlow(b []byte) (raw []byte, esc bool, ok bool) {
	for j := 1; j < len(b); j++ {
		c := b[j]
		switch {
		case c == '"':
			return b[1:j], esc, true
		case c == '\\':
			esc = true
			j++
		case c < 0x20:
			return nil, false, false
		}
	}
	return nil, false, false
}

func TestSpecialInWord(t *testing.T) {
	for c := 0; c < 256; c++ {
		special := c == '"' || c == '\\' || c < 0x20 || c >= 0x80
		for pos := 0; pos < 8; pos++ {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			var x uint64
			for i := 7; i >= 0; i-- {
				x = x<<8 | uint64(w[i])
			}
			if got := specialInWord(x); got != special {
				t.Fatalf("byte %#x at %d: specialInWord = %v, want %v", c, pos, got, special)
			}
		}
	}
}

func TestScannerStrAroundWords(t *testing.T) {
	specials := []string{`\"`, `\\`, `\n`, `\u00e9`, "é", "\x01", `"`}
	for n := 0; n < 40; n++ {
		for _, sp := range specials {
			for pos := 0; pos <= n; pos++ {
				body := strings.Repeat("x", pos) + sp + strings.Repeat("y", n-pos)
				doc := []byte(`"` + body + `" , 1`)
				s := scanner{b: doc}
				raw, esc, err := s.str()
				wraw, wesc, wok := strSlow(doc)
				if (err == nil) != wok || string(raw) != string(wraw) || esc != wesc {
					t.Fatalf("%q: str = %q, %v, %v; want %q, %v, ok=%v", doc, raw, esc, err, wraw, wesc, wok)
				}
				if err == nil && doc[s.i-1] != '"' {
					t.Fatalf("%q: cursor at %d after the string", doc, s.i)
				}
			}
		}
		// Unterminated strings of every length end in an error.
		s := scanner{b: []byte(`"` + strings.Repeat("z", n))}
		if _, _, err := s.str(); err == nil {
			t.Fatalf("unterminated string of %d bytes accepted", n)
		}
	}
}

func TestParseInt64(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	cases := []string{"0", "-0", "1", "-1", "999999999999999999", "-999999999999999999",
		"1000000000000000000", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
		"-9223372036854775809", "123456789012345678901234567890"}
	for range 10000 {
		cases = append(cases, strconv.FormatInt(r.Int64()>>r.IntN(63)*int64(1-2*r.IntN(2)), 10))
	}
	for _, c := range cases {
		got, gerr := parseInt64([]byte(c))
		want, werr := strconv.ParseInt(c, 10, 64)
		if got != want || (gerr == nil) != (werr == nil) {
			t.Fatalf("parseInt64(%s) = %d, %v; strconv %d, %v", c, got, gerr, want, werr)
		}
	}
}

// TestDecodeAcrossBatches decodes the same records as one batch and as
// batches of assorted sizes (the reserve hint follows the batch sizes) with
// duplicate, reordered and case-mismatched keys (the pre-scanned tokens
// must follow the last, best match), and compares the columns.
func TestDecodeAcrossBatches(t *testing.T) {
	s := Spec{Format: JSON, Fields: fields("ID", tBig, "NAME", tStr, "PRICE", tDouble, "N", tInt, "TAGS", tStr)}
	var recs [][]byte
	for i := 0; i < 500; i++ {
		var doc string
		switch i % 5 {
		case 0:
			doc = `{"id":` + strconv.Itoa(i) + `,"name":"n` + strings.Repeat("é", i%7) + `","price":` + strconv.Itoa(i) + `.5,"n":"` + strconv.Itoa(i) + `","tags":["a",1]}`
		case 1:
			doc = `{"NAME":"exact","name":"upper-cased loses","id":` + strconv.Itoa(-i) + `,"id":7,"price":"1e3"}`
		case 2:
			doc = `{"n":12345678901,"name":123,"tags":{"k":"v"},"price":null}`
		case 3:
			doc = `{"name":"esc\"aped\\ \u0041\n","extra":{"deep":[1,2,{"x":"y"}]},"ID":"42"}`
		default:
			doc = `{"id":1,"name":"` + strings.Repeat("long text ", i%30) + `","price":-0.0,"n":1.9}`
		}
		recs = append(recs, []byte(doc))
	}
	// decodeAll returns one line per record: its error and its columns.
	decodeAll := func(sizes []int) []string {
		d, err := NewDecoder(s)
		if err != nil {
			t.Fatal(err)
		}
		bs := newBuilders(specTypes(s))
		var out []string
		for i, k := 0, 0; i < len(recs); k++ {
			n := min(sizes[k%len(sizes)], len(recs)-i)
			rows := make([]string, n)
			for j, r := range recs[i : i+n] {
				rows[j] = errString(d.Decode(r, bs))
			}
			for _, b := range bs {
				a := b.NewArray()
				if a.Len() != n {
					t.Fatalf("batch of %d rows built a column of %d", n, a.Len())
				}
				for j := 0; j < n; j++ {
					rows[j] += " | " + a.ValueStr(j)
				}
				a.Release()
			}
			out = append(out, rows...)
			i += n
		}
		return out
	}
	want := decodeAll([]int{len(recs)})
	for _, sizes := range [][]int{{1}, {3}, {1024}, {7, 1, 100, 2}} {
		got := decodeAll(sizes)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("batch sizes %v, record %d (%s):\n got %s\nwant %s", sizes, i, recs[i], got[i], want[i])
			}
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestEscapeInWord(t *testing.T) {
	for c := 0; c < 256; c++ {
		escape := c == '"' || c == '\\' || c < 0x20
		for pos := 0; pos < 8; pos++ {
			w := []byte("ab\xc3\xa9efgh") // non-ASCII bytes around must not matter
			w[pos] = byte(c)
			if got := escapeInWord(load64(w, 0)); got != escape {
				t.Fatalf("byte %#x at %d in %q: escapeInWord = %v, want %v", c, pos, w, got, escape)
			}
		}
	}
}

// appendJSONStringSlow is appendJSONString without the word-at-a-time skip.
func appendJSONStringSlow(dst []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

func TestAppendJSONStringAroundWords(t *testing.T) {
	for n := 0; n < 30; n++ {
		for _, sp := range []string{`"`, `\`, "\n", "\x01", "\x1f", "é", "\x7f"} {
			for pos := 0; pos <= n; pos++ {
				s := strings.Repeat("x", pos) + sp + strings.Repeat("y", n-pos) + sp
				if got, want := string(appendJSONString(nil, s)), string(appendJSONStringSlow(nil, s)); got != want {
					t.Fatalf("%q: %s, want %s", s, got, want)
				}
				if got, want := string(appendJSONString(nil, []byte(s))), string(appendJSONStringSlow(nil, s)); got != want {
					t.Fatalf("[]byte %q: %s, want %s", s, got, want)
				}
			}
		}
	}
}
