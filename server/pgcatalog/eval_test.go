package pgcatalog

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluicedb/sluice/sql"
)

// testCatalog has a stream, a table and a few functions: small enough that
// every expected answer can be written out by hand.
func testCatalog() *Catalog {
	return &Catalog{
		Database: "db",
		User:     "alice",
		Version:  "PostgreSQL 15 on sluice",
		Relations: []Relation{
			{Name: "orders", Topic: "orders", Definition: "CREATE STREAM orders (id INT KEY, item STRING) WITH (KAFKA_TOPIC='orders');",
				Columns: []Column{{Name: "id", TypeOID: OIDInt4, Typmod: -1, Key: true}, {Name: "item", TypeOID: OIDText, Typmod: -1}}},
			{Name: "users", Table: true, Topic: "users",
				Columns: []Column{{Name: "id", TypeOID: OIDInt4, Typmod: -1, Key: true}, {Name: "name", TypeOID: OIDText, Typmod: -1},
					{Name: "balance", TypeOID: OIDNumeric, Typmod: 10<<16 | 2 + 4}}},
		},
		Functions: []Function{
			{Name: "ABS", Category: "MATHEMATICAL", Description: "Absolute value.", Signatures: []Signature{
				{Args: []uint32{OIDInt4}, Result: OIDInt4}, {Args: []uint32{OIDFloat8}, Result: OIDFloat8}}},
			{Name: "CONCAT", Category: "STRING", Signatures: []Signature{
				{Args: []uint32{OIDTextArray}, Variadic: true, Result: OIDText}}},
			{Name: "COALESCE", Category: "CONDITIONAL", Signatures: []Signature{
				{Args: []uint32{OIDAnyElement, OIDAnyArray}, Variadic: true, Result: OIDAnyElement}}},
			{Name: "MYSTERY", Category: "OTHER"},
		},
		Setting: func(name string) (string, bool) {
			if name == "search_path" {
				return `"$user", public`, true
			}
			return "", false
		},
	}
}

// eval runs q over testCatalog and renders the rows as "a|b" lines, NULL
// as "NULL" and arrays in Postgres' {a,b} form.
func eval(t *testing.T, q string) (*Result, string) {
	t.Helper()
	toks, err := sql.PGTokens(q)
	if err != nil {
		t.Fatalf("tokens of %q: %v", q, err)
	}
	res, err := Eval(toks, testCatalog())
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var lines []string
	for _, row := range res.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			if v == nil {
				cells[i] = "NULL"
			} else {
				cells[i] = Text(v)
			}
		}
		lines = append(lines, strings.Join(cells, "|"))
	}
	return res, strings.Join(lines, "\n")
}

