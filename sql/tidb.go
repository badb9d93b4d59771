package sql

import (
	"strconv"
	"strings"
	"sync"

	tidb "github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// A TiDB parser is not safe for concurrent use; keep a pool.
var tidbParsers = sync.Pool{New: func() any {
	p := tidb.New()
	// ANSI_QUOTES: "x" is an identifier. NO_BACKSLASH_ESCAPES: ksqlDB
	// strings take backslashes literally (the translator re-quotes every
	// string anyway, but the mode keeps TiDB's reading identical).
	p.SetSQLMode(mysql.ModeANSIQuotes | mysql.ModeNoBackslashEscapes)
	return p
}}

// tidbSelect parses translated text with TiDB and returns the SELECT.
func tidbSelect(a *assembled) (*ast.SelectStmt, error) {
	p := tidbParsers.Get().(*tidb.Parser)
	defer tidbParsers.Put(p)
	stmts, _, err := p.Parse(a.text, "", "")
	if err != nil {
		return nil, tidbError(a, err)
	}
	if len(stmts) != 1 {
		return nil, Errorf(CodeSyntax, a.end, "unexpected text after the statement")
	}
	sel, ok := stmts[0].(*ast.SelectStmt)
	if !ok {
		return nil, Errorf(CodeSyntax, a.end, "unexpected statement form")
	}
	return sel, nil
}

// tidbError turns a TiDB syntax error into an *Error at the original
// position. TiDB's message has the form `line L column C near "REST"`,
// where REST is the translated text from the offending token on (cut at
// 2048 bytes); the offending offset is where that suffix starts.
func tidbError(a *assembled, err error) error {
	msg := err.Error()
	off := len(a.text)
	if k := strings.Index(msg, `near "`); k >= 0 {
		rest := msg[k+len(`near "`):]
		for o := 0; o <= len(a.text); o++ {
			suffix := a.text[o:]
			if len(suffix) > 2048 {
				suffix = suffix[:2048]
			}
			if strings.HasPrefix(rest, suffix+`"`) {
				off = o
				break
			}
		}
	}
	pos := a.posAt(off)
	i := a.segAt(off)
	if i < 0 {
		return Errorf(CodeSyntax, pos, "unexpected end of statement").
			WithHint("the statement is incomplete")
	}
	near := a.segs[i]
	what := "'" + near.text + "'"
	if near.tok != nil {
		what = near.tok.describe()
	}
	return Errorf(CodeSyntax, pos, "syntax error at or near %s", what).
		WithHint("check the expression syntax near line %d:%d", pos.Line, pos.Col)
}

// buildSelect translates the parts of a query, parses them with TiDB and
// fills sel.
func (x *translator) buildSelect(sel *Select, q *selectParts, end Pos) error {
	kw := func(r tokRange, back int) Pos { return x.toks[r.lo-back].Pos }
	segs := []seg{{text: "SELECT", at: sel.At}}
	items, err := x.seq(q.items.lo, q.items.hi)
	if err != nil {
		return err
	}
	segs = append(segs, items...)
	f := q.from
	segs = append(segs, seg{text: "FROM", at: f.sources[0].At})
	source := func(s *SourceRef) {
		segs = append(segs, seg{text: quoteBacktick(s.Name), at: s.At})
		if s.Alias != "" {
			segs = append(segs, seg{text: "AS " + quoteBacktick(s.Alias), at: s.At})
		}
	}
	source(f.sources[0])
	for k, j := range f.joins {
		kwText := map[JoinKind]string{JoinInner: "JOIN", JoinLeft: "LEFT JOIN", JoinRight: "RIGHT JOIN", JoinFull: "STRAIGHT_JOIN"}[j.kind]
		segs = append(segs, seg{text: kwText, at: j.at})
		source(f.sources[k+1])
		on, err := x.seq(j.on.lo, j.on.hi)
		if err != nil {
			return err
		}
		segs = append(segs, seg{text: "ON", at: kw(j.on, 1)})
		segs = append(segs, on...)
	}
	add := func(r *tokRange, text string, back int) error {
		if r == nil {
			return nil
		}
		segs = append(segs, seg{text: text, at: kw(*r, back)})
		if back == 1 {
			s, err := x.seq(r.lo, r.hi)
			if err != nil {
				return err
			}
			segs = append(segs, s...)
			return nil
		}
		// GROUP BY / ORDER BY: TiDB reads a bare integer item as a column
		// position (with no source offset); ksqlDB reads a constant, so
		// such items are parenthesized.
		items, err := x.splitTop(r.lo, r.hi, isComma)
		if err != nil {
			return err
		}
		for k, it := range items {
			if k > 0 {
				segs = append(segs, seg{text: ",", at: x.toks[it.lo-1].Pos})
			}
			s, err := x.seq(it.lo, it.hi)
			if err != nil {
				return err
			}
			if it.hi == it.lo+1 && x.toks[it.lo].Kind == tkInt {
				segs = append(segs, seg{text: "(", at: x.toks[it.lo].Pos})
				segs = append(segs, s...)
				segs = append(segs, seg{text: ")", at: x.toks[it.lo].Pos})
				continue
			}
			segs = append(segs, s...)
		}
		return nil
	}
	if err := add(q.where, "WHERE", 1); err != nil {
		return err
	}
	if err := add(q.group, "GROUP BY", 2); err != nil {
		return err
	}
	if err := add(q.having, "HAVING", 1); err != nil {
		return err
	}
	// ksqlDB has no ORDER BY, so TiDB's ORDER BY carries PARTITION BY.
	if err := add(q.partition, "ORDER BY", 2); err != nil {
		return err
	}
	a := assemble(segs, end)
	ts, err := tidbSelect(a)
	if err != nil {
		return err
	}
	c := &converter{a: a, x: x}
	if ts.Distinct {
		return Errorf(CodeFeatureNotSupported, sel.At, "SELECT DISTINCT is not supported")
	}
	if sel.Items, err = c.fields(ts.Fields); err != nil {
		return err
	}
	var ons []ast.ExprNode
	if ts.From != nil {
		collectOns(ts.From.TableRefs, &ons)
	}
	if len(ons) != len(f.joins) {
		return Errorf(CodeSyntax, f.sources[0].At, "malformed FROM clause").WithHint("write FROM a JOIN b ON a.x = b.y")
	}
	var rel Relation = f.sources[0]
	for k, j := range f.joins {
		on, err := c.expr(ons[k])
		if err != nil {
			return err
		}
		rel = &Join{Kind: j.kind, Left: rel, Right: f.sources[k+1], Within: j.within, On: on, At: j.at}
	}
	sel.From = rel
	if ts.Where != nil {
		if sel.Where, err = c.expr(ts.Where); err != nil {
			return err
		}
	}
	if ts.GroupBy != nil {
		if sel.GroupBy, err = c.byItems(ts.GroupBy.Items); err != nil {
			return err
		}
	}
	if ts.Having != nil {
		if sel.Having, err = c.expr(ts.Having.Expr); err != nil {
			return err
		}
	}
	if ts.OrderBy != nil {
		if sel.PartitionBy, err = c.byItems(ts.OrderBy.Items); err != nil {
			return err
		}
	}
	return nil
}

// collectOns appends the ON conditions of a left-deep join tree in text
// order.
func collectOns(n ast.ResultSetNode, out *[]ast.ExprNode) {
	j, ok := n.(*ast.Join)
	if !ok {
		return
	}
	collectOns(j.Left, out)
	if j.Right != nil {
		if j.On != nil {
			*out = append(*out, j.On.Expr)
		} else {
			*out = append(*out, nil)
		}
	}
}

// exprList parses a comma-separated list of expressions in [lo, hi).
func (x *translator) exprList(lo, hi int) ([]Expr, error) {
	segs, err := x.seq(lo, hi)
	if err != nil {
		return nil, err
	}
	a := assemble(append([]seg{{text: "SELECT", at: x.toks[lo].Pos}}, segs...), x.endPos(hi))
	ts, err := tidbSelect(a)
	if err != nil {
		return nil, err
	}
	c := &converter{a: a, x: x}
	var out []Expr
	for _, f := range ts.Fields.Fields {
		at := a.posAt(f.Offset)
		if f.WildCard != nil || f.AsName.O != "" {
			return nil, Errorf(CodeSyntax, at, "expected an expression").WithHint("separate values with ','")
		}
		e, err := c.expr(f.Expr)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// converter turns TiDB expression nodes into this package's AST.
type converter struct {
	a *assembled
	x *translator
}

func (c *converter) pos(n ast.Node) Pos { return c.a.posAt(n.OriginTextPosition()) }

func (c *converter) fields(fl *ast.FieldList) ([]SelectItem, error) {
	var items []SelectItem
	for _, f := range fl.Fields {
		at := c.a.posAt(f.Offset)
		if f.WildCard != nil {
			if f.WildCard.Schema.O != "" {
				return nil, Errorf(CodeSyntax, at, "unexpected qualified star").WithHint("write * or alias.*")
			}
			items = append(items, SelectItem{Star: true, Qualifier: f.WildCard.Table.O, At: at})
			continue
		}
		if fc, ok := f.Expr.(*ast.FuncCallExpr); ok && fc.FnName.O == phDerefStar {
			if len(fc.Args) != 1 || f.AsName.O != "" {
				return nil, Errorf(CodeSyntax, at, "malformed ->*").WithHint("write struct_column->* without an alias")
			}
			x, err := c.expr(fc.Args[0])
			if err != nil {
				return nil, err
			}
			items = append(items, SelectItem{Star: true, Expr: x, At: at})
			continue
		}
		e, err := c.expr(f.Expr)
		if err != nil {
			return nil, err
		}
		items = append(items, SelectItem{Expr: e, Alias: f.AsName.O, At: at})
	}
	return items, nil
}

// byItems converts GROUP BY / PARTITION BY items; `(a, b)` is two items.
func (c *converter) byItems(items []*ast.ByItem) ([]Expr, error) {
	var out []Expr
	for _, it := range items {
		if it.Desc {
			return nil, Errorf(CodeSyntax, c.pos(it.Expr), "unexpected DESC").WithHint("grouping and partitioning have no order")
		}
		if row, ok := it.Expr.(*ast.RowExpr); ok && len(items) == 1 {
			for _, v := range row.Values {
				e, err := c.expr(v)
				if err != nil {
					return nil, err
				}
				out = append(out, e)
			}
			continue
		}
		e, err := c.expr(it.Expr)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

var binaryOps = map[opcode.Op]string{
	opcode.LogicAnd: "AND", opcode.LogicOr: "OR", opcode.GE: ">=", opcode.LE: "<=",
	opcode.EQ: "=", opcode.NE: "<>", opcode.LT: "<", opcode.GT: ">", opcode.Plus: "+",
	opcode.Minus: "-", opcode.Mul: "*", opcode.Div: "/", opcode.Mod: "%", opcode.Or: "||",
}

func (c *converter) unsupported(n ast.Node, what string) error {
	return Errorf(CodeSyntax, c.pos(n), "%s is not supported", what).
		WithHint("see the ksqlDB expression syntax")
}

func (c *converter) exprs(ns []ast.ExprNode) ([]Expr, error) {
	out := make([]Expr, 0, len(ns))
	for _, n := range ns {
		e, err := c.expr(n)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// literal builds the literal for the original token tok, with an optional
// leading minus sign.
func literal(tok *token, at Pos, neg bool) (*Literal, error) {
	l := &Literal{ExprBase: ExprBase{At: at}}
	sign := ""
	if neg {
		sign = "-"
	}
	switch {
	case tok.Kind == tkInt:
		l.Kind, l.Text = LitInt, sign+tok.Text
		if _, err := strconv.ParseInt(l.Text, 10, 64); err != nil {
			return nil, Errorf(CodeSyntax, at, "invalid numeric literal %s", l.Text).
				WithHint("integer literals must fit in a BIGINT; write a DECIMAL such as %s.0 for larger values", l.Text)
		}
	case tok.Kind == tkDecimal:
		l.Kind, l.Text = LitDecimal, sign+tok.Text
	case tok.Kind == tkDouble:
		l.Kind, l.Text = LitDouble, sign+tok.Text
	case neg:
		return nil, nil
	case tok.Kind == tkString:
		l.Kind, l.Text = LitString, tok.Val
	case tok.isKw("TRUE") || tok.isKw("FALSE"):
		l.Kind, l.Text = LitBool, tok.Val
	case tok.isKw("NULL"):
		l.Kind = LitNull
	default:
		return nil, nil
	}
	return l, nil
}

// auxIndex reads the side-table index a placeholder passes as an integer.
func (c *converter) auxIndex(n ast.ExprNode) (any, bool) {
	v, ok := n.(*test_driver.ValueExpr)
	if !ok {
		return nil, false
	}
	i, ok := v.GetValue().(int64)
	if !ok || i < 0 || int(i) >= len(c.x.aux) {
		return nil, false
	}
	return c.x.aux[i], true
}

func (c *converter) expr(n ast.ExprNode) (Expr, error) {
	if n == nil {
		return nil, Errorf(CodeSyntax, c.a.end, "missing expression")
	}
	at := c.pos(n)
	base := ExprBase{At: at}
	switch n := n.(type) {
	case *ast.ColumnNameExpr:
		if n.Name.Schema.O != "" || n.Name.Name.O == phStar {
			return nil, Errorf(CodeSyntax, at, "unexpected name").WithHint("write column or source.column")
		}
		return &Ident{ExprBase: base, Qualifier: n.Name.Table.O, Name: n.Name.Name.O}, nil
	case *test_driver.ValueExpr:
		tok := c.a.tokAt(n.OriginTextPosition())
		if tok == nil {
			return nil, c.unsupported(n, "this literal")
		}
		l, err := literal(tok, at, false)
		if err != nil {
			return nil, err
		}
		if l == nil {
			return nil, c.unsupported(n, "this literal")
		}
		return l, nil
	case *ast.PositionExpr:
		// TiDB reads a bare integer in GROUP BY / ORDER BY as a column
		// position; in ksqlDB it is a constant.
		if tok := c.a.tokAt(n.OriginTextPosition()); tok != nil && tok.Kind == tkInt {
			return literal(tok, at, false)
		}
		return nil, c.unsupported(n, "this expression")
	case *ast.ParenthesesExpr:
		return c.expr(n.Expr)
	case *ast.BinaryOperationExpr:
		if n.Op == opcode.NullEQ {
			l, r, err := c.pair(n.L, n.R)
			if err != nil {
				return nil, err
			}
			return &DistinctFrom{ExprBase: base, L: l, R: r, Not: true}, nil
		}
		op, ok := binaryOps[n.Op]
		if !ok {
			return nil, c.unsupported(n, "operator "+n.Op.String())
		}
		l, r, err := c.pair(n.L, n.R)
		if err != nil {
			return nil, err
		}
		return &Binary{ExprBase: base, Op: op, L: l, R: r}, nil
	case *ast.PatternRegexpExpr:
		// Only produced by the translation of IS DISTINCT FROM.
		l, r, err := c.pair(n.Expr, n.Pattern)
		if err != nil {
			return nil, err
		}
		return &DistinctFrom{ExprBase: base, L: l, R: r, Not: n.Not}, nil
	case *ast.UnaryOperationExpr:
		if n.Op == opcode.Minus {
			if v, ok := n.V.(*test_driver.ValueExpr); ok {
				if tok := c.a.tokAt(v.OriginTextPosition()); tok != nil {
					l, err := literal(tok, at, true)
					if err != nil {
						return nil, err
					}
					if l != nil {
						return l, nil
					}
				}
			}
		}
		x, err := c.expr(n.V)
		if err != nil {
			return nil, err
		}
		switch n.Op {
		case opcode.Not, opcode.Not2:
			return &Unary{ExprBase: base, Op: "NOT", X: x}, nil
		case opcode.Minus:
			return &Unary{ExprBase: base, Op: "-", X: x}, nil
		case opcode.Plus:
			return &Unary{ExprBase: base, Op: "+", X: x}, nil
		}
		return nil, c.unsupported(n, "operator "+n.Op.String())
	case *ast.IsNullExpr:
		x, err := c.expr(n.Expr)
		if err != nil {
			return nil, err
		}
		return &IsNull{ExprBase: base, X: x, Not: n.Not}, nil
	case *ast.PatternInExpr:
		if n.Sel != nil {
			return nil, c.unsupported(n, "a subquery")
		}
		x, err := c.expr(n.Expr)
		if err != nil {
			return nil, err
		}
		list, err := c.exprs(n.List)
		if err != nil {
			return nil, err
		}
		return &InList{ExprBase: base, X: x, List: list, Not: n.Not}, nil
	case *ast.BetweenExpr:
		x, err := c.expr(n.Expr)
		if err != nil {
			return nil, err
		}
		lo, hi, err := c.pair(n.Left, n.Right)
		if err != nil {
			return nil, err
		}
		return &Between{ExprBase: base, X: x, Lo: lo, Hi: hi, Not: n.Not}, nil
	case *ast.PatternLikeOrIlikeExpr:
		if !n.IsLike {
			return nil, c.unsupported(n, "ILIKE")
		}
		x, pat, err := c.pair(n.Expr, n.Pattern)
		if err != nil {
			return nil, err
		}
		l := &Like{ExprBase: base, X: x, Pattern: pat, Not: n.Not}
		if n.EscapeExplicit {
			l.Escape = string(rune(n.Escape))
		}
		return l, nil
	case *ast.CaseExpr:
		ce := &Case{ExprBase: base}
		var err error
		if n.Value != nil {
			if ce.Operand, err = c.expr(n.Value); err != nil {
				return nil, err
			}
		}
		for _, w := range n.WhenClauses {
			cond, res, err := c.pair(w.Expr, w.Result)
			if err != nil {
				return nil, err
			}
			ce.Whens = append(ce.Whens, When{Cond: cond, Result: res})
		}
		if n.ElseClause != nil {
			if ce.Else, err = c.expr(n.ElseClause); err != nil {
				return nil, err
			}
		}
		return ce, nil
	case *ast.FuncCallExpr:
		return c.call(n, base)
	case *ast.RowExpr:
		return nil, Errorf(CodeSyntax, at, "unexpected list of expressions").
			WithHint("a parenthesized list is only allowed after IN, GROUP BY and PARTITION BY")
	}
	return nil, c.unsupported(n, "this expression")
}

func (c *converter) pair(a, b ast.ExprNode) (Expr, Expr, error) {
	x, err := c.expr(a)
	if err != nil {
		return nil, nil, err
	}
	y, err := c.expr(b)
	if err != nil {
		return nil, nil, err
	}
	return x, y, nil
}

func (c *converter) call(n *ast.FuncCallExpr, base ExprBase) (Expr, error) {
	name := n.FnName.O
	bad := func() (Expr, error) {
		return nil, Errorf(CodeSyntax, base.At, "malformed expression").WithHint("check the expression syntax")
	}
	switch name {
	case phDeref, phCast, phLambda:
		if len(n.Args) != 2 {
			return bad()
		}
		v, ok := c.auxIndex(n.Args[1])
		if name == phLambda {
			v, ok = c.auxIndex(n.Args[0])
		}
		if !ok {
			return bad()
		}
		switch name {
		case phDeref:
			f, ok := v.(string)
			if !ok {
				return bad()
			}
			x, err := c.expr(n.Args[0])
			if err != nil {
				return nil, err
			}
			return &Deref{ExprBase: base, X: x, Field: f}, nil
		case phCast:
			t, ok := v.(*Type)
			if !ok {
				return bad()
			}
			x, err := c.expr(n.Args[0])
			if err != nil {
				return nil, err
			}
			return &Cast{ExprBase: base, X: x, Type: t}, nil
		default:
			ps, ok := v.([]string)
			if !ok {
				return bad()
			}
			body, err := c.expr(n.Args[1])
			if err != nil {
				return nil, err
			}
			return &Lambda{ExprBase: base, Params: ps, Body: body}, nil
		}
	case phSubscript:
		if len(n.Args) != 2 {
			return bad()
		}
		x, idx, err := c.pair(n.Args[0], n.Args[1])
		if err != nil {
			return nil, err
		}
		return &Subscript{ExprBase: base, X: x, Index: idx}, nil
	case phArray:
		elems, err := c.exprs(n.Args)
		if err != nil {
			return nil, err
		}
		return &ArrayCtor{ExprBase: base, Elems: elems}, nil
	case phMap:
		if len(n.Args)%2 != 0 {
			return bad()
		}
		m := &MapCtor{ExprBase: base}
		for i := 0; i < len(n.Args); i += 2 {
			k, v, err := c.pair(n.Args[i], n.Args[i+1])
			if err != nil {
				return nil, err
			}
			m.Keys = append(m.Keys, k)
			m.Values = append(m.Values, v)
		}
		return m, nil
	case phStruct:
		if len(n.Args) < 1 {
			return bad()
		}
		v, ok := c.auxIndex(n.Args[0])
		names, ok2 := v.([]string)
		if !ok || !ok2 || len(names) != len(n.Args)-1 {
			return bad()
		}
		vals, err := c.exprs(n.Args[1:])
		if err != nil {
			return nil, err
		}
		return &StructCtor{ExprBase: base, Names: names, Values: vals}, nil
	case phUnit, phDecimal:
		if len(n.Args) != 1 {
			return bad()
		}
		v, ok := c.auxIndex(n.Args[0])
		s, ok2 := v.(string)
		if !ok || !ok2 {
			return bad()
		}
		if name == phUnit {
			return &IntervalUnit{ExprBase: base, Unit: s}, nil
		}
		return &Literal{ExprBase: base, Kind: LitDecimal, Text: s}, nil
	case phParam:
		if len(n.Args) != 1 {
			return bad()
		}
		v, ok := n.Args[0].(*test_driver.ValueExpr)
		if !ok {
			return bad()
		}
		k, ok := v.GetValue().(int64)
		if !ok {
			return bad()
		}
		return &Param{ExprBase: base, N: int(k)}, nil
	case phDerefStar:
		return nil, Errorf(CodeSyntax, base.At, "->* is only allowed in the select list").
			WithHint("write SELECT struct_column->* FROM ...")
	}
	if strings.HasPrefix(name, "__sluice_") {
		return bad()
	}
	call := &Call{ExprBase: base, Name: strings.ToUpper(name)}
	if len(n.Args) == 1 {
		if col, ok := n.Args[0].(*ast.ColumnNameExpr); ok && col.Name.Name.O == phStar && col.Name.Table.O == "" {
			call.Star = true
			return call, nil
		}
	}
	args, err := c.exprs(n.Args)
	if err != nil {
		return nil, err
	}
	call.Args = args
	return call, nil
}
