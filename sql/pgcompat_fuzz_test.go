package sql

import (
	"errors"
	"testing"
)

// FuzzPGTokens holds the Postgres-flavoured lexer to its contract on
// arbitrary input, since the wire server runs it on every statement a
// client sends: it never panics, every error is an *Error, and a successful
// result ends with PGEOF and consists of tokens that are exactly the source
// slices they claim, in order and without overlap.
func FuzzPGTokens(f *testing.F) {
	for _, s := range []string{
		`SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(orders)$' COLLATE pg_catalog.default;`,
		`SELECT E'a\nb\x41\101\'' , e'\\', 'it''s', "Quoted ""id""", ` + "`back`" + `;`,
		`SELECT a !~* 'x' AND b ~~ 'y%' OR c !~~* 'z' OR d @> e OR f <@ g OR h && i OR j # k, $1::int, $12, -1.5e-3, .5, 1e9`,
		`BEGIN; DECLARE c CURSOR FOR SELECT * FROM s EMIT CHANGES; FETCH 10 FROM c; COMMIT;`,
		`COPY (SELECT 1) TO STDOUT WITH (FORMAT csv, HEADER); SET search_path = "$user", public`,
		`SELECT 1 -- comment` + "\n" + `/* block /* nested */ */ , ${var} | || != <> ^ ? !`,
		`E'unterminated`, `'open`, `"open`, `/* open`, `E'\x`, `E'\777'`, "\xff\xfe", "E'\\u00e9'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		toks, err := PGTokens(src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is %T, not *Error: %v", err, err)
			}
			if e.Pos.Offset < 0 || e.Pos.Offset > len(src) {
				t.Fatalf("error position %d outside the %d-byte input", e.Pos.Offset, len(src))
			}
			return
		}
		if len(toks) == 0 || toks[len(toks)-1].Kind != PGEOF {
			t.Fatalf("tokens do not end with PGEOF: %+v", toks)
		}
		prevEnd := 0
		for i, tk := range toks {
			if tk.Kind == PGEOF && i != len(toks)-1 {
				t.Fatalf("PGEOF at %d of %d", i, len(toks))
			}
			start := tk.Pos.Offset
			if start < prevEnd || tk.End < start || tk.End > len(src) {
				t.Fatalf("token %d %q spans [%d,%d) after %d in %d bytes", i, tk.Text, start, tk.End, prevEnd, len(src))
			}
			if tk.Kind != PGEOF && src[start:tk.End] != tk.Text {
				t.Fatalf("token %d: Text %q is not the source slice %q", i, tk.Text, src[start:tk.End])
			}
			if tk.Kind != PGEOF && tk.Text == "" {
				t.Fatalf("token %d is empty", i)
			}
			prevEnd = tk.End
		}
	})
}
