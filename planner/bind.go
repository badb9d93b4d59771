package planner

import (
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/decimal128"
	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/sql"
)

// scope is what names in an expression can refer to: the columns of one
// input (with the names that qualify them) and the parameters of enclosing
// lambdas.
type scope struct {
	cols []OutCol
	// quals are the names that may qualify a column: the source's name and
	// its alias.
	quals []string
	// clause names the clause being bound, for messages ("SELECT",
	// "WHERE"); "" inside INSERT VALUES.
	clause string
	// join, when set, resolves names over the sources of a join instead
	// of cols and quals (join.go).
	join *joinScope
}

// binder turns AST expressions into typed expr.Nodes.
type binder struct {
	cat     Catalog
	sc      *scope
	lambdas [][]lambdaParam // innermost last
	// aggs, when set, binds aggregate function calls (aggregate.go);
	// otherwise they are rejected.
	aggs *aggScope
	// tfs, when set, binds table function calls (flatmap.go); otherwise
	// they are rejected.
	tfs *tableFuncScope
}

type lambdaParam struct {
	name string
	typ  arrow.DataType
}

func (b *binder) bind(e sql.Expr) (expr.Node, error) {
	switch e := e.(type) {
	case *sql.Ident:
		return b.ident(e)
	case *sql.Literal:
		return literal(e, false)
	case *sql.Binary:
		return b.binary(e)
	case *sql.Unary:
		return b.unary(e)
	case *sql.IsNull:
		x, err := b.bind(e.X)
		if err != nil {
			return nil, err
		}
		op := "IS NULL"
		if e.Not {
			op = "IS NOT NULL"
		}
		return call(op, []expr.Node{x}, e.At)
	case *sql.InList:
		return b.inList(e)
	case *sql.DistinctFrom:
		return b.distinctFrom(e)
	case *sql.Between:
		return b.between(e)
	case *sql.Like:
		return b.like(e)
	case *sql.Case:
		return b.caseExpr(e)
	case *sql.Cast:
		return b.cast(e)
	case *sql.Call:
		return b.call(e)
	case *sql.Subscript:
		return b.subscript(e)
	case *sql.Deref:
		return b.deref(e)
	case *sql.ArrayCtor:
		return b.arrayCtor(e)
	case *sql.MapCtor:
		return b.mapCtor(e)
	case *sql.StructCtor:
		return b.structCtor(e)
	case *sql.Lambda:
		return nil, sql.Errorf(sql.CodeSyntax, e.At, "a lambda expression is only allowed as an argument of a function such as TRANSFORM, FILTER or REDUCE")
	case *sql.IntervalUnit:
		return nil, sql.Errorf(sql.CodeSyntax, e.At, "the time unit %s is only allowed as a function argument", e.Unit)
	case *sql.Param:
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, e.At, "parameter $%d has no value", e.N).
			WithHint("bind parameters before planning, or inline the value")
	}
	return nil, sql.Errorf(sql.CodeInternal, e.Position(), "unexpected expression %T", e)
}

// ---- names ----

func (b *binder) ident(id *sql.Ident) (expr.Node, error) {
	if id.Qualifier == "" {
		for d := len(b.lambdas) - 1; d >= 0; d-- {
			for i, p := range b.lambdas[d] {
				if p.name == id.Name {
					return &expr.LambdaVar{Name: p.name, Depth: len(b.lambdas) - 1 - d, Index: i, Type: p.typ}, nil
				}
			}
		}
	}
	if b.sc.join != nil {
		return b.joinIdent(id)
	}
	if id.Qualifier != "" && !b.qualifies(id.Qualifier) {
		return nil, sql.Errorf(sql.CodeUndefinedTable, id.At, "'%s' is not a valid stream/table name or alias", id.Qualifier).
			WithHint("qualify columns with %s", strings.Join(b.sc.quals, " or "))
	}
	for i, c := range b.sc.cols {
		if c.Name == id.Name && !c.Hidden {
			n := expr.Node(&expr.Col{Index: i, Name: c.Name, Type: c.Type})
			if c.Pseudo {
				n = asEpochMillis(n)
			}
			return n, nil
		}
	}
	return nil, b.unresolved(id)
}

