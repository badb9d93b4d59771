package pgcatalog

import (
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/sql"
)

// The AST of the Postgres SELECT subset catalog queries use.

type query struct {
	selects []*selectStmt // joined by set operations
	setOps  []setOp       // len(selects)-1
	orderBy []orderItem
	limit   expr
	offset  expr
}

type setOp struct {
	kind string // UNION, INTERSECT, EXCEPT
	all  bool
}

type selectStmt struct {
	distinct bool
	items    []selectItem
	from     []fromItem // comma-separated: cross joined
	where    expr
	groupBy  []expr
	having   expr
}

type selectItem struct {
	star  string // "*" for all columns, "a" for a.*; "" for an expression
	e     expr
	alias string
}

type orderItem struct {
	e    expr
	desc bool
}

// fromItem is a relation, a table function, a subquery or a join.
type fromItem struct {
	schema, name string   // relation
	fn           *call    // table function
	sub          *query   // subquery
	alias        string   // "" = the name
	colAliases   []string // alias(a, b)
	join         *join
}

type join struct {
	kind        string // INNER, LEFT, CROSS
	left, right fromItem
	on          expr
}

type expr interface{}

type (
	literal struct{ v any }
	colRef  struct{ qual, name string }
	call    struct {
		name     string
		args     []expr
		star     bool // count(*)
		distinct bool
	}
	unary struct {
		op string
		x  expr
	}
	binary struct {
		op   string
		l, r expr
	}
	isExpr struct {
		x    expr
		not  bool
		what string // NULL, TRUE, FALSE
	}
	inExpr struct {
		x    expr
		not  bool
		list []expr
		sub  *query
	}
	quantified struct { // x op ANY|ALL (array or subquery)
		op  string
		x   expr
		all bool
		arr expr
		sub *query
	}
	caseExpr struct {
		operand expr
		whens   [][2]expr
		els     expr
	}
	castExpr struct {
		x   expr
		typ string // lower-case type name without schema; "[]" suffix for arrays
	}
	subquery struct{ q *query }
	exists   struct{ q *query }
	arrayOf  struct { // ARRAY[...] or ARRAY(subquery)
		elems []expr
		sub   *query
	}
	subscript struct{ x, idx expr }
	likeExpr  struct {
		x, pat  expr
		not, ci bool
	}
	between struct {
		x, lo, hi expr
		not       bool
	}
)

type parser struct {
	toks []sql.PGToken
	i    int
}

