package planner

import (
	"math/big"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/sluicedb/sluice/exec/expr"
	"github.com/sluicedb/sluice/sql"
)

// This file implements ksqlDB's coercion of user lists (reference §2.2):
// the value and the items of an IN list are brought to one common type
// before they are compared. The rules work on the expressions as written,
// not only on their types, because literals and constructors are more
// flexible than other expressions:
//
//   - the first non-NULL item sets the type, and each further item either
//     converts to it or widens it (numbers widen; ARRAY, MAP and STRUCT
//     types widen element-wise; a STRUCT widens to the union of fields);
//   - a STRING literal converts to a number (typed by its text, so '4.000'
//     is a DECIMAL and '2147483648' a BIGINT, which may widen the list),
//     a BOOLEAN (any prefix of true/yes/false/no), or a TIMESTAMP, DATE or
//     TIME;
//   - any other literal converts to STRING (as its text);
//   - an ARRAY, MAP or STRUCT constructor converts element by element, so
//     ARRAY['3', NULL] can be an ARRAY<BIGINT>.
//
// An item that fits none of these is reported as ksqlDB does: "operator
// does not exist: INTEGER = BOOLEAN (true)".

// coerceList binds es and converts them to their common type. When every
// item is NULL, the common type is NULL and the nodes are returned as bound.
func (b *binder) coerceList(es []sql.Expr) ([]expr.Node, arrow.DataType, error) {
	ns := make([]expr.Node, len(es))
	for i, e := range es {
		n, err := b.bind(e)
		if err != nil {
			return nil, nil, err
		}
		ns[i] = n
	}
	var common arrow.DataType
	for i, n := range ns {
		switch {
		case isNullLit(n):
		case common == nil:
			common = n.DataType()
		default:
			t, err := b.commonWith(common, es[i], n)
			if err != nil {
				return nil, nil, err
			}
			common = t
		}
	}
	if common == nil {
		return ns, expr.NullType, nil
	}
	for i := range ns {
		n, err := b.coerceTo(es[i], ns[i], common)
		if err != nil {
			return nil, nil, err
		}
		ns[i] = n
	}
	return ns, common, nil
}

// commonWith returns the type that both target and the item e (bound as n)
// convert to, or ksqlDB's error when there is none.
func (b *binder) commonWith(target arrow.DataType, e sql.Expr, n expr.Node) (arrow.DataType, error) {
	if isNullLit(n) {
		return target, nil
	}
	t, err := b.commonWithItem(target, e, n)
	if se, ok := err.(*sql.Error); ok && se.Code == sql.CodeDatatypeMismatch && isCtor(e) {
		// ksqlDB reports a constructor's mismatched element as a mismatch
		// of the whole constructor (a string that does not parse is
		// reported as itself).
		return nil, noOperator(target, n.DataType(), e)
	}
	return t, err
}

func isCtor(e sql.Expr) bool {
	switch e.(type) {
	case *sql.ArrayCtor, *sql.MapCtor, *sql.StructCtor:
		return true
	}
	return false
}

func (b *binder) commonWithItem(target arrow.DataType, e sql.Expr, n expr.Node) (arrow.DataType, error) {
	tk := target.ID()
	switch e := e.(type) {
	case *sql.Literal:
		if e.Kind == sql.LitString && tk != arrow.STRING {
			return stringLitCommon(target, e)
		}
		if e.Kind != sql.LitString && tk == arrow.STRING {
			return target, nil
		}
	case *sql.ArrayCtor:
		if lt, ok := target.(*arrow.ListType); ok {
			elem := lt.Elem()
			for _, x := range e.Elems {
				xn, err := b.bind(x)
				if err != nil {
					return nil, err
				}
				if elem, err = b.commonWith(elem, x, xn); err != nil {
					return nil, err
				}
			}
			return expr.ListOf(elem), nil
		}
	case *sql.MapCtor:
		if mt, ok := target.(*arrow.MapType); ok {
			kt, vt := mt.KeyType(), mt.ItemType()
			for i := range e.Keys {
				var err error
				if kt, err = b.commonWithExpr(kt, e.Keys[i]); err != nil {
					return nil, err
				}
				if vt, err = b.commonWithExpr(vt, e.Values[i]); err != nil {
					return nil, err
				}
			}
			return expr.MapOf(kt, vt), nil
		}
	case *sql.StructCtor:
		if st, ok := target.(*arrow.StructType); ok {
			fields := append([]arrow.Field(nil), st.Fields()...)
			for i, name := range e.Names {
				xn, err := b.bind(e.Values[i])
				if err != nil {
					return nil, err
				}
				j, found := st.FieldIdx(name)
				if !found {
					t := xn.DataType()
					if t.ID() == arrow.NULL {
						t = expr.StringType // as the STRUCT constructor types an untyped NULL
					}
					fields = append(fields, expr.Field(name, t))
					continue
				}
				if fields[j].Type, err = b.commonWith(fields[j].Type, e.Values[i], xn); err != nil {
					return nil, err
				}
			}
			return expr.StructOf(fields...), nil
		}
	}
	if t, ok := widenType(target, n.DataType()); ok {
		return t, nil
	}
	return nil, noOperator(target, n.DataType(), e)
}