// bindPredicate binds e, the condition of clause (WHERE, HAVING), and
// checks that it is a boolean.
func (b *binder) bindPredicate(e sql.Expr, clause string) (expr.Node, error) {
	b.sc.clause = clause
	p, err := b.bind(e)
	if err != nil {
		return nil, err
	}
	if id := p.DataType().ID(); id != arrow.BOOL {
		return nil, sql.Errorf(sql.CodeDatatypeMismatch, e.Position(),
			"Type error in %s expression: Should evaluate to boolean but is %s (%s) instead",
			clause, exprText(e), expr.TypeName(p.DataType())).WithHint("compare the value, e.g. %s <> 0", exprText(e))
	}
	return p, nil
}

// unresolved is the error for a column reference that names no column.
func (b *binder) unresolved(id *sql.Ident) error {
	name := id.Name
	if id.Qualifier != "" {
		name = id.Qualifier + "." + id.Name
	}
	msg := "column '" + name + "' cannot be resolved"
	if b.sc.clause != "" {
		msg = b.sc.clause + " " + msg
	} else {
		msg = "Column" + msg[len("column"):]
	}
	err := sql.Errorf(sql.CodeUndefinedColumn, id.At, "%s", msg)
	if close := closeNames(id.Name, b.sc.cols); len(close) > 0 {
		err.Hint = "did you mean " + strings.Join(close, " or ") + "?"
	} else if len(b.sc.cols) > 0 {
		err.Hint = "the columns are " + strings.Join(visibleNames(b.sc.cols), ", ")
	} else {
		err.Hint = "no columns can be referenced here; use constant expressions"
	}
	return err
}

func (b *binder) qualifies(q string) bool {
	for _, s := range b.sc.quals {
		if s == q {
			return true
		}
	}
	return false
}

func visibleNames(cols []OutCol) []string {
	var out []string
	for _, c := range cols {
		if !c.Hidden {
			out = append(out, c.Name)
		}
	}
	return out
}