func (p *parser) peek() sql.PGToken { return p.at(0) }
func (p *parser) at(k int) sql.PGToken {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() sql.PGToken {
	t := p.peek()
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}
func (p *parser) kw(k string) bool {
	if p.peek().IsKw(k) {
		p.i++
		return true
	}
	return false
}
func (p *parser) op(o string) bool {
	if p.peek().IsOp(o) {
		p.i++
		return true
	}
	return false
}
func (p *parser) expectOp(o string) error {
	if !p.op(o) {
		return p.errf("expected %s", o)
	}
	return nil
}
func (p *parser) expectKw(k string) error {
	if !p.kw(k) {
		return p.errf("expected %s", k)
	}
	return nil
}

func (p *parser) errf(format string, args ...any) error {
	t := p.peek()
	what := "end of input"
	if t.Kind != sql.PGEOF {
		what = strconv.Quote(t.Text)
	}
	return sql.Errorf(sql.CodeSyntax, t.Pos, format+" at or near %s", append(args, what)...).
		WithHint("the Postgres compatibility layer understands the SELECT subset of catalog queries")
}

// name reads an identifier with Postgres folding (unquoted to lower case).
func (p *parser) name() (string, error) {
	t := p.peek()
	switch t.Kind {
	case sql.PGIdent:
		p.next()
		return strings.ToLower(t.Val), nil
	case sql.PGQIdent:
		p.next()
		return t.Val, nil
	}
	return "", p.errf("expected a name")
}

// reserved are keywords that end an expression or a FROM item, so they are
// never taken as an alias.
var reserved = map[string]bool{
	"FROM": true, "WHERE": true, "GROUP": true, "HAVING": true, "ORDER": true, "LIMIT": true,
	"OFFSET": true, "UNION": true, "INTERSECT": true, "EXCEPT": true, "JOIN": true, "LEFT": true,
	"RIGHT": true, "INNER": true, "FULL": true, "CROSS": true, "ON": true, "USING": true, "AND": true,
	"OR": true, "NOT": true, "AS": true, "SELECT": true, "THEN": true, "WHEN": true, "ELSE": true,
	"END": true, "IS": true, "IN": true, "LIKE": true, "ILIKE": true, "BETWEEN": true, "COLLATE": true,
	"ASC": true, "DESC": true, "NULLS": true, "FOR": true, "WINDOW": true, "ESCAPE": true,
}

func parseQuery(toks []sql.PGToken) (*query, error) {
	p := &parser{toks: toks}
	q, err := p.query()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.Kind != sql.PGEOF {
		return nil, p.errf("unexpected token")
	}
	return q, nil
}

func (p *parser) query() (*query, error) {
	q := &query{}
	for {
		s, err := p.selectStmt()
		if err != nil {
			return nil, err
		}
		q.selects = append(q.selects, s)
		t := p.peek()
		if !t.IsKw("UNION") && !t.IsKw("INTERSECT") && !t.IsKw("EXCEPT") {
			break
		}
		p.next()
		op := setOp{kind: t.Val}
		op.all = p.kw("ALL")
		p.kw("DISTINCT")
		q.setOps = append(q.setOps, op)
	}
	if p.kw("ORDER") {
		if err := p.expectKw("BY"); err != nil {
			return nil, err
		}
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			it := orderItem{e: e}
			if p.kw("DESC") {
				it.desc = true
			} else {
				p.kw("ASC")
			}
			if p.kw("NULLS") {
				if !p.kw("FIRST") && !p.kw("LAST") {
					return nil, p.errf("expected FIRST or LAST")
				}
			}
			q.orderBy = append(q.orderBy, it)
			if !p.op(",") {
				break
			}
		}
	}
	for {
		switch {
		case p.kw("LIMIT"):
			if p.kw("ALL") {
				continue
			}
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			q.limit = e
			continue
		case p.kw("OFFSET"):
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			q.offset = e
			p.kw("ROWS")
			continue
		}
		break
	}
	return q, nil
}

