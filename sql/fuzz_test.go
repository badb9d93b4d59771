package sql

import (
	"testing"
)

// FuzzParse holds the front end to two promises on arbitrary input: it
// never panics, and whatever it accepts formats to text that parses back to
// the same canonical form. Every error is an *Error.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"CREATE STREAM S (ID INT KEY, V STRUCT<A ARRAY<INT>, `b` MAP<STRING, DECIMAL(4, 2)>>) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');",
		"CREATE TABLE T AS SELECT ID, COUNT(*) FROM S WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 1 MINUTE) WHERE V->A[1] > 2 GROUP BY ID EMIT FINAL;",
		"SELECT * FROM A JOIN B WITHIN (1 SECOND, 2 HOURS) ON A.ID = B.ID LEFT JOIN C ON A.X = C.X PARTITION BY A.Y EMIT CHANGES LIMIT 3;",
		"INSERT INTO S (ID, V) VALUES (1, STRUCT(A := ARRAY[1, 2], `b` := MAP('k' := 1.50)));",
		"SELECT TRANSFORM(A, x => x + 1), REDUCE(A, 0, (s, x) => s + x), CAST(X AS BIGINT), X::STRING, $1 FROM T;",
		"SELECT CASE WHEN A IS NULL THEN 'x' || 'y' ELSE -1e3 END, A NOT BETWEEN 1 AND 2, B LIKE 'a%' ESCAPE '!' FROM T;",
		"DROP STREAM IF EXISTS S DELETE TOPIC; TERMINATE ALL; SET 'a'='b'; DEFINE x = 'y'; SHOW TABLES EXTENDED; DESCRIBE FUNCTION F;",
		"SELECT 'unterminated FROM T;", "/* open", "SELECT a->b->* FROM t;", "EXPLAIN SELECT * FROM T;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		stmts, err := Parse(s)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error is %T, not *Error: %v", err, err)
			}
			return
		}
		for _, st := range stmts {
			out := Format(st)
			again, err := ParseOne(out)
			if err != nil {
				t.Fatalf("Format output does not parse:\n  input %q\n  formatted %q\n  %v", s, out, err)
			}
			if f2 := Format(again); f2 != out {
				t.Fatalf("Format is not stable:\n  input %q\n  first %q\n  second %q", s, out, f2)
			}
		}
		_, _ = Split(s)
		_, _ = Substitute(s, map[string]string{"x": "1"})
		_, _ = ParseType(s)
		_, _ = ParseColumns(s)
	})
}