// closeNames returns the column names within edit distance 2 of name, or
// equal ignoring case (the usual mistake with quoted identifiers).
func closeNames(name string, cols []OutCol) []string {
	var out []string
	for _, c := range cols {
		if c.Hidden {
			continue
		}
		if strings.EqualFold(c.Name, name) || editDistance(strings.ToUpper(c.Name), strings.ToUpper(name)) <= 2 {
			out = append(out, c.Name)
		}
	}
	return out
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// ---- literals ----

// literal types a literal. negate folds a leading minus into an integer
// literal, so that -2147483648 is an INT and -9223372036854775808 a BIGINT.
func literal(l *sql.Literal, negate bool) (expr.Node, error) {
	sign := ""
	if negate {
		sign = "-"
	}
	switch l.Kind {
	case sql.LitNull:
		return &expr.Lit{Type: expr.NullType}, nil
	case sql.LitBool:
		return &expr.Lit{Value: strings.EqualFold(l.Text, "TRUE"), Type: expr.BooleanType}, nil
	case sql.LitInt:
		n, err := strconv.ParseInt(sign+l.Text, 10, 64)
		if err != nil {
			return nil, sql.Errorf(sql.CodeDataException, l.At, "integer literal %s%s is out of range for BIGINT", sign, l.Text).
				WithHint("write it as a DECIMAL (%s%s.0) or a DOUBLE (%s%sE0)", sign, l.Text, sign, l.Text)
		}
		if n >= -1<<31 && n < 1<<31 {
			return &expr.Lit{Value: int32(n), Type: expr.IntType}, nil
		}
		return &expr.Lit{Value: n, Type: expr.BigintType}, nil
	case sql.LitDecimal:
		d, t, ok := parseDecimalLiteral(sign + l.Text)
		if !ok {
			return nil, sql.Errorf(sql.CodeDataException, l.At, "invalid DECIMAL literal %s", l.Text).
				WithHint("DECIMAL literals hold at most %d digits", expr.MaxDecimalPrecision)
		}
		return &expr.Lit{Value: d, Type: t}, nil
	case sql.LitDouble:
		f, err := strconv.ParseFloat(sign+l.Text, 64)
		if err != nil {
			return nil, sql.Errorf(sql.CodeDataException, l.At, "invalid DOUBLE literal %s", l.Text)
		}
		return &expr.Lit{Value: f, Type: expr.DoubleType}, nil
	case sql.LitString:
		return &expr.Lit{Value: l.Text, Type: expr.StringType}, nil
	case sql.LitBytes:
		return &expr.Lit{Value: []byte(l.Text), Type: expr.BytesType}, nil
	}
	return nil, sql.Errorf(sql.CodeInternal, l.At, "unknown literal kind %d", l.Kind)
}

// parseDecimalLiteral types 12.50 as DECIMAL(4, 2): the precision counts the
// digits written (at least the scale, so 0.05 is DECIMAL(2, 2)).
func parseDecimalLiteral(text string) (expr.Decimal, arrow.DataType, bool) {
	neg := strings.HasPrefix(text, "-")
	text = strings.TrimLeft(text, "+-")
	intPart, frac, _ := strings.Cut(text, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	scale := len(frac)
	prec := max(len(digits), scale, 1)
	if prec > expr.MaxDecimalPrecision {
		return expr.Decimal{}, nil, false
	}
	v, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		return expr.Decimal{}, nil, false
	}
	if neg {
		v.Neg(v)
	}
	return expr.Decimal{V: decimal128.FromBigInt(v), Precision: int32(prec), Scale: int32(scale)},
		expr.DecimalType(prec, scale), true
}

// ---- operators ----

var cmpNames = map[string]string{"=": "EQUAL", "<>": "NOT_EQUAL", "!=": "NOT_EQUAL", "<": "LESS_THAN",
	"<=": "LESS_THAN_OR_EQUAL", ">": "GREATER_THAN", ">=": "GREATER_THAN_OR_EQUAL"}

func isNullLit(n expr.Node) bool {
	l, ok := n.(*expr.Lit)
	return ok && l.Value == nil && l.Type.ID() == arrow.NULL
}

func (b *binder) binary(e *sql.Binary) (expr.Node, error) {
	l, err := b.bind(e.L)
	if err != nil {
		return nil, err
	}
	r, err := b.bind(e.R)
	if err != nil {
		return nil, err
	}
	switch e.Op {
	case "AND", "OR":
		for _, x := range []struct {
			n expr.Node
			e sql.Expr
		}{{l, e.L}, {r, e.R}} {
			if id := x.n.DataType().ID(); id != arrow.BOOL && id != arrow.NULL {
				return nil, sql.Errorf(sql.CodeDatatypeMismatch, x.e.Position(),
					"%s operand %s must be BOOLEAN, not %s", e.Op, exprText(x.e), expr.TypeName(x.n.DataType()))
			}
		}
		return call(e.Op, []expr.Node{l, r}, e.At)
	case "||":
		return call("CONCAT", []expr.Node{l, r}, e.At)
	}
	if opName, isCmp := cmpNames[e.Op]; isCmp {
		if isNullLit(l) || isNullLit(r) {
			return nil, sql.Errorf(sql.CodeDatatypeMismatch, e.At, "Comparison with NULL not supported: %s %s %s",
				expr.TypeName(l.DataType()), e.Op, expr.TypeName(r.DataType())).
				WithHint("Use 'IS NULL' or 'IS NOT NULL' instead")
		}
		l, r = timeLiteral(l, e.L, r), timeLiteral(r, e.R, l)
		n, err := call(e.Op, []expr.Node{l, r}, e.At)
		if err != nil {
			return nil, sql.Errorf(sql.CodeDatatypeMismatch, e.At, "Cannot compare %s (%s) to %s (%s) with %s",
				exprText(e.L), expr.TypeName(l.DataType()), exprText(e.R), expr.TypeName(r.DataType()), opName).
				WithHint("CAST one side to the other's type")
		}
		return n, nil
	}
	if l.DataType().ID() == arrow.NULL || r.DataType().ID() == arrow.NULL {
		// ksqlDB types arithmetic before it evaluates it: an untyped NULL
		// operand has no numeric type to compute in, so it is an error
		// rather than a NULL result (CAST(NULL AS ...) gives it one).
		return nil, sql.Errorf(sql.CodeDatatypeMismatch, e.At, "Error processing expression: %s. Arithmetic on types %s and %s are not supported.",
			exprText(e), arithTypeName(l), arithTypeName(r)).
			WithHint("CAST the NULL to the type to compute in, e.g. CAST(NULL AS INTEGER)")
	}
	n, err := call(e.Op, []expr.Node{l, r}, e.At)
	if err != nil {
		return nil, sql.Errorf(sql.CodeDatatypeMismatch, e.At, "Error processing expression: %s. Unsupported arithmetic types. %s %s",
			exprText(e), expr.TypeName(l.DataType()), expr.TypeName(r.DataType())).
			WithHint("arithmetic takes numbers (and + also two STRINGs); CAST the operands")
	}
	return n, nil
}

// arithTypeName names an arithmetic operand's type in ksqlDB's messages,
// where the type of an untyped NULL is "null".
func arithTypeName(n expr.Node) string {
	if n.DataType().ID() == arrow.NULL {
		return "null"
	}
	return expr.TypeName(n.DataType())
}

// distinctFrom binds the null-safe comparison L IS [NOT] DISTINCT FROM R.
func (b *binder) distinctFrom(e *sql.DistinctFrom) (expr.Node, error) {
	l, err := b.bind(e.L)
	if err != nil {
		return nil, err
	}
	r, err := b.bind(e.R)
	if err != nil {
		return nil, err
	}
	op := "IS DISTINCT FROM"
	if e.Not {
		op = "IS NOT DISTINCT FROM"
	}
	l, r = timeLiteral(l, e.L, r), timeLiteral(r, e.R, l)
	return call(op, []expr.Node{l, r}, e.At)
}

// timeLiteral: ROWTIME, WINDOWSTART and WINDOWEND compared with a string
// literal parse the string as a (partial) ISO date-time into epoch ms, as
// ksqlDB does before type checking.
func timeLiteral(n expr.Node, e sql.Expr, other expr.Node) expr.Node {
	l, ok := n.(*expr.Lit)
	if !ok || l.Type.ID() != arrow.STRING || !isTimePseudo(other) {
		return n
	}
	ts, err := expr.ParseTimestampText(l.Value.(string))
	if err != nil {
		return n // the comparison then fails to type-check and says why
	}
	return &expr.Lit{Value: int64(ts), Type: expr.BigintType}
}

func isTimePseudo(n expr.Node) bool {
	c, ok := n.(*expr.Call)
	return ok && c.Fn == epochMillis
}

func (b *binder) unary(e *sql.Unary) (expr.Node, error) {
	if l, ok := e.X.(*sql.Literal); ok && e.Op == "-" && (l.Kind == sql.LitInt || l.Kind == sql.LitDecimal || l.Kind == sql.LitDouble) {
		return literal(l, true)
	}
	x, err := b.bind(e.X)
	if err != nil {
		return nil, err
	}
	switch e.Op {
	case "NOT":
		if id := x.DataType().ID(); id != arrow.BOOL && id != arrow.NULL {
			return nil, sql.Errorf(sql.CodeDatatypeMismatch, e.At, "NOT operand %s must be BOOLEAN, not %s",
				exprText(e.X), expr.TypeName(x.DataType()))
		}
		return call("NOT", []expr.Node{x}, e.At)
	case "-":
		return call("NEG", []expr.Node{x}, e.At)
	case "+":
		if !expr.IsNumeric(x.DataType()) {
			return nil, sql.Errorf(sql.CodeDatatypeMismatch, e.At, "unary + takes a number, not %s", expr.TypeName(x.DataType()))
		}
		return x, nil
	}
	return nil, sql.Errorf(sql.CodeInternal, e.At, "unknown unary operator %s", e.Op)
}

// coerceStringLit converts a string literal to type t at plan time, as
// ksqlDB does for IN lists and constructors ('10' where a BIGINT is
// expected). ok is false when n is not a string literal or t is a string.
func coerceStringLit(n expr.Node, t arrow.DataType, at sql.Pos) (expr.Node, bool, error) {
	l, isLit := n.(*expr.Lit)
	if !isLit || l.Type.ID() != arrow.STRING || t.ID() == arrow.STRING || t.ID() == arrow.NULL {
		return n, false, nil
	}
	switch t.ID() {
	case arrow.INT32, arrow.INT64, arrow.FLOAT64, arrow.DECIMAL128, arrow.BOOL, arrow.TIMESTAMP, arrow.DATE32, arrow.TIME32:
	default:
		return n, false, nil
	}
	v, err := evalConst(&expr.Cast{X: l, Type: t})
	if err != nil || (v == nil && l.Value != nil) {
		return nil, false, sql.Errorf(sql.CodeInvalidText, at, "invalid input syntax for type %s: \"%s\"", expr.TypeName(t), l.Value).
			WithHint("write a %s literal instead of a string", expr.TypeName(t))
	}
	return &expr.Lit{Value: v, Type: t}, true, nil
}

func (b *binder) inList(e *sql.InList) (expr.Node, error) {
	// ksqlDB brings the value and the items to one type first (see
	// coerceList); its errors read "Invalid Predicate: ...".
	args, _, err := b.coerceList(append([]sql.Expr{e.X}, e.List...))
	if err != nil {
		if se, ok := err.(*sql.Error); ok {
			se.Msg = "Invalid Predicate: " + se.Msg
		}
		return nil, err
	}
	n, err := call("IN", args, e.At)
	if err != nil {
		return nil, err
	}
	if e.Not {
		return call("NOT", []expr.Node{n}, e.At)
	}
	return n, nil
}

func (b *binder) between(e *sql.Between) (expr.Node, error) {
	var ns [3]expr.Node
	for i, s := range []sql.Expr{e.X, e.Lo, e.Hi} {
		n, err := b.bind(s)
		if err != nil {
			return nil, err
		}
		ns[i] = n
	}
	ns[1], ns[2] = timeLiteral(ns[1], e.Lo, ns[0]), timeLiteral(ns[2], e.Hi, ns[0])
	n, err := call("BETWEEN", ns[:], e.At)
	if err != nil {
		return nil, sql.Errorf(sql.CodeDatatypeMismatch, e.At, "Cannot compare %s (%s) to %s (%s) and %s (%s) with BETWEEN",
			exprText(e.X), expr.TypeName(ns[0].DataType()), exprText(e.Lo), expr.TypeName(ns[1].DataType()),
			exprText(e.Hi), expr.TypeName(ns[2].DataType())).WithHint("CAST the bounds to the value's type")
	}
	if e.Not {
		return call("NOT", []expr.Node{n}, e.At)
	}
	return n, nil
}

func (b *binder) like(e *sql.Like) (expr.Node, error) {
	x, err := b.bind(e.X)
	if err != nil {
		return nil, err
	}
	p, err := b.bind(e.Pattern)
	if err != nil {
		return nil, err
	}
	args := []expr.Node{x, p}
	if e.Escape != "" {
		if len([]rune(e.Escape)) != 1 {
			return nil, sql.Errorf(sql.CodeSyntax, e.At, "LIKE escape must be a single character, got '%s'", e.Escape)
		}
		args = append(args, &expr.Lit{Value: e.Escape, Type: expr.StringType})
	}
	n, err := call("LIKE", args, e.At)
	if err != nil {
		return nil, sql.Errorf(sql.CodeDatatypeMismatch, e.At, "LIKE takes STRING operands, got %s LIKE %s",
			expr.TypeName(x.DataType()), expr.TypeName(p.DataType()))
	}
	if e.Not {
		return call("NOT", []expr.Node{n}, e.At)
	}
	return n, nil
}

// caseExpr types a searched CASE the ksqlDB way: every THEN and the ELSE
// have exactly the same type (NULL goes with anything); there is no
// widening.
func (b *binder) caseExpr(e *sql.Case) (expr.Node, error) {
	if e.Operand != nil {
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, e.At, "simple CASE expressions are not supported").
			WithHint("write a searched CASE: CASE WHEN %s = <value> THEN ... END", exprText(e.Operand))
	}
	out := &expr.Case{Whens: make([]expr.CaseWhen, len(e.Whens))}
	var typ arrow.DataType = expr.NullType
	for i, w := range e.Whens {
		c, err := b.bind(w.Cond)
		if err != nil {
			return nil, err
		}
		if id := c.DataType().ID(); id != arrow.BOOL && id != arrow.NULL {
			return nil, sql.Errorf(sql.CodeDatatypeMismatch, w.Cond.Position(), "WHEN operand type should be boolean").
				WithHint("type for 'WHEN %s' is %s", exprText(w.Cond), expr.TypeName(c.DataType()))
		}
		r, err := b.bind(w.Result)
		if err != nil {
			return nil, err
		}
		if rt := r.DataType(); rt.ID() != arrow.NULL {
			if typ.ID() == arrow.NULL {
				typ = rt
			} else if !expr.TypesEqual(typ, rt) {
				return nil, sql.Errorf(sql.CodeDatatypeMismatch, w.Result.Position(),
					"Invalid Case expression. Type for all 'THEN' clauses should be the same").
					WithHint("THEN expression %s has type %s, expected %s; CAST it", exprText(w.Result), expr.TypeName(rt), expr.TypeName(typ))
			}
		}
		out.Whens[i] = expr.CaseWhen{Cond: c, Result: r}
	}
	if e.Else != nil {
		el, err := b.bind(e.Else)
		if err != nil {
			return nil, err
		}
		if et := el.DataType(); et.ID() != arrow.NULL {
			if typ.ID() == arrow.NULL {
				typ = et
			} else if !expr.TypesEqual(typ, et) {
				return nil, sql.Errorf(sql.CodeDatatypeMismatch, e.Else.Position(),
					"Invalid Case expression. Type for 'ELSE' clause should be the same as 'THEN' clauses").
					WithHint("ELSE expression %s has type %s, expected %s; CAST it", exprText(e.Else), expr.TypeName(et), expr.TypeName(typ))
			}
		}
		out.Else = el
	}
	if typ.ID() == arrow.NULL {
		return nil, sql.Errorf(sql.CodeDatatypeMismatch, e.At, "Invalid Case expression. All case branches have NULL type").
			WithHint("CAST one branch, e.g. CAST(NULL AS STRING)")
	}
	retype := func(n expr.Node) expr.Node {
		if n != nil && n.DataType().ID() == arrow.NULL {
			return &expr.Lit{Type: typ}
		}
		return n
	}
	for i := range out.Whens {
		out.Whens[i].Result = retype(out.Whens[i].Result)
	}
	out.Else = retype(out.Else)
	out.Type = typ
	return out, nil
}

