package expr

import (
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"
)

// Operators: arithmetic, comparison, boolean logic, IS NULL, IN, BETWEEN,
// LIKE, subscripts and constructors. They resolve through custom resolvers
// because their result types are computed (DECIMAL arithmetic) rather than
// declared.

func init() {
	for _, op := range []struct {
		name string
		op   arithOp
	}{{"+", opAdd}, {"-", opSub}, {"*", opMul}, {"/", opDiv}, {"%", opRem}} {
		op := op
		regCustom(op.name, "operator", "arithmetic", nil, true, func(args []arrow.DataType) (*Func, error) {
			return resolveArith(op.name, op.op, args)
		})
	}
	regCustom("NEG", "operator", "unary minus", nil, true, resolveNeg)
	for _, op := range []struct {
		name string
		op   cmpOp
	}{{"=", cmpEq}, {"<>", cmpNe}, {"!=", cmpNe}, {"<", cmpLt}, {"<=", cmpLe}, {">", cmpGt}, {">=", cmpGe}} {
		op := op
		regCustom(op.name, "operator", "comparison", nil, true, func(args []arrow.DataType) (*Func, error) {
			return resolveCmp(op.name, op.op, args)
		})
	}
	regCustom("AND", "operator", "logical AND", nil, true, func(args []arrow.DataType) (*Func, error) { return resolveLogic("AND", args) })
	regCustom("OR", "operator", "logical OR", nil, true, func(args []arrow.DataType) (*Func, error) { return resolveLogic("OR", args) })
	regCustom("NOT", "operator", "logical NOT", nil, true, resolveNot)
	regCustom("IS NULL", "operator", "", nil, true, func(args []arrow.DataType) (*Func, error) { return resolveIsNull(false, args) })
	regCustom("IS NOT NULL", "operator", "", nil, true, func(args []arrow.DataType) (*Func, error) { return resolveIsNull(true, args) })
	regCustom("IS DISTINCT FROM", "operator", "", nil, true, func(args []arrow.DataType) (*Func, error) { return resolveDistinct(true, args) })
	regCustom("IS NOT DISTINCT FROM", "operator", "", nil, true, func(args []arrow.DataType) (*Func, error) { return resolveDistinct(false, args) })
	regCustom("IN", "operator", "", nil, true, resolveIn)
	regCustom("BETWEEN", "operator", "", nil, true, resolveBetween)
	regCustom("LIKE", "operator", "", nil, true, resolveLike)
	regCustom("SUBSCRIPT", "operator", "", nil, true, resolveSubscript)
	regCustom("ARRAY", "operator", "", nil, true, resolveArrayCtor)
	regCustom("MAP", "operator", "", nil, true, resolveMapCtor)
}

func argErr(op string, args []arrow.DataType, format string, a ...any) error {
	return &ResolveError{Name: op, Args: typeNames(args), Msg: fmt.Sprintf(format, a...)}
}

// arithResultType computes ksqlDB's result type of a op b for numbers.
func arithResultType(op arithOp, a, b arrow.DataType) arrow.DataType {
	ka, kb := kindOf(a), kindOf(b)
	switch {
	case ka == kNull && kb == kNull:
		return IntType
	case ka == kNull:
		return b
	case kb == kNull:
		return a
	case ka == kDouble || kb == kDouble:
		return DoubleType
	case ka == kDecimal || kb == kDecimal:
		p1, s1 := decParams(a)
		p2, s2 := decParams(b)
		var p, s int32
		switch op {
		case opAdd, opSub:
			s = max(s1, s2)
			p = s + max(p1-s1, p2-s2) + 1
		case opMul:
			p, s = p1+p2+1, s1+s2
		case opDiv:
			s = max(6, s1+p2+1)
			p = p1 - s1 + s2 + s
		case opRem:
			p, s = min(p1-s1, p2-s2)+max(s1, s2), max(s1, s2)
		}
		if p > MaxDecimalPrecision {
			// Keep the integer digits and give up scale first, as SQL
			// engines bounded to 38 digits do.
			s = max(0, s-(p-MaxDecimalPrecision))
			p = MaxDecimalPrecision
		}
		return DecimalType(int(p), int(s))
	case ka == kBigint || kb == kBigint:
		return BigintType
	}
	return IntType
}