func TestEvalQueries(t *testing.T) {
	cases := []struct{ name, q, want string }{
		{"left join", `SELECT c.relname, n.nspname FROM pg_catalog.pg_class c
			LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ORDER BY 1`,
			"orders|public\nusers|public"},
		{"left join keeps unmatched rows", `SELECT c.relname, am.amname FROM pg_class c
			LEFT JOIN pg_am am ON am.oid = c.relam ORDER BY c.relname DESC`,
			"users|NULL\norders|NULL"},
		{"inner join and where", `SELECT c.relname, a.attname, a.attnum FROM pg_catalog.pg_class c
			JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid WHERE a.attnotnull ORDER BY 1`,
			"orders|id|1\nusers|id|1"},
		{"comma join", `SELECT c.relname FROM pg_class c, pg_namespace n
			WHERE n.oid = c.relnamespace AND n.nspname = 'public' AND c.relkind = 'r'`,
			"users"},
		{"correlated scalar subquery", `SELECT c.relname,
			(SELECT count(*) FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid) AS n
			FROM pg_class c ORDER BY n DESC, 1`,
			"users|3\norders|2"},
		{"exists and in subqueries", `SELECT relname FROM pg_class c
			WHERE EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'balance')
			   OR c.oid IN (SELECT attrelid FROM pg_attribute WHERE attname = 'item') ORDER BY 1`,
			"orders\nusers"},
		{"union removes duplicates", `SELECT 'b' AS x UNION SELECT 'a' UNION SELECT 'b' ORDER BY 1`, "a\nb"},
		{"union all keeps them", `SELECT relkind FROM pg_class UNION ALL SELECT 'r' ORDER BY 1`, "r\nr\nv"},
		{"case with operand", `SELECT relname, CASE relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' ELSE '?' END
			FROM pg_class ORDER BY 1`, "orders|view\nusers|table"},
		{"searched case without else", `SELECT CASE WHEN 1 > 2 THEN 'x' END`, "NULL"},
		{"operator regex match", `SELECT c.relname FROM pg_catalog.pg_class c
			WHERE c.relname OPERATOR(pg_catalog.~) '^(ord.*)$' COLLATE pg_catalog.default`, "orders"},
		{"negated and case-insensitive regex", `SELECT relname FROM pg_class WHERE relname !~ '^o' AND relname ~* '^USE'`, "users"},
		{"any over an array", `SELECT relname FROM pg_class WHERE relkind = ANY (ARRAY['r','p','f'])`, "users"},
		{"any over an array column", `SELECT 'public' = ANY (current_schemas(true)), 'x' = ANY (current_schemas(false))`, "t|f"},
		{"array of a subquery", `SELECT pg_catalog.array_to_string(ARRAY(SELECT a.attname FROM pg_attribute a
			WHERE a.attrelid = 16385 ORDER BY a.attnum DESC), ', ')`, "balance, name, id"},
		{"aggregates over groups", `SELECT attrelid, count(*), max(attnum), min(attname), string_agg(attname, ',')
			FROM pg_attribute GROUP BY attrelid ORDER BY 1`, "16384|2|2|id|id,item\n16385|3|3|balance|id,name,balance"},
		{"having", `SELECT attrelid FROM pg_attribute GROUP BY attrelid HAVING count(*) > 2`, "16385"},
		{"aggregate over no rows", `SELECT count(*), max(relname), bool_and(relhasindex) FROM pg_class WHERE false`, "0|NULL|NULL"},
		{"distinct", `SELECT DISTINCT attname FROM pg_attribute ORDER BY 1`, "balance\nid\nitem\nname"},
		{"limit and offset", `SELECT attname FROM pg_attribute ORDER BY attname LIMIT 2 OFFSET 1`, "id\nid"},
		{"order by position and expression", `SELECT attname, attnum FROM pg_attribute ORDER BY 2 DESC, length(attname), 1 LIMIT 3`,
			"balance|3\nitem|2\nname|2"},
		{"three-valued logic", `SELECT NULL = 1, NULL IS NULL, 1 IN (2, NULL), 1 IN (1, NULL), NOT (NULL AND false)`,
			"NULL|t|NULL|t|t"},
		{"casts", `SELECT 'orders'::pg_catalog.regclass::pg_catalog.oid, 16385::regclass, 23::regtype::text, '12'::int + 1`,
			"16384|users|integer|13"},
		{"format_type", `SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a WHERE attrelid = 16385 ORDER BY attnum`,
			"integer\ntext\nnumeric(10,2)"},
		{"like and between", `SELECT attname FROM pg_attribute WHERE attname LIKE 'i%' AND attnum BETWEEN 1 AND 2 ORDER BY 1`,
			"id\nid\nitem"},
		{"session functions", `SELECT current_database(), current_user, current_schema(), current_setting('search_path')`,
			`db|alice|public|"$user", public`},
		{"functions in pg_proc, one row per overload", `SELECT p.proname, pg_catalog.pg_get_function_result(p.oid),
			pg_catalog.pg_get_function_arguments(p.oid), p.pronargs, p.proargtypes, p.provariadic::regtype
			FROM pg_catalog.pg_proc p ORDER BY 1, 3`,
			"abs|double precision|double precision|1|701|-\n" +
				"abs|integer|integer|1|23|-\n" +
				"coalesce|anyelement|anyelement, VARIADIC anyarray|2|2283 2277|anyelement\n" +
				"concat|text|VARIADIC text[]|1|1009|text\n" +
				"mystery|NULL|NULL|0||-"},
		{"function descriptions and language", `SELECT DISTINCT p.proname, l.lanname, obj_description(p.oid, 'pg_proc')
			FROM pg_proc p LEFT JOIN pg_language l ON l.oid = p.prolang WHERE p.proname = 'abs'`,
			"abs|internal|Absolute value."},
		{"view definition", `SELECT c.relname, pg_catalog.pg_get_viewdef(c.oid, true) FROM pg_class c ORDER BY 1`,
			"orders|CREATE STREAM orders (id INT KEY, item STRING) WITH (KAFKA_TOPIC='orders');\nusers|NULL"},
		{"information_schema", `SELECT table_name, table_type FROM information_schema.tables ORDER BY 1`,
			"orders|VIEW\nusers|BASE TABLE"},
		{"empty catalogs answer any column", `SELECT i.indexrelid, i.whatever FROM pg_catalog.pg_index i`, ""},
		{"table functions", `SELECT x FROM pg_catalog.unnest(ARRAY['a','b']) x ORDER BY 1 DESC`, "b\na"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, got := eval(t, c.q); got != c.want {
				t.Errorf("%s\n got:\n%s\nwant:\n%s", c.q, got, c.want)
			}
		})
	}
}

// TestEvalTypes: static types reach RowDescription, so psql aligns numbers
// right and drivers decode them.
func TestEvalTypes(t *testing.T) {
	res, _ := eval(t, `SELECT c.oid, c.relname, c.relkind, c.relnatts, count(*) AS n, c.relname || 'x', 1.5
		FROM pg_class c GROUP BY c.oid, c.relname, c.relkind, c.relnatts`)
	want := []uint32{OIDOID, OIDName, OIDChar, OIDInt2, OIDInt8, OIDText, OIDFloat8}
	for i, w := range want {
		if res.Types[i] != w {
			t.Errorf("column %d (%s): type %d, want %d", i, res.Columns[i], res.Types[i], w)
		}
	}
	if got := strings.Join(res.Columns[:5], ","); got != "oid,relname,relkind,relnatts,n" {
		t.Errorf("column names %s", got)
	}
}

func TestEvalErrors(t *testing.T) {
	cases := []struct{ q, code string }{
		{`SELECT nosuch FROM pg_class`, "42703"},
		{`SELECT 1 FROM pg_nosuch`, "42P01"},
		{`SELECT (SELECT relname FROM pg_class)`, "21000"},
		{`SELECT 1 UNION SELECT 1, 2`, "42601"},
		{`SELECT current_setting('no.such')`, "42704"},
		{`SELECT 'x'::int`, "22P02"},
		{`SELECT nosuch_function()`, "42883"},
		{`SELECT 1 FROM`, "42601"},
	}
	for _, c := range cases {
		toks, err := sql.PGTokens(c.q)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Eval(toks, testCatalog())
		var se *sql.Error
		if !errors.As(err, &se) || se.Code != c.code {
			t.Errorf("%s: error %v, want SQLSTATE %s", c.q, err, c.code)
		}
	}
}