func (b *binder) cast(e *sql.Cast) (expr.Node, error) {
	x, err := b.bind(e.X)
	if err != nil {
		return nil, err
	}
	st, err := resolveType(b.cat, e.Type, e.At)
	if err != nil {
		return nil, err
	}
	t := ArrowType(st)
	if x.DataType().ID() == arrow.NULL {
		return &expr.Lit{Type: t}, nil
	}
	if err := expr.CastError(x.DataType(), t); err != nil {
		return nil, sql.Errorf(sql.CodeDatatypeMismatch, e.At, "%v", err).
			WithHint("see the CAST table in the ksqlDB reference; convert through STRING or a function")
	}
	if expr.TypesEqual(x.DataType(), t) {
		return x, nil
	}
	return &expr.Cast{X: x, Type: t}, nil
}

// ---- calls ----

func (b *binder) call(e *sql.Call) (expr.Node, error) {
	if b.aggs != nil && aggregateFuncs[e.Name] {
		return b.aggs.bindCall(b, e)
	}
	// F(*) of a scalar function is a call without arguments in ksqlDB
	// ("Function 'greatest' does not accept parameters ()").
	if aggregateFuncs[e.Name] {
		return nil, sql.Errorf(sql.CodeFeatureNotSupported, e.At, "aggregate function %s is not supported yet", e.Name).
			WithHint("GROUP BY and aggregations are planned for a later release; this version runs stateless queries")
	}
	if tableFuncs[e.Name] {
		return b.tableFunc(e)
	}
	if e.Distinct {
		return nil, sql.Errorf(sql.CodeSyntax, e.At, "DISTINCT is only allowed in aggregate functions")
	}
	args := make([]expr.Node, len(e.Args))
	types := make([]arrow.DataType, len(e.Args))
	for i, a := range e.Args {
		switch a := a.(type) {
		case *sql.Lambda:
			continue // typed below, once the other arguments are
		case *sql.IntervalUnit:
			args[i] = &expr.Lit{Value: a.Unit, Type: expr.StringType}
		default:
			n, err := b.bind(a)
			if err != nil {
				return nil, err
			}
			args[i] = n
		}
		types[i] = args[i].DataType()
	}
	for i, a := range e.Args {
		lam, ok := a.(*sql.Lambda)
		if !ok {
			continue
		}
		pts, err := expr.LambdaParamTypes(e.Name, types, i)
		if err != nil {
			return nil, resolveErr(err, a.Position())
		}
		if len(pts) != len(lam.Params) {
			return nil, sql.Errorf(sql.CodeDatatypeMismatch, lam.At, "the lambda for %s takes %d parameters, not %d",
				e.Name, len(pts), len(lam.Params))
		}
		ps := make([]lambdaParam, len(pts))
		seen := map[string]bool{}
		for j, p := range lam.Params {
			if seen[p] {
				return nil, sql.Errorf(sql.CodeDuplicateColumn, lam.At, "lambda parameter %s is declared twice", p)
			}
			seen[p] = true
			ps[j] = lambdaParam{name: p, typ: pts[j]}
		}
		b.lambdas = append(b.lambdas, ps)
		body, err := b.bind(lam.Body)
		b.lambdas = b.lambdas[:len(b.lambdas)-1]
		if err != nil {
			return nil, err
		}
		args[i] = &expr.Lambda{Params: lam.Params, Types: pts, Body: body}
		types[i] = body.DataType()
	}
	return call(e.Name, args, e.At)
}