func resolveArith(name string, op arithOp, args []arrow.DataType) (*Func, error) {
	if len(args) != 2 {
		return nil, argErr(name, args, "operator %s takes two operands", name)
	}
	a, b := args[0], args[1]
	ka, kb := kindOf(a), kindOf(b)
	if op == opAdd && (ka == kString || kb == kString) && (ka == kString || ka == kNull) && (kb == kString || kb == kNull) {
		// STRING + STRING is Java string concatenation: NULL renders as
		// "null" in compiled ksqlDB queries.
		return &Func{Name: name, Result: StringType, Impl: func(v []any) (any, error) {
			return javaStr(v[0]) + javaStr(v[1]), nil
		}}, nil
	}
	if !(isNumericKind(ka) || ka == kNull) || !(isNumericKind(kb) || kb == kNull) {
		return nil, argErr(name, args, "Error processing expression: Unsupported arithmetic types. %s %s", TypeName(a), TypeName(b))
	}
	res := arithResultType(op, a, b)
	fn := &Func{Name: name, Result: res, NullOnNull: true}
	switch kindOf(res) {
	case kInt:
		fn.Kernel = arithKernel[int32](op, IntType, name)
	case kBigint:
		fn.Kernel = arithKernel[int64](op, BigintType, name)
	case kDouble:
		fn.Kernel = arithKernel[float64](op, DoubleType, name)
	}
	if fn.Kernel != nil {
		setKernelParams(fn, []arrow.DataType{res, res})
		fn.Impl = rowArith(op, res)
		return fn, nil
	}
	p, s := decParams(res)
	fn.Impl = func(v []any) (any, error) {
		x, y := asDecimal(v[0]), asDecimal(v[1])
		switch op {
		case opAdd:
			return decAdd(x, y, p, s, false)
		case opSub:
			return decAdd(x, y, p, s, true)
		case opMul:
			return decMul(x, y, p, s)
		case opDiv:
			return decDiv(x, y, p, s)
		}
		return decRem(x, y, p, s)
	}
	// No kernel parameters: the kernel reads INT, BIGINT and DECIMAL
	// operands as they are, so no widening cast runs first.
	fn.Kernel = decArithKernel(op, fn, res.(*arrow.Decimal128Type))
	return fn, nil
}

// rowArith is the row form of the numeric kernels (lambda bodies, tests).
func rowArith(op arithOp, res arrow.DataType) ScalarImpl {
	return func(v []any) (any, error) {
		switch kindOf(res) {
		case kInt:
			return arithScalar(op, toInt32(v[0]), toInt32(v[1]))
		case kBigint:
			return arithScalar(op, toInt64(v[0]), toInt64(v[1]))
		}
		return arithScalar(op, toFloat(v[0]), toFloat(v[1]))
	}
}

func arithScalar[T number](op arithOp, x, y T) (any, error) {
	switch op {
	case opAdd:
		return x + y, nil
	case opSub:
		return x - y, nil
	case opMul:
		return x * y, nil
	}
	if xf, ok := any(x).(float64); ok {
		yf := any(y).(float64)
		if op == opDiv {
			return xf / yf, nil
		}
		return math.Mod(xf, yf), nil
	}
	if y == 0 {
		return nil, errIntDivZero
	}
	return intDivRem(op, x, y), nil
}

func toInt32(v any) int32 {
	switch x := v.(type) {
	case int32:
		return x
	case int64:
		return int32(x)
	}
	return 0
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int64:
		return x
	}
	return 0
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case float64:
		return x
	case Decimal:
		return decToFloat(x)
	}
	return 0
}

// javaStr renders a value as Java's String.valueOf would in concatenation.
func javaStr(v any) string {
	if v == nil {
		return "null"
	}
	return valueString(v, kUnknown)
}

