package sql

import (
	"strconv"
	"strings"
)

// Parse parses a script of one or more statements separated by semicolons.
// Statement texts and every position refer to script.
func Parse(script string) ([]Stmt, error) {
	toks, err := lexAll(script)
	if err != nil {
		return nil, err
	}
	var out []Stmt
	for _, r := range splitTokens(toks) {
		s, err := parseRange(script, toks, r)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// ParseOne parses exactly one statement; a trailing semicolon is optional.
func ParseOne(stmt string) (Stmt, error) {
	toks, err := lexAll(stmt)
	if err != nil {
		return nil, err
	}
	rs := splitTokens(toks)
	switch {
	case len(rs) == 0:
		return nil, Errorf(CodeSyntax, toks[len(toks)-1].Pos, "empty statement").
			WithHint("write a statement such as SHOW STREAMS")
	case len(rs) > 1:
		return nil, Errorf(CodeSyntax, toks[rs[1].lo].Pos, "expected one statement, found %d", len(rs)).
			WithHint("send one statement at a time, or use Parse for scripts")
	}
	return parseRange(stmt, toks, rs[0])
}

// parseRange parses the statement made of toks[r.lo:r.hi].
func parseRange(src string, toks []token, r tokRange) (Stmt, error) {
	p := &parser{src: src, toks: toks, i: r.lo, hi: r.hi}
	s, err := p.statement()
	if err != nil {
		return nil, err
	}
	if err := p.expectEnd(); err != nil {
		return nil, err
	}
	return s, nil
}

// parser is a recursive-descent parser over the tokens of one statement,
// toks[i:hi]. Reading at hi yields an EOF token placed at the statement's
// terminator, so "missing X" errors point just past the statement.
type parser struct {
	src  string
	toks []token
	i    int
	hi   int
}

func (p *parser) at(k int) token {
	if k < p.hi {
		return p.toks[k]
	}
	return token{Kind: tkEOF, Pos: p.toks[p.hi].Pos}
}

func (p *parser) peek() token { return p.at(p.i) }

func (p *parser) next() token {
	t := p.peek()
	if p.i < p.hi {
		p.i++
	}
	return t
}

func (p *parser) acceptKw(kw string) bool {
	if p.peek().isKw(kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) acceptOp(op string) bool {
	if p.peek().isOp(op) {
		p.i++
		return true
	}
	return false
}

func (p *parser) errAt(t token, hint, format string, args ...any) *Error {
	e := Errorf(CodeSyntax, t.Pos, format, args...)
	if hint != "" {
		e.Hint = hint
	}
	return e
}

func (p *parser) expectKw(kw, hint string) error {
	if !p.acceptKw(kw) {
		return p.errAt(p.peek(), hint, "expected %s, found %s", kw, p.peek().describe())
	}
	return nil
}

func (p *parser) expectOp(op, hint string) error {
	if !p.acceptOp(op) {
		return p.errAt(p.peek(), hint, "expected '%s', found %s", op, p.peek().describe())
	}
	return nil
}

func (p *parser) expectEnd() error {
	if t := p.peek(); t.Kind != tkEOF {
		return p.errAt(t, "end the statement with ';' before starting another", "unexpected %s", t.describe())
	}
	return nil
}

// name reads an identifier (quoted or not), folded.
func (p *parser) name(what string) (string, Pos, error) {
	t := p.peek()
	if t.Kind != tkIdent && t.Kind != tkQIdent {
		return "", Pos{}, p.errAt(t, "quote names that are keywords or contain special characters with backticks",
			"expected %s, found %s", what, t.describe())
	}
	p.i++
	return t.Val, t.Pos, nil
}

func (p *parser) base(start int) StmtBase {
	st := p.toks[start]
	end := p.toks[p.hi-1].End
	return StmtBase{Src: p.src[st.Pos.Offset:end], At: st.Pos}
}

var statementWords = []string{
	"CREATE", "INSERT", "SELECT", "SHOW", "LIST", "DESCRIBE", "EXPLAIN", "DROP",
	"TERMINATE", "SET", "UNSET", "DEFINE", "UNDEFINE",
}

var unsupportedWords = map[string]bool{
	"ALTER": true, "PRINT": true, "PAUSE": true, "RESUME": true, "ASSERT": true,
	"RUN": true, "LOAD": true, "RENAME": true, "EXPORT": true,
}

func (p *parser) statement() (Stmt, error) {
	start := p.i
	t := p.peek()
	if t.Kind != tkIdent {
		return nil, p.errAt(t, "a statement starts with a keyword such as CREATE, SELECT or INSERT",
			"expected a statement, found %s", t.describe())
	}
	switch t.Val {
	case "CREATE":
		return p.create(start)
	case "INSERT":
		return p.insert(start)
	case "SELECT":
		sel, err := p.selectRest(true)
		if err != nil {
			return nil, err
		}
		return &Query{StmtBase: p.base(start), Select: sel}, nil
	case "SHOW", "LIST":
		return p.show(start)
	case "DESCRIBE":
		return p.describe(start)
	case "EXPLAIN":
		return p.explain(start)
	case "DROP":
		return p.drop(start)
	case "TERMINATE":
		p.i++
		if p.acceptKw("ALL") {
			return &Terminate{StmtBase: p.base(start), All: true}, nil
		}
		id, _, err := p.name("a query id")
		if err != nil {
			return nil, err
		}
		return &Terminate{StmtBase: p.base(start), QueryID: strings.ToUpper(id)}, nil
	case "SET":
		p.i++
		k, err := p.stringLit("a property name in quotes", "write SET 'property' = 'value'")
		if err != nil {
			return nil, err
		}
		if err := p.expectOp("=", "write SET 'property' = 'value'"); err != nil {
			return nil, err
		}
		v, err := p.stringLit("a property value in quotes", "write SET 'property' = 'value'")
		if err != nil {
			return nil, err
		}
		return &SetProperty{StmtBase: p.base(start), Name: k, Value: v}, nil
	case "UNSET":
		p.i++
		k, err := p.stringLit("a property name in quotes", "write UNSET 'property'")
		if err != nil {
			return nil, err
		}
		return &UnsetProperty{StmtBase: p.base(start), Name: k}, nil
	case "DEFINE":
		p.i++
		n, err := p.variableName()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp("=", "write DEFINE name = 'value'"); err != nil {
			return nil, err
		}
		v, err := p.stringLit("a value in single quotes", "write DEFINE name = 'value'")
		if err != nil {
			return nil, err
		}
		return &DefineVariable{StmtBase: p.base(start), Name: n, Value: v}, nil
	case "UNDEFINE":
		p.i++
		n, err := p.variableName()
		if err != nil {
			return nil, err
		}
		return &UndefineVariable{StmtBase: p.base(start), Name: n}, nil
	}
	if unsupportedWords[t.Val] {
		return nil, Errorf(CodeFeatureNotSupported, t.Pos, "%s statements are not supported", t.Val)
	}
	e := p.errAt(t, "", "unknown statement %s", t.describe())
	if s := closestWord(t.Val, statementWords); s != "" {
		e.Hint = "did you mean " + s + "?"
	}
	return nil, e
}

// variableName reads a DEFINE/UNDEFINE name: [A-Za-z_][A-Za-z0-9_]*, kept
// as written (variable names are case-sensitive in substitution).
func (p *parser) variableName() (string, error) {
	t := p.peek()
	if t.Kind != tkIdent || strings.Contains(t.Text, "@") || isDigit(t.Text[0]) {
		return "", p.errAt(t, "variable names are letters, digits and '_'", "expected a variable name, found %s", t.describe())
	}
	p.i++
	return t.Text, nil
}

func (p *parser) stringLit(what, hint string) (string, error) {
	t := p.peek()
	if t.Kind != tkString {
		return "", p.errAt(t, hint, "expected %s, found %s", what, t.describe())
	}
	p.i++
	return t.Val, nil
}

// closestWord returns the candidate within edit distance 2 of w, if any.
func closestWord(w string, cands []string) string {
	best, bestD := "", 3
	for _, c := range cands {
		if d := editDistance(w, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			c = min(c, prev[j]+1, cur[j-1]+1)
			cur[j] = c
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (p *parser) create(start int) (Stmt, error) {
	p.i++ // CREATE
	orReplace := false
	if p.acceptKw("OR") {
		if err := p.expectKw("REPLACE", "write CREATE OR REPLACE"); err != nil {
			return nil, err
		}
		orReplace = true
	}
	source := p.acceptKw("SOURCE")
	t := p.peek()
	var kind SourceKind
	switch {
	case t.isKw("STREAM"):
		kind = KindStream
	case t.isKw("TABLE"):
		kind = KindTable
	case t.isKw("TYPE") && !orReplace && !source:
		return p.createType(start)
	case t.isKw("CONNECTOR") || t.isKw("SINK"):
		return nil, Errorf(CodeFeatureNotSupported, t.Pos, "connectors are not supported")
	default:
		return nil, p.errAt(t, "write CREATE STREAM, CREATE TABLE or CREATE TYPE", "expected STREAM or TABLE, found %s", t.describe())
	}
	p.i++
	cs := &CreateSource{Kind: kind, OrReplace: orReplace, Source: source}
	if p.acceptKw("IF") {
		if err := p.expectKw("NOT", "write IF NOT EXISTS"); err != nil {
			return nil, err
		}
		if err := p.expectKw("EXISTS", "write IF NOT EXISTS"); err != nil {
			return nil, err
		}
		cs.IfNotExists = true
	}
	var err error
	if cs.Name, cs.NameAt, err = p.name("a " + strings.ToLower(kind.String()) + " name"); err != nil {
		return nil, err
	}
	if p.peek().isOp("(") {
		p.i++
		cols, err := p.columns()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(")", "expected ')' after the column list"); err != nil {
			return nil, err
		}
		if cols == nil {
			cols = []ColumnDef{}
		}
		cs.Columns = cols
	}
	if p.peek().isKw("WITH") {
		if cs.With, err = p.properties(); err != nil {
			return nil, err
		}
	}
	if asTok := p.peek(); asTok.isKw("AS") {
		p.i++
		if cs.Columns != nil {
			return nil, p.errAt(asTok, "drop the column list: the columns of CREATE ... AS SELECT come from the query",
				"a column list cannot be combined with AS SELECT")
		}
		if source {
			return nil, p.errAt(asTok, "CREATE SOURCE declares a source over a topic; drop SOURCE to create from a query",
				"CREATE SOURCE cannot be combined with AS SELECT")
		}
		if !p.peek().isKw("SELECT") {
			return nil, p.errAt(p.peek(), "write AS SELECT ...", "expected SELECT, found %s", p.peek().describe())
		}
		if cs.Query, err = p.selectRest(false); err != nil {
			return nil, err
		}
	}
	cs.StmtBase = p.base(start)
	return cs, nil
}

func (p *parser) createType(start int) (Stmt, error) {
	p.i++ // TYPE
	ct := &CreateType{}
	if p.acceptKw("IF") {
		if err := p.expectKw("NOT", "write IF NOT EXISTS"); err != nil {
			return nil, err
		}
		if err := p.expectKw("EXISTS", "write IF NOT EXISTS"); err != nil {
			return nil, err
		}
		ct.IfNotExists = true
	}
	var err error
	if ct.Name, _, err = p.name("a type name"); err != nil {
		return nil, err
	}
	if err := p.expectKw("AS", "write CREATE TYPE name AS type"); err != nil {
		return nil, err
	}
	if ct.Type, p.i, err = parseTypeToks(p.toks, p.i, p.hi); err != nil {
		return nil, err
	}
	ct.StmtBase = p.base(start)
	return ct, nil
}

// columns parses col_def, ... up to (not including) the closing ')'.
func (p *parser) columns() ([]ColumnDef, error) {
	var cols []ColumnDef
	if p.peek().isOp(")") {
		return nil, nil
	}
	for {
		var c ColumnDef
		var err error
		if c.Name, c.At, err = p.name("a column name"); err != nil {
			return nil, err
		}
		if c.Type, p.i, err = parseTypeToks(p.toks, p.i, p.hi); err != nil {
			return nil, err
		}
		switch t := p.peek(); {
		case t.isKw("KEY"):
			p.i++
			c.Constraint = ColKey
		case t.isKw("PRIMARY"):
			p.i++
			if err := p.expectKw("KEY", "write PRIMARY KEY"); err != nil {
				return nil, err
			}
			c.Constraint = ColPrimaryKey
		case t.isKw("HEADERS"):
			p.i++
			c.Constraint = ColHeaders
		case t.isKw("HEADER"):
			p.i++
			const hint = "write HEADER('header key')"
			if err := p.expectOp("(", hint); err != nil {
				return nil, err
			}
			if c.HeaderKey, err = p.stringLit("a header key in quotes", hint); err != nil {
				return nil, err
			}
			if err := p.expectOp(")", hint); err != nil {
				return nil, err
			}
			c.Constraint = ColHeader
		}
		cols = append(cols, c)
		if !p.acceptOp(",") {
			if t := p.peek(); !t.isOp(")") && t.Kind != tkEOF {
				return nil, p.errAt(t, "separate columns with ',' and write the constraint (KEY, PRIMARY KEY, HEADERS) after the type",
					"unexpected %s in column definition", t.describe())
			}
			return cols, nil
		}
	}
}

// properties parses WITH (key = literal, ...).
func (p *parser) properties() (Properties, error) {
	p.i++ // WITH
	const hint = "write WITH (KAFKA_TOPIC='topic', VALUE_FORMAT='JSON')"
	if err := p.expectOp("(", hint); err != nil {
		return nil, err
	}
	var ps Properties
	for {
		k := p.peek()
		var key string
		switch k.Kind {
		case tkIdent, tkQIdent, tkString:
			key = strings.ToUpper(k.Val)
		default:
			return nil, p.errAt(k, hint, "expected a property name, found %s", k.describe())
		}
		p.i++
		if ps.Get(key) != nil {
			return nil, p.errAt(k, "give each property once", "duplicate property %s", key)
		}
		if err := p.expectOp("=", hint); err != nil {
			return nil, err
		}
		v, err := p.propertyValue()
		if err != nil {
			return nil, err
		}
		ps = append(ps, Property{Key: key, Value: v, At: k.Pos})
		if p.acceptOp(",") {
			continue
		}
		if err := p.expectOp(")", "separate properties with ',' and close the list with ')'"); err != nil {
			return nil, err
		}
		return ps, nil
	}
}

func (p *parser) propertyValue() (*Literal, error) {
	t := p.peek()
	neg := ""
	if t.isOp("-") && (p.at(p.i+1).Kind == tkInt || p.at(p.i+1).Kind == tkDecimal || p.at(p.i+1).Kind == tkDouble) {
		p.i++
		neg = "-"
	}
	v := p.next()
	lit := &Literal{ExprBase: ExprBase{At: t.Pos}}
	switch {
	case v.Kind == tkString:
		lit.Kind, lit.Text = LitString, v.Val
	case v.Kind == tkInt:
		lit.Kind, lit.Text = LitInt, neg+v.Text
		if _, err := strconv.ParseInt(lit.Text, 10, 64); err != nil {
			return nil, p.errAt(v, "integers must fit in 64 bits", "invalid numeric literal %s", v.Text)
		}
	case v.Kind == tkDecimal:
		lit.Kind, lit.Text = LitDecimal, neg+v.Text
	case v.Kind == tkDouble:
		lit.Kind, lit.Text = LitDouble, neg+v.Text
	case v.isKw("TRUE") || v.isKw("FALSE"):
		lit.Kind, lit.Text = LitBool, v.Val
	case v.Kind == tkIdent && neg == "":
		return nil, p.errAt(v, "quote the value: '"+v.Text+"'", "property values must be literals, found %s", v.describe())
	default:
		return nil, p.errAt(v, "property values are strings, numbers or booleans", "expected a property value, found %s", v.describe())
	}
	return lit, nil
}

func (p *parser) insert(start int) (Stmt, error) {
	p.i++ // INSERT
	if err := p.expectKw("INTO", "write INSERT INTO name ..."); err != nil {
		return nil, err
	}
	target, targetAt, err := p.name("a stream or table name")
	if err != nil {
		return nil, err
	}
	var cols []Ident
	if p.peek().isOp("(") {
		p.i++
		for {
			n, at, err := p.name("a column name")
			if err != nil {
				return nil, err
			}
			cols = append(cols, Ident{ExprBase: ExprBase{At: at}, Name: n})
			if p.acceptOp(",") {
				continue
			}
			if err := p.expectOp(")", "expected ')' after the column list"); err != nil {
				return nil, err
			}
			break
		}
	}
	if t := p.peek(); t.isKw("VALUES") {
		p.i++
		open := p.peek()
		if !open.isOp("(") {
			return nil, p.errAt(open, "write VALUES (value, ...)", "expected '(', found %s", open.describe())
		}
		x := &translator{toks: p.toks}
		j, err := x.match(p.i, p.hi)
		if err != nil {
			return nil, err
		}
		var vals []Expr
		if j > p.i+1 {
			if vals, err = x.exprList(p.i+1, j); err != nil {
				return nil, err
			}
		}
		p.i = j + 1
		return &InsertValues{StmtBase: p.base(start), Target: target, TargetAt: targetAt, Columns: cols, Values: vals}, nil
	}
	if cols != nil {
		return nil, p.errAt(p.peek(), "a column list is only allowed with VALUES", "expected VALUES, found %s", p.peek().describe())
	}
	ins := &InsertInto{Target: target, TargetAt: targetAt}
	if p.peek().isKw("WITH") {
		if ins.With, err = p.properties(); err != nil {
			return nil, err
		}
	}
	if !p.peek().isKw("SELECT") {
		return nil, p.errAt(p.peek(), "write INSERT INTO name SELECT ... or INSERT INTO name (cols) VALUES (...)",
			"expected SELECT or VALUES, found %s", p.peek().describe())
	}
	if ins.Query, err = p.selectRest(false); err != nil {
		return nil, err
	}
	ins.StmtBase = p.base(start)
	return ins, nil
}

var showWords = map[string]ShowWhat{
	"STREAMS": ShowStreams, "TABLES": ShowTables, "QUERIES": ShowQueries, "TOPICS": ShowTopics,
	"PROPERTIES": ShowProperties, "FUNCTIONS": ShowFunctions, "TYPES": ShowTypes, "VARIABLES": ShowVariables,
}

func (p *parser) show(start int) (Stmt, error) {
	p.i++
	all := p.acceptKw("ALL")
	t := p.peek()
	what, ok := showWords[t.Val]
	if t.Kind != tkIdent || !ok || all && what != ShowTopics {
		if t.isKw("CONNECTORS") || t.isKw("SOURCE") || t.isKw("SINK") || t.isKw("CONNECTOR") {
			return nil, Errorf(CodeFeatureNotSupported, t.Pos, "connectors are not supported")
		}
		return nil, p.errAt(t, "SHOW lists STREAMS, TABLES, QUERIES, TOPICS, PROPERTIES, FUNCTIONS, TYPES or VARIABLES",
			"unexpected %s after SHOW", t.describe())
	}
	p.i++
	s := &Show{What: what}
	if p.peek().isKw("EXTENDED") {
		switch what {
		case ShowStreams, ShowTables, ShowQueries, ShowTopics:
			p.i++
			s.Extended = true
		}
	}
	s.StmtBase = p.base(start)
	return s, nil
}

func (p *parser) describe(start int) (Stmt, error) {
	p.i++
	d := &Describe{}
	t := p.peek()
	var err error
	switch {
	case t.isKw("FUNCTION") && (p.at(p.i+1).Kind == tkIdent || p.at(p.i+1).Kind == tkQIdent):
		p.i++
		d.Function = true
		if d.Name, d.NameAt, err = p.name("a function name"); err != nil {
			return nil, err
		}
		d.Name = strings.ToUpper(d.Name)
		d.StmtBase = p.base(start)
		return d, nil
	case t.isKw("CONNECTOR"):
		return nil, Errorf(CodeFeatureNotSupported, t.Pos, "connectors are not supported")
	case t.isKw("STREAMS") && p.at(p.i+1).Kind != tkIdent || t.isKw("STREAMS") && p.at(p.i+1).isKw("EXTENDED"):
		p.i++
		d.All = ShowStreams
	case t.isKw("TABLES") && p.at(p.i+1).Kind != tkIdent || t.isKw("TABLES") && p.at(p.i+1).isKw("EXTENDED"):
		p.i++
		d.All = ShowTables
	default:
		if d.Name, d.NameAt, err = p.name("a stream or table name"); err != nil {
			return nil, err
		}
	}
	d.Extended = p.acceptKw("EXTENDED")
	d.StmtBase = p.base(start)
	return d, nil
}

func (p *parser) explain(start int) (Stmt, error) {
	p.i++
	t := p.peek()
	if t.Kind == tkIdent && (t.Val == "SELECT" || t.Val == "CREATE" || t.Val == "INSERT") {
		inner, err := p.statement()
		if err != nil {
			return nil, err
		}
		return &Explain{StmtBase: p.base(start), Stmt: inner}, nil
	}
	id, _, err := p.name("a statement or a query id")
	if err != nil {
		return nil, err
	}
	return &Explain{StmtBase: p.base(start), QueryID: strings.ToUpper(id)}, nil
}

func (p *parser) drop(start int) (Stmt, error) {
	p.i++
	d := &Drop{}
	t := p.peek()
	switch {
	case t.isKw("STREAM"):
		d.Kind = KindStream
	case t.isKw("TABLE"):
		d.Kind = KindTable
	case t.isKw("TYPE"):
		d.Type = true
	case t.isKw("CONNECTOR"):
		return nil, Errorf(CodeFeatureNotSupported, t.Pos, "connectors are not supported")
	default:
		return nil, p.errAt(t, "write DROP STREAM, DROP TABLE or DROP TYPE", "expected STREAM, TABLE or TYPE, found %s", t.describe())
	}
	p.i++
	if p.acceptKw("IF") {
		if err := p.expectKw("EXISTS", "write IF EXISTS"); err != nil {
			return nil, err
		}
		d.IfExists = true
	}
	var err error
	if d.Name, d.NameAt, err = p.name("a name"); err != nil {
		return nil, err
	}
	if !d.Type && p.acceptKw("DELETE") {
		if err := p.expectKw("TOPIC", "write DELETE TOPIC"); err != nil {
			return nil, err
		}
		d.DeleteTopic = true
	}
	d.StmtBase = p.base(start)
	return d, nil
}

// durationUnits maps unit words to milliseconds.
var durationUnits = map[string]int64{
	"MILLISECOND": 1, "MILLISECONDS": 1,
	"SECOND": 1000, "SECONDS": 1000,
	"MINUTE": 60_000, "MINUTES": 60_000,
	"HOUR": 3_600_000, "HOURS": 3_600_000,
	"DAY": 86_400_000, "DAYS": 86_400_000,
}

// duration parses `N unit`.
func (p *parser) duration() (Duration, error) {
	n := p.peek()
	if n.Kind != tkInt {
		return Duration{}, p.errAt(n, "write a duration such as 10 SECONDS", "expected a duration, found %s", n.describe())
	}
	p.i++
	u := p.peek()
	mul, ok := durationUnits[u.Val]
	if u.Kind != tkIdent || !ok {
		return Duration{}, p.errAt(u, "units are MILLISECONDS, SECONDS, MINUTES, HOURS and DAYS", "expected a time unit, found %s", u.describe())
	}
	p.i++
	v, err := strconv.ParseInt(n.Text, 10, 64)
	if err != nil || v > (1<<62)/mul {
		return Duration{}, p.errAt(n, "use a smaller duration", "duration %s %s is too large", n.Text, u.Val)
	}
	return Duration{Millis: v * mul, At: n.Pos}, nil
}
