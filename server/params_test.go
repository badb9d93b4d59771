package server

import (
	"testing"

	"github.com/sluicedb/sluice/sql"
)

// TestTypeQuotedLiterals: quoted literals become numbers and booleans
// where a column of that type (or LIMIT) expects one, in place and at the
// same length, and stay strings everywhere else.
func TestTypeQuotedLiterals(t *testing.T) {
	cols := func(rels []string, column string) (uint32, bool) {
		if len(rels) == 0 || rels[0] != "S" {
			return 0, false
		}
		switch column {
		case "ID":
			return oidInt4, true
		case "TEMP":
			return oidFloat8, true
		case "OK":
			return oidBool, true
		case "NAME", "PARTITIONS":
			return map[string]uint32{"NAME": oidText, "PARTITIONS": oidInt4}[column], true
		}
		return 0, false
	}
	cases := []struct{ in, want string }{
		{`SELECT * FROM s WHERE id = '2'`, `SELECT * FROM s WHERE id =  2 `},
		{`SELECT * FROM s WHERE '2'=id AND temp >= '-1.5e3'`, `SELECT * FROM s WHERE  2 =id AND temp >=  -1.5e3 `},
		{`SELECT * FROM s WHERE s.ok = 'true' LIMIT'3'`, `SELECT * FROM s WHERE s.ok =  TRUE  LIMIT 3 `},
		{`INSERT INTO s (id, name, temp, ok) VALUES ('1', 's-''1''', '1.5', 'f')`,
			`INSERT INTO s (id, name, temp, ok) VALUES ( 1 , 's-''1''',  1.5 ,  FALSE )`},
		{`INSERT INTO s (id, name) VALUES (ABS('1'), '2')`, `INSERT INTO s (id, name) VALUES (ABS('1'), '2')`},
		// Not valid for the type, a string column, an explicit cast, no
		// known column, DDL properties: unchanged.
		{`SELECT * FROM s WHERE id = 'x' OR id = '1 OR 1=1'`, `SELECT * FROM s WHERE id = 'x' OR id = '1 OR 1=1'`},
		{`SELECT * FROM s WHERE name = '2'`, `SELECT * FROM s WHERE name = '2'`},
		{`SELECT * FROM s WHERE id = CAST('2' AS INT) OR id = '3'::INT`, `SELECT * FROM s WHERE id = CAST('2' AS INT) OR id = '3'::INT`},
		{`SELECT * FROM t WHERE id = '2'`, `SELECT * FROM t WHERE id = '2'`},
		{`CREATE STREAM x WITH (PARTITIONS='1') AS SELECT * FROM s`, `CREATE STREAM x WITH (PARTITIONS='1') AS SELECT * FROM s`},
		{`SET 'auto.offset.reset'='earliest'`, `SET 'auto.offset.reset'='earliest'`},
	}
	for _, c := range cases {
		toks, err := sql.PGTokens(c.in)
		if err != nil {
			t.Fatal(err)
		}
		got := typeQuotedLiterals(c.in, toks, cols)
		if got != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}