func resolveNeg(args []arrow.DataType) (*Func, error) {
	if len(args) != 1 || !(IsNumeric(args[0]) || kindOf(args[0]) == kNull) {
		return nil, argErr("NEG", args, "Unary minus is not supported for %s", strings.Join(typeNames(args), ", "))
	}
	t := args[0]
	if kindOf(t) == kNull {
		t = IntType
	}
	fn := &Func{Name: "NEG", Result: t, NullOnNull: true}
	switch kindOf(t) {
	case kInt:
		fn.Kernel = negKernel[int32](t)
	case kBigint:
		fn.Kernel = negKernel[int64](t)
	case kDouble:
		fn.Kernel = negKernel[float64](t)
	}
	if fn.Kernel != nil {
		setKernelParams(fn, []arrow.DataType{t})
	}
	fn.Impl = func(v []any) (any, error) {
		switch x := v[0].(type) {
		case int32:
			return -x, nil
		case int64:
			return -x, nil
		case float64:
			return -x, nil
		case Decimal:
			return Decimal{V: x.V.Negate(), Precision: x.Precision, Scale: x.Scale}, nil
		}
		return nil, fmt.Errorf("cannot negate %T", v[0])
	}
	return fn, nil
}

var cmpOpNames = map[string]string{"=": "EQUAL", "<>": "NOT_EQUAL", "!=": "NOT_EQUAL", "<": "LESS_THAN",
	"<=": "LESS_THAN_OR_EQUAL", ">": "GREATER_THAN", ">=": "GREATER_THAN_OR_EQUAL"}

// comparable reports whether a and b may be compared with op (reference
// §2.2). It returns the operand type both sides are converted to when a
// conversion is needed (numbers widen; strings are parsed as temporal).
func comparableTypes(a, b arrow.DataType, equality bool) (arrow.DataType, bool) {
	ka, kb := kindOf(a), kindOf(b)
	if isNumericKind(ka) && isNumericKind(kb) {
		return widenNumeric(a, b), true
	}
	temporal := func(k kind) bool { return k == kTimestamp || k == kDate || k == kTime }
	switch {
	case ka == kb && (ka == kString || ka == kBytes || temporal(ka)):
		return a, true
	case ka == kBool && kb == kBool:
		return a, equality
	case ka == kString && temporal(kb):
		return b, kb != kTime || true
	case kb == kString && temporal(ka):
		return a, true
	case (ka == kTimestamp && kb == kDate) || (ka == kDate && kb == kTimestamp):
		return TimestampType, true
	case ka == kb && (ka == kArray || ka == kMap || ka == kStruct):
		return a, equality && typesEqual(a, b)
	}
	return nil, false
}

func resolveCmp(name string, op cmpOp, args []arrow.DataType) (*Func, error) {
	if len(args) != 2 {
		return nil, argErr(name, args, "operator %s takes two operands", name)
	}
	a, b := args[0], args[1]
	if kindOf(a) == kNull || kindOf(b) == kNull {
		return nil, argErr(name, args, "Comparison with NULL not supported: %s %s %s\nUse 'IS NULL' or 'IS NOT NULL' instead.", TypeName(a), name, TypeName(b))
	}
	opnd, ok := comparableTypes(a, b, op == cmpEq || op == cmpNe)
	if !ok {
		return nil, argErr(name, args, "Cannot compare %s to %s with %s.", TypeName(a), TypeName(b), cmpOpNames[name])
	}
	fn := &Func{Name: name, Result: BooleanType}
	switch kindOf(opnd) {
	case kInt:
		fn.Kernel = cmpKernel[int32](op)
	case kBigint:
		fn.Kernel = cmpKernel[int64](op)
	case kDouble:
		fn.Kernel = cmpKernel[float64](op)
	}
	if fn.Kernel != nil {
		setKernelParams(fn, []arrow.DataType{opnd, opnd})
	}
	convA := converter(a, opnd)
	convB := converter(b, opnd)
	fn.Impl = func(v []any) (any, error) {
		if v[0] == nil || v[1] == nil {
			return false, nil
		}
		x, err := convA(v[0])
		if err != nil {
			return nil, err
		}
		y, err := convB(v[1])
		if err != nil {
			return nil, err
		}
		var c int
		if op == cmpEq || op == cmpNe {
			if isCollection(x) {
				eq := valuesEqual(x, y)
				return eq == (op == cmpEq), nil
			}
		}
		c, ok := compareValues(x, y)
		if !ok {
			return nil, fmt.Errorf("cannot compare %T with %T", x, y)
		}
		return cmpResult(op, c), nil
	}
	return fn, nil
}

