package server

import (
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/sql"
)

// Parameters ($1..$n) of the extended protocol. The engine takes statement
// text, so the server binds parameters by replacing each $n token with a SQL
// literal of the bound value. The replacement works on tokens of the
// statement, never on its raw text, so a "$1" inside a string or a comment
// is left alone, and the literal is quoted for the type the parameter has,
// so a value can never change the statement's shape (no injection).

// paramCount returns the highest $n of the statement.
func paramCount(toks []sql.PGToken) (int, error) {
	n := 0
	for _, t := range toks {
		if t.Kind != sql.PGParam {
			continue
		}
		k, err := strconv.Atoi(t.Val)
		if err != nil || k < 1 || k > 65535 {
			return 0, sql.Errorf(sql.CodeSyntax, t.Pos, "invalid parameter %s", t.Text).
				WithHint("parameters are numbered from $1")
		}
		n = max(n, k)
	}
	return n, nil
}

// columnTypes looks up the Postgres type of a column by (upper-cased) name
// among the relations a statement names; ok=false when unknown.
type columnTypes func(relations []string, column string) (oid uint32, ok bool)

// inferParamTypes returns the type of each of n parameters: the type the
// client gave in Parse when non-zero, else what the statement's tokens say
// ($1::INT, CAST($1 AS INT), LIMIT $1, col = $1, INSERT INTO s (col) VALUES
// ($1)), else text. Postgres infers from the whole expression; this looks at
// the common shapes drivers send, and text is always a safe answer: a driver
// then sends the value's text, which binds as a quoted string.
func inferParamTypes(toks []sql.PGToken, n int, given []uint32, cols columnTypes) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		if i < len(given) && given[i] != 0 {
			out[i] = given[i]
		}
	}
	tc := newTypeContext(toks, cols)
	for i, t := range toks {
		if t.Kind != sql.PGParam {
			continue
		}
		k, _ := strconv.Atoi(t.Val)
		if k < 1 || k > n || out[k-1] != 0 {
			continue
		}
		oid := tc.typeAt(i)
		if oid == 0 {
			oid = oidText
		}
		out[k-1] = oid
	}
	for i := range out {
		if out[i] == 0 {
			out[i] = oidText // a parameter the text never mentions
		}
	}
	return out
}

// typeContext answers what type the tokens around a value expect.
type typeContext struct {
	toks       []sql.PGToken
	rels       []string
	insertCols map[int]sql.PGToken
	cols       columnTypes
}

func newTypeContext(toks []sql.PGToken, cols columnTypes) *typeContext {
	return &typeContext{toks: toks, rels: relationNames(toks), insertCols: insertColumnParams(toks), cols: cols}
}

func (tc *typeContext) tok(i int) sql.PGToken {
	if i < 0 || i >= len(tc.toks) {
		return sql.PGToken{}
	}
	return tc.toks[i]
}

// lookup is the type of the column a token names, or 0.
func (tc *typeContext) lookup(col sql.PGToken) uint32 {
	if tc.cols == nil || (col.Kind != sql.PGIdent && col.Kind != sql.PGQIdent) {
		return 0
	}
	if oid, ok := tc.cols(tc.rels, identName(col)); ok {
		return oid
	}
	return 0
}

// typeAt is the type the value token toks[i] (a parameter or a literal)
// takes from its neighbours ($1::INT, CAST($1 AS INT), LIMIT $1,
// col = $1, $1 = col, INSERT INTO s (col) VALUES ($1)), or 0.
func (tc *typeContext) typeAt(i int) uint32 {
	tok := tc.tok
	var oid uint32
	switch {
	case tok(i + 1).IsOp("::"):
		oid = oidOfTypeName(tok(i + 2).Val)
	case tok(i-1).IsOp("(") && tok(i-2).IsKw("CAST") && tok(i+1).IsKw("AS"):
		oid = oidOfTypeName(tok(i + 2).Val)
	case tok(i-1).IsKw("LIMIT") || tok(i-1).IsKw("OFFSET"):
		oid = oidInt8
	case isComparison(tok(i - 1)):
		oid = tc.lookup(tok(i - 2))
	case isComparison(tok(i + 1)):
		oid = tc.lookup(tok(i + 2))
	}
	if oid == 0 {
		if col, ok := tc.insertCols[i]; ok {
			oid = tc.lookup(col)
		}
	}
	return oid
}