func (b *binder) commonWithExpr(target arrow.DataType, e sql.Expr) (arrow.DataType, error) {
	n, err := b.bind(e)
	if err != nil {
		return nil, err
	}
	return b.commonWith(target, e, n)
}

func noOperator(target, t arrow.DataType, e sql.Expr) error {
	return sql.Errorf(sql.CodeDatatypeMismatch, e.Position(), "operator does not exist: %s = %s (%s)",
		expr.TypeName(target), expr.TypeName(t), exprText(e)).
		WithHint("You might need to add explicit type casts")
}

// widenType is the implicit widening of two types: numbers widen, and
// collections widen element by element; a STRUCT widens to the union of
// the fields (in a's order, then b's new fields).
func widenType(a, b arrow.DataType) (arrow.DataType, bool) {
	if a.ID() == arrow.NULL {
		return b, true
	}
	if b.ID() == arrow.NULL {
		return a, true
	}
	if expr.IsNumeric(a) && expr.IsNumeric(b) {
		return expr.CommonType(a, b)
	}
	switch at := a.(type) {
	case *arrow.ListType:
		bt, ok := b.(*arrow.ListType)
		if !ok {
			return nil, false
		}
		e, ok := widenType(at.Elem(), bt.Elem())
		if !ok {
			return nil, false
		}
		return expr.ListOf(e), true
	case *arrow.MapType:
		bt, ok := b.(*arrow.MapType)
		if !ok {
			return nil, false
		}
		k, ok1 := widenType(at.KeyType(), bt.KeyType())
		v, ok2 := widenType(at.ItemType(), bt.ItemType())
		if !ok1 || !ok2 {
			return nil, false
		}
		return expr.MapOf(k, v), true
	case *arrow.StructType:
		bt, ok := b.(*arrow.StructType)
		if !ok {
			return nil, false
		}
		fields := append([]arrow.Field(nil), at.Fields()...)
		for _, f := range bt.Fields() {
			j, found := at.FieldIdx(f.Name)
			if !found {
				fields = append(fields, f)
				continue
			}
			t, ok := widenType(fields[j].Type, f.Type)
			if !ok {
				return nil, false
			}
			fields[j].Type = t
		}
		return expr.StructOf(fields...), true
	}
	if expr.TypesEqual(a, b) {
		return a, true
	}
	return nil, false
}

// stringLitCommon is the common type of target and a STRING literal.
func stringLitCommon(target arrow.DataType, l *sql.Literal) (arrow.DataType, error) {
	switch {
	case expr.IsNumeric(target):
		n, ok := numberLiteral(l.Text)
		if !ok {
			return nil, invalidText(target, l)
		}
		t, _ := expr.CommonType(target, n.Type)
		return t, nil
	case target.ID() == arrow.BOOL:
		if _, ok := parseBoolExact(l.Text); !ok {
			return nil, invalidText(target, l)
		}
		return target, nil
	}
	if _, ok, err := coerceStringLit(&expr.Lit{Value: l.Text, Type: expr.StringType}, target, l.At); ok || err != nil {
		if err != nil {
			return nil, invalidText(target, l)
		}
		return target, nil
	}
	return nil, noOperator(target, expr.StringType, l)
}

// invalidText is ksqlDB's error for a STRING literal that does not convert;
// it names the base type (DECIMAL, not DECIMAL(4, 2)).
func invalidText(target arrow.DataType, l *sql.Literal) error {
	base, _, _ := strings.Cut(expr.TypeName(target), "(")
	return sql.Errorf(sql.CodeInvalidText, l.At, "invalid input syntax for type %s: \"%s\"", base, l.Text).
		WithHint("write a %s literal instead of a string", base)
}

// numberLiteral types the text of a STRING literal as the numeric literal
// it spells: an integer is an INT or a BIGINT when it fits, a number with
// a fraction (or too long for a BIGINT) a DECIMAL, and one with an exponent
// a DOUBLE.
func numberLiteral(text string) (*expr.Lit, bool) {
	s := strings.TrimSpace(text)
	if s == "" {
		return nil, false
	}
	if strings.ContainsAny(s, "eE") {
		v, err := evalConst(&expr.Cast{X: &expr.Lit{Value: s, Type: expr.StringType}, Type: expr.DoubleType})
		if err != nil || v == nil {
			return nil, false
		}
		return &expr.Lit{Value: v, Type: expr.DoubleType}, true
	}
	digits := strings.TrimLeft(s, "+-")
	if strings.HasPrefix(s, "+") {
		s = digits
	}
	if digits == "" || strings.Trim(digits, "0123456789.") != "" || strings.Count(digits, ".") > 1 || digits == "." {
		return nil, false
	}
	if !strings.Contains(digits, ".") {
		if v, ok := new(big.Int).SetString(s, 10); ok {
			switch {
			case v.IsInt64() && v.Int64() >= -1<<31 && v.Int64() < 1<<31:
				return &expr.Lit{Value: int32(v.Int64()), Type: expr.IntType}, true
			case v.IsInt64():
				return &expr.Lit{Value: v.Int64(), Type: expr.BigintType}, true
			}
		}
	}
	d, t, ok := parseDecimalLiteral(s)
	if !ok {
		return nil, false
	}
	return &expr.Lit{Value: d, Type: t}, true
}