func isCollection(v any) bool {
	switch v.(type) {
	case []any, *Map, *Struct:
		return true
	}
	return false
}

func cmpResult(op cmpOp, c int) bool {
	switch op {
	case cmpEq:
		return c == 0
	case cmpNe:
		return c != 0
	case cmpLt:
		return c < 0
	case cmpLe:
		return c <= 0
	case cmpGt:
		return c > 0
	}
	return c >= 0
}

// converter converts values of type from to the comparison operand type.
// Numbers stay as they are (compareValues compares across numeric types
// exactly); strings compared with temporal values are parsed.
func converter(from, to arrow.DataType) func(any) (any, error) {
	kf, kt := kindOf(from), kindOf(to)
	if kf == kt || (isNumericKind(kf) && isNumericKind(kt)) {
		return func(v any) (any, error) { return v, nil }
	}
	return func(v any) (any, error) { return castValue(v, from, to) }
}

func resolveLogic(name string, args []arrow.DataType) (*Func, error) {
	if len(args) != 2 {
		return nil, argErr(name, args, "operator %s takes two operands", name)
	}
	for _, a := range args {
		if k := kindOf(a); k != kBool && k != kNull {
			return nil, argErr(name, args, "%s operands must be BOOLEAN, got %s", name, TypeName(a))
		}
	}
	isAnd := name == "AND"
	fn := &Func{Name: name, Result: BooleanType, Kernel: logicKernel(isAnd)}
	// SQL three-valued logic: FALSE AND NULL = FALSE, TRUE OR NULL = TRUE.
	fn.Impl = func(v []any) (any, error) {
		x, xok := v[0].(bool)
		y, yok := v[1].(bool)
		if isAnd {
			if (xok && !x) || (yok && !y) {
				return false, nil
			}
			if xok && yok {
				return true, nil
			}
			return nil, nil
		}
		if (xok && x) || (yok && y) {
			return true, nil
		}
		if xok && yok {
			return false, nil
		}
		return nil, nil
	}
	return fn, nil
}

func resolveNot(args []arrow.DataType) (*Func, error) {
	if len(args) != 1 || (kindOf(args[0]) != kBool && kindOf(args[0]) != kNull) {
		return nil, argErr("NOT", args, "NOT requires a BOOLEAN operand")
	}
	return &Func{Name: "NOT", Result: BooleanType, NullOnNull: true, Kernel: notKernel,
		Impl: func(v []any) (any, error) { return !v[0].(bool), nil }}, nil
}

func resolveIsNull(negate bool, args []arrow.DataType) (*Func, error) {
	if len(args) != 1 {
		return nil, argErr("IS NULL", args, "IS NULL takes one operand")
	}
	return &Func{Result: BooleanType, Kernel: isNullKernel(negate),
		Impl: func(v []any) (any, error) { return (v[0] == nil) != negate, nil }}, nil
}

func resolveDistinct(distinct bool, args []arrow.DataType) (*Func, error) {
	if len(args) != 2 {
		return nil, argErr("IS DISTINCT FROM", args, "IS DISTINCT FROM takes two operands")
	}
	a, b := args[0], args[1]
	opnd := a
	if kindOf(a) == kNull {
		opnd = b
	}
	if kindOf(a) != kNull && kindOf(b) != kNull {
		var ok bool
		if opnd, ok = comparableTypes(a, b, true); !ok {
			return nil, argErr("IS DISTINCT FROM", args, "Cannot compare %s to %s with IS DISTINCT FROM.", TypeName(a), TypeName(b))
		}
	}
	convA, convB := converter(a, opnd), converter(b, opnd)
	return &Func{Result: BooleanType, Impl: func(v []any) (any, error) {
		if v[0] == nil || v[1] == nil {
			return (v[0] == nil) != (v[1] == nil) == distinct, nil
		}
		x, err := convA(v[0])
		if err != nil {
			return nil, err
		}
		y, err := convB(v[1])
		if err != nil {
			return nil, err
		}
		eq := valuesEqual(x, y)
		if !isCollection(x) {
			c, ok := compareValues(x, y)
			eq = ok && c == 0
		}
		return eq != distinct, nil
	}}, nil
}

