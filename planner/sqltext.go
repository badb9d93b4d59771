package planner

import (
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/sql"
)

// exprText renders an AST expression the way ksqlDB quotes expressions in
// its messages: upper-case names, qualified names with a dot, string
// literals in single quotes, binary operators parenthesized.
func exprText(e sql.Expr) string {
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

func writeExpr(b *strings.Builder, e sql.Expr) {
	switch e := e.(type) {
	case nil:
		b.WriteString("NULL")
	case *sql.Ident:
		if e.Qualifier != "" {
			b.WriteString(e.Qualifier + ".")
		}
		b.WriteString(e.Name)
	case *sql.Literal:
		switch e.Kind {
		case sql.LitNull:
			b.WriteString("null")
		case sql.LitBool:
			b.WriteString(strings.ToLower(e.Text))
		case sql.LitString:
			b.WriteString("'" + strings.ReplaceAll(e.Text, "'", "''") + "'")
		case sql.LitBytes:
			b.WriteString("X'...'")
		default:
			b.WriteString(e.Text)
		}
	case *sql.Binary:
		b.WriteString("(")
		writeExpr(b, e.L)
		b.WriteString(" " + e.Op + " ")
		writeExpr(b, e.R)
		b.WriteString(")")
	case *sql.Unary:
		if e.Op == "NOT" {
			b.WriteString("(NOT ")
			writeExpr(b, e.X)
			b.WriteString(")")
			return
		}
		b.WriteString(e.Op)
		writeExpr(b, e.X)
	case *sql.IsNull:
		b.WriteString("(")
		writeExpr(b, e.X)
		if e.Not {
			b.WriteString(" IS NOT NULL)")
		} else {
			b.WriteString(" IS NULL)")
		}
	case *sql.InList:
		b.WriteString("(")
		writeExpr(b, e.X)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" IN (")
		writeList(b, e.List)
		b.WriteString("))")
	case *sql.Between:
		b.WriteString("(")
		writeExpr(b, e.X)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" BETWEEN ")
		writeExpr(b, e.Lo)
		b.WriteString(" AND ")
		writeExpr(b, e.Hi)
		b.WriteString(")")
	case *sql.Like:
		b.WriteString("(")
		writeExpr(b, e.X)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" LIKE ")
		writeExpr(b, e.Pattern)
		b.WriteString(")")
	case *sql.Case:
		b.WriteString("CASE")
		if e.Operand != nil {
			b.WriteString(" ")
			writeExpr(b, e.Operand)
		}
		for _, w := range e.Whens {
			b.WriteString(" WHEN ")
			writeExpr(b, w.Cond)
			b.WriteString(" THEN ")
			writeExpr(b, w.Result)
		}
		if e.Else != nil {
			b.WriteString(" ELSE ")
			writeExpr(b, e.Else)
		}
		b.WriteString(" END")
	case *sql.Cast:
		b.WriteString("CAST(")
		writeExpr(b, e.X)
		b.WriteString(" AS " + e.Type.String() + ")")
	case *sql.Call:
		b.WriteString(e.Name + "(")
		if e.Star {
			b.WriteString("*")
		}
		if e.Distinct {
			b.WriteString("DISTINCT ")
		}
		writeList(b, e.Args)
		b.WriteString(")")
	case *sql.Subscript:
		writeExpr(b, e.X)
		b.WriteString("[")
		writeExpr(b, e.Index)
		b.WriteString("]")
	case *sql.Deref:
		writeExpr(b, e.X)
		b.WriteString("->" + e.Field)
	case *sql.ArrayCtor:
		b.WriteString("ARRAY[")
		writeList(b, e.Elems)
		b.WriteString("]")
	case *sql.MapCtor:
		b.WriteString("MAP(")
		for i := range e.Keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, e.Keys[i])
			b.WriteString(":=")
			writeExpr(b, e.Values[i])
		}
		b.WriteString(")")
	case *sql.StructCtor:
		b.WriteString("STRUCT(")
		for i := range e.Names {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(e.Names[i] + ":=")
			writeExpr(b, e.Values[i])
		}
		b.WriteString(")")
	case *sql.Lambda:
		if len(e.Params) == 1 {
			b.WriteString(e.Params[0])
		} else {
			b.WriteString("(" + strings.Join(e.Params, ", ") + ")")
		}
		b.WriteString(" => ")
		writeExpr(b, e.Body)
	case *sql.IntervalUnit:
		b.WriteString(e.Unit)
	case *sql.Param:
		b.WriteString("$" + strconv.Itoa(e.N))
	default:
		b.WriteString("?")
	}
}

func writeList(b *strings.Builder, es []sql.Expr) {
	for i, x := range es {
		if i > 0 {
			b.WriteString(", ")
		}
		writeExpr(b, x)
	}
}