// typeQuotedLiterals gives quoted literals the type their place expects,
// as Postgres does: there a quoted literal has no type of its own until its
// context gives it one, so WHERE id = '2' compares with the integer 2 and
// INSERT ... VALUES ('1.5') fills a DOUBLE column. sluice SQL (ksqlDB's)
// has no implicit casts from strings and refuses both, but Postgres
// clients write them: pgx's simple protocol mode inlines every parameter
// as a quoted string. A literal is rewritten only where a column, LIMIT or
// OFFSET expects a number or a boolean, and only when its text is a valid
// literal of that type; anything else stays a string for the engine to
// judge. It applies to SELECT and INSERT statements. The literal is replaced in place, padded with spaces to its
// length when shorter, so error positions still point into the client's
// text.
func typeQuotedLiterals(text string, toks []sql.PGToken, cols columnTypes) string {
	// Only queries and INSERTs hold values; in DDL a quoted string next to
	// "=" is a property (WITH (PARTITIONS='1')), whose name may well be a
	// column's too.
	if len(toks) == 0 || !toks[0].IsKw("SELECT") && !toks[0].IsKw("INSERT") {
		return text
	}
	var tc *typeContext
	var b strings.Builder
	last := 0
	for i, t := range toks {
		if t.Kind != sql.PGString || tc == nil && !mayTakeType(toks, i) {
			continue
		}
		if tc == nil {
			tc = newTypeContext(toks, cols)
		}
		if tc.tok(i+1).IsOp("::") || tc.tok(i-1).IsOp("(") && tc.tok(i-2).IsKw("CAST") {
			continue // an explicit cast says what the string becomes
		}
		oid := tc.typeAt(i)
		if !isNumericOID(oid) && oid != oidBool {
			continue
		}
		val := t.Val
		lit := literal(oid, &val)
		if strings.HasPrefix(lit, "'") {
			continue // not a valid literal of the type
		}
		// Spaces around it keep it apart from neighbouring words
		// (LIMIT'3' is LIMIT 3, not LIMIT3).
		lit = " " + lit + " "
		if n := t.End - t.Pos.Offset; len(lit) < n {
			lit += strings.Repeat(" ", n-len(lit))
		}
		b.WriteString(text[last:t.Pos.Offset])
		b.WriteString(lit)
		last = t.End
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// mayTakeType is a cheap test that a string token stands next to something
// that could type it, so statements without such literals (most) skip
// building a typeContext.
func mayTakeType(toks []sql.PGToken, i int) bool {
	prev, next := sql.PGToken{}, sql.PGToken{}
	if i > 0 {
		prev = toks[i-1]
	}
	if i+1 < len(toks) {
		next = toks[i+1]
	}
	return isComparison(prev) || isComparison(next) || prev.IsKw("LIMIT") || prev.IsKw("OFFSET") ||
		prev.IsOp("(") || prev.IsOp(",")
}

// valueAlone reports whether toks[j] is a whole item of a VALUES list:
// between "(" or "," and "," or ")".
func valueAlone(toks []sql.PGToken, j int) bool {
	return j > 0 && j+1 < len(toks) && (toks[j-1].IsOp("(") || toks[j-1].IsOp(",")) &&
		(toks[j+1].IsOp(",") || toks[j+1].IsOp(")"))
}

func isNumericOID(oid uint32) bool {
	switch oid {
	case oidInt2, oidInt4, oidInt8, oidOID, oidFloat4, oidFloat8, oidNumeric:
		return true
	}
	return false
}

func isComparison(t sql.PGToken) bool {
	if t.Kind != sql.PGOp {
		return false
	}
	switch t.Val {
	case "=", "<>", "!=", "<", ">", "<=", ">=":
		return true
	}
	return false
}

// identName is the catalog name of an identifier token: unquoted names fold
// to upper case as in ksqlDB, quoted names keep their case.
func identName(t sql.PGToken) string { return t.Val }

// relationNames returns the names after FROM, JOIN and INTO.
func relationNames(toks []sql.PGToken) []string {
	var out []string
	for i := 0; i+1 < len(toks); i++ {
		if toks[i].IsKw("FROM") || toks[i].IsKw("JOIN") || toks[i].IsKw("INTO") {
			if n := toks[i+1]; n.Kind == sql.PGIdent || n.Kind == sql.PGQIdent {
				out = append(out, identName(n))
			}
		}
	}
	return out
}

// insertColumnParams maps the token index of each parameter in
// INSERT INTO s (a, b) VALUES ($1, $2) to the column token it fills, and
// of each quoted literal that is a whole value (VALUES ('1', 'x')).
func insertColumnParams(toks []sql.PGToken) map[int]sql.PGToken {
	out := map[int]sql.PGToken{}
	if len(toks) < 4 || !toks[0].IsKw("INSERT") || !toks[1].IsKw("INTO") {
		return out
	}
	i := 3
	if !toks[i].IsOp("(") {
		return out
	}
	var cols []sql.PGToken
	for i++; i < len(toks) && !toks[i].IsOp(")"); i++ {
		if !toks[i].IsOp(",") {
			cols = append(cols, toks[i])
		}
	}
	if i+2 >= len(toks) || !toks[i+1].IsKw("VALUES") || !toks[i+2].IsOp("(") {
		return out
	}
	pos := 0
	depth := 0
	for j := i + 3; j < len(toks); j++ {
		t := toks[j]
		switch {
		case t.IsOp("("):
			depth++
		case t.IsOp(")"):
			if depth == 0 {
				return out
			}
			depth--
		case t.IsOp(",") && depth == 0:
			pos++
		case t.Kind == sql.PGParam && pos < len(cols):
			out[j] = cols[pos]
		case t.Kind == sql.PGString && depth == 0 && pos < len(cols) && valueAlone(toks, j):
			// A literal that is the whole value (not an argument or an
			// operand) takes the column's type too.
			out[j] = cols[pos]
		}
	}
	return out
}

// bindParams replaces every $n token of text with the literal of value n
// (nil for NULL), rendered for the parameter's type.
func bindParams(text string, toks []sql.PGToken, types []uint32, values []*string) string {
	var b strings.Builder
	last := 0
	for _, t := range toks {
		if t.Kind != sql.PGParam {
			continue
		}
		k, _ := strconv.Atoi(t.Val)
		b.WriteString(text[last:t.Pos.Offset])
		var oid uint32 = oidText
		if k-1 < len(types) {
			oid = types[k-1]
		}
		var v *string
		if k-1 < len(values) {
			v = values[k-1]
		}
		b.WriteString(literal(oid, v))
		last = t.End
	}
	b.WriteString(text[last:])
	return b.String()
}

// literal renders a parameter value as a SQL literal of its type. Numbers
// are written bare only when they are well-formed numbers; anything else
// becomes a quoted string, which can never escape its quotes.
func literal(oid uint32, v *string) string {
	if v == nil {
		return "NULL"
	}
	s := *v
	switch oid {
	case oidBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "t", "true", "yes", "y", "on", "1":
			return "TRUE"
		case "f", "false", "no", "n", "off", "0":
			return "FALSE"
		}
	case oidInt2, oidInt4, oidInt8, oidOID, oidFloat4, oidFloat8, oidNumeric:
		if isNumber(strings.TrimSpace(s)) {
			return strings.TrimSpace(s)
		}
	}
	return quoteString(s)
}

// isNumber reports a plain decimal number: optional sign, digits, optional
// fraction and exponent.
func isNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' || s[0] == '+' {
		s = s[1:]
	}
	digits, dot, exp := 0, false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && !exp:
			dot = true
		case (c == 'e' || c == 'E') && digits > 0 && !exp:
			exp = true
			digits = 0
			if i+1 < len(s) && (s[i+1] == '-' || s[i+1] == '+') {
				i++
			}
		default:
			return false
		}
	}
	return digits > 0
}

// quoteString renders s as a single-quoted SQL string (” for a quote).
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