func resolveIn(args []arrow.DataType) (*Func, error) {
	if len(args) < 2 {
		return nil, argErr("IN", args, "IN requires at least one list item")
	}
	x := args[0]
	convs := make([]func(any) (any, error), len(args))
	for i, t := range args {
		if i == 0 || kindOf(t) == kNull || kindOf(x) == kNull {
			convs[i] = func(v any) (any, error) { return v, nil }
			continue
		}
		opnd, ok := comparableTypes(x, t, true)
		if !ok {
			return nil, argErr("IN", args, "Invalid Predicate: operator IN cannot compare %s with %s", TypeName(x), TypeName(t))
		}
		convs[i] = converter(t, opnd)
		if kindOf(opnd) != kindOf(x) && !(IsNumeric(x) && IsNumeric(opnd)) {
			convs[0] = converter(x, opnd)
		}
	}
	if convs[0] == nil {
		convs[0] = func(v any) (any, error) { return v, nil }
	}
	return &Func{Result: BooleanType, Impl: func(v []any) (any, error) {
		if v[0] == nil {
			return false, nil
		}
		x, err := convs[0](v[0])
		if err != nil {
			return nil, err
		}
		for i := 1; i < len(v); i++ {
			if v[i] == nil {
				continue
			}
			y, err := convs[i](v[i])
			if err != nil {
				return nil, err
			}
			if isCollection(x) {
				if valuesEqual(x, y) {
					return true, nil
				}
				continue
			}
			if c, ok := compareValues(x, y); ok && c == 0 {
				return true, nil
			}
		}
		return false, nil
	}}, nil
}

func resolveBetween(args []arrow.DataType) (*Func, error) {
	if len(args) != 3 {
		return nil, argErr("BETWEEN", args, "BETWEEN takes three operands")
	}
	lo, err := resolveCmp(">=", cmpGe, args[:2])
	if err != nil {
		return nil, err
	}
	hi, err := resolveCmp("<=", cmpLe, []arrow.DataType{args[0], args[2]})
	if err != nil {
		return nil, err
	}
	return &Func{Result: BooleanType, Impl: func(v []any) (any, error) {
		a, err := lo.Impl([]any{v[0], v[1]})
		if err != nil || a != true {
			return false, err
		}
		return hi.Impl([]any{v[0], v[2]})
	}}, nil
}

func resolveLike(args []arrow.DataType) (*Func, error) {
	if len(args) < 2 || len(args) > 3 {
		return nil, argErr("LIKE", args, "LIKE takes a value, a pattern and an optional escape")
	}
	for _, a := range args {
		if k := kindOf(a); k != kString && k != kNull {
			return nil, argErr("LIKE", args, "LIKE operands must be STRING, got %s", TypeName(a))
		}
	}
	var cache sync.Map // pattern+escape -> *likePattern
	return &Func{Result: BooleanType, NullOnNull: true, Impl: func(v []any) (any, error) {
		esc := ""
		if len(v) == 3 {
			esc = v[2].(string)
		}
		key := v[1].(string) + "\x00" + esc
		p, ok := cache.Load(key)
		if !ok {
			lp, err := compileLike(v[1].(string), esc)
			if err != nil {
				return nil, err
			}
			p, _ = cache.LoadOrStore(key, lp)
		}
		return p.(*likePattern).match(v[0].(string)), nil
	}}, nil
}

// likePattern is a compiled LIKE pattern: a sequence of literal runes,
// single-char wildcards (_) and any-sequence wildcards (%). Wildcards do not
// match line terminators, as Java regex '.' does not.
type likePattern struct{ toks []likeTok }

type likeTok struct {
	kind byte // 'l' literal, '_' one, '%' many
	r    rune
}

func compileLike(p, esc string) (*likePattern, error) {
	var escR rune = -1
	if esc != "" {
		rs := []rune(esc)
		if len(rs) != 1 {
			return nil, fmt.Errorf("LIKE escape must be a single character")
		}
		escR = rs[0]
	}
	lp := &likePattern{}
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == escR:
			if i+1 >= len(rs) {
				return nil, fmt.Errorf("LIKE pattern must not end with escape character")
			}
			i++
			lp.toks = append(lp.toks, likeTok{'l', rs[i]})
		case r == '%':
			lp.toks = append(lp.toks, likeTok{'%', 0})
		case r == '_':
			lp.toks = append(lp.toks, likeTok{'_', 0})
		default:
			lp.toks = append(lp.toks, likeTok{'l', r})
		}
	}
	return lp, nil
}