// parseBoolExact parses ksqlDB's boolean text for literal coercion: a
// non-empty case-insensitive prefix of true, yes, false or no. (CAST is
// laxer: any other text is false.)
func parseBoolExact(s string) (bool, bool) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch {
	case t == "":
		return false, false
	case strings.HasPrefix("true", t) || strings.HasPrefix("yes", t):
		return true, true
	case strings.HasPrefix("false", t) || strings.HasPrefix("no", t):
		return false, true
	}
	return false, false
}

// coerceTo converts the item e (bound as n) to the common type t that
// commonWith agreed on.
func (b *binder) coerceTo(e sql.Expr, n expr.Node, t arrow.DataType) (expr.Node, error) {
	if isNullLit(n) {
		return &expr.Lit{Type: t}, nil
	}
	if expr.TypesEqual(n.DataType(), t) {
		return n, nil
	}
	switch e := e.(type) {
	case *sql.Literal:
		switch {
		case e.Kind == sql.LitString && expr.IsNumeric(t):
			num, ok := numberLiteral(e.Text)
			if !ok {
				return nil, invalidText(t, e)
			}
			return constCast(num, t, e)
		case e.Kind == sql.LitString && t.ID() == arrow.BOOL:
			v, ok := parseBoolExact(e.Text)
			if !ok {
				return nil, invalidText(t, e)
			}
			return &expr.Lit{Value: v, Type: t}, nil
		case e.Kind == sql.LitString:
			c, ok, err := coerceStringLit(n, t, e.At)
			if err != nil {
				return nil, invalidText(t, e)
			}
			if ok {
				return c, nil
			}
		default:
			return constCast(n, t, e)
		}
	case *sql.ArrayCtor:
		if lt, ok := t.(*arrow.ListType); ok {
			elems := make([]expr.Node, len(e.Elems))
			for i, x := range e.Elems {
				c, err := b.coerceExpr(x, lt.Elem())
				if err != nil {
					return nil, err
				}
				elems[i] = c
			}
			return call("ARRAY", elems, e.At)
		}
	case *sql.MapCtor:
		if mt, ok := t.(*arrow.MapType); ok {
			args := make([]expr.Node, 0, 2*len(e.Keys))
			for i := range e.Keys {
				k, err := b.coerceExpr(e.Keys[i], mt.KeyType())
				if err != nil {
					return nil, err
				}
				v, err := b.coerceExpr(e.Values[i], mt.ItemType())
				if err != nil {
					return nil, err
				}
				args = append(args, k, v)
			}
			return call("MAP", args, e.At)
		}
	case *sql.StructCtor:
		if st, ok := t.(*arrow.StructType); ok {
			// The constructor becomes one of the common type: its fields in
			// that type's order, the ones it does not set NULL.
			names := make([]string, st.NumFields())
			types := make([]arrow.DataType, st.NumFields())
			args := make([]expr.Node, st.NumFields())
			for j, f := range st.Fields() {
				names[j], types[j] = f.Name, f.Type
				args[j] = &expr.Lit{Type: f.Type}
			}
			for i, name := range e.Names {
				j, _ := st.FieldIdx(name)
				c, err := b.coerceExpr(e.Values[i], types[j])
				if err != nil {
					return nil, err
				}
				args[j] = c
			}
			fn, err := expr.StructConstructor(names, types)
			if err != nil {
				return nil, sql.Errorf(sql.CodeDuplicateColumn, e.At, "%v", err)
			}
			return &expr.Call{Name: "STRUCT", Args: args, Fn: fn, Type: fn.Result}, nil
		}
	}
	if err := expr.CastError(n.DataType(), t); err != nil {
		return nil, noOperator(t, n.DataType(), e)
	}
	return &expr.Cast{X: n, Type: t}, nil
}

func (b *binder) coerceExpr(e sql.Expr, t arrow.DataType) (expr.Node, error) {
	n, err := b.bind(e)
	if err != nil {
		return nil, err
	}
	return b.coerceTo(e, n, t)
}

// constCast converts a literal to t at plan time.
func constCast(n expr.Node, t arrow.DataType, e sql.Expr) (expr.Node, error) {
	v, err := evalConst(&expr.Cast{X: n, Type: t})
	if err != nil {
		return nil, noOperator(t, n.DataType(), e)
	}
	return &expr.Lit{Value: v, Type: t}, nil
}