func (p *parser) selectStmt() (*selectStmt, error) {
	if p.peek().IsOp("(") && p.at(1).IsKw("SELECT") {
		// A parenthesized SELECT in a set operation.
		p.next()
		q, err := p.query()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		return &selectStmt{items: []selectItem{{star: "*"}}, from: []fromItem{{sub: q, alias: "_"}}}, nil
	}
	if err := p.expectKw("SELECT"); err != nil {
		return nil, err
	}
	s := &selectStmt{}
	if p.kw("DISTINCT") {
		s.distinct = true
	} else {
		p.kw("ALL")
	}
	for {
		it, err := p.selectItem()
		if err != nil {
			return nil, err
		}
		s.items = append(s.items, it)
		if !p.op(",") {
			break
		}
	}
	if p.kw("FROM") {
		for {
			f, err := p.fromItem()
			if err != nil {
				return nil, err
			}
			s.from = append(s.from, f)
			if !p.op(",") {
				break
			}
		}
	}
	var err error
	if p.kw("WHERE") {
		if s.where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if p.kw("GROUP") {
		if err := p.expectKw("BY"); err != nil {
			return nil, err
		}
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			s.groupBy = append(s.groupBy, e)
			if !p.op(",") {
				break
			}
		}
	}
	if p.kw("HAVING") {
		if s.having, err = p.expr(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (p *parser) selectItem() (selectItem, error) {
	if p.op("*") {
		return selectItem{star: "*"}, nil
	}
	if (p.peek().Kind == sql.PGIdent || p.peek().Kind == sql.PGQIdent) && p.at(1).IsOp(".") && p.at(2).IsOp("*") {
		q, _ := p.name()
		p.next()
		p.next()
		return selectItem{star: q}, nil
	}
	e, err := p.expr()
	if err != nil {
		return selectItem{}, err
	}
	it := selectItem{e: e}
	if p.kw("AS") {
		if it.alias, err = p.name(); err != nil {
			return it, err
		}
	} else if t := p.peek(); t.Kind == sql.PGQIdent || t.Kind == sql.PGIdent && !reserved[t.Val] {
		it.alias, _ = p.name()
	}
	return it, nil
}

func (p *parser) fromItem() (fromItem, error) {
	left, err := p.fromPrimary()
	if err != nil {
		return left, err
	}
	for {
		kind := ""
		switch {
		case p.kw("JOIN"):
			kind = "INNER"
		case p.peek().IsKw("INNER") && p.at(1).IsKw("JOIN"):
			p.i += 2
			kind = "INNER"
		case p.peek().IsKw("LEFT"):
			p.next()
			p.kw("OUTER")
			if err := p.expectKw("JOIN"); err != nil {
				return left, err
			}
			kind = "LEFT"
		case p.peek().IsKw("CROSS"):
			p.next()
			if err := p.expectKw("JOIN"); err != nil {
				return left, err
			}
			kind = "CROSS"
		default:
			return left, nil
		}
		right, err := p.fromPrimary()
		if err != nil {
			return left, err
		}
		j := &join{kind: kind, left: left, right: right}
		if kind != "CROSS" {
			if err := p.expectKw("ON"); err != nil {
				return left, err
			}
			if j.on, err = p.expr(); err != nil {
				return left, err
			}
		}
		left = fromItem{join: j}
	}
}

func (p *parser) fromPrimary() (fromItem, error) {
	var f fromItem
	if p.op("(") {
		if p.peek().IsKw("SELECT") {
			q, err := p.query()
			if err != nil {
				return f, err
			}
			f.sub = q
		} else {
			inner, err := p.fromItem()
			if err != nil {
				return f, err
			}
			f = inner
		}
		if err := p.expectOp(")"); err != nil {
			return f, err
		}
	} else {
		n, err := p.name()
		if err != nil {
			return f, err
		}
		if p.op(".") {
			f.schema = n
			if n, err = p.name(); err != nil {
				return f, err
			}
		}
		if p.peek().IsOp("(") {
			c, err := p.callArgs(n)
			if err != nil {
				return f, err
			}
			f.fn = c
			f.alias = n
		} else {
			f.name = n
		}
	}
	if p.kw("AS") {
		a, err := p.name()
		if err != nil {
			return f, err
		}
		f.alias = a
	} else if t := p.peek(); t.Kind == sql.PGQIdent || t.Kind == sql.PGIdent && !reserved[t.Val] {
		f.alias, _ = p.name()
	}
	if f.alias != "" && p.op("(") {
		for {
			a, err := p.name()
			if err != nil {
				return f, err
			}
			f.colAliases = append(f.colAliases, a)
			if !p.op(",") {
				break
			}
		}
		if err := p.expectOp(")"); err != nil {
			return f, err
		}
	}
	return f, nil
}

// Expressions, by Postgres precedence from loosest to tightest.

func (p *parser) expr() (expr, error) { return p.or() }

func (p *parser) or() (expr, error) {
	l, err := p.and()
	for err == nil && p.kw("OR") {
		var r expr
		if r, err = p.and(); err == nil {
			l = &binary{op: "OR", l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) and() (expr, error) {
	l, err := p.not()
	for err == nil && p.kw("AND") {
		var r expr
		if r, err = p.not(); err == nil {
			l = &binary{op: "AND", l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) not() (expr, error) {
	if p.kw("NOT") {
		x, err := p.not()
		return &unary{op: "NOT", x: x}, err
	}
	return p.is()
}

func (p *parser) is() (expr, error) {
	x, err := p.cmp()
	for err == nil && p.kw("IS") {
		ie := &isExpr{x: x}
		ie.not = p.kw("NOT")
		switch t := p.next(); {
		case t.IsKw("NULL"), t.IsKw("TRUE"), t.IsKw("FALSE"):
			ie.what = t.Val
		default:
			return nil, p.errf("expected NULL, TRUE or FALSE after IS")
		}
		x = ie
	}
	return x, err
}

func (p *parser) cmp() (expr, error) {
	l, err := p.other()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		not := false
		if t.IsKw("NOT") && (p.at(1).IsKw("IN") || p.at(1).IsKw("LIKE") || p.at(1).IsKw("ILIKE") || p.at(1).IsKw("BETWEEN")) {
			not = true
			p.next()
			t = p.peek()
		}
		switch {
		case t.Kind == sql.PGOp && (t.Val == "=" || t.Val == "<>" || t.Val == "!=" || t.Val == "<" || t.Val == ">" || t.Val == "<=" || t.Val == ">="):
			p.next()
			op := t.Val
			if op == "!=" {
				op = "<>"
			}
			if p.peek().IsKw("ANY") || p.peek().IsKw("SOME") || p.peek().IsKw("ALL") {
				all := p.next().IsKw("ALL")
				if err := p.expectOp("("); err != nil {
					return nil, err
				}
				qe := &quantified{op: op, x: l, all: all}
				if p.peek().IsKw("SELECT") {
					if qe.sub, err = p.query(); err != nil {
						return nil, err
					}
				} else if qe.arr, err = p.expr(); err != nil {
					return nil, err
				}
				if err := p.expectOp(")"); err != nil {
					return nil, err
				}
				l = qe
				continue
			}
			r, err := p.other()
			if err != nil {
				return nil, err
			}
			l = &binary{op: op, l: l, r: r}
		case t.IsKw("IN"):
			p.next()
			if err := p.expectOp("("); err != nil {
				return nil, err
			}
			in := &inExpr{x: l, not: not}
			if p.peek().IsKw("SELECT") {
				if in.sub, err = p.query(); err != nil {
					return nil, err
				}
			} else {
				for {
					e, err := p.expr()
					if err != nil {
						return nil, err
					}
					in.list = append(in.list, e)
					if !p.op(",") {
						break
					}
				}
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			l = in
		case t.IsKw("LIKE"), t.IsKw("ILIKE"):
			p.next()
			r, err := p.other()
			if err != nil {
				return nil, err
			}
			l = &likeExpr{x: l, pat: r, not: not, ci: t.IsKw("ILIKE")}
		case t.IsKw("BETWEEN"):
			p.next()
			lo, err := p.other()
			if err != nil {
				return nil, err
			}
			if err := p.expectKw("AND"); err != nil {
				return nil, err
			}
			hi, err := p.other()
			if err != nil {
				return nil, err
			}
			l = &between{x: l, lo: lo, hi: hi, not: not}
		default:
			return l, nil
		}
	}
}

// other parses the operators of "any other operator" precedence: the
// pattern matches, ||, and OPERATOR(schema.op).
func (p *parser) other() (expr, error) {
	l, err := p.add()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		var op string
		switch {
		case t.Kind == sql.PGOp && (t.Val == "~" || t.Val == "!~" || t.Val == "~*" || t.Val == "!~*" || t.Val == "||" ||
			t.Val == "~~" || t.Val == "!~~" || t.Val == "~~*" || t.Val == "!~~*"):
			p.next()
			op = t.Val
		case t.IsKw("OPERATOR") && p.at(1).IsOp("("):
			p.i += 2
			if (p.peek().Kind == sql.PGIdent || p.peek().Kind == sql.PGQIdent) && p.at(1).IsOp(".") {
				p.i += 2
			}
			o := p.next()
			if o.Kind != sql.PGOp {
				return nil, p.errf("expected an operator")
			}
			op = o.Val
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
		default:
			return l, nil
		}
		r, err := p.add()
		if err != nil {
			return nil, err
		}
		switch op {
		case "~~":
			l = &likeExpr{x: l, pat: r}
		case "!~~":
			l = &likeExpr{x: l, pat: r, not: true}
		case "~~*":
			l = &likeExpr{x: l, pat: r, ci: true}
		case "!~~*":
			l = &likeExpr{x: l, pat: r, ci: true, not: true}
		case "=", "<>", "!=", "<", ">", "<=", ">=":
			l = &binary{op: op, l: l, r: r}
		default:
			l = &binary{op: op, l: l, r: r}
		}
	}
}

func (p *parser) add() (expr, error) {
	l, err := p.mul()
	for err == nil && (p.peek().IsOp("+") || p.peek().IsOp("-")) {
		op := p.next().Val
		var r expr
		if r, err = p.mul(); err == nil {
			l = &binary{op: op, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) mul() (expr, error) {
	l, err := p.unaryMinus()
	for err == nil && (p.peek().IsOp("*") || p.peek().IsOp("/") || p.peek().IsOp("%")) {
		op := p.next().Val
		var r expr
		if r, err = p.unaryMinus(); err == nil {
			l = &binary{op: op, l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) unaryMinus() (expr, error) {
	if p.op("-") {
		x, err := p.unaryMinus()
		return &unary{op: "-", x: x}, err
	}
	if p.op("+") {
		return p.unaryMinus()
	}
	return p.postfix()
}

// postfix parses :: casts, subscripts and COLLATE (which changes nothing
// here: comparisons are bytewise, as in the C collation).
func (p *parser) postfix() (expr, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.op("::"):
			t, err := p.typeName()
			if err != nil {
				return nil, err
			}
			x = &castExpr{x: x, typ: t}
		case p.peek().IsOp("["):
			p.next()
			idx, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp("]"); err != nil {
				return nil, err
			}
			x = &subscript{x: x, idx: idx}
		case p.kw("COLLATE"):
			if _, err := p.name(); err != nil {
				return nil, err
			}
			if p.op(".") {
				if _, err := p.name(); err != nil {
					return nil, err
				}
			}
		default:
			return x, nil
		}
	}
}

// typeName reads a type name: [schema.]name, multi-word names, optional
// (modifiers) and [] for arrays. It returns the lower-case name.
func (p *parser) typeName() (string, error) {
	n, err := p.name()
	if err != nil {
		return "", err
	}
	if p.op(".") {
		if n, err = p.name(); err != nil {
			return "", err
		}
	}
	switch n {
	case "double":
		p.kw("PRECISION")
		n = "float8"
	case "character":
		if p.kw("VARYING") {
			n = "varchar"
		}
	case "timestamp", "time":
		if p.peek().IsKw("WITH") || p.peek().IsKw("WITHOUT") {
			with := p.next().IsKw("WITH")
			p.kw("TIME")
			p.kw("ZONE")
			if with {
				n += "tz"
			}
		}
	}
	if p.op("(") {
		for !p.peek().IsOp(")") && p.peek().Kind != sql.PGEOF {
			p.next()
		}
		if err := p.expectOp(")"); err != nil {
			return "", err
		}
	}
	for p.peek().IsOp("[") && p.at(1).IsOp("]") {
		p.i += 2
		n += "[]"
	}
	return n, nil
}

func (p *parser) primary() (expr, error) {
	t := p.peek()
	switch t.Kind {
	case sql.PGString:
		p.next()
		return &literal{v: t.Val}, nil
	case sql.PGNumber:
		p.next()
		if n, err := strconv.ParseInt(t.Val, 10, 64); err == nil {
			return &literal{v: n}, nil
		}
		f, err := strconv.ParseFloat(t.Val, 64)
		if err != nil {
			return nil, p.errf("bad number")
		}
		return &literal{v: f}, nil
	case sql.PGParam:
		return nil, p.errf("parameters are not supported in catalog queries")
	case sql.PGOp:
		if t.IsOp("(") {
			p.next()
			if p.peek().IsKw("SELECT") {
				q, err := p.query()
				if err != nil {
					return nil, err
				}
				if err := p.expectOp(")"); err != nil {
					return nil, err
				}
				return &subquery{q: q}, nil
			}
			x, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return x, nil
		}
		return nil, p.errf("unexpected operator")
	case sql.PGIdent:
		switch t.Val {
		case "NULL":
			p.next()
			return &literal{v: nil}, nil
		case "TRUE", "FALSE":
			p.next()
			return &literal{v: t.Val == "TRUE"}, nil
		case "CASE":
			p.next()
			return p.caseExpr()
		case "CAST":
			if p.at(1).IsOp("(") {
				p.i += 2
				x, err := p.expr()
				if err != nil {
					return nil, err
				}
				if err := p.expectKw("AS"); err != nil {
					return nil, err
				}
				typ, err := p.typeName()
				if err != nil {
					return nil, err
				}
				if err := p.expectOp(")"); err != nil {
					return nil, err
				}
				return &castExpr{x: x, typ: typ}, nil
			}
		case "EXISTS":
			if p.at(1).IsOp("(") {
				p.i += 2
				q, err := p.query()
				if err != nil {
					return nil, err
				}
				if err := p.expectOp(")"); err != nil {
					return nil, err
				}
				return &exists{q: q}, nil
			}
		case "ARRAY":
			if p.at(1).IsOp("[") {
				p.i += 2
				a := &arrayOf{}
				for !p.peek().IsOp("]") {
					e, err := p.expr()
					if err != nil {
						return nil, err
					}
					a.elems = append(a.elems, e)
					if !p.op(",") {
						break
					}
				}
				return a, p.expectOp("]")
			}
			if p.at(1).IsOp("(") {
				p.i += 2
				q, err := p.query()
				if err != nil {
					return nil, err
				}
				return &arrayOf{sub: q}, p.expectOp(")")
			}
		case "CURRENT_USER", "SESSION_USER", "USER", "CURRENT_CATALOG", "CURRENT_SCHEMA", "CURRENT_ROLE":
			if !p.at(1).IsOp("(") {
				p.next()
				return &call{name: strings.ToLower(t.Val)}, nil
			}
		}
	case sql.PGQIdent:
	default:
		return nil, p.errf("unexpected token")
	}
	// A name: a column (a, a.b) or a function call ([schema.]f(...)), or
	// a typed literal such as name 'x'.
	n, err := p.name()
	if err != nil {
		return nil, err
	}
	if p.peek().IsOp("(") {
		return p.callArgs(n)
	}
	if p.peek().Kind == sql.PGString && t.Kind == sql.PGIdent {
		s := p.next()
		return &castExpr{x: &literal{v: s.Val}, typ: n}, nil
	}
	if p.op(".") {
		m, err := p.name()
		if err != nil {
			return nil, err
		}
		if p.peek().IsOp("(") {
			return p.callArgs(m) // schema-qualified function: the schema is pg_catalog
		}
		return &colRef{qual: n, name: m}, nil
	}
	return &colRef{name: n}, nil
}

func (p *parser) callArgs(name string) (*call, error) {
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	c := &call{name: name}
	if p.op("*") {
		c.star = true
		return c, p.expectOp(")")
	}
	c.distinct = p.kw("DISTINCT")
	for !p.peek().IsOp(")") {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, e)
		if p.kw("ORDER") {
			// string_agg(x, ', ' ORDER BY x): the order is taken as given.
			if err := p.expectKw("BY"); err != nil {
				return nil, err
			}
			if _, err := p.expr(); err != nil {
				return nil, err
			}
			if !p.kw("DESC") {
				p.kw("ASC")
			}
		}
		if !p.op(",") {
			break
		}
	}
	return c, p.expectOp(")")
}

func (p *parser) caseExpr() (expr, error) {
	c := &caseExpr{}
	var err error
	if !p.peek().IsKw("WHEN") {
		if c.operand, err = p.expr(); err != nil {
			return nil, err
		}
	}
	for p.kw("WHEN") {
		w, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.expectKw("THEN"); err != nil {
			return nil, err
		}
		th, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.whens = append(c.whens, [2]expr{w, th})
	}
	if p.kw("ELSE") {
		if c.els, err = p.expr(); err != nil {
			return nil, err
		}
	}
	return c, p.expectKw("END")
}