func isLineTerminator(r rune) bool {
	return r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029'
}

func (p *likePattern) match(s string) bool {
	rs := []rune(s)
	// Iterative wildcard matching with backtracking to the last '%'.
	ti, si := 0, 0
	star, mark := -1, 0
	for si < len(rs) {
		if ti < len(p.toks) {
			t := p.toks[ti]
			switch {
			case t.kind == 'l' && t.r == rs[si], t.kind == '_' && !isLineTerminator(rs[si]):
				ti++
				si++
				continue
			case t.kind == '%':
				star, mark = ti, si
				ti++
				continue
			}
		}
		if star >= 0 && !isLineTerminator(rs[mark]) {
			mark++
			si = mark
			ti = star + 1
			continue
		}
		return false
	}
	for ti < len(p.toks) && p.toks[ti].kind == '%' {
		ti++
	}
	return ti == len(p.toks)
}

func resolveSubscript(args []arrow.DataType) (*Func, error) {
	if len(args) != 2 {
		return nil, argErr("SUBSCRIPT", args, "subscript takes a collection and an index")
	}
	switch kindOf(args[0]) {
	case kArray:
		if k := kindOf(args[1]); k != kInt && k != kBigint && k != kNull {
			return nil, argErr("SUBSCRIPT", args, "array index must be INTEGER, got %s", TypeName(args[1]))
		}
		return &Func{Result: args[0].(*arrow.ListType).Elem(), NullOnNull: true, Impl: func(v []any) (any, error) {
			l := v[0].([]any)
			i := int(toInt64(v[1]))
			if i < 0 {
				i = len(l) + i + 1
			}
			if i < 1 || i > len(l) {
				return nil, nil
			}
			return l[i-1], nil
		}}, nil
	case kMap:
		m := args[0].(*arrow.MapType)
		if !implicitlyConvertible(args[1], m.KeyType()) {
			return nil, argErr("SUBSCRIPT", args, "map key must be %s, got %s", TypeName(m.KeyType()), TypeName(args[1]))
		}
		kt, from := m.KeyType(), args[1]
		return &Func{Result: m.ItemType(), NullOnNull: true, Impl: func(v []any) (any, error) {
			k, err := castValue(v[1], from, kt)
			if err != nil {
				return nil, err
			}
			val, _ := v[0].(*Map).get(k)
			return val, nil
		}}, nil
	case kStruct:
		return nil, argErr("SUBSCRIPT", args, "Can't use subscript on a STRUCT: use '->' to access a field")
	}
	return nil, argErr("SUBSCRIPT", args, "subscript is not supported on %s", TypeName(args[0]))
}