func (b *binder) subscript(e *sql.Subscript) (expr.Node, error) {
	x, err := b.bind(e.X)
	if err != nil {
		return nil, err
	}
	if x.DataType().ID() == arrow.STRUCT {
		return nil, sql.Errorf(sql.CodeDatatypeMismatch, e.At, "Can't use a subscript on a STRUCT: %s", exprText(e.X)).
			WithHint("use %s->FIELD to read a struct field", exprText(e.X))
	}
	i, err := b.bind(e.Index)
	if err != nil {
		return nil, err
	}
	return call("SUBSCRIPT", []expr.Node{x, i}, e.At)
}

func (b *binder) deref(e *sql.Deref) (expr.Node, error) {
	x, err := b.bind(e.X)
	if err != nil {
		return nil, err
	}
	fn, err := expr.StructField(x.DataType(), e.Field)
	if err != nil {
		return nil, sql.Errorf(sql.CodeUndefinedColumn, e.At, "%v", err).
			WithHint("-> reads a field of a STRUCT; %s is %s", exprText(e.X), expr.TypeName(x.DataType()))
	}
	// The name carries the field, so that EXPLAIN shows it and bound trees
	// of s->A and s->B compare (by String) as different expressions.
	return &expr.Call{Name: "->" + e.Field, Args: []expr.Node{x}, Fn: fn, Type: fn.Result}, nil
}