func resolveArrayCtor(args []arrow.DataType) (*Func, error) {
	if len(args) == 0 {
		return nil, argErr("ARRAY", args, "Array constructor cannot be empty. Please supply at least one element (see https://github.com/confluentinc/ksql/issues/4239).")
	}
	et, ok := CommonType(args...)
	if !ok {
		return nil, argErr("ARRAY", args, "invalid input syntax for type %s: ARRAY elements must have a common type, got (%s)", TypeName(args[0]), strings.Join(typeNames(args), ", "))
	}
	if kindOf(et) == kNull {
		return nil, argErr("ARRAY", args, "Cannot construct an array with all NULL elements (see https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may cast a NULL value to the desired type.")
	}
	convs := make([]func(any) (any, error), len(args))
	for i, t := range args {
		convs[i] = converterExact(t, et)
	}
	return &Func{Result: ListOf(et), Impl: func(v []any) (any, error) {
		out := make([]any, len(v))
		for i, x := range v {
			c, err := convs[i](x)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}}, nil
}

// converterExact converts to the exact target type (numbers included).
func converterExact(from, to arrow.DataType) func(any) (any, error) {
	if typesEqual(from, to) || kindOf(from) == kNull {
		return func(v any) (any, error) { return v, nil }
	}
	return func(v any) (any, error) { return castValue(v, from, to) }
}

func resolveMapCtor(args []arrow.DataType) (*Func, error) {
	if len(args) == 0 || len(args)%2 != 0 {
		return nil, argErr("MAP", args, "Map constructor cannot be empty. Please supply at least one key value pair (see https://github.com/confluentinc/ksql/issues/4239).")
	}
	var ks, vs []arrow.DataType
	for i := 0; i < len(args); i += 2 {
		ks = append(ks, args[i])
		vs = append(vs, args[i+1])
	}
	kt, ok1 := CommonType(ks...)
	vt, ok2 := CommonType(vs...)
	if !ok1 || !ok2 {
		return nil, argErr("MAP", args, "MAP keys and values must each have a common type")
	}
	if kindOf(kt) == kNull || kindOf(vt) == kNull {
		return nil, argErr("MAP", args, "Cannot construct a map with all NULL keys or values (see https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may cast a NULL value to the desired type.")
	}
	kc := make([]func(any) (any, error), len(ks))
	vc := make([]func(any) (any, error), len(vs))
	for i := range ks {
		kc[i] = converterExact(ks[i], kt)
		vc[i] = converterExact(vs[i], vt)
	}
	return &Func{Result: MapOf(kt, vt), Impl: func(v []any) (any, error) {
		m := &Map{}
		for i := 0; i+1 < len(v); i += 2 {
			if v[i] == nil {
				continue // a NULL key cannot be stored; ksqlDB drops it
			}
			k, err := kc[i/2](v[i])
			if err != nil {
				return nil, err
			}
			val, err := vc[i/2](v[i+1])
			if err != nil {
				return nil, err
			}
			m.put(k, val)
		}
		return m, nil
	}}, nil
}

// StructConstructor resolves STRUCT(name := value, ...): Call{Name: "STRUCT"}
// whose Args are the field values in order. The field names are not part of
// the argument types, so the binder calls this instead of Resolve.
func StructConstructor(names []string, types []arrow.DataType) (*Func, error) {
	if len(names) != len(types) {
		return nil, fmt.Errorf("STRUCT constructor: %d names for %d values", len(names), len(types))
	}
	fields := make([]arrow.Field, len(names))
	seen := map[string]bool{}
	for i, n := range names {
		if seen[n] {
			return nil, &ResolveError{Name: "STRUCT", Args: typeNames(types), Msg: fmt.Sprintf("Duplicate field names found in STRUCT: '%s'", n)}
		}
		seen[n] = true
		t := types[i]
		if kindOf(t) == kNull {
			t = StringType // an untyped NULL field; ksqlDB types it as STRING
		}
		fields[i] = Field(n, t)
	}
	names = append([]string(nil), names...)
	return &Func{Name: "STRUCT", Result: StructOf(fields...), Impl: func(v []any) (any, error) {
		return &Struct{Names: names, Values: append([]any(nil), v...)}, nil
	}}, nil
}

// StructField resolves a struct dereference s->name: Call{Name: "FIELD",
// Args: [s]} (the name is not an argument type, so the binder calls this
// instead of Resolve). Field names match exactly, then case-insensitively.
func StructField(t arrow.DataType, name string) (*Func, error) {
	st, ok := t.(*arrow.StructType)
	if !ok {
		return nil, &ResolveError{Name: "FIELD", Args: typeNames([]arrow.DataType{t}),
			Msg: fmt.Sprintf("Expected STRUCT type, got: %s", TypeName(t))}
	}
	idx, found := st.FieldIdx(name)
	if !found {
		for i, f := range st.Fields() {
			if strings.EqualFold(f.Name, name) {
				idx, found = i, true
				break
			}
		}
	}
	if !found {
		return nil, &ResolveError{Name: "FIELD", Args: typeNames([]arrow.DataType{t}),
			Msg: fmt.Sprintf("Could not find field '%s' in '%s'", name, TypeName(t))}
	}
	return &Func{Name: "FIELD", Result: st.Field(idx).Type, NullOnNull: true, Impl: func(v []any) (any, error) {
		return v[0].(*Struct).Values[idx], nil
	}}, nil
}