// commonElems binds constructor elements and converts them to their common
// type with ksqlDB's list coercion (see coerceList).
func (b *binder) commonElems(es []sql.Expr, what string, at sql.Pos) ([]expr.Node, arrow.DataType, error) {
	ns, typ, err := b.coerceList(es)
	if err != nil {
		return nil, nil, err
	}
	if typ.ID() == arrow.NULL {
		return nil, nil, sql.Errorf(sql.CodeDatatypeMismatch, at, "Cannot construct %s with all NULL elements", what).
			WithHint("CAST one element, e.g. CAST(NULL AS INT)")
	}
	return ns, typ, nil
}

func (b *binder) arrayCtor(e *sql.ArrayCtor) (expr.Node, error) {
	if len(e.Elems) == 0 {
		return nil, sql.Errorf(sql.CodeSyntax, e.At,
			"Array constructor cannot be empty. Please supply at least one element (see https://github.com/confluentinc/ksql/issues/4239)")
	}
	ns, _, err := b.commonElems(e.Elems, "an array", e.At)
	if err != nil {
		return nil, err
	}
	return call("ARRAY", ns, e.At)
}

func (b *binder) mapCtor(e *sql.MapCtor) (expr.Node, error) {
	if len(e.Keys) == 0 {
		return nil, sql.Errorf(sql.CodeSyntax, e.At,
			"Map constructor cannot be empty. Please supply at least one key value pair (see https://github.com/confluentinc/ksql/issues/4239)")
	}
	ks, _, err := b.commonElems(e.Keys, "a map with all NULL keys", e.At)
	if err != nil {
		return nil, fixMapMsg(err, "keys")
	}
	vs, _, err := b.commonElems(e.Values, "a map with all NULL values", e.At)
	if err != nil {
		return nil, fixMapMsg(err, "values")
	}
	args := make([]expr.Node, 0, 2*len(ks))
	for i := range ks {
		args = append(args, ks[i], vs[i])
	}
	return call("MAP", args, e.At)
}

// fixMapMsg turns commonElems' all-NULL message into ksqlDB's wording for
// maps.
func fixMapMsg(err error, side string) error {
	if se, ok := err.(*sql.Error); ok && strings.HasPrefix(se.Msg, "Cannot construct a map") {
		se.Msg = "Cannot construct a map with all NULL " + side
	}
	return err
}

func (b *binder) structCtor(e *sql.StructCtor) (expr.Node, error) {
	args := make([]expr.Node, len(e.Values))
	types := make([]arrow.DataType, len(e.Values))
	for i, v := range e.Values {
		n, err := b.bind(v)
		if err != nil {
			return nil, err
		}
		args[i], types[i] = n, n.DataType()
	}
	fn, err := expr.StructConstructor(e.Names, types)
	if err != nil {
		return nil, sql.Errorf(sql.CodeDuplicateColumn, e.At, "%v", err)
	}
	for i, a := range args {
		if isNullLit(a) {
			// The constructor typed an untyped NULL field; give the literal
			// that type so the IR is uniformly typed.
			args[i] = &expr.Lit{Type: fn.Result.(*arrow.StructType).Field(i).Type}
		}
	}
	return &expr.Call{Name: "STRUCT", Args: args, Fn: fn, Type: fn.Result}, nil
}
